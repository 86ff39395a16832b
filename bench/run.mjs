// `npm run bench`: starts Alidade (its own database) and the baselines, drives them on loopback, interleaves the runs
// and prints one table of ratios against DESIGN.md's targets. Bounded: every loop has a count or a deadline.
//
// Baselines: a bare Nest + TypeORM primary-key read (bench/baseline/main.ts), the same SQL as Alidade's list run
// directly with pg, and a loop that only spawns `bash -c true` after one Bull round trip (bench/spawn-loop.mjs).
import autocannon from 'autocannon';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Redis from 'ioredis';
import pg from 'pg';
import { benchMlflowFace } from './mlflow-face.mjs';
import { freePort } from '../test/free-port.mjs';
import { rssMb, withRssPeak } from './rss.mjs';
import { startScriptNodeArgs } from './start-args.mjs';

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

let missed = [];

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
    // Started as `npm run start:api` starts it (its node flags: the heap limit); BENCH_API_NODE_ARGS replaces them
    // (experiments: other limits, profiles).
    const apiArgs = process.env.BENCH_API_NODE_ARGS !== undefined ? process.env.BENCH_API_NODE_ARGS.split(' ').filter(Boolean) : startScriptNodeArgs('start:api');
    const api = start(process.execPath, [...apiArgs, 'dist/main.js', 'api'], { ...env, PORT: String(port) }, 'api');
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

    // BENCH_ONLY=<sections> (comma-separated: dioptra, get, list, jobs, mlflow) measures only those; a full run all.
    const only = new Set((process.env.BENCH_ONLY ?? 'dioptra,get,list,jobs,mlflow').split(',').map((x) => x.trim()));
    rows.sections = only;
    // ---- seeding: ended jobs only (the dispatcher must not pick them up)
    let seeded = 0;
    const seedTo = async (to) => {
      if (to <= seeded) return;
      log(`seeding to ${to.toLocaleString('en')} jobs`);
      await db.query(
        `INSERT INTO job (id, experiment_id, queue_id, owner_id, status, entry_point, entry_point_kwargs, parameters, timeout, timeout_seconds,
                          workflow_key, workflow_uri, mlflow_run_id, created_at, last_modified, started_at, ended_at, exit_code, failure_reason)
         SELECT gen_random_uuid(), $1, $2, 1, (ARRAY['finished','failed','canceled','finished'])[1 + i % 4], 'main', '-P a=' || i, jsonb_build_object('a', i::text),
                '24h', 86400, 'workflow/seed/w.tar.gz', 'db://workflow/' || md5(i::text) || '/w.tar.gz', md5(i::text),
                now() - (i || ' seconds')::interval, now() - (i || ' seconds')::interval, now() - (i || ' seconds')::interval,
                now() - (i || ' seconds')::interval, CASE WHEN i % 4 = 1 THEN 1 ELSE 0 END, CASE WHEN i % 4 = 1 THEN 'exit code 1' END
           FROM generate_series($3::int, $4::int) i`,
        [experiment.id, seedQueue.id, seeded + 1, to],
      );
      await db.query('VACUUM ANALYZE job');
      seeded = to;
    };

    if (only.has('dioptra')) await benchDioptra();
    if (only.has('get') || only.has('list')) await seedTo(only.has('list') ? 1_000_000 : 100_000);
    if (only.has('get')) await benchGet();
    if (only.has('list')) await benchList();
    if (only.has('jobs') || only.has('stages')) await benchJobs({ stagesOnly: !only.has('jobs') });

    // ---- Dioptra's unbounded GET /api/job/: time and RSS growth at 10k and 100k rows
    async function benchDioptra() {
      const dioptraList = async () => {
        const before = rssMb(api.pid);
        const { result, peak } = await withRssPeak(api.pid, async () => {
          const t0 = performance.now();
          const res = await fetch(`${base}/api/job/`, { headers: auth });
          let bytes = 0;
          for await (const chunk of res.body) bytes += chunk.length;
          return { ms: performance.now() - t0, bytes, status: res.status };
        });
        if (result.status !== 200) throw new Error(`GET /api/job/: ${result.status}`);
        return { ...result, growth: peak - before, before };
      };
      await seedTo(10_000);
      const d10k = await dioptraList();
      await seedTo(100_000);
      const d100k = [await dioptraList(), await dioptraList()];
      const d100 = d100k.sort((a, b) => a.ms - b.ms)[0];
      rows.dioptra = { d10k, d100, growth100: Math.max(...d100k.map((d) => d.growth)), load: load() };
      log(`dioptra list: 10k ${d10k.ms.toFixed(0)} ms (+${d10k.growth.toFixed(1)} MB), 100k ${d100.ms.toFixed(0)} ms (+${rows.dioptra.growth100.toFixed(1)} MB from ${d100.before.toFixed(0)} MB)`);
    }

    // ---- GET /api/v1/jobs/{id} req/s with a login token and with an access token, interleaved with the bare baseline
    async function benchGet() {
      const ids = (await db.query(`SELECT id FROM job TABLESAMPLE SYSTEM (1) LIMIT 2000`)).rows.map((r) => r.id);
      const basePort = await freePort();
      const baseline = start(process.execPath, ['bench/dist/main.js', databaseUrl, String(basePort)], {}, 'baseline');
      const baseUrl = `http://127.0.0.1:${basePort}`;
      await waitHttp(`${baseUrl}/jobs/${ids[0]}`);
      const access = await post('/api/v1/tokens', { description: 'bench' });
      const accessAuth = { authorization: `Bearer ${access.token}` };
      let idx = 0;
      const nextPath = (prefix) => () => `${prefix}${ids[idx++ % ids.length]}`;
      const sides = { login: [], access: [], baseline: [] };
      let loadRss = 0;
      const alidade = async (headers) => {
        const a = await withRssPeak(api.pid, () => cannon({ url: base, headers, requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: nextPath('/api/v1/jobs/')() }) }] }));
        loadRss = Math.max(loadRss, a.peak);
        if (a.result.non2xx) throw new Error(`GET /api/v1/jobs/{id}: ${a.result.non2xx} non-2xx replies`);
        return a.result.requests.average;
      };
      for (let round = 0; round < 3; round++) {
        sides.login.push(await alidade(auth));
        const b = await cannon({ url: baseUrl, requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: nextPath('/jobs/')() }) }] });
        sides.baseline.push(b.requests.average);
        sides.access.push(await alidade(accessAuth));
      }
      baseline.kill('SIGTERM');
      rows.getById = { login: median(sides.login), access: median(sides.access), baseline: median(sides.baseline), load: load() };
      rows.loadRss = Math.max(rows.loadRss ?? 0, loadRss);
      log(`GET /jobs/{id}: login token ${rows.getById.login.toFixed(0)} req/s, access token ${rows.getById.access.toFixed(0)} req/s, baseline ${rows.getById.baseline.toFixed(0)} req/s; RSS peak ${loadRss.toFixed(0)} MB`);
    }

    // ---- filtered 100-row list over 1M jobs vs the same SQL run directly
    async function benchList() {
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
    let loadRss = 0;
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
    rows.list = { alidade: median(apiLat), sql: median(sqlLat), load: load() };
    rows.loadRss = Math.max(rows.loadRss ?? 0, loadRss);
    log(`list: alidade ${rows.list.alidade.toFixed(1)} ms, direct SQL ${rows.list.sql.toFixed(1)} ms`);
    }

    // ---- trivial jobs: the stage table, then submit → finished at concurrency 1 and 2 against the spawn loop
    async function benchJobs({ stagesOnly }) {
      const workflow = makeTrueWorkflow();
      // One queue per worker set, so each is measured alone: one worker with 1 slot, one with 2, two with 1 each.
      const queues = {};
      // The stage table's worker traces (LOG_LEVEL=debug) on a queue of its own: the rates are measured untraced.
      for (const name of ['bench-stage', 'bench-c1', 'bench-c2', 'bench-2w']) queues[name] = (await post('/api/v1/queues', { name })).queue;
      const worker = (queue, concurrency, name, extra = {}) =>
        start(process.execPath, ['dist/main.js', 'worker'], { ...env, PUBLIC_URL: base, WORKER_QUEUES: queue, WORKER_CONCURRENCY: String(concurrency), ...extra }, name);
      const stageOut = [];
      const w1 = worker('bench-stage', 1, 'worker-stage', { LOG_LEVEL: 'debug' });
      w1.stdout.on('data', (d) => stageOut.push(String(d)));
      const workers = [w1, worker('bench-c1', 1, 'worker-c1'), worker('bench-c2', 2, 'worker-c2'), worker('bench-2w', 1, 'worker-2w-a'), worker('bench-2w', 1, 'worker-2w-b')];
      await sleep(5000);
      const submit = async (queueId) => {
        const form = new FormData();
        form.set('experimentId', String(experiment.id));
        form.set('queueId', String(queueId));
        form.set('entryPoint', 'main');
        form.set('workflow', new Blob([workflow]), 'workflow.tar.gz');
        const res = await fetch(`${base}/api/v1/jobs`, { method: 'POST', headers: auth, body: form });
        if (res.status !== 201) throw new Error(`submit: ${res.status} ${await res.text()}`);
        return (await res.json()).job.id;
      };
      let polls = 0;
      const waitEnded = async (jobIds, deadlineMs, pollMs = 25) => {
        const end = Date.now() + deadlineMs;
        while (Date.now() < end) {
          polls++;
          const { rows: r } = await db.query(`SELECT count(*)::int AS n, count(*) FILTER (WHERE status <> 'finished')::int AS bad FROM job WHERE id = ANY($1::uuid[]) AND status IN ('finished','failed','canceled')`, [jobIds]);
          if (r[0].n === jobIds.length) return r[0].bad;
          await sleep(pollMs);
        }
        throw new Error(`jobs did not end within ${deadlineMs} ms`);
      };

      // -- one job at a time on an idle worker: the stage table, statement counts, submit → started
      for (let i = 0; i < 3; i++) await waitEnded([await submit(queues['bench-stage'].id)], 30_000); // warm-up
      const STAGE_JOBS = 20;
      const redisCount = await countRedisCommands(redisUrl, env.REDIS_PREFIX);
      const xacts = async () => Number((await db.query(`SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = $1`, [dbName])).rows[0].n);
      await sleep(1200); // pg_stat_database is updated when a backend goes idle, at most once a second
      const xactsBefore = await xacts();
      const pollsBefore = polls;
      stageOut.length = 0;
      const submitMs = [];
      const latencies = [];
      const stageIds = [];
      for (let i = 0; i < STAGE_JOBS; i++) {
        const t0 = performance.now();
        const id = await submit(queues['bench-stage'].id);
        submitMs.push(performance.now() - t0);
        stageIds.push(id);
        await waitEnded([id], 30_000, 5);
        await sleep(200);
      }
      await sleep(1200);
      const xactsAfter = await xacts();
      const benchXacts = polls - pollsBefore + 1; // the bench's own: its polls, and the first xacts() read
      const redis = await redisCount.stop();
      // submit → started on an idle worker that does not trace (the stage worker's tracing costs a little)
      for (let i = 0; i < 3; i++) await waitEnded([await submit(queues['bench-c1'].id)], 30_000); // warm-up
      for (let i = 0; i < STAGE_JOBS; i++) {
        const id = await submit(queues['bench-c1'].id);
        await waitEnded([id], 30_000, 5);
        const { rows: r } = await db.query(`SELECT extract(epoch FROM started_at - created_at) * 1000 AS ms FROM job WHERE id = $1`, [id]);
        latencies.push(Number(r[0].ms));
        await sleep(200);
      }
      rows.startLatency = median(latencies);
      rows.stages = {
        jobs: STAGE_JOBS,
        submitMs: median(submitMs),
        ...parseStages(stageOut.join(''), stageIds),
        redis: { api: redis.byPid.get(api.pid) ?? 0, worker: redis.byPid.get(w1.pid) ?? 0, lua: redis.lua, other: redis.other, perJob: STAGE_JOBS },
        xactsPerJob: (xactsAfter - xactsBefore - benchXacts) / STAGE_JOBS,
        load: load(),
      };
      log(`submit → started p50 ${rows.startLatency.toFixed(1)} ms; stages: ${rows.stages.lines} lines parsed`);

      if (stagesOnly) {
        workers.forEach((w) => w.kill('SIGTERM'));
        await sleep(2000);
        return;
      }

      // -- throughput, interleaved: Alidade at concurrency 1 and 2 (and two workers of 1), the loop in the same sandbox
      const JOBS = 100;
      const rate = async (queueId) => {
        const t0 = performance.now();
        const submitted = [];
        let next = 0;
        // 4 submitting clients
        await Promise.all(
          [0, 1, 2, 3].map(async () => {
            while (next < JOBS) {
              const i = next++;
              submitted[i] = await submit(queueId);
            }
          }),
        );
        const bad = await waitEnded(submitted, 180_000);
        if (bad) throw new Error(`${bad} trivial jobs did not finish`);
        return JOBS / ((performance.now() - t0) / 1000);
      };
      // Asynchronously: a bench blocked in execFileSync misses the server closing idle keep-alive connections (after
      // 5 s), and its next upload on one of them fails with EPIPE.
      const loop = async (concurrency, ...extra) =>
        JSON.parse((await promisify(execFile)(process.execPath, ['bench/spawn-loop.mjs', redisUrl, String(JOBS), String(concurrency), ...extra], { cwd: ROOT, encoding: 'utf8' })).stdout.trim().split('\n').pop());
      const r = { c1: [], c2: [], w2: [], loop1: [], loop2: [], noforward1: [], plain1: [] };
      for (let round = 0; round < 2; round++) {
        r.c1.push(await rate(queues['bench-c1'].id));
        const sandboxed = await loop(1, 'sandbox');
        rows.sandboxMode = sandboxed.sandbox;
        r.loop1.push(sandboxed.perSecond);
        r.c2.push(await withRssPeak(api.pid, () => rate(queues['bench-c2'].id)).then((x) => ((rows.loadRss = Math.max(rows.loadRss ?? 0, x.peak)), x.result)));
        r.loop2.push((await loop(2, 'sandbox')).perSecond);
        r.w2.push(await rate(queues['bench-2w'].id));
        r.noforward1.push((await loop(1, 'sandbox-noforward')).perSecond);
        r.plain1.push((await loop(1)).perSecond);
      }
      rows.throughput = Object.fromEntries(Object.entries(r).map(([k, v]) => [k, median(v)]));
      rows.throughput.load = load();
      // One slot: each job holds it for 1/rate seconds; the sandbox's share of that, per job.
      rows.sandboxCostMs = Math.max(0, (1 / rows.throughput.loop1 - 1 / rows.throughput.plain1) * 1000);
      const t = rows.throughput;
      log(
        `throughput (sandbox ${rows.sandboxMode}): concurrency 1 ${t.c1.toFixed(1)} jobs/s vs loop ${t.loop1.toFixed(1)}; concurrency 2 ${t.c2.toFixed(1)} vs loop ${t.loop2.toFixed(1)}; ` +
          `two workers of 1 ${t.w2.toFixed(1)}; plain loop ${t.plain1.toFixed(1)}: the sandbox costs ${rows.sandboxCostMs.toFixed(1)} ms per job`,
      );
      workers.forEach((w) => w.kill('SIGTERM'));
      await sleep(2000);
    }

    // ---- the MLflow face against a real mlflow server on the same Postgres
    if (only.has('mlflow')) {
      rows.mlflow = await benchMlflowFace({ base, auth, apiPid: api.pid, adminUrl, run: RUN, log, cannon, withRssPeak, rssMb, median, freePort, waitHttp, db });
      rows.mlflow.load = load();
    }
    api.kill('SIGTERM');

    missed = printTable(rows);
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

