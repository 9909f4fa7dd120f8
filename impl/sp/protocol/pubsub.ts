/**
 * PUB0 (protocol 32) and SUB0 (protocol 33), cooked and raw (XPUB0, XSUB0). No header on the wire.
 *
 * PUB never blocks: each message goes to every attached pipe, through a per-pipe queue of WRITEQ-LEN
 * messages (default 128, as mangos; nng 16); a pipe whose queue is full loses a message (the oldest
 * queued one with PREFER-NEW, the default, as nng; the new one with PREFER-NEW false, as mangos), and
 * only that pipe does. A send with no subscribers succeeds and the message vanishes. PUB recv is
 * ErrProtoOp; anything a subscriber sends is dropped and counted.
 *
 * SUB filters locally by byte prefix (subscriptions are never sent to the publisher): with no
 * subscription nothing is delivered, the empty topic delivers everything; subscribing twice is
 * idempotent; unsubscribing a topic that is not subscribed is ErrBadValue (mangos; nng answers
 * NNG_ENOENT); unsubscribing purges queued messages that no longer match. The receive queue
 * (READQ-LEN, default 128) never pushes back on the pipe (nng#459): when it is full a message is
 * dropped (the oldest with PREFER-NEW, the default, as nng's SUB_PREFNEW and mangos; the new one with
 * PREFER-NEW false). SUB send is ErrProtoOp. Contexts (nng sub contexts): each has its own
 * subscriptions (subscribeContext / unsubscribeContext) and its own receive queue, and gets every
 * matching message; the socket's SUBSCRIBE/UNSUBSCRIBE options act on its default context.
 *
 * XSUB delivers every message (no filtering, no contexts) through the same bounded dropping queue;
 * XPUB behaves as PUB (its application's header bytes, if any, go out as they are).
 */
import { bytesEqual, hasPrefix } from '../../runtime/bytes.js';
import type { Deferred, Env, TimerHandle } from '../../runtime/env.js';
import type { Message } from '../core/message.js';
import type { Pipe } from '../core/pipe.js';
import { Context, Socket, type ProtocolImpl, type SocketOptions } from '../core/socket.js';
import { spError } from '../errors.js';
import { protocolByName, type ProtocolInfo } from '../wire/protocols.js';

// ---------------------------------------------------------------------------------------- PUB

export interface Pub0Stats {
  /** Messages the application sent (each fans out to every pipe). */
  sent: number;
  /** Messages sent while no subscriber was attached (they vanish; the send succeeds). */
  sentWithoutSubscribers: number;
  /** Messages one pipe lost because its queue was full (summed over pipes). */
  droppedFull: number;
  /** The same, per pipe id (entries stay after the pipe goes, so a run can be audited afterwards). */
  droppedFullByPipe: Map<number, number>;
  /** Messages a subscriber sent us (a SUB never should): dropped. */
  droppedFromPeer: number;
  /** The most messages ever queued for one pipe (WRITEQ-LEN bounds it). */
  maxQueued: number;
}

/** The PUB0 protocol (XPUB0 with raw); exported so a variant can override its hooks (the bug museum does). */
export class Pub0 implements ProtocolImpl {
  readonly info: ProtocolInfo;
  readonly stats: Pub0Stats = {
    sent: 0,
    sentWithoutSubscribers: 0,
    droppedFull: 0,
    droppedFullByPipe: new Map(),
    droppedFromPeer: 0,
    maxQueued: 0,
  };
  /** Attached pipes (in attach order) with the messages queued for each. */
  protected readonly out = new Map<Pipe, Message[]>();

  constructor(protected readonly socket: Socket) {
    this.info = protocolByName('pub0')!;
  }

  protected env(): Env {
    return this.socket.env;
  }

  attach(pipe: Pipe): undefined {
    this.out.set(pipe, []);
    return undefined;
  }

  detach(pipe: Pipe): void {
    // What was queued for a vanished subscriber is simply gone, as on any lossy fan-out.
    this.out.delete(pipe);
  }

  pipeReady(pipe: Pipe): void {
    this.flush(pipe);
    this.socket.pipeDrained();
  }

  pumpSend(): void {
    for (const pipe of this.out.keys()) this.flush(pipe);
  }

  protected flush(pipe: Pipe): void {
    const q = this.out.get(pipe);
    if (q === undefined) return;
    while (pipe.ready && q.length > 0) {
      if (!pipe.send(q[0]!)) break;
      q.shift();
    }
  }

