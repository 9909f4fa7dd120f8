/**
 * REQ0 (protocol 48): requests with ids (top bit set; the first id from the seeded stream, +1 after),
 * resent after RETRY-TIME with the same id and at once when the pipe that carried them is lost, one
 * outstanding request per context (a new send cancels the old one: a blocked recv gets ErrCanceled),
 * replies matched by id (unknown, stale, duplicate or short ones are dropped and counted), requests
 * spread round-robin over ready pipes with one request in flight per pipe, BEST-EFFORT and
 * FAIL-NO-PEERS, SEND-DEADLINE and RECV-DEADLINE.
 */
import { encodeU32, readU32 } from '../../runtime/bytes.js';
import type { Deferred, Env, TimerHandle } from '../../runtime/env.js';
import type { Message } from '../core/message.js';
import type { Pipe } from '../core/pipe.js';
import { Socket, type Context, type ProtocolImpl, type SocketOptions } from '../core/socket.js';
import { spError, type SpErrorCode } from '../errors.js';
import { protocolByName, type ProtocolInfo } from '../wire/protocols.js';

const MSB = 0x8000_0000;

/** One request of a context, from send until its reply or failure. */
export interface Outstanding {
  ctx: Context;
  /** Request id with the top bit set (unsigned). */
  id: number;
  frame: Message;
  /** The pipe carrying it, while in flight. */
  pipe: Pipe | undefined;
  resendTimer: TimerHandle | undefined;
  reply: Message | undefined;
  /** Waiting in the send queue for a pipe. */
  queued: boolean;
  sends: number;
}

interface ReqState {
  req: Outstanding | undefined;
  recvWaiter: { done: Deferred<Message>; timer: TimerHandle | undefined } | undefined;
  sendWaiter: { done: Deferred<void>; timer: TimerHandle | undefined } | undefined;
}

export interface Req0Stats {
  /** Replies dropped: shorter than 4 bytes, no top bit, unknown, stale or duplicate id. */
  droppedReplies: number;
  /** Request transmissions, first sends and resends together. */
  sends: number;
  resends: number;
}

/**
 * The request id a reply (or the survey id a response) starts with: its first big-endian word when
 * that word has the top bit set; undefined for garbage (shorter than 4 bytes, or no top bit).
 * REQ0 and SURVEYOR0 share it; a pure function so the fuzzer (fuzz/) drives it alone.
 */
export function replyIdOf(body: Uint8Array): number | undefined {
  if (body.length < 4) return undefined;
  const id = readU32(body, 0);
  return id >= MSB ? id : undefined;
}

/** A request id (or hop count, pipe id) as its 4-byte word; kept here for the callers that import it from REQ0. */
export { encodeU32 };

/** The REQ0 protocol; exported so a variant can override its hook methods (the bug museum does). */
export class Req0 implements ProtocolImpl {
  readonly info: ProtocolInfo;
  readonly contexts = true;
  readonly stats: Req0Stats = { droppedReplies: 0, sends: 0, resends: 0 };
  private counter: number;
  /** Live requests (sent or queued, not yet answered or failed) by request id. */
  protected readonly byId = new Map<number, Outstanding>();
  private readonly sendQueue: Outstanding[] = [];
  private readonly pipes: Pipe[] = [];
  private readonly busy = new Map<Pipe, Outstanding>();
  private rr = 0;

  constructor(private readonly socket: Socket) {
    this.info = protocolByName('req0')!;
    this.counter = socket.env.random('sp/req0/ids').int(0, 0x7fff_ffff);
  }

  private env(): Env {
    return this.socket.env;
  }

  private state(ctx: Context): ReqState {
    ctx.state ??= { req: undefined, recvWaiter: undefined, sendWaiter: undefined } satisfies ReqState;
    return ctx.state as ReqState;
  }

  /** The next request id: the counter + 1 with the top bit set. */
  protected newId(): number {
    this.counter = (this.counter + 1) & 0x7fff_ffff;
    return (this.counter | MSB) >>> 0;
  }

