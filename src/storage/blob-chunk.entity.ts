import { Column, Entity, JoinColumn, ManyToOne, PrimaryColumn } from 'typeorm';
import { BlobEntity } from './blob.entity';

/** A slice of a blob's bytes (CHUNK_BYTES each, the last one shorter), in `seq` order from 0. */
@Entity('blob_chunk')
export class BlobChunkEntity {
  @PrimaryColumn({ name: 'blob_id', type: 'bigint' }) blobId: string;

  @PrimaryColumn({ type: 'int' }) seq: number;

  @ManyToOne(() => BlobEntity, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'blob_id' })
  blob?: BlobEntity;

  @Column({ type: 'bytea' }) bytes: Buffer;
}
