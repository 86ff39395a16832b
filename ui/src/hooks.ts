import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './lib/api';
import { peek, retune, subscribe } from './lib/poller';

/**
 * Polled data from the shared store. `every` in ms (null: fetch once); `stop(data)` true ends polling for good
 * (terminal jobs). A null key subscribes to nothing.
 */
export function usePoll<T>(key: string | null, every: number | null, stop?: (d: T) => boolean): { data: T | undefined; error: ApiError | Error | null } {
  // A cached value renders in the first pass (the subscription below delivers it again, and keeps it fresh).
  const [state, setState] = useState<{ data: T | undefined; error: ApiError | Error | null; key: string | null }>(() => ({ data: key ? (peek(key) as T | undefined) : undefined, error: null, key }));
  const stopRef = useRef(stop);
  stopRef.current = stop;
  // Subscribed in the commit, before the browser paints (a plain effect waits for the paint and a frame), so a
  // page's data request starts as early as the page itself.
  useLayoutEffect(() => {
    if (!key) return;
    let stopped = false;
    const fn = (data: unknown, error: ApiError | Error | null) => {
      setState({ data: data as T, error, key });
      if (!stopped && data !== undefined && stopRef.current?.(data as T)) {
        stopped = true;
        retune(key, fn, null);
      }
    };
    return subscribe(key, every, fn);
  }, [key, every]);
  return state.key === key ? state : { data: key ? (peek(key) as T | undefined) : undefined, error: null };
}

/** An async action's state: busy while running, its error kept for display next to the control. */
export function useAction(): { busy: boolean; error: string | null; fields: Record<string, string[]> | undefined; run: (f: () => Promise<unknown>) => Promise<boolean>; clear: () => void } {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fields, setFields] = useState<Record<string, string[]> | undefined>(undefined);
  return {
    busy,
    error,
    fields,
    clear: () => {
      setError(null);
      setFields(undefined);
    },
    run: async (f) => {
      setBusy(true);
      setError(null);
      setFields(undefined);
      try {
        await f();
        return true;
      } catch (e) {
        setError((e as Error).message);
        if (e instanceof ApiError) setFields(e.fields);
        return false;
      } finally {
        setBusy(false);
      }
    },
  };
}

/** Re-renders every `ms` (ages and durations). */
export function useTick(ms: number): number {
  const [n, setN] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setN((x) => x + 1), ms);
    return () => clearInterval(t);
  }, [ms]);
  return n;
}

/** A page's keys, wherever the focus is: `onKey` (the latest one rendered) gets every keydown of the document. */
export function useDocumentKeys(onKey: (e: KeyboardEvent) => void): void {
  const keyRef = useRef(onKey);
  keyRef.current = onKey;
  useEffect(() => {
    const l = (e: KeyboardEvent) => keyRef.current(e);
    document.addEventListener('keydown', l);
    return () => document.removeEventListener('keydown', l);
  }, []);
}
