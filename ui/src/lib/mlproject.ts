/**
 * A fallback reader of MLproject entry points for the submit form, used only when the server has no
 * `POST /api/v1/workflows/inspect`. It understands the block YAML MLproject files are written in (entry_points →
 * name → parameters → name: type | {type, default}); anything it cannot read yields [] and the form falls back to
 * free text. The server re-checks everything at submission.
 */
export interface EntryPoint {
  name: string;
  command: string;
  parameters: { name: string; type: string; default: string | null; required: boolean }[];
}

function scalar(v: string): string {
  const t = v.replace(/\s+#.*$/, '').trim();
  if ((t.startsWith('"') && t.endsWith('"')) || (t.startsWith("'") && t.endsWith("'"))) return t.slice(1, -1);
  return t;
}

function flow(v: string): Record<string, string> | null {
  const t = v.trim();
  if (!t.startsWith('{') || !t.endsWith('}')) return null;
  const out: Record<string, string> = {};
  for (const part of t.slice(1, -1).split(',')) {
    const i = part.indexOf(':');
    if (i > 0) out[part.slice(0, i).trim()] = scalar(part.slice(i + 1));
  }
  return out;
}

export function parseMlproject(text: string): EntryPoint[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() && !l.trim().startsWith('#'));
  const ind = (l: string) => l.length - l.trimStart().length;
  const start = lines.findIndex((l) => /^entry_points\s*:/.test(l));
  if (start < 0) return [];
  const out: EntryPoint[] = [];
  let i = start + 1;
  const epIndent = i < lines.length ? ind(lines[i]) : 0;
  while (i < lines.length && ind(lines[i]) >= epIndent && epIndent > 0) {
    const m = lines[i].trim().match(/^([^:]+):\s*$/);
    if (!m || ind(lines[i]) !== epIndent) {
      i++;
      continue;
    }
    const ep: EntryPoint = { name: scalar(m[1]), command: '', parameters: [] };
    out.push(ep);
    i++;
    while (i < lines.length && ind(lines[i]) > epIndent) {
      const l = lines[i];
      const km = l.trim().match(/^(\w+)\s*:\s*(.*)$/);
      if (km && km[1] === 'command') ep.command = scalar(km[2]);
      if (km && km[1] === 'parameters') {
        const pIndentLine = lines[i + 1];
        const inline = flow(km[2]);
        if (inline) for (const [k, v] of Object.entries(inline)) ep.parameters.push({ name: k, type: v || 'string', default: null, required: true });
        const pIndent = pIndentLine ? ind(pIndentLine) : 0;
        i++;
        while (i < lines.length && ind(lines[i]) >= pIndent && ind(lines[i]) > ind(l)) {
          const pm = lines[i].trim().match(/^([^:]+):\s*(.*)$/);
          if (pm && ind(lines[i]) === pIndent) {
            const name = scalar(pm[1]);
            const f = flow(pm[2]);
            let type = 'string';
            let def: string | null = null;
            if (f) {
              type = f.type ?? 'string';
              def = 'default' in f ? f.default : null;
            } else if (pm[2].trim()) type = scalar(pm[2]);
            else {
              // Block form: type/default on the following, deeper lines.
              let j = i + 1;
              while (j < lines.length && ind(lines[j]) > pIndent) {
                const sm = lines[j].trim().match(/^(\w+)\s*:\s*(.*)$/);
                if (sm?.[1] === 'type') type = scalar(sm[2]);
                if (sm?.[1] === 'default') def = scalar(sm[2]);
                j++;
              }
            }
            ep.parameters.push({ name, type, default: def, required: def === null });
          }
          i++;
        }
        continue;
      }
      i++;
    }
  }
  return out;
}
