import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { JobStatus } from '../jobs/job.entity';

export interface ClaimInfo {
  status: JobStatus;
  experimentId: number;
  experimentName: string;
  ownerId: number;
  ownerName: string;
  queueName: string;
  /** The queue's sandbox choices (null network = the worker's default); a deleted queue gets the defaults. */
  network: 'none' | 'host' | null;
  devices: string[];
  /** The queue's limits (null = the worker's JOB_MEMORY_LIMIT / JOB_PIDS_LIMIT). */
  memoryLimit: number | null;
  pidsLimit: number | null;
  /** sha256 of the workflow archive (the worker's cache key); null when the blob is missing. */
  workflowSha256: string | null;
  /** A digest of every task plugin row and file version: the plugin tree changes exactly when it does. */
  pluginsVersion: string;
}

/** What the worker reads beyond JobLifecycleRepository (which does every status change). */
@Injectable()
export class RunnerRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** The `started` jobs of one queue (IDX_job_queue_id_status): the worker-lost check compares them with Bull. */
  async findStartedInQueue(queueId: number): Promise<Array<{ id: string; workerHost: string | null; mlflowRunId: string | null }>> {
    const rows: Array<{ id: string; worker_host: string | null; mlflow_run_id: string | null }> = await this.ds.query(
      `SELECT id, worker_host, mlflow_run_id FROM job WHERE queue_id = $1 AND status = 'started' ORDER BY seq`,
      [queueId],
    );
    return rows.map((r) => ({ id: r.id, workerHost: r.worker_host, mlflowRunId: r.mlflow_run_id }));
  }

  /** Which of these jobs are `started` (their directories on a worker are in use). */
  async startedAmong(jobIds: string[]): Promise<Set<string>> {
    const rows: Array<{ id: string }> = await this.ds.query(`SELECT id FROM job WHERE id = ANY($1::uuid[]) AND status = 'started'`, [jobIds]);
    return new Set(rows.map((r) => r.id));
  }

  /**
   * Everything the worker needs before the claim, in one round trip: what the job's run is made of (the run exists
   * before the job shows `started`), the queue's sandbox choices, the archive's content hash and the plugins' version.
   */
  async findForClaim(jobId: string): Promise<ClaimInfo | null> {
    const rows: Array<{
      status: JobStatus;
      experiment_id: number;
      experiment_name: string;
      owner_id: number;
      owner_name: string;
      queue_name: string;
      network: 'none' | 'host' | null;
      devices: string[] | null;
      memory_limit: string | null;
      pids_limit: number | null;
      sha256: string | null;
      plugins_version: string;
    }> = await this.ds.query(
      `SELECT j.status, j.experiment_id, e.name AS experiment_name, j.owner_id, u.username AS owner_name, q.name AS queue_name,
              CASE WHEN q.deleted_at IS NULL THEN q.network END AS network, CASE WHEN q.deleted_at IS NULL THEN q.devices END AS devices,
              CASE WHEN q.deleted_at IS NULL THEN q.memory_limit END AS memory_limit, CASE WHEN q.deleted_at IS NULL THEN q.pids_limit END AS pids_limit,
              b.sha256,
              (SELECT md5(coalesce(string_agg(p.id || ':' || p.collection || '/' || p.name || '=' || coalesce(f.files, ''), ',' ORDER BY p.id), ''))
                 FROM task_plugin p
                 LEFT JOIN LATERAL (SELECT string_agg(tf.filename || '@' || tf.xmin::text, ',' ORDER BY tf.filename COLLATE "C") AS files
                                      FROM task_plugin_file tf WHERE tf.plugin_id = p.id) f ON true) AS plugins_version
         FROM job j JOIN experiment e ON e.id = j.experiment_id JOIN "user" u ON u.id = j.owner_id JOIN queue q ON q.id = j.queue_id
         LEFT JOIN blob b ON b.key = j.workflow_key
        WHERE j.id = $1`,
      [jobId],
    );
    const r = rows[0];
    if (!r) return null;
    return {
      status: r.status,
      experimentId: r.experiment_id,
      experimentName: r.experiment_name,
      ownerId: r.owner_id,
      ownerName: r.owner_name,
      queueName: r.queue_name,
      network: r.network,
      devices: r.devices ?? [],
      memoryLimit: r.memory_limit === null ? null : Number(r.memory_limit),
      pidsLimit: r.pids_limit,
      workflowSha256: r.sha256 && /^[0-9a-f]{64}$/.test(r.sha256) ? r.sha256 : null,
      pluginsVersion: r.plugins_version,
    };
  }
}
