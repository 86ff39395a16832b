// Owns how a job process is confined: its uid, its directory, the bubblewrap arguments, the cgroup and rlimits, the
// tracking forward. The runner asks for a sandbox per job and starts its command in it; it holds no sandbox flags.
import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { execFile } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, statfsSync, writeFileSync } from 'node:fs';
import { chmod, chown, lchown, lstat, mkdir, readdir, readFile, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { processAlive } from '../common/process-alive';
import { AppConfig, JOB_PATH, NetworkMode, SandboxSettings } from '../config/config';
import { Cgroups, JobCgroup } from './cgroups';
import { ForwardLease, ForwardNamespaces } from './forward-namespaces';
import { JobProcess, JobProcessOptions, Launch, plainLaunch, signalGroup, WITH_WATCHDOG } from './job-process';
import { seccompFilter } from './seccomp';
import { systemBinds } from './system-binds';
import { forwardedUri, forwarderScript, TrackingForward } from './tracking-forward';
import { UidPool } from './uid-pool';

/**
 * How a network-off job reaches its tracking server: a leased namespace whose forward already listens (`netns`), or a
 * unix socket in its directory that a forwarder started inside the sandbox connects to (`socket`; not root).
 */
interface TrackingPath {
  netns: string | null;
  socket: string | null;
}

/** What the sandbox does on this worker. */
export type ActiveMode = 'bwrap' | 'uid' | 'none';

/** Per-queue choices (admin-set on the queue); unset fields take the worker's defaults. */
export interface SandboxPolicy {
  network?: NetworkMode | null;
  devices?: string[] | null;
  /** Bytes; null = JOB_MEMORY_LIMIT. */
  memoryLimit?: number | null;
  /** null = JOB_PIDS_LIMIT. */
  pidsLimit?: number | null;
}

/** The memory and process limits a job gets: its queue's, else the worker's. */
export interface JobLimits {
  memoryLimit: number;
  pidsLimit: number;
}

export type StartOptions = Omit<JobProcessOptions, 'launch'> & {
  policy?: SandboxPolicy;
  /** A plugin tree of the worker's (read-only, shared by jobs) to bind at the job's `plugins/`; only where bindsPlugins. */
  pluginSource?: string | null;
};

const GiB = 1024 ** 3;
/** JOB_FILES_LIMIT's ceiling when unset. */
const MAX_FILES = 1_000_000;
const MONITOR_MS = 500;
const DISK_CHECK_MS = 1000;
const SIGXFSZ_EXIT = 128 + 25;
/** Job directories are named by the job's id (a uuid). */
const JOB_DIR_NAME = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A job's confinement from directory to removal: `open()` → write the workflow into `dir` → `start()` → `close()`. */
export interface JobSandbox {
  /** The job's directory (its HOME, the only writable path); root-owned until start(). */
  readonly dir: string;
  readonly uid: number | null;
  start(opts: StartOptions): Promise<JobProcess>;
  /** Kills whatever is left, removes the cgroup, the forward and the directory, releases the uid. Never throws. */
  close(): Promise<void>;
}

@Injectable()
export class SandboxService implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger('JobSandbox');
  private readonly settings: SandboxSettings;
  private readonly root = typeof process.getuid === 'function' && process.getuid() === 0;
  mode: ActiveMode = 'none';
  private uids?: UidPool;
  private cgroups: Cgroups | null = null;
  private seccompFile: string | null = null;
  private socat: string | null = null;
  /** As root with bubblewrap: namespaces whose tracking forward already listens, one job each at a time. */
  private forwards: ForwardNamespaces | null = null;
  /** bubblewrap's arguments for the system's read-only part (/usr, /bin, /lib*, /etc), found once. */
  private systemArgs: string[] = [];
  private diskLimit = 10 * GiB;
  private filesLimit = MAX_FILES;

  constructor(private readonly config: AppConfig) {
    this.settings = config.sandbox;
  }

  onModuleInit(): void {
    const s = this.settings;
    const bwrap = s.bwrapPath && existsSync(s.bwrapPath) ? s.bwrapPath : null;
    const missing = `bubblewrap is not installed (${s.bwrapPath ?? 'bwrap not on PATH'}); install it: apt-get install bubblewrap`;
    if (s.mode === 'bwrap' && !bwrap) throw new Error(`JOB_SANDBOX=bwrap: ${missing}`);
    if (s.mode === 'uid' && !this.root) throw new Error('JOB_SANDBOX=uid: the worker must run as root to run jobs under uids of their own');
    if (s.mode === 'none') this.mode = 'none';
    else if (s.mode === 'uid') this.mode = 'uid';
    else if (bwrap) this.mode = 'bwrap';
    else this.mode = this.root ? 'uid' : 'none';

    mkdirSync(this.config.jobWorkdir, { recursive: true, mode: 0o711 });
    this.diskLimit = s.diskLimit ?? Math.min(10 * GiB, Math.floor(freeBytes(this.config.jobWorkdir) / 2));
    this.filesLimit = s.filesLimit ?? Math.min(MAX_FILES, Math.floor(freeInodes(this.config.jobWorkdir) / 2));
    if (this.mode !== 'none' && this.root) {
      this.uids = new UidPool(s.uidRange.first, s.uidRange.last);
      const { cgroups, note } = Cgroups.detect();
      this.cgroups = cgroups;
      this.cgroupNote = note;
    }
    if (this.mode === 'bwrap') {
      const filter = seccompFilter();
      if (filter) {
        this.seccompFile = join(this.config.jobWorkdir, `.seccomp-${process.pid}.bpf`);
        writeFileSync(this.seccompFile, filter, { mode: 0o600 });
      }
      this.socat = findIn(JOB_PATH, 'socat');
      this.systemArgs = systemBinds();
      const uids = this.uids;
      if (uids && findIn(JOB_PATH, 'nsenter')) {
        this.forwards = new ForwardNamespaces({
          bwrap: bwrap!,
          socat: this.socat,
          systemArgs: this.systemArgs,
          acquireUid: () => uids.acquire(),
          releaseUid: (uid) => uids.release(uid),
        });
      }
    }
    for (const p of s.roBinds) if (!existsSync(p)) this.logger.warn(`JOB_RO_BINDS: ${p} does not exist; jobs will not see it`);
    this.banner(bwrap, missing);
  }

  private cgroupNote = '';

  private banner(bwrap: string | null, missing: string): void {
    const s = this.settings;
    const limits = `memory ${formatSize(s.memoryLimit)}, ${s.pidsLimit} processes, disk ${formatSize(this.diskLimit)} and ${this.filesLimit} files, ${s.nofileLimit} open files, CPU weight ${s.cpuWeight}`;
    const cg = this.cgroups ? this.cgroupNote : `no cgroups (${this.cgroupNote || 'not root'}): memory and process limits by rlimits only`;
    if (this.mode === 'bwrap') {
      const who = this.root ? `a uid of its own from ${s.uidRange.first}-${s.uidRange.last}` : "the worker's uid (not root: no uid per job)";
      this.logger.log(
        `job sandbox: bubblewrap (${bwrap}): each job runs as ${who} in its own namespaces, network ${s.network} by default` +
          `${s.network === 'none' ? ` (tracking forwarded through ${this.socat ? 'socat' : 'python3'})` : ''}; limits: ${limits}; ${cg}` +
          `${this.seccompFile ? '' : `; no seccomp filter for ${process.arch}`}`,
      );
    } else if (this.mode === 'uid') {
      this.logger.warn(
        `job sandbox: uid only: each job runs as a uid of its own from ${s.uidRange.first}-${s.uidRange.last} with limits (${limits}; ${cg}), ` +
          `but sees the server's file system and network. ${s.mode === 'auto' ? missing : 'JOB_SANDBOX=uid was asked for; install bubblewrap and use JOB_SANDBOX=auto for the full sandbox'}`,
      );
    } else if (s.mode === 'none') {
      this.logger.warn("job sandbox: none (JOB_SANDBOX=none): jobs run as the worker's own user with its files, environment-free but unconfined. Use only for trusted code.");
    } else {
      this.logger.warn(`job sandbox: none: the worker is not root and ${missing}. Jobs run unconfined as the worker's user.`);
    }
  }

  onModuleDestroy(): void {
    this.forwards?.close();
    this.cgroups?.removeParents();
    if (this.seccompFile) rm(this.seccompFile, { force: true }).catch(() => undefined);
  }

  /**
   * Removes what a worker killed with SIGKILL left behind: the directories of jobs that are not running (`running`
   * says which of the given job ids still are, from the database), the seccomp files and cgroups of worker processes
   * that are gone. Run at start and now and then; returns what went.
   */
  async sweep(running: (jobIds: string[]) => Promise<Set<string>>): Promise<{ dirs: number; cgroups: number }> {
    const names = await readdir(this.config.jobWorkdir).catch(() => [] as string[]);
    const jobIds = names.filter((n) => JOB_DIR_NAME.test(n));
    const live = jobIds.length ? await running(jobIds) : new Set<string>();
    let dirs = 0;
    for (const id of jobIds) {
      if (live.has(id)) continue;
      await removeTree(join(this.config.jobWorkdir, id)).then(() => dirs++, () => undefined);
    }
    for (const n of names) {
      const m = /^\.seccomp-(\d+)\.bpf$/.exec(n);
      if (m && Number(m[1]) !== process.pid && !processAlive(Number(m[1]))) await rm(join(this.config.jobWorkdir, n), { force: true });
    }
    const cgroups = (await this.cgroups?.sweepOrphans()) ?? 0;
    ForwardNamespaces.sweep();
    return { dirs, cgroups };
  }

  /** A fresh directory for the job (removed first if left over) and, in the confined modes, a uid. */
  async open(jobId: string): Promise<JobSandbox> {
    const dir = join(this.config.jobWorkdir, jobId);
    await removeTree(dir);
    await mkdir(dir, { mode: 0o700 });
    const uid = this.uids ? this.uids.acquire() : null;
    return new Box(this, dir, uid);
  }

  // ---- used by Box ----

  get limits() {
    return { ...this.settings, diskLimit: this.diskLimit };
  }

  get keepDirs(): boolean {
    return this.config.keepJobWorkdirs;
  }

  releaseUid(uid: number): void {
    this.uids?.release(uid);
  }

  /** The queue's limits where it sets them, else the worker's defaults. */
  limitsFor(policy: SandboxPolicy | undefined): JobLimits {
    return { memoryLimit: policy?.memoryLimit ?? this.settings.memoryLimit, pidsLimit: policy?.pidsLimit ?? this.settings.pidsLimit };
  }

  createCgroup(name: string, limits: JobLimits): Promise<JobCgroup> | null {
    if (!this.cgroups) return null;
    return this.cgroups.create(name, { memory: limits.memoryLimit, pids: limits.pidsLimit, cpuWeight: this.settings.cpuWeight });
  }

  warn(message: string): void {
    this.logger.warn(message);
  }

  /** The command line that runs the job, for the mode in force. */
  launch(box: Box, opts: StartOptions, cgroup: JobCgroup | null, tracking: TrackingPath): { launch: Launch; seccompFd: number | null } {
    const s = this.settings;
    if (this.mode === 'none') return { launch: plainLaunch(opts.command), seccompFd: null };
    const uid = box.uid;
    const { memoryLimit, pidsLimit } = this.limitsFor(opts.policy);
    // Limits set by a shell (`ulimit`, bash's units: -f in KiB) instead of one more exec of prlimit.
    const rlimits = [`-f ${Math.floor((s.fsizeLimit ?? this.diskLimit) / 1024)}`, `-n ${s.nofileLimit}`];
    // RLIMIT_NPROC counts the uid's processes: only meaningful when the uid is the job's alone. With a pids cgroup it
    // is a little higher, so the cgroup (which the worker watches and names in the reason) is the one that stops a
    // fork bomb.
    if (uid !== null) rlimits.push(`-u ${pidsLimit + (cgroup?.hasPids ? 16 : 0)}`);
    const setpriv = uid === null ? [] : ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--no-new-privs', '--inh-caps=-all', '--bounding-set=-all', '--'];
    const limitsLine = `ulimit ${rlimits.join(' ')} || exit 125`;
    let seccompFd: number | null = null;
    const extraFds: Array<'pipe' | number> = [];
    let argv: string[];
    if (this.mode === 'bwrap') {
      // On cgroup v1 the job's own shell moves itself into its cgroup (its cgroup.procs bound into the sandbox and
      // given to its uid: v1 lets a process move its own uid's processes to a cgroup whose file it may write), then
      // sets its rlimits, before the command's first line: no launcher process in front of bubblewrap. cgroup v2
      // forbids that move (it needs write access to the common ancestor), so there the launcher joins, outside.
      const joinInside = !cgroup || (cgroup.version === 1 && uid !== null);
      const cgroupBinds = joinInside && cgroup ? cgroup.procsFiles.map((f, i) => ({ host: f, inside: `${JOB_CGROUP_DIR}/${i}` })) : [];
      if (cgroupBinds.length) cgroup!.giveProcsTo(uid!);
      // One line, so that the command's own lines keep their numbers in bash's messages.
      const prelude = [...cgroupBinds.map((b) => `echo $$ > ${b.inside} || exit 125`), limitsLine, ''].join('; ');
      // A leased namespace is entered (nsenter execs bwrap: the same process); else bwrap makes an empty one.
      const bw: string[] = [...(tracking.netns ? ['nsenter', `--net=${tracking.netns}`, '--'] : []), s.bwrapPath!, ...this.namespaceArgs(box, opts, !tracking.netns)];
      if (cgroupBinds.length) bw.push('--perms', '0755', '--dir', '/run', '--perms', '0755', '--dir', JOB_CGROUP_DIR);
      for (const b of cgroupBinds) bw.push('--bind', b.host, b.inside);
      if (this.seccompFile) {
        seccompFd = openSync(this.seccompFile, 'r');
        extraFds.push(seccompFd);
        bw.push('--seccomp', '3');
      }
      const command = tracking.socket ? ['bash', '-c', prelude + forwarderScript(this.socat), opts.command, tracking.socket] : ['bash', '-c', prelude + opts.command];
      argv = [...bw, '--', ...setpriv, ...command];
      if (!joinInside) argv = launcher(cgroup!.procsFiles, limitsLine, argv);
    } else {
      extraFds.push('pipe');
      argv = launcher(cgroup?.procsFiles ?? [], limitsLine, [...setpriv, 'bash', '-c', WITH_WATCHDOG, opts.command]);
    }
    const [file, ...args] = argv;
    const bwrapMode = this.mode === 'bwrap';
    const killAllOfUid = (signal: 'TERM' | 'KILL') => (uid === null ? Promise.resolve() : runAs(uid, ['kill', `-${signal}`, '-1']));
    const launch: Launch = {
      file,
      args,
      extraFds,
      lifeline: !bwrapMode,
      terminate: (pid) => {
        if (uid !== null) void killAllOfUid('TERM');
        // bwrap's own processes die with a SIGTERM and take the job with them at once: keep them for the SIGKILL.
        else if (bwrapMode) signalProcess(pid, 'SIGTERM');
        if (!bwrapMode) signalGroup(pid, 'SIGTERM');
      },
      kill: async (pid) => {
        if (bwrapMode) {
          // Its pid namespace's init dies, and the kernel kills everything in the namespace: no process of the job
          // can leave that namespace, so that is all of it.
          signalProcess(pid, 'SIGKILL');
        } else {
          signalGroup(pid, 'SIGKILL');
          // setsid/nohup children left the group, not the uid.
          await killAllOfUid('KILL');
        }
        await cgroup?.killAll();
      },
      limitReached: async (exitCode, signal) => {
        if (box.limitHit) return { reason: box.limitHit, fatal: true };
        if (cgroup && (await cgroup.pidsExceeded())) return { reason: `process limit ${pidsLimit} exceeded`, fatal: true };
        if (cgroup && (await cgroup.memoryExceeded())) return { reason: `memory limit ${formatSize(memoryLimit)} exceeded`, fatal: false };
        if (signal === 'SIGXFSZ' || exitCode === SIGXFSZ_EXIT) return { reason: `file size limit ${formatSize(s.fsizeLimit ?? this.diskLimit)} exceeded`, fatal: false };
        return null;
      },
    };
    return { launch, seccompFd };
  }

  /** bubblewrap's arguments: new namespaces, the system read-only, the job's directory the only writable path. */
  private namespaceArgs(box: Box, opts: StartOptions, ownNetwork: boolean): string[] {
    const s = this.settings;
    const network = opts.policy?.network ?? s.network;
    const a = ['--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try', '--die-with-parent', '--new-session', '--hostname', 'alidade-job'];
    if (network === 'none' && ownNetwork) a.push('--unshare-net');
    // As root, bwrap keeps its capabilities to set up and enter the job's 0700 directory; setpriv drops every one of
    // them (and all privileges) before the job's first instruction. Not root: a user namespace does the same.
    if (!this.root) a.push('--unshare-user', '--disable-userns');
    a.push(...this.systemArgs);
    a.push('--proc', '/proc', '--dev', '/dev', '--perms', '1777', '--tmpfs', '/tmp');
    const made = new Set<string>(['/', '/usr', '/etc', '/proc', '/dev', '/tmp']);
    const dirsTo = (path: string) => {
      const chain: string[] = [];
      for (let d = dirname(path); !made.has(d); d = dirname(d)) chain.unshift(d);
      for (const d of chain) {
        a.push('--perms', '0755', '--dir', d);
        made.add(d);
      }
    };
    for (const p of s.roBinds) {
      if (!existsSync(p)) continue;
      dirsTo(p);
      a.push('--ro-bind', p, p);
      made.add(p);
    }
    dirsTo(box.dir);
    a.push('--bind', box.dir, box.dir);
    // The task plugins are the collections, read-only even inside the job's own directory: the worker's shared tree
    // of the current plugin version when it has one, else the copy written for this job.
    const plugins = join(box.dir, 'plugins');
    if (opts.pluginSource) a.push('--ro-bind', opts.pluginSource, plugins);
    else if (existsSync(plugins)) a.push('--ro-bind', plugins, plugins);
    for (const dev of expandDevices([...s.devices, ...(opts.policy?.devices ?? [])])) a.push('--dev-bind', dev, dev);
    a.push('--chdir', opts.cwd);
    return a;
  }

  /**
   * Walks the job's directory: the reason to end the job when it holds more than the disk limit (hard links counted
   * once) or more files than the file limit (empty files use no blocks but an inode each), or paths the walk cannot
   * follow (longer than PATH_MAX, made with openat: what lies below would go uncounted, and unremoved), else null.
   */
  async diskCheck(dir: string, pids?: () => Promise<number[]>): Promise<string | null> {
    const limit = this.diskLimit;
    const filesLimit = this.filesLimit;
    const seen = new Set<number>();
    let total = 0;
    let files = 0;
    const unmeasurable = (e: unknown) =>
      `disk limit ${formatSize(limit)}: the job directory holds a path the worker cannot measure (${(e as NodeJS.ErrnoException).code ?? String(e)})`;
    const walk = async (d: string): Promise<string | null> => {
      let names: string[];
      try {
        names = await readdir(d);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        return code === 'ENOENT' || code === 'ENOTDIR' ? null : unmeasurable(e);
      }
      files += names.length;
      if (files > filesLimit) return `file count limit ${filesLimit} exceeded`;
      for (const n of names) {
        const p = join(d, n);
        let st;
        try {
          st = await lstat(p);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
          return unmeasurable(e);
        }
        if (seen.has(st.ino)) continue;
        seen.add(st.ino);
        total += st.blocks * 512;
        if (total > limit) return `disk limit ${formatSize(limit)} exceeded`;
        if (st.isDirectory()) {
          const hit = await walk(p);
          if (hit) return hit;
        }
      }
      return null;
    };
    const hit = await walk(dir);
    if (hit || !pids) return hit;
    // Files the job deleted but holds open (or mapped) still take the disk, and no walk sees them.
    const dev = (await lstat(dir).catch(() => null))?.dev;
    if (dev === undefined) return null;
    total += await deletedButHeld(await pids(), dev, seen);
    return total > limit ? `disk limit ${formatSize(limit)} exceeded` : null;
  }

  /** Whether a job's plugins can be a bind of a shared read-only tree (bubblewrap), instead of files written per job. */
  get bindsPlugins(): boolean {
    return this.mode === 'bwrap';
  }

  get forwardNamespaces(): ForwardNamespaces | null {
    return this.forwards;
  }

  get forwardsTracking(): boolean {
    return this.mode === 'bwrap';
  }

  get network(): NetworkMode {
    return this.settings.network;
  }
}

