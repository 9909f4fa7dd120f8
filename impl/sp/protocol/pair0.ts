/**
 * PAIR0 (protocol 16): one peer at a time, no header. Mono: the first pipe wins and later pipes are
 * refused after their handshake (their dialers keep redialing with backoff). Sends queue up to
 * WRITEQ-LEN and then block (SEND-DEADLINE gives ErrSendTimeout; BEST-EFFORT drops only when the
 * queue is full); receives queue up to READQ-LEN, then the pipe stops reading and TCP pushes back.
 */
import type { Env } from '../../runtime/env.js';
import type { Message } from '../core/message.js';
import type { Pipe } from '../core/pipe.js';
import { Socket, type ProtocolImpl, type SocketOptions } from '../core/socket.js';
import { spError, type SpError } from '../errors.js';
import { protocolByName, type ProtocolInfo } from '../wire/protocols.js';

class Pair0 implements ProtocolImpl {
  readonly info: ProtocolInfo;
  private peer: Pipe | undefined;

  constructor(private readonly socket: Socket) {
    this.info = protocolByName('pair0')!;
  }

  attach(pipe: Pipe): SpError | undefined {
    if (this.peer !== undefined) {
      return spError(
        'ErrProtoState',
        `pair0 already has a peer (pipe ${this.peer.id}); pipe ${pipe.id} refused`,
      );
    }
    this.peer = pipe;
    return undefined;
  }

  detach(pipe: Pipe): void {
    if (this.peer === pipe) this.peer = undefined;
  }

  pipeReady(pipe: Pipe): void {
    if (pipe === this.peer) this.pumpSend();
  }

  pipeMessage(pipe: Pipe, msg: Message): void {
    if (pipe !== this.peer) return; // a refused pipe's late frames are not ours to deliver
    this.socket.deliver(pipe, msg);
  }

  pumpSend(): void {
    const q = this.socket.sendQ;
    const peer = this.peer;
    while (peer !== undefined && peer.ready && q.length > 0) {
      if (!peer.send(q[0]!)) break;
      q.shift();
      this.socket.refillSendQ();
    }
  }
}

/** Opens a PAIR0 socket on a runtime env. */
export function openPair0(env: Env, options: SocketOptions = {}): Socket {
  const socket = new Socket(env, [], options);
  socket.protocol = new Pair0(socket);
  return socket;
}

/**
 * Opens a raw PAIR0 socket (XPAIR0): PAIR0 has no header, so raw differs only in RAW being true
 * (mangos xpair, nng's raw pair0), which lets a device join it.
 */
export function openXPair0(env: Env, options: SocketOptions = {}): Socket {
  const socket = new Socket(env, [], { ...options, options: { ...options.options, RAW: true } });
  socket.protocol = new Pair0(socket);
  return socket;
}
