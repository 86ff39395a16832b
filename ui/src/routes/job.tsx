import type { JSX } from 'preact';
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { loadChart, MetricFigure, ViewControls } from '../components/chart';
import { Alert, Confirm, Head, JobLink, KvRows, Loading, Since, Status } from '../components/common';
import { LogViewer } from '../components/log-viewer';
import { useAction, usePoll, useTick } from '../hooks';
import { api, ApiError, download, type Job, type Pagination, type Run } from '../lib/api';
import { bytes, shortId, TERMINAL, when } from '../lib/format';
import { prefetch, refresh, refreshAll } from '../lib/poller';
import { ema, metricValue, toSeries } from '../lib/series';
import { Link, navigate, setQuery, useLocation } from '../router';
import { useMe } from '../session';

const TABS: [string, string][] = [
  ['overview', 'Overview'],
  ['logs', 'Logs'],
  ['metrics', 'Metrics'],
  ['params', 'Parameters'],
  ['artifacts', 'Artifacts'],
  ['workflow', 'Workflow'],
];

export function useJob(id: string | null): { job: Job | undefined; error: Error | null } {
  const { data, error } = usePoll<{ job: Job }>(id ? `/api/v1/jobs/${id}` : null, 1000, (d) => TERMINAL.has(d.job.status));
  return { job: data?.job, error };
}

