// Owns task plugins: the tables, upload rules, the builtin collection and materializing plugins for jobs.
// Imported by the API (TaskPluginsApiModule, the Dioptra face) and by the worker, so it holds no HTTP-only providers.
// Must not import jobs/ or runner/.
import { Module } from '@nestjs/common';
import { TaskPluginsRepository } from './task-plugins.repository';
import { TaskPluginsService } from './task-plugins.service';

@Module({
  providers: [TaskPluginsRepository, TaskPluginsService],
  exports: [TaskPluginsService],
})
export class TaskPluginsModule {}
