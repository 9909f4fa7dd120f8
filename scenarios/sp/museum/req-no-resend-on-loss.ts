/**
 * A REQ that does not resend when the pipe carrying its request goes away, but waits for RETRY-TIME
 * (nanomsg#87: resend immediately on pipe loss; mangos-v1#304 backed the immediate resend out).
 */
import type { Socket } from '../../../impl/sp/core/socket.js';
import { openReq0, Req0 } from '../../../impl/sp/protocol/req0.js';
import type { ImplVariant } from '../actors.js';

class LazyReq0 extends Req0 {
  protected override pipeLost(): void {
    // The resend timer keeps running: the request goes out again only when RETRY-TIME expires.
  }
}

export const REQ_NO_RESEND_ON_LOSS: ImplVariant = {
  summary: 'nanomsg#87, mangos-v1#304: REQ waits for RETRY-TIME instead of resending when its pipe is lost',
  family: 'resend',
  socket: (spec) =>
    spec.protocol === 'req0'
      ? { open: (env, options) => openReq0(env, options, (s: Socket) => new LazyReq0(s)) }
      : undefined,
};
