// The chunked Postgres blob store against a real database: chunking, streams both ways with back-pressure, a large
// blob with bounded memory, replace and delete, failed writes leaving nothing, and rows stored before the chunks.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DataSource } from 'typeorm';
import { migrateWithLock } from '../src/database/migrate';
import { MIGRATIONS } from '../src/database/migrations';
import { typeOrmOptions } from '../src/database/typeorm-options';
import { CHUNK_BYTES, PostgresBlobStore } from '../src/storage/postgres-blob-store';
import { createDatabase } from './utils/harness';

const MiB = 1024 * 1024;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of stream) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** `total` bytes in pieces of uneven sizes, so chunk boundaries never line up with what the source yields. */
function* uneven(bytes: Buffer): Generator<Buffer> {
  const sizes = [7 * 1024, 300 * 1024, 1, 65536, 999_999, 123];
  for (let off = 0, i = 0; off < bytes.length; i++) {
    const n = sizes[i % sizes.length];
    yield bytes.subarray(off, off + n);
    off += n;
  }
}

/** A deterministic stream of `total` bytes (each 64 KiB piece stamped with its index), made as it is read. */
function pattern(total: number): { source: () => AsyncGenerator<Buffer>; sha256: string } {
  const PIECE = 64 * 1024;
  const piece = (i: number, n: number) => {
    const b = Buffer.alloc(n, i % 251);
    b.writeUInt32BE(i, 0);
    return b;
  };
  const hash = createHash('sha256');
  for (let off = 0, i = 0; off < total; off += PIECE, i++) hash.update(piece(i, Math.min(PIECE, total - off)));
  return {
    sha256: hash.digest('hex'),
    source: async function* () {
      for (let off = 0, i = 0; off < total; off += PIECE, i++) yield piece(i, Math.min(PIECE, total - off));
    },
  };
}

// A real collection before each sample, so what is measured is what is retained, not garbage not yet collected.
setFlagsFromString('--expose_gc');
const gc: () => void = runInNewContext('gc');
const used = () => {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
};

