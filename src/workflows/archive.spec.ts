import { randomBytes } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';
import { makeTarGz, makeZip, type Member } from '../../test/utils/archives';
import { ArchiveError, detectArchiveFormat, extractArchive, listArchive, readArchiveFile, readArchiveFiles, type ArchiveLimits } from './archive';

const LIMITS: ArchiveLimits = { maxEntries: 1000, maxExtractedBytes: 1_000_000 };

type Builder = (members: Record<string, Member>) => Buffer;
const FORMATS: Array<[string, Builder]> = [
  ['tar.gz', (m) => makeTarGz(m)],
  ['tar', (m) => makeTarGz(m, { gzip: false })],
  ['zip', (m) => makeZip(m)],
];

async function refusal(p: Promise<unknown>): Promise<ArchiveError> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(ArchiveError);
  return e as ArchiveError;
}

async function expectUnsafe(p: Promise<unknown>, mentions: string): Promise<void> {
  const e = await refusal(p);
  expect(e.unsafe).toBe(true);
  expect(e.message).toContain(mentions);
}

async function expectInvalid(p: Promise<unknown>, mentions = 'workflow is not a tar, tar.gz or zip archive'): Promise<void> {
  const e = await refusal(p);
  expect(e.unsafe).toBe(false);
  expect(e.message).toContain(mentions);
}

describe('detectArchiveFormat', () => {
  it('recognizes tar, tar.gz and zip by their bytes, whatever the name', () => {
    expect(detectArchiveFormat(makeTarGz({ a: 'x' }))).toBe('tar.gz');
    expect(detectArchiveFormat(makeTarGz({ a: 'x' }, { gzip: false }))).toBe('tar');
    expect(detectArchiveFormat(makeZip({ a: 'x' }))).toBe('zip');
    expect(detectArchiveFormat(makeZip({}))).toBe('zip');
  });

  it('returns null for anything else, bz2 and xz included', () => {
    expect(detectArchiveFormat(Buffer.alloc(0))).toBeNull();
    expect(detectArchiveFormat(Buffer.from('name: x\nentry_points: {}\n'))).toBeNull();
    expect(detectArchiveFormat(Buffer.concat([Buffer.from('BZh91AY&SY'), Buffer.alloc(600)]))).toBeNull();
    expect(detectArchiveFormat(Buffer.concat([Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]), Buffer.alloc(600)]))).toBeNull();
    expect(detectArchiveFormat(randomBytes(2048))).toBeNull();
  });
});

