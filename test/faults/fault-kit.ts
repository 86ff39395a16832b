// Shared by the fault drills: real `node dist/main.js api|worker` processes on loopback, a private redis-server and
// Postgres where a drill stops them, an HTTP client with a deadline on every request, and bounded waits.
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { freePort, redisAnswers } from '../../src/common/net';
import { bearer } from '../utils/harness';
import { join } from 'node:path';
import { Client } from 'pg';
import { makeTarGz } from '../utils/archives';
import { ADMIN_PASSWORD } from '../utils/harness';

const ROOT = join(__dirname, '..', '..');
const DIST_MAIN = join(ROOT, 'dist', 'main.js');

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Builds dist once when a drill runs without `npx nest build` first (the drills spawn dist/main.js). */
export function ensureBuilt(): void {
  if (!existsSync(join(ROOT, 'dist', 'runner', 'runner.module.js'))) execFileSync('npx', ['nest', 'build'], { cwd: ROOT, stdio: 'ignore', timeout: 180_000 });
}

// One free-port helper and one bearer header for the whole project.
export { bearer, freePort };

/** Polls until `probe` returns something truthy; fails naming `what` after the deadline. */
export async function waitFor<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 30_000, everyMs = 200): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe().catch(() => null);
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** A child process of the drill; `stop` is bounded (SIGTERM, SIGKILL after `graceMs`) and idempotent. */
export interface Proc {
  child: ChildProcess;
  output: () => string;
  alive: () => boolean;
  stop: (graceMs?: number) => Promise<void>;
}

function track(child: ChildProcess, keepBytes = 200_000): Proc {
  let out = '';
  const append = (d: Buffer) => {
    out += d.toString();
    if (out.length > keepBytes) out = out.slice(-keepBytes);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    output: () => out,
    alive,
    stop: async (graceMs = 15_000) => {
      if (!alive()) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => alive() && child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Environment for the API and worker processes of one drill: one database, one Redis, one key prefix. */
export function drillEnv(databaseUrl: string, redisUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    REDIS_PREFIX: `alidade-t-${process.env.ALIDADE_TEST_RUN}-fault-${randomBytes(3).toString('hex')}`,
    JWT_SECRET: 'test-secret-test-secret-test-secret-0123456789',
    ADMIN_PASSWORD,
    LOGIN_RATE_LIMIT: '1000',
    LOG_LEVEL: 'warn',
    HOST: '127.0.0.1',
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    // The drills' jobs append to marker files on the host, which a sandboxed job cannot reach.
    JOB_SANDBOX: 'none',
    ...extra,
  };
}

export interface ApiProc extends Proc {
  url: string;
}

/** `node dist/main.js api` on a free loopback port; resolves once GET /health answers. */
export async function spawnApi(env: Record<string, string>): Promise<ApiProc> {
  const port = await freePort();
  const p = track(spawn(process.execPath, [DIST_MAIN, 'api'], { env: { ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] }));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(
    `the API on port ${port}`,
    async () => {
      if (!p.alive()) throw new Error('exited');
      return (await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) })).status === 200;
    },
    60_000,
    200,
  ).catch((e) => {
    p.child.kill('SIGKILL');
    throw new Error(`${(e as Error).message}\n${p.output().slice(-3000)}`);
  });
  return { ...p, url };
}

/** `node dist/main.js worker`; resolves once it serves the queue `queueId`. */
export async function spawnWorker(env: Record<string, string>, queueId: number): Promise<Proc> {
  const p = track(spawn(process.execPath, [DIST_MAIN, 'worker'], { env: { PUBLIC_URL: 'http://127.0.0.1:9', ...env, LOG_LEVEL: 'log' }, stdio: ['ignore', 'pipe', 'pipe'] }));
  await waitFor(`the worker to serve queue ${queueId}`, async () => p.output().includes(`serving queue ${queueId}`), 60_000).catch((e) => {
    p.child.kill('SIGKILL');
    throw new Error(`${(e as Error).message}\n${p.output().slice(-3000)}`);
  });
  return p;
}

/** A private redis-server (no persistence) that a drill may stop and start again on the same port. */
export class RedisServer {
  private proc?: Proc;
  constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.proc = track(
      spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] }),
    );
    await waitFor(`redis-server on ${this.port}`, () => redisAnswers('127.0.0.1', this.port), 10_000, 50);
  }

  async stop(): Promise<void> {
    await this.proc?.stop(5000);
  }
}