  attach(pipe: Pipe): undefined {
    this.pipes.push(pipe);
    return undefined;
  }

  detach(pipe: Pipe): void {
    const i = this.pipes.indexOf(pipe);
    if (i >= 0) this.pipes.splice(i, 1);
    const o = this.busy.get(pipe);
    this.busy.delete(pipe);
    if (o !== undefined && o.reply === undefined && o.pipe === pipe) {
      o.pipe = undefined;
      this.pipeLost(o);
    }
    if (this.pipes.length === 0 && this.socket.getOption('FAIL-NO-PEERS')) {
      for (const out of [...this.byId.values()]) {
        if (this.state(out.ctx).recvWaiter !== undefined)
          this.finish(out, 'ErrNoPeers', 'the last peer went away');
      }
    }
    this.pumpSend();
  }

  /**
   * The pipe that carried unanswered request `o` went away: resend it at once on another pipe
   * (mangos, nng), or with RETRY-TIME 0 fail it with ErrCanceled.
   */
  protected pipeLost(o: Outstanding): void {
    this.clearResend(o);
    if (o.ctx.option('RETRY-TIME') > 0) {
      this.requeue(o);
    } else {
      this.finish(o, 'ErrCanceled', `request ${o.id.toString(16)} lost with its pipe and RETRY-TIME is 0`);
    }
  }

  /** The id a resent request goes out with: its own (mangos, nng), so a late reply still matches. */
  protected idForResend(id: number): number {
    return id;
  }

  /**
   * The live request a reply with request id `id` answers, or undefined (the reply is dropped): the
   * request with exactly that id, so stale and duplicate replies never reach the application.
   */
  protected requestForReply(id: number): Outstanding | undefined {
    return id >= MSB ? this.byId.get(id) : undefined;
  }

  pipeReady(_pipe: Pipe): void {
    this.pumpSend();
  }

  pumpSend(): void {
    // A closing socket sends nothing more: closing one context frees its pipe, and the requests
    // of the contexts not closed yet must fail with ErrClosed, not go out (and count as sent).
    if (this.socket.closed) return;
    while (this.sendQueue.length > 0) {
      const pipe = this.pickPipe();
      if (pipe === undefined) return;
      const o = this.sendQueue.shift()!;
      o.queued = false;
      // Only live requests go out (an answered or cancelled one has left byId).
      if (o.reply !== undefined || this.byId.get(o.id) !== o) continue;
      if (!pipe.send(o.frame)) {
        this.sendQueue.unshift(o);
        o.queued = true;
        return;
      }
      o.pipe = pipe;
      o.sends++;
      this.stats.sends++;
      if (o.sends > 1) this.stats.resends++;
      this.busy.set(pipe, o);
      if (this.env().tracing)
        this.env().trace({
          kind: 'msg-send',
          proto: 'req0',
          msg: o.sends > 1 ? 'request (resend)' : 'request',
          bytes: o.frame.header.length + o.frame.body.length,
          fields: [{ name: 'request-id', offset: 0, length: 4, value: o.id }],
          corr: o.id,
        });
      const st = this.state(o.ctx);
      if (st.sendWaiter !== undefined && st.req === o) this.settleSend(st);
      const retry = o.ctx.option('RETRY-TIME');
      if (retry > 0) {
        o.resendTimer = this.env().setTimer(retry, () => this.resend(o), 'sp-req-resend');
      }
    }
  }

  /** Round-robin over pipes that are ready and carry no unanswered request. */
  private pickPipe(): Pipe | undefined {
    const n = this.pipes.length;
    for (let k = 0; k < n; k++) {
      const pipe = this.pipes[(this.rr + k) % n]!;
      if (pipe.ready && !this.busy.has(pipe)) {
        this.rr = (this.rr + k + 1) % n;
        return pipe;
      }
    }
    return undefined;
  }

