/**
 * The one way the dashboard talks to the server: same origin, `Authorization: Bearer` from sessionStorage (or
 * localStorage with "Keep me signed in"). A 401, or the 403 of an inactive user, sends the tab to the login page with
 * the reason, once; every other error is an ApiError carrying the server's own message for the view to show.
 */
const KEY = 'alidade.token';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code?: string,
    readonly fields?: Record<string, string[]>,
  ) {
    super(message);
  }
}

export function getToken(): string | null {
  return sessionStorage.getItem(KEY) ?? localStorage.getItem(KEY);
}

export function setToken(token: string, keep: boolean): void {
  clearToken();
  (keep ? localStorage : sessionStorage).setItem(KEY, token);
}

export function clearToken(): void {
  sessionStorage.removeItem(KEY);
  localStorage.removeItem(KEY);
}

let leaving = false;
/** Set by the router: where a 401 sends the tab. */
export const authHooks = { toLogin: (_reason: string) => undefined as void };

function authFailure(status: number, message: string): void {
  if (leaving) return;
  leaving = true;
  clearToken();
  authHooks.toLogin(status === 403 ? message : 'Your session has ended: log in again.');
  setTimeout(() => (leaving = false), 1000);
}

export function headers(extra: Record<string, string> = {}): Record<string, string> {
  const t = getToken();
  return t ? { Authorization: `Bearer ${t}`, ...extra } : extra;
}

/** fetch with the token; throws ApiError on any non-2xx (after the 401 redirect). */
export async function raw(path: string, init: RequestInit = {}): Promise<Response> {
  const res = await fetch(path, { ...init, headers: { ...headers(), ...((init.headers as Record<string, string>) ?? {}) } });
  if (res.ok) return res;
  let body: { message?: string | string[]; code?: string; error_code?: string; details?: { fields?: Record<string, string[]> } } = {};
  try {
    body = await res.json();
  } catch {
    /* not JSON */
  }
  const message = Array.isArray(body.message) ? body.message.join('; ') : (body.message ?? `${res.status} ${res.statusText}`);
  const isLogin = path.startsWith('/api/v1/auth/login');
  if (!isLogin && (res.status === 401 || (res.status === 403 && message === 'user is not active'))) authFailure(res.status, message);
  const err = new ApiError(res.status, message, body.code ?? body.error_code, body.details?.fields);
  if (res.status === 429) (err as ApiError & { retryAfter?: number }).retryAfter = Number(res.headers.get('Retry-After') ?? 0);
  throw err;
}

export async function api<T>(path: string, init: RequestInit & { json?: unknown } = {}): Promise<T> {
  const { json, ...rest } = init;
  const opts: RequestInit = json === undefined ? rest : { ...rest, body: JSON.stringify(json), headers: { 'Content-Type': 'application/json', ...((rest.headers as Record<string, string>) ?? {}) } };
  const res = await raw(path, opts);
  const text = await res.text();
  return (text ? JSON.parse(text) : {}) as T;
}

/** Fetches with the token and saves the body as a file (no token in any URL). */
export async function download(path: string, name: string): Promise<void> {
  const res = await raw(path);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// The v1 shapes the pages read.
export interface User { id: number; username: string; displayName: string | null; admin: boolean; active: boolean; createdAt: string; lastAuthAt: string | null }
export interface Pagination { offset: number; limit: number; startIndex: number; endIndex: number; total: number }
export interface Job {
  id: string; experimentId: number; experimentName: string; queueId: number; queueName: string; username: string; status: string;
  entryPoint: string; entryPointKwargs: string | null; parameters: Record<string, string>; dependsOn: string | null; timeout: string;
  workflowUri: string; mlflowRunId: string | null; createdAt: string; lastModified: string; startedAt: string | null; endedAt: string | null;
  exitCode: number | null; failureReason: string | null;
}
export interface Queue { id: number; name: string; description: string | null; locked: boolean; lockedAt: string | null; createdAt: string; jobCounts: { queued: number; deferred: number; started: number } }
export interface Experiment { id: number; name: string; description: string | null; labels: string[]; archived: boolean; state: string; numTrials: number; progress: number; username: string; startTime: string; endTime: string | null; lastModified: string }
export interface Run { id: string; experimentId: string; status: string; startTime: string; endTime: string | null; params: Record<string, string>; metrics: Record<string, { value: number | string; step: number; timestamp: number }>; tags: Record<string, string>; artifacts: { path: string; size: number }[] }
export interface Token { id: number; userId: number; description: string | null; createdAt: string; expiresAt: string | null; revokedAt: string | null; lastUsedAt: string | null }
export interface Plugin { name: string; collection: string; modules: string[]; createdAt: string; username: string | null }
export interface EntryPointSpec { name: string; command: string; parameters: { name: string; type: string; default: string | null; required: boolean }[]; error?: string | null }
