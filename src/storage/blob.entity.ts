import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Bytes of uploaded workflow archives (the Postgres BlobStore). */
@Entity('blob')
export class BlobEntity {
  @PrimaryColumn({ type: 'text' }) key: string;

  @Column({ type: 'bytea' }) bytes: Buffer;

  @Column({ type: 'bigint' }) size: string;

  @Column({ type: 'char', length: 64 }) sha256: string;

  @Column({ name: 'created_at', type: 'timestamptz', precision: 3, default: () => 'now()' }) createdAt: Date;
}
