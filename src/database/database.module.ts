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
      useFactory: (config: AppConfig) => typeOrmOptions(config.databaseUrl!),
      dataSourceFactory: async (options) => {
        const ds = await new DataSource(options!).initialize();
        await migrateWithLock(ds);
        return ds;
      },
    }),
  ],
})
export class DatabaseModule {}