export function JobPage({ id, tab }: { id: string; tab: string }): JSX.Element {
  const { job, error } = useJob(id);
  const { me } = useMe();
  const [confirm, setConfirm] = useState(false);
  const act = useAction();
  useTick(1000);
  useEffect(() => void (document.title = `Job ${shortId(id)} · Alidade`), [id]);
  // What the Metrics tab needs before it can ask for a series: the run (its metric keys), fetched once the job has
  // one, and the chart chunk, fetched when the browser is idle. A click on the tab then starts the series request in
  // its first render instead of after a run round trip (T5).
  const hasRun = !!job?.mlflowRunId;
  useEffect(() => {
    if (!hasRun) return;
    prefetch(`/api/v1/jobs/${id}/run`);
    const idle = window.requestIdleCallback ?? ((f: () => void) => setTimeout(f, 200));
    idle(() => void loadChart().catch(() => undefined));
  }, [id, hasRun]);
  if (error && !job) return <Alert error={error.message} />;
  if (!job) return <Loading what="the job" />;
  const terminal = TERMINAL.has(job.status);
  const mayCancel = !terminal && (me?.admin || me?.username === job.username);
  const cancel = async () => {
    setConfirm(false);
    await act.run(() => api(`/api/v1/jobs/${id}/cancel`, { method: 'POST' }));
    await refresh(`/api/v1/jobs/${id}`);
    refreshAll('/api/v1/jobs?');
  };
  const onTabKey = (e: KeyboardEvent) => {
    const i = TABS.findIndex(([k]) => k === tab);
    const to = e.key === 'ArrowRight' ? i + 1 : e.key === 'ArrowLeft' ? i - 1 : e.key === 'Home' ? 0 : e.key === 'End' ? TABS.length - 1 : null;
    if (to === null) return;
    e.preventDefault();
    const k = TABS[(to + TABS.length) % TABS.length][0];
    navigate(`/ui/jobs/${id}${k === 'overview' ? '' : `/${k}`}`, true);
    requestAnimationFrame(() => document.getElementById(`tab-${k}`)?.focus());
  };
  return (
    <section class="job">
      <div class="head">
        <h1>Job {shortId(job.id)}</h1>
        <span role="status" aria-label="Job status" class={`big st st-${job.status}`}>
          {job.status}
        </span>
        <span class="spacer" />
        {mayCancel && (
          <button type="button" class="danger" onClick={() => setConfirm(true)}>
            Cancel job
          </button>
        )}
        <Link class="button" href={`/ui/jobs/new?rerun=${job.id}`}>
          Rerun
        </Link>
        <button type="button" onClick={() => void act.run(() => download(`/api/v1/jobs/${job.id}/workflow`, `workflow-${shortId(job.id)}${job.workflowUri.match(/\.(tar\.gz|tgz|tar|zip)$/)?.[0] ?? '.tar.gz'}`))}>
          Download workflow
        </button>
      </div>
      <Alert error={act.error} />
      <dl class="facts">
        <dt>experiment</dt>
        <dd>
          <Link href={`/ui/experiments/${job.experimentId}`}>{job.experimentName}</Link>
        </dd>
        <dt>queue</dt>
        <dd>
          <Link href={`/ui/queues/${job.queueId}`}>{job.queueName}</Link>
        </dd>
        <dt>owner</dt>
        <dd>{job.username}</dd>
        <dt>entry point</dt>
        <dd>{job.entryPoint}</dd>
        <dt>created</dt>
        <dd>{when(job.createdAt)}</dd>
        <dt>started</dt>
        <dd>{job.startedAt ? <>{when(job.startedAt)} (waited <Since from={job.createdAt} to={job.startedAt} />)</> : '—'}</dd>
        <dt>{job.endedAt ? 'ended' : 'running for'}</dt>
        <dd>{job.endedAt ? <>{when(job.endedAt)} (ran <Since from={job.startedAt} to={job.endedAt} />)</> : job.startedAt ? <Since from={job.startedAt} /> : '—'}</dd>
        {job.exitCode !== null && (
          <>
            <dt>exit code</dt>
            <dd>{job.exitCode}</dd>
          </>
        )}
        {job.failureReason && (
          <>
            <dt>reason</dt>
            <dd>{job.failureReason}</dd>
          </>
        )}
      </dl>
      <div role="tablist" aria-label="Job" class="tabs" onKeyDown={onTabKey}>
        {TABS.map(([k, name]) => (
          <a
            key={k}
            id={`tab-${k}`}
            role="tab"
            href={`/ui/jobs/${id}${k === 'overview' ? '' : `/${k}`}`}
            aria-selected={tab === k}
            aria-controls="tabpanel"
            tabIndex={tab === k ? 0 : -1}
            onClick={(e) => {
              e.preventDefault();
              navigate(`/ui/jobs/${id}${k === 'overview' ? '' : `/${k}`}`, true);
            }}
          >
            {name}
          </a>
        ))}
      </div>
      <div role="tabpanel" id="tabpanel" aria-labelledby={`tab-${tab}`} class="panel">
        {tab === 'overview' && <Overview job={job} />}
        {tab === 'logs' && <LogsTab job={job} />}
        {tab === 'metrics' && <MetricsTab job={job} />}
        {tab === 'params' && <ParamsTab job={job} />}
        {tab === 'artifacts' && <ArtifactsTab job={job} />}
        {tab === 'workflow' && <WorkflowTab job={job} />}
      </div>
      <Confirm open={confirm} title={`Cancel job ${shortId(job.id)}?`} confirm="Cancel job" cancel="Keep running" danger onConfirm={() => void cancel()} onClose={() => setConfirm(false)}>
        <p>{job.status === 'started' ? 'Its process group is killed; the job ends as canceled.' : 'It will not run; the job ends as canceled.'}</p>
      </Confirm>
    </section>
  );
}