describe.each(FORMATS)('%s archives', (_name, build) => {
  it('lists members with normalized relative paths, skipping the root directory', async () => {
    const bytes = build({
      './': { type: 'dir' },
      './MLproject': 'name: x\n',
      'src/': { type: 'dir' },
      'src//train.py': 'print(1)\n',
      'run.sh': { content: 'echo hi\n', mode: 0o755 },
      'link.py': { type: 'symlink', target: 'src/train.py' },
    });
    expect(await listArchive(bytes, LIMITS)).toEqual([
      { path: 'MLproject', type: 'file', size: 8 },
      { path: 'src', type: 'directory', size: 0 },
      { path: 'src/train.py', type: 'file', size: 9 },
      { path: 'run.sh', type: 'file', size: 8 },
      { path: 'link.py', type: 'symlink', size: 0, linkTarget: 'src/train.py' },
    ]);
  });

  it('reads one file, or null when there is no such regular file', async () => {
    const bytes = build({ 'p/MLproject': 'name: x\n', 'p/d': { type: 'dir' }, 'p/l': { type: 'symlink', target: 'MLproject' } });
    expect((await readArchiveFile(bytes, 'p/MLproject', LIMITS))?.toString()).toBe('name: x\n');
    expect((await readArchiveFile(bytes, './p/MLproject', LIMITS))?.toString()).toBe('name: x\n');
    expect(await readArchiveFile(bytes, 'MLproject', LIMITS)).toBeNull();
    expect(await readArchiveFile(bytes, 'p/d', LIMITS)).toBeNull();
    expect(await readArchiveFile(bytes, 'p/l', LIMITS)).toBeNull();
  });

  it('reads the files that accept() takes, in archive order', async () => {
    const bytes = build({ 'pkg/__init__.py': '', 'pkg/README.md': '# hi', 'pkg/sub/mod.py': 'x = 1\n', 'pkg/sub': { type: 'dir' } });
    const seen: string[] = [];
    const files = await readArchiveFiles(bytes, LIMITS, (e) => (seen.push(e.path), e.path.endsWith('.py')));
    expect(files.map((f) => [f.path, f.data.toString()])).toEqual([
      ['pkg/__init__.py', ''],
      ['pkg/sub/mod.py', 'x = 1\n'],
    ]);
    expect(seen).toEqual(['pkg/__init__.py', 'pkg/README.md', 'pkg/sub/mod.py']);
  });

  it('refuses an absolute path', async () => {
    await expectUnsafe(listArchive(build({ ok: 'x', '/abs/x': 'evil' }), LIMITS), "'/abs/x'");
  });

  it.each(['../x', 'a/../../x', 'a/../b'])('refuses a .. step (%s)', async (path) => {
    await expectUnsafe(listArchive(build({ [path]: 'evil' }), LIMITS), `'${path}'`);
    await expectUnsafe(readArchiveFile(build({ MLproject: 'x', [path]: 'evil' }), 'MLproject', LIMITS), `'${path}'`);
  });

  it.each([
    ['/etc', 'absolute'],
    ['../../etc/passwd', 'relative'],
    ['sub/../../x', 'relative, through a directory'],
  ])('refuses a symlink pointing outside (%s, %s)', async (target) => {
    await expectUnsafe(listArchive(build({ 'sub/f': 'x', evil: { type: 'symlink', target } }), LIMITS), "symlink 'evil'");
  });

  it('accepts symlinks that stay inside, even through ..', async () => {
    const bytes = build({ 'a/b/f': 'x', 'a/b/up': { type: 'symlink', target: '../c' }, top: { type: 'symlink', target: '.' } });
    expect((await listArchive(bytes, LIMITS)).map((e) => e.path)).toEqual(['a/b/f', 'a/b/up', 'top']);
  });

  it('refuses a symlink that escapes through another symlink, in either order', async () => {
    await expectUnsafe(listArchive(build({ root: { type: 'symlink', target: '.' }, esc: { type: 'symlink', target: 'root/..' } }), LIMITS), "symlink 'esc'");
    // `esc` looks fine when read (x/y/.. = x) until `x/y` turns out to point at the root
    const later = build({ 'x/f': 'x', esc: { type: 'symlink', target: 'x/y/..' }, 'x/y': { type: 'symlink', target: '..' } });
    await expectUnsafe(listArchive(later, LIMITS), "symlink 'esc'");
  });

  it('refuses symlink loops', async () => {
    await expectUnsafe(listArchive(build({ a: { type: 'symlink', target: 'b' }, b: { type: 'symlink', target: 'a' } }), LIMITS), 'symlink');
  });

  it('refuses a member written through a symlink, even one pointing inside', async () => {
    const bytes = build({ 'd/keep': 'x', l: { type: 'symlink', target: 'd' }, 'l/evil': 'through the link' });
    await expectUnsafe(listArchive(bytes, LIMITS), "'l/evil' would be written through symlink 'l'");
  });

  it('refuses a fifo and a character device', async () => {
    await expectUnsafe(listArchive(build({ ok: 'x', pipe: { type: 'fifo' } }), LIMITS), "'pipe' is a fifo");
    await expectUnsafe(listArchive(build({ dev: { type: 'chardev' } }), LIMITS), "'dev' is a character");
  });

  it('refuses more than maxEntries entries, counting directories', async () => {
    const members: Record<string, Member> = { d: { type: 'dir' } };
    for (let i = 0; i < 10; i++) members[`d/f${i}`] = '';
    const bytes = build(members);
    expect(await listArchive(bytes, { ...LIMITS, maxEntries: 11 })).toHaveLength(11);
    await expectUnsafe(listArchive(bytes, { ...LIMITS, maxEntries: 10 }), 'more than 10 entries');
  });

  it('refuses more than maxExtractedBytes in total', async () => {
    const bytes = build({ a: 'x'.repeat(600), b: 'y'.repeat(600) });
    expect(await listArchive(bytes, { ...LIMITS, maxExtractedBytes: 1200 })).toHaveLength(2);
    await expectUnsafe(listArchive(bytes, { ...LIMITS, maxExtractedBytes: 1199 }), "more than 1199 bytes (at member 'b')");
  });

  it('refuses a path used twice', async () => {
    await expectInvalid(listArchive(build({ a: 'x', './a': 'y' }), LIMITS), "'a' appears more than once");
    await expectInvalid(listArchive(build({ a: 'x', 'a/b': 'y' }), LIMITS), "'a/b' is below 'a', which is a file");
  });
});

