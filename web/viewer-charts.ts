/**
 * The viewer's charts (chart.js, only the parts used, so the bundle stays small): throughput,
 * latency of each delivered chunk with p50/p99 per bucket, bytes in flight per connection, and the
 * receive queue per socket with the trace's queue-depth samples. Every chart shades the fault
 * intervals and host-down bands (a small plugin filling rectangles before the datasets are drawn)
 * and draws the failure pin and the cursor as vertical lines. The charts and the diagram share the
 * visible time range both ways: the x range follows the diagram's zoom and pan, and dragging across
 * a chart (brush-select) sets the diagram's range; a click moves the cursor to the event at that
 * time. The viewer's filter selects the arrows the charts count. Data comes from
 * web/charts-model.ts. What the plugin drew is exposed on each canvas (data-bands-drawn,
 * data-pin-drawn, data-points, data-series, data-span: the x range's width, µs; data-x-min/max and
 * data-area-left/right: the x scale) for the browser tests.
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
  bytesInFlightByConn,
  clipBands,
  CONN_SERIES_MAX,
  latencyPoints,
  latencyQuantiles,
  makeBuckets,
  queueDepths,
  recvQueueBySocket,
  throughput,
  timeBands,
  type Series,
  type TimeBand,
  visibleSteps,
  type XY,
} from './charts-model.js';
import { EMPTY_FILTER, type DiagramModel, type FilterMask, type ViewerFilter } from './viewer-model.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, Tooltip, Legend);

/** Buckets across the visible range for throughput and latency quantiles. */
const BUCKETS = 60;
/** Latency points drawn at most (evenly thinned beyond: chart.js points cost per point). */
const LATENCY_POINTS_MAX = 2000;
/** Points per level series (bytes in flight, queues) drawn at most: thinned keeping peaks beyond. */
const STEP_POINTS_MAX = 1200;
/** Range updates wait this long after the last pan/zoom step (keeps the diagram's frames cheap). */
const RANGE_DEBOUNCE_MS = 60;
/** A drag shorter than this (CSS px) is a click, not a brush. */
const BRUSH_MIN_PX = 5;
const PALETTE = ['#0072b2', '#009e73', '#e69f00', '#cc79a7', '#56b4e9', '#d55e00', '#f0e442'];
const OTHER_COLOR = '#8a8a8a';

interface Overlay {
  bands: TimeBand[];
  pinUs: number;
  cursorUs: number;
  /** The range being brushed (µs), while a drag is on. */
  brush: { fromUs: number; toUs: number } | null;
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
    const ds = chart.canvas.dataset;
    ds.pinDrawn = line(o.pinUs, '#c0392b', []) ? '1' : '0';
    // The x scale as drawn (CSS px of the canvas), so a test can aim a brush at given times.
    ds.xMin = String(x.min);
    ds.xMax = String(x.max);
    ds.areaLeft = String(area.left);
    ds.areaRight = String(area.right);
    if (o.brush !== null) {
      const x0 = x.getPixelForValue(Math.min(o.brush.fromUs, o.brush.toUs));
      const x1 = x.getPixelForValue(Math.max(o.brush.fromUs, o.brush.toUs));
      ctx.save();
      ctx.fillStyle = 'rgba(0, 114, 178, 0.15)';
      ctx.strokeStyle = '#0072b2';
      ctx.fillRect(x0, area.top, x1 - x0, area.bottom - area.top);
      ctx.strokeRect(x0 + 0.5, area.top + 0.5, x1 - x0 - 1, area.bottom - area.top - 1);
      ctx.restore();
    }
  },
};
const overlays = new WeakMap<Chart, Overlay>();

export interface ChartsHandle {
  /** The visible virtual-time range and the cursor's time (µs). */
  setRange(loUs: number, hiUs: number, cursorUs: number): void;
  /** The viewer's filter and its mask over the model (null: everything). */
  setFilter(filter: ViewerFilter, mask: FilterMask | null): void;
  destroy(): void;
}

export interface ChartsCallbacks {
  /** A click at virtual time t (µs). */
  onPick: (tUs: number) => void;
  /** A brushed range [lo, hi] (µs): the diagram shows it. */
  onRange: (loUs: number, hiUs: number) => void;
}

/** Evenly thins sorted-by-x points in [lo, hi] to at most `max`. */
function thinInRange(points: readonly XY[], lo: number, hi: number, max: number): XY[] {
  const inRange = points.filter((p) => p.x >= lo && p.x <= hi);
  if (inRange.length <= max) return inRange;
  const step = inRange.length / max;
  return Array.from({ length: max }, (_, i) => inRange[Math.floor(i * step)]!);
}

const lineDs = (label: string, data: XY[], color: string, extra: Partial<ChartDataset<'line', XY[]>> = {}) =>
  ({
    label,
    data,
    borderColor: color,
    backgroundColor: color,
    borderWidth: 1.5,
    pointRadius: 0,
    ...extra,
  }) as ChartDataset<'line', XY[]>;

