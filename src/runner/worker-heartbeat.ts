import { BeforeApplicationShutdown, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { AppConfig } from '../config/config';
import { RedisService } from '../redis/redis.service';
import { WORKER_BEAT_MS, WORKER_BEAT_TTL_MS, WorkerBeat, workerKey, workersSetKey } from '../workers/worker-registry';
import { JobRunner } from './job-runner.service';

/**
 * Announces this worker process in Redis every WORKER_BEAT_MS: its queues, concurrency and running jobs, under a key
 * that expires WORKER_BEAT_TTL_MS after the last beat (a killed worker drops out by itself). `GET /api/v1/workers`
 * lists the live keys, and the worker-lost check of every worker leaves the `started` jobs of a live one alone. A
 * worker that shuts down removes its key at once. Best effort: a beat Redis refuses is skipped.
 */
@Injectable()
export class WorkerHeartbeat implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(WorkerHeartbeat.name);
  private timer?: NodeJS.Timeout;
  private stopped = false;
  private failing = false;

  constructor(
    private readonly config: AppConfig,
    private readonly redis: RedisService,
    private readonly runner: JobRunner,
  ) {}

  onApplicationBootstrap(): void {
    void this.beat();
    this.timer = setInterval(() => void this.beat(), WORKER_BEAT_MS);
    this.timer.unref();
  }

  async beat(): Promise<void> {
    if (this.stopped) return;
    const host = this.runner.workerHost;
    try {
      const beat: WorkerBeat = {
        host,
        queues: this.config.workerQueues ?? null,
        concurrency: this.config.workerConcurrency,
        running: this.runner.runningJobIds(),
        lastSeen: new Date().toISOString(),
      };
      if (this.stopped) return;
      await this.redis.client.multi().set(workerKey(this.redis.prefix, host), JSON.stringify(beat), 'PX', WORKER_BEAT_TTL_MS).sadd(workersSetKey(this.redis.prefix), host).exec();
      this.failing = false;
    } catch (e) {
      // Once per outage, not every beat.
      if (!this.failing) this.logger.warn(`worker heartbeat not written (retrying every ${WORKER_BEAT_MS} ms): ${(e as Error).message}`);
      this.failing = true;
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    const host = this.runner.workerHost;
    await Promise.race([
      this.redis.client.multi().del(workerKey(this.redis.prefix, host)).srem(workersSetKey(this.redis.prefix), host).exec(),
      new Promise((resolve) => setTimeout(resolve, 2000).unref()),
    ]).catch(() => undefined);
  }
}
