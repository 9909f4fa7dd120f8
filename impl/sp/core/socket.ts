/**
 * The protocol-independent SP socket: dialers (with redial and backoff) and listeners (with an
 * asynchronous handshaker, so a slow or silent peer never delays the others), pipes, the bounded
 * send and receive queues with deadlines, best-effort and no-peer rules, the pipe event hook, options
 * and close with linger. A protocol (PAIR0, REQ...) plugs in through ProtocolImpl and decides only
 * which pipes to accept, where sends go and what a received message means.
 */
import type { Deferred, Env, RandomSource, StreamConn, TimerHandle } from '../../runtime/env.js';
import { SpError, spError } from '../errors.js';
import { CORE_OPTION_NAMES, OptionStore, type OptionName, type OptionValues } from '../options.js';
import { inprocDial, inprocListen, type InprocPipe } from '../transport/inproc.js';
import { parseSpUrl, runtimeAddress, spAddress, type SpUrl } from '../transport/url.js';
import type { Allocator } from '../wire/frames.js';
import type { ProtocolInfo } from '../wire/protocols.js';
import { newMessage, type Message } from './message.js';
import { pipeIds } from './pipe-ids.js';
import {
  pipeClosed,
  pipeOpened,
  StreamPipe,
  type FrameDecoderFactory,
  type Pipe,
  type PipeEvents,
} from './pipe.js';

export type PipeEvent = 'attaching' | 'attached' | 'detached';
/** Called for pipe events; returning false from 'attaching' rejects the pipe. */
export type PipeEventHook = (event: PipeEvent, pipe: Pipe) => boolean | void;

/** What a protocol implements; the core calls it and it calls back into the core. */
export interface ProtocolImpl {
  readonly info: ProtocolInfo;
  /** Options this protocol accepts beyond the core ones. */
  readonly extraOptions: readonly OptionName[];
  /** A new pipe finished its handshake: accept it (undefined) or reject it with an error. */
  attach(pipe: Pipe): SpError | undefined;
  detach(pipe: Pipe): void;
  /** A pipe can take another message. */
  pipeReady(pipe: Pipe): void;
  pipeMessage(pipe: Pipe, msg: Message): void;
  /** The core queued a message for sending: move what can go onto ready pipes. */
  pumpSend(): void;
  /**
   * Protocols with request state (REQ, REP...) take over send and receive for a context; the
   * socket's own send/recv use the default context. Absent: the core's queues are used.
   */
  sendMsg?(ctx: Context, msg: Message): Promise<void>;
  recvMsg?(ctx: Context): Promise<Message>;
  /** Called when a context closes, so its pending operations fail with ErrClosed. */
  closeContext?(ctx: Context): void;
  /** Whether openContext() is supported (REQ, REP, SUB, SURVEYOR, RESPONDENT). */
  readonly contexts?: boolean;
}

/** Options a context may set for itself (mangos and nng allow these per context). */
export type ContextOptionName = 'RECV-DEADLINE' | 'SEND-DEADLINE' | 'RETRY-TIME' | 'SURVEY-TIME';

/**
 * A context: independent request state on one socket (mangos OpenContext, nng_ctx). The socket's
 * own send/recv use its default context.
 */
export class Context {
  closed = false;
  /** Per-context protocol state (the protocol owns its shape). */
  state: unknown = undefined;
  private readonly ownOptions = new Map<string, unknown>();

  constructor(readonly socket: Socket) {}

  send(body: Uint8Array): Promise<void> {
    return this.sendMsg(newMessage(body));
  }

  sendMsg(msg: Message): Promise<void> {
    if (this.closed || this.socket.closed)
      return this.socket.failed(spError('ErrClosed', 'send on a closed context'));
    return this.socket.protocol.sendMsg!(this, msg);
  }

  recv(): Promise<Uint8Array> {
    return this.recvMsg().then((m) => m.body);
  }

  recvMsg(): Promise<Message> {
    if (this.closed || this.socket.closed)
      return this.socket.failed(spError('ErrClosed', 'recv on a closed context'));
    return this.socket.protocol.recvMsg!(this);
  }

  /** Context-level deadlines, RETRY-TIME and SURVEY-TIME override the socket's. */
  setOption(name: ContextOptionName, value: unknown): void {
    if (this.closed) throw spError('ErrClosed', 'setOption on a closed context');
    const checked = new OptionStore({}, [name]);
    checked.set(name, value);
    this.ownOptions.set(name, checked.get(name));
  }

  option<N extends ContextOptionName>(name: N): OptionValues[N] {
    return (
      this.ownOptions.has(name) ? this.ownOptions.get(name) : this.socket.getOption(name)
    ) as OptionValues[N];
  }

