/**
 * The receive side REP and RESPONDENT share: lockstep contexts that each take one request (or
 * survey) at a time, remember its backtrace and pipe for the reply, wait in arrival order when
 * nothing is queued, and time out with RECV-DEADLINE. The send side (per-pipe reply queues) stays
 * with each protocol, where the museum hooks in.
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
