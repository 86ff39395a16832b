import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type Redis from 'ioredis';
import { RedisService } from '../redis/redis.service';

/** How long a token check is reused: the bound on a revocation whose Redis message did not arrive. */
export const AUTH_CACHE_MS = 1000;
const MAX_ENTRIES = 10_000;
/** The pub/sub channel (under REDIS_PREFIX) on which every API process hears the others' evictions. */
export const AUTH_EVICT_CHANNEL = 'auth-evict';

type Eviction = { key: string } | { userId: number };

/**
 * A short-lived cache of token checks (the user and the session or access-token row behind a bearer token), so an
 * authenticated request does not cost a database round trip of its own (measured: half of a `GET /api/v1/jobs/{id}`'s
 * cost). A logout, token revocation, deactivation or password change evicts the entries at once in this process and,
 * through Redis pub/sub, in every other API process (milliseconds); should the message be lost (Redis down), an entry
 * lives AUTH_CACHE_MS at most, and a process whose subscription drops forgets everything it holds. Lives in users/
 * because users and auth both evict from it and auth already depends on users.
 */
@Injectable()
export class AuthCache implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(AuthCache.name);
  private readonly entries = new Map<string, { userId: number; credential?: string; value: unknown; expires: number }>();
  private subscriber?: Redis;

  constructor(private readonly redis: RedisService) {}

  onModuleInit(): void {
    this.subscriber = this.redis.subscribe(AUTH_EVICT_CHANNEL, (message) => this.onMessage(message));
    // Messages sent while disconnected are gone: what this process holds may have been revoked meanwhile.
    this.subscriber.on('close', () => this.entries.clear());
  }

  onModuleDestroy(): void {
    this.subscriber?.disconnect();
  }

  get<T>(key: string): T | undefined {
    const hit = this.entries.get(key);
    if (!hit) return undefined;
    if (hit.expires <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return hit.value as T;
  }

  /** `credential`: the credential key (`token:5`) this entry depends on besides its own key, evicted with it. */
  set(key: string, userId: number, value: unknown, credential?: string): void {
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    this.entries.set(key, { userId, credential, value, expires: Date.now() + AUTH_CACHE_MS });
  }

  /** Evicts one credential's entries (its own and those that depend on it) here and in every API process. */
  evict(key: string): Promise<void> {
    this.dropKey(key);
    return this.broadcast({ key });
  }

  private dropKey(key: string): void {
    this.entries.delete(key);
    for (const [k, entry] of this.entries) if (entry.credential === key) this.entries.delete(k);
  }

  /** Evicts every entry of the user here and in every API process. */
  evictUser(userId: number): Promise<void> {
    this.dropUser(userId);
    return this.broadcast({ userId });
  }

  private dropUser(userId: number): void {
    for (const [key, entry] of this.entries) if (entry.userId === userId) this.entries.delete(key);
  }

  /** Never throws: the revocation is in the database already; without Redis, the other processes' entries expire. */
  private async broadcast(eviction: Eviction): Promise<void> {
    try {
      await this.redis.publish(AUTH_EVICT_CHANNEL, JSON.stringify(eviction));
    } catch (e) {
      this.logger.warn(`eviction not announced to the other API processes (they forget it within ${AUTH_CACHE_MS} ms): ${String(e)}`);
    }
  }

  private onMessage(message: string): void {
    let eviction: Partial<{ key: unknown; userId: unknown }>;
    try {
      eviction = JSON.parse(message) as typeof eviction;
    } catch {
      return;
    }
    if (typeof eviction.key === 'string') this.dropKey(eviction.key);
    else if (typeof eviction.userId === 'number') this.dropUser(eviction.userId);
  }
}
