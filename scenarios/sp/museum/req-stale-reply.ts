/**
 * A REQ that hands a reply whose id matches no live request to the request outstanding now: a late
 * duplicate answer to an older request is taken as the current one's reply (matching a reply by
 * "some request is waiting" rather than by its id; mangos-v1#197 on why ids must be matched exactly).
 */
import type { Socket } from '../../../impl/sp/core/socket.js';
import { openReq0, Req0, type Outstanding } from '../../../impl/sp/protocol/req0.js';
import type { ImplVariant } from '../actors.js';

class StaleReplyReq0 extends Req0 {
  protected override requestForReply(id: number): Outstanding | undefined {
    const exact = super.requestForReply(id);
    if (exact !== undefined) return exact;
    // Any reply-shaped message answers whatever request is outstanding.
    return id >= 0x8000_0000 ? [...this.byId.values()].at(-1) : undefined;
  }
}

export const REQ_STALE_REPLY: ImplVariant = {
  summary:
    "REQ delivers a stale reply (to an older request id) as the current request's reply (mangos-v1#197)",
  family: 'impolite',
  socket: (spec) =>
    spec.protocol === 'req0'
      ? { open: (env, options) => openReq0(env, options, (s: Socket) => new StaleReplyReq0(s)) }
      : undefined,
};
