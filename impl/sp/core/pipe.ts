/**
 * Pipes: one connection between two SP sockets, after the handshake. A protocol sees every pipe
 * through the same small interface whatever the transport: send one message at a time (a pipe is
 * "ready" when the previous message has been taken by the transport), pause and resume receiving
 * (backpressure), close. StreamPipe runs SP over a byte stream (tcp, ipc): the 8-byte handshake with
 * a timeout, then u64-length framing, with every short write and split read handled here.
 */
import type { Env, NetError, StreamConn, TimerHandle, TraceInput } from '../../runtime/env.js';
import { SpError, spError, type SpErrorCode } from '../errors.js';
import { decodeHandshake, encodeHandshake, HANDSHAKE_BYTES } from '../wire/handshake.js';
import { encodeFrameHeader, FrameDecoder, type Allocator, type FrameDecoderOptions } from '../wire/frames.js';
import { newMessage, type Message } from './message.js';

export type PipeState = 'handshaking' | 'open' | 'closed';

/** The part of a frame decoder a pipe uses; injectable so historical decoder bugs can be swapped in. */
export interface FrameDecoderLike {
  feed(chunk: Uint8Array, onFrame: (payload: Uint8Array) => void): void;
}

export type FrameDecoderFactory = (options: FrameDecoderOptions) => FrameDecoderLike;

export const defaultFrameDecoderFactory: FrameDecoderFactory = (options) => new FrameDecoder(options);

/** What a pipe tells its owner (the socket core). */
export interface PipeEvents {
  /** The handshake completed (error undefined) or failed (the pipe is closed). */
  onHandshake(pipe: Pipe, error: SpError | undefined): void;
  onMessage(pipe: Pipe, msg: Message): void;
  /** The previous message was taken by the transport: send() accepts another. */
  onReady(pipe: Pipe): void;
  /** Closed, by either side; `error` says why when it was not a clean close. */
  onClose(pipe: Pipe, error: SpError | undefined): void;
}

export interface Pipe {
  readonly id: number;
  readonly transport: 'tcp' | 'ipc' | 'inproc';
  readonly localAddress: string;
  readonly remoteAddress: string;
  /** The peer's protocol id, known once the handshake is done (-1 before). */
  readonly peerProtocol: number;
  /** The trace's id of the connection the pipe runs on (none for inproc). */
  readonly connId?: number;
  /** Once closed: why, when it was not a clean close of ours (for the trace's session-close). */
  readonly closeReason?: string | undefined;
  readonly state: PipeState;
  /** True when send() will take a message now. */
  readonly ready: boolean;
  /** Sends one message; returns false (and sends nothing) when the pipe is not ready or closed. */
  send(msg: Message): boolean;
  /** Stops delivering messages (the transport's window closes behind them); resumeRecv() undoes it. */
  pauseRecv(): void;
  resumeRecv(): void;
  /** Closes the pipe; messages already handed to send() are still flushed by a graceful close. */
  close(): void;
  /** Closes at once, losing what is queued (used for misbehaving peers). */
  abort(code: SpErrorCode, reason: string): void;
}

export interface StreamPipeOptions {
  transport: 'tcp' | 'ipc';
  ownProtocol: number;
  /** The peer protocol this socket accepts; another one fails the handshake with ErrBadProto. */
  peerProtocol: number;
  /** Largest frame accepted (0 = unlimited); checked before any buffer for it is allocated. */
  maxRecvBytes: number;
  handshakeTimeoutUs: number;
  allocator?: Allocator;
  /** Builds the frame decoder (default: wire/frames.ts FrameDecoder). */
  frameDecoder?: FrameDecoderFactory;
  /** Protocol name for trace annotations (e.g. "pair0"). */
  protocolName: string;
}

/** A pipe's session id in the trace: pipe ids are unique within a world, so these are within a trace. */
export function pipeSession(id: number): string {
  return `pipe/${id}`;
}