  close(): void {
    if (this.closed) throw spError('ErrClosed', 'context already closed');
    this.closed = true;
    this.socket.protocol.closeContext?.(this);
  }
}

/** Options a dialer or listener may override for its own pipes. */
const ENDPOINT_OPTIONS: readonly OptionName[] = [
  'MAX-RCV-SIZE',
  'RECONNECT-TIME',
  'MAX-RECONNECT-TIME',
  'HANDSHAKE-TIMEOUT',
  'DIAL-ASYNCH',
];

export interface SocketOptions {
  /** Initial option values (validated like setOption). */
  options?: Partial<OptionValues>;
  /** Injected buffer allocator for received frames (tests assert no allocation exceeds the limit). */
  allocator?: Allocator;
  /** Frame decoder factory (the bug museum swaps in historical decoders); default the wire decoder. */
  frameDecoder?: FrameDecoderFactory;
  /** Backoff policy for redials (the bug museum swaps it); default mangos-style growth. */
  backoff?: BackoffPolicy;
  /**
   * Interposes on a pipe's byte stream (tcp, ipc), e.g. to trace or shape it: called once per new
   * connection before its handshake; the pipe then reads and writes only through the returned
   * connection. Default none (the transport's connection as it is).
   */
  wrapConnection?: (conn: StreamConn) => StreamConn;
  /**
   * Builds each dialer of the socket (default: `new Dialer(socket, url, overrides)`), so an
   * embedding can subclass Dialer, e.g. to instrument its attempts or change its redial behaviour
   * (the bug museum plants a dialer whose close leaves its redial armed). The socket tracks and
   * closes what it returns like its own.
   */
  dialerFactory?: (socket: Socket, url: SpUrl, overrides: OptionStore) => Dialer;
}

/** Redial timing: the wait before the next attempt, given the current interval. */
export interface BackoffPolicy {
  /** Returns the next interval after `currentUs` (called after each failed attempt). */
  grow(currentUs: number, minUs: number, maxUs: number, rng: RandomSource): number;
  /**
   * When the interval starts over at RECONNECT-TIME. 'attach' (the default, mangos): once the
   * protocol accepted a pipe. 'connect' (nng 1.5.2): on every transport connect, before the
   * handshake and the protocol's peer check, so a wrong-protocol peer is redialed at the minimum
   * interval forever.
   */
  readonly resetOn?: 'attach' | 'connect';
}

/** mangos: grow by a random factor in [1.1, 1.5) up to the maximum; a maximum of 0 means no growth. */
export const MANGOS_BACKOFF: BackoffPolicy = {
  grow(currentUs, minUs, maxUs, rng) {
    if (maxUs <= 0) return minUs;
    return Math.min(maxUs, Math.round(currentUs * rng.uniform(1.1, 1.5)));
  },
};

export interface EndpointStats {
  /** Connections accepted or established at the transport level. */
  connections: number;
  /** Pipes that completed the handshake and were attached. */
  attached: number;
  /** Connections closed because their handshake was bad, silent or too slow. */
  badHandshakes: number;
  /** Pipes refused after the handshake (by the protocol or the pipe hook). */
  rejected: number;
  /** Pipes closed because a frame was too long or garbled. */
  badFrames: number;
}

function newStats(): EndpointStats {
  return { connections: 0, attached: 0, badHandshakes: 0, rejected: 0, badFrames: 0 };
}

interface SendWaiter {
  msg: Message;
  done: Deferred<void>;
  timer: TimerHandle | undefined;
}

interface RecvWaiter {
  done: Deferred<Message>;
  timer: TimerHandle | undefined;
}

export class Socket {
  readonly env: Env;
  readonly options: OptionStore;
  protocol!: ProtocolImpl;
  /** Messages accepted by send() and not yet handed to a pipe (bounded by WRITEQ-LEN). */
  readonly sendQ: Message[] = [];
  /** Senders waiting for room in sendQ. */
  private readonly sendWaiters: SendWaiter[] = [];
  /**
   * Received messages not yet taken by recv(). The pipe whose message fills it to READQ-LEN pauses;
   * every other pipe may still add the one message it was delivering, so the bound is READQ-LEN plus
   * (pipes - 1), as with mangos, whose per-pipe readers each hold one message.
   */
  readonly recvQ: Message[] = [];
  private readonly recvWaiters: RecvWaiter[] = [];
  readonly pipes = new Map<number, Pipe>();
  /** Pipes paused because recvQ was full. */
  private readonly pausedPipes = new Set<Pipe>();
  private readonly dialers = new Set<Dialer>();
  private readonly listeners = new Set<Listener>();
  private hook: PipeEventHook | undefined;
  private closedValue = false;
  readonly allocator: Allocator | undefined;
  readonly frameDecoder: FrameDecoderFactory | undefined;
  readonly backoff: BackoffPolicy;
  readonly wrapConnection: ((conn: StreamConn) => StreamConn) | undefined;
  private readonly dialerFactory: (socket: Socket, url: SpUrl, overrides: OptionStore) => Dialer;

