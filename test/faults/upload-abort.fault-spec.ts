// Drill 3: clients that drop the connection in the middle of a job upload leave nothing behind (no job row, no
// blob row), and the API goes on serving.
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createDatabase } from '../utils/harness';
import { makeTarGz } from '../utils/archives';
import {
  ApiProc,
  call,
  drillEnv,
  ensureBuilt,
  loginAdmin,
  markerWorkflow,
  report,
  setupExperimentAndQueue,
  sleep,
  spawnApi,
  stopAll,
  submitMarkerJob,
} from './fault-kit';

/** Sends the first `fraction` of a multipart job submission, then destroys the socket; resolves when it is closed. */
function abortedUpload(url: string, token: string, archive: Buffer, fraction: number): Promise<{ sent: number; total: number; replied: number | null }> {
  const boundary = `----drill${randomBytes(8).toString('hex')}`;
  const field = (name: string, value: string) => `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
  const head = Buffer.from(
    field('experimentName', 'abort-drill') +
      field('queue', 'abort-drill') +
      field('entryPoint', 'main') +
      field('parameters', JSON.stringify({ marker: '/dev/null' })) +
      `--${boundary}\r\nContent-Disposition: form-data; name="workflow"; filename="workflow.tar.gz"\r\nContent-Type: application/gzip\r\n\r\n`,
  );
  const body = Buffer.concat([head, archive, Buffer.from(`\r\n--${boundary}--\r\n`)]);
  const sent = Math.floor(body.length * fraction);
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    let replied: number | null = null;
    const req = request({
      host: hostname,
      port,
      method: 'POST',
      path: '/api/v1/jobs',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': String(body.length) },
    });
    req.on('response', (res) => {
      replied = res.statusCode ?? null;
      res.resume();
    });
    req.on('error', () => undefined); // the socket we destroy
    req.on('close', () => resolve({ sent, total: body.length, replied }));
    req.write(body.subarray(0, sent), () => {
      // Let the server read what we sent before the connection goes.
      setTimeout(() => req.destroy(), 300);
    });
    setTimeout(() => req.destroy(), 10_000).unref();
  });
}

describe('fault drill: clients disconnecting mid-upload', () => {
  let tmp: string;
  let api: ApiProc;
  let db: Client;
  let token: string;

  beforeAll(async () => {
    ensureBuilt();
    tmp = mkdtempSync(join(tmpdir(), 'alidade-fault-upload-'));
    const databaseUrl = await createDatabase();
    api = await spawnApi(drillEnv(databaseUrl, process.env.ALIDADE_TEST_REDIS!));
    token = await loginAdmin(api.url);
    await setupExperimentAndQueue(api.url, token, 'abort-drill', 'abort-drill');
    db = new Client({ connectionString: databaseUrl });
    await db.connect();
  }, 120_000);

  afterAll(async () => {
    await stopAll([api]);
    await db?.end().catch(() => undefined);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const counts = async () => {
    const { rows } = await db.query(`SELECT (SELECT count(*)::int FROM job) AS jobs, (SELECT count(*)::int FROM blob) AS blobs`);
    return rows[0] as { jobs: number; blobs: number };
  };

  it('adds no job and no blob for uploads cut off midway, and the API still serves', async () => {
    // A valid workflow padded with 24 MiB of incompressible bytes: the cut falls in the file part.
    const archive = makeTarGz({
      MLproject: `name: big\nentry_points:\n  main:\n    parameters:\n      marker: string\n    command: bash -c 'echo "$DIOPTRA_JOB_ID" >> "$0"' {marker}\n`,
      'padding.bin': randomBytes(24 * 1024 * 1024),
    });
    const before = await counts();
    const aborted = [];
    // Cut in the text fields, early, in the middle and just before the end of the file part.
    for (const fraction of [0.0005, 0.1, 0.5, 0.99]) aborted.push({ fraction, ...(await abortedUpload(api.url, token, archive, fraction)) });
    // Several at once.
    aborted.push(...(await Promise.all([0.3, 0.5, 0.7].map(async (fraction) => ({ fraction, ...(await abortedUpload(api.url, token, archive, fraction)) })))));
    await sleep(1500); // anything the server still did with the partial bodies would be committed by now
    const after = await counts();

    const health = await call(`${api.url}/health/ready`);
    const ok = await submitMarkerJob(api.url, token, { experiment: 'abort-drill', queue: 'abort-drill', marker: join(tmp, 'm') }, markerWorkflow());
    const full = await submitMarkerJob(api.url, token, { experiment: 'abort-drill', queue: 'abort-drill', marker: join(tmp, 'm') }, archive, 60_000);
    const final = await counts();
    report('upload abort', { aborted, before, after, healthReady: health.status, submitAfter: ok.status, bigSubmitAfter: full.status, final });

    expect(aborted.every((a) => a.replied === null)).toBe(true);
    expect(after).toEqual(before);
    expect(api.alive()).toBe(true);
    expect(health.status).toBe(200);
    expect(ok.status).toBe(201);
    expect(full.status).toBe(201);
    expect(final).toEqual({ jobs: before.jobs + 2, blobs: before.blobs + 2 });
    // Nothing was logged as an internal error.
    expect(api.output()).not.toContain('errorId=');
  }, 120_000);
});
