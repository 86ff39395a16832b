import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One stored blob: its key and what is known about its content. The bytes are in `blob_chunk`, keyed by `id`, so
 * a blob replaced under the same key never mixes with the chunks a reader of the old version is still reading.
 */
@Entity('blob')
export class BlobEntity {
  /** bigserial: a string in JS. */
  @PrimaryGeneratedColumn({ type: 'bigint' }) id: string;

  @Index('UQ_blob_key', { unique: true })
  @Column({ type: 'text' })
  key: string;

  @Column({ type: 'bigint' }) size: string;

  @Column({ type: 'char', length: 64 }) sha256: string;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3, default: () => 'now()' }) createdAt: Date;
}
