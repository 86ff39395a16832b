import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash, randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';
import { UnauthenticatedError, UserNotActiveError } from '../auth/auth.errors';
import { AuthUser } from '../common/auth-user';

export const JOB_TOKEN_PREFIX = 'alj_';
const CACHE_MS = 1000;
const MAX_CACHED = 10_000;

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

interface JobTokenRow {
  jobId: string;
  experimentId: number;
  ownerId: number;
  username: string;
  active: boolean;
  revoked: boolean;
}

/**
 * Job tokens (API.md §2): minted by the worker when a job starts, handed to the job as MLFLOW_TRACKING_TOKEN, stored
 * only as a sha256, revoked when the job ends. They authenticate only on the MLflow face (the auth guard enforces
 * that), as the job's owner restricted to the job's experiment and the runs the job owns (TrackingService enforces that).
 */
@Injectable()
export class JobTokensService {
  /** Token checks reused for a second, like AuthCache: another process sees a revocation within that time. */
  private readonly cache = new Map<string, { row: JobTokenRow; expires: number }>();

  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  /** A new token for the job (the plain text is returned once and never stored). */
  async issue({ jobId, experimentId, ownerId }: { jobId: string; experimentId: number; ownerId: number }): Promise<string> {
    const token = JOB_TOKEN_PREFIX + randomBytes(32).toString('base64url');
    await this.ds.query(`INSERT INTO job_token (token_hash, job_id, experiment_id, owner_id) VALUES ($1, $2, $3, $4)`, [sha256(token), jobId, experimentId, ownerId]);
    return token;
  }

  /** Revokes every token of the job (idempotent). */
  async revoke(jobId: string): Promise<void> {
    await this.ds.query(`UPDATE job_token SET revoked_at = now() WHERE job_id = $1 AND revoked_at IS NULL`, [jobId]);
    for (const [hash, hit] of this.cache) if (hit.row.jobId === jobId) this.cache.delete(hash);
  }

  isJobToken(token: string): boolean {
    return token.startsWith(JOB_TOKEN_PREFIX);
  }

  /** The caller a job token stands for; unknown or revoked → 401, owner deactivated → 403. */
  async authenticate(token: string): Promise<AuthUser> {
    const hash = sha256(token);
    let row = this.cachedRow(hash);
    if (!row) {
      const rows: JobTokenRow[] = await this.ds.query(
        `SELECT t.job_id AS "jobId", t.experiment_id AS "experimentId", t.owner_id AS "ownerId", u.username, u.active,
                t.revoked_at IS NOT NULL AS revoked
           FROM job_token t JOIN "user" u ON u.id = t.owner_id
          WHERE t.token_hash = $1`,
        [hash],
      );
      row = rows[0];
      if (!row) throw new UnauthenticatedError('invalid credentials');
      if (this.cache.size >= MAX_CACHED) this.cache.clear();
      this.cache.set(hash, { row, expires: Date.now() + CACHE_MS });
    }
    if (!row.active) throw new UserNotActiveError();
    if (row.revoked) throw new UnauthenticatedError('job token revoked');
    // Never admin: a job of an admin gets its own experiment and runs, nothing more.
    return { id: row.ownerId, username: row.username, admin: false, job: { id: row.jobId, experimentId: row.experimentId } };
  }

  private cachedRow(hash: string): JobTokenRow | undefined {
    const hit = this.cache.get(hash);
    if (!hit) return undefined;
    if (hit.expires > Date.now()) return hit.row;
    this.cache.delete(hash);
    return undefined;
  }
}
