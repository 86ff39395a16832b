// The dashboard's pure logic (ui/src/lib), run in Node: what the views rely on to show the right lines, points and URLs.
import { gzipSync } from 'node:zlib';
import { ansiSegments } from '../../ui/src/lib/ansi';
import { readArchive, readTar } from '../../ui/src/lib/archive';
import { parseMlproject } from '../../ui/src/lib/mlproject';
import { NdjsonSplitter } from '../../ui/src/lib/ndjson';
import { LogRing, type LogLine } from '../../ui/src/lib/ring';
import { ema, metricValue, minMaxBucket, summarize, toSeries } from '../../ui/src/lib/series';
import { decodeState, encodeState } from '../../ui/src/lib/url';
import { makeTarGz, makeZip } from '../utils/archives';

const line = (id: number, text = `line ${id}`): LogLine => ({ id: String(id), stream: id % 2 ? 'stderr' : 'stdout', line: text, timestamp: '2026-01-01T00:00:00.000Z' });

describe('URL state codec', () => {
  const schema = {
    status: { kind: 'list', default: [] as string[] },
    queue: { kind: 'string', default: '' },
    offset: { kind: 'int', default: 0, min: 0 },
    log: { kind: 'bool', default: false },
    sort: { kind: 'enum', values: ['createdAt', 'status'], default: 'createdAt' },
  } as const;

  it('round-trips a state, readably, leaving defaults out', () => {
    const state = { status: ['failed', 'queued'], queue: 'gpu 2', offset: 300, log: true, sort: 'status' };
    const q = encodeState(schema, state);
    expect(q).toBe('?status=failed,queued&queue=gpu%202&offset=300&log=1&sort=status');
    expect(decodeState(schema, q)).toEqual(state);
    expect(encodeState(schema, decodeState(schema, ''))).toBe('');
  });

  it('falls back to defaults on hand-edited nonsense', () => {
    expect(decodeState(schema, '?offset=-5&log=maybe&sort=nope&offset=abc')).toEqual({ status: [], queue: '', offset: 0, log: false, sort: 'createdAt' });
    expect(decodeState(schema, '?status=').status).toEqual([]);
  });
});

describe('NdjsonSplitter', () => {
  it('splits objects across chunk boundaries, skipping heartbeat blank lines', () => {
    const s = new NdjsonSplitter<{ a: number }>();
    const bytes = new TextEncoder().encode('{"a":1}\n\n{"a"');
    expect(s.push(bytes)).toEqual([{ a: 1 }]);
    expect(s.push(new TextEncoder().encode(':2}\n{"a":3}'))).toEqual([{ a: 2 }]);
    expect(s.end()).toEqual([{ a: 3 }]);
  });

  it('keeps a multi-byte UTF-8 character split between chunks', () => {
    const bytes = new TextEncoder().encode('{"line":"µ-€-😀"}\n');
    const euro = bytes.indexOf(0xe2); // first byte of €
    const s = new NdjsonSplitter<{ line: string }>();
    const out = [...s.push(bytes.subarray(0, euro + 1)), ...s.push(bytes.subarray(euro + 1, euro + 2)), ...s.push(bytes.subarray(euro + 2))];
    expect(out).toEqual([{ line: 'µ-€-😀' }]);
    // One byte at a time too.
    const t = new NdjsonSplitter<{ line: string }>();
    const all = Array.from(bytes).flatMap((b) => t.push(Uint8Array.of(b)));
    expect(all).toEqual([{ line: 'µ-€-😀' }]);
  });
});

describe('LogRing', () => {
  it('keeps the newest lines when it wraps', () => {
    const r = new LogRing(3);
    expect(r.push([1, 2, 3, 4, 5].map((i) => line(i)))).toBe(5);
    expect(r.size).toBe(3);
    expect(r.toArray().map((l) => l.id)).toEqual(['3', '4', '5']);
    expect(r.at(0)!.id).toBe('3');
    expect(r.at(3)).toBeUndefined();
    expect(r.lastId).toBe('5');
  });

  it('drops ids it already holds on a reconnect (follow from 0, overlapping tail)', () => {
    const r = new LogRing(100);
    r.push([10, 11, 12].map((i) => line(i)));
    expect(r.push([1, 2, 10, 11, 12, 13].map((i) => line(i)))).toBe(1);
    expect(r.toArray().map((l) => l.id)).toEqual(['10', '11', '12', '13']);
    // Ids beyond 2^53 compare exactly.
    r.push([line(0), { ...line(0), id: '9007199254740993' }]);
    expect(r.lastId).toBe('9007199254740993');
    expect(r.push([{ ...line(0), id: '9007199254740992' }])).toBe(0);
  });

  it('prepends older pages only into free space and only older ids', () => {
    const r = new LogRing(5);
    r.push([8, 9, 10].map((i) => line(i)));
    expect(r.prepend([5, 6, 7, 9].map((i) => line(i)))).toBe(2);
    expect(r.toArray().map((l) => l.id)).toEqual(['6', '7', '8', '9', '10']);
  });
});

