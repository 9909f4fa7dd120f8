/**
 * REP0 (protocol 49): receives requests with their backtrace (the stack of pipe ids that devices
 * pushed, ending with the request id, whose top bit is set), answers in lockstep per context (recv,
 * then send; send without a request, or a second concurrent recv, is ErrProtoState), drops requests
 * whose backtrace exceeds TTL words (the request id included: 8 pass, 9 are dropped; the pipe stays)
 * or has no terminating id word, and sends each reply back on the pipe the request came from, with
 * per-pipe backpressure up to WRITEQ-LEN. A reply for a pipe that has gone is dropped and send still
 * succeeds.
 *
 * Garbage requests (no terminating id word) are dropped and counted, keeping the pipe (mangos); with
 * GARBAGE-CLOSES-PIPE the pipe is closed instead (nng). A stack beyond TTL is always only dropped.
 */
import type { Deferred, Env, TimerHandle } from '../../runtime/env.js';
import type { Message } from '../core/message.js';
import type { Pipe } from '../core/pipe.js';
import { Socket, type Context, type ProtocolImpl, type SocketOptions } from '../core/socket.js';
import { spError } from '../errors.js';
import { LockstepInbox, lockstepState, type LockstepState } from './lockstep.js';
import { protocolByName, type ProtocolInfo } from '../wire/protocols.js';

const MSB = 0x80;

type RepState = LockstepState;

export interface PipeOut {
  msgs: Message[];
  waiters: { msg: Message; done: Deferred<void>; timer: TimerHandle | undefined }[];
}

export interface Rep0Stats {
  /** Requests dropped: no terminating id word, or a backtrace longer than TTL words. */
  droppedRequests: number;
  /** Replies dropped because their pipe had gone. */
  droppedReplies: number;
  /** The most replies ever queued for one pipe (WRITEQ-LEN bounds it; at least 1 with WRITEQ-LEN 0). */
  maxQueuedReplies: number;
}

/**
 * Splits a request into its backtrace (every word up to and including the first with the top bit
 * set) and payload. Returns undefined for garbage (no such word) or a stack deeper than ttlWords.
 */
export function splitBacktrace(
  body: Uint8Array,
  ttlWords: number,
): { header: Uint8Array; payload: Uint8Array } | undefined {
  for (let words = 1; words * 4 <= body.length; words++) {
    if (words > ttlWords) return undefined;
    if ((body[(words - 1) * 4]! & MSB) !== 0) {
      return { header: body.subarray(0, words * 4), payload: body.subarray(words * 4) };
    }
  }
  return undefined;
}

/** The REP0 protocol; exported so a variant can override its hook methods (the bug museum does). */
export class Rep0 implements ProtocolImpl {
  readonly info: ProtocolInfo;
  readonly extraOptions = ['TTL', 'GARBAGE-CLOSES-PIPE'] as const;
  readonly contexts = true;
  /** The lockstep receive side (shared with the other lockstep responder). */
  private readonly inbox: LockstepInbox;
  readonly stats: Rep0Stats = { droppedRequests: 0, droppedReplies: 0, maxQueuedReplies: 0 };
  /** Attached pipes (in attach order) with their queued replies and blocked senders. */
  protected readonly out = new Map<Pipe, PipeOut>();

  constructor(private readonly socket: Socket) {
    this.inbox = new LockstepInbox(socket, 'request');
    this.info = protocolByName('rep0')!;
  }

  private env(): Env {
    return this.socket.env;
  }

  private state(ctx: Context): RepState {
    return lockstepState(ctx);
  }

  attach(pipe: Pipe): undefined {
    this.out.set(pipe, { msgs: [], waiters: [] });
    return undefined;
  }

  detach(pipe: Pipe): void {
    const q = this.out.get(pipe);
    this.out.delete(pipe);
    if (q === undefined) return;
    // Replies to a vanished requester are dropped; their sends still succeed.
    this.stats.droppedReplies += q.msgs.length + q.waiters.length;
    for (const w of q.waiters) {
      if (w.timer !== undefined) this.env().clearTimer(w.timer);
      w.done.resolve();
    }
  }

  pipeReady(pipe: Pipe): void {
    this.flush(pipe);
    this.socket.pipeDrained();
  }

  pumpSend(): void {
    for (const pipe of this.out.keys()) this.flush(pipe);
  }

  private flush(pipe: Pipe): void {
    const q = this.out.get(pipe);
    if (q === undefined) return;
    const cap = Math.max(this.socket.getOption('WRITEQ-LEN'), 0);
    for (;;) {
      while (pipe.ready && q.msgs.length > 0) {
        if (!pipe.send(q.msgs[0]!)) break;
        q.msgs.shift();
      }
      let moved = false;
      while (q.waiters.length > 0 && q.msgs.length < Math.max(cap, 1) && (cap > 0 || pipe.ready)) {
        const w = q.waiters.shift()!;
        if (w.timer !== undefined) this.env().clearTimer(w.timer);
        q.msgs.push(w.msg);
        this.noteQueued(q);
        w.done.resolve();
        moved = true;
        if (cap === 0) break;
      }
      // Replies that moved in from blocked senders go out now while the pipe takes them: the pipe
      // may stay ready (no further writable event), and they would wait forever (found by the
      // backpressure/rep-reply-queue property: a REQ pipelining into a REP with WRITEQ-LEN 1).
      if (!moved || !pipe.ready || q.msgs.length === 0) return;
    }
  }