  constructor(env: Env, extraOptions: readonly OptionName[], socketOptions: SocketOptions = {}) {
    this.env = env;
    this.options = new OptionStore(socketOptions.options ?? {}, [...CORE_OPTION_NAMES, ...extraOptions]);
    this.allocator = socketOptions.allocator;
    this.frameDecoder = socketOptions.frameDecoder;
    this.backoff = socketOptions.backoff ?? MANGOS_BACKOFF;
    this.wrapConnection = socketOptions.wrapConnection;
    this.dialerFactory = socketOptions.dialerFactory ?? ((socket, url, o) => new Dialer(socket, url, o));
  }

  get closed(): boolean {
    return this.closedValue;
  }

  getOption<N extends OptionName>(name: N): OptionValues[N] {
    return this.options.get(name);
  }

  setOption(name: string, value: unknown): void {
    this.assertOpen('setOption');
    this.options.set(name, value);
    this.protocol.pumpSend();
  }

  /** Contexts (independent request state) come with REQ/REP and friends; PAIR0 has none. */
  openContext(): Context {
    this.assertOpen('openContext');
    if (this.protocol.contexts !== true)
      throw spError('ErrProtoOp', `${this.protocol.info.name} sockets have no contexts`);
    const ctx = new Context(this);
    this.contexts.add(ctx);
    return ctx;
  }

  /** The default context, used by the socket's own send/recv on protocols with contexts. */
  get defaultContext(): Context {
    this.defaultCtx ??= new Context(this);
    return this.defaultCtx;
  }

  private defaultCtx: Context | undefined;
  /** Open contexts (closed with the socket). */
  readonly contexts = new Set<Context>();

  /** @internal a promise already rejected with `error`, settled through the runtime. */
  failed<T>(error: SpError): Promise<T> {
    const d = this.env.defer<T>();
    d.reject(error);
    return d.promise;
  }

  setPipeEventHook(hook: PipeEventHook | undefined): void {
    this.hook = hook;
  }

  // ------------------------------------------------------------------ endpoints

  /** Dials and, unless DIAL-ASYNCH, resolves once a pipe is attached (or rejects without retrying). */
  dial(url: string, options: Partial<OptionValues> = {}): Promise<void> {
    try {
      return this.newDialer(url, options).dial();
    } catch (e) {
      // Settled through the runtime, like every promise of the stack (determinism in the simulator).
      const failed = this.env.defer<void>();
      failed.reject(e);
      return failed.promise;
    }
  }

  /** Listens; resolves once bound. */
  listen(url: string, options: Partial<OptionValues> = {}): Promise<void> {
    try {
      return this.newListener(url, options).listen();
    } catch (e) {
      // Settled through the runtime, like every promise of the stack (determinism in the simulator).
      const failed = this.env.defer<void>();
      failed.reject(e);
      return failed.promise;
    }
  }

  newDialer(url: string, options: Partial<OptionValues> = {}): Dialer {
    this.assertOpen('newDialer');
    const d = this.dialerFactory(this, parseSpUrl(url, false), new OptionStore(options, ENDPOINT_OPTIONS));
    this.dialers.add(d);
    return d;
  }

  newListener(url: string, options: Partial<OptionValues> = {}): Listener {
    this.assertOpen('newListener');
    const l = new Listener(this, parseSpUrl(url, true), new OptionStore(options, ENDPOINT_OPTIONS));
    this.listeners.add(l);
    return l;
  }

  /** @internal */
  forget(endpoint: Dialer | Listener): void {
    if (endpoint instanceof Dialer) this.dialers.delete(endpoint);
    else this.listeners.delete(endpoint);
  }

  // ------------------------------------------------------------------ pipes

  /** @internal a pipe finished its handshake: ask the hook and the protocol. */
  attachPipe(pipe: Pipe, owner: Dialer | Listener): boolean {
    if (this.closedValue) return false;
    if (this.hook?.('attaching', pipe) === false) return false;
    const refusal = this.protocol.attach(pipe);
    if (refusal !== undefined) return false;
    this.pipes.set(pipe.id, pipe);
    owner.pipeAttached(pipe);
    this.hook?.('attached', pipe);
    if (this.env.tracing) this.env.trace(pipeOpened(pipe, this.protocol.info.name));
    if (pipe.ready) this.protocol.pipeReady(pipe);
    return true;
  }

