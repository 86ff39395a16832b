export type LogStream = 'stdout' | 'stderr' | 'system';
export interface LogLine {
  stream: LogStream;
  line: string;
  time: Date;
}

export interface LogBatcherOptions {
  /** A batch is written at most this long after its first line. */
  intervalMs?: number;
  /** ... or as soon as this many lines wait. */
  maxBatch?: number;
  /** Lines (and characters) held while the database is slow or unreachable; beyond that new lines are counted and dropped, not kept. */
  maxPending?: number;
  maxPendingChars?: number;
  /** Characters stored for the whole job (a job printing for hours must not fill the database); beyond that lines are counted and dropped. */
  maxTotalChars?: number;
  /** How the total is named in the note written when it is reached (`256 MiB`). */
  totalLabel?: string;
  /** A batch `write` gave up on (it retries connection errors itself). */
  onWriteError?: (error: unknown, lines: number) => void;
}

/**
 * Collects a job's output lines and writes them in batches (one multi-row INSERT each), one batch in flight at a
 * time so rows keep their order. `close()` writes whatever is left.
 */
export class LogBatcher {
  private pending: LogLine[] = [];
  private dropped = 0;
  private timer?: NodeJS.Timeout;
  private draining?: Promise<void>;
  private readonly intervalMs: number;
  private readonly maxBatch: number;
  private readonly maxPending: number;
  private readonly maxPendingChars: number;
  private pendingChars = 0;
  private totalChars = 0;
  private overTotal = 0;

  constructor(
    private readonly write: (lines: LogLine[]) => Promise<void>,
    private readonly opts: LogBatcherOptions = {},
  ) {
    this.intervalMs = opts.intervalMs ?? 250;
    this.maxBatch = opts.maxBatch ?? 500;
    this.maxPending = opts.maxPending ?? 200_000;
    this.maxPendingChars = opts.maxPendingChars ?? 64 * 1024 * 1024;
  }

  add(stream: LogStream, line: string, time = new Date()): void {
    // The worker's own lines (`system`: the outcome) are never dropped for the job's output.
    if (stream !== 'system' && this.opts.maxTotalChars !== undefined && (this.overTotal > 0 || this.totalChars + line.length > this.opts.maxTotalChars)) {
      if (this.overTotal++ === 0) {
        this.push({ stream: 'system', line: `log limit ${this.opts.totalLabel ?? `${this.opts.maxTotalChars} characters`} reached: further output of the job is dropped`, time });
      }
      return;
    }
    if (stream !== 'system') this.totalChars += line.length;
    if (this.pending.length >= this.maxPending || this.pendingChars + line.length > this.maxPendingChars) {
      this.dropped++;
      return;
    }
    this.push({ stream, line, time });
  }

  private push(l: LogLine): void {
    this.pending.push(l);
    this.pendingChars += l.line.length;
    if (this.pending.length >= this.maxBatch) this.kick();
    else this.timer ??= setTimeout(() => this.kick(), this.intervalMs);
  }

  /** Writes every line added so far; resolves when they are stored (or given up on). */
  async close(): Promise<void> {
    if (this.overTotal > 1) {
      this.push({ stream: 'system', line: `${this.overTotal} lines dropped: over the log limit`, time: new Date() });
      this.overTotal = 1;
    }
    this.kick();
    while (this.draining) await this.draining;
  }

  private kick(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.draining ??= this.drain().finally(() => (this.draining = undefined));
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0 || this.dropped > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      for (const l of batch) this.pendingChars -= l.line.length;
      if (this.dropped > 0 && batch.length < this.maxBatch) {
        batch.push({ stream: 'system', line: `${this.dropped} lines dropped: the job wrote faster than its logs could be stored`, time: new Date() });
        this.dropped = 0;
      }
      try {
        await this.write(batch);
      } catch (e) {
        this.opts.onWriteError?.(e, batch.length);
      }
    }
  }
}
