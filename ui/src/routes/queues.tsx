import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Alert, Confirm, Head, Since } from '../components/common';
import { useAction, usePoll } from '../hooks';
import { api, type Queue } from '../lib/api';
import { refresh } from '../lib/poller';
import { Link } from '../router';
import { useMe } from '../session';

export const QUEUES = '/api/v1/queues?limit=1000&sortBy=id';

/** Admins: a switch per queue. Everyone else: the words. The server decides either way. */
export function LockControl({ queue, onError }: { queue: Queue; onError: (m: string | null) => void }): JSX.Element {
  const { me } = useMe();
  const [busy, setBusy] = useState(false);
  if (!me?.admin) return <span class={queue.locked ? 'badge locked' : 'badge'}>{queue.locked ? 'Locked' : 'Unlocked'}</span>;
  const flip = async () => {
    if (busy) return;
    setBusy(true);
    onError(null);
    try {
      await api(`/api/v1/queues/${queue.id}/lock`, { method: queue.locked ? 'DELETE' : 'PUT' });
    } catch (e) {
      onError((e as Error).message);
    } finally {
      await refresh(QUEUES);
      setBusy(false);
    }
  };
  // Busy is aria-disabled, not disabled: a disabled button loses the keyboard focus, and Space could not flip it back.
  return (
    <button type="button" role="switch" aria-checked={queue.locked} aria-label={`Lock ${queue.name}`} class="switch" aria-disabled={busy || undefined} onClick={() => void flip()}>
      <span class="knob" aria-hidden="true" />
      <span aria-hidden="true">{queue.locked ? 'Locked' : 'Unlocked'}</span>
    </button>
  );
}

export function CountsBar({ c }: { c: Queue['jobCounts'] }): JSX.Element {
  const total = c.queued + c.deferred + c.started || 1;
  return (
    <span class="bar" aria-hidden="true">
      <span class="b-started" style={{ width: `${(100 * c.started) / total}%` }} />
      <span class="b-queued" style={{ width: `${(100 * c.queued) / total}%` }} />
      <span class="b-deferred" style={{ width: `${(100 * c.deferred) / total}%` }} />
    </span>
  );
}

export function Queues({ focus }: { focus: number | null }): JSX.Element {
  const { me } = useMe();
  const { data, error } = usePoll<{ queues: Queue[] }>(QUEUES, 5000);
  const [lockError, setLockError] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [del, setDel] = useState<Queue | null>(null);
  const create = useAction();
  const remove = useAction();
  useEffect(() => void (document.title = 'Queues · Alidade'), []);
  const queues = data?.queues ?? [];
  return (
    <section>
      <h1>Queues</h1>
      <Alert error={error?.message} />
      <Alert error={lockError} />
      <Alert error={remove.error} />
      <table aria-label="Queues" class="grid">
        <Head cols={['name', 'lock', 'locked since', 'queued', 'deferred', 'started', 'load', 'description', me?.admin && 'actions']} />
        <tbody>
          {queues.map((q) => (
            <tr key={q.id} class={focus === q.id ? 'cursor' : undefined}>
              <td>
                <Link href={`/ui/jobs?queue=${q.id}`}>{q.name}</Link>
              </td>
              <td>
                <LockControl queue={q} onError={setLockError} />
              </td>
              <td>{q.lockedAt ? <Since from={q.lockedAt} /> : ''}</td>
              <td>{q.jobCounts.queued}</td>
              <td>{q.jobCounts.deferred}</td>
              <td>{q.jobCounts.started}</td>
              <td>
                <CountsBar c={q.jobCounts} />
              </td>
              <td>{q.description ?? ''}</td>
              {me?.admin && (
                <td>
                  <button type="button" class="small" onClick={() => setDel(q)}>
                    Delete {q.name}
                  </button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
      {data && !queues.length && <p class="empty">No queues yet.</p>}
      {me?.admin && (
        <form
          class="card inline"
          onSubmit={(e) => {
            e.preventDefault();
            void create.run(async () => {
              await api('/api/v1/queues', { method: 'POST', json: { name, ...(description ? { description } : {}) } });
              setName('');
              setDescription('');
              await refresh(QUEUES);
            });
          }}
        >
          <h2>New queue</h2>
          <label>
            Queue name <input required value={name} onInput={(e) => setName(e.currentTarget.value)} />
          </label>
          <label>
            Queue description <input value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
          </label>
          <button type="submit" disabled={create.busy}>
            Create queue
          </button>
          <Alert error={create.error} fields={create.fields} />
        </form>
      )}
      <Confirm
        open={del !== null}
        title={`Delete queue ${del?.name ?? ''}?`}
        confirm="Delete queue"
        cancel="Keep queue"
        danger
        onClose={() => setDel(null)}
        onConfirm={() => {
          const q = del!;
          setDel(null);
          void remove.run(async () => {
            await api(`/api/v1/queues/${q.id}`, { method: 'DELETE' });
            await refresh(QUEUES);
          });
        }}
      >
        <p>The server refuses while jobs are queued, deferred or started on it.</p>
      </Confirm>
    </section>
  );
}
