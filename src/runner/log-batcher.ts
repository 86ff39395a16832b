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
    if (this.pending.length >= this.maxPending || this.pendingChars + line.length > this.maxPendingChars) {
      this.dropped++;
      return;
    }
    this.pending.push({ stream, line, time });
    this.pendingChars += line.length;
    if (this.pending.length >= this.maxBatch) this.kick();
    else this.timer ??= setTimeout(() => this.kick(), this.intervalMs);
  }

  /** Writes every line added so far; resolves when they are stored (or given up on). */
  async close(): Promise<void> {
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
