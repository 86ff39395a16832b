// The v1 HTTP face of task plugins. Kept apart from TaskPluginsModule so the worker imports plugins without any controller.
import { Module } from '@nestjs/common';
import { TaskPluginsController } from './task-plugins.controller';
import { TaskPluginsModule } from './task-plugins.module';

@Module({
  imports: [TaskPluginsModule],
  controllers: [TaskPluginsController],
})
export class TaskPluginsApiModule {}
