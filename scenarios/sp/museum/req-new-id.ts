/**
 * A REQ that resends a request under a new id: a late reply to the first transmission no longer
 * matches, and the REP sees one request as two (mangos-v1#299/#300: REP saw each request twice,
 * spurious double transmissions).
 */
import type { Socket } from '../../../impl/sp/core/socket.js';
import { openReq0, Req0 } from '../../../impl/sp/protocol/req0.js';
import type { ImplVariant } from '../actors.js';

class NewIdReq0 extends Req0 {
  protected override idForResend(): number {
    return this.newId();
  }
}

export const REQ_NEW_ID: ImplVariant = {
  summary: 'REQ resends a request under a new request id, so REP sees it twice (cf. mangos-v1#299/#300)',
  family: 'resend',
  socket: (spec) =>
    spec.protocol === 'req0'
      ? { open: (env, options) => openReq0(env, options, (s: Socket) => new NewIdReq0(s)) }
      : undefined,
};
