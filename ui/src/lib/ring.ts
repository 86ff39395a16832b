/** One log line as the v1 API sends it. Ids are decimal strings of a bigint, increasing per job. */
export interface LogLine {
  id: string;
  stream: 'stdout' | 'stderr' | string;
  line: string;
  timestamp: string;
}

/**
 * A bounded buffer of log lines: the newest `capacity` lines are kept, older ones drop off the front. Lines whose id
 * is not above the last one kept are ignored, so a reconnect that replays lines (follow from 0 before afterId
 * existed, or an overlapping tail) never shows a line twice.
 */
export class LogRing {
  private readonly items: (LogLine | undefined)[];
  private head = 0; // index of the oldest line
  private count = 0;
  private last: bigint = -1n;
  /** Lines ever accepted (so a view can tell "N new"). */
  accepted = 0;

  constructor(readonly capacity = 200_000) {
    if (capacity < 1) throw new RangeError('capacity must be at least 1');
    this.items = new Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** The id of the newest line, or null when empty. */
  get lastId(): string | null {
    return this.last < 0n ? null : this.last.toString();
  }

  /** Appends lines in id order; returns how many were new. */
  push(lines: Iterable<LogLine>): number {
    let added = 0;
    for (const l of lines) {
      const id = BigInt(l.id);
      if (id <= this.last) continue;
      this.last = id;
      if (this.count < this.capacity) {
        this.items[(this.head + this.count) % this.capacity] = l;
        this.count++;
      } else {
        this.items[this.head] = l;
        this.head = (this.head + 1) % this.capacity;
      }
      added++;
    }
    this.accepted += added;
    return added;
  }

  /** The i-th kept line, 0 = oldest. */
  at(i: number): LogLine | undefined {
    if (i < 0 || i >= this.count) return undefined;
    return this.items[(this.head + i) % this.capacity];
  }

  /** Prepends older lines (paging up); they must all be older than the oldest kept line and fit in the free space. */
  prepend(lines: LogLine[]): number {
    const oldest = this.at(0);
    const limit = oldest ? BigInt(oldest.id) : 1n << 62n;
    const older = lines.filter((l) => BigInt(l.id) < limit);
    const room = Math.min(older.length, this.capacity - this.count);
    const take = older.slice(older.length - room);
    for (let i = take.length - 1; i >= 0; i--) {
      this.head = (this.head - 1 + this.capacity) % this.capacity;
      this.items[this.head] = take[i];
      this.count++;
    }
    if (this.last < 0n && take.length) this.last = BigInt(take[take.length - 1].id);
    return take.length;
  }

  clear(): void {
    this.head = 0;
    this.count = 0;
    this.last = -1n;
    this.items.fill(undefined);
  }

  toArray(): LogLine[] {
    const out: LogLine[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.at(i)!);
    return out;
  }
}