describe('metric series', () => {
  it("maps MLflow's non-finite strings to gaps, never 0", () => {
    expect(['NaN', 'Infinity', '-Infinity', 1.5, '2.5', null].map((v) => metricValue(v as never))).toEqual([null, null, null, 1.5, 2.5, null]);
    const s = toSeries([
      { step: '2', value: 'NaN', timestamp: '3' },
      { step: '1', value: 0.5, timestamp: '1' },
      { step: '2', value: 7, timestamp: '2' },
    ]);
    expect(Array.from(s.steps)).toEqual([1, 2, 2]);
    // Same step: arrival order kept.
    expect(s.values).toEqual([0.5, null, 7]);
  });

  it('min/max bucketing keeps the extremes and the order', () => {
    const n = 100_000;
    const steps = Array.from({ length: n }, (_, i) => i);
    const values = steps.map((i) => Math.sin(i / 1000));
    values[31_337] = 50;
    values[77_777] = -50;
    const b = minMaxBucket(steps, values, 2000);
    expect(b.steps.length).toBeLessThanOrEqual(2000);
    expect(Math.max(...(b.values as number[]))).toBe(50);
    expect(Math.min(...(b.values as number[]))).toBe(-50);
    expect(b.steps).toContain(31_337);
    expect(b.steps.every((s, i) => i === 0 || s > b.steps[i - 1])).toBe(true);
    expect(minMaxBucket([1, 2], [3, 4], 10)).toEqual({ steps: [1, 2], values: [3, 4] });
  });

  it('EMA smooths with debiasing and keeps gaps', () => {
    expect(ema([1, 2, 3], 0)).toEqual([1, 2, 3]);
    const out = ema([10, null, 10, 20], 0.5);
    expect(out[0]).toBeCloseTo(10);
    expect(out[1]).toBeNull();
    expect(out[2]).toBeCloseTo(10);
    expect(out[3]).toBeCloseTo((0.5 * (0.5 * 5 + 5) + 10) / (1 - 0.125));
  });

  it('summarizes as the figure text', () => {
    expect(summarize(3, [1, 2, 3], [0.5, null, 0.25])).toBe('3 points, last 0.25 at step 3, min 0.25, max 0.5');
  });
});

describe('ANSI colours', () => {
  it('turns SGR codes into segments and drops other escapes', () => {
    expect(ansiSegments('plain')).toEqual([{ text: 'plain' }]);
    expect(ansiSegments('\x1b[1;31mred\x1b[0m ok\x1b[2K')).toEqual([{ text: 'red', fg: 1, bold: true }, { text: ' ok', fg: undefined, bold: undefined }]);
  });
});

describe('workflow archives and MLproject', () => {
  const MLPROJECT = [
    'name: demo',
    'entry_points:',
    '  main:',
    '    parameters:',
    '      epsilon: {type: float, default: 0.1}',
    '      steps:',
    '        type: int',
    '        default: 10',
    '      target: string',
    '    command: "python train.py --epsilon {epsilon}"',
    '  eval:',
    '    command: "python eval.py"',
  ].join('\n');

  it('reads entry points and typed parameters', () => {
    expect(parseMlproject(MLPROJECT)).toEqual([
      {
        name: 'main',
        command: 'python train.py --epsilon {epsilon}',
        parameters: [
          { name: 'epsilon', type: 'float', default: '0.1', required: false },
          { name: 'steps', type: 'int', default: '10', required: false },
          { name: 'target', type: 'string', default: null, required: true },
        ],
      },
      { name: 'eval', command: 'python eval.py', parameters: [] },
    ]);
    expect(parseMlproject('name: x')).toEqual([]);
  });

  it('lists tar.gz and zip members with their text', async () => {
    const members = { 'demo/MLproject': MLPROJECT, 'demo/train.py': 'print(1)\n' };
    const tgz = await readArchive(new Uint8Array(makeTarGz(members)));
    expect(tgz.map((f) => [f.name, f.size])).toEqual([
      ['demo/MLproject', MLPROJECT.length],
      ['demo/train.py', 9],
    ]);
    expect(tgz[0].text).toBe(MLPROJECT);
    const zip = await readArchive(new Uint8Array(makeZip(members)));
    expect(zip.map((f) => f.text)).toEqual([MLPROJECT, 'print(1)\n']);
    const plain = readTar(new Uint8Array(makeTarGz({ [`${'d'.repeat(120)}/MLproject`]: 'x' }, { gzip: false })));
    expect(plain[0].name).toBe(`${'d'.repeat(120)}/MLproject`);
    expect(gzipSync).toBeDefined();
  });
});
