import { Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import Bull from 'bull';
import Redis, { RedisOptions } from 'ioredis';
import { AppConfig } from '../config/config';

/** While Redis is unreachable, the warning is repeated this often. */
export const REDIS_DOWN_REPEAT_MS = 30_000;
const REDIS_WATCH_MS = 2_000;
/** How long shutdown waits for QUIT to be answered before dropping the connections. */
const QUIT_WAIT_MS = 1_000;

/**
 * Redis connections for the whole process: one command client and one subscriber shared by every Bull queue (Bull's
 * `createClient` hook), a blocking client per worker queue, and the pub/sub channel that carries cancels. Watches the
 * command client: Redis unreachable is a warning at once and every REDIS_DOWN_REPEAT_MS while it lasts, and a line
 * when it is back (jobs submitted meanwhile wait in Postgres; the dispatcher hands them over then).
 */
@Injectable()
export class RedisService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(RedisService.name);
  readonly client: Redis;
  private subscriber?: Redis;
  private readonly queues = new Map<string, Bull.Queue>();
  private readonly extra: Redis[] = [];

  constructor(private readonly config: AppConfig) {
    this.client = this.connect('client');
  }

  private downSince?: number;
  private downWarnedAt = 0;
  private lastError = '';
  private watch?: NodeJS.Timeout;

  onModuleInit(): void {
    this.client.on('error', (e: Error) => {
      this.lastError = e.message || (e as { code?: string }).code || e.name;
      this.noteDown();
    });
    this.client.on('ready', () => this.noteUp());
    this.watch = setInterval(() => (this.client.status === 'ready' ? this.noteUp() : this.noteDown()), REDIS_WATCH_MS);
    this.watch.unref();
  }

  /** True while the command client is connected and ready (readiness answers 503 otherwise, without waiting). */
  get ready(): boolean {
    return this.client.status === 'ready';
  }

  /** The configured Redis without its password, for log lines. */
  get where(): string {
    try {
      const u = new URL(this.config.redisUrl!);
      return `${u.hostname}:${u.port || 6379}`;
    } catch {
      return 'Redis';
    }
  }

  private noteDown(): void {
    if (this.closing) return;
    const now = Date.now();
    this.downSince ??= now;
    if (now - this.downWarnedAt < REDIS_DOWN_REPEAT_MS) return;
    this.downWarnedAt = now;
    const since = Math.round((now - this.downSince) / 1000);
    this.logger.warn(
      `Redis at ${this.where} is unreachable${since > 0 ? ` (for ${since} s)` : ''}${this.lastError ? `: ${this.lastError}` : ''}. ` +
        'Submissions are still accepted and kept in Postgres; they are dispatched when Redis is back. /health/ready answers 503 meanwhile.',
    );
  }

  private noteUp(): void {
    if (this.downSince === undefined) return;
    this.logger.log(`Redis at ${this.where} is reachable again (after ${Math.round((Date.now() - this.downSince) / 1000)} s)`);
    this.downSince = undefined;
    this.downWarnedAt = 0;
    this.lastError = '';
  }

  private closing = false;

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
    this.closing = true;
    if (this.watch) clearInterval(this.watch);
    await Promise.allSettled([...this.queues.values()].map((q) => q.close()));
    // QUIT lets the replies still due arrive (a command in flight resolves instead of rejecting); bounded, since a
    // connection that is down never answers it. Then the sockets go.
    const clients = [this.client, this.subscriber, this.bullClientInstance, ...this.extra].filter((c): c is Redis => !!c);
    let timer: NodeJS.Timeout | undefined;
    const quits = Promise.allSettled(clients.map((c) => (c.status === 'ready' ? c.quit() : Promise.resolve())));
    await Promise.race([quits, new Promise((r) => (timer = setTimeout(r, QUIT_WAIT_MS)))]).finally(() => clearTimeout(timer));
    for (const c of clients) c.disconnect();
  }
}