describe('PostgresBlobStore (chunked)', () => {
  let ds: DataSource;
  let store: PostgresBlobStore;
  let tmp: string;

  const chunks = async (key: string) =>
    (await ds.query(`SELECT c.seq, octet_length(c.bytes) AS n FROM blob_chunk c JOIN blob b ON b.id = c.blob_id WHERE b.key = $1 ORDER BY c.seq`, [key])) as Array<{
      seq: number;
      n: number;
    }>;
  const chunkRows = async () => Number((await ds.query(`SELECT count(*) AS n FROM blob_chunk`))[0].n);

  beforeAll(async () => {
    ds = await new DataSource(typeOrmOptions(await createDatabase(), 6)).initialize();
    await migrateWithLock(ds);
    store = new PostgresBlobStore(ds);
    tmp = mkdtempSync(join(tmpdir(), 'alidade-blob-'));
  });

  afterAll(async () => {
    await ds?.destroy();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('stores a stream in 1 MiB chunks whatever the source’s piece sizes, and reads it back byte-exact', async () => {
    expect(CHUNK_BYTES).toBe(MiB);
    const bytes = randomBytes(5 * MiB + 12345);
    const put = await store.putStream('t/uneven', Readable.from(uneven(bytes)));
    expect(put).toEqual({ size: bytes.length, sha256: sha(bytes) });
    expect(await chunks('t/uneven')).toEqual([0, 1, 2, 3, 4, 5].map((seq) => ({ seq, n: seq < 5 ? MiB : 12345 })));
    const info = await store.stat('t/uneven');
    expect(info).toMatchObject({ key: 't/uneven', size: bytes.length, sha256: sha(bytes) });
    expect(info!.createdAt).toBeInstanceOf(Date);
    const stream = (await store.getStream('t/uneven'))!;
    expect(stream.info).toEqual(info);
    expect((await readAll(stream)).equals(bytes)).toBe(true);
  });

  it('put() for small blobs; an empty blob has no chunk and reads as empty; unknown keys are null', async () => {
    expect(await store.put('t/small', Buffer.from('hello'))).toEqual({ size: 5, sha256: sha(Buffer.from('hello')) });
    expect((await readAll((await store.getStream('t/small'))!)).toString()).toBe('hello');
    expect(await store.put('t/empty', Buffer.alloc(0))).toEqual({ size: 0, sha256: sha(Buffer.alloc(0)) });
    expect(await chunks('t/empty')).toEqual([]);
    expect((await readAll((await store.getStream('t/empty'))!)).length).toBe(0);
    expect(await store.stat('t/none')).toBeNull();
    expect(await store.getStream('t/none')).toBeNull();
  });

  it('replaces a blob put again under the same key, leaving no chunk of the old one', async () => {
    await store.put('t/replace', randomBytes(3 * MiB));
    const before = await chunkRows();
    const second = randomBytes(MiB + 1);
    await store.putStream('t/replace', [second]);
    expect(await chunkRows()).toBe(before - 3 + 2);
    expect((await readAll((await store.getStream('t/replace'))!)).equals(second)).toBe(true);
  });

  it('a source that fails midway stores nothing and keeps the blob that was there', async () => {
    const old = Buffer.from('the old content');
    await store.put('t/fail', old);
    const before = await chunkRows();
    async function* failing() {
      yield randomBytes(2 * MiB + 5);
      throw new Error('client went away');
    }
    await expect(store.putStream('t/fail', failing())).rejects.toThrow('client went away');
    await expect(store.putStream('t/fail-new', failing())).rejects.toThrow('client went away');
    expect(await chunkRows()).toBe(before);
    expect(await store.stat('t/fail-new')).toBeNull();
    expect((await readAll((await store.getStream('t/fail'))!)).equals(old)).toBe(true);
  });

  it('joins the caller’s transaction: a rollback takes the blob with it', async () => {
    await expect(
      ds.transaction(async (em) => {
        await store.putStream('t/tx', [randomBytes(MiB + 7)], em);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await store.stat('t/tx')).toBeNull();
  });

  it('reads only as fast as the consumer: a paused reader holds about one chunk, then resumes to the end', async () => {
    const bytes = randomBytes(12 * MiB);
    await store.put('t/slow', bytes);
    const stream = (await store.getStream('t/slow'))!;
    const first = await new Promise<Buffer>((resolve) => stream.once('data', (c: Buffer) => (stream.pause(), resolve(c))));
    await sleep(300);
    // Paused after one chunk: what is buffered is at most the next chunk, never the blob.
    expect(stream.readableLength).toBeLessThanOrEqual(CHUNK_BYTES);
    const rest = await readAll(stream);
    expect(Buffer.concat([first, rest]).equals(bytes)).toBe(true);
  });

  it('puts and gets a 192 MiB blob while retaining no more than a few chunks', async () => {
    const total = 192 * MiB;
    const { source, sha256 } = pattern(total);
    const samples: number[] = [];
    const base = used();
    // Sampled every 16 MiB, from inside the source as the store pulls it and from the reader as it consumes.
    async function* sampled() {
      let n = 0;
      for await (const piece of source()) {
        if ((n += piece.length) % (16 * MiB) === 0) samples.push(used() - base);
        yield piece;
      }
    }
    expect(await store.putStream('t/large', sampled())).toEqual({ size: total, sha256 });
    const putPeak = Math.max(...samples);
    samples.length = 0;
    const hash = createHash('sha256');
    let size = 0;
    for await (const c of (await store.getStream('t/large'))!) {
      hash.update(c as Buffer);
      size += (c as Buffer).length;
      if (size % (16 * MiB) === 0) samples.push(used() - base);
    }
    const getPeak = Math.max(...samples);
    expect({ size, sha256: hash.digest('hex') }).toEqual({ size: total, sha256 });
    expect(samples.length).toBeGreaterThanOrEqual(11);
    // Holding the blob would retain 192 MiB (more for the hex text pg receives); chunked, a few MiB.
    expect(putPeak).toBeLessThan(24 * MiB);
    expect(getPeak).toBeLessThan(24 * MiB);
    expect(await chunks('t/large')).toHaveLength(192);
  }, 180_000);

  it('a blob deleted while it is being read fails the stream instead of ending it short', async () => {
    await store.put('t/vanish', randomBytes(4 * MiB));
    const stream = (await store.getStream('t/vanish'))!;
    // Listened for from the start: a paused stream still reads ahead, and may fail before it is resumed.
    const outcome = new Promise<Error | 'ended'>((resolve) => {
      stream.once('error', resolve);
      stream.once('end', () => resolve('ended'));
    });
    await new Promise<void>((resolve) => stream.once('data', () => (stream.pause(), resolve())));
    expect(await store.delete('t/vanish')).toBe(true);
    stream.resume();
    const end = await outcome;
    expect(end).toBeInstanceOf(Error);
    expect((end as Error).message).toMatch(/changed while it was being read/);
  });

  it('delete removes the blob and its chunks, and says whether there was one', async () => {
    await store.put('t/del', randomBytes(2 * MiB + 1));
    const before = await chunkRows();
    expect(await store.delete('t/del')).toBe(true);
    expect(await chunkRows()).toBe(before - 3);
    expect(await store.stat('t/del')).toBeNull();
    expect(await store.delete('t/del')).toBe(false);
  });

  it('fetchToFile streams a blob into a new 0600 file; a missing blob writes nothing; an existing file is not overwritten', async () => {
    const bytes = randomBytes(3 * MiB + 3);
    await store.put('t/file', bytes);
    const path = join(tmp, 'fetched');
    expect(await store.fetchToFile('t/file', path)).toMatchObject({ size: bytes.length, sha256: sha(bytes) });
    expect(readFileSync(path).equals(bytes)).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(await store.fetchToFile('t/none', join(tmp, 'none'))).toBeNull();
    expect(existsSync(join(tmp, 'none'))).toBe(false);
    writeFileSync(join(tmp, 'taken'), 'mine');
    await expect(store.fetchToFile('t/file', join(tmp, 'taken'))).rejects.toThrow(/EEXIST/);
    expect(readFileSync(join(tmp, 'taken'), 'utf8')).toBe('mine');
  });
});

describe('blobs stored before chunking (the old bytea column)', () => {
  it('are split into chunks by the migration and read back byte-exact', async () => {
    const url = await createDatabase();
    const last = MIGRATIONS.findIndex((m) => m.name === 'BlobChunks1764620000000');
    expect(last).toBeGreaterThan(0);
    const old = await new DataSource({ ...typeOrmOptions(url, 2), migrations: MIGRATIONS.slice(0, last), entities: [] }).initialize();
    const blobs: Record<string, Buffer> = { 'workflow/a/big.tar.gz': randomBytes(2 * MiB + 17), 'workflow/b/exact.tgz': randomBytes(MiB), 'workflow/c/empty.zip': Buffer.alloc(0) };
    try {
      await old.runMigrations();
      for (const [key, bytes] of Object.entries(blobs)) {
        await old.query(`INSERT INTO blob (key, bytes, size, sha256) VALUES ($1, $2, $3, $4)`, [key, bytes, bytes.length, sha(bytes)]);
      }
    } finally {
      await old.destroy();
    }
    const ds = await new DataSource(typeOrmOptions(url, 2)).initialize();
    try {
      await migrateWithLock(ds);
      const store = new PostgresBlobStore(ds);
      for (const [key, bytes] of Object.entries(blobs)) {
        expect(await store.stat(key)).toMatchObject({ size: bytes.length, sha256: sha(bytes) });
        expect((await readAll((await store.getStream(key))!)).equals(bytes)).toBe(true);
      }
      const counts = await ds.query(`SELECT b.key, count(c.seq)::int AS n FROM blob b LEFT JOIN blob_chunk c ON c.blob_id = b.id GROUP BY b.key ORDER BY b.key`);
      expect(counts).toEqual([
        { key: 'workflow/a/big.tar.gz', n: 3 },
        { key: 'workflow/b/exact.tgz', n: 1 },
        { key: 'workflow/c/empty.zip', n: 0 },
      ]);
      const columns = await ds.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'blob' ORDER BY column_name`);
      expect(columns.map((c: { column_name: string }) => c.column_name)).toEqual(['created_at', 'id', 'key', 'sha256', 'size']);
    } finally {
      await ds.destroy();
    }
  });
});
