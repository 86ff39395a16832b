// The worker: pulls jobs from Bull and runs them. Imported only by WorkerModule; nothing imports runner/ otherwise.
import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module';
import { QueuesModule } from '../queues/queues.module';
import { SandboxModule } from '../sandbox/sandbox.module';
import { StorageModule } from '../storage/storage.module';
import { TaskPluginsModule } from '../task-plugins/task-plugins.module';
import { JobQueueProcessor } from './job-queue.processor';
import { JobRunner } from './job-runner.service';
import { RunnerRepository } from './runner.repository';

@Module({
  imports: [JobsModule, QueuesModule, SandboxModule, StorageModule, TaskPluginsModule],
  providers: [JobRunner, JobQueueProcessor, RunnerRepository],
})
export class RunnerModule {}
