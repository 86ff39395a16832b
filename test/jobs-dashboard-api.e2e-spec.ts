// The v1 additions the dashboard needs (DASHBOARD.md §2.7), through HTTP as the dashboard calls them: log cursors,
// heartbeats and filters, job list filters, workflow inspection, metric lists and bucketed series, rerun.
// Role 'api' (no worker): jobs stay queued unless a test moves them with the lifecycle repository.
import { randomBytes, randomUUID } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { Client } from 'pg';
import { JobLifecycleRepository } from '../src/jobs/job-lifecycle.repository';
import { TrackingService } from '../src/tracking/tracking.service';
import { makeTarGz, makeZip } from './utils/archives';
import { ADMIN_PASSWORD, bearer, createUser, login, startApp, TestApp } from './utils/harness';
import { createExperimentAndQueue, dioptraShapedTarGz, WORKFLOW_FILES, workflowTarGz } from './utils/jobs-fixtures';

type Fields = Record<string, string>;
interface LogLine {
  id: number;
  stream: string;
  line: string;
}

/** Reads a streamed reply as text, chunk by chunk, with the time each chunk arrived. */
function streamed(req: import('supertest').Test, chunks: Array<{ at: number; text: string }>) {
  return req.buffer(true).parse((r, cb) => {
    let text = '';
    r.setEncoding('utf8');
    r.on('data', (c: string) => {
      text += c;
      chunks.push({ at: Date.now(), text: c });
    });
    r.on('end', () => cb(null, text));
  });
}