class Box implements JobSandbox {
  limitHit: string | null = null;
  private cgroup: JobCgroup | null = null;
  private forward: TrackingForward | null = null;
  private lease: ForwardLease | null = null;
  private monitor?: NodeJS.Timeout;
  private proc?: JobProcess;

  constructor(
    private readonly service: SandboxService,
    readonly dir: string,
    readonly uid: number | null,
  ) {}

  async start(opts: StartOptions): Promise<JobProcess> {
    const env: Record<string, string> = { ...opts.env, HOME: this.dir };
    const network = opts.policy?.network ?? this.service.network;
    if (this.uid !== null) await chownTree(this.dir, this.uid, join(this.dir, 'plugins'));
    const limits = this.service.limitsFor(opts.policy);
    this.cgroup = (await this.service.createCgroup(`job-${basename(this.dir)}`, limits)) ?? null;
    const path: TrackingPath = { netns: null, socket: null };
    const tracking = env.MLFLOW_TRACKING_URI ? forwardedUri(env.MLFLOW_TRACKING_URI) : null;
    if (tracking && network === 'none' && this.service.forwardsTracking) {
      // A namespace that cannot be had (bubblewrap cannot make one where the worker runs) costs speed, not the job.
      this.lease = await this.service.forwardNamespaces?.lease(tracking.target).catch((e: unknown) => {
        this.service.warn(`[job ${basename(this.dir)}] no shared tracking namespace (${e instanceof Error ? e.message : String(e)}): the forwarder starts in the job's sandbox`);
        return null;
      }) ?? null;
      if (this.lease) {
        path.netns = this.lease.netns;
      } else {
        path.socket = join(this.dir, '.tracking.sock');
        this.forward = await TrackingForward.open(path.socket, tracking.target, this.uid === null ? undefined : { uid: this.uid, gid: this.uid });
      }
      env.MLFLOW_TRACKING_URI = tracking.inside;
    } else if (env.MLFLOW_TRACKING_URI && network === 'none' && this.service.forwardsTracking) {
      this.service.warn(`[job ${basename(this.dir)}] MLFLOW_TRACKING_URI is not http://: not forwarded; the job has no network to reach it`);
    }
    const { launch, seccompFd } = this.service.launch(this, opts, this.cgroup, path);
    try {
      this.proc = new JobProcess({ ...opts, env, launch });
    } finally {
      if (seccompFd !== null) closeSync(seccompFd);
    }
    if (this.service.mode !== 'none') this.watch(limits.pidsLimit);
    return this.proc;
  }

