// External MLflow mode: a worker with MLFLOW_TRACKING_URI creates and closes each job's run in a real `mlflow server`
// (started and stopped here), and the job's own mlflow client logs to that server. Read back from that server.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobProcess } from '../src/sandbox/job-process';
import { MlflowServer, startMlflowServer } from './fixtures/mlflow-server';
import { mlflowWorkflow, jobPythonEnv, testPython } from './fixtures/mlflow-workflow';
import { lines, logsOf, submit, waitFor, waitForJob } from './fixtures/runner-kit';
import { ADMIN_PASSWORD, bearer, freePort, login, startApp, TestApp } from './utils/harness';

describe('runner: external MLflow mode (a real mlflow server)', () => {
  let srv: MlflowServer;
  let t: TestApp;
  let admin: string;
  let tmp: string;
  const grace = JobProcess.killGraceMs;
  const base = { experimentName: 'ext-exp', queue: 'ext' };

  beforeAll(async () => {
    JobProcess.killGraceMs = 2000;
    tmp = mkdtempSync(join(tmpdir(), 'alidade-ext-mlflow-'));
    srv = await startMlflowServer(tmp);
    t = await startApp({
      role: 'all',
      env: { WORKER_QUEUES: 'ext', WORKER_CONCURRENCY: '3', JOB_WORKDIR: join(tmp, 'work'), MLFLOW_TRACKING_URI: srv.url, ...jobPythonEnv(testPython()) },
    });
    admin = await login(t, 'admin', ADMIN_PASSWORD);
    await t.http().post('/api/v1/experiments').set(bearer(admin)).send({ name: 'ext-exp' }).expect(201);
    await t.http().post('/api/v1/queues').set(bearer(admin)).send({ name: 'ext' }).expect(201);
  }, 180_000);

  afterAll(async () => {
    await t?.close();
    await srv?.stop();
    JobProcess.killGraceMs = grace;
    rmSync(tmp, { recursive: true, force: true });
  });

  const run = async (runId: string) => {
    const res = await srv.call('GET', 'runs/get', { run_id: runId });
    expect(res.status).toBe(200);
    return res.body.run;
  };
  const kv = (list: Array<{ key: string; value: unknown }> | undefined) => Object.fromEntries((list ?? []).map((x) => [x.key, x.value]));

  it('runs a tracked workflow: the run is created in the MLflow server (experiment by name), the job logs to it, mlflowRunId is its id', async () => {
    const job = await submit(t, admin, { ...base, entryPoint: 'track', parameters: { steps: '4' } }, mlflowWorkflow());
    const done = await waitForJob(t, admin, job.id, undefined, 90_000);
    const logs = await logsOf(t, admin, job.id);
    const out = lines(logs, 'stdout');
    // A failure shows the job's traceback.
    if (done.status !== 'finished') throw new Error(`job ${done.status}: ${done.failureReason}\n${lines(logs).join('\n')}`);
    expect(done.mlflowRunId).toMatch(/^[0-9a-f]{32}$/);

    const exp = await srv.call('GET', 'experiments/get-by-name', { experiment_name: 'ext-exp' });
    expect(exp.status).toBe(200);
    const experimentId = exp.body.experiment.experiment_id;
    // The job attached to the worker's run (no run of its own), in the server's experiment.
    expect(out).toContain(`attached ${done.mlflowRunId} in ${experimentId} env ${done.mlflowRunId}`);

    const r = await run(done.mlflowRunId!);
    expect(r.info).toMatchObject({ run_id: done.mlflowRunId, experiment_id: experimentId, status: 'FINISHED', user_id: 'admin', run_name: job.id });
    expect(Number(r.info.end_time)).toBeGreaterThan(0);
    expect(kv(r.data.params)).toEqual({ lr: '0.01', steps: '4', optimizer: 'sgd' });
    expect(kv(r.data.tags)).toMatchObject({ 'alidade.jobId': job.id, 'alidade.queue': 'ext', 'mlflow.runName': job.id, stage: 'train' });
    expect(kv(r.data.metrics)).toMatchObject({ loss: 0.25, acc: 0.9, f1: 0.8 });

    const history = await srv.call('GET', 'metrics/get-history', { run_id: done.mlflowRunId!, metric_key: 'loss', max_results: '100' });
    expect(history.body.metrics.map((m: { step: string | number; value: number }) => [Number(m.step), m.value])).toEqual([
      [0, 1],
      [1, 0.5],
      [2, 1 / 3],
      [3, 0.25],
    ]);

    // Artifacts went through the server's proxy.
    const root = await fetch(`${srv.url}/api/2.0/mlflow-artifacts/artifacts?path=${encodeURIComponent(`${experimentId}/${done.mlflowRunId}/artifacts`)}`).then((x) => x.json() as Promise<{ files: Array<{ path: string }> }>);
    expect(root.files.map((f: { path: string }) => f.path).sort()).toEqual(['model', 'result.txt']);
    const text = await fetch(`${srv.url}/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${done.mlflowRunId}/artifacts/result.txt`).then((x) => x.text());
    expect(text).toBe('accuracy 0.9\n');

    // The nested run the job opened lives beside it, linked by mlflow.parentRunId, closed by the client.
    const nested = await srv.call('POST', 'runs/search', { experiment_ids: [experimentId], filter: `tags.mlflow.parentRunId = '${done.mlflowRunId}'` });
    expect(nested.body.runs).toHaveLength(1);
    expect(nested.body.runs[0].info).toMatchObject({ status: 'FINISHED', run_name: 'child' });
    expect(kv(nested.body.runs[0].data.metrics)).toEqual({ inner: 42 });

    // A second job reuses the experiment.
    const again = await waitForJob(t, admin, (await submit(t, admin, { ...base, entryPoint: 'plain' }, mlflowWorkflow())).id, undefined, 60_000);
    expect((await run(again.mlflowRunId!)).info).toMatchObject({ experiment_id: experimentId, status: 'FINISHED' });
  }, 120_000);

  it('gives the job the server URI, its run id and experiment id, and no Alidade token', async () => {
    const job = await waitForJob(t, admin, (await submit(t, admin, { ...base, entryPoint: 'env' }, mlflowWorkflow())).id, undefined, 60_000);
    const env = Object.fromEntries(lines(await logsOf(t, admin, job.id), 'stdout').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    const exp = await srv.call('GET', 'experiments/get-by-name', { experiment_name: 'ext-exp' });
    // The server's URI; in the sandbox, without network, a loopback port forwarded to it.
    expect(env).toMatchObject({ MLFLOW_TRACKING_URI: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), MLFLOW_RUN_ID: job.mlflowRunId, MLFLOW_EXPERIMENT_ID: exp.body.experiment.experiment_id });
    expect(env.MLFLOW_TRACKING_TOKEN).toBeUndefined();
  }, 90_000);

  it('uses an experiment that already exists on the server under the Alidade experiment\'s name', async () => {
    const made = await srv.call('POST', 'experiments/create', { name: 'ext-preexisting' });
    expect(made.status).toBe(200);
    await t.http().post('/api/v1/experiments').set(bearer(admin)).send({ name: 'ext-preexisting' }).expect(201);
    const job = await waitForJob(t, admin, (await submit(t, admin, { experimentName: 'ext-preexisting', queue: 'ext', entryPoint: 'plain' }, mlflowWorkflow())).id, undefined, 60_000);
    expect(job.status).toBe('finished');
    expect((await run(job.mlflowRunId!)).info).toMatchObject({ experiment_id: made.body.experiment_id, status: 'FINISHED' });
  }, 90_000);

  it('closes runs as the job ended: exception and SystemExit(3) FAILED (by the client), non-zero exit and SIGKILL FAILED, cancel and timeout KILLED', async () => {
    const wf = mlflowWorkflow();
    const raised = await submit(t, admin, { ...base, entryPoint: 'raise' }, wf);
    const exited = await submit(t, admin, { ...base, entryPoint: 'sysexit' }, wf);
    const nonzero = await submit(t, admin, { ...base, entryPoint: 'nonzero' }, wf);
    const killed = await submit(t, admin, { ...base, entryPoint: 'sigkill' }, wf);
    const timed = await submit(t, admin, { ...base, entryPoint: 'sleep', timeout: '4' }, wf);
    const canceled = await submit(t, admin, { ...base, entryPoint: 'sleep' }, wf);
    expect(await waitForJob(t, admin, raised.id, undefined, 60_000)).toMatchObject({ status: 'failed', exitCode: 1 });
    expect(await waitForJob(t, admin, exited.id, undefined, 60_000)).toMatchObject({ status: 'failed', exitCode: 3 });
    expect(await waitForJob(t, admin, nonzero.id, undefined, 60_000)).toMatchObject({ status: 'failed', exitCode: 2 });
    expect(await waitForJob(t, admin, killed.id, undefined, 60_000)).toMatchObject({ status: 'failed', failureReason: expect.stringMatching(/^(killed by SIGKILL|exit code 137)$/) });
    await waitFor('the job to be sleeping', async () => lines(await logsOf(t, admin, canceled.id), 'stdout').includes('sleeping'), 60_000, 300);
    await t.http().post(`/api/v1/jobs/${canceled.id}/cancel`).set(bearer(admin)).expect(200);
    expect(await waitForJob(t, admin, canceled.id, undefined, 30_000)).toMatchObject({ status: 'canceled' });
    expect(await waitForJob(t, admin, timed.id, undefined, 60_000)).toMatchObject({ status: 'failed', failureReason: 'timed out after 4' });

    const statusOf = async (id: string) => (await run((await waitForJob(t, admin, id)).mlflowRunId!)).info;
    expect(await statusOf(raised.id)).toMatchObject({ status: 'FAILED' });
    expect(await statusOf(exited.id)).toMatchObject({ status: 'FAILED' });
    expect(await statusOf(nonzero.id)).toMatchObject({ status: 'FAILED' });
    expect(await statusOf(killed.id)).toMatchObject({ status: 'FAILED' });
    expect(await statusOf(canceled.id)).toMatchObject({ status: 'KILLED' });
    expect(await statusOf(timed.id)).toMatchObject({ status: 'KILLED' });
    for (const id of [raised.id, killed.id, canceled.id]) {
      const r = await run((await waitForJob(t, admin, id)).mlflowRunId!);
      expect(kv(r.data.metrics)).toMatchObject({ before_end: 1 });
      expect(Number(r.info.end_time)).toBeGreaterThan(0);
    }
  }, 180_000);

  it('fails a job whose run cannot be created, with the reason, and never runs it', async () => {
    // The Alidade experiment's name is deleted on the server: MLflow refuses new runs in it.
    const made = await srv.call('POST', 'experiments/create', { name: 'ext-gone' });
    await srv.call('POST', 'experiments/delete', { experiment_id: made.body.experiment_id });
    await t.http().post('/api/v1/experiments').set(bearer(admin)).send({ name: 'ext-gone' }).expect(201);
    const job = await waitForJob(t, admin, (await submit(t, admin, { experimentName: 'ext-gone', queue: 'ext', entryPoint: 'plain' }, mlflowWorkflow())).id, undefined, 60_000);
    expect(job).toMatchObject({ status: 'failed', exitCode: null, mlflowRunId: null });
    expect(job.failureReason).toBe(`could not create the job's MLflow run: experiment "ext-gone" is deleted on the MLflow server at ${srv.url}: restore or rename it there`);
    expect(lines(await logsOf(t, admin, job.id), 'stdout')).toEqual([]);
  }, 90_000);
});

