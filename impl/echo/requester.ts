/**
 * A long-lived echo client that matches replies to requests: each request is one frame whose payload
 * is a 4-byte big-endian request id, then the body; the server echoes it unchanged, so the reply
 * names the request it answers. Requests survive a lost connection: the requester reconnects after a
 * doubling backoff and resends every unanswered request, in order (at-least-once; an echo is
 * idempotent). Written only against the runtime seam, like ./echo.ts.
 *
 * Replies come back in the order requests were written on a connection (the server echoes frames
 * in order), so a reply must answer the oldest request outstanding on its connection: anything else
 * is a protocol error (ErrUnexpectedReply) that resets the connection, as is a reply too short to
 * hold an id (ErrShortReply) or over maxFrameBytes (ErrFrameTooLarge).
 *
 * Bounds: at most maxPending requests outstanding (more reject with ErrQueueFull), so the outbox
 * holds at most maxPending frames; the decoder at most one partial frame (<= maxFrameBytes); at most
 * maxConnectAttempts connections in a row without a reply before every outstanding request fails
 * with ErrGaveUp; the backoff between attempts doubles from reconnectMinUs up to reconnectMaxUs.
 */
import type { Deferred, Env, StreamConn, TimerHandle } from '../runtime/env.js';
import { NetError } from '../runtime/env.js';
import {
  DEFAULT_MAX_FRAME_BYTES,
  defaultFrameDecoder,
  EchoError,
  EchoProtocolError,
  FRAME_HEADER_BYTES,
  Outbox,
  SMALL_FRAME_BYTES,
  type FrameDecoderFactory,
  type FrameDecoderLike,
} from './echo.js';

/** Bytes of the request id at the start of every request and reply payload. */
export const REQUEST_ID_BYTES = 4;
export const DEFAULT_MAX_PENDING = 64;
export const DEFAULT_RECONNECT_MIN_US = 10_000;
export const DEFAULT_RECONNECT_MAX_US = 1_000_000;
export const DEFAULT_MAX_CONNECT_ATTEMPTS = 32;
const EMPTY = new Uint8Array(0);

export interface EchoRequesterOptions {
  /** Largest frame payload sent or accepted, the 4-byte id included (default 1 MiB). */
  maxFrameBytes?: number;
  /** Most requests outstanding at once; one more rejects with ErrQueueFull (default 64). */
  maxPending?: number;
  /** Wait before the first reconnect after a lost connection (default 10 ms); doubles per failed attempt. */
  reconnectMinUs?: number;
  /** Cap of the doubling wait between attempts (default 1 s). */
  reconnectMaxUs?: number;
  /**
   * Connection attempts in a row that end without any reply (refused, timed out, lost) before every
   * outstanding request fails with ErrGaveUp (default 32). The next request starts counting again.
   */
  maxConnectAttempts?: number;
  /** Passed to env.connect (default: the runtime's). */
  connectTimeoutUs?: number;
  /** Makes each connection's frame decoder (default: FrameDecoder). */
  frameDecoder?: FrameDecoderFactory;
}

/** What a requester has done (counters only ever grow, except pendingNow). */
export interface EchoRequesterStats {
  /** Connection attempts started. */
  connectAttempts: number;
  /** Attempts that connected. */
  connects: number;
  /** Requests accepted by request(). */
  requests: number;
  /** Requests written again on a new connection because the previous one was lost before the reply. */
  resends: number;
  /** Replies matched to their request. */
  replies: number;
  /** Connections reset because the server broke the rules (bad, extra or out-of-order reply). */
  protocolErrors: number;
  /** Requests outstanding now, and the most ever at once. */
  pendingNow: number;
  maxPending: number;
}

export type EchoRequesterState = 'idle' | 'connecting' | 'connected' | 'backoff' | 'closed';

export interface EchoRequester {
  /**
   * Sends `body` as a request; resolves with the reply body (the echo) once it arrives, however many
   * reconnects that takes. Rejects with EchoError: ErrFrameTooLarge (before sending), ErrQueueFull,
   * ErrClosed, ErrGaveUp.
   */
  request(body: Uint8Array): Promise<Uint8Array>;
  /** Closes the connection; outstanding requests reject with ErrClosed. */
  close(): void;
  readonly state: EchoRequesterState;
  readonly stats: EchoRequesterStats;
}

