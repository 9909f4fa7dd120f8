/**
 * Layout: the vertical coordinate of each event (virtual time, or time with idle stretches
 * compressed), layouts of several traces on one time axis, and the maps between positions and time.
 */
import type { DiagramModel } from './diagram.js';

export interface Layout {
  /** Layout coordinate per event (µs of virtual time when not compressed), nondecreasing. */
  pos: Float64Array;
  compressed: boolean;
  /** Compressed only: gaps longer than this (µs) are drawn this long. */
  capUs: number;
  /** Compressed only: extra space every event gets, so events at one instant stand apart. */
  stepUs: number;
  /** Longest arrow in layout units (bounds the search for arrows crossing the view). */
  maxArrowSpan: number;
  /**
   * Compressed only: the time axis, shared by layouts made together: each distinct instant of
   * virtual time (µs, ascending) and the positions of its first and last step. timeAt and posAtTime
   * read it, so aligned layouts map a position to the same time.
   */
  axisUs: Float64Array;
  axisFirst: Float64Array;
  axisLast: Float64Array;
}

/**
 * Real time scale: an event's position is its virtual time, so arrow slope is latency and events
 * at the same instant share a row. Compressed ("compress idle time"): each gap between events is
 * capped at the median non-zero gap and every event gets an eighth of it on top, so bursts at one
 * instant spread out and long idle stretches shrink, while short latencies keep their slope.
 */
export function layout(model: DiagramModel, compressed: boolean): Layout {
  return layoutAligned([model], compressed)[0]!;
}

/**
 * Layouts of several traces on one time axis (the recorded trace and a rerun drawn beside it): an
 * instant of virtual time gets the same position in every layout. Compressed, the gaps are capped
 * at the first model's median gap and an instant holds as many steps as the model with the most
 * events at it, so events at one instant line up by rank and identical prefixes get identical
 * positions. With one model this is the plain layout.
 */
export function layoutAligned(models: readonly DiagramModel[], compressed: boolean): Layout[] {
  const pos = models.map((m) => new Float64Array(m.tUs.length));
  let capUs = 0;
  let stepUs = 0;
  const axisUs: number[] = [];
  const axisFirst: number[] = [];
  const axisLast: number[] = [];
  if (!compressed) models.forEach((m, k) => pos[k]!.set(m.tUs));
  else {
    const first = models[0]?.tUs ?? new Float64Array(0);
    const gaps: number[] = [];
    for (let i = 1; i < first.length; i++) {
      const g = first[i]! - first[i - 1]!;
      if (g > 0) gaps.push(g);
    }
    gaps.sort((a, b) => a - b);
    capUs = gaps.length > 0 ? gaps[gaps.length >>> 1]! : 1;
    stepUs = capUs / 8;
    const next = models.map(() => 0);
    let slot = 0;
    let prevT: number | null = null;
    let prevSlots = 0;
    for (;;) {
      // The next instant: the earliest time any model has not placed yet.
      let t = Infinity;
      models.forEach((m, k) => {
        if (next[k]! < m.tUs.length) t = Math.min(t, m.tUs[next[k]!]!);
      });
      if (t === Infinity) break;
      if (prevT !== null) slot += (prevSlots - 1) * stepUs + Math.min(Math.max(0, t - prevT), capUs) + stepUs;
      let slots = 0;
      models.forEach((m, k) => {
        let rank = 0;
        while (next[k]! < m.tUs.length && m.tUs[next[k]!] === t) pos[k]![next[k]!++] = slot + rank++ * stepUs;
        slots = Math.max(slots, rank);
      });
      prevT = t;
      prevSlots = slots;
      axisUs.push(t);
      axisFirst.push(slot);
      axisLast.push(slot + (slots - 1) * stepUs);
    }
  }
  const axis = {
    axisUs: Float64Array.from(axisUs),
    axisFirst: Float64Array.from(axisFirst),
    axisLast: Float64Array.from(axisLast),
  };
  return models.map((m, k) => {
    const p = pos[k]!;
    let maxArrowSpan = 0;
    for (let a = 0; a < m.arrowTo.length; a++)
      maxArrowSpan = Math.max(maxArrowSpan, p[m.arrowTo[a]!]! - p[m.arrowFrom[a]!]!);
    return { pos: p, compressed, capUs, stepUs, maxArrowSpan, ...axis };
  });
}

/** First index i with a[i] >= x (a nondecreasing); a.length when none. */
export function lowerBound(a: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The last event at or before virtual time t (µs), or 0. */
export function eventAtTime(model: DiagramModel, tUs: number): number {
  const i = lowerBound(model.tUs, tUs + 1) - 1;
  return Math.max(0, Math.min(i, model.tUs.length - 1));
}

/**
 * Virtual time at a layout coordinate (the inverse of layout): the instant whose steps hold it, else
 * interpolated between the instants around it, clamped to the trace(s).
 */
export function timeAt(lay: Layout, p: number): number {
  if (!lay.compressed) return p;
  const n = lay.axisUs.length;
  if (n === 0) return 0;
  // The last instant starting at or before p.
  const k = lowerBound(lay.axisFirst, p + 1e-9) - 1;
  if (k < 0) return lay.axisUs[0]!;
  if (k >= n - 1 || p <= lay.axisLast[k]!) return lay.axisUs[k]!;
  const p0 = lay.axisLast[k]!;
  const p1 = lay.axisFirst[k + 1]!;
  const t0 = lay.axisUs[k]!;
  const t1 = lay.axisUs[k + 1]!;
  return p1 === p0 ? t1 : t0 + ((t1 - t0) * (p - p0)) / (p1 - p0);
}

/**
 * The layout coordinate of virtual time t (the inverse of timeAt): the first step of the instant t
 * when there is one, else interpolated between the instants around it, clamped to the trace(s).
 */
export function posAtTime(lay: Layout, tUs: number): number {
  if (!lay.compressed) return tUs;
  const n = lay.axisUs.length;
  if (n === 0) return 0;
  const k = lowerBound(lay.axisUs, tUs);
  if (k >= n) return lay.axisLast[n - 1]!;
  if (k === 0 || lay.axisUs[k] === tUs) return lay.axisFirst[k]!;
  const t0 = lay.axisUs[k - 1]!;
  const t1 = lay.axisUs[k]!;
  const p0 = lay.axisLast[k - 1]!;
  return p0 + ((lay.axisFirst[k]! - p0) * (tUs - t0)) / (t1 - t0);
}
