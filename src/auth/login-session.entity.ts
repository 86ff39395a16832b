import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { UserEntity } from '../users/user.entity';

/** One row per login token (its sha256 kept, as for access tokens); logout, a password change or deactivation sets revoked_at. */
@Entity('login_session')
export class LoginSessionEntity {
  @PrimaryGeneratedColumn() id: number;

  @Index('IDX_login_session_user_id')
  @Column({ name: 'user_id', type: 'int' })
  userId: number;

  @ManyToOne(() => UserEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'user_id' })
  user?: UserEntity;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3, default: () => 'now()' }) createdAt: Date;

  @Column({ name: 'expires_at', type: 'timestamptz', precision: 3 }) expiresAt: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', precision: 3, nullable: true }) revokedAt: Date | null;

  /** Filled in once the token (which embeds the id) is signed; a session without one authenticates nothing. */
  @Column({ name: 'token_hash', type: 'char', length: 64, nullable: true }) tokenHash: string | null;
}
