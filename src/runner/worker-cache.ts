// What a worker process prepares once and shares between jobs: workflow archives unpacked by content hash, and the
// task plugin collections materialized once per change. Root-owned, under JOB_WORKDIR/.alidade-cache/<pid> (one
// directory per worker process, so no process removes a tree another one's job still uses); never visible inside the
// sandbox except through what a job is given: copies and read-only hard links of its workflow's files, and its
// plugins bound read-only.
import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { chmod, copyFile, link, lstat, mkdir, readdir, readlink, rename, rm, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArchiveEntry } from '../workflows/archive';

/** Workflow trees kept per worker process (least recently used goes first). */
const MAX_WORKFLOWS = 32;
/** Files up to this size are copied into the job's directory (its own, writable); larger ones are hard links (read-only). */
export const COPY_MAX_BYTES = 1024 * 1024;
const CACHE_DIR = '.alidade-cache';

export interface CachedWorkflow {
  /** The unpacked archive (root-owned, files 0644/0755). */
  tree: string;
  entries: ArchiveEntry[];
}

interface Entry<T> {
  value: Promise<T>;
  users: number;
  dir: string;
}

/** A cached tree in use by a job: release it when the job's directory is gone. */
export interface CacheHandle<T> {
  value: T;
  release(): void;
}

export class WorkerCache {
  private readonly logger = new Logger('WorkerCache');
  private readonly root: string;
  private readonly workflows = new Map<string, Entry<CachedWorkflow>>();
  private readonly plugins = new Map<string, Entry<string>>();
  private currentPlugins: string | null = null;

  constructor(jobWorkdir: string) {
    this.root = join(jobWorkdir, CACHE_DIR, String(process.pid));
  }

  /** Removes the caches of worker processes that are gone (and this pid's, from an earlier process that had it). */
  async init(): Promise<void> {
    const parent = join(this.root, '..');
    await mkdir(parent, { recursive: true, mode: 0o700 });
    await chmod(parent, 0o700);
    for (const name of await readdir(parent)) {
      const pid = Number(name);
      if (String(pid) === name && pid !== process.pid && alive(pid)) continue;
      await rm(join(parent, name), { recursive: true, force: true });
    }
    await mkdir(join(this.root, 'workflows'), { recursive: true, mode: 0o700 });
    await mkdir(join(this.root, 'plugins'), { recursive: true, mode: 0o700 });
  }

  async destroy(): Promise<void> {
    await rm(this.root, { recursive: true, force: true }).catch(() => undefined);
  }

  /**
   * The workflow whose archive has this sha256, unpacked by `fill(dir)` (which returns the archive's entries) the
   * first time; later jobs of the same workflow reuse it.
   */
  async workflow(sha256: string, fill: (dir: string) => Promise<ArchiveEntry[]>): Promise<CacheHandle<CachedWorkflow>> {
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new Error('workflow cache: not a sha256');
    let entry = this.workflows.get(sha256);
    if (entry) this.workflows.delete(sha256); // re-inserted last: most recently used
    else {
      const dir = join(this.root, 'workflows', sha256);
      entry = { dir, users: 0, value: this.build(dir, async (tmp) => {
        const tree = join(tmp, 'tree');
        await mkdir(tree, { mode: 0o755 });
        const entries = await fill(tree);
        await normalizeModes(tree);
        return entries;
      }).then((entries) => ({ tree: join(dir, 'tree'), entries })) };
    }
    this.workflows.set(sha256, entry);
    const e = entry;
    e.users++;
    try {
      const value = await e.value;
      this.evictWorkflows();
      return { value, release: once(() => this.releaseWorkflow(sha256, e)) };
    } catch (err) {
      e.users--;
      if (this.workflows.get(sha256) === e) this.workflows.delete(sha256);
      throw err;
    }
  }

