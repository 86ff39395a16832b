// Drill 5: 50 concurrent clients submitting for 30 s against one API (two workers running): no 5xx, every 201 is a
// job row (and no other rows appear), and after a bounded drain every accepted job finished and ran once.
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
  loginAdmin,
  markerLines,
  markerWorkflow,
  Proc,
  Reply,
  report,
  setupExperimentAndQueue,
  spawnApi,
  spawnWorker,
  stopAll,
  submitMarkerJob,
} from './fault-kit';

const CLIENTS = 50;
const SECONDS = 30;

describe(`fault drill: ${CLIENTS} concurrent clients for ${SECONDS} s`, () => {
  let tmp: string;
  let api: ApiProc;
  const workers: Proc[] = [];
  let db: Client;
  let token: string;
  const experiment = 'load-drill';
  const queue = 'load-drill';

  beforeAll(async () => {
    ensureBuilt();
    tmp = mkdtempSync(join(tmpdir(), 'alidade-fault-load-'));
    const databaseUrl = await createDatabase();
    const env = drillEnv(databaseUrl, process.env.ALIDADE_TEST_REDIS!, { JOB_WORKDIR: join(tmp, 'work'), WORKER_QUEUES: queue, WORKER_CONCURRENCY: '3' });
    api = await spawnApi(env);
    token = await loginAdmin(api.url);
    const queueId = await setupExperimentAndQueue(api.url, token, experiment, queue);
    workers.push(...(await Promise.all([spawnWorker(env, queueId), spawnWorker(env, queueId)])));
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
  }, 150_000);

  afterAll(async () => {
    await stopAll([...workers, api]);
    await db?.end().catch(() => undefined);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('answers every submission without a 5xx and runs every accepted job once', async () => {
    const marker = join(tmp, 'runs.txt');
    const archive = markerWorkflow();
    const replies: Reply[] = [];
    const started = Date.now();
    const until = started + SECONDS * 1000;
    await Promise.all(
      Array.from({ length: CLIENTS }, async () => {
        for (let i = 0; Date.now() < until && i < 10_000; i++) replies.push(await submitMarkerJob(api.url, token, { experiment, queue, marker }, archive, 30_000));
      }),
    );
    const submitMs = Date.now() - started;
    const accepted = replies.filter((r) => r.status === 201).map((r) => r.body.job.id as string);
    const byStatus = replies.reduce<Record<string, number>>((m, r) => ({ ...m, [r.status]: (m[r.status] ?? 0) + 1 }), {});
    const latencies = replies.map((r) => r.ms).sort((a, b) => a - b);
    const { rows } = await db.query(`SELECT count(*)::int AS n FROM job`);

    const drainStarted = Date.now();
    const counts = await drain(db, accepted, 180_000);
    const drainMs = Date.now() - drainStarted;
    const runs = markerLines(marker);
    report('50 clients', {
      submitMs,
      replies: replies.length,
      byStatus,
      perSecond: Math.round((replies.length / submitMs) * 1000),
      p50Ms: latencies[Math.floor(latencies.length / 2)],
      p99Ms: latencies[Math.floor(latencies.length * 0.99)],
      maxMs: latencies[latencies.length - 1],
      jobRows: rows[0].n,
      counts,
      runs: runs.length,
      duplicates: duplicates(runs).length,
      drainMs,
    });
    expect(replies.filter((r) => r.status === 0 || r.status >= 500).map((r) => `${r.status} ${r.error ?? JSON.stringify(r.body)}`)).toEqual([]);
    expect(byStatus).toEqual({ 201: replies.length });
    expect(rows[0].n).toBe(accepted.length);
    expect(counts).toEqual({ finished: accepted.length });
    expect(duplicates(runs)).toEqual([]);
    expect(new Set(runs)).toEqual(new Set(accepted));
  }, 300_000);
});
