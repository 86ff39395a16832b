/** Small display helpers shared by the pages. */
export const TERMINAL = new Set(['finished', 'failed', 'canceled']);
export const STATUSES = ['queued', 'deferred', 'started', 'finished', 'failed', 'canceled'] as const;

export const shortId = (id: string): string => id.replace(/-/g, '').slice(0, 8);

export function isUuid(s: string): boolean {
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s.trim());
}

/** 3 s, 4 m 10 s, 2 h 5 m, 3 d 4 h. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} m ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${m % 60} m`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

export function between(from: string | null | undefined, to: string | null | undefined, now = Date.now()): string {
  if (!from) return '';
  return duration((to ? Date.parse(to) : now) - Date.parse(from));
}

const dtf = typeof Intl !== 'undefined' ? new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium' }) : null;
export function when(iso: string | null | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  return dtf ? dtf.format(d) : d.toISOString();
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}
