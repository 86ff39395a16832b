/**
 * Splits a byte stream of NDJSON into parsed objects. Chunks may cut a line (and a multi-byte UTF-8 character)
 * anywhere: the decoder keeps the partial character, the splitter keeps the partial line. Empty lines (the follow's
 * heartbeat) are skipped.
 */
export class NdjsonSplitter<T = unknown> {
  private readonly decoder = new TextDecoder();
  private rest = '';

  /** Feeds one chunk; returns the complete objects it finished. */
  push(chunk: Uint8Array): T[] {
    return this.lines(this.rest + this.decoder.decode(chunk, { stream: true }));
  }

  /** The end of the stream: whatever is left is the last line. */
  end(): T[] {
    const text = this.rest + this.decoder.decode();
    this.rest = '';
    return text.trim() ? [JSON.parse(text) as T] : [];
  }

  private lines(text: string): T[] {
    const out: T[] = [];
    let start = 0;
    for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
      const line = text.slice(start, nl);
      start = nl + 1;
      if (line.trim()) out.push(JSON.parse(line) as T);
    }
    this.rest = text.slice(start);
    return out;
  }
}