describe('tar specifics', () => {
  it('accepts hardlinks to an earlier file and refuses others', async () => {
    const ok = makeTarGz({ f: 'data', 'd/h': { type: 'hardlink', target: './f' } });
    expect(await listArchive(ok, LIMITS)).toEqual([
      { path: 'f', type: 'file', size: 4 },
      { path: 'd/h', type: 'hardlink', size: 0, linkTarget: 'f' },
    ]);
    await expectUnsafe(listArchive(makeTarGz({ h: { type: 'hardlink', target: '/etc/passwd' } }), LIMITS), "hardlink 'h'");
    await expectUnsafe(listArchive(makeTarGz({ h: { type: 'hardlink', target: '../x' } }), LIMITS), "hardlink 'h'");
    await expectUnsafe(listArchive(makeTarGz({ h: { type: 'hardlink', target: 'later' }, later: 'x' }), LIMITS), "hardlink 'h'");
  });

  it('refuses 20,000 entries under the default limit of 10,000', async () => {
    const members: Record<string, Member> = {};
    for (let i = 0; i < 20_000; i++) members[`f/${i}`] = '';
    await expectUnsafe(listArchive(makeTarGz(members), { maxEntries: 10_000, maxExtractedBytes: 1 << 30 }), 'more than 10000 entries');
  });

  it('refuses a corrupt or truncated gzip stream', async () => {
    const good = makeTarGz({ MLproject: 'x'.repeat(5000), 'a.py': randomBytes(20_000) });
    const flipped = Buffer.from(good);
    for (let i = 40; i < 80; i++) flipped[i] ^= 0xff;
    await expectInvalid(listArchive(flipped, LIMITS));
    await expectInvalid(listArchive(good.subarray(0, good.length >> 1), LIMITS));
  });

  it('refuses a truncated tar and a gzip that holds no tar', async () => {
    const tar = makeTarGz({ a: randomBytes(5000) }, { gzip: false });
    await expectInvalid(listArchive(tar.subarray(0, 2048), LIMITS));
    await expectInvalid(listArchive(gzipSync(Buffer.from('just some text, not a tarball\n'.repeat(40))), LIMITS));
  });

  it('refuses a gzip bomb by the bytes it would produce, and stops reading at the end-of-archive blocks', async () => {
    const header = new Header({ path: 'big', type: 'File', size: 50_000_000, mode: 0o644, mtime: new Date(0) });
    header.encode();
    const bomb = gzipSync(Buffer.concat([header.block!, Buffer.alloc(50_000_000 + 1024)]));
    expect(bomb.length).toBeLessThan(100_000);
    await expectUnsafe(listArchive(bomb, { maxEntries: 10, maxExtractedBytes: 10_000_000 }), 'more than 10000000 bytes');
    // a small archive followed by 50 MB of zeros is a valid tar; the zeros must not be read
    const padded = gzipSync(Buffer.concat([makeTarGz({ a: 'x' }, { gzip: false }), Buffer.alloc(50_000_000)]));
    expect(await listArchive(padded, { maxEntries: 10, maxExtractedBytes: 1000 })).toEqual([{ path: 'a', type: 'file', size: 1 }]);
  });
});