  private resend(o: Outstanding): void {
    o.resendTimer = undefined;
    if (o.reply !== undefined || this.byId.get(o.id) !== o) return;
    if (o.pipe !== undefined && this.busy.get(o.pipe) === o) this.busy.delete(o.pipe);
    o.pipe = undefined;
    this.requeue(o);
    this.pumpSend();
  }

  /** Queues a request that already went out once again, under the id idForResend() gives it. */
  private requeue(o: Outstanding): void {
    const id = this.idForResend(o.id);
    if (id !== o.id) {
      this.byId.delete(o.id);
      o.id = id;
      o.frame = { header: encodeU32(id), body: o.frame.body };
      this.byId.set(id, o);
    }
    this.enqueue(o);
  }

  private enqueue(o: Outstanding): void {
    if (o.queued) return;
    o.queued = true;
    this.sendQueue.push(o);
  }

  private unqueue(o: Outstanding): void {
    if (!o.queued) return;
    const i = this.sendQueue.indexOf(o);
    if (i >= 0) this.sendQueue.splice(i, 1);
    o.queued = false;
  }

  private clearResend(o: Outstanding): void {
    if (o.resendTimer !== undefined) {
      this.env().clearTimer(o.resendTimer);
      o.resendTimer = undefined;
    }
  }

  private settleSend(st: ReqState): void {
    const w = st.sendWaiter!;
    st.sendWaiter = undefined;
    if (w.timer !== undefined) this.env().clearTimer(w.timer);
    w.done.resolve();
  }

  /** Ends a request: unqueue it, free its pipe, fail whoever waits on it with `code`. */
  private finish(o: Outstanding, code: SpErrorCode, why: string): void {
    this.clearResend(o);
    this.byId.delete(o.id);
    this.unqueue(o);
    if (o.pipe !== undefined && this.busy.get(o.pipe) === o) this.busy.delete(o.pipe);
    const st = this.state(o.ctx);
    if (st.req === o) st.req = undefined;
    if (st.sendWaiter !== undefined) {
      const w = st.sendWaiter;
      st.sendWaiter = undefined;
      if (w.timer !== undefined) this.env().clearTimer(w.timer);
      w.done.reject(spError(code, why));
    }
    if (st.recvWaiter !== undefined) {
      const w = st.recvWaiter;
      st.recvWaiter = undefined;
      if (w.timer !== undefined) this.env().clearTimer(w.timer);
      w.done.reject(spError(code, why));
    }
    this.pumpSend();
  }

  sendMsg(ctx: Context, msg: Message): Promise<void> {
    const done = this.env().defer<void>();
    const st = this.state(ctx);
    if (st.req !== undefined)
      this.finish(st.req, 'ErrCanceled', 'a new request replaced the outstanding one');
    if (this.pipes.length === 0 && this.socket.getOption('FAIL-NO-PEERS')) {
      done.reject(spError('ErrNoPeers', 'no peers to send the request to (FAIL-NO-PEERS)'));
      return done.promise;
    }
    const id = this.newId();
    const o: Outstanding = {
      ctx,
      id,
      frame: { header: encodeU32(id), body: msg.body },
      pipe: undefined,
      resendTimer: undefined,
      reply: undefined,
      queued: false,
      sends: 0,
    };
    this.byId.set(id, o);
    st.req = o;
    this.enqueue(o);
    st.sendWaiter = { done, timer: undefined };
    this.pumpSend();
    if (st.sendWaiter === undefined) return done.promise; // went out at once
    if (this.socket.getOption('BEST-EFFORT')) {
      // Returns now; the request stays queued and goes out when a pipe can take it.
      this.settleSend(st);
      return done.promise;
    }
    const deadline = ctx.option('SEND-DEADLINE');
    if (deadline !== null) {
      st.sendWaiter.timer = this.env().setTimer(
        deadline,
        () => this.finish(o, 'ErrSendTimeout', `request not sent within ${deadline} us`),
        'sp-send-deadline',
      );
    }
    return done.promise;
  }

