import type { JSX } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { Alert, Head, JobLink, Since, Status } from '../components/common';
import { useAction, useDocumentKeys, usePoll, useTick } from '../hooks';
import { api, type Experiment, type Job, type Pagination, type Queue } from '../lib/api';
import { between, isUuid, STATUSES, TERMINAL } from '../lib/format';
import { refreshAll } from '../lib/poller';
import { fmtNum, metricValue } from '../lib/series';
import { decodeState, encodeState } from '../lib/url';
import { Link, navigate, setQuery, useLocation } from '../router';

const PAGE = 100;
export const JOBS_SCHEMA = {
  status: { kind: 'list', default: [] as string[] },
  queue: { kind: 'string', default: '' },
  experiment: { kind: 'string', default: '' },
  user: { kind: 'string', default: '' },
  dependsOn: { kind: 'string', default: '' },
  sort: { kind: 'enum', values: ['createdAt', 'lastModified', 'status'], default: 'createdAt' },
  order: { kind: 'enum', values: ['desc', 'asc'], default: 'desc' },
  offset: { kind: 'int', default: 0, min: 0 },
  // Metric columns: the latest value of these keys per row (MLflow's runs table, DASHBOARD.md §2.3 Jobs).
  cols: { kind: 'list', default: [] as string[] },
} as const;

export function jobsQuery(s: ReturnType<typeof decodeState<typeof JOBS_SCHEMA>>, fixedExperiment?: number): string {
  const q = new URLSearchParams();
  for (const st of s.status) q.append('status', st);
  if (s.queue) q.set('queueId', s.queue);
  const exp = fixedExperiment ?? s.experiment;
  if (exp) q.set('experimentId', String(exp));
  if (s.user) q.set('users', s.user);
  if (s.dependsOn) q.set('dependsOn', s.dependsOn);
  q.set('sortBy', s.sort);
  q.set('orderBy', s.order);
  q.set('offset', String(s.offset));
  q.set('limit', String(PAGE));
  return `/api/v1/jobs?${q}`;
}

export function Jobs(): JSX.Element {
  useEffect(() => void (document.title = 'Jobs · Alidade'), []);
  return (
    <section>
      <div class="head">
        <h1>Jobs</h1>
        <Link href="/ui/jobs/new" class="button primary">
          Submit job
        </Link>
      </div>
      <JobsTable />
    </section>
  );
}

