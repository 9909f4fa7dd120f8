/**
 * Checks: named invariants with a stable id, the requirement they enforce, and always / eventually
 * semantics, evaluated on a run's observations. "always" checks must hold whatever the faults;
 * "eventually" checks must hold once every fault has healed and the liveness phase has passed, and
 * apply only when no fault in the plan destroys accepted data (a reset or a crash loses bytes in
 * flight by design).
 */
import type { FaultRecord } from '../sim/fault-plan.js';
import type { Scenario } from './model.js';

export interface Observations {
  /** Every message (request) the client tried, by index. */
  sent: Uint8Array[];
  /** Indexes whose send() resolved. */
  accepted: number[];
  /** What the server's application received, in order. */
  received: Uint8Array[];
  /** REQ/REP: the reply each completed request got. */
  replies: { index: number; reply: Uint8Array }[];
  errors: string[];
  /** When the client finished its workload (virtual us), or null. */
  completedAtUs: number | null;
}

export type CheckKind = 'always' | 'eventually';
export type CheckStatus = 'pass' | 'fail' | 'not-applicable';

export interface CheckResult {
  id: string;
  kind: CheckKind;
  requirement: string;
  status: CheckStatus;
  expected: string | null;
  actual: string | null;
}

export interface CheckContext {
  endUs: number;
  healedAtUs: number;
  faults: FaultRecord[];
  reason: string;
}

function equal(a: Uint8Array, b: Uint8Array | undefined): boolean {
  if (b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const LOSSY_FAULTS = new Set(['reset', 'crash', 'restart']);

/** Index of the sent message equal to `m`, searching from `from` (messages are distinct by content+size). */
function indexOf(sent: Uint8Array[], m: Uint8Array, from: number): number {
  for (let i = from; i < sent.length; i++) if (equal(sent[i]!, m)) return i;
  return -1;
}

export function evaluateChecks(scenario: Scenario, obs: Observations, ctx: CheckContext): CheckResult[] {
  const lossy = ctx.faults.some((f) => f.startUs !== null && LOSSY_FAULTS.has(f.kind));
  const out: CheckResult[] = [];
  if (scenario.protocol === 'pair0') {
    // Received must be a subsequence of sent: intact, in order, no duplicates, nothing invented.
    let next = 0;
    let bad: string | null = null;
    for (let r = 0; r < obs.received.length; r++) {
      const at = indexOf(obs.sent, obs.received[r]!, next);
      if (at < 0) {
        bad = `received message #${r} (${obs.received[r]!.length} bytes) is not the next sent message, intact and in order`;
        break;
      }
      next = at + 1;
    }
    out.push({
      id: 'pair0.intact-in-order',
      kind: 'always',
      requirement:
        'PAIR0 delivers messages intact, in order, without duplicates, under any chunking and partial writes',
      status: bad === null ? 'pass' : 'fail',
      expected: 'received is an in-order subsequence of sent',
      actual: bad,
    });
    const delivered = obs.received.length;
    const allAccepted = obs.accepted.length;
    out.push({
      id: 'pair0.all-delivered',
      kind: 'eventually',
      requirement:
        'after faults heal, every accepted message reaches the peer (when no fault destroys data in flight)',
      status: lossy
        ? 'not-applicable'
        : delivered === allAccepted && allAccepted === obs.sent.length
          ? 'pass'
          : 'fail',
      expected: `${obs.sent.length} messages accepted and delivered`,
      actual: `${allAccepted} accepted, ${delivered} delivered${obs.errors.length ? `; errors: ${obs.errors.slice(0, 3).join('; ')}` : ''}`,
    });
  } else {
    let bad: string | null = null;
    for (const { index, reply } of obs.replies) {
      if (!equal(obs.sent[index]!, reply)) {
        bad = `request #${index} got a reply that is not its echo (${reply.length} bytes)`;
        break;
      }
    }
    const seen = new Set(obs.replies.map((r) => r.index));
    if (bad === null && seen.size !== obs.replies.length) bad = 'a request got more than one reply';
    out.push({
      id: 'reqrep.one-reply-per-request',
      kind: 'always',
      requirement: 'a REQ gets exactly one reply per completed request, and it answers that request',
      status: bad === null ? 'pass' : 'fail',
      expected: 'each completed request has exactly one reply, equal to its echo',
      actual: bad,
    });
    out.push({
      id: 'reqrep.all-answered',
      kind: 'eventually',
      requirement: 'after faults heal, every request is answered (REQ resends; REP answers)',
      status: obs.replies.length === obs.sent.length ? 'pass' : 'fail',
      expected: `${obs.sent.length} replies`,
      actual: `${obs.replies.length} replies${obs.errors.length ? `; errors: ${obs.errors.slice(0, 3).join('; ')}` : ''}`,
    });
  }
  return out;
}
