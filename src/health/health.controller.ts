import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckResult, HealthCheckService, HealthIndicatorService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { Public } from '../common/auth-user';
import { RedisService } from '../redis/redis.service';

@ApiTags('Health')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly db: TypeOrmHealthIndicator,
    private readonly indicator: HealthIndicatorService,
    private readonly redis: RedisService,
  ) {}

  /** Liveness: the process answers (Dioptra's body). */
  @Get()
  @Header('Content-Type', 'application/json')
  @ApiOkResponse({ schema: { type: 'string', example: 'healthy' } })
  live(): string {
    return JSON.stringify('healthy');
  }

  /** Readiness: Postgres and Redis both answer; 503 when either is down. */
  @Get('ready')
  @HealthCheck()
  @ApiServiceUnavailableResponse({ description: 'Postgres or Redis is down' })
  ready(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.db.pingCheck('database', { timeout: 2000 }),
      async () => {
        const check = this.indicator.check('redis');
        // Not connected: down at once (a ping would wait in ioredis's offline queue for the reconnect).
        if (!this.redis.ready) return check.down({ message: `not connected (${this.redis.client.status})` });
        try {
          await Promise.race([this.redis.ping(), new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 2000))]);
          return check.up();
        } catch (e) {
          return check.down({ message: e instanceof Error ? e.message : String(e) });
        }
      },
    ]);
  }
}
