// Hostile input, class by class, on both faces (API.md §1 "No input gives a 5xx"): each is a 4xx that names the
// field, in the face's own error body, and changes nothing. The schema-driven fuzz (`npm run test:fuzz`) covers every
// operation of /openapi.json; these pin down each class and its exact reply.
import type { Response } from 'supertest';
import { MLFLOW_JSON_LIMIT } from '../src/app/configure-app';
import { MAX_COMMAND_BYTES } from '../src/workflows/mlproject';
import { ADMIN_PASSWORD, bearer, createUser, login, startApp, TestApp } from './utils/harness';
import { createExperimentAndQueue, workflowTarGz } from './utils/jobs-fixtures';

const DIOPTRA_INVALID = 'Bad Request - The request contains invalid parameters. Please verify and resubmit.';
const DIOPTRA_SUBMISSION = 'Bad Request - The job submission form contains invalid parameters. Please verify and resubmit.';
const DIOPTRA_EXPERIMENT_FORM = 'Bad Request - The experiment registration form contains invalid parameters. Please verify and resubmit.';
const DIOPTRA_QUEUE_FORM = 'Bad Request - The queue registration form contains invalid parameters. Please verify and resubmit.';
const DIOPTRA_TOO_LARGE = 'Request Entity Too Large - The data value transmitted exceeds the capacity limit.';

/** v1: 400 VALIDATION_FAILED whose details.fields names `field`. */
function expectV1Invalid(res: Response, field: string, reason?: RegExp): void {
  expect({ status: res.status, body: res.body }).toMatchObject({
    status: 400,
    body: { statusCode: 400, error: 'Bad Request', code: 'VALIDATION_FAILED', message: expect.any(String), details: { fields: { [field]: expect.arrayContaining([expect.any(String)]) } } },
  });
  if (reason) expect(res.body.details.fields[field].join(' ')).toMatch(reason);
}

/** Dioptra: `{message, detail?}` with Dioptra's status and exact text; the detail says what was wrong. */
function expectDioptra(res: Response, status: number, message: string, detail?: RegExp): void {
  expect({ status: res.status, message: res.body.message }).toEqual({ status, message });
  expect(Object.keys(res.body).every((k) => k === 'message' || k === 'detail')).toBe(true);
  if (detail) expect(res.body.detail).toMatch(detail);
}

