// The worker: pulls jobs from Bull and runs them. Imported only by WorkerModule; nothing imports runner/ otherwise.
import { Logger, Module } from '@nestjs/common';
import { AppConfig } from '../config/config';
import { JobsModule } from '../jobs/jobs.module';
import { QueuesModule } from '../queues/queues.module';
import { SandboxModule } from '../sandbox/sandbox.module';
import { StorageModule } from '../storage/storage.module';
import { TaskPluginsModule } from '../task-plugins/task-plugins.module';
import { JobTokensService } from '../tracking/job-tokens.service';
import { TrackingModule } from '../tracking/tracking.module';
import { TrackingService } from '../tracking/tracking.service';
import { ExternalRunTracker } from './external-run-tracker';
import { JobQueueProcessor } from './job-queue.processor';
import { JobRunner } from './job-runner.service';
import { LocalRunTracker } from './local-run-tracker';
import { RunTracker } from './run-tracker';
import { RunnerRepository } from './runner.repository';
import { WorkerHeartbeat } from './worker-heartbeat';

@Module({
  imports: [JobsModule, QueuesModule, SandboxModule, StorageModule, TaskPluginsModule, TrackingModule],
  providers: [
    JobRunner,
    JobQueueProcessor,
    RunnerRepository,
    WorkerHeartbeat,
    {
      provide: RunTracker,
      inject: [AppConfig, TrackingService, JobTokensService],
      // External MLflow mode when MLFLOW_TRACKING_URI is set for the worker; else Alidade's own (config guarantees PUBLIC_URL).
      useFactory: (config: AppConfig, tracking: TrackingService, tokens: JobTokensService): RunTracker => {
        const tracker = config.externalMlflow ? new ExternalRunTracker(config.externalMlflow) : new LocalRunTracker(config.publicUrl!, tracking, tokens);
        new Logger('RunTracker').log(`jobs' MLflow runs: ${tracker.description}`);
        return tracker;
      },
    },
  ],
})
export class RunnerModule {}
