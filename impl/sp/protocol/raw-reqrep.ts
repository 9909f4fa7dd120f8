/**
 * Raw REQ/REP (XREQ0, XREP0): the application (or a device) handles the headers. XREQ sends each
 * message as given to the next ready pipe (round-robin) and delivers replies with the first word as
 * header. XREP delivers each request with the id of the pipe it came on prepended to its backtrace
 * (dropping stacks beyond TTL), and sends a message to the pipe named by its first header word,
 * stripping that word; a header shorter than 4 bytes or an unknown pipe id is silently discarded.
 */
import { concatBytes, encodeU32, readU32 } from '../../runtime/bytes.js';
import type { Env } from '../../runtime/env.js';
import { messageBytes, type Message } from '../core/message.js';
import type { Pipe } from '../core/pipe.js';
import { Socket, type Context, type ProtocolImpl, type SocketOptions } from '../core/socket.js';
import { protocolByName, type ProtocolInfo } from '../wire/protocols.js';
import { splitBacktrace } from './rep0.js';

class XReq0 implements ProtocolImpl {
  readonly info: ProtocolInfo;
  private readonly pipes: Pipe[] = [];
  private rr = 0;

  constructor(private readonly socket: Socket) {
    this.info = protocolByName('req0')!;
  }

  attach(pipe: Pipe): undefined {
    this.pipes.push(pipe);
    return undefined;
  }

  detach(pipe: Pipe): void {
    const i = this.pipes.indexOf(pipe);
    if (i >= 0) this.pipes.splice(i, 1);
  }

  pipeReady(): void {
    this.pumpSend();
  }

  pumpSend(): void {
    const q = this.socket.sendQ;
    while (q.length > 0) {
      const n = this.pipes.length;
      let sent = false;
      for (let k = 0; k < n && !sent; k++) {
        const pipe = this.pipes[(this.rr + k) % n]!;
        if (pipe.ready && pipe.send(q[0]!)) {
          this.rr = (this.rr + k + 1) % n;
          sent = true;
        }
      }
      if (!sent) return;
      q.shift();
      this.socket.refillSendQ();
    }
  }

  pipeMessage(pipe: Pipe, msg: Message): void {
    const body = msg.body;
    if (body.length < 4) return; // no header word to deliver it under: dropped
    this.socket.deliver(pipe, { header: body.subarray(0, 4), body: body.subarray(4), pipe });
  }
}

class XRep0 implements ProtocolImpl {
  readonly info: ProtocolInfo;
  private readonly byId = new Map<number, Pipe>();
  private readonly out = new Map<Pipe, Message[]>();

  constructor(private readonly socket: Socket) {
    this.info = protocolByName('rep0')!;
  }

  attach(pipe: Pipe): undefined {
    this.byId.set(pipe.id, pipe);
    this.out.set(pipe, []);
    return undefined;
  }

  detach(pipe: Pipe): void {
    this.byId.delete(pipe.id);
    this.out.delete(pipe);
  }

  pipeReady(pipe: Pipe): void {
    this.flush(pipe);
    this.socket.pipeDrained();
  }

  /**
   * Nothing to pump: sendMsg bypasses the core's queue, and a pipe's queue holds replies only while
   * the pipe is busy; pipeReady flushes it when the pipe is ready again.
   */
  pumpSend(): void {}

  private flush(pipe: Pipe): void {
    const q = this.out.get(pipe);
    while (q !== undefined && q.length > 0 && pipe.ready && pipe.send(q[0]!)) q.shift();
  }

  pipeMessage(pipe: Pipe, msg: Message): void {
    // Our hop's word counts against TTL too: a chain of devices honours it.
    const split = splitBacktrace(msg.body, this.socket.getOption('TTL') - 1);
    if (split === undefined) return; // no request id within TTL words: dropped
    this.socket.deliver(pipe, {
      header: concatBytes([encodeU32(pipe.id), split.header]),
      body: split.payload,
      pipe,
    });
  }

  /** Sends to the pipe named by the first header word (or the first body word, for raw callers). */
  sendMsg(_ctx: Context, msg: Message): Promise<void> {
    const done = this.socket.env.defer<void>();
    const all = messageBytes(msg);
    const id = all.length >= 4 ? readU32(all, 0) : -1;
    const pipe = id >= 0 ? this.byId.get(id) : undefined;
    if (pipe === undefined) {
      // Short header or unknown pipe: silently discarded, as mangos and nng do.
      done.resolve();
      return done.promise;
    }
    const q = this.out.get(pipe)!; // attach and detach keep byId and out in step
    // Raw REP drops on backpressure rather than stall every requester.
    if (q.length < Math.max(this.socket.getOption('WRITEQ-LEN'), 1)) {
      q.push({ header: new Uint8Array(0), body: all.subarray(4) });
      this.flush(pipe);
    }
    done.resolve();
    return done.promise;
  }
}

/** Opens a raw REQ socket (XREQ0). */
export function openXReq0(env: Env, options: SocketOptions = {}): Socket {
  const socket = new Socket(env, [], { ...options, options: { ...options.options, RAW: true } });
  socket.protocol = new XReq0(socket);
  return socket;
}

/** Opens a raw REP socket (XREP0). */
export function openXRep0(env: Env, options: SocketOptions = {}): Socket {
  const socket = new Socket(env, ['TTL'], { ...options, options: { ...options.options, RAW: true } });
  socket.protocol = new XRep0(socket);
  return socket;
}
