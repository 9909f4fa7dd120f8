/**
 * The scenario viewer's model, without the DOM: a trace (netlab/trace@1 JSON lines) turned into what
 * the viewer draws and shows — host lifelines, one arrow per delivered chunk from the write that sent
 * its first byte (slope = latency; inproc messages from send to delivery), each with its connection,
 * glyphs for partial writes, losses, resets, drops and host crashes, shaded bands for faults and host
 * pauses — plus the filter across the panes, layouts that put two traces on one time axis, the
 * per-host state at an event, the decoded bytes of a message, the failure pin and a Chrome Trace
 * Event export. Pure functions over arrays, so vitest tests them in Node and the page
 * (web/viewer.ts) only renders; everything the canvas needs per frame is precomputed here into
 * typed arrays (100 k events stay smooth).
 */
import type { TraceEvent, TraceField } from '../sim/trace.js';

export type { TraceEvent, TraceField };

// ---------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------

export interface ParsedTrace {
  header: Record<string, unknown> | null;
  events: TraceEvent[];
  /** Lines that were not JSON objects with a kind and a numeric tUs (a corrupt or truncated file). */
  badLines: number;
}

/** Parses JSON lines; bad lines are counted, not fatal (the viewer shows what it can). */
export function parseTrace(text: string): ParsedTrace {
  let header: Record<string, unknown> | null = null;
  const events: TraceEvent[] = [];
  let badLines = 0;
  let first = true;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      badLines++;
      continue;
    }
    const isFirst = first;
    first = false;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      badLines++;
      continue;
    }
    const o = v as Record<string, unknown>;
    if (isFirst && typeof o.schema === 'string') {
      header = o;
      continue;
    }
    if (typeof o.kind !== 'string' || typeof o.tUs !== 'number') {
      badLines++;
      continue;
    }
    events.push(o as unknown as TraceEvent);
  }
  return { header, events, badLines };
}

// ---------------------------------------------------------------------------------------------
// The diagram model
// ---------------------------------------------------------------------------------------------

/** Glyph kinds drawn on a lifeline (or mid-flight for loss and drop). */
export type GlyphKind =
  | 'partial-write'
  | 'loss'
  | 'drop'
  | 'reset'
  | 'crash'
  | 'restart'
  | 'pause'
  | 'resume'
  | 'connect-error'
  | 'error';

export interface Glyph {
  kind: GlyphKind;
  /** The event it marks (a drop: the event that destroyed the bytes, or the last event). */
  event: number;
  host: number;
  /** Loss and drop: the peer host, so the glyph sits between the two lifelines. */
  peer: number;
  label: string;
}

/** A shaded interval: a fault (whole diagram, or one host's column) or a host pause. */
export interface Band {
  label: string;
  /** Event indices of its start and end (end: the last event when it never ended). */
  startEvent: number;
  endEvent: number;
  /** Host column to shade, or -1 for every column. */
  host: number;
  kind: 'fault' | 'pause';
}

/** A host's lifeline. */
export interface Lifeline {
  name: string;
}

/** A connection of the trace: its id and the host indices of its ends (-1 when not in the trace). */
export interface ConnInfo {
  id: number;
  clientHost: number;
  serverHost: number;
}

/**
 * The connection id arrows carry when the trace has none: inproc messages, which cross in memory
 * without a connection (their arrow goes from the message's send to its delivery).
 */
export const INPROC_CONN = -1;

/** The timer the inproc transport delivers a message with (impl/sp/transport/inproc.ts). */
const INPROC_DELIVER_TIMER = 'inproc-deliver';
/**
 * How many events away from an inproc delivery timer its message may be traced: the sender traces
 * msg-send just before or after it schedules the delivery, the receiver msg-recv just after it
 * fires, within one event of the simulation (the same host and instant).
 */
const INPROC_MESSAGE_WINDOW = 4;

export interface DiagramModel {
  events: readonly TraceEvent[];
  hosts: Lifeline[];
  /** Host index per event, -1 when the event has no host. */
  eventHost: Int32Array;
  /** Virtual time per event, µs. */
  tUs: Float64Array;
  /** Arrows, sorted by delivery event: the sending write's event, the chunk's event, hosts, bytes. */
  arrowFrom: Int32Array;
  arrowTo: Int32Array;
  arrowFromHost: Int32Array;
  arrowToHost: Int32Array;
  arrowBytes: Int32Array;
  /** The trace's connection id of each arrow; INPROC_CONN for an inproc message. */
  arrowConn: Int32Array;
  /** 1 when the chunk delivers only part of its write or spans several writes (a split delivery). */
  arrowSplit: Uint8Array;
  /** Connections by id (ascending), with their ends. */
  conns: ConnInfo[];
  glyphs: Glyph[];
  bands: Band[];
  /** Indices of msg-send / msg-recv events (the message pane lists them). */
  messages: number[];
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
 * does not say which end wrote it (only its host, the same for both ends), so buildDiagram infers
 * the direction from the chunks that later carry the bytes.
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

export function buildDiagram(events: readonly TraceEvent[], hostOrder: readonly string[] = []): DiagramModel {
  const n = events.length;
  const hostIdx = new Map<string, number>();
  const hosts: Lifeline[] = [];
  const hostOf = (name: string): number => {
    let i = hostIdx.get(name);
    if (i === undefined) {
      i = hosts.length;
      hostIdx.set(name, i);
      hosts.push({ name });
    }
    return i;
  };
  for (const name of hostOrder) hostOf(name);
  const eventHost = new Int32Array(n);
  const tUs = new Float64Array(n);
  // Connection endpoints: the client is the host of `connect`, the server the host of `accept`.
  const client = new Map<number, number>();
  const server = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const e = events[i]!;
    tUs[i] = e.tUs;
    eventHost[i] = e.host === undefined ? -1 : hostOf(e.host);
    if (e.conn !== undefined && e.host !== undefined) {
      if (e.kind === 'connect') client.set(e.conn, eventHost[i]!);
      else if (e.kind === 'accept') server.set(e.conn, eventHost[i]!);
    }
  }