  /** @internal */
  detachPipe(pipe: Pipe): void {
    if (!this.pipes.delete(pipe.id)) return;
    this.pausedPipes.delete(pipe);
    this.protocol.detach(pipe);
    this.hook?.('detached', pipe);
    if (this.env.tracing) this.env.trace(pipeClosed(pipe));
    this.lingerCheck?.();
  }

  // ------------------------------------------------------------------ send

  /**
   * Sends one message. The socket takes `body` over (as nng's sendmsg takes the message): it is
   * queued and written without a copy, possibly after the returned promise settles, so the caller
   * must not change it afterwards (the same holds for sendMsg's header and body).
   */
  send(body: Uint8Array): Promise<void> {
    return this.sendMsg(newMessage(body));
  }

  sendMsg(msg: Message): Promise<void> {
    if (this.protocol.sendMsg !== undefined) {
      if (this.closedValue) return this.failed(spError('ErrClosed', 'send on a closed socket'));
      return this.protocol.sendMsg(this.defaultContext, msg);
    }
    const done = this.env.defer<void>();
    if (this.closedValue) {
      done.reject(spError('ErrClosed', 'send on a closed socket'));
      return done.promise;
    }
    const cap = this.options.get('WRITEQ-LEN');
    if (this.sendWaiters.length === 0 && this.sendQ.length < cap) {
      this.sendQ.push(msg);
      this.protocol.pumpSend();
      done.resolve();
      return done.promise;
    }
    // No room: hand the message straight to a ready pipe if the queue is empty (WRITEQ-LEN 0).
    if (this.sendQ.length === 0 && this.sendWaiters.length === 0) {
      this.sendQ.push(msg);
      this.protocol.pumpSend();
      if (this.sendQ.length === 0) {
        done.resolve();
        return done.promise;
      }
      this.sendQ.pop();
    }
    if (this.options.get('BEST-EFFORT')) {
      // Best effort drops only when the queue is full, never by chance (unlike mangos' select race).
      this.env.trace({
        kind: 'note',
        text: `sp ${this.protocol.info.name}: best-effort send dropped (queue full)`,
      });
      done.resolve();
      return done.promise;
    }
    const waiter: SendWaiter = { msg, done, timer: undefined };
    const deadline = this.options.get('SEND-DEADLINE');
    if (deadline !== null) {
      waiter.timer = this.env.setTimer(
        deadline,
        () => {
          const i = this.sendWaiters.indexOf(waiter);
          if (i >= 0) this.sendWaiters.splice(i, 1);
          done.reject(spError('ErrSendTimeout', `send did not complete within ${deadline} us`));
        },
        'sp-send-deadline',
      );
    }
    this.sendWaiters.push(waiter);
    return done.promise;
  }

  /**
   * @internal The protocol took messages from sendQ: refill it from waiting senders. With
   * WRITEQ-LEN 0 a waiter's message goes straight to the protocol when a pipe can take it.
   */
  refillSendQ(): void {
    const cap = this.options.get('WRITEQ-LEN');
    while (this.sendWaiters.length > 0 && this.sendQ.length < Math.max(cap, 1)) {
      if (cap === 0 && this.sendQ.length > 0) break;
      const w = this.sendWaiters.shift()!;
      this.sendQ.push(w.msg);
      if (cap === 0) {
        // Resolve only once a pipe actually took it.
        const before = this.sendQ.length;
        this.protocol.pumpSend();
        if (this.sendQ.length >= before) {
          this.sendQ.pop();
          // Back in line, deadline still running: the timer is cleared only once the message is taken.
          this.sendWaiters.unshift(w);
          break;
        }
      }
      if (w.timer !== undefined) this.env.clearTimer(w.timer);
      w.done.resolve();
    }
    this.lingerCheck?.();
  }

  // ------------------------------------------------------------------ receive

  recv(): Promise<Uint8Array> {
    return this.recvMsg().then((m) => m.body);
  }

  recvMsg(): Promise<Message> {
    if (this.protocol.recvMsg !== undefined) {
      if (this.closedValue) return this.failed(spError('ErrClosed', 'recv on a closed socket'));
      return this.protocol.recvMsg(this.defaultContext);
    }
    return this.recvQueued();
  }

