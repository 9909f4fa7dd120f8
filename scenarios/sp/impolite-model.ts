/**
 * The impolite application behaviours a scenario socket may have (`app.impolite`, optional): what a
 * real application does that a polite workload never does. A REQ spreads its requests over several
 * contexts with requests outstanding at once, abandons a request whose reply is late (sends the next
 * one on the same context, which cancels it) or closes the context under a pending receive; a
 * SURVEYOR starts the next survey before SURVEY-TIME is over; a sender closes the socket right after
 * its last send; a receiver keeps a receive pending into the close. Each of these is an action in the
 * run's ledger (scenarios/actions.ts), so one that never ends is a finding naming it. The actors are
 * scenarios/sp/impolite-actors.ts; the checks, scenarios/sp/families/impolite.ts.
 */
import { z } from 'zod';
import { MAX_US, us } from '../model.js';
import type { ConnWrites } from './models/tap.js';

/** Most contexts an impolite REQ uses at once (each is one lane of requests, in workload order). */
export const MAX_IMPOLITE_CONTEXTS = 8;

export const impoliteAppSchema = z.strictObject({
  /**
   * REQ senders: workload item i goes to context i mod `contexts` (opened with openContext), each
   * context sends its own items one after another, so up to `contexts` requests are outstanding at
   * once. Absent: the socket's own (default) context. REP echo receivers: that many contexts each
   * receive and answer in a loop of their own (their receives are recorded in ImpoliteObs.recvs).
   */
  contexts: z.number().int().min(1).max(MAX_IMPOLITE_CONTEXTS).optional(),
  /**
   * REQ and SURVEYOR senders: a request (survey) that has not ended this long after its send is
   * given up: the next item is sent at once (its gap skipped) on the same context (cancelling it: its pending receive must
   * fail with ErrCanceled at once, its reply never reach the application), or, for the items
   * `closeContextEvery` picks, the context is closed (the pending receive must fail with ErrClosed;
   * a new context takes the lane's remaining items). A context's last item is never given up.
   */
  abandonAfterUs: us(MAX_US).optional(),
  /** REQ senders with abandonAfterUs: items i with (i + 1) mod n = 0 close their context instead. */
  closeContextEvery: z.number().int().min(1).max(1024).optional(),
  /** Senders: close the socket the moment the last send is accepted (LINGER decides what goes out). */
  closeAfterSend: z.boolean().optional(),
  /**
   * Sink and echo receivers: each receive is an action in the ledger, so one still pending after the
   * socket's close (closeAtUs) is a finding; how the receive that was pending at the close ended is
   * recorded.
   */
  watchRecv: z.boolean().optional(),
});

export type ImpoliteApp = z.infer<typeof impoliteAppSchema>;

/** One request (REQ) or survey (SURVEYOR) of an impolite sender, as its application saw it. */
export interface ImpoliteRequest {
  /** Workload index. */
  index: number;
  /** The context lane it went out on (0 for the socket's own context). */
  lane: number;
  /** How many times the lane's context had been replaced (closed and reopened) before it. */
  generation: number;
  /** When the send was called / accepted (virtual µs). */
  sentAtUs: number;
  acceptedAtUs: number | null;
  /** When the next send on the same context was called while this one's receive was pending. */
  cancelledAtUs: number | null;
  /** When its context was closed while its receive was pending. */
  contextClosedAtUs: number | null;
  /** When its receive (REQ: the reply; SURVEYOR: the collection) ended, and how. */
  endedAtUs: number | null;
  /** 'reply' (REQ got its reply), 'expired' (SURVEYOR: ErrTimedOut), or the error code. */
  ending: string | null;
}

/** What an impolite socket observed beyond the common SocketObs. */
export interface ImpoliteObs {
  requests: ImpoliteRequest[];
  /** Sockets that close by themselves: when close() was called and when it resolved. */
  closeCalledAtUs: number | null;
  closeEndedAtUs: number | null;
  /**
   * Its connections as close() resolved (what their writes had accepted by then), in the socket
   * incarnation `o.wire[incarnation]` that closed.
   */
  closeConns?: { incarnation: number; conns: ConnWrites[] };
  /** Receivers (watchRecv): the receive pending at the close, how and when it ended. */
  recvAtClose: { ending: string | null; endedAtUs: number | null } | null;
  /** REP echo with contexts: every receive of every context, in the order they began. */
  recvs?: { lane: number; beganAtUs: number; endedAtUs: number | null; got: boolean }[];
}

/**
 * Where each impolite behaviour makes sense (scenario validation): the reason a socket's
 * `app.impolite` is wrong, or null.
 */
export function impoliteAppProblem(protocol: string, kind: string, a: ImpoliteApp): string | null {
  const sender = kind === 'send';
  if (kind === 'device') return 'a device has no impolite application';
  if (
    a.contexts !== undefined &&
    !((sender && protocol === 'req0') || (kind === 'echo' && protocol === 'rep0'))
  )
    return 'contexts: only a req0 sender or a rep0 echo uses several contexts';
  if (a.abandonAfterUs !== undefined && !(sender && (protocol === 'req0' || protocol === 'surveyor0')))
    return 'abandonAfterUs: only a req0 or surveyor0 sender gives up a request or survey';
  if (a.closeContextEvery !== undefined && (protocol !== 'req0' || a.abandonAfterUs === undefined))
    return 'closeContextEvery: only a req0 sender with abandonAfterUs closes contexts';
  if (a.closeAfterSend === true && !sender) return 'closeAfterSend: only a sender closes after its last send';
  if (a.watchRecv === true && kind !== 'sink' && kind !== 'echo')
    return 'watchRecv: only a sink or echo receiver watches its receives';
  return null;
}
