/**
 * PUSH0 / PULL0 (protocols 80 / 81, the pipeline pattern) and their raw variants XPUSH0 / XPULL0.
 * No header. PUSH hands each message to the next ready pipe, round-robin; messages wait in the
 * socket's send queue (WRITEQ-LEN, default 128, as mangos), which fills even with no peer at all:
 * then send blocks (SEND-DEADLINE gives ErrSendTimeout), BEST-EFFORT drops only when the queue is
 * full, and FAIL-NO-PEERS makes a send with no pipe ErrNoPeers. PULL never drops: a full receive
 * queue (READQ-LEN, default 128) stops reading the pipe, so the transport's window carries the
 * backpressure to the pusher. PUSH recv and PULL send are ErrProtoOp. Raw sockets behave the same
 * (there is no header to hand to the application); they exist so devices can forward pipelines.
 */
import type { Env } from '../../runtime/env.js';
import type { Message } from '../core/message.js';
import type { Pipe } from '../core/pipe.js';
import { Socket, type Context, type ProtocolImpl, type SocketOptions } from '../core/socket.js';
import { spError } from '../errors.js';
import { protocolByName, type ProtocolInfo } from '../wire/protocols.js';

export interface Push0Stats {
  /** Messages handed to a pipe. */
  sent: number;
  /**
   * Frames a PULL peer sent us: the pattern has no upstream data, so they are discarded and
   * counted, the pipe kept (mangos and nng both read and discard).
   */
  discardedFromPeer: number;
}

export interface Pull0Stats {
  /** Messages delivered to the receive queue (or straight to a waiting recv). */
  received: number;
  /**
   * Messages dropped on arrival. Always 0 for netlab's PULL, which pauses the pipe instead; the
   * counter exists so a variant that drops (the bug museum's pull-drops) shows what it lost.
   */
  dropped: number;
}

/** The socket class behind PUSH: FAIL-NO-PEERS is checked before the core's queue takes the message. */
class PushSocket extends Socket {
  override sendMsg(msg: Message): Promise<void> {
    if (!this.closed && this.pipes.size === 0 && this.getOption('FAIL-NO-PEERS'))
      return this.failed(spError('ErrNoPeers', 'no peers to push to (FAIL-NO-PEERS)'));
    return super.sendMsg(msg);
  }
}

export class Push0 implements ProtocolImpl {
  readonly info: ProtocolInfo;
  readonly stats: Push0Stats = { sent: 0, discardedFromPeer: 0 };
  /** Attached pipes in attach order; `next` is where the round-robin scan starts. */
  protected readonly pipes: Pipe[] = [];
  protected next = 0;

  constructor(protected readonly socket: Socket) {
    this.info = protocolByName('push0')!;
  }

  attach(pipe: Pipe): undefined {
    this.pipes.push(pipe);
    return undefined;
  }

  detach(pipe: Pipe): void {
    const i = this.pipes.indexOf(pipe);
    if (i < 0) return;
    this.pipes.splice(i, 1);
    if (i < this.next) this.next--;
    if (this.next >= this.pipes.length) this.next = 0;
  }

  pipeReady(): void {
    this.pumpSend();
  }

  pipeMessage(): void {
    this.stats.discardedFromPeer++;
  }

  /**
   * Moves queued messages onto ready pipes: each message goes to the first ready pipe at or after
   * `next`, which then moves past it, so equally fast pullers get turns in order and none gets two
   * messages while another ready one waits.
   */
  pumpSend(): void {
    const q = this.socket.sendQ;
    // With WRITEQ-LEN 0 (nng's sendbuf) messages wait with their senders, not in the queue: a
    // ready pipe lets the first one in (refillSendQ hands it back here).
    if (q.length === 0 && this.pipes.some((p) => p.ready)) this.socket.refillSendQ();
    while (q.length > 0) {
      const n = this.pipes.length;
      let sent = false;
      for (let k = 0; k < n; k++) {
        const i = (this.next + k) % n;
        const pipe = this.pipes[i]!;
        if (pipe.ready && pipe.send(q[0]!)) {
          this.next = (i + 1) % n;
          sent = true;
          break;
        }
      }
      if (!sent) return;
      q.shift();
      this.stats.sent++;
      this.socket.refillSendQ();
    }
  }

  recvMsg(_ctx: Context): Promise<Message> {
    return this.socket.failed(spError('ErrProtoOp', `${this.info.name} sockets cannot receive`));
  }
}

export class Pull0 implements ProtocolImpl {
  readonly info: ProtocolInfo;
  readonly stats: Pull0Stats = { received: 0, dropped: 0 };

  constructor(protected readonly socket: Socket) {
    this.info = protocolByName('pull0')!;
  }

  attach(): undefined {
    return undefined;
  }

  detach(): void {}

  pipeReady(): void {}

  /** Every message is delivered; a full receive queue pauses this pipe (Socket.deliver). */
  pipeMessage(pipe: Pipe, msg: Message): void {
    this.stats.received++;
    msg.pipe = pipe; // the pipe's own fresh message: tagging it costs no copy
    this.socket.deliver(pipe, msg);
  }

  pumpSend(): void {}

  sendMsg(_ctx: Context, _msg: Message): Promise<void> {
    return this.socket.failed(spError('ErrProtoOp', `${this.info.name} sockets cannot send`));
  }
}

/** Opens a PUSH0 socket (WRITEQ-LEN default 128; FAIL-NO-PEERS default false). */
export function openPush0(
  env: Env,
  options: SocketOptions = {},
  protocol: (socket: Socket) => Push0 = (socket) => new Push0(socket),
): Socket {
  const socket = new PushSocket(env, ['FAIL-NO-PEERS'], options);
  socket.protocol = protocol(socket);
  return socket;
}

/** Opens a PULL0 socket (READQ-LEN default 128). */
export function openPull0(
  env: Env,
  options: SocketOptions = {},
  protocol: (socket: Socket) => Pull0 = (socket) => new Pull0(socket),
): Socket {
  const socket = new Socket(env, [], options);
  socket.protocol = protocol(socket);
  return socket;
}

/** Opens a raw PUSH socket (XPUSH0): the same behaviour, RAW set, so a device can use it. */
export function openXPush0(env: Env, options: SocketOptions = {}): Socket {
  return openPush0(env, { ...options, options: { ...options.options, RAW: true } });
}

/** Opens a raw PULL socket (XPULL0): the same behaviour, RAW set, so a device can use it. */
export function openXPull0(env: Env, options: SocketOptions = {}): Socket {
  return openPull0(env, { ...options, options: { ...options.options, RAW: true } });
}

/** The PUSH0 statistics of a socket opened with openPush0 / openXPush0 (undefined for others). */
export function push0Stats(socket: Socket): Push0Stats | undefined {
  return socket.protocol instanceof Push0 ? socket.protocol.stats : undefined;
}

/** The PULL0 statistics of a socket opened with openPull0 / openXPull0 (undefined for others). */
export function pull0Stats(socket: Socket): Pull0Stats | undefined {
  return socket.protocol instanceof Pull0 ? socket.protocol.stats : undefined;
}