  recvMsg(ctx: Context): Promise<Message> {
    const done = this.env().defer<Message>();
    const st = this.state(ctx);
    const o = st.req;
    if (o === undefined) {
      done.reject(spError('ErrProtoState', 'recv with no request outstanding'));
      return done.promise;
    }
    if (st.recvWaiter !== undefined) {
      done.reject(spError('ErrProtoState', 'a recv is already waiting on this context'));
      return done.promise;
    }
    if (o.reply !== undefined) {
      st.req = undefined;
      done.resolve(o.reply);
      return done.promise;
    }
    st.recvWaiter = { done, timer: undefined };
    const deadline = ctx.option('RECV-DEADLINE');
    if (deadline !== null) {
      st.recvWaiter.timer = this.env().setTimer(
        deadline,
        () => {
          // The request stays outstanding: a later recv can still get its reply.
          if (st.recvWaiter?.done !== done) return;
          st.recvWaiter = undefined;
          done.reject(spError('ErrRecvTimeout', `no reply within ${deadline} us`));
        },
        'sp-recv-deadline',
      );
    }
    return done.promise;
  }

  pipeMessage(pipe: Pipe, msg: Message): void {
    const body = msg.body;
    const id = replyIdOf(body);
    const o = id === undefined ? undefined : this.requestForReply(id);
    if (id === undefined || o === undefined || o.reply !== undefined) {
      this.stats.droppedReplies++;
      // A reply too short to hold an id is garbage (nng closes the pipe; mangos, the default, drops).
      if (body.length < 4 && this.socket.getOption('GARBAGE-CLOSES-PIPE'))
        pipe.abort('ErrGarbled', 'reply shorter than 4 bytes');
      if (this.env().tracing)
        this.env().trace({
          kind: 'note',
          text: `sp req0: dropped a reply (${body.length < 4 ? 'shorter than 4 bytes' : id === undefined ? 'no top bit' : 'unknown, stale or duplicate id'})`,
        });
      return;
    }
    this.clearResend(o);
    this.byId.delete(o.id);
    this.unqueue(o); // a resend may be waiting for a pipe: it must not go out after the reply
    if (o.pipe !== undefined && this.busy.get(o.pipe) === o) this.busy.delete(o.pipe);
    o.reply = { header: body.subarray(0, 4), body: body.subarray(4), pipe };
    if (this.env().tracing)
      this.env().trace({
        kind: 'msg-recv',
        proto: 'req0',
        msg: 'reply',
        bytes: body.length,
        fields: [{ name: 'request-id', offset: 0, length: 4, value: id }],
        corr: id,
        answer: true,
      });
    const st = this.state(o.ctx);
    if (st.recvWaiter !== undefined && st.req === o) {
      const w = st.recvWaiter;
      st.recvWaiter = undefined;
      st.req = undefined;
      if (w.timer !== undefined) this.env().clearTimer(w.timer);
      w.done.resolve(o.reply);
    }
    this.pumpSend();
  }

  closeContext(ctx: Context): void {
    const st = this.state(ctx);
    // A waiting recv always has a request (recv without one fails at once): finish() fails both.
    if (st.req !== undefined) this.finish(st.req, 'ErrClosed', 'context closed');
  }
}

/**
 * Opens a REQ0 socket on a runtime env; `protocol` builds its protocol (default Req0: a variant
 * passes a subclass).
 */
export function openReq0(
  env: Env,
  options: SocketOptions = {},
  protocol: (socket: Socket) => Req0 = (socket) => new Req0(socket),
): Socket {
  const socket = new Socket(env, ['RETRY-TIME', 'FAIL-NO-PEERS', 'GARBAGE-CLOSES-PIPE'], options);
  socket.protocol = protocol(socket);
  return socket;
}

/** The REQ0 statistics of a socket opened with openReq0 (undefined for other sockets). */
export function req0Stats(socket: Socket): Req0Stats | undefined {
  return socket.protocol instanceof Req0 ? socket.protocol.stats : undefined;
}