  /** The plugin collections of this version (a digest of every plugin row), materialized by `fill(dir)` once. */
  async pluginTree(version: string, fill: (dir: string) => Promise<void>): Promise<CacheHandle<string>> {
    if (!/^[0-9a-f]{32,64}$/.test(version)) throw new Error('plugin cache: not a digest');
    let entry = this.plugins.get(version);
    if (!entry) {
      const dir = join(this.root, 'plugins', version);
      entry = { dir, users: 0, value: this.build(dir, async (tmp) => {
        await fill(tmp);
        await normalizeModes(tmp);
      }).then(() => dir) };
      this.plugins.set(version, entry);
    }
    const e = entry;
    e.users++;
    try {
      const value = await e.value;
      if (this.currentPlugins !== version) {
        const previous = this.currentPlugins;
        this.currentPlugins = version;
        if (previous) this.maybeDropPlugins(previous);
      }
      return { value, release: once(() => {
        e.users--;
        this.maybeDropPlugins(version);
      }) };
    } catch (err) {
      e.users--;
      if (this.plugins.get(version) === e) this.plugins.delete(version);
      throw err;
    }
  }

  /** Fills a fresh directory beside `dir`, then renames it into place: a tree is complete or absent. */
  private async build<T>(dir: string, fill: (tmp: string) => Promise<T>): Promise<T> {
    const tmp = `${dir}.tmp-${randomBytes(4).toString('hex')}`;
    await mkdir(tmp, { mode: 0o755 });
    try {
      const result = await fill(tmp);
      await rm(dir, { recursive: true, force: true });
      await rename(tmp, dir);
      return result;
    } catch (e) {
      await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
      throw e;
    }
  }

  private releaseWorkflow(sha256: string, e: Entry<CachedWorkflow>): void {
    e.users--;
    this.evictWorkflows();
  }

  private evictWorkflows(): void {
    for (const [sha, e] of this.workflows) {
      if (this.workflows.size <= MAX_WORKFLOWS) return;
      if (e.users > 0) continue;
      this.workflows.delete(sha);
      // Hard links in running jobs' directories keep their files alive.
      void rm(e.dir, { recursive: true, force: true }).catch((err) => this.logger.warn(`cached workflow ${sha} not removed: ${String(err)}`));
    }
  }

  /** An older plugin tree goes once no job has it bound. */
  private maybeDropPlugins(version: string): void {
    const e = this.plugins.get(version);
    if (!e || e.users > 0 || version === this.currentPlugins) return;
    this.plugins.delete(version);
    void rm(e.dir, { recursive: true, force: true }).catch((err) => this.logger.warn(`plugin tree ${version} not removed: ${String(err)}`));
  }
}

/**
 * Fills `dest` (an empty directory of the job's) from a cached tree: directories and symlinks made anew, small files
 * copied (the job's own, writable as after an unpack), larger ones hard-linked (shared, read-only: the job replaces such
 * a file rather than writing into it). Ownership is given to the job's uid afterwards by the sandbox; hard links keep
 * the cache's.
 */
export async function populate(src: string, dest: string, opts: { linkLarge: boolean }): Promise<void> {
  for (const e of await readdir(src, { withFileTypes: true })) {
    const s = join(src, e.name);
    const d = join(dest, e.name);
    if (e.isDirectory()) {
      await mkdir(d, { mode: 0o755 });
      await populate(s, d, opts);
    } else if (e.isSymbolicLink()) {
      await symlink(await readlink(s), d);
    } else if (e.isFile()) {
      if (opts.linkLarge && (await lstat(s)).size > COPY_MAX_BYTES) await link(s, d);
      else await copyFile(s, d);
    }
  }
}

/** Nothing in a shared tree is writable by others or set-id: directories 0755, files 0644 or 0755. */
async function normalizeModes(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isSymbolicLink()) continue;
    if (e.isDirectory()) await normalizeModes(p);
    else {
      const st = await lstat(p);
      await chmod(p, st.mode & 0o111 ? 0o755 : 0o644);
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}
