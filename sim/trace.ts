/**
 * The trace: one typed, versioned event stream that tests, invariant checkers, the report and the
 * viewer all consume (schema in sim/TRACE.md). Events carry virtual time, a per-trace sequence
 * number, and where they apply the host and connection. A running 64-bit hash over every event
 * proves determinism: same seed, same hash. Memory is bounded: events go to sinks the caller picks
 * (a ring of the last N events, a line writer, a callback); with no sink and hashing off, emitting
 * costs one branch.
 */
import { Hash64, stringDigestOf, type HashLabel } from './hash.js';

export { HashLabel } from './hash.js';

/**
 * Bump on any incompatible change to an event's fields; readers check it. @2: sessions
 * (session-open, session-close) and the session, stream, correlation and hand-off ids of messages
 * are typed fields (they were free-text notes, field names and timer labels in @1).
 */
export const TRACE_SCHEMA = 'netlab/trace@2';
export const TRACE_SCHEMA_VERSION = 2;

/** A decoded protocol field, as upper layers annotate messages: where it sits in the bytes and its value. */
export interface TraceField {
  name: string;
  offset: number;
  length: number;
  value: string | number | boolean;
}

/** Fields every event has. `seq` and `tUs` are filled in by the trace when the event is emitted. */
export interface TraceBase {
  seq: number;
  /** Virtual time in integer microseconds. */
  tUs: number;
  host?: string;
  conn?: number;
}

/**
 * What a message event may say beyond its bytes and decoded fields: the ids that tie it to a
 * session, a stream in it, the exchange it belongs to, and the other end of an in-memory hand-off.
 */
export interface MessageRefs {
  /** The session it travelled on (a session-open's `session`). */
  session?: string;
  /** The stream within the session, for multiplexed protocols (HTTP/2, qrpc). */
  stream?: number;
  /**
   * Correlation id: the same on a request and its answers (SP request and survey ids, an HTTP/2
   * stream's request, an RPC id), so a reader pairs them without knowing the protocol.
   */
  corr?: string | number;
  /**
   * True on an answer (a reply, a survey response): with `corr`, it answers the exchange a message
   * without it opened (a request, a survey). Readers pair them by this, not by message names.
   */
  answer?: boolean;
  /**
   * In-memory hand-off id, unique within a trace: a msg-send and the msg-recv carrying the same
   * handoff are one message passed in memory, without a connection or bytes on a wire (inproc).
   */
  handoff?: number;
}

export type TraceEvent = TraceBase &
  (
    | { kind: 'timer-set'; timer: number; delayUs: number; label?: string }
    | { kind: 'timer-fire'; timer: number; label?: string }
    | { kind: 'timer-clear'; timer: number; label?: string }
    | { kind: 'listen'; addr: string }
    | { kind: 'connect'; from: string; to: string }
    | { kind: 'accept'; from: string; to: string }
    | { kind: 'connect-error'; to: string; code: string }
    /** A write call: `offered` bytes, of which the send buffer took `accepted`. */
    | { kind: 'write'; offered: number; accepted: number }
    /** A chunk of bytes arrived in the receiver's buffer; `dir` is the direction, e.g. "a>b". */
    | { kind: 'chunk'; dir: string; bytes: number; offset: number }
    /** The application read `bytes` from the receive buffer. */
    | { kind: 'read'; bytes: number }
    | { kind: 'close'; side: 'local' | 'remote' | 'half'; reason?: string }
    | { kind: 'reset'; reason: string; lostBytes: number }
    /** A segment was lost `retransmits` times before it got through, arriving `delayUs` later than it would have. */
    | { kind: 'loss'; dir: string; bytes: number; retransmits: number; delayUs: number }
    | { kind: 'fault-start'; fault: string; id: number; detail?: string }
    | { kind: 'fault-end'; fault: string; id: number }
    | { kind: 'host'; state: 'up' | 'paused' | 'resumed' | 'crashed' | 'restarted' }
    | ({ kind: 'msg-send'; proto: string; msg: string; bytes: number; fields: TraceField[] } & MessageRefs)
    | ({ kind: 'msg-recv'; proto: string; msg: string; bytes: number; fields: TraceField[] } & MessageRefs)
    /**
     * A session opened: an association a stack keeps with one peer over a connection or in memory
     * (an SP pipe; an HTTP/2 connection; a pool's connection). `session` is unique within the trace;
     * `type` says what it is in stack-neutral terms ('sp-pipe', 'h2-conn'...), `proto` the protocol
     * spoken on it when the stack names one; `peer` and `local` are addresses. `conn`, when set, is
     * the connection it runs on.
     */
    | { kind: 'session-open'; session: string; type: string; proto?: string; peer: string; local?: string }
    /** The session closed; `reason` says why when it was not a clean close. */
    | { kind: 'session-close'; session: string; reason?: string }
    | { kind: 'queue-depth'; queue: string; depth: number }
    | { kind: 'note'; text: string }
    | { kind: 'error'; code: string; message: string }
  );