interface Pending {
  id: number;
  /** Frame header and request id (and a small body), then the rest: a large body is never copied. */
  head: Uint8Array;
  body: Uint8Array;
  /** Times it was written (more than once: resent after a lost connection). */
  writes: number;
  done: Deferred<Uint8Array>;
}

export function openEchoRequester(
  env: Env,
  address: string,
  options: EchoRequesterOptions = {},
): EchoRequester {
  return new Requester(env, address, options);
}

class Requester implements EchoRequester {
  state: EchoRequesterState = 'idle';
  readonly stats: EchoRequesterStats = {
    connectAttempts: 0,
    connects: 0,
    requests: 0,
    resends: 0,
    replies: 0,
    protocolErrors: 0,
    pendingNow: 0,
    maxPending: 0,
  };
  private readonly maxFrameBytes: number;
  private readonly maxPending: number;
  private readonly reconnectMinUs: number;
  private readonly reconnectMaxUs: number;
  private readonly maxConnectAttempts: number;
  private readonly frameDecoder: FrameDecoderFactory;
  /** Outstanding requests by id, in the order they were made (Map keeps insertion order). */
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  // The current connection and what was written on it.
  private conn: StreamConn | undefined;
  private generation = 0;
  private decoder: FrameDecoderLike | undefined;
  private outbox = new Outbox();
  private awaitingWritable = false;
  /** Ids written on the current connection and not yet answered, oldest first. */
  private inFlight: number[] = [];
  private inFlightHead = 0;
  /** A reply arrived on the current connection (it made progress). */
  private progressed = false;
  /** Attempts in a row that ended without a reply. */
  private failedAttempts = 0;
  /** No attempt starts before this (µs): the backoff holds even when the next request comes later. */
  private notBeforeUs = 0;
  private timer: TimerHandle | undefined;
  private readonly connectOptions: { timeoutUs?: number };

  constructor(
    private readonly env: Env,
    private readonly address: string,
    options: EchoRequesterOptions,
  ) {
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
    this.reconnectMinUs = options.reconnectMinUs ?? DEFAULT_RECONNECT_MIN_US;
    this.reconnectMaxUs = Math.max(this.reconnectMinUs, options.reconnectMaxUs ?? DEFAULT_RECONNECT_MAX_US);
    this.maxConnectAttempts = options.maxConnectAttempts ?? DEFAULT_MAX_CONNECT_ATTEMPTS;
    this.frameDecoder = options.frameDecoder ?? defaultFrameDecoder;
    this.connectOptions =
      options.connectTimeoutUs === undefined ? {} : { timeoutUs: options.connectTimeoutUs };
  }

