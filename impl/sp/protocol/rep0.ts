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
import { readU32 } from '../../runtime/bytes.js';
import type { Env } from '../../runtime/env.js';
import type { Message } from '../core/message.js';
import type { Pipe } from '../core/pipe.js';
import { Socket, type Context, type ProtocolImpl, type SocketOptions } from '../core/socket.js';
import { spError } from '../errors.js';
import { LockstepInbox, LockstepOutbox, lockstepState, type LockstepState } from './lockstep.js';
import { protocolByName, type ProtocolInfo } from '../wire/protocols.js';

const MSB = 0x80;

type RepState = LockstepState;

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

/** The last word of a backtrace: the request id (the word with the top bit set). */
function lastWord(backtrace: Uint8Array): number {
  return readU32(backtrace, backtrace.length - 4);
}

/** The REP0 protocol; exported so a variant can override its hook methods (the bug museum does). */
export class Rep0 implements ProtocolImpl {
  readonly info: ProtocolInfo;
  readonly contexts = true;
  /** The lockstep receive side (shared with the other lockstep responder). */
  private readonly inbox: LockstepInbox;
  readonly stats: Rep0Stats = { droppedRequests: 0, droppedReplies: 0, maxQueuedReplies: 0 };
  /** Attached pipes (in attach order) with their queued replies and blocked senders. */
  protected readonly outbox: LockstepOutbox;

  constructor(private readonly socket: Socket) {
    this.inbox = new LockstepInbox(socket, 'request');
    this.outbox = new LockstepOutbox(
      socket,
      'reply',
      (n) => (this.stats.droppedReplies += n),
      (depth) => {
        if (depth > this.stats.maxQueuedReplies) this.stats.maxQueuedReplies = depth;
      },
    );
    this.info = protocolByName('rep0')!;
  }

  private env(): Env {
    return this.socket.env;
  }

  private state(ctx: Context): RepState {
    return lockstepState(ctx);
  }

  attach(pipe: Pipe): undefined {
    this.outbox.attach(pipe);
    return undefined;
  }

  detach(pipe: Pipe): void {
    this.outbox.detach(pipe);
  }

  pipeReady(pipe: Pipe): void {
    this.outbox.pipeReady(pipe);
  }

  pumpSend(): void {
    this.outbox.pumpSend();
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
    if (this.env().tracing) {
      const id = lastWord(split.header);
      this.env().trace({
        kind: 'msg-recv',
        proto: 'rep0',
        msg: 'request',
        bytes: msg.body.length,
        fields: [
          { name: 'backtrace-words', offset: 0, length: split.header.length, value: split.header.length / 4 },
          { name: 'request-id', offset: split.header.length - 4, length: 4, value: id },
        ],
        corr: id,
      });
    }
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
    // A reply for a pipe that has gone is dropped by the outbox, untraced; its send still succeeds.
    if (this.outbox.has(pipe) && this.env().tracing)
      this.env().trace({
        kind: 'msg-send',
        proto: 'rep0',
        msg: 'reply',
        bytes: reply.header.length + reply.body.length,
        fields: [
          { name: 'backtrace-words', offset: 0, length: reply.header.length, value: reply.header.length / 4 },
        ],
        corr: lastWord(reply.header),
        answer: true,
      });
    this.outbox.send(ctx, pipe, reply, done);
    return done.promise;
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
