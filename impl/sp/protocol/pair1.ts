/**
 * PAIR1 (protocol 17) and raw PAIR1 (XPAIR1): PAIR0 plus a 4-byte big-endian hop-count header.
 *
 * Hop count: netlab follows nng and counts on send: a cooked send writes hop 1 on the wire ([W]
 * nngcat: `00 00 00 01 'hello'`), and a raw send of a message received with hop h writes h + 1.
 * mangos writes 0 and counts on receive instead; a receiver here accepts both, since it only
 * drops a message whose hop count is above TTL (default 8): mangos' 0 and nng's 1 both pass.
 * A frame shorter than 4 bytes or whose hop count has a non-zero top byte (> 0xff) is garbage:
 * dropped and counted, the pipe kept (mangos); with GARBAGE-CLOSES-PIPE the pipe is closed (nng).
 *
 * Mono (the default): the first pipe wins, later pipes are refused after their handshake; sends
 * queue up to WRITEQ-LEN and block (SEND-DEADLINE, BEST-EFFORT as PAIR0); receives queue up to
 * READQ-LEN, then the pipe stops reading.
 *
 * Polyamorous (POLYAMOROUS true, nng's NNG_OPT_PAIR1_POLY; only before the socket dials or listens,
 * afterwards ErrProtoState, nng's NNG_EBUSY): any number of peers; a received message carries its
 * pipe (`Message.pipe`); a sent message goes to the pipe it names, or to the first attached pipe
 * when it names none (nng); a pipe that is gone drops it. Sends never block: each pipe has its own
 * queue of WRITEQ-LEN messages and a full one drops (nng#1274, #995); drops are counted.
 *
 * Raw: a received message's header is its 4-byte hop count as it arrived; a send needs a 4-byte
 * header with the top three bytes 0 (else discarded silently and counted, as mangos; nng returns
 * NNG_EPROTO), and one whose hop count has already reached TTL is dropped (its next receiver would
 * drop it anyway).
 */
import { encodeU32 } from '../../runtime/bytes.js';
import type { Env } from '../../runtime/env.js';
import type { Message } from '../core/message.js';
import type { Pipe } from '../core/pipe.js';
import type { Dialer, Listener } from '../core/socket.js';
import { Socket, type ProtocolImpl, type SocketOptions } from '../core/socket.js';
import { spError, type SpError } from '../errors.js';
import type { OptionName, OptionValues } from '../options.js';
import { protocolByName, type ProtocolInfo } from '../wire/protocols.js';
import { PipeQueues, type FanoutStats } from './bus.js';

const EMPTY = new Uint8Array(0);
const PAIR1_OPTIONS: readonly OptionName[] = ['TTL', 'GARBAGE-CLOSES-PIPE', 'POLYAMOROUS'];

export interface Pair1Stats extends FanoutStats {
  /** Received frames dropped: shorter than 4 bytes, or a hop count above 0xff. */
  droppedGarbage: number;
  /** Received messages dropped because their hop count was above TTL. */
  droppedTtl: number;
  /**
   * Sends dropped by the protocol: a raw header that is no hop count or has reached TTL, or (poly)
   * a message for a pipe that is gone or with no pipe at all.
   */
  discardedSends: number;
  /** Mono: pipes refused because the socket already had its peer. */
  refusedPipes: number;
}

/** The hop count of a 4-byte header (top three bytes zero), else undefined; exported for the fuzzer. */
export function hopCountOf(header: Uint8Array): number | undefined {
  if (header.length !== 4 || header[0] !== 0 || header[1] !== 0 || header[2] !== 0) return undefined;
  return header[3]!;
}

export class Pair1 implements ProtocolImpl {
  readonly info: ProtocolInfo;
  readonly stats: Pair1Stats = {
    droppedSends: 0,
    maxQueued: 0,
    droppedGarbage: 0,
    droppedTtl: 0,
    discardedSends: 0,
    refusedPipes: 0,
  };
  /** Mono: the one peer. */
  private peer: Pipe | undefined;
  /** Poly: every attached pipe with its own send queue. */
  private readonly out: PipeQueues;

  constructor(
    private readonly socket: Socket,
    readonly raw: boolean,
  ) {
    this.info = protocolByName('pair1')!;
    this.out = new PipeQueues(socket, this.stats);
  }

  private get poly(): boolean {
    return this.socket.getOption('POLYAMOROUS');
  }

  attach(pipe: Pipe): SpError | undefined {
    if (this.poly) {
      this.out.add(pipe);
      return undefined;
    }
    if (this.peer !== undefined) {
      this.stats.refusedPipes++;
      return spError(
        'ErrProtoState',
        `pair1 already has a peer (pipe ${this.peer.id}); pipe ${pipe.id} refused`,
      );
    }
    this.peer = pipe;
    return undefined;
  }

  detach(pipe: Pipe): void {
    if (this.peer === pipe) this.peer = undefined;
    this.out.remove(pipe);
  }

  pipeReady(pipe: Pipe): void {
    if (this.out.has(pipe)) {
      this.out.flush(pipe);
      this.socket.pipeDrained();
    } else if (pipe === this.peer) this.pumpSend();
  }