  const connIds = [...new Set([...client.keys(), ...server.keys()])].sort((x, y) => x - y);
  const conns: ConnInfo[] = connIds.map((id) => ({
    id,
    clientHost: client.get(id) ?? -1,
    serverHost: server.get(id) ?? -1,
  }));
  const local = new Set(connIds.filter((id) => client.get(id) === server.get(id)));
  const chunksOf = localChunks(events, local);
  /** Per same-host (conn, dir): how many of its chunks are covered by the writes assigned so far. */
  const chunkCursor = new Map<string, number>();

  const streams = new Map<string, Stream>();
  const streamOf = (conn: number, dir: 'c>s' | 's>c'): Stream | undefined => {
    const c = client.get(conn);
    const s = server.get(conn);
    // One end unknown (the trace starts after the connection opened): no arrow can be drawn.
    if (c === undefined || s === undefined) return undefined;
    const key = `${conn}${dir}`;
    let st = streams.get(key);
    if (st === undefined) {
      st = {
        writes: [],
        ends: [],
        accepted: 0,
        delivered: 0,
        fromHost: dir === 'c>s' ? c : s,
        toHost: dir === 'c>s' ? s : c,
      };
      streams.set(key, st);
    }
    return st;
  };

  /**
   * The direction of a write on a same-host connection: the one whose next chunk needing bytes not
   * yet written arrives first (earliest deadline), since every chunk's bytes were written before it
   * arrived. Exact on the simulator's traces (each direction's chunks come in its write order); a
   * direction with no such chunk left could only be taking bytes that are never delivered.
   */
  const localWriteDir = (conn: number, at: number): 'c>s' | 's>c' => {
    let best: 'c>s' | 's>c' = 'c>s';
    let bestDeadline = Infinity;
    for (const dir of ['c>s', 's>c'] as const) {
      const key = `${conn}${dir}`;
      const list = chunksOf.get(key) ?? [];
      const accepted = streams.get(key)?.accepted ?? 0;
      let k = chunkCursor.get(key) ?? 0;
      while (k < list.length && (list[k]!.end <= accepted || list[k]!.event < at)) k++;
      chunkCursor.set(key, k);
      const deadline = list[k]?.event ?? Infinity;
      if (deadline < bestDeadline) {
        bestDeadline = deadline;
        best = dir;
      }
    }
    return best;
  };

  const from: number[] = [];
  const to: number[] = [];
  const fromHost: number[] = [];
  const toHost: number[] = [];
  const bytes: number[] = [];
  const arrowConn: number[] = [];
  const split: number[] = [];
  const glyphs: Glyph[] = [];
  /** Pending inproc deliveries, by "host#timer": the send event (msg-send, else the timer-set) and its host and bytes. */
  const inprocPending = new Map<string, { event: number; host: number; bytes: number }>();
  /** msg-send events already paired with an inproc delivery. */
  const inprocSends = new Set<number>();
  const bands: Band[] = [];
  const messages: number[] = [];
  const openFaults = new Map<string, { start: number; label: string; host: number }>();
  const pausedSince = new Map<number, number>();
  /** Per conn, the event that reset it (undelivered bytes were destroyed there). */
  const resetAt = new Map<number, number>();