describe('zip specifics', () => {
  it('treats backslashes as separators, so ..\\x is refused', async () => {
    await expectUnsafe(listArchive(makeZip({ '..\\evil.py': 'x' }), LIMITS), "'../evil.py'");
  });

  it('refuses 20,000 entries from the central directory alone', async () => {
    const members: Record<string, Member> = {};
    for (let i = 0; i < 20_000; i++) members[`f/${i}`] = '';
    await expectUnsafe(listArchive(makeZip(members), { maxEntries: 10_000, maxExtractedBytes: 1 << 30 }), 'more than 10000 entries');
  });

  it('refuses a corrupt zip', async () => {
    const zip = makeZip({ MLproject: 'x' });
    await expectInvalid(listArchive(zip.subarray(0, zip.length - 10), LIMITS));
  });

  it('counts the bytes actually inflated, not the sizes the directory claims', async () => {
    const zip = makeZip({ big: 'z'.repeat(100_000) });
    // shrink the uncompressed size recorded in the local and central headers to 10 bytes
    const lied = Buffer.from(zip);
    for (let i = 0; i + 4 <= lied.length; i++) {
      const sig = lied.readUInt32LE(i);
      if (sig === 0x04034b50) lied.writeUInt32LE(10, i + 22);
      if (sig === 0x02014b50) lied.writeUInt32LE(10, i + 24);
    }
    expect((await listArchive(lied, { ...LIMITS, maxExtractedBytes: 1_000_000 }).catch((e: Error) => e)) instanceof ArchiveError).toBe(true);
    await refusal(readArchiveFile(lied, 'big', { ...LIMITS, maxExtractedBytes: 1000 }));
  });
});

