// Baseline for job throughput: a loop that only does one Bull round trip per job and spawns `bash -c true`
// (stdin ignored, as the runner does). Prints jobs/s. Usage: node bench/spawn-loop.mjs <redisUrl> <jobs> <concurrency>
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import Bull from 'bull';

const [redisUrl, jobsArg, concArg] = process.argv.slice(2);
const jobs = Number(jobsArg ?? 200);
const concurrency = Number(concArg ?? 2);
const queue = new Bull(`spawn-loop-${randomBytes(4).toString('hex')}`, redisUrl, { prefix: 'alidade-bench' });

const runTrue = () =>
  new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', 'true'], { stdio: 'ignore', detached: true });
    child.on('error', reject);
    child.on('exit', resolve);
  });

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
process.stdout.write(`${JSON.stringify({ jobs, seconds, perSecond: jobs / seconds })}\n`);
await queue.obliterate({ force: true }).catch(() => undefined);
await queue.close();
process.exit(0);
