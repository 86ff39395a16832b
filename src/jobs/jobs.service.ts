import { Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomBytes, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { DataSource } from 'typeorm';
import { AuthUser, mayActOn } from '../common/auth-user';
import { PermissionDeniedError, ValidationFailedError } from '../common/errors/domain-error';
import { parseDuration } from '../common/duration';
import { Page, pageWindow } from '../common/pagination';
import { AppConfig } from '../config/config';
import { ExperimentsService } from '../experiments/experiments.service';
import { QueuesService } from '../queues/queues.service';
import { RedisService } from '../redis/redis.service';
import { BlobReadable } from '../storage/blob-store';
import { PostgresBlobStore } from '../storage/postgres-blob-store';
import { ArchiveEntry, ArchiveError, ArchiveLimits, ArchiveSource, listArchive, readArchiveFile } from '../workflows/archive';
import { formatEntryPointKwargs, parseEntryPointKwargs } from '../workflows/kwargs';
import { findMLproject, MLProject, parseMLproject, resolveEntryPoint } from '../workflows/mlproject';
import { secureFilename } from '../workflows/secure-filename';
import { WorkflowInvalidError, workflowErrorFrom } from '../workflows/workflow.errors';
import { JobDispatcher } from './job-dispatcher';
import { JobLifecycleRepository } from './job-lifecycle.repository';
import { ENDED_STATUSES, JobEntity, JobStatus } from './job.entity';
import { DependencyNotFoundError, JobNotCancelableError, JobNotFoundError, JobSubmissionInvalidError } from './jobs.errors';
import { JobListFilter, JobLogFilter, JobLogRow, JobSortKey, JobsRepository, JobView } from './jobs.repository';

/** An uploaded archive, spooled to a file by the face (which removes it after the request). */
export interface WorkflowUpload {
  path: string;
  size: number;
  originalName: string;
}

/** A submission as both faces hand it over, already mapped from their field names. */
export interface SubmitJobInput {
  experiment: { id?: number; name?: string };
  queue: { id?: number; name?: string };
  entryPoint: string;
  /** The `-P` map (v1's `parameters`); exclusive with entryPointKwargs. */
  parameters?: Record<string, string>;
  entryPointKwargs?: string | null;
  dependsOn?: string | null;
  timeout?: string | null;
  workflow?: WorkflowUpload | null;
}

/** One declared entry point of an archive's MLproject, as the submission form shows it. */
export interface InspectedEntryPoint {
  name: string;
  command: string;
  parameters: Array<{ name: string; type: string; default: string | null; required: boolean }>;
  /** Why a submission of this entry point would be refused (its declaration cannot be read), else null. */
  error: string | null;
}

/** What a rerun may change; the rest is the original job's. */
export interface RerunInput {
  queueId?: number;
  /** Replaces the original's parameters as a whole. */
  parameters?: Record<string, string>;
  timeout?: string;
}

export interface ListJobsQuery {
  filter: JobListFilter;
  sortBy: JobSortKey;
  orderBy: 'asc' | 'desc';
  offset: number;
  limit: number;
}

const DEFAULT_TIMEOUT = '24h';
const WORKFLOW_REQUIRED = 'a workflow archive (file field "workflow") is required';
const MAX_MLPROJECT_BYTES = 1024 * 1024;
const TIMEOUT_FORMAT = /^\d+[smhd]?$/;
const MAX_TIMEOUT_SECONDS = 2 ** 31 - 1;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const ENDED: ReadonlySet<JobStatus> = new Set(ENDED_STATUSES);
const FOLLOW_POLL_MS = 300;
const FOLLOW_BATCH = 1000;
/** Lines a worker flushes after the row ended (a cancel ends the row first) still reach a follower. */
const FOLLOW_GRACE_MS = 2000;
/** A followed log with `heartbeat=true` gets an empty line after this long without output (DASHBOARD.md §2.7 #2). */
export const HEARTBEAT_MS = 15_000;

export interface LogsPageQuery {
  filter: JobLogFilter;
  orderBy: 'asc' | 'desc';
  offset: number;
  limit: number;
}

/** Jobs: the one submission path for both faces, reads, cancel, logs. */
@Injectable()
export class JobsService {
  private readonly logger = new Logger(JobsService.name);

  constructor(
    @InjectDataSource() private readonly ds: DataSource,
    private readonly config: AppConfig,
    private readonly jobs: JobsRepository,
    private readonly lifecycle: JobLifecycleRepository,
    private readonly dispatcher: JobDispatcher,
    private readonly experiments: ExperimentsService,
    private readonly queues: QueuesService,
    // The Postgres store itself (not the abstract BlobStore): its writes join the submission's transaction.
    private readonly blobs: PostgresBlobStore,
    private readonly redis: RedisService,
  ) {}

  /**
   * Validates a submission completely (nothing is written when a check fails), then stores the archive and the row
   * in one transaction and hands a queued job to Bull after the commit.
   */
  async submit(actor: AuthUser, input: SubmitJobInput): Promise<JobView> {
    if (!input.entryPoint) throw new JobSubmissionInvalidError('entryPoint is required');
    if (input.parameters !== undefined && input.entryPointKwargs) {
      throw new JobSubmissionInvalidError('give either parameters or entryPointKwargs, not both');
    }
    const timeout = input.timeout || DEFAULT_TIMEOUT;
    const timeoutSeconds = this.checkTimeout(timeout);

    const experiment = await this.experiments.getForSubmission(input.experiment);
    // Anyone may read an experiment; only its owner or an admin (AUTH_DISABLED acts as one) may submit into it.
    if (!mayActOn(actor, experiment.ownerId)) {
      throw new PermissionDeniedError(`experiment '${experiment.name}' belongs to another user: only its owner or an admin may submit jobs into it`);
    }
    const queue = await this.queues.getForSubmission(input.queue);
    const workflow = input.workflow;
    if (!workflow || workflow.size === 0) throw new JobSubmissionInvalidError(WORKFLOW_REQUIRED);

    const { params, kwargs } = this.parametersOf(input);
    await this.checkWorkflow(workflow.path, input.entryPoint, params);
    const dependsOn = input.dependsOn || null;
    if (dependsOn !== null && !(UUID.test(dependsOn) && (await this.jobs.exists(dependsOn)))) throw new DependencyNotFoundError(dependsOn);

    const id = randomUUID();
    const filename = secureFilename(workflow.originalName);
    const key = `workflow/${randomBytes(16).toString('hex')}/${filename}`;
    const accepted = await this.ds.transaction(async (em) => {
      let status: JobStatus = 'queued';
      let failureReason: string | null = null;
      if (dependsOn !== null) {
        // Row-locked: the parent cannot end between this read and our insert, so the child is never stranded.
        const parentStatus = await this.jobs.lockStatus(dependsOn, em);
        if (parentStatus === null) throw new DependencyNotFoundError(dependsOn);
        if (parentStatus === 'failed' || parentStatus === 'canceled') {
          status = 'failed';
          failureReason = `dependency ${dependsOn} failed`;
        } else if (parentStatus !== 'finished') status = 'deferred';
      }
      // Streamed from the spooled file, a chunk at a time, inside the transaction that inserts the row.
      await this.blobs.putStream(key, createReadStream(workflow.path), em);
      await this.jobs.insert(
        {
          id,
          experimentId: experiment.id,
          queueId: queue.id,
          ownerId: actor.id,
          status,
          entryPoint: input.entryPoint,
          entryPointKwargs: kwargs,
          parameters: params,
          dependsOn,
          timeout,
          timeoutSeconds,
          workflowKey: key,
          workflowUri: `${this.blobs.scheme}://${key}`,
          mlflowRunId: null,
          startedAt: null,
          exitCode: null,
          failureReason,
          workerHost: null,
        },
        em,
      );
      // The reply shows the job as accepted (Dioptra's POST reply: `queued`, no run id yet), read before a worker
      // can claim it.
      return (await this.jobs.findView(id, em))!;
    });
    if (accepted.status === 'queued') await this.dispatcher.enqueue({ id, queueId: queue.id });
    return accepted;
  }

  /**
   * A new job from an existing one: the same archive (copied through a spool file, so every submission check runs on
   * it again), entry point and experiment, with the queue, parameters and timeout given or else the original's. The
   * submission rules apply as they are (owner of the experiment or admin; archived experiment, locked queue, …);
   * `dependsOn` is not carried over. The new job belongs to the actor.
   */
  async rerun(actor: AuthUser, id: string, input: RerunInput): Promise<JobView> {
    const job = await this.getEntity(id);
    await mkdir(this.config.uploadTmpdir, { recursive: true, mode: 0o700 });
    const dir = await mkdtemp(join(this.config.uploadTmpdir, 'rerun-')); // 0700
    try {
      const stream = await this.blobs.getStream(job.workflowKey);
      if (!stream) throw new JobSubmissionInvalidError(`the workflow archive of job ${job.id} is no longer stored`);
      const path = join(dir, 'workflow');
      await pipeline(stream, createWriteStream(path, { mode: 0o600 }));
      const given = input.parameters !== undefined;
      return await this.submit(actor, {
        experiment: { id: job.experimentId },
        queue: { id: input.queueId ?? job.queueId },
        entryPoint: job.entryPoint,
        parameters: given ? input.parameters : undefined,
        entryPointKwargs: given ? undefined : job.entryPointKwargs,
        timeout: input.timeout ?? job.timeout,
        workflow: { path, size: (await stat(path)).size, originalName: posix.basename(job.workflowKey) },
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private checkTimeout(timeout: string): number {
    const seconds = TIMEOUT_FORMAT.test(timeout) ? parseDuration(timeout) : null;
    if (seconds === null) {
      throw new JobSubmissionInvalidError(`timeout '${timeout}' is invalid: use a number of seconds or digits followed by s, m, h or d (e.g. 30m, 12h, 2d)`);
    }
    if (seconds > MAX_TIMEOUT_SECONDS) throw new JobSubmissionInvalidError(`timeout '${timeout}' is too large (at most ${MAX_TIMEOUT_SECONDS} seconds)`);
    return seconds;
  }

  /** The `-P` map and the kwargs string to store: raw when given, formatted from `parameters` otherwise. */
  private parametersOf(input: SubmitJobInput): { params: Record<string, string>; kwargs: string | null } {
    if (input.parameters !== undefined) {
      const formatted = formatEntryPointKwargs(input.parameters);
      return { params: input.parameters, kwargs: formatted === '' ? null : formatted };
    }
    // An empty field is no kwargs at all (Dioptra stores null then).
    const kwargs = input.entryPointKwargs || null;
    return { params: parseEntryPointKwargs(kwargs), kwargs };
  }

  /** Archive format and safety, exactly one MLproject, entry point and parameters — what the worker will need. */
  private async checkWorkflow(bytes: ArchiveSource, entryPoint: string, params: Record<string, string>): Promise<void> {
    const { project, projectFiles } = await this.readWorkflow(bytes);
    resolveEntryPoint(project, projectFiles, entryPoint, params);
  }

  /** The archive checks of a submission (format, safety, limits, exactly one readable MLproject), then its project. */
  private async readWorkflow(bytes: ArchiveSource): Promise<{ project: MLProject; projectFiles: Set<string> }> {
    const limits: ArchiveLimits = { maxEntries: this.config.maxArchiveEntries, maxExtractedBytes: this.config.maxExtractedBytes };
    let entries: ArchiveEntry[];
    let path: string;
    let text: Buffer | null;
    try {
      entries = await listArchive(bytes, limits);
      path = findMLproject(entries);
      // Read into memory to parse: bounded, so a workflow cannot make the API hold a huge (or gzip-bombed) file.
      const declared = entries.find((e) => e.path === path)?.size ?? 0;
      if (declared > MAX_MLPROJECT_BYTES) throw new WorkflowInvalidError(`${path} is larger than ${MAX_MLPROJECT_BYTES} bytes`);
      text = await readArchiveFile(bytes, path, limits);
    } catch (e) {
      if (e instanceof ArchiveError) throw workflowErrorFrom(e);
      throw e;
    }
    if (text === null) throw new WorkflowInvalidError(`workflow: cannot read ${path}`);
    const project = parseMLproject(text.toString('utf8'), path);
    const dir = posix.dirname(path);
    const prefix = dir === '.' ? '' : `${dir}/`;
    const projectFiles = new Set(entries.filter((e) => e.type === 'file' && e.path.startsWith(prefix)).map((e) => e.path.slice(prefix.length)));
    return { project, projectFiles };
  }

  /**
   * What a submission form needs to know of an archive, stored nowhere: its declared entry points and their
   * parameters. Refused exactly as a submission of it would be (the same checks and texts); an entry point that
   * cannot be parsed is listed with the reason a submission of it would get, as the others still run.
   */
  async inspectWorkflow(workflow: WorkflowUpload | null | undefined): Promise<InspectedEntryPoint[]> {
    if (!workflow || workflow.size === 0) throw new JobSubmissionInvalidError(WORKFLOW_REQUIRED);
    const { project } = await this.readWorkflow(workflow.path);
    return project.entryPointNames.map((name): InspectedEntryPoint => {
      try {
        const spec = project.entryPoint(name)!;
        const parameters = Object.entries(spec.parameters).map(([p, def]) => ({ name: p, type: def.type, default: def.default ?? null, required: def.default === undefined }));
        return { name, command: spec.command, parameters, error: null };
      } catch (e) {
        if (e instanceof WorkflowInvalidError) return { name, command: '', parameters: [], error: e.message };
        throw e;
      }
    });
  }

  async get(id: string): Promise<JobView> {
    const job = UUID.test(id) ? await this.jobs.findView(id) : null;
    if (!job) throw new JobNotFoundError(id);
    return job;
  }

  private async getEntity(id: string): Promise<JobEntity> {
    const job = UUID.test(id) ? await this.jobs.findById(id) : null;
    if (!job) throw new JobNotFoundError(id);
    return job;
  }

  async list(query: ListJobsQuery): Promise<Page<JobView>> {
    const total = await this.jobs.count(query.filter);
    const pagination = pageWindow(total, query.offset, query.limit);
    const rows = await this.jobs.findPage(query.filter, query.sortBy, query.orderBy, pagination.startIndex, pagination.endIndex - pagination.startIndex);
    return { rows, pagination };
  }

  /** The jobs of one experiment (404 for an unknown or deleted one). */
  async listForExperiment(experimentId: number, query: ListJobsQuery): Promise<Page<JobView>> {
    await this.experiments.get({ id: experimentId });
    return this.list({ ...query, filter: { ...query.filter, experimentId } });
  }

  /** Every job in insertion order, a keyset batch at a time (memory does not grow with the table). */
  async *allInOrder(batchSize = 500): AsyncGenerator<JobEntity[]> {
    let after = '0';
    for (;;) {
      const batch = await this.jobs.findBatchAfterSeq(after, batchSize);
      if (batch.length === 0) return;
      yield batch;
      if (batch.length < batchSize) return;
      after = batch[batch.length - 1].seq;
    }
  }

  /** Owner or admin. Queued/deferred jobs end at once; a started one too, and its worker is told to kill it. */
  async cancel(actor: AuthUser, id: string): Promise<void> {
    let job = await this.getEntity(id);
    if (!mayActOn(actor, job.ownerId)) throw new PermissionDeniedError('only the owner of a job or an admin may cancel it');
    const outcome = { status: 'canceled' as const, exitCode: null, failureReason: `canceled by ${actor.username}` };
    // The status may move under us (a worker claims or ends the job): retry with the fresh status.
    for (let attempt = 0; attempt < 5; attempt++) {
      if (ENDED.has(job.status)) throw new JobNotCancelableError(job.id, job.status);
      const from: JobStatus[] = job.status === 'started' ? ['started'] : ['queued', 'deferred'];
      const { ended } = await this.lifecycle.end(job.id, outcome, from);
      if (ended) {
        if (job.status === 'started') await this.notifyCancel(job.id);
        return;
      }
      job = await this.getEntity(id);
    }
    throw new JobNotCancelableError(job.id, job.status);
  }

  private async notifyCancel(jobId: string): Promise<void> {
    try {
      await this.redis.publish('job-cancel', jobId);
    } catch (e) {
      // The worker also polls the row's status while a job runs, so the kill still happens.
      this.logger.warn(`job ${jobId}: cancel not published (${(e as Error).message}); the worker notices the status`);
    }
  }

  /** A page of a job's lines; the filter narrows the set that `total`, `offset` and `limit` count in. */
  async logs(id: string, q: LogsPageQuery): Promise<Page<JobLogRow>> {
    const job = await this.getEntity(id);
    const total = await this.jobs.countLogs(job.id, q.filter);
    const pagination = pageWindow(total, q.offset, q.limit);
    const rows = await this.jobs.findLogPage(job.id, q.filter, q.orderBy, pagination.startIndex, pagination.endIndex - pagination.startIndex);
    return { rows, pagination };
  }

  /**
   * Checks a follow can start (call before the reply is committed to streaming): the job exists, and no paged-form
   * filter was asked for — a followed log is every line after the cursor.
   */
  async assertFollowable(id: string, filter: JobLogFilter): Promise<void> {
    const fields: Record<string, string[]> = {};
    if (filter.text !== undefined) fields.q = ['q filters the paged form only: leave out follow=true, or q'];
    if (filter.stream !== undefined) fields.stream = ['stream filters the paged form only: leave out follow=true, or stream'];
    if (Object.keys(fields).length > 0) throw new ValidationFailedError(fields, Object.values(fields).flat().join('; '));
    await this.getEntity(id);
  }

  /**
   * Every log line of a job after `afterId` (all by default), in order, as batches, polling the table until the job
   * has ended and every line was read. With `heartbeat`, an empty batch every HEARTBEAT_MS while no line came (the
   * face writes an empty line). Stops early when `signal` aborts (the client went away).
   */
  async *followLogs(id: string, signal: AbortSignal, options: { afterId?: string; heartbeat?: boolean } = {}): AsyncGenerator<JobLogRow[]> {
    const job = await this.getEntity(id);
    let after = options.afterId ?? '0';
    let lastSent = Date.now();
    while (!signal.aborted) {
      // Status first, lines second: a line written before the job ended is always read after seeing the end.
      const state = await this.jobs.findStatusAndEnd(job.id);
      const batch = await this.jobs.findLogsAfter(job.id, after, FOLLOW_BATCH);
      if (batch.length > 0) {
        after = batch[batch.length - 1].id;
        lastSent = Date.now();
        yield batch;
        if (batch.length === FOLLOW_BATCH) continue;
      } else if (options.heartbeat && Date.now() - lastSent >= HEARTBEAT_MS) {
        lastSent = Date.now();
        yield [];
      }
      if (state && ENDED.has(state.status) && batch.length === 0) {
        const endedFor = state.endedAt ? Date.now() - state.endedAt.getTime() : Infinity;
        if (endedFor > FOLLOW_GRACE_MS) return;
      }
      await sleep(FOLLOW_POLL_MS, undefined, { signal }).catch(() => undefined);
    }
  }

  /** The archive as uploaded, as a stream read from the store as the client takes it, and its (sanitized) file name. */
  async workflow(id: string): Promise<{ stream: BlobReadable; filename: string }> {
    const job = await this.getEntity(id);
    const stream = await this.blobs.getStream(job.workflowKey);
    if (!stream) throw new JobNotFoundError(id);
    return { stream, filename: posix.basename(job.workflowKey) };
  }
}