  /** The limits the kernel does not end a job for by itself: a full pids cgroup (a fork bomb spins), the disk. */
  private watch(pidsLimit: number): void {
    let lastDisk = 0;
    let busy = false;
    this.monitor = setInterval(() => {
      if (busy) return;
      busy = true;
      void (async () => {
        if (!this.limitHit && this.cgroup && (await this.cgroup.pidsExceeded())) this.limitHit = `process limit ${pidsLimit} exceeded`;
        if (!this.limitHit && Date.now() - lastDisk >= DISK_CHECK_MS) {
          lastDisk = Date.now();
          this.limitHit = await this.service.diskCheck(this.dir, () => this.jobPids());
        }
        if (this.limitHit) {
          clearInterval(this.monitor);
          this.proc?.killNow();
        }
      })().finally(() => (busy = false));
    }, MONITOR_MS);
    this.monitor.unref();
    void this.proc?.done.finally(() => clearInterval(this.monitor)).catch(() => undefined);
  }

  /** The job's processes (host pids): its cgroup's, else every process of its uid; none when it has neither. */
  private async jobPids(): Promise<number[]> {
    if (this.cgroup) return this.cgroup.pids();
    if (this.uid === null) return [];
    const pids: number[] = [];
    for (const n of await readdir('/proc').catch(() => [] as string[])) {
      if (!/^\d+$/.test(n)) continue;
      // status, not the owner of /proc/<pid>: a process that makes itself non-dumpable shows as root there.
      const status = await readFile(`/proc/${n}/status`, 'utf8').catch(() => '');
      if (new RegExp(`^Uid:\\s+${this.uid}\\s`, 'm').test(status)) pids.push(Number(n));
    }
    return pids;
  }

