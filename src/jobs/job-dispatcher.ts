import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { RedisService } from '../redis/redis.service';
import { JobsRepository } from './jobs.repository';

/** The Bull queue that carries the jobs of one Alidade queue (by id, so renaming a queue strands nothing). */
export function queueBullName(queueId: number): string {
  return `queue-${queueId}`;
}

/** Bull job data: only our id; the row in Postgres is the truth. */
export interface DispatchData {
  jobId: string;
}

const REDIS_TIMEOUT_MS = 1500;
const SWEEP_INTERVAL_MS = 3000;
const SWEEP_BATCH = 200;

class TimeoutError extends Error {}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${what}: no answer from Redis within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Hands queued jobs to Bull. Postgres is the source of truth: enqueue never fails a submission, and a sweep re-adds
 * every `queued` job that Redis does not hold, so a job accepted while Redis was down runs once Redis is back.
 */
@Injectable()
export class JobDispatcher implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(JobDispatcher.name);
  private timer?: NodeJS.Timeout;
  private sweeping = false;
  /** Keyset cursor of the sweep: a large backlog is checked a batch per tick, round-robin. */
  private cursor = '0';

  constructor(
    private readonly redis: RedisService,
    private readonly jobs: JobsRepository,
  ) {}

  onModuleInit(): void {
    this.timer = setInterval(() => void this.sweep(), SWEEP_INTERVAL_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Adds the job to its queue's Bull queue (idempotent: Bull jobId = our id). Never throws. */
  async enqueue(job: { id: string; queueId: number }): Promise<void> {
    try {
      await withTimeout(this.add(job), REDIS_TIMEOUT_MS, `enqueue ${job.id}`);
    } catch (e) {
      // The sweep retries; a job accepted while Redis is down waits in Postgres.
      this.logger.warn(`job ${job.id} not handed to Redis yet (${(e as Error).message}); the dispatcher will retry`);
    }
  }

  private async add(job: { id: string; queueId: number }): Promise<void> {
    const data: DispatchData = { jobId: job.id };
    await this.redis.bullQueue(queueBullName(job.queueId)).add(data, { jobId: job.id, removeOnComplete: true, removeOnFail: true });
  }

  /** One pass of the safety net; public so tests and the worker can trigger it. */
  async sweep(): Promise<void> {
    if (this.sweeping) return;
    this.sweeping = true;
    try {
      await withTimeout(this.redis.ping(), REDIS_TIMEOUT_MS, 'ping');
      const batch = await this.jobs.findQueuedAfter(this.cursor, SWEEP_BATCH);
      this.cursor = batch.length < SWEEP_BATCH ? '0' : batch[batch.length - 1].seq;
      for (const job of batch) {
        const queue = this.redis.bullQueue(queueBullName(job.queueId));
        const held = await withTimeout(queue.getJob(job.id), REDIS_TIMEOUT_MS, `getJob ${job.id}`);
        if (held) {
          const state = await withTimeout(held.getState(), REDIS_TIMEOUT_MS, `getState ${job.id}`);
          if (state !== 'completed' && state !== 'failed') continue;
          // A leftover of an earlier attempt would block re-adding the same jobId.
          await withTimeout(held.remove(), REDIS_TIMEOUT_MS, `remove ${job.id}`);
        }
        this.logger.log(`re-dispatching queued job ${job.id}`);
        await withTimeout(this.add(job), REDIS_TIMEOUT_MS, `enqueue ${job.id}`);
      }
    } catch (e) {
      this.logger.debug(`dispatch sweep skipped: ${(e as Error).message}`);
    } finally {
      this.sweeping = false;
    }
  }
}
