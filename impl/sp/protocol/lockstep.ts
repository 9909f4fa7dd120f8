/**
 * What REP and RESPONDENT share. The receive side (LockstepInbox): lockstep contexts that each take
 * one request (or survey) at a time, remember its backtrace and pipe for the reply, wait in arrival
 * order when nothing is queued, and time out with RECV-DEADLINE. The send side (LockstepOutbox):
 * per-pipe answer queues with blocked senders. Which pipe an answer goes to stays with each
 * protocol, where the museum hooks in.
 */
import type { Deferred, TimerHandle } from '../../runtime/env.js';
import type { Message } from '../core/message.js';
import type { Pipe } from '../core/pipe.js';
import type { Context, Socket } from '../core/socket.js';
import { spError } from '../errors.js';

/** Per-context state of a lockstep responder. */
export interface LockstepState {
  receiving: { done: Deferred<Message>; timer: TimerHandle | undefined } | undefined;
  /** The header to answer with, set by the last recv until the reply is sent. */
  backtrace: Uint8Array | undefined;
  /** The pipe the request came on. */
  pipe: Pipe | undefined;
}

export function lockstepState(ctx: Context): LockstepState {
  ctx.state ??= { receiving: undefined, backtrace: undefined, pipe: undefined } satisfies LockstepState;
  return ctx.state as LockstepState;
}

export class LockstepInbox {
  /** Contexts with a recv waiting, in the order they asked. */
  private readonly waiting: Context[] = [];

  /** `noun` names what arrives ("request", "survey") in error messages. */
  constructor(
    private readonly socket: Socket,
    private readonly noun: string,
  ) {}

  /** A message arrived: the longest-waiting context takes it, else the socket's queue holds it. */
  deliver(pipe: Pipe, msg: Message): void {
    const ctx = this.waiting.shift();
    if (ctx !== undefined) this.give(ctx, msg);
    else this.socket.enqueueReceived(pipe, msg);
  }

  private give(ctx: Context, msg: Message): void {
    const st = lockstepState(ctx);
    const w = st.receiving!;
    st.receiving = undefined;
    if (w.timer !== undefined) this.socket.env.clearTimer(w.timer);
    st.backtrace = msg.header;
    st.pipe = msg.pipe;
    w.done.resolve(msg);
  }

  recv(ctx: Context): Promise<Message> {
    const env = this.socket.env;
    const done = env.defer<Message>();
    const st = lockstepState(ctx);
    if (st.receiving !== undefined) {
      done.reject(spError('ErrProtoState', 'a recv is already waiting on this context'));
      return done.promise;
    }
    // A new recv forgets a message that was never answered (lockstep starts over).
    st.backtrace = undefined;
    st.pipe = undefined;
    st.receiving = { done, timer: undefined };
    const queued = this.socket.takeReceived();
    if (queued !== undefined) {
      this.give(ctx, queued);
      return done.promise;
    }
    const deadline = ctx.option('RECV-DEADLINE');
    if (deadline !== null) {
      st.receiving.timer = env.setTimer(
        deadline,
        () => {
          if (st.receiving?.done !== done) return;
          st.receiving = undefined;
          this.unwait(ctx);
          done.reject(spError('ErrRecvTimeout', `no ${this.noun} within ${deadline} us`));
        },
        'sp-recv-deadline',
      );
    }
    this.waiting.push(ctx);
    return done.promise;
  }

  /** A context closes: a waiting recv fails with ErrClosed and the unanswered message is forgotten. */
  close(ctx: Context): void {
    const st = lockstepState(ctx);
    if (st.receiving !== undefined) {
      const w = st.receiving;
      st.receiving = undefined;
      if (w.timer !== undefined) this.socket.env.clearTimer(w.timer);
      this.unwait(ctx);
      w.done.reject(spError('ErrClosed', 'context closed'));
    }
    st.backtrace = undefined;
    st.pipe = undefined;
  }

