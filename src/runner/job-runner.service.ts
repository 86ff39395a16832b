import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/config';
import { JobDispatcher } from '../jobs/job-dispatcher';
import { JobLifecycleRepository, JobOutcome } from '../jobs/job-lifecycle.repository';
import { JobEntity } from '../jobs/job.entity';
import { BlobStore } from '../storage/blob-store';
import { TaskPluginsService } from '../task-plugins/task-plugins.service';
import { ArchiveEntry, extractArchive, listArchive } from '../workflows/archive';
import { withoutServerPaths } from '../workflows/job-paths';
import { findMLproject, MLProject, parseMLproject, resolveEntryPoint } from '../workflows/mlproject';
import { JobProcess, StopReason } from '../sandbox/job-process';
import { formatSize, JobSandbox, SandboxPolicy, SandboxService } from '../sandbox/sandbox.service';
import { countStatements, JobTrace, withTrace } from './job-trace';
import { LogBatcher } from './log-batcher';
import { retry } from './retry';
import { RunEnd, RunTracker, TrackedRun } from './run-tracker';
import { ClaimInfo, RunnerRepository } from './runner.repository';
import { CachedWorkflow, CacheHandle, populate, WorkerCache } from './worker-cache';

/** How often a running job's row is re-read: the safety net behind the `job-cancel` message. */
const STATUS_CHECK_MS = 3000;

/** Attempts to close a run at a job's end (a few seconds in all: a tracking store that is down must not hold the job). */
const CLOSE_ATTEMPTS = 3;

/** The run made at claim: created, or why not (the job then fails with that reason). */
type ClaimedRun = { tracked: TrackedRun; failure: null } | { tracked: null; failure: string };

/** A job this process is running: what cancel, the status check and shutdown act on. */
interface RunState {
  stopFor: StopReason | null;
  process?: JobProcess;
}

/** Everything the process needs, resolved before it starts. */
/** What a workflow's MLproject says, and the files beside it (the entry point's command may name them). */
interface ParsedProject {
  projectRel: string;
  project: MLProject;
  files: ReadonlySet<string>;
}

interface PreparedJob {
  command: string;
  cwd: string;
  env: Record<string, string>;
  /** The queue's sandbox choices (network, devices), admin-set. */
  policy: SandboxPolicy;
  /** The worker's shared plugin tree, bound read-only at the job's `plugins/` (null: written into the job's directory). */
  pluginSource: string | null;
}

/**
 * Runs one job from claim to end: unpack the workflow, resolve the entry point, materialize the task plugins, run the
 * command under supervision with its output captured, record the outcome, dispatch the children it released.
 * Never throws for anything the job did: a job that cannot start ends `failed` with the reason.
 */