  /** Mono: moves queued sends to the peer, each with its hop count (plus one for raw headers). */
  pumpSend(): void {
    this.out.flushAll();
    const q = this.socket.sendQ;
    const peer = this.peer;
    while (peer !== undefined && peer.ready && q.length > 0) {
      if (!peer.send(this.onWire(q[0]!))) break;
      q.shift();
      this.socket.refillSendQ();
    }
  }

  /** The message as it goes on the wire: cooked hop 1, raw the given hop count plus one. */
  private onWire(msg: Message): Message {
    const hops = this.raw ? (hopCountOf(msg.header) ?? 0) : 0;
    return { header: encodeU32(hops + 1), body: msg.body };
  }

  /** Raw sends: whether the header is a hop count below TTL (else the message is discarded). */
  checkRawSend(msg: Message): boolean {
    const hops = hopCountOf(msg.header);
    if (hops === undefined || hops >= this.socket.getOption('TTL')) {
      this.stats.discardedSends++;
      this.note(`discarded a raw send (header ${msg.header.length} bytes, not a hop count below TTL)`);
      return false;
    }
    return true;
  }

  /** Poly: to the pipe the message names, else the first pipe; never blocks. */
  polySend(msg: Message): void {
    const pipe = msg.pipe ?? this.out.pipes()[0];
    if (pipe === undefined || !this.out.has(pipe)) {
      this.stats.discardedSends++;
      this.note(`dropped a send for ${pipe === undefined ? 'no pipe' : `pipe ${pipe.id}, which is gone`}`);
      return;
    }
    this.out.offer(pipe, this.onWire(msg));
  }

  pipeMessage(pipe: Pipe, msg: Message): void {
    if (pipe !== this.peer && !this.out.has(pipe)) return; // a refused pipe's late frames
    const body = msg.body;
    const hops = body.length >= 4 ? hopCountOf(body.subarray(0, 4)) : undefined;
    if (hops === undefined) {
      this.stats.droppedGarbage++;
      this.note(`dropped a frame without a hop count from pipe ${pipe.id}`);
      if (this.socket.getOption('GARBAGE-CLOSES-PIPE'))
        pipe.abort('ErrGarbled', 'pair1 frame without a hop count (GARBAGE-CLOSES-PIPE)');
      return;
    }
    const ttl = this.socket.getOption('TTL');
    if (hops > ttl) {
      this.stats.droppedTtl++;
      this.note(`dropped a message with hop count ${hops} (TTL ${ttl})`);
      return;
    }
    this.socket.deliver(pipe, {
      header: this.raw ? body.slice(0, 4) : EMPTY,
      body: body.subarray(4),
      pipe,
    });
  }

  private note(text: string): void {
    if (this.socket.env.tracing) this.socket.env.trace({ kind: 'note', text: `sp pair1: ${text}` });
  }
}

/** A PAIR1 socket: POLYAMOROUS is fixed once it dials or listens; poly and raw sends take their own path. */
class Pair1Socket extends Socket {
  private started = false;

  private get pair1(): Pair1 {
    return this.protocol as Pair1;
  }

  override setOption(name: string, value: unknown): void {
    if (name === 'POLYAMOROUS' && this.started && !this.closed)
      throw spError('ErrProtoState', 'POLYAMOROUS can only be set before the socket dials or listens');
    super.setOption(name, value);
  }

  override newDialer(url: string, options: Partial<OptionValues> = {}): Dialer {
    const d = super.newDialer(url, options);
    this.started = true;
    return d;
  }

  override newListener(url: string, options: Partial<OptionValues> = {}): Listener {
    const l = super.newListener(url, options);
    this.started = true;
    return l;
  }

  override sendMsg(msg: Message): Promise<void> {
    if (this.closed) return this.failed(spError('ErrClosed', 'send on a closed socket'));
    const p = this.pair1;
    if (p.raw && !p.checkRawSend(msg)) return this.resolved();
    if (this.getOption('POLYAMOROUS')) {
      p.polySend(msg);
      return this.resolved();
    }
    return super.sendMsg(msg);
  }

  private resolved(): Promise<void> {
    const d = this.env.defer<void>();
    d.resolve();
    return d.promise;
  }
}

function open(env: Env, options: SocketOptions, raw: boolean): Socket {
  const socket = new Pair1Socket(
    env,
    PAIR1_OPTIONS,
    raw ? { ...options, options: { ...options.options, RAW: true } } : options,
  );
  socket.protocol = new Pair1(socket, raw);
  return socket;
}

/** Opens a PAIR1 socket (mono unless POLYAMOROUS is set before it dials or listens). */
export function openPair1(env: Env, options: SocketOptions = {}): Socket {
  return open(env, options, false);
}

/** Opens a raw PAIR1 socket (XPAIR1). */
export function openXPair1(env: Env, options: SocketOptions = {}): Socket {
  return open(env, options, true);
}

/** The PAIR1 statistics of a socket opened with openPair1 / openXPair1 (undefined for others). */
export function pair1Stats(socket: Socket): Pair1Stats | undefined {
  return socket.protocol instanceof Pair1 ? socket.protocol.stats : undefined;
}
