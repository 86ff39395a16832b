import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobProcess, JobProcessOptions } from './job-process';
import { loadConfig } from '../config/config';

/** The PATH jobs get (read through the config module, the only reader of the environment). */
const JOB_PATH = loadConfig().jobBaseEnv.PATH;

function run(command: string, extra: Partial<JobProcessOptions> = {}) {
  const lines: Array<[string, string]> = [];
  const p = new JobProcess({ command, cwd: tmpdir(), env: { PATH: JOB_PATH }, timeoutMs: 30_000, onLine: (s, l) => lines.push([s, l]), ...extra });
  return { p, lines };
}

// A killed child whose parent died may linger as a zombie until init reaps it: that counts as stopped.
const alive = (pid: number) => {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
};

describe('JobProcess', () => {
  const grace = JobProcess.killGraceMs;
  afterAll(() => (JobProcess.killGraceMs = grace));

  it('captures stdout and stderr line by line, a last line without newline too, and the exit code', async () => {
    const { p, lines } = run('echo out; echo err >&2; printf tail; exit 3');
    expect(await p.done).toEqual({ exitCode: 3, signal: null, stoppedFor: null, limit: null, exitedAt: expect.any(Number) });
    expect(lines).toEqual(expect.arrayContaining([['stdout', 'out'], ['stderr', 'err'], ['stdout', 'tail']]));
    expect(lines).toHaveLength(3);
  });

  it('runs with exactly the given environment, in the given directory, with stdin closed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jp-'));
    try {
      const { p, lines } = run('pwd; env | sort; read x || echo no-stdin', { cwd: dir, env: { PATH: JOB_PATH, ONLY: 'this' } });
      await p.done;
      const out = lines.map(([, l]) => l);
      expect(out[0]).toBe(dir);
      expect(out).toContain('ONLY=this');
      expect(out).toContain('no-stdin');
      expect(out.some((l) => l.startsWith('JWT_SECRET=') || l.startsWith('DATABASE_URL='))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('times out: SIGTERM to the whole group, reported as stopped for timeout', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jp-'));
    try {
      const { p } = run(`sleep 30 & echo $! > child.pid; wait`, { cwd: dir, timeoutMs: 300 });
      const result = await p.done;
      expect(result.stoppedFor).toBe('timeout');
      expect(result.exitCode === null || result.exitCode > 128).toBe(true);
      const child = Number(readFileSync(join(dir, 'child.pid'), 'utf8'));
      await new Promise((r) => setTimeout(r, 100));
      expect(alive(child)).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('SIGKILLs after the grace a process that ignores SIGTERM', async () => {
    JobProcess.killGraceMs = 300;
    const { p } = run(`trap '' TERM; echo ready; while true; do sleep 0.05; done`);
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    p.stop('cancel');
    const result = await p.done;
    expect(result).toMatchObject({ signal: 'SIGKILL', stoppedFor: 'cancel' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('kills the whole group when the worker side of the lifeline closes (what a dying worker does)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jp-'));
    try {
      const { p } = run(`echo $$ > main.pid; sleep 30 & echo $! > child.pid; wait`, { cwd: dir });
      await new Promise((r) => setTimeout(r, 300));
      const pids = ['main.pid', 'child.pid'].map((f) => Number(readFileSync(join(dir, f), 'utf8')));
      // Simulate the worker's death: its end of fd 3 closes.
      (p as unknown as { child: { stdio: Array<{ destroy(): void }> } }).child.stdio[3].destroy();
      const result = await p.done;
      expect(result.signal).toBe('SIGKILL');
      await new Promise((r) => setTimeout(r, 100));
      expect(pids.filter(alive)).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('does not give the command the lifeline (fd 3)', async () => {
    const { p, lines } = run('ls /proc/self/fd; test -e /dev/fd/3 && echo has-fd-3 || echo no-fd-3');
    await p.done;
    expect(lines.map(([, l]) => l)).toContain('no-fd-3');
  });

  it('does not wait for a background child that keeps the pipes open after the main process exits', async () => {
    const started = Date.now();
    const { p } = run('sleep 30 & echo done');
    expect(await p.done).toMatchObject({ exitCode: 0 });
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
