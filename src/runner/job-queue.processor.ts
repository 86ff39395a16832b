import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import Bull from 'bull';
import { AppConfig } from '../config/config';
import { DispatchData, queueBullName } from '../jobs/job-dispatcher';
import { JobLifecycleRepository } from '../jobs/job-lifecycle.repository';
import { QueuesService } from '../queues/queues.service';
import { RedisService } from '../redis/redis.service';
import { JobProcess } from '../sandbox/job-process';
import { JobRunner } from './job-runner.service';
import { RunnerRepository } from './runner.repository';
import { WORKER_BEAT_TTL_MS, workerKey } from '../workers/worker-registry';
import { Semaphore } from './semaphore';

/** How often the served queues are looked up again (a new queue is served within seconds). */
const DISCOVERY_MS = 3000;
/** How often `started` jobs of the served queues are compared with Bull (besides startup and stalled events). */
const LOST_CHECK_MS = 15_000;
/** Bull's reason for a job whose lock expired (its worker died); maxStalledCount 0 fails it at once. */
const STALLED_REASON = 'job stalled more than allowable limit';
/** How often directories and cgroups left by killed workers are looked for (besides at start). */
const SWEEP_MS = 10 * 60_000;
/** Bound for each shutdown step that talks to Redis (which may be down). */
const SHUTDOWN_STEP_MS = 3000;

/**
 * The worker's side of Bull: serves the queues of WORKER_QUEUES (all live queues when unset), runs at most
 * WORKER_CONCURRENCY jobs at once across them, stops jobs on `job-cancel`, and ends the jobs of dead workers as
 * `worker lost`.
 */