  async close(): Promise<void> {
    clearInterval(this.monitor);
    const job = basename(this.dir);
    try {
      if (this.uid !== null && this.service.mode === 'uid') await runAs(this.uid, ['kill', '-KILL', '-1']);
      await this.cgroup?.killAll();
      await this.cgroup?.remove();
    } catch (e) {
      this.service.warn(`[job ${job}] cgroup not removed: ${String(e)}`);
    }
    // The job's processes are gone (its pid namespace with them): the namespace can serve the next job.
    this.lease?.release();
    await this.forward?.close().catch(() => undefined);
    try {
      if (!this.service.keepDirs) await removeTree(this.dir);
      else if (this.uid !== null) await chownTree(this.dir, 0);
    } catch (e) {
      this.service.warn(`[job ${job}] workdir not removed: ${String(e)}`);
    }
    if (this.uid !== null) this.service.releaseUid(this.uid);
  }
}

/**
 * Gives the tree to the job's uid (its directory included), except `skip`, which stays the worker's (read-only), and
 * files with more than one link: those are the worker's shared, read-only workflow files (src/runner/worker-cache.ts),
 * whose owner must stay root.
 */
async function chownTree(root: string, uid: number, skip?: string): Promise<void> {
  await chown(root, uid, uid);
  await chmod(root, 0o700);
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (p === skip) continue;
      if (e.isFile() && (await lstat(p)).nlink > 1) continue;
      await lchown(p, uid, uid);
      if (e.isDirectory()) await walk(p);
    }
  };
  await walk(root);
}

