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

  /** What a job's run is made of, read before the claim (the run exists before the job shows `started`). */
  async findForClaim(jobId: string): Promise<ClaimInfo | null> {
    const rows: Array<{ status: JobStatus; experiment_id: number; experiment_name: string; owner_id: number; owner_name: string; queue_name: string }> = await this.ds.query(
      `SELECT j.status, j.experiment_id, e.name AS experiment_name, j.owner_id, u.username AS owner_name, q.name AS queue_name
         FROM job j JOIN experiment e ON e.id = j.experiment_id JOIN "user" u ON u.id = j.owner_id JOIN queue q ON q.id = j.queue_id
        WHERE j.id = $1`,
      [jobId],
    );
    const r = rows[0];
    if (!r) return null;
    return { status: r.status, experimentId: r.experiment_id, experimentName: r.experiment_name, ownerId: r.owner_id, ownerName: r.owner_name, queueName: r.queue_name };
  }
}