  for (let i = 0; i < n; i++) {
    const e = events[i]!;
    const h = eventHost[i]!;
    switch (e.kind) {
      case 'write': {
        if (e.accepted < e.offered)
          glyphs.push({
            kind: 'partial-write',
            event: i,
            host: h,
            peer: h,
            label: `partial write: ${e.accepted} of ${e.offered} B accepted`,
          });
        if (e.conn === undefined || e.accepted <= 0) break;
        const dir = local.has(e.conn) ? localWriteDir(e.conn, i) : client.get(e.conn) === h ? 'c>s' : 's>c';
        const st = streamOf(e.conn, dir);
        if (st === undefined) break;
        st.accepted += e.accepted;
        st.writes.push(i);
        st.ends.push(st.accepted);
        break;
      }
      case 'chunk': {
        if (e.conn === undefined || (e.dir !== 'c>s' && e.dir !== 's>c')) break;
        const st = streamOf(e.conn, e.dir);
        if (st === undefined) break;
        const w = writeHolding(st, e.offset);
        if (w < 0) break;
        const wStart = w === 0 ? 0 : st.ends[w - 1]!;
        from.push(st.writes[w]!);
        to.push(i);
        fromHost.push(st.fromHost);
        toHost.push(st.toHost);
        bytes.push(e.bytes);
        arrowConn.push(e.conn);
        split.push(e.offset !== wStart || e.offset + e.bytes !== st.ends[w]! ? 1 : 0);
        st.delivered = Math.max(st.delivered, e.offset + e.bytes);
        break;
      }
      case 'loss': {
        const dir = e.dir === 'c>s' || e.dir === 's>c' ? e.dir : null;
        const st = e.conn !== undefined && dir !== null ? streamOf(e.conn, dir) : undefined;
        glyphs.push({
          kind: 'loss',
          event: i,
          host: st?.fromHost ?? h,
          peer: st?.toHost ?? h,
          label: `loss: ${e.bytes} B lost ${e.retransmits}× (arrives ${e.delayUs} µs late)`,
        });
        break;
      }
      case 'reset':
        glyphs.push({
          kind: 'reset',
          event: i,
          host: h,
          peer: h,
          label: `reset (${e.reason}), ${e.lostBytes} B lost`,
        });
        if (e.conn !== undefined && !resetAt.has(e.conn)) resetAt.set(e.conn, i);
        break;
      case 'host': {
        if (
          e.state === 'crashed' ||
          e.state === 'restarted' ||
          e.state === 'paused' ||
          e.state === 'resumed'
        ) {
          const kind: GlyphKind =
            e.state === 'crashed'
              ? 'crash'
              : e.state === 'restarted'
                ? 'restart'
                : e.state === 'paused'
                  ? 'pause'
                  : 'resume';
          glyphs.push({ kind, event: i, host: h, peer: h, label: `host ${e.state}` });
        }
        if (e.state === 'paused' || e.state === 'crashed') {
          if (!pausedSince.has(h)) pausedSince.set(h, i);
        } else if (e.state === 'resumed' || e.state === 'restarted') {
          const s = pausedSince.get(h);
          if (s !== undefined) {
            bands.push({
              label: `${hosts[h]?.name ?? '?'} down`,
              startEvent: s,
              endEvent: i,
              host: h,
              kind: 'pause',
            });
            pausedSince.delete(h);
          }
        }
        break;
      }
      case 'connect-error':
        glyphs.push({ kind: 'connect-error', event: i, host: h, peer: h, label: `connect error ${e.code}` });
        break;
      case 'error':
        glyphs.push({ kind: 'error', event: i, host: h, peer: h, label: `${e.code}: ${e.message}` });
        break;
      case 'fault-start':
        openFaults.set(`${e.fault}#${e.id}#${e.host ?? ''}`, {
          start: i,
          label: `${e.fault} #${e.id}${e.detail !== undefined ? ` ${e.detail}` : ''}`,
          host: h,
        });
        break;
      case 'fault-end': {
        const key = `${e.fault}#${e.id}#${e.host ?? ''}`;
        const f = openFaults.get(key);
        if (f !== undefined) {
          bands.push({ label: f.label, startEvent: f.start, endEvent: i, host: f.host, kind: 'fault' });
          openFaults.delete(key);
        }
        break;
      }
      case 'msg-send':
      case 'msg-recv':
        messages.push(i);
        break;
      case 'timer-set': {
        if (e.label !== INPROC_DELIVER_TIMER || h < 0) break;
        // The timer runs on the receiver's host; the send is the sender's msg-send beside it.
        const send = nearbyMessage(events, i, 'msg-send', inprocSends);
        if (send >= 0) inprocSends.add(send);
        const se = send >= 0 ? events[send] : undefined;
        inprocPending.set(`${h}#${e.timer}`, {
          event: send >= 0 ? send : i,
          host: send >= 0 ? eventHost[send]! : h,
          bytes: se?.kind === 'msg-send' ? se.bytes : 0,
        });
        break;
      }
      case 'timer-fire': {
        if (e.label !== INPROC_DELIVER_TIMER || h < 0) break;
        const key = `${h}#${e.timer}`;
        const p = inprocPending.get(key);
        if (p === undefined) break;
        inprocPending.delete(key);
        const recv = nearbyMessage(events, i, 'msg-recv', null);
        from.push(p.event);
        to.push(recv >= 0 ? recv : i);
        fromHost.push(p.host);
        toHost.push(h);
        bytes.push(p.bytes);
        arrowConn.push(INPROC_CONN);
        split.push(0);
        break;
      }
      default:
        break;
    }
  }
  const last = Math.max(0, n - 1);
  for (const f of openFaults.values())
    bands.push({
      label: `${f.label} (never ended)`,
      startEvent: f.start,
      endEvent: last,
      host: f.host,
      kind: 'fault',
    });
  for (const [h, s] of pausedSince)
    bands.push({
      label: `${hosts[h]?.name ?? '?'} down`,
      startEvent: s,
      endEvent: last,
      host: h,
      kind: 'pause',
    });

  // Drops: accepted bytes that never arrived, at the reset that destroyed them (or the end of the trace).
  for (const [key, st] of streams) {
    if (st.delivered >= st.accepted) continue;
    const conn = Number.parseInt(key, 10);
    const w = writeHolding(st, st.delivered);
    glyphs.push({
      kind: 'drop',
      event: resetAt.get(conn) ?? last,
      host: st.fromHost,
      peer: st.toHost,
      label: `drop: ${st.accepted - st.delivered} B on conn ${conn} never delivered (sent at event ${w >= 0 ? st.writes[w]! : '?'})`,
    });
  }
  glyphs.sort((a, b) => a.event - b.event);
  bands.sort((a, b) => a.startEvent - b.startEvent);

  // Chunk arrows come in delivery order (one pass over events); an inproc arrow may end at the
  // msg-recv just after its timer fired, so sort by `to` (stable: ties keep trace order).
  let order: number[] | null = null;
  for (let k = 1; k < to.length; k++)
    if (to[k]! < to[k - 1]!) {
      order = to.map((_, j) => j).sort((x, y) => to[x]! - to[y]! || x - y);
      break;
    }
  const sorted = <T extends Int32Array | Uint8Array>(a: number[], make: (v: number[]) => T): T =>
    make(order === null ? a : order.map((j) => a[j]!));
  return {
    events,
    hosts,
    eventHost,
    tUs,
    arrowFrom: sorted(from, (v) => Int32Array.from(v)),
    arrowTo: sorted(to, (v) => Int32Array.from(v)),
    arrowFromHost: sorted(fromHost, (v) => Int32Array.from(v)),
    arrowToHost: sorted(toHost, (v) => Int32Array.from(v)),
    arrowBytes: sorted(bytes, (v) => Int32Array.from(v)),
    arrowConn: sorted(arrowConn, (v) => Int32Array.from(v)),
    arrowSplit: sorted(split, (v) => Uint8Array.from(v)),
    conns,
    glyphs,
    bands,
    messages,
  };
}

