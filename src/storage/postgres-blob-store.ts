import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { DataSource, EntityManager } from 'typeorm';
import { BlobInfo, BlobReadable, BlobSource, BlobStore, PutResult } from './blob-store';

/** Bytes per `blob_chunk` row: large enough that a 1 GiB blob is 1024 rows, small enough to hold a few at once. */
export const CHUNK_BYTES = 1024 * 1024;

/** Advisory-lock class for writers of one key (the two-int lock space, apart from the migrations' one-bigint lock). */
const PUT_LOCK_CLASS = 0x626c6f62; // 'blob'

interface BlobRow {
  id: string;
  key: string;
  size: string;
  sha256: string;
  created_at: Date;
}

/**
 * BlobStore in Postgres: `blob` (key, size, sha256) and `blob_chunk` (1 MiB bytea slices). One database to back up,
 * and writes that can join the caller's transaction (pass `em`), so a blob and the row that names it commit together.
 */
@Injectable()
export class PostgresBlobStore extends BlobStore {
  readonly scheme = 'db';

  constructor(@InjectDataSource() private readonly ds: DataSource) {
    super();
  }

  /**
   * Without `em` the write runs in a transaction of its own, holding one connection until the source has ended: a
   * caller streaming from a slow client may prefer to spool to disk first.
   */
  putStream(key: string, source: BlobSource, em?: EntityManager): Promise<PutResult> {
    if (em) return this.write(em, key, source);
    return this.ds.transaction((tx) => this.write(tx, key, source));
  }

  private async write(em: EntityManager, key: string, source: BlobSource): Promise<PutResult> {
    // Two writers of one key take turns; the second replaces the first.
    await em.query(`SELECT pg_advisory_xact_lock($1, hashtext($2))`, [PUT_LOCK_CLASS, key]);
    await em.query(`DELETE FROM blob WHERE key = $1`, [key]);
    const [{ id }]: Array<{ id: string }> = await em.query(`INSERT INTO blob (key, size, sha256) VALUES ($1, 0, '') RETURNING id`, [key]);
    const hash = createHash('sha256');
    let size = 0;
    let seq = 0;
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const insert = (bytes: Buffer) => em.query(`INSERT INTO blob_chunk (blob_id, seq, bytes) VALUES ($1, $2, $3)`, [id, seq++, bytes]);

    // Iterating awaits each insert before asking for more: the source is read only as fast as the database takes it.
    for await (const piece of source as AsyncIterable<Uint8Array | string>) {
      const buf = typeof piece === 'string' ? Buffer.from(piece) : Buffer.from(piece.buffer, piece.byteOffset, piece.byteLength);
      if (buf.length === 0) continue;
      hash.update(buf);
      size += buf.length;
      pending.push(buf);
      pendingBytes += buf.length;
      while (pendingBytes >= CHUNK_BYTES) {
        const all = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
        await insert(all.subarray(0, CHUNK_BYTES));
        const rest = all.subarray(CHUNK_BYTES);
        pending = rest.length > 0 ? [rest] : [];
        pendingBytes = rest.length;
      }
    }
    if (pendingBytes > 0) await insert(pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes));
    const sha256 = hash.digest('hex');
    await em.query(`UPDATE blob SET size = $2, sha256 = $3 WHERE id = $1`, [id, size, sha256]);
    return { size, sha256 };
  }

  override put(key: string, bytes: Uint8Array, em?: EntityManager): Promise<PutResult> {
    return this.putStream(key, [bytes], em);
  }

  async stat(key: string): Promise<BlobInfo | null> {
    const row = await this.row(key);
    return row && infoOf(row);
  }

  async getStream(key: string): Promise<BlobReadable | null> {
    const row = await this.row(key);
    return row && new ChunkReader(this.ds, row.id, infoOf(row));
  }

  async delete(key: string, em?: EntityManager): Promise<boolean> {
    // The chunks go with the row (ON DELETE CASCADE).
    const rows: unknown[] = await (em ?? this.ds.manager).query(`WITH d AS (DELETE FROM blob WHERE key = $1 RETURNING 1) SELECT 1 FROM d`, [key]);
    return rows.length > 0;
  }

  private async row(key: string): Promise<BlobRow | null> {
    const rows: BlobRow[] = await this.ds.query(`SELECT id, key, size, sha256, created_at FROM blob WHERE key = $1`, [key]);
    return rows[0] ?? null;
  }
}

function readChunk(ds: DataSource, blobId: string, seq: number): Promise<Array<{ bytes: Buffer }>> {
  return ds.query(`SELECT bytes FROM blob_chunk WHERE blob_id = $1 AND seq = $2`, [blobId, seq]);
}

function infoOf(row: BlobRow): BlobInfo {
  return { key: row.key, size: Number(row.size), sha256: row.sha256, createdAt: row.created_at };
}

/**
 * Reads one blob version's chunks in order, one query per chunk, only when the consumer has room (highWaterMark of
 * one chunk): at most about two chunks are held, whatever the blob's size and however slow the consumer.
 */
class ChunkReader extends Readable {
  private seq = 0;
  private delivered = 0;
  private fetching = false;

  constructor(
    private readonly ds: DataSource,
    private readonly blobId: string,
    readonly info: BlobInfo,
  ) {
    super({ highWaterMark: CHUNK_BYTES });
  }

  override _read(): void {
    if (this.fetching) return;
    if (this.delivered >= this.info.size) {
      this.push(null);
      return;
    }
    this.fetching = true;
    readChunk(this.ds, this.blobId, this.seq)
      .then((rows) => {
        this.fetching = false;
        if (this.destroyed) return;
        const bytes = rows[0]?.bytes;
        // Deleted or replaced while being read: fail rather than hand out a mix or a short blob.
        if (!bytes || bytes.length === 0 || this.delivered + bytes.length > this.info.size) {
          this.destroy(new Error(`blob '${this.info.key}' changed while it was being read`));
          return;
        }
        this.seq++;
        this.delivered += bytes.length;
        this.push(bytes);
      })
      .catch((e: unknown) => {
        this.fetching = false;
        this.destroy(e as Error);
      });
  }
}
