import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { fmtNum, summarize } from '../lib/series';
import { setQuery } from '../router';
import type { ChartOptions } from './chart-impl';

/** The chart options every chart page has, in the URL: log y (`?log=1`) and EMA smoothing (`?smooth=`). */
export function ViewControls({ logY, smooth }: { logY: boolean; smooth: number }): JSX.Element {
  return (
    <>
      <label class="check">
        <input type="checkbox" checked={logY} onChange={(e) => setQuery({ log: e.currentTarget.checked ? '1' : null })} /> log y
      </label>
      <label>
        smoothing
        <input type="range" min="0" max="0.99" step="0.01" value={smooth} onChange={(e) => setQuery({ smooth: Number(e.currentTarget.value) ? e.currentTarget.value : null })} />
      </label>
    </>
  );
}

/** The uPlot chunk, fetched once; a page that will chart starts it alongside its data requests, not after them. */
let chartChunk: Promise<typeof import('./chart-impl')> | null = null;
export function loadChart(): Promise<typeof import('./chart-impl')> {
  chartChunk ??= import('./chart-impl').catch((e: Error) => {
    chartChunk = null;
    throw e;
  });
  return chartChunk;
}

/**
 * One metric chart: a <figure> captioned by the metric key, with the text summary and a "View as table" toggle.
 * The canvas is drawn by uPlot from the lazy chunk. `x` and every series are aligned arrays.
 */
export function MetricFigure(props: { title: string; total: number; x: number[]; series: { label: string; values: (number | null)[] }[]; logY?: boolean; xLabel?: string; sync?: string; note?: string; hidden?: string[]; onToggle?: (label: string, show: boolean) => void }): JSX.Element {
  const box = useRef<HTMLDivElement>(null);
  const [table, setTable] = useState(false);
  const [failed, setFailed] = useState<string | null>(null);
  const main = props.series[0];
  useEffect(() => {
    const el = box.current;
    if (!el || table) return;
    let chart: { destroy: () => void; setSize: (w: number) => void } | null = null;
    let gone = false;
    const dark = document.documentElement.dataset.theme === 'dark' || (!document.documentElement.dataset.theme && matchMedia('(prefers-color-scheme: dark)').matches);
    loadChart()
      .then(({ draw }) => {
        if (gone) return;
        el.textContent = '';
        const o: ChartOptions = { width: Math.max(280, el.clientWidth || 600), height: 240, x: props.x, series: props.series, logY: props.logY, xLabel: props.xLabel ?? 'step', sync: props.sync, dark, hidden: props.hidden, onToggle: props.onToggle };
        chart = draw(el, o);
      })
      .catch((e: Error) => setFailed(e.message));
    const ro = new ResizeObserver(() => chart?.setSize(Math.max(280, el.clientWidth)));
    ro.observe(el);
    return () => {
      gone = true;
      ro.disconnect();
      chart?.destroy();
    };
  }, [props.x, props.series, props.logY, table, props.hidden?.join()]);
  const summary = main ? summarize(props.total, props.x, main.values) : `${props.total} points`;
  return (
    <figure class="chart" aria-label={props.title}>
      <figcaption>
        <strong>{props.title}</strong> <span class="muted summary">{summary}</span>
        {props.note && <span class="muted"> · {props.note}</span>}
        <button type="button" class="small" aria-pressed={table} onClick={() => setTable(!table)}>
          View as table
        </button>
      </figcaption>
      {failed && <p role="alert">{failed}</p>}
      {table ? <PointsTable title={props.title} x={props.x} series={props.series} /> : <div ref={box} class="chart-box" role="img" aria-label={`${props.title}: ${summary}`} />}
    </figure>
  );
}

/** The points as a table, windowed: only the rows in view exist. */
function PointsTable({ title, x, series }: { title: string; x: number[]; series: { label: string; values: (number | null)[] }[] }): JSX.Element {
  const [top, setTop] = useState(0);
  const H = 24;
  const view = 12;
  const first = Math.max(0, Math.floor(top / H) - 2);
  const rows = [];
  for (let i = first; i < Math.min(x.length, first + view + 4); i++)
    rows.push(
      <tr key={i} style={{ position: 'absolute', top: `${i * H}px`, height: `${H}px` }}>
        <td>{x[i]}</td>
        {series.map((s) => (
          <td key={s.label}>{s.values[i] === null ? 'NaN' : fmtNum(s.values[i] as number)}</td>
        ))}
      </tr>,
    );
  return (
    <div class="points" tabIndex={0} aria-label={`${title} points`} role="region" onScroll={(e) => setTop((e.currentTarget as HTMLElement).scrollTop)} style={{ height: `${(view + 1) * H}px` }}>
      <table aria-label={`${title} points`} aria-rowcount={x.length + 1}>
        <thead>
          <tr>
            <th>step</th>
            {series.map((s) => (
              <th key={s.label}>{s.label}</th>
            ))}
          </tr>
        </thead>
        <tbody style={{ position: 'relative', display: 'block', height: `${x.length * H}px` }}>{rows}</tbody>
      </table>
    </div>
  );
}
