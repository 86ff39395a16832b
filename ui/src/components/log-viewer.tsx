/**
 * The job log: the tail, then the live follow read with fetch streaming into a bounded ring buffer, painted at most
 * once per animation frame into a pool of fixed-height rows (only the rows in view exist). Scrolling up pauses the
 * view (the stream keeps filling the buffer); "Jump to latest" resumes. Reconnects with afterId after a network error.
 */
import type { JSX, TargetedEvent } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiError, download, headers, type Pagination } from '../lib/api';
import { ansiSegments } from '../lib/ansi';
import { NdjsonSplitter } from '../lib/ndjson';
import { LogRing, type LogLine } from '../lib/ring';
import { setQuery } from '../router';

const ROW = 18;
const TAIL = 1000;

interface Props {
  jobId: string;
  terminal: boolean;
  /** Lab board: a short viewer without search and paging. */
  compact?: boolean;
  capacity?: number;
  anchor?: string | null;
  /** Only this stream's lines (stdout, stderr, system); from the URL (?stream=). */
  stream?: string | null;
  /** Timestamps shown: local time or UTC; none when null (?ts=local|utc). */
  ts?: string | null;
}

function stamp(iso: string, ts: string): string {
  const d = new Date(iso);
  if (ts === 'utc') return d.toISOString().slice(11, 23);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/**
 * The last `n` lines. `offset=-n` counts from the end, but a log shorter than n gives an empty page (an offset before
 * the first line is past the range, API.md §1.2), so a short log is read again from its start.
 */
async function fetchTail(jobId: string, n: number, signal: AbortSignal): Promise<{ logs: LogLine[]; pagination: Pagination }> {
  const tail = await api<{ logs: LogLine[]; pagination: Pagination }>(`/api/v1/jobs/${jobId}/logs?offset=-${n}&limit=${n}`, { signal });
  if (tail.logs.length || !tail.pagination.total || tail.pagination.total >= n) return tail;
  return api<{ logs: LogLine[]; pagination: Pagination }>(`/api/v1/jobs/${jobId}/logs?offset=0&limit=${n}`, { signal });
}

async function jobEnded(jobId: string): Promise<boolean> {
  const { job } = await api<{ job: { status: string } }>(`/api/v1/jobs/${jobId}`);
  return ['finished', 'failed', 'canceled'].includes(job.status);
}

export function LogViewer({ jobId, terminal, compact, capacity, anchor, stream, ts }: Props): JSX.Element {
  const ring = useMemo(() => new LogRing(capacity ?? (compact ? 200 : 200_000)), [jobId]);
  const box = useRef<HTMLDivElement>(null);
  const [, paint] = useState(0);
  const [following, setFollowing] = useState(!anchor);
  const followRef = useRef(following);
  followRef.current = following;
  const [height, setHeight] = useState(compact ? 200 : 480);
  const [scrollTop, setScrollTop] = useState(0);
  const [streaming, setStreaming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [seenAtPause, setSeenAtPause] = useState(0);
  const [search, setSearch] = useState('');
  const [match, setMatch] = useState<{ list: number[]; at: number }>({ list: [], at: -1 });
  const first = useRef(0); // absolute offset of the oldest kept line
  const loadingOlder = useRef(false);
  const frame = useRef(0);
  const terminalRef = useRef(terminal);
  terminalRef.current = terminal;

  const schedulePaint = () => {
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      paint((n) => n + 1);
    });
  };

  // Tail, then follow until the job ends.
  useEffect(() => {
    const ctrl = new AbortController();
    let afterIdSupported = true;
    let failures = 0;
    let followed = false;
    const run = async () => {
      try {
        const tail = await fetchTail(jobId, compact ? 200 : TAIL, ctrl.signal);
        first.current = tail.pagination.startIndex;
        ring.push(tail.logs);
        setLoaded(true);
        schedulePaint();
      } catch (e) {
        if (!ctrl.signal.aborted) setError((e as Error).message);
        return;
      }
      // A job that is terminal when the viewer opens has its whole log in the tail. Otherwise the follow runs until
      // the server ends it (the job ended, plus the server's grace for the last lines): it is not cut when the status
      // poll says terminal first, or the lines written after the status change would be lost.
      while (!ctrl.signal.aborted && !terminalRef.current) {
        const after = ring.lastId;
        const url = `/api/v1/jobs/${jobId}/logs?follow=true${afterIdSupported && after ? `&afterId=${after}` : ''}`;
        try {
          setStreaming(true);
          followed = true;
          const res = await fetch(url, { headers: headers(), signal: ctrl.signal });
          if (res.status === 400 && afterIdSupported && after) {
            // A server without afterId: follow from line 0; the ring drops what it already holds.
            afterIdSupported = false;
            continue;
          }
          if (!res.ok || !res.body) throw new ApiError(res.status, `log follow: ${res.status}`);
          failures = 0;
          setError(null);
          const split = new NdjsonSplitter<LogLine>();
          const reader = res.body.getReader();
          for (;;) {
            const { value, done } = await reader.read();
            if (done) break;
            if (ring.push(split.push(value))) schedulePaint();
          }
          ring.push(split.end());
          schedulePaint();
          // The server ends the follow when the job ends; an early end (a proxy) reconnects after the last id.
          if (terminalRef.current || (await jobEnded(jobId))) break;
          continue;
        } catch (e) {
          if (ctrl.signal.aborted) return;
          if (e instanceof ApiError && e.status >= 400 && e.status < 500) {
            setError(e.message);
            break;
          }
          failures++;
          const wait = Math.min(30_000, 1000 * 2 ** (failures - 1));
          setError(`Connection lost — retrying (next in ${Math.round(wait / 1000)} s)`);
          await new Promise((r) => setTimeout(r, wait));
        } finally {
          setStreaming(false);
        }
      }
    };
    void run().then(async () => {
      // After a follow: one more tail, for lines a reconnect gap could have missed (the ring drops what it has).
      if (ctrl.signal.aborted || !followed) return;
      const tail = await fetchTail(jobId, compact ? 200 : TAIL, ctrl.signal).catch(() => null);
      if (tail && ring.push(tail.logs)) schedulePaint();
    });
    return () => {
      ctrl.abort();
      cancelAnimationFrame(frame.current);
      frame.current = 0;
    };
  }, [jobId, ring]);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight || height));
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  // A stream filter views a subset of the buffer (rebuilt per paint: a plain loop, a few ms at 200k lines).
  let idx: number[] | null = null;
  if (stream) {
    idx = [];
    for (let i = 0; i < ring.size; i++) if (ring.at(i)!.stream === stream) idx.push(i);
  }
  const view = idx;
  const total = view ? view.length : ring.size;
  const lineAt = (i: number) => ring.at(view ? view[i] : i);
  // Following: keep the bottom in view after each paint.
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    if (followRef.current) {
      const bottom = total * ROW - el.clientHeight;
      if (el.scrollTop < bottom) el.scrollTop = Math.max(0, bottom);
    }
  });

  // A line permalink (?line=<id>) centres that line once it is loaded.
  useEffect(() => {
    if (!anchor || !box.current) return;
    for (let i = 0; i < total; i++)
      if (lineAt(i)!.id === anchor) {
        box.current.scrollTop = Math.max(0, i * ROW - box.current.clientHeight / 2);
        return;
      }
  }, [anchor, total > 0]);

  const onScroll = async (e: TargetedEvent<HTMLDivElement>) => {
    const el = e.currentTarget;
    setScrollTop(el.scrollTop);
    const atBottom = el.scrollTop + el.clientHeight >= total * ROW - ROW;
    if (!atBottom && followRef.current) {
      setFollowing(false);
      setSeenAtPause(ring.accepted);
    }
    // At the top: the previous 1000 lines by offset, while the buffer has room.
    if (!compact && el.scrollTop < ROW * 5 && first.current > 0 && !loadingOlder.current && ring.size < ring.capacity) {
      loadingOlder.current = true;
      try {
        const from = Math.max(0, first.current - TAIL);
        const older = await api<{ logs: LogLine[] }>(`/api/v1/jobs/${jobId}/logs?offset=${from}&limit=${first.current - from}`);
        const added = ring.prepend(older.logs);
        first.current = from;
        el.scrollTop += added * ROW;
        schedulePaint();
      } finally {
        loadingOlder.current = false;
      }
    }
  };

  const setFollow = (on: boolean) => {
    setFollowing(on);
    if (on && box.current) box.current.scrollTop = total * ROW;
    if (!on) setSeenAtPause(ring.accepted);
  };

  // `f` toggles follow while the viewer has focus.
  const onKey = (e: KeyboardEvent) => {
    if (e.key === 'f' && !(e.target instanceof HTMLInputElement)) {
      e.preventDefault();
      setFollow(!followRef.current);
    }
    if (e.key === 'n' || e.key === 'N') step(e.key === 'n' ? 1 : -1);
  };

  const runSearch = (text: string) => {
    setSearch(text);
    if (!text) return setMatch({ list: [], at: -1 });
    const needle = text.toLowerCase();
    const list: number[] = [];
    for (let i = 0; i < total; i++) if (lineAt(i)!.line.toLowerCase().includes(needle)) list.push(i);
    setMatch({ list, at: list.length ? list.length - 1 : -1 });
    if (list.length) reveal(list[list.length - 1]);
  };
  const reveal = (i: number) => {
    setFollowing(false);
    if (box.current) box.current.scrollTop = Math.max(0, i * ROW - box.current.clientHeight / 2);
  };
  const step = (d: number) => {
    if (!match.list.length) return;
    const at = (match.at + d + match.list.length) % match.list.length;
    setMatch({ ...match, at });
    reveal(match.list[at]);
  };

  const saveLog = async () => {
    // Streamed page by page from the paged endpoint; the file is built from the pages' text.
    const parts: string[] = [];
    for (let offset = 0; ; offset += 1000) {
      const page = await api<{ logs: LogLine[]; pagination: Pagination }>(`/api/v1/jobs/${jobId}/logs?offset=${offset}&limit=1000`);
      parts.push(page.logs.map((l) => `${l.line}\n`).join(''));
      if (page.pagination.endIndex >= page.pagination.total || !page.logs.length) break;
    }
    const url = URL.createObjectURL(new Blob(parts, { type: 'text/plain' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `job-${jobId}.log`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  };
  void download;

  const firstRow = Math.max(0, Math.floor(scrollTop / ROW) - 5);
  const count = Math.min(total - firstRow, Math.ceil(height / ROW) + 10);
  const current = match.at >= 0 ? match.list[match.at] : -1;
  const rows: JSX.Element[] = [];
  for (let k = 0; k < count; k++) {
    const i = firstRow + k;
    const l = lineAt(i)!;
    const cls = `ll${l.stream === 'stderr' ? ' err' : ''}${l.id === anchor ? ' anchor' : ''}${i === current ? ' hit' : ''}`;
    rows.push(
      // Keyed by pool slot: the same few elements are reused as the view scrolls.
      <div key={k % (count || 1)} class={cls} style={{ transform: `translateY(${i * ROW}px)` }}>
        {!compact && (
          <a class="ln" href={`?line=${l.id}`} tabIndex={-1} onClick={(e) => (e.preventDefault(), setQuery({ line: l.id }))}>
            {l.id}
          </a>
        )}
        {ts && <span class="lts">{stamp(l.timestamp, ts)}</span>}
        <span class="lt">
          {ansiSegments(l.line).map((s, j) => (
            <span key={j} class={s.fg !== undefined || s.bold ? `a${s.fg ?? ''}${s.bold ? ' ab' : ''}` : undefined}>
              {s.text}
            </span>
          ))}
        </span>
      </div>,
    );
  }
  const fresh = ring.accepted - seenAtPause;
  const statusText = `${total} lines · ${following ? 'following' : 'paused'}`;
  return (
    <div class={`logs${compact ? ' compact' : ''}`} onKeyDown={onKey}>
      <div class="toolbar">
        <button type="button" aria-pressed={following} onClick={() => setFollow(!following)}>
          Follow
        </button>
        {!compact && (
          <>
            <input type="search" aria-label="Search log" placeholder="Search log" value={search} onInput={(e) => runSearch(e.currentTarget.value)} onKeyDown={(e) => e.key === 'Enter' && (e.preventDefault(), step(e.shiftKey ? -1 : 1))} />
            {search && <span class="muted">{match.list.length ? `${match.at + 1} of ${match.list.length}` : 'no match'}</span>}
            <button type="button" onClick={() => void saveLog()}>
              Download log
            </button>
            <label>
              Stream{' '}
              <select value={stream ?? ''} onChange={(e) => setQuery({ stream: e.currentTarget.value || null })}>
                <option value="">all</option>
                <option value="stdout">stdout</option>
                <option value="stderr">stderr</option>
                <option value="system">system</option>
              </select>
            </label>
            <label>
              Timestamps{' '}
              <select value={ts ?? ''} onChange={(e) => setQuery({ ts: e.currentTarget.value || null })}>
                <option value="">off</option>
                <option value="local">local</option>
                <option value="utc">UTC</option>
              </select>
            </label>
          </>
        )}
        <span role="status" aria-label="Log status" class="muted">
          {statusText}
        </span>
        {streaming && <span class="muted"> · live</span>}
        {!following && fresh > 0 && (
          <button type="button" onClick={() => setFollow(true)}>
            Jump to latest ({fresh} new)
          </button>
        )}
      </div>
      {error && (
        <p role="alert" class="alert">
          {error}
        </p>
      )}
      <div ref={box} role="log" aria-label="Job log" aria-live="off" tabIndex={0} class="log-box" onScroll={onScroll}>
        <div class="log-space" style={{ height: `${total * ROW}px` }}>
          {rows}
        </div>
        {total === 0 && <p class="muted empty">{!loaded ? 'Loading the log…' : terminal ? 'This job wrote no log lines.' : 'No log lines yet.'}</p>}
      </div>
    </div>
  );
}
