// The blob store: named byte streams of any size (workflow archives, MLflow artifacts), kept in chunks so that no
// write or read ever holds a whole blob in memory. Generic: it knows nothing of jobs, workflows or runs.
import { FileHandle, open, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface BlobInfo {
  key: string;
  size: number;
  /** Hex sha256 of the content. */
  sha256: string;
  createdAt: Date;
}

/** What `putStream` wrote. */
export interface PutResult {
  size: number;
  sha256: string;
}

/** A blob's content as a back-pressured stream, with what is known about it before the first byte is read. */
export type BlobReadable = Readable & { readonly info: BlobInfo };

/** A source for putStream: a stream, or any (async) iterable of byte chunks. */
export type BlobSource = Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

/**
 * Where blobs live. `scheme` names the real store in URIs (`db://workflow/...`).
 *
 * Semantics every implementation keeps:
 * - `putStream` is atomic: readers see the old blob or the complete new one, never part of one; a source that
 *   fails (client gone, size limit) leaves nothing behind. Putting an existing key replaces it.
 * - `getStream` reads lazily, chunk by chunk, only as fast as its consumer reads (back-pressure); a blob replaced
 *   or deleted while it is being read makes the stream fail rather than mix two contents.
 */
export abstract class BlobStore {
  abstract readonly scheme: string;

  /** Stores everything `source` yields under `key` (replacing any blob there) and says how much and its sha256. */
  abstract putStream(key: string, source: BlobSource): Promise<PutResult>;

  /** null when there is no such blob. */
  abstract stat(key: string): Promise<BlobInfo | null>;

  /** The content, read chunk by chunk as the consumer asks for it; null when there is no such blob. */
  abstract getStream(key: string): Promise<BlobReadable | null>;

  /** True when something was deleted. */
  abstract delete(key: string): Promise<boolean>;

  /** Convenience for small blobs already in memory. */
  put(key: string, bytes: Uint8Array): Promise<PutResult> {
    return this.putStream(key, [bytes]);
  }

  /**
   * Writes the blob to a new file at `path` (created with mode 0600, never overwriting), streamed; null (and no file)
   * when there is no such blob. A failed copy removes the partial file.
   */
  async fetchToFile(key: string, path: string): Promise<BlobInfo | null> {
    const stream = await this.getStream(key);
    if (!stream) return null;
    let file: FileHandle;
    try {
      file = await open(path, 'wx', 0o600);
    } catch (e) {
      stream.destroy();
      throw e;
    }
    try {
      await pipeline(stream, file.createWriteStream()); // closes the handle
    } catch (e) {
      await rm(path, { force: true }).catch(() => undefined);
      throw e;
    }
    return stream.info;
  }
}
