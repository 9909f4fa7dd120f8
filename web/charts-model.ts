/**
 * Pure data for the viewer's charts (web/viewer-charts.ts draws them with chart.js): throughput
 * (bytes delivered per virtual-time bucket, in total and per receiving host), the latency of each
 * delivered chunk (delivery time − send time) with p50/p99 per bucket, queue depth per (host,
 * queue) from the trace's queue-depth samples, bytes in flight (written, not yet delivered), and
 * the fault intervals in virtual time, clipped to a range. Everything is in µs of virtual time.
 */
import type { DiagramModel } from './viewer-model.js';

export interface XY {
  x: number;
  y: number;
}

/** Equal buckets over [t0, t1]: bucket k covers [t0 + k·width, t0 + (k+1)·width). */
export interface Buckets {
  t0: number;
  width: number;
  count: number;
}

export function makeBuckets(t0: number, t1: number, count: number): Buckets {
  const c = Math.max(1, Math.floor(count));
  const span = Math.max(t1 - t0, 1);
  return { t0, width: span / c, count: c };
}

/** The bucket holding time t (clamped to the first and last bucket). */
export function bucketOf(b: Buckets, t: number): number {
  const k = Math.floor((t - b.t0) / b.width);
  return Math.max(0, Math.min(b.count - 1, k));
}

/** A bucket's midpoint, where its value is plotted. */
export function bucketMid(b: Buckets, k: number): number {
  return b.t0 + (k + 0.5) * b.width;
}

export interface Throughput {
  /** Bytes delivered per bucket, all hosts. */
  total: XY[];
  /** Bytes delivered per bucket to each receiving host (only hosts that received any). */
  perHost: { host: string; points: XY[] }[];
}

/** Bytes delivered per bucket, by delivery time (the chunk's event). */
export function throughput(model: DiagramModel, b: Buckets): Throughput {
  const total = new Float64Array(b.count);
  const per = new Map<number, Float64Array>();
  for (let k = 0; k < model.arrowTo.length; k++) {
    const t = model.tUs[model.arrowTo[k]!]!;
    const bytes = model.arrowBytes[k]!;
    const j = bucketOf(b, t);
    total[j]! += bytes;
    const hi = model.arrowToHost[k]!;
    let row = per.get(hi);
    if (row === undefined) per.set(hi, (row = new Float64Array(b.count)));
    row[j]! += bytes;
  }
  const points = (a: Float64Array): XY[] => Array.from(a, (y, j) => ({ x: bucketMid(b, j), y }));
  return {
    total: points(total),
    perHost: [...per.entries()]
      .sort((x, y) => x[0] - y[0])
      .map(([hi, a]) => ({ host: model.hosts[hi]?.name ?? `host ${hi}`, points: points(a) })),
  };
}

/** Latency of each delivered chunk: x = delivery time, y = delivery − send (µs). */
export function latencyPoints(model: DiagramModel): XY[] {
  const out: XY[] = [];
  for (let k = 0; k < model.arrowTo.length; k++) {
    const to = model.tUs[model.arrowTo[k]!]!;
    out.push({ x: to, y: to - model.tUs[model.arrowFrom[k]!]! });
  }
  return out;
}

/** The q-quantile (0..1) of sorted values, nearest-rank; NaN when empty. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

/** p50 and p99 of latency per bucket (buckets with no delivery are left out). */
export function latencyQuantiles(points: readonly XY[], b: Buckets): { p50: XY[]; p99: XY[] } {
  const per: number[][] = Array.from({ length: b.count }, () => []);
  for (const p of points) per[bucketOf(b, p.x)]!.push(p.y);
  const p50: XY[] = [];
  const p99: XY[] = [];
  per.forEach((ys, j) => {
    if (ys.length === 0) return;
    ys.sort((x, y) => x - y);
    p50.push({ x: bucketMid(b, j), y: quantile(ys, 0.5) });
    p99.push({ x: bucketMid(b, j), y: quantile(ys, 0.99) });
  });
  return { p50, p99 };
}

/** Queue depth per (host, queue) as step series from the queue-depth samples. */
export function queueDepths(model: DiagramModel): { label: string; points: XY[] }[] {
  const series = new Map<string, XY[]>();
  model.events.forEach((e, i) => {
    if (e.kind !== 'queue-depth') return;
    const label = `${e.host ?? '·'} ${e.queue}`;
    let s = series.get(label);
    if (s === undefined) series.set(label, (s = []));
    s.push({ x: model.tUs[i]!, y: e.depth });
  });
  return [...series.entries()].map(([label, points]) => ({ label, points }));
}

/**
 * Bytes in flight (of the chunks that were delivered): a chunk's bytes count from its write's
 * time to its delivery. A step series, one point per change (several changes at one instant
 * collapse into the last value).
 */
export function bytesInFlight(model: DiagramModel): XY[] {
  const deltas: [number, number][] = [];
  for (let k = 0; k < model.arrowTo.length; k++) {
    const bytes = model.arrowBytes[k]!;
    deltas.push([model.tUs[model.arrowFrom[k]!]!, bytes], [model.tUs[model.arrowTo[k]!]!, -bytes]);
  }
  deltas.sort((a, b) => a[0] - b[0]);
  const out: XY[] = [];
  let level = 0;
  for (const [t, d] of deltas) {
    level += d;
    const last = out[out.length - 1];
    if (last !== undefined && last.x === t) last.y = level;
    else out.push({ x: t, y: level });
  }
  return out;
}

export interface TimeBand {
  label: string;
  kind: 'fault' | 'pause';
  startUs: number;
  endUs: number;
}

/** The model's bands (faults and hosts down) in virtual time. */
export function timeBands(model: DiagramModel): TimeBand[] {
  return model.bands.map((b) => ({
    label: b.label,
    kind: b.kind,
    startUs: model.tUs[b.startEvent] ?? 0,
    endUs: model.tUs[b.endEvent] ?? 0,
  }));
}

/** Bands clipped to [lo, hi]; bands wholly outside are dropped. */
export function clipBands(bands: readonly TimeBand[], lo: number, hi: number): TimeBand[] {
  const out: TimeBand[] = [];
  for (const b of bands) {
    if (b.endUs < lo || b.startUs > hi) continue;
    out.push({ ...b, startUs: Math.max(b.startUs, lo), endUs: Math.min(b.endUs, hi) });
  }
  return out;
}
