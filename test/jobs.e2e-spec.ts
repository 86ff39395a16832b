// v1 jobs through HTTP: submission and every submission check, reads, lists, cancel, logs, workflow download.
// Role 'api' (no worker), so jobs stay queued; running jobs are the runner's tests.
import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import { JobDispatcher, queueBullName } from '../src/jobs/job-dispatcher';
import { JobLifecycleRepository } from '../src/jobs/job-lifecycle.repository';
import { RedisService } from '../src/redis/redis.service';
import { makeTarGz, makeZip } from './utils/archives';
import { ADMIN_PASSWORD, bearer, createUser, login, startApp, TestApp } from './utils/harness';
import { createExperimentAndQueue, dioptraShapedTarGz, WORKFLOW_FILES, workflowTarGz, workflowZip } from './utils/jobs-fixtures';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const JOB_KEYS = [
  'id',
  'experimentId',
  'experimentName',
  'queueId',
  'queueName',
  'username',
  'status',
  'entryPoint',
  'entryPointKwargs',
  'parameters',
  'dependsOn',
  'timeout',
  'workflowUri',
  'mlflowRunId',
  'createdAt',
  'lastModified',
  'startedAt',
  'endedAt',
  'exitCode',
  'failureReason',
].sort();

type Fields = Record<string, string>;

