// Owns the process's Redis connections (Bull queues, pub/sub, health ping) and the watch over them: Redis unreachable,
// a key prefix shared with another database. Imports nothing of ours but config (and the TypeORM connection).
import { Global, Module } from '@nestjs/common';
import { RedisIdentityCheck } from './redis-identity';
import { RedisService } from './redis.service';

@Global()
@Module({ providers: [RedisService, RedisIdentityCheck], exports: [RedisService] })
export class RedisModule {}
