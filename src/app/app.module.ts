import { DynamicModule, Module } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { AuthModule } from '../auth/auth.module';
import { ERROR_FACES } from '../common/errors/error-face';
import { HttpErrorFilter } from '../common/errors/http-error.filter';
import { RouteIndex } from '../common/errors/route-index';
import { AppValidationPipe } from '../common/validation';
import { AppConfig, Role } from '../config/config';
import { AppConfigModule } from '../config/app-config.module';
import { DatabaseModule } from '../database/database.module';
import { DIOPTRA_ERROR_FACE } from '../dioptra/dioptra-error-table';
import { DioptraModule } from '../dioptra/dioptra.module';
import { ExperimentsModule } from '../experiments/experiments.module';
import { QueuesModule } from '../queues/queues.module';
import { HealthModule } from '../health/health.module';
import { JobsApiModule } from '../jobs/jobs-api.module';
import { RedisModule } from '../redis/redis.module';
import { TaskPluginsApiModule } from '../task-plugins/task-plugins-api.module';
import { MLFLOW_ERROR_FACE } from '../tracking/mlflow-error-table';
import { TrackingApiModule } from '../tracking/tracking-api.module';
import { UsersModule } from '../users/users.module';
import { WorkersModule } from '../workers/workers.module';
import { WorkerModule } from './worker.module';

/** The HTTP API: both faces and health. Never runs jobs (ghostfolio #6914: a long job must not stall the API). */
@Module({
  imports: [UsersModule, AuthModule, HealthModule, ExperimentsModule, QueuesModule, TaskPluginsApiModule, JobsApiModule, DioptraModule, TrackingApiModule, WorkersModule],
  providers: [
    RouteIndex,
    // First match wins: a face with a prefix inside another's (MLflow's /api/2.0 inside Dioptra's /api) comes first.
    { provide: ERROR_FACES, useValue: [MLFLOW_ERROR_FACE, DIOPTRA_ERROR_FACE] },
    { provide: APP_FILTER, useClass: HttpErrorFilter },
    { provide: APP_PIPE, useValue: new AppValidationPipe() },
  ],
})
export class ApiModule {}

/** The root module of a process: config, Postgres and Redis for every role, then the API and/or the worker. */
@Module({})
export class AppModule {
  static forRole(role: Role, config: AppConfig): DynamicModule {
    const imports: DynamicModule['imports'] = [AppConfigModule.forRoot(config), DatabaseModule, RedisModule];
    if (role !== 'worker') imports.push(ApiModule);
    if (role !== 'api') imports.push(WorkerModule);
    return { module: AppModule, imports };
  }
}
