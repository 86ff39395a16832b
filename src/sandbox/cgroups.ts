// Per-job cgroups: memory, pids and CPU weight, on cgroup v2 where it has the controllers, else on v1's hierarchies.
// Each worker process keeps its jobs under a cgroup of its own (`alidade-<pid>`) beneath the one it runs in.
// The files are the kernel's, answered in microseconds: read and written synchronously (the thread pool's round trip
// would cost more than the call, on every job).
import { existsSync, lchownSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { processAlive } from '../common/process-alive';

const ROOT = '/sys/fs/cgroup';
const V1_CONTROLLERS = ['memory', 'pids', 'cpu'] as const;
type Controller = (typeof V1_CONTROLLERS)[number];

export interface CgroupLimits {
  memory: number;
  pids: number;
  /** 1..10000, 100 = the default share (cgroup v2's cpu.weight; v1's cpu.shares is scaled from it). */
  cpuWeight: number;
}

/** What this machine offers; null fields when a controller is not available to us. */
export class Cgroups {
  private constructor(
    readonly version: 1 | 2,
    /** v2: one parent; v1: one parent per controller. */
    private readonly parents: Partial<Record<Controller, string>>,
  ) {}

  get controllers(): Controller[] {
    return V1_CONTROLLERS.filter((c) => this.parents[c]);
  }

  /** Finds and prepares the parents; null (with the reason) when none can be used, e.g. not root. */
  static detect(pid = process.pid): { cgroups: Cgroups | null; note: string } {
    let self: string;
    try {
      self = readFileSync('/proc/self/cgroup', 'utf8');
    } catch {
      return { cgroups: null, note: 'no /proc/self/cgroup' };
    }
    const lines = self.trim().split('\n').map((l) => l.split(':'));
    const v1 = lines.filter(([, ctrls]) => ctrls !== '');
    if (v1.length === 0 && existsSync(join(ROOT, 'cgroup.controllers'))) return Cgroups.detectV2(lines, pid);
    const parents: Partial<Record<Controller, string>> = {};
    const notes: string[] = [];
    for (const c of V1_CONTROLLERS) {
      const line = v1.find(([, ctrls]) => ctrls.split(',').includes(c));
      const mount = join(ROOT, c);
      if (!line || !existsSync(join(mount, 'cgroup.procs'))) {
        notes.push(`${c}: not mounted`);
        continue;
      }
      const own = join(mount, line.slice(2).join(':'));
      const parent = join(existsSync(own) ? own : mount, `alidade-${pid}`);
      try {
        mkdirSync(parent, { recursive: true });
        parents[c] = parent;
      } catch (e) {
        notes.push(`${c}: ${(e as NodeJS.ErrnoException).code}`);
      }
    }
    if (Object.keys(parents).length === 0) return { cgroups: null, note: `cgroup v1: ${notes.join(', ')}` };
    return { cgroups: new Cgroups(1, parents), note: `cgroup v1 (${Object.keys(parents).join(', ')})${notes.length ? `; ${notes.join(', ')}` : ''}` };
  }

  private static detectV2(lines: string[][], pid: number): { cgroups: Cgroups | null; note: string } {
    const path = lines.find(([h]) => h === '0')?.slice(2).join(':') ?? '/';
    const own = existsSync(join(ROOT, path)) ? join(ROOT, path) : ROOT;
    const wanted = ['memory', 'pids', 'cpu'].filter((c) => readFileSync(join(own, 'cgroup.controllers'), 'utf8').split(/\s+/).includes(c));
    if (wanted.length === 0) return { cgroups: null, note: 'cgroup v2 without memory, pids or cpu controllers' };
    const parent = join(own, `alidade-${pid}`);
    const enable = (dir: string) => writeFileSync(join(dir, 'cgroup.subtree_control'), wanted.map((c) => `+${c}`).join(' '));
    try {
      try {
        enable(own);
      } catch (e) {
        // "No internal processes": a cgroup with processes cannot hand controllers down. If they are all ours, move
        // this process into a leaf of its own and try again.
        if ((e as NodeJS.ErrnoException).code !== 'EBUSY') throw e;
        const procs = readFileSync(join(own, 'cgroup.procs'), 'utf8').trim().split('\n').filter(Boolean);
        if (procs.some((p) => Number(p) !== pid)) throw e;
        const leaf = join(own, `alidade-${pid}-server`);
        mkdirSync(leaf, { recursive: true });
        writeFileSync(join(leaf, 'cgroup.procs'), String(pid));
        enable(own);
      }
      mkdirSync(parent, { recursive: true });
      enable(parent);
    } catch (e) {
      return { cgroups: null, note: `cgroup v2 controllers not delegated to ${own} (${(e as NodeJS.ErrnoException).code ?? String(e)})` };
    }
    const parents = Object.fromEntries(wanted.map((c) => [c, parent])) as Partial<Record<Controller, string>>;
    return { cgroups: new Cgroups(2, parents), note: `cgroup v2 (${wanted.join(', ')})` };
  }

  /** Makes the job's cgroup(s) with the limits set. */
  async create(name: string, limits: CgroupLimits): Promise<JobCgroup> {
    const dirs = new Map<Controller, string>();
    // On v1 each controller is one more attach per job (milliseconds each): the default CPU share needs none.
    const controllers = this.controllers.filter((c) => !(this.version === 1 && c === 'cpu' && limits.cpuWeight === 100));
    for (const c of controllers) dirs.set(c, join(this.parents[c]!, name));
    const unique = [...new Set(dirs.values())];
    for (const d of unique) mkdirSync(d, { recursive: true });
    const cg = new JobCgroup(this.version, dirs, unique);
    try {
      const mem = dirs.get('memory');
      const pids = dirs.get('pids');
      const cpu = dirs.get('cpu');
      if (this.version === 2) {
        if (mem) {
          writeFileSync(join(mem, 'memory.max'), String(limits.memory));
          tryWrite(join(mem, 'memory.swap.max'), '0');
        }
        if (pids) writeFileSync(join(pids, 'pids.max'), String(limits.pids));
        if (cpu) writeFileSync(join(cpu, 'cpu.weight'), String(limits.cpuWeight));
      } else {
        if (mem) {
          writeFileSync(join(mem, 'memory.limit_in_bytes'), String(limits.memory));
          // Without swap accounting the file is missing; with it, swap must not extend the limit.
          tryWrite(join(mem, 'memory.memsw.limit_in_bytes'), String(limits.memory));
        }
        if (pids) writeFileSync(join(pids, 'pids.max'), String(limits.pids));
        if (cpu) writeFileSync(join(cpu, 'cpu.shares'), String(Math.max(2, Math.round((limits.cpuWeight * 1024) / 100))));
      }
    } catch (e) {
      await cg.remove();
      throw e;
    }
    return cg;
  }

  /**
   * Removes the cgroups of worker processes that are gone (a worker killed with SIGKILL cannot remove its own): kills
   * what is left in their job cgroups and removes them. Returns how many job cgroups went.
   */
  async sweepOrphans(): Promise<number> {
    let swept = 0;
    for (const parent of new Set(Object.values(this.parents))) {
      const above = dirname(parent!);
      let names: string[];
      try {
        names = readdirSync(above);
      } catch {
        continue;
      }
      for (const n of names) {
        const m = /^alidade-(\d+)(-server)?$/.exec(n);
        if (!m || join(above, n) === parent || processAlive(Number(m[1]))) continue;
        const dir = join(above, n);
        const jobs = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory());
        for (const j of jobs) {
          const cg = new JobCgroup(this.version, new Map(), [join(dir, j.name)]);
          await cg.killAll();
          await cg.remove().then(() => swept++, () => undefined);
        }
        try {
          rmdirSync(dir);
        } catch {
          // still busy: the next sweep
        }
      }
    }
    return swept;
  }

  /** Removes this worker's parent cgroups (at shutdown; only empty ones go). */
  removeParents(): void {
    for (const p of new Set(Object.values(this.parents))) {
      try {
        rmdirSync(p!);
      } catch {
        // jobs still there, or already gone
      }
    }
  }
}

