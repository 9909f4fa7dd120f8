/**
 * The diagram pane: the recorded trace on a canvas, and a rerun's trace beside it once there is
 * one, both on one time axis with one shared view (zoom, pan, fit). Wheel zooms, dragging pans, a
 * click picks the nearest event; the cursor and the filter come from the shared state.
 */
import type { TraceEvent } from '../../sim/trace.js';
import { h } from '../dom.js';
import {
  buildDiagram,
  eventAtTime,
  filterMask,
  layout,
  layoutAligned,
  lowerBound,
  posAtTime,
  timeAt,
  type DiagramModel,
} from '../viewer-model.js';
import { drawPane, HEADER_PX, PaneGeometry, type Pane, type View } from './draw.js';
import type { ViewerState } from './shared.js';

/** The diagram's height, CSS px. */
const CANVAS_HEIGHT_PX = 560;
const MAX_PX_PER_UNIT = 1e6;

export class Diagrams {
  readonly element = h('div', { class: 'diagrams' });
  private readonly panes: Pane[] = [];
  private readonly view: View = { viewStart: 0, pxPerUnit: 1, heightPx: CANVAS_HEIGHT_PX };
  private drawPending = false;
  private readonly ro = new ResizeObserver(() => this.resize());

  /**
   * `compress`: the "compress idle time" checkbox; `onFrame`: called with the virtual times at the
   * top and bottom of the view each time the panes are drawn (the charts follow the view).
   */
  constructor(
    private readonly state: ViewerState,
    private readonly compress: HTMLInputElement,
    private readonly onFrame: (topUs: number, bottomUs: number) => void,
  ) {
    this.panes.push(this.makePane('recorded', state.model, null));
    this.element.append(this.recorded.wrap);
    state.onCursor((opts) => {
      if (opts.scroll !== false) this.ensureVisible(state.cursor);
      this.requestDraw();
    });
    state.onFilter(() => {
      for (const p of this.panes)
        p.mask = p.role === 'recorded' ? state.mask : filterMask(p.model, state.filter);
      this.requestDraw();
    });
    compress.addEventListener('change', () => this.relayout(), { signal: state.signal });
  }

  get recorded(): Pane {
    return this.panes[0]!;
  }

  get heightPx(): number {
    return this.view.heightPx;
  }

