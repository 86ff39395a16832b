// Reading and unpacking user-supplied archives (workflows, task plugins) without trusting them: every member is
// checked before anything is read or written, and a bad archive is refused as a whole, never trimmed.
// Pure library: no Nest, no config; callers pass the limits and map ArchiveError to their domain errors.
import { constants, createReadStream } from 'node:fs';
import { link, mkdir, open, readdir, realpath, symlink } from 'node:fs/promises';
import { dirname, join, posix, sep } from 'node:path';
import { PassThrough, Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import * as yauzl from 'yauzl';

export interface ArchiveLimits {
  maxEntries: number;
  maxExtractedBytes: number;
  /**
   * Read-only flattening (task plugin uploads, as Dioptra does): every regular file is offered under its basename,
   * whatever its directory (`../x.py` and `a/b/x.py` both become `x.py`); links, directories and special members are
   * skipped. Nothing is written to disk in this mode, so there is nothing to escape. Never use it with extractArchive.
   */
  flatten?: boolean;
}

/** An archive in memory, or the path of a file holding one (read as a stream, never loaded whole). */
export type ArchiveSource = Buffer | string;

export interface ArchiveEntry {
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'hardlink';
  size: number;
  linkTarget?: string;
}

/** Thrown for anything wrong with an archive; `unsafe` = it tried to escape (absolute path, '..', link outside, device) or exceeded limits. */
export class ArchiveError extends Error {
  constructor(
    message: string,
    readonly unsafe: boolean,
  ) {
    super(message);
    this.name = 'ArchiveError';
  }
}

const NOT_AN_ARCHIVE = 'workflow is not a tar, tar.gz or zip archive';
const CHUNK = 16 * 1024;
const MAX_SYMLINK_TARGET = 4096;

export function detectArchiveFormat(bytes: Buffer): 'tar' | 'tar.gz' | 'zip' | null {
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) return 'tar.gz';
  // local file header, or the end-of-central-directory record of an empty zip
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && ((bytes[2] === 3 && bytes[3] === 4) || (bytes[2] === 5 && bytes[3] === 6))) {
    return 'zip';
  }
  if (bytes.length >= 512 && (bytes.toString('latin1', 257, 262) === 'ustar' || tarChecksumOk(bytes))) return 'tar';
  return null;
}

