// The MLflow face through supertest: MLflow's error shapes and statuses (never a 5xx), limits, job-token rules,
// the artifact proxy's path checks and streaming, and the v1 reads of a job's run.
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { JobTokensService } from '../src/tracking/job-tokens.service';
import { TrackingService } from '../src/tracking/tracking.service';
import { ADMIN_PASSWORD, bearer, createUser, login, startApp, TestApp } from './utils/harness';
import { createExperimentAndQueue, workflowTarGz } from './utils/jobs-fixtures';

jest.setTimeout(180_000);

describe('MLflow face', () => {
  let t: TestApp;
  let admin: string;
  let alice: { id: number; token: string };
  let bob: { id: number; token: string };
  let experimentId: number;
  let runId: string;

  const post = (path: string, body: unknown, token = alice.token) => t.http().post(`/api/2.0/mlflow/${path}`).set(bearer(token)).send(body as object);
  const get = (path: string, token = alice.token) => t.http().get(`/api/2.0/mlflow/${path}`).set(bearer(token));

  beforeAll(async () => {
    t = await startApp();
    admin = await login(t, 'admin', ADMIN_PASSWORD);
    alice = await createUser(t, admin, 'alice');
    bob = await createUser(t, admin, 'bob');
    const created = await post('experiments/create', { name: 'face-errors' });
    expect(created.status).toBe(200);
    experimentId = Number(created.body.experiment_id);
    const run = await post('runs/create', { experiment_id: String(experimentId), start_time: Date.now() });
    expect(run.status).toBe(200);
    runId = run.body.run.info.run_id;
  });
  afterAll(() => t.close());

  describe('errors are MLflow JSON with its statuses', () => {
    it('unknown run → 404 RESOURCE_DOES_NOT_EXIST', async () => {
      const res = await get('runs/get?run_id=0123456789abcdef0123456789abcdef&run_uuid=0123456789abcdef0123456789abcdef');
      expect(res.status).toBe(404);
      expect(res.body).toEqual({ error_code: 'RESOURCE_DOES_NOT_EXIST', message: 'Run with id=0123456789abcdef0123456789abcdef not found' });
    });

    it('duplicate experiment → 400 RESOURCE_ALREADY_EXISTS; unknown name → 404; missing name → 400', async () => {
      const dup = await post('experiments/create', { name: 'face-errors' });
      expect(dup.status).toBe(400);
      expect(dup.body).toEqual({ error_code: 'RESOURCE_ALREADY_EXISTS', message: 'Experiment(name=face-errors) already exists.' });
      const unknown = await get('experiments/get-by-name?experiment_name=nope');
      expect(unknown.status).toBe(404);
      expect(unknown.body).toEqual({ error_code: 'RESOURCE_DOES_NOT_EXIST', message: "Could not find experiment with name 'nope'" });
      const missing = await post('experiments/create', {});
      expect(missing.status).toBe(400);
      expect(missing.body.message).toBe("Missing value for required parameter 'name'. See the API docs for more information about request parameters.");
      const bad = await get('experiments/get?experiment_id=abc');
      expect(bad.status).toBe(400);
      expect(bad.body).toEqual({ error_code: 'INVALID_PARAMETER_VALUE', message: "Invalid experiment ID 'abc'. Experiment ID must be a valid integer." });
    });

    it('changing a param → 400 with MLflow text; the same value again is fine', async () => {
      expect((await post('runs/log-parameter', { run_id: runId, run_uuid: runId, key: 'lr', value: '0.1' })).status).toBe(200);
      expect((await post('runs/log-parameter', { run_id: runId, key: 'lr', value: '0.1' })).status).toBe(200);
      const res = await post('runs/log-parameter', { run_id: runId, key: 'lr', value: '0.2' });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        error_code: 'INVALID_PARAMETER_VALUE',
        message: `Changing param values is not allowed. Param with key='lr' was already logged with value='0.1' for run ID='${runId}'. Attempted logging new value '0.2'.`,
      });
    });

    it('bad filters → 400 INVALID_PARAMETER_VALUE', async () => {
      for (const filter of ["params.x = '1' OR params.x = '2'", 'params.x = 1', "metrics.acc > '1'", "foo.x = '1'", "attributes.nope = 'x'", "params.x = 'unclosed"]) {
        const res = await post('runs/search', { experiment_ids: [String(experimentId)], filter });
        expect({ filter, status: res.status, code: res.body.error_code }).toEqual({ filter, status: 400, code: 'INVALID_PARAMETER_VALUE' });
      }
      const or = await post('runs/search', { experiment_ids: [String(experimentId)], filter: "params.x = '1' OR params.x = '2'" });
      expect(or.body.message).toBe("Invalid clause(s) in filter string: 'OR'");
      const big = await post('runs/search', { experiment_ids: [String(experimentId)], max_results: 50001 });
      expect(big.status).toBe(400);
    });

    it('over-limit batches → 400 with the limit in words, nothing stored', async () => {
      const metrics = Array.from({ length: 1001 }, (_, i) => ({ key: 'm', value: i, timestamp: 1, step: i }));
      const res = await post('runs/log-batch', { run_id: runId, metrics });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        error_code: 'INVALID_PARAMETER_VALUE',
        message: 'A batch logging request can contain at most 1000 metrics. Got 1001 metrics. Please split up metrics across multiple requests and try again.',
      });
      const params = Array.from({ length: 101 }, (_, i) => ({ key: `p${i}`, value: 'v' }));
      expect((await post('runs/log-batch', { run_id: runId, params })).status).toBe(400);
      const dupes = await post('runs/log-batch', { run_id: runId, params: [{ key: 'a', value: '1' }, { key: 'a', value: '2' }] });
      expect(dupes.body.message).toBe("Duplicate parameter keys have been submitted: ['a']. Please ensure the request contains only one param value per param key.");
      const history = await get(`metrics/get-history?run_id=${runId}&metric_key=m`);
      expect(history.body).toEqual({});
    });

    it('bad keys, missing fields, malformed JSON, unknown routes, no token: 4xx, never 5xx', async () => {
      const cases: Array<[string, unknown, number, string]> = [
        ['runs/log-metric', { run_id: runId, key: '../x', value: 1, timestamp: 1 }, 400, 'INVALID_PARAMETER_VALUE'],
        ['runs/log-metric', { run_id: runId, key: 'a\u0001', value: 1, timestamp: 1 }, 400, 'INVALID_PARAMETER_VALUE'],
        ['runs/log-metric', { run_id: runId, key: 'a', value: 'abc', timestamp: 1 }, 400, 'INVALID_PARAMETER_VALUE'],
        ['runs/log-metric', { run_id: runId, key: 'a', value: 1 }, 400, 'INVALID_PARAMETER_VALUE'],
        ['runs/log-metric', { key: 'a', value: 1, timestamp: 1 }, 400, 'INVALID_PARAMETER_VALUE'],
        ['runs/set-tag', { run_id: runId, key: 'k'.repeat(251), value: 'v' }, 400, 'INVALID_PARAMETER_VALUE'],
        ['runs/set-tag', { run_id: runId, key: 'k', value: 'v\u0000' }, 400, 'INVALID_PARAMETER_VALUE'],
        ['runs/update', { run_id: runId, status: 'BOGUS' }, 400, 'INVALID_PARAMETER_VALUE'],
        ['runs/delete-tag', { run_id: runId, key: 'never-set' }, 404, 'RESOURCE_DOES_NOT_EXIST'],
        ['runs/log-batch', { run_id: runId, metrics: { key: 'a' } }, 400, 'INVALID_PARAMETER_VALUE'],
        ['runs/create', { experiment_id: '999999' }, 404, 'RESOURCE_DOES_NOT_EXIST'],
        ['runs/search', { experiment_ids: [String(experimentId)], page_token: '%%%' }, 400, 'INVALID_PARAMETER_VALUE'],
        ['runs/log-metric', { run_id: runId, key: 'a', value: 1, timestamp: 1, step: 1e30 }, 400, 'INVALID_PARAMETER_VALUE'],
        ['runs/log-metric', { run_id: runId, key: 'a', value: 1, timestamp: 1, step: 'x' }, 400, 'INVALID_PARAMETER_VALUE'],
        ['runs/search', { experiment_ids: [String(experimentId)], filter: "params.a = 'x\u0000'" }, 400, 'INVALID_PARAMETER_VALUE'],
        ['runs/search', { experiment_ids: [String(experimentId)], order_by: ['params.`a\u0000`'] }, 400, 'INVALID_PARAMETER_VALUE'],
        ['runs/search', { experiment_ids: ['99999999999'] }, 400, 'INVALID_PARAMETER_VALUE'],
        ['runs/update', { run_id: 'x'.repeat(300), status: 'FINISHED' }, 404, 'RESOURCE_DOES_NOT_EXIST'],
        ['experiments/create', { name: 'x'.repeat(501) }, 400, 'INVALID_PARAMETER_VALUE'],
        ['experiments/create', { name: 'a/b' }, 400, 'INVALID_PARAMETER_VALUE'],
        ['experiments/create', { name: 'a\u0000' }, 400, 'INVALID_PARAMETER_VALUE'],
        ['no/such/route', {}, 404, 'ENDPOINT_NOT_FOUND'],
      ];
      for (const [path, body, status, code] of cases) {
        const res = await post(path, body);
        expect({ path, body, status: res.status, code: res.body.error_code }).toEqual({ path, body, status, code });
      }
      const malformed = await t.http().post('/api/2.0/mlflow/runs/log-metric').set(bearer(alice.token)).set('Content-Type', 'application/json').send('{"run_id": ');
      expect(malformed.status).toBe(400);
      expect(malformed.body.error_code).toBe('INVALID_PARAMETER_VALUE');
      for (const q of ['run_id=%00', `run_id=${runId}%00`, 'run_id=a%FFb']) {
        const res = await get(`runs/get?${q}`);
        expect({ q, status: res.status < 500, code: typeof res.body.error_code }).toEqual({ q, status: true, code: 'string' });
      }
      const history = await get(`metrics/get-history?run_id=${runId}&metric_key=%00`);
      expect(history.status).toBe(400);
      const huge = await t.http().post('/api/2.0/mlflow/runs/log-batch').set(bearer(alice.token)).set('Content-Type', 'application/json').send(`{"run_id": "${runId}", "x": "${'a'.repeat(5 * 1024 * 1024)}"}`);
      expect(huge.status).toBe(413);
      expect(huge.body.error_code).toBe('INVALID_PARAMETER_VALUE');
      expect(huge.body.message).toContain(String(4 * 1024 * 1024));
      const basic = (user: string, pass: string) => ({ Authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}` });
      expect((await t.http().get(`/api/2.0/mlflow/runs/get?run_id=${runId}`).set(basic('alice', 'alice-password'))).status).toBe(200);
      const wrong = await t.http().get(`/api/2.0/mlflow/runs/get?run_id=${runId}`).set(basic('alice', 'nope'));
      expect(wrong.status).toBe(401);
      expect(wrong.body.error_code).toBe('UNAUTHENTICATED');
      expect((await t.http().get('/api/v1/jobs').set(basic('alice', 'alice-password'))).status).toBe(401);
      const anonymous = await t.http().get(`/api/2.0/mlflow/runs/get?run_id=${runId}`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.body.error_code).toBe('UNAUTHENTICATED');
    });

    it('values over the length limit are truncated as MLflow does; NaN and Infinity round-trip as strings', async () => {
      expect((await post('runs/set-tag', { run_id: runId, key: 'long', value: 'x'.repeat(9000) })).status).toBe(200);
      expect((await post('runs/log-batch', { run_id: runId, metrics: [{ key: 'n', value: 'NaN', timestamp: 5, step: 0 }, { key: 'i', value: '-Infinity', timestamp: 5, step: 0 }] })).status).toBe(200);
      const run = (await get(`runs/get?run_id=${runId}`)).body.run;
      expect(run.data.tags.find((x: { key: string }) => x.key === 'long').value).toHaveLength(8000);
      expect(run.data.metrics).toEqual(expect.arrayContaining([{ key: 'n', value: 'NaN', timestamp: 5, step: 0 }, { key: 'i', value: '-Infinity', timestamp: 5, step: 0 }]));
      expect(run.info).toMatchObject({ run_id: runId, run_uuid: runId, experiment_id: String(experimentId), status: 'RUNNING', user_id: 'alice', lifecycle_stage: 'active' });
      expect(run.info.end_time).toBeUndefined();
    });

    it('accepts a JSON body over 1 MB on the face', async () => {
      const tags = Array.from({ length: 100 }, (_, i) => ({ key: `big${i}`, value: 'y'.repeat(7000) }));
      const params = Array.from({ length: 100 }, (_, i) => ({ key: `bigp${i}`, value: 'z'.repeat(5000) }));
      const body = { run_id: runId, tags, params };
      expect(JSON.stringify(body).length).toBeGreaterThan(1_000_000);
      const res = await post('runs/log-batch', body);
      expect(res.status).toBe(200);
    });

    it('latest metric is the greatest (step, timestamp, value), not the last written', async () => {
      await post('runs/log-batch', { run_id: runId, metrics: [{ key: 'late', value: 9, timestamp: 100, step: 5 }] });
      await post('runs/log-metric', { run_id: runId, key: 'late', value: 1, timestamp: 200, step: 2 });
      const run = (await get(`runs/get?run_id=${runId}`)).body.run;
      expect(run.data.metrics.find((m: { key: string }) => m.key === 'late')).toEqual({ key: 'late', value: 9, timestamp: 100, step: 5 });
    });
  });

  describe('paging and experiments', () => {
    it('get-history pages with tokens in (timestamp, step, value) order; a metric never logged is {}', async () => {
      const metrics = Array.from({ length: 7 }, (_, i) => ({ key: 'h', value: i, timestamp: 100 - i, step: i }));
      expect((await post('runs/log-batch', { run_id: runId, metrics: [...metrics, metrics[0]] })).status).toBe(200);
      const seen: number[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const res = await get(`metrics/get-history?run_id=${runId}&run_uuid=${runId}&metric_key=h&max_results=3${token ? `&page_token=${encodeURIComponent(token)}` : ''}`);
        expect(res.status).toBe(200);
        seen.push(...res.body.metrics.map((m: { step: number }) => m.step));
        token = res.body.next_page_token;
        pages++;
      } while (token);
      expect(seen).toEqual([6, 5, 4, 3, 2, 1, 0]);
      expect(pages).toBe(3);
      expect((await get(`metrics/get-history?run_id=${runId}&metric_key=never`)).body).toEqual({});
    });

    it('experiment 0 is Default; an archived experiment reads as deleted and takes no new runs', async () => {
      const def = await get('experiments/get-by-name?experiment_name=Default');
      expect(def.body.experiment).toMatchObject({ experiment_id: '0', name: 'Default', lifecycle_stage: 'active', artifact_location: 'mlflow-artifacts:/0' });
      const run = await post('runs/create', { experiment_id: '0' }, bob.token);
      expect(run.status).toBe(200);
      expect(run.body.run.info).toMatchObject({ experiment_id: '0', user_id: 'bob', status: 'RUNNING' });
      expect((await post('experiments/create', { name: 'Default' })).body.error_code).toBe('RESOURCE_ALREADY_EXISTS');
      const created = await post('experiments/create', { name: 'To Archive', tags: [{ key: 'k', value: 'v' }] });
      const id = created.body.experiment_id;
      const exp = (await get(`experiments/get?experiment_id=${id}`)).body.experiment;
      expect(exp).toMatchObject({ experiment_id: id, name: 'to-archive', lifecycle_stage: 'active', tags: [{ key: 'k', value: 'v' }] });
      expect((await t.http().post(`/api/v1/experiments/${id}/archive`).set(bearer(alice.token))).status).toBe(200);
      expect((await get(`experiments/get?experiment_id=${id}`)).body.experiment.lifecycle_stage).toBe('deleted');
      const refused = await post('runs/create', { experiment_id: id });
      expect(refused.status).toBe(400);
      expect(refused.body.message).toBe(`The experiment ${id} must be in the 'active' state. Current state is deleted.`);
      // Creating runs in someone else's experiment is refused.
      expect((await post('runs/create', { experiment_id: String(experimentId) }, bob.token)).status).toBe(403);
    });

    it('experiments/search pages with tokens, filters by name, and includes Default', async () => {
      const names: string[] = [];
      let token: string | undefined;
      do {
        const res = await post('experiments/search', { max_results: 2, ...(token ? { page_token: token } : {}) });
        expect(res.status).toBe(200);
        names.push(...res.body.experiments.map((e: { name: string }) => e.name));
        token = res.body.next_page_token;
      } while (token);
      expect(names[0]).toBe('Default');
      expect(names).toEqual(expect.arrayContaining(['face-errors']));
      expect(new Set(names).size).toBe(names.length);
      const like = await get("experiments/search?filter=name%20LIKE%20'face-%25'");
      expect(like.body.experiments.map((e: { name: string }) => e.name)).toEqual(['face-errors']);
      expect((await post('experiments/search', { filter: "tags.x = 'y'" })).status).toBe(400);
    });

    it('runs/delete hides a run from search and refuses writes; restore brings it back', async () => {
      const r = (await post('runs/create', { experiment_id: String(experimentId), run_name: 'doomed' })).body.run.info.run_id;
      expect((await post('runs/delete', { run_id: r })).status).toBe(200);
      const write = await post('runs/set-tag', { run_id: r, key: 'a', value: 'b' });
      expect(write.status).toBe(400);
      expect(write.body.message).toBe(`The run ${r} must be in the 'active' state. Current state is deleted.`);
      const deleted = await post('runs/search', { experiment_ids: [String(experimentId)], run_view_type: 'DELETED_ONLY' });
      expect(deleted.body.runs.map((x: { info: { run_id: string } }) => x.info.run_id)).toEqual([r]);
      expect((await post('runs/restore', { run_id: r })).status).toBe(200);
      expect((await post('runs/set-tag', { run_id: r, key: 'a', value: 'b' })).status).toBe(200);
    });
  });

  describe('artifact proxy', () => {
    it('refuses traversal and odd paths with 400 Invalid path', async () => {
      const nul = await t.http().put(`/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts/a%00`).set(bearer(alice.token)).send('x');
      expect({ status: nul.status, code: nul.body.error_code }).toEqual({ status: 400, code: 'INVALID_PARAMETER_VALUE' });
      for (const p of [`${experimentId}/${runId}/artifacts/%2E%2E/x`, `${experimentId}/${runId}/artifacts/a%2Fb`, `${experimentId}/${runId}/artifacts/a%5Cb`, `${experimentId}/${runId}/artifacts/.`]) {
        const res = await t.http().put(`/api/2.0/mlflow-artifacts/artifacts/${p}`).set(bearer(alice.token)).send('x');
        expect({ p, status: res.status, body: res.body }).toEqual({ p, status: 400, body: { error_code: 'INVALID_PARAMETER_VALUE', message: 'Invalid path' } });
      }
      const missing = await t.http().get(`/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts/none.txt`).set(bearer(alice.token));
      expect(missing.status).toBe(404);
      expect(missing.body.error_code).toBe('RESOURCE_DOES_NOT_EXIST');
      const other = await t.http().put(`/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts/x.txt`).set(bearer(bob.token)).send('x');
      expect(other.status).toBe(403);
      const base = `/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts`;
      expect((await t.http().put(`${base}/tmp/a.txt`).set(bearer(alice.token)).send('a')).status).toBe(200);
      expect((await t.http().put(`${base}/tmp/a.txt`).set(bearer(alice.token)).set('Content-Type', 'application/json').send('{"b": 2}')).status).toBe(200);
      const overwritten = await t.http().get(`${base}/tmp/a.txt`).set(bearer(bob.token)).buffer(true).parse((res, cb) => {
        let data = '';
        res.on('data', (c: Buffer) => (data += c.toString()));
        res.on('end', () => cb(null, data));
      });
      expect(overwritten.body).toBe('{"b": 2}');
      expect((await t.http().delete(`${base}/tmp`).set(bearer(bob.token))).status).toBe(403);
      expect((await t.http().delete(`${base}/tmp`).set(bearer(alice.token))).status).toBe(200);
      expect((await t.http().get(`${base}/tmp/a.txt`).set(bearer(alice.token))).status).toBe(404);
      const wrongExperiment = await t.http().put(`/api/2.0/mlflow-artifacts/artifacts/0/${runId}/artifacts/x.txt`).set(bearer(alice.token)).send('x');
      expect(wrongExperiment.status).toBe(404);
    });

    it('streams a large artifact up and down with bounded memory', async () => {
      await t.app.listen(0, '127.0.0.1');
      const port = (t.app.getHttpServer().address() as AddressInfo).port;
      const size = 256 * 1024 * 1024;
      const chunk = randomBytes(1024 * 1024);
      const path = `/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${runId}/artifacts/big/blob.bin`;
      const rssBefore = process.memoryUsage().rss;
      let peak = rssBefore;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
      const upHash = createHash('sha256');
      await new Promise<void>((resolve, reject) => {
        const req = http.request({ port, path, method: 'PUT', headers: { ...bearer(alice.token), 'Content-Length': String(size), 'Content-Type': 'application/octet-stream' } }, (res) => {
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`PUT ${res.statusCode}`))));
        });
        req.on('error', reject);
        Readable.from(
          (function* () {
            for (let i = 0; i < size / chunk.length; i++) {
              upHash.update(chunk);
              yield chunk;
            }
          })(),
        ).pipe(req);
      });
      const downHash = createHash('sha256');
      let downBytes = 0;
      await new Promise<void>((resolve, reject) => {
        http.get({ port, path, headers: bearer(alice.token) }, (res) => {
          if (res.statusCode !== 200) reject(new Error(`GET ${res.statusCode}`));
          res.on('data', (d: Buffer) => {
            downBytes += d.length;
            downHash.update(d);
          });
          res.on('end', resolve);
          res.on('error', reject);
        });
      });
      clearInterval(sampler);
      expect(downBytes).toBe(size);
      expect(downHash.digest('hex')).toBe(upHash.digest('hex'));
      // Client and server share this process: neither side may hold the file.
      expect(peak - rssBefore).toBeLessThan(160 * 1024 * 1024);
      const list = await t.http().get(`/api/2.0/mlflow-artifacts/artifacts?path=${encodeURIComponent(`${experimentId}/${runId}/artifacts/big`)}`).set(bearer(alice.token));
      expect(list.body).toEqual({ files: [{ path: 'blob.bin', is_dir: false, file_size: size }] });
    });
  });

  describe('job tokens and the v1 reads of a job run', () => {
    let jobA: string;
    let jobB: string;
    let tokenA: string;
    let tokenB: string;
    let runA: string;
    let runB: string;
    let jobExperiment: number;

    beforeAll(async () => {
      const { experimentId: e } = await createExperimentAndQueue(t, admin, 'jobs-exp', 'q1', alice.token);
      jobExperiment = e;
      const submit = async () => {
        const res = await t.http().post('/api/v1/jobs').set(bearer(alice.token)).field('experimentId', String(e)).field('queue', 'q1').field('entryPoint', 'main').attach('workflow', workflowTarGz(), 'w.tar.gz');
        expect(res.status).toBe(201);
        return res.body.job.id as string;
      };
      jobA = await submit();
      jobB = await submit();
      const tracking = t.app.get(TrackingService);
      const tokens = t.app.get(JobTokensService);
      runA = randomBytes(16).toString('hex');
      runB = randomBytes(16).toString('hex');
      // What the worker does at claim (the runner calls these; here the test stands in for it).
      await tracking.startJobRun({ runId: runA, experimentId: e, ownerId: alice.id, runName: jobA, tags: { 'alidade.jobId': jobA, 'alidade.queue': 'q1' } });
      await tracking.startJobRun({ runId: runA, experimentId: e, ownerId: alice.id, runName: jobA, tags: { 'alidade.jobId': jobA } });
      await tracking.startJobRun({ runId: runB, experimentId: e, ownerId: alice.id, runName: jobB, tags: { 'alidade.jobId': jobB, 'alidade.queue': 'q1' } });
      tokenA = await tokens.issue({ jobId: jobA, experimentId: e, ownerId: alice.id });
      tokenB = await tokens.issue({ jobId: jobB, experimentId: e, ownerId: alice.id });
      await t.app.get(JobTokensService).revoke(jobB);
      await t.app.get(JobTokensService).revoke(jobB);
      tokenB = await tokens.issue({ jobId: jobB, experimentId: e, ownerId: alice.id });
      // A job row with its run id, as the claim writes it.
      await t.app.get(JobTokensService)['ds'].query(`UPDATE job SET mlflow_run_id = $2 WHERE id = $1`, [jobA, runA]);
    });

    it('the worker-made run is RUNNING with the owner and tags; start_run re-sets RUNNING; the job writes its own run', async () => {
      expect(tokenA.startsWith('alj_')).toBe(true);
      const run = (await get(`runs/get?run_id=${runA}`, tokenA)).body.run;
      expect(run.info).toMatchObject({ run_id: runA, status: 'RUNNING', user_id: 'alice', run_name: jobA, artifact_uri: `mlflow-artifacts:/${jobExperiment}/${runA}/artifacts` });
      const tags = Object.fromEntries(run.data.tags.map((x: { key: string; value: string }) => [x.key, x.value]));
      expect(tags).toMatchObject({ 'alidade.jobId': jobA, 'alidade.queue': 'q1', 'mlflow.runName': jobA, 'mlflow.user': 'alice' });
      expect((await post('runs/update', { run_id: runA, status: 'RUNNING' }, tokenA)).status).toBe(200);
      for (let step = 0; step < 5; step++) expect((await post('runs/log-metric', { run_id: runA, key: 'acc', value: step / 10, timestamp: 1000 + step, step }, tokenA)).status).toBe(200);
      expect((await post('runs/log-parameter', { run_id: runA, key: 'lr', value: '0.5' }, tokenA)).status).toBe(200);
      const put = await t.http().put(`/api/2.0/mlflow-artifacts/artifacts/${jobExperiment}/${runA}/artifacts/out/model.txt`).set(bearer(tokenA)).send('weights');
      expect(put.status).toBe(200);
    });

    it("a job token cannot write another job's run, nor a notebook run, nor read other experiments", async () => {
      const other = await post('runs/set-tag', { run_id: runB, key: 'x', value: 'y' }, tokenA);
      expect(other.status).toBe(403);
      expect(other.body.error_code).toBe('PERMISSION_DENIED');
      expect((await post('runs/set-tag', { run_id: runId, key: 'x', value: 'y' }, tokenA)).status).toBe(403);
      expect((await get(`experiments/get?experiment_id=${experimentId}`, tokenA)).status).toBe(403);
      expect((await post('experiments/create', { name: 'from-a-job' }, tokenA)).status).toBe(403);
      // Nested runs the job creates in its experiment are its own.
      const nested = await post('runs/create', { experiment_id: String(jobExperiment), tags: [{ key: 'mlflow.parentRunId', value: runA }] }, tokenA);
      expect(nested.status).toBe(200);
      expect((await post('runs/log-metric', { run_id: nested.body.run.info.run_id, key: 'x', value: 1, timestamp: 1 }, tokenA)).status).toBe(200);
      expect((await post('runs/create', { experiment_id: String(experimentId) }, tokenA)).status).toBe(403);
    });

    it('a job token is 403 on every other route and 401 once revoked', async () => {
      const v1 = await t.http().get('/api/v1/jobs').set(bearer(tokenA));
      expect(v1.status).toBe(403);
      expect((await t.http().get('/api/experiment/').set(bearer(tokenA))).status).toBe(403);
      expect((await get(`runs/get?run_id=${runB}`, tokenB)).status).toBe(200);
      await t.app.get(JobTokensService).revoke(jobB);
      const revoked = await get(`runs/get?run_id=${runB}`, tokenB);
      expect(revoked.status).toBe(401);
      expect(revoked.body.error_code).toBe('UNAUTHENTICATED');
      expect((await t.http().get('/api/v1/jobs').set(bearer(tokenB))).status).toBe(401);
      expect((await get(`runs/get?run_id=${runB}`, 'alj_unknown')).status).toBe(401);
    });

    it('finishJobRun closes RUNNING runs of the job (nested ones too); a status the client wrote stays, but KILLED wins', async () => {
      const tracking = t.app.get(TrackingService);
      expect((await post('runs/update', { run_id: runB, status: 'FAILED', end_time: 5 }, alice.token)).status).toBe(200);
      await tracking.finishJobRun(runB, 'FINISHED');
      expect((await get(`runs/get?run_id=${runB}`)).body.run.info).toMatchObject({ status: 'FAILED', end_time: 5 });
      const openNested = (await post('runs/search', { experiment_ids: [String(jobExperiment)], filter: "tags.mlflow.parentRunId = '" + runA + "'" })).body.runs;
      expect(openNested.map((r: { info: { status: string } }) => r.info.status)).toEqual(['RUNNING']);
      expect((await post('runs/update', { run_id: runA, status: 'FINISHED', end_time: 7 }, tokenA)).status).toBe(200);
      await tracking.finishJobRun(runA, 'KILLED');
      const a = (await get(`runs/get?run_id=${runA}`)).body.run.info;
      expect(a).toMatchObject({ status: 'KILLED', end_time: 7 });
      const nested = (await get(`runs/get?run_id=${openNested[0].info.run_id}`)).body.run.info;
      expect(nested.status).toBe('KILLED');
      expect(nested.end_time).toBeGreaterThan(0);
      expect((await post('runs/set-tag', { run_id: runA, key: 'evaluated', value: 'yes' })).status).toBe(200);
    });

    it('GET /api/v1/jobs/{id}/run and /metrics/{key} (paged, step order)', async () => {
      const res = await t.http().get(`/api/v1/jobs/${jobA}/run`).set(bearer(bob.token));
      expect(res.status).toBe(200);
      expect(res.body.run).toMatchObject({
        id: runA,
        experimentId: jobExperiment,
        status: 'KILLED',
        params: { lr: '0.5' },
        metrics: { acc: { value: 0.4, step: 4, timestamp: 1004 } },
        tags: expect.objectContaining({ 'alidade.jobId': jobA }),
        artifacts: [{ path: 'out/model.txt', size: 7 }],
      });
      expect(res.body.run.startTime).toMatch(/Z$/);
      const page = await t.http().get(`/api/v1/jobs/${jobA}/metrics/acc?offset=1&limit=2`).set(bearer(bob.token));
      expect(page.status).toBe(200);
      expect(page.body).toEqual({
        points: [
          { step: 1, value: 0.1, timestamp: 1001 },
          { step: 2, value: 0.2, timestamp: 1002 },
        ],
        pagination: { offset: 1, limit: 2, startIndex: 1, endIndex: 3, total: 5 },
      });
      expect((await t.http().get(`/api/v1/jobs/${jobB}/run`).set(bearer(bob.token))).status).toBe(404);
      expect((await post('runs/log-metric', { run_id: runA, key: 'train/loss', value: 0.5, timestamp: 1, step: 3 }, alice.token)).status).toBe(200);
      for (const path of ['train/loss', 'train%2Floss']) {
        const slashed = await t.http().get(`/api/v1/jobs/${jobA}/metrics/${path}`).set(bearer(bob.token));
        expect({ path, status: slashed.status, points: slashed.body.points }).toEqual({ path, status: 200, points: [{ step: 3, value: 0.5, timestamp: 1 }] });
      }
      const none = await t.http().get(`/api/v1/jobs/${jobA}/metrics/never`).set(bearer(bob.token));
      expect(none.body).toEqual({ points: [], pagination: { offset: 0, limit: 100, startIndex: 0, endIndex: 0, total: 0 } });
    });
  });
});