/**
 * Bytes of the files on `dev` that the processes hold open or mapped after deleting them (link count 0), each inode
 * counted once (`seen`, shared with the walk).
 */
async function deletedButHeld(pids: number[], dev: number, seen: Set<number>): Promise<number> {
  let bytes = 0;
  const count = async (path: string) => {
    const st = await stat(path).catch(() => null);
    if (!st || !st.isFile() || st.nlink !== 0 || st.dev !== dev || seen.has(st.ino)) return;
    seen.add(st.ino);
    bytes += st.blocks * 512;
  };
  for (const pid of pids) {
    for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [] as string[])) await count(`/proc/${pid}/fd/${fd}`);
    const maps = await readFile(`/proc/${pid}/maps`, 'utf8').catch(() => '');
    for (const line of maps.split('\n')) if (line.endsWith(' (deleted)')) await count(`/proc/${pid}/map_files/${line.slice(0, line.indexOf(' '))}`);
  }
  return bytes;
}

/**
 * Removes a job's directory whatever the job left in it. Node's recursive rm works with whole paths and fails below
 * PATH_MAX (a job can nest directories deeper with openat); coreutils' rm walks by file descriptor and does not.
 */
async function removeTree(dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true });
  } catch (first) {
    await new Promise<void>((resolve, reject) => {
      execFile('rm', ['-rf', '--one-file-system', '--', dir], { env: { PATH: JOB_PATH } }, (e) => (e && existsSync(dir) ? reject(first) : resolve()));
    });
  }
}

