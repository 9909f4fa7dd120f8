/**
 * Drawing one diagram pane on its canvas: bands, lifelines, event ticks, arrows (loops for
 * deliveries on one host), message dots, glyphs, the comment column, the cursor, pin and divergence
 * lines, the time column and the header. Touches only the events and arrows in view (binary search
 * over precomputed positions), so a 100 k-event trace pans smoothly. After each frame the canvas's
 * data-* attributes say what was drawn (the browser tests read them).
 */
import { formatUs } from '../model.js';
import {
  describeEvent,
  lowerBound,
  timeAt,
  type DiagramModel,
  type FilterMask,
  type GlyphKind,
  type Layout,
} from '../viewer-model.js';

/** Pixels: the left time column, the header with host names, the right comment column. */
export const TIME_COL_PX = 90;
export const HEADER_PX = 30;
const COMMENT_COL_PX = 280;
/** Comment labels are drawn when at most this many events are in view (else they would be a smear). */
const COMMENTS_MAX = 250;
/** Arrowheads are drawn when at most this many arrows are in view. */
const ARROWHEADS_MAX = 3000;
/** A delivery on one host is a loop this far (px) right of its lifeline, at least this tall (px). */
const LOOP_PX = 26;
const LOOP_MIN_PX = 10;

export const GLYPH_CHAR: Record<GlyphKind, string> = {
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
  spanBand: 'rgba(0, 158, 115, 0.16)',
  lifeline: '#c8c8c8',
  /** What the filter leaves out. */
  dimmed: '#dddddd',
};

const BAND_STYLES: Record<DiagramModel['bands'][number]['kind'], { fill: string; text: string }> = {
  fault: { fill: COLORS.faultBand, text: '#a33c00' },
  pause: { fill: COLORS.pauseBand, text: '#005a8c' },
  span: { fill: COLORS.spanBand, text: '#00684c' },
};

