// What an operator does with real `node dist/main.js` processes: a first start (short log, the admin password in the
// banner), SIGTERM leaving nothing behind, reset-password with the server stopped (then a login with the printed
// password), ADMIN_PASSWORD ignored once users exist, a restart after kill -9 with the embedded Postgres left
// running, readiness 503 while Redis is unreachable, and two databases on one Redis key prefix.
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, redisAnswers } from '../src/common/net';
import { clusterDir } from '../src/database/embedded-postgres';
import { waitFor } from './fixtures/runner-kit';
import { makeTarGz } from './utils/archives';
import { createDatabase, testEnv } from './utils/harness';

const MAIN = join(__dirname, '..', 'dist', 'main.js');
const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');

interface Server {
  child: ChildProcess;
  port: number;
  output: () => string;
  exited: Promise<void>;
}

function start(env: Record<string, string>, port: number, role = 'all'): Server {
  const child = spawn(process.execPath, [MAIN, role], { env: { ...env, PORT: String(port), HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { child, port, output: () => plain(out), exited };
}

async function listening(s: Server): Promise<void> {
  await waitFor('the server to listen', async () => s.output().includes('listening on http') || s.child.exitCode !== null, 90_000, 200);
  if (!s.output().includes('listening on http')) throw new Error(`the server did not start:\n${s.output()}`);
}

async function stop(s: Server, signal: NodeJS.Signals = 'SIGTERM'): Promise<number> {
  const started = Date.now();
  if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill(signal);
  await s.exited;
  return Date.now() - started;
}

/** Live processes whose command line names `needle` (the cluster directory, the DATA_DIR). */
function processesOf(needle: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      if (/\) Z /.test(stat)) continue;
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(needle)) pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

async function login(port: number, password: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password }),
  });
  return res.status;
}

