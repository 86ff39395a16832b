/** Metric series handling: MLflow's non-finite values, columnar arrays, min/max bucketing and EMA smoothing. */

/** MLflow sends NaN and the infinities as strings; they are gaps (null), never 0. */
export function metricValue(v: number | string | null | undefined): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v !== 'string') return null;
  if (v === 'NaN' || v === 'Infinity' || v === '-Infinity' || v.trim() === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

export interface Series {
  steps: Float64Array;
  values: (number | null)[];
  timestamps: Float64Array;
}

/** Points in any order → columns sorted by step; points at the same step keep their arrival order. */
export function toSeries(points: { step: number | string; value: number | string; timestamp: number | string }[]): Series {
  const idx = points.map((_, i) => i);
  const step = points.map((p) => Number(p.step));
  idx.sort((a, b) => step[a] - step[b] || a - b);
  const steps = new Float64Array(idx.length);
  const timestamps = new Float64Array(idx.length);
  const values: (number | null)[] = new Array(idx.length);
  idx.forEach((k, i) => {
    steps[i] = step[k];
    timestamps[i] = Number(points[k].timestamp);
    values[i] = metricValue(points[k].value);
  });
  return { steps, values, timestamps };
}

/**
 * Keeps at most about `maxPoints` points: the series is cut into maxPoints/2 buckets and each keeps its min and its
 * max point (in step order), so peaks survive. Gaps are kept as they are (they matter and are rare).
 */
export function minMaxBucket(steps: ArrayLike<number>, values: ArrayLike<number | null>, maxPoints: number): { steps: number[]; values: (number | null)[] } {
  const n = steps.length;
  if (n <= maxPoints) return { steps: Array.from(steps), values: Array.from(values) };
  const buckets = Math.max(1, Math.floor(maxPoints / 2));
  const outS: number[] = [];
  const outV: (number | null)[] = [];
  for (let b = 0; b < buckets; b++) {
    const from = Math.floor((b * n) / buckets);
    const to = Math.floor(((b + 1) * n) / buckets);
    let lo = -1;
    let hi = -1;
    for (let i = from; i < to; i++) {
      const v = values[i];
      if (v === null) {
        continue;
      }
      if (lo < 0 || v < (values[lo] as number)) lo = i;
      if (hi < 0 || v > (values[hi] as number)) hi = i;
    }
    if (lo < 0) {
      outS.push(steps[from]);
      outV.push(null);
      continue;
    }
    for (const i of lo === hi ? [lo] : [Math.min(lo, hi), Math.max(lo, hi)]) {
      outS.push(steps[i]);
      outV.push(values[i]);
    }
  }
  return { steps: outS, values: outV };
}

/** Exponential moving average with TensorBoard's debiasing; weight 0 returns the input; gaps stay gaps. */
export function ema(values: ArrayLike<number | null>, weight: number): (number | null)[] {
  const out: (number | null)[] = new Array(values.length);
  if (!(weight > 0)) {
    for (let i = 0; i < values.length; i++) out[i] = values[i];
    return out;
  }
  const w = Math.min(weight, 0.999);
  let acc = 0;
  let k = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null) {
      out[i] = null;
      continue;
    }
    acc = acc * w + (1 - w) * v;
    k++;
    out[i] = acc / (1 - Math.pow(w, k));
  }
  return out;
}

/** "<n> points, last <v> at step <s>, min <a>, max <b>": the text a chart's figure carries for screen readers. */
export function summarize(total: number, steps: ArrayLike<number>, values: ArrayLike<number | null>): string {
  let min = Infinity;
  let max = -Infinity;
  let last = -1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null) continue;
    if (v < min) min = v;
    if (v > max) max = v;
    last = i;
  }
  if (last < 0) return `${total} points, no finite value`;
  return `${total} points, last ${fmtNum(values[last] as number)} at step ${steps[last]}, min ${fmtNum(min)}, max ${fmtNum(max)}`;
}

export function fmtNum(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(4) : String(Number(v.toPrecision(6)));
}
