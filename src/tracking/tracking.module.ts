// Owns the MLflow tracking data: runs, params, tags, metric points and latest values, artifacts, experiment tags, job
// tokens. Imported by the API (the MLflow face, v1 reads, the auth guard for job tokens) and by the worker, so it holds
// no controllers (TrackingApiModule has them). Must not import auth/, jobs/ or runner/ (they depend on it).
import { Module } from '@nestjs/common';
import { ExperimentsModule } from '../experiments/experiments.module';
import { StorageModule } from '../storage/storage.module';
import { JobTokensService } from './job-tokens.service';
import { TrackingRepository } from './tracking.repository';
import { TrackingService } from './tracking.service';

@Module({
  imports: [ExperimentsModule, StorageModule],
  providers: [TrackingRepository, TrackingService, JobTokensService],
  exports: [TrackingService, TrackingRepository, JobTokensService],
})
export class TrackingModule {}
