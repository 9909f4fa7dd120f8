/**
 * A SUB whose unsubscribe does not purge its receive queue: messages queued before the unsubscribe
 * that only the dropped topic matched are still delivered afterwards (mangos tests this as
 * SubUnsubscribeDrops; sp.md §6 item 33). The framing family's pubsub.in-order-matching catches it.
 */
import type { Socket } from '../../../impl/sp/core/socket.js';
import { openSub0, Sub0 } from '../../../impl/sp/protocol/pubsub.js';
import type { ImplVariant } from '../actors.js';

class LeakySub0 extends Sub0 {
  protected override purge(): void {
    // The planted bug: queued messages are left alone, matching or not.
  }
}

export const SUB_UNSUBSCRIBE_LEAK: ImplVariant = {
  summary: 'SUB unsubscribe leaves queued messages of the dropped topic in its queue (delivered afterwards)',
  family: 'framing',
  socket: (spec) =>
    spec.protocol === 'sub0'
      ? { open: (env, options) => openSub0(env, options, (s: Socket) => new LeakySub0(s)) }
      : undefined,
};
