// The v1 list of live worker processes, read from the heartbeats workers write to Redis (worker-registry.ts names
// the keys; runner/worker-heartbeat.ts writes them). API only; imports nothing of ours but the global RedisModule.
import { Module } from '@nestjs/common';
import { WorkersController } from './workers.controller';
import { WorkersService } from './workers.service';

@Module({
  controllers: [WorkersController],
  providers: [WorkersService],
})
export class WorkersModule {}
