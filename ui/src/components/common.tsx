import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import type { Job } from '../lib/api';
import { between, shortId, when } from '../lib/format';
import { Link } from '../router';

/** A status word with a coloured dot drawn by CSS, so the element's text is exactly the v1 status. */
export function Status({ status }: { status: string }): JSX.Element {
  return <span class={`st st-${status}`}>{status}</span>;
}

/** The server's refusal, verbatim, next to what caused it. */
export function Alert({ error, fields }: { error: string | null | undefined; fields?: Record<string, string[]> }): JSX.Element | null {
  if (!error) return null;
  const extra = fields ? Object.entries(fields).map(([k, v]) => `${k || '(body)'}: ${v.join(', ')}`) : [];
  return (
    <div role="alert" class="alert">
      {error}
      {extra.length > 0 && (
        <ul>
          {extra.map((t) => (
            <li key={t}>{t}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** A modal confirmation on <dialog> (focus trap and Esc are the browser's). */
export function Confirm(props: { open: boolean; title: string; children?: ComponentChildren; confirm: string; cancel: string; onConfirm: () => void; onClose: () => void; danger?: boolean }): JSX.Element {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) d.showModal();
    if (!props.open && d.open) d.close();
  }, [props.open]);
  return (
    <dialog ref={ref} aria-labelledby="confirm-title" onClose={props.onClose} class="confirm">
      <h2 id="confirm-title">{props.title}</h2>
      {props.children}
      <div class="row">
        <button type="button" class={props.danger ? 'danger' : 'primary'} onClick={props.onConfirm}>
          {props.confirm}
        </button>
        <button type="button" onClick={props.onClose} autofocus>
          {props.cancel}
        </button>
      </div>
    </dialog>
  );
}

export function Loading({ what }: { what: string }): JSX.Element {
  return <p class="muted">Loading {what}…</p>;
}

export function JobLink({ job }: { job: Pick<Job, 'id'> }): JSX.Element {
  return (
    <Link href={`/ui/jobs/${job.id}`} class="mono">
      {shortId(job.id)}
    </Link>
  );
}

/** Age or duration text that a parent re-renders on a tick. */
export function Since({ from, to }: { from: string | null; to?: string | null }): JSX.Element {
  return <span title={when(from)}>{between(from, to)}</span>;
}

export function Field(props: { label: string; id: string; children: ComponentChildren; error?: string[] }): JSX.Element {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      {props.children}
      {props.error && (
        <span class="field-error" role="alert">
          {props.error.join(', ')}
        </span>
      )}
    </div>
  );
}
