// Drill 4: two API processes and two worker processes on one Postgres and one Redis. 500 jobs submitted by several
// clients across both APIs each run exactly once.
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

const JOBS = 500;
const CLIENTS = 8;

describe('fault drill: two APIs and two workers on one Postgres and Redis', () => {
  let tmp: string;
  const apis: ApiProc[] = [];
  const workers: Proc[] = [];
  let db: Client;
  let token: string;
  const experiment = 'multi-drill';
  const queue = 'multi-drill';

  beforeAll(async () => {
    ensureBuilt();
    tmp = mkdtempSync(join(tmpdir(), 'alidade-fault-multi-'));
    const databaseUrl = await createDatabase();
    const env = drillEnv(databaseUrl, process.env.ALIDADE_TEST_REDIS!, { JOB_WORKDIR: join(tmp, 'work'), WORKER_QUEUES: queue, WORKER_CONCURRENCY: '3' });
    // The first API migrates the fresh database; the second starts on a migrated one (both at once is the
    // migration lock's business, tested elsewhere).
    apis.push(await spawnApi(env));
    apis.push(await spawnApi(env));
    token = await loginAdmin(apis[0].url);
    const queueId = await setupExperimentAndQueue(apis[0].url, token, experiment, queue);
    workers.push(...(await Promise.all([spawnWorker(env, queueId), spawnWorker(env, queueId)])));
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
  }, 150_000);

  afterAll(async () => {
    await stopAll([...workers, ...apis]);
    await db?.end().catch(() => undefined);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it(`runs each of ${JOBS} jobs submitted across both APIs exactly once`, async () => {
    const marker = join(tmp, 'runs.txt');
    const archive = markerWorkflow();
    const replies: Reply[] = [];
    let next = 0;
    const started = Date.now();
    // Client c alternates between the APIs; together they submit JOBS jobs.
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, c) => {
        for (let n = next++; n < JOBS; n = next++) replies.push(await submitMarkerJob(apis[(n + c) % 2].url, token, { experiment, queue, marker }, archive));
      }),
    );
    const submitMs = Date.now() - started;
    const accepted = replies.filter((r) => r.status === 201).map((r) => r.body.job.id as string);
    expect(replies.filter((r) => r.status !== 201).map((r) => `${r.status} ${r.error ?? JSON.stringify(r.body)}`)).toEqual([]);
    expect(accepted).toHaveLength(JOBS);

    const counts = await drain(db, accepted, 180_000);
    const totalMs = Date.now() - started;
    const runs = markerLines(marker);
    const { rows } = await db.query(`SELECT worker_host, count(*)::int AS n FROM job WHERE id = ANY($1::uuid[]) GROUP BY worker_host`, [accepted]);
    report('two APIs + two workers', {
      accepted: accepted.length,
      submitMs,
      totalMs,
      counts,
      runs: runs.length,
      distinct: new Set(runs).size,
      duplicates: duplicates(runs).length,
      perWorker: Object.fromEntries(rows.map((r) => [r.worker_host, r.n])),
    });
    expect(counts).toEqual({ finished: JOBS });
    expect(duplicates(runs)).toEqual([]);
    expect(runs).toHaveLength(JOBS);
    expect(new Set(runs)).toEqual(new Set(accepted));
    // Both workers took part.
    expect(rows).toHaveLength(2);
  }, 300_000);
});