function Overview({ job }: { job: Job }): JSX.Element {
  const children = usePoll<{ jobs: Job[]; pagination: Pagination }>(`/api/v1/jobs?dependsOn=${job.id}&limit=100`, TERMINAL.has(job.status) ? null : 5000).data;
  const params = Object.entries(job.parameters ?? {});
  return (
    <div>
      <h2>Parameters</h2>
      {params.length ? (
        <table aria-label="Job parameters" class="kv">
          <tbody>
            <KvRows rows={params} />
          </tbody>
        </table>
      ) : (
        <p class="muted">No parameters given (the entry point's defaults apply).</p>
      )}
      <dl class="facts">
        <dt>entryPointKwargs</dt>
        <dd class="mono">{job.entryPointKwargs || '—'}</dd>
        <dt>timeout</dt>
        <dd>{job.timeout}</dd>
        <dt>workflowUri</dt>
        <dd class="mono">{job.workflowUri}</dd>
        <dt>mlflowRunId</dt>
        <dd class="mono">{job.mlflowRunId ?? '—'}</dd>
        <dt>depends on</dt>
        <dd>{job.dependsOn ? <JobLink job={{ id: job.dependsOn }} /> : '—'}</dd>
        <dt>dependents</dt>
        <dd>
          {children?.jobs.length
            ? children.jobs.map((c) => (
                <span key={c.id} class="chip">
                  <JobLink job={c} /> {c.status}
                </span>
              ))
            : '—'}
        </dd>
      </dl>
    </div>
  );
}

function LogsTab({ job }: { job: Job }): JSX.Element {
  const { query } = useLocation();
  return <LogViewer jobId={job.id} terminal={TERMINAL.has(job.status)} anchor={query.get('line')} stream={query.get('stream')} ts={query.get('ts')} />;
}

export function useRun(job: Job, every: number | null): { run: Run | undefined; error: Error | null } {
  const running = !TERMINAL.has(job.status);
  const { data, error } = usePoll<{ run: Run }>(job.mlflowRunId ? `/api/v1/jobs/${job.id}/run` : null, running ? every : null, (d) => d.run.status !== 'RUNNING' && TERMINAL.has(job.status));
  return { run: data?.run, error };
}

interface Loaded {
  steps: number[];
  values: (number | null)[];
  timestamps: number[];
  total: number;
  bucketed: boolean;
}

/**
 * Points asked of the bucketed series: a min and a max per device pixel of the widest chart the window can hold
 * (more cannot be seen; the server's cost is its scan, the transfer and parse are ours), at most 4000.
 */
function bucketPoints(): number {
  return Math.max(500, Math.min(4000, 2 * Math.ceil(window.innerWidth * (window.devicePixelRatio || 1))));
}

let seriesRoute: boolean | null = null;
/** One metric's points: the bucketed v1 series when the server has it, else MLflow's get-history, page by page. */
export async function loadSeries(job: Job, key: string, exact: boolean): Promise<Loaded> {
  if (seriesRoute !== false) {
    try {
      const r = await api<{ steps: number[]; values: (number | string)[]; timestamps: number[]; total: number; bucketed: boolean }>(
        `/api/v1/jobs/${job.id}/series/${key.split('/').map(encodeURIComponent).join('/')}?maxPoints=${exact ? 100000 : bucketPoints()}`,
      );
      seriesRoute = true;
      return { steps: r.steps, values: r.values.map(metricValue), timestamps: r.timestamps, total: r.total, bucketed: r.bucketed };
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 404 || seriesRoute === true) throw e;
      seriesRoute = false;
    }
  }
  const points: { step: number | string; value: number | string; timestamp: number | string }[] = [];
  let token = '';
  do {
    const r = await api<{ metrics?: { step: string; value: number | string; timestamp: string }[]; next_page_token?: string }>(
      `/api/2.0/mlflow/metrics/get-history?run_id=${job.mlflowRunId}&metric_key=${encodeURIComponent(key)}&max_results=25000${token ? `&page_token=${encodeURIComponent(token)}` : ''}`,
    );
    points.push(...(r.metrics ?? []));
    token = r.next_page_token ?? '';
  } while (token);
  const s = toSeries(points);
  return { steps: Array.from(s.steps), values: s.values, timestamps: Array.from(s.timestamps), total: points.length, bucketed: false };
}