describe('runner: external MLflow mode with the server down', () => {
  let t: TestApp;
  let admin: string;
  let tmp: string;
  let deadUrl: string;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'alidade-ext-down-'));
    // A port nothing listens on.
    deadUrl = `http://127.0.0.1:${await freePort()}`;
    t = await startApp({ role: 'all', env: { WORKER_QUEUES: 'down', JOB_WORKDIR: join(tmp, 'work'), MLFLOW_TRACKING_URI: deadUrl, MLFLOW_TRACKING_TOKEN: 'lab-secret-token' } });
    admin = await login(t, 'admin', ADMIN_PASSWORD);
    await t.http().post('/api/v1/experiments').set(bearer(admin)).send({ name: 'ext-down' }).expect(201);
    await t.http().post('/api/v1/queues').set(bearer(admin)).send({ name: 'down' }).expect(201);
  });

  afterAll(async () => {
    await t?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('fails the job within seconds with the reason (no hang, no secret in it), and the worker goes on', async () => {
    const started = Date.now();
    const ids = [];
    for (let i = 0; i < 2; i++) ids.push((await submit(t, admin, { experimentName: 'ext-down', queue: 'down', entryPoint: 'plain' }, mlflowWorkflow())).id);
    for (const id of ids) {
      const job = await waitForJob(t, admin, id, undefined, 30_000);
      expect(job).toMatchObject({ status: 'failed', exitCode: null, mlflowRunId: null });
      expect(job.failureReason).toBe(`could not create the job's MLflow run: the MLflow server at ${deadUrl} did not answer experiments/get-by-name: ECONNREFUSED`);
      expect(job.failureReason).not.toContain('lab-secret-token');
    }
    expect(Date.now() - started).toBeLessThan(20_000);
  }, 60_000);
});