/** The format of an archive in memory or in a file (from its first 512 bytes). */
export async function detectSourceFormat(source: ArchiveSource): Promise<'tar' | 'tar.gz' | 'zip' | null> {
  if (Buffer.isBuffer(source)) return detectArchiveFormat(source);
  const fh = await open(source, 'r');
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await fh.read(head, 0, 512, 0);
    return detectArchiveFormat(head.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

/** Pre-POSIX (v7) tar headers have no magic; their checksum is the only way to recognize them. */
function tarChecksumOk(bytes: Buffer): boolean {
  const stored = parseInt(bytes.toString('latin1', 148, 156).replace(/[\0 ]+$/, '').trim(), 8);
  if (!Number.isFinite(stored)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 0x20 : bytes[i];
  return sum === stored;
}

export async function listArchive(bytes: ArchiveSource, limits: ArchiveLimits): Promise<ArchiveEntry[]> {
  const entries: ArchiveEntry[] = [];
  await walk(bytes, limits, async (m) => {
    entries.push(publicEntry(m));
  });
  return entries;
}

/** The content of the regular file at `path` (normalized like member paths), or null when there is none. */
export async function readArchiveFile(bytes: ArchiveSource, path: string, limits: ArchiveLimits): Promise<Buffer | null> {
  const wanted = normalizeMemberPath(path);
  let data: Buffer | null = null;
  await walk(bytes, limits, async (m, body) => {
    if (m.type === 'file' && m.path === wanted) data = await collect(body);
  });
  return data;
}

/** The contents of the regular files that `accept` takes (only regular files are offered), in archive order. */
export async function readArchiveFiles(
  bytes: ArchiveSource,
  limits: ArchiveLimits,
  accept: (e: ArchiveEntry) => boolean,
): Promise<Array<{ path: string; data: Buffer }>> {
  const files: Array<{ path: string; data: Buffer }> = [];
  await walk(bytes, limits, async (m, body) => {
    if (m.type === 'file' && accept(publicEntry(m))) files.push({ path: m.path, data: await collect(body) });
  });
  return files;
}

/**
 * Unpacks into `destDir` (existing, empty). Nothing is ever written through a link: a member below a symlink is
 * refused, files are opened O_EXCL|O_NOFOLLOW, and symlinks are created last, once the whole archive has been
 * checked. On error the directory holds a partial tree; the caller removes it.
 */
export async function extractArchive(bytes: ArchiveSource, destDir: string, limits: ArchiveLimits): Promise<void> {
  const root = await realpath(destDir);
  if ((await readdir(root)).length > 0) throw new Error(`extractArchive: ${destDir} is not empty`);
  const target = (path: string): string => {
    const abs = join(root, ...path.split('/'));
    if (!abs.startsWith(root + sep)) throw new ArchiveError(`member '${path}' escapes the destination`, true);
    return abs;
  };
  const symlinks: Member[] = [];

  await walk(bytes, limits, async (m, body) => {
    try {
      await unpackMember(m, body, target);
    } catch (e) {
      if (e instanceof ArchiveError || !(e as NodeJS.ErrnoException).code) throw e;
      // e.g. ENAMETOOLONG: the archive cannot be unpacked here, which is the archive's problem, not a crash
      throw new ArchiveError(`cannot unpack member '${m.path}': ${(e as Error).message.replace(root, '<dest>')}`, false);
    }
    if (m.type === 'symlink') symlinks.push(m);
  });

  for (const m of symlinks) await symlink(m.linkTarget!, target(m.path));
}

async function unpackMember(m: Member, body: Readable, target: (path: string) => string): Promise<void> {
  const abs = target(m.path);
  if (m.type === 'directory') {
    await mkdir(abs, { recursive: true, mode: 0o755 });
    return;
  }
  await mkdir(dirname(abs), { recursive: true, mode: 0o755 });
  if (m.type === 'file') {
    const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
    const fh = await open(abs, flags, 0o600);
    try {
      await fh.chmod(m.mode & 0o111 ? 0o755 : 0o644); // keep "executable", drop setuid/setgid/sticky and odd modes
    } catch (e) {
      await fh.close();
      throw e;
    }
    await pipeline(body, fh.createWriteStream()); // closes the handle
  } else if (m.type === 'hardlink') {
    await link(target(m.linkTarget!), abs); // the target is a regular file written earlier (checked by the guard)
  }
  // symlinks are created by the caller once the whole archive has been checked
}

// ---------------------------------------------------------------------------------------------------------------
// One walk for both formats: members are checked by the Guard in archive order, then handed to `visit` one at a
// time with their body (an empty stream for non-files). Every body is read to the end, through a byte counter.

interface Member extends ArchiveEntry {
  mode: number;
}

type RawType = ArchiveEntry['type'] | { special: string };

interface RawMember {
  path: string;
  type: RawType;
  size: number;
  linkTarget?: string;
  mode: number;
}

type Visit = (m: Member, body: Readable) => Promise<void>;

async function walk(bytes: ArchiveSource, limits: ArchiveLimits, visit: Visit): Promise<void> {
  const format = await detectSourceFormat(bytes);
  if (format === null) throw new ArchiveError(NOT_AN_ARCHIVE, false);
  const guard = new Guard(limits);
  if (format === 'zip') await walkZip(bytes, guard, visit);
  else await walkTar(bytes, guard, visit, format === 'tar.gz');
  guard.finish();
}

async function visitAndDrain(visit: Visit, m: Member, body: Readable): Promise<void> {
  await visit(m, body);
  if (!body.readableEnded && !body.destroyed) for await (const _ of body);
}

async function walkTar(bytes: ArchiveSource, guard: Guard, visit: Visit, gzipped: boolean): Promise<void> {
  // strict: every parser warning (bad checksum, truncated input, unknown format) is an error, not a skipped member.
  // We gunzip ourselves and stop feeding at the end-of-archive blocks: node-tar keeps concatenating whatever
  // follows them (quadratic on a gzip bomb of zeros), and it inflates a whole written chunk at once.
  const parser = new Parser({ strict: true, zstd: false, brotli: false });
  const input = Buffer.isBuffer(bytes) ? Readable.from(chunks(bytes)) : createReadStream(bytes, { highWaterMark: CHUNK });
  const gunzip = gzipped ? createGunzip({ chunkSize: CHUNK }) : null;
  const meter = guard.tarStreamMeter();
  const bodies = new Set<PassThrough>();
  let failure: unknown;
  let onFailure!: () => void;
  const failed = new Promise<void>((resolve) => (onFailure = resolve));
  const stopFeeding = (): void => {
    meter.unpipe();
    for (const s of [input, gunzip, meter]) s?.destroy();
  };
  const fail = (e: unknown): void => {
    if (failure !== undefined) return;
    failure = e;
    stopFeeding();
    for (const b of bodies) b.destroy(e as Error); // unblocks a visit waiting for data that will never come
    parser.abort(e as Error);
    onFailure();
  };

  let chain = Promise.resolve();
  parser.on('entry', (entry: ReadEntry) => {
    if (failure !== undefined) return void entry.resume();
    let member: Member | null;
    try {
      member = guard.check(tarMember(entry));
    } catch (e) {
      entry.resume();
      return fail(e);
    }
    // The parser emits the next entry only once this one's data has gone into `body`, so visits stay in order.
    const body = new PassThrough();
    body.on('error', () => undefined); // readers see the error; a body nobody reads must not crash the process
    bodies.add(body);
    entry.pipe(body);
    chain = chain
      .then(async () => {
        if (failure !== undefined || member === null) return void body.resume();
        await visitAndDrain(visit, member, guard.counted(member.path, body));
      })
      .catch(fail)
      .finally(() => bodies.delete(body));
  });
  parser.on('eof', () => {
    stopFeeding();
    parser.end();
  });
  parser.on('error', (e: Error) => fail(tarError(e)));
  gunzip?.on('error', (e: Error) => fail(new ArchiveError(`${NOT_AN_ARCHIVE} (gzip: ${e.message})`, false)));
  meter.on('error', fail);
  const ended = new Promise<void>((resolve) => parser.on('end', resolve));

  (gunzip ? input.pipe(gunzip) : input).pipe(meter).pipe(parser as unknown as NodeJS.WritableStream);
  await Promise.race([ended, failed]);
  await chain;
  if (failure !== undefined) throw failure;
}

function* chunks(bytes: Buffer): Generator<Buffer> {
  for (let off = 0; off < bytes.length; off += CHUNK) yield bytes.subarray(off, off + CHUNK);
}

function tarMember(e: ReadEntry): RawMember {
  let type: RawType;
  switch (e.type) {
    case 'File':
    case 'OldFile':
    case 'ContiguousFile':
      type = 'file';
      break;
    case 'Directory':
    case 'GNUDumpDir':
      type = 'directory';
      break;
    case 'SymbolicLink':
      type = 'symlink';
      break;
    case 'Link':
      type = 'hardlink';
      break;
    default:
      type = { special: e.type };
  }
  return { path: e.path, type, size: e.size ?? 0, linkTarget: e.linkpath, mode: e.mode ?? 0o644 };
}

function tarError(e: Error & { tarCode?: string }): ArchiveError {
  if (e instanceof ArchiveError) return e;
  return new ArchiveError(`${NOT_AN_ARCHIVE} (${e.message.replace(/^TAR_[A-Z_]+: /, '')})`, false);
}

// yauzl 3 API that @types/yauzl 2.10 does not describe
interface ZipEntry extends yauzl.Entry {
  fileNameRaw: Buffer;
  extraFields: Array<{ id: number; data: Buffer }>;
}
const getFileNameLowLevel = (
  yauzl as unknown as { getFileNameLowLevel(flags: number, raw: Buffer, extra: ZipEntry['extraFields'], strict: boolean): string }
).getFileNameLowLevel;

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const SPECIAL_NAMES: Record<number, string> = { 0o010000: 'fifo', 0o020000: 'character device', 0o060000: 'block device', 0o140000: 'socket' };

async function walkZip(bytes: ArchiveSource, guard: Guard, visit: Visit): Promise<void> {
  const options = { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true };
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) => {
    const opened = (err: Error | null, z: yauzl.ZipFile) => (err ? reject(zipError(err)) : resolve(z));
    if (Buffer.isBuffer(bytes)) yauzl.fromBuffer(bytes, options, opened);
    else yauzl.open(bytes, options, opened);
  });
  let zipFailure: Error | undefined;
  zip.on('error', (e: Error) => (zipFailure ??= e));
  try {
    guard.checkEntryCount(zip.entryCount);
    for (;;) {
      const entry = await nextZipEntry(zip);
      if (entry === null) break;
      const raw = zipMember(entry);
      if (entry.isEncrypted()) throw new ArchiveError(`member '${raw.path}' is encrypted`, false);
      if (raw.type === 'symlink') {
        if (entry.uncompressedSize > MAX_SYMLINK_TARGET) throw new ArchiveError(`symlink '${raw.path}' has an oversized target`, false);
        raw.linkTarget = (await collect(await openZipStream(zip, entry))).toString('utf8');
      }
      const member = guard.check(raw);
      if (member === null) continue;
      const body = member.type === 'file' ? guard.counted(member.path, await openZipStream(zip, entry)) : Readable.from([]);
      await visitAndDrain(visit, member, body);
    }
  } catch (e) {
    throw e instanceof ArchiveError ? e : zipError(e as Error);
  } finally {
    zip.close();
  }
  if (zipFailure) throw zipError(zipFailure);
}

function nextZipEntry(zip: yauzl.ZipFile): Promise<ZipEntry | null> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
    };
    const onEntry = (e: ZipEntry): void => (cleanup(), resolve(e));
    const onEnd = (): void => (cleanup(), resolve(null));
    const onError = (e: Error): void => (cleanup(), reject(e));
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}

