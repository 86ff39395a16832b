import { Module } from '@nestjs/common';
import { BlobStore } from './blob-store';
import { PostgresBlobStore } from './postgres-blob-store';

/** Provides BlobStore (the Postgres store). */
@Module({
  providers: [PostgresBlobStore, { provide: BlobStore, useExisting: PostgresBlobStore }],
  exports: [BlobStore, PostgresBlobStore],
})
export class StorageModule {}