  /** @internal the core's receive queue with RECV-DEADLINE (protocols build on it). */
  recvQueued(deadlineUs: number | null = this.options.get('RECV-DEADLINE')): Promise<Message> {
    const done = this.env.defer<Message>();
    if (this.closedValue) {
      done.reject(spError('ErrClosed', 'recv on a closed socket'));
      return done.promise;
    }
    const msg = this.recvQ.shift();
    if (msg !== undefined) {
      done.resolve(msg);
      this.resumePipes();
      return done.promise;
    }
    const waiter: RecvWaiter = { done, timer: undefined };
    const deadline = deadlineUs;
    if (deadline !== null) {
      waiter.timer = this.env.setTimer(
        deadline,
        () => {
          const i = this.recvWaiters.indexOf(waiter);
          if (i >= 0) this.recvWaiters.splice(i, 1);
          done.reject(spError('ErrRecvTimeout', `nothing received within ${deadline} us`));
        },
        'sp-recv-deadline',
      );
    }
    this.recvWaiters.push(waiter);
    return done.promise;
  }

  /** @internal the protocol delivers a message to the application (or the receive queue). */
  deliver(pipe: Pipe | undefined, msg: Message): void {
    const w = this.recvWaiters.shift();
    if (w !== undefined) {
      if (w.timer !== undefined) this.env.clearTimer(w.timer);
      w.done.resolve(msg);
      return;
    }
    this.recvQ.push(msg);
    if (pipe !== undefined && this.recvQ.length >= this.options.get('READQ-LEN')) {
      // Full: stop reading this pipe; TCP's window carries the backpressure to the sender.
      pipe.pauseRecv();
      this.pausedPipes.add(pipe);
    }
  }

  /** @internal queue a received message (pausing its pipe when the queue is full), bypassing waiters. */
  enqueueReceived(pipe: Pipe | undefined, msg: Message): void {
    this.recvQ.push(msg);
    if (pipe !== undefined && this.recvQ.length >= this.options.get('READQ-LEN')) {
      pipe.pauseRecv();
      this.pausedPipes.add(pipe);
    }
  }

  /** @internal take the oldest received message, resuming paused pipes when there is room again. */
  takeReceived(): Message | undefined {
    const msg = this.recvQ.shift();
    if (msg !== undefined) this.resumePipes();
    return msg;
  }

  private resumePipes(): void {
    if (this.pausedPipes.size === 0 || this.recvQ.length >= this.options.get('READQ-LEN')) return;
    const paused = [...this.pausedPipes];
    this.pausedPipes.clear();
    for (const p of paused) p.resumeRecv();
  }

  // ------------------------------------------------------------------ close

  private lingerCheck: (() => void) | undefined;

  /**
   * Closes the socket: pending and later operations fail with ErrClosed; messages already queued
   * get up to LINGER to reach the transport; then every pipe, dialer and listener closes.
   */
  close(): Promise<void> {
    const done = this.env.defer<void>();
    if (this.closedValue) {
      done.reject(spError('ErrClosed', 'socket already closed'));
      return done.promise;
    }
    this.closedValue = true;
    for (const ctx of [...this.contexts, ...(this.defaultCtx ? [this.defaultCtx] : [])]) {
      if (!ctx.closed) ctx.close();
    }
    for (const w of this.recvWaiters.splice(0)) {
      if (w.timer !== undefined) this.env.clearTimer(w.timer);
      w.done.reject(spError('ErrClosed', 'socket closed while receiving'));
    }
    for (const w of this.sendWaiters.splice(0)) {
      if (w.timer !== undefined) this.env.clearTimer(w.timer);
      w.done.reject(spError('ErrClosed', 'socket closed while sending'));
    }
    // Endpoints stop making new pipes now; existing pipes stay until linger is over.
    for (const d of [...this.dialers]) d.close(true);
    for (const l of [...this.listeners]) l.close(true);
    const linger: { timer?: TimerHandle } = {};
    const finish = (): void => {
      this.lingerCheck = undefined;
      if (linger.timer !== undefined) this.env.clearTimer(linger.timer);
      for (const p of [...this.pipes.values()]) p.close();
      this.sendQ.length = 0;
      this.recvQ.length = 0;
      done.resolve();
    };
    const drained = (): boolean =>
      this.sendQ.length === 0 && [...this.pipes.values()].every((p) => p.ready || p.state === 'closed');
    if (drained() || this.pipes.size === 0) {
      finish();
      return done.promise;
    }
    this.lingerCheck = () => {
      if (drained() || this.pipes.size === 0) finish();
    };
    linger.timer = this.env.setTimer(this.options.get('LINGER'), finish, 'sp-linger');
    return done.promise;
  }

  /** @internal called by protocols when a pipe became ready, so linger can finish. */
  pipeDrained(): void {
    this.lingerCheck?.();
  }

  assertOpen(what: string): void {
    if (this.closedValue) throw spError('ErrClosed', `${what} on a closed socket`);
  }
}