function openZipStream(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) => zip.openReadStream(entry, (err, s) => (err ? reject(err) : resolve(s))));
}

function zipMember(entry: ZipEntry): RawMember {
  const path = getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, false);
  const unixMode = entry.versionMadeBy >> 8 === 3 ? entry.externalFileAttributes >>> 16 : 0;
  const fmt = unixMode & S_IFMT;
  let type: RawType;
  if (fmt === S_IFLNK) type = 'symlink';
  else if (fmt === S_IFDIR || path.endsWith('/')) type = 'directory';
  else if (fmt === 0 || fmt === S_IFREG) type = 'file';
  else type = { special: SPECIAL_NAMES[fmt] ?? `special file (mode ${fmt.toString(8)})` };
  return { path, type, size: type === 'file' ? entry.uncompressedSize : 0, mode: unixMode & 0o7777 || 0o644 };
}

function zipError(e: Error): ArchiveError {
  if (e instanceof ArchiveError) return e;
  return new ArchiveError(`${NOT_AN_ARCHIVE} (${e.message})`, false);
}

// ---------------------------------------------------------------------------------------------------------------

type Kind = ArchiveEntry['type'];

/** Checks each member against the limits and the tree built so far; `finish` re-checks symlinks against all links. */
class Guard {
  private entries = 0;
  private declaredBytes = 0;
  private readBytes = 0;
  private readonly kinds = new Map<string, Kind>();
  private readonly symlinks = new Map<string, string>(); // path -> raw target

