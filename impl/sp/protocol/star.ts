/**
 * STAR (protocol 1600, mangos only) and raw STAR (XSTAR): a BUS whose members also forward. Every
 * message carries a 4-byte big-endian hop count (the top three bytes must be 0). A cooked send puts
 * hop 0 on the wire and goes to every pipe; every receiver, cooked or raw, drops a message whose
 * header is short or malformed, or whose hop count has reached TTL (default 8, mangos), and
 * otherwise increments the hop count, forwards the message to every pipe but the one it came on,
 * and delivers it to its application. Per-pipe queues of WRITEQ-LEN messages (default 128) drop a
 * full pipe's copy only, so sends and forwarding never block; receiving queues up to READQ-LEN,
 * then the pipe stops reading.
 *
 * Raw: the application sees the header (with the incremented hop count) and must send a header of
 * exactly 4 bytes with the top three 0, else the message is discarded silently (and counted), as
 * mangos' xstar does for a header that is not 4 bytes. A raw send goes to every pipe.
 */
import type { Env } from '../../runtime/env.js';
import type { Message } from '../core/message.js';
import type { Pipe } from '../core/pipe.js';
import { Socket, type Context, type ProtocolImpl, type SocketOptions } from '../core/socket.js';
import { protocolByName, type ProtocolInfo } from '../wire/protocols.js';
import { PipeQueues, type FanoutStats } from './bus.js';

const EMPTY = new Uint8Array(0);

export interface StarStats extends FanoutStats {
  /** Received messages dropped: shorter than 4 bytes or a hop count with a non-zero top byte. */
  droppedGarbage: number;
  /** Received messages dropped because their hop count had reached TTL. */
  droppedTtl: number;
  /** Raw sends discarded for a header that is not a 4-byte hop count. */
  discardedSends: number;
  /** Received messages forwarded to the other pipes (counted once per message). */
  forwarded: number;
}

/** Whether a 4-byte header is a hop count (top three bytes 0); exported for the fuzzer. */
export function isHopCount(h: Uint8Array): boolean {
  return h.length === 4 && h[0] === 0 && h[1] === 0 && h[2] === 0;
}

export class Star implements ProtocolImpl {
  readonly info: ProtocolInfo;
  readonly stats: StarStats = {
    droppedSends: 0,
    maxQueued: 0,
    droppedGarbage: 0,
    droppedTtl: 0,
    discardedSends: 0,
    forwarded: 0,
  };
  private readonly out: PipeQueues;

  constructor(
    private readonly socket: Socket,
    readonly raw: boolean,
  ) {
    this.info = protocolByName('star')!;
    this.out = new PipeQueues(socket, this.stats);
  }

  attach(pipe: Pipe): undefined {
    this.out.add(pipe);
    return undefined;
  }

  detach(pipe: Pipe): void {
    this.out.remove(pipe);
  }

  pipeReady(pipe: Pipe): void {
    this.out.flush(pipe);
    this.socket.pipeDrained();
  }

  pumpSend(): void {
    this.out.flushAll();
  }

  pipeMessage(pipe: Pipe, msg: Message): void {
    if (!this.out.has(pipe)) return;
    const body = msg.body;
    if (body.length < 4 || !isHopCount(body.subarray(0, 4))) {
      this.stats.droppedGarbage++;
      this.note(`dropped a message without a hop count from pipe ${pipe.id}`);
      return;
    }
    const hops = body[3]!;
    if (hops >= this.socket.getOption('TTL')) {
      this.stats.droppedTtl++;
      this.note(`dropped a message at hop ${hops} (TTL ${this.socket.getOption('TTL')})`);
      return;
    }
    const header = Uint8Array.of(0, 0, 0, hops + 1);
    const payload = body.subarray(4);
    this.stats.forwarded++;
    const onward: Message = { header, body: payload };
    for (const p of this.out.pipes()) if (p !== pipe) this.out.offer(p, onward);
    this.socket.deliver(pipe, { header: this.raw ? header : EMPTY, body: payload, pipe });
  }

  sendMsg(_ctx: Context, msg: Message): Promise<void> {
    const done = this.socket.env.defer<void>();
    let header = Uint8Array.of(0, 0, 0, 0);
    if (this.raw) {
      if (!isHopCount(msg.header)) {
        this.stats.discardedSends++;
        done.resolve();
        return done.promise;
      }
      header = msg.header.slice();
    }
    const wire: Message = { header, body: msg.body };
    for (const p of this.out.pipes()) this.out.offer(p, wire);
    done.resolve();
    return done.promise;
  }

  private note(text: string): void {
    if (this.socket.env.tracing) this.socket.env.trace({ kind: 'note', text: `sp star: ${text}` });
  }
}

/** Opens a STAR socket (mangos' protocol/star). */
export function openStar(env: Env, options: SocketOptions = {}): Socket {
  const socket = new Socket(env, ['TTL'], options);
  socket.protocol = new Star(socket, false);
  return socket;
}

/** Opens a raw STAR socket (mangos' protocol/xstar). */
export function openXStar(env: Env, options: SocketOptions = {}): Socket {
  const socket = new Socket(env, ['TTL'], { ...options, options: { ...options.options, RAW: true } });
  socket.protocol = new Star(socket, true);
  return socket;
}

/** The STAR statistics of a socket opened with openStar / openXStar (undefined for others). */
export function starStats(socket: Socket): StarStats | undefined {
  return socket.protocol instanceof Star ? socket.protocol.stats : undefined;
}
