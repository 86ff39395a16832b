import { LogBatcher, LogLine } from './log-batcher';

describe('LogBatcher', () => {
  it('writes lines in order, in batches of at most maxBatch, one write at a time', async () => {
    const batches: string[][] = [];
    let inFlight = 0;
    const b = new LogBatcher(
      async (lines) => {
        expect(++inFlight).toBe(1);
        await new Promise((r) => setTimeout(r, 5));
        batches.push(lines.map((l) => l.line));
        inFlight--;
      },
      { maxBatch: 3, intervalMs: 1000 },
    );
    for (let i = 0; i < 8; i++) b.add('stdout', String(i));
    await b.close();
    expect(batches.flat()).toEqual(['0', '1', '2', '3', '4', '5', '6', '7']);
    expect(Math.max(...batches.map((x) => x.length))).toBeLessThanOrEqual(3);
  });

  it('flushes on its own after intervalMs', async () => {
    const written: LogLine[] = [];
    const b = new LogBatcher(async (lines) => void written.push(...lines), { intervalMs: 20 });
    b.add('stderr', 'x');
    expect(written).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 80));
    expect(written.map((l) => [l.stream, l.line])).toEqual([['stderr', 'x']]);
    await b.close();
  });

  it('counts lines beyond maxPending instead of holding them, and says so in a system line', async () => {
    const written: LogLine[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const b = new LogBatcher(
      async (lines) => {
        await gate;
        written.push(...lines);
      },
      { maxBatch: 2, maxPending: 2, intervalMs: 1000 },
    );
    b.add('stdout', 'a');
    b.add('stdout', 'b'); // starts a write that waits on the gate
    b.add('stdout', 'c');
    b.add('stdout', 'd');
    b.add('stdout', 'e'); // dropped: two already pending
    release();
    await b.close();
    expect(written.map((l) => l.line)).toEqual(['a', 'b', 'c', 'd', '1 lines dropped: the job wrote faster than its logs could be stored']);
  });

  it('also bounds the characters held', async () => {
    const written: string[] = [];
    const b = new LogBatcher(async (lines) => void written.push(...lines.map((l) => l.line)), { maxPendingChars: 5, intervalMs: 1000 });
    b.add('stdout', 'abc');
    b.add('stdout', 'def'); // would make 6
    b.add('stdout', 'gh');
    await b.close();
    expect(written).toEqual(['abc', 'gh', '1 lines dropped: the job wrote faster than its logs could be stored']);
  });

  it('reports a batch the writer gave up on and goes on with the next', async () => {
    const errors: number[] = [];
    const written: string[] = [];
    let first = true;
    const b = new LogBatcher(
      async (lines) => {
        if (first) {
          first = false;
          throw new Error('refused');
        }
        written.push(...lines.map((l) => l.line));
      },
      { maxBatch: 1, onWriteError: (_e, n) => errors.push(n) },
    );
    b.add('stdout', 'lost');
    b.add('stdout', 'kept');
    await b.close();
    expect(errors).toEqual([1]);
    expect(written).toEqual(['kept']);
  });
});

describe('LogBatcher maxTotalChars', () => {
  it("keeps the job's output up to the total, notes the limit once and the count at close, never drops system lines", async () => {
    const written: LogLine[] = [];
    const b = new LogBatcher(async (lines) => void written.push(...lines), { intervalMs: 1, maxTotalChars: 10, totalLabel: '10 bytes' });
    for (const l of ['abcd', 'efgh', 'ijkl', 'mn', 'op']) b.add('stdout', l);
    b.add('system', 'finished');
    await b.close();
    expect(written.map((l) => [l.stream, l.line])).toEqual([
      ['stdout', 'abcd'],
      ['stdout', 'efgh'],
      ['system', 'log limit 10 bytes reached: further output of the job is dropped'],
      ['system', 'finished'],
      ['system', '3 lines dropped: over the log limit'],
    ]);
  });
});
