// `npm run bench:memory` (also the last step of `npm run bench`): the API's memory under big workflow transfers.
// Starts an API process (its own database and DATA_DIR), then measures the growth of its RSS over its idle RSS
// while four 90 MiB workflow uploads run at once, and again while four downloads of them run at once. Targets
// (issue 11 item 10): < 150 MB each. Every download is checked byte for byte (sha256) against what was uploaded.
// Needs `npm run build` first (the prebench script does it). BENCH_VERBOSE=1 shows the API's output.
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { freePort } from '../test/free-port.mjs';
import { startScriptNodeArgs } from './start-args.mjs';
import { rssMb, withRssPeak } from './rss.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUN = randomBytes(3).toString('hex');
const ADMIN_PASSWORD = 'bench-admin-password';
const MiB = 1024 * 1024;
const PARALLEL = 4;
const WORKFLOW_MIB = 90;
const TARGET_MB = 150;
const started = Date.now();
const log = (msg) => process.stderr.write(`[bench:memory +${((Date.now() - started) / 1000).toFixed(0)}s] ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));




/** A tar.gz of an MLproject and `mib` MiB of incompressible padding, written to `dir`; returns its path and sha256. */
function makeWorkflow(dir, mib) {
  const src = join(dir, 'src');
  mkdirSync(src);
  writeFileSync(join(src, 'MLproject'), 'name: big\nentry_points:\n  main:\n    command: "true"\n');
  writeFileSync(join(src, 'padding.bin'), randomBytes(mib * MiB));
  const path = join(dir, 'workflow.tar.gz');
  execFileSync('tar', ['-czf', path, '-C', src, 'MLproject', 'padding.bin']);
  rmSync(src, { recursive: true, force: true });
  return { path, size: statSync(path).size, sha256: createHash('sha256').update(readFileSync(path)).digest('hex') };
}

/** POST /api/v1/jobs, the archive streamed from disk into a multipart body (the client holds none of it). */
function upload(base, token, fields, file) {
  const boundary = `----bench${randomBytes(8).toString('hex')}`;
  const head = Buffer.from(
    Object.entries(fields)
      .map(([k, v]) => `--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
      .join('') + `--${boundary}\r\nContent-Disposition: form-data; name="workflow"; filename="workflow.tar.gz"\r\nContent-Type: application/gzip\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: hostname,
        port,
        method: 'POST',
        path: '/api/v1/jobs',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': `multipart/form-data; boundary=${boundary}`, 'Content-Length': String(head.length + file.size + tail.length) },
      },
      (res) => {
        const parts = [];
        res.on('data', (c) => parts.push(c));
        res.on('end', () => {
          const body = Buffer.concat(parts).toString();
          if (res.statusCode !== 201) reject(new Error(`upload: ${res.statusCode} ${body}`));
          else resolve(JSON.parse(body).job);
        });
      },
    );
    req.on('error', reject);
    req.write(head);
    const stream = createReadStream(file.path);
    stream.pipe(req, { end: false });
    stream.on('end', () => req.end(tail));
    stream.on('error', reject);
  });
}

/** GET /api/v1/jobs/{id}/workflow, hashed as it arrives; returns the size and sha256 received. */
function download(base, token, jobId) {
  return new Promise((resolve, reject) => {
    const req = request(`${base}/api/v1/jobs/${jobId}/workflow`, { headers: { Authorization: `Bearer ${token}` } }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`download: ${res.statusCode}`));
      const hash = createHash('sha256');
      let size = 0;
      res.on('data', (c) => {
        hash.update(c);
        size += c.length;
      });
      res.on('end', () => resolve({ size, sha256: hash.digest('hex') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

export async function runMemoryBench() {
  const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const dbName = `alidade_bench_mem_${RUN}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const dbUrl = new URL(adminUrl);
  dbUrl.pathname = `/${dbName}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'alidade-bench-mem-'));
  const work = mkdtempSync(join(tmpdir(), 'alidade-bench-mem-wf-'));
  let api;
  try {
    const port = await freePort();
    const env = {
      ...process.env,
      NODE_ENV: 'production',
      DATABASE_URL: dbUrl.toString(),
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      REDIS_PREFIX: `alidade-bench-mem-${RUN}`,
      JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0123',
      ADMIN_PASSWORD,
      LOG_LEVEL: 'warn',
      DATA_DIR: dataDir,
      PORT: String(port),
    };
    // Started as `npm run start:api` starts it (its heap limit).
    api = spawn(process.execPath, [...startScriptNodeArgs('start:api'), 'dist/main.js', 'api'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const s of [api.stdout, api.stderr]) s.on('data', (d) => process.env.BENCH_VERBOSE && process.stderr.write(`[api] ${d}`));
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      if (i > 300) throw new Error('the API did not start');
      if (await fetch(`${base}/health`).then((r) => r.ok, () => false)) break;
      await sleep(200);
    }
    const json = async (path, body, token) => {
      const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return res.json();
    };
    const { token } = await json('/api/v1/auth/login', { username: 'admin', password: ADMIN_PASSWORD });
    await json('/api/v1/experiments', { name: 'bench-memory' }, token);
    await json('/api/v1/queues', { name: 'bench-memory' }, token);
    const fields = { experimentName: 'bench-memory', queue: 'bench-memory', entryPoint: 'main' };

    log(`making a ${WORKFLOW_MIB} MiB workflow`);
    const file = makeWorkflow(work, WORKFLOW_MIB);
    await sleep(500);
    const cold = rssMb(api.pid);
    // Warm-up before each measure: one upload (or download) alone, so code loaded lazily and connection pools count in
    // the idle RSS, not in the growth.
    await upload(base, token, fields, file);
    await sleep(1000);
    const idleUp = rssMb(api.pid);
    log(`idle RSS ${idleUp.toFixed(0)} MB (cold ${cold.toFixed(0)} MB); ${PARALLEL} uploads of ${(file.size / MiB).toFixed(1)} MiB at once`);
    const t0 = performance.now();
    const up = await withRssPeak(api.pid, () => Promise.all(Array.from({ length: PARALLEL }, () => upload(base, token, fields, file))), 20);
    const upSeconds = (performance.now() - t0) / 1000;

    await download(base, token, up.result[0].id);
    await sleep(1000);
    const idleDown = rssMb(api.pid);
    log(`idle RSS ${idleDown.toFixed(0)} MB; ${PARALLEL} downloads at once`);
    const t1 = performance.now();
    const down = await withRssPeak(api.pid, () => Promise.all(up.result.map((job) => download(base, token, job.id))), 20);
    const downSeconds = (performance.now() - t1) / 1000;
    const exact = down.result.every((d) => d.size === file.size && d.sha256 === file.sha256);
    if (!exact) throw new Error(`a download differs from the upload: ${JSON.stringify(down.result)}`);

    const result = {
      workflowMiB: file.size / MiB,
      cold,
      upload: { idle: idleUp, peak: up.peak, growth: up.peak - idleUp, seconds: upSeconds },
      download: { idle: idleDown, peak: down.peak, growth: down.peak - idleDown, seconds: downSeconds },
    };
    printTable(result);
    return result;
  } finally {
    api?.kill('SIGTERM');
    await sleep(1000);
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  }
}

function printTable(r) {
  const f = (x, d = 0) => x.toFixed(d);
  const mb = (bytes) => (bytes * 4 * MiB) / 1e6;
  const rows = [
    ['measure', 'RSS growth (MB)', 'idle → peak RSS (MB)', 'time (s)', 'target', 'met'],
    [`${PARALLEL} × ${f(r.workflowMiB, 1)} MiB workflow uploads at once`, f(r.upload.growth), `${f(r.upload.idle)} → ${f(r.upload.peak)}`, f(r.upload.seconds, 1), `< ${TARGET_MB} MB`, r.upload.growth < TARGET_MB ? 'yes' : 'NO'],
    [`${PARALLEL} × ${f(r.workflowMiB, 1)} MiB workflow downloads at once`, f(r.download.growth), `${f(r.download.idle)} → ${f(r.download.peak)}`, f(r.download.seconds, 1), `< ${TARGET_MB} MB`, r.download.growth < TARGET_MB ? 'yes' : 'NO'],
  ];
  const notes = `Growth = peak RSS while the four run − idle RSS just before (after one warm-up transfer alone). RSS of the API before any transfer: ${f(r.cold)} MB; the upload peak is +${f(r.upload.peak - r.cold)} MB over it.`;
  const header = `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; ${new Date().toISOString()}; ${f(mb(r.workflowMiB))} MB moved each way`;
  const md = [header, '', `| ${rows[0].join(' | ')} |`, `| ${rows[0].map(() => '---').join(' | ')} |`, ...rows.slice(1).map((row) => `| ${row.join(' | ')} |`), '', notes].join('\n');
  process.stdout.write(`\n${md}\n`);
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'memory.md'), `${md}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  runMemoryBench().then(
    (r) => process.exit(r.upload.growth < TARGET_MB && r.download.growth < TARGET_MB ? 0 : 1),
    (e) => {
      process.stderr.write(`bench:memory failed: ${e.stack ?? e}\n`);
      process.exit(1);
    },
  );
}