/** The trace's session-open of a pipe its socket (speaking `proto`, e.g. 'req0') has just attached. */
export function pipeOpened(pipe: Pipe, proto: string): TraceInput {
  return {
    kind: 'session-open',
    ...(pipe.connId === undefined ? {} : { conn: pipe.connId }),
    session: pipeSession(pipe.id),
    type: 'sp-pipe',
    proto,
    peer: pipe.remoteAddress,
    local: pipe.localAddress,
  };
}

/** The trace's session-close of a pipe its socket has just detached. */
export function pipeClosed(pipe: Pipe): TraceInput {
  const reason = pipe.closeReason;
  return {
    kind: 'session-close',
    ...(pipe.connId === undefined ? {} : { conn: pipe.connId }),
    session: pipeSession(pipe.id),
    ...(reason === undefined ? {} : { reason }),
  };
}

function mapNetError(e: NetError | undefined): SpError | undefined {
  if (e === undefined) return undefined;
  const code: SpErrorCode =
    e.code === 'ETIMEDOUT' ? 'ErrTimedOut' : e.code === 'ECONNREFUSED' ? 'ErrConnRefused' : 'ErrConnReset';
  return spError(code, `transport: ${e.message}`, e);
}

export class StreamPipe implements Pipe {
  stateValue: PipeState = 'handshaking';
  peerProtocol = -1;
  readonly localAddress: string;
  readonly remoteAddress: string;
  readonly transport: 'tcp' | 'ipc';
  private readonly hsBuf = new Uint8Array(HANDSHAKE_BYTES);
  private hsHave = 0;
  private readonly decoder: FrameDecoderLike;
  /** Chunks accepted from send() but not yet taken by the transport (short writes). */
  private readonly out: Uint8Array[] = [];
  private outHead = 0;
  private paused = false;
  /** Messages decoded while paused (all from chunks already received; bounded by their size). */
  private readonly held: Message[] = [];
  /**
   * A stream error found after frames that are still held: the pipe aborts once the application
   * has taken them (the connection is paused meanwhile, so nothing more is read).
   */
  private abortWhenDrained: SpError | undefined;
  private handshakeTimer: TimerHandle | undefined;
  private closing = false;
  /** True inside send(): readiness is then reported by send()'s return and `ready`, not by onReady. */
  private sending = false;
  /** The runtime offers zero-copy writes (the real one does; the simulator copies in write()). */
  private readonly zeroCopy: boolean;
  closeReason: string | undefined;

  constructor(
    private readonly env: Env,
    private readonly conn: StreamConn,
    readonly id: number,
    private readonly options: StreamPipeOptions,
    private readonly events: PipeEvents,
  ) {
    this.transport = options.transport;
    this.localAddress = conn.localAddress;
    this.remoteAddress = conn.remoteAddress;
    this.zeroCopy = typeof conn.writeOwned === 'function';
    // Frame bodies that span reads are assembled in buffers the decoder fills completely before
    // delivering them, so the runtime's unzeroed memory will do (an injected allocator wins).
    const allocator: Allocator | undefined =
      options.allocator ??
      (env.allocUninitialized === undefined
        ? undefined
        : { alloc: (bytes: number) => env.allocUninitialized!(bytes) });
    this.decoder = (options.frameDecoder ?? defaultFrameDecoderFactory)({
      maxRecvBytes: options.maxRecvBytes,
      ipc: options.transport === 'ipc',
      ...(allocator === undefined ? {} : { allocator }),
    });
  }

  get state(): PipeState {
    return this.stateValue;
  }

  get connId(): number {
    return this.conn.id;
  }

  get ready(): boolean {
    // A closing pipe is never ready: close() closes at once when nothing is queued, else waits for
    // the queue, which keeps `ready` false until the flush that closes it.
    return this.stateValue === 'open' && this.outHead === this.out.length;
  }

