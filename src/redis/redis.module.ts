// Owns the process's Redis connections (Bull queues, pub/sub, health ping). Imports nothing of ours but config.
import { Global, Module } from '@nestjs/common';
import { RedisService } from './redis.service';

@Global()
@Module({ providers: [RedisService], exports: [RedisService] })
export class RedisModule {}
