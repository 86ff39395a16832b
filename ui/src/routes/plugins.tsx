import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Alert, Confirm, Loading } from '../components/common';
import { useAction, usePoll } from '../hooks';
import { api, raw, type Plugin } from '../lib/api';
import { when } from '../lib/format';
import { refresh } from '../lib/poller';
import { Link, navigate, setQuery, useLocation } from '../router';
import { useMe } from '../session';

const KEY = '/api/v1/task-plugins?limit=1000';

export function Plugins(): JSX.Element {
  const { data, error } = usePoll<{ taskPlugins: Plugin[] }>(KEY, null);
  const [name, setName] = useState('');
  const [file, setFile] = useState<File | null>(null);
  const up = useAction();
  useEffect(() => void (document.title = 'Plugins · Alidade'), []);
  const list = data?.taskPlugins ?? [];
  return (
    <section>
      <h1>Task plugins</h1>
      <Alert error={error?.message} />
      <table aria-label="Task plugins" class="grid">
        <thead>
          <tr>
            <th scope="col">collection</th>
            <th scope="col">name</th>
            <th scope="col">modules</th>
            <th scope="col">owner</th>
            <th scope="col">created</th>
          </tr>
        </thead>
        <tbody>
          {list.map((p) => (
            <tr key={`${p.collection}/${p.name}`}>
              <td>{p.collection}</td>
              <td>
                <Link href={`/ui/plugins/${p.collection}/${p.name}`}>{p.name}</Link>
              </td>
              <td class="mono">{p.modules.join(', ')}</td>
              <td>{p.username ?? ''}</td>
              <td>{when(p.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {!data && !error && <Loading what="plugins" />}
      <form
        class="card inline"
        onSubmit={(e) => {
          e.preventDefault();
          void up.run(async () => {
            const form = new FormData();
            form.append('name', name);
            form.append('file', file!, file!.name);
            await api('/api/v1/task-plugins', { method: 'POST', body: form });
            setName('');
            await refresh(KEY);
          });
        }}
      >
        <h2>Upload a custom plugin</h2>
        <label>
          Plugin name <input required value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          Plugin archive <input type="file" required accept=".tar,.tar.gz,.tgz,.zip" onChange={(e) => setFile(e.currentTarget.files?.[0] ?? null)} />
        </label>
        <button type="submit" disabled={up.busy || !file}>
          Upload plugin
        </button>
        <Alert error={up.error} fields={up.fields} />
      </form>
    </section>
  );
}

export function PluginPage({ collection, name }: { collection: string; name: string }): JSX.Element {
  const { query } = useLocation();
  const { me } = useMe();
  const { data, error } = usePoll<{ taskPlugin: Plugin }>(`/api/v1/task-plugins/${collection}/${name}`, null);
  const file = query.get('file') ?? data?.taskPlugin.modules[0] ?? null;
  const [source, setSource] = useState<string | null>(null);
  const [confirm, setConfirm] = useState(false);
  const del = useAction();
  useEffect(() => {
    if (!file) return;
    setSource(null);
    void raw(`/api/v1/task-plugins/${collection}/${name}/files/${encodeURIComponent(file)}`)
      .then((r) => r.text())
      .then(setSource)
      .catch((e: Error) => setSource(`(${e.message})`));
  }, [collection, name, file]);
  if (error) return <Alert error={error.message} />;
  if (!data) return <Loading what="the plugin" />;
  const p = data.taskPlugin;
  const mayDelete = p.collection === 'dioptra_custom' && (me?.admin || me?.username === p.username);
  return (
    <section>
      <div class="head">
        <h1>
          {p.collection}/{p.name}
        </h1>
        <span class="spacer" />
        {mayDelete && (
          <button type="button" class="danger" onClick={() => setConfirm(true)}>
            Delete plugin
          </button>
        )}
      </div>
      <Alert error={del.error} />
      <div class="split">
        <ul aria-label="Plugin files" class="files">
          {p.modules.map((m) => (
            <li key={m}>
              <a href={`?file=${encodeURIComponent(m)}`} aria-current={m === file ? 'true' : undefined} onClick={(e) => (e.preventDefault(), setQuery({ file: m }))}>
                {m}
              </a>
            </li>
          ))}
        </ul>
        <figure class="preview" aria-label={file ?? 'source'}>
          <figcaption>{file}</figcaption>
          <pre tabIndex={0}>{source ?? 'Loading…'}</pre>
        </figure>
      </div>
      <Confirm
        open={confirm}
        title={`Delete plugin ${p.name}?`}
        confirm="Delete plugin"
        cancel="Keep plugin"
        danger
        onClose={() => setConfirm(false)}
        onConfirm={() => {
          setConfirm(false);
          void del.run(async () => {
            await api(`/api/v1/task-plugins/dioptra_custom/${p.name}`, { method: 'DELETE' });
            await refresh(KEY);
            navigate('/ui/plugins');
          });
        }}
      />
    </section>
  );
}
