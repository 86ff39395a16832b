// The Dioptra 0.x face (reference/dioptra-v0-api.md): its controllers, DTOs, serializers and shared plumbing
// (dioptra-http.ts). It calls the same services as /api/v1; no rule lives here. Must not be imported by feature modules.
import { MiddlewareConsumer, Module, NestModule } from '@nestjs/common';
import { ExperimentsModule } from '../experiments/experiments.module';
import { JobsModule } from '../jobs/jobs.module';
import { QueuesModule } from '../queues/queues.module';
import { TaskPluginsModule } from '../task-plugins/task-plugins.module';
import { DioptraExperimentController } from './dioptra-experiment.controller';
import { dioptraTextBody } from './dioptra-http';
import { DioptraJobController } from './dioptra-job.controller';
import { DioptraQueueController } from './dioptra-queue.controller';
import { DioptraTaskPluginController } from './dioptra-task-plugin.controller';

/** Every Dioptra controller: the text-body fallback (JSON whatever the Content-Type) is applied to all of them. */
const DIOPTRA_CONTROLLERS = [DioptraExperimentController, DioptraQueueController, DioptraJobController, DioptraTaskPluginController];

@Module({
  imports: [ExperimentsModule, QueuesModule, JobsModule, TaskPluginsModule],
  controllers: DIOPTRA_CONTROLLERS,
})
export class DioptraModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(dioptraTextBody).forRoutes(...DIOPTRA_CONTROLLERS);
  }
}
