// Worker processes of their own (`node dist/main.js worker`) against an API-only app: exactly-once delivery across
// workers, and a worker killed mid-job.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { fixtureTarGz, getJob, sleep, spawnWorker, submit, waitFor, waitForJob, WorkerProcess } from './fixtures/runner-kit';
import { ADMIN_PASSWORD, bearer, login, startApp, TestApp } from './utils/harness';

const DIST_MAIN = join(__dirname, '..', 'dist', 'main.js');

describe('runner: separate worker processes', () => {
  let t: TestApp;
  let admin: string;
  let tmp: string;
  let pg: Client;
  let queueId: number;
  const workers: WorkerProcess[] = [];
  const extra: WorkerProcess[] = [];
  const orphans: number[] = [];

  beforeAll(async () => {
    // `npm test` builds first (pretest); a bare jest run builds here.
    if (!existsSync(join(__dirname, '..', 'dist', 'runner', 'runner.module.js'))) execFileSync('npx', ['nest', 'build'], { cwd: join(__dirname, '..'), stdio: 'ignore', timeout: 180_000 });
    tmp = mkdtempSync(join(tmpdir(), 'alidade-workers-'));
    t = await startApp({ role: 'api' });
    admin = await login(t, 'admin', ADMIN_PASSWORD);
    await t.http().post('/api/v1/experiments').set(bearer(admin)).send({ name: 'workers' }).expect(201);
    queueId = (await t.http().post('/api/v1/queues').set(bearer(admin)).send({ name: 'shared' }).expect(201)).body.queue.id;
    pg = new Client({ connectionString: t.databaseUrl });
    await pg.connect();
    for (let i = 0; i < 2; i++) workers.push(spawnWorker({ ...t.env, WORKER_QUEUES: 'shared', WORKER_CONCURRENCY: '2', JOB_WORKDIR: join(tmp, 'work'), JOB_SANDBOX: 'none' }));
    await waitFor('both workers to serve the queue', async () => workers.every((w) => w.output().includes(`serving queue ${queueId}`)), 30_000, 200);
  }, 240_000);

  afterAll(async () => {
    await Promise.all([...workers, ...extra].map((w) => w.stop()));
    // Safety net: job processes must not outlive the test, whatever happened to their workers.
    for (const pid of orphans) {
      for (const target of [-pid, pid]) {
        try {
          process.kill(target, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    await pg?.end();
    await t?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('runs each of 50 trivial jobs exactly once across two worker processes', async () => {
    expect(existsSync(DIST_MAIN)).toBe(true);
    const runs = join(tmp, 'runs.txt');
    const ids: string[] = [];
    const archive = fixtureTarGz();
    for (let i = 0; i < 50; i++) ids.push((await submit(t, admin, { experimentName: 'workers', queue: 'shared', entryPoint: 'marker', parameters: { file: runs } }, archive)).id);
    await waitFor(
      'all 50 jobs to finish',
      async () => {
        const { rows } = await pg.query(`SELECT count(*)::int AS n FROM job WHERE id = ANY($1::uuid[]) AND status = 'finished'`, [ids]);
        return rows[0].n === 50;
      },
      60_000,
      250,
    ).catch(async (e) => {
      const { rows } = await pg.query(`SELECT status, count(*)::int AS n FROM job WHERE id = ANY($1::uuid[]) GROUP BY status`, [ids]);
      throw new Error(`${(e as Error).message}: ${JSON.stringify(rows)}\n${workers.map((w) => w.output().slice(-3000)).join('\n-----\n')}`);
    });
    const ran = readFileSync(runs, 'utf8').split('\n').filter(Boolean);
    expect(ran).toHaveLength(50);
    expect(new Set(ran)).toEqual(new Set(ids));
    const { rows } = await pg.query(`SELECT DISTINCT worker_host FROM job WHERE id = ANY($1::uuid[])`, [ids]);
    const pids = workers.map((w) => w.child.pid);
    expect(rows.map((r) => Number(String(r.worker_host).split(':').pop())).sort()).toEqual([...pids].sort());
  }, 90_000);

  it('fails the job of a worker killed with SIGKILL as "worker lost"; the other worker goes on', async () => {
    const hb = join(tmp, 'heartbeat');
    const job = await submit(t, admin, { experimentName: 'workers', queue: 'shared', entryPoint: 'heartbeat', parameters: { file: hb } });
    await waitFor('the heartbeat file', async () => existsSync(`${hb}.pid`), 20_000);
    orphans.push(Number(readFileSync(`${hb}.pid`, 'utf8')));
    const { rows } = await pg.query(`SELECT worker_host FROM job WHERE id = $1`, [job.id]);
    const pid = Number(String(rows[0].worker_host).split(':').pop());
    const victim = workers.find((w) => w.child.pid === pid)!;
    expect(victim).toBeDefined();
    victim.child.kill('SIGKILL');
    // The job's watchdog sees the worker die and ends the job's process group: nothing runs on unrecorded.
    await waitFor('the orphaned job process to die', async () => !isAlive(orphans[orphans.length - 1]), 5000);
    // Bull's lock (15 s) expires, the other worker's stalled check (every 5 s) fails the Bull job, the worker ends the row.
    const done = await waitForJob(t, admin, job.id, ['failed', 'finished', 'canceled'], 60_000);
    expect(done).toMatchObject({ status: 'failed', exitCode: null, failureReason: 'worker lost' });
    // The worker that noticed closed the lost job's run FAILED, as MLflow readers see it.
    const run = await t.http().get(`/api/2.0/mlflow/runs/get?run_id=${done.mlflowRunId}`).set(bearer(admin)).expect(200);
    expect(run.body.run.info).toMatchObject({ run_id: done.mlflowRunId, status: 'FAILED' });
    const survivor = await submit(t, admin, { experimentName: 'workers', queue: 'shared', entryPoint: 'echo', parameters: { a: 'after' } });
    expect(await waitForJob(t, admin, survivor.id, undefined, 20_000)).toMatchObject({ status: 'finished' });
    expect((await getJob(t, admin, survivor.id)).failureReason).toBeNull();
  }, 120_000);

  it('on SIGTERM a worker stops its running job (failed, "worker shut down") and exits cleanly', async () => {
    const worker = workers.find((w) => w.child.exitCode === null && w.child.signalCode === null)!;
    const hb = join(tmp, 'heartbeat-shutdown');
    const job = await submit(t, admin, { experimentName: 'workers', queue: 'shared', entryPoint: 'heartbeat', parameters: { file: hb } });
    await waitFor('the heartbeat file', async () => existsSync(`${hb}.pid`), 20_000);
    const jobPid = Number(readFileSync(`${hb}.pid`, 'utf8'));
    orphans.push(jobPid);
    const exited = new Promise<number | null>((r) => worker.child.once('exit', (code) => r(code)));
    worker.child.kill('SIGTERM');
    expect(await exited).toBe(0);
    const ended = await getJob(t, admin, job.id);
    expect(ended).toMatchObject({ status: 'failed', exitCode: null, failureReason: 'worker shut down' });
    const run = await t.http().get(`/api/2.0/mlflow/runs/get?run_id=${ended.mlflowRunId}`).set(bearer(admin)).expect(200);
    expect(run.body.run.info.status).toBe('FAILED');
    await waitFor('the job process to die', async () => !isAlive(jobPid), 5000);
  }, 60_000);

  it("leaves another queue's jobs to an idle worker while all its slots are busy", async () => {
    const ids: Record<string, number> = {};
    for (const name of ['busy-x', 'free-y']) ids[name] = (await t.http().post('/api/v1/queues').set(bearer(admin)).send({ name }).expect(201)).body.queue.id;
    // Jobs here write marker files on the host for the test to watch: unconfined (test/sandbox.e2e-spec.ts confines them).
    const env = { ...t.env, WORKER_CONCURRENCY: '1', JOB_WORKDIR: join(tmp, 'work'), JOB_SANDBOX: 'none' };
    const busy = spawnWorker({ ...env, WORKER_QUEUES: 'busy-x,free-y' }, 'debug');
    extra.push(busy);
    await waitFor('the busy worker to serve both queues', async () => busy.output().includes(`serving queue ${ids['busy-x']}`) && busy.output().includes(`serving queue ${ids['free-y']}`), 30_000, 200);
    const hb = join(tmp, 'heartbeat-busy');
    const long = await submit(t, admin, { experimentName: 'workers', queue: 'busy-x', entryPoint: 'heartbeat', parameters: { file: hb } });
    await waitFor('the long job to run', async () => existsSync(`${hb}.pid`), 20_000);
    orphans.push(Number(readFileSync(`${hb}.pid`, 'utf8')));
    await waitFor('the busy worker to stop taking jobs', async () => busy.output().includes('slots busy: stopped taking jobs'), 10_000);
    const other = await submit(t, admin, { experimentName: 'workers', queue: 'free-y', entryPoint: 'echo', parameters: { a: 'y' } });
    await sleep(1500);
    expect((await getJob(t, admin, other.id)).status).toBe('queued');
    const idle = spawnWorker({ ...env, WORKER_QUEUES: 'free-y' });
    extra.push(idle);
    expect(await waitForJob(t, admin, other.id, undefined, 30_000)).toMatchObject({ status: 'finished' });
    const { rows } = await pg.query(`SELECT worker_host FROM job WHERE id = $1`, [other.id]);
    expect(Number(String(rows[0].worker_host).split(':').pop())).toBe(idle.child.pid);
    await t.http().post(`/api/v1/jobs/${long.id}/cancel`).set(bearer(admin)).expect(200);
    expect(await waitForJob(t, admin, long.id)).toMatchObject({ status: 'canceled' });
  }, 120_000);
});

function isAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