/** One diagram on a canvas: the recorded trace, or a rerun drawn beside it on the same time axis. */
export interface Pane {
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

/** The view every pane shares (they are laid out on one axis): the layout coordinate at the top of the plot, and pixels per layout unit. */
export interface View {
  viewStart: number;
  pxPerUnit: number;
  heightPx: number;
}

/** The horizontal lines of a frame. */
export interface Markers {
  /** The recorded cursor's event (the recorded pane) and its position (the rerun pane marks the same instant). */
  cursor: number;
  cursorPos: number;
  pinEvent: number;
  /** Where the traces part, or null (see Diagrams.divergencePos). */
  divergencePos: number | null;
}

/** Pane coordinates: hosts to x, layout positions to y and back. */
export class PaneGeometry {
  constructor(
    readonly p: Pane,
    readonly view: View,
  ) {}
  get commentCol(): number {
    return this.p.widthPx >= 760 ? COMMENT_COL_PX : 0;
  }
  get plotLeft(): number {
    return TIME_COL_PX + 30;
  }
  get plotRight(): number {
    return this.p.widthPx - this.commentCol - 30;
  }
  hostX(hi: number): number {
    return (
      this.plotLeft + ((hi + 0.5) * (this.plotRight - this.plotLeft)) / Math.max(1, this.p.model.hosts.length)
    );
  }
  yOf(pos: number): number {
    return HEADER_PX + (pos - this.view.viewStart) * this.view.pxPerUnit;
  }
  pOf(y: number): number {
    return this.view.viewStart + (y - HEADER_PX) / this.view.pxPerUnit;
  }
}

/** Events [a, b) in view, and the layout range [pStart, pEnd]. */
interface InView {
  a: number;
  b: number;
  pStart: number;
  pEnd: number;
}

export function drawPane(p: Pane, view: View, marks: Markers): void {
  const geo = new PaneGeometry(p, view);
  const g = p.g;
  g.fillStyle = '#ffffff';
  g.fillRect(0, 0, p.widthPx, view.heightPx);
  const pStart = geo.pOf(HEADER_PX);
  const pEnd = geo.pOf(view.heightPx);
  const range: InView = {
    a: lowerBound(p.lay.pos, pStart),
    b: lowerBound(p.lay.pos, pEnd + 1e-9),
    pStart,
    pEnd,
  };
  drawBands(geo);
  drawLifelines(geo);
  drawTicks(geo, range);
  const arrows = drawArrows(geo, range);
  drawDots(geo, range);
  drawGlyphs(geo, range);
  drawComments(geo, range);
  const divergenceDrawn = drawMarkers(geo, marks);
  drawTimeColumn(geo);
  drawHeader(geo);
  const ds = p.canvas.dataset;
  ds.drawn = String(Number(ds.drawn ?? '0') + 1);
  ds.visibleEvents = String(range.b - range.a);
  ds.arrows = String(arrows.drawn);
  ds.arrowsDimmed = String(arrows.dimmed);
  ds.loops = String(arrows.loops);
  ds.divergenceDrawn = divergenceDrawn ? '1' : '0';
  ds.timeTop = String(Math.round(timeAt(p.lay, pStart)));
  ds.timeBottom = String(Math.round(timeAt(p.lay, pEnd)));
}

/** Bands: faults across the plot (or one host's column), hosts down and stacks' spans of work on their column. */
function drawBands(geo: PaneGeometry): void {
  const { p, view } = geo;
  const g = p.g;
  const colW = (geo.plotRight - geo.plotLeft) / Math.max(1, p.model.hosts.length);
  for (const b of p.model.bands) {
    const y0 = geo.yOf(p.lay.pos[b.startEvent]!);
    const y1 = Math.max(geo.yOf(p.lay.pos[b.endEvent]!), y0 + 3);
    if (y1 < HEADER_PX || y0 > view.heightPx) continue;
    const style = BAND_STYLES[b.kind];
    g.fillStyle = style.fill;
    const x0 = b.host < 0 ? geo.plotLeft : geo.hostX(b.host) - colW / 2;
    const w = b.host < 0 ? geo.plotRight - geo.plotLeft : colW;
    g.fillRect(x0, y0, w, y1 - y0);
    // A span's label only where it fits: a busy server has one per request.
    if (b.kind === 'span' && y1 - y0 < 14) continue;
    g.fillStyle = style.text;
    g.font = '11px "DejaVu Sans", sans-serif';
    g.fillText(b.label, x0 + 4, Math.max(y0 + 12, HEADER_PX + 12));
  }
}

function drawLifelines(geo: PaneGeometry): void {
  const g = geo.p.g;
  g.strokeStyle = COLORS.lifeline;
  g.lineWidth = 1;
  g.beginPath();
  for (let hi = 0; hi < geo.p.model.hosts.length; hi++) {
    const x = Math.round(geo.hostX(hi)) + 0.5;
    g.moveTo(x, HEADER_PX);
    g.lineTo(x, geo.view.heightPx);
  }
  g.stroke();
}

/** Event ticks: one per event in view, at most one per pixel row and host (paler outside the filter). */
function drawTicks(geo: PaneGeometry, { a, b }: InView): void {
  const { p } = geo;
  const m = p.model;
  const lastY = new Int32Array(m.hosts.length).fill(-1);
  for (const matching of p.mask === null ? [1] : [0, 1]) {
    p.g.fillStyle = matching === 1 ? COLORS.tick : COLORS.dimmed;
    lastY.fill(-1);
    for (let i = a; i < b; i++) {
      const hi = m.eventHost[i]!;
      if (hi < 0 || (p.mask !== null && p.mask.events[i] !== matching)) continue;
      const y = Math.round(geo.yOf(p.lay.pos[i]!));
      if (lastY[hi] === y) continue;
      lastY[hi] = y;
      p.g.fillRect(geo.hostX(hi) - 3, y, 6, 1);
    }
  }
}

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

/**
 * Arrows, sorted by delivery: those delivered in view, or sent in view and delivered below it.
 * Three passes: outside the filter (pale), whole deliveries, split ones. A delivery on one host
 * (both ends of the connection there, or inproc) is a loop out to the right of its lifeline.
 */
function drawArrows(
  geo: PaneGeometry,
  { pStart, pEnd }: InView,
): { drawn: number; dimmed: number; loops: number } {
  const { p } = geo;
  const { g, model: m, lay, mask } = p;
  const nArrows = m.arrowTo.length;
  const k0 = lowerBoundBy(nArrows, (k) => lay.pos[m.arrowTo[k]!]!, pStart);
  const kEndP = pEnd + lay.maxArrowSpan;
  const count = { drawn: 0, dimmed: 0, loops: 0 };
  /** Arrowheads to draw: the last segment of each arrow, as x0, y0, x1, y1. */
  const heads: number[] = [];
  for (const pass of [0, 1, 2]) {
    if (pass === 0 && mask === null) continue;
    g.strokeStyle = pass === 0 ? COLORS.dimmed : pass === 2 ? COLORS.split : COLORS.arrow;
    g.beginPath();
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
      const x0 = geo.hostX(fromH);
      const x1 = geo.hostX(toH);
      const y0 = Math.round(geo.yOf(pFrom));
      const y1 = Math.round(geo.yOf(pTo));
      // The same pixels as the previous arrow: drawn once.
      if (x0 === px0 && y0 === py0 && x1 === px1 && y1 === py1) continue;
      px0 = x0;
      py0 = y0;
      px1 = x1;
      py1 = y1;
      const withHead = pass > 0 && heads.length < ARROWHEADS_MAX * 4 ? heads : null;
      if (fromH === toH) {
        drawLoop(g, x0, y0, y1, withHead);
        count.loops++;
      } else {
        g.moveTo(x0, y0);
        g.lineTo(x1, y1);
        withHead?.push(x0, y0, x1, y1);
      }
      if (pass === 0) count.dimmed++;
      else count.drawn++;
    }
    g.stroke();
  }
  if (count.drawn <= ARROWHEADS_MAX) drawHeads(g, heads);
  return count;
}

