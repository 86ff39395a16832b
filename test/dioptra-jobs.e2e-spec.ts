// The Dioptra face of jobs (reference/dioptra-v0-api.md §2.3, §8 JOB-01..07, C-JOB-01..02, §8.3) through HTTP.
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { JobLifecycleRepository } from '../src/jobs/job-lifecycle.repository';
import { makeTarGz, makeZip } from './utils/archives';
import { ADMIN_PASSWORD, bearer, createUser, login, startApp, TestApp } from './utils/harness';
import { dioptraShapedTarGz, WORKFLOW_FILES, workflowTarGz } from './utils/jobs-fixtures';

const JOB_KEYS = [
  'jobId',
  'mlflowRunId',
  'experimentId',
  'queueId',
  'createdOn',
  'lastModified',
  'timeout',
  'workflowUri',
  'entryPoint',
  'entryPointKwargs',
  'dependsOn',
  'status',
].sort();
const DIOPTRA_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{6})?$/;
const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const SUBMISSION_ERROR = 'Bad Request - The job submission form contains invalid parameters. Please verify and resubmit.';

type Fields = Record<string, string>;

describe('Dioptra jobs', () => {
  let t: TestApp;
  let admin: string;
  let user: string;

  function submit(fields: Fields, file: Buffer | null = workflowTarGz(), filename = 'workflows.tar.gz', token = user) {
    let req = t.http().post('/api/job/').set(bearer(token));
    for (const [k, v] of Object.entries(fields)) req = req.field(k, v);
    if (file) req = req.attach('workflow', file, filename);
    return req;
  }
  const camel: Fields = { experimentName: 'mnist', queue: 'tensorflow_cpu', timeout: '12h', entryPoint: 'main', entryPointKwargs: '-P var1=testing' };

  beforeAll(async () => {
    t = await startApp();
    admin = await login(t, 'admin', ADMIN_PASSWORD);
    user = (await createUser(t, admin, 'carol')).token;
    // carol owns mnist: only an experiment's owner or an admin may submit into it.
    expect((await t.http().post('/api/experiment/').set(bearer(user)).send({ name: 'mnist' })).body.experimentId).toBe(1);
    expect((await t.http().post('/api/queue/').set(bearer(admin)).send({ name: 'tensorflow_cpu' })).body.queueId).toBe(1);
  });
  afterAll(() => t.close());

  let first: Record<string, unknown>;

  it('JOB-01: GET /api/job/ on a fresh database is an empty list', async () => {
    const res = await t.http().get('/api/job/').set(bearer(user));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual([]);
  });

  it('JOB-02/JOB-06: camelCase multipart submission → 200 Job with the 12 keys', async () => {
    const res = await submit(camel);
    expect(res.status).toBe(200);
    first = res.body;
    expect(Object.keys(first).sort()).toEqual(JOB_KEYS);
    expect(first).toMatchObject({
      status: 'queued',
      mlflowRunId: null,
      experimentId: 1,
      queueId: 1,
      timeout: '12h',
      entryPoint: 'main',
      entryPointKwargs: '-P var1=testing',
      dependsOn: null,
    });
    expect(first.createdOn).toBe(first.lastModified);
    expect(first.createdOn).toMatch(DIOPTRA_TIME);
    expect(first.workflowUri).toMatch(/^db:\/\/workflow\/[0-9a-f]{32}\/workflows\.tar\.gz$/);
    expect(first.jobId).toMatch(UUID4);
  });

  it('JOB-03/JOB-04: GET by id and the list give the same object', async () => {
    const one = await t.http().get(`/api/job/${first.jobId}`).set(bearer(user));
    expect(one.status).toBe(200);
    expect(one.body).toEqual(first);
    const list = await t.http().get('/api/job').set(bearer(user));
    expect(list.status).toBe(200);
    expect(list.body).toEqual([first]);
  });

  it('JOB-05: a second job depending on the first is deferred; dependsOn echoed verbatim; both listed in order', async () => {
    const res = await submit({ ...camel, entryPoint: 'second', entryPointKwargs: '', dependsOn: first.jobId as string });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ dependsOn: first.jobId, status: 'deferred', entryPoint: 'second', entryPointKwargs: null });
    const list = await t.http().get('/api/job/').set(bearer(user));
    expect(list.body.map((j: { jobId: string }) => j.jobId)).toEqual([first.jobId, res.body.jobId]);
  });

  it('C-JOB-01/C-JOB-02: snake_case fields, timeouts echoed as given, default 24h', async () => {
    const res = await submit({ experiment_name: 'MNIST', queue: 'tensorflow_cpu', timeout: '2d', entry_point: 'main', entry_point_kwargs: '-P var1=test' });
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(JOB_KEYS);
    expect(res.body).toMatchObject({ experimentId: 1, queueId: 1, timeout: '2d', entryPoint: 'main', entryPointKwargs: '-P var1=test', status: 'queued' });
    expect(res.body.workflowUri).toMatch(/^db:\/\/workflow\/[0-9a-f]{32}\/workflows\.tar\.gz$/);
    const deps = await submit({ experiment_name: 'mnist', queue: 'tensorflow_cpu', entry_point: 'main', depends_on: res.body.jobId });
    expect(deps.body).toMatchObject({ timeout: '24h', dependsOn: res.body.jobId, entryPointKwargs: null, status: 'deferred' });
  });

  it('the same job is visible on v1 and Dioptra, with v1 parameters shown as the formatted kwargs', async () => {
    const v1 = await t
      .http()
      .post('/api/v1/jobs')
      .set(bearer(user))
      .field('experimentName', 'mnist')
      .field('queue', 'tensorflow_cpu')
      .field('entryPoint', 'train')
      .field('parameters', '{"epochs":"2","lr":"0.01"}')
      .attach('workflow', makeZip(WORKFLOW_FILES), 'flow.zip');
    expect(v1.status).toBe(201);
    const d = await t.http().get(`/api/job/${v1.body.job.id}`).set(bearer(user));
    expect(d.body).toMatchObject({ jobId: v1.body.job.id, entryPointKwargs: '-P epochs=2 -P lr=0.01', timeout: '24h', entryPoint: 'train' });
    expect(d.body.workflowUri).toBe(v1.body.job.workflowUri);
  });

  it('shows a canceled job as failed', async () => {
    const res = await submit(camel);
    expect((await t.http().post(`/api/v1/jobs/${res.body.jobId}/cancel`).set(bearer(user))).status).toBe(200);
    const d = await t.http().get(`/api/job/${res.body.jobId}`).set(bearer(user));
    expect(d.body.status).toBe('failed');
    expect(d.body.lastModified).not.toBe(d.body.createdOn);
  });

  it('accepts every entry point of a Dioptra-shaped MLproject; the odd one alone is a JobSubmissionError', async () => {
    for (const [entryPoint, kwargs] of [
      ['train', ''],
      ['train', '-P epochs=3 -P learning_rate=0.01 -P data_dir=/elsewhere'],
      ['fgm', '-P run_id=abc'],
      ['fgm', '-P run_id=abc -P minimal=1 -P targeted=True -P max_iter=5'],
    ]) {
      const res = await submit({ ...camel, entryPoint, entryPointKwargs: kwargs }, dioptraShapedTarGz());
      expect({ entryPoint, kwargs, status: res.status }).toEqual({ entryPoint, kwargs, status: 200 });
    }
    const odd = await submit({ ...camel, entryPoint: 'odd', entryPointKwargs: '' }, dioptraShapedTarGz());
    expect(odd.status).toBe(400);
    expect(odd.body.message).toBe(SUBMISSION_ERROR);
    expect(JSON.stringify(odd.body)).toContain("MLproject:35: parameter 'weights' of entry point 'odd' has a non-scalar default");
    const bad = await submit({ ...camel, entryPoint: 'fgm', entryPointKwargs: '-P run_id=abc -P eps=big' }, dioptraShapedTarGz());
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain("parameter 'eps' must be a float, got 'big'");
  });

  it('JOB-07: unknown or malformed job id → 404 JobDoesNotExistError', async () => {
    for (const id of [randomUUID(), 'nope', '123']) {
      const res = await t.http().get(`/api/job/${id}`).set(bearer(user));
      expect(res.status).toBe(404);
      expect(res.body.message).toBe('Not Found - The requested job does not exist');
    }
  });

  it('X-Fields trims each streamed job', async () => {
    const res = await t.http().get('/api/job/').set(bearer(user)).set('X-Fields', '{jobId,status}');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body[0]).sort()).toEqual(['jobId', 'status']);
    expect((await t.http().get('/api/job/').set(bearer(user)).set('X-Fields', '{jobId')).status).toBe(400);
  });

  it('needs a token', async () => {
    expect((await t.http().get('/api/job/')).status).toBe(401);
    expect((await t.http().post('/api/job/').field('queue', 'x')).status).toBe(401);
  });

  describe('submission checks, each refused with Dioptra’s status and text and nothing written', () => {
    let pg: Client;
    let before: number;
    beforeAll(async () => {
      pg = new Client({ connectionString: t.databaseUrl });
      await pg.connect();
      await t.http().post('/api/experiment/').set(bearer(admin)).send({ name: 'old' });
      const e = await t.http().get('/api/experiment/name/old').set(bearer(admin));
      expect((await t.http().post(`/api/v1/experiments/${e.body.experimentId}/archive`).set(bearer(admin))).status).toBe(200);
      await t.http().post('/api/queue/').set(bearer(admin)).send({ name: 'locked' });
      expect((await t.http().put('/api/queue/name/locked/lock').set(bearer(admin))).status).toBe(200);
    });
    afterAll(() => pg.end());
    const count = async () => Number((await pg.query('SELECT (SELECT count(*) FROM job) + (SELECT count(*) FROM blob) AS n')).rows[0].n);
    beforeEach(async () => {
      before = await count();
    });
    afterEach(async () => {
      expect(await count()).toBe(before);
    });

    it('unknown experiment → 404, unknown queue → 404, locked queue → 403', async () => {
      const e = await submit({ ...camel, experimentName: 'nope' });
      expect({ status: e.status, message: e.body.message }).toEqual({ status: 404, message: 'Not Found - The requested experiment does not exist' });
      const q = await submit({ ...camel, queue: 'nope' });
      expect({ status: q.status, message: q.body.message }).toEqual({ status: 404, message: 'Not Found - The requested queue does not exist' });
      const l = await submit({ ...camel, queue: 'locked' });
      expect(l.status).toBe(403);
      expect(l.body).toEqual({ message: 'Forbidden - The requested queue is locked.' });
    });

    it('another user’s experiment → 403 Forbidden; its owner and an admin may submit, anyone may read it', async () => {
      const dave = (await createUser(t, admin, 'dave')).token;
      const res = await submit(camel, workflowTarGz(), 'workflows.tar.gz', dave);
      expect(res.status).toBe(403);
      expect(res.body.message).toBe('Forbidden - You do not have the permission to perform this action.');
      expect(JSON.stringify(res.body)).toMatch(/another user/);
      expect((await t.http().get('/api/experiment/1').set(bearer(dave))).status).toBe(200);
      expect((await t.http().get('/api/job/').set(bearer(dave))).status).toBe(200);
    });

    const cases: Array<[string, () => ReturnType<typeof submit>, RegExp]> = [
      ['missing experimentName', () => submit({ queue: 'tensorflow_cpu', entryPoint: 'main' }), /missing required field 'experimentName'/],
      ['missing queue', () => submit({ experimentName: 'mnist', entryPoint: 'main' }), /missing required field 'queue'/],
      ['missing entryPoint', () => submit({ experimentName: 'mnist', queue: 'tensorflow_cpu' }), /missing required field 'entryPoint'/],
      ['missing workflow file', () => submit(camel, null), /workflow/],
      ['a JSON body (no file)', () => t.http().post('/api/job/').set(bearer(user)).send({ experimentName: 'mnist', queue: 'tensorflow_cpu', entryPoint: 'main' }) as ReturnType<typeof submit>, /workflow/],
      ['archived experiment', () => submit({ ...camel, experimentName: 'old' }), /archived/],
      ['undeclared entry point', () => submit({ ...camel, entryPoint: 'nope' }), /entry point 'nope' not found/],
      ['missing required parameter', () => submit({ ...camel, entryPoint: 'train', entryPointKwargs: '' }), /missing required parameter 'epochs'/],
      ['bad float', () => submit({ ...camel, entryPoint: 'train', entryPointKwargs: '-P epochs=1 -P lr=fast' }), /'lr' must be a float/],
      ['bad int', () => submit({ ...camel, entryPoint: 'train', entryPointKwargs: '-P epochs=many' }), /'epochs' must be an int/],
      ['unclosed quote', () => submit({ ...camel, entryPointKwargs: '-P var1="x' }), /quote/],
      ['stray word', () => submit({ ...camel, entryPointKwargs: 'hello -P var1=x' }), /hello/],
      ['bad timeout', () => submit({ ...camel, timeout: '12 hours' }), /timeout '12 hours'/],
      ['unknown dependsOn', () => submit({ ...camel, dependsOn: randomUUID() }), /does not exist/],
      ['dependsOn not a UUID', () => submit({ ...camel, dependsOn: 'job-1' }), /job-1/],
      ['not an archive', () => submit(camel, Buffer.from('%PDF-1.4 not an archive'), 'w.tar.gz'), /not a tar, tar\.gz or zip/],
      ['no MLproject', () => submit(camel, makeTarGz({ 'main.py': 'x' })), /no MLproject/],
      ['two MLprojects', () => submit(camel, makeTarGz({ MLproject: WORKFLOW_FILES.MLproject, 'x/MLproject': WORKFLOW_FILES.MLproject })), /more than one MLproject/],
      ['member with ..', () => submit(camel, makeTarGz({ ...WORKFLOW_FILES, '../escape.py': 'x' })), /\.\./],
      ['absolute member', () => submit(camel, makeTarGz({ ...WORKFLOW_FILES, '/tmp/abs.py': 'x' })), /abs\.py/],
      ['symlink out', () => submit(camel, makeTarGz({ ...WORKFLOW_FILES, link: { type: 'symlink', target: '../../etc/passwd' } })), /link/],
    ];
    it.each(cases)('%s → 400 JobSubmissionError with a detail', async (_name, send, detail) => {
      const res = await send();
      expect(res.status).toBe(400);
      expect(res.body.message).toBe(SUBMISSION_ERROR);
      expect(res.body.detail).toMatch(detail);
    });

    it('accepts a zip; still nothing else written by the refusals', async () => {
      const res = await submit(camel, makeZip(WORKFLOW_FILES), 'workflows.zip');
      expect(res.status).toBe(200);
      expect(res.body.workflowUri).toMatch(/\/workflows\.zip$/);
      before += 2; // the accepted job and its blob
    });
  });

  it('streams a few thousand jobs as one valid JSON array in insertion order', async () => {
    const pg = new Client({ connectionString: t.databaseUrl });
    await pg.connect();
    try {
      // Rows cloned in SQL (fast); the list must page through several keyset batches.
      await pg.query(`INSERT INTO job (id, experiment_id, queue_id, owner_id, status, entry_point, entry_point_kwargs, parameters, timeout,
                        timeout_seconds, workflow_key, workflow_uri)
                      SELECT gen_random_uuid(), experiment_id, queue_id, owner_id, 'finished', 'bulk-' || g, NULL, '{}', '1h', 3600, workflow_key, workflow_uri
                        FROM job, generate_series(1, 1300) g WHERE id = $1 ORDER BY g`, [first.jobId]);
      const expected = (await pg.query('SELECT id FROM job ORDER BY seq')).rows.map((r) => r.id);
      const res = await t
        .http()
        .get('/api/job/')
        .set(bearer(user))
        .buffer(true)
        .parse((r, cb) => {
          let text = '';
          r.setEncoding('utf8');
          r.on('data', (c: string) => (text += c));
          r.on('end', () => cb(null, text));
        });
      expect(res.status).toBe(200);
      const list = JSON.parse(res.body as string) as Array<{ jobId: string; entryPoint: string; status: string }>;
      expect(list.map((j) => j.jobId)).toEqual(expected);
      expect(list.length).toBeGreaterThan(1300);
      expect(list[list.length - 1]).toMatchObject({ entryPoint: 'bulk-1300', status: 'finished' });
      for (const j of list) expect(Object.keys(j).sort()).toEqual(JOB_KEYS);
    } finally {
      await pg.end();
    }
  });
});

