/**
 * A tiny length-prefixed echo protocol, written only against the runtime seam, so the same code runs
 * on simulated hosts and on real sockets: the parity suite's workload and a worked example of
 * protocol code on the seam (short writes, streaming decode, half-close, promises via env.defer()).
 *
 * Wire format: each frame is a u32 big-endian payload length, then the payload. The server sends
 * every complete frame back unchanged; when the client half-closes, the server finishes echoing and
 * closes.
 *
 * Memory bounds (no queue grows with the peer's behaviour):
 * - decoder: at most one partial frame, <= maxFrameBytes (a bigger length prefix is a protocol error);
 * - server, per connection: reading pauses while more than maxPendingOutBytes of echoes wait for the
 *   send buffer, so the outbox holds at most maxPendingOutBytes + the frames decoded from one chunk;
 * - client: the outbox holds one message (header + payload, copied together only when small);
 *   replies are kept, but a reply beyond the number of messages sent is a protocol error, so they
 *   never exceed the input.
 *
 * Errors: peer and protocol failures are typed (EchoError, EchoProtocolError) with a stable `code`;
 * network failures keep the runtime's NetError codes. A long-lived client that matches replies to
 * requests by id and resends across reconnects is ./requester.ts.
 */
import { readU32, writeU32 } from '../runtime/bytes.js';
import type { Deferred, Env, NetErrorCode, StreamConn, TimerHandle } from '../runtime/env.js';
import { NetError } from '../runtime/env.js';

export const FRAME_HEADER_BYTES = 4;
export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;
export const DEFAULT_MAX_PENDING_OUT_BYTES = 256 * 1024;

/**
 * Stable codes of the echo stack's own errors (network failures keep the runtime's NetError codes).
 * Protocol errors (the peer broke the framing rules) are EchoProtocolError: ErrFrameTooLarge,
 * ErrUnexpectedReply, ErrShortReply. The others are a client's local outcomes (./requester.ts).
 */
export type EchoErrorCode =
  /** A length prefix over maxFrameBytes (received), or a message too large to send. */
  | 'ErrFrameTooLarge'
  /** A reply nobody waits for: beyond the messages sent, or not the oldest request outstanding. */
  | 'ErrUnexpectedReply'
  /** A requester's reply too short to hold the request id it answers. */
  | 'ErrShortReply'
  /** A requester already has maxPending requests outstanding. */
  | 'ErrQueueFull'
  /** The requester was closed before the request was answered. */
  | 'ErrClosed'
  /** The requester made maxConnectAttempts connection attempts in a row without getting a reply. */
  | 'ErrGaveUp';