@Injectable()
export class JobRunner implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(JobRunner.name);
  private readonly cache: WorkerCache;
  /** LOG_LEVEL debug/verbose: one line per job with its stages' times and SQL statements (what `npm run bench` reads). */
  private readonly tracing: boolean;
  private readonly running = new Map<string, RunState>();
  private readonly projects = new WeakMap<CachedWorkflow, ParsedProject>();
  /** Recorded in `worker_host`: which machine and process ran a job. */
  readonly workerHost = `${hostname()}:${process.pid}`;
  private stopping = false;

  constructor(
    private readonly config: AppConfig,
    private readonly lifecycle: JobLifecycleRepository,
    private readonly dispatcher: JobDispatcher,
    private readonly blobs: BlobStore,
    private readonly plugins: TaskPluginsService,
    private readonly sandbox: SandboxService,
    private readonly runnerRepo: RunnerRepository,
    private readonly tracker: RunTracker,
    @InjectDataSource() private readonly ds: DataSource,
  ) {
    this.cache = new WorkerCache(config.jobWorkdir);
    this.tracing = config.logLevel === 'debug' || config.logLevel === 'verbose';
  }

  async onModuleInit(): Promise<void> {
    await this.cache.init();
    if (this.tracing) countStatements(this.ds);
  }

  async onModuleDestroy(): Promise<void> {
    await this.cache.destroy();
  }

  /** Removes job directories and cgroups that a killed worker left (never those of jobs still running anywhere). */
  async sweepLeftovers(): Promise<void> {
    try {
      const { dirs, cgroups } = await this.sandbox.sweep(async (ids) => {
        const started = await this.runnerRepo.startedAmong(ids);
        for (const id of this.running.keys()) started.add(id);
        return started;
      });
      if (dirs + cgroups > 0) this.logger.warn(`removed what an earlier worker left: ${dirs} job director${dirs === 1 ? 'y' : 'ies'}, ${cgroups} cgroup(s)`);
    } catch (e) {
      this.logger.warn(`sweeping leftover job directories: ${String(e)}`);
    }
  }

  /** The jobs this worker holds now (claiming, preparing or running). */
  runningJobIds(): string[] {
    return [...this.running.keys()];
  }

  isRunning(jobId: string): boolean {
    return this.running.has(jobId);
  }

  /** Stops a job if it runs here (its process group gets SIGTERM, then SIGKILL); a job still preparing never starts. */
  stop(jobId: string, reason: StopReason): void {
    const state = this.running.get(jobId);
    if (!state) return;
    this.logger.log(`[job ${jobId}] stopping (${reason})`);
    state.stopFor ??= reason;
    state.process?.stop(reason);
  }

  /** Shutdown: stop every job; from now on a lost database is not waited for. */
  stopAll(): void {
    this.stopping = true;
    for (const jobId of this.running.keys()) this.stop(jobId, 'shutdown');
  }

  /**
   * Claims and runs one job. Throws only when the claim itself fails (database down): the job is still `queued` then,
   * and the dispatcher hands it out again.
   */
  async run(jobId: string, queuedAt?: number): Promise<void> {
    const trace = new JobTrace();
    if (queuedAt !== undefined) trace.record('pickup', Math.max(0, Date.now() - queuedAt));
    await (this.tracing ? withTrace(trace, () => this.runTraced(jobId, trace)) : this.runTraced(jobId, trace));
    if (this.tracing && trace.stages.length > 0) this.logger.debug(`[job ${jobId}] stages: ${trace}`);
  }

  private async runTraced(jobId: string, trace: JobTrace): Promise<void> {
    const claimed = await this.claim(jobId, trace);
    if (!claimed) return;
    const { job, run, info } = claimed;
    const state = this.running.get(jobId)!;
    const watch = setInterval(() => void this.checkStillStarted(jobId), STATUS_CHECK_MS);
    const logs = this.logBatcher(jobId);
    const workdir = join(this.config.jobWorkdir, jobId);
    // What the job's owner reads names the job's files relative to its workflow, never the worker's directories.
    const serverRoots = [join(workdir, 'workflow'), workdir];
    const startedAt = Date.now();
    let runClosed = !run.tracked;
    let box: JobSandbox | undefined;
    let boxClosed: Promise<void> | undefined;
    let plugins: CacheHandle<string> | undefined;
    try {
      let outcome: JobOutcome;
      if (!run.tracked) {
        outcome = { status: 'failed', exitCode: null, failureReason: run.failure };
        logs.add('system', 'could not create the job\'s MLflow run');
      } else {
        try {
          box = await this.sandbox.open(jobId);
          trace.mark('sandbox-open');
          const prepared = await this.prepare(job, info, box, run.tracked, trace, (h) => (plugins = h));
          this.logger.debug(`[job ${jobId}] prepared in ${Date.now() - startedAt} ms`);
          logs.add('system', `running entry point ${job.entryPoint}: ${withoutServerPaths(prepared.command, serverRoots)}`);
          outcome = state.stopFor ? this.stoppedOutcome(job, state.stopFor) : await this.execute(job, prepared, state, logs, box, trace);
        } catch (e) {
          this.logger.warn(`[job ${jobId}] could not start: ${errorMessage(e)}`);
          outcome = { status: 'failed', exitCode: null, failureReason: withoutServerPaths(errorMessage(e), serverRoots) };
          logs.add('system', 'could not start the job');
        }
      }
      clearInterval(watch);
      // The process is gone: its sandbox is taken down (what is left killed, cgroups and directory removed) while the
      // outcome is recorded, not after.
      boxClosed = box?.close();
      // The run is closed and the logs are stored before the job shows ended (whoever sees the job ended reads a
      // closed run, and whoever follows the logs stops reading then): both at once, then the end.
      logs.add('system', describe(outcome));
      await Promise.all([run.tracked ? this.closeRun(jobId, run.tracked.runId, runEndFor(outcome, state.stopFor)) : undefined, logs.close()]);
      runClosed = true;
      trace.mark('run-close-and-log-flush');
      const { ended, released } = await this.persist(jobId, 'record the outcome', () => this.lifecycle.end(jobId, outcome, ['started']));
      trace.mark('end');
      this.logger.log(`[job ${jobId}] ${ended ? describe(outcome) : 'had already ended (canceled or lost)'} after ${Date.now() - startedAt} ms`);
      for (const child of released) await this.dispatcher.enqueue(child);
      trace.mark('dependents');
    } catch (e) {
      // The row stays `started`; the worker-lost check of a live worker ends it.
      this.logger.error(`[job ${jobId}] outcome not recorded: ${errorMessage(e)}`);
    } finally {
      clearInterval(watch);
      if (!runClosed && run.tracked) await this.closeRun(jobId, run.tracked.runId, 'FAILED');
      this.running.delete(jobId);
      await (boxClosed ?? box?.close());
      (plugins as CacheHandle<string> | undefined)?.release();
      trace.mark('clean-up');
    }
  }

  /**
   * Closes a run the job left open and revokes the job's credentials; bounded and never throwing: a tracking store that
   * fails costs a warning, never the job's outcome. Also called for the jobs of a lost worker.
   */
  async closeRun(jobId: string, runId: string, end: RunEnd): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.tracker.finish(jobId, runId, end);
        return;
      } catch (e) {
        if (attempt >= CLOSE_ATTEMPTS || this.stopping) {
          this.logger.warn(`[job ${jobId}] run ${runId} not closed (${end}): ${errorMessage(e)}`);
          return;
        }
        await new Promise((r) => setTimeout(r, 300 * 2 ** attempt));
      }
    }
  }

  /**
   * queued → started with the job's run created first, so `mlflowRunId` names a run from the moment the job shows
   * `started` (API.md §5; Dioptra writes it just before `started`), or null (canceled meanwhile). A run that cannot be
   * created still claims the job, which then fails with the reason. The job counts as running here from before the
   * claim on, so the worker-lost check never takes our fresh `started` row for an orphan.
   */
  private async claim(jobId: string, trace: JobTrace): Promise<{ job: JobEntity; run: ClaimedRun; info: ClaimInfo } | null> {
    this.running.set(jobId, { stopFor: null });
    let job: JobEntity | null = null;
    let run: ClaimedRun = { tracked: null, failure: 'not claimed' };
    let info: ClaimInfo | null = null;
    try {
      info = await this.runnerRepo.findForClaim(jobId);
      trace.mark('claim-read');
      if (info?.status === 'queued') {
        run = await this.startRun(jobId, info);
        trace.mark('run-create');
        try {
          job = await this.lifecycle.claim(jobId, this.workerHost, run.tracked?.runId ?? null);
          trace.mark('claim');
        } finally {
          // Canceled between the read and the claim (or the claim failed): the run has no job to follow it.
          if (!job && run.tracked) await this.closeRun(jobId, run.tracked.runId, 'KILLED');
        }
      }
    } finally {
      if (!job) this.running.delete(jobId);
    }
    if (!job) this.logger.log(`[job ${jobId}] not queued any more (canceled?): skipped`);
    else if (run.tracked) this.logger.log(`[job ${jobId}] started: run id ${run.tracked.runId}`);
    else this.logger.warn(`[job ${jobId}] started without a run: ${run.failure}`);
    return job && info ? { job, run, info } : null;
  }

  private async startRun(jobId: string, info: ClaimInfo): Promise<ClaimedRun> {
    try {
      const { experimentId, experimentName, ownerId, ownerName, queueName } = info;
      const tracked = await this.tracker.start({ jobId, experimentId, experimentName, ownerId, ownerName, queueName, startTime: Date.now() });
      return { tracked, failure: null };
    } catch (e) {
      this.logger.warn(`[job ${jobId}] run not created (${this.tracker.description}): ${errorMessage(e)}`);
      return { tracked: null, failure: `could not create the job's MLflow run: ${errorMessage(e)}` };
    }
  }

  /**
   * In the fresh job directory: the workflow in `workflow/` (from the worker's cache of unpacked archives, keyed by
   * content hash: unpacked once per workflow, then copied and linked), the entry point resolved, the task plugins in
   * `plugins/` (bound read-only from the worker's tree of this plugin version, or written for the job when the
   * sandbox cannot bind).
   */
  private async prepare(
    job: JobEntity,
    info: ClaimInfo,
    box: JobSandbox,
    run: TrackedRun,
    trace: JobTrace,
    keepPlugins: (h: CacheHandle<string>) => void,
  ): Promise<PreparedJob> {
    const workdir = box.dir;
    const workflowDir = join(workdir, 'workflow');
    const pluginDir = join(workdir, 'plugins');
    await mkdir(workflowDir, { recursive: true });
    await mkdir(pluginDir, { recursive: true });

    const sha256 = info.workflowSha256;
    if (!sha256) throw new Error(`workflow archive ${job.workflowUri} is missing from the store`);
    const cached = await this.cache.workflow(sha256, (tree) => this.unpack(job, sha256, tree));
    trace.mark('workflow-unpack');
    let parsed: ParsedProject;
    try {
      // A job running as the worker's own uid could write through a hard link into the cache: it gets copies only.
      await populate(cached.value.tree, workflowDir, { linkLarge: box.uid !== null });
      trace.mark('workflow-copy');
      parsed = await this.parsedProject(cached.value);
    } finally {
      cached.release();
    }
    const projectDir = join(workflowDir, parsed.projectRel);
    const resolved = resolveEntryPoint(parsed.project, parsed.files, job.entryPoint, stringValues(job.parameters), projectDir);
    trace.mark('mlproject');

    let pluginSource: string | null = null;
    if (this.sandbox.bindsPlugins) {
      const handle = await this.persist(job.id, 'write the task plugins', () => this.cache.pluginTree(info.pluginsVersion, (dir) => this.plugins.materialize(dir)));
      keepPlugins(handle);
      pluginSource = handle.value;
    } else {
      await this.persist(job.id, 'write the task plugins', () => this.plugins.materialize(pluginDir));
    }
    trace.mark('plugins');
    // The job sees these and config.jobBaseEnv (PATH, JOB_ENV_PASSTHROUGH, JOB_ENV), never the server's own
    // environment or secrets; the sandbox adds HOME (the job directory).
    const env: Record<string, string> = {
      ...this.config.jobBaseEnv,
      // MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN (or the external server's credentials), MLFLOW_RUN_ID, MLFLOW_EXPERIMENT_ID
      ...run.env,
      DIOPTRA_JOB_ID: job.id,
      DIOPTRA_PLUGIN_DIR: pluginDir,
      PYTHONPATH: pluginDir,
      DIOPTRA_JOB_PARAMETERS: JSON.stringify(resolved.parameters),
      PYTHONUNBUFFERED: '1',
    };
    return { command: resolved.command, cwd: projectDir, env, policy: { network: info.network, devices: info.devices, memoryLimit: info.memoryLimit, pidsLimit: info.pidsLimit }, pluginSource };
  }

  /**
   * Fills the cache's tree for one archive: streamed to a file beside the tree (never held in memory), listed and
   * unpacked with the limits; a database blip delays the job rather than failing it.
   */
  private async unpack(job: JobEntity, sha256: string, tree: string): Promise<ArchiveEntry[]> {
    const archive = join(dirname(tree), 'archive');
    try {
      const fetched = await this.persist(job.id, 'fetch the workflow archive', async () => {
        await rm(archive, { force: true });
        return this.blobs.fetchToFile(job.workflowKey, archive);
      });
      if (!fetched) throw new Error(`workflow archive ${job.workflowUri} is missing from the store`);
      if (fetched.sha256 !== sha256) throw new Error(`workflow archive ${job.workflowUri} changed while it was read`);
      const limits = { maxEntries: this.config.maxArchiveEntries, maxExtractedBytes: this.config.maxExtractedBytes };
      const entries = await listArchive(archive, limits);
      await extractArchive(archive, tree, limits);
      return entries;
    } finally {
      await rm(archive, { force: true });
    }
  }

  /** The workflow's MLproject, parsed once per cached archive (the cache's tree is what every job of it copies). */
  private async parsedProject(workflow: CachedWorkflow): Promise<ParsedProject> {
    const known = this.projects.get(workflow);
    if (known) return known;
    const path = findMLproject(workflow.entries);
    const projectRel = posix.dirname(path);
    const prefix = projectRel === '.' ? '' : `${projectRel}/`;
    const project = parseMLproject(await readFile(join(workflow.tree, path), 'utf8'), path);
    const files = new Set(workflow.entries.filter((e) => e.type === 'file' && e.path.startsWith(prefix)).map((e) => e.path.slice(prefix.length)));
    const parsed = { projectRel, project, files };
    this.projects.set(workflow, parsed);
    return parsed;
  }

  /** Runs the command to its end (or timeout / cancel / shutdown) and says how it ended. */
  private async execute(job: JobEntity, prepared: PreparedJob, state: RunState, logs: LogBatcher, box: JobSandbox, trace: JobTrace): Promise<JobOutcome> {
    const proc = await box.start({ ...prepared, timeoutMs: job.timeoutSeconds * 1000, onLine: (stream, line) => logs.add(stream, line) });
    trace.mark('sandbox-start');
    state.process = proc;
    // A cancel that arrived while the process was being spawned.
    if (state.stopFor) proc.stop(state.stopFor);
    const result = await proc.done;
    trace.mark('process', result.exitedAt);
    trace.mark('teardown');
    // The timeout is the process's own stop: remember it, as cancel is, for the run's end.
    if (result.stoppedFor) state.stopFor ??= result.stoppedFor;
    if (result.stoppedFor) return this.stoppedOutcome(job, result.stoppedFor);
    // A limit the sandbox enforced says which one, not just the exit code it caused.
    if (result.limit && (result.exitCode !== 0 || result.limitFatal)) return { status: 'failed', exitCode: result.exitCode, failureReason: result.limit };
    if (result.exitCode === 0) return { status: 'finished', exitCode: 0, failureReason: null };
    if (result.exitCode === null) return { status: 'failed', exitCode: null, failureReason: `killed by ${result.signal}` };
    return { status: 'failed', exitCode: result.exitCode, failureReason: `exit code ${result.exitCode}` };
  }

  private stoppedOutcome(job: JobEntity, reason: StopReason): JobOutcome {
    if (reason === 'timeout') return { status: 'failed', exitCode: null, failureReason: `timed out after ${job.timeout}` };
    // The API already set the row to canceled (with who canceled it); this end changes nothing.
    if (reason === 'cancel') return { status: 'canceled', exitCode: null, failureReason: 'canceled' };
    return { status: 'failed', exitCode: null, failureReason: 'worker shut down' };
  }

  /**
   * A `job-cancel` message: anyone who can reach Redis can publish one, so it is acted on only when the job's row says
   * `canceled` (the API sets it before publishing).
   */
  async cancelRequested(jobId: string): Promise<void> {
    if (!this.running.has(jobId)) return;
    try {
      if ((await this.lifecycle.getStatus(jobId)) === 'canceled') this.stop(jobId, 'cancel');
      else this.logger.warn(`[job ${jobId}] cancel message ignored: the job's row does not say canceled`);
    } catch {
      // Database unreachable: the status check acts once it is back.
    }
  }

  /** Safety net for a lost `job-cancel` message: a job whose row left `started` is stopped. */
  private async checkStillStarted(jobId: string): Promise<void> {
    try {
      const status = await this.lifecycle.getStatus(jobId);
      if (status !== null && status !== 'started') this.stop(jobId, 'cancel');
    } catch {
      // Database unreachable: the job keeps running; the next check tries again.
    }
  }

  private logBatcher(jobId: string): LogBatcher {
    return new LogBatcher((lines) => this.persist(jobId, 'store log lines', () => this.lifecycle.appendLogs(jobId, lines)), {
      onWriteError: (e, n) => this.logger.error(`[job ${jobId}] ${n} log lines lost: ${errorMessage(e)}`),
      maxTotalChars: this.config.sandbox.logLimit,
      totalLabel: formatSize(this.config.sandbox.logLimit),
    });
  }

  /** Database work of a running job survives an outage: retried with backoff until the database is back. */
  private persist<T>(jobId: string, what: string, fn: () => Promise<T>): Promise<T> {
    return retry(fn, {
      giveUp: () => this.stopping,
      onRetry: (e, attempt, delay) => {
        if (attempt === 1 || attempt % 10 === 0) this.logger.warn(`[job ${jobId}] could not ${what} (${errorMessage(e)}); retrying in ${delay} ms`);
      },
    });
  }
}

/** How the run mirrors the job's end (reference §12): cancel and timeout are KILLED, a non-zero exit or a lost worker FAILED. */
function runEndFor(outcome: JobOutcome, stopFor: StopReason | null): RunEnd {
  if (outcome.status === 'finished') return 'FINISHED';
  if (outcome.status === 'canceled' || stopFor === 'cancel' || stopFor === 'timeout') return 'KILLED';
  return 'FAILED';
}

function describe(outcome: JobOutcome): string {
  return outcome.status === 'finished' ? 'finished: exit code 0' : `${outcome.status}: ${outcome.failureReason}`;
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** `parameters` is jsonb: make sure every value is a string, whatever a client managed to store. */
function stringValues(params: Record<string, unknown> | null): Record<string, string> {
  return Object.fromEntries(Object.entries(params ?? {}).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}
