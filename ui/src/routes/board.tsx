import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { Alert, Confirm, JobLink, Since, Status } from '../components/common';
import { LogViewer } from '../components/log-viewer';
import { useAction, useDocumentKeys, usePoll, useTick } from '../hooks';
import { api, type Job, type Pagination, type Queue } from '../lib/api';
import { shortId, TERMINAL } from '../lib/format';
import { refresh, refreshAll } from '../lib/poller';
import { fmtNum, metricValue } from '../lib/series';
import { Link, navigate, setQuery, useLocation } from '../router';
import { useMe } from '../session';
import { useJob, useRun } from './job';
import { CountsBar, LockControl, QUEUES } from './queues';

export function Board(): JSX.Element {
  const { query } = useLocation();
  const queueId = query.get('queue');
  const jobId = query.get('job');
  useTick(5000);
  useEffect(() => void (document.title = 'Lab board · Alidade'), []);
  const queues = usePoll<{ queues: Queue[] }>(QUEUES, 5000);
  const activeKey = `/api/v1/jobs?status=queued&status=deferred&status=started&sortBy=createdAt&orderBy=asc&limit=200${queueId ? `&queueId=${queueId}` : ''}`;
  const active = usePoll<{ jobs: Job[]; pagination: Pagination }>(activeKey, 2000);
  const workers = usePoll<{ workers: { host: string; queues: string[] | null }[] }>('/api/v1/workers', 10_000).data?.workers;
  const served = (name: string) => !workers || workers.some((w) => w.queues === null || w.queues.includes(name));
  const [lockError, setLockError] = useState<string | null>(null);
  const [cursor, setCursor] = useState(0);
  const list = active.data?.jobs ?? [];
  const qs = queues.data?.queues ?? [];
  const byId = new Map(qs.map((q) => [q.id, q]));
  // Position among the queued jobs of the same queue, by createdAt (the list is sorted by it).
  const position = new Map<string, number>();
  const seen = new Map<number, number>();
  for (const j of list)
    if (j.status === 'queued') {
      const n = (seen.get(j.queueId) ?? 0) + 1;
      seen.set(j.queueId, n);
      position.set(j.id, n);
    }
  const parents = new Map(list.map((j) => [j.id, j]));
  // Asks the job panel to open its cancel confirmation (the `c` key); a counter, so each press asks again.
  const [cancelAsk, setCancelAsk] = useState(0);
  const onKey = (e: KeyboardEvent) => {
    if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || (e.target as HTMLElement).closest('input, select, button, textarea, dialog[open], [role=log]')) return;
    if (e.key === 'j' || e.key === 'k') {
      e.preventDefault();
      const c = Math.max(0, Math.min(list.length - 1, cursor + (e.key === 'j' ? 1 : -1)));
      setCursor(c);
      if (list[c]) setQuery({ job: list[c].id });
    } else if (e.key === 'Enter' && list[cursor] && !(e.target as HTMLElement).closest('a')) navigate(`/ui/jobs/${list[cursor].id}`);
    else if (e.key === 'c' && jobId) {
      e.preventDefault();
      setCancelAsk((n) => n + 1);
    }
  };
  // The board's keys work wherever the focus is (outside fields, links and buttons), as on the Jobs page.
  useDocumentKeys(onKey);
  return (
    <section class="board">
      <h1 class="sr-only">Lab board</h1>
      <div class="col queues-col">
        <h2>Queues</h2>
        <Alert error={queues.error?.message} />
        <Alert error={lockError} />
        <ul class="cards" aria-label="Queues">
          <li class={!queueId ? 'active' : undefined}>
            <Link href="/ui/" aria-current={!queueId ? 'true' : undefined}>
              All queues
            </Link>
          </li>
          {qs.map((q) => (
            <li key={q.id} class={queueId === String(q.id) ? 'active' : undefined}>
              <div class="row">
                <Link href={`/ui/?queue=${q.id}`} aria-current={queueId === String(q.id) ? 'true' : undefined}>
                  {q.name}
                </Link>
                <span class="spacer" />
                <LockControl queue={q} onError={setLockError} />
              </div>
              {q.locked && q.lockedAt && (
                <span class="muted small-text">
                  locked <Since from={q.lockedAt} /> ago
                </span>
              )}
              <div class="counts">
                <span>{q.jobCounts.queued} queued</span> <span>{q.jobCounts.deferred} deferred</span> <span>{q.jobCounts.started} started</span>
              </div>
              <CountsBar c={q.jobCounts} />
              {!served(q.name) && <div class="small-text warn-text">no worker serves this queue</div>}
            </li>
          ))}
        </ul>
      </div>
      <div class="col jobs-col">
        <h2>Active jobs{queueId && byId.get(Number(queueId)) ? ` on ${byId.get(Number(queueId))!.name}` : ''}</h2>
        <Alert error={active.error?.message} />
        {active.data && !list.length && <p class="empty">No active jobs.</p>}
        <ul class="cards" aria-label="Active jobs">
          {list.map((j, i) => {
            const q = byId.get(j.queueId);
            const parent = j.dependsOn ? parents.get(j.dependsOn) : undefined;
            return (
              <li key={j.id} class={`${jobId === j.id ? 'active' : ''}${i === cursor ? ' cursor' : ''}`}>
                <div class="row">
                  <Status status={j.status} />
                  <Link href={`/ui/?${new URLSearchParams({ ...(queueId ? { queue: queueId } : {}), job: j.id })}`} class="mono" aria-label={`Show ${shortId(j.id)}`}>
                    {shortId(j.id)}
                  </Link>
                  <span class="muted">
                    <Since from={j.createdAt} />
                  </span>
                </div>
                <div class="muted small-text">
                  {j.experimentName} · {j.entryPoint} · {j.username}
                </div>
                {j.status === 'queued' && (
                  <div class="small-text">
                    position {position.get(j.id)} on {j.queueName}
                    {q?.locked ? ' · queue locked: jobs already queued still run' : ''}
                  </div>
                )}
                {j.status === 'deferred' && j.dependsOn && (
                  <div class="small-text">
                    waiting on <JobLink job={{ id: j.dependsOn }} />
                    {parent?.startedAt ? (
                      <>
                        {' '}
                        (started <Since from={parent.startedAt} /> ago)
                      </>
                    ) : parent ? ` (${parent.status})` : ''}
                  </div>
                )}
              </li>
            );
          })}
        </ul>
      </div>
      <div class="col panel-col">{jobId ? <JobPanel id={jobId} cancelAsk={cancelAsk} /> : <p class="muted">Select a job to see its log and metrics here.</p>}</div>
    </section>
  );
}