/** Builds the pipe for a new stream connection and wires its events to the socket. */
function startStreamPipe(
  socket: Socket,
  owner: Dialer | Listener,
  conn: StreamConn,
  transport: 'tcp' | 'ipc',
): StreamPipe {
  const ids = pipeIds(socket.env);
  const id = ids.allocate();
  const events: PipeEvents = {
    onHandshake: (pipe, error) => {
      if (error !== undefined) {
        ids.release(pipe.id);
        owner.handshakeFailed(pipe, error);
        return;
      }
      if (!socket.attachPipe(pipe, owner)) {
        owner.stats.rejected++;
        pipe.close();
        owner.pipeRejected(pipe);
      }
    },
    onMessage: (pipe, msg) => socket.protocol.pipeMessage(pipe, msg),
    onReady: (pipe) => {
      socket.protocol.pipeReady(pipe);
      socket.pipeDrained();
    },
    onClose: (pipe, error) => {
      ids.release(pipe.id);
      if (
        error !== undefined &&
        (error.code === 'ErrTooLong' || error.code === 'ErrBadHeader' || error.code === 'ErrGarbled')
      ) {
        owner.stats.badFrames++;
      }
      const wasAttached = socket.pipes.has(pipe.id);
      socket.detachPipe(pipe);
      if (wasAttached) owner.pipeClosed(pipe);
    },
  };
  const pipe = new StreamPipe(
    socket.env,
    socket.wrapConnection?.(conn) ?? conn,
    id,
    {
      transport,
      ownProtocol: socket.protocol.info.id,
      peerProtocol: socket.protocol.info.peerId,
      maxRecvBytes: owner.option('MAX-RCV-SIZE'),
      handshakeTimeoutUs: owner.option('HANDSHAKE-TIMEOUT'),
      protocolName: socket.protocol.info.name,
      ...(socket.allocator === undefined ? {} : { allocator: socket.allocator }),
      ...(socket.frameDecoder === undefined ? {} : { frameDecoder: socket.frameDecoder }),
    },
    events,
  );
  pipe.start();
  return pipe;
}

function inprocEvents(socket: Socket, owner: Dialer | Listener, release: (id: number) => void): PipeEvents {
  return {
    onHandshake: () => undefined,
    onMessage: (pipe, msg) => socket.protocol.pipeMessage(pipe, msg),
    onReady: (pipe) => {
      socket.protocol.pipeReady(pipe);
      socket.pipeDrained();
    },
    onClose: (pipe) => {
      release(pipe.id);
      const wasAttached = socket.pipes.has(pipe.id);
      socket.detachPipe(pipe);
      if (wasAttached) owner.pipeClosed(pipe);
    },
  };
}

export type DialerState = 'idle' | 'connecting' | 'connected' | 'waiting' | 'failed' | 'closed';

/**
 * Dials one address and keeps a pipe to it: after a lost pipe or a failed asynchronous attempt it
 * redials with backoff (RECONNECT-TIME, grown by the backoff policy up to MAX-RECONNECT-TIME, reset
 * by default only once the protocol accepted a pipe: nng 1.5.2 resets on TCP connect and so storms
 * a wrong-protocol peer; BackoffPolicy.resetOn picks). Never two attempts in flight. A synchronous dial() that fails returns the
 * error and is not retried (mangos); dialing twice is ErrAddrInUse.
 */
export class Dialer {
  stateValue: DialerState = 'idle';
  readonly stats: EndpointStats = newStats();
  private started = false;
  private firstAttempt: Deferred<void> | undefined;
  private intervalUs = 0;
  private timer: TimerHandle | undefined;
  private pipe: Pipe | undefined;
  private readonly rng: RandomSource;

  constructor(
    private readonly socket: Socket,
    readonly url: SpUrl,
    private readonly overrides: OptionStore,
  ) {
    this.rng = socket.env.random(`sp/redial/${url.text}`);
  }

  get state(): DialerState {
    return this.stateValue;
  }

  /** An option as this dialer sees it: its own override, else the socket's. */
  option<N extends OptionName>(name: N): OptionValues[N] {
    return this.overrides.has(name) ? this.overrides.get(name) : this.socket.getOption(name);
  }

  setOption(name: string, value: unknown): void {
    this.overrides.set(name, value);
  }

  dial(): Promise<void> {
    const done = this.socket.env.defer<void>();
    if (this.stateValue === 'closed' || this.socket.closed) {
      done.reject(spError('ErrClosed', 'dial on a closed dialer'));
      return done.promise;
    }
    if (this.started) {
      done.reject(spError('ErrAddrInUse', `dialer for ${this.url.text} was already started`));
      return done.promise;
    }
    this.started = true;
    this.intervalUs = this.option('RECONNECT-TIME');
    if (this.option('DIAL-ASYNCH')) {
      done.resolve();
    } else {
      this.firstAttempt = done;
    }
    this.attempt();
    return done.promise;
  }