describe('Dioptra jobs: ownership with AUTH_DISABLED', () => {
  it('lets every (unauthenticated) caller submit into any experiment, as the bootstrap admin', async () => {
    const t = await startApp({ env: { AUTH_DISABLED: 'true' } });
    const pg = new Client({ connectionString: t.databaseUrl });
    try {
      await pg.connect();
      const erin = (await t.http().post('/api/v1/users').send({ username: 'erin', password: 'erin-password' }).expect(201)).body.user.id;
      const id = (await t.http().post('/api/experiment/').send({ name: 'erins' }).expect(200)).body.experimentId;
      await pg.query('UPDATE experiment SET owner_id = $1 WHERE id = $2', [erin, id]);
      await t.http().post('/api/queue/').send({ name: 'q' }).expect(200);
      const res = await t.http().post('/api/job/').field('experimentName', 'erins').field('queue', 'q').field('entryPoint', 'main').attach('workflow', workflowTarGz(), 'w.tar.gz');
      expect(res.status).toBe(200);
      expect(res.body.experimentId).toBe(id);
    } finally {
      await pg.end();
      await t.close();
    }
  });
});

describe('Dioptra jobs: upload bound', () => {
  it('answers 413 with Dioptra’s text for a workflow over MAX_WORKFLOW_BYTES and stores nothing', async () => {
    const t = await startApp({ env: { MAX_WORKFLOW_BYTES: '2048' } });
    try {
      const admin = await login(t, 'admin', ADMIN_PASSWORD);
      await t.http().post('/api/experiment/').set(bearer(admin)).send({ name: 'mnist' });
      await t.http().post('/api/queue/').set(bearer(admin)).send({ name: 'tensorflow_cpu' });
      const big = makeTarGz({ ...WORKFLOW_FILES, 'noise.bin': require('node:crypto').randomBytes(200 * 1024) });
      const res = await t
        .http()
        .post('/api/job/')
        .set(bearer(admin))
        .field('experimentName', 'mnist')
        .field('queue', 'tensorflow_cpu')
        .field('entryPoint', 'main')
        .attach('workflow', big, 'workflows.tar.gz');
      expect(res.status).toBe(413);
      expect(res.body.message).toBe('Request Entity Too Large - The data value transmitted exceeds the capacity limit.');
      expect((await t.http().get('/api/job/').set(bearer(admin))).body).toEqual([]);
      const pg = new Client({ connectionString: t.databaseUrl });
      await pg.connect();
      expect(Number((await pg.query('SELECT count(*) AS n FROM blob')).rows[0].n)).toBe(0);
      await pg.end();
      // The lifecycle repository is reachable for the worker from the same module graph.
      expect(t.app.get(JobLifecycleRepository)).toBeDefined();
    } finally {
      await t.close();
    }
  });
});
