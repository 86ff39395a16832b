import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

@Entity('user')
// Usernames are unique case-insensitively: a functional index created by the migration, not managed by TypeORM.
@Index('UQ_user_username_lower', { synchronize: false })
export class UserEntity {
  @PrimaryGeneratedColumn() id: number;

  @Column({ type: 'text' }) username: string;

  @Column({ name: 'display_name', type: 'text', nullable: true }) displayName: string | null;

  /** scrypt$<salt b64>$<hash b64> */
  @Column({ name: 'password_hash', type: 'text' }) passwordHash: string;

  @Column({ type: 'boolean', default: false }) admin: boolean;

  @Column({ type: 'boolean', default: true }) active: boolean;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3, default: () => 'now()' }) createdAt: Date;

  @Column({ name: 'modified_at', type: 'timestamptz', precision: 3, default: () => 'now()' }) modifiedAt: Date;

  @Column({ name: 'last_auth_at', type: 'timestamptz', precision: 3, nullable: true }) lastAuthAt: Date | null;
}
