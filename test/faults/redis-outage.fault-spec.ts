// Drill 1: Redis stops for ~5 s while clients keep submitting. Postgres is the truth: a submission during the outage is
// still accepted (the row is written; the dispatcher's sweep hands it to Bull once Redis is back), and every accepted
// job runs exactly once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createDatabase } from '../utils/harness';
import {
  ApiProc,
  drain,
  drillEnv,
  duplicates,
  ensureBuilt,
  freePort,
  loginAdmin,
  markerLines,
  markerWorkflow,
  Proc,
  RedisServer,
  Reply,
  report,
  setupExperimentAndQueue,
  sleep,
  spawnApi,
  spawnWorker,
  stopAll,
  submitMarkerJob,
} from './fault-kit';

describe('fault drill: Redis stopped during submissions', () => {
  let tmp: string;
  let redis: RedisServer;
  let api: ApiProc;
  let worker: Proc;
  let db: Client;
  let token: string;
  const experiment = 'redis-drill';
  const queue = 'redis-drill';

  beforeAll(async () => {
    ensureBuilt();
    tmp = mkdtempSync(join(tmpdir(), 'alidade-fault-redis-'));
    redis = new RedisServer(await freePort());
    await redis.start();
    const databaseUrl = await createDatabase();
    const env = drillEnv(databaseUrl, redis.url, { JOB_WORKDIR: join(tmp, 'work'), WORKER_QUEUES: queue, WORKER_CONCURRENCY: '2' });
    api = await spawnApi(env);
    token = await loginAdmin(api.url);
    const queueId = await setupExperimentAndQueue(api.url, token, experiment, queue);
    worker = await spawnWorker(env, queueId);
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
  }, 120_000);

  afterAll(async () => {
    await stopAll([worker, api]);
    await redis?.stop();
    await db?.end().catch(() => undefined);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('accepts every submission during the outage and runs each accepted job exactly once', async () => {
    const marker = join(tmp, 'runs.txt');
    const archive = markerWorkflow();
    const replies: Array<Reply & { at: number; phase: string }> = [];
    let phase = 'before';
    let submitting = true;
    // Three clients submitting back to back; each request has a deadline.
    const clients = Array.from({ length: 3 }, async () => {
      for (let i = 0; submitting && i < 1000; i++) {
        const at = Date.now();
        const p = phase;
        const r = await submitMarkerJob(api.url, token, { experiment, queue, marker }, archive);
        replies.push({ ...r, at, phase: p });
        await sleep(50);
      }
    });

    await sleep(3000);
    phase = 'outage';
    const stoppedAt = Date.now();
    await redis.stop();
    await sleep(5000);
    await redis.start();
    const outageMs = Date.now() - stoppedAt;
    phase = 'after';
    await sleep(3000);
    submitting = false;
    await Promise.all(clients);

    const accepted = replies.filter((r) => r.status === 201).map((r) => r.body.job.id as string);
    const byPhase = (p: string) => replies.filter((r) => r.phase === p);
    const others = replies.filter((r) => r.status !== 201).map((r) => `${r.phase} ${r.status} ${r.error ?? JSON.stringify(r.body)}`);
    expect(others).toEqual([]);
    expect(byPhase('outage').length).toBeGreaterThan(0);

    const started = Date.now();
    const counts = await drain(db, accepted, 60_000);
    const drainMs = Date.now() - started;
    const runs = markerLines(marker);
    report('redis outage', {
      outageMs,
      submitted: replies.length,
      accepted: accepted.length,
      acceptedDuringOutage: byPhase('outage').filter((r) => r.status === 201).length,
      slowestDuringOutageMs: Math.max(...byPhase('outage').map((r) => r.ms)),
      counts,
      runs: runs.length,
      duplicates: duplicates(runs).length,
      drainMs,
    });
    expect(counts).toEqual({ finished: accepted.length });
    expect(duplicates(runs)).toEqual([]);
    expect(new Set(runs)).toEqual(new Set(accepted));
    // Every submission answered within its deadline; the dispatcher bounds its Redis wait during the outage.
    expect(Math.max(...replies.map((r) => r.ms))).toBeLessThan(10_000);
  }, 150_000);
});