/** The 1-minute load average, noted with each figure: the machine is shared. */
function load() {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}

/**
 * Counts the Redis commands that name this run's keys (REDIS_PREFIX), through MONITOR, by the process that sent them
 * (client address → pid through `ss`). Other users of the same Redis are not counted.
 */
async function countRedisCommands(redisUrl, prefix) {
  const client = new Redis(redisUrl);
  const mon = await client.monitor();
  const byAddr = new Map();
  const byName = new Map();
  mon.on('monitor', (_time, args, source) => {
    if (!args.some((a) => String(a).includes(prefix))) return;
    byAddr.set(source, (byAddr.get(source) ?? 0) + 1);
    byName.set(String(args[0]).toLowerCase(), (byName.get(String(args[0]).toLowerCase()) ?? 0) + 1);
  });
  return {
    async stop() {
      const pids = new Map();
      try {
        for (const line of execFileSync('ss', ['-tnpH', 'state', 'established'], { encoding: 'utf8' }).split('\n')) {
          const m = /\s(\S+:\d+)\s+\S+:(\d+)\s+users:\(\("[^"]*",pid=(\d+)/.exec(line);
          if (m && Number(m[2]) === Number(new URL(redisUrl).port || 6379)) pids.set(m[1].replace(/^\[::ffff:(.*)\]/, '$1'), Number(m[3]));
        }
      } catch {
        /* no ss: totals only */
      }
      mon.disconnect();
      client.disconnect();
      const byPid = new Map();
      let other = 0;
      let lua = 0;
      for (const [addr, n] of byAddr) {
        const pid = pids.get(addr);
        // MONITOR shows the commands a Lua script runs (Bull's moveToActive, moveToFinished ...) with source `lua`.
        if (addr === 'lua') lua += n;
        else if (pid === undefined) other += n;
        else byPid.set(pid, (byPid.get(pid) ?? 0) + n);
      }
      return { byPid, other, lua, byName };
    },
  };
}

/** The worker's `stages:` debug lines (LOG_LEVEL=debug) of the given jobs → median per stage (ms, SQL statements). */
function parseStages(out, jobIds) {
  const wanted = new Set(jobIds);
  const per = new Map();
  let lines = 0;
  for (const line of out.split('\n')) {
    const m = /\[job ([0-9a-f-]{36})\] stages: (.*?)(?:"|$)/.exec(line);
    if (!m || !wanted.has(m[1])) continue;
    lines++;
    for (const part of m[2].trim().split(/\s+/)) {
      const p = /^([\w-]+)=([\d.]+)ms\/(\d+)q$/.exec(part);
      if (!p) continue;
      const e = per.get(p[1]) ?? { ms: [], sql: [] };
      e.ms.push(Number(p[2]));
      e.sql.push(Number(p[3]));
      per.set(p[1], e);
    }
  }
  return { lines, stages: [...per].map(([name, e]) => ({ name, ms: median(e.ms), sql: median(e.sql) })) };
}

function stageTable(st, fmt) {
  const out = ['| stage (one trivial job, idle worker, medians) | ms | SQL statements |', '| --- | --- | --- |'];
  out.push(`| submit: HTTP request as the client sees it (multipart, archive and MLproject checks, transaction, Bull add) | ${fmt(st.submitMs, 2)} | (API) |`);
  for (const s of st.stages) out.push(`| ${s.name} | ${fmt(s.ms, 2)} | ${s.sql} |`);
  out.push(`| Redis commands per job (this run's keys): API ${fmt(st.redis.api / st.redis.perJob)}, worker ${fmt(st.redis.worker / st.redis.perJob)}, run inside Bull's Lua scripts ${fmt(st.redis.lua / st.redis.perJob)}, other ${fmt(st.redis.other / st.redis.perJob)} | | |`);
  out.push(`| Postgres transactions per job, both processes (pg_stat_database) | | ${fmt(st.xactsPerJob)} |`);
  return out.join('\n');
}

/** The table rows: [measure, Alidade, baseline, ratio, target, met, load]. */
function tableRows(r, fmt) {
  const out = [];
  const L = (x) => fmt(x, 1);
  if (r.getById) {
    const g = r.getById;
    out.push(['GET /api/v1/jobs/{id}, login token (req/s)', fmt(g.login, 0), `${fmt(g.baseline, 0)} (bare Nest+TypeORM PK read)`, fmt(g.login / g.baseline, 2), '≥ 0.8×', g.login / g.baseline >= 0.8, L(g.load)]);
    out.push(['GET /api/v1/jobs/{id}, access token (req/s)', fmt(g.access, 0), `${fmt(g.baseline, 0)} (same)`, fmt(g.access / g.baseline, 2), '≥ 0.8×', g.access / g.baseline >= 0.8, L(g.load)]);
  }
  if (r.list) out.push(['GET /api/v1/jobs filtered, 100 rows of 1M (ms)', fmt(r.list.alidade), `${fmt(r.list.sql)} (same SQL direct)`, fmt(r.list.alidade / r.list.sql, 2), '≤ 3×', r.list.alidade / r.list.sql <= 3, L(r.list.load)]);
  if (r.dioptra) {
    const d = r.dioptra;
    out.push(['Dioptra GET /api/job/, 100k jobs (s; API RSS growth MB)', `${fmt(d.d100.ms / 1000, 2)} s; +${fmt(d.growth100)} MB`, `10k jobs: +${fmt(d.d10k.growth)} MB`, '–', '< 50 MB', d.growth100 < 50, L(d.load)]);
  }
  if (r.throughput) {
    const t = r.throughput;
    out.push([`trivial jobs submit → finished, WORKER_CONCURRENCY 1, sandbox ${r.sandboxMode} (jobs/s)`, fmt(t.c1), `${fmt(t.loop1)} (Bull + sandboxed bash -c true loop, 1 at a time)`, fmt(t.c1 / t.loop1, 2), '≥ 0.5×', t.c1 / t.loop1 >= 0.5, L(t.load)]);
    out.push(['trivial jobs, WORKER_CONCURRENCY 2 (jobs/s)', fmt(t.c2), `${fmt(t.loop2)} (same loop, 2 at a time)`, fmt(t.c2 / t.loop2, 2), 'reported', true, L(t.load)]);
    out.push(['concurrency 2 vs 1 (scaling on 2 cores)', fmt(t.c2 / t.c1, 2), `loop: ${fmt(t.loop2 / t.loop1, 2)}`, fmt(t.c2 / t.c1 / (t.loop2 / t.loop1), 2), 'reported (~2× where the loop scales)', true, L(t.load)]);
    out.push(['two worker processes of 1 vs one of 2 (jobs/s)', fmt(t.w2), `${fmt(t.c2)} (one worker, 2 slots)`, fmt(t.w2 / t.c2, 2), 'reported (≈ 1×: no contention)', true, L(t.load)]);
    out.push(['trivial jobs, concurrency 1, vs the loop in the sandbox without the tracking forward (jobs/s)', fmt(t.c1), `${fmt(t.noforward1)} (sandboxed loop, no forward)`, fmt(t.c1 / t.noforward1, 2), 'reported', true, L(t.load)]);
    out.push(['sandbox cost per trivial job, forward included (ms)', fmt(r.sandboxCostMs), `${fmt(t.plain1)} jobs/s (plain loop, 1 at a time)`, fmt(t.loop1 / t.plain1, 2), 'reported (issue 11: a few ms)', true, L(t.load)]);
  }
  if (r.startLatency !== undefined) out.push(['submit → started p50, idle worker (ms)', fmt(r.startLatency), '–', '–', '≤ 20 ms', r.startLatency <= 20, L(r.stages.load)]);
  if (r.loadRss !== undefined) out.push(['API RSS under load (MB, peak)', fmt(r.loadRss, 0), '–', '–', '< 200 MB', r.loadRss < 200, '–']);
  if (r.mlflow) {
    const m = r.mlflow;
    const ml = L(m.load);
    out.push(
      ['MLflow runs/log-batch, 1000 metrics a request (req/s)', fmt(m.logBatch.alidade), `${fmt(m.logBatch.mlflow)} (mlflow server)`, fmt(m.logBatch.alidade / m.logBatch.mlflow, 2), '≥ 1× (aim 2×)', m.logBatch.alidade >= m.logBatch.mlflow, ml],
      ['MLflow runs/get (req/s)', fmt(m.runsGet.alidade, 0), `${fmt(m.runsGet.mlflow, 0)} (mlflow server)`, fmt(m.runsGet.alidade / m.runsGet.mlflow, 2), '≥ 1× (aim 2×)', m.runsGet.alidade >= m.runsGet.mlflow, ml],
      ['MLflow metrics/get-history, 100k points, all pages (ms)', fmt(m.history.alidade, 0), `${fmt(m.history.mlflow, 0)} (mlflow server)`, `${fmt(m.history.mlflow / m.history.alidade, 2)} (speed)`, '≥ 1× (aim 2×)', m.history.alidade <= m.history.mlflow, ml],
      ['MLflow get-history, 1M points (s; API RSS growth MB)', `${fmt(m.history1m.ms / 1000, 2)} s; +${fmt(m.history1m.growth)} MB`, `100k points: +${fmt(m.history1m.growth100k)} MB`, '–', 'flat memory', m.history1m.growth < 50, ml],
    );
  }
  return out;
}

/** Prints and writes the tables; returns the measures whose target was missed. */
function printTable(r) {
  const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  const rowsOut = tableRows(r, fmt);
  const head = ['measure', 'Alidade', 'baseline', 'ratio', 'target', 'met', 'load (1 min)'];
  const header = `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}; ${new Date().toISOString()}; sections: ${[...r.sections].join(', ')}`;
  const parts = [header, ''];
  if (r.stages) parts.push(stageTable(r.stages, fmt), '');
  parts.push(`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rowsOut.map((row) => `| ${row.map((c) => (c === true ? 'yes' : c === false ? 'NO' : c)).join(' | ')} |`));
  const md = parts.join('\n');
  process.stdout.write(`\n${md}\n`);
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', 'latest.md'), `${md}\n`);
  return rowsOut.filter((row) => row[5] === false).map((row) => row[0]);
}

main().then(
  () => {
    if (missed.length) process.stderr.write(`bench: ${missed.length} target(s) missed: ${missed.join('; ')}\n`);
    // Whatever a client library still holds open, the bench is over.
    process.exit(missed.length ? 1 : 0);
  },
  (e) => {
    process.stderr.write(`bench failed: ${e.stack ?? e}${e?.cause ? `\ncause: ${e.cause.stack ?? e.cause}` : ""}\n`);
    stopAll();
    process.exit(1);
  },
);
