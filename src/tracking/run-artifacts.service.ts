import { Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { AuthUser } from '../common/auth-user';
import { BlobStore } from '../storage/blob-store';
import { ArtifactChild, TrackingRepository } from './tracking.repository';
import { TrackingService } from './tracking.service';
import { TrackingInvalidError, TrackingNotFoundError } from './tracking.errors';

/** `<experiment>/<run>/artifacts/<path>` as the artifact proxy's paths have it (reference §6, §7). */
export interface ArtifactLocation {
  experimentId: number;
  runId: string;
  /** Relative to the run's artifact root; '' is the root. */
  path: string;
}

/**
 * Splits and checks an artifact proxy path (already split into raw, still percent-encoded segments). Every segment is
 * decoded, then `..`, `.`, empty segments (absolute paths, `//`), backslashes and NUL are refused ("Invalid path", 400,
 * as MLflow's server answers). Null when the path is not inside a run's artifact root.
 */
export function parseArtifactPath(raw: string): ArtifactLocation | null {
  const segments = raw.split('/');
  const decoded: string[] = [];
  for (const seg of segments) {
    let d: string;
    try {
      d = decodeURIComponent(seg);
    } catch {
      throw new TrackingInvalidError('Invalid path');
    }
    if (d === '' || d === '.' || d === '..' || d.includes('/') || d.includes('\\') || d.includes('\u0000')) throw new TrackingInvalidError('Invalid path');
    decoded.push(d);
  }
  if (decoded.length < 3 || !/^\d{1,10}$/.test(decoded[0]) || decoded[2] !== 'artifacts' || !/^[a-zA-Z0-9][\w-]{0,255}$/.test(decoded[1])) return null;
  return { experimentId: Number(decoded[0]), runId: decoded[1], path: decoded.slice(3).join('/') };
}

/** The artifact proxy: files of a run in the blob store, streamed both ways; the listing is kept in `run_artifact`. */
@Injectable()
export class RunArtifactsService {
  private readonly logger = new Logger(RunArtifactsService.name);

  constructor(
    private readonly tracking: TrackingService,
    private readonly repo: TrackingRepository,
    private readonly blobs: BlobStore,
  ) {}

  /** Stores the body under the path (overwriting); writers only. */
  async put(actor: AuthUser, loc: ArtifactLocation, body: Readable): Promise<void> {
    if (!loc.path) throw new TrackingInvalidError('Invalid path');
    const run = await this.tracking.runForWrite(actor, loc.runId);
    if (run.experimentId !== loc.experimentId) throw new TrackingNotFoundError(`Run with id=${loc.runId} not found`);
    const key = `mlflow-artifact/${run.id}/${randomBytes(12).toString('hex')}`;
    const { size } = await this.blobs.putStream(key, body);
    const replaced = await this.repo.upsertArtifact(run.id, loc.path, size, key);
    if (replaced) await this.blobs.delete(replaced).catch((e) => this.logger.warn(`could not delete replaced artifact blob: ${String(e)}`));
  }

  /** The bytes of a file, as a stream; missing → 404 RESOURCE_DOES_NOT_EXIST. */
  async get(actor: AuthUser, loc: ArtifactLocation): Promise<{ size: number; stream: Readable }> {
    const run = await this.tracking.runForRead(actor, loc.runId);
    const found = run.experimentId === loc.experimentId && loc.path ? await this.repo.findArtifact(run.id, loc.path) : null;
    const stream = found ? await this.blobs.getStream(found.blobKey) : null;
    if (!found || !stream) throw new TrackingNotFoundError(`File ${loc.experimentId}/${loc.runId}/artifacts/${loc.path} not found`);
    return { size: Number(found.size), stream };
  }

  /** Direct children of a directory; a file or an unknown path lists as nothing. */
  async list(actor: AuthUser, loc: ArtifactLocation | null): Promise<ArtifactChild[]> {
    if (!loc) return [];
    const run = await this.tracking.runForRead(actor, loc.runId).catch((e) => {
      if (e instanceof TrackingNotFoundError) return null;
      throw e;
    });
    if (!run || run.experimentId !== loc.experimentId) return [];
    return this.repo.listArtifactChildren(run.id, loc.path);
  }

  async delete(actor: AuthUser, loc: ArtifactLocation): Promise<void> {
    const run = await this.tracking.runForWrite(actor, loc.runId);
    if (run.experimentId !== loc.experimentId || !loc.path) throw new TrackingInvalidError('Invalid path');
    for (const key of await this.repo.deleteArtifacts(run.id, loc.path)) await this.blobs.delete(key);
  }
}