  /** Stops dialing and closes the dialer's pipe (kept open when the socket closes it, for linger). */
  close(keepPipe = false): void {
    if (this.stateValue === 'closed') return;
    this.stateValue = 'closed';
    if (this.timer !== undefined) this.socket.env.clearTimer(this.timer);
    this.firstAttempt?.reject(spError('ErrClosed', 'dialer closed'));
    this.firstAttempt = undefined;
    if (!keepPipe) this.pipe?.close();
    this.socket.forget(this);
  }

  private attempt(): void {
    // The dialer's own state is the one guard: Socket.close closes every dialer it tracks.
    if (this.stateValue === 'closed') return;
    this.stateValue = 'connecting';
    this.timer = undefined;
    if (this.url.transport === 'inproc') {
      this.attemptInproc();
      return;
    }
    const transport = this.url.transport;
    this.socket.env.connect(runtimeAddress(this.url), (err, conn) => {
      if (this.stateValue === 'closed') {
        conn?.reset();
        return;
      }
      if (err !== undefined || conn === undefined) {
        const code =
          err?.code === 'ECONNREFUSED'
            ? 'ErrConnRefused'
            : err?.code === 'ETIMEDOUT'
              ? 'ErrTimedOut'
              : err?.code === 'EINVAL'
                ? 'ErrBadAddr'
                : 'ErrConnReset';
        this.failed(spError(code, `dial ${this.url.text}: ${err?.message ?? 'no connection'}`, err));
        return;
      }
      this.stats.connections++;
      if (this.socket.backoff.resetOn === 'connect') this.intervalUs = this.option('RECONNECT-TIME');
      startStreamPipe(this.socket, this, conn, transport);
    });
  }

  private attemptInproc(): void {
    const socket = this.socket;
    const ids = pipeIds(socket.env);
    const url = this.url as Extract<SpUrl, { transport: 'inproc' }>;
    // Deferred to an event of its own, like every transport's connect callback.
    socket.env.setTimer(
      0,
      () => {
        if (this.stateValue === 'closed') return;
        let pipe: InprocPipe;
        try {
          pipe = inprocDial(
            socket.env,
            url.name,
            { protocolId: socket.protocol.info.id, peerProtocolId: socket.protocol.info.peerId },
            (make) =>
              make(
                ids.allocate(),
                inprocEvents(socket, this, (id) => ids.release(id)),
              ),
          );
        } catch (e) {
          this.failed(e instanceof SpError ? e : spError('ErrConnRefused', String(e)));
          return;
        }
        this.stats.connections++;
        if (socket.backoff.resetOn === 'connect') this.intervalUs = this.option('RECONNECT-TIME');
        if (!socket.attachPipe(pipe, this)) {
          this.stats.rejected++;
          pipe.close();
          this.pipeRejected(pipe);
        }
      },
      'sp-inproc-dial',
    );
  }

  /** @internal */
  handshakeFailed(_pipe: Pipe, error: SpError): void {
    this.stats.badHandshakes++;
    this.failed(error);
  }

  /** @internal */
  pipeRejected(_pipe: Pipe): void {
    this.failed(spError('ErrProtoState', `the socket refused the pipe to ${this.url.text}`));
  }

  /** @internal */
  pipeAttached(pipe: Pipe): void {
    this.stats.attached++;
    this.pipe = pipe;
    this.stateValue = 'connected';
    // The protocol accepted the pipe: the backoff starts over (with resetOn 'attach', only now).
    this.intervalUs = this.option('RECONNECT-TIME');
    const first = this.firstAttempt;
    this.firstAttempt = undefined;
    first?.resolve();
  }

  /** @internal the attached pipe went away: redial after the current interval. */
  pipeClosed(_pipe: Pipe): void {
    this.pipe = undefined;
    if (this.stateValue === 'closed') return;
    this.scheduleRedial();
  }

  private failed(error: SpError): void {
    if (this.stateValue === 'closed') return;
    const first = this.firstAttempt;
    if (first !== undefined) {
      // A synchronous dial reports its failure and does not retry (mangos).
      this.firstAttempt = undefined;
      this.stateValue = 'failed';
      first.reject(error);
      return;
    }
    this.socket.env.trace({
      kind: 'note',
      text: `sp dialer ${this.url.text}: ${error.message}; redial in ${this.intervalUs} us`,
    });
    this.scheduleRedial();
    this.intervalUs = this.socket.backoff.grow(
      this.intervalUs,
      this.option('RECONNECT-TIME'),
      this.option('MAX-RECONNECT-TIME'),
      this.rng,
    );
  }

