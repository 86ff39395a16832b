import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Alert, Field } from '../components/common';
import { usePoll } from '../hooks';
import { api, ApiError, raw, type EntryPointSpec, type Experiment, type Job, type Queue } from '../lib/api';
import { shortId, when } from '../lib/format';
import { parseMlproject } from '../lib/mlproject';
import { navigate, useLocation } from '../router';

const TIMEOUT = /^\d+[smhd]?$/;

async function inspect(file: Blob): Promise<EntryPointSpec[] | null> {
  const form = new FormData();
  form.append('workflow', file, (file as File).name ?? 'workflow.tar.gz');
  try {
    const r = await api<{ entryPoints: EntryPointSpec[] }>('/api/v1/workflows/inspect', { method: 'POST', body: form });
    return r.entryPoints;
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 404) throw e;
  }
  // No inspect route on this server: read the MLproject in the browser.
  const { readArchive } = await import('../lib/archive');
  const files = await readArchive(new Uint8Array(await file.arrayBuffer()), (file as File).name ?? '');
  const mlproject = files.filter((f) => f.name.split('/').pop() === 'MLproject');
  if (mlproject.length !== 1 || !mlproject[0].text) return null;
  const eps = parseMlproject(mlproject[0].text);
  return eps.length ? eps : null;
}

