// Multipart uploads spooled to disk, never to memory: each request gets a directory of its own (mode 0700) under
// UPLOAD_TMPDIR, which is removed when the request is done with — answered, refused, failed or cut off by the client.
// Shared by every upload interceptor; knows nothing of what is uploaded.
import type { ExecutionContext } from '@nestjs/common';
import type { Request } from 'express';
import multer from 'multer';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { finalize, Observable } from 'rxjs';

const spoolDirs = new WeakMap<object, string>();

/** Multer storage that writes each file into the spool directory of its request. */
export function spoolStorage(): multer.StorageEngine {
  return multer.diskStorage({
    destination: (req, _file, cb) => {
      const dir = spoolDirs.get(req);
      if (dir) cb(null, dir);
      else cb(new Error('upload spool directory missing'), '');
    },
    filename: (_req, _file, cb) => cb(null, randomBytes(12).toString('hex')),
  });
}

/**
 * Runs `parse` (which reads the multipart body with spoolStorage and returns the handler's observable) with a fresh
 * spool directory for this request, and removes the directory once the handler's reply is settled or parsing failed.
 */
export async function withUploadSpool(
  context: ExecutionContext,
  baseDir: string,
  parse: () => Promise<Observable<unknown>>,
): Promise<Observable<unknown>> {
  const req = context.switchToHttp().getRequest<Request>();
  await mkdir(baseDir, { recursive: true, mode: 0o700 });
  const dir = await mkdtemp(join(baseDir, 'upload-')); // mkdtemp creates it 0700
  spoolDirs.set(req, dir);
  let removed: Promise<void> | undefined;
  // maxRetries: a write that multer started just before the client went away may still be creating its file.
  const remove = (): Promise<void> => (removed ??= rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 }).catch(() => undefined));
  let handled: Observable<unknown>;
  try {
    handled = await parse();
  } catch (e) {
    await remove();
    throw e;
  }
  return handled.pipe(finalize(() => void remove()));
}

/**
 * Removes spool directories left by a process that died mid-request (a kill, a crash): those older than `maxAgeMs`.
 * Age, not ownership, decides, so API processes sharing UPLOAD_TMPDIR never remove each other's live uploads.
 */
export async function sweepStaleSpools(baseDir: string, maxAgeMs = 24 * 3600 * 1000): Promise<number> {
  let names: string[];
  try {
    names = await readdir(baseDir);
  } catch {
    return 0; // nothing spooled yet
  }
  let removed = 0;
  for (const name of names.filter((n) => n.startsWith('upload-'))) {
    const dir = join(baseDir, name);
    const info = await stat(dir).catch(() => null);
    if (info?.isDirectory() && Date.now() - info.mtimeMs > maxAgeMs) {
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
      removed++;
    }
  }
  return removed;
}
