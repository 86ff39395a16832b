import { Logger } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** Arbitrary but fixed: every Alidade process takes this advisory lock before migrating. */
const MIGRATION_LOCK_KEY = 7_311_984_221;

/** Runs pending migrations while holding a Postgres advisory lock, so two processes starting together cannot race. */
export async function migrateWithLock(dataSource: DataSource): Promise<void> {
  const logger = new Logger('Migrations');
  const runner = dataSource.createQueryRunner();
  await runner.connect();
  try {
    await runner.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const applied = await dataSource.runMigrations({ transaction: 'each' });
    if (applied.length > 0) logger.log(`applied ${applied.length} migration(s): ${applied.map((m) => m.name).join(', ')}`);
  } finally {
    await runner.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    await runner.release();
  }
}
