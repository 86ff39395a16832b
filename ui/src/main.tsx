import { render, type JSX } from 'preact';
import { lazy, Suspense } from 'preact/compat';
import { useEffect, useRef, useState } from 'preact/hooks';
import './styles.css';
import { api, authHooks, clearToken, getToken } from './lib/api';
import { connection } from './lib/poller';
import { Link, navigate, useLocation } from './router';
import { loadMe, setMe, useMe } from './session';
import { Login } from './routes/login';
import { Jobs } from './routes/jobs';

// Pages other than the Jobs list and the login load on demand (the initial route stays small).
const Board = lazy(() => import('./routes/board').then((m) => m.Board));
const JobPage = lazy(() => import('./routes/job').then((m) => m.JobPage));
const Submit = lazy(() => import('./routes/submit').then((m) => m.Submit));
const Experiments = lazy(() => import('./routes/experiments').then((m) => m.Experiments));
const ExperimentPage = lazy(() => import('./routes/experiments').then((m) => m.ExperimentPage));
const Compare = lazy(() => import('./routes/compare').then((m) => m.Compare));
const Queues = lazy(() => import('./routes/queues').then((m) => m.Queues));
const Plugins = lazy(() => import('./routes/plugins').then((m) => m.Plugins));
const PluginPage = lazy(() => import('./routes/plugins').then((m) => m.PluginPage));
const Tokens = lazy(() => import('./routes/settings').then((m) => m.Tokens));
const Profile = lazy(() => import('./routes/settings').then((m) => m.Profile));
const Users = lazy(() => import('./routes/settings').then((m) => m.Users));
const RunRedirect = lazy(() => import('./routes/compare').then((m) => m.RunRedirect));

type Theme = 'system' | 'light' | 'dark';
function applyTheme(t: Theme): void {
  if (t === 'system') delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = t;
}
const storedTheme = (): Theme => (localStorage.getItem('alidade.theme') as Theme | null) ?? 'system';
applyTheme(storedTheme());

authHooks.toLogin = (reason: string) => {
  setMe(null);
  const next = location.pathname + location.search;
  const q = new URLSearchParams();
  if (reason) q.set('reason', reason);
  if (!next.startsWith('/ui/login') && next !== '/ui/') q.set('next', next);
  navigate(`/ui/login${q.size ? `?${q}` : ''}`, true);
};

function route(path: string): JSX.Element {
  let m: RegExpMatchArray | null;
  if (path === '/' || path === '') return <Board />;
  if (path === '/jobs') return <Jobs />;
  if (path === '/jobs/new') return <Submit />;
  if ((m = path.match(/^\/jobs\/([^/]+)(?:\/(logs|metrics|params|artifacts|workflow))?\/?$/))) return <JobPage id={m[1]} tab={m[2] ?? 'overview'} />;
  if (path === '/experiments') return <Experiments />;
  if ((m = path.match(/^\/experiments\/(\d+)\/?$/))) return <ExperimentPage id={Number(m[1])} />;
  if (path === '/compare') return <Compare />;
  if ((m = path.match(/^\/queues(?:\/(\d+))?\/?$/))) return <Queues focus={m[1] ? Number(m[1]) : null} />;
  if (path === '/plugins') return <Plugins />;
  if ((m = path.match(/^\/plugins\/([^/]+)\/([^/]+)\/?$/))) return <PluginPage collection={m[1]} name={m[2]} />;
  if (path === '/settings/tokens') return <Tokens />;
  if (path === '/settings/profile') return <Profile />;
  if (path === '/admin/users') return <Users />;
  if ((m = path.match(/^\/runs\/([^/]+)\/?$/))) return <RunRedirect runId={m[1]} />;
  return (
    <section>
      <h1>Not found</h1>
      <p>
        No page at this address. <Link href="/ui/">Go to the Lab board</Link>.
      </p>
    </section>
  );
}

function ThemeMenu(): JSX.Element {
  const [open, setOpen] = useState(false);
  const [theme, setTheme] = useState<Theme>(storedTheme());
  const menu = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (open) (menu.current?.querySelector('[role=menuitem]') as HTMLElement | null)?.focus();
  }, [open]);
  const pick = (t: Theme) => {
    localStorage.setItem('alidade.theme', t);
    applyTheme(t);
    setTheme(t);
    setOpen(false);
  };
  const onKey = (e: KeyboardEvent) => {
    const items = [...(menu.current?.querySelectorAll<HTMLElement>('[role=menuitem]') ?? [])];
    const i = items.indexOf(document.activeElement as HTMLElement);
    if (e.key === 'Escape') setOpen(false);
    if (e.key === 'ArrowDown') items[(i + 1) % items.length]?.focus();
    if (e.key === 'ArrowUp') items[(i - 1 + items.length) % items.length]?.focus();
  };
  return (
    <div class="menu-wrap">
      <button type="button" aria-haspopup="menu" aria-expanded={open} onClick={() => setOpen(!open)}>
        Theme
      </button>
      {open && (
        <div role="menu" aria-label="Theme" class="menu" ref={menu} onKeyDown={onKey}>
          {(['system', 'light', 'dark'] as Theme[]).map((t) => (
            <button type="button" role="menuitem" key={t} aria-current={theme === t ? 'true' : undefined} onClick={() => pick(t)}>
              {t[0].toUpperCase() + t.slice(1)}
            </button>
          ))}
        </div>
      )}
    </div>
  );
}

