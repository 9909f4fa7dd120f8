/**
 * The reference model of PUSH0 / PULL0 (and their raw variants), sp.md §3 "pipeline": PUSH hands
 * each message, in the order the application sent it, to exactly one ready pipe, round-robin; it
 * never drops one (a full queue blocks the sender; only a failed send or a BEST-EFFORT send at a full
 * queue vanishes), never leaves a message waiting while a pipe is idle, never gives one puller a
 * second message while another has been waiting idle since before its first. PULL never drops: the
 * application gets what arrived, in arrival order, each once and intact.
 *
 * `queuedSender` is the send side shared with the one-peer protocols (PAIR0, PAIR1 mono): one FIFO
 * of sends, each going out once on some idle pipe.
 */
import {
  Readiness,
  deliveredAsArrived,
  describe,
  pipeDiscipline,
  sameBytes,
  type SocketRun,
} from './core.js';
import type { WireEvent } from './tap.js';

export interface QueuedSenderRules {
  /** Round-robin: no pipe gets two messages while another waited idle since before the first. */
  fair: boolean;
  /** At most one pipe attached at a time (PAIR mono). */
  onePeer: boolean;
  /** The application's body in an outgoing message (a PAIR1 hop count is not part of it). */
  outBody(e: Extract<WireEvent, { k: 'out' }>): Uint8Array;
  /** The application's body of a send (a raw sender's header is not part of it). */
  sendBody(e: Extract<WireEvent, { k: 'send' }>): Uint8Array;
  /** A send the protocol discards by its rules (a raw PAIR1 hop count at TTL). */
  discards?(e: Extract<WireEvent, { k: 'send' }>): boolean;
}

/** The send side of a queueing protocol: see the module comment. */
export function queuedSender(run: SocketRun, rules: QueuedSenderRules): string | null {
  const bad = pipeDiscipline(run);
  if (bad !== null) return bad;
  const ready = new Readiness();
  const pending: { body: Uint8Array; index: number; mayVanish: boolean; goneAtUs: number | null }[] = [];
  let sendIndex = 0;
  let closed = false;
  let attached = 0;
  const events = run.events;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    switch (e.k) {
      case 'attach':
        attached++;
        if (rules.onePeer && attached > 1)
          return `accepted pipe ${e.pipe} at ${e.t} µs while another pipe was attached (one peer at a time)`;
        break;
      case 'detach':
        attached--;
        break;
      case 'send': {
        const v = run.sends[sendIndex] ?? { mayVanish: true, goneAtUs: null };
        if (rules.discards?.(e) === true)
          pending.push({ body: rules.sendBody(e), index: sendIndex, mayVanish: true, goneAtUs: e.t });
        else pending.push({ body: rules.sendBody(e), index: sendIndex, ...v });
        sendIndex++;
        break;
      }
      case 'close':
        closed = true;
        break;
      case 'out': {
        if (!ready.idle(e.pipe))
          return `sent ${describe(e.body)} on pipe ${e.pipe} at ${e.t} µs while that pipe was still busy with its last message`;
        const body = rules.outBody(e);
        const at = pending.findIndex((p) => sameBytes(p.body, body));
        if (at < 0)
          return `sent ${describe(body)} on pipe ${e.pipe} at ${e.t} µs, which is no message the application sent and had not gone out yet (duplicate, corrupted or invented)`;
        const skipped = pending.slice(0, at).find((p) => !p.mayVanish);
        if (skipped !== undefined)
          return `sent message #${pending[at]!.index} on pipe ${e.pipe} at ${e.t} µs before #${skipped.index}, which was sent earlier and never failed (out of order, or dropped)`;
        if (rules.fair) {
          const last = ready.lastOut.get(e.pipe) ?? -1;
          for (const [q, since] of ready.idleSince)
            if (q !== e.pipe && last >= 0 && since < last)
              return `gave pipe ${e.pipe} message #${pending[at]!.index} at ${e.t} µs, its second while pipe ${q} had been idle since before its first (not round-robin)`;
        }
        pending.splice(0, at + 1);
        break;
      }
      case 'step': {
        if (closed) break;
        const waiting = pending.find((p) => p.goneAtUs === null || p.goneAtUs > e.t);
        const idle = ready.anyIdle();
        if (waiting !== undefined && idle !== undefined)
          return `message #${waiting.index} (${describe(waiting.body)}) was waiting at ${e.t} µs while pipe ${idle} was idle (a message must go to a ready pipe)`;
        break;
      }
      default:
        break;
    }
    ready.apply(e, i);
  }
  return null;
}

const whole = (e: { body: Uint8Array }): Uint8Array => e.body;

/** PUSH0 / XPUSH0 senders and PULL0 / XPULL0 receivers. */
export function pipelineModel(run: SocketRun): string | null {
  if (run.protocol === 'push0' || run.protocol === 'xpush0')
    return queuedSender(run, { fair: true, onePeer: false, outBody: whole, sendBody: whole });
  if (run.protocol === 'pull0' || run.protocol === 'xpull0')
    return pipeDiscipline(run) ?? deliveredAsArrived(run, whole);
  return null;
}
