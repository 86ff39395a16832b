import { StringDecoder } from 'node:string_decoder';

/** Longest line kept as one log row; a longer line is cut into pieces of this size (a job printing megabytes without a newline must not grow memory). */
export const MAX_LINE_CHARS = 64 * 1024;

/**
 * Splits a byte stream into text lines: keeps the partial last line until its newline (or `end()`), decodes UTF-8
 * across chunk boundaries (bad bytes become U+FFFD), drops the `\r` of `\r\n`, and replaces NUL, which Postgres text
 * refuses.
 */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';

  constructor(private readonly maxChars = MAX_LINE_CHARS) {}

  push(chunk: Buffer): string[] {
    return this.split(this.partial + this.decoder.write(chunk), false);
  }

  /** The rest of the stream (a last line without newline), if any. */
  end(): string[] {
    return this.split(this.partial + this.decoder.end(), true);
  }

  private split(text: string, final: boolean): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let nl = text.indexOf('\n', start); nl !== -1; nl = text.indexOf('\n', start)) {
      this.pushCapped(lines, text.slice(start, nl > start && text[nl - 1] === '\r' ? nl - 1 : nl));
      start = nl + 1;
    }
    let rest = text.slice(start);
    while (rest.length >= this.maxChars) {
      lines.push(clean(rest.slice(0, this.maxChars)));
      rest = rest.slice(this.maxChars);
    }
    if (final && rest.length > 0) {
      lines.push(clean(rest));
      rest = '';
    }
    this.partial = rest;
    return lines;
  }

  private pushCapped(lines: string[], line: string): void {
    for (let i = 0; i < line.length || i === 0; i += this.maxChars) lines.push(clean(line.slice(i, i + this.maxChars)));
  }
}

const clean = (line: string) => (line.includes('\0') ? line.replace(/\0/g, '\uFFFD') : line);
