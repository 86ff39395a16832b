/**
 * One store for everything polled, shared by every view of the tab and by every tab of the browser.
 *
 * - A subscription is a key (the API path) with an interval; the fastest subscriber sets the cadence; an interval of
 *   null (terminal job) stops polling that key.
 * - Across tabs: each result is broadcast on a BroadcastChannel; a tab whose timer fires skips the fetch when another
 *   tab's result for the key is fresh, and a Web Lock per key lets only one tab fetch at a time. N tabs on one page
 *   cost about one tab's requests.
 * - Nothing is fetched while the document is hidden (read only through document.visibilityState and the
 *   visibilitychange event); becoming visible refreshes at once.
 * - Errors back off 1 → 2 → 4 … 30 s; the connection banner reads `connection`.
 */
import { api, ApiError } from './api';

type Listener = (data: unknown, error: ApiError | Error | null) => void;

interface Entry {
  key: string;
  data: unknown;
  error: ApiError | Error | null;
  at: number; // when data arrived (here or from another tab)
  subs: Map<number, { interval: number | null; fn: Listener }>;
  timer: ReturnType<typeof setTimeout> | null;
  inFlight: boolean;
  failures: number;
}

const entries = new Map<string, Entry>();
let nextSub = 1;
const channel = typeof BroadcastChannel !== 'undefined' ? new BroadcastChannel('alidade-poll') : null;

/** Connection state for the banner: null = fine, else seconds to the next retry. */
export const connection = { retryAt: 0 as number, listeners: new Set<() => void>() };
function setRetry(at: number): void {
  connection.retryAt = at;
  connection.listeners.forEach((l) => l());
}

export const visible = (): boolean => typeof document === 'undefined' || document.visibilityState !== 'hidden';

channel?.addEventListener('message', (ev: MessageEvent<{ key: string; data: unknown }>) => {
  const e = entries.get(ev.data.key);
  if (!e) return;
  e.data = ev.data.data;
  e.error = null;
  e.at = Date.now();
  emit(e);
});

if (typeof document !== 'undefined') {
  document.addEventListener('visibilitychange', () => {
    for (const e of entries.values()) {
      if (visible()) schedule(e, 0);
      else if (e.timer) {
        clearTimeout(e.timer);
        e.timer = null;
      }
    }
  });
}

function emit(e: Entry): void {
  for (const s of e.subs.values()) s.fn(e.data, e.error);
}

function interval(e: Entry): number | null {
  let best: number | null = null;
  for (const s of e.subs.values()) if (s.interval !== null && (best === null || s.interval < best)) best = s.interval;
  return best;
}

function schedule(e: Entry, delay: number): void {
  if (e.timer) clearTimeout(e.timer);
  e.timer = null;
  if (!e.subs.size || !visible()) return;
  e.timer = setTimeout(() => void tick(e), delay);
}

async function tick(e: Entry): Promise<void> {
  e.timer = null;
  if (!visible() || !e.subs.size) return;
  const every = interval(e);
  // Another tab's fresh result stands in for ours.
  if (every !== null && e.data !== undefined && Date.now() - e.at < every * 0.8) {
    schedule(e, every - (Date.now() - e.at));
    return;
  }
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  if (locks && every !== null && e.data !== undefined) {
    await locks.request(`alidade-poll:${e.key}`, { ifAvailable: true }, async (lock) => {
      if (lock) await fetchNow(e);
    });
  } else await fetchNow(e);
  const next = e.error ? Math.min(30_000, 1000 * 2 ** Math.max(0, e.failures - 1)) : interval(e);
  if (next !== null) schedule(e, next);
}

async function fetchNow(e: Entry): Promise<void> {
  if (e.inFlight) return;
  e.inFlight = true;
  try {
    e.data = await api(e.key);
    e.error = null;
    e.at = Date.now();
    if (e.failures) setRetry(0);
    e.failures = 0;
    try {
      channel?.postMessage({ key: e.key, data: e.data });
    } catch {
      /* not cloneable: keep it local */
    }
  } catch (err) {
    e.error = err as Error;
    // A 4xx is an answer, not a lost connection.
    if (!(err instanceof ApiError)) {
      e.failures++;
      setRetry(Date.now() + Math.min(30_000, 1000 * 2 ** Math.max(0, e.failures - 1)));
    }
  } finally {
    e.inFlight = false;
  }
  emit(e);
}

/** Subscribes to a key; returns the unsubscribe. The listener gets the cached value at once when there is one. */
export function subscribe(key: string, every: number | null, fn: Listener): () => void {
  let e = entries.get(key);
  if (!e) {
    e = { key, data: undefined, error: null, at: 0, subs: new Map(), timer: null, inFlight: false, failures: 0 };
    entries.set(key, e);
  }
  const id = nextSub++;
  e.subs.set(id, { interval: every, fn });
  if (e.data !== undefined || e.error) fn(e.data, e.error);
  // First subscriber, or a cached value older than the cadence: fetch now.
  // A first load starts now, not after a timer: the view's first request leaves in the render that wants it.
  if (e.data === undefined && !e.error && !e.inFlight && !e.timer) void tick(e);
  else if (e.data === undefined || (every !== null && Date.now() - e.at > every)) schedule(e, 0);
  else if (!e.timer && every !== null) schedule(e, every - (Date.now() - e.at));
  const entry = e;
  return () => {
    entry.subs.delete(id);
    if (!entry.subs.size) {
      if (entry.timer) clearTimeout(entry.timer);
      entry.timer = null;
      // Kept as a cache for a while (back navigation shows data at once).
      setTimeout(() => {
        if (!entry.subs.size) entries.delete(key);
      }, 60_000);
    }
  };
}

/** The cached value of a key, if any (a view's first render shows it without waiting for its subscription). */
export function peek(key: string): unknown {
  return entries.get(key)?.data;
}

/**
 * Fetches a key into the store once, without subscribing, when nothing has it yet: a page loads what its next tab
 * will read (the job page, its run for the Metrics tab) so the tab's first render has it. Kept 60 s, as after an
 * unsubscribe.
 */
export function prefetch(key: string): void {
  if (entries.has(key) || !visible()) return;
  const e: Entry = { key, data: undefined, error: null, at: 0, subs: new Map(), timer: null, inFlight: false, failures: 0 };
  entries.set(key, e);
  void fetchNow(e);
  setTimeout(() => {
    if (!e.subs.size && entries.get(key) === e) entries.delete(key);
  }, 60_000);
}

/** Changes one subscription's interval (a job became terminal: null). */
export function retune(key: string, fn: Listener, every: number | null): void {
  const e = entries.get(key);
  if (!e) return;
  for (const s of e.subs.values()) if (s.fn === fn) s.interval = every;
  if (interval(e) === null && e.timer) {
    clearTimeout(e.timer);
    e.timer = null;
  } else if (!e.timer && !e.inFlight) schedule(e, interval(e) ?? 0);
}

/** Fetches a key now (after an action) and tells every subscriber. */
export async function refresh(key: string): Promise<void> {
  const e = entries.get(key);
  if (e) await fetchNow(e);
}

/** Refreshes every key that starts with a prefix (after a cancel: all job lists). */
export function refreshAll(prefix: string): void {
  for (const e of entries.values()) if (e.key.startsWith(prefix)) void fetchNow(e);
}
