// The lazy chunk: uPlot and its CSS load only on pages with charts.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  values: (number | null)[];
}

export interface ChartOptions {
  width: number;
  height: number;
  x: number[];
  series: ChartSeries[];
  logY?: boolean;
  xLabel?: string;
  sync?: string;
  dark?: boolean;
  /** Labels of series drawn hidden (a legend click shows them again). */
  hidden?: string[];
  /** Told when the reader shows or hides a series by clicking its legend entry. */
  onToggle?: (label: string, show: boolean) => void;
}

const COLORS = ['#2f6fde', '#d9480f', '#2b8a3e', '#ae3ec9', '#e67700', '#0c8599', '#c2255c', '#5c940d'];

export function draw(el: HTMLElement, o: ChartOptions): { destroy: () => void; setSize: (w: number) => void } {
  performance.mark('alidade:chart:start');
  const axis = { stroke: o.dark ? '#c9d1d9' : '#333', grid: { stroke: o.dark ? '#30363d' : '#e5e5e5' }, ticks: { stroke: o.dark ? '#30363d' : '#ccc' } };
  const plot = new uPlot(
    {
      width: o.width,
      height: o.height,
      scales: { x: { time: false }, y: o.logY ? { distr: 3 } : {} },
      axes: [{ ...axis, label: o.xLabel }, axis],
      cursor: o.sync ? { sync: { key: o.sync } } : {},
      series: [{ label: o.xLabel ?? 'step' }, ...o.series.map((s, i) => ({ label: s.label, show: !o.hidden?.includes(s.label), stroke: COLORS[i % COLORS.length], width: 1.25, spanGaps: false, points: { show: false } }))],
      hooks: o.onToggle ? { setSeries: [(u: uPlot, i: number | null, opts: uPlot.Series) => i !== null && i > 0 && opts.show !== undefined && o.onToggle!(String(u.series[i].label), opts.show)] } : {},
    },
    [o.x, ...o.series.map((s) => s.values)] as uPlot.AlignedData,
    el,
  );
  performance.mark('alidade:chart:end');
  performance.measure('alidade:chart', 'alidade:chart:start', 'alidade:chart:end');
  return { destroy: () => plot.destroy(), setSize: (w: number) => plot.setSize({ width: w, height: o.height }) };
}
