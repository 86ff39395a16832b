// Owns jobs: rows, logs, submission rules, the lifecycle (every status change) and dispatch to Bull.
// Imported by the API (JobsApiModule, the Dioptra face) and by the worker, so it holds no HTTP-only providers.
// Must not import runner/ (the runner depends on jobs).
import { Module } from '@nestjs/common';
import { ExperimentsModule } from '../experiments/experiments.module';
import { QueuesModule } from '../queues/queues.module';
import { StorageModule } from '../storage/storage.module';
import { JobDispatcher } from './job-dispatcher';
import { JobLifecycleRepository } from './job-lifecycle.repository';
import { JobsRepository } from './jobs.repository';
import { JobsService } from './jobs.service';

@Module({
  imports: [ExperimentsModule, QueuesModule, StorageModule],
  providers: [JobsRepository, JobLifecycleRepository, JobDispatcher, JobsService],
  exports: [JobLifecycleRepository, JobDispatcher, JobsService],
})
export class JobsModule {}