  constructor(private readonly limits: ArchiveLimits) {}

  private flattened(raw: RawMember): Member | null {
    if (raw.type !== 'file') return null;
    const path = posix.basename(raw.path.replace(/\0/g, ''));
    if (path === '' || path === '.' || path === '..') return null;
    this.declaredBytes += raw.size;
    if (this.declaredBytes > this.limits.maxExtractedBytes) throw this.tooManyBytes(path);
    return { path, type: 'file', size: raw.size, mode: raw.mode };
  }

  checkEntryCount(count: number): void {
    if (count > this.limits.maxEntries) throw this.tooManyEntries();
  }

  /** The normalized member, or null for the archive's root directory (`./`), which is skipped. */
  check(raw: RawMember): Member | null {
    if (++this.entries > this.limits.maxEntries) throw this.tooManyEntries(raw.path);
    if (this.limits.flatten) return this.flattened(raw);
    if (typeof raw.type === 'object') {
      throw new ArchiveError(`member '${raw.path}' is a ${raw.type.special.toLowerCase()}; only files, directories and links are allowed`, true);
    }
    const type = raw.type;
    if (raw.path.includes('\0')) throw new ArchiveError(`member '${raw.path}' has a NUL byte in its name`, false);
    const path = normalizeMemberPath(raw.path);
    if (path === null) throw new ArchiveError(`member '${raw.path}' has an absolute path or a '..' step`, true);
    if (path === '') {
      if (type === 'directory') return null;
      throw new ArchiveError('archive has a member with an empty name', false);
    }
    if (type === 'file') {
      this.declaredBytes += raw.size;
      if (this.declaredBytes > this.limits.maxExtractedBytes) throw this.tooManyBytes(path);
    }

    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const ancestor = parts.slice(0, i).join('/');
      const kind = this.kinds.get(ancestor);
      if (kind === 'symlink') throw new ArchiveError(`member '${path}' would be written through symlink '${ancestor}'`, true);
      if (kind !== undefined && kind !== 'directory') throw new ArchiveError(`member '${path}' is below '${ancestor}', which is a ${kind}`, false);
      this.kinds.set(ancestor, 'directory');
    }
    const earlier = this.kinds.get(path);
    if (earlier !== undefined && !(earlier === 'directory' && type === 'directory')) {
      const viaLink = [earlier, type].some((k) => k === 'symlink' || k === 'hardlink');
      throw new ArchiveError(`member '${path}' appears more than once in the archive`, viaLink);
    }