function JobPanel({ id, cancelAsk }: { id: string; cancelAsk: number }): JSX.Element {
  const { job, error } = useJob(id);
  const { me } = useMe();
  const [confirm, setConfirm] = useState(false);
  const act = useAction();
  const terminal = job ? TERMINAL.has(job.status) : true;
  const mayCancel = !!job && !terminal && (me?.admin || me?.username === job.username);
  // `c` on the board: the same confirmation as the button, only when the button is there.
  const asked = useRef(cancelAsk);
  useEffect(() => {
    if (cancelAsk !== asked.current && mayCancel) setConfirm(true);
    asked.current = cancelAsk;
  }, [cancelAsk]);
  if (error && !job) return <Alert error={error.message} />;
  if (!job) return <p class="muted">Loading…</p>;
  return (
    <div>
      <h2>
        Job <JobLink job={job} /> <Status status={job.status} />
      </h2>
      <ol class="timeline" aria-label="Timeline">
        <li>created {new Date(job.createdAt).toLocaleTimeString()}</li>
        <li>{job.startedAt ? <>started after <Since from={job.createdAt} to={job.startedAt} /></> : 'not started'}</li>
        <li>{job.endedAt ? <>ended after <Since from={job.startedAt ?? job.createdAt} to={job.endedAt} /> ({job.status}{job.failureReason ? `: ${job.failureReason}` : ''})</> : job.startedAt ? <>running for <Since from={job.startedAt} /></> : ''}</li>
      </ol>
      <div class="row">
        {mayCancel && (
          <button type="button" class="danger" onClick={() => setConfirm(true)}>
            Cancel job
          </button>
        )}
        <Link class="button" href={`/ui/jobs/${job.id}`}>
          Open
        </Link>
        <Link class="button" href={`/ui/jobs/new?rerun=${job.id}`}>
          Rerun
        </Link>
      </div>
      <Alert error={act.error} />
      <LogViewer key={job.id} jobId={job.id} terminal={terminal} compact />
      {job.mlflowRunId && <LatestMetrics job={job} />}
      <Confirm
        open={confirm}
        title={`Cancel job ${shortId(job.id)}?`}
        confirm="Cancel job"
        cancel="Keep running"
        danger
        onClose={() => setConfirm(false)}
        onConfirm={() => {
          setConfirm(false);
          void act.run(async () => {
            await api(`/api/v1/jobs/${job.id}/cancel`, { method: 'POST' });
            await refresh(`/api/v1/jobs/${job.id}`);
            refreshAll('/api/v1/jobs?');
          });
        }}
      />
    </div>
  );
}

function LatestMetrics({ job }: { job: Job }): JSX.Element | null {
  const { run } = useRun(job, 2000);
  const keys = Object.keys(run?.metrics ?? {}).sort().slice(0, 4);
  if (!keys.length) return null;
  return (
    <table aria-label="Latest metrics" class="kv">
      <tbody>
        {keys.map((k) => {
          const m = run!.metrics[k];
          const v = metricValue(m.value);
          return (
            <tr key={k}>
              <th scope="row">
                <Link href={`/ui/jobs/${job.id}/metrics?keys=${encodeURIComponent(k)}`}>{k}</Link>
              </th>
              <td>{v === null ? String(m.value) : fmtNum(v)}</td>
              <td class="muted">step {m.step}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
