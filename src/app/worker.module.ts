import { Module } from '@nestjs/common';

/** The worker role: pulls jobs from Bull and runs them. The only importer of runner/. No HTTP. */
@Module({})
export class WorkerModule {}