/** The jobs table with its filters, all in the URL; `experimentId` pins the experiment (Experiment page). */
export function JobsTable({ experimentId }: { experimentId?: number }): JSX.Element {
  const { search } = useLocation();
  const s = decodeState(JOBS_SCHEMA, search);
  const key = jobsQuery(s, experimentId);
  const [every, setEvery] = useState(2000);
  const { data, error } = usePoll<{ jobs: Job[]; pagination: Pagination }>(key, every);
  useTick(5000);
  const active = data?.jobs.some((j) => !TERMINAL.has(j.status)) ?? true;
  useEffect(() => setEvery(active ? 2000 : 10_000), [active]);
  // The filters' choices load after the first page of rows, so they do not compete with it on a busy server.
  const queues = usePoll<{ queues: Queue[] }>(data ? '/api/v1/queues' : null, 5000).data?.queues ?? [];
  const exps = usePoll<{ experiments: Experiment[] }>(experimentId || !data ? null : '/api/v1/experiments?limit=1000&sortBy=name', 10_000).data?.experiments ?? [];
  const latest = useLatestMetrics(s.cols.length ? (data?.jobs ?? []) : [], s.cols.length > 0, data);
  const [colsText, setColsText] = useState(s.cols.join(', '));
  useEffect(() => setColsText(s.cols.join(', ')), [s.cols.join()]);
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [cursor, setCursor] = useState(0);
  const [anchor, setAnchor] = useState<number | null>(null);
  const [results, setResults] = useState<string[]>([]);
  const [find, setFind] = useState('');
  const act = useAction();
  const table = useRef<HTMLTableElement>(null);
  const total = data?.pagination.total ?? 0;
  const jobs = data?.jobs ?? [];
  const set = (patch: Record<string, string | null>) => setQuery({ ...patch, offset: patch.offset ?? null });
  const goOffset = (o: number) => {
    setQuery({ offset: o > 0 ? String(o) : null });
    setCursor(0);
  };
  const last = Math.max(0, Math.floor((total - 1) / PAGE) * PAGE);

  const toggle = (i: number, range: boolean) => {
    const next = new Set(selected);
    if (range && anchor !== null) {
      const [a, b] = [Math.min(anchor, i), Math.max(anchor, i)];
      for (let k = a; k <= b; k++) if (jobs[k]) next.add(jobs[k].id);
    } else if (next.has(jobs[i].id)) next.delete(jobs[i].id);
    else next.add(jobs[i].id);
    setAnchor(i);
    setSelected(next);
  };

  const onKey = (e: KeyboardEvent) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || (e.target as HTMLElement).closest('input, select, button, textarea, dialog[open], [role=log]')) return;
    const move = (to: number) => {
      e.preventDefault();
      const c = Math.max(0, Math.min(jobs.length - 1, to));
      setCursor(c);
      table.current?.querySelectorAll<HTMLElement>('tbody tr')[c]?.scrollIntoView({ block: 'nearest' });
    };
    if (e.key === 'j' || e.key === 'ArrowDown') move(cursor + 1);
    else if (e.key === 'k' || e.key === 'ArrowUp') move(cursor - 1);
    else if (e.key === 'Enter' && jobs[cursor]) navigate(`/ui/jobs/${jobs[cursor].id}`);
    else if (e.key === 'x' && jobs[cursor]) toggle(cursor, e.shiftKey);
    else if (e.key === 'End') {
      e.preventDefault();
      goOffset(last);
    } else if (e.key === 'Home') {
      e.preventDefault();
      goOffset(0);
    } else if (e.key === 'PageDown') {
      e.preventDefault();
      goOffset(Math.min(last, s.offset + PAGE));
    } else if (e.key === 'PageUp') {
      e.preventDefault();
      goOffset(Math.max(0, s.offset - PAGE));
    }
  };

  const cancelSelected = () =>
    act.run(async () => {
      const out: string[] = [];
      for (const id of selected) {
        const job = jobs.find((j) => j.id === id);
        try {
          await api(`/api/v1/jobs/${id}/cancel`, { method: 'POST' });
          out.push(`${id.slice(0, 8)}: canceled`);
        } catch (err) {
          out.push(`${id.slice(0, 8)}: ${(err as Error).message}${job ? ` (${job.status})` : ''}`);
        }
      }
      setResults(out);
      setSelected(new Set());
      refreshAll('/api/v1/jobs');
    });

  // The page's keys work wherever the focus is (outside fields): j/k, x, Enter, Home/End, PageUp/PageDown.
  useDocumentKeys(onKey);

  const onFind = (e: Event) => {
    e.preventDefault();
    if (isUuid(find)) navigate(`/ui/jobs/${find.trim().toLowerCase()}`);
  };

  return (
    <div class="jobs">
      <form class="filters" onSubmit={onFind} aria-label="Job filters">
        <fieldset class="statuses">
          <legend>Status</legend>
          {STATUSES.map((st) => (
            <label key={st} class="check">
              <input
                type="checkbox"
                checked={s.status.includes(st)}
                onChange={(e) => {
                  const next = e.currentTarget.checked ? [...s.status, st] : s.status.filter((x) => x !== st);
                  set({ status: next.length ? next.join(',') : null });
                }}
              />
              {st}
            </label>
          ))}
        </fieldset>
        <label>
          Queue
          <select value={s.queue} onChange={(e) => set({ queue: e.currentTarget.value || null })}>
            <option value="">all</option>
            {queues.map((q) => (
              <option key={q.id} value={String(q.id)}>
                {q.name}
              </option>
            ))}
          </select>
        </label>
        {!experimentId && (
          <label>
            Experiment
            <select value={s.experiment} onChange={(e) => set({ experiment: e.currentTarget.value || null })}>
              <option value="">all</option>
              {exps.map((x) => (
                <option key={x.id} value={String(x.id)}>
                  {x.name}
                </option>
              ))}
            </select>
          </label>
        )}
        <label>
          User
          <input value={s.user} size={10} onChange={(e) => set({ user: e.currentTarget.value || null })} />
        </label>
        <label>
          Sort
          <select value={`${s.sort}:${s.order}`} onChange={(e) => {
            const [sort, order] = e.currentTarget.value.split(':');
            set({ sort: sort === 'createdAt' ? null : sort, order: order === 'desc' ? null : order });
          }}>
            <option value="createdAt:desc">newest first</option>
            <option value="createdAt:asc">oldest first</option>
            <option value="lastModified:desc">last modified</option>
            <option value="status:asc">status</option>
          </select>
        </label>
        <label>
          Metric columns
          <input
            value={colsText}
            size={14}
            placeholder="loss, acc"
            onInput={(e) => setColsText(e.currentTarget.value)}
            onChange={(e) => {
              const keys = [...new Set(e.currentTarget.value.split(',').map((k) => k.trim()).filter(Boolean))];
              setQuery({ cols: keys.length ? keys.join(',') : null });
            }}
          />
        </label>
        <input type="search" aria-label="Find job by id" placeholder="paste a job id" value={find} onInput={(e) => setFind(e.currentTarget.value)} />
        {encodeState(JOBS_SCHEMA, { ...s, offset: 0 }) !== '' && (
          <Link href={location.pathname}>Clear filters</Link>
        )}
      </form>
      <div class="row actions">
        <button type="button" disabled={!selected.size || act.busy} onClick={() => void cancelSelected()}>
          Cancel selected{selected.size ? ` (${selected.size})` : ''}
        </button>
        <button type="button" disabled={selected.size < 2} onClick={() => navigate(`/ui/compare?jobs=${[...selected].join(',')}`)}>
          Compare
        </button>
        <span class="spacer" />
        <Pager offset={s.offset} total={total} last={last} go={goOffset} />
      </div>
      <Alert error={act.error} />
      {results.length > 0 && (
        <ul class="results" aria-label="Cancel results">
          {results.map((r) => (
            <li key={r}>{r}</li>
          ))}
        </ul>
      )}
      <Alert error={error?.message} />
      <div class="table-wrap" tabIndex={0} aria-label="Jobs table: j/k move, x select, Enter open, Home/End first/last page">
        <table ref={table} aria-label="Jobs" aria-rowcount={total + 1} class="grid">
          <Head rowIndex={1} cols={[<span class="sr-only">Select</span>, 'status', 'id', 'experiment', 'queue', 'entry point', 'parameters', 'user', 'created', 'duration', 'exit', 'reason', ...s.cols]} />
          <tbody>
            {jobs.map((j, i) => (
              <tr key={j.id} aria-rowindex={s.offset + i + 2} class={`${i === cursor ? "cursor" : ""}${selected.has(j.id) ? " selected" : ""}`} onClick={(e) => e.shiftKey && toggle(i, true)}>
                <td>
                  <input type="checkbox" aria-label={`Select ${j.id.slice(0, 8)}`} checked={selected.has(j.id)} onClick={(e) => (e.stopPropagation(), toggle(i, e.shiftKey))} />
                </td>
                <td>
                  <Status status={j.status} />
                </td>
                <td>
                  <JobLink job={j} />
                </td>
                <td>
                  <Link href={`/ui/experiments/${j.experimentId}`}>{j.experimentName}</Link>
                </td>
                <td>{j.queueName}</td>
                <td>{j.entryPoint}</td>
                <td class="chips">
                  {Object.entries(j.parameters ?? {}).map(([k, v]) => (
                    <span key={k} class="chip">
                      {k}={v}
                    </span>
                  ))}
                </td>
                <td>{j.username}</td>
                <td>
                  <Since from={j.createdAt} />
                </td>
                <td>{j.startedAt ? between(j.startedAt, j.endedAt) : ''}</td>
                <td>{j.exitCode ?? ''}</td>
                <td>{j.failureReason ?? ''}</td>
                {s.cols.map((k) => {
                  const m = j.mlflowRunId ? latest.get(j.mlflowRunId)?.get(k) : undefined;
                  const v = m === undefined ? null : metricValue(m);
                  return (
                    <td key={`m-${k}`} class="num">
                      {m === undefined ? '' : v === null ? String(m) : fmtNum(v)}
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
        {data && !jobs.length && (
          <p class="empty">
            no jobs match. <Link href={location.pathname}>Clear filters</Link>
          </p>
        )}
      </div>
    </div>
  );
}

/**
 * The latest value of every metric of the page's runs: one `runs/search` per page of rows (its run ids in one
 * `attributes.run_id IN (...)` filter), made again when the page's rows change (each poll returns a new page object).
 */
function useLatestMetrics(jobs: Job[], on: boolean, page: unknown): Map<string, Map<string, number | string>> {
  const [out, setOut] = useState<Map<string, Map<string, number | string>>>(new Map());
  const runIds = jobs.map((j) => j.mlflowRunId).filter((r): r is string => !!r && /^[0-9a-zA-Z_-]+$/.test(r));
  const experiments = useMemo(() => [...new Set(jobs.filter((j) => j.mlflowRunId).map((j) => String(j.experimentId)))], [page]);
  useEffect(() => {
    if (!on || !runIds.length) return setOut(new Map());
    let gone = false;
    api<{ runs?: { info: { run_id: string }; data?: { metrics?: { key: string; value: number | string }[] } }[] }>('/api/2.0/mlflow/runs/search', {
      method: 'POST',
      json: { experiment_ids: experiments, filter: `attributes.run_id IN (${runIds.map((r) => `'${r}'`).join(', ')})`, max_results: runIds.length },
    })
      .then((r) => {
        if (gone) return;
        setOut(new Map((r.runs ?? []).map((run) => [run.info.run_id, new Map((run.data?.metrics ?? []).map((m) => [m.key, m.value]))])));
      })
      .catch(() => undefined);
    return () => {
      gone = true;
    };
  }, [on, runIds.join(), page]);
  return out;
}

function Pager({ offset, total, last, go }: { offset: number; total: number; last: number; go: (o: number) => void }): JSX.Element {
  const from = total ? offset + 1 : 0;
  const to = Math.min(total, offset + PAGE);
  return (
    <nav class="pager" aria-label="Pages">
      <button type="button" disabled={offset <= 0} onClick={() => go(0)}>
        First
      </button>
      <button type="button" disabled={offset <= 0} onClick={() => go(Math.max(0, offset - PAGE))}>
        Previous
      </button>
      <span aria-live="polite">
        {from}–{to} of {total}
      </span>
      <button type="button" disabled={offset >= last} onClick={() => go(Math.min(last, offset + PAGE))}>
        Next
      </button>
      <button type="button" disabled={offset >= last} onClick={() => go(last)}>
        Last
      </button>
    </nav>
  );
}