function MetricsTab({ job }: { job: Job }): JSX.Element {
  const { query } = useLocation();
  const { run, error } = useRun(job, 2000);
  const keys = Object.keys(run?.metrics ?? {}).sort();
  const chosen = query.get('keys')?.split(',').filter(Boolean) ?? [];
  const shown = chosen.length ? keys.filter((k) => chosen.includes(k)) : keys;
  const x = (query.get('x') ?? 'step') as 'step' | 'relative' | 'wall';
  const logY = query.get('log') === '1';
  const smooth = Number(query.get('smooth') ?? 0) || 0;
  const exact = query.get('exact') === '1';
  // The chart chunk downloads while the run and its series are fetched (it was a third round trip after them).
  useEffect(() => void loadChart().catch(() => undefined), []);
  if (!job.mlflowRunId) return <p class="muted">This job has no run yet: metrics appear once it starts.</p>;
  if (error && !run) return <Alert error={error.message} />;
  if (!run) return <Loading what="metrics" />;
  if (!keys.length) return <p class="muted">The run has logged no metrics{TERMINAL.has(job.status) ? '.' : ' yet.'}</p>;
  return (
    <div>
      <div class="row chart-options">
        <fieldset>
          <legend>Metrics</legend>
          {keys.map((k) => (
            <label key={k} class="check">
              <input
                type="checkbox"
                checked={shown.includes(k)}
                onChange={(e) => {
                  const next = e.currentTarget.checked ? [...shown, k] : shown.filter((s) => s !== k);
                  setQuery({ keys: next.length === keys.length ? null : next.join(',') || keys[0] });
                }}
              />
              {k}
            </label>
          ))}
        </fieldset>
        <label>
          x axis
          <select value={x} onChange={(e) => setQuery({ x: e.currentTarget.value === 'step' ? null : e.currentTarget.value })}>
            <option value="step">step</option>
            <option value="relative">relative time</option>
            <option value="wall">wall time</option>
          </select>
        </label>
        <ViewControls logY={logY} smooth={smooth} />
        <label class="check">
          <input type="checkbox" checked={exact} onChange={(e) => setQuery({ exact: e.currentTarget.checked ? '1' : null })} /> exact (every point)
        </label>
      </div>
      <div class="charts">
        {shown.map((k) => (
          <MetricChart key={k} job={job} name={k} latest={run.metrics[k]} x={x} logY={logY} smooth={smooth} exact={exact} />
        ))}
      </div>
    </div>
  );
}

function MetricChart({ job, name, latest, x, logY, smooth, exact }: { job: Job; name: string; latest: { step: number; timestamp: number }; x: string; logY: boolean; smooth: number; exact: boolean }): JSX.Element {
  const [data, setData] = useState<Loaded | null>(null);
  const [error, setError] = useState<string | null>(null);
  const stamp = `${latest.step}:${latest.timestamp}`;
  // In the commit, not after the paint: the request leaves in the render that shows the tab.
  useLayoutEffect(() => {
    let gone = false;
    loadSeries(job, name, exact)
      .then((d) => !gone && setData(d))
      .catch((e: Error) => !gone && setError(e.message));
    return () => {
      gone = true;
    };
  }, [job.id, name, stamp, exact]);
  const view = useMemo(() => {
    if (!data) return null;
    const t0 = data.timestamps[0] ?? 0;
    const xs = x === 'step' ? data.steps : x === 'relative' ? data.timestamps.map((t) => (t - t0) / 1000) : data.timestamps.map((t) => t / 1000);
    const series = [{ label: name, values: data.values }];
    if (smooth > 0) series.push({ label: `${name} (smoothed)`, values: ema(data.values, smooth) });
    return { xs, series };
  }, [data, x, smooth]);
  if (error) return <Alert error={error} />;
  if (!data || !view) return <Loading what={name} />;
  return <MetricFigure title={name} total={data.total} x={view.xs} series={view.series} logY={logY} xLabel={x === 'step' ? 'step' : x === 'relative' ? 'seconds' : 'time (s)'} sync="job" note={data.bucketed ? 'min/max per bucket' : undefined} />;
}

