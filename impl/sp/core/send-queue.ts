/**
 * The socket's own send path (protocols without sendMsg of their own: PAIR0, PAIR1, PUSH, XREQ...):
 * the queue of messages accepted by send() and not yet handed to a pipe, bounded by WRITEQ-LEN;
 * senders waiting for room, each with its SEND-DEADLINE; BEST-EFFORT drops when full; and the
 * refill from waiting senders as the protocol takes messages. The protocol reads the queue as the
 * socket's `sendQ` and calls `socket.refillSendQ()` after taking from it.
 */
import { assert } from '../../runtime/assert.js';
import type { Deferred, Env, TimerHandle } from '../../runtime/env.js';
import { spError } from '../errors.js';
import type { OptionStore } from '../options.js';
import type { Message } from './message.js';

interface SendWaiter {
  msg: Message;
  done: Deferred<void>;
  timer: TimerHandle | undefined;
}

/** What the send path uses of its socket (the Socket itself, seen narrowly). */
export interface SendQueueOwner {
  readonly env: Env;
  readonly options: OptionStore;
  readonly protocol: { readonly info: { readonly name: string }; pumpSend(): void };
}

export class SendQueue {
  /** Messages accepted by send() and not yet handed to a pipe (bounded by WRITEQ-LEN): the socket's sendQ. */
  readonly items: Message[] = [];
  /** Senders waiting for room in the queue. */
  private readonly waiters: SendWaiter[] = [];
  /**
   * max(WRITEQ-LEN, 1) when a message last went in. Only this class adds messages, and only below
   * that bound, while the protocol only takes them out; so the queue never holds more than this,
   * even after WRITEQ-LEN is lowered (checked where messages are produced and where consumed).
   */
  private boundAtLastPush = 0;

  constructor(private readonly owner: SendQueueOwner) {}

  /** Queues `msg`, hands it on, drops it (best effort) or makes its sender wait; settles `done`. */
  send(msg: Message, done: Deferred<void>): void {
    const { env, options, protocol } = this.owner;
    const cap = options.get('WRITEQ-LEN');
    if (this.waiters.length === 0 && this.items.length < cap) {
      this.push(msg, cap);
      protocol.pumpSend();
      done.resolve();
      return;
    }
    // No room: hand the message straight to a ready pipe if the queue is empty (WRITEQ-LEN 0).
    if (this.items.length === 0 && this.waiters.length === 0) {
      this.push(msg, cap);
      protocol.pumpSend();
      if (this.items.length === 0) {
        done.resolve();
        return;
      }
      this.items.pop();
    }
    if (options.get('BEST-EFFORT')) {
      // Best effort drops only when the queue is full, never by chance (unlike mangos' select race).
      env.trace({
        kind: 'note',
        text: `sp ${protocol.info.name}: best-effort send dropped (queue full)`,
      });
      done.resolve();
      return;
    }
    const waiter: SendWaiter = { msg, done, timer: undefined };
    const deadline = options.get('SEND-DEADLINE');
    if (deadline !== null) {
      waiter.timer = env.setTimer(
        deadline,
        () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          done.reject(spError('ErrSendTimeout', `send did not complete within ${deadline} us`));
        },
        'sp-send-deadline',
      );
    }
    this.waiters.push(waiter);
  }

  /**
   * The protocol took messages from the queue: refill it from waiting senders. With WRITEQ-LEN 0 a
   * waiter's message goes straight to the protocol when a pipe can take it.
   */
  refill(): void {
    const { env, options, protocol } = this.owner;
    // Consumed: the protocol took messages out (it never puts any in).
    assert(this.items.length <= this.boundAtLastPush, 'the send queue stays within WRITEQ-LEN');
    const cap = options.get('WRITEQ-LEN');
    while (this.waiters.length > 0 && this.items.length < Math.max(cap, 1)) {
      if (cap === 0 && this.items.length > 0) break;
      const w = this.waiters.shift()!;
      this.push(w.msg, cap);
      if (cap === 0) {
        // Resolve only once a pipe actually took it.
        const before = this.items.length;
        protocol.pumpSend();
        if (this.items.length >= before) {
          this.items.pop();
          // Back in line, deadline still running: the timer is cleared only once the message is taken.
          this.waiters.unshift(w);
          break;
        }
      }
      if (w.timer !== undefined) env.clearTimer(w.timer);
      w.done.resolve();
    }
  }

  /** Produced: a message goes in, below max(WRITEQ-LEN, 1). */
  private push(msg: Message, cap: number): void {
    this.items.push(msg);
    this.boundAtLastPush = Math.max(cap, 1);
    assert(this.items.length <= this.boundAtLastPush, 'the send queue stays within WRITEQ-LEN');
  }

  /** The socket closed: every waiting sender fails with ErrClosed. */
  failWaiters(): void {
    for (const w of this.waiters.splice(0)) {
      if (w.timer !== undefined) this.owner.env.clearTimer(w.timer);
      w.done.reject(spError('ErrClosed', 'socket closed while sending'));
    }
  }
}
