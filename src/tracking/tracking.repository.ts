import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager } from 'typeorm';
import { RunEntity, RunStatus } from './run.entity';

export interface NewRun {
  id: string;
  experimentId: number;
  ownerId: number;
  jobId: string | null;
  userId: string;
  status: RunStatus;
  startTime: number;
  runName: string;
  artifactUri: string;
}

/** Runs and their params, tags, metrics and artifacts: the only writer of the tracking tables. */
@Injectable()
export class TrackingRepository {
  constructor(@InjectDataSource() readonly ds: DataSource) {}

  transaction<T>(work: (em: EntityManager) => Promise<T>): Promise<T> {
    return this.ds.transaction(work);
  }

  /** Inserts the run unless its id exists; true when this call created it. */
  async insertRun(run: NewRun, em: EntityManager = this.ds.manager): Promise<boolean> {
    const rows: unknown[] = await em.query(
      `INSERT INTO run (id, experiment_id, owner_id, job_id, user_id, status, start_time, run_name, artifact_uri)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING RETURNING id`,
      [run.id, run.experimentId, run.ownerId, run.jobId, run.userId, run.status, run.startTime, run.runName, run.artifactUri],
    );
    return rows.length > 0;
  }

  findRun(id: string, em: EntityManager = this.ds.manager): Promise<RunEntity | null> {
    return em.getRepository(RunEntity).findOneBy({ id });
  }

  /** Closes the run if it is still running (or scheduled); a status the run already reached stays. */
  async finishIfRunning(id: string, status: RunStatus, endTime: number): Promise<boolean> {
    const rows: unknown[] = await this.ds.query(
      `UPDATE run SET status = $2, end_time = $3 WHERE id = $1 AND status IN ('RUNNING', 'SCHEDULED') RETURNING id`,
      [id, status, endTime],
    );
    return rows.length > 0;
  }

  async username(userId: number): Promise<string> {
    const rows: Array<{ username: string }> = await this.ds.query(`SELECT username FROM "user" WHERE id = $1`, [userId]);
    return rows[0]?.username ?? 'unknown';
  }

  /** Upserts tags (a second value overwrites). */
  async setTags(runId: string, tags: Array<{ key: string; value: string }>, em: EntityManager = this.ds.manager): Promise<void> {
    if (tags.length === 0) return;
    await em.query(
      `INSERT INTO run_tag (run_id, key, value) SELECT $1, k, v FROM unnest($2::text[], $3::text[]) AS t(k, v)
       ON CONFLICT (run_id, key) DO UPDATE SET value = EXCLUDED.value`,
      [runId, tags.map((t) => t.key), tags.map((t) => t.value)],
    );
  }
}