  request(body: Uint8Array): Promise<Uint8Array> {
    const done = this.env.defer<Uint8Array>();
    if (this.state === 'closed') {
      done.reject(new EchoError('ErrClosed', 'the requester is closed'));
      return done.promise;
    }
    if (REQUEST_ID_BYTES + body.length > this.maxFrameBytes) {
      done.reject(
        new EchoProtocolError(
          'ErrFrameTooLarge',
          `a request of ${body.length} bytes (plus its ${REQUEST_ID_BYTES}-byte id) exceeds the limit of ${this.maxFrameBytes} bytes`,
        ),
      );
      return done.promise;
    }
    if (this.pending.size >= this.maxPending) {
      done.reject(new EchoError('ErrQueueFull', `${this.maxPending} requests already outstanding`));
      return done.promise;
    }
    const id = this.nextId;
    // Ids wrap at 2^32 (0 is skipped); fewer than maxPending are ever outstanding, so none repeats.
    this.nextId = this.nextId === 0xffffffff ? 1 : this.nextId + 1;
    // A small request goes out as one array (a copy of the body); a large one as head, then body.
    const small = body.length <= SMALL_FRAME_BYTES;
    const head = new Uint8Array(FRAME_HEADER_BYTES + REQUEST_ID_BYTES + (small ? body.length : 0));
    const view = new DataView(head.buffer);
    view.setUint32(0, REQUEST_ID_BYTES + body.length, false);
    view.setUint32(FRAME_HEADER_BYTES, id, false);
    if (small) head.set(body, FRAME_HEADER_BYTES + REQUEST_ID_BYTES);
    const p: Pending = { id, head, body: small ? EMPTY : body, writes: 0, done };
    this.pending.set(id, p);
    this.stats.requests++;
    this.stats.pendingNow = this.pending.size;
    if (this.pending.size > this.stats.maxPending) this.stats.maxPending = this.pending.size;
    if (this.state === 'connected') {
      this.write(p);
      this.pump();
    } else if (this.state === 'idle') this.connectWhenAllowed();
    // connecting / backoff: written once the connection is up.
    return done.promise;
  }

  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.timer !== undefined) this.env.clearTimer(this.timer);
    const conn = this.conn;
    this.dropConnection();
    conn?.close();
    this.failAll(new EchoError('ErrClosed', 'the requester was closed'));
  }

  /** Connects now, or once the backoff of the last lost connection has passed. */
  private connectWhenAllowed(): void {
    const waitUs = this.notBeforeUs - this.env.nowUs();
    if (waitUs <= 0) {
      this.connect();
      return;
    }
    this.state = 'backoff';
    this.timer = this.env.setTimer(
      waitUs,
      () => {
        this.timer = undefined;
        if (this.state === 'backoff') this.connect();
      },
      'echo-reconnect',
    );
  }

  private connect(): void {
    this.state = 'connecting';
    this.stats.connectAttempts++;
    const generation = ++this.generation;
    this.env.connect(
      this.address,
      (error, conn) => {
        if (generation !== this.generation || this.state === 'closed') {
          conn?.reset();
          return;
        }
        if (conn === undefined) {
          this.lost(error);
          return;
        }
        this.attach(conn, generation);
      },
      this.connectOptions,
    );
  }

  private attach(conn: StreamConn, generation: number): void {
    this.state = 'connected';
    this.stats.connects++;
    this.conn = conn;
    this.decoder = this.frameDecoder(this.maxFrameBytes);
    this.outbox = new Outbox();
    this.awaitingWritable = false;
    this.inFlight = [];
    this.inFlightHead = 0;
    this.progressed = false;
    const current = (): boolean => generation === this.generation && this.conn === conn;
    conn.setHandlers({
      onData: (bytes) => {
        if (current()) this.onData(conn, bytes);
      },
      onWritable: () => {
        if (!current()) return;
        this.awaitingWritable = false;
        this.pump();
      },
      // The server ends its side only when told to (it never is): treat it as a lost connection.
      onEnd: () => {
        if (current()) this.lost(undefined);
      },
      onClose: (error) => {
        if (current()) this.lost(error);
      },
    });
    // Everything unanswered goes out again, oldest first, on the new connection.
    for (const p of this.pending.values()) this.write(p);
    this.pump();
  }

  private write(p: Pending): void {
    if (p.writes > 0) this.stats.resends++;
    p.writes++;
    this.outbox.push(p.head);
    this.outbox.push(p.body);
    this.inFlight.push(p.id);
    const conn = this.conn!;
    if (this.env.tracing)
      this.env.trace({
        kind: 'msg-send',
        conn: conn.id,
        proto: 'echo',
        msg: 'request',
        bytes: p.head.length + p.body.length,
        fields: [
          {
            name: 'length',
            offset: 0,
            length: FRAME_HEADER_BYTES,
            value: p.head.length + p.body.length - FRAME_HEADER_BYTES,
          },
          { name: 'request-id', offset: FRAME_HEADER_BYTES, length: REQUEST_ID_BYTES, value: p.id },
        ],
        corr: p.id,
      });
  }

  private pump(): void {
    const conn = this.conn;
    if (conn === undefined || this.awaitingWritable) return;
    try {
      this.awaitingWritable = !this.outbox.flush(conn);
    } catch (error) {
      // Closed under us (reset by the peer): its onClose reports it.
      if (error instanceof NetError) return;
      throw error;
    }
  }

  private onData(conn: StreamConn, bytes: Uint8Array): void {
    try {
      this.decoder!.push(bytes, (payload) => this.onReply(conn, payload));
    } catch (error) {
      if (!(error instanceof EchoProtocolError)) throw error;
      this.stats.protocolErrors++;
      this.env.trace({ kind: 'error', conn: conn.id, code: error.code, message: error.message });
      this.dropConnection();
      conn.reset();
      this.lost(undefined, true);
    }
  }

  private onReply(conn: StreamConn, payload: Uint8Array): void {
    if (this.conn !== conn) return; // a protocol error earlier in this chunk dropped the connection
    if (payload.length < REQUEST_ID_BYTES)
      throw new EchoProtocolError(
        'ErrShortReply',
        `a reply of ${payload.length} bytes cannot hold a ${REQUEST_ID_BYTES}-byte request id`,
      );
    const id = ((payload[0]! << 24) | (payload[1]! << 16) | (payload[2]! << 8) | payload[3]!) >>> 0;
    const expected = this.inFlight[this.inFlightHead];
    if (expected !== id)
      throw new EchoProtocolError(
        'ErrUnexpectedReply',
        expected === undefined
          ? `a reply for request ${id} with no request outstanding`
          : `a reply for request ${id} where request ${expected} is the oldest outstanding`,
      );
    this.inFlightHead++;
    if (this.inFlightHead > 1024 && this.inFlightHead * 2 > this.inFlight.length) {
      this.inFlight = this.inFlight.slice(this.inFlightHead);
      this.inFlightHead = 0;
    }
    const p = this.pending.get(id)!;
    this.pending.delete(id);
    this.stats.replies++;
    this.stats.pendingNow = this.pending.size;
    this.progressed = true;
    this.failedAttempts = 0;
    if (this.env.tracing)
      this.env.trace({
        kind: 'msg-recv',
        conn: conn.id,
        proto: 'echo',
        msg: 'reply',
        bytes: FRAME_HEADER_BYTES + payload.length,
        fields: [
          { name: 'length', offset: 0, length: FRAME_HEADER_BYTES, value: payload.length },
          { name: 'request-id', offset: FRAME_HEADER_BYTES, length: REQUEST_ID_BYTES, value: id },
        ],
        corr: id,
        answer: true,
      });
    p.done.resolve(payload.subarray(REQUEST_ID_BYTES));
  }

  /** Forgets the current connection (its late callbacks are ignored). */
  private dropConnection(): void {
    this.conn = undefined;
    this.decoder = undefined;
    this.generation++;
  }

  /**
   * The connection attempt failed or the connection is gone: back off and try again while requests
   * are outstanding, give up after maxConnectAttempts attempts in a row without a reply.
   */
  private lost(_error: NetError | undefined, alreadyDropped = false): void {
    if (this.state === 'closed') return;
    const conn = this.conn;
    if (!alreadyDropped) {
      this.dropConnection();
      // A server that ended its side (or anything else that left it half open): let it go.
      if (conn !== undefined && conn.state === 'open') conn.close();
    }
    if (!this.progressed) this.failedAttempts++;
    this.progressed = false;
    const delayUs = Math.min(
      this.reconnectMaxUs,
      this.reconnectMinUs * 2 ** Math.min(30, Math.max(0, this.failedAttempts - 1)),
    );
    this.notBeforeUs = this.env.nowUs() + delayUs;
    if (this.pending.size === 0) {
      // Nothing to resend: connect again when the next request comes (after the backoff).
      this.state = 'idle';
      this.failedAttempts = 0;
      return;
    }
    if (this.failedAttempts >= this.maxConnectAttempts) {
      const attempts = this.failedAttempts;
      this.state = 'idle';
      this.failedAttempts = 0;
      this.failAll(
        new EchoError(
          'ErrGaveUp',
          `${attempts} connection attempts in a row to ${this.address} got no reply`,
        ),
      );
      return;
    }
    this.connectWhenAllowed();
  }

  private failAll(error: EchoError): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    this.stats.pendingNow = 0;
    for (const p of all) p.done.reject(error);
  }
}
