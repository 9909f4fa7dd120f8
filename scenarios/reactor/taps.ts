/**
 * The taps the reactor actors record through, all from outside impl/reactor/: the server's handlers
 * wrapped (callback order, consumption, close callbacks, blocking reads and flushes, charges), and
 * the server's env wrapped so every accepted stream is watched (reads and the input held after
 * each, pauses, short writes, write interest at each writable event) and the connection's trace
 * notes are read (when and why it began closing). Isomorphic.
 */
import type { Connection, ReactorHandlers } from '../../impl/reactor/connection.js';
import {
  ConnWrappingEnv,
  ForwardingConn,
  type ConnHandlers,
  type Env,
  type StreamConn,
  type TraceInput,
} from '../../impl/runtime/env.js';
import type { HandlerHooks } from './handlers.js';
import type { ServerConnObs, ServerObs } from './observations.js';

/** How many first bytes of each accepted stream the tap keeps. */
export const HEAD_BYTES = 16;

/** The live state of one server incarnation's taps: its connections by stream id. */
export class ServerTap {
  readonly live = new Map<number, { conn: Connection; obs: ServerConnObs }>();
  /** Reads a stream delivered before its connection's onPrepare ran (while the reactor set it up). */
  readonly early = new Map<number, { bytes: number; maxChunk: number; atUs: number }>();
  /** The first bytes each stream delivered (HEAD_BYTES at most): which client it serves. */
  readonly heads = new Map<number, number[]>();
  /** Open connections per loop, as the tap counts them. */
  readonly openPerLoop: number[];

  constructor(
    readonly o: ServerObs,
    readonly env: Env,
    loops: number,
    readonly costUsPerRequest: number,
    readonly highWaterBytes: number,
    readonly idleTimeoutUs: number,
  ) {
    this.openPerLoop = Array.from({ length: loops }, () => 0);
  }

  hooks(): HandlerHooks {
    const wait = (kind: 'read' | 'flush') => (conn: Connection) => {
      const e = this.live.get(conn.id);
      const rec = {
        kind,
        startUs: this.env.nowUs(),
        endUs: null as number | null,
        outcome: null as string | null,
      };
      e?.obs.waits.push(rec);
      return (outcome: string): void => {
        rec.endUs = this.env.nowUs();
        rec.outcome = outcome;
      };
    };
    return {
      readWait: wait('read'),
      flush: wait('flush'),
      charged: (conn, us) => {
        if (us > 0) this.o.charges.push({ loop: conn.loop.index, atUs: this.env.nowUs(), us });
      },
    };
  }

  /** The handlers, wrapped so every callback is recorded. */
  wrapHandlers(base: ReactorHandlers): ReactorHandlers {
    const env = this.env;
    const entry = (conn: Connection): ServerConnObs | undefined => this.live.get(conn.id)?.obs;
    const push = (conn: Connection, ev: ServerConnObs['events'][number]['ev'], arg?: number): void => {
      entry(conn)?.events.push(
        arg === undefined ? { ev, atUs: env.nowUs() } : { ev, atUs: env.nowUs(), arg },
      );
    };
    const dueAt = new WeakMap<ServerConnObs, number>();
    const due = (conn: Connection): void => {
      const o = entry(conn);
      if (o !== undefined) dueAt.set(o, env.nowUs());
    };
    this.markDue = (o) => dueAt.set(o, env.nowUs());
    return {
      onPrepare: (conn) => {
        const loop = conn.loop.index;
        this.o.assignments.push({ loop, openBefore: [...this.openPerLoop] });
        this.openPerLoop[loop] = (this.openPerLoop[loop] ?? 0) + 1;
        const obs: ServerConnObs = {
          server: this.o.name,
          id: conn.id,
          loop,
          remote: conn.remoteAddress,
          openedUs: env.nowUs(),
          events: [{ ev: 'prepare', atUs: env.nowUs() }],
          requests: [],
          waits: [],
          bytesIn: 0,
          consumed: 0,
          maxChunkBytes: 0,
          maxHeldAfterRead: 0,
          unpausedOverHigh: 0,
          readPauses: 0,
          lastByteUs: env.nowUs(),
          shortWrites: 0,
          interestWithoutBytes: 0,
          bytesWithoutInterest: 0,
          maxUnconsumedStreak: 0,
          unconsumedStreak: 0,
          closeAtUs: null,
          closeReason: null,
          unsentAtClose: 0,
          readTimeoutsCounted: 0,
          idleTimeoutUs: this.idleTimeoutUs,
          inRequest: false,
          head: [],
        };
        obs.head = this.heads.get(conn.id) ?? [];
        this.heads.set(conn.id, obs.head);
        const early = this.early.get(conn.id);
        if (early !== undefined) {
          this.early.delete(conn.id);
          obs.bytesIn = early.bytes;
          obs.maxChunkBytes = early.maxChunk;
          obs.lastByteUs = early.atUs;
        }
        this.o.conns.push(obs);
        this.live.set(conn.id, { conn, obs });
        const ctx = base.onPrepare?.(conn);
        // Two close callbacks: they must run once each, the last added first.
        conn.addCloseCallback(() => push(conn, 'close-cb', 0));
        conn.addCloseCallback(() => push(conn, 'close-cb', 1));
        return ctx;
      },
      onConnect: async (ctx, conn) => {
        push(conn, 'connect-start');
        try {
          await base.onConnect?.(ctx, conn);
        } finally {
          push(conn, 'connect-end');
          due(conn);
        }
      },
      onRequest: async (ctx, conn) => {
        const o = entry(conn);
        if (o !== undefined) {
          o.requests.push({ startUs: env.nowUs(), dueUs: dueAt.get(o) ?? o.openedUs });
          if (this.costUsPerRequest > 0)
            this.o.charges.push({ loop: o.loop, atUs: env.nowUs(), us: this.costUsPerRequest });
          o.inRequest = true;
        }
        push(conn, 'request-start');
        const unreadBefore = conn.reader.length;
        const inBefore = o?.bytesIn ?? 0;
        try {
          await base.onRequest?.(ctx, conn);
        } finally {
          const consumed = unreadBefore + ((o?.bytesIn ?? 0) - inBefore) - conn.reader.length;
          if (o !== undefined) {
            o.inRequest = false;
            o.consumed += consumed;
            o.unconsumedStreak = consumed > 0 ? 0 : o.unconsumedStreak + 1;
            if (o.unconsumedStreak > o.maxUnconsumedStreak) o.maxUnconsumedStreak = o.unconsumedStreak;
          }
          push(conn, 'request-end', consumed);
          due(conn);
        }
      },
      onDisconnect: (ctx, conn) => {
        push(conn, 'disconnect');
        const e = this.live.get(conn.id);
        if (e !== undefined) {
          e.obs.readTimeoutsCounted = conn.stats.readTimeouts;
          e.obs.closeReason ??= conn.closeReason ?? null;
          this.openPerLoop[e.obs.loop] = (this.openPerLoop[e.obs.loop] ?? 1) - 1;
        }
        base.onDisconnect?.(ctx, conn);
      },
    };
  }