/** A line chart over virtual time on `canvas`; `y1Title` adds a right-hand axis (shown only when a dataset uses it). */
function lineChart(
  canvas: HTMLCanvasElement,
  range: { lo: number; hi: number },
  yTitle: string,
  y1Title: string | null,
): Chart<'line', XY[]> {
  return new Chart<'line', XY[]>(canvas, {
    type: 'line',
    data: { datasets: [] },
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
        // Set here, not added later: a copy of chart.js's resolved options breaks its resolver.
        ...(y1Title === null
          ? {}
          : {
              y1: {
                type: 'linear' as const,
                position: 'right' as const,
                beginAtZero: true,
                display: 'auto' as const,
                title: { display: true, text: y1Title },
              },
            }),
      },
      plugins: {
        legend: { labels: { boxWidth: 12 } },
        tooltip: { callbacks: { title: (items) => formatUs(items[0]?.parsed.x ?? 0) } },
      },
    },
    plugins: [overlayPlugin],
  });
}

/** The four charts over one model, following the diagram's range and the viewer's filter. */
class ViewerCharts implements ChartsHandle {
  private readonly bands: TimeBand[];
  // What the filter selects, recomputed when it changes (not per range change).
  private latency: XY[] = [];
  private inFlight: XY[] = [];
  private inFlightByConn: Series[] = [];
  private recvQueues: Series[] = [];
  private queues: { label: string; points: XY[] }[] = [];
  private arrowMask: Uint8Array | null = null;
  private range: { lo: number; hi: number; cursor: number };
  private readonly charts: Chart<'line', XY[]>[] = [];
  private readonly tput: Chart<'line', XY[]>;
  private readonly lat: Chart<'line', XY[]>;
  private readonly flight: Chart<'line', XY[]>;
  private readonly queueChart: Chart<'line', XY[]>;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly host: HTMLElement,
    private readonly model: DiagramModel,
    private readonly pinUs: number,
    private readonly callbacks: ChartsCallbacks,
  ) {
    this.bands = timeBands(model);
    this.select(EMPTY_FILTER, null);
    const tFirst = model.tUs[0] ?? 0;
    const tLast = model.tUs[model.tUs.length - 1] ?? 0;
    this.range = { lo: tFirst, hi: Math.max(tLast, tFirst + 1), cursor: pinUs };
    this.tput = this.make('throughput', 'Throughput: bytes delivered per bucket', 'bytes');
    this.lat = this.make('latency', 'Latency of each delivered chunk (delivery − send)', 'µs');
    this.flight = this.make(
      'inflight',
      `Bytes in flight (written, not yet delivered) per connection: the ${CONN_SERIES_MAX} busiest, the rest as other`,
      'bytes',
    );
    this.queueChart = this.make(
      'queues',
      'Receive queue per socket (bytes delivered, not yet read) and queue-depth samples',
      'bytes',
      'depth',
    );
    this.fill();
  }

  private select(filter: ViewerFilter, mask: FilterMask | null): void {
    const model = this.model;
    const arrowMask = mask?.arrows ?? null;
    const hostNames = new Set(filter.hosts);
    const keepHost = (hi: number): boolean =>
      filter.hosts.length === 0 || hostNames.has(model.hosts[hi]?.name ?? '');
    const keepConn = (c: number): boolean => filter.conns.length === 0 || filter.conns.includes(c);
    this.arrowMask = arrowMask;
    this.latency = latencyPoints(model, arrowMask);
    this.inFlight = bytesInFlight(model, arrowMask);
    this.inFlightByConn = bytesInFlightByConn(model, CONN_SERIES_MAX, arrowMask);
    this.recvQueues = recvQueueBySocket(model, CONN_SERIES_MAX, (hi, c) => keepHost(hi) && keepConn(c));
    this.queues = queueDepths(model, keepHost);
  }

  private make(
    name: string,
    title: string,
    yTitle: string,
    y1Title: string | null = null,
  ): Chart<'line', XY[]> {
    const canvas = h('canvas', { class: `chart chart-${name}`, role: 'img', 'aria-label': title });
    this.host.append(
      h(
        'figure',
        { class: 'chart-box' },
        h('figcaption', {}, title),
        h('div', { class: 'chart-wrap' }, canvas),
      ),
    );
    const chart = lineChart(canvas, this.range, yTitle, y1Title);
    const overlay: Overlay = {
      bands: this.bands,
      pinUs: this.pinUs,
      cursorUs: this.range.cursor,
      brush: null,
    };
    overlays.set(chart, overlay);
    this.charts.push(chart);
    this.brushable(chart, overlay);
    return chart;
  }

  /** Drag across a chart: a brushed range for the diagram; a click without a drag: the cursor. */
  private brushable(chart: Chart<'line', XY[]>, overlay: Overlay): void {
    const canvas = chart.canvas;
    const valueAt = (clientX: number): number => {
      const x = chart.scales.x!;
      const px = clientX - canvas.getBoundingClientRect().left;
      const v = x.getValueForPixel(Math.max(chart.chartArea.left, Math.min(chart.chartArea.right, px)));
      return v ?? this.range.lo;
    };
    let down: { clientX: number; fromUs: number; dragging: boolean } | null = null;
    canvas.addEventListener('pointerdown', (ev) => {
      if (ev.button !== 0) return;
      down = { clientX: ev.clientX, fromUs: valueAt(ev.clientX), dragging: false };
      canvas.setPointerCapture(ev.pointerId);
    });
    canvas.addEventListener('pointermove', (ev) => {
      if (down === null) return;
      if (Math.abs(ev.clientX - down.clientX) >= BRUSH_MIN_PX) down.dragging = true;
      if (!down.dragging) return;
      overlay.brush = { fromUs: down.fromUs, toUs: valueAt(ev.clientX) };
      chart.draw();
    });
    const finish = (ev: PointerEvent, cancelled: boolean): void => {
      if (down === null) return;
      const d = down;
      down = null;
      overlay.brush = null;
      if (cancelled) return void chart.draw();
      const toUs = valueAt(ev.clientX);
      if (!d.dragging) return this.callbacks.onPick(toUs);
      chart.draw();
      this.callbacks.onRange(Math.min(d.fromUs, toUs), Math.max(d.fromUs, toUs));
    };
    canvas.addEventListener('pointerup', (ev) => finish(ev, false));
    canvas.addEventListener('pointercancel', (ev) => finish(ev, true));
  }

  /** A level series as drawn: cut to the visible range and thinned. */
  private steps(points: readonly XY[]): XY[] {
    return visibleSteps(points, this.range.lo, this.range.hi, STEP_POINTS_MAX);
  }

  private seriesDs(list: readonly Series[], dash: number[] = []): ChartDataset<'line', XY[]>[] {
    return list.map((s, i) =>
      lineDs(s.label, this.steps(s.points), s.key === 'other' ? OTHER_COLOR : PALETTE[i % PALETTE.length]!, {
        stepped: 'before',
        borderDash: dash,
      }),
    );
  }

  /** The datasets for the current range and filter, then every chart redrawn. */
  private fill(): void {
    const range = this.range;
    const b = makeBuckets(range.lo, range.hi, BUCKETS);
    const tp = throughput(this.model, b, this.arrowMask);
    this.tput.data.datasets = [
      lineDs('all hosts', tp.total, '#1a1a1a', { stepped: 'middle' }),
      ...tp.perHost.map((s, i) =>
        lineDs(`to ${s.host}`, s.points, PALETTE[i % PALETTE.length]!, {
          stepped: 'middle',
          borderDash: [4, 2],
        }),
      ),
    ];
    const q = latencyQuantiles(
      this.latency.filter((p) => p.x >= b.t0 && p.x <= range.hi),
      b,
    );
    this.lat.data.datasets = [
      lineDs(
        'chunk',
        thinInRange(this.latency, range.lo, range.hi, LATENCY_POINTS_MAX),
        'rgba(0, 114, 178, 0.5)',
        {
          showLine: false,
          pointRadius: 2,
        },
      ),
      lineDs('p50', q.p50, '#009e73'),
      lineDs('p99', q.p99, '#d55e00'),
    ];
    this.flight.data.datasets = [
      // The total only when it differs from the one connection's series.
      ...(this.inFlightByConn.length > 1
        ? [
            lineDs('all connections', this.steps(this.inFlight), '#1a1a1a', {
              stepped: 'before',
              borderDash: [4, 2],
            }),
          ]
        : []),
      ...this.seriesDs(this.inFlightByConn),
    ];
    this.queueChart.data.datasets = [
      ...this.seriesDs(this.recvQueues),
      ...this.queues.map((s, i) =>
        lineDs(`queue ${s.label}`, this.steps(s.points), PALETTE[(i + 2) % PALETTE.length]!, {
          stepped: 'before',
          yAxisID: 'y1',
          borderDash: [2, 2],
        }),
      ),
    ];
    for (const c of this.charts) this.redraw(c);
  }

  private redraw(c: Chart<'line', XY[]>): void {
    const range = this.range;
    const x = c.options.scales?.x;
    if (x !== undefined) {
      x.min = range.lo;
      x.max = range.hi;
    }
    overlays.get(c)!.cursorUs = range.cursor;
    c.update('none');
    const n = c.data.datasets.reduce((s, d) => s + d.data.length, 0);
    c.canvas.dataset.points = String(n);
    c.canvas.dataset.series = c.data.datasets.map((d) => d.label ?? '').join('|');
    c.canvas.dataset.span = String(range.hi - range.lo);
  }

  setRange(loUs: number, hiUs: number, cursorUs: number): void {
    const next = { lo: loUs, hi: Math.max(hiUs, loUs + 1), cursor: cursorUs };
    const range = this.range;
    if (next.lo === range.lo && next.hi === range.hi && next.cursor === range.cursor) return;
    this.range = next;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.fill();
    }, RANGE_DEBOUNCE_MS);
  }

  setFilter(filter: ViewerFilter, mask: FilterMask | null): void {
    this.select(filter, mask);
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.fill();
  }

  destroy(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    for (const c of this.charts) c.destroy();
  }
}

export function mountCharts(
  host: HTMLElement,
  model: DiagramModel,
  pinUs: number,
  callbacks: ChartsCallbacks,
): ChartsHandle {
  return new ViewerCharts(host, model, pinUs, callbacks);
}
