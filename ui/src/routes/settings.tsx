import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { Alert, Confirm, Head, Loading } from '../components/common';
import { useAction, usePoll } from '../hooks';
import { api, type Token, type User } from '../lib/api';
import { when } from '../lib/format';
import { refresh } from '../lib/poller';
import { Link, setQuery, useLocation } from '../router';
import { setMe, useMe } from '../session';

const TOKENS = '/api/v1/tokens?limit=1000';
const LIFESPANS = ['1d', '7d', '30d', '90d', '365d'];

function SettingsNav(): JSX.Element {
  return (
    <nav aria-label="Settings" class="subnav">
      <Link href="/ui/settings/tokens">Access tokens</Link>
      <Link href="/ui/settings/profile">Profile</Link>
    </nav>
  );
}

export function Tokens(): JSX.Element {
  const { me } = useMe();
  const { data, error } = usePoll<{ tokens: Token[] }>(TOKENS, null);
  const [description, setDescription] = useState('');
  const [lifespan, setLifespan] = useState('30d');
  const [created, setCreated] = useState<string | null>(null);
  const [copied, setCopied] = useState(false);
  const [revoke, setRevoke] = useState<Token | null>(null);
  const create = useAction();
  const rev = useAction();
  useEffect(() => void (document.title = 'Tokens · Alidade'), []);
  const tokens = (data?.tokens ?? []).filter((t) => !t.revokedAt);
  return (
    <section>
      <h1>Access tokens</h1>
      <SettingsNav />
      <p class="muted">For scripts and the mlflow client (MLFLOW_TRACKING_TOKEN). A token is shown once, when it is made.</p>
      <form
        class="card inline"
        onSubmit={(e) => {
          e.preventDefault();
          void create.run(async () => {
            const r = await api<{ token: string }>('/api/v1/tokens', { method: 'POST', json: { lifespan, ...(description ? { description } : {}) } });
            setCreated(r.token);
            setCopied(false);
            setDescription('');
            await refresh(TOKENS);
          });
        }}
      >
        <label for="tok-desc">Description</label>
        <input id="tok-desc" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        <label for="tok-life">Lifespan</label>
        <select id="tok-life" value={lifespan} onChange={(e) => setLifespan(e.currentTarget.value)}>
          {LIFESPANS.map((l) => (
            <option key={l} value={l}>
              {l}
            </option>
          ))}
        </select>
        <button type="submit" class="primary" disabled={create.busy}>
          Create token
        </button>
        <Alert error={create.error} fields={create.fields} />
      </form>
      {created && (
        <div class="card inline">
          <label for="tok-new">New token</label>
          <input id="tok-new" readOnly value={created} size={60} class="mono" onFocus={(e) => e.currentTarget.select()} />
          <button
            type="button"
            onClick={() =>
              void navigator.clipboard
                ?.writeText(created)
                .then(() => setCopied(true))
                .catch(() => setCopied(false))
            }
          >
            Copy
          </button>
          <span role="status">{copied ? 'Copied.' : 'Copy it now: it is not shown again.'}</span>
        </div>
      )}
      <Alert error={error?.message} />
      <Alert error={rev.error} />
      <table aria-label="Access tokens" class="grid">
        <Head cols={['description', me?.admin && 'user', 'created', 'expires', 'last used', 'actions']} />
        <tbody>
          {tokens.map((t) => (
            <tr key={t.id}>
              <td>{t.description || `token ${t.id}`}</td>
              {me?.admin && <td>{t.userId}</td>}
              <td>{when(t.createdAt)}</td>
              <td>{when(t.expiresAt)}</td>
              <td>{when(t.lastUsedAt) || 'never'}</td>
              <td>
                <button type="button" class="small" onClick={() => setRevoke(t)}>
                  Revoke {t.description || `token ${t.id}`}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {data && !tokens.length && <p class="empty">No access tokens.</p>}
      <Confirm
        open={revoke !== null}
        title={`Revoke ${revoke?.description || `token ${revoke?.id ?? ''}`}?`}
        confirm="Revoke token"
        cancel="Keep token"
        danger
        onClose={() => setRevoke(null)}
        onConfirm={() => {
          const t = revoke!;
          setRevoke(null);
          void rev.run(async () => {
            await api(`/api/v1/tokens/${t.id}`, { method: 'DELETE' });
            await refresh(TOKENS);
          });
        }}
      >
        <p>Scripts using it get 401 from now on.</p>
      </Confirm>
    </section>
  );
}

export function Profile(): JSX.Element {
  const { me } = useMe();
  const [displayName, setDisplayName] = useState(me?.displayName ?? '');
  const [oldPassword, setOld] = useState('');
  const [password, setPassword] = useState('');
  const [done, setDone] = useState<string | null>(null);
  const save = useAction();
  const pw = useAction();
  useEffect(() => void (document.title = 'Profile · Alidade'), []);
  if (!me) return <Loading what="your profile" />;
  return (
    <section>
      <h1>Profile</h1>
      <SettingsNav />
      <p>
        {me.username}
        {me.admin ? ' · admin' : ''} · since {when(me.createdAt)}
      </p>
      <form
        class="card inline"
        onSubmit={(e) => {
          e.preventDefault();
          void save.run(async () => {
            const r = await api<{ user: User }>(`/api/v1/users/${me.id}`, { method: 'PATCH', json: { displayName } });
            setMe(r.user);
            setDone('Saved.');
          });
        }}
      >
        <label for="pf-name">Display name</label>
        <input id="pf-name" value={displayName} onInput={(e) => setDisplayName(e.currentTarget.value)} />
        <button type="submit">Save</button>
        <Alert error={save.error} fields={save.fields} />
      </form>
      <form
        class="card inline"
        onSubmit={(e) => {
          e.preventDefault();
          void pw.run(async () => {
            await api(`/api/v1/users/${me.id}/password`, { method: 'POST', json: { password, oldPassword } });
            setDone('Password changed: your other sessions must log in again.');
            setOld('');
            setPassword('');
          });
        }}
      >
        <h2>Change password</h2>
        <label for="pf-old">Current password</label>
        <input id="pf-old" type="password" autocomplete="current-password" value={oldPassword} onInput={(e) => setOld(e.currentTarget.value)} />
        <label for="pf-new">New password</label>
        <input id="pf-new" type="password" autocomplete="new-password" minLength={8} value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        <button type="submit">Change password</button>
        <Alert error={pw.error} fields={pw.fields} />
      </form>
      {done && <p role="status">{done}</p>}
    </section>
  );
}

export function Users(): JSX.Element {
  const { me } = useMe();
  // Filters in the URL (?name=&admin=&active=), as every list's.
  const { query } = useLocation();
  const q = query.get('name') ?? '';
  const adminFilter = query.get('admin') ?? '';
  const activeFilter = query.get('active') ?? '';
  const [qText, setQText] = useState(q);
  useEffect(() => setQText(q), [q]);
  const filter = new URLSearchParams({ limit: '1000', sortBy: 'username' });
  if (q) filter.set('name', q);
  if (adminFilter === 'true' || adminFilter === 'false') filter.set('admin', adminFilter);
  if (activeFilter === 'true' || activeFilter === 'false') filter.set('active', activeFilter);
  const key = `/api/v1/users?${filter}`;
  const { data, error } = usePoll<{ users: User[] }>(me?.admin ? key : null, null);
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [admin, setAdmin] = useState(false);
  const [deactivate, setDeactivate] = useState<User | null>(null);
  const [reset, setReset] = useState<{ user: User; password: string } | null>(null);
  const create = useAction();
  const act = useAction();
  useEffect(() => void (document.title = 'Users · Alidade'), []);
  if (!me) return <Loading what="users" />;
  if (!me.admin) return <Alert error="Only admins manage users." />;
  const patch = (u: User, body: Partial<User>) =>
    act.run(async () => {
      await api(`/api/v1/users/${u.id}`, { method: 'PATCH', json: body });
      await refresh(key);
    });
  return (
    <section>
      <h1>Users</h1>
      <form class="filters" aria-label="User filters" onSubmit={(e) => e.preventDefault()}>
        <input type="search" aria-label="Search users" placeholder="name contains" value={qText} onInput={(e) => setQText(e.currentTarget.value)} onChange={(e) => setQuery({ name: e.currentTarget.value.trim() || null })} />
        <label>
          Admin
          <select value={adminFilter} onChange={(e) => setQuery({ admin: e.currentTarget.value || null })}>
            <option value="">all</option>
            <option value="true">admins</option>
            <option value="false">not admins</option>
          </select>
        </label>
        <label>
          Active
          <select value={activeFilter} onChange={(e) => setQuery({ active: e.currentTarget.value || null })}>
            <option value="">all</option>
            <option value="true">active</option>
            <option value="false">inactive</option>
          </select>
        </label>
      </form>
      <Alert error={error?.message} />
      <Alert error={act.error} fields={act.fields} />
      <table aria-label="Users" class="grid">
        <Head cols={['username', 'display name', 'admin', 'active', 'last login', 'actions']} />
        <tbody>
          {(data?.users ?? []).map((u) => (
            <tr key={u.id}>
              <td>{u.username}</td>
              <td>{u.displayName ?? ''}</td>
              <td>
                <input type="checkbox" role="switch" aria-label={`Admin ${u.username}`} checked={u.admin} onChange={() => void patch(u, { admin: !u.admin })} />
              </td>
              <td>{u.active ? 'active' : 'inactive'}</td>
              <td>{when(u.lastAuthAt) || 'never'}</td>
              <td>
                {u.active ? (
                  <button type="button" class="small" onClick={() => setDeactivate(u)}>
                    Deactivate {u.username}
                  </button>
                ) : (
                  <button type="button" class="small" onClick={() => void patch(u, { active: true })}>
                    Activate {u.username}
                  </button>
                )}{' '}
                <button type="button" class="small" onClick={() => setReset({ user: u, password: '' })}>
                  Reset password of {u.username}
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <form
        class="card inline"
        onSubmit={(e) => {
          e.preventDefault();
          void create.run(async () => {
            await api('/api/v1/users', { method: 'POST', json: { username, password, admin } });
            setUsername('');
            setPassword('');
            await refresh(key);
          });
        }}
      >
        <h2>New user</h2>
        <label for="nu-name">New username</label>
        <input id="nu-name" required value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
        <label for="nu-pass">Initial password</label>
        <input id="nu-pass" type="password" autocomplete="new-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        <label class="check">
          <input type="checkbox" checked={admin} onChange={(e) => setAdmin(e.currentTarget.checked)} /> admin
        </label>
        <button type="submit">Create user</button>
        <Alert error={create.error} fields={create.fields} />
      </form>
      <Confirm
        open={deactivate !== null}
        title={`Deactivate ${deactivate?.username ?? ''}?`}
        confirm="Deactivate"
        cancel="Keep active"
        danger
        onClose={() => setDeactivate(null)}
        onConfirm={() => {
          const u = deactivate!;
          setDeactivate(null);
          void patch(u, { active: false });
        }}
      >
        <p>This revokes all of their login and access tokens; after reactivation they log in again.</p>
      </Confirm>
      {reset && (
        <form
          class="card inline"
          onSubmit={(e) => {
            e.preventDefault();
            const r = reset;
            void act.run(async () => {
              await api(`/api/v1/users/${r.user.id}/password`, { method: 'POST', json: { password: r.password } });
              setReset(null);
            });
          }}
        >
          <label for="rp-pass">New password for {reset.user.username}</label>
          <input id="rp-pass" type="password" autocomplete="new-password" value={reset.password} onInput={(e) => setReset({ ...reset, password: e.currentTarget.value })} />
          <button type="submit">Set password</button>
          <button type="button" onClick={() => setReset(null)}>
            Close
          </button>
        </form>
      )}
    </section>
  );
}
