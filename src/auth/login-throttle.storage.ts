import { Logger, OnApplicationShutdown } from '@nestjs/common';
import { ThrottlerStorageRedisService } from '@nest-lab/throttler-storage-redis';
import { ThrottlerStorageService } from '@nestjs/throttler';
import { isConnectionError } from '../common/errors/http-error.filter';
import { RedisService } from '../redis/redis.service';

/**
 * The login rate limit's counters, in Redis (one atomic script per attempt, @nest-lab's storage), so every API
 * process counts the same attempts: ten a minute per client address, however many processes serve the port. Keys
 * carry the process's REDIS_PREFIX (as Bull's do), on the shared command connection (RedisService closes it).
 * While Redis is unreachable, attempts are counted in this process instead, so logging in still works (jobs accepted
 * meanwhile are queued once Redis is back). Behind a reverse proxy the client address is X-Forwarded-For's, when
 * TRUST_PROXY says which proxies to believe.
 */
export class LoginThrottleStorage extends ThrottlerStorageRedisService implements OnApplicationShutdown {
  private readonly logger = new Logger('LoginThrottle');
  private readonly local = new ThrottlerStorageService();

  constructor(private readonly redisService: RedisService) {
    super(redisService.client);
  }

  override async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string) {
    try {
      return await super.increment(`${this.redisService.prefix}:login-throttle:${key}`, ttl, limit, blockDuration, throttlerName);
    } catch (e) {
      if (!isConnectionError(e)) throw e;
      this.logger.warn(`Redis unreachable (${(e as Error).message}): counting login attempts in this process`);
      return this.local.increment(key, ttl, limit, blockDuration, throttlerName);
    }
  }

  onApplicationShutdown(): void {
    this.local.onApplicationShutdown();
  }
}
