import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { RedisService } from './redis.service';

/** Each process refreshes the claim this often; a claim nobody refreshes expires after CLAIM_TTL_S. */
const REFRESH_MS = 20_000;
const CLAIM_TTL_S = 60;

/**
 * Two deployments with different databases on one Redis and the same key prefix would take each other's jobs
 * (both default to `alidade`). Every process claims the key `<prefix>:database` for its database's identity (the
 * cluster's `system_identifier` and the database name) and keeps it alive; a process that finds another identity
 * there says so, loudly, at start and every refresh while it lasts. A deployment that is gone stops refreshing, so a
 * new database on the same prefix is accepted a minute after the old one stopped.
 */
@Injectable()
export class RedisIdentityCheck implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('RedisPrefix');
  private identity?: string;
  private timer?: NodeJS.Timeout;
  private warned?: string;

  constructor(
    private readonly redis: RedisService,
    @InjectDataSource() private readonly ds: DataSource,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.identity = await this.databaseIdentity();
    await this.check();
    this.timer = setInterval(() => void this.check(), REFRESH_MS);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private get key(): string {
    return `${this.redis.prefix}:database`;
  }

  /** One claim or refresh; never throws (Redis may be down: the Redis watch says so). */
  async check(): Promise<void> {
    if (!this.identity || !this.redis.ready) return;
    try {
      const set = await this.redis.client.set(this.key, this.identity, 'EX', CLAIM_TTL_S, 'NX');
      if (set === 'OK') return;
      const other = await this.redis.client.get(this.key);
      if (other === this.identity || other === null) {
        await this.redis.client.expire(this.key, CLAIM_TTL_S);
        this.warned = undefined;
        return;
      }
      if (this.warned === other) return this.repeat(other);
      this.warned = other;
      this.logger.error(this.message(other));
    } catch (e) {
      this.logger.debug(`prefix claim skipped: ${(e as Error).message}`);
    }
  }

  private repeatedAt = 0;

  private repeat(other: string): void {
    if (Date.now() - this.repeatedAt < 5 * 60_000) return;
    this.repeatedAt = Date.now();
    this.logger.error(this.message(other));
  }

  private message(other: string): string {
    return (
      `REDIS_PREFIX "${this.redis.prefix}" on ${this.redis.where} is in use by a deployment with another database (${other}); ` +
      `this process uses ${this.identity}. Both would take each other's jobs: give each deployment its own REDIS_PREFIX (or its own Redis).`
    );
  }

  /** `system_identifier/database` (the cluster's id is readable by superusers and pg_monitor); else host:port/database. */
  private async databaseIdentity(): Promise<string> {
    const [{ db }] = (await this.ds.query('SELECT current_database() AS db')) as Array<{ db: string }>;
    try {
      const [{ id }] = (await this.ds.query('SELECT system_identifier::text AS id FROM pg_control_system()')) as Array<{ id: string }>;
      return `${id}/${db}`;
    } catch {
      const [{ addr }] = (await this.ds.query(`SELECT coalesce(host(inet_server_addr()), 'socket') || ':' || current_setting('port') AS addr`)) as Array<{ addr: string }>;
      return `${addr}/${db}`;
    }
  }
}
