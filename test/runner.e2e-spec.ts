// The worker in process (role 'all'): real archives, real bash/python3 processes, observed through the HTTP API.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { JobProcess } from '../src/sandbox/job-process';
import { BlobStore } from '../src/storage/blob-store';
import { fixtureTarGz, fixtureZip, getJob, lines, logsOf, sleep, submit, waitFor, waitForJob } from './fixtures/runner-kit';
import { makeTarGz } from './utils/archives';
import { ADMIN_PASSWORD, bearer, login, startApp, TestApp } from './utils/harness';

describe('runner: jobs run by an in-process worker', () => {
  let t: TestApp;
  let admin: string;
  let tmp: string;
  let experimentId: number;
  const base = { experimentName: 'runner', queue: 'main' };
  const grace = JobProcess.killGraceMs;

  beforeAll(async () => {
    JobProcess.killGraceMs = 2000;
    tmp = mkdtempSync(join(tmpdir(), 'alidade-runner-'));
    // These jobs write marker files on the host for the test to watch: no sandbox here (test/sandbox.e2e-spec.ts runs
    // the same lifecycle confined).
    t = await startApp({ role: 'all', env: { WORKER_QUEUES: 'main,later', WORKER_CONCURRENCY: '3', JOB_WORKDIR: join(tmp, 'work'), JOB_SANDBOX: 'none' } });
    admin = await login(t, 'admin', ADMIN_PASSWORD);
    experimentId = (await t.http().post('/api/v1/experiments').set(bearer(admin)).send({ name: 'runner' }).expect(201)).body.experiment.id;
    for (const name of ['main', 'idle']) await t.http().post('/api/v1/queues').set(bearer(admin)).send({ name }).expect(201);
  });

  afterAll(async () => {
    await t?.close();
    JobProcess.killGraceMs = grace;
    rmSync(tmp, { recursive: true, force: true });
  });

  it('runs a job to finished: parameters reach the command quoted, stdout/stderr captured, a 32-hex run id, workdir removed', async () => {
    const job = await submit(t, admin, { ...base, entryPoint: 'echo', parameters: { a: 'two words; $HOME' } });
    const done = await waitForJob(t, admin, job.id);
    expect(done).toMatchObject({ status: 'finished', exitCode: 0, failureReason: null });
    expect(done.mlflowRunId).toMatch(/^[0-9a-f]{32}$/);
    expect(done.startedAt).not.toBeNull();
    expect(done.endedAt).not.toBeNull();
    const logs = await logsOf(t, admin, job.id);
    expect(lines(logs, 'stdout')).toEqual(['a=two words; $HOME b=bee', `run id ${done.mlflowRunId}`]);
    expect(lines(logs, 'stderr')).toEqual(['to-stderr']);
    expect(lines(logs, 'system')).toEqual(expect.arrayContaining([expect.stringContaining("bash echo.sh 'two words; $HOME' bee")]));
    // Removed right after the outcome is recorded.
    await waitFor('the work directory to be removed', async () => !existsSync(join(tmp, 'work', job.id)), 5000);
  });

  it('answers a submission with the job as accepted (queued, no run id yet) even when a worker claims it at once', async () => {
    for (let i = 0; i < 5; i++) {
      const dioptra = await t
        .http()
        .post('/api/job/')
        .set(bearer(admin))
        .field('experimentName', 'runner')
        .field('queue', 'main')
        .field('entryPoint', 'echo')
        .field('entryPointKwargs', '-P a=x')
        .attach('workflow', fixtureTarGz(), 'workflows.tar.gz')
        .expect(200);
      expect(dioptra.body).toMatchObject({ status: 'queued', mlflowRunId: null });
      expect(dioptra.body.lastModified).toBe(dioptra.body.createdOn);
      const v1 = await submit(t, admin, { ...base, entryPoint: 'echo', parameters: { a: 'x' } });
      expect(v1).toMatchObject({ status: 'queued', mlflowRunId: null, startedAt: null });
      await waitForJob(t, admin, dioptra.body.jobId);
      await waitForJob(t, admin, v1.id);
    }
  });

  it('takes -P parameters from entryPointKwargs the same way', async () => {
    const job = await submit(t, admin, { ...base, entryPoint: 'echo', entryPointKwargs: "-P a=kw -P b='be e'" });
    expect(await waitForJob(t, admin, job.id)).toMatchObject({ status: 'finished' });
    expect(lines(await logsOf(t, admin, job.id), 'stdout')[0]).toBe('a=kw b=be e');
  });

  it('records a non-zero exit as failed with the exit code and "exit code N"', async () => {
    const job = await submit(t, admin, { ...base, entryPoint: 'fail' });
    const done = await waitForJob(t, admin, job.id);
    expect(done).toMatchObject({ status: 'failed', exitCode: 3, failureReason: 'exit code 3' });
    const logs = await logsOf(t, admin, job.id);
    expect(lines(logs, 'stdout')).toEqual(['failing']);
    expect(lines(logs, 'stderr')).toEqual(['oops']);
  });

  it('stops a job at its timeout: failed, "timed out after <timeout as submitted>"', async () => {
    const started = Date.now();
    const job = await submit(t, admin, { ...base, entryPoint: 'sleep', parameters: { seconds: '30' }, timeout: '2' });
    const done = await waitForJob(t, admin, job.id, undefined, 20_000);
    expect(done).toMatchObject({ status: 'failed', exitCode: null, failureReason: 'timed out after 2' });
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('cancels a queued job: it never runs', async () => {
    const job = await submit(t, admin, { experimentName: 'runner', queue: 'idle', entryPoint: 'echo', parameters: { a: 'x' } });
    await sleep(500);
    expect((await getJob(t, admin, job.id)).status).toBe('queued');
    await t.http().post(`/api/v1/jobs/${job.id}/cancel`).set(bearer(admin)).expect(200);
    const done = await getJob(t, admin, job.id);
    expect(done).toMatchObject({ status: 'canceled', startedAt: null, mlflowRunId: null });
  });

  it('cancels a running job: its process group really stops', async () => {
    const hb = join(tmp, 'heartbeat');
    const job = await submit(t, admin, { ...base, entryPoint: 'heartbeat', parameters: { file: hb } });
    await waitFor('the heartbeat file', async () => existsSync(hb) && existsSync(`${hb}.pid`));
    await sleep(500);
    const before = readFileSync(hb, 'utf8');
    await sleep(500);
    expect(readFileSync(hb, 'utf8')).not.toBe(before); // it beats while running
    await t.http().post(`/api/v1/jobs/${job.id}/cancel`).set(bearer(admin)).expect(200);
    const done = await waitForJob(t, admin, job.id);
    expect(done.status).toBe('canceled');
    expect(done.failureReason).toBe('canceled by admin');
    // The worker kills the group within moments of the cancel.
    const pid = Number(readFileSync(`${hb}.pid`, 'utf8'));
    await waitFor('the job process to die', async () => !isAlive(pid), 5000);
    const after = readFileSync(hb, 'utf8');
    await sleep(800);
    expect(readFileSync(hb, 'utf8')).toBe(after);
    // The worker still flushed what it had, and its own end did not overwrite the cancel.
    await sleep(300);
    expect(await getJob(t, admin, job.id)).toMatchObject({ status: 'canceled', failureReason: 'canceled by admin' });
  });

  it('runs a dependent job after its parent finished', async () => {
    const dir = mkdtempSync(join(tmp, 'chain-'));
    const parent = await submit(t, admin, { ...base, entryPoint: 'parent', parameters: { dir } });
    const child = await submit(t, admin, { ...base, entryPoint: 'child', parameters: { dir }, dependsOn: parent.id });
    expect(child.status).toBe('deferred');
    const doneChild = await waitForJob(t, admin, child.id);
    const doneParent = await getJob(t, admin, parent.id);
    expect(doneParent.status).toBe('finished');
    expect(doneChild.status).toBe('finished');
    expect(Date.parse(doneChild.startedAt!)).toBeGreaterThanOrEqual(Date.parse(doneParent.endedAt!));
    expect(lines(await logsOf(t, admin, child.id), 'stdout')).toEqual(['child-saw-parent']);
  });

  it('fails the dependents of a failed parent: "dependency <id> failed", down the chain, never started', async () => {
    const parent = await submit(t, admin, { ...base, entryPoint: 'parent', parameters: { dir: join(tmp, 'no-such-dir') } });
    const child = await submit(t, admin, { ...base, entryPoint: 'echo', parameters: { a: 'x' }, dependsOn: parent.id });
    const grandchild = await submit(t, admin, { ...base, entryPoint: 'echo', parameters: { a: 'y' }, dependsOn: child.id });
    expect((await waitForJob(t, admin, parent.id)).status).toBe('failed');
    expect(await waitForJob(t, admin, child.id)).toMatchObject({ status: 'failed', failureReason: `dependency ${parent.id} failed`, startedAt: null });
    expect(await waitForJob(t, admin, grandchild.id)).toMatchObject({ status: 'failed', failureReason: `dependency ${child.id} failed`, startedAt: null });
  });

  it('runs a zip archive whose MLproject sits in a sub-directory, in that directory', async () => {
    const job = await submit(t, admin, { ...base, entryPoint: 'echo', parameters: { a: 'zip' } }, fixtureZip(), 'workflow.zip');
    expect(await waitForJob(t, admin, job.id)).toMatchObject({ status: 'finished' });
    expect(lines(await logsOf(t, admin, job.id), 'stdout')[0]).toBe('a=zip b=bee');
  });

  it('lets a job import a custom plugin uploaded through the API and a builtin one', async () => {
    const plugin = makeTarGz({ 'runner_greeter/__init__.py': '', 'runner_greeter/greet.py': 'def greet(who):\n    return f"hello {who}"\n' });
    await t.http().post('/api/v1/task-plugins').set(bearer(admin)).field('name', 'runner_greeter').attach('file', plugin, 'runner_greeter.tar.gz').expect(201);
    const builtins = (await t.http().get('/api/v1/task-plugins?collection=dioptra_builtins').set(bearer(admin)).expect(200)).body.taskPlugins;
    const withModule = builtins.find((p: { modules: string[] }) => p.modules.some((m) => m !== '__init__.py'));
    expect(withModule).toBeDefined();
    const module = `dioptra_builtins.${withModule.name}.${withModule.modules.find((m: string) => m !== '__init__.py').replace(/\.py$/, '')}`;
    const job = await submit(t, admin, { ...base, entryPoint: 'plugins', parameters: { builtin: module } });
    const done = await waitForJob(t, admin, job.id);
    const logs = await logsOf(t, admin, job.id);
    expect({ status: done.status, stderr: lines(logs, 'stderr') }).toEqual({ status: 'finished', stderr: [] });
    expect(lines(logs, 'stdout')).toEqual(['hello plugin', 'builtin from plugin dir True', `params {"builtin": "${module}"}`]);
  });

  it('follows the logs as NDJSON until the job ends', async () => {
    const job = await submit(t, admin, { ...base, entryPoint: 'lines', parameters: { count: '20' } });
    const res = await t
      .http()
      .get(`/api/v1/jobs/${job.id}/logs?follow=true`)
      .set(bearer(admin))
      .buffer(true)
      .parse((r, cb) => {
        let text = '';
        r.on('data', (c: Buffer) => (text += c.toString()));
        r.on('end', () => cb(null, text));
      })
      .expect(200);
    expect(res.headers['content-type']).toMatch(/^application\/x-ndjson/);
    const rows = (res.body as string).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(rows.filter((r) => r.stream === 'stdout').map((r) => r.line)).toEqual(Array.from({ length: 20 }, (_, i) => `line ${i + 1}`));
    // The stream ended because the job did.
    expect(['finished', 'failed', 'canceled']).toContain((await getJob(t, admin, job.id)).status);
  });

  it('gives the job only its own environment: the contract variables, PATH and locale, no server secrets', async () => {
    const job = await submit(t, admin, { ...base, entryPoint: 'env' });
    const done = await waitForJob(t, admin, job.id);
    const env = new Map(lines(await logsOf(t, admin, job.id), 'stdout').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(env.get('MLFLOW_RUN_ID')).toBe(done.mlflowRunId);
    expect(env.get('MLFLOW_EXPERIMENT_ID')).toBe(String(experimentId));
    expect(env.get('DIOPTRA_JOB_ID')).toBe(job.id);
    expect(env.get('DIOPTRA_PLUGIN_DIR')).toBe(join(tmp, 'work', job.id, 'plugins'));
    expect(env.get('PYTHONPATH')).toBe(env.get('DIOPTRA_PLUGIN_DIR'));
    expect(env.get('DIOPTRA_JOB_PARAMETERS')).toBe('{}');
    expect(env.get('PYTHONUNBUFFERED')).toBe('1');
    // Local tracking: Alidade's own URL (PUBLIC_URL, in `all` mode the local API) and a job token.
    expect(env.get('MLFLOW_TRACKING_URI')).toBe(`http://127.0.0.1:${t.config.port}`);
    expect(env.get('MLFLOW_TRACKING_TOKEN')).toMatch(/^alj_[A-Za-z0-9_-]{43}$/);
    const allowed = ['MLFLOW_TRACKING_URI', 'MLFLOW_TRACKING_TOKEN', 'MLFLOW_RUN_ID', 'MLFLOW_EXPERIMENT_ID', 'DIOPTRA_JOB_ID', 'DIOPTRA_PLUGIN_DIR', 'PYTHONPATH', 'DIOPTRA_JOB_PARAMETERS', 'PYTHONUNBUFFERED'];
    allowed.push(...Object.keys(t.config.jobBaseEnv), 'HOME', 'PWD', 'SHLVL', '_', 'OLDPWD');
    expect([...env.keys()].filter((k) => !allowed.includes(k))).toEqual([]);
    for (const secret of ['JWT_SECRET', 'DATABASE_URL', 'REDIS_URL', 'ADMIN_PASSWORD']) expect(env.has(secret)).toBe(false);
  });

  /** Swaps a job's archive in the store under the same key, as a corrupted store would hand it out. */
  const replaceWorkflowBlob = async (jobId: string, bytes: Buffer): Promise<void> => {
    const pg = new Client({ connectionString: t.databaseUrl });
    await pg.connect();
    try {
      const { rows } = await pg.query(`SELECT workflow_key FROM job WHERE id = $1`, [jobId]);
      await t.app.get(BlobStore).put(rows[0].workflow_key, bytes);
    } finally {
      await pg.end();
    }
  };

  it('ends a job that cannot start as failed with the reason (archive corrupted in the store)', async () => {
    const dir = mkdtempSync(join(tmp, 'corrupt-'));
    const parent = await submit(t, admin, { ...base, entryPoint: 'parent', parameters: { dir } });
    const child = await submit(t, admin, { ...base, entryPoint: 'echo', parameters: { a: 'x' }, dependsOn: parent.id });
    await replaceWorkflowBlob(child.id, Buffer.from('not an archive at all'));
    const done = await waitForJob(t, admin, child.id);
    expect(done.status).toBe('failed');
    expect(done.exitCode).toBeNull();
    expect(done.failureReason).toMatch(/not a tar, tar\.gz or zip archive/);
    expect(done.mlflowRunId).toMatch(/^[0-9a-f]{32}$/);
  });

  describe('MLproject parameters as MLflow computes them, reported without server paths', () => {
    // Dioptra-shaped (our own text): a path default inside the project, a float defaulting to false, a bool.
    const shaped = () =>
      makeTarGz({
        MLproject: [
          'name: shaped',
          'entry_points:',
          '  show:',
          '    parameters:',
          '      data_dir: { type: path, default: data }',
          '      minimal: { type: float, default: false }',
          '      verbose: { type: bool, default: yes }',
          '      lr: { type: float, default: 1.0e-5 }',
          '    command: bash -c \'echo "data_dir=$0 minimal=$1 verbose=$2 lr=$3"; ls "$0"\' {data_dir} {minimal} {verbose} {lr}',
          '',
        ].join('\n'),
        'data/x.csv': '1\n',
      });
    const serverPath = () => join(tmp, 'work');
    const systemLines = async (id: string) => lines(await logsOf(t, admin, id), 'system');

    it('resolves a path against the project directory and renders defaults as Python str()', async () => {
      const job = await submit(t, admin, { ...base, entryPoint: 'show' }, shaped());
      const done = await waitForJob(t, admin, job.id);
      expect(done).toMatchObject({ status: 'finished', exitCode: 0 });
      const out = lines(await logsOf(t, admin, job.id), 'stdout');
      // The job itself gets the absolute path, as under MLflow.
      expect(out).toEqual([`data_dir=${join(tmp, 'work', job.id, 'workflow', 'data')} minimal=False verbose=True lr=1e-05`, 'x.csv']);
      const system = await systemLines(job.id);
      expect(system).toEqual(expect.arrayContaining(['running entry point show: bash -c \'echo "data_dir=$0 minimal=$1 verbose=$2 lr=$3"; ls "$0"\' data False True 1e-05']));
      for (const line of system) expect(line).not.toContain(serverPath());
    });

    it('fails a job whose path does not exist, naming the value as given', async () => {
      const job = await submit(t, admin, { ...base, entryPoint: 'show', parameters: { data_dir: 'missing/dir' } }, shaped());
      const done = await waitForJob(t, admin, job.id);
      expect(done).toMatchObject({ status: 'failed', exitCode: null, failureReason: 'Got value missing/dir for parameter data_dir, but no such file or directory was found.' });
      for (const line of await systemLines(job.id)) expect(line).not.toContain(serverPath());
    });

    it('reports an MLproject broken in the store by its line, relative to the workflow', async () => {
      // Deferred behind a parent, so the worker cannot claim it before the archive is swapped.
      const parent = await submit(t, admin, { ...base, entryPoint: 'parent', parameters: { dir: mkdtempSync(join(tmp, 'broken-')) } });
      const job = await submit(t, admin, { ...base, entryPoint: 'show', dependsOn: parent.id }, shaped());
      await replaceWorkflowBlob(job.id, makeTarGz({ 'src/MLproject': 'name: broken\nentry_points:\n  show: [\n  x: 1\n' }));
      const done = await waitForJob(t, admin, job.id);
      expect(done.status).toBe('failed');
      expect(done.failureReason).toMatch(/^src\/MLproject:4: not valid YAML: /);
      expect(done.failureReason).not.toContain(serverPath());
      for (const line of await systemLines(job.id)) expect(line).not.toContain(serverPath());
    });
  });

  it('serves a queue named in WORKER_QUEUES that is created after the worker started', async () => {
    await t.http().post('/api/v1/queues').set(bearer(admin)).send({ name: 'later' }).expect(201);
    const job = await submit(t, admin, { experimentName: 'runner', queue: 'later', entryPoint: 'echo', parameters: { a: 'late' } });
    expect(await waitForJob(t, admin, job.id, undefined, 20_000)).toMatchObject({ status: 'finished' });
  });

  it('keeps a job running through a database outage and records its logs and outcome once the database is back', async () => {
    const job = await submit(t, admin, { ...base, entryPoint: 'lines', parameters: { count: '60' } });
    await waitForJob(t, admin, job.id, ['started']);
    const dbName = new URL(t.databaseUrl).pathname.slice(1);
    const adminPg = new Client({ connectionString: process.env.ALIDADE_TEST_PG });
    await adminPg.connect();
    try {
      // No new connections, and every open one cut: the worker's log and status writes fail until we allow them again.
      await adminPg.query(`ALTER DATABASE "${dbName}" ALLOW_CONNECTIONS false`);
      await adminPg.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1`, [dbName]);
      await sleep(2500);
    } finally {
      await adminPg.query(`ALTER DATABASE "${dbName}" ALLOW_CONNECTIONS true`);
      await adminPg.end();
    }
    expect(await waitForJob(t, admin, job.id, undefined, 30_000)).toMatchObject({ status: 'finished', exitCode: 0 });
    expect(lines(await logsOf(t, admin, job.id), 'stdout')).toEqual(Array.from({ length: 60 }, (_, i) => `line ${i + 1}`));
  });

  it("runs the Dioptra notebooks' flow: POST /api/job/, poll for mlflowRunId, chain a job on it with depends_on", async () => {
    const first = await t
      .http()
      .post('/api/job/')
      .set(bearer(admin))
      .field('experiment_name', 'runner')
      .field('queue', 'main')
      .field('entry_point', 'sleep')
      .field('entry_point_kwargs', '-P seconds=2')
      .attach('workflow', fixtureTarGz(), 'workflows.tar.gz')
      .expect(200);
    const jobId: string = first.body.jobId;
    const polled = await waitFor('a run id or an end', async () => {
      const r = await t.http().get(`/api/job/${jobId}`).set(bearer(admin)).expect(200);
      return r.body.mlflowRunId !== null || ['finished', 'failed'].includes(r.body.status) ? r.body : null;
    });
    expect(polled.mlflowRunId).toMatch(/^[0-9a-f]{32}$/);
    const second = await t
      .http()
      .post('/api/job/')
      .set(bearer(admin))
      .field('experiment_name', 'runner')
      .field('queue', 'main')
      .field('entry_point', 'show_run_id')
      .field('entry_point_kwargs', `-P run_id=${polled.mlflowRunId}`)
      .field('depends_on', jobId)
      .attach('workflow', fixtureTarGz(), 'workflows.tar.gz')
      .expect(200);
    expect(second.body.dependsOn).toBe(jobId);
    const ended = await waitFor('the chained job to end', async () => {
      const r = await t.http().get(`/api/job/${second.body.jobId}`).set(bearer(admin)).expect(200);
      return ['finished', 'failed'].includes(r.body.status) ? r.body : null;
    });
    expect(ended.status).toBe('finished');
    expect(lines(await logsOf(t, admin, second.body.jobId), 'stdout')).toEqual([`parent run id ${polled.mlflowRunId}`]);
  });
});

function isAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