@Injectable()
export class JobQueueProcessor implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(JobQueueProcessor.name);
  private readonly served = new Map<number, Bull.Queue<DispatchData>>();
  private readonly slots: Semaphore;
  private readonly handling = new Set<Promise<void>>();
  private timers: NodeJS.Timeout[] = [];
  private stopping = false;
  private discovering = false;
  private discoveryFailing = false;
  private intake = Promise.resolve();
  private readonly pausedQueues = new Set<Bull.Queue<DispatchData>>();

  constructor(
    private readonly config: AppConfig,
    private readonly redis: RedisService,
    private readonly queues: QueuesService,
    private readonly lifecycle: JobLifecycleRepository,
    private readonly runnerRepo: RunnerRepository,
    private readonly runner: JobRunner,
  ) {
    this.slots = new Semaphore(config.workerConcurrency);
  }

  onApplicationBootstrap(): void {
    this.redis.subscribe('job-cancel', (jobId) => void this.runner.cancelRequested(jobId));
    void this.discover();
    void this.runner.sweepLeftovers();
    this.timers = [
      setInterval(() => void this.runner.sweepLeftovers(), SWEEP_MS),
      setInterval(() => void this.discover(), DISCOVERY_MS),
      setInterval(() => void this.checkAllLost(), LOST_CHECK_MS),
    ];
    for (const t of this.timers) t.unref();
  }

  /** Serves every queue this worker should and does not serve yet. */
  async discover(): Promise<void> {
    if (this.discovering || this.stopping) return;
    this.discovering = true;
    try {
      for (const id of await this.queueIds()) if (!this.served.has(id) && !this.stopping) this.serve(id);
      this.discoveryFailing = false;
    } catch (e) {
      // Once per outage, not every 3 s.
      if (!this.discoveryFailing) this.logger.warn(`queue discovery failed (retrying every ${DISCOVERY_MS} ms): ${errorMessage(e)}`);
      this.discoveryFailing = true;
    } finally {
      this.discovering = false;
    }
  }

  private async queueIds(): Promise<number[]> {
    if (!this.config.workerQueues) return (await this.queues.listAllLive()).map((q) => q.id);
    const ids: number[] = [];
    for (const name of this.config.workerQueues) {
      // A named queue that does not exist yet is served as soon as it is created.
      const queue = await this.queues.get({ name }).catch(() => null);
      if (queue) ids.push(queue.id);
    }
    return ids;
  }

  private serve(queueId: number): void {
    const queue = this.redis.bullQueue(queueBullName(queueId)) as Bull.Queue<DispatchData>;
    this.served.set(queueId, queue);
    queue.on('error', (e) => this.logger.debug(`queue ${queueId}: ${errorMessage(e)}`));
    queue.on('failed', (job: Bull.Job<DispatchData> | null, e: Error) => {
      // With removeOnFail the stalled job is gone before the event, so `job` is usually null: check the whole queue.
      if (e?.message !== STALLED_REASON) return;
      void this.checkLost(queueId);
      // The dead worker's heartbeat key may outlast its Bull lock by a few seconds: look again once it has expired.
      setTimeout(() => void this.checkLost(queueId), WORKER_BEAT_TTL_MS + 1000).unref();
    });
    // Resolves only when the queue closes; Bull holds at most `workerConcurrency` active jobs of this queue, and the
    // semaphore bounds the jobs running across all queues.
    queue.process(this.config.workerConcurrency, (job) => this.track(this.handle(job))).catch((e) => this.logger.warn(`queue ${queueId} stopped: ${errorMessage(e)}`));
    this.logger.log(`serving queue ${queueId}`);
    this.updateIntake();
    void this.checkLost(queueId);
  }

  private async handle(job: Bull.Job<DispatchData>): Promise<void> {
    await this.slots.acquire();
    this.updateIntake();
    try {
      // Failing the Bull job leaves the row `queued`; the dispatcher re-adds it for a worker that is not stopping.
      if (this.stopping) throw new Error('worker is shutting down');
      await this.runner.run(job.data.jobId, job.timestamp);
    } finally {
      this.slots.release();
      this.updateIntake();
    }
  }

  /**
   * With every slot busy, a worker serving several queues pauses taking jobs (locally), so that the other queues'
   * jobs go to idle workers instead of waiting here; it resumes when a slot frees. One queue needs none of this
   * (Bull never holds more than WORKER_CONCURRENCY of its jobs). Changes are applied one at a time, in order:
   * Bull's local pause and resume must not overtake each other.
   */
  private updateIntake(): void {
    if (this.served.size < 2) return;
    this.intake = this.intake.then(async () => {
      if (this.stopping) return;
      const pause = this.slots.running >= this.config.workerConcurrency;
      const changing = [...this.served.values()].filter((q) => pause !== this.pausedQueues.has(q));
      if (changing.length === 0) return;
      for (const q of changing) {
        if (pause) this.pausedQueues.add(q);
        else this.pausedQueues.delete(q);
      }
      // doNotWaitActive: also aborts the idle fetches already waiting in Redis.
      await Promise.allSettled(changing.map((q) => bounded(pause ? q.pause(true, true) : q.resume(true))));
      this.logger.debug(pause ? `all ${this.config.workerConcurrency} slots busy: stopped taking jobs` : 'a slot is free: taking jobs again');
    });
  }

  private track(p: Promise<void>): Promise<void> {
    this.handling.add(p);
    return p.finally(() => this.handling.delete(p));
  }

  private async checkAllLost(): Promise<void> {
    for (const id of this.served.keys()) await this.checkLost(id);
  }

  /**
   * Ends as `worker lost` every `started` job of the queue that no live worker holds: not running here, its worker's
   * heartbeat key (runner/worker-heartbeat.ts) expired, and no longer active in Bull (its lock expired and Bull's
   * stalled check failed it). Runs when a queue is first served (startup), on Bull's stalled failures, and every
   * LOST_CHECK_MS.
   */
  async checkLost(queueId: number): Promise<void> {
    const queue = this.served.get(queueId);
    if (!queue || this.stopping) return;
    try {
      for (const { id, workerHost, mlflowRunId } of await this.runnerRepo.findStartedInQueue(queueId)) {
        if (this.runner.isRunning(id)) continue;
        // Its worker's heartbeat (runner/worker-heartbeat.ts) still lives: the job is not lost.
        if (workerHost && (await this.redis.client.exists(workerKey(this.redis.prefix, workerHost)))) continue;
        // A live worker holds its job active in Bull (lock renewed); a dead one's lock expired and Bull failed it.
        const held = await queue.getJob(id);
        if (held && (await held.isActive())) continue;
        const { ended } = await this.lifecycle.end(id, { status: 'failed', exitCode: null, failureReason: 'worker lost' }, ['started']);
        if (!ended) continue;
        this.logger.warn(`[job ${id}] its worker (${workerHost}) is gone: failed as worker lost`);
        if (mlflowRunId) await this.runner.closeRun(id, mlflowRunId, 'FAILED');
      }
    } catch (e) {
      this.logger.debug(`worker-lost check of queue ${queueId} skipped: ${errorMessage(e)}`);
    }
  }

  /**
   * Stop taking jobs, stop the running ones (SIGTERM to their groups), wait until their outcomes are recorded.
   * Before (not on) application shutdown: Postgres and Redis close in onApplicationShutdown, and the outcomes need them.
   */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    for (const t of this.timers) clearInterval(t);
    const queues = [...this.served.values()];
    await Promise.allSettled(queues.map((q) => bounded(q.pause(true, true))));
    this.runner.stopAll();
    // SIGKILL comes after the grace; then each run writes its last logs and outcome (once, no retry while stopping).
    await bounded(Promise.allSettled([...this.handling]), JobProcess.killGraceMs + 10_000);
    await Promise.allSettled(queues.map((q) => bounded(q.close())));
  }
}

function bounded<T>(p: Promise<T>, ms = SHUTDOWN_STEP_MS): Promise<T | undefined> {
  let timer: NodeJS.Timeout;
  return Promise.race([p, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)))]).finally(() => clearTimeout(timer));
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
