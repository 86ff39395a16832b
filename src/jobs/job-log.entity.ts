import { Column, Entity, Index, JoinColumn, ManyToOne, PrimaryGeneratedColumn } from 'typeorm';
import { JobEntity } from './job.entity';

export const LOG_STREAMS = ['stdout', 'stderr', 'system'] as const;
export type LogStream = (typeof LOG_STREAMS)[number];

/** One line of a job's output. Paged and followed by (job_id, id). */
@Entity('job_log')
@Index('IDX_job_log_job_id_id', ['jobId', 'id'])
export class JobLogEntity {
  /** bigserial: a string in JS. */
  @PrimaryGeneratedColumn({ type: 'bigint' }) id: string;

  @Column({ name: 'job_id', type: 'uuid' }) jobId: string;

  @ManyToOne(() => JobEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'job_id' })
  job?: JobEntity;

  @Column({ type: 'text' }) stream: LogStream;

  @Column({ type: 'text' }) line: string;

  @Column({ type: 'timestamptz', precision: 3 }) time: Date;
}
