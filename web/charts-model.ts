/**
 * Pure data for the viewer's charts (web/viewer-charts.ts draws them with chart.js): throughput
 * (bytes delivered per virtual-time bucket, in total and per receiving host), the latency of each
 * delivered chunk (delivery time − send time) with p50/p99 per bucket, bytes in flight (written,
 * not yet delivered) in total and per connection, the receive queue of each socket (bytes
 * delivered, not yet read) and the trace's queue-depth samples, and the fault intervals in virtual
 * time, clipped to a range. Everything is in µs of virtual time. Functions over arrows take the
 * viewer filter's arrow mask (null: every arrow), so the charts show what the filter selects.
 */
import { INPROC_CONN, type DiagramModel } from './viewer-model.js';

/** 1 per arrow to count, or null for all of them (a FilterMask's `arrows`). */
export type ArrowMask = Uint8Array | null;

/**
 * Connections (bytes in flight) and sockets (receive queues) drawn as their own series at most:
 * the ones that carried the most bytes; the rest are summed into one "other" series, so a trace
 * with hundreds of connections stays a readable chart.
 */
export const CONN_SERIES_MAX = 6;

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
export function throughput(model: DiagramModel, b: Buckets, mask: ArrowMask = null): Throughput {
  const total = new Float64Array(b.count);
  const per = new Map<number, Float64Array>();
  for (let k = 0; k < model.arrowTo.length; k++) {
    if (mask !== null && mask[k] !== 1) continue;
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
export function latencyPoints(model: DiagramModel, mask: ArrowMask = null): XY[] {
  const out: XY[] = [];
  for (let k = 0; k < model.arrowTo.length; k++) {
    if (mask !== null && mask[k] !== 1) continue;
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

/** Queue depth per (host, queue) as step series from the queue-depth samples (of hosts `keepHost` keeps). */
export function queueDepths(
  model: DiagramModel,
  keepHost: (host: number) => boolean = () => true,
): { label: string; points: XY[] }[] {
  const series = new Map<string, XY[]>();
  model.events.forEach((e, i) => {
    if (e.kind !== 'queue-depth' || !keepHost(model.eventHost[i]!)) return;
    const label = `${e.host ?? '·'} ${e.queue}`;
    let s = series.get(label);
    if (s === undefined) series.set(label, (s = []));
    s.push({ x: model.tUs[i]!, y: e.depth });
  });
  return [...series.entries()].map(([label, points]) => ({ label, points }));
}

/** A step series from level changes [time, delta] (sorted by time): one point per instant, its last level. */
function stepSeries(deltas: readonly (readonly [number, number])[]): XY[] {
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

/**
 * Bytes in flight (of the chunks that were delivered): a chunk's bytes count from its write's
 * time to its delivery. A step series, one point per change (several changes at one instant
 * collapse into the last value).
 */
export function bytesInFlight(model: DiagramModel, mask: ArrowMask = null): XY[] {
  const deltas: [number, number][] = [];
  for (let k = 0; k < model.arrowTo.length; k++) {
    if (mask !== null && mask[k] !== 1) continue;
    const bytes = model.arrowBytes[k]!;
    deltas.push([model.tUs[model.arrowFrom[k]!]!, bytes], [model.tUs[model.arrowTo[k]!]!, -bytes]);
  }
  deltas.sort((a, b) => a[0] - b[0]);
  return stepSeries(deltas);
}

/** One chart series of a group (a connection, a socket, or "other"). */
export interface Series {
  /** Stable key: `conn:3`, `sock:server:3`, `other`. */
  key: string;
  label: string;
  points: XY[];
}

interface Group {
  label: string;
  /** Bytes it carried: what ranks it. */
  volume: number;
  /** Level changes in time order. */
  deltas: [number, number][];
}

/**
 * The `max` groups that carried the most bytes (ties: key order) as their own series, in that
 * order, and the rest summed into "other (N …)".
 */
function topSeries(groups: Map<string, Group>, max: number, noun: string): Series[] {
  const ranked = [...groups.entries()].sort(
    (a, b) => b[1].volume - a[1].volume || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0),
  );
  const out: Series[] = ranked
    .slice(0, Math.max(0, max))
    .map(([key, g]) => ({ key, label: g.label, points: stepSeries(g.deltas) }));
  const rest = ranked.slice(Math.max(0, max));
  if (rest.length > 0) {
    // Stable sort: changes at one instant keep their order inside each group.
    const deltas = rest.flatMap(([, g]) => g.deltas).sort((a, b) => a[0] - b[0]);
    out.push({ key: 'other', label: `other (${rest.length} ${noun})`, points: stepSeries(deltas) });
  }
  return out;
}

/** How a connection is named on the charts: its id and its ends, or "inproc". */
export function connLabel(model: DiagramModel, conn: number): string {
  if (conn === INPROC_CONN) return 'inproc';
  const c = model.conns.find((x) => x.id === conn);
  const name = (h: number | undefined): string =>
    h === undefined || h < 0 ? '?' : (model.hosts[h]?.name ?? '?');
  return `conn ${conn} ${name(c?.clientHost)}↔${name(c?.serverHost)}`;
}

/**
 * Bytes in flight per connection: the top `max` connections by bytes delivered, each its own step
 * series, and the rest as "other".
 */
export function bytesInFlightByConn(
  model: DiagramModel,
  max = CONN_SERIES_MAX,
  mask: ArrowMask = null,
): Series[] {
  const groups = new Map<string, Group>();
  const changes: { t: number; d: number; key: string; order: number }[] = [];
  for (let k = 0; k < model.arrowTo.length; k++) {
    if (mask !== null && mask[k] !== 1) continue;
    const conn = model.arrowConn[k]!;
    const key = `conn:${conn}`;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { label: connLabel(model, conn), volume: 0, deltas: [] }));
    const bytes = model.arrowBytes[k]!;
    g.volume += bytes;
    changes.push(
      { t: model.tUs[model.arrowFrom[k]!]!, d: bytes, key, order: changes.length },
      { t: model.tUs[model.arrowTo[k]!]!, d: -bytes, key, order: changes.length + 1 },
    );
  }
  changes.sort((a, b) => a.t - b.t || a.order - b.order);
  for (const c of changes) groups.get(c.key)!.deltas.push([c.t, c.d]);
  return topSeries(groups, max, 'connections');
}

/**
 * The receive queue of each socket (a connection's end on a host): bytes delivered to it (chunks)
 * and not yet read by the application (reads), in bytes. A reset of the connection, a local close
 * or a crash of the host empties it. The top `max` sockets by bytes delivered each get a series,
 * the rest are "other". `keep` selects sockets (the filter's hosts and connections).
 */
export function recvQueueBySocket(
  model: DiagramModel,
  max = CONN_SERIES_MAX,
  keep: (host: number, conn: number) => boolean = () => true,
): Series[] {
  const groups = new Map<string, Group>();
  const level = new Map<string, number>();
  const socketsOfConn = new Map<number, Set<string>>();
  const socketsOfHost = new Map<number, Set<string>>();
  const set = (key: string, t: number, next: number): void => {
    const g = groups.get(key);
    const prev = level.get(key) ?? 0;
    if (g === undefined || next === prev) return;
    level.set(key, next);
    g.deltas.push([t, next - prev]);
  };
  model.events.forEach((e, i) => {
    const h = model.eventHost[i]!;
    const t = model.tUs[i]!;
    if (e.kind === 'reset' && e.conn !== undefined) {
      for (const key of socketsOfConn.get(e.conn) ?? []) set(key, t, 0);
      return;
    }
    if (e.kind === 'host' && e.state === 'crashed') {
      for (const key of socketsOfHost.get(h) ?? []) set(key, t, 0);
      return;
    }
    if (e.conn === undefined || h < 0) return;
    const key = `sock:${model.hosts[h]?.name ?? h}:${e.conn}`;
    if (e.kind === 'chunk') {
      if (!keep(h, e.conn)) return;
      let g = groups.get(key);
      if (g === undefined) {
        groups.set(
          key,
          (g = { label: `${model.hosts[h]?.name ?? '?'} conn ${e.conn} recv`, volume: 0, deltas: [] }),
        );
        if (!socketsOfConn.has(e.conn)) socketsOfConn.set(e.conn, new Set());
        socketsOfConn.get(e.conn)!.add(key);
        if (!socketsOfHost.has(h)) socketsOfHost.set(h, new Set());
        socketsOfHost.get(h)!.add(key);
      }
      g.volume += e.bytes;
      set(key, t, (level.get(key) ?? 0) + e.bytes);
    } else if (e.kind === 'read') set(key, t, Math.max(0, (level.get(key) ?? 0) - e.bytes));
    else if (e.kind === 'close' && e.side === 'local') set(key, t, 0);
  });
  return topSeries(groups, max, 'sockets');
}

/**
 * A level series (points sorted by x, each level holding from its x on) cut to [lo, hi] for drawing:
 * the level at lo, the changes inside, the level carried to hi, and beyond `maxPoints` thinned per
 * x bucket to its lowest, highest and last point (in x order), so peaks and the level at every
 * bucket's end survive. chart.js draws every point it is given; a 100 k-event trace has tens of
 * thousands of changes per series.
 */
export function visibleSteps(points: readonly XY[], lo: number, hi: number, maxPoints: number): XY[] {
  let i0 = 0;
  let n = points.length;
  while (i0 < n) {
    const mid = (i0 + n) >>> 1;
    if (points[mid]!.x < lo) i0 = mid + 1;
    else n = mid;
  }
  const out: XY[] = [];
  const before = points[i0 - 1];
  if (before !== undefined) out.push({ x: lo, y: before.y });
  let i1 = i0;
  while (i1 < points.length && points[i1]!.x <= hi) i1++;
  const inside = i1 - i0;
  const buckets = Math.max(1, Math.floor(maxPoints / 3));
  if (inside <= maxPoints) for (let i = i0; i < i1; i++) out.push(points[i]!);
  else {
    const width = (hi - lo) / buckets;
    let i = i0;
    for (let k = 0; k < buckets && i < i1; k++) {
      const end = k === buckets - 1 ? hi : lo + (k + 1) * width;
      const start = i;
      let minAt = i;
      let maxAt = i;
      let last = i;
      for (; i < i1 && (points[i]!.x < end || k === buckets - 1); i++) {
        if (points[i]!.y < points[minAt]!.y) minAt = i;
        if (points[i]!.y > points[maxAt]!.y) maxAt = i;
        last = i;
      }
      if (i === start) continue; // an empty bucket
      for (const j of [...new Set([minAt, maxAt, last])].sort((a, b) => a - b)) out.push(points[j]!);
    }
  }
  const tail = out[out.length - 1];
  if (tail !== undefined && tail.x < hi) out.push({ x: hi, y: tail.y });
  return out;
}

export interface TimeBand {
  label: string;
  kind: 'fault' | 'pause';
  startUs: number;
  endUs: number;
}

/** The model's bands (faults and hosts down) in virtual time; stacks' spans stay on the diagram. */
export function timeBands(model: DiagramModel): TimeBand[] {
  const out: TimeBand[] = [];
  for (const b of model.bands)
    if (b.kind !== 'span')
      out.push({
        label: b.label,
        kind: b.kind,
        startUs: model.tUs[b.startEvent] ?? 0,
        endUs: model.tUs[b.endEvent] ?? 0,
      });
  return out;
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