  /** Sends our header at once (both sides send without waiting, as the SP TCP mapping says) and waits for the peer's. */
  start(): void {
    // Our header goes out first, before any handler is installed: installing handlers may deliver
    // bytes already received at once (the peer's header), completing the handshake and letting the
    // protocol send its first frame; that frame must not overtake our header on the wire.
    // (Found by the scenario engine: a client paused across its connect sent a frame before its header.)
    this.handshakeTimer = this.env.setTimer(
      this.options.handshakeTimeoutUs,
      () =>
        this.abort('ErrTimedOut', `no complete SP handshake within ${this.options.handshakeTimeoutUs} us`),
      'sp-handshake-timeout',
    );
    this.queue(encodeHandshake(this.options.ownProtocol));
    this.conn.setHandlers({
      onData: (b) => this.onData(b),
      onWritable: () => this.flush(),
      onEnd: () => this.fail(undefined, 'peer closed its side'),
      onClose: (e) => this.fail(mapNetError(e), 'connection closed'),
    });
  }

  send(msg: Message): boolean {
    if (!this.ready) return false;
    const bytes = msg.header.length + msg.body.length;
    const ipc = this.transport === 'ipc';
    this.sending = true;
    if (bytes <= 4096) {
      // One buffer for small frames: one write call beats avoiding a small copy.
      const header = encodeFrameHeader(bytes, ipc);
      const frame = new Uint8Array(header.length + bytes);
      frame.set(header, 0);
      frame.set(msg.header, header.length);
      frame.set(msg.body, header.length + msg.header.length);
      this.queue(frame);
    } else {
      // Large frames: header and payload go out as they are, without copying the body.
      this.queue(encodeFrameHeader(bytes, ipc));
      if (msg.header.length > 0) this.queue(msg.header);
      this.queue(msg.body);
    }
    this.sending = false;
    if (this.env.tracing)
      this.env.trace({
        kind: 'msg-send',
        conn: this.conn.id,
        proto: this.options.protocolName,
        msg: 'frame',
        bytes,
        fields: [{ name: 'length', offset: 0, length: ipc ? 9 : 8, value: bytes }],
        session: pipeSession(this.id),
      });
    return true;
  }

  pauseRecv(): void {
    if (this.paused) return;
    this.paused = true;
    this.conn.pauseReading();
  }

  resumeRecv(): void {
    if (!this.paused) return;
    this.paused = false;
    while (!this.paused && this.held.length > 0 && this.stateValue === 'open')
      this.events.onMessage(this, this.held.shift()!);
    const pending = this.abortWhenDrained;
    // (On a pipe closed meanwhile, abort does nothing.)
    if (pending !== undefined && this.held.length === 0) {
      this.abortWhenDrained = undefined;
      this.abort(pending.code, pending.message);
      return;
    }
    if (!this.paused && this.stateValue === 'open') this.conn.resumeReading();
  }

  close(): void {
    if (this.stateValue === 'closed' || this.closing) return;
    this.closing = true;
    if (this.outHead === this.out.length) this.finishClose();
  }

  abort(code: SpErrorCode, reason: string): void {
    if (this.stateValue === 'closed') return;
    this.conn.reset();
    this.fail(spError(code, reason), reason);
  }

  private finishClose(): void {
    if (this.stateValue === 'closed') return;
    this.conn.close();
    this.fail(undefined, undefined);
  }

  private queue(bytes: Uint8Array): void {
    this.out.push(bytes);
    if (this.out.length - this.outHead === 1) this.flush();
  }

