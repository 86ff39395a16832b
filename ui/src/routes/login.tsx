import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ApiError, setToken, type User } from '../lib/api';
import { navigate, useLocation } from '../router';
import { setMe } from '../session';

export function Login(): JSX.Element {
  const { query } = useLocation();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [keep, setKeep] = useState(false);
  const [error, setError] = useState<string | null>(query.get('reason'));
  const [retryAt, setRetryAt] = useState(0);
  const [busy, setBusy] = useState(false);
  const [, tick] = useState(0);
  useEffect(() => {
    document.title = 'Log in · Alidade';
    if (!retryAt) return;
    const t = setInterval(() => {
      tick((n) => n + 1);
      if (Date.now() >= retryAt) setRetryAt(0);
    }, 500);
    return () => clearInterval(t);
  }, [retryAt]);

  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await api<{ token: string; user: User }>('/api/v1/auth/login', { method: 'POST', json: { username, password } });
      setToken(r.token, keep);
      setMe(r.user);
      const next = query.get('next');
      navigate(next && next.startsWith('/ui') && !next.startsWith('/ui/login') ? next : '/ui/', true);
    } catch (err) {
      setError((err as Error).message);
      const after = (err as ApiError & { retryAfter?: number }).retryAfter;
      if (err instanceof ApiError && err.status === 429 && after) setRetryAt(Date.now() + after * 1000);
    } finally {
      setBusy(false);
    }
  };
  const wait = retryAt ? Math.max(0, Math.ceil((retryAt - Date.now()) / 1000)) : 0;
  return (
    <main id="main" class="login">
      <form onSubmit={submit} class="card">
        <h1>Alidade</h1>
        <label for="login-user">Username</label>
        <input id="login-user" name="username" autocomplete="username" required value={username} onInput={(e) => setUsername(e.currentTarget.value)} />
        <label for="login-pass">Password</label>
        <input id="login-pass" name="password" type="password" autocomplete="current-password" required value={password} onInput={(e) => setPassword(e.currentTarget.value)} />
        <label class="check">
          <input type="checkbox" checked={keep} onChange={(e) => setKeep(e.currentTarget.checked)} /> Keep me signed in
        </label>
        {error && (
          <p role="alert" class="alert">
            {error}
            {wait > 0 && ` (try again in ${wait} s)`}
          </p>
        )}
        <button type="submit" class="primary" disabled={busy || wait > 0}>
          Log in
        </button>
      </form>
    </main>
  );
}