/** One HTTP exchange: status (0 = no reply: refused, reset or past the deadline), body, milliseconds taken. */
export interface Reply {
  status: number;
  /** Parsed JSON (any shape: each drill reads what it needs), else the text. */
  body: any;
  ms: number;
  error?: string;
}

export async function call(url: string, init: RequestInit = {}, timeoutMs = 10_000): Promise<Reply> {
  const started = Date.now();
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body, ms: Date.now() - started };
  } catch (e) {
    return { status: 0, body: null, ms: Date.now() - started, error: String((e as Error).cause ?? e) };
  }
}

export async function loginAdmin(api: string): Promise<string> {
  const r = await call(`${api}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  if (r.status !== 200) throw new Error(`login: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.token;
}

/** Creates an experiment and a queue (as admin); returns the queue id. */
export async function setupExperimentAndQueue(api: string, token: string, experiment: string, queue: string): Promise<number> {
  const json = { ...bearer(token), 'Content-Type': 'application/json' };
  const e = await call(`${api}/api/v1/experiments`, { method: 'POST', headers: json, body: JSON.stringify({ name: experiment }) });
  if (e.status !== 201) throw new Error(`create experiment: ${e.status} ${JSON.stringify(e.body)}`);
  const q = await call(`${api}/api/v1/queues`, { method: 'POST', headers: json, body: JSON.stringify({ name: queue }) });
  if (q.status !== 201) throw new Error(`create queue: ${q.status} ${JSON.stringify(q.body)}`);
  return q.body.queue.id;
}

/** A one-line workflow: its `main` entry point appends the job id ($DIOPTRA_JOB_ID) to the file given as `marker`. */
export function markerWorkflow(): Buffer {
  return makeTarGz({
    MLproject: `name: fault-drill\nentry_points:\n  main:\n    parameters:\n      marker: string\n    command: bash -c 'echo "$DIOPTRA_JOB_ID" >> "$0"' {marker}\n`,
  });
}

/** POST /api/v1/jobs (multipart) running the marker workflow. */
export function submitMarkerJob(api: string, token: string, fields: { experiment: string; queue: string; marker: string }, archive: Buffer, timeoutMs = 15_000): Promise<Reply> {
  const form = new FormData();
  form.set('experimentName', fields.experiment);
  form.set('queue', fields.queue);
  form.set('entryPoint', 'main');
  form.set('parameters', JSON.stringify({ marker: fields.marker }));
  form.set('workflow', new Blob([archive]), 'workflow.tar.gz');
  return call(`${api}/api/v1/jobs`, { method: 'POST', headers: bearer(token), body: form }, timeoutMs);
}

/** The job ids written to a marker file, one per run. */
export function markerLines(file: string): string[] {
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
}

export function duplicates(values: string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const v of values) (seen.has(v) ? dup : seen).add(v);
  return [...dup];
}

/** Job counts by status among `ids`. */
export async function statusCounts(db: Client, ids: string[]): Promise<Record<string, number>> {
  const { rows } = await db.query(`SELECT status, count(*)::int AS n FROM job WHERE id = ANY($1::uuid[]) GROUP BY status`, [ids]);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** Waits until every job of `ids` has ended (bounded); returns the final counts by status. */
export async function drain(db: Client, ids: string[], timeoutMs: number): Promise<Record<string, number>> {
  let counts: Record<string, number> = {};
  await waitFor(
    `${ids.length} jobs to end`,
    async () => {
      counts = await statusCounts(db, ids);
      return (counts.finished ?? 0) + (counts.failed ?? 0) + (counts.canceled ?? 0) === ids.length;
    },
    timeoutMs,
    500,
  ).catch((e) => {
    throw new Error(`${(e as Error).message}: ${JSON.stringify(counts)}`);
  });
  return counts;
}

/** Kills what a drill spawned, best effort and bounded: never throws. */
export async function stopAll(procs: Array<{ stop: (graceMs?: number) => Promise<void> } | undefined>, graceMs = 10_000): Promise<void> {
  await Promise.allSettled(procs.filter(Boolean).map((p) => p!.stop(graceMs)));
}

/** A little report line per drill (jest shows console output at the end of the file). */
export function report(drill: string, facts: Record<string, unknown>): void {
  process.stdout.write(`[fault drill] ${drill}: ${JSON.stringify(facts)}\n`);
}