/**
 * The connection-less message traced beside inproc delivery timer event `at` (the same instant,
 * within INPROC_MESSAGE_WINDOW events), or -1. A msg-send (the sender's, on any host) is looked for
 * on both sides, nearest and earlier first, skipping those `used` by another delivery; a msg-recv
 * only after the timer fired, on its host (the receiver's).
 */
function nearbyMessage(
  events: readonly TraceEvent[],
  at: number,
  kind: 'msg-send' | 'msg-recv',
  used: ReadonlySet<number> | null,
): number {
  const t = events[at]!.tUs;
  const host = events[at]!.host;
  for (let d = 1; d <= INPROC_MESSAGE_WINDOW; d++)
    for (const j of kind === 'msg-send' ? [at - d, at + d] : [at + d]) {
      const e = events[j];
      if (e === undefined || e.tUs !== t || e.kind !== kind || e.conn !== undefined) continue;
      if (kind === 'msg-recv' && e.host !== host) continue;
      if (used?.has(j) === true) continue;
      return j;
    }
  return -1;
}

// ---------------------------------------------------------------------------------------------
// Filter across the panes: `host:NAME conn:ID words` (the `&filter=` of the URL hash)
// ---------------------------------------------------------------------------------------------

/**
 * What the viewer shows in full; the rest is dimmed in the diagram, skipped by stepping and the
 * event list, and left out of the charts. Terms of one key are alternatives, different keys must
 * all hold, every word must appear (as the report's query bar).
 */
export interface ViewerFilter {
  /** `host:NAME`: events on any of these hosts; arrows from or to any of them. */
  hosts: string[];
  /** `conn:ID` (`conn:inproc` for inproc messages): events and arrows of any of these connections. */
  conns: number[];
  /** Any other term, lower-cased: each must appear in an event's host and description (kind, message, fields). */
  words: string[];
}

export const EMPTY_FILTER: ViewerFilter = { hosts: [], conns: [], words: [] };

/** Parses the filter text; a bad term is reported and left out, the others still apply. */
export function parseFilter(text: string): { filter: ViewerFilter; problems: string[] } {
  const filter: ViewerFilter = { hosts: [], conns: [], words: [] };
  const problems: string[] = [];
  for (const term of text.split(/\s+/)) {
    if (term === '') continue;
    const m = /^(host|conn):(.*)$/i.exec(term);
    if (m === null) {
      filter.words.push(term.toLowerCase());
      continue;
    }
    const key = m[1]!.toLowerCase();
    const value = m[2]!;
    if (key === 'host') {
      if (value === '') problems.push('host: needs a host name (host:server)');
      else if (!filter.hosts.includes(value)) filter.hosts.push(value);
    } else if (value.toLowerCase() === 'inproc') {
      if (!filter.conns.includes(INPROC_CONN)) filter.conns.push(INPROC_CONN);
    } else if (/^\d{1,9}$/.test(value)) {
      const id = Number(value);
      if (!filter.conns.includes(id)) filter.conns.push(id);
    } else problems.push(`conn:${value} is not a connection id (a number, or inproc)`);
  }
  return { filter, problems };
}

/** The canonical text of a filter (parseFilter reads it back to the same filter). */
export function formatFilter(f: ViewerFilter): string {
  return [
    ...f.hosts.map((x) => `host:${x}`),
    ...f.conns.map((c) => `conn:${c === INPROC_CONN ? 'inproc' : c}`),
    ...f.words,
  ].join(' ');
}

export function isEmptyFilter(f: ViewerFilter): boolean {
  return f.hosts.length === 0 && f.conns.length === 0 && f.words.length === 0;
}

/** What a filter selects in one model. */
export interface FilterMask {
  /** Per event: 1 when it matches. */
  events: Uint8Array;
  /** The matching events' indices, ascending (stepping and the event list walk them). */
  matching: Int32Array;
  /** Per arrow: 1 when it matches. */
  arrows: Uint8Array;
  matchingArrows: number;
  /** Per glyph (model.glyphs order): 1 when it matches. */
  glyphs: Uint8Array;
  /** Terms that select nothing because the trace has no such host or connection. */
  problems: string[];
}

/**
 * How far (events) from an arrow's write or chunk a matching event of the same host and instant
 * makes the arrow match a text filter: the stack traces the message it framed right beside the
 * write, and the message it decoded right after the chunk.
 */
export const ARROW_TEXT_CONTEXT_EVENTS = 3;

const eventTexts = new WeakMap<DiagramModel, string[]>();

/** Each event's searchable text, lower-cased: host and description (built once per model). */
function textsOf(model: DiagramModel): string[] {
  let t = eventTexts.get(model);
  if (t === undefined) {
    t = model.events.map((e) => `${e.host ?? ''} ${describeEvent(e)}`.toLowerCase());
    eventTexts.set(model, t);
  }
  return t;
}

