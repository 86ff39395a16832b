// GET /api/v1/workers against real worker processes (`node dist/main.js worker`): what each announces, the jobs it
// runs, and how it leaves the list (at once on shutdown, by key expiry when killed).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { fixtureTarGz, spawnWorker, submit, waitFor, WorkerProcess } from './fixtures/runner-kit';
import { ADMIN_PASSWORD, bearer, login, startApp, TestApp } from './utils/harness';

interface Worker {
  host: string;
  queues: string[] | null;
  concurrency: number;
  running: string[];
  lastSeen: string;
}

describe('GET /api/v1/workers', () => {
  let t: TestApp;
  let admin: string;
  let tmp: string;
  let redis: Redis;
  let all: WorkerProcess;
  let named: WorkerProcess;

  const list = async (): Promise<Worker[]> => {
    const res = await t.http().get('/api/v1/workers').set(bearer(admin));
    expect(res.status).toBe(200);
    return res.body.workers;
  };
  const hostOf = (w: WorkerProcess) => (h: Worker) => h.host.endsWith(`:${w.child.pid}`);

  beforeAll(async () => {
    if (!existsSync(join(__dirname, '..', 'dist', 'runner', 'worker-heartbeat.js'))) execFileSync('npx', ['nest', 'build'], { cwd: join(__dirname, '..'), stdio: 'ignore', timeout: 180_000 });
    tmp = mkdtempSync(join(tmpdir(), 'alidade-workers-list-'));
    t = await startApp({ role: 'api' });
    redis = new Redis(t.env.REDIS_URL);
    admin = await login(t, 'admin', ADMIN_PASSWORD);
    await t.http().post('/api/v1/experiments').set(bearer(admin)).send({ name: 'listed' }).expect(201);
    for (const name of ['cpu', 'gpu']) await t.http().post('/api/v1/queues').set(bearer(admin)).send({ name }).expect(201);
    const common = { ...t.env, JOB_WORKDIR: join(tmp, 'work'), JOB_SANDBOX: 'none' };
    all = spawnWorker({ ...common, WORKER_CONCURRENCY: '1' });
    named = spawnWorker({ ...common, WORKER_QUEUES: 'gpu,cpu', WORKER_CONCURRENCY: '2' });
  }, 240_000);

  afterAll(async () => {
    await Promise.all([all, named].map((w) => w?.stop()));
    redis?.disconnect();
    await t?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('lists every worker process with its queues (null = all), concurrency, running jobs and last beat', async () => {
    const workers = await waitFor('both workers to beat', async () => {
      const w = await list();
      return w.length === 2 ? w : null;
    });
    expect([...workers].sort((a, b) => a.host.localeCompare(b.host))).toEqual(workers);
    const a = workers.find(hostOf(all))!;
    const n = workers.find(hostOf(named))!;
    expect(a).toEqual({ host: expect.stringMatching(/^.+:\d+$/), queues: null, concurrency: 1, running: [], lastSeen: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/) });
    expect(n).toMatchObject({ queues: ['gpu', 'cpu'], concurrency: 2, running: [] });
    expect(Date.now() - Date.parse(a.lastSeen)).toBeLessThan(15_000);
    expect((await t.http().get('/api/v1/workers')).status).toBe(401);
  }, 60_000);

  it('shows a running job on the worker that runs it, and no longer once it has ended', async () => {
    const job = await submit(t, admin, { experimentName: 'listed', queue: 'gpu', entryPoint: 'sleep', parameters: { seconds: '30' } }, fixtureTarGz());
    const holder = await waitFor('the job to be listed as running', async () => (await list()).find((w) => w.running.includes(job.id)), 30_000, 250);
    const { body } = await t.http().get(`/api/v1/jobs/${job.id}`).set(bearer(admin));
    expect(body.job.status).toBe('started');
    expect(holder.host.endsWith(`:${all.child.pid}`) || holder.host.endsWith(`:${named.child.pid}`)).toBe(true);
    await t.http().post(`/api/v1/jobs/${job.id}/cancel`).set(bearer(admin)).expect(200);
    await waitFor('the job to leave the running list', async () => (await list()).every((w) => !w.running.includes(job.id)), 30_000, 250);
  }, 90_000);

  it('drops a worker at once when it shuts down, and by key expiry (≤ 30 s) when it is killed', async () => {
    await named.stop();
    const after = await list();
    expect(after.some(hostOf(named))).toBe(false);
    expect(after.some(hostOf(all))).toBe(true);
    const host = after.find(hostOf(all))!.host;
    all.child.kill('SIGKILL');
    await new Promise((r) => all.child.once('exit', r));
    // Still listed right after the kill (nothing told Redis), under a key that dies within 30 s of its last beat.
    expect((await list()).map((w) => w.host)).toEqual([host]);
    const ttl = await redis.pttl(`${t.env.REDIS_PREFIX}:worker-beat:${host}`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30_000);
    // The expiry, made to happen now, is what the list shows.
    await redis.pexpire(`${t.env.REDIS_PREFIX}:worker-beat:${host}`, 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(await list()).toEqual([]);
    expect(await redis.smembers(`${t.env.REDIS_PREFIX}:worker-beats`)).toEqual([]);
  }, 60_000);
});