  pipeMessage(_pipe: Pipe, _msg: Message): void {
    // Subscribers never send (subscriptions stay local); whatever arrives is dropped, not delivered.
    this.stats.droppedFromPeer++;
  }

  sendMsg(_ctx: Context, msg: Message): Promise<void> {
    this.stats.sent++;
    if (this.out.size === 0) this.stats.sentWithoutSubscribers++;
    for (const [pipe, q] of this.out) this.offer(pipe, q, msg);
    return this.resolved();
  }

  /** Hands one message to one pipe: at once when it is idle, else through its queue, dropping when full. */
  protected offer(pipe: Pipe, q: Message[], msg: Message): void {
    if (q.length === 0 && pipe.ready && pipe.send(msg)) return;
    const cap = this.socket.getOption('WRITEQ-LEN');
    if (q.length < cap) {
      q.push(msg);
      if (q.length > this.stats.maxQueued) this.stats.maxQueued = q.length;
      return;
    }
    this.queueFull(pipe, q, msg);
  }

  /** A pipe's queue is full: PUB never blocks, so one message for this pipe is lost. */
  protected queueFull(pipe: Pipe, q: Message[], msg: Message): void {
    this.stats.droppedFull++;
    this.stats.droppedFullByPipe.set(pipe.id, (this.stats.droppedFullByPipe.get(pipe.id) ?? 0) + 1);
    const preferNew = this.socket.getOption('PREFER-NEW');
    if (preferNew && q.length > 0) {
      q.shift();
      q.push(msg);
    }
    if (this.env().tracing)
      this.env().trace({
        kind: 'note',
        text: `sp ${this.info.name}: pipe ${pipe.id} queue full, dropped the ${preferNew && q.length > 0 ? 'oldest' : 'new'} message`,
      });
  }

  recvMsg(_ctx: Context): Promise<Message> {
    const done = this.env().defer<Message>();
    done.reject(spError('ErrProtoOp', `${this.info.name} sockets cannot receive`));
    return done.promise;
  }

  private resolved(): Promise<void> {
    const done = this.env().defer<void>();
    done.resolve();
    return done.promise;
  }
}

// ---------------------------------------------------------------------------------------- SUB

export interface Sub0Stats {
  /** Messages received from publishers (before filtering). */
  received: number;
  /** Messages no context (or, on XSUB, nobody) subscribed to: dropped. */
  filtered: number;
  /** Messages lost because a context's receive queue was full (counted once per context). */
  droppedFull: number;
  /** Queued messages purged because an unsubscribe left them unmatched. */
  purged: number;
  /** The most messages ever queued in one context (READQ-LEN bounds it). */
  maxQueued: number;
}

interface SubState {
  /** Topic prefixes, each once (subscribing twice is idempotent). */
  topics: Uint8Array[];
  queue: Message[];
  waiters: { done: Deferred<Message>; timer: TimerHandle | undefined }[];
}

/** Whether `body` starts with `prefix` (the empty prefix matches everything): SUB's topic filter. */
export { hasPrefix };

/** The SUB0 protocol (XSUB0 with raw); exported so a variant can override its hooks (the bug museum does). */
export class Sub0 implements ProtocolImpl {
  readonly info: ProtocolInfo;
  readonly contexts: boolean;
  readonly stats: Sub0Stats = { received: 0, filtered: 0, droppedFull: 0, purged: 0, maxQueued: 0 };
  /** Open contexts that receive (the default context first, once it exists). */
  private readonly live = new Set<Context>();

  constructor(
    protected readonly socket: Socket,
    readonly raw = false,
  ) {
    this.info = protocolByName('sub0')!;
    this.contexts = !raw;
    // The default context exists from the start, so messages arriving before the first recv queue up.
    this.state(socket.defaultContext);
    if (!raw) {
      socket.options.onChange((name) => {
        if (name === 'SUBSCRIBE') this.subscribe(socket.defaultContext, socket.getOption('SUBSCRIBE'));
        if (name === 'UNSUBSCRIBE') this.unsubscribe(socket.defaultContext, socket.getOption('UNSUBSCRIBE'));
      });
    }
  }

  protected env(): Env {
    return this.socket.env;
  }

  protected state(ctx: Context): SubState {
    if (ctx.state === undefined) {
      ctx.state = { topics: [], queue: [], waiters: [] } satisfies SubState;
      if (!ctx.closed) this.live.add(ctx);
    }
    return ctx.state as SubState;
  }

  attach(_pipe: Pipe): undefined {
    return undefined;
  }