export type TraceKind = TraceEvent['kind'];

/**
 * What callers pass to emit(): an event whose seq and tUs the trace stamps. Hot call sites may put
 * `seq: 0, tUs: 0` first in the literal: stamping then overwrites in place instead of growing the
 * object (adding properties to an object literal reallocates its property store).
 */
export type TraceInput = TraceEvent extends infer E
  ? E extends TraceEvent
    ? Omit<E, 'seq' | 'tUs'> & { seq?: number; tUs?: number }
    : never
  : never;

/** The first record of every trace file: which schema, which seed. */
export interface TraceHeader {
  schema: typeof TRACE_SCHEMA;
  seed: string;
  /** Free-form description of what produced the trace (scenario name, command line). */
  source?: string;
}

export interface TraceSink {
  write(event: TraceEvent): void;
  /** Called once when the world closes; sinks that buffer flush here. */
  close?(): void;
}

/** Keeps the last `capacity` events (default 100 000) and counts the ones it had to drop. */
export class RingSink implements TraceSink {
  static readonly DEFAULT_CAPACITY = 100_000;
  private readonly buf: (TraceEvent | undefined)[];
  private next = 0;
  private count = 0;
  dropped = 0;

  constructor(readonly capacity = RingSink.DEFAULT_CAPACITY) {
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new RangeError(`RingSink capacity must be >= 1, got ${capacity}`);
    this.buf = new Array<TraceEvent | undefined>(capacity);
  }

  write(event: TraceEvent): void {
    this.buf[this.next] = event;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
    else this.dropped++;
  }

  /** The retained events, oldest first. */
  events(): TraceEvent[] {
    const out: TraceEvent[] = [];
    const start = this.count < this.capacity ? 0 : this.next;
    for (let i = 0; i < this.count; i++) out.push(this.buf[(start + i) % this.capacity]!);
    return out;
  }
}

/** Hands each event to a function, e.g. to write JSON lines to a file (the CLI does that). */
export class CallbackSink implements TraceSink {
  constructor(
    private readonly onEvent: (event: TraceEvent) => void,
    private readonly onClose?: () => void,
  ) {}

  write(event: TraceEvent): void {
    this.onEvent(event);
  }

  close(): void {
    this.onClose?.();
  }
}

/** Formats a trace as JSON lines: the header, then one event per line. */
export function toJsonLines(header: TraceHeader, events: Iterable<TraceEvent>): string {
  const lines = [JSON.stringify(header)];
  for (const e of events) lines.push(JSON.stringify(e));
  return lines.join('\n') + '\n';
}

export interface TraceOptions {
  /** Keep a running hash of every event (default true; it is what determinism checks compare). */
  hash?: boolean;
  sinks?: TraceSink[];
}

/** Digest of one event on its own: used to find the first point where two traces diverge. */
export function eventDigest(event: TraceEvent): string {
  const h = new Hash64();
  mixEvent(h, event);
  return h.hex();
}

// Layout codes of the hot kinds (never reuse a number: recorded hashes depend on them). Their low
// bytes differ, which mixPlace relies on.
const LAYOUT_WRITE = 0x57524954;
const LAYOUT_CHUNK = 0x43484e4b;
const LAYOUT_READ = 0x52454144;
const LAYOUT_LOSS = 0x4c4f5353;

/**
 * Layout code, time, host and connection of an event in a fixed layout. The high bits of the time
 * (non-zero after 2^32 us, 71 virtual minutes) ride in the layout word above its distinct low byte,
 * so the common case costs one word for the time.
 */
function mixPlace(
  h: Hash64,
  layout: number,
  tUs: number,
  host: string | undefined,
  conn: number | undefined,
): void {
  // In a fixed layout one 32-bit word of a string's digest identifies it well enough (the position
  // already says what the string is); host names and directions are few per run.
  h.words4(
    layout ^ (Math.floor(tUs / 4294967296) << 8),
    tUs >>> 0,
    host === undefined ? 0 : stringDigestOf(host)[0],
    conn === undefined ? -1 : conn,
  );
}

/** mixPlace with a pre-digested host (the Trace fast paths). */
function mixPlaceLabel(h: Hash64, layout: number, tUs: number, host: HashLabel, conn: number): void {
  h.words4(layout ^ (Math.floor(tUs / 4294967296) << 8), tUs >>> 0, host.d0, conn);
}

