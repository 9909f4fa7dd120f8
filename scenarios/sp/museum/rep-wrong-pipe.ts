/**
 * A REP that sends each reply on the most recently attached pipe instead of the pipe its request
 * came from: with two or more requesters, replies go to the wrong one (who drops them as unknown)
 * and the right one resends forever.
 */
import type { Pipe } from '../../../impl/sp/core/pipe.js';
import type { Socket } from '../../../impl/sp/core/socket.js';
import { openRep0, Rep0 } from '../../../impl/sp/protocol/rep0.js';
import type { ImplVariant } from '../actors.js';

class WrongPipeRep0 extends Rep0 {
  protected override replyPipe(requestPipe: Pipe): Pipe {
    return this.outbox.pipes().at(-1) ?? requestPipe;
  }
}

export const REP_WRONG_PIPE: ImplVariant = {
  summary:
    "REP replies on the most recently attached pipe, not the request's (cross-talk between requesters)",
  family: 'resend',
  socket: (spec) =>
    spec.protocol === 'rep0'
      ? { open: (env, options) => openRep0(env, options, (s: Socket) => new WrongPipeRep0(s)) }
      : undefined,
};