  detach(_pipe: Pipe): void {
    // Messages already queued stay deliverable: they were received.
  }

  pipeReady(_pipe: Pipe): void {
    // SUB never sends.
  }

  pumpSend(): void {
    // SUB never sends.
  }

  /** Adds a topic prefix to a context's subscriptions (idempotent). */
  subscribe(ctx: Context, topic: Uint8Array): void {
    const st = this.state(ctx);
    if (st.topics.some((t) => bytesEqual(t, topic))) return;
    st.topics.push(topic.slice());
  }

  /**
   * Removes a topic prefix; ErrBadValue when it was not subscribed. Queued messages that no longer
   * match any remaining subscription are purged (mangos SubUnsubscribeDrops).
   */
  unsubscribe(ctx: Context, topic: Uint8Array): void {
    const st = this.state(ctx);
    const i = st.topics.findIndex((t) => bytesEqual(t, topic));
    if (i < 0) throw spError('ErrBadValue', `not subscribed to a topic of ${topic.length} bytes`);
    st.topics.splice(i, 1);
    this.purge(st);
  }

  /** Drops queued messages no remaining subscription matches. */
  protected purge(st: SubState): void {
    const kept = st.queue.filter((m) => this.matches(st, m.body));
    this.stats.purged += st.queue.length - kept.length;
    st.queue = kept;
  }

  protected matches(st: SubState, body: Uint8Array): boolean {
    if (this.raw) return true;
    return st.topics.some((t) => hasPrefix(body, t));
  }

  /** The topics a context is subscribed to, in subscription order (copies). */
  topics(ctx: Context): Uint8Array[] {
    return this.state(ctx).topics.map((t) => t.slice());
  }

  /** How many messages wait in a context's receive queue. */
  queued(ctx: Context): number {
    return this.state(ctx).queue.length;
  }

  pipeMessage(pipe: Pipe, msg: Message): void {
    this.stats.received++;
    const delivered: Message = { header: msg.header, body: msg.body, pipe };
    let taken = false;
    for (const ctx of this.live) {
      const st = this.state(ctx);
      if (!this.matches(st, msg.body)) continue;
      taken = true;
      this.offer(st, delivered);
    }
    if (!taken) this.stats.filtered++;
  }

  /** Gives a message to a waiting recv, else queues it, dropping one when the queue is full. */
  protected offer(st: SubState, msg: Message): void {
    const w = st.waiters.shift();
    if (w !== undefined) {
      if (w.timer !== undefined) this.env().clearTimer(w.timer);
      w.done.resolve(msg);
      return;
    }
    const cap = this.socket.getOption('READQ-LEN');
    if (st.queue.length < cap) {
      st.queue.push(msg);
      if (st.queue.length > this.stats.maxQueued) this.stats.maxQueued = st.queue.length;
      return;
    }
    // Full: never push back on the pipe (a slow subscriber must not stall the publisher, nng#459).
    this.stats.droppedFull++;
    const preferNew = this.socket.getOption('PREFER-NEW');
    if (preferNew && st.queue.length > 0) {
      st.queue.shift();
      st.queue.push(msg);
    }
    if (this.env().tracing)
      this.env().trace({
        kind: 'note',
        text: `sp ${this.raw ? 'xsub0' : 'sub0'}: receive queue full, dropped the ${preferNew && cap > 0 ? 'oldest' : 'new'} message`,
      });
  }

  sendMsg(_ctx: Context, _msg: Message): Promise<void> {
    const done = this.env().defer<void>();
    done.reject(spError('ErrProtoOp', `${this.raw ? 'xsub0' : 'sub0'} sockets cannot send`));
    return done.promise;
  }

  recvMsg(ctx: Context): Promise<Message> {
    const done = this.env().defer<Message>();
    const st = this.state(ctx);
    const msg = st.queue.shift();
    if (msg !== undefined) {
      done.resolve(msg);
      return done.promise;
    }
    const waiter = { done, timer: undefined as TimerHandle | undefined };
    const deadline = ctx.option('RECV-DEADLINE');
    if (deadline !== null) {
      waiter.timer = this.env().setTimer(
        deadline,
        () => {
          const i = st.waiters.indexOf(waiter);
          if (i >= 0) st.waiters.splice(i, 1);
          done.reject(spError('ErrRecvTimeout', `nothing received within ${deadline} us`));
        },
        'sp-recv-deadline',
      );
    }
    st.waiters.push(waiter);
    return done.promise;
  }

