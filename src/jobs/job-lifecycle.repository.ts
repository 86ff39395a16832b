import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { LogStream } from './job-log.entity';
import { JobEntity, JobStatus } from './job.entity';
import { RawJob, toEntity } from './jobs.repository';

export interface JobOutcome {
  status: 'finished' | 'failed' | 'canceled';
  exitCode: number | null;
  failureReason: string | null;
}

export interface EndResult {
  /** False when the job was not in one of the `from` statuses (someone else ended it first). */
  ended: boolean;
  /** Deferred children that became queued (only when the job finished); the caller dispatches them. */
  released: Array<{ id: string; queueId: number }>;
}

export interface LogLine {
  stream: LogStream;
  line: string;
  time: Date;
}

/**
 * Every status change of a job, each conditional on the current status so that the API (cancel) and the workers
 * (claim, end) can race safely. Used by both roles.
 */
@Injectable()
export class JobLifecycleRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** queued → started with the job's run id; null when the job is no longer queued (canceled meanwhile: skip it). */
  async claim(jobId: string, workerHost: string, mlflowRunId: string | null): Promise<JobEntity | null> {
    // UPDATE through query() yields [rows, rowCount]; one round trip, the row as it now is.
    const [rows]: [RawJob[], number] = await this.ds.query(
      `UPDATE job SET status = 'started', started_at = now(), worker_host = $2, mlflow_run_id = $3, last_modified = now()
        WHERE id = $1 AND status = 'queued' RETURNING *`,
      [jobId, workerHost, mlflowRunId],
    );
    return rows[0] === undefined ? null : toEntity(rows[0]);
  }

  /**
   * Ends a job (iff its status is in `from`) and, in the same statement (so atomically, one round trip), releases its
   * deferred children when it finished, or fails every deferred descendant when it failed or was canceled.
   */
  async end(jobId: string, outcome: JobOutcome, from: JobStatus[] = ['started']): Promise<EndResult> {
    const ended = `ended AS (
        UPDATE job SET status = $2, exit_code = $3, failure_reason = $4, ended_at = now(), last_modified = now()
         WHERE id = $1 AND status = ANY($5::text[]) RETURNING id)`;
    const params = [jobId, outcome.status, outcome.exitCode, outcome.failureReason, from];
    if (outcome.status === 'finished') {
      const [row]: Array<{ ended: number; released: Array<{ id: string; queue_id: number }> }> = await this.ds.query(
        `WITH ${ended},
         released AS (
           UPDATE job SET status = 'queued', last_modified = now()
            WHERE depends_on = $1 AND status = 'deferred' AND EXISTS (SELECT 1 FROM ended) RETURNING id, queue_id)
         SELECT (SELECT count(*)::int FROM ended) AS ended,
                coalesce((SELECT json_agg(json_build_object('id', id, 'queue_id', queue_id)) FROM released), '[]'::json) AS released`,
        params,
      );
      return { ended: row.ended > 0, released: row.ended > 0 ? row.released.map((r) => ({ id: r.id, queueId: r.queue_id })) : [] };
    }
    // Each failed descendant names its own parent, so a chain reads a → b → c, not all pointing at the root.
    const [row]: Array<{ ended: number }> = await this.ds.query(
      `WITH RECURSIVE ${ended},
       d AS (
         SELECT id, depends_on FROM job WHERE depends_on = $1 AND status = 'deferred' AND EXISTS (SELECT 1 FROM ended)
         UNION
         SELECT j.id, j.depends_on FROM job j JOIN d ON j.depends_on = d.id WHERE j.status = 'deferred'
       ),
       failed AS (
         UPDATE job SET status = 'failed', failure_reason = 'dependency ' || d.depends_on || ' failed', ended_at = now(), last_modified = now()
           FROM d WHERE job.id = d.id RETURNING job.id)
       SELECT (SELECT count(*)::int FROM ended) AS ended, (SELECT count(*)::int FROM failed) AS failed`,
      params,
    );
    return { ended: row.ended > 0, released: [] };
  }

  /** One multi-row INSERT (arrays unnested server-side, so one statement and four parameters whatever the count). */
  async appendLogs(jobId: string, lines: LogLine[]): Promise<void> {
    if (lines.length === 0) return;
    // Postgres text cannot hold NUL; a process may well print one.
    const text = lines.map((l) => l.line.replace(/\u0000/g, '\uFFFD'));
    await this.ds.query(
      `INSERT INTO job_log (job_id, stream, line, time)
       SELECT $1, s, l, t FROM unnest($2::text[], $3::text[], $4::timestamptz[]) AS u(s, l, t)`,
      [jobId, lines.map((l) => l.stream), text, lines.map((l) => l.time.toISOString())],
    );
  }

  async getStatus(jobId: string): Promise<JobStatus | null> {
    const rows: Array<{ status: JobStatus }> = await this.ds.query(`SELECT status FROM job WHERE id = $1`, [jobId]);
    return rows[0]?.status ?? null;
  }
}
