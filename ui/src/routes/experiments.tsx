import type { JSX } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { MetricFigure } from '../components/chart';
import { Alert, Confirm, Loading, Since } from '../components/common';
import { useAction, usePoll } from '../hooks';
import { api, type Experiment, type Job, type Pagination } from '../lib/api';
import { when } from '../lib/format';
import { refresh, refreshAll } from '../lib/poller';
import { metricValue } from '../lib/series';
import { decodeState } from '../lib/url';
import { Link, navigate, setQuery, useLocation } from '../router';
import { JobsTable } from './jobs';

const SCHEMA = {
  archived: { kind: 'enum', values: ['false', 'true', 'all'], default: 'false' },
  q: { kind: 'string', default: '' },
  label: { kind: 'list', default: [] as string[] },
  user: { kind: 'string', default: '' },
  state: { kind: 'list', default: [] as string[] },
  sort: { kind: 'enum', values: ['lastModified', 'id', 'name', 'startTime', 'numTrials'], default: 'lastModified' },
} as const;
const STATES = ['STATE_ACTIVE', 'STATE_COMPLETED', 'STATE_ERROR', 'STATE_CANCELED'];

function listKey(s: ReturnType<typeof decodeState<typeof SCHEMA>>): string {
  const q = new URLSearchParams({ limit: '1000', sortBy: s.sort, orderBy: s.sort === 'name' || s.sort === 'id' ? 'asc' : 'desc' });
  if (s.archived !== 'all') q.set('archived', s.archived);
  if (s.q) q.set('name', s.q);
  for (const l of s.label) q.append('labels', l);
  if (s.user) q.append('users', s.user);
  for (const st of s.state) q.append('states', st);
  return `/api/v1/experiments?${q}`;
}

