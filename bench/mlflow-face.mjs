// The MLflow face side by side with a real `mlflow server` on the same Postgres (a database of its own): log-batch of
// 1000 metrics a request, runs/get, metrics/get-history of a 100k-point metric, interleaved rounds, medians; then
// get-history of a 1M-point metric on Alidade with the API's RSS sampled (it must not grow with the points).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ensureVenv, MLFLOW_SERVER } from '../test/python-env.mjs';

const ROUNDS = 3;

/**
 * ctx: { base, auth, apiPid, adminUrl, run, log, cannon, withRssPeak, rssMb, median, freePort, waitHttp, db }
 * Returns the rows for the table.
 */
export async function benchMlflowFace(ctx) {
  const { base, auth, adminUrl, log, cannon, median } = ctx;
  const python = ensureVenv(MLFLOW_SERVER);
  const dbName = `alidade_bench_mlflow_${ctx.run}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${dbName}`);
  const storeUrl = new URL(adminUrl);
  // psycopg2 is what the server's venv has (MLflow would pick psycopg 3 for a bare postgresql://).
  storeUrl.protocol = 'postgresql+psycopg2:';
  storeUrl.pathname = `/${dbName}`;
  const dir = mkdtempSync(join(tmpdir(), 'alidade-bench-mlflow-'));
  const port = await ctx.freePort();
  // MLflow's defaults (uvicorn with its default workers), minus the background job runner nothing here uses.
  const server = spawn(python, ['-m', 'mlflow', 'server', '--backend-store-uri', storeUrl.toString(), '--artifacts-destination', join(dir, 'artifacts'), '--host', '127.0.0.1', '--port', String(port)], {
    cwd: dir,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { PATH: process.env.PATH, HOME: dir, MLFLOW_SERVER_ENABLE_JOB_EXECUTION: 'false' },
  });
  let serverOut = '';
  server.stdout.on('data', (d) => (serverOut = (serverOut + d).slice(-5000)));
  server.stderr.on('data', (d) => (serverOut = (serverOut + d).slice(-5000)));
  const stopServer = () => {
    try {
      process.kill(-server.pid, 'SIGTERM');
    } catch {
      /* gone */
    }
  };
  try {
    const mlflowBase = `http://127.0.0.1:${port}`;
    await ctx.waitHttp(`${mlflowBase}/health`, 180_000).catch((e) => {
      throw new Error(`${e.message}\n${serverOut}`);
    });
    log(`mlflow server up on ${mlflowBase} (Postgres database ${dbName})`);

    const sides = {
      alidade: { base, headers: { ...auth } },
      mlflow: { base: mlflowBase, headers: {} },
    };
    const call = async (side, method, endpoint, message) => {
      const s = sides[side];
      const url = `${s.base}/api/2.0/mlflow/${endpoint}` + (method === 'GET' ? `?${new URLSearchParams(message)}` : '');
      const res = await fetch(url, method === 'GET' ? { headers: s.headers } : { method, headers: { ...s.headers, 'content-type': 'application/json' }, body: JSON.stringify(message) });
      const text = await res.text();
      if (!res.ok) throw new Error(`${side} ${endpoint}: ${res.status} ${text.slice(0, 300)}`);
      return text ? JSON.parse(text) : {};
    };
    const newRun = async (side, experimentId, name) => (await call(side, 'POST', 'runs/create', { experiment_id: experimentId, run_name: name, start_time: Date.now(), tags: [] })).run.info.run_id;
    const batchBody = (runId, key, from, n) =>
      JSON.stringify({ run_id: runId, metrics: Array.from({ length: n }, (_, i) => ({ key, value: Math.sin(from + i), timestamp: 1_700_000_000_000 + from + i, step: from + i })) });

    // ---- the same fixtures on both sides
    const fixtures = {};
    for (const side of Object.keys(sides)) {
      const experimentId = (await call(side, 'POST', 'experiments/create', { name: `bench-mlflow-${ctx.run}` })).experiment_id;
      // runs/get: a run as a job leaves it: 10 params, 10 tags, 10 metric keys with 100 steps each.
      const getRun = await newRun(side, experimentId, 'get');
      await call(side, 'POST', 'runs/log-batch', {
        run_id: getRun,
        params: Array.from({ length: 10 }, (_, i) => ({ key: `param_${i}`, value: `value-${i}` })),
        tags: Array.from({ length: 10 }, (_, i) => ({ key: `tag_${i}`, value: `value-${i}` })),
      });
      await call(side, 'POST', 'runs/log-batch', {
        run_id: getRun,
        metrics: Array.from({ length: 1000 }, (_, i) => ({ key: `metric_${i % 10}`, value: i / 7, timestamp: 1_700_000_000_000 + i, step: Math.floor(i / 10) })),
      });
      // get-history: one metric of 100,000 points (100 batches of 1000, as the client splits them).
      const historyRun = await newRun(side, experimentId, 'history');
      for (let b = 0; b < 100; b++) {
        const s = sides[side];
        const res = await fetch(`${s.base}/api/2.0/mlflow/runs/log-batch`, { method: 'POST', headers: { ...s.headers, 'content-type': 'application/json' }, body: batchBody(historyRun, 'loss', b * 1000, 1000) });
        if (!res.ok) throw new Error(`${side} seeding history: ${res.status} ${await res.text()}`);
      }
      fixtures[side] = { experimentId, getRun, historyRun };
    }
    log('mlflow fixtures seeded on both sides (a run with 10 params/tags/metrics, a 100k-point metric)');

    /** The whole history as the client reads it: pages of 25000 following next_page_token. */
    const readHistory = async (side, runId, key) => {
      let token = '';
      let points = 0;
      for (let page = 0; page < 1000; page++) {
        const body = await call(side, 'GET', 'metrics/get-history', { run_id: runId, run_uuid: runId, metric_key: key, max_results: '25000', ...(token ? { page_token: token } : {}) });
        points += (body.metrics ?? []).length;
        token = body.next_page_token ?? '';
        if (!token) break;
      }
      return points;
    };
    for (const side of Object.keys(sides)) {
      const n = await readHistory(side, fixtures[side].historyRun, 'loss');
      if (n !== 100_000) throw new Error(`${side}: get-history gave ${n} points, not 100000`);
    }

    const results = { logBatch: { alidade: [], mlflow: [] }, runsGet: { alidade: [], mlflow: [] }, history: { alidade: [], mlflow: [] } };
    for (let round = 0; round < ROUNDS; round++) {
      for (const side of round % 2 ? ['mlflow', 'alidade'] : ['alidade', 'mlflow']) {
        const s = sides[side];
        const f = fixtures[side];
        // log-batch: every request 1000 new points of one metric in a run of its own per round.
        const batchRun = await newRun(side, f.experimentId, `batch-${round}`);
        let next = 0;
        const lb = await cannon({
          url: s.base,
          connections: 4,
          duration: 8,
          requests: [{ method: 'POST', path: '/api/2.0/mlflow/runs/log-batch', headers: { ...s.headers, 'content-type': 'application/json' }, setupRequest: (req) => ({ ...req, body: batchBody(batchRun, 'm', 1000 * next++, 1000) }) }],
        });
        if (lb.non2xx) throw new Error(`${side} log-batch: ${lb.non2xx} non-2xx replies`);
        results.logBatch[side].push(lb.requests.average);
        const rg = await cannon({ url: `${s.base}/api/2.0/mlflow/runs/get?run_id=${f.getRun}&run_uuid=${f.getRun}`, headers: s.headers, connections: 10, duration: 8 });
        if (rg.non2xx) throw new Error(`${side} runs/get: ${rg.non2xx} non-2xx replies`);
        results.runsGet[side].push(rg.requests.average);
        // get-history: the full 100k history, read as the client does, back to back for 8 s.
        const times = [];
        const end = Date.now() + 8000;
        while (Date.now() < end || times.length < 3) {
          const t0 = performance.now();
          await readHistory(side, f.historyRun, 'loss');
          times.push(performance.now() - t0);
        }
        results.history[side].push(median(times));
      }
      log(`mlflow round ${round + 1}: log-batch ${results.logBatch.alidade.at(-1).toFixed(1)} vs ${results.logBatch.mlflow.at(-1).toFixed(1)} req/s, runs/get ${results.runsGet.alidade.at(-1).toFixed(0)} vs ${results.runsGet.mlflow.at(-1).toFixed(0)} req/s, get-history 100k ${results.history.alidade.at(-1).toFixed(0)} vs ${results.history.mlflow.at(-1).toFixed(0)} ms`);
    }
    stopServer();

    // ---- 1M points on Alidade: seeded in SQL (the write path is measured above), read through the face.
    const bigRun = await newRun('alidade', fixtures.alidade.experimentId, 'history-1m');
    await ctx.db.query(
      `INSERT INTO run_metric (run_id, key, timestamp, step, value)
       SELECT $1, 'loss', 1700000000000 + i, i, sin(i) FROM generate_series(0, 999999) i`,
      [bigRun],
    );
    await ctx.db.query('ANALYZE run_metric');
    const growth = async (runId, key) => {
      const before = ctx.rssMb(ctx.apiPid);
      const t0 = performance.now();
      const { result, peak } = await ctx.withRssPeak(ctx.apiPid, () => readHistory('alidade', runId, key));
      return { points: result, ms: performance.now() - t0, growth: peak - before };
    };
    const h100k = await growth(fixtures.alidade.historyRun, 'loss');
    const h1m = [await growth(bigRun, 'loss'), await growth(bigRun, 'loss')];
    if (h1m.some((h) => h.points !== 1_000_000)) throw new Error(`1M history gave ${h1m.map((h) => h.points).join(', ')} points`);
    log(`get-history 1M: ${h1m.map((h) => `${h.ms.toFixed(0)} ms, +${h.growth.toFixed(1)} MB`).join('; ')} (100k: +${h100k.growth.toFixed(1)} MB)`);

    return {
      logBatch: { alidade: median(results.logBatch.alidade), mlflow: median(results.logBatch.mlflow) },
      runsGet: { alidade: median(results.runsGet.alidade), mlflow: median(results.runsGet.mlflow) },
      history: { alidade: median(results.history.alidade), mlflow: median(results.history.mlflow) },
      history1m: { ms: Math.min(...h1m.map((h) => h.ms)), growth: Math.max(...h1m.map((h) => h.growth)), growth100k: h100k.growth },
    };
  } finally {
    stopServer();
    await new Promise((r) => setTimeout(r, 1500));
    await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  }
}