describe('v1 dashboard additions', () => {
  let t: TestApp;
  let pg: Client;
  let admin: string;
  let alice: string;
  let bob: string;
  let experimentId: number;
  let queueId: number;
  const lifecycle = () => t.app.get(JobLifecycleRepository);
  const base: Fields = { experimentName: 'mnist', queue: 'tensorflow_cpu', entryPoint: 'main' };

  function submit(token: string, fields: Fields, file: Buffer | null = workflowTarGz(), filename = 'workflows.tar.gz') {
    let req = t.http().post('/api/v1/jobs').set(bearer(token));
    for (const [k, v] of Object.entries(fields)) req = req.field(k, v);
    if (file) req = req.attach('workflow', file, filename);
    return req;
  }

  beforeAll(async () => {
    t = await startApp();
    pg = new Client({ connectionString: t.databaseUrl });
    await pg.connect();
    admin = await login(t, 'admin', ADMIN_PASSWORD);
    alice = (await createUser(t, admin, 'alice')).token;
    bob = (await createUser(t, admin, 'bob')).token;
    ({ experimentId, queueId } = await createExperimentAndQueue(t, admin, 'mnist', 'tensorflow_cpu', alice));
  });
  afterAll(async () => {
    await pg.end();
    await t.close();
  });

  describe('logs: afterId, q, stream, heartbeat', () => {
    let jobId: string;
    let ids: number[];
    beforeAll(async () => {
      jobId = (await submit(alice, base)).body.job.id;
      await lifecycle().claim(jobId, 'test-host', 'd'.repeat(32));
      const time = new Date('2026-01-02T03:04:05.678Z');
      await lifecycle().appendLogs(
        jobId,
        Array.from({ length: 20 }, (_, i) => ({ stream: i % 4 === 0 ? ('stderr' as const) : ('stdout' as const), line: i % 5 === 0 ? `Epoch ${i} 100%_done` : `line ${i}`, time })),
      );
      const all = await t.http().get(`/api/v1/jobs/${jobId}/logs`).set(bearer(bob)).expect(200);
      ids = all.body.logs.map((l: LogLine) => l.id);
      expect(ids).toHaveLength(20);
    });

    it('afterId pages only the lines after it; offset counts from the first line after it', async () => {
      const res = await t.http().get(`/api/v1/jobs/${jobId}/logs?afterId=${ids[9]}&limit=3&offset=2`).set(bearer(bob));
      expect(res.status).toBe(200);
      expect(res.body.pagination).toEqual({ offset: 2, limit: 3, startIndex: 2, endIndex: 5, total: 10 });
      expect(res.body.logs.map((l: LogLine) => l.id)).toEqual(ids.slice(12, 15));
      const tail = await t.http().get(`/api/v1/jobs/${jobId}/logs?afterId=${ids[9]}&offset=-2`).set(bearer(bob));
      expect(tail.body.logs.map((l: LogLine) => l.id)).toEqual(ids.slice(18));
      const desc = await t.http().get(`/api/v1/jobs/${jobId}/logs?afterId=${ids[17]}&orderBy=desc`).set(bearer(bob));
      expect(desc.body.logs.map((l: LogLine) => l.id)).toEqual([ids[19], ids[18]]);
      const zero = await t.http().get(`/api/v1/jobs/${jobId}/logs?afterId=0`).set(bearer(bob));
      expect(zero.body.pagination.total).toBe(20);
      const past = await t.http().get(`/api/v1/jobs/${jobId}/logs?afterId=9223372036854775807`).set(bearer(bob));
      expect(past.body).toEqual({ logs: [], pagination: { offset: 0, limit: 100, startIndex: 0, endIndex: 0, total: 0 } });
    });

    it.each([['-1'], ['1.5'], ['abc'], ['1e3'], ['9223372036854775808'], ['99999999999999999999999'], ['']])('afterId=%p is a 400 naming afterId', async (v) => {
      const res = await t.http().get(`/api/v1/jobs/${jobId}/logs?afterId=${encodeURIComponent(v)}`).set(bearer(bob));
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('VALIDATION_FAILED');
      expect(Object.keys(res.body.details.fields)).toEqual(['afterId']);
    });

    it('a repeated afterId, and afterId with a NUL byte, are 400s too', async () => {
      expect((await t.http().get(`/api/v1/jobs/${jobId}/logs?afterId=1&afterId=2`).set(bearer(bob))).status).toBe(400);
      expect((await t.http().get(`/api/v1/jobs/${jobId}/logs?afterId=1%00`).set(bearer(bob))).status).toBe(400);
    });

    it('q filters case-insensitively (wildcards match literally) and stream by stream; total counts the filtered lines', async () => {
      const q = await t.http().get(`/api/v1/jobs/${jobId}/logs?q=EPOCH`).set(bearer(bob));
      expect(q.status).toBe(200);
      expect(q.body.logs.map((l: LogLine) => l.line)).toEqual(['Epoch 0 100%_done', 'Epoch 5 100%_done', 'Epoch 10 100%_done', 'Epoch 15 100%_done']);
      expect(q.body.pagination.total).toBe(4);
      const literal = await t.http().get(`/api/v1/jobs/${jobId}/logs?q=${encodeURIComponent('0%_d')}`).set(bearer(bob));
      expect(literal.body.pagination.total).toBe(4);
      const wild = await t.http().get(`/api/v1/jobs/${jobId}/logs?q=${encodeURIComponent('e_1')}`).set(bearer(bob));
      expect(wild.body.pagination.total).toBe(0);
      const stderr = await t.http().get(`/api/v1/jobs/${jobId}/logs?stream=stderr`).set(bearer(bob));
      expect(stderr.body.logs.map((l: LogLine) => l.stream)).toEqual(Array(5).fill('stderr'));
      expect(stderr.body.logs.map((l: LogLine) => l.id)).toEqual([0, 4, 8, 12, 16].map((i) => ids[i]));
      const both = await t.http().get(`/api/v1/jobs/${jobId}/logs?stream=stderr&q=epoch`).set(bearer(bob));
      expect(both.body.logs.map((l: LogLine) => l.line)).toEqual(['Epoch 0 100%_done']);
      const after = await t.http().get(`/api/v1/jobs/${jobId}/logs?stream=stdout&q=epoch&afterId=${ids[5]}&limit=1`).set(bearer(bob));
      expect(after.body.logs.map((l: LogLine) => l.line)).toEqual(['Epoch 10 100%_done']);
      expect(after.body.pagination).toEqual({ offset: 0, limit: 1, startIndex: 0, endIndex: 1, total: 2 });
    });

    it('refuses a bad stream, an empty or huge q, and q/stream with follow=true (400 naming them)', async () => {
      const bad = await t.http().get(`/api/v1/jobs/${jobId}/logs?stream=stdin`).set(bearer(bob));
      expect(bad.status).toBe(400);
      expect(Object.keys(bad.body.details.fields)).toEqual(['stream']);
      expect((await t.http().get(`/api/v1/jobs/${jobId}/logs?q=`).set(bearer(bob))).status).toBe(400);
      expect((await t.http().get(`/api/v1/jobs/${jobId}/logs?q=${'x'.repeat(1025)}`).set(bearer(bob))).status).toBe(400);
      const follow = await t.http().get(`/api/v1/jobs/${jobId}/logs?follow=true&q=x&stream=stdout`).set(bearer(bob));
      expect(follow.status).toBe(400);
      expect(Object.keys(follow.body.details.fields).sort()).toEqual(['q', 'stream']);
      expect((await t.http().get(`/api/v1/jobs/${jobId}/logs?follow=true&heartbeat=maybe`).set(bearer(bob))).status).toBe(400);
    });

    it('follow=true&afterId=N streams only the lines after N, then the new ones, until the job ends', async () => {
      const other = (await submit(alice, base)).body.job.id;
      await lifecycle().claim(other, 'test-host', 'e'.repeat(32));
      await lifecycle().appendLogs(other, Array.from({ length: 5 }, (_, i) => ({ stream: 'stdout' as const, line: `old ${i}`, time: new Date() })));
      const old = (await t.http().get(`/api/v1/jobs/${other}/logs`).set(bearer(bob))).body.logs as LogLine[];
      const chunks: Array<{ at: number; text: string }> = [];
      const done = streamed(t.http().get(`/api/v1/jobs/${other}/logs?follow=true&afterId=${old[2].id}`).set(bearer(bob)), chunks).then((r) => r);
      await new Promise((r) => setTimeout(r, 500));
      await lifecycle().appendLogs(other, [{ stream: 'stderr', line: 'new line', time: new Date() }]);
      await lifecycle().end(other, { status: 'finished', exitCode: 0, failureReason: null });
      const res = await done;
      expect(res.status).toBe(200);
      const objects = (res.body as string).trim().split('\n').map((l) => JSON.parse(l) as LogLine);
      expect(objects.map((o) => o.line)).toEqual(['old 3', 'old 4', 'new line']);
    }, 20000);

    it('follow=true&heartbeat=true writes an empty line after 15 s of silence, and none without heartbeat', async () => {
      const quiet = (await submit(alice, base)).body.job.id;
      await lifecycle().claim(quiet, 'test-host', 'f'.repeat(32));
      const withBeat: Array<{ at: number; text: string }> = [];
      const without: Array<{ at: number; text: string }> = [];
      const start = Date.now();
      const a = streamed(t.http().get(`/api/v1/jobs/${quiet}/logs?follow=true&heartbeat=true`).set(bearer(bob)), withBeat).then((r) => r);
      const b = streamed(t.http().get(`/api/v1/jobs/${quiet}/logs?follow=true`).set(bearer(bob)), without).then((r) => r);
      await new Promise((r) => setTimeout(r, 16_500));
      await lifecycle().appendLogs(quiet, [{ stream: 'stdout', line: 'finally', time: new Date() }]);
      await lifecycle().end(quiet, { status: 'finished', exitCode: 0, failureReason: null });
      const [ra, rb] = await Promise.all([a, b]);
      const beats = withBeat.filter((c) => c.text === '\n');
      expect(beats).toHaveLength(1);
      expect(beats[0].at - start).toBeGreaterThanOrEqual(14_500);
      expect((ra.body as string).split('\n').filter(Boolean).map((l) => JSON.parse(l).line)).toEqual(['finally']);
      expect(rb.body as string).toMatch(/^\{.*"finally".*\}\n$/);
      expect(without.some((c) => c.text === '\n')).toBe(false);
    }, 40000);
  });

  describe('job list: modifiedSince, idPrefix', () => {
    const jobs: Array<{ id: string; lastModified: string }> = [];
    beforeAll(async () => {
      for (let i = 0; i < 3; i++) jobs.push((await submit(alice, base)).body.job);
      // Distinct, known modification times.
      for (const [i, j] of jobs.entries()) await pg.query(`UPDATE job SET last_modified = $2 WHERE id = $1`, [j.id, new Date(Date.UTC(2031, 0, 1 + i))]);
    });

    it('modifiedSince keeps only jobs modified later (strictly); offsets and dates are understood', async () => {
      const ids = async (q: string) => (await t.http().get(`/api/v1/jobs?${q}`).set(bearer(bob)).expect(200)).body.jobs.map((j: { id: string }) => j.id);
      expect(await ids('modifiedSince=2031-01-01T00:00:00.000Z')).toEqual([jobs[1].id, jobs[2].id]);
      expect(await ids('modifiedSince=2031-01-02')).toEqual([jobs[2].id]);
      expect(await ids(`modifiedSince=${encodeURIComponent('2031-01-02T03:00:00+02:00')}`)).toEqual([jobs[2].id]);
      expect(await ids('modifiedSince=2031-01-03T00:00:00Z')).toEqual([]);
      const res = await t.http().get('/api/v1/jobs?modifiedSince=2031-01-01T12:00:00Z&limit=1').set(bearer(bob));
      expect(res.body.pagination.total).toBe(2);
    });

    it.each([['yesterday'], ['2031-01-01T00:00:00'], ['2031-02-30'], ['2031-13-01'], ['0000-01-01'], ['99999-01-01'], ['2031-01-01T25:00Z']])(
      'modifiedSince=%p is a 400 naming modifiedSince',
      async (v) => {
        const res = await t.http().get(`/api/v1/jobs?modifiedSince=${encodeURIComponent(v)}`).set(bearer(bob));
        expect(res.status).toBe(400);
        expect(Object.keys(res.body.details.fields)).toEqual(['modifiedSince']);
      },
    );

    it('idPrefix finds jobs whose id starts with it, any case, dashes ignored; the experiment jobs list takes it too', async () => {
      const id = jobs[1].id;
      const find = async (q: string, path = '/api/v1/jobs') => (await t.http().get(`${path}?${q}`).set(bearer(bob)).expect(200)).body.jobs.map((j: { id: string }) => j.id);
      expect(await find(`idPrefix=${id.slice(0, 8)}`)).toContain(id);
      expect(await find(`idPrefix=${id.slice(0, 8)}`)).toEqual(expect.arrayContaining([id]));
      expect(await find(`idPrefix=${id.slice(0, 13).toUpperCase()}`)).toEqual([id]);
      expect(await find(`idPrefix=${id.replace(/-/g, '')}`)).toEqual([id]);
      expect(await find(`idPrefix=${id}`)).toEqual([id]);
      expect(await find(`idPrefix=${id}`, `/api/v1/experiments/${experimentId}/jobs`)).toEqual([id]);
      const all = (await t.http().get('/api/v1/jobs?limit=1000').set(bearer(bob))).body.jobs as Array<{ id: string }>;
      for (const digit of '0123456789abcdef') {
        expect(await find(`idPrefix=${digit}&limit=1000`)).toEqual(all.filter((j) => j.id.startsWith(digit)).map((j) => j.id));
      }
    });

    it.each([['xyz'], ['12g4'], ['-'], [''], ['0'.repeat(33)], [`${'0'.repeat(32)}-0`]])('idPrefix=%p is a 400 naming idPrefix', async (v) => {
      const res = await t.http().get(`/api/v1/jobs?idPrefix=${encodeURIComponent(v)}`).set(bearer(bob));
      expect(res.status).toBe(400);
      expect(Object.keys(res.body.details.fields)).toEqual(['idPrefix']);
    });
  });

  describe('POST /api/v1/workflows/inspect', () => {
    const inspect = (token: string, file: Buffer | null, filename = 'w.tar.gz', fields: Fields = {}) => {
      let req = t.http().post('/api/v1/workflows/inspect').set(bearer(token));
      for (const [k, v] of Object.entries(fields)) req = req.field(k, v);
      if (file) req = req.attach('workflow', file, filename);
      return req;
    };
    const rowCounts = async () => (await pg.query(`SELECT (SELECT count(*) FROM job)::int AS jobs, (SELECT count(*) FROM blob)::int AS blobs`)).rows[0];

    it('lists the entry points with typed parameters, defaults as MLflow renders them, and stores nothing', async () => {
      const before = await rowCounts();
      const res = await inspect(bob, workflowTarGz());
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        entryPoints: [
          { name: 'main', command: 'python main.py --var1 {var1}', parameters: [{ name: 'var1', type: 'string', default: 'hello', required: false }], error: null },
          {
            name: 'train',
            command: 'python train.py --epochs {epochs} --lr {lr}',
            parameters: [
              { name: 'epochs', type: 'int', default: null, required: true },
              { name: 'lr', type: 'float', default: '0.1', required: false },
            ],
            error: null,
          },
          { name: 'second', command: 'python main.py', parameters: [], error: null },
        ],
      });
      expect(await rowCounts()).toEqual(before);
      // A zip, and Dioptra's shapes: bool/str types, a float defaulting to false, YAML 1.1 numbers; one odd entry point.
      expect((await inspect(bob, makeZip(WORKFLOW_FILES), 'w.zip')).body.entryPoints.map((e: { name: string }) => e.name)).toEqual(['main', 'train', 'second']);
      const shaped = (await inspect(bob, dioptraShapedTarGz())).body.entryPoints as Array<{ name: string; parameters: Array<{ name: string; default: string | null }>; error: string | null }>;
      expect(shaped.map((e) => e.name)).toEqual(['train', 'fgm', 'odd']);
      const fgm = Object.fromEntries(shaped[1].parameters.map((p) => [p.name, p.default]));
      expect(fgm).toEqual({ run_id: null, model_name: 'toy_le_net', eps: '0.3', minimal: 'False', targeted: 'False', max_iter: '100' });
      expect(shaped[0].parameters.find((p) => p.name === 'learning_rate')!.default).toBe('1e-05');
      expect(shaped[2]).toMatchObject({ command: '', parameters: [], error: expect.stringMatching(/weights.*odd.*non-scalar default/) });
      const odd = await submit(alice, { ...base, entryPoint: 'odd' }, dioptraShapedTarGz());
      expect(odd.status).toBe(400);
      expect(odd.body.message).toBe(shaped[2].error);
    });

    it.each([
      ['a file that is not an archive', () => Buffer.from('just some text\n'.repeat(50))],
      ['an archive without MLproject', () => makeTarGz({ 'main.py': 'x' })],
      ['an archive with two MLprojects', () => makeTarGz({ MLproject: WORKFLOW_FILES.MLproject, 'b/MLproject': WORKFLOW_FILES.MLproject })],
      ['a member with ..', () => makeTarGz({ ...WORKFLOW_FILES, '../x': 'evil' })],
      ['a symlink out of the archive', () => makeTarGz({ ...WORKFLOW_FILES, etc: { type: 'symlink', target: '/etc' } })],
      ['a device member', () => makeTarGz({ ...WORKFLOW_FILES, dev: { type: 'fifo' } })],
      ['an MLproject that is not YAML', () => makeTarGz({ MLproject: 'name: [unclosed\n', 'main.py': '' })],
      ['an MLproject that is not a mapping', () => makeTarGz({ MLproject: '- a\n- b\n' })],
    ])('refuses %s with exactly the 400 a submission gets', async (_what, archive) => {
      const bytes = archive();
      const inspected = await inspect(bob, bytes);
      const submitted = await submit(alice, base, bytes);
      expect(inspected.status).toBe(400);
      expect(submitted.status).toBe(400);
      expect(inspected.body).toEqual(submitted.body);
    });

    it('refuses no file, an unknown field, a second file field, and an archive over MAX_WORKFLOW_BYTES as a submission does', async () => {
      const none = await inspect(bob, null);
      expect(none.status).toBe(400);
      expect(none.body).toEqual((await submit(alice, base, null)).body);
      const field = await inspect(bob, workflowTarGz(), 'w.tar.gz', { color: 'red' });
      expect(field.status).toBe(400);
      expect(field.body.details.fields).toHaveProperty('color');
      const other = await t.http().post('/api/v1/workflows/inspect').set(bearer(bob)).attach('archive', workflowTarGz(), 'w.tar.gz');
      expect(other.status).toBe(400);
      expect(other.body.message).toMatch(/unexpected file field 'archive'/);
      expect((await t.http().post('/api/v1/workflows/inspect').attach('workflow', workflowTarGz(), 'w.tar.gz')).status).toBe(401);
    });
  });

  describe('metrics list and bucketed series', () => {
    let jobId: string;
    let runId: string;
    let noRun: string;
    const logBatch = (metrics: Array<{ key: string; value: number | string; timestamp: number; step: number }>) =>
      t.http().post('/api/2.0/mlflow/runs/log-batch').set(bearer(alice)).send({ run_id: runId, metrics }).expect(200);

    beforeAll(async () => {
      const job = (await submit(alice, base)).body.job;
      jobId = job.id;
      runId = randomUUID().replace(/-/g, '');
      await lifecycle().claim(jobId, 'test-host', runId);
      const owner = (await pg.query(`SELECT owner_id FROM job WHERE id = $1`, [jobId])).rows[0].owner_id;
      await t.app.get(TrackingService).startJobRun({ runId, experimentId, ownerId: owner, runName: jobId, tags: { 'alidade.jobId': jobId } });
      await logBatch([
        ...Array.from({ length: 10 }, (_, i) => ({ key: 'acc', value: 0.5 + i / 20, timestamp: 1000 + i, step: i })),
        { key: 'train/loss', value: 2, timestamp: 2000, step: 0 },
        { key: 'train/loss', value: 'NaN', timestamp: 2001, step: 1 },
        { key: 'train/loss', value: 'Infinity', timestamp: 2002, step: 2 },
        { key: 'Zeta', value: '-Infinity', timestamp: 3000, step: 7 },
      ]);
      noRun = (await submit(alice, base)).body.job.id;
    });

    it('GET /jobs/{id}/metrics: every key with its latest point and point count, sorted by key', async () => {
      const res = await t.http().get(`/api/v1/jobs/${jobId}/metrics`).set(bearer(bob));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        metrics: [
          { key: 'Zeta', latest: { value: '-Infinity', step: 7, timestamp: 3000 }, count: 1 },
          { key: 'acc', latest: { value: 0.95, step: 9, timestamp: 1009 }, count: 10 },
          { key: 'train/loss', latest: { value: 'Infinity', step: 2, timestamp: 2002 }, count: 3 },
        ],
      });
    });

    it('404s as /run does: a job without a run, an unknown job', async () => {
      for (const path of [`/api/v1/jobs/${noRun}/metrics`, `/api/v1/jobs/${noRun}/series/acc`]) {
        const res = await t.http().get(path).set(bearer(bob));
        expect(res.status).toBe(404);
        expect(res.body).toEqual((await t.http().get(`/api/v1/jobs/${noRun}/run`).set(bearer(bob))).body);
      }
      // A run id whose run is not on this server (external MLflow mode): 404 as /run says.
      const external = (await submit(alice, base)).body.job.id;
      await lifecycle().claim(external, 'test-host', 'b'.repeat(32));
      for (const path of [`/api/v1/jobs/${external}/metrics`, `/api/v1/jobs/${external}/series/acc`]) {
        const res = await t.http().get(path).set(bearer(bob));
        expect(res.status).toBe(404);
        expect(res.body).toEqual((await t.http().get(`/api/v1/jobs/${external}/run`).set(bearer(bob))).body);
      }
      expect((await t.http().get(`/api/v1/jobs/${randomUUID()}/metrics`).set(bearer(bob))).body.code).toBe('JOB_NOT_FOUND');
      expect((await t.http().get(`/api/v1/jobs/${randomUUID()}/series/acc`).set(bearer(bob))).body.code).toBe('JOB_NOT_FOUND');
    });

    it('GET /jobs/{id}/series/{key}: columns in step order, NaN and Infinity as strings, a key with /, afterStep', async () => {
      const loss = await t.http().get(`/api/v1/jobs/${jobId}/series/train/loss`).set(bearer(bob));
      expect(loss.status).toBe(200);
      expect(loss.body).toEqual({ key: 'train/loss', steps: [0, 1, 2], values: [2, 'NaN', 'Infinity'], timestamps: [2000, 2001, 2002], total: 3, bucketed: false });
      const after = await t.http().get(`/api/v1/jobs/${jobId}/series/acc?afterStep=6`).set(bearer(bob));
      expect(after.body).toMatchObject({ key: 'acc', steps: [7, 8, 9], total: 3, bucketed: false });
      expect((await t.http().get(`/api/v1/jobs/${jobId}/series/acc?afterStep=-3`).set(bearer(bob))).body.total).toBe(10);
      expect((await t.http().get(`/api/v1/jobs/${jobId}/series/acc?afterStep=9`).set(bearer(bob))).body).toEqual({ key: 'acc', steps: [], values: [], timestamps: [], total: 0, bucketed: false });
      expect((await t.http().get(`/api/v1/jobs/${jobId}/series/nope`).set(bearer(bob))).body).toEqual({ key: 'nope', steps: [], values: [], timestamps: [], total: 0, bucketed: false });
      // The paged history of API.md is unchanged beside it.
      const paged = await t.http().get(`/api/v1/jobs/${jobId}/metrics/acc?limit=2`).set(bearer(bob));
      expect(paged.body.points).toEqual([{ step: 0, value: 0.5, timestamp: 1000 }, { step: 1, value: 0.55, timestamp: 1001 }]);
    });

    it('past maxPoints, min/max buckets: at most maxPoints points, in step order, every spike kept', async () => {
      // 5000 points of a smooth curve with two spikes and a NaN, written in SQL (the face's batches hold 1000).
      await pg.query(
        `INSERT INTO run_metric (run_id, key, value, timestamp, step)
         SELECT $1, 'wave', CASE s WHEN 1234 THEN 1e6 WHEN 3210 THEN -1e6 WHEN 4000 THEN 'NaN'::float8 ELSE sin(s / 100.0) END, 10000 + s, s
           FROM generate_series(0, 4999) s`,
        [runId],
      );
      const res = await t.http().get(`/api/v1/jobs/${jobId}/series/wave?maxPoints=50`).set(bearer(bob));
      expect(res.status).toBe(200);
      const { steps, values, timestamps, total, bucketed } = res.body as { steps: number[]; values: Array<number | string>; timestamps: number[]; total: number; bucketed: boolean };
      expect(total).toBe(5000);
      expect(bucketed).toBe(true);
      expect(steps.length).toBeLessThanOrEqual(50);
      expect(steps.length).toBeGreaterThanOrEqual(40);
      expect(values).toHaveLength(steps.length);
      expect(timestamps).toEqual(steps.map((s) => 10000 + s));
      expect([...steps].sort((a, b) => a - b)).toEqual(steps);
      expect(new Set(steps).size).toBe(steps.length);
      expect(values[steps.indexOf(1234)]).toBe(1e6);
      expect(values[steps.indexOf(3210)]).toBe(-1e6);
      // A NaN is not an extreme: its bucket still shows its real min and max.
      expect(values).not.toContain('NaN');
      const numbers = values.filter((v): v is number => typeof v === 'number');
      expect(Math.max(...numbers.filter((v) => v < 1e6))).toBeGreaterThan(0.99);
      expect(Math.min(...numbers.filter((v) => v > -1e6))).toBeLessThan(-0.99);
      // Not bucketed at or under maxPoints; afterStep is applied before bucketing.
      const full = await t.http().get(`/api/v1/jobs/${jobId}/series/wave?maxPoints=5000`).set(bearer(bob));
      expect(full.body).toMatchObject({ total: 5000, bucketed: false });
      expect(full.body.steps).toEqual(Array.from({ length: 5000 }, (_, i) => i));
      const tail = await t.http().get(`/api/v1/jobs/${jobId}/series/wave?maxPoints=100&afterStep=4949`).set(bearer(bob));
      expect(tail.body).toMatchObject({ total: 50, bucketed: false });
      expect(tail.body.steps[0]).toBe(4950);
      const defaults = await t.http().get(`/api/v1/jobs/${jobId}/series/wave`).set(bearer(bob));
      expect(defaults.body.bucketed).toBe(true);
      expect(defaults.body.steps.length).toBeLessThanOrEqual(2000);
    });

    it.each([['maxPoints=1'], ['maxPoints=0'], ['maxPoints=100001'], ['maxPoints=abc'], ['maxPoints=2.5'], ['afterStep=1.5'], ['afterStep=9223372036854775808'], ['afterStep=x']])(
      '%s is a 400 naming the parameter',
      async (q) => {
        const res = await t.http().get(`/api/v1/jobs/${jobId}/series/acc?${q}`).set(bearer(bob));
        expect(res.status).toBe(400);
        expect(Object.keys(res.body.details.fields)).toEqual([q.split('=')[0]]);
      },
    );
  });

  describe('POST /api/v1/jobs/{id}/rerun', () => {
    let original: { id: string; [k: string]: unknown };
    const bytes = makeTarGz({ ...WORKFLOW_FILES, 'extra.txt': 'rerun me\n' });
    const rerun = (token: string, id: string, body: Record<string, unknown> = {}) => t.http().post(`/api/v1/jobs/${id}/rerun`).set(bearer(token)).send(body);
    const spoolLeft = () => readdirSync(t.config.uploadTmpdir).filter((d) => d.startsWith('rerun-'));

    beforeAll(async () => {
      original = (await submit(alice, { ...base, entryPoint: 'train', entryPointKwargs: "-P epochs=3 -P 'note=two words'", timeout: '30m' }, bytes, 'my flow.tgz')).body.job;
      await lifecycle().claim(original.id, 'test-host', 'a'.repeat(32));
      await lifecycle().end(original.id, { status: 'failed', exitCode: 2, failureReason: 'exit code 2' });
    });

    it('submits the same archive, entry point, experiment, queue, parameters and timeout again as a new queued job', async () => {
      const res = await rerun(alice, original.id);
      expect(res.status).toBe(201);
      const job = res.body.job;
      expect(job.id).not.toBe(original.id);
      expect(job).toMatchObject({
        experimentId,
        queueId,
        username: 'alice',
        status: 'queued',
        entryPoint: 'train',
        entryPointKwargs: "-P epochs=3 -P 'note=two words'",
        parameters: { epochs: '3', note: 'two words' },
        timeout: '30m',
        dependsOn: null,
        mlflowRunId: null,
        exitCode: null,
        failureReason: null,
      });
      expect(job.workflowUri).toMatch(/^db:\/\/workflow\/[0-9a-f]{32}\/my_flow\.tgz$/);
      expect(job.workflowUri).not.toBe(original.workflowUri);
      const archive = await t.http().get(`/api/v1/jobs/${job.id}/workflow`).set(bearer(bob)).buffer(true).parse((r, cb) => {
        const parts: Buffer[] = [];
        r.on('data', (c: Buffer) => parts.push(c));
        r.on('end', () => cb(null, Buffer.concat(parts)));
      });
      expect(Buffer.compare(archive.body as Buffer, bytes)).toBe(0);
      expect((await t.http().get(`/api/v1/jobs/${job.id}`).set(bearer(bob))).body.job).toEqual(job);
      expect(spoolLeft()).toEqual([]);
    });

    it('takes another queue, parameters (replacing the original ones) and timeout; an admin may rerun anyone’s job', async () => {
      const other = (await t.http().post('/api/v1/queues').set(bearer(admin)).send({ name: 'rerun-q' }).expect(201)).body.queue;
      const res = await rerun(alice, original.id, { queueId: other.id, parameters: { epochs: 5, lr: 0.01, verbose: true }, timeout: '2h' });
      expect(res.status).toBe(201);
      expect(res.body.job).toMatchObject({ queueId: other.id, queueName: 'rerun-q', parameters: { epochs: '5', lr: '0.01', verbose: 'true' }, entryPointKwargs: '-P epochs=5 -P lr=0.01 -P verbose=true', timeout: '2h' });
      const byAdmin = await rerun(admin, original.id);
      expect(byAdmin.status).toBe(201);
      expect(byAdmin.body.job.username).toBe('admin');
    });

    it('applies the submission rules: owner or admin, checks on the parameters, the queue and the experiment', async () => {
      const denied = await rerun(bob, original.id);
      expect(denied.status).toBe(403);
      expect(denied.body.code).toBe('PERMISSION_DENIED');
      const missing = await rerun(alice, original.id, { parameters: { lr: '0.5' } });
      expect(missing.status).toBe(400);
      expect(missing.body).toMatchObject({ code: 'PARAMETER_INVALID', message: "missing required parameter 'epochs' for entry point 'train'" });
      const badInt = await rerun(alice, original.id, { parameters: { epochs: 1.5 } });
      expect(badInt.body).toMatchObject({ code: 'PARAMETER_INVALID', message: "parameter 'epochs' must be an int, got '1.5'" });
      expect((await rerun(alice, original.id, { parameters: { epochs: { deep: 1 } } })).body.code).toBe('JOB_SUBMISSION_INVALID');
      expect((await rerun(alice, original.id, { parameters: { 'bad name': 1 } })).body.code).toBe('JOB_SUBMISSION_INVALID');
      expect((await rerun(alice, original.id, { timeout: '12x' })).body).toMatchObject({ code: 'JOB_SUBMISSION_INVALID', message: expect.stringMatching(/timeout '12x'/) });
      expect((await rerun(alice, original.id, { queueId: 999999 })).body.code).toBe('QUEUE_NOT_FOUND');
      const locked = (await t.http().post('/api/v1/queues').set(bearer(admin)).send({ name: 'rerun-locked' }).expect(201)).body.queue;
      await t.http().put(`/api/v1/queues/${locked.id}/lock`).set(bearer(admin)).expect(200);
      expect((await rerun(alice, original.id, { queueId: locked.id })).body.code).toBe('QUEUE_LOCKED');
      expect(spoolLeft()).toEqual([]);
    });

    it('refuses bad bodies with 400 naming the field, and unknown or malformed job ids with 404', async () => {
      for (const [body, field] of [
        [{ queueId: 'one' }, 'queueId'],
        [{ queueId: 4294967296 }, 'queueId'],
        [{ queueId: 1.5 }, 'queueId'],
        [{ parameters: [1, 2] }, 'parameters'],
        [{ parameters: 'epochs=3' }, 'parameters'],
        [{ timeout: 30 }, 'timeout'],
        [{ entryPoint: 'main' }, 'entryPoint'],
      ] as const) {
        const res = await rerun(alice, original.id, body);
        expect(res.status).toBe(400);
        expect(res.body.code).toBe('VALIDATION_FAILED');
        expect(Object.keys(res.body.details.fields)).toEqual([field]);
      }
      expect((await rerun(alice, randomUUID())).body.code).toBe('JOB_NOT_FOUND');
      expect((await rerun(alice, 'not-a-job')).status).toBe(404);
      expect((await t.http().post(`/api/v1/jobs/${original.id}/rerun`).send({})).status).toBe(401);
    });

    it('an archived experiment accepts no rerun (400), as it accepts no submission', async () => {
      const exp = (await t.http().post('/api/v1/experiments').set(bearer(alice)).send({ name: 'to-archive' }).expect(201)).body.experiment;
      const job = (await submit(alice, { ...base, experimentName: 'to-archive' })).body.job;
      await t.http().post(`/api/v1/jobs/${job.id}/cancel`).set(bearer(alice)).expect(200);
      await t.http().post(`/api/v1/experiments/${exp.id}/archive`).set(bearer(alice)).expect(200);
      const res = await rerun(alice, job.id);
      expect(res.status).toBe(400);
      expect(res.body).toEqual((await submit(alice, { ...base, experimentName: 'to-archive' })).body);
    });
  });

  describe('experiments list: state, numTrials, progress, endTime from the jobs (the indexed stats)', () => {
    interface Exp {
      name: string;
      state: string;
      numTrials: number;
      progress: number;
      endTime: string | null;
    }
    const listed = async (q = '') => (await t.http().get(`/api/v1/experiments?name=stats-&limit=1000${q}`).set(bearer(bob)).expect(200)).body.experiments as Exp[];
    const byName = async () => Object.fromEntries((await listed()).map((e) => [e.name, e]));
    const make = async (name: string) => t.http().post('/api/v1/experiments').set(bearer(alice)).send({ name }).expect(201);
    const job = async (experimentName: string) => (await submit(alice, { ...base, experimentName })).body.job.id as string;
    const end = (id: string, status: 'finished' | 'failed' | 'canceled') => lifecycle().end(id, { status, exitCode: status === 'finished' ? 0 : null, failureReason: status === 'finished' ? null : 'x' }, ['queued', 'started']);

    it('derives each experiment’s fields as API.md §3 says, and the states filter and numTrials sort agree', async () => {
      for (const n of ['stats-none', 'stats-active', 'stats-error', 'stats-done', 'stats-canceled']) await make(n);
      const a1 = await job('stats-active');
      await end(a1, 'finished');
      await job('stats-active');
      await end(await job('stats-error'), 'finished');
      await end(await job('stats-error'), 'failed');
      await end(await job('stats-done'), 'failed');
      await end(await job('stats-done'), 'finished');
      await end(await job('stats-canceled'), 'canceled');
      const e = await byName();
      expect(e['stats-none']).toMatchObject({ state: 'STATE_COMPLETED', numTrials: 0, progress: 0, endTime: null });
      expect(e['stats-active']).toMatchObject({ state: 'STATE_ACTIVE', numTrials: 2, progress: 0.5, endTime: null });
      expect(e['stats-error']).toMatchObject({ state: 'STATE_ERROR', numTrials: 2, progress: 1 });
      expect(e['stats-done']).toMatchObject({ state: 'STATE_COMPLETED', numTrials: 2, progress: 1 });
      expect(e['stats-canceled']).toMatchObject({ state: 'STATE_CANCELED', numTrials: 1, progress: 1 });
      const { rows } = await pg.query(`SELECT e.name, max(j.ended_at) AS last FROM experiment e JOIN job j ON j.experiment_id = e.id WHERE e.name = 'stats-error' GROUP BY e.name`);
      expect(e['stats-error'].endTime).toBe(rows[0].last.toISOString());
      for (const state of ['STATE_ACTIVE', 'STATE_ERROR', 'STATE_COMPLETED', 'STATE_CANCELED']) {
        expect((await listed(`&states=${state}`)).map((x) => x.name).sort()).toEqual(Object.values(e).filter((x) => x.state === state).map((x) => x.name).sort());
      }
      const sorted = (await listed('&sortBy=numTrials&orderBy=desc')).map((x) => x.numTrials);
      expect(sorted).toEqual([...sorted].sort((x, y) => y - x));
      // The single-experiment read agrees with the list.
      const one = (await t.http().get(`/api/v1/experiments?name=stats-active`).set(bearer(bob))).body.experiments[0];
      expect((await t.http().get(`/api/v1/experiments/${one.id}`).set(bearer(bob))).body.experiment).toEqual(one);
    });
  });
});

describe('POST /api/v1/workflows/inspect over MAX_WORKFLOW_BYTES', () => {
  it('answers the 413 a submission gets, naming the limit', async () => {
    const t = await startApp({ env: { MAX_WORKFLOW_BYTES: '4096' } });
    try {
      const admin = await login(t, 'admin', ADMIN_PASSWORD);
      await createExperimentAndQueue(t, admin);
      const big = makeTarGz({ ...WORKFLOW_FILES, 'noise.bin': randomBytes(64 * 1024) });
      const inspected = await t.http().post('/api/v1/workflows/inspect').set(bearer(admin)).attach('workflow', big, 'w.tar.gz');
      expect(inspected.status).toBe(413);
      expect(inspected.body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: expect.stringMatching(/4096/) });
      const submitted = await t
        .http()
        .post('/api/v1/jobs')
        .set(bearer(admin))
        .field('experimentName', 'mnist')
        .field('queue', 'tensorflow_cpu')
        .field('entryPoint', 'main')
        .attach('workflow', big, 'w.tar.gz');
      expect(inspected.body).toEqual(submitted.body);
      expect((await t.http().post('/api/v1/workflows/inspect').set(bearer(admin)).attach('workflow', workflowTarGz(), 'w.tar.gz')).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});