function ConnectionBanner(): JSX.Element | null {
  const [, bump] = useState(0);
  useEffect(() => {
    const l = () => bump((n) => n + 1);
    connection.listeners.add(l);
    const t = setInterval(l, 1000);
    return () => {
      connection.listeners.delete(l);
      clearInterval(t);
    };
  }, []);
  if (!connection.retryAt) return null;
  return (
    <div class="banner" role="alert">
      Connection lost — retrying (next in {Math.max(0, Math.ceil((connection.retryAt - Date.now()) / 1000))} s)
    </div>
  );
}

const SHORTCUTS: [string, string][] = [
  ['/', 'focus the search of the page'],
  ['g then l / j / e / q', 'go to Lab board / Jobs / Experiments / Queues'],
  ['j / k', 'move the row selection'],
  ['Enter', 'open the selected row'],
  ['x', 'select the row'],
  ['c', 'cancel the selected job (with confirm)'],
  ['f', 'toggle log follow'],
  ['?', 'this list'],
  ['Esc', 'close dialogs'],
];

function Shell(): JSX.Element {
  const { path } = useLocation();
  const { me, authDisabled } = useMe();
  const [ready, setReady] = useState(false);
  const help = useRef<HTMLDialogElement>(null);

  useEffect(() => {
    if (path.startsWith('/login')) return setReady(true);
    if (me) return setReady(true);
    const authDisabled = document.querySelector('meta[name="alidade-auth"]')?.getAttribute('content') === 'disabled';
    // No token and auth on: straight to the login page (no request that can only fail).
    if (!getToken() && !authDisabled) {
      authHooks.toLogin('');
      return;
    }
    // With AUTH_DISABLED the server answers /me without a token: the login page is skipped.
    loadMe()
      .then((u) => {
        setMe(u, authDisabled);
        setReady(true);
      })
      .catch(() => setReady(true));
  }, [path, me]);

  useEffect(() => {
    let g = false;
    const onKey = (e: KeyboardEvent) => {
      const t = e.target as HTMLElement;
      if (e.ctrlKey || e.metaKey || e.altKey || t.closest('input, textarea, select, [contenteditable], dialog[open]')) return;
      // A key this handler takes is marked (preventDefault) so the page's own keys (j/k on a list) leave it alone.
      if (g) {
        g = false;
        const to = { l: '/ui/', j: '/ui/jobs', e: '/ui/experiments', q: '/ui/queues' }[e.key];
        if (to) {
          e.preventDefault();
          navigate(to);
        }
        return;
      }
      if (e.key === 'g') {
        e.preventDefault();
        g = true;
      } else if (e.key === '?') help.current?.showModal();
      else if (e.key === '/') {
        const s = document.querySelector<HTMLInputElement>('main input[type=search]');
        if (s) {
          e.preventDefault();
          s.focus();
        }
      }
    };
    // Capture: before the pages' own document listeners (theirs are added first, child effects running first).
    document.addEventListener('keydown', onKey, true);
    return () => document.removeEventListener('keydown', onKey, true);
  }, []);

  if (path.startsWith('/login')) return <Login />;
  // With a token the page renders at once and fetches its data alongside /me (a 401 from either goes to the login).
  if (!ready && !getToken()) return <p class="muted">Loading…</p>;
  if (ready && !me) {
    if (!location.pathname.startsWith('/ui/login')) authHooks.toLogin('Log in to continue.');
    return <p class="muted">Loading…</p>;
  }
  const logout = async () => {
    await api('/api/v1/auth/logout', { method: 'POST' }).catch(() => undefined);
    clearToken();
    setMe(null);
    navigate('/ui/login', true);
  };
  const nav: [string, string, (p: string) => boolean][] = [
    ['Lab board', '/ui/', (p) => p === '/'],
    ['Jobs', '/ui/jobs', (p) => p.startsWith('/jobs')],
    ['Experiments', '/ui/experiments', (p) => p.startsWith('/experiments')],
    ['Queues', '/ui/queues', (p) => p.startsWith('/queues')],
    ['Plugins', '/ui/plugins', (p) => p.startsWith('/plugins')],
    ['Tokens', '/ui/settings/tokens', (p) => p.startsWith('/settings')],
  ];
  if (me?.admin) nav.push(['Users', '/ui/admin/users', (p) => p.startsWith('/admin')]);
  return (
    <>
      <a href="#main" class="skip">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Alidade</span>
        <nav aria-label="Main">
          {nav.map(([name, href, active]) => (
            <Link key={name} href={href} aria-current={active(path) ? 'page' : undefined}>
              {name}
            </Link>
          ))}
        </nav>
        <span class="spacer" />
        {me && (
          <Link href="/ui/settings/profile" class="muted">
            {me.username}
            {me.admin ? ' (admin)' : ''}
          </Link>
        )}
        <ThemeMenu />
        {!authDisabled && (
          <button type="button" onClick={() => void logout()}>
            Log out
          </button>
        )}
      </header>
      {authDisabled && <div class="banner">Authentication is disabled on this server (AUTH_DISABLED): everyone acts as the admin.</div>}
      <ConnectionBanner />
      <main id="main" tabIndex={-1}>
        <Suspense fallback={<p class="muted">Loading…</p>}>{route(path)}</Suspense>
      </main>
      <dialog ref={help} aria-labelledby="keys-title">
        <h2 id="keys-title">Keyboard shortcuts</h2>
        <table aria-labelledby="keys-title">
          <tbody>
            {SHORTCUTS.map(([k, v]) => (
              <tr key={k}>
                <th scope="row">
                  <kbd>{k}</kbd>
                </th>
                <td>{v}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <button type="button" onClick={() => help.current?.close()}>
          Close
        </button>
      </dialog>
    </>
  );
}

render(<Shell />, document.getElementById('app')!);
