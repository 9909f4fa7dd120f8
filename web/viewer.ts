/**
 * The scenario viewer (runs in the browser, part of the report page): one case's trace as a
 * sequence diagram drawn to time scale on a canvas, a filter across every pane, a scrubber with
 * per-host state, a message pane with decoded fields over a hex dump, charts sharing the diagram's
 * time range, an in-page re-run of the case's scenario (hash check, the rerun drawn as a second
 * diagram on the same time axis, the first divergence marked on both), and a Chrome Trace Event
 * export. The model is web/viewer-model.ts; this module only renders and handles input. Drawing
 * touches only the events in view (binary search over precomputed positions), so a 100 k-event
 * trace pans smoothly.
 */
import { eventDigest, firstDivergence, type TraceEvent } from '../sim/trace.js';
import { h, message } from './dom.js';
import { formatUs } from './model.js';
import { mountCharts, type ChartsHandle } from './viewer-charts.js';
import type { NetlabRunner } from './rerun-entry.js';
import {
  applyKnobs,
  buildDiagram,
  changedCells,
  describeEvent,
  EMPTY_FILTER,
  eventAtTime,
  failurePin,
  filterMask,
  layout,
  layoutAligned,
  lowerBound,
  messageView,
  parseFilter,
  parseTrace,
  posAtTime,
  STATE_COLUMNS,
  StateIndex,
  stateRows,
  stepMatching,
  timeAt,
  toChromeTrace,
  type DiagramModel,
  type FilterMask,
  type GlyphKind,
  type Layout,
  type RerunKnobs,
  type ViewerFilter,
} from './viewer-model.js';

export type { NetlabRunner };

/** What the report page hands the viewer. */
export interface ViewerContext {
  caseId: string;
  title: string;
  /** The failed check, when the case failed: shown above the diagram. */
  failure: { invariant: string | null; expected: string | null; actual: string | null } | null;
  tracePath: string;
  loadTrace: () => Promise<string>;
  /** The recorded scenario and seed (the case file), when the case has a counterexample. */
  counterexample: { scenario: unknown; simSeed: string; traceHash: string | null } | null;
  loadRunner: () => Promise<NetlabRunner>;
  /** Initial moment (virtual µs) and message (event seq) from the URL hash. */
  tUs: number | null;
  msg: number | null;
  /** Initial filter text from the URL hash ('' for none): `host:NAME conn:ID words`. */
  filter: string;
  /** Called when the selected moment or message changes (the page keeps them in the URL hash). */
  onMoment: (tUs: number, msg: number | null) => void;
  /** Called when the filter text changes (the page keeps it in the URL hash). */
  onFilter: (text: string) => void;
  onClose: () => void;
}

export interface ViewerHandle {
  destroy(): void;
}

/** Pixels: the left time column, the header with host names, the right comment column. */
const TIME_COL_PX = 90;
const HEADER_PX = 30;
const COMMENT_COL_PX = 280;
/** The diagram's height, CSS px. */
const CANVAS_HEIGHT_PX = 560;
/** Comment labels are drawn when at most this many events are in view (else they would be a smear). */
const COMMENTS_MAX = 250;
/** Arrowheads are drawn when at most this many arrows are in view. */
const ARROWHEADS_MAX = 3000;
/** A delivery on one host is a loop this far (px) right of its lifeline, at least this tall (px). */
const LOOP_PX = 26;
const LOOP_MIN_PX = 10;
/** The filter applies this long (ms) after the last key (Enter applies it at once). */
const FILTER_DEBOUNCE_MS = 150;
/** Events kept from a rerun (the same bound netlab run uses for a failing case's trace). */
const RERUN_TRACE_EVENTS_MAX = 500_000;
/** Rows of the aligned old/new table around the first divergence. */
const DIFF_ROWS_BEFORE = 4;
const DIFF_ROWS_AFTER = 12;
/** Rows of the event list around the cursor. */
const EVENT_LIST_BEFORE = 8;
const EVENT_LIST_AFTER = 12;

const GLYPH_CHAR: Record<GlyphKind, string> = {
  'partial-write': '◐',
  loss: '✕',
  drop: '✖',
  reset: '⊘',
  crash: '☠',
  restart: '↻',
  pause: '‖',
  resume: '▶',
  'connect-error': '⊗',
  error: '!',
};

const COLORS = {
  arrow: '#0072b2',
  split: '#e69f00',
  tick: '#8a8a8a',
  tx: '#0072b2',
  rx: '#009e73',
  glyph: '#d55e00',
  pin: '#c0392b',
  cursor: '#1a1a1a',
  diverge: '#cc79a7',
  faultBand: 'rgba(213, 94, 0, 0.13)',
  pauseBand: 'rgba(0, 114, 178, 0.13)',
  lifeline: '#c8c8c8',
  /** What the filter leaves out. */
  dimmed: '#dddddd',
};

