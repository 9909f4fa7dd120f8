/**
 * The viewer's charts (chart.js, only the parts used, so the bundle stays small): throughput,
 * latency of each delivered chunk with p50/p99 per bucket, and bytes in flight with queue depths.
 * Every chart shades the fault intervals and host-down bands (a small plugin filling rectangles
 * before the datasets are drawn) and draws the failure pin and the cursor as vertical lines. The
 * x range follows the diagram's visible time range; clicking a chart moves the cursor to the
 * event at that time. Data comes from web/charts-model.ts. What the plugin drew is exposed on each
 * canvas (data-bands-drawn, data-pin-drawn, data-points, data-span: the x range's width, µs) for the browser tests.
 */
import {
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartDataset,
  type Plugin,
} from 'chart.js';
import { h } from './dom.js';
import { formatUs } from './model.js';
import {
  bytesInFlight,
  clipBands,
  latencyPoints,
  latencyQuantiles,
  makeBuckets,
  queueDepths,
  throughput,
  timeBands,
  type TimeBand,
  type XY,
} from './charts-model.js';
import type { DiagramModel } from './viewer-model.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, Tooltip, Legend);

/** Buckets across the visible range for throughput and latency quantiles. */
const BUCKETS = 60;
/** Latency points drawn at most (evenly thinned beyond: chart.js points cost per point). */
const LATENCY_POINTS_MAX = 2000;
/** Range updates wait this long after the last pan/zoom step (keeps the diagram's frames cheap). */
const RANGE_DEBOUNCE_MS = 60;
const PALETTE = ['#0072b2', '#009e73', '#e69f00', '#cc79a7', '#56b4e9', '#d55e00', '#f0e442'];

interface Overlay {
  bands: TimeBand[];
  pinUs: number;
  cursorUs: number;
}

/** Fault/pause bands under the data, failure pin and cursor over it. */
const overlayPlugin: Plugin<'line'> = {
  id: 'netlabOverlay',
  beforeDatasetsDraw(chart) {
    const o = overlays.get(chart);
    if (o === undefined) return;
    const { ctx, chartArea: area, scales } = chart;
    const x = scales.x!;
    const lo = x.min;
    const hi = x.max;
    let drawn = 0;
    ctx.save();
    for (const b of clipBands(o.bands, lo, hi)) {
      const x0 = x.getPixelForValue(b.startUs);
      const x1 = Math.max(x.getPixelForValue(b.endUs), x0 + 2);
      ctx.fillStyle = b.kind === 'fault' ? 'rgba(213, 94, 0, 0.16)' : 'rgba(0, 114, 178, 0.13)';
      ctx.fillRect(x0, area.top, x1 - x0, area.bottom - area.top);
      drawn++;
    }
    ctx.restore();
    chart.canvas.dataset.bandsDrawn = String(drawn);
  },
  afterDatasetsDraw(chart) {
    const o = overlays.get(chart);
    if (o === undefined) return;
    const { ctx, chartArea: area, scales } = chart;
    const x = scales.x!;
    const line = (t: number, color: string, dash: number[]): boolean => {
      if (t < x.min || t > x.max) return false;
      const px = Math.round(x.getPixelForValue(t)) + 0.5;
      ctx.save();
      ctx.strokeStyle = color;
      ctx.lineWidth = 1.5;
      ctx.setLineDash(dash);
      ctx.beginPath();
      ctx.moveTo(px, area.top);
      ctx.lineTo(px, area.bottom);
      ctx.stroke();
      ctx.restore();
      return true;
    };
    line(o.cursorUs, '#1a1a1a', [3, 3]);
    chart.canvas.dataset.pinDrawn = line(o.pinUs, '#c0392b', []) ? '1' : '0';
  },
};
const overlays = new WeakMap<Chart, Overlay>();

export interface ChartsHandle {
  /** The visible virtual-time range and the cursor's time (µs). */
  setRange(loUs: number, hiUs: number, cursorUs: number): void;
  destroy(): void;
}

/** Evenly thins sorted-by-x points in [lo, hi] to at most `max`. */
function thinInRange(points: readonly XY[], lo: number, hi: number, max: number): XY[] {
  const inRange = points.filter((p) => p.x >= lo && p.x <= hi);
  if (inRange.length <= max) return inRange;
  const step = inRange.length / max;
  return Array.from({ length: max }, (_, i) => inRange[Math.floor(i * step)]!);
}