  /** Set by wrapHandlers: a read made a run due. */
  markDue: (o: ServerConnObs) => void = () => undefined;

  /** The stream of an accepted connection, watched. */
  wrapStream(stream: StreamConn): StreamConn {
    return new TappedStream(stream, this);
  }

  /** A trace note of the reactor: records when and why a connection began closing. */
  note(conn: number | undefined, text: string): void {
    if (conn === undefined || !text.startsWith('reactor close: ')) return;
    const e = this.live.get(conn);
    if (e === undefined || e.obs.closeAtUs !== null) return;
    e.obs.closeAtUs = this.env.nowUs();
    e.obs.closeReason = text.slice('reactor close: '.length).split(':')[0]!;
    e.obs.unsentAtClose = e.conn.unsentBytes;
  }
}

class TappedStream extends ForwardingConn {
  private pausedNow = false;
  private lastShort = false;

  constructor(
    inner: StreamConn,
    private readonly tap: ServerTap,
  ) {
    super(inner);
  }

  override setHandlers(handlers: ConnHandlers): void {
    const tap = this.tap;
    this.inner.setHandlers({
      ...handlers,
      onData: (bytes) => {
        let head = tap.heads.get(this.id);
        if (head === undefined) tap.heads.set(this.id, (head = []));
        for (let i = 0; i < bytes.length && head.length < HEAD_BYTES; i++) head.push(bytes[i]!);
        const e = tap.live.get(this.id);
        if (e === undefined) {
          const x = tap.early.get(this.id) ?? { bytes: 0, maxChunk: 0, atUs: 0 };
          x.bytes += bytes.length;
          x.maxChunk = Math.max(x.maxChunk, bytes.length);
          x.atUs = tap.env.nowUs();
          tap.early.set(this.id, x);
        }
        if (e !== undefined && e.conn.state === 'active') {
          e.obs.bytesIn += bytes.length;
          e.obs.lastByteUs = tap.env.nowUs();
          if (bytes.length > e.obs.maxChunkBytes) e.obs.maxChunkBytes = bytes.length;
          if (!e.obs.inRequest) tap.markDue(e.obs);
        }
        handlers.onData?.(bytes);
        if (e !== undefined && e.conn.state === 'active') {
          const held = e.conn.reader.heldBytes;
          if (held > e.obs.maxHeldAfterRead) e.obs.maxHeldAfterRead = held;
          const waiting = e.obs.waits.some((w) => w.kind === 'read' && w.endUs === null);
          if (held >= tap.highWaterBytes && !waiting && !this.pausedNow) e.obs.unpausedOverHigh++;
        }
      },
      onWritable: () => {
        const e = tap.live.get(this.id);
        if (e !== undefined && e.conn.state === 'active') {
          if (e.conn.writeInterestHeld && e.conn.unsentBytes === 0) e.obs.interestWithoutBytes++;
          if (this.lastShort && !e.conn.writeInterestHeld) e.obs.bytesWithoutInterest++;
        }
        handlers.onWritable?.();
      },
    });
  }

  override write(bytes: Uint8Array): number {
    const n = this.inner.write(bytes);
    const e = this.tap.live.get(this.id);
    this.lastShort = n < bytes.length;
    if (e !== undefined) {
      if (n > 0) e.obs.lastByteUs = this.tap.env.nowUs();
      if (this.lastShort) e.obs.shortWrites++;
    }
    return n;
  }

  override pauseReading(): void {
    if (!this.pausedNow) {
      const e = this.tap.live.get(this.id);
      if (e !== undefined) e.obs.readPauses++;
    }
    this.pausedNow = true;
    this.inner.pauseReading();
  }

  override resumeReading(): void {
    this.pausedNow = false;
    this.inner.resumeReading();
  }
}

/** The server's env as the reactor sees it: traced (so its notes reach the tap), streams watched. */
export class ServerTapEnv extends ConnWrappingEnv {
  constructor(
    inner: Env,
    private readonly tap: ServerTap,
  ) {
    super(inner, (s) => tap.wrapStream(s));
  }
  override get tracing(): boolean {
    return true;
  }
  override trace(event: TraceInput): void {
    if (event.kind === 'note') this.tap.note(event.conn, event.text);
    if (this.inner.tracing) this.inner.trace(event);
  }
}