  pipeMessage(pipe: Pipe, msg: Message): void {
    const ttl = this.socket.getOption('TTL');
    const split = splitBacktrace(msg.body, ttl);
    if (split === undefined) {
      this.stats.droppedRequests++;
      if (
        this.socket.getOption('GARBAGE-CLOSES-PIPE') &&
        splitBacktrace(msg.body, Number.MAX_SAFE_INTEGER) === undefined
      ) {
        pipe.abort('ErrGarbled', 'request without a request id word (GARBAGE-CLOSES-PIPE)');
      }
      if (this.env().tracing)
        this.env().trace({
          kind: 'note',
          text: `sp rep0: dropped a request (no request id within ${ttl} words, or garbage)`,
        });
      return;
    }
    const request: Message = { header: split.header, body: split.payload, pipe };
    if (this.env().tracing)
      this.env().trace({
        kind: 'msg-recv',
        proto: 'rep0',
        msg: 'request',
        bytes: msg.body.length,
        fields: [
          { name: 'backtrace-words', offset: 0, length: split.header.length, value: split.header.length / 4 },
          {
            name: 'request-id',
            offset: split.header.length - 4,
            length: 4,
            value: new DataView(split.header.buffer, split.header.byteOffset).getUint32(
              split.header.length - 4,
            ),
          },
        ],
      });
    this.inbox.deliver(pipe, request);
  }

  recvMsg(ctx: Context): Promise<Message> {
    return this.inbox.recv(ctx);
  }

  sendMsg(ctx: Context, msg: Message): Promise<void> {
    const done = this.env().defer<void>();
    const st = this.state(ctx);
    if (st.backtrace === undefined || st.pipe === undefined) {
      done.reject(spError('ErrProtoState', 'send without a request to answer (recv first)'));
      return done.promise;
    }
    const reply: Message = { header: st.backtrace, body: msg.body };
    const pipe = this.replyPipe(st.pipe);
    st.backtrace = undefined;
    st.pipe = undefined;
    const q = this.out.get(pipe);
    if (q === undefined) {
      this.stats.droppedReplies++;
      done.resolve();
      return done.promise;
    }
    if (this.env().tracing)
      this.env().trace({
        kind: 'msg-send',
        proto: 'rep0',
        msg: 'reply',
        bytes: reply.header.length + reply.body.length,
        fields: [
          { name: 'backtrace-words', offset: 0, length: reply.header.length, value: reply.header.length / 4 },
        ],
      });
    const cap = this.socket.getOption('WRITEQ-LEN');
    if (q.msgs.length === 0 && q.waiters.length === 0 && pipe.ready && pipe.send(reply)) {
      done.resolve();
      return done.promise;
    }
    if (q.waiters.length === 0 && q.msgs.length < cap) {
      q.msgs.push(reply);
      this.noteQueued(q);
      done.resolve();
      return done.promise;
    }
    if (this.socket.getOption('BEST-EFFORT')) {
      this.stats.droppedReplies++;
      done.resolve();
      return done.promise;
    }
    const waiter = { msg: reply, done, timer: undefined as TimerHandle | undefined };
    const deadline = ctx.option('SEND-DEADLINE');
    if (deadline !== null) {
      waiter.timer = this.env().setTimer(
        deadline,
        () => {
          const i = q.waiters.indexOf(waiter);
          if (i >= 0) q.waiters.splice(i, 1);
          done.reject(spError('ErrSendTimeout', `reply not queued within ${deadline} us`));
        },
        'sp-send-deadline',
      );
    }
    q.waiters.push(waiter);
    return done.promise;
  }

  private noteQueued(q: PipeOut): void {
    if (q.msgs.length > this.stats.maxQueuedReplies) this.stats.maxQueuedReplies = q.msgs.length;
  }

  /** The pipe a reply goes out on: the one its request came from (a reply finds its requester). */
  protected replyPipe(requestPipe: Pipe): Pipe {
    return requestPipe;
  }

  closeContext(ctx: Context): void {
    this.inbox.close(ctx);
  }
}

/**
 * Opens a REP0 socket on a runtime env; `protocol` builds its protocol (default Rep0: a variant
 * passes a subclass).
 */
export function openRep0(
  env: Env,
  options: SocketOptions = {},
  protocol: (socket: Socket) => Rep0 = (socket) => new Rep0(socket),
): Socket {
  const socket = new Socket(env, ['TTL', 'GARBAGE-CLOSES-PIPE'], options);
  socket.protocol = protocol(socket);
  return socket;
}

/** The REP0 statistics of a socket opened with openRep0 (undefined for other sockets). */
export function rep0Stats(socket: Socket): Rep0Stats | undefined {
  return socket.protocol instanceof Rep0 ? socket.protocol.stats : undefined;
}
