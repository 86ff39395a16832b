// Network namespaces with the tracking forward already listening in them, leased to one job at a time.
//
// A job with the network off must still reach MLFLOW_TRACKING_URI. Starting a forwarder inside each job's fresh
// namespace costs two execs and a wait for its port (~20 ms a job on this machine); entering a namespace where the
// forwarder is already listening costs one `nsenter` (~1 ms). Each namespace holds only loopback and that forwarder
// (socat, else python3, as a uid of its own), and serves one job at a time: at release every connection through it is
// dropped, and the job's processes are gone (its pid namespace died), so nothing of one job is left for the next.
import { ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { processAlive } from '../common/process-alive';
import { JOB_PATH } from '../config/config';
import { FORWARD_PORT, ForwardTarget, forwarderCommand, TrackingForward } from './tracking-forward';

/** Where the forwards' unix sockets live: root's, and a plain path (socat's address syntax takes no quoting). */
export const FORWARD_SOCKET_DIR = '/run/alidade/forward';
const READY_TIMEOUT_MS = 5_000;

export interface ForwardLease {
  /** The namespace to run the job in: `nsenter --net=<netns>`. */
  readonly netns: string;
  release(): void;
}

export interface ForwardNamespacesOptions {
  bwrap: string;
  socat: string | null;
  /** bubblewrap's read-only system binds (the same the jobs get). */
  systemArgs: string[];
  /** A uid for each forwarder (held for its life), and back. */
  acquireUid(): number;
  releaseUid(uid: number): void;
}

class Holder {
  busy = false;

  constructor(
    readonly proc: ChildProcess,
    readonly uid: number,
    readonly netns: string,
    private readonly inode: number,
    readonly forward: TrackingForward,
  ) {}

  /** Its forwarder still runs, and the path still names its namespace (not a reused pid's). */
  get alive(): boolean {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return false;
    try {
      return statSync(this.netns).ino === this.inode;
    } catch {
      return false;
    }
  }
}

export class ForwardNamespaces {
  private readonly holders = new Set<Holder>();
  private seq = 0;
  private closed = false;

  constructor(private readonly opts: ForwardNamespacesOptions) {
    mkdirSync(FORWARD_SOCKET_DIR, { recursive: true, mode: 0o755 });
  }

  /** A namespace whose 127.0.0.1:FORWARD_PORT reaches `target`, for one job; starts one when none is free. */
  async lease(target: ForwardTarget): Promise<ForwardLease> {
    let holder = [...this.holders].find((h) => !h.busy && h.alive);
    holder ??= await this.start();
    holder.busy = true;
    holder.forward.target = target;
    return {
      netns: holder.netns,
      release: () => {
        holder.forward.dropConnections();
        holder.busy = false;
        if (!holder.alive || this.closed) this.retire(holder);
      },
    };
  }

  /** Stops every forwarder (worker shutdown). */
  close(): void {
    this.closed = true;
    for (const h of this.holders) this.retire(h);
  }

  /** Removes the sockets of worker processes that are gone (their forwarders died with them). */
  static sweep(): void {
    let names: string[];
    try {
      names = readdirSync(FORWARD_SOCKET_DIR);
    } catch {
      return;
    }
    for (const n of names) {
      const m = /^(\d+)-\d+\.sock$/.exec(n);
      if (m && Number(m[1]) !== process.pid && !processAlive(Number(m[1]))) rmSync(join(FORWARD_SOCKET_DIR, n), { force: true });
    }
  }

  private retire(h: Holder): void {
    if (!this.holders.delete(h)) return;
    h.proc.kill('SIGKILL');
    void h.forward.close().catch(() => undefined);
    this.opts.releaseUid(h.uid);
  }

  private async start(): Promise<Holder> {
    const socket = join(FORWARD_SOCKET_DIR, `${process.pid}-${this.seq++}.sock`);
    const uid = this.opts.acquireUid();
    let forward: TrackingForward | undefined;
    let proc: ChildProcess | undefined;
    try {
      forward = await TrackingForward.open(socket, { host: '127.0.0.1', port: 9 }, { uid, gid: uid });
      const args = [
        '--unshare-net', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--die-with-parent', '--new-session',
        ...this.opts.systemArgs,
        '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp',
        '--dir', '/run', '--dir', '/run/alidade', '--ro-bind', FORWARD_SOCKET_DIR, FORWARD_SOCKET_DIR,
        '--info-fd', '3',
        '--',
        'setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--no-new-privs', '--inh-caps=-all', '--bounding-set=-all', '--',
        ...forwarderCommand(this.opts.socat, socket),
      ];
      proc = spawn(this.opts.bwrap, args, { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], env: { PATH: JOB_PATH } });
      const childPid = await infoPid(proc);
      const netns = `/proc/${childPid}/ns/net`;
      await listening(childPid, proc);
      const holder = new Holder(proc, uid, netns, statSync(netns).ino, forward);
      this.holders.add(holder);
      proc.once('exit', () => {
        if (!holder.busy) this.retire(holder);
      });
      return holder;
    } catch (e) {
      proc?.kill('SIGKILL');
      await forward?.close().catch(() => undefined);
      this.opts.releaseUid(uid);
      throw e;
    }
  }
}

/** The sandbox's first process, from bubblewrap's `--info-fd` (`{"child-pid": N}`). */
function infoPid(proc: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let text = '';
    let stderr = '';
    proc.stderr!.on('data', (d: Buffer) => (stderr = (stderr + String(d)).slice(-500)));
    const info = proc.stdio[3] as NodeJS.ReadableStream;
    info.on('data', (d: Buffer) => {
      text += String(d);
      const m = /"child-pid"\s*:\s*(\d+)/.exec(text);
      if (m) resolve(Number(m[1]));
    });
    proc.once('error', reject);
    proc.once('exit', (code) => reject(new Error(`the tracking forward did not start (bwrap exit ${code}): ${stderr.trim()}`)));
  });
}

/** Until the forwarder listens on FORWARD_PORT in that process's namespace (its /proc/<pid>/net/tcp says LISTEN). */
async function listening(pid: number, proc: ChildProcess): Promise<void> {
  const port = `:${FORWARD_PORT.toString(16).toUpperCase().padStart(4, '0')} 00000000:0000 0A`;
  const end = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < end) {
    if (proc.exitCode !== null) throw new Error(`the tracking forward exited (${proc.exitCode})`);
    try {
      if (readFileSync(`/proc/${pid}/net/tcp`, 'utf8').includes(port)) return;
    } catch {
      // not there yet, or gone: the exit check says which
    }
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`the tracking forward did not listen within ${READY_TIMEOUT_MS / 1000} s`);
}
