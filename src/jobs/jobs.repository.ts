import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, EntityManager, QueryFailedError } from 'typeorm';
import { escapeLike } from '../common/sql';
import { LogStream } from './job-log.entity';
import { ENDED_STATUSES, JobEntity, JobStatus } from './job.entity';

/** A job row with the names the v1 face shows, joined in SQL. */
export interface JobView extends JobEntity {
  experimentName: string;
  queueName: string;
  username: string;
}

export interface JobLogRow {
  id: string;
  stream: LogStream;
  line: string;
  time: Date;
}

export interface JobListFilter {
  statuses?: JobStatus[];
  experimentId?: number;
  queueId?: number;
  usernames?: string[];
  dependsOn?: string;
  /** lastModified later than this. */
  modifiedSince?: Date;
  /** Lowercase hex digits (1–32) the id's digits start with. */
  idPrefix?: string;
}

/** Which of a job's lines a page holds. */
export interface JobLogFilter {
  /** Only ids greater than this (a bigint as a decimal string). */
  afterId?: string;
  /** Case-insensitive substring. */
  text?: string;
  stream?: LogStream;
}

/** The uuid range of the ids whose hex digits start with `prefix`: a range scan of the primary key, not a text match. */
function uuidRange(prefix: string): [string, string] {
  const uuid = (hex: string) => `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  return [uuid(prefix.padEnd(32, '0')), uuid(prefix.padEnd(32, 'f'))];
}

export type JobSortKey = 'id' | 'createdAt' | 'lastModified' | 'status';

/** Sort keys → columns; `seq` breaks ties so pages are stable. */
const SORT_COLUMNS: Record<JobSortKey, string> = {
  id: 'j.seq',
  createdAt: 'j.created_at',
  lastModified: 'j.last_modified',
  status: 'j.status',
};

const VIEW_COLUMNS = `j.id, j.seq, j.experiment_id, j.queue_id, j.owner_id, j.status, j.entry_point, j.entry_point_kwargs, j.parameters,
  j.depends_on, j.timeout, j.timeout_seconds, j.workflow_key, j.workflow_uri, j.mlflow_run_id, j.created_at, j.last_modified,
  j.started_at, j.ended_at, j.exit_code, j.failure_reason, j.worker_host,
  e.name AS experiment_name, q.name AS queue_name, u.username`;
const VIEW_FROM = `job j JOIN experiment e ON e.id = j.experiment_id JOIN queue q ON q.id = j.queue_id JOIN "user" u ON u.id = j.owner_id`;

export interface RawJob {
  id: string;
  seq: string;
  experiment_id: number;
  queue_id: number;
  owner_id: number;
  status: JobStatus;
  entry_point: string;
  entry_point_kwargs: string | null;
  parameters: Record<string, string>;
  depends_on: string | null;
  timeout: string;
  timeout_seconds: number;
  workflow_key: string;
  workflow_uri: string;
  mlflow_run_id: string | null;
  created_at: Date;
  last_modified: Date;
  started_at: Date | null;
  ended_at: Date | null;
  exit_code: number | null;
  failure_reason: string | null;
  worker_host: string | null;
  experiment_name?: string;
  queue_name?: string;
  username?: string;
}

export function toEntity(r: RawJob): JobEntity {
  const job = new JobEntity();
  Object.assign(job, {
    id: r.id,
    seq: r.seq,
    experimentId: r.experiment_id,
    queueId: r.queue_id,
    ownerId: r.owner_id,
    status: r.status,
    entryPoint: r.entry_point,
    entryPointKwargs: r.entry_point_kwargs,
    parameters: r.parameters,
    dependsOn: r.depends_on,
    timeout: r.timeout,
    timeoutSeconds: r.timeout_seconds,
    workflowKey: r.workflow_key,
    workflowUri: r.workflow_uri,
    mlflowRunId: r.mlflow_run_id,
    createdAt: r.created_at,
    lastModified: r.last_modified,
    startedAt: r.started_at,
    endedAt: r.ended_at,
    exitCode: r.exit_code,
    failureReason: r.failure_reason,
    workerHost: r.worker_host,
  });
  return job;
}

function toView(r: RawJob): JobView {
  return Object.assign(toEntity(r), { experimentName: r.experiment_name!, queueName: r.queue_name!, username: r.username! });
}

/** Reads and inserts of jobs and their logs. Status changes live in JobLifecycleRepository. */
@Injectable()
export class JobsRepository {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  private q(em?: EntityManager): EntityManager {
    return em ?? this.ds.manager;
  }

  /** Inserts a new row; one born ended (its dependency already failed) gets ended_at from the same clock as created_at. */
  async insert(job: Omit<JobEntity, 'seq' | 'createdAt' | 'lastModified' | 'endedAt'>, em?: EntityManager): Promise<void> {
    const ended = ENDED_STATUSES.includes(job.status);
    await this.q(em)
      .createQueryBuilder()
      .insert()
      .into(JobEntity)
      .values({ ...job, endedAt: ended ? () => 'now()' : null })
      .execute();
  }

  /** The parent's status, row-locked for the rest of the transaction so that it cannot end while a child is being added. */
  async lockStatus(id: string, em: EntityManager): Promise<JobStatus | null> {
    const rows: Array<{ status: JobStatus }> = await em.query(`SELECT status FROM job WHERE id = $1 FOR SHARE`, [id]);
    return rows[0]?.status ?? null;
  }

  async findView(id: string, em?: EntityManager): Promise<JobView | null> {
    const sql = `SELECT ${VIEW_COLUMNS} FROM ${VIEW_FROM} WHERE j.id = $1`;
    // The hot read (GET /api/v1/jobs/{id}): a named statement, parsed and planned once per connection instead of on
    // every request (a four-table join costs more to plan than to run). Inside a transaction: the caller's connection.
    const rows: RawJob[] = em
      ? await em.query(sql, [id])
      : await this.pool()
          .query({ name: 'alidade_job_view', text: sql, values: [id] })
          .then(
            (r) => r.rows,
            // As DataSource.query reports it, so the error filter maps it the same way.
            (e: Error) => Promise.reject(new QueryFailedError(sql, [id], e)),
          );
    return rows[0] ? toView(rows[0]) : null;
  }

  /** The pg pool under TypeORM, for named (prepared) statements, which DataSource.query cannot send. */
  private pool(): { query(q: { name: string; text: string; values: unknown[] }): Promise<{ rows: RawJob[] }> } {
    return (this.ds.driver as unknown as { master: { query(q: { name: string; text: string; values: unknown[] }): Promise<{ rows: RawJob[] }> } }).master;
  }

  async findById(id: string): Promise<JobEntity | null> {
    const rows: RawJob[] = await this.ds.query(`SELECT * FROM job WHERE id = $1`, [id]);
    return rows[0] ? toEntity(rows[0]) : null;
  }

  async exists(id: string): Promise<boolean> {
    const rows: unknown[] = await this.ds.query(`SELECT 1 FROM job WHERE id = $1`, [id]);
    return rows.length > 0;
  }

  private where(filter: JobListFilter): { sql: string; params: unknown[] } {
    const clauses: string[] = [];
    const params: unknown[] = [];
    const add = (clause: (p: string) => string, value: unknown) => {
      params.push(value);
      clauses.push(clause(`$${params.length}`));
    };
    if (filter.statuses?.length) add((p) => `j.status = ANY(${p}::text[])`, filter.statuses);
    if (filter.experimentId !== undefined) add((p) => `j.experiment_id = ${p}`, filter.experimentId);
    if (filter.queueId !== undefined) add((p) => `j.queue_id = ${p}`, filter.queueId);
    if (filter.dependsOn !== undefined) add((p) => `j.depends_on = ${p}`, filter.dependsOn);
    if (filter.modifiedSince !== undefined) add((p) => `j.last_modified > ${p}`, filter.modifiedSince);
    if (filter.idPrefix !== undefined) {
      const [lo, hi] = uuidRange(filter.idPrefix);
      add((p) => `j.id >= ${p}::uuid`, lo);
      add((p) => `j.id <= ${p}::uuid`, hi);
    }
    if (filter.usernames?.length) {
      // Usernames are unique case-insensitively (functional index on lower(username)).
      add((p) => `j.owner_id IN (SELECT id FROM "user" WHERE lower(username) = ANY(${p}::text[]))`, filter.usernames.map((u) => u.toLowerCase()));
    }
    return { sql: clauses.length ? `WHERE ${clauses.join(' AND ')}` : '', params };
  }

  async count(filter: JobListFilter): Promise<number> {
    const { sql, params } = this.where(filter);
    const rows: Array<{ n: string }> = await this.ds.query(`SELECT count(*) AS n FROM job j ${sql}`, params);
    return Number(rows[0].n);
  }

  /** One page of the filtered, sorted list (the caller computed the window from count()). */
  async findPage(filter: JobListFilter, sortBy: JobSortKey, order: 'asc' | 'desc', skip: number, take: number): Promise<JobView[]> {
    if (take <= 0) return [];
    const { sql, params } = this.where(filter);
    const dir = order === 'desc' ? 'DESC' : 'ASC';
    const orderBy = sortBy === 'id' ? `j.seq ${dir}` : `${SORT_COLUMNS[sortBy]} ${dir}, j.seq ${dir}`;
    params.push(take, skip);
    const rows: RawJob[] = await this.ds.query(
      `SELECT ${VIEW_COLUMNS} FROM (SELECT * FROM job j ${sql} ORDER BY ${orderBy} LIMIT $${params.length - 1} OFFSET $${params.length}) j
         JOIN experiment e ON e.id = j.experiment_id JOIN queue q ON q.id = j.queue_id JOIN "user" u ON u.id = j.owner_id
       ORDER BY ${orderBy}`,
      params,
    );
    return rows.map(toView);
  }

  /** Keyset batch in insertion order (Dioptra's unbounded list streams these). */
  async findBatchAfterSeq(afterSeq: string, limit: number): Promise<JobEntity[]> {
    const rows: RawJob[] = await this.ds.query(`SELECT * FROM job WHERE seq > $1 ORDER BY seq LIMIT $2`, [afterSeq, limit]);
    return rows.map(toEntity);
  }

  /** Queued jobs in insertion order after a cursor (the dispatcher's sweep). */
  async findQueuedAfter(afterSeq: string, limit: number): Promise<Array<{ id: string; queueId: number; seq: string }>> {
    const rows: Array<{ id: string; queue_id: number; seq: string }> = await this.ds.query(
      `SELECT id, queue_id, seq FROM job WHERE status = 'queued' AND seq > $1 ORDER BY seq LIMIT $2`,
      [afterSeq, limit],
    );
    return rows.map((r) => ({ id: r.id, queueId: r.queue_id, seq: r.seq }));
  }

  private logWhere(jobId: string, filter: JobLogFilter): { sql: string; params: unknown[] } {
    const params: unknown[] = [jobId];
    const clauses = ['job_id = $1'];
    if (filter.afterId !== undefined) clauses.push(`id > $${params.push(filter.afterId)}::bigint`);
    if (filter.stream !== undefined) clauses.push(`stream = $${params.push(filter.stream)}`);
    if (filter.text !== undefined) clauses.push(`line ILIKE $${params.push(`%${escapeLike(filter.text)}%`)}`);
    return { sql: clauses.join(' AND '), params };
  }

  async countLogs(jobId: string, filter: JobLogFilter = {}): Promise<number> {
    const { sql, params } = this.logWhere(jobId, filter);
    const rows: Array<{ n: string }> = await this.ds.query(`SELECT count(*) AS n FROM job_log WHERE ${sql}`, params);
    return Number(rows[0].n);
  }

  async findLogPage(jobId: string, filter: JobLogFilter, order: 'asc' | 'desc', skip: number, take: number): Promise<JobLogRow[]> {
    if (take <= 0) return [];
    const dir = order === 'desc' ? 'DESC' : 'ASC';
    const { sql, params } = this.logWhere(jobId, filter);
    return this.ds.query(`SELECT id, stream, line, time FROM job_log WHERE ${sql} ORDER BY id ${dir} LIMIT $${params.push(take)} OFFSET $${params.push(skip)}`, params);
  }

  /** Lines after a cursor, in order (following a running job). */
  async findLogsAfter(jobId: string, afterId: string, limit: number): Promise<JobLogRow[]> {
    return this.ds.query(`SELECT id, stream, line, time FROM job_log WHERE job_id = $1 AND id > $2 ORDER BY id LIMIT $3`, [jobId, afterId, limit]);
  }


  async findStatusAndEnd(jobId: string): Promise<{ status: JobStatus; endedAt: Date | null } | null> {
    const rows: Array<{ status: JobStatus; ended_at: Date | null }> = await this.ds.query(`SELECT status, ended_at FROM job WHERE id = $1`, [jobId]);
    return rows[0] ? { status: rows[0].status, endedAt: rows[0].ended_at } : null;
  }
}