/** A loop right of a lifeline; its last segment goes to `heads` (for its arrowhead) unless null. */
function drawLoop(
  g: CanvasRenderingContext2D,
  x0: number,
  y0: number,
  y1: number,
  heads: number[] | null,
): void {
  // Short loops still bulge a few pixels up and down, so a zero-latency one stays visible.
  const bulge = Math.max(0, (LOOP_MIN_PX - (y1 - y0)) / 2);
  g.moveTo(x0, y0);
  g.bezierCurveTo(x0 + LOOP_PX, y0 - bulge, x0 + LOOP_PX, y1 + bulge, x0 + 2, y1);
  heads?.push(x0 + LOOP_PX, y1 + bulge, x0 + 2, y1);
}

/** Arrowheads at the ends of segments given as x0, y0, x1, y1 quadruples. */
function drawHeads(g: CanvasRenderingContext2D, heads: readonly number[]): void {
  g.fillStyle = COLORS.arrow;
  g.beginPath();
  for (let j = 0; j < heads.length; j += 4) {
    const x0 = heads[j]!;
    const y0 = heads[j + 1]!;
    const x1 = heads[j + 2]!;
    const y1 = heads[j + 3]!;
    const ang = Math.atan2(y1 - y0, x1 - x0);
    g.moveTo(x1, y1);
    g.lineTo(x1 - 8 * Math.cos(ang - 0.4), y1 - 8 * Math.sin(ang - 0.4));
    g.lineTo(x1 - 8 * Math.cos(ang + 0.4), y1 - 8 * Math.sin(ang + 0.4));
    g.closePath();
  }
  g.fill();
}

/** Message dots: TX and RX coloured (pale outside the filter). */
function drawDots(geo: PaneGeometry, { a, b }: InView): void {
  const { p } = geo;
  const m0 = lowerBound(p.messageEvents, a);
  for (let j = m0; j < p.messageEvents.length && p.messageEvents[j]! < b; j++) {
    const i = p.messageEvents[j]!;
    const hi = p.model.eventHost[i]!;
    if (hi < 0) continue;
    p.g.fillStyle =
      p.mask !== null && p.mask.events[i] !== 1
        ? COLORS.dimmed
        : p.model.events[i]!.kind === 'msg-send'
          ? COLORS.tx
          : COLORS.rx;
    p.g.fillRect(geo.hostX(hi) - 3, geo.yOf(p.lay.pos[i]!) - 3, 6, 6);
  }
}

/** Glyphs (drops, losses: mid-flight between the two lifelines). */
function drawGlyphs(geo: PaneGeometry, { a, b }: InView): void {
  const { p } = geo;
  const g = p.g;
  g.font = '14px "DejaVu Sans", sans-serif';
  g.textAlign = 'center';
  g.textBaseline = 'middle';
  const g0 = lowerBound(p.glyphEvents, a);
  for (let j = g0; j < p.model.glyphs.length && p.glyphEvents[j]! < b; j++) {
    const gl = p.model.glyphs[j]!;
    if (gl.host < 0) continue;
    g.fillStyle = p.mask !== null && p.mask.glyphs[j] !== 1 ? COLORS.dimmed : COLORS.glyph;
    const x = gl.peer !== gl.host ? (geo.hostX(gl.host) + geo.hostX(gl.peer)) / 2 : geo.hostX(gl.host) + 12;
    g.fillText(GLYPH_CHAR[gl.kind], x, geo.yOf(p.lay.pos[gl.event]!));
  }
  g.textAlign = 'left';
  g.textBaseline = 'alphabetic';
}