  closeContext(ctx: Context): void {
    this.live.delete(ctx);
    const st = ctx.state as SubState | undefined;
    if (st === undefined) return;
    st.queue.length = 0;
    for (const w of st.waiters.splice(0)) {
      if (w.timer !== undefined) this.env().clearTimer(w.timer);
      w.done.reject(spError('ErrClosed', 'context closed'));
    }
  }
}

// ---------------------------------------------------------------------------------------- open

/**
 * Opens a PUB0 socket; `protocol` builds its protocol (default Pub0: a variant passes a subclass).
 */
export function openPub0(
  env: Env,
  options: SocketOptions = {},
  protocol: (socket: Socket) => Pub0 = (socket) => new Pub0(socket),
): Socket {
  const socket = new Socket(env, ['PREFER-NEW'], options);
  socket.protocol = protocol(socket);
  return socket;
}

/** Opens a raw PUB socket (XPUB0): PUB with the application's header bytes passed through. */
export function openXPub0(env: Env, options: SocketOptions = {}): Socket {
  const socket = new Socket(env, ['PREFER-NEW'], { ...options, options: { ...options.options, RAW: true } });
  socket.protocol = new Pub0(socket);
  return socket;
}

/**
 * Opens a SUB0 socket (subscribed to nothing: set SUBSCRIBE); `protocol` builds its protocol
 * (default Sub0: a variant passes a subclass).
 */
export function openSub0(
  env: Env,
  options: SocketOptions = {},
  protocol: (socket: Socket) => Sub0 = (socket) => new Sub0(socket),
): Socket {
  // SUBSCRIBE/UNSUBSCRIBE are actions: they are applied after the protocol is in place.
  const { SUBSCRIBE: subscribeTopic, UNSUBSCRIBE: _ignored, ...rest } = options.options ?? {};
  const socket = new Socket(env, ['SUBSCRIBE', 'UNSUBSCRIBE', 'PREFER-NEW'], { ...options, options: rest });
  socket.protocol = protocol(socket);
  if (subscribeTopic !== undefined) socket.setOption('SUBSCRIBE', subscribeTopic);
  return socket;
}

/** Opens a raw SUB socket (XSUB0): every message is delivered, unfiltered; no contexts. */
export function openXSub0(env: Env, options: SocketOptions = {}): Socket {
  const socket = new Socket(env, ['PREFER-NEW'], { ...options, options: { ...options.options, RAW: true } });
  socket.protocol = new Sub0(socket, true);
  return socket;
}

function sub0Of(ctx: Context): Sub0 {
  const p = ctx.socket.protocol;
  if (!(p instanceof Sub0) || p.raw) throw spError('ErrBadType', 'not a cooked SUB socket or context');
  return p;
}

/**
 * Subscribes a SUB context (or socket: its default context) to a topic prefix (a string is taken
 * as its UTF-8 bytes). Idempotent. The per-context form of the SUBSCRIBE option (nng sub contexts).
 */
export function subscribe(target: Socket | Context, topic: Uint8Array | string): void {
  const ctx = target instanceof Context ? target : target.defaultContext;
  if (ctx.closed || ctx.socket.closed) throw spError('ErrClosed', 'subscribe on a closed context');
  sub0Of(ctx).subscribe(ctx, checkedTopic(topic));
}

/** Unsubscribes a SUB context (or socket); ErrBadValue when the topic was not subscribed. */
export function unsubscribe(target: Socket | Context, topic: Uint8Array | string): void {
  const ctx = target instanceof Context ? target : target.defaultContext;
  if (ctx.closed || ctx.socket.closed) throw spError('ErrClosed', 'unsubscribe on a closed context');
  sub0Of(ctx).unsubscribe(ctx, checkedTopic(topic));
}

function checkedTopic(topic: unknown): Uint8Array {
  if (typeof topic === 'string') return new TextEncoder().encode(topic);
  if (topic instanceof Uint8Array) return topic.slice();
  throw spError('ErrBadValue', 'a topic must be a Uint8Array or a string');
}

/** The PUB0/XPUB0 statistics of a socket (undefined for other sockets). */
export function pub0Stats(socket: Socket): Pub0Stats | undefined {
  return socket.protocol instanceof Pub0 ? socket.protocol.stats : undefined;
}

/** The SUB0/XSUB0 statistics of a socket (undefined for other sockets). */
export function sub0Stats(socket: Socket): Sub0Stats | undefined {
  return socket.protocol instanceof Sub0 ? socket.protocol.stats : undefined;
}