// The hot layouts. The Trace.write/chunk/read fast paths mix the same words from their arguments
// (with pre-digested labels for the strings); a test checks that both give the same hash.
// Byte counts of one call or chunk fit 32 bits (a word); stream offsets and delays may not.
function mixWrite(
  h: Hash64,
  tUs: number,
  host: string | undefined,
  conn: number | undefined,
  offered: number,
  accepted: number,
): void {
  mixPlace(h, LAYOUT_WRITE, tUs, host, conn);
  h.word(offered);
  h.word(accepted);
}

function mixChunk(
  h: Hash64,
  tUs: number,
  host: string | undefined,
  conn: number | undefined,
  dir: string,
  bytes: number,
  offset: number,
): void {
  mixPlace(h, LAYOUT_CHUNK, tUs, host, conn);
  h.word(stringDigestOf(dir)[0]);
  h.word(bytes);
  h.uint53(offset);
}

function mixRead(
  h: Hash64,
  tUs: number,
  host: string | undefined,
  conn: number | undefined,
  bytes: number,
): void {
  mixPlace(h, LAYOUT_READ, tUs, host, conn);
  h.word(bytes);
}

function mixEvent(h: Hash64, e: TraceEvent): void {
  // The byte-stream kinds make up most of a trace: they are hashed in a fixed layout (their schema
  // fields only), which is several times cheaper than walking keys. Every other kind is hashed
  // generically: seq is implied by position; every other field, in insertion order, is identity.
  switch (e.kind) {
    case 'write':
      mixWrite(h, e.tUs, e.host, e.conn, e.offered, e.accepted);
      return;
    case 'chunk':
      mixChunk(h, e.tUs, e.host, e.conn, e.dir, e.bytes, e.offset);
      return;
    case 'read':
      mixRead(h, e.tUs, e.host, e.conn, e.bytes);
      return;
    case 'loss':
      mixPlace(h, LAYOUT_LOSS, e.tUs, e.host, e.conn);
      h.word(stringDigestOf(e.dir)[0]);
      h.word(e.bytes);
      h.word(e.retransmits);
      h.uint53(e.delayUs);
      return;
    default:
      break;
  }
  const o = e as unknown as Record<string, unknown>;
  for (const key in o) {
    if (key === 'seq') continue;
    h.string(key);
    h.value(o[key]);
  }
}

/**
 * Index of the first event at which two traces differ (by content, ignoring seq), or -1 when they
 * are identical. When one is a prefix of the other, the index is the shorter length.
 */
