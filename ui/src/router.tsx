/** A small history router: the URL is the view state, links are real <a href>s, navigation is pushState. */
import type { AnchorHTMLAttributes, ComponentChildren, JSX, TargetedMouseEvent } from 'preact';
import { useEffect, useState } from 'preact/hooks';

const listeners = new Set<() => void>();
export const BASE = '/ui';

export function navigate(to: string, replace = false): void {
  const url = to.startsWith('/') ? to : `${BASE}/${to}`;
  if (url === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  listeners.forEach((l) => l());
}

window.addEventListener('popstate', () => listeners.forEach((l) => l()));

/** Re-renders on every navigation; returns the path under /ui and the query. */
export function useLocation(): { path: string; query: URLSearchParams; search: string } {
  const [, bump] = useState(0);
  useEffect(() => {
    const l = () => bump((n) => n + 1);
    listeners.add(l);
    return () => listeners.delete(l);
  }, []);
  const path = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) || '/' : location.pathname;
  return { path, query: new URLSearchParams(location.search), search: location.search };
}

/** Replaces (not pushes) query keys: filters and tabs change the URL without filling the back button. */
export function setQuery(patch: Record<string, string | null>, push = false): void {
  const q = new URLSearchParams(location.search);
  for (const [k, v] of Object.entries(patch)) if (v === null || v === '') q.delete(k);
  else q.set(k, v);
  const s = q.toString().replace(/%2C/g, ',');
  navigate(location.pathname + (s ? `?${s}` : ''), !push);
}

export function Link(props: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string; children?: ComponentChildren }): JSX.Element {
  const { href, onClick, ...rest } = props;
  return (
    <a
      href={href}
      {...rest}
      onClick={(e: TargetedMouseEvent<HTMLAnchorElement>) => {
        if (onClick) (onClick as (ev: typeof e) => void)(e);
        if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(href);
      }}
    />
  );
}