/** The mask of a filter over a model; null for the empty filter (everything shows). */
export function filterMask(model: DiagramModel, f: ViewerFilter): FilterMask | null {
  if (isEmptyFilter(f)) return null;
  const n = model.events.length;
  const hostSet = new Set<number>();
  const problems: string[] = [];
  for (const name of f.hosts) {
    const i = model.hosts.findIndex((x) => x.name === name);
    if (i < 0) problems.push(`no host ${name} in this trace`);
    else hostSet.add(i);
  }
  const connSet = new Set(f.conns);
  for (const c of f.conns) {
    const known =
      c === INPROC_CONN ? model.arrowConn.includes(INPROC_CONN) : model.conns.some((x) => x.id === c);
    if (!known) problems.push(`no ${c === INPROC_CONN ? 'inproc message' : `conn ${c}`} in this trace`);
  }
  const hostOk = (h: number): boolean => f.hosts.length === 0 || hostSet.has(h);
  const connOk = (c: number | undefined): boolean =>
    f.conns.length === 0 || (c !== undefined && connSet.has(c));
  const texts = f.words.length === 0 ? null : textsOf(model);
  const textOk = new Uint8Array(n);
  for (let i = 0; i < n; i++)
    textOk[i] = texts === null || f.words.every((w) => texts[i]!.includes(w)) ? 1 : 0;

  const events = new Uint8Array(n);
  const matching: number[] = [];
  for (let i = 0; i < n; i++) {
    const e = model.events[i]!;
    if (textOk[i] === 1 && hostOk(model.eventHost[i]!) && connOk(e.conn)) {
      events[i] = 1;
      matching.push(i);
    }
  }
  /** A text match at event i, or at an event of its host and instant within the context. */
  const textNear = (i: number): boolean => {
    if (texts === null) return true;
    for (let j = Math.max(0, i - ARROW_TEXT_CONTEXT_EVENTS); j <= i + ARROW_TEXT_CONTEXT_EVENTS && j < n; j++)
      if (textOk[j] === 1 && model.tUs[j] === model.tUs[i] && model.eventHost[j] === model.eventHost[i])
        return true;
    return false;
  };
  const arrows = new Uint8Array(model.arrowTo.length);
  let matchingArrows = 0;
  for (let k = 0; k < arrows.length; k++) {
    const ok =
      (hostOk(model.arrowFromHost[k]!) || hostOk(model.arrowToHost[k]!)) &&
      connOk(model.arrowConn[k]) &&
      (textNear(model.arrowFrom[k]!) || textNear(model.arrowTo[k]!));
    if (ok) {
      arrows[k] = 1;
      matchingArrows++;
    }
  }
  const glyphs = Uint8Array.from(model.glyphs, (g) => {
    const label = g.label.toLowerCase();
    return (hostOk(g.host) || hostOk(g.peer)) &&
      connOk(model.events[g.event]?.conn) &&
      (textOk[g.event] === 1 || f.words.every((w) => label.includes(w)))
      ? 1
      : 0;
  });
  return { events, matching: Int32Array.from(matching), arrows, matchingArrows, glyphs, problems };
}

/** The next (dir 1) or previous (dir -1) matching event from `from`, or -1 when there is none. */
export function stepMatching(mask: FilterMask, from: number, dir: 1 | -1): number {
  const j = lowerBound(mask.matching, dir > 0 ? from + 1 : from) + (dir > 0 ? 0 : -1);
  return mask.matching[j] ?? -1;
}

// ---------------------------------------------------------------------------------------------
// Layout: the vertical coordinate of each event
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// The failure pin
// ---------------------------------------------------------------------------------------------

/**
 * Where the viewer opens for a failing case. Checks are judged on the observations of the whole run
 * after it ends, so the trace holds no "invariant failed" event: the pin is the first `error` event
 * when there is one (an upper layer recorded a typed error), else the last event, where the run
 * ended and the failed check was judged.
 */
export function failurePin(events: readonly TraceEvent[]): { event: number; why: string } {
  const err = events.findIndex((e) => e.kind === 'error');
  if (err >= 0) return { event: err, why: 'the first error event of the trace' };
  return {
    event: Math.max(0, events.length - 1),
    why: 'the last event of the run: checks are judged on the whole run after it ends',
  };
}

// ---------------------------------------------------------------------------------------------
// Per-host state at an event
// ---------------------------------------------------------------------------------------------

export interface HostState {
  status: 'up' | 'paused' | 'crashed';
  /** Open connections (connect/accept until close or reset). */
  conns: Set<number>;
  /** SP pipes attached (from the stack's "pipe N attached/detached" notes). */
  pipes: Set<string>;
  /** Requests sent and not yet answered (request-id fields of msg-send / msg-recv), id -> event. */
  outstanding: Map<string, number>;
  /** Pending timers: id -> label. */
  timers: Map<number, string>;
  /** Latest sample of each queue's depth. */
  queues: Map<string, number>;
  /** Bytes written (accepted) and read, totals. */
  bytesOut: number;
  bytesIn: number;
}

function emptyHostState(): HostState {
  return {
    status: 'up',
    conns: new Set(),
    pipes: new Set(),
    outstanding: new Map(),
    timers: new Map(),
    queues: new Map(),
    bytesOut: 0,
    bytesIn: 0,
  };
}

function cloneHostState(s: HostState): HostState {
  return {
    status: s.status,
    conns: new Set(s.conns),
    pipes: new Set(s.pipes),
    outstanding: new Map(s.outstanding),
    timers: new Map(s.timers),
    queues: new Map(s.queues),
    bytesOut: s.bytesOut,
    bytesIn: s.bytesIn,
  };
}

const PIPE_NOTE = /pipe (\S+) (attached|detached)/;

function requestId(fields: readonly TraceField[]): string | null {
  const f = fields.find((x) => x.name === 'request-id');
  return f === undefined ? null : String(f.value);
}

