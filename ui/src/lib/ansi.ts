/**
 * ANSI SGR colours → styled segments (text only; never HTML). Colours 30–37/90–97 (fg), bold; 0/39 reset; every
 * other escape sequence is dropped.
 */
export interface Segment {
  text: string;
  fg?: number; // 0–15
  bold?: boolean;
}

// eslint-disable-next-line no-control-regex
const ESC = /\x1b\[([0-9;]*)([A-Za-z])/g;

export function ansiSegments(line: string): Segment[] {
  if (!line.includes('\x1b')) return [{ text: line }];
  const out: Segment[] = [];
  let fg: number | undefined;
  let bold = false;
  let last = 0;
  for (const m of line.matchAll(ESC)) {
    if (m.index! > last) out.push({ text: line.slice(last, m.index), fg, bold: bold || undefined });
    last = m.index! + m[0].length;
    if (m[2] !== 'm') continue;
    for (const code of (m[1] || '0').split(';').map(Number)) {
      if (code === 0) {
        fg = undefined;
        bold = false;
      } else if (code === 1) bold = true;
      else if (code === 22) bold = false;
      else if (code === 39) fg = undefined;
      else if (code >= 30 && code <= 37) fg = code - 30;
      else if (code >= 90 && code <= 97) fg = code - 90 + 8;
    }
  }
  if (last < line.length) out.push({ text: line.slice(last), fg, bold: bold || undefined });
  return out.filter((s) => s.text);
}