/** Comment column (Wireshark style), when few events are in view; only matching ones when filtered. */
function drawComments(geo: PaneGeometry, { a, b }: InView): void {
  const { p } = geo;
  const mask = p.mask;
  const inView = mask === null ? b - a : lowerBound(mask.matching, b) - lowerBound(mask.matching, a);
  if (geo.commentCol === 0 || inView > COMMENTS_MAX) return;
  p.g.font = '11px "DejaVu Sans Mono", monospace';
  p.g.fillStyle = '#444444';
  let lastLabelY = -100;
  for (let i = a; i < b; i++) {
    if (mask !== null && mask.events[i] !== 1) continue;
    const y = geo.yOf(p.lay.pos[i]!);
    if (y - lastLabelY < 12) continue;
    lastLabelY = y;
    const e = p.model.events[i]!;
    const text = `#${e.seq} ${e.host ?? '·'} ${describeEvent(e)}`;
    p.g.fillText(text.length > 48 ? text.slice(0, 47) + '…' : text, p.widthPx - geo.commentCol + 6, y + 4);
  }
}

/** Horizontal markers: divergence, pin, cursor (the rerun pane shows the recorded cursor's instant). Returns whether the divergence line is in view. */
function drawMarkers(geo: PaneGeometry, marks: Markers): boolean {
  const { p } = geo;
  const g = p.g;
  const hline = (pos: number, color: string, label: string, dash: number[]): boolean => {
    const y = Math.round(geo.yOf(pos)) + 0.5;
    if (y < HEADER_PX || y > geo.view.heightPx) return false;
    g.strokeStyle = color;
    g.fillStyle = color;
    g.setLineDash(dash);
    g.beginPath();
    g.moveTo(TIME_COL_PX, y);
    g.lineTo(p.widthPx - geo.commentCol, y);
    g.stroke();
    g.setLineDash([]);
    g.font = 'bold 11px "DejaVu Sans", sans-serif';
    g.fillText(label, TIME_COL_PX + 2, y - 3);
    return true;
  };
  let divergenceDrawn = false;
  if (marks.divergencePos !== null && p.divergence !== null) {
    g.lineWidth = 2;
    divergenceDrawn = hline(
      marks.divergencePos,
      COLORS.diverge,
      `≠ first divergence (event ${p.divergence})`,
      [6, 4],
    );
    g.lineWidth = 1;
  }
  if (p.role !== 'recorded') {
    hline(marks.cursorPos, COLORS.cursor, '', [2, 3]);
    return divergenceDrawn;
  }
  hline(p.lay.pos[marks.pinEvent]!, COLORS.pin, '✗ failure pin', []);
  hline(p.lay.pos[marks.cursor]!, COLORS.cursor, '', [2, 3]);
  const ch = p.model.eventHost[marks.cursor]!;
  if (ch >= 0) {
    g.strokeStyle = COLORS.cursor;
    g.lineWidth = 2;
    g.beginPath();
    g.arc(geo.hostX(ch), geo.yOf(p.lay.pos[marks.cursor]!), 6, 0, Math.PI * 2);
    g.stroke();
    g.lineWidth = 1;
  }
  return divergenceDrawn;
}

function drawTimeColumn(geo: PaneGeometry): void {
  const { p, view } = geo;
  const g = p.g;
  g.fillStyle = '#ffffff';
  g.fillRect(0, HEADER_PX, TIME_COL_PX, view.heightPx - HEADER_PX);
  g.fillStyle = '#5a5a5a';
  g.font = '11px "DejaVu Sans Mono", monospace';
  for (let y = HEADER_PX + 14; y < view.heightPx; y += 60) {
    g.fillText(formatUs(Math.round(timeAt(p.lay, geo.pOf(y)))), 4, y);
    g.fillRect(TIME_COL_PX - 6, y - 4, 6, 1);
  }
}

/** Header with the host names (drawn last: it stays on top while panning). */
function drawHeader(geo: PaneGeometry): void {
  const { p } = geo;
  const g = p.g;
  g.fillStyle = p.role === 'recorded' ? '#f4f4f4' : '#f7e9f1';
  g.fillRect(0, 0, p.widthPx, HEADER_PX);
  g.fillStyle = '#1a1a1a';
  g.font = 'bold 12px "DejaVu Sans", sans-serif';
  g.textAlign = 'center';
  p.model.hosts.forEach((hh, hi) => g.fillText(hh.name, geo.hostX(hi), 19));
  g.textAlign = 'left';
  g.fillText(p.role === 'rerun' ? 'rerun' : p.lay.compressed ? 'time (idle compressed)' : 'time', 4, 19);
}
