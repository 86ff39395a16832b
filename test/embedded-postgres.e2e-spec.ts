// The server side of the sandbox boundary: DATA_DIR is 0700 and the embedded Postgres still starts when DATA_DIR is
// under a root-only folder (as root it runs as the postgres user), with a random password kept in DATA_DIR, a socket
// directory of its own and 127.0.0.1 only. A real `node dist/main.js` with no DATABASE_URL.
import { ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort } from '../src/common/net';
import { ROOT_CLUSTERS_DIR } from '../src/database/embedded-postgres';
import { waitFor } from './fixtures/runner-kit';

const isRoot = process.getuid?.() === 0;

/** Local addresses of the sockets listening on `port` (hex pairs from /proc/net/tcp*). */
function listeners(port: number): string[] {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  const out: string[] = [];
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(f)) continue;
    for (const line of readFileSync(f, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (local?.endsWith(hex) && state === '0A') out.push(local);
    }
  }
  return out;
}

(isRoot ? describe : describe.skip)('embedded Postgres and DATA_DIR (as root)', () => {
  let tmp: string;
  let child: ChildProcess;
  let output = '';
  let dataDir: string;

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'alidade-rootonly-')); // 0700 root: the postgres user cannot pass
    dataDir = join(tmp, 'lab', 'data');
  });

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    const cluster = join(ROOT_CLUSTERS_DIR, createHash('sha256').update(dataDir).digest('hex').slice(0, 16));
    rmSync(cluster, { recursive: true, force: true });
    rmSync(`${cluster}.sockets`, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  });

  it('starts under a root-only folder; DATA_DIR 0700, a random password in it (0600), its own 0700 socket directory, 127.0.0.1 only', async () => {
    const port = await freePort();
    child = spawn(process.execPath, [join(__dirname, '..', 'dist', 'main.js'), 'all'], {
      env: {
        PATH: process.env.PATH,
        NODE_ENV: 'test',
        DATA_DIR: dataDir,
        PORT: String(port),
        HOST: '127.0.0.1',
        REDIS_URL: process.env.ALIDADE_TEST_REDIS,
        REDIS_PREFIX: `alidade-t-${process.env.ALIDADE_TEST_RUN}-embedded`,
        ADMIN_PASSWORD: 'admin-password-1',
        JOB_WORKDIR: join(tmp, 'jobs'),
        WORKER_QUEUES: 'none-here',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await waitFor('the server to listen', async () => output.includes('listening on http') || child.exitCode !== null, 90_000, 200).catch(() => undefined);
    expect(output).not.toMatch(/Permission denied/);
    expect(output).toContain('listening on http');

    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    const passwordFile = join(dataDir, 'postgres-password');
    expect(statSync(passwordFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'jwt-secret')).mode & 0o777).toBe(0o600);
    const password = readFileSync(passwordFile, 'utf8').trim();
    expect(password).toMatch(/^[A-Za-z0-9_-]{24,}$/);

    const pgPort = Number(/embedded Postgres listening on 127\.0\.0\.1:(\d+)/.exec(output)![1]);
    expect(listeners(pgPort).length).toBeGreaterThan(0);
    expect(listeners(pgPort).every((a) => a === `0100007F:${pgPort.toString(16).toUpperCase().padStart(4, '0')}`)).toBe(true);
    const cluster = join(ROOT_CLUSTERS_DIR, createHash('sha256').update(dataDir).digest('hex').slice(0, 16));
    const sockets = `${cluster}.sockets`;
    expect(statSync(sockets).mode & 0o777).toBe(0o700);
    expect(existsSync(join(sockets, `.s.PGSQL.${pgPort}`))).toBe(true);

    const tryLogin = async (pw: string) => {
      const c = new Client({ host: '127.0.0.1', port: pgPort, user: 'postgres', password: pw, database: 'alidade' });
      try {
        await c.connect();
        await c.query('SELECT 1');
        return true;
      } catch {
        return false;
      } finally {
        await c.end().catch(() => undefined);
      }
    };
    expect(await tryLogin('postgres')).toBe(false);
    expect(await tryLogin(password)).toBe(true);
    const health = await fetch(`http://127.0.0.1:${port}/health/ready`);
    expect(health.status).toBe(200);
  }, 120_000);
});