    let linkTarget: string | undefined;
    if (type === 'symlink') {
      linkTarget = raw.linkTarget ?? '';
      if (linkTarget === '' || linkTarget.includes('\0')) throw new ArchiveError(`symlink '${path}' has an invalid target`, false);
      this.symlinks.set(path, linkTarget);
      if (!staysInside(path, this.symlinks)) throw this.linkOutside(path, linkTarget);
    } else if (type === 'hardlink') {
      linkTarget = normalizeMemberPath(raw.linkTarget ?? '') ?? undefined;
      if (linkTarget === undefined || this.kinds.get(linkTarget) !== 'file') {
        throw new ArchiveError(`hardlink '${path}' points to '${raw.linkTarget}', which is not a regular file earlier in the archive`, true);
      }
    }
    this.kinds.set(path, type);
    const member: Member = { path, type, size: type === 'file' ? raw.size : 0, mode: raw.mode };
    if (linkTarget !== undefined) member.linkTarget = linkTarget;
    return member;
  }

  /** Counts the bytes really read: a header or central directory may understate a member's size. */
  counted(path: string, body: Readable): Readable {
    const counter = new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        this.readBytes += chunk.length;
        if (this.readBytes > this.limits.maxExtractedBytes) done(this.tooManyBytes(path));
        else done(null, chunk);
      },
    });
    pipeline(body, counter).catch(() => undefined); // errors reach the reader through `counter`
    return counter;
  }

  /**
   * Caps the whole uncompressed tar stream: member data is counted by `counted`, and this also bounds what is
   * not member data (headers, PAX records, padding) at a generous 4 KiB per allowed entry.
   */
  tarStreamMeter(): Transform {
    const cap = this.limits.maxExtractedBytes + (this.limits.maxEntries + 1) * 4096;
    let seen = 0;
    return new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        seen += chunk.length;
        if (seen > cap) done(new ArchiveError(`archive expands to more than ${this.limits.maxExtractedBytes} bytes`, true));
        else done(null, chunk);
      },
    });
  }

  /** Links are checked again with the whole archive known, since a later link can redirect an earlier one. */
  finish(): void {
    for (const [path, target] of this.symlinks) if (!staysInside(path, this.symlinks)) throw this.linkOutside(path, target);
  }

  private tooManyEntries(at?: string): ArchiveError {
    const where = at === undefined ? '' : ` (at member '${at}')`;
    return new ArchiveError(`archive has more than ${this.limits.maxEntries} entries${where}`, true);
  }

  private tooManyBytes(path: string): ArchiveError {
    return new ArchiveError(`archive expands to more than ${this.limits.maxExtractedBytes} bytes (at member '${path}')`, true);
  }

  private linkOutside(path: string, target: string): ArchiveError {
    return new ArchiveError(`symlink '${path}' points outside the archive ('${target}')`, true);
  }
}

/** Relative POSIX path without `./`, '' for the root; null for an absolute path or any '..' step. */
function normalizeMemberPath(raw: string): string | null {
  if (raw.startsWith('/') || /^[A-Za-z]:\//.test(raw)) return null;
  const parts = raw.split('/').filter((p) => p !== '' && p !== '.');
  return parts.includes('..') ? null : parts.join('/');
}

/** Resolves the symlink at `path` through every symlink known, as the kernel would; false if it leaves the root. */
function staysInside(path: string, symlinks: ReadonlyMap<string, string>): boolean {
  const resolved = posix.dirname(path).split('/').filter((p) => p !== '.' && p !== '');
  let pending = symlinks.get(path)!.split('/');
  if (pending[0] === '') return false; // absolute target
  for (let hops = 0; pending.length > 0; ) {
    const part = pending.shift()!;
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (resolved.length === 0) return false;
      resolved.pop();
      continue;
    }
    resolved.push(part);
    const next = symlinks.get(resolved.join('/'));
    if (next !== undefined) {
      if (++hops > 40 || next.startsWith('/')) return false; // a loop, or an absolute hop
      resolved.pop();
      pending = [...next.split('/'), ...pending];
    }
  }
  return true;
}

function publicEntry(m: Member): ArchiveEntry {
  const e: ArchiveEntry = { path: m.path, type: m.type, size: m.size };
  if (m.linkTarget !== undefined) e.linkTarget = m.linkTarget;
  return e;
}

async function collect(body: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of body) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}
