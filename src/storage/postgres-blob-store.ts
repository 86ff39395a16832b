import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { BlobStore } from './blob-store';

/** BlobStore in the `blob` table (bytea): one database to back up, and writes that join the caller's transaction. */
@Injectable()
export class PostgresBlobStore extends BlobStore {
  readonly scheme = 'db';

  constructor(@InjectDataSource() private readonly ds: DataSource) {
    super();
  }

  async put(key: string, bytes: Buffer, em?: EntityManager): Promise<void> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    await (em ?? this.ds.manager).query(`INSERT INTO blob (key, bytes, size, sha256) VALUES ($1, $2, $3, $4)`, [key, bytes, bytes.length, sha256]);
  }

  async get(key: string): Promise<Buffer | null> {
    const rows: Array<{ bytes: Buffer }> = await this.ds.query(`SELECT bytes FROM blob WHERE key = $1`, [key]);
    return rows[0]?.bytes ?? null;
  }

  async delete(key: string, em?: EntityManager): Promise<void> {
    await (em ?? this.ds.manager).query(`DELETE FROM blob WHERE key = $1`, [key]);
  }
}
