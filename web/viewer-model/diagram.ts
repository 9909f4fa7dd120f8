/**
 * The diagram model: a trace turned into what the sequence diagram draws — host lifelines, one
 * arrow per delivery (web/viewer-model/arrows.ts), glyphs and shaded bands (marks.ts), the list of
 * messages — precomputed into typed arrays so the canvas touches only what is in view.
 */
import type { TraceEvent } from '../../sim/trace.js';
import { ArrowList, HandoffArrows, StreamArrows, type ConnEnds } from './arrows.js';
export { INPROC_CONN } from './arrows.js';
import type { MessageDecoder } from '../message-decoder.js';
import { Marks } from './marks.js';

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
  /** fault: a fault of the plan; pause: a host down; span: a stack's unit of work (ViewerSpan). */
  kind: 'fault' | 'pause' | 'span';
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

/** Hosts (lifelines), the host and time of each event, and the ends of each connection. */
interface EventIndex {
  hosts: Lifeline[];
  eventHost: Int32Array;
  tUs: Float64Array;
  ends: ConnEnds;
  conns: ConnInfo[];
}

function indexEvents(events: readonly TraceEvent[], hostOrder: readonly string[]): EventIndex {
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
  return { hosts, eventHost, tUs, ends: { client, server, ids: connIds }, conns };
}

/**
 * The diagram of a trace. `spanSources` are the stacks' span finders (MessageDecoder.spans): their
 * spans become bands of kind 'span' on the host column of their first event.
 */
export function buildDiagram(
  events: readonly TraceEvent[],
  hostOrder: readonly string[] = [],
  spanSources: readonly Pick<MessageDecoder, 'spans'>[] = [],
): DiagramModel {
  const n = events.length;
  const { hosts, eventHost, tUs, ends, conns } = indexEvents(events, hostOrder);
  const arrows = new ArrowList();
  const streams = new StreamArrows(events, ends, arrows);
  const handoffs = new HandoffArrows(arrows);
  const marks = new Marks(hosts);
  const messages: number[] = [];
  for (let i = 0; i < n; i++) {
    const e = events[i]!;
    const h = eventHost[i]!;
    switch (e.kind) {
      case 'write':
        marks.partialWrite(i, e, h);
        streams.write(i, e, h);
        break;
      case 'chunk':
        streams.chunk(i, e);
        break;
      case 'loss':
        marks.loss(i, e, streams.endsOf(e) ?? { fromHost: h, toHost: h });
        break;
      case 'reset':
        marks.reset(i, e, h);
        streams.reset(i, e);
        break;
      case 'host':
        marks.host(i, e, h);
        break;
      case 'connect-error':
        marks.add({ kind: 'connect-error', event: i, host: h, peer: h, label: `connect error ${e.code}` });
        break;
      case 'error':
        marks.add({ kind: 'error', event: i, host: h, peer: h, label: `${e.code}: ${e.message}` });
        break;
      case 'fault-start':
        marks.faultStart(i, e, h);
        break;
      case 'fault-end':
        marks.faultEnd(i, e);
        break;
      case 'msg-send':
        messages.push(i);
        handoffs.send(i, e, h);
        break;
      case 'msg-recv':
        messages.push(i);
        handoffs.recv(i, e, h);
        break;
      default:
        break;
    }
  }
  const last = Math.max(0, n - 1);
  marks.finish(last);
  for (const drop of streams.drops(last)) marks.add(drop);
  for (const source of spanSources)
    for (const span of source.spans?.(events) ?? []) marks.span(span, eventHost[span.startEvent] ?? -1);
  return {
    events,
    hosts,
    eventHost,
    tUs,
    ...arrows.toArrays(),
    conns,
    glyphs: marks.sortedGlyphs(),
    bands: marks.sortedBands(),
    messages,
  };
}
