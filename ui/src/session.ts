/** Who is logged in, shared by the shell and the pages. */
import { useEffect, useState } from 'preact/hooks';
import { api, type User } from './lib/api';

let me: User | null = null;
let authDisabled = false;
const listeners = new Set<() => void>();

export function setMe(u: User | null, disabled = false): void {
  me = u;
  authDisabled = disabled;
  listeners.forEach((l) => l());
}

export function useMe(): { me: User | null; authDisabled: boolean } {
  const [, bump] = useState(0);
  useEffect(() => {
    const l = () => bump((n) => n + 1);
    listeners.add(l);
    return () => listeners.delete(l);
  }, []);
  return { me, authDisabled };
}

export async function loadMe(): Promise<User> {
  const r = await api<{ user: User }>('/api/v1/me');
  return r.user;
}
