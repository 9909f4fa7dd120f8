/**
 * A PUB whose send waits for room instead of dropping: when a subscriber's per-pipe queue is full,
 * send blocks until that subscriber drains, so one slow subscriber stalls the publisher and, through
 * it, every other subscriber (mangos-v1#219 "pub blocked"; nng#459, where SUB pushed back through
 * TCP). The backpressure family's pubsub.publisher-never-blocks catches it.
 */
import type { Message } from '../../../impl/sp/core/message.js';
import type { Pipe } from '../../../impl/sp/core/pipe.js';
import type { Context, Socket } from '../../../impl/sp/core/socket.js';
import { openPub0, Pub0 } from '../../../impl/sp/protocol/pubsub.js';
import type { ImplVariant } from '../actors.js';

class BlockingPub0 extends Pub0 {
  private readonly waiting: { msg: Message; resolve: () => void }[] = [];

  private roomEverywhere(): boolean {
    const cap = this.socket.getOption('WRITEQ-LEN');
    return [...this.out.values()].every((q) => q.length < cap);
  }

  override sendMsg(ctx: Context, msg: Message): Promise<void> {
    if (this.waiting.length === 0 && this.roomEverywhere()) return super.sendMsg(ctx, msg);
    const done = this.env().defer<void>();
    this.waiting.push({ msg, resolve: () => done.resolve() });
    return done.promise;
  }

  override pipeReady(pipe: Pipe): void {
    super.pipeReady(pipe);
    while (this.waiting.length > 0 && this.roomEverywhere()) {
      const w = this.waiting.shift()!;
      void super.sendMsg(this.socket.defaultContext, w.msg).then(w.resolve);
    }
  }
}

export const PUB_BLOCKS_ON_SLOW_SUB: ImplVariant = {
  summary:
    'PUB send waits for room in a full subscriber queue instead of dropping (a slow subscriber stalls all)',
  family: 'backpressure',
  socket: (spec) =>
    spec.protocol === 'pub0'
      ? { open: (env, options) => openPub0(env, options, (s: Socket) => new BlockingPub0(s)) }
      : undefined,
};
