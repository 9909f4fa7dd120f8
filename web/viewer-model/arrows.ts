/**
 * The diagram's arrows, one per delivery: on a byte stream, from the write that sent a chunk's
 * first byte to the chunk's arrival (slope = latency); for a message handed over in memory, from
 * its msg-send to the msg-recv of the same `handoff`. Arrows are found in one pass over the trace,
 * each at its delivery event, so they come out sorted by delivery.
 */
import type { TraceEvent } from '../../sim/trace.js';
import type { Glyph } from './diagram.js';

/** Connections' ends: host index of the client (`connect`) and of the server (`accept`). */
export interface ConnEnds {
  client: Map<number, number>;
  server: Map<number, number>;
  /** Every connection id with a known end, ascending. */
  ids: number[];
}

type Dir = 'c>s' | 's>c';
type EventOf<K extends TraceEvent['kind']> = Extract<TraceEvent, { kind: K }>;

/**
 * The connection id arrows carry when the trace has none: messages handed over in memory (inproc),
 * which cross without a connection (their arrow goes from the msg-send to the msg-recv of one
 * `handoff`).
 */
export const INPROC_CONN = -1;

/** Arrows as they are found; toArrays() packs them for drawing. */
export class ArrowList {
  private readonly from: number[] = [];
  private readonly to: number[] = [];
  private readonly fromHost: number[] = [];
  private readonly toHost: number[] = [];
  private readonly bytes: number[] = [];
  private readonly conn: number[] = [];
  private readonly split: number[] = [];

  push(
    from: number,
    to: number,
    fromHost: number,
    toHost: number,
    bytes: number,
    conn: number,
    split: boolean,
  ): void {
    this.from.push(from);
    this.to.push(to);
    this.fromHost.push(fromHost);
    this.toHost.push(toHost);
    this.bytes.push(bytes);
    this.conn.push(conn);
    this.split.push(split ? 1 : 0);
  }

  toArrays(): {
    arrowFrom: Int32Array;
    arrowTo: Int32Array;
    arrowFromHost: Int32Array;
    arrowToHost: Int32Array;
    arrowBytes: Int32Array;
    arrowConn: Int32Array;
    arrowSplit: Uint8Array;
  } {
    return {
      arrowFrom: Int32Array.from(this.from),
      arrowTo: Int32Array.from(this.to),
      arrowFromHost: Int32Array.from(this.fromHost),
      arrowToHost: Int32Array.from(this.toHost),
      arrowBytes: Int32Array.from(this.bytes),
      arrowConn: Int32Array.from(this.conn),
      arrowSplit: Uint8Array.from(this.split),
    };
  }
}

/** Messages handed over in memory: an arrow from each msg-send to the msg-recv of its `handoff`. */
export class HandoffArrows {
  /** Sent, not yet received, by hand-off id: the send event, its host and bytes. */
  private readonly pending = new Map<number, { event: number; host: number; bytes: number }>();

  constructor(private readonly arrows: ArrowList) {}

  send(i: number, e: EventOf<'msg-send'>, host: number): void {
    if (e.handoff !== undefined) this.pending.set(e.handoff, { event: i, host, bytes: e.bytes });
  }

  recv(i: number, e: EventOf<'msg-recv'>, host: number): void {
    if (e.handoff === undefined) return;
    const p = this.pending.get(e.handoff);
    if (p === undefined) return; // sent before the trace starts
    this.pending.delete(e.handoff);
    this.arrows.push(p.event, i, p.host, host, p.bytes, INPROC_CONN, false);
  }
}

interface Stream {
  /** Accepted writes on this (conn, direction): event index and stream end offset after it. */
  writes: number[];
  ends: number[];
  /** Bytes accepted so far. */
  accepted: number;
  /** Highest stream offset delivered (chunk offset + bytes). */
  delivered: number;
  fromHost: number;
  toHost: number;
}

/** The write whose byte range holds `offset` (writes sorted by end offset), or -1. */
function writeHolding(s: Stream, offset: number): number {
  let lo = 0;
  let hi = s.ends.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (s.ends[mid]! > offset) hi = mid;
    else lo = mid + 1;
  }
  return lo < s.ends.length ? lo : -1;
}

/**
 * For each connection whose two ends share a host (ipc; tcp to oneself), the chunks of each
 * direction in trace order: event index and the stream offset just past the chunk. A write event
 * does not say which end wrote it (only its host, the same for both ends), so the direction is
 * inferred from the chunks that later carry the bytes.
 */
function localChunks(
  events: readonly TraceEvent[],
  local: ReadonlySet<number>,
): Map<string, { event: number; end: number }[]> {
  const out = new Map<string, { event: number; end: number }[]>();
  if (local.size === 0) return out;
  events.forEach((e, i) => {
    if (e.kind !== 'chunk' || e.conn === undefined || !local.has(e.conn)) return;
    const key = `${e.conn}${e.dir}`;
    let list = out.get(key);
    if (list === undefined) out.set(key, (list = []));
    list.push({ event: i, end: e.offset + e.bytes });
  });
  return out;
}