export function Experiments(): JSX.Element {
  const { search } = useLocation();
  const s = decodeState(SCHEMA, search);
  const key = listKey(s);
  const { data, error } = usePoll<{ experiments: Experiment[]; pagination: Pagination }>(key, 10_000);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const create = useAction();
  const [rowError, setRowError] = useState<{ id: number; message: string } | null>(null);
  const [del, setDel] = useState<Experiment | null>(null);
  useEffect(() => void (document.title = 'Experiments · Alidade'), []);
  const archive = async (x: Experiment) => {
    setRowError(null);
    try {
      await api(`/api/v1/experiments/${x.id}/${x.archived ? 'unarchive' : 'archive'}`, { method: 'POST' });
    } catch (e) {
      setRowError({ id: x.id, message: (e as Error).message });
    }
    await refresh(key);
  };
  const remove = async (x: Experiment) => {
    setRowError(null);
    try {
      await api(`/api/v1/experiments/${x.id}`, { method: 'DELETE' });
    } catch (e) {
      setRowError({ id: x.id, message: (e as Error).message });
    }
    await refresh(key);
  };
  const exps = data?.experiments ?? [];
  return (
    <section>
      <h1>Experiments</h1>
      <form class="filters" aria-label="Experiment filters" onSubmit={(e) => e.preventDefault()}>
        <input type="search" aria-label="Search experiments" placeholder="name contains" value={s.q} onChange={(e) => setQuery({ q: e.currentTarget.value || null })} />
        <label>
          Archived
          <select value={s.archived} onChange={(e) => setQuery({ archived: e.currentTarget.value === 'false' ? null : e.currentTarget.value })}>
            <option value="false">not archived</option>
            <option value="true">archived</option>
            <option value="all">all</option>
          </select>
        </label>
        <label>
          Labels
          <input value={s.label.join(',')} size={12} onChange={(e) => setQuery({ label: e.currentTarget.value.replace(/\s/g, '') || null })} />
        </label>
        <label>
          Owner
          <input value={s.user} size={10} onChange={(e) => setQuery({ user: e.currentTarget.value || null })} />
        </label>
        <label>
          State
          <select value={s.state[0] ?? ''} onChange={(e) => setQuery({ state: e.currentTarget.value || null })}>
            <option value="">any</option>
            {STATES.map((st) => (
              <option key={st} value={st}>
                {st.replace('STATE_', '').toLowerCase()}
              </option>
            ))}
          </select>
        </label>
        <label>
          Sort
          <select value={s.sort} onChange={(e) => setQuery({ sort: e.currentTarget.value === 'lastModified' ? null : e.currentTarget.value })}>
            <option value="lastModified">last modified</option>
            <option value="id">id</option>
            <option value="name">name</option>
            <option value="startTime">start time</option>
            <option value="numTrials">jobs</option>
          </select>
        </label>
      </form>
      <Alert error={error?.message} />
      <table aria-label="Experiments" class="grid">
        <thead>
          <tr>
            <th scope="col">name</th>
            <th scope="col">state</th>
            <th scope="col">progress</th>
            <th scope="col">labels</th>
            <th scope="col">owner</th>
            <th scope="col">started</th>
            <th scope="col">ended</th>
            <th scope="col">last modified</th>
            <th scope="col">actions</th>
          </tr>
        </thead>
        <tbody>
          {exps.map((x) => (
            <tr key={x.id}>
              <td>
                <Link href={`/ui/experiments/${x.id}`}>{x.name}</Link>
                {x.archived && <span class="badge">archived</span>}
              </td>
              <td>{x.state.replace('STATE_', '').toLowerCase()}</td>
              <td>
                <progress max={1} value={x.progress} aria-label={`${x.name} progress`} /> {Math.round(x.progress * x.numTrials)}/{x.numTrials}
              </td>
              <td class="chips">
                {x.labels.map((l) => (
                  <span key={l} class="chip">
                    {l}
                  </span>
                ))}
              </td>
              <td>{x.username}</td>
              <td>{when(x.startTime)}</td>
              <td>{when(x.endTime)}</td>
              <td>
                <Since from={x.lastModified} /> ago
              </td>
              <td>
                <button type="button" class="small" onClick={() => void archive(x)}>
                  {x.archived ? 'Unarchive' : 'Archive'} {x.name}
                </button>{' '}
                <button type="button" class="small" onClick={() => setDel(x)}>
                  Delete {x.name}
                </button>
                {rowError?.id === x.id && (
                  <div role="alert" class="alert">
                    {rowError.message}
                  </div>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && !exps.length && <p class="empty">No experiments match.</p>}
      <form
        class="card inline"
        onSubmit={(e) => {
          e.preventDefault();
          void create.run(async () => {
            const r = await api<{ experiment: Experiment }>('/api/v1/experiments', { method: 'POST', json: { name, ...(description ? { description } : {}) } });
            setName('');
            setDescription('');
            refreshAll('/api/v1/experiments');
            navigate(`/ui/experiments/${r.experiment.id}`);
          });
        }}
      >
        <h2>New experiment</h2>
        <label>
          Experiment name <input required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          Experiment description <input value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </label>
        <button type="submit" disabled={create.busy}>
          Create experiment
        </button>
        <Alert error={create.error} fields={create.fields} />
      </form>
      <Confirm
        open={del !== null}
        title={`Delete experiment ${del?.name ?? ''}?`}
        confirm="Delete experiment"
        cancel="Keep experiment"
        danger
        onClose={() => setDel(null)}
        onConfirm={() => {
          const x = del!;
          setDel(null);
          void remove(x);
        }}
      >
        <p>The server refuses while one of its jobs is active.</p>
      </Confirm>
    </section>
  );
}

export function ExperimentPage({ id }: { id: number }): JSX.Element {
  const { query } = useLocation();
  const tab = query.get('tab') ?? 'jobs';
  const { data, error } = usePoll<{ experiment: Experiment }>(`/api/v1/experiments/${id}`, 5000, (d) => d.experiment.state !== 'STATE_ACTIVE');
  const x = data?.experiment;
  const [editing, setEditing] = useState(false);
  const [description, setDescription] = useState('');
  const [labels, setLabels] = useState('');
  const save = useAction();
  useEffect(() => void (document.title = `${x?.name ?? 'Experiment'} · Alidade`), [x?.name]);
  if (error && !x) return <Alert error={error.message} />;
  if (!x) return <Loading what="the experiment" />;
  const tabs: [string, string][] = [
    ['jobs', 'Jobs'],
    ['charts', 'Charts'],
    ['sweep', 'Sweep'],
  ];
  return (
    <section>
      <div class="head">
        <h1>Experiment {x.name}</h1>
        <span class="badge">{x.state.replace('STATE_', '').toLowerCase()}</span>
        {x.archived && <span class="badge">archived</span>}
        <span class="spacer" />
        <Link class="button primary" href={`/ui/jobs/new?experiment=${x.id}`}>
          Submit job
        </Link>
        <button type="button" onClick={() => (setEditing(!editing), setDescription(x.description ?? ''), setLabels(x.labels.join(', ')))}>
          Edit
        </button>
      </div>
      <p>{x.description}</p>
      {editing && (
        <form
          class="card inline"
          onSubmit={(e) => {
            e.preventDefault();
            void save.run(async () => {
              await api(`/api/v1/experiments/${x.id}`, { method: 'PATCH', json: { description, labels: labels.split(',').map((l) => l.trim()).filter(Boolean) } });
              setEditing(false);
              await refresh(`/api/v1/experiments/${id}`);
            });
          }}
        >
          <label>
            Description <input value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
          </label>
          <label>
            Labels <input value={labels} onInput={(e) => setLabels(e.currentTarget.value)} />
          </label>
          <button type="submit">Save</button>
          <Alert error={save.error} fields={save.fields} />
        </form>
      )}
      <div role="tablist" aria-label="Experiment" class="tabs">
        {tabs.map(([k, name]) => (
          <a key={k} role="tab" href={`?tab=${k}`} aria-selected={tab === k} tabIndex={tab === k ? 0 : -1} aria-controls="exp-panel" id={`etab-${k}`} onClick={(e) => (e.preventDefault(), setQuery({ tab: k === 'jobs' ? null : k }))}>
            {name}
          </a>
        ))}
      </div>
      <div role="tabpanel" id="exp-panel" aria-labelledby={`etab-${tab}`} class="panel">
        {tab === 'jobs' && <JobsTable experimentId={id} />}
        {tab !== 'jobs' && <ExperimentCharts id={id} sweep={tab === 'sweep'} />}
      </div>
    </section>
  );
}

/** One metric across the experiment's jobs (latest values from /run), or a final metric against a parameter. */
function ExperimentCharts({ id, sweep }: { id: number; sweep: boolean }): JSX.Element {
  const { query } = useLocation();
  const jobs = usePoll<{ jobs: Job[] }>(`/api/v1/experiments/${id}/jobs?limit=100&sortBy=createdAt&orderBy=desc`, 10_000).data?.jobs;
  const [runs, setRuns] = useState<Map<string, { metrics: Record<string, { value: number | string; step: number }> }>>(new Map());
  useEffect(() => {
    if (!jobs) return;
    let gone = false;
    void Promise.all(
      jobs.filter((j) => j.mlflowRunId).slice(0, 50).map((j) => api<{ run: { metrics: Record<string, { value: number | string; step: number }> } }>(`/api/v1/jobs/${j.id}/run`).then((r) => [j.id, r.run] as const).catch(() => null)),
    ).then((all) => !gone && setRuns(new Map(all.filter((x): x is NonNullable<typeof x> => x !== null))));
    return () => {
      gone = true;
    };
  }, [jobs?.map((j) => j.id + j.status).join()]);
  const keys = useMemo(() => [...new Set([...runs.values()].flatMap((r) => Object.keys(r.metrics)))].sort(), [runs]);
  const params = useMemo(() => [...new Set((jobs ?? []).flatMap((j) => Object.keys(j.parameters ?? {})))].sort(), [jobs]);
  const metric = query.get('metric') ?? keys[0] ?? '';
  const param = query.get('param') ?? params[0] ?? '';
  if (!jobs) return <Loading what="jobs" />;
  if (!keys.length) return <p class="muted">No job of this experiment has logged a metric.</p>;
  const withMetric = jobs.filter((j) => runs.get(j.id)?.metrics[metric]);
  let xs: number[];
  let ys: (number | null)[];
  let xLabel: string;
  if (sweep) {
    const pts = withMetric.map((j) => [Number(j.parameters?.[param]), metricValue(runs.get(j.id)!.metrics[metric].value)] as const).filter(([a]) => Number.isFinite(a)).sort((a, b) => a[0] - b[0]);
    xs = pts.map((p) => p[0]);
    ys = pts.map((p) => p[1]);
    xLabel = param;
  } else {
    const top = withMetric.slice(0, 20).reverse();
    xs = top.map((_, i) => i + 1);
    ys = top.map((j) => metricValue(runs.get(j.id)!.metrics[metric].value));
    xLabel = 'job (oldest → newest)';
  }
  return (
    <div>
      <div class="row">
        <label>
          Metric
          <select value={metric} onChange={(e) => setQuery({ metric: e.currentTarget.value })}>
            {keys.map((k) => (
              <option key={k}>{k}</option>
            ))}
          </select>
        </label>
        {sweep && (
          <label>
            Parameter
            <select value={param} onChange={(e) => setQuery({ param: e.currentTarget.value })}>
              {params.map((k) => (
                <option key={k}>{k}</option>
              ))}
            </select>
          </label>
        )}
      </div>
      <MetricFigure title={metric} total={ys.length} x={xs} series={[{ label: `latest ${metric}`, values: ys }]} xLabel={xLabel} />
    </div>
  );
}