export function mountCharts(
  host: HTMLElement,
  model: DiagramModel,
  pinUs: number,
  onPick: (tUs: number) => void,
): ChartsHandle {
  const bands = timeBands(model);
  const latency = latencyPoints(model);
  const inFlight = bytesInFlight(model);
  const queues = queueDepths(model);
  const tFirst = model.tUs[0] ?? 0;
  const tLast = model.tUs[model.tUs.length - 1] ?? 0;
  let range = { lo: tFirst, hi: Math.max(tLast, tFirst + 1), cursor: pinUs };

  const charts: Chart<'line', XY[]>[] = [];
  const make = (name: string, title: string, yTitle: string, datasets: ChartDataset<'line', XY[]>[]) => {
    const canvas = h('canvas', { class: `chart chart-${name}`, role: 'img', 'aria-label': title });
    host.append(
      h(
        'figure',
        { class: 'chart-box' },
        h('figcaption', {}, title),
        h('div', { class: 'chart-wrap' }, canvas),
      ),
    );
    const chart = new Chart<'line', XY[]>(canvas, {
      type: 'line',
      data: { datasets },
      options: {
        animation: false,
        responsive: true,
        maintainAspectRatio: false,
        parsing: false,
        normalized: true,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        scales: {
          x: {
            type: 'linear',
            min: range.lo,
            max: range.hi,
            ticks: { callback: (v) => formatUs(Number(v)), maxTicksLimit: 8 },
          },
          y: { type: 'linear', beginAtZero: true, title: { display: true, text: yTitle } },
        },
        plugins: {
          legend: { labels: { boxWidth: 12 } },
          tooltip: { callbacks: { title: (items) => formatUs(items[0]?.parsed.x ?? 0) } },
        },
        onClick: (ev, _els, c) => {
          if (ev.x === null) return;
          onPick(c.scales.x!.getValueForPixel(ev.x) ?? range.lo);
        },
      },
      plugins: [overlayPlugin],
    });
    overlays.set(chart, { bands, pinUs, cursorUs: range.cursor });
    charts.push(chart);
    return chart;
  };

  const lineDs = (
    label: string,
    data: XY[],
    color: string,
    extra: Partial<ChartDataset<'line', XY[]>> = {},
  ) =>
    ({
      label,
      data,
      borderColor: color,
      backgroundColor: color,
      borderWidth: 1.5,
      pointRadius: 0,
      ...extra,
    }) as ChartDataset<'line', XY[]>;

  const tput = make('throughput', 'Throughput: bytes delivered per bucket', 'bytes', []);
  const lat = make('latency', 'Latency of each delivered chunk (delivery − send)', 'µs', []);
  const flight = make(
    'inflight',
    'Bytes in flight (written, not yet delivered) and queue depths',
    'bytes',
    [],
  );
  if (queues.length > 0) {
    flight.options.scales = {
      ...flight.options.scales,
      y1: { type: 'linear', position: 'right', beginAtZero: true, title: { display: true, text: 'depth' } },
    };
  }

  function fill(): void {
    const b = makeBuckets(range.lo, range.hi, BUCKETS);
    const tp = throughput(model, b);
    tput.data.datasets = [
      lineDs('all hosts', tp.total, '#1a1a1a', { stepped: 'middle' }),
      ...tp.perHost.map((s, i) =>
        lineDs(`to ${s.host}`, s.points, PALETTE[i % PALETTE.length]!, {
          stepped: 'middle',
          borderDash: [4, 2],
        }),
      ),
    ];
    const q = latencyQuantiles(
      latency.filter((p) => p.x >= b.t0 && p.x <= range.hi),
      b,
    );
    lat.data.datasets = [
      lineDs(
        'chunk',
        thinInRange(latency, range.lo, range.hi, LATENCY_POINTS_MAX),
        'rgba(0, 114, 178, 0.5)',
        {
          showLine: false,
          pointRadius: 2,
        },
      ),
      lineDs('p50', q.p50, '#009e73'),
      lineDs('p99', q.p99, '#d55e00'),
    ];
    flight.data.datasets = [
      lineDs('bytes in flight', inFlight, '#0072b2', { stepped: 'before' }),
      ...queues.map((s, i) =>
        lineDs(`queue ${s.label}`, s.points, PALETTE[(i + 2) % PALETTE.length]!, {
          stepped: 'before',
          yAxisID: 'y1',
        }),
      ),
    ];
    for (const c of charts) {
      const x = c.options.scales?.x;
      if (x !== undefined) {
        x.min = range.lo;
        x.max = range.hi;
      }
      overlays.get(c)!.cursorUs = range.cursor;
      c.update('none');
      const n = c.data.datasets.reduce((s, d) => s + d.data.length, 0);
      c.canvas.dataset.points = String(n);
      c.canvas.dataset.span = String(range.hi - range.lo);
    }
  }
  fill();

  let timer: ReturnType<typeof setTimeout> | null = null;
  return {
    setRange(loUs, hiUs, cursorUs) {
      const next = { lo: loUs, hi: Math.max(hiUs, loUs + 1), cursor: cursorUs };
      if (next.lo === range.lo && next.hi === range.hi && next.cursor === range.cursor) return;
      range = next;
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        fill();
      }, RANGE_DEBOUNCE_MS);
    },
    destroy() {
      if (timer !== null) clearTimeout(timer);
      for (const c of charts) c.destroy();
    },
  };
}
