// The real mlflow client (pinned mlflow-skinny) against the MLflow face: a notebook-like script logs and reads back.
import { spawn } from 'node:child_process';
import { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { ADMIN_PASSWORD, createUser, login, startApp, TestApp } from './utils/harness';

jest.setTimeout(180_000);

function runPython(script: string, args: string[], env: Record<string, string>, python = process.env.ALIDADE_TEST_PYTHON!): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(python, [script, ...args], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('MLflow face with the real mlflow client', () => {
  let t: TestApp;
  let base: string;
  let adminToken: string;

  beforeAll(async () => {
    t = await startApp();
    await t.app.listen(0, '127.0.0.1');
    base = `http://127.0.0.1:${(t.app.getHttpServer().address() as AddressInfo).port}`;
    adminToken = await login(t, 'admin', ADMIN_PASSWORD);
  });
  afterAll(() => t.close());

  const clientEnv = { MLFLOW_HTTP_REQUEST_MAX_RETRIES: '0', MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT: 'true', MLFLOW_TRACKING_URI: '' };

  it('logs params, metrics, tags, artifacts and nested runs, then reads them back (bearer token)', async () => {
    const alice = await createUser(t, adminToken, 'alice');
    const r = await runPython(join(__dirname, 'fixtures/mlflow/notebook.py'), ['nb-bearer'], { ...clientEnv, MLFLOW_TRACKING_URI: base, MLFLOW_TRACKING_TOKEN: alice.token });
    expect({ code: r.code, out: r.stdout.trim().split('\n').pop(), err: r.code === 0 ? '' : r.stderr.slice(-3000) }).toMatchObject({ code: 0, out: expect.stringContaining('"ok": true') });
    const { experiment_id: expId, run_id: runId } = JSON.parse(r.stdout.trim().split('\n').pop()!);
    // The same rows on the v1 face: the experiment is an Alidade experiment owned by alice.
    const exp = await t.http().get(`/api/v1/experiments/${expId}`).set({ Authorization: `Bearer ${alice.token}` });
    expect(exp.status).toBe(200);
    expect(exp.body.experiment).toMatchObject({ name: 'nb-bearer', username: 'alice' });
    // Another user reads it but may not write it.
    const bob = await createUser(t, adminToken, 'bob');
    const get = await t.http().get(`/api/2.0/mlflow/runs/get?run_id=${runId}`).set({ Authorization: `Bearer ${bob.token}` });
    expect(get.status).toBe(200);
    const write = await t.http().post('/api/2.0/mlflow/runs/set-tag').set({ Authorization: `Bearer ${bob.token}` }).send({ run_id: runId, key: 'x', value: 'y' });
    expect(write.status).toBe(403);
    expect(write.body.error_code).toBe('PERMISSION_DENIED');
  });

  it('works with HTTP Basic (MLFLOW_TRACKING_USERNAME / MLFLOW_TRACKING_PASSWORD)', async () => {
    await createUser(t, adminToken, 'carol', { password: 'carol-password' });
    const r = await runPython(join(__dirname, 'fixtures/mlflow/notebook.py'), ['nb-basic'], {
      ...clientEnv,
      MLFLOW_TRACKING_URI: base,
      MLFLOW_TRACKING_USERNAME: 'carol',
      MLFLOW_TRACKING_PASSWORD: 'carol-password',
    });
    expect({ code: r.code, err: r.code === 0 ? '' : r.stdout.slice(-1000) + r.stderr.slice(-3000) }).toEqual({ code: 0, err: '' });
  });

  // The 2.x client (its venv comes with the worker's in-job tests: ALIDADE_TEST_PYTHON_MLFLOW2).
  const python2 = process.env.ALIDADE_TEST_PYTHON_MLFLOW2;
  (python2 ? it : it.skip)('the same notebook with an mlflow 2.x client', async () => {
    const dave = await createUser(t, adminToken, 'dave');
    const r = await runPython(join(__dirname, 'fixtures/mlflow/notebook.py'), ['nb-mlflow2'], { ...clientEnv, MLFLOW_TRACKING_URI: base, MLFLOW_TRACKING_TOKEN: dave.token }, python2);
    expect({ code: r.code, err: r.code === 0 ? '' : r.stdout.slice(-1000) + r.stderr.slice(-3000) }).toEqual({ code: 0, err: '' });
  });
});