function applyEvent(states: HostState[], hostIdx: number, e: TraceEvent, index: number): void {
  const s = states[hostIdx];
  if (s === undefined) return;
  switch (e.kind) {
    case 'connect':
    case 'accept':
      if (e.conn !== undefined) s.conns.add(e.conn);
      break;
    case 'close':
      if (e.side === 'local' && e.conn !== undefined) s.conns.delete(e.conn);
      break;
    case 'reset':
      if (e.conn !== undefined) s.conns.delete(e.conn);
      break;
    case 'timer-set':
      s.timers.set(e.timer, e.label ?? 'timer');
      break;
    case 'timer-fire':
    case 'timer-clear':
      s.timers.delete(e.timer);
      break;
    case 'note': {
      const m = PIPE_NOTE.exec(e.text);
      if (m !== null) {
        if (m[2] === 'attached') s.pipes.add(m[1]!);
        else s.pipes.delete(m[1]!);
      }
      break;
    }
    case 'msg-send': {
      const id = requestId(e.fields);
      if (id !== null && /request/.test(e.msg)) s.outstanding.set(id, index);
      break;
    }
    case 'msg-recv': {
      const id = requestId(e.fields);
      if (id !== null && /reply/.test(e.msg)) s.outstanding.delete(id);
      break;
    }
    case 'queue-depth':
      s.queues.set(e.queue, e.depth);
      break;
    case 'write':
      s.bytesOut += e.accepted;
      break;
    case 'read':
      s.bytesIn += e.bytes;
      break;
    case 'host':
      s.status = e.state === 'paused' ? 'paused' : e.state === 'crashed' ? 'crashed' : 'up';
      if (e.state === 'crashed') {
        s.conns.clear();
        s.pipes.clear();
        s.timers.clear();
        s.outstanding.clear();
      }
      break;
    default:
      break;
  }
}

/** Events between saved states: bounds the replay to answer stateAt (memory: n / this states). */
export const STATE_CHECKPOINT_EVERY = 2048;

/** Answers "what was each host's state just after event i" by replay from the nearest checkpoint. */
export class StateIndex {
  private readonly checkpoints: HostState[][] = [];

  constructor(private readonly model: DiagramModel) {
    const states = model.hosts.map(emptyHostState);
    for (let i = 0; i < model.events.length; i++) {
      if (i % STATE_CHECKPOINT_EVERY === 0) this.checkpoints.push(states.map(cloneHostState));
      applyEvent(states, model.eventHost[i]!, model.events[i]!, i);
    }
  }

  /** Host states after event `index` has happened (index -1: before any event). */
  stateAt(index: number): HostState[] {
    const n = this.model.events.length;
    const upto = Math.min(index, n - 1);
    if (upto < 0) return this.model.hosts.map(emptyHostState);
    const k = Math.floor(upto / STATE_CHECKPOINT_EVERY);
    const states = this.checkpoints[k]!.map(cloneHostState);
    for (let i = k * STATE_CHECKPOINT_EVERY; i <= upto; i++)
      applyEvent(states, this.model.eventHost[i]!, this.model.events[i]!, i);
    return states;
  }
}

/** One row of the state table: the host, and its values as display text per column. */
export interface StateRow {
  host: string;
  cells: Record<StateColumn, string>;
}

export const STATE_COLUMNS = [
  'status',
  'conns',
  'pipes',
  'outstanding',
  'timers',
  'queues',
  'bytes',
] as const;
export type StateColumn = (typeof STATE_COLUMNS)[number];

function list(values: Iterable<string | number>, max = 4): string {
  const all = [...values].map(String);
  if (all.length === 0) return '–';
  return `${all.length}: ${all.slice(0, max).join(', ')}${all.length > max ? ', …' : ''}`;
}

export function stateRows(model: DiagramModel, states: readonly HostState[]): StateRow[] {
  return model.hosts.map((h, i) => {
    const s = states[i] ?? emptyHostState();
    return {
      host: h.name,
      cells: {
        status: s.status,
        conns: list(s.conns),
        pipes: list(s.pipes, 2),
        outstanding: list(s.outstanding.keys(), 3),
        timers: list(s.timers.values(), 3),
        queues: s.queues.size === 0 ? '–' : [...s.queues].map(([q, d]) => `${q}=${d}`).join(', '),
        bytes: `${s.bytesOut} out / ${s.bytesIn} in`,
      },
    };
  });
}

