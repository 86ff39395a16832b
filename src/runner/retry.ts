const SOCKET_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN']);
// SQLSTATE classes of a statement the database refuses (bad data, constraint, syntax/privilege): retrying cannot help.
const FINAL_SQLSTATE = /^(0A|22|23|27|2B|2D|3F|42|44)/;

/**
 * Errors worth waiting out: the database or Redis unreachable, restarting, refusing connections for now. Postgres
 * errors count unless they refuse the statement itself; socket errors (ECONNREFUSED, ETIMEDOUT, ...) always count;
 * file system errors (ENOSPC, EACCES) never do.
 */
export function isConnectionError(e: unknown): boolean {
  const err = e as { code?: unknown; message?: unknown } | null;
  const code = typeof err?.code === 'string' ? err.code : '';
  const message = typeof err?.message === 'string' ? err.message : '';
  if (SOCKET_ERRORS.has(code)) return true;
  if (/^[0-9A-Z]{5}$/.test(code)) return !FINAL_SQLSTATE.test(code);
  return /connection|terminat|timeout|not queryable|ECONNREFUSED/i.test(message);
}

export interface RetryOptions {
  /** Attempts for errors that are not connection errors (a connection error is retried until `giveUp()`). */
  attempts?: number;
  firstDelayMs?: number;
  maxDelayMs?: number;
  /** Checked before each wait: true stops retrying and rethrows the last error (shutdown). */
  giveUp?: () => boolean;
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/**
 * Runs `fn` until it succeeds. A worker that loses Postgres must keep its outcome and logs and report them when the
 * database is back, so connection errors are retried with exponential backoff for as long as the worker runs; other
 * errors (a statement the database refuses) get a few attempts and are then rethrown.
 */
export async function retry<T>(fn: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const { attempts = 3, firstDelayMs = 200, maxDelayMs = 5000, giveUp = () => false } = opts;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if ((!isConnectionError(e) && attempt >= attempts) || giveUp()) throw e;
      const delay = Math.min(firstDelayMs * 2 ** (attempt - 1), maxDelayMs);
      opts.onRetry?.(e, attempt, delay);
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