/** An echo error with a stable `code` (EchoErrorCode). */
export class EchoError extends Error {
  override readonly name: string = 'EchoError';
  constructor(
    readonly code: EchoErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

/** The peer (or the caller) broke the framing rules; the connection, if any, was reset. */
export class EchoProtocolError extends EchoError {
  override readonly name: string = 'EchoProtocolError';
  constructor(code: 'ErrFrameTooLarge' | 'ErrUnexpectedReply' | 'ErrShortReply', message: string) {
    super(code, message);
  }
}

/**
 * Frames with a payload up to this size go out as one array (header and payload copied together):
 * one write instead of two costs less than the copy. Larger payloads are written after their header
 * without a copy.
 */
export const SMALL_FRAME_BYTES = 1024;

/** A whole frame in one fresh array: the u32 big-endian length, then a copy of the payload. */
export function encodeFrame(payload: Uint8Array): Uint8Array {
  const frame = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  new DataView(frame.buffer).setUint32(0, payload.length, false);
  frame.set(payload, FRAME_HEADER_BYTES);
  return frame;
}

export function encodeFrameHeader(payloadBytes: number): Uint8Array {
  const header = new Uint8Array(FRAME_HEADER_BYTES);
  writeU32(header, 0, payloadBytes);
  return header;
}

/** Allocates a payload buffer of exactly `bytes` bytes (an injection point: a lab can watch sizes). */
export type Allocate = (bytes: number) => Uint8Array;

const allocateZeroed: Allocate = (bytes) => new Uint8Array(bytes);

/** What a connection needs of a streaming frame decoder (FrameDecoder, or another one injected). */
export interface FrameDecoderLike {
  /** True between frames (no partial frame buffered). */
  readonly idle: boolean;
  /** Feeds bytes; calls onFrame for each completed payload. Throws EchoProtocolError on bad input. */
  push(chunk: Uint8Array, onFrame: (payload: Uint8Array) => void): void;
}

/**
 * Makes a connection's decoder, given the connection's maxFrameBytes and allocator. The default is
 * FrameDecoder; servers and requesters take another through their `frameDecoder` option.
 */
export type FrameDecoderFactory = (maxFrameBytes: number, allocate?: Allocate) => FrameDecoderLike;

export const defaultFrameDecoder: FrameDecoderFactory = (maxFrameBytes, allocate) =>
  new FrameDecoder(maxFrameBytes, allocate);

/**
 * Streaming decoder: frames may be split at any byte across chunks, and one chunk may hold many
 * frames. Each payload handed out is a fresh array the callee owns. It allocates a payload's buffer
 * only after checking its length against maxFrameBytes, and never more than that length.
 */
export class FrameDecoder implements FrameDecoderLike {
  private readonly header = new Uint8Array(FRAME_HEADER_BYTES);
  private headerFillBytes = 0;
  private payload: Uint8Array | undefined;
  private payloadFillBytes = 0;
  private failed = false;

  constructor(
    readonly maxFrameBytes = DEFAULT_MAX_FRAME_BYTES,
    private readonly allocate: Allocate = allocateZeroed,
  ) {}

  /** True between frames (no partial frame buffered). */
  get idle(): boolean {
    return this.headerFillBytes === 0 && this.payload === undefined;
  }

  /** Feeds bytes; calls onFrame for each completed payload. Throws EchoProtocolError on an oversize length. */
  push(chunk: Uint8Array, onFrame: (payload: Uint8Array) => void): void {
    if (this.failed) throw new EchoProtocolError('ErrFrameTooLarge', 'decoder already failed');
    let i = 0;
    while (i < chunk.length) {
      if (this.payload === undefined) {
        const takeBytes = Math.min(FRAME_HEADER_BYTES - this.headerFillBytes, chunk.length - i);
        this.header.set(chunk.subarray(i, i + takeBytes), this.headerFillBytes);
        this.headerFillBytes += takeBytes;
        i += takeBytes;
        if (this.headerFillBytes < FRAME_HEADER_BYTES) return;
        this.headerFillBytes = 0;
        const lengthBytes = readU32(this.header, 0);
        if (lengthBytes > this.maxFrameBytes) {
          this.failed = true;
          throw new EchoProtocolError(
            'ErrFrameTooLarge',
            `frame of ${lengthBytes} bytes exceeds the limit of ${this.maxFrameBytes} bytes`,
          );
        }
        if (lengthBytes === 0) {
          onFrame(new Uint8Array(0));
          continue;
        }
        this.payload = this.allocate(lengthBytes);
        this.payloadFillBytes = 0;
      }
      const payload = this.payload;
      const takeBytes = Math.min(payload.length - this.payloadFillBytes, chunk.length - i);
      payload.set(chunk.subarray(i, i + takeBytes), this.payloadFillBytes);
      this.payloadFillBytes += takeBytes;
      i += takeBytes;
      if (this.payloadFillBytes === payload.length) {
        this.payload = undefined;
        onFrame(payload);
      }
    }
  }
}

/** Bytes waiting for the send buffer, written in order; a short write leaves the rest for onWritable. */
export class Outbox {
  private chunks: Uint8Array[] = [];
  private head = 0;
  private headOffsetBytes = 0;
  pendingBytes = 0;

  get empty(): boolean {
    return this.pendingBytes === 0;
  }

  /** Queues bytes without copying: the caller must not modify them until they are written. */
  push(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.chunks.push(bytes);
    this.pendingBytes += bytes.length;
  }

  /**
   * Writes as much as the connection accepts. Returns true when everything went out, false after a
   * short write (the connection then owes one onWritable). Throws the connection's NetError.
   */
  flush(conn: StreamConn): boolean {
    for (;;) {
      const chunk = this.chunks[this.head];
      if (chunk === undefined) break;
      const rest = this.headOffsetBytes === 0 ? chunk : chunk.subarray(this.headOffsetBytes);
      const acceptedBytes = conn.write(rest);
      this.pendingBytes -= acceptedBytes;
      if (acceptedBytes < rest.length) {
        this.headOffsetBytes += acceptedBytes;
        return false;
      }
      this.head++;
      this.headOffsetBytes = 0;
    }
    this.chunks = [];
    this.head = 0;
    return true;
  }
}

export interface EchoServerOptions {
  /** Largest payload accepted; a bigger length prefix resets the connection (default 1 MiB). */
  maxFrameBytes?: number;
  /** Per connection: reading pauses while more echo bytes than this wait to be sent (default 256 KiB). */
  maxPendingOutBytes?: number;
  /** Makes each connection's frame decoder (default: FrameDecoder with a zero-filled allocation). */
  frameDecoder?: FrameDecoderFactory;
}

/** What a server has done since it started (counters only ever grow). */
export interface EchoServerStats {
  /** Connections accepted. */
  connections: number;
  /** Frames decoded and queued to be sent back. */
  framesEchoed: number;
  /** Payload bytes of those frames. */
  bytesEchoed: number;
  /** Connections reset because the peer broke the framing rules. */
  protocolErrors: number;
  /** Times a connection paused reading because too many echo bytes waited (backpressure). */
  readPauses: number;
  /** The most echo bytes one connection had waiting at once. */
  maxPendingOutBytes: number;
  /** The largest chunk one read delivered, in bytes. */
  maxChunkBytes: number;
}

export interface EchoServer {
  /** The bound address (with the real port when port 0 was asked for). */
  readonly address: string;
  /** Live counters (read them any time). */
  readonly stats: EchoServerStats;
  /** Stops accepting and closes open connections gracefully (echoes not yet sent are dropped). */
  close(): void;
}

function newServerStats(): EchoServerStats {
  return {
    connections: 0,
    framesEchoed: 0,
    bytesEchoed: 0,
    protocolErrors: 0,
    readPauses: 0,
    maxPendingOutBytes: 0,
    maxChunkBytes: 0,
  };
}

export function startEchoServer(
  env: Env,
  address: string,
  options: EchoServerOptions = {},
): Promise<EchoServer> {
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const maxPendingOutBytes = options.maxPendingOutBytes ?? DEFAULT_MAX_PENDING_OUT_BYTES;
  const frameDecoder = options.frameDecoder ?? defaultFrameDecoder;
  const stats = newServerStats();
  const done = env.defer<EchoServer>();
  const sessions = new Set<EchoSession>();
  env.listen(
    address,
    (conn) => {
      stats.connections++;
      sessions.add(
        new EchoSession(env, conn, frameDecoder(maxFrameBytes), maxPendingOutBytes, sessions, stats),
      );
    },
    (error, listener) => {
      if (listener === undefined) {
        done.reject(error ?? new NetError('EINVAL', `listen ${address} failed`));
        return;
      }
      done.resolve({
        address: listener.address,
        stats,
        close() {
          listener.close();
          for (const session of sessions) session.close();
        },
      });
    },
  );
  return done.promise;
}

/** The server side of one connection. */
class EchoSession {
  private readonly outbox = new Outbox();
  private awaitingWritable = false;
  private readingPaused = false;
  private peerEnded = false;
  private closing = false;

  constructor(
    private readonly env: Env,
    private readonly conn: StreamConn,
    private readonly decoder: FrameDecoderLike,
    private readonly maxPendingOutBytes: number,
    private readonly sessions: Set<EchoSession>,
    private readonly stats: EchoServerStats,
  ) {
    conn.setHandlers({
      onData: (bytes) => this.onData(bytes),
      onWritable: () => {
        this.awaitingWritable = false;
        this.pump();
      },
      onEnd: () => {
        this.peerEnded = true;
        this.pump();
      },
      onClose: () => {
        this.closing = true;
        this.sessions.delete(this);
      },
    });
  }

  close(): void {
    if (this.closing) return;
    this.closing = true;
    this.conn.close();
  }

  private onData(bytes: Uint8Array): void {
    const stats = this.stats;
    if (bytes.length > stats.maxChunkBytes) stats.maxChunkBytes = bytes.length;
    try {
      this.decoder.push(bytes, (payload) => {
        if (payload.length <= SMALL_FRAME_BYTES) this.outbox.push(encodeFrame(payload));
        else {
          this.outbox.push(encodeFrameHeader(payload.length));
          this.outbox.push(payload);
        }
        stats.framesEchoed++;
        stats.bytesEchoed += payload.length;
      });
    } catch (error) {
      if (!(error instanceof EchoProtocolError)) throw error;
      stats.protocolErrors++;
      this.env.trace({ kind: 'error', conn: this.conn.id, code: error.code, message: error.message });
      this.closing = true;
      this.conn.reset();
      return;
    }
    this.pump();
  }

  private pump(): void {
    if (this.closing) return;
    const pending = this.outbox.pendingBytes;
    if (pending > this.stats.maxPendingOutBytes) this.stats.maxPendingOutBytes = pending;
    if (!this.awaitingWritable) {
      try {
        this.awaitingWritable = !this.outbox.flush(this.conn);
      } catch (error) {
        // The connection is going away (reset by the peer); its onClose ends the session.
        if (error instanceof NetError) return;
        throw error;
      }
    }
    // Backpressure: stop decoding new frames while too many echo bytes wait, resume at half.
    if (!this.readingPaused && this.outbox.pendingBytes > this.maxPendingOutBytes) {
      this.readingPaused = true;
      this.stats.readPauses++;
      this.conn.pauseReading();
    } else if (this.readingPaused && this.outbox.pendingBytes <= this.maxPendingOutBytes / 2) {
      this.readingPaused = false;
      this.conn.resumeReading();
    }
    if (this.peerEnded && this.outbox.empty) this.close();
  }
}

export interface EchoOutcome {
  /** Replies in arrival order (equal to the messages when all went well). */
  replies: Uint8Array[];
  /** The connection's error (connect failure, reset...), or null. */
  error: NetErrorCode | null;
  /** The server ended its side and the connection closed without error, on a frame boundary. */
  closedCleanly: boolean;
}

export interface EchoClientOptions {
  /** Largest payload sent or accepted (default 1 MiB); bigger messages reject before connecting. */
  maxFrameBytes?: number;
  /** Passed to env.connect (default: the runtime's). */
  connectTimeoutUs?: number;
  /** Give up on the whole exchange after this long: the connection is reset, error ETIMEDOUT. */
  timeoutUs?: number;
  /** Makes the connection's frame decoder (default: FrameDecoder). */
  frameDecoder?: FrameDecoderFactory;
}

/**
 * Connects, sends every message as a frame, half-closes, collects the replies and resolves once the
 * server has closed. Rejects only with EchoProtocolError (oversize message or reply, extra reply);
 * network failures resolve with `error` set and the replies received so far.
 */
export function runEchoClient(
  env: Env,
  address: string,
  messages: readonly Uint8Array[],
  options: EchoClientOptions = {},
): Promise<EchoOutcome> {
  const done = env.defer<EchoOutcome>();
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const tooBig = messages.findIndex((m) => m.length > maxFrameBytes);
  if (tooBig >= 0) {
    done.reject(
      new EchoProtocolError(
        'ErrFrameTooLarge',
        `message ${tooBig} has ${messages[tooBig]?.length} bytes, over the limit of ${maxFrameBytes} bytes`,
      ),
    );
    return done.promise;
  }
  const decoder = (options.frameDecoder ?? defaultFrameDecoder)(maxFrameBytes);
  new EchoClient(env, messages, decoder, done).start(address, options);
  return done.promise;
}

class EchoClient {
  private conn: StreamConn | undefined;
  private timer: TimerHandle | undefined;
  private readonly outbox = new Outbox();
  private readonly replies: Uint8Array[] = [];
  private nextMessage = 0;
  private awaitingWritable = false;
  private shutDown = false;
  private peerEnded = false;

  constructor(
    private readonly env: Env,
    private readonly messages: readonly Uint8Array[],
    private readonly decoder: FrameDecoderLike,
    private readonly done: Deferred<EchoOutcome>,
  ) {}

  start(address: string, options: EchoClientOptions): void {
    if (options.timeoutUs !== undefined) {
      this.timer = this.env.setTimer(
        options.timeoutUs,
        () => {
          if (this.done.settled) return;
          this.conn?.reset();
          this.finish('ETIMEDOUT', false);
        },
        'echo-timeout',
      );
    }
    const connectOptions =
      options.connectTimeoutUs === undefined ? {} : { timeoutUs: options.connectTimeoutUs };
    this.env.connect(
      address,
      (error, conn) => {
        if (conn === undefined) {
          this.finish(error?.code ?? 'EINVAL', false);
          return;
        }
        if (this.done.settled) {
          conn.reset(); // timed out meanwhile
          return;
        }
        this.conn = conn;
        conn.setHandlers({
          onData: (bytes) => this.onData(conn, bytes),
          onWritable: () => {
            this.awaitingWritable = false;
            this.pump(conn);
          },
          onEnd: () => {
            this.peerEnded = true;
          },
          onClose: (closeError) => {
            this.finish(
              closeError?.code ?? null,
              closeError === undefined && this.peerEnded && this.decoder.idle,
            );
          },
        });
        this.pump(conn);
      },
      connectOptions,
    );
  }

  private finish(error: NetErrorCode | null, closedCleanly: boolean): void {
    if (this.timer !== undefined) this.env.clearTimer(this.timer);
    this.done.resolve({ replies: this.replies, error, closedCleanly });
  }

  private fail(conn: StreamConn, error: EchoProtocolError): void {
    this.env.trace({ kind: 'error', conn: conn.id, code: error.code, message: error.message });
    if (this.timer !== undefined) this.env.clearTimer(this.timer);
    this.done.reject(error);
    conn.reset();
  }

  /** Writes messages one at a time (the outbox never holds more than one), then half-closes. */
  private pump(conn: StreamConn): void {
    if (this.done.settled) return;
    try {
      while (!this.awaitingWritable && !this.shutDown) {
        if (this.outbox.empty) {
          const message = this.messages[this.nextMessage];
          if (message === undefined) {
            this.shutDown = true;
            conn.shutdown();
            return;
          }
          this.nextMessage++;
          if (message.length <= SMALL_FRAME_BYTES) this.outbox.push(encodeFrame(message));
          else {
            this.outbox.push(encodeFrameHeader(message.length));
            this.outbox.push(message);
          }
          this.env.trace({
            kind: 'msg-send',
            conn: conn.id,
            proto: 'echo',
            msg: 'frame',
            bytes: FRAME_HEADER_BYTES + message.length,
            fields: [{ name: 'length', offset: 0, length: FRAME_HEADER_BYTES, value: message.length }],
          });
        }
        this.awaitingWritable = !this.outbox.flush(conn);
      }
    } catch (error) {
      // Closed under us (reset by the server): onClose reports it.
      if (error instanceof NetError) return;
      throw error;
    }
  }

  private onData(conn: StreamConn, bytes: Uint8Array): void {
    if (this.done.settled) return;
    try {
      this.decoder.push(bytes, (payload) => {
        if (this.replies.length >= this.messages.length) {
          throw new EchoProtocolError(
            'ErrUnexpectedReply',
            `reply ${this.replies.length + 1} to ${this.messages.length} messages`,
          );
        }
        this.replies.push(payload);
        this.env.trace({
          kind: 'msg-recv',
          conn: conn.id,
          proto: 'echo',
          msg: 'frame',
          bytes: FRAME_HEADER_BYTES + payload.length,
          fields: [{ name: 'length', offset: 0, length: FRAME_HEADER_BYTES, value: payload.length }],
        });
      });
    } catch (error) {
      if (!(error instanceof EchoProtocolError)) throw error;
      this.fail(conn, error);
    }
  }
}
