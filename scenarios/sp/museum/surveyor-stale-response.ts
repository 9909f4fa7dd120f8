/**
 * A SURVEYOR that collects a response to an older survey as one to the current survey: it checks only
 * that the response carries a survey id it once issued, not that the id is the live survey's (the
 * surveyor RFC, sp-surveyor-01, has responses whose id is not the current survey's ignored). A slow
 * respondent's late answer is then taken for an answer to the question asked now.
 */
import type { Socket } from '../../../impl/sp/core/socket.js';
import { openSurveyor0, Surveyor0, type Survey } from '../../../impl/sp/protocol/survey.js';
import type { ImplVariant } from '../actors.js';

class StaleResponseSurveyor0 extends Surveyor0 {
  /** Every survey id this socket ever sent out. */
  private readonly issued = new Set<number>();

  protected override newId(): number {
    const id = super.newId();
    this.issued.add(id);
    return id;
  }

  protected override surveyForResponse(id: number): Survey | undefined {
    const live = super.surveyForResponse(id);
    if (live !== undefined) return live;
    // Any id of ours counts: the answer goes to whatever survey runs now.
    return this.issued.has(id) ? [...this.byId.values()].at(-1) : undefined;
  }
}

export const SURVEYOR_STALE_RESPONSE: ImplVariant = {
  summary: 'SURVEYOR collects a late response to an older survey as an answer to the current one',
  family: 'resend',
  socket: (spec) =>
    spec.protocol === 'surveyor0'
      ? {
          open: (env, options) => openSurveyor0(env, options, (s: Socket) => new StaleResponseSurveyor0(s)),
        }
      : undefined,
};
