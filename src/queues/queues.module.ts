// Owns queues: rows, names, locks. Must not import jobs/ (jobs depends on queues).
import { Module } from '@nestjs/common';
import { QueuesController } from './queues.controller';
import { QueuesRepository } from './queues.repository';
import { QueuesService } from './queues.service';

@Module({
  controllers: [QueuesController],
  providers: [QueuesRepository, QueuesService],
  exports: [QueuesService],
})
export class QueuesModule {}
