import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

// No index on param/tag values: a btree entry cannot hold an 8000-character value (searches join on the run first).

/** A run's params: immutable once logged (same key, other value → 400). */
@Entity('run_param')
export class RunParamEntity {
  @PrimaryColumn({ name: 'run_id', type: 'varchar', length: 32 }) runId: string;
  @PrimaryColumn({ type: 'varchar', length: 250 }) key: string;
  @Column({ type: 'text' }) value: string;
}

/** A run's tags (upserted). */
@Entity('run_tag')
export class RunTagEntity {
  @PrimaryColumn({ name: 'run_id', type: 'varchar', length: 32 }) runId: string;
  @PrimaryColumn({ type: 'varchar', length: 250 }) key: string;
  @Column({ type: 'text' }) value: string;
}

/**
 * Every logged metric point. The primary key is MLflow's (a replayed identical point is stored once) and in the order
 * get-history answers: (timestamp, step, value) within (run, key).
 */
@Entity('run_metric')
@Index('IDX_run_metric_run_id_key_step', ['runId', 'key', 'step'])
export class RunMetricEntity {
  @PrimaryColumn({ name: 'run_id', type: 'varchar', length: 32 }) runId: string;
  @PrimaryColumn({ type: 'varchar', length: 250 }) key: string;
  @PrimaryColumn({ type: 'bigint' }) timestamp: string;
  @PrimaryColumn({ type: 'bigint' }) step: string;
  /** Double precision, NaN and ±Infinity included. */
  @PrimaryColumn({ type: 'double precision' }) value: number;
}

/** The latest point per metric key: the greatest (step, timestamp, value), maintained on every write. */
@Entity('run_latest_metric')
@Index('IDX_run_latest_metric_key_value', ['key', 'value'])
export class RunLatestMetricEntity {
  @PrimaryColumn({ name: 'run_id', type: 'varchar', length: 32 }) runId: string;
  @PrimaryColumn({ type: 'varchar', length: 250 }) key: string;
  @Column({ type: 'double precision' }) value: number;
  @Column({ type: 'bigint' }) timestamp: string;
  @Column({ type: 'bigint' }) step: string;
}

/** A file under a run's artifact root; the bytes are in the blob store under `blobKey`. */
@Entity('run_artifact')
export class RunArtifactEntity {
  @PrimaryColumn({ name: 'run_id', type: 'varchar', length: 32 }) runId: string;
  /** Relative to the run's artifact root, '/'-separated, no leading '/'. */
  @PrimaryColumn({ type: 'text', collation: 'C' }) path: string;
  @Column({ type: 'bigint' }) size: string;
  @Column({ name: 'blob_key', type: 'text' }) blobKey: string;
  @Column({ name: 'created_at', type: 'timestamptz', precision: 3, default: () => 'now()' }) createdAt: Date;
}

/** MLflow experiment tags of an Alidade experiment (or of experiment 0). */
@Entity('experiment_tag')
export class ExperimentTagEntity {
  @PrimaryColumn({ name: 'experiment_id', type: 'int' }) experimentId: number;
  @PrimaryColumn({ type: 'varchar', length: 250 }) key: string;
  @Column({ type: 'text' }) value: string;
}
