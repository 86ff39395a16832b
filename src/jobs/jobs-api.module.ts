// The v1 HTTP face of jobs. Kept apart from JobsModule so the worker imports jobs without any controller.
import { Module } from '@nestjs/common';
import { JobsController } from './jobs.controller';
import { JobsModule } from './jobs.module';
import { WorkflowUploadInterceptor } from './workflow-upload.interceptor';
import { WorkflowsController } from './workflows.controller';

@Module({
  imports: [JobsModule],
  controllers: [JobsController, WorkflowsController],
  providers: [WorkflowUploadInterceptor],
})
export class JobsApiModule {}
