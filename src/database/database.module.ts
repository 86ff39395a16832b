import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AppConfig } from '../config/config';
import { migrateWithLock } from './migrate';
import { typeOrmOptions } from './typeorm-options';

/** The TypeORM connection; pending migrations run (under an advisory lock) before anything else starts. */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      inject: [AppConfig],
      // Five tries two seconds apart (Postgres still starting), each retry line naming the cause; then the start fails.
      useFactory: (config: AppConfig) => ({ ...typeOrmOptions(config.databaseUrl!), retryAttempts: 5, retryDelay: 2000, verboseRetryLog: true }),
      dataSourceFactory: async (options) => {
        const ds = await new DataSource(options!).initialize();
        await migrateWithLock(ds);
        return ds;
      },
    }),
  ],
})
export class DatabaseModule {}