describe('v1 jobs', () => {
  let t: TestApp;
  let pg: Client;
  let admin: string;
  let alice: string;
  let bob: string;
  let experimentId: number;
  let queueId: number;

  /** POST /api/v1/jobs with the given fields and (unless `file: null`) an archive. */
  function submit(token: string, fields: Fields, file: Buffer | null = workflowTarGz(), filename = 'workflows.tar.gz') {
    let req = t.http().post('/api/v1/jobs').set(bearer(token));
    for (const [k, v] of Object.entries(fields)) req = req.field(k, v);
    if (file) req = req.attach('workflow', file, filename);
    return req;
  }
  const base: Fields = { experimentName: 'mnist', queue: 'tensorflow_cpu', entryPoint: 'main' };
  const lifecycle = () => t.app.get(JobLifecycleRepository);
  const counts = async () => {
    const r = await pg.query(`SELECT (SELECT count(*) FROM job)::int AS jobs, (SELECT count(*) FROM blob)::int AS blobs`);
    return r.rows[0] as { jobs: number; blobs: number };
  };

  beforeAll(async () => {
    t = await startApp();
    pg = new Client({ connectionString: t.databaseUrl });
    await pg.connect();
    admin = await login(t, 'admin', ADMIN_PASSWORD);
    alice = (await createUser(t, admin, 'alice')).token;
    bob = (await createUser(t, admin, 'bob')).token;
    // alice owns mnist (she submits into it); bob has his own experiment.
    ({ experimentId, queueId } = await createExperimentAndQueue(t, admin, 'mnist', 'tensorflow_cpu', alice));
    await t.http().post('/api/v1/experiments').set(bearer(bob)).send({ name: 'bob-mnist' }).expect(201);
  });
  afterAll(async () => {
    await pg.end();
    await t.close();
  });

  describe('submission', () => {
    it('accepts a tar.gz with entryPointKwargs and answers 201 {job} in the documented shape', async () => {
      const res = await submit(alice, { ...base, entryPointKwargs: '-P var1=testing' });
      expect(res.status).toBe(201);
      const job = res.body.job;
      expect(Object.keys(job).sort()).toEqual(JOB_KEYS);
      expect(job).toMatchObject({
        experimentId,
        experimentName: 'mnist',
        queueId,
        queueName: 'tensorflow_cpu',
        username: 'alice',
        status: 'queued',
        entryPoint: 'main',
        entryPointKwargs: '-P var1=testing',
        parameters: { var1: 'testing' },
        dependsOn: null,
        timeout: '24h',
        mlflowRunId: null,
        startedAt: null,
        endedAt: null,
        exitCode: null,
        failureReason: null,
      });
      expect(job.id).toMatch(UUID4);
      expect(job.workflowUri).toMatch(/^db:\/\/workflow\/[0-9a-f]{32}\/workflows\.tar\.gz$/);
      expect(job.createdAt).toMatch(ISO);
      expect(job.lastModified).toBe(job.createdAt);

      const got = await t.http().get(`/api/v1/jobs/${job.id}`).set(bearer(bob));
      expect(got.status).toBe(200);
      expect(got.body).toEqual({ job });
    });

    it('hands a queued job to its Bull queue with data {jobId}, and the sweep re-adds one Redis lost', async () => {
      const res = await submit(alice, base);
      const queue = t.app.get(RedisService).bullQueue(queueBullName(queueId));
      const held = await queue.getJob(res.body.job.id);
      expect(held?.data).toEqual({ jobId: res.body.job.id });
      await held!.remove();
      expect(await queue.getJob(res.body.job.id)).toBeNull();
      await t.app.get(JobDispatcher).sweep();
      expect((await queue.getJob(res.body.job.id))?.data).toEqual({ jobId: res.body.job.id });
    });

    it('accepts parameters as a JSON object, by experimentId and queueId, and stores the formatted kwargs', async () => {
      const res = await submit(alice, {
        experimentId: String(experimentId),
        queueId: String(queueId),
        entryPoint: 'train',
        parameters: JSON.stringify({ epochs: 3, lr: '0.5', note: 'two words' }),
        timeout: '30m',
      });
      expect(res.status).toBe(201);
      expect(res.body.job.parameters).toEqual({ epochs: '3', lr: '0.5', note: 'two words' });
      expect(res.body.job.entryPointKwargs).toBe("-P epochs=3 -P lr=0.5 -P 'note=two words'");
      expect(res.body.job.timeout).toBe('30m');
    });

    it('accepts a zip, a .py or .sh file beside the MLproject, and bare-second or day timeouts', async () => {
      expect((await submit(alice, base, workflowZip(), 'flow.zip')).status).toBe(201);
      expect((await submit(alice, { ...base, entryPoint: 'main.py' })).status).toBe(201);
      expect((await submit(alice, { ...base, entryPoint: 'run.sh', timeout: '3600' })).body.job.timeout).toBe('3600');
      expect((await submit(alice, { ...base, timeout: '2d' })).body.job.timeout).toBe('2d');
      // An MLproject in a subdirectory: its siblings are the project files.
      const nested = makeTarGz({ 'proj/MLproject': WORKFLOW_FILES.MLproject, 'proj/main.py': 'x', 'proj/tool.py': 'y' });
      expect((await submit(alice, { ...base, entryPoint: 'tool.py' }, nested)).status).toBe(201);
      // A plain (uncompressed) tar, named anything: the format is read from the bytes.
      expect((await submit(alice, base, makeTarGz(WORKFLOW_FILES, { gzip: false }), 'archive.bin')).status).toBe(201);
    });

    it('names the stored file with secure_filename', async () => {
      const res = await submit(alice, base, workflowTarGz(), '../../my flow.tar.gz');
      expect(res.body.job.workflowUri).toMatch(/^db:\/\/workflow\/[0-9a-f]{32}\/my_flow\.tar\.gz$/);
    });

    it('accepts every entry point of a Dioptra-shaped MLproject (bool, str, a float defaulting to false), defaults as MLflow renders them', async () => {
      const train = await submit(alice, { ...base, entryPoint: 'train' }, dioptraShapedTarGz());
      expect(train.status).toBe(201);
      expect(train.body.job.parameters).toEqual({});
      const fgm = await submit(alice, { ...base, entryPoint: 'fgm', parameters: JSON.stringify({ run_id: 'abc', eps: 0.5, targeted: 'True' }) }, dioptraShapedTarGz());
      expect(fgm.status).toBe(201);
      expect(fgm.body.job.parameters).toEqual({ run_id: 'abc', eps: '0.5', targeted: 'True' });
      // The odd entry point blocks only itself; a given float is checked, a default never.
      const odd = await submit(alice, { ...base, entryPoint: 'odd' }, dioptraShapedTarGz());
      expect({ status: odd.status, code: odd.body.code }).toEqual({ status: 400, code: 'WORKFLOW_INVALID' });
      expect(odd.body.message).toBe("MLproject:35: parameter 'weights' of entry point 'odd' has a non-scalar default");
      const badFloat = await submit(alice, { ...base, entryPoint: 'fgm', entryPointKwargs: '-P run_id=r -P minimal=false' }, dioptraShapedTarGz());
      expect({ status: badFloat.status, code: badFloat.body.code, message: badFloat.body.message }).toEqual({
        status: 400,
        code: 'PARAMETER_INVALID',
        message: "parameter 'minimal' must be a float, got 'false'",
      });
      const missing = await submit(alice, { ...base, entryPoint: 'fgm' }, dioptraShapedTarGz());
      expect({ status: missing.status, message: missing.body.message }).toEqual({ status: 400, message: "missing required parameter 'run_id' for entry point 'fgm'" });
    });

    it('lets an admin submit into anyone’s experiment', async () => {
      const res = await submit(admin, base);
      expect(res.status).toBe(201);
      expect(res.body.job).toMatchObject({ experimentName: 'mnist', username: 'admin' });
    });

    describe('refuses, writing nothing', () => {
      let before: { jobs: number; blobs: number };
      beforeEach(async () => {
        before = await counts();
      });
      afterEach(async () => {
        expect(await counts()).toEqual(before);
      });

      const cases: Array<[string, () => Promise<{ status: number; body: Record<string, unknown> }>, number, string, RegExp]> = [
        ['an unknown experiment name', () => submit(alice, { ...base, experimentName: 'nope' }), 404, 'EXPERIMENT_NOT_FOUND', /nope/],
        ['an unknown experiment id', () => submit(alice, { queue: 'tensorflow_cpu', entryPoint: 'main', experimentId: '999' }), 404, 'EXPERIMENT_NOT_FOUND', /999/],
        ['a huge experiment id', () => submit(alice, { queue: 'tensorflow_cpu', entryPoint: 'main', experimentId: '9999999999' }), 404, 'EXPERIMENT_NOT_FOUND', /9999999999/],
        ['a non-numeric experiment id', () => submit(alice, { queue: 'tensorflow_cpu', entryPoint: 'main', experimentId: 'abc' }), 400, 'VALIDATION_FAILED', /experimentId/],
        ['both experimentId and experimentName', () => submit(alice, { ...base, experimentId: '1' }), 400, 'JOB_SUBMISSION_INVALID', /not both/],
        ['no experiment', () => submit(alice, { queue: 'tensorflow_cpu', entryPoint: 'main' }), 400, 'JOB_SUBMISSION_INVALID', /experimentId or experimentName/],
        ['an unknown queue', () => submit(alice, { ...base, queue: 'nope' }), 404, 'QUEUE_NOT_FOUND', /nope/],
        ['no entry point', () => submit(alice, { experimentName: 'mnist', queue: 'tensorflow_cpu' }), 400, 'VALIDATION_FAILED', /entryPoint/],
        ['an unknown form field', () => submit(alice, { ...base, color: 'red' }), 400, 'VALIDATION_FAILED', /color/],
        ['no workflow file', () => submit(alice, base, null), 400, 'JOB_SUBMISSION_INVALID', /workflow/],
        ['a file in another field', () => t.http().post('/api/v1/jobs').set(bearer(alice)).field('experimentName', 'mnist').field('queue', 'tensorflow_cpu').field('entryPoint', 'main').attach('file', workflowTarGz(), 'w.tgz'), 400, 'JOB_SUBMISSION_INVALID', /'file'/],
        ['a file that is not an archive', () => submit(alice, base, Buffer.from('just some text\n'.repeat(50)), 'w.tar.gz'), 400, 'WORKFLOW_INVALID', /not a tar, tar\.gz or zip/],
        ['an archive without MLproject', () => submit(alice, base, makeTarGz({ 'main.py': 'x' })), 400, 'WORKFLOW_INVALID', /no MLproject/],
        ['an archive with two MLprojects', () => submit(alice, base, makeTarGz({ MLproject: WORKFLOW_FILES.MLproject, 'b/MLproject': WORKFLOW_FILES.MLproject })), 400, 'WORKFLOW_INVALID', /more than one MLproject/],
        ['a member with ..', () => submit(alice, base, makeTarGz({ ...WORKFLOW_FILES, '../x': 'evil' })), 400, 'WORKFLOW_UNSAFE', /\.\./],
        ['a member with an absolute path', () => submit(alice, base, makeTarGz({ ...WORKFLOW_FILES, '/abs/x': 'evil' })), 400, 'WORKFLOW_UNSAFE', /\/abs\/x/],
        ['a zip member with ..', () => submit(alice, base, makeZip({ ...WORKFLOW_FILES, '../x': 'evil' }), 'w.zip'), 400, 'WORKFLOW_UNSAFE', /\.\./],
        ['a symlink out of the archive', () => submit(alice, base, makeTarGz({ ...WORKFLOW_FILES, etc: { type: 'symlink', target: '/etc' } })), 400, 'WORKFLOW_UNSAFE', /etc/],
        ['a device member', () => submit(alice, base, makeTarGz({ ...WORKFLOW_FILES, dev: { type: 'fifo' } })), 400, 'WORKFLOW_UNSAFE', /dev/],
        ['an undeclared entry point', () => submit(alice, { ...base, entryPoint: 'nope' }), 400, 'ENTRY_POINT_NOT_FOUND', /'nope'.*main, train, second/],
        ['a missing required parameter', () => submit(alice, { ...base, entryPoint: 'train' }), 400, 'PARAMETER_INVALID', /missing required parameter 'epochs'/],
        ['a bad int', () => submit(alice, { ...base, entryPoint: 'train', entryPointKwargs: '-P epochs=1.5' }), 400, 'PARAMETER_INVALID', /'epochs' must be an int, got '1\.5'/],
        ['a bad float', () => submit(alice, { ...base, entryPoint: 'train', entryPointKwargs: '-P epochs=1 -P lr=abc' }), 400, 'PARAMETER_INVALID', /'lr' must be a float/],
        ['kwargs with an unclosed quote', () => submit(alice, { ...base, entryPointKwargs: "-P var1='x" }), 400, 'JOB_SUBMISSION_INVALID', /quote/],
        ['kwargs with a stray word', () => submit(alice, { ...base, entryPointKwargs: '-P var1=x oops' }), 400, 'JOB_SUBMISSION_INVALID', /oops/],
        ['kwargs with a shell operator', () => submit(alice, { ...base, entryPointKwargs: '-P var1=x; rm -rf /' }), 400, 'JOB_SUBMISSION_INVALID', /./],
        ['both parameters and entryPointKwargs', () => submit(alice, { ...base, parameters: '{"var1":"a"}', entryPointKwargs: '-P var1=b' }), 400, 'JOB_SUBMISSION_INVALID', /not both/],
        ['parameters that are not a JSON object', () => submit(alice, { ...base, parameters: '[1,2]' }), 400, 'JOB_SUBMISSION_INVALID', /JSON object/],
        ['a malformed timeout', () => submit(alice, { ...base, timeout: '12x' }), 400, 'JOB_SUBMISSION_INVALID', /timeout '12x'/],
        ['a fractional timeout', () => submit(alice, { ...base, timeout: '1.5h' }), 400, 'JOB_SUBMISSION_INVALID', /timeout/],
        ['a negative timeout', () => submit(alice, { ...base, timeout: '-5' }), 400, 'JOB_SUBMISSION_INVALID', /timeout/],
        ['a timeout too large to hold', () => submit(alice, { ...base, timeout: '99999999999d' }), 400, 'JOB_SUBMISSION_INVALID', /too large/],
        ['an unknown dependsOn', () => submit(alice, { ...base, dependsOn: randomUUID() }), 400, 'DEPENDENCY_NOT_FOUND', /does not exist/],
        ['a dependsOn that is not a UUID', () => submit(alice, { ...base, dependsOn: 'not-a-job' }), 400, 'DEPENDENCY_NOT_FOUND', /not-a-job/],
      ];
      it.each(cases)('%s', async (_name, send, status, code, message) => {
        const res = await send();
        expect({ status: res.status, code: res.body.code }).toEqual({ status, code });
        expect(res.body.message).toMatch(message);
      });

      it('another user’s experiment (403 PERMISSION_DENIED); an admin may, anyone may read it', async () => {
        const denied = await submit(bob, base);
        expect(denied.status).toBe(403);
        expect(denied.body).toMatchObject({ statusCode: 403, error: 'Forbidden', code: 'PERMISSION_DENIED' });
        expect(denied.body.message).toMatch(/belongs to another user/);
        const byId = await submit(bob, { experimentId: String(experimentId), queueId: String(queueId), entryPoint: 'main' });
        expect({ status: byId.status, code: byId.body.code }).toEqual({ status: 403, code: 'PERMISSION_DENIED' });
        expect((await t.http().get(`/api/v1/experiments/${experimentId}`).set(bearer(bob))).status).toBe(200);
        expect((await t.http().get(`/api/v1/experiments/${experimentId}/jobs`).set(bearer(bob))).status).toBe(200);
      });

      it('an archived experiment (400) and a locked queue (403)', async () => {
        const e = await t.http().post('/api/v1/experiments').set(bearer(admin)).send({ name: 'old-one' });
        expect((await t.http().post(`/api/v1/experiments/${e.body.experiment.id}/archive`).set(bearer(admin))).status).toBe(200);
        const archived = await submit(alice, { ...base, experimentName: 'old-one' });
        expect({ status: archived.status, code: archived.body.code }).toEqual({ status: 400, code: 'EXPERIMENT_ARCHIVED' });

        const q = await t.http().post('/api/v1/queues').set(bearer(admin)).send({ name: 'locked-q' });
        expect((await t.http().put(`/api/v1/queues/${q.body.queue.id}/lock`).set(bearer(admin))).status).toBe(200);
        const locked = await submit(alice, { ...base, queue: 'locked-q' });
        expect(locked.status).toBe(403);
        expect(locked.body).toMatchObject({ statusCode: 403, error: 'Forbidden', code: 'QUEUE_LOCKED', message: 'The requested queue is locked.' });
      });
    });
  });

  describe('dependencies', () => {
    it('defers a job whose parent has not finished, queues it when the parent finished, fails it when the parent failed', async () => {
      const parent = (await submit(alice, base)).body.job;
      const child = await submit(alice, { ...base, dependsOn: parent.id });
      expect(child.status).toBe(201);
      expect(child.body.job).toMatchObject({ status: 'deferred', dependsOn: parent.id });

      // Parent runs and finishes: the deferred child is released.
      await lifecycle().claim(parent.id, 'test-host', 'a'.repeat(32));
      const end = await lifecycle().end(parent.id, { status: 'finished', exitCode: 0, failureReason: null });
      expect(end).toEqual({ ended: true, released: [{ id: child.body.job.id, queueId }] });
      expect((await t.http().get(`/api/v1/jobs/${child.body.job.id}`).set(bearer(alice))).body.job.status).toBe('queued');
      // A new child of a finished parent is queued at once.
      expect((await submit(alice, { ...base, dependsOn: parent.id })).body.job.status).toBe('queued');

      const failing = (await submit(alice, base)).body.job;
      await lifecycle().claim(failing.id, 'test-host', 'b'.repeat(32));
      await lifecycle().end(failing.id, { status: 'failed', exitCode: 2, failureReason: 'exit code 2' });
      const orphan = await submit(alice, { ...base, dependsOn: failing.id });
      expect(orphan.status).toBe(201);
      expect(orphan.body.job).toMatchObject({ status: 'failed', failureReason: `dependency ${failing.id} failed` });
      expect(orphan.body.job.endedAt).toMatch(ISO);
    });
  });

  describe('cancel', () => {
    it('cancels a queued job (owner), fails its deferred descendants, and refuses a second cancel', async () => {
      const job = (await submit(alice, base)).body.job;
      const child = (await submit(alice, { ...base, dependsOn: job.id })).body.job;
      const grandchild = (await submit(bob, { ...base, experimentName: 'bob-mnist', dependsOn: child.id })).body.job;

      const other = await t.http().post(`/api/v1/jobs/${job.id}/cancel`).set(bearer(bob));
      expect(other.status).toBe(403);
      expect(other.body.code).toBe('PERMISSION_DENIED');

      const res = await t.http().post(`/api/v1/jobs/${job.id}/cancel`).set(bearer(alice));
      expect(res.status).toBe(200);
      expect(res.body).toEqual({});
      const after = (await t.http().get(`/api/v1/jobs/${job.id}`).set(bearer(alice))).body.job;
      expect(after).toMatchObject({ status: 'canceled', failureReason: 'canceled by alice', exitCode: null });
      expect(after.endedAt).toMatch(ISO);
      const c = (await t.http().get(`/api/v1/jobs/${child.id}`).set(bearer(alice))).body.job;
      expect(c).toMatchObject({ status: 'failed', failureReason: `dependency ${job.id} failed` });
      const g = (await t.http().get(`/api/v1/jobs/${grandchild.id}`).set(bearer(alice))).body.job;
      expect(g).toMatchObject({ status: 'failed', failureReason: `dependency ${child.id} failed` });

      const again = await t.http().post(`/api/v1/jobs/${job.id}/cancel`).set(bearer(alice));
      expect(again.status).toBe(400);
      expect(again.body.code).toBe('JOB_NOT_CANCELABLE');
      // A failed (ended) job cannot be canceled either.
      expect((await t.http().post(`/api/v1/jobs/${child.id}/cancel`).set(bearer(alice))).status).toBe(400);
    });

    it('lets an admin cancel anyone’s deferred job', async () => {
      const parent = (await submit(alice, base)).body.job;
      const child = (await submit(alice, { ...base, dependsOn: parent.id })).body.job;
      expect((await t.http().post(`/api/v1/jobs/${child.id}/cancel`).set(bearer(admin))).status).toBe(200);
      const c = (await t.http().get(`/api/v1/jobs/${child.id}`).set(bearer(admin))).body.job;
      expect(c).toMatchObject({ status: 'canceled', failureReason: 'canceled by admin' });
      expect((await t.http().get(`/api/v1/jobs/${parent.id}`).set(bearer(admin))).body.job.status).toBe('queued');
    });

    it('cancels a started job and tells the workers through Redis', async () => {
      const job = (await submit(alice, base)).body.job;
      await lifecycle().claim(job.id, 'test-host', 'c'.repeat(32));
      const heard: string[] = [];
      const sub = t.app.get(RedisService).subscribe('job-cancel', (m) => heard.push(m));
      await new Promise((r) => setTimeout(r, 200));
      expect((await t.http().post(`/api/v1/jobs/${job.id}/cancel`).set(bearer(alice))).status).toBe(200);
      const after = (await t.http().get(`/api/v1/jobs/${job.id}`).set(bearer(alice))).body.job;
      expect(after).toMatchObject({ status: 'canceled', failureReason: 'canceled by alice', mlflowRunId: 'c'.repeat(32) });
      for (let i = 0; i < 50 && heard.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(heard).toEqual([job.id]);
      sub.disconnect();
      // The worker's own end does nothing now.
      expect((await lifecycle().end(job.id, { status: 'failed', exitCode: -15, failureReason: 'killed' })).ended).toBe(false);
    });

    it('404s for unknown and malformed ids', async () => {
      expect((await t.http().post(`/api/v1/jobs/${randomUUID()}/cancel`).set(bearer(alice))).status).toBe(404);
      expect((await t.http().post(`/api/v1/jobs/nope/cancel`).set(bearer(alice))).body.code).toBe('JOB_NOT_FOUND');
    });
  });

  describe('reads', () => {
    it('GET /api/v1/jobs/{id}: unknown or malformed id → 404 JOB_NOT_FOUND', async () => {
      for (const id of [randomUUID(), 'not-a-uuid', '1', "x'; drop table job; --"]) {
        const res = await t.http().get(`/api/v1/jobs/${encodeURIComponent(id)}`).set(bearer(alice));
        expect({ status: res.status, code: res.body.code }).toEqual({ status: 404, code: 'JOB_NOT_FOUND' });
      }
    });

    it('serves the workflow archive byte for byte with its file name', async () => {
      const bytes = makeTarGz({ ...WORKFLOW_FILES, 'data.bin': Buffer.from([0, 1, 2, 255, 254]) });
      const job = (await submit(alice, base, bytes, 'my flow.tgz')).body.job;
      const res = await t
        .http()
        .get(`/api/v1/jobs/${job.id}/workflow`)
        .set(bearer(bob))
        .buffer(true)
        .parse((r, cb) => {
          const chunks: Buffer[] = [];
          r.on('data', (c: Buffer) => chunks.push(c));
          r.on('end', () => cb(null, Buffer.concat(chunks)));
        });
      expect(res.status).toBe(200);
      expect(Buffer.compare(res.body as Buffer, bytes)).toBe(0);
      expect(res.headers['content-disposition']).toBe('attachment; filename="my_flow.tgz"');
      expect((await t.http().get(`/api/v1/jobs/${randomUUID()}/workflow`).set(bearer(bob))).status).toBe(404);
    });
  });

  describe('logs', () => {
    let jobId: string;
    beforeAll(async () => {
      jobId = (await submit(alice, base)).body.job.id;
      await lifecycle().claim(jobId, 'test-host', 'd'.repeat(32));
      const time = new Date('2026-01-02T03:04:05.678Z');
      await lifecycle().appendLogs(
        jobId,
        Array.from({ length: 25 }, (_, i) => ({ stream: i % 5 === 0 ? ('stderr' as const) : ('stdout' as const), line: `line ${i}`, time })),
      );
    });

    it('pages by id with the v1 pagination', async () => {
      const res = await t.http().get(`/api/v1/jobs/${jobId}/logs?limit=10&offset=5`).set(bearer(bob));
      expect(res.status).toBe(200);
      expect(res.body.pagination).toEqual({ offset: 5, limit: 10, startIndex: 5, endIndex: 15, total: 25 });
      expect(res.body.logs.map((l: { line: string }) => l.line)).toEqual(Array.from({ length: 10 }, (_, i) => `line ${i + 5}`));
      expect(res.body.logs[0]).toEqual({ id: expect.any(Number), stream: 'stderr', line: 'line 5', timestamp: '2026-01-02T03:04:05.678Z' });
      const ids = res.body.logs.map((l: { id: number }) => l.id);
      expect([...ids].sort((a, b) => a - b)).toEqual(ids);

      const desc = await t.http().get(`/api/v1/jobs/${jobId}/logs?orderBy=desc&limit=2`).set(bearer(bob));
      expect(desc.body.logs.map((l: { line: string }) => l.line)).toEqual(['line 24', 'line 23']);
      const tail = await t.http().get(`/api/v1/jobs/${jobId}/logs?offset=-3`).set(bearer(bob));
      expect(tail.body.logs.map((l: { line: string }) => l.line)).toEqual(['line 22', 'line 23', 'line 24']);
      const past = await t.http().get(`/api/v1/jobs/${jobId}/logs?offset=100`).set(bearer(bob));
      expect(past.body).toEqual({ logs: [], pagination: { offset: 100, limit: 100, startIndex: 25, endIndex: 25, total: 25 } });
      expect((await t.http().get(`/api/v1/jobs/${randomUUID()}/logs`).set(bearer(bob))).status).toBe(404);
      expect((await t.http().get(`/api/v1/jobs/${jobId}/logs?follow=yes`).set(bearer(bob))).status).toBe(400);
    });

    it('?follow=true streams NDJSON until the job has ended and every line was sent', async () => {
      const lines: string[] = [];
      const done = t
        .http()
        .get(`/api/v1/jobs/${jobId}/logs?follow=true`)
        .set(bearer(bob))
        .buffer(true)
        .parse((r, cb) => {
          let text = '';
          r.setEncoding('utf8');
          r.on('data', (c: string) => {
            text += c;
            lines.push(...c.split('\n').filter(Boolean));
          });
          r.on('end', () => cb(null, text));
        });
      const finished = done.then((res) => res);
      await new Promise((r) => setTimeout(r, 500));
      await lifecycle().appendLogs(jobId, [{ stream: 'stdout', line: 'late line', time: new Date() }]);
      await lifecycle().end(jobId, { status: 'finished', exitCode: 0, failureReason: null });
      const res = await finished;
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
      const objects = (res.body as string).trim().split('\n').map((l) => JSON.parse(l));
      expect(objects).toHaveLength(26);
      expect(objects[25]).toMatchObject({ stream: 'stdout', line: 'late line' });
      expect(objects.map((o) => o.line).slice(0, 3)).toEqual(['line 0', 'line 1', 'line 2']);
      expect(lines.length).toBe(26);
    }, 20000);

    it('stores lines with NUL bytes (Postgres text cannot hold them) and many lines in one insert', async () => {
      const other = (await submit(alice, base)).body.job.id;
      const many = Array.from({ length: 5000 }, (_, i) => ({ stream: 'stdout' as const, line: i === 0 ? 'a\u0000b' : `n${i}`, time: new Date() }));
      await lifecycle().appendLogs(other, many);
      const res = await t.http().get(`/api/v1/jobs/${other}/logs?limit=2`).set(bearer(bob));
      expect(res.body.pagination.total).toBe(5000);
      expect(res.body.logs.map((l: { line: string }) => l.line)).toEqual(['a\uFFFDb', 'n1']);
    });

    it('?follow=true stops when the client goes away', async () => {
      const running = (await submit(alice, base)).body.job.id;
      await lifecycle().claim(running, 'test-host', 'e'.repeat(32));
      const server = t.app.getHttpServer();
      const address = server.address() ?? (await new Promise((r) => server.listen(0, () => r(server.address()))));
      const controller = new AbortController();
      const res = await fetch(`http://127.0.0.1:${(address as { port: number }).port}/api/v1/jobs/${running}/logs?follow=true`, {
        headers: bearer(bob),
        signal: controller.signal,
      });
      expect(res.status).toBe(200);
      controller.abort();
      await new Promise((r) => setTimeout(r, 800));
      // The server is still answering, and the job is untouched.
      expect((await t.http().get(`/api/v1/jobs/${running}`).set(bearer(bob))).body.job.status).toBe('started');
    });

    it('?follow=true of an unknown job is a plain 404', async () => {
      const res = await t.http().get(`/api/v1/jobs/${randomUUID()}/logs?follow=true`).set(bearer(bob));
      expect(res.status).toBe(404);
      expect(res.body.code).toBe('JOB_NOT_FOUND');
    });
  });
});

describe('v1 job lists', () => {
  let t: TestApp;
  let admin: string;
  let alice: string;
  const ids: Record<string, string> = {};
  let e1: number;
  let e2: number;
  let q1: number;
  let q2: number;

  const submit = (token: string, fields: Record<string, string>) => {
    let req = t.http().post('/api/v1/jobs').set(bearer(token));
    for (const [k, v] of Object.entries(fields)) req = req.field(k, v);
    return req.attach('workflow', workflowTarGz(), 'workflows.tar.gz');
  };
  const list = async (query: string, token = admin) => {
    const res = await t.http().get(`/api/v1/jobs${query}`).set(bearer(token));
    if (res.status !== 200) throw new Error(`${query}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as { jobs: Array<{ id: string; status: string; createdAt: string; lastModified: string }>; pagination: Record<string, number> };
  };
  const names = (jobs: Array<{ id: string }>) => jobs.map((j) => Object.keys(ids).find((k) => ids[k] === j.id));

  beforeAll(async () => {
    t = await startApp();
    admin = await login(t, 'admin', ADMIN_PASSWORD);
    alice = (await createUser(t, admin, 'alice')).token;
    ({ experimentId: e1, queueId: q1 } = await createExperimentAndQueue(t, admin, 'one', 'q-one', alice));
    ({ experimentId: e2, queueId: q2 } = await createExperimentAndQueue(t, admin, 'two', 'q-two', alice));
    // a: admin e1 q1 queued; b: alice e1 q2 queued; c: alice e2 q1 deferred on a; d: admin e2 q2 queued then canceled
    ids.a = (await submit(admin, { experimentName: 'one', queue: 'q-one', entryPoint: 'main' })).body.job.id;
    ids.b = (await submit(alice, { experimentName: 'one', queue: 'q-two', entryPoint: 'main' })).body.job.id;
    ids.c = (await submit(alice, { experimentName: 'two', queue: 'q-one', entryPoint: 'main', dependsOn: ids.a })).body.job.id;
    ids.d = (await submit(admin, { experimentName: 'two', queue: 'q-two', entryPoint: 'main' })).body.job.id;
    await t.http().post(`/api/v1/jobs/${ids.b}/cancel`).set(bearer(admin));
  });
  afterAll(() => t.close());

  it('lists in insertion order by default with pagination', async () => {
    const all = await list('');
    expect(names(all.jobs)).toEqual(['a', 'b', 'c', 'd']);
    expect(all.pagination).toEqual({ offset: 0, limit: 100, startIndex: 0, endIndex: 4, total: 4 });
    expect(names((await list('?orderBy=desc')).jobs)).toEqual(['d', 'c', 'b', 'a']);
    const page = await list('?limit=2&offset=1');
    expect(names(page.jobs)).toEqual(['b', 'c']);
    expect(page.pagination).toEqual({ offset: 1, limit: 2, startIndex: 1, endIndex: 3, total: 4 });
    expect(names((await list('?offset=-1')).jobs)).toEqual(['d']);
    expect((await list('?offset=10')).pagination).toEqual({ offset: 10, limit: 100, startIndex: 4, endIndex: 4, total: 4 });
  });

  it('filters by status (repeatable), experiment, queue, users and dependsOn', async () => {
    expect(names((await list('?status=queued')).jobs)).toEqual(['a', 'd']);
    expect(names((await list('?status=canceled&status=deferred')).jobs)).toEqual(['b', 'c']);
    expect(names((await list(`?experimentId=${e2}`)).jobs)).toEqual(['c', 'd']);
    expect(names((await list(`?queueId=${q2}`)).jobs)).toEqual(['b', 'd']);
    expect(names((await list('?users=alice')).jobs)).toEqual(['b', 'c']);
    expect(names((await list('?users=ALICE&users=admin')).jobs)).toEqual(['a', 'b', 'c', 'd']);
    expect(names((await list(`?dependsOn=${ids.a}`)).jobs)).toEqual(['c']);
    const combined = await list(`?experimentId=${e1}&queueId=${q1}&status=queued`);
    expect(names(combined.jobs)).toEqual(['a']);
    expect(combined.pagination.total).toBe(1);
    expect((await list('?users=nobody')).jobs).toEqual([]);
  });

  it('sorts by createdAt, lastModified and status', async () => {
    expect(names((await list('?sortBy=createdAt')).jobs)).toEqual(['a', 'b', 'c', 'd']);
    // b was canceled last: the most recently modified.
    expect(names((await list('?sortBy=lastModified&orderBy=desc')).jobs)[0]).toBe('b');
    expect((await list('?sortBy=status')).jobs.map((j) => j.status)).toEqual(['canceled', 'deferred', 'queued', 'queued']);
  });

  it('refuses bad list queries with 400', async () => {
    for (const q of ['?limit=1001', '?limit=0', '?status=done', '?sortBy=name', '?experimentId=abc', '?experimentId=99999999999', '?dependsOn=nope', '?orderBy=up', '?color=red']) {
      const res = await t.http().get(`/api/v1/jobs${q}`).set(bearer(admin));
      expect({ q, status: res.status, code: res.body.code }).toEqual({ q, status: 400, code: 'VALIDATION_FAILED' });
    }
  });

  it('GET /api/v1/experiments/{id}/jobs lists one experiment’s jobs; unknown → 404', async () => {
    const res = await t.http().get(`/api/v1/experiments/${e2}/jobs?status=queued`).set(bearer(alice));
    expect(res.status).toBe(200);
    expect(names(res.body.jobs)).toEqual(['d']);
    expect(res.body.pagination.total).toBe(1);
    for (const id of ['999', 'abc', '99999999999']) {
      const r = await t.http().get(`/api/v1/experiments/${id}/jobs`).set(bearer(alice));
      expect({ status: r.status, code: r.body.code }).toEqual({ status: 404, code: 'EXPERIMENT_NOT_FOUND' });
    }
  });

  it('needs a token', async () => {
    expect((await t.http().get('/api/v1/jobs')).status).toBe(401);
    expect((await t.http().post('/api/v1/jobs').attach('workflow', workflowTarGz(), 'w.tgz')).status).toBe(401);
  });
});

describe('v1 job upload limits and Redis outage', () => {
  it('answers 413 for a workflow over MAX_WORKFLOW_BYTES and keeps no row and no blob', async () => {
    const t = await startApp({ env: { MAX_WORKFLOW_BYTES: '4096' } });
    try {
      const admin = await login(t, 'admin', ADMIN_PASSWORD);
      await createExperimentAndQueue(t, admin);
      const big = makeTarGz({ ...WORKFLOW_FILES, 'noise.bin': require('node:crypto').randomBytes(64 * 1024) });
      const res = await t
        .http()
        .post('/api/v1/jobs')
        .set(bearer(admin))
        .field('experimentName', 'mnist')
        .field('queue', 'tensorflow_cpu')
        .field('entryPoint', 'main')
        .attach('workflow', big, 'workflows.tar.gz');
      expect(res.status).toBe(413);
      expect(res.body).toMatchObject({ statusCode: 413, code: 'PAYLOAD_TOO_LARGE' });
      expect(res.body.message).toMatch(/4096/);
      const pg = new Client({ connectionString: t.databaseUrl });
      await pg.connect();
      const r = await pg.query(`SELECT (SELECT count(*) FROM job)::int AS jobs, (SELECT count(*) FROM blob)::int AS blobs`);
      await pg.end();
      expect(r.rows[0]).toEqual({ jobs: 0, blobs: 0 });
      // A small one still goes through.
      const ok = await t
        .http()
        .post('/api/v1/jobs')
        .set(bearer(admin))
        .field('experimentName', 'mnist')
        .field('queue', 'tensorflow_cpu')
        .field('entryPoint', 'main')
        .attach('workflow', workflowTarGz(), 'workflows.tar.gz');
      expect(ok.status).toBe(201);
    } finally {
      await t.close();
    }
  });

  it('accepts a job while Redis is unreachable and keeps it queued', async () => {
    const t = await startApp({ env: { REDIS_URL: 'redis://127.0.0.1:1' } });
    try {
      const admin = await login(t, 'admin', ADMIN_PASSWORD);
      await createExperimentAndQueue(t, admin);
      const res = await t
        .http()
        .post('/api/v1/jobs')
        .set(bearer(admin))
        .field('experimentName', 'mnist')
        .field('queue', 'tensorflow_cpu')
        .field('entryPoint', 'main')
        .attach('workflow', workflowTarGz(), 'workflows.tar.gz');
      expect(res.status).toBe(201);
      expect(res.body.job.status).toBe('queued');
      const got = await t.http().get(`/api/v1/jobs/${res.body.job.id}`).set(bearer(admin));
      expect(got.body.job.status).toBe('queued');
    } finally {
      await t.close();
    }
  }, 30000);
});
