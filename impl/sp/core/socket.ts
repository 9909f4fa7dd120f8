/**
 * The protocol-independent SP socket: dialers (with redial and backoff) and listeners (with an
 * asynchronous handshaker, so a slow or silent peer never delays the others), pipes, the bounded
 * send and receive queues with deadlines, best-effort and no-peer rules, the pipe event hook, options
 * and close with linger. A protocol (PAIR0, REQ...) plugs in through ProtocolImpl and decides only
 * which pipes to accept, where sends go and what a received message means.
 *
 * The Socket class keeps options, contexts, the endpoint and pipe tables, the public send/recv
 * and close with linger; its rooms: context.ts (Context), send-queue.ts and recv-queue.ts (the
 * bounded queues with their waiters and deadlines), endpoint.ts (what dialers and listeners share:
 * pipe wiring, stats), dialer.ts (redial and backoff), listener.ts (accept and handshakes).
 * Protocols and embeddings (the runner, the bug museum) call and wrap the Socket's own methods
 * (refillSendQ, deliver, enqueueReceived...), which delegate to the rooms.
 */
import { assert } from '../../runtime/assert.js';
import type { Env, StreamConn, TimerHandle } from '../../runtime/env.js';
import { spError, type SpError } from '../errors.js';
import { CORE_OPTION_NAMES, OptionStore, type OptionName, type OptionValues } from '../options.js';
import { parseSpUrl, type SpUrl } from '../transport/url.js';
import type { Allocator } from '../wire/frames.js';
import type { ProtocolInfo } from '../wire/protocols.js';
import { Context } from './context.js';
import { Dialer, MANGOS_BACKOFF, type BackoffPolicy } from './dialer.js';
import { ENDPOINT_OPTIONS } from './endpoint.js';
import { Listener } from './listener.js';
import { newMessage, type Message } from './message.js';
import { pipeClosed, pipeOpened, type FrameDecoderFactory, type Pipe } from './pipe.js';
import { RecvQueue } from './recv-queue.js';
import { SendQueue } from './send-queue.js';

// The socket's rooms, re-exported so importers keep one entry point.
export { Context, type ContextOptionName } from './context.js';
export { Dialer, MANGOS_BACKOFF, type BackoffPolicy, type DialerState } from './dialer.js';
export type { EndpointStats } from './endpoint.js';
export { Listener, type ListenerState } from './listener.js';

export type PipeEvent = 'attaching' | 'attached' | 'detached';
/** Called for pipe events; returning false from 'attaching' rejects the pipe. */
export type PipeEventHook = (event: PipeEvent, pipe: Pipe) => boolean | void;

/** What a protocol implements; the core calls it and it calls back into the core. */
export interface ProtocolImpl {
  readonly info: ProtocolInfo;
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

export class Socket {
  readonly env: Env;
  readonly options: OptionStore;
  protocol!: ProtocolImpl;
  /** The send path: sendQ and the senders waiting for room in it (send-queue.ts). */
  private readonly sendQueue: SendQueue;
  /** Messages accepted by send() and not yet handed to a pipe (bounded by WRITEQ-LEN). */
  readonly sendQ: Message[];
  /** The receive path: recvQ, waiting receivers, pipes paused by a full recvQ (recv-queue.ts). */
  private readonly recvQueue: RecvQueue;
  /**
   * Received messages not yet taken by recv(). The pipe whose message fills it to READQ-LEN pauses;
   * every other pipe may still add the one message it was delivering, so the bound is READQ-LEN plus
   * (pipes - 1), as with mangos, whose per-pipe readers each hold one message.
   */
  readonly recvQ: Message[];
  readonly pipes = new Map<number, Pipe>();
  private readonly dialers = new Set<Dialer>();
  private readonly listeners = new Set<Listener>();
  private hook: PipeEventHook | undefined;
  private closedValue = false;
  readonly allocator: Allocator | undefined;
  readonly frameDecoder: FrameDecoderFactory | undefined;
  readonly backoff: BackoffPolicy;
  readonly wrapConnection: ((conn: StreamConn) => StreamConn) | undefined;
  private readonly dialerFactory: (socket: Socket, url: SpUrl, overrides: OptionStore) => Dialer;

  /** `extraOptions`: the protocol's own options, accepted beyond the core ones (CORE_OPTION_NAMES). */
  constructor(env: Env, extraOptions: readonly OptionName[], socketOptions: SocketOptions = {}) {
    this.env = env;
    this.options = new OptionStore(socketOptions.options ?? {}, [...CORE_OPTION_NAMES, ...extraOptions]);
    this.allocator = socketOptions.allocator;
    this.frameDecoder = socketOptions.frameDecoder;
    this.backoff = socketOptions.backoff ?? MANGOS_BACKOFF;
    this.wrapConnection = socketOptions.wrapConnection;
    this.dialerFactory = socketOptions.dialerFactory ?? ((socket, url, o) => new Dialer(socket, url, o));
    this.sendQueue = new SendQueue(this);
    this.sendQ = this.sendQueue.items;
    this.recvQueue = new RecvQueue(this);
    this.recvQ = this.recvQueue.items;
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
    assert(!this.pipes.has(pipe.id), 'a pipe is attached at most once');
    if (this.hook?.('attaching', pipe) === false) return false;
    const refusal = this.protocol.attach(pipe);
    if (refusal !== undefined) return false;
    this.pipes.set(pipe.id, pipe);
    owner.pipeAttached(pipe);
    this.hook?.('attached', pipe);
    if (this.env.tracing) this.env.trace(pipeOpened(pipe, this.protocol.info.name));
    if (pipe.ready) this.pipeReady(pipe);
    return true;
  }

  /**
   * @internal A pipe can take a message: the protocol sends what is queued, then, with the queue
   * empty, a waiting sender's message may go straight to it (WRITEQ-LEN 0: nothing is queued, so
   * the protocol's pump alone never calls refillSendQ and the sender would wait forever; found by
   * the edge draws of the backpressure family). With messages still queued, refill only tops the
   * queue up to WRITEQ-LEN, which the protocol's own refillSendQ calls already did: no test is needed.
   */
  pipeReady(pipe: Pipe): void {
    this.protocol.pipeReady(pipe);
    this.sendQueue.refill();
  }

  /** @internal */
  detachPipe(pipe: Pipe): void {
    // Detached only if attached (pipes that never were pass through), and never in another's place.
    assert((this.pipes.get(pipe.id) ?? pipe) === pipe, 'a detached pipe is the one attached under its id');
    if (!this.pipes.delete(pipe.id)) return;
    this.recvQueue.forget(pipe);
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
    this.sendQueue.send(msg, done);
    return done.promise;
  }

  /**
   * @internal The protocol took messages from sendQ: refill it from waiting senders. With
   * WRITEQ-LEN 0 a waiter's message goes straight to the protocol when a pipe can take it.
   */
  refillSendQ(): void {
    this.sendQueue.refill();
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
    this.recvQueue.recv(done, deadlineUs);
    return done.promise;
  }

  /** @internal the protocol delivers a message to the application (or the receive queue). */
  deliver(pipe: Pipe, msg: Message): void {
    this.recvQueue.deliver(pipe, msg);
  }

  /** @internal queue a received message (pausing its pipe when the queue is full), bypassing waiters. */
  enqueueReceived(pipe: Pipe, msg: Message): void {
    this.recvQueue.enqueue(pipe, msg);
  }

  /** @internal take the oldest received message, resuming paused pipes when there is room again. */
  takeReceived(): Message | undefined {
    return this.recvQueue.take();
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
    this.recvQueue.failWaiters();
    this.sendQueue.failWaiters();
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