/** The cells that differ between two state tables (same hosts): "host/column" keys. */
export function changedCells(before: readonly StateRow[], after: readonly StateRow[]): Set<string> {
  const out = new Set<string>();
  after.forEach((row, i) => {
    const prev = before[i];
    for (const c of STATE_COLUMNS)
      if (prev === undefined || prev.cells[c] !== row.cells[c]) out.add(`${row.host}/${c}`);
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Message bytes
// ---------------------------------------------------------------------------------------------

export interface MessageView {
  direction: 'tx' | 'rx';
  /** Length of the dump: the message's byte count or the furthest field end, whichever is larger. */
  length: number;
  /** Per byte: its value when known, null when the trace does not carry it. */
  bytes: (number | null)[];
  /** Per byte: the indices (into fields) of the fields covering it. */
  fieldsAt: number[][];
  fields: TraceField[];
  /** True when the trace carried no raw bytes and field bytes were re-encoded from their values. */
  reconstructed: boolean;
}

/** A field's value as `length` big-endian bytes, or nulls when it cannot be re-encoded. */
export function encodeField(f: TraceField): (number | null)[] {
  const out: (number | null)[] = new Array<number | null>(f.length).fill(null);
  if (f.length <= 0) return out;
  if (typeof f.value === 'boolean') {
    out.fill(0);
    out[f.length - 1] = f.value ? 1 : 0;
    return out;
  }
  if (typeof f.value === 'number' && Number.isSafeInteger(f.value) && f.value >= 0) {
    let v = BigInt(f.value);
    for (let i = f.length - 1; i >= 0; i--) {
      out[i] = Number(v & 0xffn);
      v >>= 8n;
    }
    return v === 0n ? out : out.fill(null);
  }
  if (typeof f.value === 'string') {
    const enc = new TextEncoder().encode(f.value);
    if (enc.length === f.length) return Array.from(enc);
  }
  return out;
}

/**
 * The bytes of a msg-send / msg-recv as far as the trace knows them. netlab/trace@1 records lengths
 * and decoded fields, not raw bytes: each field's bytes are re-encoded from its value (big-endian,
 * as SP puts integers on the wire) and every other byte is unknown (null).
 */
export function messageView(e: TraceEvent): MessageView | null {
  if (e.kind !== 'msg-send' && e.kind !== 'msg-recv') return null;
  const fields = e.fields ?? [];
  const length = Math.max(
    e.bytes,
    fields.reduce((m, f) => Math.max(m, f.offset + f.length), 0),
  );
  // Bound the dump: a 1 MiB payload is not shown byte by byte.
  const shown = Math.min(length, MESSAGE_DUMP_MAX_BYTES);
  const bytes: (number | null)[] = new Array<number | null>(shown).fill(null);
  const fieldsAt: number[][] = Array.from({ length: shown }, () => []);
  fields.forEach((f, fi) => {
    const enc = encodeField(f);
    for (let k = 0; k < f.length; k++) {
      const at = f.offset + k;
      if (at >= shown) break;
      fieldsAt[at]!.push(fi);
      // Overlapping annotations (rep0 puts two fields at offset 0): the first one's bytes win.
      if (bytes[at] === null) bytes[at] = enc[k] ?? null;
    }
  });
  return {
    direction: e.kind === 'msg-send' ? 'tx' : 'rx',
    length,
    bytes,
    fieldsAt,
    fields,
    reconstructed: true,
  };
}

/** Bytes of a message the dump shows at most. */
export const MESSAGE_DUMP_MAX_BYTES = 4096;

// ---------------------------------------------------------------------------------------------
// One-line description of an event (the event list and the diagram's comment column)
// ---------------------------------------------------------------------------------------------

export function describeEvent(e: TraceEvent): string {
  const conn = e.conn !== undefined ? ` conn ${e.conn}` : '';
  switch (e.kind) {
    case 'write':
      return `write${conn} ${e.accepted}/${e.offered} B`;
    case 'chunk':
      return `chunk${conn} ${e.dir} ${e.bytes} B @${e.offset}`;
    case 'read':
      return `read${conn} ${e.bytes} B`;
    case 'loss':
      return `loss${conn} ${e.dir} ${e.bytes} B ×${e.retransmits} +${e.delayUs} µs`;
    case 'timer-set':
      return `timer-set #${e.timer} ${e.label ?? ''} +${e.delayUs} µs`;
    case 'timer-fire':
    case 'timer-clear':
      return `${e.kind} #${e.timer} ${e.label ?? ''}`;
    case 'listen':
      return `listen ${e.addr}`;
    case 'connect':
    case 'accept':
      return `${e.kind}${conn} ${e.from} → ${e.to}`;
    case 'connect-error':
      return `connect-error ${e.to} ${e.code}`;
    case 'close':
      return `close${conn} ${e.side}${e.reason !== undefined ? ` (${e.reason})` : ''}`;
    case 'reset':
      return `reset${conn} ${e.reason}, ${e.lostBytes} B lost`;
    case 'fault-start':
      return `fault-start ${e.fault} #${e.id}${e.detail !== undefined ? ` ${e.detail}` : ''}`;
    case 'fault-end':
      return `fault-end ${e.fault} #${e.id}`;
    case 'host':
      return `host ${e.state}`;
    case 'msg-send':
    case 'msg-recv':
      return `${e.kind}${conn} ${e.proto} ${e.msg} ${e.bytes} B ${(e.fields ?? []).map((f) => `${f.name}=${String(f.value)}`).join(' ')}`;
    case 'queue-depth':
      return `queue ${e.queue} = ${e.depth}`;
    case 'note':
      return e.text;
    case 'error':
      return `error ${e.code}: ${e.message}`;
    default:
      return (e as { kind: string }).kind;
  }
}

// ---------------------------------------------------------------------------------------------
// Chrome Trace Event export (opens in Perfetto and chrome://tracing)
// ---------------------------------------------------------------------------------------------

export interface ChromeTraceEvent {
  name: string;
  ph: 'X' | 'i' | 'M';
  pid: number;
  tid: number;
  ts: number;
  dur?: number;
  s?: 't' | 'p' | 'g';
  cat?: string;
  args?: Record<string, unknown>;
}

/** Thread ids inside each host's process: its events, its deliveries, its timers. */
const TID_EVENTS = 1;
const TID_DELIVERIES = 2;
const TID_TIMERS = 3;
/** The process of faults (not on any host). */
const PID_FAULTS = 0;

/**
 * The trace as Chrome Trace Event JSON (`{traceEvents: [...]}`; ts and dur in µs, which is the
 * format's unit): one process per host with an instant per event, each delivery as a slice on the
 * receiver from send to arrival (its length is the latency), each timer as a slice from set to
 * fire or clear, and faults as slices of a "faults" process.
 */
export function toChromeTrace(
  model: DiagramModel,
  title = 'netlab trace',
): { traceEvents: ChromeTraceEvent[]; displayTimeUnit: 'ms'; otherData: Record<string, string> } {
  const out: ChromeTraceEvent[] = [];
  const pid = (h: number): number => h + 1;
  out.push({ name: 'process_name', ph: 'M', pid: PID_FAULTS, tid: 0, ts: 0, args: { name: 'faults' } });
  model.hosts.forEach((h, i) => {
    out.push({ name: 'process_name', ph: 'M', pid: pid(i), tid: 0, ts: 0, args: { name: h.name } });
    out.push({ name: 'thread_name', ph: 'M', pid: pid(i), tid: TID_EVENTS, ts: 0, args: { name: 'events' } });
    out.push({
      name: 'thread_name',
      ph: 'M',
      pid: pid(i),
      tid: TID_DELIVERIES,
      ts: 0,
      args: { name: 'deliveries' },
    });
    out.push({ name: 'thread_name', ph: 'M', pid: pid(i), tid: TID_TIMERS, ts: 0, args: { name: 'timers' } });
  });
  const timers = new Map<string, number>();
  model.events.forEach((e, i) => {
    const h = model.eventHost[i]!;
    const { seq: _seq, tUs, kind, host: _host, ...args } = e as TraceEvent & Record<string, unknown>;
    out.push({
      name: kind,
      ph: 'i',
      s: h < 0 ? 'g' : 't',
      pid: h < 0 ? PID_FAULTS : pid(h),
      tid: h < 0 ? 0 : TID_EVENTS,
      ts: tUs,
      cat: kind,
      args: { seq: e.seq, ...args },
    });
    if (h >= 0 && e.kind === 'timer-set') timers.set(`${h}#${e.timer}`, i);
    if (h >= 0 && (e.kind === 'timer-fire' || e.kind === 'timer-clear')) {
      const start = timers.get(`${h}#${e.timer}`);
      if (start !== undefined) {
        timers.delete(`${h}#${e.timer}`);
        out.push({
          name: `${e.label ?? 'timer'} (${e.kind === 'timer-fire' ? 'fired' : 'cleared'})`,
          ph: 'X',
          pid: pid(h),
          tid: TID_TIMERS,
          ts: model.tUs[start]!,
          dur: tUs - model.tUs[start]!,
          cat: 'timer',
        });
      }
    }
  });
  for (let k = 0; k < model.arrowTo.length; k++) {
    const f = model.arrowFrom[k]!;
    const t = model.arrowTo[k]!;
    out.push({
      name: `${model.arrowBytes[k]!} B from ${model.hosts[model.arrowFromHost[k]!]?.name ?? '?'}`,
      ph: 'X',
      pid: pid(model.arrowToHost[k]!),
      tid: TID_DELIVERIES,
      ts: model.tUs[f]!,
      dur: model.tUs[t]! - model.tUs[f]!,
      cat: 'delivery',
      args: {
        sentSeq: model.events[f]?.seq,
        deliveredSeq: model.events[t]?.seq,
        split: model.arrowSplit[k] === 1,
      },
    });
  }
  for (const b of model.bands) {
    out.push({
      name: b.label,
      ph: 'X',
      pid: b.host < 0 ? PID_FAULTS : pid(b.host),
      tid: b.host < 0 ? 0 : TID_EVENTS,
      ts: model.tUs[b.startEvent]!,
      dur: model.tUs[b.endEvent]! - model.tUs[b.startEvent]!,
      cat: b.kind,
    });
  }
  return { traceEvents: out, displayTimeUnit: 'ms', otherData: { source: title } };
}

// ---------------------------------------------------------------------------------------------
// Rerun knobs: the scenario the form describes
// ---------------------------------------------------------------------------------------------

export interface RerunKnobs {
  simSeed: string;
  /** Uniform latency bounds, µs (null: keep the scenario's latency model). */
  latencyMinUs: number | null;
  latencyMaxUs: number | null;
  /** Segment loss probability (null: keep). */
  lossRate: number | null;
  /** Indices of fault steps to remove from the scenario's fault plan. */
  removeFaults: number[];
}

/**
 * A copy of `scenario` with the knobs applied. Knows only the fields it changes (network.latency,
 * network.lossRate, faults.faults), so it works on the scenario JSON as the case file holds it; the
 * runner validates the result.
 */
export function applyKnobs(scenario: unknown, knobs: RerunKnobs): unknown {
  const s = JSON.parse(JSON.stringify(scenario)) as {
    network?: { latency?: unknown; lossRate?: number };
    faults?: { faults?: unknown[] };
  };
  if (s.network !== undefined) {
    if (knobs.latencyMinUs !== null && knobs.latencyMaxUs !== null)
      s.network.latency = { kind: 'uniform', minUs: knobs.latencyMinUs, maxUs: knobs.latencyMaxUs };
    if (knobs.lossRate !== null) s.network.lossRate = knobs.lossRate;
  }
  if (s.faults?.faults !== undefined) {
    const drop = new Set(knobs.removeFaults);
    s.faults.faults = s.faults.faults.filter((_, i) => !drop.has(i));
  }
  return s;
}

// ---------------------------------------------------------------------------------------------
// The viewer's part of the URL hash: #case=ID&view=viewer&t=US&msg=SEQ
// ---------------------------------------------------------------------------------------------

export interface ViewerParams {
  /** A moment to open at, virtual µs. */
  tUs: number | null;
  /** A message to select: the seq of a msg-send / msg-recv event. */
  msg: number | null;
}

export function parseViewerParams(params: URLSearchParams): ViewerParams {
  const num = (k: string): number | null => {
    const v = params.get(k);
    if (v === null || !/^\d+$/.test(v)) return null;
    return Number(v);
  };
  return { tUs: num('t'), msg: num('msg') };
}
