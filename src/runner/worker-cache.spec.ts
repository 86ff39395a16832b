import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ArchiveEntry } from '../workflows/archive';
import { COPY_MAX_BYTES, populate, WorkerCache } from './worker-cache';

const sha = (n: number) => n.toString(16).padStart(64, '0');

describe('WorkerCache', () => {
  let root: string;
  let cache: WorkerCache;

  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), 'alidade-cache-spec-'));
    cache = new WorkerCache(root);
    await cache.init();
  });
  afterEach(async () => {
    await cache.destroy();
    rmSync(root, { recursive: true, force: true });
  });

  const fillWith = (files: Record<string, string | Buffer>, calls: { n: number }) => async (tree: string): Promise<ArchiveEntry[]> => {
    calls.n++;
    for (const [name, content] of Object.entries(files)) {
      mkdirSync(join(tree, name, '..'), { recursive: true });
      writeFileSync(join(tree, name), content);
    }
    return Object.keys(files).map((path) => ({ path, type: 'file', size: 0 }));
  };

  it('unpacks a workflow once per content hash, also for jobs asking at the same time', async () => {
    const calls = { n: 0 };
    const fill = fillWith({ MLproject: 'name: x\n' }, calls);
    const [a, b] = await Promise.all([cache.workflow(sha(1), fill), cache.workflow(sha(1), fill)]);
    const c = await cache.workflow(sha(1), fill);
    expect(calls.n).toBe(1);
    expect(a.value.tree).toBe(c.value.tree);
    expect(readFileSync(join(b.value.tree, 'MLproject'), 'utf8')).toBe('name: x\n');
    expect(a.value.entries).toEqual([{ path: 'MLproject', type: 'file', size: 0 }]);
    for (const h of [a, b, c]) h.release();
  });

  it('does not keep a tree whose unpacking failed: the next job tries again', async () => {
    await expect(cache.workflow(sha(2), async () => Promise.reject(new Error('bad archive')))).rejects.toThrow('bad archive');
    const calls = { n: 0 };
    const h = await cache.workflow(sha(2), fillWith({ MLproject: 'ok' }, calls));
    expect(calls.n).toBe(1);
    h.release();
  });

  it('makes a shared tree read-only to others and free of set-id bits', async () => {
    const h = await cache.workflow(sha(3), async (tree) => {
      writeFileSync(join(tree, 'run.sh'), 'echo', { mode: 0o4777 });
      writeFileSync(join(tree, 'data.txt'), 'x', { mode: 0o666 });
      return [];
    });
    expect(lstatSync(join(h.value.tree, 'run.sh')).mode & 0o7777).toBe(0o755);
    expect(lstatSync(join(h.value.tree, 'data.txt')).mode & 0o7777).toBe(0o644);
    h.release();
  });

  it('keeps at most 32 workflows, never one a job is still copying', async () => {
    const held = await cache.workflow(sha(100), fillWith({ a: 'a' }, { n: 0 }));
    for (let i = 0; i < 40; i++) (await cache.workflow(sha(i + 200), fillWith({ a: 'a' }, { n: 0 }))).release();
    expect(existsSync(held.value.tree)).toBe(true);
    const calls = { n: 0 };
    (await cache.workflow(sha(200), fillWith({ a: 'a' }, calls))).release();
    expect(calls.n).toBe(1); // the oldest unused one was evicted and is unpacked again
    held.release();
  });

  it('materializes a plugin version once and drops the previous one when no job has it', async () => {
    const calls = { n: 0 };
    const fill = async (dir: string) => {
      calls.n++;
      writeFileSync(join(dir, '__init__.py'), '');
    };
    const v1 = await cache.pluginTree('a'.repeat(32), fill);
    const again = await cache.pluginTree('a'.repeat(32), fill);
    expect(calls.n).toBe(1);
    const v2 = await cache.pluginTree('b'.repeat(32), fill);
    expect(existsSync(v1.value)).toBe(true); // still bound in two jobs
    v1.release();
    again.release();
    await new Promise((r) => setTimeout(r, 50));
    expect(existsSync(v1.value)).toBe(false);
    expect(existsSync(v2.value)).toBe(true);
    v2.release();
  });

  it('refuses keys that are not digests (they become directory names)', async () => {
    await expect(cache.workflow('../x', async () => [])).rejects.toThrow('not a sha256');
    await expect(cache.pluginTree('../x', async () => undefined)).rejects.toThrow('not a digest');
  });
});

describe('populate', () => {
  let root: string;
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'alidade-populate-spec-'))));
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('copies small files, hard-links large ones (when asked), remakes directories and symlinks', async () => {
    const src = join(root, 'src');
    const dest = join(root, 'dest');
    mkdirSync(join(src, 'sub'), { recursive: true });
    mkdirSync(dest);
    writeFileSync(join(src, 'small.py'), 'print(1)');
    chmodSync(join(src, 'small.py'), 0o755);
    writeFileSync(join(src, 'sub', 'big.bin'), Buffer.alloc(COPY_MAX_BYTES + 1));
    symlinkSync('small.py', join(src, 'link.py'));
    await populate(src, dest, { linkLarge: true });
    expect(lstatSync(join(dest, 'small.py')).nlink).toBe(1);
    expect(lstatSync(join(dest, 'small.py')).mode & 0o777).toBe(0o755);
    expect(lstatSync(join(dest, 'sub', 'big.bin')).ino).toBe(lstatSync(join(src, 'sub', 'big.bin')).ino);
    expect(readlinkSync(join(dest, 'link.py'))).toBe('small.py');

    const copies = join(root, 'copies');
    mkdirSync(copies);
    await populate(src, copies, { linkLarge: false });
    expect(lstatSync(join(copies, 'sub', 'big.bin')).ino).not.toBe(lstatSync(join(src, 'sub', 'big.bin')).ino);
  });
});