export function firstDivergence(a: readonly TraceEvent[], b: readonly TraceEvent[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (eventDigest(a[i]!) !== eventDigest(b[i]!)) return i;
  return a.length === b.length ? -1 : n;
}

/** Where virtual time stepped back in a trace: the first event stamped earlier than the one before it. */
export interface TimeBackstep {
  /** The event's sequence number. */
  seq: number;
  tUs: number;
  /** The time of the event just before it. */
  previousTUs: number;
}

/**
 * The trace's own account of virtual time (the engine's self-check sim.time-monotonic judges it):
 * how many events were stamped, how many of them earlier than the event before them, the first
 * such step back, and the time of the last event.
 */
export interface TimeAudit {
  events: number;
  backsteps: number;
  first: TimeBackstep | null;
  lastTUs: number;
}

export class Trace {
  private readonly hasher: Hash64 | undefined;
  private readonly sinks: TraceSink[];
  private seq = 0;
  /** Time of the last event stamped, and the steps back seen (O(1) per event: see timeAudit). */
  private lastTUs = 0;
  private backsteps = 0;
  private firstBackstep: TimeBackstep | null = null;
  /** True when emitting does anything: callers may skip building an event when it is false. */
  enabled: boolean;

  constructor(
    private readonly now: () => number,
    options: TraceOptions = {},
  ) {
    this.hasher = options.hash === false ? undefined : new Hash64();
    this.sinks = [...(options.sinks ?? [])];
    this.enabled = this.hasher !== undefined || this.sinks.length > 0;
  }

  addSink(sink: TraceSink): void {
    this.sinks.push(sink);
    this.enabled = true;
  }

  /** Number of events emitted so far. */
  get count(): number {
    return this.seq;
  }

  emit(input: TraceInput): void {
    if (!this.enabled) return;
    // Stamp in place instead of copying: events are built fresh by the emitter for this call.
    const e = input as TraceEvent;
    const tUs = this.now();
    if (tUs < this.lastTUs) this.backstep(this.seq, tUs);
    this.lastTUs = tUs;
    e.seq = this.seq++;
    e.tUs = tUs;
    if (this.hasher !== undefined) mixEvent(this.hasher, e);
    for (let i = 0; i < this.sinks.length; i++) this.sinks[i]!.write(e);
  }

  /**
   * Fast paths for the byte-stream kinds, which make up most of a network trace: with no sink
   * attached they hash the fields straight from the arguments and build no object at all. The
   * result is the same as emit() of the equivalent event (same layout functions).
   */
  write(host: HashLabel, conn: number, offered: number, accepted: number): void {
    if (!this.enabled) return;
    const seq = this.seq++;
    const tUs = this.now();
    if (tUs < this.lastTUs) this.backstep(seq, tUs);
    this.lastTUs = tUs;
    const h = this.hasher;
    if (h !== undefined) {
      mixPlaceLabel(h, LAYOUT_WRITE, tUs, host, conn);
      h.words2(offered, accepted);
    }
    if (this.sinks.length > 0)
      this.toSinks({ seq, tUs, kind: 'write', host: host.text, conn, offered, accepted });
  }

  chunk(host: HashLabel, conn: number, dir: HashLabel, bytes: number, offset: number): void {
    if (!this.enabled) return;
    const seq = this.seq++;
    const tUs = this.now();
    if (tUs < this.lastTUs) this.backstep(seq, tUs);
    this.lastTUs = tUs;
    const h = this.hasher;
    if (h !== undefined) {
      mixPlaceLabel(h, LAYOUT_CHUNK, tUs, host, conn);
      // dir, bytes, offset: the same four words mixChunk mixes.
      h.words4(dir.d0, bytes, offset >>> 0, (offset / 4294967296) >>> 0);
    }
    if (this.sinks.length > 0)
      this.toSinks({ seq, tUs, kind: 'chunk', host: host.text, conn, dir: dir.text, bytes, offset });
  }

  read(host: HashLabel, conn: number, bytes: number): void {
    if (!this.enabled) return;
    const seq = this.seq++;
    const tUs = this.now();
    if (tUs < this.lastTUs) this.backstep(seq, tUs);
    this.lastTUs = tUs;
    const h = this.hasher;
    if (h !== undefined) {
      mixPlaceLabel(h, LAYOUT_READ, tUs, host, conn);
      h.word(bytes);
    }
    if (this.sinks.length > 0) this.toSinks({ seq, tUs, kind: 'read', host: host.text, conn, bytes });
  }

  /** The rare path of the time audit: an event stamped earlier than the one before it. */
  private backstep(seq: number, tUs: number): void {
    this.backsteps++;
    this.firstBackstep ??= { seq, tUs, previousTUs: this.lastTUs };
  }

  /**
   * Virtual time as the emitted events carry it: every event's tUs should be at or after the one
   * before it. Tracked as events are stamped (one comparison each), whether they are hashed, kept
   * by a sink, or both; a trace that is off (no hash, no sink) stamps nothing and counts nothing.
   */
  timeAudit(): TimeAudit {
    return {
      events: this.seq,
      backsteps: this.backsteps,
      first: this.firstBackstep === null ? null : { ...this.firstBackstep },
      lastTUs: this.lastTUs,
    };
  }

  private toSinks(e: TraceEvent): void {
    for (let i = 0; i < this.sinks.length; i++) this.sinks[i]!.write(e);
  }

  /** The running hash over all events so far (16 hex digits), or "" when hashing is off. */
  hash(): string {
    return this.hasher === undefined ? '' : this.hasher.hex();
  }

  close(): void {
    for (const s of this.sinks) s.close?.();
  }
}

/**
 * Why a reader of this schema cannot read a trace whose header says `schema`, or null when it can.
 * Traces of another version are refused rather than half-read (their fields mean other things).
 */
export function traceSchemaProblem(schema: unknown): string | null {
  if (schema === TRACE_SCHEMA) return null;
  const said = JSON.stringify(schema ?? null);
  const version = typeof schema === 'string' ? /^netlab\/trace@(\d+)$/.exec(schema)?.[1] : undefined;
  if (version === undefined)
    return `the trace's header says schema ${said}, not a netlab trace (this netlab reads "${TRACE_SCHEMA}")`;
  const which = Number(version) < TRACE_SCHEMA_VERSION ? 'an older' : 'a newer';
  return (
    `the trace is schema "${String(schema)}" (version ${version}), ${which} version than this netlab reads: ` +
    `"${TRACE_SCHEMA}" (version ${TRACE_SCHEMA_VERSION}). Record it again with this netlab (netlab replay, netlab run)`
  );
}
