import type { JSX } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { MetricFigure, ViewControls } from '../components/chart';
import { Alert, JobLink, Loading, Status } from '../components/common';
import { api, type Job, type Run } from '../lib/api';
import { shortId, TERMINAL } from '../lib/format';
import { ema, fmtNum, metricValue } from '../lib/series';
import { navigate, setQuery, useLocation } from '../router';
import { loadSeries } from './job';

interface Entry {
  job: Job;
  run: Run | null;
}

export function Compare(): JSX.Element {
  const { query } = useLocation();
  const ids = (query.get('jobs') ?? '').split(',').filter(Boolean);
  const diff = query.get('diff') !== '0';
  const smooth = Number(query.get('smooth') ?? 0) || 0;
  const logY = query.get('log') === '1';
  // Series hidden from the charts, by job short id (MLflow's deselected_curves): in the URL, kept by a reload.
  const hidden = (query.get('hidden') ?? '').split(',').filter(Boolean);
  const setShown = (label: string, show: boolean) => {
    const next = show ? hidden.filter((h) => h !== label) : [...new Set([...hidden, label])];
    setQuery({ hidden: next.length ? next.join(',') : null });
  };
  const [entries, setEntries] = useState<Entry[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => void (document.title = 'Compare · Alidade'), []);
  useEffect(() => {
    let gone = false;
    Promise.all(
      ids.map(async (id) => {
        const { job } = await api<{ job: Job }>(`/api/v1/jobs/${id}`);
        const run = job.mlflowRunId ? await api<{ run: Run }>(`/api/v1/jobs/${id}/run`).then((r) => r.run).catch(() => null) : null;
        return { job, run };
      }),
    )
      .then((e) => !gone && setEntries(e))
      .catch((e: Error) => !gone && setError(e.message));
    return () => {
      gone = true;
    };
  }, [ids.join(), tick]);
  // While any job runs: refresh every 5 s (only while the tab is visible).
  useEffect(() => {
    if (!entries?.some((e) => !TERMINAL.has(e.job.status))) return;
    const t = setInterval(() => document.visibilityState !== 'hidden' && setTick((n) => n + 1), 5000);
    return () => clearInterval(t);
  }, [entries]);
  const keys = useMemo(() => [...new Set((entries ?? []).flatMap((e) => Object.keys(e.run?.metrics ?? {})))].sort(), [entries]);
  const metrics = (query.get('metrics') ?? '').split(',').filter(Boolean);
  const shown = metrics.length ? metrics.filter((m) => keys.includes(m)) : keys.slice(0, 4);
  if (!ids.length) return <section><h1>Compare</h1><p class="muted">Select jobs on the Jobs page and press Compare.</p></section>;
  if (error) return <Alert error={error} />;
  if (!entries) return <Loading what="the jobs" />;
  const names = [...new Set(entries.flatMap((e) => [...Object.keys(e.job.parameters ?? {}), ...Object.keys(e.run?.params ?? {})]))].sort();
  const valueOf = (e: Entry, n: string) => e.job.parameters?.[n] ?? e.run?.params[n] ?? '';
  const rows = names.filter((n) => !diff || new Set(entries.map((e) => valueOf(e, n))).size > 1);
  return (
    <section>
      <h1>Compare {entries.length} jobs</h1>
      <div class="row">
        <label class="check">
          <input type="checkbox" checked={diff} onChange={(e) => setQuery({ diff: e.currentTarget.checked ? null : '0' })} /> Only differences
        </label>
        <ViewControls logY={logY} smooth={smooth} />
      </div>
      <table aria-label="Compared parameters" class="grid">
        <thead>
          <tr>
            <th scope="col">parameter</th>
            {entries.map((e) => (
              <th scope="col" key={e.job.id}>
                <JobLink job={e.job} /> <Status status={e.job.status} />
                <button type="button" class="small" aria-label={`Remove ${shortId(e.job.id)}`} onClick={() => navigate(`/ui/compare?jobs=${ids.filter((i) => i !== e.job.id).join(',')}`, true)}>
                  ×
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((n) => (
            <tr key={n}>
              <th scope="row">{n}</th>
              {entries.map((e) => (
                <td key={e.job.id} class="mono">
                  {valueOf(e, n)}
                </td>
              ))}
            </tr>
          ))}
          {keys.map((k) => (
            <tr key={`m-${k}`}>
              <th scope="row">{k} (last)</th>
              {entries.map((e) => {
                const m = e.run?.metrics[k];
                const v = m ? metricValue(m.value) : null;
                return <td key={e.job.id}>{m ? (v === null ? String(m.value) : fmtNum(v)) : ''}</td>;
              })}
            </tr>
          ))}
        </tbody>
      </table>
      {!rows.length && <p class="muted">{diff ? 'No parameter differs.' : 'No parameters.'}</p>}
      <fieldset>
        <legend>Charts</legend>
        {keys.map((k) => (
          <label class="check" key={k}>
            <input type="checkbox" checked={shown.includes(k)} onChange={(e) => setQuery({ metrics: (e.currentTarget.checked ? [...shown, k] : shown.filter((x) => x !== k)).join(',') || null })} /> {k}
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Series</legend>
        {entries.map((e) => (
          <label class="check" key={e.job.id}>
            <input type="checkbox" checked={!hidden.includes(shortId(e.job.id))} onChange={(ev) => setShown(shortId(e.job.id), ev.currentTarget.checked)} /> Show {shortId(e.job.id)}
          </label>
        ))}
      </fieldset>
      <div class="charts">
        {shown.map((k) => (
          <CompareChart key={k} name={k} entries={entries.filter((e) => e.run?.metrics[k])} smooth={smooth} logY={logY} hidden={hidden} onToggle={setShown} />
        ))}
      </div>
    </section>
  );
}

/** One key, one series per job, aligned on the union of their steps (gaps where a job has no point). */
function CompareChart({ name, entries, smooth, logY, hidden, onToggle }: { name: string; entries: Entry[]; smooth: number; logY: boolean; hidden: string[]; onToggle: (label: string, show: boolean) => void }): JSX.Element {
  const [data, setData] = useState<{ x: number[]; series: { label: string; values: (number | null)[] }[]; total: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let gone = false;
    Promise.all(entries.map((e) => loadSeries(e.job, name, false).then((s) => ({ e, s }))))
      .then((all) => {
        const steps = [...new Set(all.flatMap(({ s }) => s.steps))].sort((a, b) => a - b);
        const at = new Map(steps.map((s, i) => [s, i]));
        const series = all.map(({ e, s }) => {
          const vals: (number | null)[] = new Array(steps.length).fill(null);
          s.steps.forEach((st, i) => (vals[at.get(st)!] = s.values[i]));
          return { label: shortId(e.job.id), values: smooth > 0 ? ema(vals, smooth) : vals };
        });
        if (!gone) setData({ x: steps, series, total: all.reduce((n, { s }) => n + s.total, 0) });
      })
      .catch((e: Error) => !gone && setError(e.message));
    return () => {
      gone = true;
    };
  }, [name, entries.map((e) => e.job.id + (e.run?.metrics[name]?.step ?? '')).join(), smooth]);
  if (error) return <Alert error={error} />;
  if (!data) return <Loading what={name} />;
  return <MetricFigure title={name} total={data.total} x={data.x} series={data.series} logY={logY} sync="compare" hidden={hidden} onToggle={onToggle} />;
}

/** /ui/runs/:runId → the job whose run it is (tag alidade.jobId), else a plain run page. */
export function RunRedirect({ runId }: { runId: string }): JSX.Element {
  const [run, setRun] = useState<{ info: { run_id: string; experiment_id: string; status: string }; data: { tags?: { key: string; value: string }[]; metrics?: { key: string; value: number | string; step: string }[]; params?: { key: string; value: string }[] } } | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    api<{ run: NonNullable<typeof run> }>(`/api/2.0/mlflow/runs/get?run_id=${encodeURIComponent(runId)}`)
      .then(({ run: r }) => {
        const job = r.data.tags?.find((t) => t.key === 'alidade.jobId')?.value;
        if (job) navigate(`/ui/jobs/${job}`, true);
        else setRun(r);
      })
      .catch((e: Error) => setError(e.message));
  }, [runId]);
  if (error) return <Alert error={error} />;
  if (!run) return <Loading what="the run" />;
  return (
    <section>
      <h1>Run {runId.slice(0, 8)}</h1>
      <p>
        Status {run.info.status}, experiment {run.info.experiment_id}. This run was not made by a job (a notebook or script logged it).
      </p>
      <table aria-label="Run metrics" class="kv">
        <tbody>
          {(run.data.metrics ?? []).map((m) => (
            <tr key={m.key}>
              <th scope="row">{m.key}</th>
              <td>{String(m.value)}</td>
              <td class="muted">step {m.step}</td>
            </tr>
          ))}
          {(run.data.params ?? []).map((p) => (
            <tr key={`p-${p.key}`}>
              <th scope="row">{p.key}</th>
              <td class="mono">{p.value}</td>
              <td class="muted">param</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
