/**
 * View state ↔ query string, readable (`?status=failed,queued&queue=2&offset=100`). Values equal to their default are
 * left out, so the plain URL is the default view; decoding ignores unknown keys and bad values (a hand-edited link
 * falls back to the default instead of breaking the page). List items are comma-separated, so they hold no comma
 * (ids, statuses, metric keys).
 */
export type Field =
  | { kind: 'string'; default: string }
  | { kind: 'int'; default: number; min?: number }
  | { kind: 'bool'; default: boolean }
  | { kind: 'list'; default: string[] }
  | { kind: 'enum'; values: readonly string[]; default: string };

export type Schema = Record<string, Field>;

export type StateOf<S extends Schema> = {
  [K in keyof S]: S[K] extends { kind: 'int' } ? number : S[K] extends { kind: 'bool' } ? boolean : S[K] extends { kind: 'list' } ? string[] : string;
};

export function decodeState<S extends Schema>(schema: S, search: string | URLSearchParams): StateOf<S> {
  const q = typeof search === 'string' ? new URLSearchParams(search) : search;
  const out: Record<string, unknown> = {};
  for (const [key, f] of Object.entries(schema)) {
    const raw = q.get(key);
    out[key] = raw === null ? f.default : decodeField(f, raw);
  }
  return out as StateOf<S>;
}

function decodeField(f: Field, raw: string): unknown {
  switch (f.kind) {
    case 'string':
      return raw;
    case 'int': {
      if (!/^-?\d+$/.test(raw)) return f.default;
      const n = Number(raw);
      return f.min !== undefined && n < f.min ? f.default : n;
    }
    case 'bool':
      return raw === '1' || raw === 'true' ? true : raw === '0' || raw === 'false' ? false : f.default;
    case 'list':
      return raw === '' ? [] : raw.split(',');
    case 'enum':
      return f.values.includes(raw) ? raw : f.default;
  }
}

export function encodeState<S extends Schema>(schema: S, state: Partial<StateOf<S>>): string {
  const parts: string[] = [];
  for (const [key, f] of Object.entries(schema)) {
    const v = (state as Record<string, unknown>)[key];
    if (v === undefined || sameAsDefault(f, v)) continue;
    let text: string;
    if (f.kind === 'list') text = (v as string[]).map((s) => encodeURIComponent(s)).join(',');
    else if (f.kind === 'bool') text = v ? '1' : '0';
    else text = encodeURIComponent(String(v));
    parts.push(`${key}=${text}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

function sameAsDefault(f: Field, v: unknown): boolean {
  if (f.kind === 'list') {
    const a = v as string[];
    return a.length === f.default.length && a.every((x, i) => x === f.default[i]);
  }
  return v === f.default;
}