function ParamsTab({ job }: { job: Job }): JSX.Element {
  const { run, error } = useRun(job, 5000);
  const jobParams = job.parameters ?? {};
  const names = [...new Set([...Object.keys(jobParams), ...Object.keys(run?.params ?? {})])].sort();
  return (
    <div>
      <h2>Parameters</h2>
      <table aria-label="Parameters" class="kv">
        <Head cols={['name', 'job (-P)', 'run']} />
        <tbody>
          {names.map((n) => (
            <tr key={n}>
              <th scope="row">{n}</th>
              <td class="mono">{jobParams[n] ?? ''}</td>
              <td class="mono">{run?.params[n] ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {!names.length && <p class="muted">No parameters.</p>}
      {error && !(error instanceof ApiError && error.status === 404) && <Alert error={error.message} />}
      <h2>Tags</h2>
      {run ? (
        <table aria-label="Tags" class="kv">
          <tbody>
            <KvRows rows={Object.entries(run.tags).sort()} />
          </tbody>
        </table>
      ) : (
        <p class="muted">{job.mlflowRunId ? 'Loading…' : 'No run yet.'}</p>
      )}
    </div>
  );
}

function ArtifactsTab({ job }: { job: Job }): JSX.Element {
  const { run, error } = useRun(job, 5000);
  const act = useAction();
  const [preview, setPreview] = useState<{ path: string; text?: string; image?: string } | null>(null);
  const url = (p: string) => `/api/2.0/mlflow-artifacts/artifacts/${run!.experimentId}/${run!.id}/artifacts/${p.split('/').map(encodeURIComponent).join('/')}`;
  const show = (p: string, size: number) =>
    act.run(async () => {
      if (size > 2 * 1024 * 1024) return download(url(p), p.split('/').pop()!);
      const res = await (await import('../lib/api')).raw(url(p));
      const blob = await res.blob();
      if (/\.(png|jpe?g|gif|webp|svg)$/i.test(p)) setPreview({ path: p, image: URL.createObjectURL(blob.type ? blob : new Blob([blob])) });
      else setPreview({ path: p, text: await blob.text() });
    });
  if (!job.mlflowRunId) return <p class="muted">No run yet.</p>;
  if (error && !run) return <Alert error={error.message} />;
  if (!run) return <Loading what="artifacts" />;
  if (!run.artifacts.length) return <p class="muted">The run has no artifacts.</p>;
  return (
    <div>
      <table aria-label="Artifacts" class="grid">
        <Head cols={['path', 'size', 'actions']} />
        <tbody>
          {run.artifacts.map((a) => (
            <tr key={a.path}>
              <td class="mono">{a.path}</td>
              <td>{bytes(a.size)}</td>
              <td>
                <button type="button" class="small" onClick={() => void show(a.path, a.size)}>
                  Preview {a.path}
                </button>{' '}
                <button type="button" class="small" onClick={() => void act.run(() => download(url(a.path), a.path.split('/').pop()!))}>
                  Download {a.path}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <Alert error={act.error} />
      {preview && (
        <figure class="preview" aria-label={preview.path}>
          <figcaption>{preview.path}</figcaption>
          {preview.image ? <img src={preview.image} alt={preview.path} /> : <pre tabIndex={0}>{preview.text}</pre>}
        </figure>
      )}
    </div>
  );
}

function WorkflowTab({ job }: { job: Job }): JSX.Element {
  const act = useAction();
  const [files, setFiles] = useState<{ name: string; size: number; text?: string }[] | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const ref = useRef(false);
  useEffect(() => {
    if (ref.current) return;
    ref.current = true;
    void act.run(async () => {
      const { readArchive } = await import('../lib/archive');
      const res = await (await import('../lib/api')).raw(`/api/v1/jobs/${job.id}/workflow`);
      setFiles(await readArchive(new Uint8Array(await res.arrayBuffer()), job.workflowUri));
    });
  }, [job.id]);
  const current = files?.find((f) => f.name === open);
  return (
    <div>
      <Alert error={act.error} />
      {!files && !act.error && <Loading what="the workflow" />}
      {files && (
        <div class="split">
          <ul aria-label="Workflow files" class="files">
            {files.map((f) => (
              <li key={f.name}>
                <button type="button" class="link" aria-pressed={open === f.name} onClick={() => setOpen(f.name)}>
                  {f.name}
                </button>{' '}
                <span class="muted">{bytes(f.size)}</span>
              </li>
            ))}
          </ul>
          {current && (
            <figure class="preview" aria-label={current.name}>
              <figcaption>{current.name}</figcaption>
              <pre tabIndex={0}>{current.text ?? '(binary or too large to show)'}</pre>
            </figure>
          )}
        </div>
      )}
    </div>
  );
}