  private unwait(ctx: Context): void {
    const i = this.waiting.indexOf(ctx);
    if (i >= 0) this.waiting.splice(i, 1);
  }
}

/** One pipe's queued answers and the senders blocked on it. */
export interface PipeOut {
  msgs: Message[];
  waiters: { msg: Message; done: Deferred<void>; timer: TimerHandle | undefined }[];
}

/**
 * The send side REP and RESPONDENT share: each answer goes back on the pipe its request came from,
 * with a queue per pipe of up to WRITEQ-LEN answers and senders blocking behind it (SEND-DEADLINE,
 * BEST-EFFORT). An answer for a pipe that has gone is dropped and its send still succeeds.
 */
export class LockstepOutbox {
  private readonly out = new Map<Pipe, PipeOut>();

  /**
   * `noun` names what is sent ("reply", "response") in error messages; `dropped` counts answers
   * lost (pipe gone, or BEST-EFFORT on a full queue); `queued` sees a queue's new depth.
   */
  constructor(
    private readonly socket: Socket,
    private readonly noun: string,
    private readonly dropped: (count: number) => void,
    private readonly queued: (depth: number) => void = () => {},
  ) {}

  /** Attached pipes, in attach order. */
  pipes(): Pipe[] {
    return [...this.out.keys()];
  }

  has(pipe: Pipe): boolean {
    return this.out.has(pipe);
  }

  attach(pipe: Pipe): void {
    this.out.set(pipe, { msgs: [], waiters: [] });
  }

  detach(pipe: Pipe): void {
    const q = this.out.get(pipe);
    this.out.delete(pipe);
    if (q === undefined) return;
    // Answers to a vanished requester are dropped; their sends still succeed.
    this.dropped(q.msgs.length + q.waiters.length);
    for (const w of q.waiters) {
      if (w.timer !== undefined) this.socket.env.clearTimer(w.timer);
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

  /**
   * Sends `msg` on `pipe` for a context: at once if the pipe takes it, else queued while there is
   * room, else dropped (BEST-EFFORT) or the sender waits, up to the context's SEND-DEADLINE.
   */
  send(ctx: Context, pipe: Pipe, msg: Message, done: Deferred<void>): void {
    const q = this.out.get(pipe);
    if (q === undefined) {
      this.dropped(1);
      done.resolve();
      return;
    }
    const cap = this.socket.getOption('WRITEQ-LEN');
    if (q.msgs.length === 0 && q.waiters.length === 0 && pipe.ready && pipe.send(msg)) {
      done.resolve();
      return;
    }
    if (q.waiters.length === 0 && q.msgs.length < cap) {
      q.msgs.push(msg);
      this.queued(q.msgs.length);
      done.resolve();
      return;
    }
    if (this.socket.getOption('BEST-EFFORT')) {
      this.dropped(1);
      done.resolve();
      return;
    }
    const waiter: PipeOut['waiters'][number] = { msg, done, timer: undefined };
    const deadline = ctx.option('SEND-DEADLINE');
    if (deadline !== null) {
      waiter.timer = this.socket.env.setTimer(
        deadline,
        () => {
          const i = q.waiters.indexOf(waiter);
          if (i >= 0) q.waiters.splice(i, 1);
          done.reject(spError('ErrSendTimeout', `${this.noun} not queued within ${deadline} us`));
        },
        'sp-send-deadline',
      );
    }
    q.waiters.push(waiter);
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
        if (w.timer !== undefined) this.socket.env.clearTimer(w.timer);
        q.msgs.push(w.msg);
        this.queued(q.msgs.length);
        w.done.resolve();
        moved = true;
        if (cap === 0) break;
      }
      // Answers that moved in from blocked senders go out now while the pipe takes them: the pipe
      // may stay ready (no further writable event), and they would wait forever (found by the
      // backpressure/rep-reply-queue property: a REQ pipelining into a REP with WRITEQ-LEN 1).
      if (!moved || !pipe.ready || q.msgs.length === 0) return;
    }
  }
}
