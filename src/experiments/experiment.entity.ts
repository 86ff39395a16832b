import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { UserEntity } from '../users/user.entity';

/** An experiment. Soft-deleted rows keep their name reserved and their id (ids are never reused). */
@Entity('experiment')
export class ExperimentEntity {
  @PrimaryGeneratedColumn() id: number;

  /** Slugified; unique among all rows, deleted ones included. */
  @Index('UQ_experiment_name', { unique: true })
  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text', default: '' }) description: string;

  @Index('IDX_experiment_labels', { synchronize: false }) // GIN index, created by the migration
  @Column({ type: 'text', array: true, default: () => "'{}'" })
  labels: string[];

  @Index('IDX_experiment_archived')
  @Column({ type: 'boolean', default: false })
  archived: boolean;

  @Index('IDX_experiment_owner_id')
  @Column({ name: 'owner_id', type: 'int' })
  ownerId: number;

  @ManyToOne(() => UserEntity, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'owner_id' })
  owner?: UserEntity;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3, default: () => 'now()' }) createdAt: Date;

  @Column({ name: 'last_modified', type: 'timestamptz', precision: 3, default: () => 'now()' }) lastModified: Date;

  @Column({ name: 'deleted_at', type: 'timestamptz', precision: 3, nullable: true }) deletedAt: Date | null;
}
