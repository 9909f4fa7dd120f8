/**
 * The socket's receive path: received messages not yet taken by recv() (READQ-LEN pauses the pipe
 * that fills the queue; TCP's window carries the backpressure to the sender), receivers waiting
 * with their RECV-DEADLINE, and the paused pipes resumed once there is room again. Protocols
 * deliver through the socket (deliver, enqueueReceived, takeReceived), which lands here.
 */
import type { Deferred, Env, TimerHandle } from '../../runtime/env.js';
import { spError } from '../errors.js';
import type { OptionStore } from '../options.js';
import type { Message } from './message.js';
import type { Pipe } from './pipe.js';

interface RecvWaiter {
  done: Deferred<Message>;
  timer: TimerHandle | undefined;
}

/** What the receive path uses of its socket (the Socket itself, seen narrowly). */
export interface RecvQueueOwner {
  readonly env: Env;
  readonly options: OptionStore;
}

export class RecvQueue {
  /**
   * Received messages not yet taken by recv(): the socket's recvQ. The pipe whose message fills it
   * to READQ-LEN pauses; every other pipe may still add the one message it was delivering, so the
   * bound is READQ-LEN plus (pipes - 1), as with mangos, whose per-pipe readers each hold one message.
   */
  readonly items: Message[] = [];
  private readonly waiters: RecvWaiter[] = [];
  /** Pipes paused because the queue was full. */
  private readonly pausedPipes = new Set<Pipe>();

  constructor(private readonly owner: RecvQueueOwner) {}

  /** Settles `done` with the oldest queued message, or waits for one up to `deadlineUs` (null: forever). */
  recv(done: Deferred<Message>, deadlineUs: number | null): void {
    const msg = this.items.shift();
    if (msg !== undefined) {
      done.resolve(msg);
      this.resumePipes();
      return;
    }
    const waiter: RecvWaiter = { done, timer: undefined };
    const deadline = deadlineUs;
    if (deadline !== null) {
      waiter.timer = this.owner.env.setTimer(
        deadline,
        () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          done.reject(spError('ErrRecvTimeout', `nothing received within ${deadline} us`));
        },
        'sp-recv-deadline',
      );
    }
    this.waiters.push(waiter);
  }

  /** A message for the application: to the oldest waiting receiver, else into the queue. */
  deliver(pipe: Pipe, msg: Message): void {
    const w = this.waiters.shift();
    if (w !== undefined) {
      if (w.timer !== undefined) this.owner.env.clearTimer(w.timer);
      w.done.resolve(msg);
      return;
    }
    this.items.push(msg);
    if (this.items.length >= this.owner.options.get('READQ-LEN')) {
      // Full: stop reading this pipe; TCP's window carries the backpressure to the sender.
      pipe.pauseRecv();
      this.pausedPipes.add(pipe);
    }
  }

  /** Queues a received message (pausing its pipe when the queue is full), bypassing waiters. */
  enqueue(pipe: Pipe, msg: Message): void {
    this.items.push(msg);
    if (this.items.length >= this.owner.options.get('READQ-LEN')) {
      pipe.pauseRecv();
      this.pausedPipes.add(pipe);
    }
  }

  /** Takes the oldest received message, resuming paused pipes when there is room again. */
  take(): Message | undefined {
    const msg = this.items.shift();
    if (msg !== undefined) this.resumePipes();
    return msg;
  }

  /** A pipe went away: it is no longer paused by this queue. */
  forget(pipe: Pipe): void {
    this.pausedPipes.delete(pipe);
  }

  /** The socket closed: every waiting receiver fails with ErrClosed. */
  failWaiters(): void {
    for (const w of this.waiters.splice(0)) {
      if (w.timer !== undefined) this.owner.env.clearTimer(w.timer);
      w.done.reject(spError('ErrClosed', 'socket closed while receiving'));
    }
  }

  private resumePipes(): void {
    // Room means fewer than max(READQ-LEN, 1) queued: with READQ-LEN 0 the queue (which then holds the
    // one message that found no recv waiting) has room once it is empty; `>= 0` would never resume.
    const room = Math.max(this.owner.options.get('READQ-LEN'), 1);
    if (this.pausedPipes.size === 0 || this.items.length >= room) return;
    const paused = [...this.pausedPipes];
    this.pausedPipes.clear();
    for (const p of paused) p.resumeRecv();
  }
}
