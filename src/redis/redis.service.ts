import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import Bull from 'bull';
import Redis, { RedisOptions } from 'ioredis';
import { AppConfig } from '../config/config';

/**
 * Redis connections for the whole process: one command client and one subscriber shared by every Bull queue (Bull's
 * `createClient` hook), a blocking client per worker queue, and the pub/sub channel that carries cancels.
 */
@Injectable()
export class RedisService implements OnApplicationShutdown {
  private readonly logger = new Logger(RedisService.name);
  readonly client: Redis;
  private subscriber?: Redis;
  private readonly queues = new Map<string, Bull.Queue>();
  private readonly extra: Redis[] = [];

  constructor(private readonly config: AppConfig) {
    this.client = this.connect('client');
  }

  get prefix(): string {
    return this.config.redisPrefix;
  }

  private connect(purpose: 'client' | 'subscriber' | 'bclient'): Redis {
    // Bull requires these two options off for the subscriber and blocking clients.
    const opts: RedisOptions =
      purpose === 'client' ? { maxRetriesPerRequest: 2, enableOfflineQueue: true } : { maxRetriesPerRequest: null, enableReadyCheck: false };
    const redis = new Redis(this.config.redisUrl!, { ...opts, lazyConnect: false, retryStrategy: (n) => Math.min(n * 200, 2000) });
    redis.on('error', (e) => this.logger.debug(`redis ${purpose}: ${e.message}`));
    return redis;
  }

  private sharedSubscriber(): Redis {
    this.subscriber ??= this.connect('subscriber');
    return this.subscriber;
  }

  /** The Bull queue of one Alidade queue; shared per process. */
  bullQueue(name: string): Bull.Queue {
    let q = this.queues.get(name);
    if (!q) {
      q = new Bull(name, {
        prefix: this.config.redisPrefix,
        createClient: (type) => {
          if (type === 'client') return this.bullClient();
          if (type === 'subscriber') return this.sharedSubscriber();
          const b = this.connect('bclient');
          this.extra.push(b);
          return b;
        },
        settings: { stalledInterval: 5000, maxStalledCount: 0, lockDuration: 15000 },
      });
      this.queues.set(name, q);
    }
    return q;
  }

  private bullClientInstance?: Redis;
  private bullClient(): Redis {
    // Bull's command client must tolerate blocking-free retries forever (maxRetriesPerRequest: null).
    this.bullClientInstance ??= this.connect('bclient');
    return this.bullClientInstance;
  }

  /** A dedicated subscriber for one pub/sub channel. */
  subscribe(channel: string, onMessage: (message: string) => void): Redis {
    const sub = this.connect('subscriber');
    this.extra.push(sub);
    void sub.subscribe(this.channel(channel));
    sub.on('message', (_c, m) => onMessage(m));
    return sub;
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.client.publish(this.channel(channel), message);
  }

  private channel(name: string): string {
    return `${this.config.redisPrefix}:${name}`;
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
    for (const c of [this.client, this.subscriber, this.bullClientInstance, ...this.extra]) c?.disconnect();
  }
}