function lowerBoundBy(n: number, at: (i: number) => number, x: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (at(mid) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Opens the viewer in `host` (emptied first). */
export function openViewer(host: HTMLElement, ctx: ViewerContext): ViewerHandle {
  const controller = new AbortController();
  const signal = controller.signal;
  const status = h('p', { class: 'viewer-status', 'aria-live': 'polite' }, `Decoding ${ctx.tracePath}…`);
  const back = h('button', { type: 'button', class: 'close viewer-back' }, '← Case page (Escape)');
  back.addEventListener('click', ctx.onClose, { signal });
  host.replaceChildren(
    back,
    h('p', { class: 'crumb' }, 'Scenario viewer'),
    h('h2', { id: 'viewer-title', tabindex: -1 }, ctx.title),
    failureLine(ctx),
    status,
  );
  let destroyed = false;
  let inner: ViewerHandle | null = null;
  ctx.loadTrace().then(
    (text) => {
      if (destroyed) return;
      try {
        const parsed = parseTrace(text);
        status.textContent =
          `${parsed.events.length} events · ${ctx.tracePath}` +
          (parsed.badLines > 0 ? ` · ${parsed.badLines} bad line(s) skipped` : '');
        if (parsed.events.length === 0) {
          status.append(h('span', { class: 'problem' }, ' — the trace has no events to show.'));
          return;
        }
        inner = mountViewer(host, ctx, parsed.events, signal);
      } catch (e) {
        status.replaceChildren(
          h('span', { class: 'problem', role: 'alert' }, `The viewer failed: ${message(e)}`),
        );
        console.warn('netlab viewer failed', e);
      }
    },
    (e: unknown) => {
      status.replaceChildren(h('span', { class: 'problem', role: 'alert' }, message(e)));
    },
  );
  document.getElementById('viewer-title')?.focus();
  return {
    destroy() {
      destroyed = true;
      inner?.destroy();
      controller.abort();
    },
  };
}

function failureLine(ctx: ViewerContext): HTMLElement {
  if (ctx.failure === null)
    return h('p', { class: 'muted' }, 'This case did not fail: the viewer opens at the end of its trace.');
  const f = ctx.failure;
  return h(
    'p',
    { class: 'viewer-failure' },
    h('strong', {}, '✗ failed: '),
    h('code', {}, f.invariant ?? '?'),
    f.expected !== null ? ` — expected ${f.expected}` : '',
    f.actual !== null ? `; actual ${f.actual}` : '',
  );
}

/** One diagram on a canvas: the recorded trace, or a rerun drawn beside it on the same time axis. */
interface Pane {
  role: 'recorded' | 'rerun';
  canvas: HTMLCanvasElement;
  wrap: HTMLElement;
  g: CanvasRenderingContext2D;
  model: DiagramModel;
  lay: Layout;
  widthPx: number;
  /** The filter's mask over this pane's model (null: no filter). */
  mask: FilterMask | null;
  glyphEvents: Int32Array;
  messageEvents: Int32Array;
  /** The first event where the recorded and rerun traces differ (index in this pane's trace). */
  divergence: number | null;
}

function mountViewer(
  host: HTMLElement,
  ctx: ViewerContext,
  events: TraceEvent[],
  signal: AbortSignal,
): ViewerHandle {
  const hostOrder =
    isObject(ctx.counterexample?.scenario) && Array.isArray(ctx.counterexample.scenario.hosts)
      ? ctx.counterexample.scenario.hosts.filter((x): x is string => typeof x === 'string')
      : [];
  const model: DiagramModel = buildDiagram(events, hostOrder);
  const states = new StateIndex(model);
  const n = events.length;
  const pin = failurePin(events);

  // View, shared by the panes (they are laid out on one axis): the layout coordinate at the top of
  // the plot, and pixels per layout unit.
  let viewStart = 0;
  let pxPerUnit = 1;
  let cursor = pin.event;
  let selectedMsg: number | null = null;
  let drawPending = false;
  let playing: { rate: number; tUs: number; lastMs: number } | null = null;
  let filter: ViewerFilter = EMPTY_FILTER;
  let filterProblems: string[] = [];

  // ---- DOM ----
  const diagrams = h('div', { class: 'diagrams' });
  const compress = h('input', { type: 'checkbox', id: 'compress', checked: true });
  const zoomIn = h('button', { type: 'button', class: 'zoom-in', title: 'Zoom in (+)' }, '+');
  const zoomOut = h('button', { type: 'button', class: 'zoom-out', title: 'Zoom out (−)' }, '−');
  const fit = h('button', { type: 'button', class: 'fit', title: 'Show the whole trace (0)' }, 'Fit');
  const toPin = h('button', { type: 'button', class: 'to-pin' }, '✗ Go to the failure pin');
  const exportLink = h(
    'a',
    { class: 'export', href: '#', download: 'trace.chrome.json' },
    'Export Chrome trace (Perfetto)',
  );
  const filterInput = h('input', {
    type: 'search',
    class: 'filter',
    autocomplete: 'off',
    spellcheck: 'false',
    placeholder: `host:${model.hosts[0]?.name ?? 'server'} conn:${model.conns[0]?.id ?? 1} request-id=…`,
    'aria-label': 'Filter: host:NAME, conn:ID (or conn:inproc), and words the events must contain',
    'aria-describedby': 'filter-status',
  });
  const filterStatus = h('span', {
    id: 'filter-status',
    class: 'filter-status muted',
    'aria-live': 'polite',
  });
  const slider = h('input', {
    type: 'range',
    class: 'scrub',
    min: 0,
    max: n - 1,
    value: cursor,
    'aria-label': 'Event (scrubber)',
  });
  const momentText = h('span', { class: 'moment', 'data-field': 'moment' });
  const prev = h(
    'button',
    { type: 'button', class: 'step-back', title: 'Previous (matching) event (←)' },
    '◀',
  );
  const next = h('button', { type: 'button', class: 'step-fwd', title: 'Next (matching) event (→)' }, '▶');
  const play = h('button', { type: 'button', class: 'play' }, '► Play');
  const speed = h(
    'select',
    { class: 'speed', 'aria-label': 'Playback speed' },
    h('option', { value: '1' }, '×1'),
    h('option', { value: '10' }, '×10'),
    h('option', { value: '100' }, '×100'),
  );
  const prevMsg = h('button', { type: 'button', class: 'msg-prev', title: 'Previous message (p)' }, '◀ msg');
  const nextMsg = h('button', { type: 'button', class: 'msg-next', title: 'Next message (n)' }, 'msg ▶');
  const stateTable = h('table', { class: 'state' });
  const eventList = h('table', { class: 'events' });
  const eventListNote = h('p', { class: 'muted events-note' });
  const msgPane = h('section', { class: 'msg-pane', 'aria-label': 'Message' });
  const rerunPane = h('section', { class: 'rerun', 'aria-label': 'Re-run in the page' });
  const chartsPane = h('section', { class: 'charts', 'aria-label': 'Charts' });
  let charts: ChartsHandle | null = null;
  const legend = h(
    'p',
    { class: 'legend muted' },
    h('span', { class: 'key-arrow' }, '→'),
    ' delivery (slope = latency) · ',
    h('span', { class: 'key-split' }, '→'),
    ' split or merged delivery · ',
    h('span', { class: 'key-arrow' }, '⤺'),
    ' delivery on one host (ipc, inproc) · ',
    Object.entries(GLYPH_CHAR)
      .map(([k, c]) => `${c} ${k}`)
      .join(' · '),
    ' · shaded: faults (orange) and hosts down (blue) · red line: failure pin · grey: outside the filter · compressed idle time gives every event a step, so arrows of zero latency slope too: untick it for true time scale · ',
    h('span', { class: 'muted' }, `pin: ${pin.why}`),
  );
  const viewerMain = h(
    'div',
    { class: 'viewer-main' },
    diagrams,
    h(
      'div',
      { class: 'viewer-side' },
      h('div', { class: 'side-state' }, h('h3', {}, 'State at the cursor'), stateTable),
      h('div', { class: 'side-msg' }, h('h3', {}, 'Message'), msgPane),
    ),
  );
  host.append(
    h(
      'div',
      { class: 'viewer-toolbar' },
      zoomOut,
      zoomIn,
      fit,
      h('label', {}, compress, ' compress idle time'),
      toPin,
      exportLink,
    ),
    h('div', { class: 'viewer-filter' }, h('label', {}, 'Filter ', filterInput), filterStatus),
    legend,
    viewerMain,
    h(
      'div',
      { class: 'scrubber' },
      prev,
      slider,
      next,
      play,
      speed,
      prevMsg,
      nextMsg,
      momentText,
      h(
        'span',
        { class: 'muted' },
        ' keys: ← → step (to matching events when filtered), ↑ ↓ pan, + − zoom, n p messages, space play',
      ),
    ),
    h('h3', {}, 'Charts over the visible time range (drag across a chart to show that range)'),
    chartsPane,
    h('h3', {}, 'Events around the cursor'),
    eventListNote,
    eventList,
    h('h3', {}, 'Re-run in the page'),
    rerunPane,
  );

  // ---- Panes ----
  const heightPx = CANVAS_HEIGHT_PX;
  const panes: Pane[] = [];

  function makePane(role: Pane['role'], m: DiagramModel, caption: HTMLElement | null): Pane {
    const canvas = h('canvas', {
      class: role === 'recorded' ? 'diagram' : 'diagram diagram-rerun',
      tabindex: 0,
      role: 'img',
      'aria-label':
        role === 'recorded'
          ? 'Sequence diagram: hosts as columns, virtual time downwards, arrows from send to delivery'
          : 'Sequence diagram of the rerun, on the same time axis as the recorded trace',
    });
    const wrap = h('div', { class: `diagram-wrap ${role}` }, ...(caption === null ? [] : [caption]), canvas);
    const g = canvas.getContext('2d');
    if (g === null) throw new Error('no 2D canvas context');
    const pane: Pane = {
      role,
      canvas,
      wrap,
      g,
      model: m,
      lay: layout(m, compress.checked),
      widthPx: 800,
      mask: filterMask(m, filter),
      glyphEvents: Int32Array.from(m.glyphs.map((gl) => gl.event)),
      messageEvents: Int32Array.from(m.messages),
      divergence: null,
    };
    attachPointer(pane);
    ro.observe(wrap);
    return pane;
  }

  // ---- Geometry ----
  const commentCol = (p: Pane): number => (p.widthPx >= 760 ? COMMENT_COL_PX : 0);
  const plotLeft = (): number => TIME_COL_PX + 30;
  const plotRight = (p: Pane): number => p.widthPx - commentCol(p) - 30;
  const hostX = (p: Pane, hi: number): number =>
    plotLeft() + ((hi + 0.5) * (plotRight(p) - plotLeft())) / Math.max(1, p.model.hosts.length);
  const yOf = (pos: number): number => HEADER_PX + (pos - viewStart) * pxPerUnit;
  const pOf = (y: number): number => viewStart + (y - HEADER_PX) / pxPerUnit;
  const recorded = (): Pane => panes[0]!;
  /** The layout span of the longest pane. */
  const span = (): number =>
    Math.max(
      1,
      ...panes.map((p) => {
        const k = p.lay.pos.length;
        return k === 0 ? 0 : p.lay.pos[k - 1]! - p.lay.pos[0]!;
      }),
    );
  const layoutStart = (): number => Math.min(...panes.map((p) => p.lay.pos[0] ?? 0));

  function fitAll(): void {
    pxPerUnit = (heightPx - HEADER_PX - 20) / span();
    viewStart = layoutStart() - 10 / pxPerUnit;
  }

  const minPxPerUnit = (): number => (heightPx - HEADER_PX) / span() / 4;
  const MAX_PX_PER_UNIT = 1e6;

  function zoomAround(factor: number, y: number): void {
    const p = pOf(y);
    pxPerUnit = Math.min(Math.max(pxPerUnit * factor, minPxPerUnit()), MAX_PX_PER_UNIT);
    viewStart = p - (y - HEADER_PX) / pxPerUnit;
    requestDraw();
  }

  /** Shows virtual times [loUs, hiUs] (a range brushed on a chart) in the diagrams. */
  function showTimeRange(loUs: number, hiUs: number): void {
    const lay = recorded().lay;
    const p0 = posAtTime(lay, loUs);
    const p1 = posAtTime(lay, hiUs);
    if (!(p1 > p0)) return;
    pxPerUnit = Math.min(Math.max((heightPx - HEADER_PX) / (p1 - p0), minPxPerUnit()), MAX_PX_PER_UNIT);
    viewStart = p0;
    requestDraw();
  }

  function ensureVisible(i: number): void {
    const pos = recorded().lay.pos[i]!;
    const y = yOf(pos);
    if (y < HEADER_PX + 10 || y > heightPx - 10) viewStart = pos - (heightPx - HEADER_PX) / 2 / pxPerUnit;
  }

  /** New layouts for all panes (compress toggled, a rerun added), the cursor kept at its height. */
  function relayout(): void {
    const yCursor = yOf(recorded().lay.pos[cursor]!);
    const zoomRel = pxPerUnit / ((heightPx - HEADER_PX) / span());
    const lays = layoutAligned(
      panes.map((p) => p.model),
      compress.checked,
    );
    panes.forEach((p, k) => (p.lay = lays[k]!));
    pxPerUnit = ((heightPx - HEADER_PX) / span()) * zoomRel;
    viewStart = recorded().lay.pos[cursor]! - (yCursor - HEADER_PX) / pxPerUnit;
    requestDraw();
  }

  // ---- Drawing ----
  function resize(): void {
    const dpr = window.devicePixelRatio || 1;
    for (const p of panes) {
      p.widthPx = Math.max(360, Math.floor(p.wrap.clientWidth));
      p.canvas.width = Math.floor(p.widthPx * dpr);
      p.canvas.height = Math.floor(heightPx * dpr);
      p.canvas.style.width = `${p.widthPx}px`;
      p.canvas.style.height = `${heightPx}px`;
      p.g.setTransform(dpr, 0, 0, dpr, 0, 0);
    }
    requestDraw();
  }

  function requestDraw(): void {
    if (drawPending) return;
    drawPending = true;
    requestAnimationFrame(() => {
      drawPending = false;
      if (!signal.aborted) draw();
    });
  }

  function draw(): void {
    const r = recorded();
    charts?.setRange(timeAt(r.lay, pOf(HEADER_PX)), timeAt(r.lay, pOf(heightPx)), events[cursor]!.tUs);
    for (const p of panes) drawPane(p);
  }

  function drawPane(p: Pane): void {
    const ctx2 = p.g;
    const m = p.model;
    const lay = p.lay;
    const mask = p.mask;
    const ev = m.events;
    const widthPx = p.widthPx;
    const pStart = pOf(HEADER_PX);
    const pEnd = pOf(heightPx);
    ctx2.fillStyle = '#ffffff';
    ctx2.fillRect(0, 0, widthPx, heightPx);
    const colW = (plotRight(p) - plotLeft()) / Math.max(1, m.hosts.length);

    // Bands: faults across the plot (or one host's column), hosts down on their column.
    for (const b of m.bands) {
      const y0 = yOf(lay.pos[b.startEvent]!);
      const y1 = Math.max(yOf(lay.pos[b.endEvent]!), y0 + 3);
      if (y1 < HEADER_PX || y0 > heightPx) continue;
      ctx2.fillStyle = b.kind === 'fault' ? COLORS.faultBand : COLORS.pauseBand;
      const x0 = b.host < 0 ? plotLeft() : hostX(p, b.host) - colW / 2;
      const w = b.host < 0 ? plotRight(p) - plotLeft() : colW;
      ctx2.fillRect(x0, y0, w, y1 - y0);
      ctx2.fillStyle = b.kind === 'fault' ? '#a33c00' : '#005a8c';
      ctx2.font = '11px "DejaVu Sans", sans-serif';
      ctx2.fillText(b.label, x0 + 4, Math.max(y0 + 12, HEADER_PX + 12));
    }

    // Lifelines.
    ctx2.strokeStyle = COLORS.lifeline;
    ctx2.lineWidth = 1;
    ctx2.beginPath();
    for (let hi = 0; hi < m.hosts.length; hi++) {
      const x = Math.round(hostX(p, hi)) + 0.5;
      ctx2.moveTo(x, HEADER_PX);
      ctx2.lineTo(x, heightPx);
    }
    ctx2.stroke();

    // Event ticks: one per event in view, at most one per pixel row and host (paler outside the filter).
    const a = lowerBound(lay.pos, pStart);
    const b = lowerBound(lay.pos, pEnd + 1e-9);
    const lastY = new Int32Array(m.hosts.length).fill(-1);
    for (const matching of mask === null ? [1] : [0, 1]) {
      ctx2.fillStyle = matching === 1 ? COLORS.tick : COLORS.dimmed;
      lastY.fill(-1);
      for (let i = a; i < b; i++) {
        const hi = m.eventHost[i]!;
        if (hi < 0 || (mask !== null && mask.events[i] !== matching)) continue;
        const y = Math.round(yOf(lay.pos[i]!));
        if (lastY[hi] === y) continue;
        lastY[hi] = y;
        ctx2.fillRect(hostX(p, hi) - 3, y, 6, 1);
      }
    }

    // Arrows, sorted by delivery: those delivered in view, or sent in view and delivered below it.
    // Three passes: outside the filter (pale), whole deliveries, split ones. A delivery on one host
    // (both ends of the connection there, or inproc) is a loop out to the right of its lifeline.
    const nArrows = m.arrowTo.length;
    const k0 = lowerBoundBy(nArrows, (k) => lay.pos[m.arrowTo[k]!]!, pStart);
    const kEndP = pEnd + lay.maxArrowSpan;
    let drawnArrows = 0;
    let dimmedArrows = 0;
    let loops = 0;
    const heads: number[] = [];
    for (const pass of [0, 1, 2]) {
      if (pass === 0 && mask === null) continue;
      ctx2.strokeStyle = pass === 0 ? COLORS.dimmed : pass === 2 ? COLORS.split : COLORS.arrow;
      ctx2.beginPath();
      let px0 = NaN;
      let py0 = NaN;
      let px1 = NaN;
      let py1 = NaN;
      for (let k = k0; k < nArrows; k++) {
        const pTo = lay.pos[m.arrowTo[k]!]!;
        if (pTo > kEndP) break;
        const pFrom = lay.pos[m.arrowFrom[k]!]!;
        if (pFrom > pEnd) continue;
        const inFilter = mask === null || mask.arrows[k] === 1;
        if (pass === 0 ? inFilter : !inFilter || m.arrowSplit[k]! !== pass - 1) continue;
        const fromH = m.arrowFromHost[k]!;
        const toH = m.arrowToHost[k]!;
        const x0 = hostX(p, fromH);
        const x1 = hostX(p, toH);
        const y0 = Math.round(yOf(pFrom));
        const y1 = Math.round(yOf(pTo));
        if (x0 === px0 && y0 === py0 && x1 === px1 && y1 === py1) continue;
        px0 = x0;
        py0 = y0;
        px1 = x1;
        py1 = y1;
        if (fromH === toH) {
          // Short loops still bulge a few pixels up and down, so a zero-latency one stays visible.
          const bulge = Math.max(0, (LOOP_MIN_PX - (y1 - y0)) / 2);
          ctx2.moveTo(x0, y0);
          ctx2.bezierCurveTo(x0 + LOOP_PX, y0 - bulge, x0 + LOOP_PX, y1 + bulge, x0 + 2, y1);
          loops++;
          if (pass > 0 && heads.length < ARROWHEADS_MAX * 4) heads.push(x0 + LOOP_PX, y1 + bulge, x0 + 2, y1);
        } else {
          ctx2.moveTo(x0, y0);
          ctx2.lineTo(x1, y1);
          if (pass > 0 && heads.length < ARROWHEADS_MAX * 4) heads.push(x0, y0, x1, y1);
        }
        if (pass === 0) dimmedArrows++;
        else drawnArrows++;
      }
      ctx2.stroke();
    }
    if (drawnArrows <= ARROWHEADS_MAX) {
      ctx2.fillStyle = COLORS.arrow;
      ctx2.beginPath();
      for (let j = 0; j < heads.length; j += 4) {
        const x0 = heads[j]!;
        const y0 = heads[j + 1]!;
        const x1 = heads[j + 2]!;
        const y1 = heads[j + 3]!;
        const ang = Math.atan2(y1 - y0, x1 - x0);
        ctx2.moveTo(x1, y1);
        ctx2.lineTo(x1 - 8 * Math.cos(ang - 0.4), y1 - 8 * Math.sin(ang - 0.4));
        ctx2.lineTo(x1 - 8 * Math.cos(ang + 0.4), y1 - 8 * Math.sin(ang + 0.4));
        ctx2.closePath();
      }
      ctx2.fill();
    }

    // Message dots: TX and RX coloured (pale outside the filter).
    const m0 = lowerBound(p.messageEvents, a);
    for (let j = m0; j < p.messageEvents.length && p.messageEvents[j]! < b; j++) {
      const i = p.messageEvents[j]!;
      const hi = m.eventHost[i]!;
      if (hi < 0) continue;
      ctx2.fillStyle =
        mask !== null && mask.events[i] !== 1
          ? COLORS.dimmed
          : ev[i]!.kind === 'msg-send'
            ? COLORS.tx
            : COLORS.rx;
      ctx2.fillRect(hostX(p, hi) - 3, yOf(lay.pos[i]!) - 3, 6, 6);
    }

    // Glyphs (drops, losses: mid-flight between the two lifelines).
    ctx2.font = '14px "DejaVu Sans", sans-serif';
    ctx2.textAlign = 'center';
    ctx2.textBaseline = 'middle';
    const g0 = lowerBound(p.glyphEvents, a);
    for (let j = g0; j < m.glyphs.length && p.glyphEvents[j]! < b; j++) {
      const gl = m.glyphs[j]!;
      if (gl.host < 0) continue;
      ctx2.fillStyle = mask !== null && mask.glyphs[j] !== 1 ? COLORS.dimmed : COLORS.glyph;
      const x = gl.peer !== gl.host ? (hostX(p, gl.host) + hostX(p, gl.peer)) / 2 : hostX(p, gl.host) + 12;
      ctx2.fillText(GLYPH_CHAR[gl.kind], x, yOf(lay.pos[gl.event]!));
    }
    ctx2.textAlign = 'left';
    ctx2.textBaseline = 'alphabetic';

    // Comment column (Wireshark style), when few events are in view; only matching ones when filtered.
    const inView = mask === null ? b - a : lowerBound(mask.matching, b) - lowerBound(mask.matching, a);
    if (commentCol(p) > 0 && inView <= COMMENTS_MAX) {
      ctx2.font = '11px "DejaVu Sans Mono", monospace';
      ctx2.fillStyle = '#444444';
      let lastLabelY = -100;
      for (let i = a; i < b; i++) {
        if (mask !== null && mask.events[i] !== 1) continue;
        const y = yOf(lay.pos[i]!);
        if (y - lastLabelY < 12) continue;
        lastLabelY = y;
        const e = ev[i]!;
        const text = `#${e.seq} ${e.host ?? '·'} ${describeEvent(e)}`;
        ctx2.fillText(text.length > 48 ? text.slice(0, 47) + '…' : text, widthPx - commentCol(p) + 6, y + 4);
      }
    }

    // Horizontal markers: divergence, pin, cursor (the rerun pane shows the recorded cursor's instant).
    const hline = (pos: number, color: string, label: string, dash: number[]): boolean => {
      const y = Math.round(yOf(pos)) + 0.5;
      if (y < HEADER_PX || y > heightPx) return false;
      ctx2.strokeStyle = color;
      ctx2.fillStyle = color;
      ctx2.setLineDash(dash);
      ctx2.beginPath();
      ctx2.moveTo(TIME_COL_PX, y);
      ctx2.lineTo(widthPx - commentCol(p), y);
      ctx2.stroke();
      ctx2.setLineDash([]);
      ctx2.font = 'bold 11px "DejaVu Sans", sans-serif';
      ctx2.fillText(label, TIME_COL_PX + 2, y - 3);
      return true;
    };
    let divergenceDrawn = false;
    const divPos = divergencePos();
    if (divPos !== null && p.divergence !== null) {
      ctx2.lineWidth = 2;
      divergenceDrawn = hline(divPos, COLORS.diverge, `≠ first divergence (event ${p.divergence})`, [6, 4]);
      ctx2.lineWidth = 1;
    }
    if (p.role === 'recorded') {
      hline(lay.pos[pin.event]!, COLORS.pin, '✗ failure pin', []);
      hline(lay.pos[cursor]!, COLORS.cursor, '', [2, 3]);
      const ch = m.eventHost[cursor]!;
      if (ch >= 0) {
        ctx2.strokeStyle = COLORS.cursor;
        ctx2.lineWidth = 2;
        ctx2.beginPath();
        ctx2.arc(hostX(p, ch), yOf(lay.pos[cursor]!), 6, 0, Math.PI * 2);
        ctx2.stroke();
        ctx2.lineWidth = 1;
      }
    } else hline(recorded().lay.pos[cursor]!, COLORS.cursor, '', [2, 3]);

    // Time column.
    ctx2.fillStyle = '#ffffff';
    ctx2.fillRect(0, HEADER_PX, TIME_COL_PX, heightPx - HEADER_PX);
    ctx2.fillStyle = '#5a5a5a';
    ctx2.font = '11px "DejaVu Sans Mono", monospace';
    for (let y = HEADER_PX + 14; y < heightPx; y += 60) {
      ctx2.fillText(formatUs(Math.round(timeAt(lay, pOf(y)))), 4, y);
      ctx2.fillRect(TIME_COL_PX - 6, y - 4, 6, 1);
    }

    // Header with the host names (drawn last: it stays on top while panning).
    ctx2.fillStyle = p.role === 'recorded' ? '#f4f4f4' : '#f7e9f1';
    ctx2.fillRect(0, 0, widthPx, HEADER_PX);
    ctx2.fillStyle = '#1a1a1a';
    ctx2.font = 'bold 12px "DejaVu Sans", sans-serif';
    ctx2.textAlign = 'center';
    m.hosts.forEach((hh, hi) => ctx2.fillText(hh.name, hostX(p, hi), 19));
    ctx2.textAlign = 'left';
    ctx2.fillText(p.role === 'rerun' ? 'rerun' : lay.compressed ? 'time (idle compressed)' : 'time', 4, 19);
    const ds = p.canvas.dataset;
    ds.drawn = String(Number(ds.drawn ?? '0') + 1);
    ds.visibleEvents = String(b - a);
    ds.arrows = String(drawnArrows);
    ds.arrowsDimmed = String(dimmedArrows);
    ds.loops = String(loops);
    ds.divergenceDrawn = divergenceDrawn ? '1' : '0';
    ds.timeTop = String(Math.round(timeAt(lay, pStart)));
    ds.timeBottom = String(Math.round(timeAt(lay, pEnd)));
  }

  /**
   * Where the traces part: the earlier of the two diverging events (before it both traces are the
   * same; the other trace's event may come much later, or never when it ended), so the marker sits
   * at one instant in both diagrams.
   */
  function divergencePos(): number | null {
    const div = recorded().divergence;
    if (div === null || panes.length < 2) return null;
    let best = Infinity;
    for (const p of panes) {
      const k = p.lay.pos.length;
      if (k === 0) continue;
      best = Math.min(best, div < k ? p.lay.pos[div]! : p.lay.pos[k - 1]! + Math.max(p.lay.stepUs, 1e-9));
    }
    return best === Infinity ? null : best;
  }

  // ---- Filter ----
  const matches = (i: number): boolean => {
    const mask = recorded().mask;
    return mask === null || mask.events[i] === 1;
  };

  function applyFilter(text: string, fromUrl = false): void {
    const parsed = parseFilter(text);
    filter = parsed.filter;
    for (const p of panes) p.mask = filterMask(p.model, filter);
    const mask = recorded().mask;
    filterProblems = [...parsed.problems, ...(mask?.problems ?? [])];
    filterStatus.replaceChildren(
      mask === null
        ? 'no filter: everything shows'
        : `${mask.matching.length} of ${n} events, ${mask.matchingArrows} of ${model.arrowTo.length} deliveries match`,
      ...filterProblems.map((x) => h('span', { class: 'problem' }, ` · ${x}`)),
    );
    filterStatus.dataset.matching = String(mask?.matching.length ?? n);
    charts?.setFilter(filter, mask);
    renderEventList();
    requestDraw();
    if (!fromUrl) ctx.onFilter(text.trim());
  }

  // ---- Panels ----
  function renderState(): void {
    const rowsNow = stateRows(model, states.stateAt(cursor));
    // Highlighted: what the event at the cursor changed.
    const changed = changedCells(stateRows(model, states.stateAt(cursor - 1)), rowsNow);
    stateTable.replaceChildren(
      h('thead', {}, h('tr', {}, h('th', {}, 'host'), ...STATE_COLUMNS.map((c) => h('th', {}, c)))),
      h(
        'tbody',
        {},
        ...rowsNow.map((r) =>
          h(
            'tr',
            { 'data-host': r.host },
            h('th', {}, r.host),
            ...STATE_COLUMNS.map((c) =>
              h('td', { 'data-col': c, class: changed.has(`${r.host}/${c}`) ? 'changed' : null }, r.cells[c]),
            ),
          ),
        ),
      ),
    );
  }

  /** The rows of the event list: matching events around the cursor, and the cursor's own event. */
  function eventRows(): number[] {
    const mask = recorded().mask;
    if (mask === null) {
      const out: number[] = [];
      for (
        let i = Math.max(0, cursor - EVENT_LIST_BEFORE);
        i <= Math.min(n - 1, cursor + EVENT_LIST_AFTER);
        i++
      )
        out.push(i);
      return out;
    }
    const at = lowerBound(mask.matching, cursor);
    const before = Array.from(mask.matching.slice(Math.max(0, at - EVENT_LIST_BEFORE), at));
    const rest = Array.from(mask.matching.slice(at, at + EVENT_LIST_AFTER + 1));
    return rest[0] === cursor
      ? [...before, ...rest]
      : [...before, cursor, ...rest.slice(0, EVENT_LIST_AFTER)];
  }

  function renderEventList(): void {
    const rows: HTMLElement[] = [];
    const divergence = recorded().divergence;
    for (const i of eventRows()) {
      const e = events[i]!;
      rows.push(
        h(
          'tr',
          {
            'data-event': i,
            class:
              [
                i === cursor ? 'current' : '',
                i === pin.event ? 'pin' : '',
                i === divergence ? 'diverge' : '',
                matches(i) ? '' : 'unmatched',
              ]
                .filter((x) => x !== '')
                .join(' ') || null,
          },
          h('td', { class: 'num' }, `#${e.seq}`),
          h('td', { class: 'num' }, formatUs(e.tUs)),
          h('td', {}, e.host ?? '·'),
          h('td', {}, describeEvent(e)),
        ),
      );
    }
    const mask = recorded().mask;
    eventListNote.textContent =
      mask === null
        ? ''
        : `Filtered: only the ${mask.matching.length} matching events are listed around the cursor.`;
    eventList.replaceChildren(
      h(
        'thead',
        {},
        h('tr', {}, h('th', {}, 'seq'), h('th', {}, 'time'), h('th', {}, 'host'), h('th', {}, 'event')),
      ),
      h('tbody', {}, ...rows),
    );
  }

  function renderMessage(): void {
    if (selectedMsg === null) {
      msgPane.replaceChildren(
        h(
          'p',
          { class: 'muted' },
          `No message selected: step to a msg-send / msg-recv (${model.messages.length} in this trace; n / p jump between them).`,
        ),
      );
      return;
    }
    const e = events[selectedMsg]!;
    const mv = messageView(e);
    if (mv === null || (e.kind !== 'msg-send' && e.kind !== 'msg-recv')) return;
    const dir = mv.direction;
    const fieldRows = mv.fields.map((f, fi) =>
      h(
        'tr',
        { 'data-field-index': fi, class: 'field' },
        h('td', {}, f.name),
        h('td', { class: 'num' }, String(f.offset)),
        h('td', { class: 'num' }, String(f.length)),
        h('td', {}, String(f.value)),
      ),
    );
    const dump = h('div', { class: 'hexdump' });
    for (let row = 0; row < mv.bytes.length; row += 16) {
      const line = h(
        'div',
        { class: 'hexrow' },
        h('span', { class: 'off' }, row.toString(16).padStart(4, '0')),
      );
      for (let k = row; k < Math.min(row + 16, mv.bytes.length); k++) {
        const v = mv.bytes[k]!;
        line.append(
          h(
            'span',
            {
              class: `byte${v === null ? ' unknown' : ''}${mv.fieldsAt[k]!.length > 0 ? ' in-field' : ''}`,
              'data-byte': k,
            },
            v === null ? '··' : v.toString(16).padStart(2, '0'),
          ),
        );
      }
      dump.append(line);
    }
    const truncated =
      mv.length > mv.bytes.length ? ` (first ${mv.bytes.length} of ${mv.length} bytes shown)` : '';
    msgPane.className = `msg-pane ${dir}`;
    msgPane.replaceChildren(
      h(
        'p',
        { class: 'msg-head' },
        h('span', { class: `dir ${dir}` }, dir === 'tx' ? 'TX' : 'RX'),
        ` ${e.kind} #${e.seq} · ${e.host ?? '?'} · ${e.proto} ${e.msg} · ${e.bytes} B · ${formatUs(e.tUs)}`,
      ),
      h(
        'table',
        { class: 'fields-table' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', {}, 'field'),
            h('th', {}, 'offset'),
            h('th', {}, 'length'),
            h('th', {}, 'value'),
          ),
        ),
        h('tbody', {}, ...fieldRows),
      ),
      dump,
      h(
        'p',
        { class: 'muted note' },
        `This trace records lengths and decoded fields, not raw bytes: field bytes are re-encoded from their values (big-endian); ·· marks bytes the trace does not carry${truncated}. Hover a field or a byte to see which is which.`,
      ),
    );
    const highlight = (fields: number[], on: boolean): void => {
      for (const fi of fields) {
        msgPane.querySelector(`tr[data-field-index="${fi}"]`)?.classList.toggle('hl', on);
        const f = mv.fields[fi]!;
        for (let k = f.offset; k < f.offset + f.length; k++)
          msgPane.querySelector(`span[data-byte="${k}"]`)?.classList.toggle('hl', on);
      }
    };
    msgPane.querySelectorAll<HTMLElement>('tr[data-field-index]').forEach((tr) => {
      const fi = Number(tr.dataset.fieldIndex);
      tr.addEventListener('mouseenter', () => highlight([fi], true));
      tr.addEventListener('mouseleave', () => highlight([fi], false));
    });
    msgPane.querySelectorAll<HTMLElement>('span[data-byte]').forEach((sp) => {
      const k = Number(sp.dataset.byte);
      const fields = mv.fieldsAt[k] ?? [];
      sp.addEventListener('mouseenter', () => {
        sp.classList.add('hl');
        highlight(fields, true);
      });
      sp.addEventListener('mouseleave', () => {
        sp.classList.remove('hl');
        highlight(fields, false);
      });
    });
  }

  function setCursor(i: number, opts: { scroll?: boolean; fromPlay?: boolean } = {}): void {
    cursor = Math.max(0, Math.min(n - 1, i));
    if (!opts.fromPlay) stopPlay();
    slider.value = String(cursor);
    const e = events[cursor]!;
    momentText.textContent = `event #${e.seq} of ${n} · t = ${formatUs(e.tUs)} (${e.tUs} µs) · ${e.host ?? '·'} ${e.kind}`;
    const isMsg = e.kind === 'msg-send' || e.kind === 'msg-recv';
    if (isMsg) selectedMsg = cursor;
    if (opts.scroll !== false) ensureVisible(cursor);
    renderState();
    renderEventList();
    renderMessage();
    requestDraw();
    ctx.onMoment(e.tUs, selectedMsg === null ? null : events[selectedMsg]!.seq);
  }

  /** One step: to the next or previous event, or matching event when a filter is on. */
  function stepEvent(dir: 1 | -1): void {
    const mask = recorded().mask;
    if (mask === null) return setCursor(cursor + dir);
    const target = stepMatching(mask, cursor, dir);
    if (target >= 0) setCursor(target);
  }

  function stepMessage(dir: 1 | -1): void {
    const list = recorded().messageEvents;
    let j = lowerBound(list, cursor + (dir > 0 ? 1 : 0)) + (dir > 0 ? 0 : -1);
    while (j >= 0 && j < list.length && !matches(list[j]!)) j += dir;
    const target = list[j];
    if (target !== undefined) setCursor(target);
  }

  // ---- Playback ----
  function stopPlay(): void {
    if (playing === null) return;
    playing = null;
    play.textContent = '► Play';
  }
  function tick(nowMs: number): void {
    if (playing === null || signal.aborted) return;
    const dt = nowMs - playing.lastMs;
    playing.lastMs = nowMs;
    playing.tUs += dt * 1000 * playing.rate;
    const target = eventAtTime(model, playing.tUs);
    if (target !== cursor) setCursor(target, { fromPlay: true });
    if (cursor >= n - 1) {
      stopPlay();
      return;
    }
    requestAnimationFrame(tick);
  }
  play.addEventListener(
    'click',
    () => {
      if (playing !== null) return stopPlay();
      if (cursor >= n - 1) setCursor(0);
      playing = { rate: Number(speed.value), tUs: events[cursor]!.tUs, lastMs: performance.now() };
      play.textContent = '❚❚ Pause';
      requestAnimationFrame(tick);
    },
    { signal },
  );
  speed.addEventListener(
    'change',
    () => {
      if (playing !== null) playing.rate = Number(speed.value);
    },
    { signal },
  );

  // ---- Input ----
  slider.addEventListener('input', () => setCursor(Number(slider.value)), { signal });
  prev.addEventListener('click', () => stepEvent(-1), { signal });
  next.addEventListener('click', () => stepEvent(1), { signal });
  prevMsg.addEventListener('click', () => stepMessage(-1), { signal });
  nextMsg.addEventListener('click', () => stepMessage(1), { signal });
  zoomIn.addEventListener('click', () => zoomAround(2, (HEADER_PX + heightPx) / 2), { signal });
  zoomOut.addEventListener('click', () => zoomAround(0.5, (HEADER_PX + heightPx) / 2), { signal });
  fit.addEventListener(
    'click',
    () => {
      fitAll();
      requestDraw();
    },
    { signal },
  );
  toPin.addEventListener('click', () => setCursor(pin.event), { signal });
  compress.addEventListener('change', relayout, { signal });
  let filterTimer: ReturnType<typeof setTimeout> | null = null;
  filterInput.addEventListener(
    'input',
    () => {
      // A text filter over 100 k events takes a few tens of ms: wait for a pause in the typing.
      if (filterTimer !== null) clearTimeout(filterTimer);
      filterTimer = setTimeout(() => {
        filterTimer = null;
        applyFilter(filterInput.value);
      }, FILTER_DEBOUNCE_MS);
    },
    { signal },
  );
  filterInput.addEventListener(
    'keydown',
    (ev) => {
      if (ev.key === 'Enter') {
        if (filterTimer !== null) clearTimeout(filterTimer);
        filterTimer = null;
        applyFilter(filterInput.value);
      } else if (ev.key === 'Escape' && filterInput.value !== '') {
        // Escape clears the filter first; only an empty filter lets it close the viewer.
        ev.preventDefault();
        ev.stopPropagation();
        filterInput.value = '';
        applyFilter('');
      }
    },
    { signal },
  );
  eventList.addEventListener(
    'click',
    (ev) => {
      const tr = (ev.target as Element).closest('tr[data-event]');
      if (tr instanceof HTMLElement) setCursor(Number(tr.dataset.event));
    },
    { signal },
  );
  exportLink.addEventListener(
    'click',
    () => {
      // Built on demand (a 100 k-event trace makes a few MB of JSON); the link then downloads it.
      const json = JSON.stringify(toChromeTrace(model, `${ctx.caseId} (${ctx.tracePath})`));
      const old = exportLink.getAttribute('href');
      if (old !== null && old.startsWith('blob:')) URL.revokeObjectURL(old);
      exportLink.href = URL.createObjectURL(new Blob([json], { type: 'application/json' }));
      exportLink.download = `${ctx.caseId.replace(/[^A-Za-z0-9_.-]+/g, '_')}.chrome-trace.json`;
    },
    { signal },
  );

  /** Wheel zoom, drag pan and click-to-select on a pane's canvas (the view is shared). */
  function attachPointer(pane: Pane): void {
    const canvas = pane.canvas;
    canvas.addEventListener(
      'wheel',
      (ev) => {
        ev.preventDefault();
        const rect = canvas.getBoundingClientRect();
        zoomAround(Math.exp(-ev.deltaY / 400), ev.clientY - rect.top);
      },
      { signal, passive: false },
    );
    let drag: { y: number; start: number; moved: boolean } | null = null;
    canvas.addEventListener(
      'pointerdown',
      (ev) => {
        drag = { y: ev.clientY, start: viewStart, moved: false };
        canvas.setPointerCapture(ev.pointerId);
      },
      { signal },
    );
    canvas.addEventListener(
      'pointermove',
      (ev) => {
        if (drag === null) return;
        const dy = ev.clientY - drag.y;
        if (Math.abs(dy) > 3) drag.moved = true;
        viewStart = drag.start - dy / pxPerUnit;
        requestDraw();
      },
      { signal },
    );
    canvas.addEventListener(
      'pointerup',
      (ev) => {
        const wasDrag = drag?.moved === true;
        drag = null;
        if (wasDrag) return;
        const rect = canvas.getBoundingClientRect();
        const x = ev.clientX - rect.left;
        const y = ev.clientY - rect.top;
        if (pane.role === 'rerun') {
          // The rerun's events are not the cursor's: select the recorded event at that instant.
          setCursor(eventAtTime(model, timeAt(pane.lay, pOf(y))), { scroll: false });
          return;
        }
        // A click selects the nearest event (by height, then by distance to its lifeline).
        const lay = pane.lay;
        const lo = lowerBound(lay.pos, pOf(y - 8));
        const hi = Math.min(lowerBound(lay.pos, pOf(y + 8)), lo + 2000);
        let best = -1;
        let bestD = Infinity;
        for (let i = lo; i < hi; i++) {
          const hh = model.eventHost[i]!;
          const d = Math.abs(yOf(lay.pos[i]!) - y) + (hh < 0 ? 50 : Math.abs(hostX(pane, hh) - x) / 4);
          if (d < bestD) {
            bestD = d;
            best = i;
          }
        }
        if (best >= 0) setCursor(best, { scroll: false });
      },
      { signal },
    );
  }

  host.addEventListener(
    'keydown',
    (ev) => {
      const t = ev.target as HTMLElement;
      if (
        t.tagName === 'INPUT' &&
        (t as HTMLInputElement).type !== 'range' &&
        (t as HTMLInputElement).type !== 'checkbox'
      )
        return;
      if (t.tagName === 'SELECT' || t.tagName === 'TEXTAREA') return;
      const pan = (heightPx - HEADER_PX) / 8 / pxPerUnit;
      const actions: Record<string, () => void> = {
        ArrowLeft: () => stepEvent(-1),
        ArrowRight: () => stepEvent(1),
        k: () => stepEvent(-1),
        j: () => stepEvent(1),
        ArrowUp: () => {
          viewStart -= pan;
          requestDraw();
        },
        ArrowDown: () => {
          viewStart += pan;
          requestDraw();
        },
        '+': () => zoomAround(1.5, (HEADER_PX + heightPx) / 2),
        '=': () => zoomAround(1.5, (HEADER_PX + heightPx) / 2),
        '-': () => zoomAround(1 / 1.5, (HEADER_PX + heightPx) / 2),
        '0': () => {
          fitAll();
          requestDraw();
        },
        n: () => stepMessage(1),
        p: () => stepMessage(-1),
        Home: () => setCursor(0),
        End: () => setCursor(n - 1),
        ' ': () => play.click(),
      };
      const act = actions[ev.key];
      if (act === undefined || ev.ctrlKey || ev.metaKey || ev.altKey) return;
      ev.preventDefault();
      act();
    },
    { signal },
  );

  const ro = new ResizeObserver(() => resize());
  panes.push(makePane('recorded', model, null));
  diagrams.append(recorded().wrap);

  renderRerun(rerunPane, ctx, events, signal, (result) => {
    // The rerun as a second diagram beside the recorded one, on one time axis.
    const rerunModel = buildDiagram(
      result.trace,
      model.hosts.map((x) => x.name),
    );
    panes.splice(1);
    const caption = (text: string, cls: string): HTMLElement =>
      h('p', { class: `pane-caption ${cls}` }, text);
    const rerun = makePane('rerun', rerunModel, caption(`Rerun: ${result.label}`, 'rerun'));
    recorded().wrap.querySelector('.pane-caption')?.remove();
    recorded().wrap.prepend(caption('Recorded trace', 'recorded'));
    diagrams.querySelectorAll('.diagram-wrap.rerun').forEach((el) => {
      ro.unobserve(el);
      el.remove();
    });
    panes.push(rerun);
    diagrams.append(rerun.wrap);
    viewerMain.classList.add('with-rerun');
    const div = result.divergence;
    recorded().divergence = div;
    rerun.divergence = div;
    relayout();
    resize();
    renderEventList();
    if (div !== null && div < n) setCursor(div);
    else requestDraw();
  });

  charts = mountCharts(chartsPane, model, events[pin.event]!.tUs, {
    onPick: (tUs) => setCursor(eventAtTime(model, tUs)),
    onRange: showTimeRange,
  });

  // ---- Opening moment: a filter, a message, a time, or the failure pin ----
  if (ctx.filter !== '') {
    filterInput.value = ctx.filter;
    applyFilter(ctx.filter, true);
  } else applyFilter('', true);
  resize();
  fitAll();
  let start = pin.event;
  if (ctx.msg !== null) {
    const m = model.messages.find((i) => events[i]!.seq === ctx.msg);
    if (m !== undefined) start = m;
  } else if (ctx.tUs !== null) start = eventAtTime(model, ctx.tUs);
  setCursor(start);
  recorded().canvas.focus();

  return {
    destroy() {
      stopPlay();
      if (filterTimer !== null) clearTimeout(filterTimer);
      ro.disconnect();
      charts?.destroy();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Re-run in the page
// ---------------------------------------------------------------------------------------------

/** A finished rerun: its trace (aligned by seq with the recorded one), a short description, the first divergence. */
interface RerunResult {
  trace: TraceEvent[];
  label: string;
  divergence: number | null;
}

function renderRerun(
  pane: HTMLElement,
  ctx: ViewerContext,
  original: TraceEvent[],
  signal: AbortSignal,
  onResult: (result: RerunResult) => void,
): void {
  const cx = ctx.counterexample;
  if (cx === null || !isObject(cx.scenario)) {
    pane.replaceChildren(
      h('p', { class: 'muted' }, 'This case has no recorded scenario (no counterexample): nothing to rerun.'),
    );
    return;
  }
  const scenario = cx.scenario;
  const network = isObject(scenario.network) ? scenario.network : {};
  const latency = isObject(network.latency) ? network.latency : {};
  const faults =
    isObject(scenario.faults) && Array.isArray(scenario.faults.faults) ? scenario.faults.faults : [];
  const seed = h('input', { type: 'text', class: 'seed', value: cx.simSeed, 'aria-label': 'simSeed' });
  const latMin = h('input', {
    type: 'number',
    class: 'lat-min',
    min: 0,
    value: typeof latency.minUs === 'number' ? latency.minUs : '',
    'aria-label': 'latency min µs',
  });
  const latMax = h('input', {
    type: 'number',
    class: 'lat-max',
    min: 0,
    value: typeof latency.maxUs === 'number' ? latency.maxUs : '',
    'aria-label': 'latency max µs',
  });
  const loss = h('input', {
    type: 'number',
    class: 'loss',
    min: 0,
    max: 1,
    step: 0.001,
    value: typeof network.lossRate === 'number' ? network.lossRate : '',
    'aria-label': 'loss rate',
  });
  const faultBoxes = faults.map((f, i) =>
    h(
      'label',
      { class: 'fault-opt' },
      h('input', { type: 'checkbox', class: 'remove-fault', 'data-fault': i }),
      ` remove fault ${i}: ${JSON.stringify(f)}`,
    ),
  );
  const run = h('button', { type: 'button', class: 'rerun-btn' }, 'Rerun in this page');
  const reset = h('button', { type: 'button', class: 'rerun-reset' }, 'Recorded knobs');
  const out = h('div', { class: 'rerun-out', 'aria-live': 'polite' });
  pane.replaceChildren(
    h(
      'p',
      { class: 'muted' },
      'The simulator, the stack and the runner are isomorphic: this reruns the case’s scenario here, in the browser. ' +
        'With the recorded seed and knobs the trace hash must equal the one recorded by Node.',
    ),
    h(
      'div',
      { class: 'rerun-form' },
      h('label', {}, 'simSeed ', seed),
      h('label', {}, 'latency µs ', latMin, ' – ', latMax),
      h('label', {}, 'loss rate ', loss),
      ...faultBoxes,
      h('div', {}, run, ' ', reset),
    ),
    out,
  );
  reset.addEventListener(
    'click',
    () => {
      seed.value = cx.simSeed;
      latMin.value = typeof latency.minUs === 'number' ? String(latency.minUs) : '';
      latMax.value = typeof latency.maxUs === 'number' ? String(latency.maxUs) : '';
      loss.value = typeof network.lossRate === 'number' ? String(network.lossRate) : '';
      pane.querySelectorAll<HTMLInputElement>('input.remove-fault').forEach((b) => (b.checked = false));
    },
    { signal },
  );
  run.addEventListener(
    'click',
    () => {
      const num = (el: HTMLInputElement): number | null => (el.value.trim() === '' ? null : Number(el.value));
      const knobs: RerunKnobs = {
        simSeed: seed.value,
        latencyMinUs: num(latMin),
        latencyMaxUs: num(latMax),
        lossRate: num(loss),
        removeFaults: [...pane.querySelectorAll<HTMLInputElement>('input.remove-fault')]
          .filter((b) => b.checked)
          .map((b) => Number(b.dataset.fault)),
      };
      // Unchanged latency knobs keep the scenario's own latency model (it may not be uniform).
      if (knobs.latencyMinUs === latency.minUs && knobs.latencyMaxUs === latency.maxUs) {
        knobs.latencyMinUs = null;
        knobs.latencyMaxUs = null;
      }
      run.disabled = true;
      out.replaceChildren(h('p', { class: 'rerun-status' }, 'Loading the runner and rerunning…'));
      void (async () => {
        try {
          const runner = await ctx.loadRunner();
          const parsed = runner.parseScenario(applyKnobs(scenario, knobs));
          const t0 = performance.now();
          const r = await runner.runScenario(parsed, knobs.simSeed, {
            traceCapacity: RERUN_TRACE_EVENTS_MAX,
          });
          const wallMs = performance.now() - t0;
          if (signal.aborted) return;
          const recorded = cx.traceHash;
          const same = recorded !== null && r.traceHash === recorded;
          // A trace file keeps the last events of a long run: align by seq.
          const offset = original[0]?.seq ?? 0;
          const rerunTrace = offset > 0 ? r.trace.slice(offset) : r.trace;
          const div = firstDivergence(original, rerunTrace);
          out.replaceChildren(
            h(
              'p',
              { class: `hash-line ${same ? 'same' : 'differs'}` },
              'trace hash ',
              h('code', { 'data-field': 'rerun-hash' }, r.traceHash),
              ' · recorded (Node) ',
              h('code', { 'data-field': 'recorded-hash' }, recorded ?? '?'),
              ' · ',
              h('strong', { 'data-field': 'hash-verdict' }, same ? '✓ same' : '≠ different'),
              ` · ${r.trace.length} trace events, ${formatUs(r.virtualUs)} virtual in ${wallMs.toFixed(0)} ms`,
            ),
            h(
              'ul',
              { class: 'rerun-checks' },
              ...r.checks.map((c) =>
                h(
                  'li',
                  {
                    'data-check': c.id,
                    class: `s-${c.status === 'fail' ? 'fail' : c.status === 'pass' ? 'pass' : 'skip'}`,
                  },
                  `${c.status === 'pass' ? '✓' : c.status === 'fail' ? '✗' : '–'} ${c.id}: ${c.status}`,
                  c.actual !== null && c.status === 'fail' ? ` (${c.actual})` : '',
                ),
              ),
            ),
            divergenceView(original, rerunTrace, div),
          );
          const changed = [
            knobs.simSeed !== cx.simSeed ? `seed ${knobs.simSeed}` : `seed ${knobs.simSeed} (recorded)`,
            knobs.latencyMinUs !== null ? `latency ${knobs.latencyMinUs}–${knobs.latencyMaxUs} µs` : '',
            knobs.lossRate !== null && knobs.lossRate !== network.lossRate ? `loss ${knobs.lossRate}` : '',
            knobs.removeFaults.length > 0 ? `fault ${knobs.removeFaults.join(', ')} removed` : '',
          ].filter((x) => x !== '');
          onResult({
            trace: rerunTrace,
            label: `${changed.join(', ')} · ${rerunTrace.length} events${same ? ' · same hash' : ''}`,
            divergence: div < 0 ? null : div,
          });
        } catch (e) {
          out.replaceChildren(h('p', { class: 'problem', role: 'alert' }, `The rerun failed: ${message(e)}`));
        } finally {
          run.disabled = false;
        }
      })();
    },
    { signal },
  );
}

/** The recorded and rerun traces side by side, aligned by event index, around the first divergence. */
function divergenceView(a: readonly TraceEvent[], b: readonly TraceEvent[], div: number): HTMLElement {
  if (div < 0)
    return h(
      'p',
      { class: 'divergence none', 'data-field': 'divergence' },
      `Identical traces: all ${a.length} events agree.`,
    );
  const from = Math.max(0, div - DIFF_ROWS_BEFORE);
  const to = Math.min(Math.max(a.length, b.length), div + DIFF_ROWS_AFTER);
  const cell = (e: TraceEvent | undefined): HTMLElement =>
    h(
      'td',
      {},
      e === undefined ? '(none: trace ended)' : `${formatUs(e.tUs)} ${e.host ?? '·'} ${describeEvent(e)}`,
    );
  const rows: HTMLElement[] = [];
  for (let i = from; i < to; i++) {
    const ea = a[i];
    const eb = b[i];
    const differs = ea === undefined || eb === undefined || eventDigest(ea) !== eventDigest(eb);
    rows.push(
      h(
        'tr',
        {
          class: `${i === div ? 'diverge' : ''}${differs ? ' differs' : ''}`.trim() || null,
          'data-index': i,
        },
        h('td', { class: 'num' }, i === div ? `≠ ${i}` : String(i)),
        cell(ea),
        cell(eb),
      ),
    );
  }
  return h(
    'div',
    { class: 'divergence' },
    h(
      'p',
      { 'data-field': 'divergence' },
      h('strong', {}, `First divergence at event ${div}`),
      ` (of ${a.length} recorded, ${b.length} rerun); marked on both diagrams.`,
    ),
    h(
      'table',
      { class: 'diff' },
      h('thead', {}, h('tr', {}, h('th', {}, '#'), h('th', {}, 'recorded'), h('th', {}, 'rerun'))),
      h('tbody', {}, ...rows),
    ),
  );
}
