import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { JobEntity } from '../jobs/job.entity';

/** A job's MLflow token (API.md §2): only its sha256 is stored; valid on the MLflow face until revoked. */
@Entity('job_token')
export class JobTokenEntity {
  @PrimaryGeneratedColumn() id: number;

  @Index('UQ_job_token_hash', { unique: true })
  @Column({ name: 'token_hash', type: 'char', length: 64 })
  tokenHash: string;

  @Index('IDX_job_token_job_id')
  @Column({ name: 'job_id', type: 'uuid' })
  jobId: string;

  @ManyToOne(() => JobEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'job_id' })
  job?: JobEntity;

  @Column({ name: 'experiment_id', type: 'int' }) experimentId: number;

  @Column({ name: 'owner_id', type: 'int' }) ownerId: number;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3, default: () => 'now()' }) createdAt: Date;

  @Column({ name: 'revoked_at', type: 'timestamptz', precision: 3, nullable: true }) revokedAt: Date | null;
}