/** Byte streams: writes and chunks per (connection, direction), arrows per chunk, drops at the end. */
export class StreamArrows {
  private readonly streams = new Map<string, Stream>();
  /** Connections whose two ends share a host. */
  private readonly local: Set<number>;
  private readonly chunksOf: Map<string, { event: number; end: number }[]>;
  /** Per same-host (conn, dir): how many of its chunks are covered by the writes assigned so far. */
  private readonly chunkCursor = new Map<string, number>();
  /** Per conn, the event that reset it (undelivered bytes were destroyed there). */
  private readonly resetAt = new Map<number, number>();

  constructor(
    events: readonly TraceEvent[],
    private readonly ends: ConnEnds,
    private readonly arrows: ArrowList,
  ) {
    this.local = new Set(ends.ids.filter((id) => ends.client.get(id) === ends.server.get(id)));
    this.chunksOf = localChunks(events, this.local);
  }

  private streamOf(conn: number, dir: Dir): Stream | undefined {
    const c = this.ends.client.get(conn);
    const s = this.ends.server.get(conn);
    // One end unknown (the trace starts after the connection opened): no arrow can be drawn.
    if (c === undefined || s === undefined) return undefined;
    const key = `${conn}${dir}`;
    let st = this.streams.get(key);
    if (st === undefined) {
      st = {
        writes: [],
        ends: [],
        accepted: 0,
        delivered: 0,
        fromHost: dir === 'c>s' ? c : s,
        toHost: dir === 'c>s' ? s : c,
      };
      this.streams.set(key, st);
    }
    return st;
  }

  /**
   * The direction of a write on a same-host connection: the one whose next chunk needing bytes not
   * yet written arrives first (earliest deadline), since every chunk's bytes were written before it
   * arrived. Exact on the simulator's traces (each direction's chunks come in its write order); a
   * direction with no such chunk left could only be taking bytes that are never delivered.
   */
  private localWriteDir(conn: number, at: number): Dir {
    let best: Dir = 'c>s';
    let bestDeadline = Infinity;
    for (const dir of ['c>s', 's>c'] as const) {
      const key = `${conn}${dir}`;
      const list = this.chunksOf.get(key) ?? [];
      const accepted = this.streams.get(key)?.accepted ?? 0;
      let k = this.chunkCursor.get(key) ?? 0;
      while (k < list.length && (list[k]!.end <= accepted || list[k]!.event < at)) k++;
      this.chunkCursor.set(key, k);
      const deadline = list[k]?.event ?? Infinity;
      if (deadline < bestDeadline) {
        bestDeadline = deadline;
        best = dir;
      }
    }
    return best;
  }

  write(i: number, e: EventOf<'write'>, host: number): void {
    if (e.conn === undefined || e.accepted <= 0) return;
    const dir: Dir = this.local.has(e.conn)
      ? this.localWriteDir(e.conn, i)
      : this.ends.client.get(e.conn) === host
        ? 'c>s'
        : 's>c';
    const st = this.streamOf(e.conn, dir);
    if (st === undefined) return;
    st.accepted += e.accepted;
    st.writes.push(i);
    st.ends.push(st.accepted);
  }

  chunk(i: number, e: EventOf<'chunk'>): void {
    if (e.conn === undefined || (e.dir !== 'c>s' && e.dir !== 's>c')) return;
    const st = this.streamOf(e.conn, e.dir);
    if (st === undefined) return;
    const w = writeHolding(st, e.offset);
    if (w < 0) return;
    const wStart = w === 0 ? 0 : st.ends[w - 1]!;
    const split = e.offset !== wStart || e.offset + e.bytes !== st.ends[w]!;
    this.arrows.push(st.writes[w]!, i, st.fromHost, st.toHost, e.bytes, e.conn, split);
    st.delivered = Math.max(st.delivered, e.offset + e.bytes);
  }

  reset(i: number, e: EventOf<'reset'>): void {
    if (e.conn !== undefined && !this.resetAt.has(e.conn)) this.resetAt.set(e.conn, i);
  }

  /** The sending and receiving hosts of a loss's direction, when both ends are known. */
  endsOf(e: EventOf<'loss'>): { fromHost: number; toHost: number } | undefined {
    if (e.conn === undefined || (e.dir !== 'c>s' && e.dir !== 's>c')) return undefined;
    const c = this.ends.client.get(e.conn);
    const s = this.ends.server.get(e.conn);
    if (c === undefined || s === undefined) return undefined;
    return e.dir === 'c>s' ? { fromHost: c, toHost: s } : { fromHost: s, toHost: c };
  }

  /** Drops: accepted bytes that never arrived, at the reset that destroyed them (or the last event). */
  drops(last: number): Glyph[] {
    const out: Glyph[] = [];
    for (const [key, st] of this.streams) {
      if (st.delivered >= st.accepted) continue;
      const conn = Number.parseInt(key, 10);
      const w = writeHolding(st, st.delivered);
      out.push({
        kind: 'drop',
        event: this.resetAt.get(conn) ?? last,
        host: st.fromHost,
        peer: st.toHost,
        label: `drop: ${st.accepted - st.delivered} B on conn ${conn} never delivered (sent at event ${w >= 0 ? st.writes[w]! : '?'})`,
      });
    }
    return out;
  }
}