/** A multipart body built byte by byte, so field names and values can carry any bytes. */
function multipart(parts: Array<{ name: string | Buffer; value?: string | Buffer; filename?: string }>): { type: string; body: Buffer } {
  const boundary = 'hostile-input-boundary-7d1f';
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="`), Buffer.from(p.name), Buffer.from('"'));
    if (p.filename) chunks.push(Buffer.from(`; filename="${p.filename}"\r\nContent-Type: application/gzip`));
    chunks.push(Buffer.from('\r\n\r\n'), Buffer.from(p.value ?? ''), Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { type: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat(chunks) };
}

const nested = (depth: number) => `${'['.repeat(depth)}1${']'.repeat(depth)}`;
const ff = Buffer.from([0xff]);

describe('hostile input: a 4xx naming the field, never a 5xx, on every face', () => {
  let t: TestApp;
  let admin: string;
  let alice: string;
  let aliceId: number;

  beforeAll(async () => {
    t = await startApp();
    admin = await login(t, 'admin', ADMIN_PASSWORD);
    ({ id: aliceId, token: alice } = await createUser(t, admin, 'alice'));
    await createExperimentAndQueue(t, admin, 'mnist', 'tensorflow_cpu', alice);
  });
  afterAll(() => t.close());

  // serialize(identity): superagent would JSON-encode a Buffer sent as application/json; these send the bytes as given.
  const raw = <T>(b: T) => b;
  const loginRaw = (body: string | Buffer, type = 'application/json') => t.http().post('/api/v1/auth/login').set('Content-Type', type).serialize(raw).send(body);
  const dioptraRaw = (path: string, body: string | Buffer, type = 'application/json') => t.http().post(path).set(bearer(admin)).set('Content-Type', type).serialize(raw).send(body);
  const send = (path: string, form: { type: string; body: Buffer }, token = alice) => t.http().post(path).set(bearer(token)).set('Content-Type', form.type).send(form.body);
  const jobFields = (extra: Array<{ name: string | Buffer; value?: string | Buffer }> = []) => [
    ...extra,
    { name: 'entryPoint', value: 'main' },
    { name: 'workflow', value: workflowTarGz(), filename: 'workflows.tar.gz' },
  ];

  describe('NUL, lone surrogates and invalid UTF-8', () => {
    it('in JSON body fields: login and v1 bodies name the field', async () => {
      expectV1Invalid(await loginRaw(JSON.stringify({ username: 'ad\u0000min', password: ADMIN_PASSWORD })), 'username', /NUL/);
      expectV1Invalid(await loginRaw('{"username":"ad\\ud800min","password":"x"}'), 'username', /surrogate/);
      expectV1Invalid(await loginRaw(Buffer.concat([Buffer.from('{"username":"ad'), ff, Buffer.from('min","password":"x"}')])), 'body', /UTF-8/);
      const labels = await t.http().post('/api/v1/experiments').set(bearer(alice)).send({ name: 'nul-labels', labels: ['ok', 'a\u0000'] });
      expectV1Invalid(labels, 'labels[1]', /NUL/);
      const key = await t.http().post('/api/v1/experiments').set(bearer(alice)).send({ name: 'nul-key', 'de\u0000scription': 'x' });
      expectV1Invalid(key, 'de\\u0000scription', /field name/);
      expect((await t.http().get('/api/v1/experiments?name=nul-').set(bearer(alice)).expect(200)).body.experiments).toEqual([]);
    });

    it('in Dioptra bodies (JSON, text, urlencoded, multipart): the form\'s Dioptra error with the field in detail', async () => {
      expectDioptra(await dioptraRaw('/api/experiment/', JSON.stringify({ name: 'a\u0000b' })), 400, DIOPTRA_EXPERIMENT_FORM, /name must not contain NUL/);
      expectDioptra(await dioptraRaw('/api/experiment/', JSON.stringify({ name: 'a\u0000b' }), 'text/plain'), 400, DIOPTRA_EXPERIMENT_FORM, /name must not contain NUL/);
      expectDioptra(await dioptraRaw('/api/queue/', Buffer.concat([Buffer.from('{"name":"q'), ff, Buffer.from('"}')])), 400, DIOPTRA_QUEUE_FORM, /UTF-8/);
      expectDioptra(await dioptraRaw('/api/queue/', 'name=q%FF', 'application/x-www-form-urlencoded'), 400, DIOPTRA_QUEUE_FORM, /name must be valid UTF-8/);
      expectDioptra(await send('/api/experiment/', multipart([{ name: 'name', value: Buffer.concat([Buffer.from('e'), ff]) }]), admin), 400, DIOPTRA_EXPERIMENT_FORM, /name must be valid UTF-8/);
      expectDioptra(await send('/api/experiment/', multipart([{ name: 'name', value: 'e\u0000x' }]), admin), 400, DIOPTRA_EXPERIMENT_FORM, /name must not contain NUL/);
      expect((await t.http().get('/api/experiment/').set(bearer(admin)).expect(200)).body.map((e: { name: string }) => e.name)).toEqual(['mnist']);
    });

    it('in multipart job submissions on both faces: field values and field names', async () => {
      expectV1Invalid(await send('/api/v1/jobs', multipart(jobFields([{ name: 'experimentName', value: Buffer.concat([Buffer.from('mnist'), ff]) }, { name: 'queue', value: 'tensorflow_cpu' }]))), 'experimentName', /UTF-8/);
      expectV1Invalid(await send('/api/v1/jobs', multipart(jobFields([{ name: 'experimentName', value: 'mnist' }, { name: 'queue', value: 'tensorflow\u0000' }]))), 'queue', /NUL/);
      const oddName = await send('/api/v1/jobs', multipart(jobFields([{ name: 'experimentName', value: 'mnist' }, { name: 'queue', value: 'tensorflow_cpu' }, { name: Buffer.concat([Buffer.from('x'), ff]), value: 'y' }])));
      expect({ status: oddName.status, code: oddName.body.code }).toEqual({ status: 400, code: 'VALIDATION_FAILED' });
      const bracket = await send('/api/v1/jobs', multipart(jobFields([{ name: 'experimentName[0]', value: 'mnist' }, { name: 'queue', value: 'tensorflow_cpu' }])));
      expect({ status: bracket.status, code: bracket.body.code, message: bracket.body.message }).toMatchObject({ status: 400, code: 'JOB_SUBMISSION_INVALID', message: expect.stringMatching(/nesting/i) });
      const dioptra = await send('/api/job/', multipart(jobFields([{ name: 'experimentName', value: 'mnist' }, { name: 'queue', value: Buffer.concat([Buffer.from('tensorflow_cpu'), ff]) }])));
      expectDioptra(dioptra, 400, DIOPTRA_SUBMISSION, /queue must be valid UTF-8/);
      expect((await t.http().get('/api/v1/jobs').set(bearer(admin)).expect(200)).body.pagination.total).toBe(0);
    });

    it('in query values and names', async () => {
      expectV1Invalid(await t.http().get('/api/v1/users?name=a%00b').set(bearer(admin)), 'name', /NUL/);
      expectV1Invalid(await t.http().get('/api/v1/users?name=a%FFb').set(bearer(admin)), 'name', /UTF-8/);
      expectV1Invalid(await t.http().get('/api/v1/experiments?labels=x&labels=%ED%A0%80').set(bearer(admin)), 'labels', /UTF-8/);
      expectV1Invalid(await t.http().get('/api/v1/jobs?na%FFme=1').set(bearer(admin)), 'na%FFme', /parameter name/);
      expectDioptra(await t.http().get('/api/job/?x=%00').set(bearer(admin)), 400, DIOPTRA_INVALID, /x must not contain NUL/);
    });

    it('in path parameters, on both faces', async () => {
      expectV1Invalid(await t.http().get('/api/v1/task-plugins/dioptra_custom/a%00b').set(bearer(admin)), 'path', /NUL/);
      expectV1Invalid(await t.http().get('/api/v1/jobs/%FF').set(bearer(admin)), 'path', /UTF-8/);
      expectDioptra(await t.http().get('/api/taskPlugin/dioptra_custom/a%00b').set(bearer(admin)), 400, DIOPTRA_INVALID, /NUL/);
      expectDioptra(await t.http().delete('/api/queue/name/q%C0%AF').set(bearer(admin)), 400, DIOPTRA_INVALID, /UTF-8/);
      expectDioptra(await t.http().put('/api/queue/name/a%00b/lock').set(bearer(admin)), 400, DIOPTRA_QUEUE_FORM, /NUL/);
      expectDioptra(await t.http().get('/api/experiment/name/%00').set(bearer(admin)), 400, DIOPTRA_INVALID, /NUL/);
    });
  });

  describe('JSON nested deeper than 64 levels is refused before parsing', () => {
    it('login, v1 bodies and Dioptra bodies (JSON and text)', async () => {
      expectV1Invalid(await loginRaw(`{"username":${nested(65)},"password":"x"}`), 'body', /nested more than 64/);
      expectV1Invalid(await loginRaw(nested(100_000)), 'body', /nested more than 64/);
      // 64 levels parse, then fail validation as any other wrong type would.
      expectV1Invalid(await loginRaw(`{"username":${nested(63)},"password":"x"}`), 'username');
      expectDioptra(await dioptraRaw('/api/experiment/', `{"name":${nested(65)}}`), 400, DIOPTRA_EXPERIMENT_FORM, /nested more than 64/);
      expectDioptra(await dioptraRaw('/api/job/', nested(100_000), 'text/plain'), 400, DIOPTRA_SUBMISSION, /nested more than 64/);
      // Brackets inside strings are not nesting.
      await t.http().post('/api/v1/experiments').set(bearer(alice)).send({ name: 'brackets', description: '['.repeat(1000) }).expect(201);
    });

    it('JSON inside a form field (v1 `parameters`)', async () => {
      const deep = `{"var1":${'{"a":'.repeat(70)}1${'}'.repeat(70)}}`;
      expectV1Invalid(await send('/api/v1/jobs', multipart(jobFields([{ name: 'experimentName', value: 'mnist' }, { name: 'queue', value: 'tensorflow_cpu' }, { name: 'parameters', value: deep }]))), 'parameters', /nested/);
      const nul = await send('/api/v1/jobs', multipart(jobFields([{ name: 'experimentName', value: 'mnist' }, { name: 'queue', value: 'tensorflow_cpu' }, { name: 'parameters', value: '{"var1":"a\\u0000"}' }])));
      expectV1Invalid(nul, 'parameters.var1', /NUL/);
    });
  });

  describe('integers beyond a column\'s range', () => {
    it('v1 path ids → 400 naming the parameter, on every int path', async () => {
      for (const [method, path] of [
        ['get', '/api/v1/users/4294967296'],
        ['patch', '/api/v1/users/4294967296'],
        ['post', '/api/v1/users/99999999999999999999/password'],
        ['delete', '/api/v1/tokens/4294967296'],
        ['get', '/api/v1/queues/2147483648'],
        ['put', '/api/v1/queues/2147483648/lock'],
        ['get', '/api/v1/experiments/4294967296'],
        ['post', '/api/v1/experiments/4294967296/archive'],
      ] as const) {
        const res = await t.http()[method](path).set(bearer(admin)).send({});
        expectV1Invalid(res, 'id', /between -2147483648 and 2147483647/);
      }
      await t.http().get('/api/v1/users/2147483647').set(bearer(admin)).expect(404);
      // The experiment's job list answers "no such experiment" for any id that names none.
      expect((await t.http().get('/api/v1/experiments/4294967296/jobs').set(bearer(admin)).expect(404)).body.code).toBe('EXPERIMENT_NOT_FOUND');
    });

    it('v1 query integers and body integers', async () => {
      expectV1Invalid(await t.http().get('/api/v1/jobs?experimentId=4294967296').set(bearer(admin)), 'experimentId');
      expectV1Invalid(await t.http().get('/api/v1/jobs?queueId=99999999999999999999').set(bearer(admin)), 'queueId');
      expectV1Invalid(await t.http().get('/api/v1/experiments?limit=99999999999999999999').set(bearer(admin)), 'limit');
      expectV1Invalid(await t.http().get('/api/v1/users?offset=1e400').set(bearer(admin)), 'offset');
      expectV1Invalid(await t.http().post('/api/v1/tokens').set(bearer(admin)).send({ userId: 4294967296 }), 'userId');
      const page = await t.http().get('/api/v1/experiments?offset=9007199254740991').set(bearer(admin)).expect(200);
      expect(page.body.experiments).toEqual([]);
    });

    it('Dioptra ids beyond int4 are "not found", as no such row exists', async () => {
      expectDioptra(await t.http().get('/api/experiment/4294967296').set(bearer(admin)), 404, 'Not Found - The requested experiment does not exist');
      expectDioptra(await t.http().get('/api/queue/99999999999999999999').set(bearer(admin)), 404, 'Not Found - The requested queue does not exist');
      const form = multipart(jobFields([{ name: 'experimentId', value: '9999999999' }, { name: 'queue', value: 'tensorflow_cpu' }]));
      expect((await send('/api/v1/jobs', form)).body).toMatchObject({ statusCode: 404, code: 'EXPERIMENT_NOT_FOUND' });
    });
  });

  describe('strings longer than their column', () => {
    it('names are counted after slugifying; multi-byte names within the bound are kept', async () => {
      const long = 'é'.repeat(255);
      expect((await t.http().post('/api/v1/experiments').set(bearer(alice)).send({ name: long }).expect(201)).body.experiment.name).toBe(long);
      expectV1Invalid(await t.http().post('/api/v1/experiments').set(bearer(alice)).send({ name: 'é'.repeat(256) }), 'name', /1-255/);
      expectV1Invalid(await t.http().post('/api/v1/queues').set(bearer(admin)).send({ name: '😀'.repeat(200) }), 'name', /1-255/);
      expectV1Invalid(await t.http().post('/api/v1/users').set(bearer(admin)).send({ username: 'u'.repeat(65), password: 'password-1' }), 'username');
      expectV1Invalid(await t.http().post('/api/v1/tokens').set(bearer(alice)).send({ description: 'd'.repeat(256) }), 'description');
    });

    it('a workflow file name of any length fits its key (capped at 255 bytes, like a file name)', async () => {
      const name = `${'w'.repeat(4000)}.tar.gz`;
      const res = await send('/api/v1/jobs', multipart([{ name: 'experimentName', value: 'mnist' }, { name: 'queue', value: 'tensorflow_cpu' }, { name: 'entryPoint', value: 'main' }, { name: 'workflow', value: workflowTarGz(), filename: name }]));
      expect(res.status).toBe(201);
      expect(res.body.job.workflowUri).toMatch(/^db:\/\/workflow\/[0-9a-f]{32}\/w{255}$/);
    });
  });

  describe('a command line too long to execute is refused at submission', () => {
    const kwargs = (bytes: number) => `-P var1=${'x'.repeat(bytes)}`;

    it('v1: 400 PARAMETER_INVALID naming the bound; a long command within it is accepted', async () => {
      const refused = await send('/api/v1/jobs', multipart(jobFields([{ name: 'experimentName', value: 'mnist' }, { name: 'queue', value: 'tensorflow_cpu' }, { name: 'entryPointKwargs', value: kwargs(MAX_COMMAND_BYTES) }])));
      expect({ status: refused.status, code: refused.body.code }).toEqual({ status: 400, code: 'PARAMETER_INVALID' });
      expect(refused.body.message).toMatch(new RegExp(`more than the ${MAX_COMMAND_BYTES}`));
      const extra = await send('/api/v1/jobs', multipart(jobFields([{ name: 'experimentName', value: 'mnist' }, { name: 'queue', value: 'tensorflow_cpu' }, { name: 'parameters', value: JSON.stringify({ other: 'y'.repeat(200_000) }) }])));
      expect({ status: extra.status, code: extra.body.code }).toEqual({ status: 400, code: 'PARAMETER_INVALID' });
      await send('/api/v1/jobs', multipart(jobFields([{ name: 'experimentName', value: 'mnist' }, { name: 'queue', value: 'tensorflow_cpu' }, { name: 'entryPointKwargs', value: kwargs(100_000) }]))).expect(201);
    });

    it('Dioptra: JobSubmissionError with the reason in detail', async () => {
      const res = await send('/api/job/', multipart(jobFields([{ name: 'experimentName', value: 'mnist' }, { name: 'queue', value: 'tensorflow_cpu' }, { name: 'entryPointKwargs', value: kwargs(200_000) }])));
      expectDioptra(res, 400, DIOPTRA_SUBMISSION, /bytes, more than the/);
    });
  });

  describe('X-Fields masks are bounded', () => {
    it('too long, too deep or too many fields → Dioptra\'s 400 naming the bound; ordinary masks still trim', async () => {
      const get = (mask: string) => t.http().get('/api/experiment/').set(bearer(admin)).set('X-Fields', mask);
      expectDioptra(await get('a,'.repeat(600)), 400, DIOPTRA_INVALID, /longer than 1024/);
      expectDioptra(await get(`${'a{'.repeat(9)}b${'}'.repeat(9)}`), 400, DIOPTRA_INVALID, /more than 8 levels/);
      expectDioptra(await get(Array.from({ length: 129 }, (_, i) => `f${i}`).join(',')), 400, DIOPTRA_INVALID, /more than 128 fields/);
      expectDioptra(await t.http().get('/api/job/').set(bearer(admin)).set('X-Fields', `${'a{'.repeat(9)}b${'}'.repeat(9)}`), 400, DIOPTRA_INVALID, /more than 8 levels/);
      expect((await get('name').expect(200)).body.every((e: object) => Object.keys(e).join() === 'name')).toBe(true);
    });
  });

  describe('413 names the real limit', () => {
    it('JSON bodies (login included) on both faces; Dioptra form files', async () => {
      const big = JSON.stringify({ username: 'x'.repeat(1024 * 1024), password: 'y' });
      const v1 = await loginRaw(big);
      expect({ status: v1.status, body: v1.body }).toEqual({
        status: 413,
        body: { statusCode: 413, error: 'Payload Too Large', code: 'PAYLOAD_TOO_LARGE', message: 'The request body is larger than the limit of 1048576 bytes', details: { limit: 1048576 } },
      });
      expectDioptra(await dioptraRaw('/api/experiment/', JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) })), 413, DIOPTRA_TOO_LARGE, /limit of 1048576 bytes/);
      expectDioptra(await dioptraRaw('/api/experiment/', 'x'.repeat(2 * 1024 * 1024), 'text/plain'), 413, DIOPTRA_TOO_LARGE, /limit of 1048576 bytes/);
      const file = multipart([{ name: 'name', value: 'e' }, { name: 'f', value: Buffer.alloc(70 * 1024), filename: 'f.bin' }]);
      expectDioptra(await send('/api/experiment/', file, admin), 413, DIOPTRA_TOO_LARGE, /limit of 65536 bytes/);
    });
  });

  describe('the MLflow face gets the same guards in its own body ({error_code, message})', () => {
    it('bad text in the URL, deep JSON and an oversized body', async () => {
      const mlflow = (res: Response, status: number, pattern: RegExp) => {
        expect({ status: res.status, body: res.body }).toEqual({ status, body: { error_code: 'INVALID_PARAMETER_VALUE', message: expect.stringMatching(pattern) } });
      };
      mlflow(await t.http().get('/api/2.0/mlflow/runs/get?run_id=%FF').set(bearer(admin)), 400, /run_id must be valid UTF-8/);
      mlflow(await t.http().get('/api/2.0/mlflow/experiments/get-by-name?experiment_name=a%00').set(bearer(admin)), 400, /NUL/);
      const post = (body: string) => t.http().post('/api/2.0/mlflow/runs/log-batch').set(bearer(admin)).set('Content-Type', 'application/json').serialize(raw).send(body);
      mlflow(await post(`{"run_id":"x","metrics":${nested(65)}}`), 400, /nested more than 64/);
      mlflow(await post(JSON.stringify({ run_id: 'x', tags: [{ key: 'k', value: 'v'.repeat(MLFLOW_JSON_LIMIT) }] })), 413, new RegExp(`limit of ${MLFLOW_JSON_LIMIT} bytes`));
    });
  });

  describe('v1 validation failures are VALIDATION_FAILED with details.fields', () => {
    it('empty, blank and all-punctuation names', async () => {
      expectV1Invalid(await t.http().post('/api/v1/experiments').set(bearer(alice)).send({ name: '' }), 'name');
      expectV1Invalid(await t.http().post('/api/v1/queues').set(bearer(admin)).send({ name: '   ' }), 'name');
      expectV1Invalid(await t.http().patch(`/api/v1/queues/1`).set(bearer(admin)).send({ name: '' }), 'name');
      expectV1Invalid(await t.http().post('/api/v1/users').set(bearer(admin)).send({ username: '!!!', password: 'password-1' }), 'username');
      expectV1Invalid(await t.http().post('/api/v1/auth/login').send({ username: '', password: '' }), 'username');
      // Dioptra keeps its registration-form text for the same failure.
      expectDioptra(await dioptraRaw('/api/queue/', JSON.stringify({ name: '' })), 400, 'Bad Request - The queue registration form contains invalid parameters. Please verify and resubmit.');
    });

    it('a JSON null for an optional field means "not given"', async () => {
      const res = await t.http().post('/api/v1/tokens').set(bearer(alice)).send({ description: null, lifespan: null, userId: null }).expect(201);
      const tokens = (await t.http().get('/api/v1/tokens').set(bearer(alice)).expect(200)).body.tokens;
      expect(tokens.find((tk: { id: number }) => tk.id === res.body.tokenId)).toMatchObject({ userId: aliceId, description: '' });
    });
  });
});
