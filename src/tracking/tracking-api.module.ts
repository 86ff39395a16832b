// The HTTP side of tracking: the MLflow face (tracking API and artifact proxy) and the v1 reads of a job's run.
import { Module } from '@nestjs/common';
import { JobsModule } from '../jobs/jobs.module';
import { StorageModule } from '../storage/storage.module';
import { JobRunController } from './job-run.controller';
import { MlflowArtifactsController } from './mlflow-artifacts.controller';
import { MlflowController } from './mlflow.controller';
import { RunArtifactsService } from './run-artifacts.service';
import { TrackingModule } from './tracking.module';

@Module({
  imports: [TrackingModule, JobsModule, StorageModule],
  controllers: [MlflowController, MlflowArtifactsController, JobRunController],
  providers: [RunArtifactsService],
})
export class TrackingApiModule {}
