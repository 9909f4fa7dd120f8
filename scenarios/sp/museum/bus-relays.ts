/**
 * A cooked BUS that relays: every message it receives also goes out to its other pipes, as a naive
 * "bus = everyone hears everything" implementation (or a raw-bus hub device wired in by mistake)
 * does. The BUS RFC and both mangos and nng forbid it: a cooked BUS delivers to its application
 * only ([W] nngcat hub: the other dialer got nothing); a relay doubles traffic and, in a loop,
 * circulates forever. Composed from the real BUS through a protocol subclass.
 */
import { newMessage, type Message } from '../../../impl/sp/core/message.js';
import type { Pipe } from '../../../impl/sp/core/pipe.js';
import type { Socket } from '../../../impl/sp/core/socket.js';
import { Bus0, openBus0 } from '../../../impl/sp/protocol/bus.js';
import type { ImplVariant } from '../actors.js';

class RelayingBus0 extends Bus0 {
  override pipeMessage(pipe: Pipe, msg: Message): void {
    super.pipeMessage(pipe, msg);
    this.broadcast(newMessage(msg.body), pipe.id);
  }
}

export const BUS_RELAYS: ImplVariant = {
  summary: 'cooked BUS forwards every received message to its other peers (relaying)',
  family: 'framing',
  socket: (spec) =>
    spec.protocol === 'bus0'
      ? { open: (env, options) => openBus0(env, options, (s: Socket) => new RelayingBus0(s, false)) }
      : undefined,
};
