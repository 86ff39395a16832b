import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export const RUN_STATUSES = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/**
 * An MLflow run. `experiment_id` has no foreign key: experiment 0 (MLflow's `Default`) is not an Alidade experiment
 * row (experiments are soft-deleted, never removed, so ids stay valid). Times are epoch milliseconds, as MLflow has them.
 */
@Entity('run')
@Index('IDX_run_experiment_id_start_time', ['experimentId', 'startTime'])
export class RunEntity {
  /** 32 lowercase hex (uuid4 without dashes), as MLflow makes them. */
  @PrimaryColumn({ type: 'varchar', length: 32 }) id: string;

  @Column({ name: 'experiment_id', type: 'int' }) experimentId: number;

  /** The Alidade user who owns the run (writes are theirs, an admin's, or the owning job's). */
  @Index('IDX_run_owner_id')
  @Column({ name: 'owner_id', type: 'int' })
  ownerId: number;

  /** The job whose token (or whose worker) created the run; null for runs made from notebooks. */
  @Index('IDX_run_job_id')
  @Column({ name: 'job_id', type: 'uuid', nullable: true })
  jobId: string | null;

  /** MLflow's user_id: the owner's username. */
  @Column({ name: 'user_id', type: 'text' }) userId: string;

  @Column({ type: 'text' }) status: RunStatus;

  @Column({ name: 'start_time', type: 'bigint' }) startTime: string;

  @Column({ name: 'end_time', type: 'bigint', nullable: true }) endTime: string | null;

  @Column({ name: 'lifecycle_stage', type: 'text', default: 'active' }) lifecycleStage: 'active' | 'deleted';

  @Column({ name: 'run_name', type: 'text', default: '' }) runName: string;

  @Column({ name: 'artifact_uri', type: 'text' }) artifactUri: string;

  @Column({ name: 'deleted_time', type: 'bigint', nullable: true }) deletedTime: string | null;
}
