import { Module } from '@nestjs/common';
import { RunnerModule } from '../runner/runner.module';

/** The worker role: pulls jobs from Bull and runs them. The only importer of runner/. No HTTP. */
@Module({ imports: [RunnerModule] })
export class WorkerModule {}
