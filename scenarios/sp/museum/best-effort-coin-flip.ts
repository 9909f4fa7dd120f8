/**
 * museum/best-effort-coin-flip — mangos v3's BEST-EFFORT send put the message on the send queue in a
 * select with a default case that raced the queue's consumer, so about half of the messages were
 * dropped even when the queue had room (netlab drops only on a full queue: impl/sp/README.md).
 *
 * Composed without touching the stack: the real protocol socket is opened, and with BEST-EFFORT on
 * its sendMsg (which send() calls) loses the race with probability 1/2, drawn from the host's
 * seeded stream 'museum/coin', resolving as if the message had been accepted.
 */
import type { Env } from '../../../impl/runtime/env.js';
import type { Message } from '../../../impl/sp/core/message.js';
import type { Socket, SocketOptions } from '../../../impl/sp/core/socket.js';
import { OPENERS, type ImplVariant } from '../actors.js';

export const BEST_EFFORT_COIN_FLIP: ImplVariant = {
  summary:
    'mangos v3: BEST-EFFORT send raced the queue in a select with a default case, dropping ~50 % with room to spare',
  family: 'backpressure',
  socket(spec) {
    const openReal = OPENERS[spec.protocol];
    return {
      open(env: Env, options: SocketOptions): Socket {
        const socket = openReal(env, options);
        const coin = env.random('museum/coin');
        const sendMsg = socket.sendMsg.bind(socket);
        socket.sendMsg = (msg: Message): Promise<void> => {
          if (!socket.getOption('BEST-EFFORT') || socket.closed || coin.next() >= 0.5) return sendMsg(msg);
          // The default case won: the message is gone, and the caller is told it was sent.
          const dropped = env.defer<void>();
          dropped.resolve();
          return dropped.promise;
        };
        return socket;
      },
    };
  },
};
