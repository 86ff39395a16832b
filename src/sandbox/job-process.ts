import { ChildProcess, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { LineSplitter } from './line-splitter';

/** Why the supervisor stopped a process before it exited on its own. */
export type StopReason = 'timeout' | 'cancel' | 'shutdown';

/**
 * How the process is started and how all of it is signalled: the sandbox's part (src/sandbox/sandbox.service.ts).
 * Without one, the command runs as a plain `bash -c` with the watchdog, signalled through its process group.
 */
export interface Launch {
  file: string;
  args: string[];
  /** Extra fds for the child from fd 3 on: 'pipe' for the watchdog's lifeline, or an open fd (seccomp program). */
  extraFds: Array<'pipe' | number>;
  /** Whether fd 3 is the watchdog's lifeline (a pipe only this worker holds). */
  lifeline: boolean;
  /** SIGTERM to every process of the job (the first step of stop). */
  terminate(pid: number): void;
  /** SIGKILL to every process of the job: after the grace, and when the main process has exited. */
  kill(pid: number): Promise<void>;
  /**
   * A limit the job ran into (`memory limit 2 GiB exceeded`), if any; read after kill(). `fatal`: the job fails for it
   * even when it exited 0 (the process and disk limits; a memory kill of one child the job survived is its business).
   */
  limitReached(exitCode: number | null, signal: NodeJS.Signals | null): Promise<{ reason: string; fatal: boolean } | null>;
}

export interface JobProcessOptions {
  command: string;
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  onLine: (stream: 'stdout' | 'stderr', line: string) => void;
  launch?: Launch;
}

export interface JobProcessResult {
  /** null when a signal ended it. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stoppedFor: StopReason | null;
  /** Set when the job ran into a sandbox limit, in words (`memory limit 2 GiB exceeded`). */
  limit: string | null;
  /** The limit fails the job whatever its exit code. */
  limitFatal?: boolean;
  /** performance.now() when the main process exited (what came after is the sandbox's teardown). */
  exitedAt: number;
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
export const WITH_WATCHDOG = '( read -r -u 3 _; kill -KILL 0 ) </dev/null >/dev/null 2>&1 & exec bash -c "$0" 3<&-';

/** The unconfined launch (JOB_SANDBOX=none, and the unit tests): bash with the watchdog, one process group. */
export function plainLaunch(command: string): Launch {
  return {
    file: 'bash',
    args: ['-c', WITH_WATCHDOG, command],
    extraFds: ['pipe'],
    lifeline: true,
    terminate: (pid) => signalGroup(pid, 'SIGTERM'),
    kill: async (pid) => signalGroup(pid, 'SIGKILL'),
    limitReached: async () => null,
  };
}

export function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // ESRCH: the group is already gone.
  }
}

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
  private readonly launch: Launch;
  private stoppedFor: StopReason | null = null;
  private exited = false;
  private timeoutTimer?: NodeJS.Timeout;
  private killTimer?: NodeJS.Timeout;

  constructor(opts: JobProcessOptions) {
    this.launch = opts.launch ?? plainLaunch(opts.command);
    // stdin MUST be 'ignore': with a socket on stdin bash sources ~/.bashrc (115 ms instead of 2.5 ms per spawn).
    this.child = spawn(this.launch.file, this.launch.args, { cwd: opts.cwd, env: opts.env, detached: true, stdio: ['ignore', 'pipe', 'pipe', ...this.launch.extraFds] });
    const noLifeline = { on: () => undefined, destroy: () => undefined };
    const lifeline = (this.launch.lifeline ? this.child.stdio[3] : noLifeline) as NodeJS.ReadableStream & { destroy(): void };
    lifeline.on('error', () => undefined);
    this.done = new Promise<JobProcessResult>((resolve, reject) => {
      const streams = { stdout: this.child.stdout!, stderr: this.child.stderr! };
      let open = 2;
      let exit: { code: number | null; signal: NodeJS.Signals | null; at: number } | undefined;
      let killed: Promise<void> | undefined;
      const finish = () => {
        if (!exit || open > 0 || !killed) return;
        const { code, signal, at } = exit;
        this.clearTimers();
        lifeline.destroy();
        void killed
          .then(() => this.launch.limitReached(code, signal))
          .catch(() => null)
          .then((limit) => resolve({ exitCode: code, signal, stoppedFor: this.stoppedFor, limit: limit?.reason ?? null, ...(limit?.fatal ? { limitFatal: true } : {}), exitedAt: at }));
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
        exit = { code, signal, at: performance.now() };
        // Whatever the job left running goes too; that also closes the pipes it inherited.
        killed = this.launch.kill(this.child.pid!).catch(() => undefined);
        setTimeout(() => {
          if (open > 0) for (const s of Object.values(streams)) (s as NodeJS.ReadableStream & { destroy(): void }).destroy();
        }, PIPE_CLOSE_WAIT_MS).unref();
        void killed.then(finish);
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
    if (this.child.pid === undefined) return;
    const pid = this.child.pid;
    this.launch.terminate(pid);
    this.killTimer ??= setTimeout(() => void this.launch.kill(pid), JobProcess.killGraceMs);
  }

  /** Ends the job at once (a limit was reached): SIGKILL to all of it, no grace. */
  killNow(): void {
    if (this.exited || this.child.pid === undefined) return;
    void this.launch.kill(this.child.pid);
  }

  private armTimeout(ms: number): void {
    const step = Math.min(ms, MAX_TIMER_MS);
    this.timeoutTimer = setTimeout(() => (ms > step ? this.armTimeout(ms - step) : this.stop('timeout')), step);
  }

  private clearTimers(): void {
    clearTimeout(this.timeoutTimer);
    clearTimeout(this.killTimer);
  }
}