describe('operator: embedded Postgres start, stop, reset-password, restart after kill -9', () => {
  let tmp: string;
  let dataDir: string;
  let base: Record<string, string>;
  let server: Server | undefined;

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'alidade-operator-'));
    dataDir = join(tmp, 'data');
    base = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      NODE_ENV: 'test',
      DATA_DIR: dataDir,
      REDIS_URL: process.env.ALIDADE_TEST_REDIS!,
      REDIS_PREFIX: `alidade-t-${process.env.ALIDADE_TEST_RUN}-operator`,
      JOB_WORKDIR: join(tmp, 'jobs'),
      WORKER_QUEUES: 'none-here',
    };
  });

  afterAll(async () => {
    if (server) await stop(server, 'SIGKILL');
    for (const pid of processesOf(clusterDir(dataDir))) process.kill(pid, 'SIGKILL');
    rmSync(clusterDir(dataDir), { recursive: true, force: true });
    rmSync(`${clusterDir(dataDir)}.sockets`, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  });

  let firstPassword = '';
  let stoppedJob = '';

  it('first start at the default log level: a short banner with the URLs, database, Redis, role, sandbox and the admin password', async () => {
    server = start(base, await freePort());
    await listening(server);
    const out = server.output();
    const lines = out.trimEnd().split('\n');
    expect(lines.length).toBeLessThanOrEqual(24);
    for (const text of ['Swagger UI', 'embedded Postgres listening on 127.0.0.1:', `key prefix "${base.REDIS_PREFIX}"`, 'role all', 'Sandbox', 'queues: none-here']) {
      expect(out).toContain(text);
    }
    for (const noise of ['RouterExplorer', 'InstanceLoader', 'RoutesResolver', 'NestFactory']) expect(out).not.toContain(noise);
    expect(out).not.toMatch(/postgres:\/\/[^\s]*:[^\s*]+@/); // no database password
    const m = /\|\s+([A-Za-z0-9_-]{16})\s+\|/.exec(out);
    expect(m).not.toBeNull();
    firstPassword = m![1];
    expect(await login(server.port, firstPassword)).toBe(200);
  }, 120_000);

  it('SIGTERM stops the server, its running job and the Postgres it started within seconds, leaving no process behind', async () => {
    const cluster = clusterDir(dataDir);
    expect(processesOf(cluster).length).toBeGreaterThan(0);
    // A job that would run for two minutes, running when the signal comes.
    const api = `http://127.0.0.1:${server!.port}/api/v1`;
    const { token } = (await (
      await fetch(`${api}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: firstPassword }) })
    ).json()) as { token: string };
    const auth = { authorization: `Bearer ${token}` };
    const json = { ...auth, 'content-type': 'application/json' };
    expect((await fetch(`${api}/experiments`, { method: 'POST', headers: json, body: JSON.stringify({ name: 'ops' }) })).status).toBe(201);
    expect((await fetch(`${api}/queues`, { method: 'POST', headers: json, body: JSON.stringify({ name: 'none-here' }) })).status).toBe(201);
    const marker = `sleep ${100 + Math.floor(Math.random() * 800)}.5`;
    const form = new FormData();
    form.set('experimentName', 'ops');
    form.set('queue', 'none-here');
    form.set('entryPoint', 'main');
    form.set('workflow', new Blob([makeTarGz({ MLproject: `name: s\nentry_points:\n  main:\n    command: ${marker}\n` })]), 'workflow.tar.gz');
    const submitted = await fetch(`${api}/jobs`, { method: 'POST', headers: auth, body: form });
    expect(submitted.status).toBe(201);
    stoppedJob = ((await submitted.json()) as { job: { id: string } }).job.id;
    await waitFor('the job to run', async () => processesOf(marker).length > 0, 60_000, 200);

    const ms = await stop(server!);
    server = undefined;
    expect(ms).toBeLessThan(10_000);
    await waitFor('the cluster processes to end', async () => processesOf(cluster).length === 0, 5_000, 100).catch(() => undefined);
    expect(processesOf(cluster)).toEqual([]);
    expect(processesOf(marker)).toEqual([]);
    expect(existsSync(join(cluster, 'postmaster.pid'))).toBe(false);
  }, 90_000);

  let resetPassword = '';

  it('reset-password with the server stopped prints the new password alone on the last line; a login with it works', async () => {
    const unknown = spawnSync(process.execPath, [MAIN, 'reset-password', 'nobody'], { env: base, encoding: 'utf8', timeout: 60_000 });
    expect(unknown.status).toBe(1);
    expect(plain(unknown.stderr)).toContain('no user named "nobody"');

    const r = spawnSync(process.execPath, [MAIN, 'reset-password', 'admin'], { env: base, encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    const last = r.stdout.trimEnd().split('\n').pop()!;
    expect(last).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(processesOf(clusterDir(dataDir))).toEqual([]); // it stopped the Postgres it started

    const viaStdin = spawnSync(process.execPath, [MAIN, 'reset-password', 'admin', '--stdin'], { env: base, input: 'chosen-password-42\n', encoding: 'utf8', timeout: 60_000 });
    expect(viaStdin.status).toBe(0);
    expect(viaStdin.stdout.trimEnd().split('\n').pop()).toBe('chosen-password-42');
    resetPassword = 'chosen-password-42';

    // ADMIN_PASSWORD is ignored now that users exist, and the log says so.
    server = start({ ...base, ADMIN_PASSWORD: 'change-me-please' }, await freePort());
    await listening(server);
    expect(server.output()).toContain('ADMIN_PASSWORD is ignored');
    expect(await login(server.port, 'change-me-please')).toBe(401);
    expect(await login(server.port, firstPassword)).toBe(401);
    expect(await login(server.port, resetPassword)).toBe(200);

    // The job running at the SIGTERM was stopped and its outcome recorded before Postgres went.
    const { token } = (await (
      await fetch(`http://127.0.0.1:${server.port}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: resetPassword }) })
    ).json()) as { token: string };
    const res = await fetch(`http://127.0.0.1:${server.port}/api/v1/jobs/${stoppedJob}`, { headers: { authorization: `Bearer ${token}` } });
    expect(((await res.json()) as { job: { status: string } }).job.status).toBe('failed');
  }, 180_000);

  it('after kill -9 of the server the next start stops the Postgres left running and serves again', async () => {
    const cluster = clusterDir(dataDir);
    await stop(server!, 'SIGKILL');
    server = undefined;
    const orphans = processesOf(cluster);
    expect(orphans.length).toBeGreaterThan(0); // the embedded Postgres outlived its server

    server = start(base, await freePort());
    await listening(server);
    expect(server.output()).toContain('left running');
    expect(orphans.filter((pid) => existsSync(`/proc/${pid}`) && !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')))).toEqual([]);
    expect(await login(server.port, resetPassword)).toBe(200);
    await stop(server);
    server = undefined;
    await waitFor('the cluster processes to end', async () => processesOf(cluster).length === 0, 5_000, 100).catch(() => undefined);
    expect(processesOf(cluster)).toEqual([]);
  }, 180_000);
});

describe('operator: Redis', () => {
  const servers: Server[] = [];
  let redis: ChildProcess | undefined;
  let tmp: string;

  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'alidade-operator-redis-'));
  });

  afterAll(async () => {
    for (const s of servers) await stop(s, 'SIGKILL');
    redis?.kill('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  });

  async function redisServer(port: number): Promise<ChildProcess> {
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    await waitFor(`redis-server on ${port}`, () => redisAnswers('127.0.0.1', port), 10_000, 50);
    return child;
  }

  const ready = async (port: number) => (await fetch(`http://127.0.0.1:${port}/health/ready`)).status;

  it('readiness is 503 while Redis is unreachable, with a warning in the log, and 200 when it is back', async () => {
    const redisPort = await freePort();
    redis = await redisServer(redisPort);
    const env = testEnv(await createDatabase(), { REDIS_URL: `redis://127.0.0.1:${redisPort}`, LOG_LEVEL: 'log', DATA_DIR: join(tmp, 'a') });
    const api = start(env, await freePort(), 'api');
    servers.push(api);
    await listening(api);
    expect(await ready(api.port)).toBe(200);

    redis.kill('SIGKILL');
    await waitFor('readiness 503', async () => (await ready(api.port)) === 503, 10_000, 200);
    await waitFor('the warning', async () => api.output().includes('is unreachable'), 10_000, 200);
    const body = (await (await fetch(`http://127.0.0.1:${api.port}/health/ready`)).json()) as { error: Record<string, unknown> };
    expect(Object.keys(body.error)).toEqual(['redis']);

    redis = await redisServer(redisPort);
    await waitFor('readiness 200 again', async () => (await ready(api.port)) === 200, 15_000, 200);
    await waitFor('the all-clear', async () => api.output().includes('reachable again'), 10_000, 200);
  }, 120_000);

  it('starts with Redis unreachable: a warning at once and readiness 503 (liveness stays 200)', async () => {
    const closed = await freePort();
    const api = start(testEnv(await createDatabase(), { REDIS_URL: `redis://127.0.0.1:${closed}`, LOG_LEVEL: 'log', DATA_DIR: join(tmp, 'd') }), await freePort(), 'api');
    servers.push(api);
    await listening(api);
    expect(api.output()).toContain(`Redis at 127.0.0.1:${closed} is unreachable`);
    expect(await ready(api.port)).toBe(503);
    expect((await fetch(`http://127.0.0.1:${api.port}/health`)).status).toBe(200);
  }, 60_000);

  it('warns when another database uses the same Redis and key prefix', async () => {
    const prefix = `alidade-t-${process.env.ALIDADE_TEST_RUN}-shared-${Date.now()}`;
    const a = start(testEnv(await createDatabase(), { REDIS_PREFIX: prefix, LOG_LEVEL: 'log', DATA_DIR: join(tmp, 'b') }), await freePort(), 'api');
    servers.push(a);
    await listening(a);
    const b = start(testEnv(await createDatabase(), { REDIS_PREFIX: prefix, LOG_LEVEL: 'log', DATA_DIR: join(tmp, 'c') }), await freePort(), 'api');
    servers.push(b);
    await listening(b);
    await waitFor('the shared-prefix error', async () => b.output().includes('is in use by a deployment with another database'), 10_000, 200);
    expect(a.output()).not.toContain('is in use by a deployment with another database');
  }, 120_000);
});
