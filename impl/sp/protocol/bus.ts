/**
 * BUS (protocol 112) and raw BUS (XBUS): every message a socket sends goes to every attached pipe,
 * each through its own queue of WRITEQ-LEN messages (default 128, mangos; nng fixes 16): a full
 * queue drops the message for that pipe only and is counted, so a slow peer never stalls the
 * others and send never blocks. With no peers a send succeeds and the message vanishes.
 *
 * A cooked BUS never relays: what it receives goes to its application only, never to its other
 * peers ([W] nngcat hub: the other dialer got nothing). Receiving queues up to READQ-LEN, then the
 * pipe stops reading and TCP pushes back (mangos' per-pipe receivers block the same way).
 *
 * Raw: a received message carries the 4-byte big-endian id of the pipe it came on as its header;
 * sending a message whose header is exactly 4 bytes skips the pipe of that id (no echo back to the
 * sender, mangos XBusNoLoop, nng `header_trim_u32`) and puts only the body on the wire. Any other
 * header goes on the wire in front of the body, as mangos does. A loopback device on one XBUS
 * socket is therefore a hub that forwards each message to every peer but its origin.
 */
import { encodeU32, readU32 } from '../../runtime/bytes.js';
import type { Env } from '../../runtime/env.js';
import { newMessage, type Message } from '../core/message.js';
import type { Pipe } from '../core/pipe.js';
import { Socket, type Context, type ProtocolImpl, type SocketOptions } from '../core/socket.js';
import { protocolByName, type ProtocolInfo } from '../wire/protocols.js';

const EMPTY = new Uint8Array(0);

/** Messages dropped on a full per-pipe queue, and the deepest one seen. */
export interface FanoutStats {
  /** Copies of sent (or forwarded) messages dropped because a pipe's queue was full. */
  droppedSends: number;
  /** The most messages ever queued for one pipe (WRITEQ-LEN bounds it). */
  maxQueued: number;
}

/**
 * Per-pipe send queues for protocols that send to many pipes without blocking (BUS, STAR, PAIR1
 * polyamorous): a message goes straight to a ready pipe with an empty queue, else waits in the
 * pipe's queue of WRITEQ-LEN messages, else is dropped for that pipe. Pipes keep their attach order.
 */
export class PipeQueues {
  private readonly queues = new Map<Pipe, Message[]>();

  constructor(
    private readonly socket: Socket,
    private readonly stats: FanoutStats,
  ) {}

  add(pipe: Pipe): void {
    this.queues.set(pipe, []);
  }

  /** Forgets a pipe; what was still queued for it is lost with it (returned as a count). */
  remove(pipe: Pipe): number {
    const q = this.queues.get(pipe);
    this.queues.delete(pipe);
    return q?.length ?? 0;
  }

  has(pipe: Pipe): boolean {
    return this.queues.has(pipe);
  }

  /** Attached pipes in attach order. */
  pipes(): Pipe[] {
    return [...this.queues.keys()];
  }

  /**
   * Sends or queues `msg` for `pipe`; drops it when the pipe's queue is full (counted in
   * droppedSends) or the pipe is unknown (not counted). Senders never learn which: fan-out is best effort.
   */
  offer(pipe: Pipe, msg: Message): void {
    const q = this.queues.get(pipe);
    if (q === undefined) return;
    if (q.length === 0 && pipe.ready && pipe.send(msg)) return;
    if (q.length >= this.socket.getOption('WRITEQ-LEN')) {
      this.stats.droppedSends++;
      return;
    }
    q.push(msg);
    if (q.length > this.stats.maxQueued) this.stats.maxQueued = q.length;
  }

  flush(pipe: Pipe): void {
    const q = this.queues.get(pipe);
    while (q !== undefined && q.length > 0 && pipe.ready && pipe.send(q[0]!)) q.shift();
  }

  flushAll(): void {
    for (const pipe of this.queues.keys()) this.flush(pipe);
  }
}

export interface Bus0Stats extends FanoutStats {
  /** Messages delivered to the application. */
  received: number;
}

/** The BUS protocol (cooked and raw); exported so a variant can override its hooks (the museum does). */
export class Bus0 implements ProtocolImpl {
  readonly info: ProtocolInfo;
  readonly stats: Bus0Stats = { droppedSends: 0, maxQueued: 0, received: 0 };
  protected readonly out: PipeQueues;

  constructor(
    protected readonly socket: Socket,
    readonly raw: boolean,
  ) {
    this.info = protocolByName('bus0')!;
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
    if (!this.out.has(pipe)) return; // a pipe already detached
    this.stats.received++;
    this.socket.deliver(pipe, {
      header: this.raw ? encodeU32(pipe.id) : EMPTY,
      body: msg.body,
      pipe,
    });
  }

  /** Sends to every pipe; never blocks (a full per-pipe queue drops that pipe's copy). */
  sendMsg(_ctx: Context, msg: Message): Promise<void> {
    const done = this.socket.env.defer<void>();
    let skip: number | undefined;
    let wire: Message = newMessage(msg.body);
    if (this.raw) {
      if (msg.header.length === 4) {
        skip = readU32(msg.header, 0);
      } else if (msg.header.length > 0) {
        wire = newMessage(msg.body, msg.header);
      }
    }
    this.broadcast(wire, skip);
    done.resolve();
    return done.promise;
  }

  /** Offers `msg` to every pipe but the one with id `skipPipeId`. */
  protected broadcast(msg: Message, skipPipeId?: number): void {
    for (const pipe of this.out.pipes()) if (pipe.id !== skipPipeId) this.out.offer(pipe, msg);
  }
}

/**
 * Opens a BUS socket; `protocol` builds its protocol (default Bus0: a variant passes a subclass).
 */
export function openBus0(
  env: Env,
  options: SocketOptions = {},
  protocol: (socket: Socket) => Bus0 = (socket) => new Bus0(socket, false),
): Socket {
  const socket = new Socket(env, [], options);
  socket.protocol = protocol(socket);
  return socket;
}

/** Opens a raw BUS socket (XBUS). */
export function openXBus0(env: Env, options: SocketOptions = {}): Socket {
  const socket = new Socket(env, [], { ...options, options: { ...options.options, RAW: true } });
  socket.protocol = new Bus0(socket, true);
  return socket;
}

/** The BUS statistics of a socket opened with openBus0 / openXBus0 (undefined for others). */
export function bus0Stats(socket: Socket): Bus0Stats | undefined {
  return socket.protocol instanceof Bus0 ? socket.protocol.stats : undefined;
}
