// Jobs that use the real mlflow client against Alidade's own MLflow face: the worker makes each job's run at claim,
// the job attaches to it with its job token, and the worker closes what the job left open. Run with the pinned 3.x
// client and with a 2.x one; read back through the MLflow face and /api/v1 as a client would.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobProcess } from '../src/sandbox/job-process';
import { mlflowWorkflow, jobPythonEnv, testPython } from './fixtures/mlflow-workflow';
import { Job, lines, logsOf, submit, waitFor, waitForJob } from './fixtures/runner-kit';
import { ADMIN_PASSWORD, bearer, login, startApp, TestApp } from './utils/harness';

const kv = (list: Array<{ key: string; value: unknown }> | undefined) => Object.fromEntries((list ?? []).map((x) => [x.key, x.value]));

describe.each(['mlflow3', 'mlflow2'] as const)('runner: jobs tracking into Alidade (%s client in the job)', (client) => {
  let t: TestApp;
  let admin: string;
  let tmp: string;
  let experimentId: number;
  const grace = JobProcess.killGraceMs;
  const base = { experimentName: 'tracked', queue: 'tracked' };

  beforeAll(async () => {
    JobProcess.killGraceMs = 2000;
    tmp = mkdtempSync(join(tmpdir(), 'alidade-runner-mlflow-'));
    t = await startApp({ role: 'all', listen: true, env: { WORKER_QUEUES: 'tracked', WORKER_CONCURRENCY: '3', JOB_WORKDIR: join(tmp, 'work'), ...jobPythonEnv(testPython(client)) } });
    admin = await login(t, 'admin', ADMIN_PASSWORD);
    experimentId = (await t.http().post('/api/v1/experiments').set(bearer(admin)).send({ name: 'tracked' }).expect(201)).body.experiment.id;
    await t.http().post('/api/v1/queues').set(bearer(admin)).send({ name: 'tracked' }).expect(201);
  });

  afterAll(async () => {
    await t?.close();
    JobProcess.killGraceMs = grace;
    rmSync(tmp, { recursive: true, force: true });
  });

  const face = (path: string) => t.http().get(`/api/2.0/mlflow/${path}`).set(bearer(admin));
  const runOf = async (job: Job) => (await face(`runs/get?run_id=${job.mlflowRunId}&run_uuid=${job.mlflowRunId}`).expect(200)).body.run;
  const finished = async (id: string, timeoutMs = 90_000) => {
    const done = await waitForJob(t, admin, id, undefined, timeoutMs);
    if (done.status !== 'finished') throw new Error(`job ${done.status}: ${done.failureReason}\n${lines(await logsOf(t, admin, id)).join('\n')}`);
    return done;
  };

  it('runs a workflow that attaches to its run and logs params, stepped metrics, artifacts and a nested run; both faces read it back', async () => {
    const job = await submit(t, admin, { ...base, entryPoint: 'track', parameters: { steps: '4' } }, mlflowWorkflow());
    const done = await finished(job.id);
    expect(done.mlflowRunId).toMatch(/^[0-9a-f]{32}$/);
    expect(lines(await logsOf(t, admin, job.id), 'stdout')).toContain(`attached ${done.mlflowRunId} in ${experimentId} env ${done.mlflowRunId}`);

    const run = await runOf(done);
    expect(run.info).toMatchObject({ run_id: done.mlflowRunId, experiment_id: String(experimentId), status: 'FINISHED', user_id: 'admin', run_name: job.id, lifecycle_stage: 'active' });
    expect(Number(run.info.end_time)).toBeGreaterThanOrEqual(Number(run.info.start_time));
    expect(kv(run.data.params)).toEqual({ lr: '0.01', steps: '4', optimizer: 'sgd' });
    expect(kv(run.data.tags)).toMatchObject({ 'alidade.jobId': job.id, 'alidade.queue': 'tracked', 'mlflow.runName': job.id, 'mlflow.user': 'admin', stage: 'train' });
    expect(kv(run.data.metrics)).toEqual({ loss: 0.25, acc: 0.9, f1: 0.8 });

    const history = await face(`metrics/get-history?run_id=${done.mlflowRunId}&metric_key=loss&max_results=25000`).expect(200);
    expect(history.body.metrics.map((m: { step: number; value: number }) => [Number(m.step), m.value])).toEqual([
      [0, 1],
      [1, 0.5],
      [2, 1 / 3],
      [3, 0.25],
    ]);

    const nested = await t.http().post('/api/2.0/mlflow/runs/search').set(bearer(admin)).send({ experiment_ids: [String(experimentId)], filter: `tags.mlflow.parentRunId = '${done.mlflowRunId}'` }).expect(200);
    expect(nested.body.runs).toHaveLength(1);
    expect(nested.body.runs[0].info).toMatchObject({ status: 'FINISHED', run_name: 'child' });
    expect(kv(nested.body.runs[0].data.metrics)).toEqual({ inner: 42 });

    const artifacts = await t.http().get(`/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${done.mlflowRunId}/artifacts/model/weights%20bin.dat`).set(bearer(admin)).buffer(true).parse((res, cb) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => cb(null, Buffer.concat(chunks)));
    });
    expect(artifacts.status).toBe(200);
    expect(Buffer.compare(artifacts.body as Buffer, Buffer.from(Array.from({ length: 256 * 64 }, (_, i) => i % 256)))).toBe(0);

    // /api/v1 shows the same run.
    const v1 = (await t.http().get(`/api/v1/jobs/${job.id}/run`).set(bearer(admin)).expect(200)).body.run;
    expect(v1).toMatchObject({ id: done.mlflowRunId, experimentId, status: 'FINISHED', params: { lr: '0.01', steps: '4', optimizer: 'sgd' }, tags: { 'alidade.jobId': job.id } });
    expect(v1.metrics.loss).toMatchObject({ value: 0.25, step: 3 });
    expect(v1.artifacts.map((a: { path: string }) => a.path).sort()).toEqual(['model/weights bin.dat', 'result.txt']);
    const points = (await t.http().get(`/api/v1/jobs/${job.id}/metrics/loss`).set(bearer(admin)).expect(200)).body.points;
    expect(points.map((p: { step: number; value: number }) => [p.step, p.value])).toEqual([
      [0, 1],
      [1, 0.5],
      [2, 1 / 3],
      [3, 0.25],
    ]);
  }, 120_000);

  it('closes each run as its job ended: exception and SystemExit(3) FAILED, non-zero exit and SIGKILL FAILED, cancel and timeout KILLED, a plain exit 0 FINISHED', async () => {
    const wf = mlflowWorkflow();
    const raised = await submit(t, admin, { ...base, entryPoint: 'raise' }, wf);
    const exited = await submit(t, admin, { ...base, entryPoint: 'sysexit' }, wf);
    const nonzero = await submit(t, admin, { ...base, entryPoint: 'nonzero' }, wf);
    const killed = await submit(t, admin, { ...base, entryPoint: 'sigkill' }, wf);
    const plain = await submit(t, admin, { ...base, entryPoint: 'plain' }, wf);
    const timed = await submit(t, admin, { ...base, entryPoint: 'sleep', timeout: '15' }, wf);
    const canceled = await submit(t, admin, { ...base, entryPoint: 'sleep' }, wf);
    expect(await waitForJob(t, admin, raised.id, undefined, 90_000)).toMatchObject({ status: 'failed', exitCode: 1, failureReason: 'exit code 1' });
    expect(await waitForJob(t, admin, exited.id, undefined, 90_000)).toMatchObject({ status: 'failed', exitCode: 3 });
    expect(await waitForJob(t, admin, nonzero.id, undefined, 90_000)).toMatchObject({ status: 'failed', exitCode: 2 });
    expect(await waitForJob(t, admin, killed.id, undefined, 90_000)).toMatchObject({ status: 'failed', failureReason: expect.stringMatching(/^(killed by SIGKILL|exit code 137)$/) });
    await finished(plain.id);
    await waitFor('the job to be sleeping', async () => lines(await logsOf(t, admin, canceled.id), 'stdout').includes('sleeping'), 90_000, 300);
    await t.http().post(`/api/v1/jobs/${canceled.id}/cancel`).set(bearer(admin)).expect(200);
    expect(await waitForJob(t, admin, canceled.id, undefined, 30_000)).toMatchObject({ status: 'canceled', failureReason: 'canceled by admin' });
    expect(await waitForJob(t, admin, timed.id, undefined, 90_000)).toMatchObject({ status: 'failed', failureReason: 'timed out after 15' });

    const expected: Array<[Job, string]> = [
      [raised, 'FAILED'],
      [exited, 'FAILED'],
      [nonzero, 'FAILED'],
      [killed, 'FAILED'],
      [plain, 'FINISHED'],
      [canceled, 'KILLED'],
      [timed, 'KILLED'],
    ];
    for (const [job, status] of expected) {
      // Closed before the job shows ended: no wait needed.
      const run = await runOf(await waitForJob(t, admin, job.id));
      expect({ entryPoint: job.entryPoint, status: run.info.status }).toEqual({ entryPoint: job.entryPoint, status });
      expect(Number(run.info.end_time)).toBeGreaterThan(0);
      if (job !== nonzero && job !== plain) expect({ entryPoint: job.entryPoint, metrics: kv(run.data.metrics) }).toEqual({ entryPoint: job.entryPoint, metrics: { before_end: 1 } });
      const v1 = (await t.http().get(`/api/v1/jobs/${job.id}/run`).set(bearer(admin)).expect(200)).body.run;
      expect(v1.status).toBe(status);
    }
  }, 180_000);

  it("gives the job a token for its own run only: 403 on /api/v1 and on another job's run, 401 once the job has ended", async () => {
    const wf = mlflowWorkflow();
    const other = await finished((await submit(t, admin, { ...base, entryPoint: 'plain' }, wf)).id);
    // The `env` entry point prints its environment (the test reads the token from the job's own log).
    const envJob = await finished((await submit(t, admin, { ...base, entryPoint: 'env' }, wf)).id);
    const env = Object.fromEntries(lines(await logsOf(t, admin, envJob.id), 'stdout').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    // PUBLIC_URL (here the local API); in the sandbox, without network, a loopback port forwarded to it.
    expect(env).toMatchObject({ MLFLOW_TRACKING_URI: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/), MLFLOW_RUN_ID: envJob.mlflowRunId, MLFLOW_EXPERIMENT_ID: String(experimentId) });
    expect(env.MLFLOW_TRACKING_TOKEN).toMatch(/^alj_/);
    // Dead once the job ended.
    const dead = await t.http().get(`/api/2.0/mlflow/runs/get?run_id=${envJob.mlflowRunId}`).set(bearer(env.MLFLOW_TRACKING_TOKEN));
    expect(dead.status).toBe(401);
    expect(dead.body.error_code).toBe('UNAUTHENTICATED');

    // While the job runs: its own run yes, another job's run and the other faces no.
    const sleeper = await submit(t, admin, { ...base, entryPoint: 'token_sleep' }, wf);
    const token = await waitFor('the job to print its token', async () => {
      const line = lines(await logsOf(t, admin, sleeper.id), 'stdout').find((l) => l.startsWith('token '));
      return line?.slice('token '.length);
    }, 60_000, 200);
    const running = await waitForJob(t, admin, sleeper.id, ['started']);
    const own = await t.http().post('/api/2.0/mlflow/runs/set-tag').set(bearer(token)).send({ run_id: running.mlflowRunId, key: 'from', value: 'the job' });
    expect(own.status).toBe(200);
    const theirs = await t.http().post('/api/2.0/mlflow/runs/set-tag').set(bearer(token)).send({ run_id: other.mlflowRunId, key: 'x', value: 'y' });
    expect(theirs.status).toBe(403);
    expect(theirs.body.error_code).toBe('PERMISSION_DENIED');
    for (const path of ['/api/v1/me', `/api/v1/jobs/${running.id}`, '/api/experiment/']) {
      const res = await t.http().get(path).set(bearer(token));
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
    }
    await t.http().post(`/api/v1/jobs/${running.id}/cancel`).set(bearer(admin)).expect(200);
    await waitForJob(t, admin, running.id);
    // The row says canceled at once; the worker revokes the token when it has stopped the process (within the grace).
    await waitFor('the token to be revoked', async () => {
      const after = await t.http().post('/api/2.0/mlflow/runs/set-tag').set(bearer(token)).send({ run_id: running.mlflowRunId, key: 'late', value: 'no' });
      return after.status === 401 && after.body.error_code === 'UNAUTHENTICATED';
    }, 15_000, 200);
    expect((await runOf(running)).info.status).toBe('KILLED');
  }, 180_000);
});