  private scheduleRedial(): void {
    if (this.timer !== undefined || this.stateValue === 'closed') return;
    this.stateValue = 'waiting';
    this.timer = this.socket.env.setTimer(this.intervalUs, () => this.attempt(), 'sp-redial');
  }
}

export type ListenerState = 'idle' | 'listening' | 'closed';

/** Accepts connections on one address; each handshakes on its own, bounded by HANDSHAKE-TIMEOUT. */
export class Listener {
  stateValue: ListenerState = 'idle';
  readonly stats: EndpointStats = newStats();
  private boundAddress: string;
  private closeTransport: (() => void) | undefined;
  /** Pipes still handshaking or attached through this listener. */
  private readonly pipes = new Set<Pipe>();

  constructor(
    private readonly socket: Socket,
    readonly url: SpUrl,
    private readonly overrides: OptionStore,
  ) {
    this.boundAddress = url.text;
  }

  /** The bound address (with the real port after listening on port 0). */
  get address(): string {
    return this.boundAddress;
  }

  get state(): ListenerState {
    return this.stateValue;
  }

  option<N extends OptionName>(name: N): OptionValues[N] {
    return this.overrides.has(name) ? this.overrides.get(name) : this.socket.getOption(name);
  }

  setOption(name: string, value: unknown): void {
    this.overrides.set(name, value);
  }

  listen(): Promise<void> {
    const done = this.socket.env.defer<void>();
    if (this.stateValue === 'closed' || this.socket.closed) {
      done.reject(spError('ErrClosed', 'listen on a closed listener'));
      return done.promise;
    }
    if (this.stateValue === 'listening') {
      done.reject(spError('ErrAddrInUse', `listener for ${this.url.text} is already listening`));
      return done.promise;
    }
    const url = this.url;
    if (url.transport === 'inproc') {
      try {
        this.closeTransport = inprocListen(this.socket.env, url.name, {
          env: this.socket.env,
          protocolId: this.socket.protocol.info.id,
          peerProtocolId: this.socket.protocol.info.peerId,
          accept: (make) => this.acceptInproc(make),
        });
      } catch (e) {
        done.reject(e);
        return done.promise;
      }
      this.stateValue = 'listening';
      done.resolve();
      return done.promise;
    }
    const transport = url.transport;
    this.socket.env.listen(
      runtimeAddress(url),
      (conn) => {
        if (this.stateValue !== 'listening') {
          conn.reset();
          return;
        }
        this.stats.connections++;
        const pipe = startStreamPipe(this.socket, this, conn, transport);
        if (pipe.state !== 'closed') this.pipes.add(pipe);
      },
      (err, listener) => {
        if (err !== undefined || listener === undefined) {
          const code = err?.code === 'EADDRINUSE' ? 'ErrAddrInUse' : 'ErrBadAddr';
          done.reject(spError(code, `listen ${url.text}: ${err?.message ?? 'failed'}`, err));
          return;
        }
        if (this.stateValue === 'closed') {
          listener.close();
          done.reject(spError('ErrClosed', 'listener closed while binding'));
          return;
        }
        this.stateValue = 'listening';
        this.boundAddress = spAddress(transport, listener.address);
        this.closeTransport = () => listener.close();
        done.resolve();
      },
    );
    return done.promise;
  }

  /** Stops accepting and closes the listener's pipes (kept open when the socket closes it, for linger). */
  close(keepPipes = false): void {
    if (this.stateValue === 'closed') return;
    this.stateValue = 'closed';
    this.closeTransport?.();
    for (const p of [...this.pipes]) if (!keepPipes || p.state === 'handshaking') p.close();
    this.socket.forget(this);
  }

  private acceptInproc(make: (id: number, events: PipeEvents) => InprocPipe): void {
    const ids = pipeIds(this.socket.env);
    const pipe = make(
      ids.allocate(),
      inprocEvents(this.socket, this, (id) => ids.release(id)),
    );
    this.stats.connections++;
    // Attach after the dialer's side is wired: an event of its own.
    this.socket.env.setTimer(
      0,
      () => {
        if (!this.socket.attachPipe(pipe, this)) {
          this.stats.rejected++;
          pipe.close();
        }
      },
      'sp-inproc-accept',
    );
  }

  /** @internal */
  handshakeFailed(pipe: Pipe, _error: SpError): void {
    this.stats.badHandshakes++;
    this.pipes.delete(pipe);
  }

  /** @internal */
  pipeRejected(pipe: Pipe): void {
    this.pipes.delete(pipe);
  }

  /** @internal */
  pipeAttached(pipe: Pipe): void {
    this.stats.attached++;
    this.pipes.add(pipe);
  }

  /** @internal */
  pipeClosed(pipe: Pipe): void {
    this.pipes.delete(pipe);
  }
}
