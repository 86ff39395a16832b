// Baseline for job throughput: a loop that only does one Bull round trip per job and spawns `bash -c true`
// (stdin ignored, as the runner does). Prints jobs/s.
// Usage: node bench/spawn-loop.mjs <redisUrl> <jobs> <concurrency> [sandbox | sandbox-noforward]
// With `sandbox`, `bash -c true` runs wrapped in the worker's own sandbox command, built by the same code
// (dist/sandbox) for a job whose queue has the network off: its directory and uid, cgroup, rlimits, bubblewrap,
// setpriv, and the tracking forward (every job has an MLFLOW_TRACKING_URI, which a network-off sandbox forwards).
// `sandbox-noforward` leaves the forward out, to price it.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import Bull from 'bull';

const [redisUrl, jobsArg, concArg, mode] = process.argv.slice(2);
const jobs = Number(jobsArg ?? 200);
const concurrency = Number(concArg ?? 2);
const queue = new Bull(`spawn-loop-${randomBytes(4).toString('hex')}`, redisUrl, { prefix: 'alidade-bench' });

const plainTrue = () =>
  new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', 'true'], { stdio: 'ignore', detached: true });
    child.on('error', reject);
    child.on('exit', resolve);
  });

let sandbox;
if (mode === 'sandbox' || mode === 'sandbox-noforward') {
  const require = createRequire(import.meta.url);
  const { loadConfig } = require('../dist/config/config.js');
  const { SandboxService } = require('../dist/sandbox/sandbox.service.js');
  sandbox = new SandboxService(loadConfig({ ...process.env, DATABASE_URL: 'postgres://unused/x' }));
  sandbox.onModuleInit();
}
let n = 0;
const sandboxedTrue = async () => {
  const box = await sandbox.open(`bench-${process.pid}-${n++}`);
  try {
    // The forward connects to its target only when the job connects: any address will do.
    const env = { PATH: '/usr/bin:/bin', ...(mode === 'sandbox' ? { MLFLOW_TRACKING_URI: 'http://127.0.0.1:9/' } : {}) };
    const proc = await box.start({ command: 'true', cwd: box.dir, env, timeoutMs: 60_000, onLine: () => undefined });
    const r = await proc.done;
    if (r.exitCode !== 0) throw new Error(`sandboxed true: exit ${r.exitCode}`);
  } finally {
    await box.close();
  }
};
const runTrue = sandbox ? sandboxedTrue : plainTrue;

let done = 0;
const finished = new Promise((resolve) => {
  queue.on('global:completed', () => {
    if (++done === jobs) resolve();
  });
});
queue.process(concurrency, async () => {
  await runTrue();
});
await queue.isReady();
const start = process.hrtime.bigint();
await queue.addBulk(Array.from({ length: jobs }, (_, i) => ({ data: { i }, opts: { removeOnComplete: true } })));
await finished;
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
process.stdout.write(`${JSON.stringify({ jobs, seconds, perSecond: jobs / seconds, sandbox: sandbox ? `${sandbox.mode}${mode === 'sandbox' ? '' : ' without the tracking forward'}` : 'none' })}\n`);
sandbox?.onModuleDestroy();
await queue.obliterate({ force: true }).catch(() => undefined);
await queue.close();
process.exit(0);
