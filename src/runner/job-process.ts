import { ChildProcess, spawn } from 'node:child_process';
import { LineSplitter } from './line-splitter';

/** Why the supervisor stopped a process before it exited on its own. */
export type StopReason = 'timeout' | 'cancel' | 'shutdown';

export interface JobProcessOptions {
  command: string;
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  onLine: (stream: 'stdout' | 'stderr', line: string) => void;
}

export interface JobProcessResult {
  /** null when a signal ended it. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stoppedFor: StopReason | null;
}

// setTimeout holds 2^31-1 ms at most (24.8 days); a longer timeout is re-armed in steps.
const MAX_TIMER_MS = 2 ** 31 - 1;
// After the main process exits, how long its pipes may stay open (a background child kept them) before we stop reading.
const PIPE_CLOSE_WAIT_MS = 2000;
/**
 * Runs the command ("$0") with a watchdog beside it in the job's process group: the watchdog holds fd 3, a pipe whose
 * other end only this worker holds. If the worker dies (SIGKILL, OOM), the pipe reaches EOF and the watchdog kills the
 * whole group, so no job outlives the worker that would record it. The command itself does not get fd 3.
 */
const WITH_WATCHDOG = '( read -r -u 3 _; kill -KILL 0 ) </dev/null >/dev/null 2>&1 & exec bash -c "$0" 3<&-';

/**
 * One job's process: `bash -c <command>` in its own process group (so a kill reaches everything it started), stdin
 * closed, stdout/stderr read line by line, a watchdog that ends the group if the worker dies. Enforces the timeout
 * and stops on request: SIGTERM to the group, SIGKILL after `JobProcess.killGraceMs`.
 */
export class JobProcess {
  /** Grace between SIGTERM and SIGKILL. Static so tests can shorten it. */
  static killGraceMs = 10_000;

  readonly done: Promise<JobProcessResult>;
  private readonly child: ChildProcess;
  private stoppedFor: StopReason | null = null;
  private exited = false;
  private timeoutTimer?: NodeJS.Timeout;
  private killTimer?: NodeJS.Timeout;

  constructor(opts: JobProcessOptions) {
    // stdin MUST be 'ignore': with a socket on stdin bash sources ~/.bashrc (115 ms instead of 2.5 ms per spawn).
    this.child = spawn('bash', ['-c', WITH_WATCHDOG, opts.command], { cwd: opts.cwd, env: opts.env, detached: true, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    const lifeline = this.child.stdio[3] as NodeJS.ReadableStream & { destroy(): void };
    lifeline.on('error', () => undefined);
    this.done = new Promise<JobProcessResult>((resolve, reject) => {
      const streams = { stdout: this.child.stdout!, stderr: this.child.stderr! };
      let open = 2;
      let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      const finish = () => {
        if (!exit || open > 0) return;
        this.clearTimers();
        lifeline.destroy();
        resolve({ exitCode: exit.code, signal: exit.signal, stoppedFor: this.stoppedFor });
      };
      for (const [name, stream] of Object.entries(streams) as Array<['stdout' | 'stderr', NodeJS.ReadableStream]>) {
        const lines = new LineSplitter();
        stream.on('data', (chunk: Buffer) => lines.push(chunk).forEach((l) => opts.onLine(name, l)));
        stream.on('close', () => {
          lines.end().forEach((l) => opts.onLine(name, l));
          open--;
          finish();
        });
      }
      this.child.on('error', (e) => {
        this.clearTimers();
        lifeline.destroy();
        reject(e);
      });
      this.child.on('exit', (code, signal) => {
        this.exited = true;
        exit = { code, signal };
        // Whatever the job left running in its group goes too; that also closes the pipes it inherited.
        this.signalGroup('SIGKILL');
        setTimeout(() => {
          if (open > 0) for (const s of Object.values(streams)) (s as NodeJS.ReadableStream & { destroy(): void }).destroy();
        }, PIPE_CLOSE_WAIT_MS).unref();
        finish();
      });
    });
    this.armTimeout(opts.timeoutMs);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** SIGTERM to the process group, SIGKILL after the grace. The first reason given is the one reported. */
  stop(reason: StopReason): void {
    if (this.exited) return;
    this.stoppedFor ??= reason;
    this.signalGroup('SIGTERM');
    this.killTimer ??= setTimeout(() => this.signalGroup('SIGKILL'), JobProcess.killGraceMs);
  }

  private armTimeout(ms: number): void {
    const step = Math.min(ms, MAX_TIMER_MS);
    this.timeoutTimer = setTimeout(() => (ms > step ? this.armTimeout(ms - step) : this.stop('timeout')), step);
  }

  private signalGroup(signal: NodeJS.Signals): void {
    if (this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // ESRCH: the group is already gone.
    }
  }

  private clearTimers(): void {
    clearTimeout(this.timeoutTimer);
    clearTimeout(this.killTimer);
  }
}