export function Submit(): JSX.Element {
  const { query } = useLocation();
  const rerun = query.get('rerun');
  const exps = usePoll<{ experiments: Experiment[] }>('/api/v1/experiments?limit=1000&sortBy=name&archived=false', null).data?.experiments;
  const queues = usePoll<{ queues: Queue[] }>('/api/v1/queues?limit=1000&sortBy=id', null).data?.queues;
  // The depends-on picker's choices: the newest jobs (any id can still be typed or pasted).
  const recent = usePoll<{ jobs: Job[] }>('/api/v1/jobs?limit=50&sortBy=createdAt&orderBy=desc', null).data?.jobs;
  const [experiment, setExperiment] = useState(query.get('experiment') ?? '');
  const [queue, setQueue] = useState(query.get('queue') ?? '');
  const [file, setFile] = useState<Blob | null>(null);
  const [entryPoints, setEntryPoints] = useState<EntryPointSpec[] | null>(null);
  const [inspectError, setInspectError] = useState<string | null>(null);
  const [entryPoint, setEntryPoint] = useState('main');
  const [params, setParams] = useState<Record<string, string>>({});
  const [extra, setExtra] = useState('');
  const [timeout, setTimeoutValue] = useState('24h');
  const [dependsOn, setDependsOn] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [fields, setFields] = useState<Record<string, string[]>>({});
  const [busy, setBusy] = useState(false);
  const [source, setSource] = useState<Job | null>(null);
  useEffect(() => void (document.title = 'Submit job · Alidade'), []);

  // Rerun: prefill from the job; its archive is reused by the server (or re-uploaded when it cannot).
  useEffect(() => {
    if (!rerun) return;
    void api<{ job: Job }>(`/api/v1/jobs/${rerun}`).then(async ({ job }) => {
      setSource(job);
      setExperiment(String(job.experimentId));
      setQueue(String(job.queueId));
      setEntryPoint(job.entryPoint);
      setParams(job.parameters ?? {});
      setTimeoutValue(job.timeout);
      const res = await raw(`/api/v1/jobs/${job.id}/workflow`);
      const blob = await res.blob();
      const named = new File([blob], job.workflowUri.split('/').pop() || 'workflow.tar.gz');
      setFile(named);
      void onArchive(named, job.entryPoint);
    }).catch((e: Error) => setError(e.message));
  }, [rerun]);

  useEffect(() => {
    if (!experiment && exps?.length) setExperiment(String(exps[0].id));
  }, [exps]);
  useEffect(() => {
    const open = queues?.find((q) => !q.locked);
    if (!queue && open) setQueue(String(open.id));
  }, [queues]);

  const onArchive = async (f: Blob | null, keepEntry?: string) => {
    setFile(f);
    setEntryPoints(null);
    setInspectError(null);
    if (!f) return;
    try {
      const eps = await inspect(f);
      setEntryPoints(eps);
      if (eps?.length) {
        const ep = eps.find((e) => e.name === (keepEntry ?? entryPoint)) ?? eps.find((e) => e.name === 'main') ?? eps[0];
        setEntryPoint(ep.name);
        setParams((old) => Object.fromEntries(ep.parameters.map((p) => [p.name, old[p.name] ?? p.default ?? ''])));
      }
    } catch (e) {
      setInspectError((e as Error).message);
    }
  };

  const spec = entryPoints?.find((e) => e.name === entryPoint);
  const check = (): Record<string, string[]> => {
    const out: Record<string, string[]> = {};
    if (!TIMEOUT.test(timeout)) out.timeout = ['a number with an optional unit s, m, h or d (24h)'];
    for (const p of spec?.parameters ?? []) {
      const v = params[p.name] ?? '';
      if (p.required && v === '') out[p.name] = ['required: the entry point gives no default'];
      else if (v !== '' && p.type === 'float' && !Number.isFinite(Number(v))) out[p.name] = ['must be a number (float)'];
      else if (v !== '' && p.type === 'int' && !/^[+-]?\d+$/.test(v.trim())) out[p.name] = ['must be a whole number (int)'];
    }
    if (!file) out.workflow = ['choose an archive: tar, tar.gz/tgz or zip'];
    return out;
  };

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(null);
    const local = check();
    setFields(local);
    if (Object.keys(local).length) return;
    setBusy(true);
    try {
      const parameters: Record<string, string> = {};
      for (const [k, v] of Object.entries(params)) if (v !== '' && (!spec || spec.parameters.some((p) => p.name === k))) parameters[k] = v;
      for (const pair of extra.split('\n')) {
        const i = pair.indexOf('=');
        if (i > 0) parameters[pair.slice(0, i).trim()] = pair.slice(i + 1).trim();
      }
      const form = new FormData();
      form.append('experimentId', experiment);
      form.append('queueId', queue);
      form.append('entryPoint', entryPoint);
      form.append('parameters', JSON.stringify(parameters));
      form.append('timeout', timeout);
      if (dependsOn.trim()) form.append('dependsOn', dependsOn.trim());
      form.append('workflow', file!, (file as File).name ?? 'workflow.tar.gz');
      const r = await api<{ job: Job }>('/api/v1/jobs', { method: 'POST', body: form });
      navigate(`/ui/jobs/${r.job.id}/logs`);
    } catch (err) {
      setError((err as Error).message);
      if (err instanceof ApiError && err.fields) setFields(err.fields);
    } finally {
      setBusy(false);
    }
  };

  const locked = queues?.filter((q) => q.locked) ?? [];
  return (
    <section>
      <h1>{source ? `Rerun job ${source.id.slice(0, 8)}` : 'Submit job'}</h1>
      <form class="card form" onSubmit={submit} noValidate>
        <Field label="Experiment" id="f-exp" error={fields.experimentId ?? fields.experimentName}>
          <select id="f-exp" value={experiment} onChange={(e) => setExperiment(e.currentTarget.value)} required>
            {!exps?.length && <option value="">no experiment: create one first</option>}
            {exps?.map((x) => (
              <option key={x.id} value={String(x.id)}>
                {x.name}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Queue" id="f-queue" error={fields.queueId ?? fields.queue}>
          <select id="f-queue" value={queue} onChange={(e) => setQueue(e.currentTarget.value)} required>
            {queues?.map((q) => (
              <option key={q.id} value={String(q.id)} disabled={q.locked}>
                {q.name}
                {q.locked ? ` (locked since ${when(q.lockedAt)})` : ''}
              </option>
            ))}
          </select>
        </Field>
        {locked.length > 0 && <p class="muted small-text">Locked queues accept no new jobs.</p>}
        <Field label="Workflow archive" id="f-file" error={fields.workflow}>
          <div
            class="drop"
            onDragOver={(e) => e.preventDefault()}
            onDrop={(e) => {
              e.preventDefault();
              const f = e.dataTransfer?.files[0];
              if (f) void onArchive(f);
            }}
          >
            <input id="f-file" type="file" accept=".tar,.tar.gz,.tgz,.zip,application/gzip,application/x-tar,application/zip" onChange={(e) => void onArchive(e.currentTarget.files?.[0] ?? null)} />
            <span class="muted small-text">{file ? `${(file as File).name ?? 'archive'} · ${file.size} bytes` : 'or drop a tar, tar.gz or zip here'}</span>
          </div>
        </Field>
        {inspectError && (
          <p role="alert" class="alert">
            {inspectError}
          </p>
        )}
        <Field label="Entry point" id="f-ep" error={fields.entryPoint}>
          {entryPoints?.length ? (
            <select id="f-ep" value={entryPoint} onChange={(e) => {
              const name = e.currentTarget.value;
              setEntryPoint(name);
              const ep = entryPoints.find((x) => x.name === name);
              setParams(Object.fromEntries((ep?.parameters ?? []).map((p) => [p.name, p.default ?? ''])));
            }}>
              {entryPoints.map((ep) => (
                <option key={ep.name} value={ep.name}>
                  {ep.name}
                </option>
              ))}
            </select>
          ) : (
            <input id="f-ep" role="combobox" aria-expanded="false" aria-autocomplete="none" value={entryPoint} onInput={(e) => setEntryPoint(e.currentTarget.value)} />
          )}
        </Field>
        {spec?.error && (
          <p role="alert" class="alert">
            {spec.error}
          </p>
        )}
        <fieldset class="params" role="group" aria-label="Parameters">
          <legend>Parameters</legend>
          {spec?.parameters.map((p) => (
            <Field key={p.name} label={p.name} id={`p-${p.name}`} error={fields[p.name] ?? fields[`parameters.${p.name}`]}>
              <input
                id={`p-${p.name}`}
                inputMode={p.type === 'float' || p.type === 'int' ? 'decimal' : undefined}
                value={params[p.name] ?? ''}
                placeholder={p.required ? 'required' : ''}
                aria-describedby={`p-${p.name}-t`}
                onInput={(e) => {
                  setParams({ ...params, [p.name]: e.currentTarget.value });
                  // The field's error goes once it is edited; a new submit checks again.
                  if (fields[p.name]) setFields(Object.fromEntries(Object.entries(fields).filter(([k]) => k !== p.name)));
                }}
              />
              <span id={`p-${p.name}-t`} class="muted small-text">
                {p.type}
                {p.default !== null ? `, default ${p.default}` : ', required'}
              </span>
            </Field>
          ))}
          {!spec && (
            <Field label="Parameters as name=value, one a line" id="p-free" error={fields.parameters}>
              <textarea id="p-free" rows={3} value={extra || Object.entries(params).map(([k, v]) => `${k}=${v}`).join('\n')} onInput={(e) => setExtra(e.currentTarget.value)} />
            </Field>
          )}
        </fieldset>
        <Field label="Timeout" id="f-timeout" error={fields.timeout}>
          <input id="f-timeout" value={timeout} pattern="^\d+[smhd]?$" onInput={(e) => setTimeoutValue(e.currentTarget.value)} />
        </Field>
        <Field label="Depends on" id="f-dep" error={fields.dependsOn}>
          <input id="f-dep" list="f-dep-jobs" placeholder="none (or a job id)" aria-describedby="f-dep-t" value={dependsOn} onInput={(e) => setDependsOn(e.currentTarget.value)} />
          <datalist id="f-dep-jobs">
            {recent?.map((j) => (
              <option key={j.id} value={j.id} label={`${shortId(j.id)} · ${j.entryPoint} · ${j.status} · ${j.experimentName}`} />
            ))}
          </datalist>
          <span id="f-dep-t" class="muted small-text">
            {dependsOn && recent?.find((j) => j.id === dependsOn.trim()) ? `runs after ${shortId(dependsOn.trim())} (${recent.find((j) => j.id === dependsOn.trim())!.status}) finishes` : 'the job waits (deferred) until this one finishes'}
          </span>
        </Field>
        <Alert error={error} />
        <button type="submit" class="primary" disabled={busy}>
          Submit job
        </button>
      </form>
    </section>
  );
}
