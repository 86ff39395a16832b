// `npm run bench`: starts Alidade (its own database) and the baselines, drives them on loopback, interleaves the runs
// and prints one table of ratios against DESIGN.md's targets. Bounded: every loop has a count or a deadline.
//
// Baselines: a bare Nest + TypeORM primary-key read (bench/baseline/main.ts), the same SQL as Alidade's list run
// directly with pg, and a loop that only spawns `bash -c true` after one Bull round trip (bench/spawn-loop.mjs).
import autocannon from 'autocannon';
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { benchMlflowFace } from './mlflow-face.mjs';
import { freePort } from '../test/free-port.mjs';
import { rssMb, withRssPeak } from './rss.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const RUN = randomBytes(3).toString('hex');
const ADMIN_PASSWORD = 'bench-admin-password';
const children = new Set();
const started = Date.now();

const log = (msg) => process.stderr.write(`[bench +${((Date.now() - started) / 1000).toFixed(0)}s] ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));


function start(cmd, args, env, name) {
  const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr.on('data', (d) => process.env.BENCH_VERBOSE && process.stderr.write(`[${name}] ${d}`));
  child.stdout.on('data', (d) => process.env.BENCH_VERBOSE && process.stderr.write(`[${name}] ${d}`));
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

function stopAll() {
  for (const c of children) c.kill('SIGTERM');
}
process.on('exit', stopAll);
process.on('SIGINT', () => process.exit(130));

async function waitHttp(url, deadlineMs = 60_000) {
  const end = Date.now() + deadlineMs;
  while (Date.now() < end) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      /* not up yet */
    }
    await sleep(200);
  }
  throw new Error(`${url} did not answer within ${deadlineMs} ms`);
}



function cannon(opts) {
  return new Promise((resolve, reject) => {
    autocannon({ connections: 10, duration: 8, ...opts }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  // ---- infrastructure: our own database on the local (or given) Postgres, our own Redis prefix
  const adminUrl = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const dbName = `alidade_bench_${RUN}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const dbUrlObj = new URL(adminUrl);
  dbUrlObj.pathname = `/${dbName}`;
  const databaseUrl = dbUrlObj.toString();
  const dataDir = mkdtempSync(join(tmpdir(), 'alidade-bench-'));
  const env = {
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: `alidade-bench-${RUN}`,
    JWT_SECRET: 'bench-secret-bench-secret-bench-secret-0123',
    ADMIN_PASSWORD,
    LOGIN_RATE_LIMIT: '1000',
    LOG_LEVEL: 'warn',
    DATA_DIR: dataDir,
  };
  const db = new pg.Client({ connectionString: databaseUrl });
  const rows = {};
  try {
    // ---- Alidade API
    const port = await freePort();
    const api = start(process.execPath, ['dist/main.js', 'api'], { ...env, PORT: String(port) }, 'api');
    const base = `http://127.0.0.1:${port}`;
    await waitHttp(`${base}/health`);
    await db.connect();
    const login = await (await fetch(`${base}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) })).json();
    const auth = { authorization: `Bearer ${login.token}` };
    const post = async (path, body) => {
      const res = await fetch(`${base}${path}`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return res.json();
    };
    const experiment = (await post('/api/v1/experiments', { name: 'bench' })).experiment;
    const seedQueue = (await post('/api/v1/queues', { name: 'bench-seed' })).queue;
    const runQueue = (await post('/api/v1/queues', { name: 'bench-run' })).queue;
    log(`api up on ${base}, rss ${rssMb(api.pid).toFixed(0)} MB`);

    // BENCH_ONLY=mlflow measures only the MLflow face (for work on it); a full run measures everything.
    const only = process.env.BENCH_ONLY;
    if (only !== 'mlflow') await benchJobs();
    async function benchJobs() {
    // ---- seeding: ended jobs only (the dispatcher must not pick them up)
    const seed = async (from, to) => {
      await db.query(
        `INSERT INTO job (id, experiment_id, queue_id, owner_id, status, entry_point, entry_point_kwargs, parameters, timeout, timeout_seconds,
                          workflow_key, workflow_uri, mlflow_run_id, created_at, last_modified, started_at, ended_at, exit_code, failure_reason)
         SELECT gen_random_uuid(), $1, $2, 1, (ARRAY['finished','failed','canceled','finished'])[1 + i % 4], 'main', '-P a=' || i, jsonb_build_object('a', i::text),
                '24h', 86400, 'workflow/seed/w.tar.gz', 'db://workflow/' || md5(i::text) || '/w.tar.gz', md5(i::text),
                now() - (i || ' seconds')::interval, now() - (i || ' seconds')::interval, now() - (i || ' seconds')::interval,
                now() - (i || ' seconds')::interval, CASE WHEN i % 4 = 1 THEN 1 ELSE 0 END, CASE WHEN i % 4 = 1 THEN 'exit code 1' END
           FROM generate_series($3::int, $4::int) i`,
        [experiment.id, seedQueue.id, from, to],
      );
      await db.query('VACUUM ANALYZE job');
    };

    // ---- Dioptra's unbounded GET /api/job/: time and RSS growth at 10k and 100k rows
    const dioptraList = async () => {
      const before = rssMb(api.pid);
      const { result, peak } = await withRssPeak(api.pid, async () => {
        const t0 = performance.now();
        const res = await fetch(`${base}/api/job/`, { headers: auth });
        let bytes = 0;
        for await (const chunk of res.body) bytes += chunk.length;
        return { ms: performance.now() - t0, bytes, status: res.status };
      });
      return { ...result, growth: peak - before };
    };
    log('seeding 10,000 jobs');
    await seed(1, 10_000);
    const d10k = await dioptraList();
    log('seeding to 100,000 jobs');
    await seed(10_001, 100_000);
    const d100k = [await dioptraList(), await dioptraList()];
    const d100 = d100k.sort((a, b) => a.ms - b.ms)[0];
    rows.dioptra = { d10k, d100: d100, growth100: Math.max(...d100k.map((d) => d.growth)) };
    log(`dioptra list: 10k ${d10k.ms.toFixed(0)} ms (+${d10k.growth.toFixed(1)} MB), 100k ${d100.ms.toFixed(0)} ms (+${rows.dioptra.growth100.toFixed(1)} MB)`);

    log('seeding to 1,000,000 jobs');
    await seed(100_001, 1_000_000);
    const ids = (await db.query(`SELECT id FROM job TABLESAMPLE SYSTEM (1) LIMIT 2000`)).rows.map((r) => r.id);

    // ---- baseline Nest + TypeORM app
    const basePort = await freePort();
    const baseline = start(process.execPath, ['bench/dist/main.js', databaseUrl, String(basePort)], {}, 'baseline');
    const baseUrl = `http://127.0.0.1:${basePort}`;
    await waitHttp(`${baseUrl}/jobs/${ids[0]}`);

    // ---- GET /api/v1/jobs/{id} req/s, interleaved with the baseline; API RSS under that load
    let idx = 0;
    const nextPath = (prefix) => () => `${prefix}${ids[idx++ % ids.length]}`;
    const alidadeRps = [];
    const baselineRps = [];
    let loadRss = 0;
    for (let round = 0; round < 3; round++) {
      const a = await withRssPeak(api.pid, () =>
        cannon({ url: base, headers: auth, requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: nextPath('/api/v1/jobs/')() }) }] }),
      );
      loadRss = Math.max(loadRss, a.peak);
      alidadeRps.push(a.result.requests.average);
      if (a.result.non2xx) throw new Error(`GET /api/v1/jobs/{id}: ${a.result.non2xx} non-2xx replies`);
      const b = await cannon({ url: baseUrl, requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: nextPath('/jobs/')() }) }] });
      baselineRps.push(b.requests.average);
    }
    rows.getById = { alidade: median(alidadeRps), baseline: median(baselineRps) };
    log(`GET /jobs/{id}: alidade ${rows.getById.alidade.toFixed(0)} req/s, baseline ${rows.getById.baseline.toFixed(0)} req/s`);

    // ---- filtered 100-row list over 1M jobs vs the same SQL run directly
    const listPath = `/api/v1/jobs?status=failed&queueId=${seedQueue.id}&sortBy=createdAt&orderBy=desc&limit=100&offset=500`;
    const countSql = `SELECT count(*) AS n FROM job j WHERE j.status = ANY($1::text[]) AND j.queue_id = $2`;
    const pageSql = `SELECT j.id, j.seq, j.experiment_id, j.queue_id, j.owner_id, j.status, j.entry_point, j.entry_point_kwargs, j.parameters,
        j.depends_on, j.timeout, j.timeout_seconds, j.workflow_key, j.workflow_uri, j.mlflow_run_id, j.created_at, j.last_modified,
        j.started_at, j.ended_at, j.exit_code, j.failure_reason, j.worker_host, e.name AS experiment_name, q.name AS queue_name, u.username
      FROM (SELECT * FROM job j WHERE j.status = ANY($1::text[]) AND j.queue_id = $2 ORDER BY j.created_at DESC, j.seq DESC LIMIT $3 OFFSET $4) j
      JOIN experiment e ON e.id = j.experiment_id JOIN queue q ON q.id = j.queue_id JOIN "user" u ON u.id = j.owner_id
      ORDER BY j.created_at DESC, j.seq DESC`;
    const sqlOnce = async () => {
      const t0 = performance.now();
      await db.query(countSql, [['failed'], seedQueue.id]);
      await db.query(pageSql, [['failed'], seedQueue.id, 100, 500]);
      return performance.now() - t0;
    };
    const apiLat = [];
    const sqlLat = [];
    for (let round = 0; round < 3; round++) {
      const a = await withRssPeak(api.pid, () => cannon({ url: `${base}${listPath}`, headers: auth, connections: 1, duration: 6 }));
      loadRss = Math.max(loadRss, a.peak);
      if (a.result.non2xx) throw new Error(`list: ${a.result.non2xx} non-2xx replies`);
      apiLat.push(a.result.latency.average);
      const times = [];
      const end = Date.now() + 6000;
      while (Date.now() < end) times.push(await sqlOnce());
      sqlLat.push(times.reduce((s, x) => s + x, 0) / times.length);
    }
    rows.list = { alidade: median(apiLat), sql: median(sqlLat) };
    rows.loadRss = loadRss;
    log(`list: alidade ${rows.list.alidade.toFixed(1)} ms, direct SQL ${rows.list.sql.toFixed(1)} ms`);
    baseline.kill('SIGTERM');

    // ---- trivial jobs: submit → finished with 2 workers, interleaved with the spawn loop
    const workflow = makeTrueWorkflow();
    const workers = [0, 1].map((i) => start(process.execPath, ['dist/main.js', 'worker'], { ...env, PUBLIC_URL: base, WORKER_QUEUES: 'bench-run', WORKER_CONCURRENCY: '1' }, `worker${i}`));
    await sleep(4000);
    const submit = async () => {
      const form = new FormData();
      form.set('experimentId', String(experiment.id));
      form.set('queueId', String(runQueue.id));
      form.set('entryPoint', 'main');
      form.set('workflow', new Blob([workflow]), 'workflow.tar.gz');
      const res = await fetch(`${base}/api/v1/jobs`, { method: 'POST', headers: auth, body: form });
      if (res.status !== 201) throw new Error(`submit: ${res.status} ${await res.text()}`);
      return (await res.json()).job.id;
    };
    const waitEnded = async (jobIds, deadlineMs) => {
      const end = Date.now() + deadlineMs;
      while (Date.now() < end) {
        const { rows: r } = await db.query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE status <> 'finished')::int AS bad FROM job WHERE id = ANY($1::uuid[]) AND status IN ('finished','failed','canceled')`, [jobIds]);
        if (r[0].n === jobIds.length) return r[0].bad;
        await sleep(25);
      }
      throw new Error(`jobs did not end within ${deadlineMs} ms`);
    };
    const JOBS = 100;
    const jobRates = [];
    const loopRates = [];
    const plainLoopRates = [];
    const loop = (...extra) => JSON.parse(execFileSync(process.execPath, ['bench/spawn-loop.mjs', redisUrl, String(JOBS), '2', ...extra], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').pop());
    for (let round = 0; round < 2; round++) {
      const t0 = performance.now();
      const submitted = [];
      let next = 0;
      // 4 submitting clients
      await Promise.all(
        [0, 1, 2, 3].map(async () => {
          while (next < JOBS) {
            const i = next++;
            submitted[i] = await submit();
          }
        }),
      );
      const bad = await waitEnded(submitted, 180_000);
      if (bad) throw new Error(`${bad} trivial jobs did not finish`);
      jobRates.push(JOBS / ((performance.now() - t0) / 1000));
      // The workers run jobs in the sandbox (JOB_SANDBOX=auto); the loop runs `true` in the same one.
      const sandboxed = loop('sandbox');
      rows.sandboxMode = sandboxed.sandbox;
      loopRates.push(sandboxed.perSecond);
      plainLoopRates.push(loop().perSecond);
    }
    rows.throughput = { alidade: median(jobRates), loop: median(loopRates), plainLoop: median(plainLoopRates) };
    // Two slots: each job holds one for 2/rate seconds; the sandbox's share of that, per job.
    rows.sandboxCostMs = Math.max(0, (2 / rows.throughput.loop - 2 / rows.throughput.plainLoop) * 1000);
    log(
      `throughput: alidade ${rows.throughput.alidade.toFixed(1)} jobs/s (sandbox ${rows.sandboxMode}), spawn loop in the same sandbox ${rows.throughput.loop.toFixed(1)} jobs/s, ` +
        `plain spawn loop ${rows.throughput.plainLoop.toFixed(1)} jobs/s: the sandbox costs ${rows.sandboxCostMs.toFixed(1)} ms per job`,
    );

    // ---- submit → started on an idle worker (times from the rows: created_at → started_at)
    const latencies = [];
    for (let i = 0; i < 20; i++) {
      const id = await submit();
      await waitEnded([id], 30_000);
      const { rows: r } = await db.query(`SELECT extract(epoch FROM started_at - created_at) * 1000 AS ms FROM job WHERE id = $1`, [id]);
      latencies.push(Number(r[0].ms));
      await sleep(200);
    }
    rows.startLatency = median(latencies);
    log(`submit → started p50 ${rows.startLatency.toFixed(1)} ms`);
    workers.forEach((w) => w.kill('SIGTERM'));
    }

    // ---- the MLflow face against a real mlflow server on the same Postgres
    rows.mlflow = await benchMlflowFace({ base, auth, apiPid: api.pid, adminUrl, run: RUN, log, cannon, withRssPeak, rssMb, median, freePort, waitHttp, db });
    api.kill('SIGTERM');

    printTable(rows);
  } finally {
    stopAll();
    await sleep(1500);
    await db.end().catch(() => undefined);
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** A tar.gz with an MLproject whose entry point runs `true`. */
function makeTrueWorkflow() {
  const dir = mkdtempSync(join(tmpdir(), 'alidade-bench-wf-'));
  writeFileSync(join(dir, 'MLproject'), 'name: trivial\nentry_points:\n  main:\n    command: "true"\n');
  execFileSync('tar', ['-czf', join(dir, 'w.tar.gz'), '-C', dir, 'MLproject']);
  const bytes = readFileSync(join(dir, 'w.tar.gz'));
  rmSync(dir, { recursive: true, force: true });
  return bytes;
}

function jobRows(r, fmt) {
  return [
    ['GET /api/v1/jobs/{id} (req/s, authenticated)', fmt(r.getById.alidade, 0), `${fmt(r.getById.baseline, 0)} (bare Nest+TypeORM)`, fmt(r.getById.alidade / r.getById.baseline, 2), '≥ 0.8×', r.getById.alidade / r.getById.baseline >= 0.8],
    ['GET /api/v1/jobs filtered, 100 rows of 1M (ms)', fmt(r.list.alidade), `${fmt(r.list.sql)} (same SQL direct)`, fmt(r.list.alidade / r.list.sql, 2), '≤ 3×', r.list.alidade / r.list.sql <= 3],
    ['GET /api/job/ 100k jobs (s; RSS growth MB)', `${fmt(r.dioptra.d100.ms / 1000, 2)} s; +${fmt(r.dioptra.growth100)} MB`, `10k jobs: +${fmt(r.dioptra.d10k.growth)} MB`, fmt(r.dioptra.growth100 / Math.max(r.dioptra.d10k.growth, 1), 2), 'no growth with rows', r.dioptra.growth100 < 50],
    [`trivial jobs submit → finished, 2 workers, sandbox ${r.sandboxMode} (jobs/s)`, fmt(r.throughput.alidade), `${fmt(r.throughput.loop)} (spawn + Bull loop, same sandbox)`, fmt(r.throughput.alidade / r.throughput.loop, 2), '≥ 0.5×', r.throughput.alidade / r.throughput.loop >= 0.5],
    ['sandbox cost per trivial job (ms)', fmt(r.sandboxCostMs), `${fmt(r.throughput.plainLoop)} jobs/s (plain spawn loop)`, fmt(r.throughput.loop / r.throughput.plainLoop, 2), 'a few ms', r.sandboxCostMs <= 10],
    ['submit → started p50, idle worker (ms)', fmt(r.startLatency), '–', '–', 'reported', true],
    ['API RSS under load (MB)', fmt(r.loadRss, 0), '–', '–', '< 200 MB', r.loadRss < 200],
  ];
}

function printTable(r) {
  const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  const table = [['measure', 'Alidade', 'baseline', 'ratio', 'target', 'met']];
  if (r.getById) table.push(...jobRows(r, fmt));
  if (r.mlflow) {
    const m = r.mlflow;
    table.push(
      ['MLflow runs/log-batch, 1000 metrics a request (req/s)', fmt(m.logBatch.alidade), `${fmt(m.logBatch.mlflow)} (mlflow server)`, fmt(m.logBatch.alidade / m.logBatch.mlflow, 2), '≥ 1× (aim 2×)', m.logBatch.alidade >= m.logBatch.mlflow],
      ['MLflow runs/get (req/s)', fmt(m.runsGet.alidade, 0), `${fmt(m.runsGet.mlflow, 0)} (mlflow server)`, fmt(m.runsGet.alidade / m.runsGet.mlflow, 2), '≥ 1× (aim 2×)', m.runsGet.alidade >= m.runsGet.mlflow],
      ['MLflow metrics/get-history, 100k points, all pages (ms)', fmt(m.history.alidade, 0), `${fmt(m.history.mlflow, 0)} (mlflow server)`, `${fmt(m.history.mlflow / m.history.alidade, 2)} (speed)`, '≥ 1× (aim 2×)', m.history.alidade <= m.history.mlflow],
      ['MLflow get-history, 1M points (s; API RSS growth MB)', `${fmt(m.history1m.ms / 1000, 2)} s; +${fmt(m.history1m.growth)} MB`, `100k points: +${fmt(m.history1m.growth100k)} MB`, '–', 'flat memory', m.history1m.growth < 50],
    );
  }
  const header = `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; ${new Date().toISOString()}`;
  const md = [header, '', `| ${table[0].join(' | ')} |`, `| ${table[0].map(() => '---').join(' | ')} |`, ...table.slice(1).map((row) => `| ${row.map((c) => (c === true ? 'yes' : c === false ? 'NO' : c)).join(' | ')} |`)].join('\n');
  process.stdout.write(`\n${md}\n`);
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'latest.md'), `${md}\n`);
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${e.stack ?? e}\n`);
  stopAll();
  process.exit(1);
});