  /** Writes queued chunks until the transport takes no more; onWritable brings us back. */
  private flush(): void {
    while (this.outHead < this.out.length) {
      const head = this.out[this.outHead]!;
      let n: number;
      try {
        // Every queued chunk is owned: frame headers and small frames are built here, and a
        // message's header and body belong to the socket once sent (Socket.send), never changed
        // afterwards. So the runtime may keep them instead of copying (StreamConn.writeOwned).
        n = this.zeroCopy ? this.conn.writeOwned!(head) : this.conn.write(head);
      } catch {
        // Closed or reset (ENOTCONN, both runtimes) or shut (EPIPE): the connection is going
        // away, and onClose reports it.
        return;
      }
      if (n < head.length) {
        this.out[this.outHead] = head.subarray(n);
        return;
      }
      this.outHead++;
    }
    this.out.length = 0;
    this.outHead = 0;
    if (this.closing) {
      this.finishClose();
      return;
    }
    if (this.stateValue === 'open' && !this.sending) this.events.onReady(this);
  }

  private onData(chunk: Uint8Array): void {
    if (this.stateValue === 'closed') return;
    let rest = chunk;
    if (this.stateValue === 'handshaking') {
      const take = Math.min(HANDSHAKE_BYTES - this.hsHave, rest.length);
      this.hsBuf.set(rest.subarray(0, take), this.hsHave);
      this.hsHave += take;
      rest = rest.subarray(take);
      if (this.hsHave < HANDSHAKE_BYTES) return;
      try {
        this.peerProtocol = decodeHandshake(this.hsBuf, this.options.peerProtocol);
      } catch (e) {
        const err = e instanceof SpError ? e : spError('ErrBadHeader', String(e));
        this.clearHandshakeTimer();
        // Close (not reset): the peer has our header; it learns the outcome from the close.
        this.conn.close();
        this.stateValue = 'closed';
        this.events.onHandshake(this, err);
        return;
      }
      this.clearHandshakeTimer();
      this.stateValue = 'open';
      this.events.onHandshake(this, undefined);
      if (this.stateValue !== 'open') return; // the socket rejected the pipe
      if (this.outHead === this.out.length) this.events.onReady(this);
      if (rest.length === 0) return;
    }
    try {
      this.decoder.feed(rest, (payload) => this.deliver(payload));
    } catch (e) {
      const err = e instanceof SpError ? e : spError('ErrGarbled', String(e));
      // Frames before the bad one arrived intact; if the application's queue was full they wait in
      // `held` (the pipe is paused). Deliver them first, as mangos and nng do by reading one frame
      // at a time, instead of losing them with the pipe. (Found by `netlab fuzz sp-stream`.)
      if (this.held.length > 0 && this.stateValue === 'open') {
        this.abortWhenDrained = err;
        return;
      }
      this.abort(err.code, err.message);
    }
  }

  private deliver(payload: Uint8Array): void {
    if (this.stateValue !== 'open') return;
    if (this.env.tracing)
      this.env.trace({
        kind: 'msg-recv',
        conn: this.conn.id,
        proto: this.options.protocolName,
        msg: 'frame',
        bytes: payload.length,
        fields: [
          { name: 'length', offset: 0, length: this.transport === 'ipc' ? 9 : 8, value: payload.length },
        ],
        session: pipeSession(this.id),
      });
    const msg = newMessage(payload);
    msg.pipe = this;
    if (this.paused) this.held.push(msg);
    else this.events.onMessage(this, msg);
  }

  private clearHandshakeTimer(): void {
    if (this.handshakeTimer !== undefined) {
      this.env.clearTimer(this.handshakeTimer);
      this.handshakeTimer = undefined;
    }
  }

  /** `reason` undefined: our own clean close (the session-close then has no reason). */
  private fail(error: SpError | undefined, reason: string | undefined): void {
    if (this.stateValue === 'closed') return;
    const wasHandshaking = this.stateValue === 'handshaking';
    this.stateValue = 'closed';
    // An SpError's message already starts with its code ("ErrGarbled: ...").
    this.closeReason = error !== undefined ? error.message : reason;
    this.clearHandshakeTimer();
    this.conn.close(); // a no-op on a connection already closed (both runtimes)
    if (wasHandshaking) {
      this.events.onHandshake(
        this,
        error ?? spError('ErrClosed', 'connection closed during the SP handshake'),
      );
    } else {
      this.events.onClose(this, error);
    }
  }
}