/** Where a job's cgroup.procs files appear inside its sandbox (cgroup v1), for its shell to join them. */
const JOB_CGROUP_DIR = '/run/alidade-cgroup';

/** A shell that joins the cgroup(s) and sets the rlimits before anything of the job runs, then execs `argv`. */
function launcher(procsFiles: string[], limitsLine: string, argv: string[]): string[] {
  return ['bash', '-c', `while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; ${limitsLine}; exec "$@"`, 'alidade-job', ...procsFiles, '--', ...argv];
}

/** Runs a short command as the uid, e.g. `kill -KILL -1`: every process of that uid, which is the job's alone. */
function runAs(uid: number, argv: string[]): Promise<void> {
  return new Promise((resolve) => {
    execFile('setpriv', [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--', ...argv], { env: { PATH: JOB_PATH } }, () => resolve());
  });
}

function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone
  }
}

function expandDevices(patterns: string[]): string[] {
  const out = new Set<string>();
  for (const p of patterns) {
    if (!p.startsWith('/dev/')) continue;
    if (!p.includes('*')) {
      if (existsSync(p)) out.add(p);
      continue;
    }
    const re = new RegExp(`^${basename(p).replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
    try {
      for (const n of readdirSync(dirname(p))) if (re.test(n)) out.add(join(dirname(p), n));
    } catch {
      // no such directory
    }
  }
  return [...out];
}

function findIn(path: string, name: string): string | null {
  for (const d of path.split(':')) if (existsSync(join(d, name))) return join(d, name);
  return null;
}

function freeInodes(dir: string): number {
  try {
    const s = statfsSync(dir);
    // File systems without an inode count (btrfs, some overlays) say 0: no ceiling of their own.
    return s.files > 0 ? s.ffree : 2 * MAX_FILES;
  } catch {
    return 2 * MAX_FILES;
  }
}

function freeBytes(dir: string): number {
  try {
    const s = statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return 20 * GiB;
  }
}

/** 2147483648 → `2 GiB`, 536870912 → `512 MiB`. */
export function formatSize(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`;
}