/** One job's cgroup(s). */
export class JobCgroup {
  constructor(
    readonly version: 1 | 2,
    private readonly dirs: Map<Controller, string>,
    private readonly unique: string[],
  ) {}

  get hasPids(): boolean {
    return this.dirs.has('pids');
  }

  /** The files a process writes its pid into to join (all of them, before it execs the job). */
  get procsFiles(): string[] {
    return this.unique.map((d) => join(d, 'cgroup.procs'));
  }

  /** Lets the job's uid write its processes into its own cgroup (v1), and nothing else of it. */
  giveProcsTo(uid: number): void {
    for (const f of this.procsFiles) lchownSync(f, uid, uid);
  }

  /** Every process in the job's cgroup. */
  async pids(): Promise<number[]> {
    const seen = new Set<number>();
    for (const f of this.procsFiles) {
      const text = readOr(f, '');
      for (const l of text.split('\n')) if (l) seen.add(Number(l));
    }
    return [...seen];
  }

  /** SIGKILL to everything in the cgroup, until it is empty (or the attempts run out). */
  async killAll(): Promise<void> {
    // Mostly the kernel is already reaping what is left (the sandbox's pid 1 died): look again soon, then less often
    // (1, 2, 4 ... 20 ms; about a second in all).
    for (let attempt = 0, delay = 1; attempt < 60; attempt++, delay = Math.min(delay * 2, 20)) {
      const pids = await this.pids();
      if (pids.length === 0) return;
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  /** The kernel's OOM killer ended a process of this job. */
  async memoryExceeded(): Promise<boolean> {
    const mem = this.dirs.get('memory');
    if (!mem) return false;
    const file = this.version === 2 ? 'memory.events' : 'memory.oom_control';
    return counter(readOr(join(mem, file), ''), 'oom_kill') > 0;
  }

  /** A fork was refused because the job had as many processes as pids.max allows. */
  async pidsExceeded(): Promise<boolean> {
    const pids = this.dirs.get('pids');
    if (!pids) return false;
    return counter(readOr(join(pids, 'pids.events'), ''), 'max') > 0;
  }

  async remove(): Promise<void> {
    for (const d of this.unique) {
      for (let attempt = 0; attempt < 50; attempt++) {
        try {
          rmdirSync(d);
          break;
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') break;
          if (code !== 'EBUSY') throw e;
          await new Promise((r) => setTimeout(r, 5));
        }
      }
    }
  }
}

function readOr(file: string, fallback: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return fallback;
  }
}

function tryWrite(file: string, value: string): void {
  try {
    writeFileSync(file, value);
  } catch {
    // optional: not on this kernel
  }
}

function counter(text: string, key: string): number {
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}