describe('extractArchive', () => {
  let base: string;
  let dest: string;
  let outside: string;

  beforeEach(async () => {
    base = await mkdtemp(join(tmpdir(), 'alidade-archive-'));
    dest = join(base, 'dest');
    outside = join(base, 'outside');
    await mkdir(dest);
    await mkdir(outside);
  });
  afterEach(() => rm(base, { recursive: true, force: true }));

  it.each(FORMATS)('unpacks a %s tree with sane modes and inside links', async (name, build) => {
    const blob = randomBytes(300_000);
    await extractArchive(
      build({
        './MLproject': 'name: x\n',
        'src/train.py': 'print(1)\n',
        'src/blob.bin': blob,
        'run.sh': { content: 'echo hi\n', mode: 0o4755 },
        'secret.txt': { content: 's', mode: 0o600 },
        'empty/': { type: 'dir' },
        'src/link.py': { type: 'symlink', target: 'train.py' },
      }),
      dest,
      LIMITS,
    );
    expect((await readdir(dest)).sort()).toEqual(['MLproject', 'empty', 'run.sh', 'secret.txt', 'src']);
    expect(await readFile(join(dest, 'src/blob.bin'))).toEqual(blob);
    expect((await stat(join(dest, 'run.sh'))).mode & 0o7777).toBe(0o755);
    expect((await stat(join(dest, 'secret.txt'))).mode & 0o7777).toBe(0o644);
    expect((await stat(join(dest, 'empty'))).isDirectory()).toBe(true);
    expect(await readlink(join(dest, 'src/link.py'))).toBe('train.py');
    expect(await readFile(join(dest, 'src/link.py'), 'utf8')).toBe('print(1)\n');
    expect(name).toBeTruthy();
  });

  it('unpacks tar hardlinks as links to the file already written', async () => {
    await extractArchive(makeTarGz({ f: 'data', 'd/h': { type: 'hardlink', target: 'f' } }), dest, LIMITS);
    expect(await readFile(join(dest, 'd/h'), 'utf8')).toBe('data');
    expect((await stat(join(dest, 'd/h'))).ino).toBe((await stat(join(dest, 'f'))).ino);
  });

  it('refuses a destination that is not empty', async () => {
    await writeFile(join(dest, 'x'), '');
    await expect(extractArchive(makeTarGz({ a: 'x' }), dest, LIMITS)).rejects.toThrow(/not empty/);
  });

  it.each(FORMATS)('never writes outside the destination (%s)', async (_name, build) => {
    const attacks: Array<Record<string, Member>> = [
      { '../outside/evil': 'x' },
      { [`${outside}/evil`]: 'x' },
      { out: { type: 'symlink', target: '../outside' }, 'out/evil': 'x' },
      { out: { type: 'symlink', target: outside } },
      { root: { type: 'symlink', target: '.' }, 'root/evil': 'x' },
      { 'x/f': 'x', esc: { type: 'symlink', target: 'x/y/../outside' }, 'x/y': { type: 'symlink', target: '..' } },
    ];
    for (const members of attacks) {
      const e = await refusal(extractArchive(build(members), dest, LIMITS));
      expect(e.unsafe).toBe(true);
      expect(await readdir(outside)).toEqual([]);
      await rm(dest, { recursive: true });
      await mkdir(dest);
    }
  });

  it('creates no symlink from a refused archive', async () => {
    const members = { 'x/f': 'x', esc: { type: 'symlink' as const, target: 'x/y/..' }, 'x/y': { type: 'symlink' as const, target: '..' } };
    await refusal(extractArchive(makeTarGz(members), dest, LIMITS));
    await expect(lstat(join(dest, 'esc'))).rejects.toThrow(/ENOENT/);
  });

  it('refuses a fifo before creating it', async () => {
    await expectUnsafe(extractArchive(makeTarGz({ a: 'x', pipe: { type: 'fifo' } }), dest, LIMITS), "'pipe'");
    await expect(lstat(join(dest, 'pipe'))).rejects.toThrow(/ENOENT/);
  });

  it('turns a file-system refusal into an ArchiveError naming the member', async () => {
    const long = 'n'.repeat(300);
    await expectInvalid(extractArchive(makeTarGz({ [`d/${long}`]: 'x' }), dest, LIMITS), `cannot unpack member 'd/${long}'`);
  });

  it('stops at maxExtractedBytes', async () => {
    await expectUnsafe(extractArchive(makeZip({ a: 'x'.repeat(2000) }), dest, { ...LIMITS, maxExtractedBytes: 1000 }), 'more than 1000 bytes');
  });
});

describe('readArchiveFiles with flatten (task plugin uploads)', () => {
  it('offers every regular file under its basename, whatever its directory, and skips links', async () => {
    const bytes = makeTarGz({ '../up.py': 'u', '/abs/a.py': 'a', 'd/e/deep.py': 'd', 'link.py': { type: 'symlink', target: '/etc/passwd' } });
    const files = await readArchiveFiles(bytes, { maxEntries: 100, maxExtractedBytes: 1000, flatten: true }, () => true);
    expect(files.map((f) => [f.path, f.data.toString()])).toEqual([
      ['up.py', 'u'],
      ['a.py', 'a'],
      ['deep.py', 'd'],
    ]);
  });

  it('still enforces the byte and entry limits', async () => {
    const bytes = makeTarGz({ 'a.py': 'x'.repeat(600), 'b.py': 'y'.repeat(600) });
    await expect(readArchiveFiles(bytes, { maxEntries: 100, maxExtractedBytes: 1000, flatten: true }, () => true)).rejects.toThrow(/byte|size|large|limit/i);
    await expect(readArchiveFiles(bytes, { maxEntries: 1, maxExtractedBytes: 10000, flatten: true }, () => true)).rejects.toThrow(/entr/i);
  });
});