  private makePane(role: Pane['role'], m: DiagramModel, caption: HTMLElement | null): Pane {
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
      lay: layout(m, this.compress.checked),
      widthPx: 800,
      mask: role === 'recorded' ? this.state.mask : filterMask(m, this.state.filter),
      glyphEvents: Int32Array.from(m.glyphs.map((gl) => gl.event)),
      messageEvents: Int32Array.from(m.messages),
      divergence: null,
    };
    this.attachPointer(pane);
    this.ro.observe(wrap);
    return pane;
  }

  /** Adds (or replaces) the rerun's diagram beside the recorded one, with the first divergence marked on both. */
  addRerun(trace: TraceEvent[], label: string, divergence: number | null): void {
    const rerunModel = buildDiagram(
      trace,
      this.state.model.hosts.map((x) => x.name),
      this.state.ctx.decoders,
    );
    this.panes.splice(1);
    const caption = (text: string, cls: string): HTMLElement =>
      h('p', { class: `pane-caption ${cls}` }, text);
    const rerun = this.makePane('rerun', rerunModel, caption(`Rerun: ${label}`, 'rerun'));
    this.recorded.wrap.querySelector('.pane-caption')?.remove();
    this.recorded.wrap.prepend(caption('Recorded trace', 'recorded'));
    this.element.querySelectorAll('.diagram-wrap.rerun').forEach((el) => {
      this.ro.unobserve(el);
      el.remove();
    });
    this.panes.push(rerun);
    this.element.append(rerun.wrap);
    this.recorded.divergence = divergence;
    rerun.divergence = divergence;
    this.relayout();
    this.resize();
  }

  // ---- The view ----

  private yOf(pos: number): number {
    return HEADER_PX + (pos - this.view.viewStart) * this.view.pxPerUnit;
  }

  private pOf(y: number): number {
    return this.view.viewStart + (y - HEADER_PX) / this.view.pxPerUnit;
  }

  /** The layout span of the longest pane. */
  private span(): number {
    return Math.max(
      1,
      ...this.panes.map((p) => {
        const k = p.lay.pos.length;
        return k === 0 ? 0 : p.lay.pos[k - 1]! - p.lay.pos[0]!;
      }),
    );
  }

  private minPxPerUnit(): number {
    return (this.view.heightPx - HEADER_PX) / this.span() / 4;
  }

  fitAll(): void {
    const v = this.view;
    v.pxPerUnit = (v.heightPx - HEADER_PX - 20) / this.span();
    v.viewStart = Math.min(...this.panes.map((p) => p.lay.pos[0] ?? 0)) - 10 / v.pxPerUnit;
    this.requestDraw();
  }

  /** Zooms by `factor` keeping the layout position at height y (px; default the middle) in place. */
  zoomAround(factor: number, y = (HEADER_PX + this.view.heightPx) / 2): void {
    const v = this.view;
    const p = this.pOf(y);
    v.pxPerUnit = Math.min(Math.max(v.pxPerUnit * factor, this.minPxPerUnit()), MAX_PX_PER_UNIT);
    v.viewStart = p - (y - HEADER_PX) / v.pxPerUnit;
    this.requestDraw();
  }

  /** Pans by a fraction of the view's height (negative: up). */
  pan(fraction: number): void {
    this.view.viewStart += ((this.view.heightPx - HEADER_PX) * fraction) / this.view.pxPerUnit;
    this.requestDraw();
  }

  /** Shows virtual times [loUs, hiUs] (a range brushed on a chart) in the diagrams. */
  showTimeRange(loUs: number, hiUs: number): void {
    const lay = this.recorded.lay;
    const p0 = posAtTime(lay, loUs);
    const p1 = posAtTime(lay, hiUs);
    if (!(p1 > p0)) return;
    const v = this.view;
    v.pxPerUnit = Math.min(
      Math.max((v.heightPx - HEADER_PX) / (p1 - p0), this.minPxPerUnit()),
      MAX_PX_PER_UNIT,
    );
    v.viewStart = p0;
    this.requestDraw();
  }

  private ensureVisible(i: number): void {
    const pos = this.recorded.lay.pos[i]!;
    const y = this.yOf(pos);
    const v = this.view;
    if (y < HEADER_PX + 10 || y > v.heightPx - 10)
      v.viewStart = pos - (v.heightPx - HEADER_PX) / 2 / v.pxPerUnit;
  }

  /** New layouts for all panes (compress toggled, a rerun added), the cursor kept at its height. */
  private relayout(): void {
    const v = this.view;
    const cursor = this.state.cursor;
    const yCursor = this.yOf(this.recorded.lay.pos[cursor]!);
    const zoomRel = v.pxPerUnit / ((v.heightPx - HEADER_PX) / this.span());
    const lays = layoutAligned(
      this.panes.map((p) => p.model),
      this.compress.checked,
    );
    this.panes.forEach((p, k) => (p.lay = lays[k]!));
    v.pxPerUnit = ((v.heightPx - HEADER_PX) / this.span()) * zoomRel;
    v.viewStart = this.recorded.lay.pos[cursor]! - (yCursor - HEADER_PX) / v.pxPerUnit;
    this.requestDraw();
  }

  // ---- Drawing ----

  resize(): void {
    const dpr = window.devicePixelRatio || 1;
    const heightPx = this.view.heightPx;
    for (const p of this.panes) {
      p.widthPx = Math.max(360, Math.floor(p.wrap.clientWidth));
      p.canvas.width = Math.floor(p.widthPx * dpr);
      p.canvas.height = Math.floor(heightPx * dpr);
      p.canvas.style.width = `${p.widthPx}px`;
      p.canvas.style.height = `${heightPx}px`;
      p.g.setTransform(dpr, 0, 0, dpr, 0, 0);
    }
    this.requestDraw();
  }

  requestDraw(): void {
    if (this.drawPending) return;
    this.drawPending = true;
    requestAnimationFrame(() => {
      this.drawPending = false;
      if (!this.state.signal.aborted) this.draw();
    });
  }

  private draw(): void {
    const r = this.recorded;
    this.onFrame(timeAt(r.lay, this.pOf(HEADER_PX)), timeAt(r.lay, this.pOf(this.view.heightPx)));
    const marks = {
      cursor: this.state.cursor,
      cursorPos: r.lay.pos[this.state.cursor]!,
      pinEvent: this.state.pin.event,
      divergencePos: this.divergencePos(),
    };
    for (const p of this.panes) drawPane(p, this.view, marks);
  }

  /**
   * Where the traces part: the earlier of the two diverging events (before it both traces are the
   * same; the other trace's event may come much later, or never when it ended), so the marker sits
   * at one instant in both diagrams.
   */
  private divergencePos(): number | null {
    const div = this.recorded.divergence;
    if (div === null || this.panes.length < 2) return null;
    let best = Infinity;
    for (const p of this.panes) {
      const k = p.lay.pos.length;
      if (k === 0) continue;
      best = Math.min(best, div < k ? p.lay.pos[div]! : p.lay.pos[k - 1]! + Math.max(p.lay.stepUs, 1e-9));
    }
    return best === Infinity ? null : best;
  }

  // ---- Pointer ----

  /** Wheel zoom, drag pan and click-to-select on a pane's canvas (the view is shared). */
  private attachPointer(pane: Pane): void {
    const canvas = pane.canvas;
    const signal = this.state.signal;
    canvas.addEventListener(
      'wheel',
      (ev) => {
        ev.preventDefault();
        const rect = canvas.getBoundingClientRect();
        this.zoomAround(Math.exp(-ev.deltaY / 400), ev.clientY - rect.top);
      },
      { signal, passive: false },
    );
    let drag: { y: number; start: number; moved: boolean } | null = null;
    canvas.addEventListener(
      'pointerdown',
      (ev) => {
        drag = { y: ev.clientY, start: this.view.viewStart, moved: false };
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
        this.view.viewStart = drag.start - dy / this.view.pxPerUnit;
        this.requestDraw();
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
        this.pick(pane, ev.clientX - rect.left, ev.clientY - rect.top);
      },
      { signal },
    );
  }

  /** A click at (x, y) on a pane: the nearest event (by height, then by distance to its lifeline). */
  private pick(pane: Pane, x: number, y: number): void {
    const state = this.state;
    if (pane.role === 'rerun') {
      // The rerun's events are not the cursor's: select the recorded event at that instant.
      state.setCursor(eventAtTime(state.model, timeAt(pane.lay, this.pOf(y))), { scroll: false });
      return;
    }
    const geo = new PaneGeometry(pane, this.view);
    const lay = pane.lay;
    const lo = lowerBound(lay.pos, this.pOf(y - 8));
    const hi = Math.min(lowerBound(lay.pos, this.pOf(y + 8)), lo + 2000);
    let best = -1;
    let bestD = Infinity;
    for (let i = lo; i < hi; i++) {
      const hh = state.model.eventHost[i]!;
      const d = Math.abs(this.yOf(lay.pos[i]!) - y) + (hh < 0 ? 50 : Math.abs(geo.hostX(hh) - x) / 4);
      if (d < bestD) {
        bestD = d;
        best = i;
      }
    }
    if (best >= 0) state.setCursor(best, { scroll: false });
  }

  focus(): void {
    this.recorded.canvas.focus();
  }

  destroy(): void {
    this.ro.disconnect();
  }
}
