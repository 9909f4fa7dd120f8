/**
 * The impolite family: workloads that do what real applications do and polite ones never do
 * (issue #18). A REQ with several REPs (some slow, stalled or closing) abandons late requests; a
 * REQ spreads requests over several contexts and closes contexts under pending receives; a
 * SURVEYOR starts surveys faster than SURVEY-TIME; a PUSH closes right after its last send, with
 * and without LINGER; sockets close under pending sends and receives; many PUSHes fan in to one
 * PULL with a tiny READQ-LEN and a slow consumer; a PUSH feeds several PULLs some of which stall.
 *
 * The applications are scenarios/sp/impolite-actors.ts (app.impolite, scenarios/sp/impolite-model.ts);
 * every send, reply, survey, receive and close they start is in the run's action ledger, so a hang
 * is a `stack.workload-completes` finding naming the action. The checks below hold the stack to
 * sp.md (shared/reference/sp.md) and impl/sp/README.md's documented choices, never to impl/sp code.
 */
import fc from 'fast-check';
import type { OptionValues } from '../../../impl/sp/options.js';
import { parseFaultPlan, type FaultStep } from '../../../sim/fault-plan.js';
import type { FamilySpec, PropertySpec } from '../catalog.js';
import {
  bytesEqual,
  defineCheck,
  matchDeliveries,
  payloadOrigin,
  peersOf,
  verdict,
  type CheckVerdict,
  type DialCallRecord,
  type Observations,
  type SocketObs,
} from '../checks.js';
import { networkArb } from '../generators.js';
import type { ImpoliteApp, ImpoliteRequest } from '../impolite-model.js';
import { SCENARIO_VERSION, SP_STACK, type AppSpec, type Scenario, type SocketSpec } from '../model.js';
import { scenarioOption } from '../reference.js';
import { modelCheck } from '../models/checks.js';
import { pipesTaken } from '../models/wire.js';

const ms = (us: number): string => `${(us / 1000).toFixed(3)} ms`;

/** The impolite requests (REQ requests, surveys, sends) of every impolite sender. */
function eachImpoliteRequest(
  s: Scenario,
  obs: Observations,
  expected: string,
  judge: (spec: SocketSpec, o: SocketObs, r: ImpoliteRequest) => string | null,
): CheckVerdict {
  let judged = 0;
  for (const spec of s.sockets) {
    const o = obs.sockets[spec.name];
    if (o?.impolite === undefined) continue;
    for (const r of o.impolite.requests) {
      const v = judge(spec, o, r);
      if (v === 'skip') continue;
      judged++;
      if (v !== null) return verdict(`${spec.name}: #${r.index}: ${v}`, expected);
    }
  }
  if (judged === 0) return { status: 'not-applicable', expected, actual: 'nothing to judge' };
  return verdict(null, expected);
}

/** What a request's ending must be: set by what the application did to it. */
function requiredEnding(spec: SocketSpec, o: SocketObs, r: ImpoliteRequest): string {
  if (r.cancelledAtUs !== null) return 'ErrCanceled';
  if (r.contextClosedAtUs !== null) return 'ErrClosed';
  if (o.closedAtUs !== null && (r.endedAtUs ?? Infinity) >= o.closedAtUs) return 'ErrClosed';
  return spec.protocol === 'surveyor0' ? 'expired' : 'reply';
}

// ---------------------------------------------------------------------------------------------
// Checks: REQ abandons, contexts, context close; surveys cut short

defineCheck({
  id: 'impolite.request-endings',
  kind: 'always',
  requirement:
    "each REQ request or survey ends as the application made it end: a request cancelled by the next send on its context fails with ErrCanceled (its reply never reaches the application), one whose context was closed fails with ErrClosed, a survey cut short by the next fails with ErrCanceled; every other request gets its reply and every other survey runs until SURVEY-TIME (sp.md §3 REQ/REP 'a new Send cancels the previous one', SURVEYOR 'New survey cancels the previous one'; checklist 13, 20, 29)",
  ref: '13',
  evaluate(s, obs) {
    return eachImpoliteRequest(s, obs, 'each request ends as its application made it end', (spec, o, r) => {
      if (spec.protocol !== 'req0' && spec.protocol !== 'surveyor0') return 'skip';
      if (r.acceptedAtUs === null) return 'skip'; // a send that failed: its own record says why
      const want = requiredEnding(spec, o, r);
      if (r.ending === null) return `never ended (expected ${want})`;
      if (r.ending === want) return null;
      // A reply (or the expiry) that came in the very instant of the cancel or close, before it.
      const at = r.cancelledAtUs ?? r.contextClosedAtUs;
      if (at !== null && (r.ending === 'reply' || r.ending === 'expired') && r.endedAtUs === at) return null;
      const why =
        r.cancelledAtUs !== null
          ? `cancelled by the next send at ${ms(r.cancelledAtUs)}`
          : r.contextClosedAtUs !== null
            ? `its context closed at ${ms(r.contextClosedAtUs)}`
            : 'neither cancelled nor closed';
      return `${why}, it ended with ${r.ending} at ${ms(r.endedAtUs ?? 0)} (expected ${want})`;
    });
  },
});

defineCheck({
  id: 'impolite.cancel-prompt',
  timing: true,
  kind: 'always',
  requirement:
    'a receive pending on a request or survey fails at the very moment the next send on its context cancels it, or its context or socket closes, not later (sp.md §3: the new send cancels, the blocked Recv gets ErrCanceled; checklist 13, 20, 29, 44)',
  ref: '13',
  evaluate(s, obs) {
    return eachImpoliteRequest(s, obs, 'a pending receive fails at the cancel or close', (spec, o, r) => {
      if (spec.protocol !== 'req0' && spec.protocol !== 'surveyor0') return 'skip';
      const closed = o.closedAtUs !== null && (r.endedAtUs ?? Infinity) >= o.closedAtUs ? o.closedAtUs : null;
      const at = r.cancelledAtUs ?? r.contextClosedAtUs ?? closed;
      if (at === null || r.acceptedAtUs === null) return 'skip';
      if (r.endedAtUs === at) return null;
      return `its receive was pending at ${ms(at)} (${r.cancelledAtUs !== null ? 'the next send' : 'a close'}) but ended only ${r.endedAtUs === null ? 'never' : `at ${ms(r.endedAtUs)}`}`;
    });
  },
});

/** The REP sockets (and which of them) received each request of REQ `req`, by workload index. */
function receiversOfRequests(s: Scenario, obs: Observations, req: SocketSpec): Map<number, Set<string>> {
  const out = new Map<number, Set<string>>();
  for (const rep of peersOf(s, req)) {
    if (rep.protocol !== 'rep0') continue;
    for (const r of obs.sockets[rep.name]?.received ?? []) {
      const origin = payloadOrigin(s, r.body);
      if (origin === undefined || origin.sender !== req) continue;
      let set = out.get(origin.index);
      if (set === undefined) out.set(origin.index, (set = new Set()));
      set.add(rep.name);
    }
  }
  return out;
}

/** Pipes live at `atUs` and unchanged in (fromUs, atUs]: their count, or null if one came or went. */
function stablePipes(o: SocketObs, fromUs: number, atUs: number): number | null {
  let live = 0;
  for (const p of o.pipes) {
    if (p.atUs >= fromUs && p.atUs <= atUs) return null;
    if (p.atUs < fromUs) live += p.event === 'attached' ? 1 : p.event === 'detached' ? -1 : 0;
  }
  return live;
}

defineCheck({
  id: 'impolite.req-rotation',
  timing: true,
  kind: 'always',
  requirement:
    'a REQ with one request at a time and n live pipes sends its requests round-robin over them: any n consecutive requests (no pipe coming or going meanwhile) reach n different REPs, also after requests were abandoned (a cancelled request frees its pipe; no REP starves while it is live) (sp.md §3 REQ/REP "Sends round-robin over ready pipes (one in flight per pipe)"; impl/sp/README.md "requests wait for a free pipe, round-robin")',
  ref: '35',
  evaluate(s, obs) {
    const expected = 'every n consecutive requests reach n different REPs';
    let judged = 0;
    for (const spec of s.sockets) {
      const o = obs.sockets[spec.name];
      if (spec.protocol !== 'req0' || o?.impolite === undefined) continue;
      if ((spec.app.impolite?.contexts ?? 1) !== 1) continue;
      const at = receiversOfRequests(s, obs, spec);
      // A request that went out more than once (its REP closed under it: it moved) reached a REP
      // first that may never have handed it to its application: windows holding one are not judged.
      const tx = new Map<number, number>();
      for (const t of o.reqSends) {
        const index = o.sent[t.request]?.index;
        if (index !== undefined) tx.set(index, (tx.get(index) ?? 0) + 1);
      }
      const reqs = [...o.impolite.requests].sort((a, b) => a.sentAtUs - b.sentAtUs);
      for (let j = 0; j < reqs.length; j++) {
        const n = stablePipes(o, reqs[j]!.sentAtUs - 1, reqs[j]!.sentAtUs);
        if (n === null || n < 2 || j + n > reqs.length) continue;
        const window = reqs.slice(j, j + n);
        if (stablePipes(o, window[0]!.sentAtUs, window.at(-1)!.sentAtUs) === null) continue;
        const reps = window.map((r) => at.get(r.index));
        if (reps.some((x) => x === undefined || x.size !== 1)) continue;
        if (window.some((r) => tx.get(r.index) !== 1)) continue;
        judged++;
        const names = reps.map((x) => [...x!][0]!);
        if (new Set(names).size !== n)
          return verdict(
            `${spec.name}: requests #${window.map((r) => r.index).join(', #')} (sent ${ms(window[0]!.sentAtUs)}..${ms(window.at(-1)!.sentAtUs)} with ${n} pipes live) went to ${names.join(', ')}`,
            expected,
          );
      }
    }
    if (judged === 0) return { status: 'not-applicable', expected, actual: 'no window of requests to judge' };
    return verdict(null, expected);
  },
});

/** When a request stopped holding its pipe, as the REQ's application saw it (Infinity: never). */
function freedAtUs(r: ImpoliteRequest): number {
  const at = [r.cancelledAtUs, r.contextClosedAtUs, r.endedAtUs].filter((x): x is number => x !== null);
  return at.length === 0 ? Infinity : Math.min(...at);
}

/**
 * A REQ's transmissions, each with the REP it reached (by request id, from what the REPs' applications
 * received) and the time its pipe became free again (the reply, a cancel or a context close), cut at
 * the first one whose REP is not known for sure (a resend, or a REP that never handed it over) or
 * once a pipe comes or goes; null when not every REP was attached at the first transmission.
 */
function reqTransmissions(
  s: Scenario,
  obs: Observations,
  spec: SocketSpec,
  o: SocketObs,
): { atUs: number; rep: string; freeUs: number }[] | null {
  const reps = peersOf(s, spec).filter((p) => p.protocol === 'rep0');
  const repsOf = new Map<number, Set<string>>();
  const indexOf = new Map<number, number>();
  for (const rep of reps)
    for (const r of obs.sockets[rep.name]?.received ?? []) {
      const origin = payloadOrigin(s, r.body);
      if (origin?.sender !== spec || r.requestId === undefined) continue;
      indexOf.set(r.requestId, origin.index);
      let set = repsOf.get(r.requestId);
      if (set === undefined) repsOf.set(r.requestId, (set = new Set()));
      set.add(rep.name);
    }
  const requests = new Map((o.impolite?.requests ?? []).map((r) => [r.index, r]));
  const first = o.reqSends[0];
  if (first === undefined || stablePipes(o, first.atUs, first.atUs) !== reps.length) return null;
  const out: { atUs: number; rep: string; freeUs: number }[] = [];
  const count = new Map<number, number>();
  for (const t of o.reqSends) count.set(t.id, (count.get(t.id) ?? 0) + 1);
  for (const t of o.reqSends) {
    if (stablePipes(o, first.atUs, t.atUs) === null) break;
    const to = repsOf.get(t.id);
    const index = indexOf.get(t.id);
    const r = index === undefined ? undefined : requests.get(index);
    // A request that went out again (it moved off a lost pipe) may have reached first a REP that
    // never handed it over: where its first transmission went is not known.
    if (to === undefined || to.size !== 1 || r === undefined || count.get(t.id) !== 1) break;
    out.push({ atUs: t.atUs, rep: [...to][0]!, freeUs: freedAtUs(r) });
  }
  return out;
}

defineCheck({
  id: 'impolite.req-free-pipe-first',
  timing: true,
  kind: 'always',
  requirement:
    'a REQ never sends two requests to one REP while another live REP holds no unanswered request for the whole time between them: round-robin passes over no free pipe, whatever the contexts, abandons, cancels and context closes before (sp.md §3 REQ/REP "Sends round-robin over ready pipes (one in flight per pipe)"; impl/sp/README.md "requests wait for a free pipe, round-robin")',
  ref: '35',
  evaluate(s, obs) {
    const expected = 'no REP gets a second request while another REP stays free in between';
    let judged = 0;
    for (const spec of s.sockets) {
      const o = obs.sockets[spec.name];
      if (spec.protocol !== 'req0' || o?.impolite === undefined) continue;
      const tx = reqTransmissions(s, obs, spec, o);
      if (tx === null) continue;
      const names = [
        ...new Set(
          peersOf(s, spec)
            .filter((p) => p.protocol === 'rep0')
            .map((p) => p.name),
        ),
      ];
      for (let j = 0; j < tx.length; j++) {
        const a = tx[j]!;
        const k = tx.findIndex((b, i) => i > j && b.rep === a.rep);
        if (k < 0) continue;
        const b = tx[k]!;
        judged++;
        for (const y of names) {
          if (y === a.rep) continue;
          // Y is free throughout [a, b]: none of its requests is out then (strictly, so ties never judge).
          const busy = tx.some((t) => t.rep === y && t.atUs <= b.atUs && t.freeUs >= a.atUs);
          if (!busy)
            return verdict(
              `${spec.name}: sent requests to ${a.rep} at ${ms(a.atUs)} and again at ${ms(b.atUs)} while ${y} held no request the whole time`,
              expected,
            );
        }
      }
    }
    if (judged === 0) return { status: 'not-applicable', expected, actual: 'no REP got two requests' };
    return verdict(null, expected);
  },
});

defineCheck({
  id: 'impolite.rep-oldest-context-first',
  timing: true,
  kind: 'always',
  requirement:
    'a REP with several contexts waiting hands each request to the context that has waited longest: no context receives while another has been waiting since before it asked (no waiting context starves) (sp.md §3 "Contexts (mangos OpenContext(); nng nng_ctx) each hold their own request/backtrace state"; nng rep0 serves waiting receives in order; impl/sp/protocol/lockstep.ts documents "the longest-waiting context takes it")',
  ref: '20',
  evaluate(s, obs) {
    const expected = 'each request goes to the longest-waiting context';
    let judged = 0;
    for (const spec of s.sockets) {
      const recvs = obs.sockets[spec.name]?.impolite?.recvs;
      if (spec.protocol !== 'rep0' || recvs === undefined) continue;
      for (const r of recvs) {
        if (!r.got || r.endedAtUs === null) continue;
        const t = r.endedAtUs;
        // A receive that found a queued message never waited: only one that waited is judged.
        if (t === r.beganAtUs) continue;
        judged++;
        const older = recvs.find(
          (q) => q.lane !== r.lane && q.beganAtUs < r.beganAtUs && (q.endedAtUs === null || q.endedAtUs > t),
        );
        if (older !== undefined)
          return verdict(
            `${spec.name}: context ${r.lane} (waiting since ${ms(r.beganAtUs)}) got a request at ${ms(t)} while context ${older.lane} had waited since ${ms(older.beganAtUs)}`,
            expected,
          );
      }
    }
    if (judged === 0)
      return { status: 'not-applicable', expected, actual: 'no REP context waited for a request' };
    return verdict(null, expected);
  },
});

// ---------------------------------------------------------------------------------------------
// Checks: close, LINGER, pending operations

/** LINGER as the scenario configured it (netlab's documented default 1 s). */
function lingerOf(spec: SocketSpec): number {
  return scenarioOption(spec, 'LINGER');
}

/** Which of `sender`'s messages reached one of its peers (by payload), intact. */
function deliveredFrom(
  s: Scenario,
  obs: Observations,
  sender: SocketSpec,
  payloadOf: (n: string, i: number) => Uint8Array,
): Set<number> {
  const got = new Set<number>();
  for (const p of peersOf(s, sender))
    for (const r of obs.sockets[p.name]?.received ?? []) {
      const origin = payloadOrigin(s, r.body);
      if (origin?.sender === sender && bytesEqual(payloadOf(sender.name, origin.index), r.body))
        got.add(origin.index);
    }
  return got;
}

/** How many pipes the socket's last incarnation had attached just before `atUs` (its wire log). */
function pipesAttachedAt(o: SocketObs, atUs: number): number {
  const log = o.wire[o.wire.length - 1];
  let n = 0;
  for (const e of log?.events ?? []) {
    if (e.t >= atUs) break;
    if (e.k === 'attach') n++;
    else if (e.k === 'detach') n--;
  }
  return n;
}

defineCheck({
  id: 'impolite.linger-delivers',
  kind: 'always',
  requirement:
    'a socket closed right after its sends with LINGER > 0 delivers every message it accepted when its close() ended before LINGER ran out (the queue drained to the transport): send then close loses nothing (impl/sp/README.md "LINGER works: close() waits up to LINGER for queued messages to reach the transport"; sp.md §5 LINGER)',
  ref: null,
  evaluate(s, obs, ctx) {
    const expected = 'every accepted message delivered when close() drained within LINGER';
    let judged = 0;
    for (const spec of s.sockets) {
      const o = obs.sockets[spec.name];
      const io = o?.impolite;
      if (io === undefined || io.closeCalledAtUs === null || io.closeEndedAtUs === null) continue;
      const linger = lingerOf(spec);
      if (linger <= 0 || io.closeEndedAtUs - io.closeCalledAtUs >= linger) continue;
      // Peers that went away (closed) before the close had their share cut off: not judged.
      if (peersOf(s, spec).some((p) => p.closeAtUs !== undefined)) continue;
      // No pipe at the close (on a loaded machine the peers may not have connected yet): there
      // is no transport to drain to, the close drops the queue at once, and nothing is promised.
      if (pipesAttachedAt(o!, io.closeCalledAtUs) === 0) continue;
      judged++;
      const got = deliveredFrom(s, obs, spec, (n, i) => ctx.payloadOf(n, i));
      const lost = o!.sent.filter((r) => r.acceptedAtUs !== null && !got.has(r.index)).map((r) => r.index);
      if (lost.length > 0)
        return verdict(
          `${spec.name}: closed at ${ms(io.closeCalledAtUs)} with LINGER ${ms(linger)}, close() ended at ${ms(io.closeEndedAtUs)}, yet ${lost.length} of its ${o!.sent.length} accepted messages never arrived (#${lost.slice(0, 8).join(', #')})`,
          expected,
        );
    }
    if (judged === 0) return { status: 'not-applicable', expected, actual: 'no close drained within LINGER' };
    return verdict(null, expected);
  },
});

defineCheck({
  id: 'impolite.close-within-linger',
  timing: true,
  kind: 'always',
  requirement:
    "an application's close() ends no later than LINGER after it was called (at once with LINGER 0) (impl/sp/README.md LINGER; sp.md §5 LINGER)",
  ref: null,
  evaluate(s, obs) {
    const expected = 'close() ends within LINGER';
    let judged = 0;
    for (const spec of s.sockets) {
      const io = obs.sockets[spec.name]?.impolite;
      if (io === undefined || io.closeCalledAtUs === null) continue;
      judged++;
      const linger = lingerOf(spec);
      if (io.closeEndedAtUs === null || io.closeEndedAtUs - io.closeCalledAtUs > linger)
        return verdict(
          `${spec.name}: close() called at ${ms(io.closeCalledAtUs)} with LINGER ${ms(linger)} ended ${io.closeEndedAtUs === null ? 'never' : `at ${ms(io.closeEndedAtUs)}`}`,
          expected,
        );
    }
    if (judged === 0) return { status: 'not-applicable', expected, actual: 'no application close' };
    return verdict(null, expected);
  },
});

defineCheck({
  id: 'impolite.close-after-flush',
  timing: true,
  kind: 'always',
  requirement:
    "an application's close() that ends before LINGER runs out ends only once every frame its pipes took has reached the transport (each live connection's writes accepted the SP header and every frame): LINGER waits for the pipes' own buffers, not only the socket's queue (impl/sp/README.md \"LINGER works: close() waits up to LINGER for queued messages to reach the transport\"; sp.md §5 LINGER)",
  ref: null,
  evaluate(s, obs) {
    const expected = 'close() ends after its pipes flushed, or at LINGER';
    let judged = 0;
    for (const spec of s.sockets) {
      const o = obs.sockets[spec.name];
      const io = o?.impolite;
      if (io?.closeConns === undefined || io.closeCalledAtUs === null || io.closeEndedAtUs === null) continue;
      if (io.closeEndedAtUs - io.closeCalledAtUs >= lingerOf(spec)) continue;
      const log = o!.wire[io.closeConns.incarnation];
      if (log === undefined || log.truncated) continue;
      const at = new Map(io.closeConns.conns.map((c) => [c.conn, c]));
      for (const p of pipesTaken(log, io.closeEndedAtUs)) {
        const c = at.get(p.conn.conn);
        // A connection that broke (a reset, the peer's FIN) frees the close from waiting on it.
        if (c === undefined || c.brokenAtUs !== null) continue;
        judged++;
        if (c.writtenBytes < p.bytes)
          return verdict(
            `${spec.name}: close() called at ${ms(io.closeCalledAtUs)} with LINGER ${ms(lingerOf(spec))} ended at ${ms(io.closeEndedAtUs)} while pipe ${p.pipe} had put only ${c.writtenBytes} of the ${p.bytes} bytes it took (SP header and ${p.frames} frame${p.frames === 1 ? '' : 's'}) on connection ${c.conn}`,
            expected,
          );
      }
    }
    if (judged === 0)
      return {
        status: 'not-applicable',
        expected,
        actual: 'no close ended before LINGER with a live connection',
      };
    return verdict(null, expected);
  },
});

/** The synchronous dials still waiting for their first attempt when the socket closed at `closedAt`. */
function pendingDials(o: SocketObs, closedAt: number): DialCallRecord[] {
  return (o.dialCalls ?? []).filter(
    (d) => d.atUs <= closedAt && (d.endedAtUs === null || d.endedAtUs >= closedAt),
  );
}

defineCheck({
  id: 'impolite.close-fails-pending',
  kind: 'always',
  requirement:
    'when the application closes a socket, a send still waiting for room fails with ErrClosed, a receive still waiting fails with ErrClosed, and a synchronous dial still waiting for its first pipe fails with ErrClosed (sp.md §6 checklist 44 "After Close: Send/Recv ... → ErrClosed"; impl/sp/README.md close, "Close stops dialing")',
  ref: '44',
  evaluate(s, obs) {
    const expected = 'pending sends and receives fail with ErrClosed at the close';
    let judged = 0;
    for (const spec of s.sockets) {
      const o = obs.sockets[spec.name];
      if (o?.impolite === undefined || o.closedAtUs === null || spec.closeAtUs === undefined) continue;
      const closedAt = o.closedAtUs;
      for (const r of o.sent) {
        if (r.atUs > closedAt || (r.acceptedAtUs !== null && r.acceptedAtUs <= closedAt)) continue;
        judged++;
        if (r.errorCode !== 'ErrClosed')
          return verdict(
            `${spec.name}: send #${r.index} (at ${ms(r.atUs)}) was pending at the close (${ms(closedAt)}) and ended ${r.acceptedAtUs !== null ? `accepted at ${ms(r.acceptedAtUs)}` : r.errorCode !== null ? `with ${r.errorCode}` : 'never'}`,
            expected,
          );
      }
      for (const d of pendingDials(o, closedAt)) {
        judged++;
        if (d.errorCode !== 'ErrClosed')
          return verdict(
            `${spec.name}: its dial of ${d.address} (at ${ms(d.atUs)}) was pending at the close (${ms(closedAt)}) and ended ${d.endedAtUs === null ? 'never' : `with ${d.errorCode ?? 'success'}`}`,
            expected,
          );
      }
      const ra = o.impolite.recvAtClose;
      if (spec.app.impolite?.watchRecv === true) {
        judged++;
        if (ra === null || ra.ending !== 'ErrClosed')
          return verdict(
            `${spec.name}: closed at ${ms(closedAt)}; its receive ${ra === null ? 'never failed' : `ended with ${ra.ending ?? '?'}`}`,
            expected,
          );
      }
    }
    if (judged === 0) return { status: 'not-applicable', expected, actual: 'nothing pending at a close' };
    return verdict(null, expected);
  },
});

defineCheck({
  id: 'impolite.close-prompt',
  timing: true,
  kind: 'always',
  requirement:
    'a send waiting for room, a receive waiting for a message, or a synchronous dial waiting for its first pipe fails at the very moment its socket closes (sp.md §6 checklist 44)',
  ref: '44',
  evaluate(s, obs) {
    const expected = 'pending operations fail at the close, not later';
    let judged = 0;
    for (const spec of s.sockets) {
      const o = obs.sockets[spec.name];
      if (o?.impolite === undefined || o.closedAtUs === null || spec.closeAtUs === undefined) continue;
      const closedAt = o.closedAtUs;
      for (const r of o.sent) {
        if (r.atUs >= closedAt || (r.acceptedAtUs !== null && r.acceptedAtUs <= closedAt)) continue;
        judged++;
        if (r.failedAtUs !== closedAt)
          return verdict(
            `${spec.name}: send #${r.index} pending at the close (${ms(closedAt)}) ended ${r.failedAtUs === null ? 'not with a failure' : `at ${ms(r.failedAtUs)}`}`,
            expected,
          );
      }
      for (const d of pendingDials(o, closedAt)) {
        judged++;
        if (d.endedAtUs !== closedAt)
          return verdict(
            `${spec.name}: its dial of ${d.address} pending at the close (${ms(closedAt)}) ended ${d.endedAtUs === null ? 'never' : `at ${ms(d.endedAtUs)}`}`,
            expected,
          );
      }
      const app = spec.app;
      const ra = o.impolite.recvAtClose;
      // The receiver was waiting in recv (not in its own pause) when the socket closed.
      const paused =
        (app.recvDelayUs ?? 0) > 0 ||
        (app.stallAtUs !== undefined &&
          closedAt >= app.stallAtUs &&
          closedAt < app.stallAtUs + (app.stallUs ?? 0));
      if (app.impolite?.watchRecv === true && !paused) {
        judged++;
        if (ra?.endedAtUs !== closedAt)
          return verdict(
            `${spec.name}: closed at ${ms(closedAt)} while receiving; the receive ended ${ra?.endedAtUs == null ? 'never' : `at ${ms(ra.endedAtUs)}`}`,
            expected,
          );
      }
    }
    if (judged === 0) return { status: 'not-applicable', expected, actual: 'nothing pending at a close' };
    return verdict(null, expected);
  },
});

// ---------------------------------------------------------------------------------------------
// Checks: fan-in fairness, round-robin past stalled pullers

defineCheck({
  id: 'impolite.fan-in-delivered',
  kind: 'always',
  requirement:
    'many PUSH senders into one PULL: every message a sender accepted reaches the PULL exactly once, intact, in that sender\'s order (sp.md §3 PUSH/PULL "PULL never drops"; checklist 37)',
  ref: '37',
  evaluate(s, obs, ctx) {
    const expected = 'every accepted message delivered once, intact, in order per sender';
    let judged = 0;
    for (const pull of s.sockets) {
      if (pull.protocol !== 'pull0') continue;
      const senders = peersOf(s, pull).filter((p) => p.app.kind === 'send');
      if (senders.length === 0) continue;
      judged++;
      const got = obs.sockets[pull.name]?.received ?? [];
      const m = matchDeliveries(s, obs, ctx, pull, got);
      if (m.violation !== null) return verdict(m.violation, expected);
      for (const x of senders) {
        const have = new Set<number>();
        for (const r of got) {
          const origin = payloadOrigin(s, r.body);
          if (origin?.sender === x) have.add(origin.index);
        }
        const lost = (obs.sockets[x.name]?.sent ?? []).filter(
          (r) => r.acceptedAtUs !== null && !have.has(r.index),
        );
        if (lost.length > 0)
          return verdict(
            `${x.name}: ${lost.length} accepted messages never reached ${pull.name} (#${lost
              .slice(0, 8)
              .map((r) => r.index)
              .join(', #')})`,
            expected,
          );
      }
    }
    if (judged === 0) return { status: 'not-applicable', expected, actual: 'no PULL with senders' };
    return verdict(null, expected);
  },
});

/** Most other messages a backlogged sender may see delivered between two of its own (see below). */
export function fanInBound(senders: number, readQ: number): number {
  return (senders - 1) * (Math.max(readQ, 1) + 2);
}

/**
 * A round trip's worst case on the scenario's network (twice the largest latency plus jitter) and a
 * millisecond of slack, or null when the latency model has no upper bound.
 */
function roundTripUs(s: Scenario): number | null {
  const l = s.network.latency;
  const max = l.kind === 'constant' ? l.us : l.kind === 'uniform' ? l.maxUs : null;
  return max === null ? null : 2 * (max + s.network.jitterUs) + 1_000;
}

defineCheck({
  id: 'impolite.fan-in-fair',
  timing: true,
  kind: 'always',
  requirement:
    'many PUSH senders into one PULL with a small READQ-LEN and a consumer slower than a round trip: no backlogged sender starves; between two consecutive deliveries of a sender whose next message was sent a round trip before the first of them, the PULL delivers at most (senders − 1) × (READQ-LEN + 2) messages of others (a full queue pauses every pipe that delivers into it and room resumes them all, each delivering in turn: sp.md §3 PUSH/PULL "PULL never drops: full read queue stops reading the connection"; impl/sp/README.md PUSH/PULL)',
  ref: '37',
  evaluate(s, obs) {
    const expected = 'no sender waits behind more than (senders − 1) × (READQ-LEN + 2) messages of others';
    const rtt = roundTripUs(s);
    let judged = 0;
    for (const pull of s.sockets) {
      if (pull.protocol !== 'pull0' || rtt === null || (pull.app.recvDelayUs ?? 0) < rtt) continue;
      const senders = peersOf(s, pull).filter((p) => p.protocol === 'push0' && p.app.kind === 'send');
      if (senders.length < 2) continue;
      const got = obs.sockets[pull.name]?.received ?? [];
      const bound = fanInBound(senders.length, scenarioOption(pull, 'READQ-LEN'));
      const last = new Map<string, number>();
      for (let k = 0; k < got.length; k++) {
        const origin = payloadOrigin(s, got[k]!.body);
        if (origin === undefined) continue;
        const name = origin.sender.name;
        const prev = last.get(name);
        last.set(name, k);
        if (prev === undefined) continue;
        const sent = obs.sockets[name]?.sent.find((r) => r.index === origin.index);
        // Judged only when this message was sent a round trip before the previous one arrived.
        if (sent === undefined || sent.atUs + rtt > got[prev]!.atUs) continue;
        judged++;
        const between = k - prev - 1;
        if (between > bound)
          return verdict(
            `${pull.name}: ${name}'s message #${origin.index} (sent at ${ms(sent.atUs)}) waited behind ${between} messages of others after its previous one (at ${ms(got[prev]!.atUs)}), bound ${bound} for ${senders.length} senders`,
            expected,
          );
      }
    }
    if (judged === 0) return { status: 'not-applicable', expected, actual: 'no backlogged sender' };
    return verdict(null, expected);
  },
});

/** How long before a stall ends a burst must be all accepted for impolite.push-skips-stalled to judge it. */
const STALL_MARGIN_US = 1_000_000;

defineCheck({
  id: 'impolite.push-skips-stalled',
  timing: true,
  kind: 'always',
  requirement:
    'PUSH round-robin skips a puller that cannot take more (its transport is full because its application stalled): the other pullers get the rest of a burst without waiting for the stall to end (sp.md §3 PUSH/PULL "PUSH round-robins over pipes that are ready (not mid-send)"; checklist 35; impl/sp/README.md "a pipe whose transport has not taken its previous message is skipped")',
  ref: '35',
  evaluate(s, obs) {
    const expected = 'every message a non-stalled puller gets arrives before the earliest stall ends';
    let judged = 0;
    for (const push of s.sockets) {
      if (push.protocol !== 'push0' || push.app.kind !== 'send') continue;
      const pulls = peersOf(s, push).filter((p) => p.protocol === 'pull0');
      const stalled = pulls.filter((p) => p.app.stallUs !== undefined && p.app.stallAtUs === 0);
      const free = pulls.filter((p) => p.app.stallUs === undefined && p.app.recvDelayUs === undefined);
      if (stalled.length === 0 || free.length === 0) continue;
      const stallEnd = Math.min(...stalled.map((p) => p.app.stallUs!));
      const sent = obs.sockets[push.name]?.sent ?? [];
      // Judged when the whole burst was accepted a second (far more than the short links need)
      // before the earliest stall ends.
      const lastAccepted = Math.max(...sent.map((r) => r.acceptedAtUs ?? Infinity));
      if (sent.length === 0 || lastAccepted + STALL_MARGIN_US > stallEnd) continue;
      for (const p of free)
        for (const r of obs.sockets[p.name]?.received ?? []) {
          judged++;
          if (r.atUs >= stallEnd) {
            const origin = payloadOrigin(s, r.body);
            return verdict(
              `${p.name} got ${push.name}'s message #${origin?.index ?? '?'} only at ${ms(r.atUs)}, after ${stalled.map((x) => x.name).join(', ')} resumed (${ms(stallEnd)}); the burst was all accepted by ${ms(lastAccepted)}`,
              expected,
            );
          }
        }
    }
    if (judged === 0) return { status: 'not-applicable', expected, actual: 'no stalled and free pullers' };
    return verdict(null, expected);
  },
});

defineCheck({
  id: 'impolite.push-rotates-over-ready',
  timing: true,
  kind: 'always',
  requirement:
    'PUSH hands consecutive messages to different pullers: with sends spaced wider than a round trip (so every puller that reads is ready again), two messages in a row among those the reading pullers got never go to one puller while another reading puller was attached at both sends, also across a puller leaving and past stalled ones (sp.md §3 PUSH/PULL "PUSH round-robins over pipes that are ready"; checklist 35; impl/sp/README.md "each message goes to the first ready pipe after the one that took the last")',
  ref: '35',
  evaluate(s, obs) {
    const expected = 'no reading puller gets two messages in a row while another reading puller is attached';
    let judged = 0;
    for (const push of s.sockets) {
      if (push.protocol !== 'push0' || push.app.kind !== 'send') continue;
      // Spaced sends only: every gap after the first wider than a round trip.
      const rtt = roundTripUs(s);
      const gaps = s.workload.sends.filter((w) => w.socket === push.name).slice(1);
      if (rtt === null || gaps.length === 0 || gaps.some((w) => w.gapUs < rtt)) continue;
      const pulls = peersOf(s, push).filter((p) => p.protocol === 'pull0');
      // Pullers that read all along (never stalled, no delay): always ready again between sends.
      const reading = pulls.filter((p) => p.app.stallUs === undefined && p.app.recvDelayUs === undefined);
      const to = new Map<number, string>();
      for (const p of reading)
        for (const r of obs.sockets[p.name]?.received ?? []) {
          const origin = payloadOrigin(s, r.body);
          if (origin?.sender === push) to.set(origin.index, p.name);
        }
      const sent = obs.sockets[push.name]?.sent ?? [];
      // Attached at `atUs` as the puller itself saw it: opened, and not closed yet.
      const attached = (p: SocketSpec, atUs: number): boolean => {
        const o = obs.sockets[p.name];
        if (o === undefined) return false;
        const live = o.pipes
          .filter((e) => e.atUs < atUs)
          .reduce((n, e) => n + (e.event === 'attached' ? 1 : e.event === 'detached' ? -1 : 0), 0);
        return live > 0 && (p.closeAtUs === undefined || p.closeAtUs > atUs);
      };
      let prev: { index: number; pull: string; atUs: number } | undefined;
      for (const r of [...sent].sort((a, b) => a.index - b.index)) {
        const pull = to.get(r.index);
        if (pull === undefined) continue; // a stalled puller's, or lost with a closing one
        const cur = { index: r.index, pull, atUs: r.atUs };
        if (prev !== undefined) {
          const others = reading.filter(
            (p) => p.name !== pull && attached(p, prev!.atUs) && attached(p, cur.atUs),
          );
          judged++;
          if (prev.pull === pull && others.length > 0)
            return verdict(
              `${push.name}: messages #${prev.index} and #${r.index} (sent ${ms(prev.atUs)}, ${ms(r.atUs)}) both went to ${pull} while ${others.map((p) => p.name).join(', ')} read and stayed attached`,
              expected,
            );
        }
        prev = cur;
      }
    }
    if (judged === 0)
      return { status: 'not-applicable', expected, actual: 'no consecutive messages to reading pullers' };
    return verdict(null, expected);
  },
});

// ---------------------------------------------------------------------------------------------
// Generators

/** The first send waits for every pipe to attach (dials at 50 ms intervals over ≤ 30 ms links). */
const START_US = 300_000;
/** Requests and messages carry their identity in their first 4 bytes (runner payload()). */
const MIN_BYTES = 4;
/** A calm enough network for the timing checks: no loss (a lost segment waits 200 ms), whole writes. */
function calm(n: Scenario['network']): Scenario['network'] {
  return { ...n, lossRate: 0, partialWriteProbability: 0 };
}

const IMPOLITE_BASE = ['stack.no-crash', modelCheck('model.wire')] as const;
const REQ_ENDINGS = ['impolite.request-endings', 'impolite.cancel-prompt'] as const;
const REQ_CONTEXT_CHECKS: readonly string[] = [
  ...IMPOLITE_BASE,
  modelCheck('model.reqrep'),
  'reqrep.one-reply-per-request',
  ...REQ_ENDINGS,
  'impolite.req-free-pipe-first',
  'impolite.close-fails-pending',
];
const REQ_REP_CONTEXT_CHECKS: readonly string[] = [
  ...REQ_CONTEXT_CHECKS,
  'impolite.rep-oldest-context-first',
];
// resend.reply-id-matches reads transmissions by the request sent last: one lane only.
const REQ_ABANDON_CHECKS: readonly string[] = [
  ...REQ_CONTEXT_CHECKS,
  'resend.reply-id-matches',
  'impolite.req-rotation',
];
const SURVEY_FAST_CHECKS: readonly string[] = [...IMPOLITE_BASE, 'survey.no-stale-response', ...REQ_ENDINGS];
const CLOSE_CHECKS: readonly string[] = [
  ...IMPOLITE_BASE,
  'pipeline.each-message-once',
  'impolite.linger-delivers',
  'impolite.close-within-linger',
  'impolite.close-after-flush',
  'impolite.close-fails-pending',
  'impolite.close-prompt',
];
const PIPELINE_HERE = [
  'backpressure.queues-bounded',
  'pipeline.each-message-once',
  'backpressure.accepted-delivered',
];
const FAN_IN_CHECKS: readonly string[] = [
  ...IMPOLITE_BASE,
  'backpressure.queues-bounded',
  'impolite.fan-in-delivered',
  'impolite.fan-in-fair',
];
const SKIP_STALLED_CHECKS: readonly string[] = [
  ...IMPOLITE_BASE,
  ...PIPELINE_HERE,
  'impolite.push-skips-stalled',
  'impolite.push-rotates-over-ready',
];
const PUSH_DETACH_CHECKS: readonly string[] = [
  ...IMPOLITE_BASE,
  'pipeline.each-message-once',
  'impolite.push-rotates-over-ready',
];

/**
 * A REP's application: fast, slow, or stalled for a while (all answer in the end). Slow and stalled
 * ones are drawn more often than fast ones, so requests are abandoned in most runs.
 */
const repAppArb: fc.Arbitrary<Partial<AppSpec>> = fc.oneof(
  { arbitrary: fc.constant({}), weight: 1 },
  { arbitrary: fc.record({ recvDelayUs: fc.integer({ min: 10_000, max: 150_000 }) }), weight: 2 },
  {
    arbitrary: fc.record({
      stallAtUs: fc.integer({ min: 0, max: 400_000 }),
      stallUs: fc.integer({ min: 100_000, max: 1_500_000 }),
    }),
    weight: 2,
  },
);

function scenarioOf(
  name: string,
  impl: string,
  hosts: string[],
  sockets: SocketSpec[],
  sends: { socket: string; bytes: number; gapUs: number }[],
  network: Scenario['network'],
  checks: readonly string[],
  livenessUs = 10_000_000,
  faults: { steps: FaultStep[]; phaseUs: number } = { steps: [], phaseUs: 0 },
): Scenario {
  return {
    version: SCENARIO_VERSION,
    stack: SP_STACK,
    name,
    impl,
    hosts,
    sockets,
    rawPeers: [],
    workload: { sends },
    network,
    faults: parseFaultPlan({ version: 1, faults: faults.steps }),
    faultPhaseUs: faults.phaseUs,
    livenessUs,
    checks: [...checks],
  };
}

function socket(
  name: string,
  host: string,
  protocol: SocketSpec['protocol'],
  app: AppSpec,
  o: {
    listen?: string[];
    dial?: string[];
    options?: Partial<OptionValues>;
    startUs?: number;
    closeAtUs?: number;
  } = {},
): SocketSpec {
  return {
    name,
    host,
    protocol,
    listen: o.listen ?? [],
    dial: o.dial ?? [],
    options: o.options ?? {},
    app,
    startUs: o.startUs ?? 0,
    ...(o.closeAtUs !== undefined ? { closeAtUs: o.closeAtUs } : {}),
  };
}

const MAX_REPS = 4;

/**
 * One REQ ("client") and 1..4 REPs, the REQ dialing every REP or every REP dialing the REQ; REPs
 * fast, slow or stalled, and (with two or more) some closing for good mid-run; the REQ abandons a
 * request whose reply is late, and with contexts runs several lanes and closes some contexts.
 */
function reqArb(o: { impl: string; name: string; contexts: boolean }): fc.Arbitrary<Scenario> {
  return fc
    .record({
      // With contexts, 3..4 REPs in most runs: some stay idle while others answer, so a pipe passed
      // over by the round-robin shows.
      reps: o.contexts
        ? fc.oneof(fc.integer({ min: 1, max: MAX_REPS }), fc.integer({ min: 3, max: MAX_REPS }))
        : fc.integer({ min: 2, max: MAX_REPS }),
      reqDials: fc.boolean(),
      repApps: fc.array(repAppArb, { minLength: MAX_REPS, maxLength: MAX_REPS }),
      // Which REPs close for good (never all: the last request of a lane must find a REP).
      repCloses: fc.array(
        fc.option(fc.integer({ min: START_US, max: 2_000_000 }), { nil: undefined, freq: 3 }),
        {
          minLength: MAX_REPS,
          maxLength: MAX_REPS,
        },
      ),
      // 2..3 contexts over 3..4 REPs leave REPs idle while a slow one holds a context: a free pipe
      // the round-robin passes over (after skipping the busy one) shows then.
      contexts: o.contexts
        ? fc.oneof(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 2, max: 3 }))
        : fc.constant(undefined),
      // REPs answering on 2..3 contexts of their own (req-contexts only; 1 = the socket itself).
      repContexts: o.contexts ? fc.integer({ min: 1, max: 3 }) : fc.constant(1),
      // Sometimes the REQ itself closes mid-run, with requests outstanding.
      reqCloseUs: fc.option(fc.integer({ min: START_US + 1_000, max: 1_500_000 }), {
        nil: undefined,
        freq: 4,
      }),
      // With contexts, half the runs never abandon: a slow REP then holds its pipe for long.
      abandonAfterUs: fc.option(fc.integer({ min: 1_000, max: 40_000 }), {
        nil: undefined,
        freq: o.contexts ? 2 : 8,
      }),
      closeContextEvery: o.contexts
        ? fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined, freq: 2 })
        : fc.constant(undefined),
      requests: fc.array(
        fc.record({
          bytes: fc.integer({ min: MIN_BYTES, max: 256 }),
          gapUs: fc.oneof(fc.integer({ min: 0, max: 60_000 }), fc.integer({ min: 0, max: 2_000 })),
        }),
        { minLength: 2, maxLength: 14 },
      ),
      network: networkArb({ minBufferBytes: 16_384, maxBufferBytes: 65_536 }),
      // With contexts, half the runs: fast and slow REPs alternating, more REPs than contexts, no
      // abandons, requests back to back: the round-robin must skip a busy pipe and then not come
      // back to a free one it just used while another free one waits.
      mixed: o.contexts ? fc.boolean() : fc.constant(false),
      // Slow against the short links mixed runs get (a round trip under 8 ms).
      slowUs: fc.integer({ min: 12_000, max: 40_000 }),
      // Which REPs are slow then: every other one, or a single one (index mod the REPs) with two
      // contexts, one held by it while the other cycles over the fast ones: each cycle skips the
      // busy pipe, and the next request must go past the pipe it just used.
      oneSlow: fc.option(fc.integer({ min: 0, max: MAX_REPS - 1 }), { nil: undefined, freq: 2 }),
    })
    .map((drawn): Scenario => {
      const mixed = drawn.mixed && drawn.requests.length >= 6;
      const k = !mixed
        ? drawn
        : {
            ...drawn,
            reps: Math.max(drawn.reps, 3),
            contexts: drawn.oneSlow !== undefined ? 2 : Math.min(drawn.contexts ?? 2, 3),
            abandonAfterUs: undefined,
            reqCloseUs: undefined,
            repApps: drawn.repApps.map((_a, i) =>
              (drawn.oneSlow !== undefined ? i === drawn.oneSlow % Math.max(drawn.reps, 3) : i % 2 === 0)
                ? { recvDelayUs: drawn.slowUs }
                : {},
            ),
            repCloses: drawn.repCloses.map(() => undefined),
            requests: drawn.requests.map((r) => ({ ...r, gapUs: 0 })),
          };
      const hosts = ['client'];
      const sockets: SocketSpec[] = [];
      const imp: ImpoliteApp = {
        ...(k.contexts !== undefined ? { contexts: k.contexts } : {}),
        ...(k.abandonAfterUs !== undefined ? { abandonAfterUs: k.abandonAfterUs } : {}),
        ...(k.abandonAfterUs !== undefined && k.closeContextEvery !== undefined
          ? { closeContextEvery: k.closeContextEvery }
          : {}),
      };
      const req = socket(
        'client',
        'client',
        'req0',
        { kind: 'send', impolite: imp },
        {
          listen: k.reqDials ? [] : ['tcp://client:5555'],
          ...(k.reqCloseUs !== undefined ? { closeAtUs: k.reqCloseUs } : {}),
        },
      );
      sockets.push(req);
      for (let i = 0; i < k.reps; i++) {
        const host = `rep${i}`;
        hosts.push(host);
        const addr = `tcp://${host}:5600`;
        // The first REP never closes, so every request can be answered in the end.
        const closeAtUs = i === 0 ? undefined : k.repCloses[i];
        if (k.reqDials) req.dial.push(addr);
        sockets.push(
          socket(
            host,
            host,
            'rep0',
            {
              kind: 'echo',
              ...k.repApps[i]!,
              impolite: k.repContexts > 1 ? { contexts: k.repContexts } : { watchRecv: true },
            },
            {
              listen: k.reqDials ? [addr] : [],
              dial: k.reqDials ? [] : ['tcp://client:5555'],
              ...(closeAtUs !== undefined ? { closeAtUs } : {}),
            },
          ),
        );
      }
      const sends = k.requests.map((r, i) => ({
        socket: 'client',
        bytes: r.bytes,
        gapUs: i < (k.contexts ?? 1) ? START_US + r.gapUs : r.gapUs,
      }));
      const checks = o.contexts ? REQ_REP_CONTEXT_CHECKS : REQ_ABANDON_CHECKS;
      // Mixed runs on short links: a fast REP must answer well within a slow one's delay.
      const network = mixed ? shortLinks(k.network, 16_384) : calm(k.network);
      return scenarioOf(o.name, o.impl, hosts, sockets, sends, network, checks);
    });
}

/** A SURVEYOR and 1..3 respondents (some slow) with surveys sent faster than SURVEY-TIME. */
function surveyArb(o: { impl: string }): fc.Arbitrary<Scenario> {
  return fc
    .record({
      respondents: fc.integer({ min: 1, max: 3 }),
      surveyTimeUs: fc.integer({ min: 20_000, max: 400_000 }),
      abandonFraction: fc.integer({ min: 5, max: 90 }),
      delays: fc.array(fc.constantFrom(0, 0, 2_000, 30_000), { minLength: 3, maxLength: 3 }),
      surveys: fc.array(
        fc.record({
          bytes: fc.integer({ min: MIN_BYTES, max: 128 }),
          gapUs: fc.integer({ min: 0, max: 20_000 }),
        }),
        { minLength: 2, maxLength: 8 },
      ),
      network: networkArb({ minBufferBytes: 16_384, maxBufferBytes: 65_536 }),
    })
    .map((k): Scenario => {
      const abandonAfterUs = Math.floor((k.surveyTimeUs * k.abandonFraction) / 100);
      const surveyor = socket(
        'surveyor',
        'surveyor',
        'surveyor0',
        { kind: 'send', impolite: { abandonAfterUs } },
        { listen: ['tcp://surveyor:5555'], options: { 'SURVEY-TIME': k.surveyTimeUs } },
      );
      const hosts = ['surveyor'];
      const sockets = [surveyor];
      for (let i = 0; i < k.respondents; i++) {
        hosts.push(`resp${i}`);
        const d = k.delays[i]!;
        sockets.push(
          socket(
            `resp${i}`,
            `resp${i}`,
            'respondent0',
            { kind: 'echo', ...(d > 0 ? { recvDelayUs: d } : {}) },
            {
              dial: ['tcp://surveyor:5555'],
            },
          ),
        );
      }
      const sends = k.surveys.map((x, i) => ({
        socket: 'surveyor',
        bytes: x.bytes,
        gapUs: i === 0 ? START_US + x.gapUs : x.gapUs,
      }));
      const checks = SURVEY_FAST_CHECKS;
      return scenarioOf('impolite/survey-fast', o.impl, hosts, sockets, sends, calm(k.network), checks);
    });
}

const MAX_PULLS = 3;
/** impolite/close-linger: how long the host "void" stays paused, and when its dialer opens. */
const VOID_PAUSE_US = 2_000_000;
const REACHER_START_US = 2_000;

/**
 * A PUSH that sends a burst and closes the moment the last send is accepted, with LINGER 0, short,
 * the default (1 s) or long, into 1..3 PULLs, some slow or stalled: with LINGER, what close()
 * drained reaches the pullers; close() ends within LINGER. Beside it, a PUSH with a tiny send queue
 * into a stalled PULL closes (closeAtUs) under a waiting send, and that PULL closes under its
 * waiting receive.
 */
function closeArb(o: { impl: string }): fc.Arbitrary<Scenario> {
  return fc
    .record({
      pulls: fc.integer({ min: 1, max: MAX_PULLS }),
      linger: fc.constantFrom<number | undefined>(0, 2_000, undefined, 5_000_000),
      pullApps: fc.array(
        fc.oneof(
          fc.constant<Partial<AppSpec>>({}),
          fc.constant<Partial<AppSpec>>({}),
          fc.record({ recvDelayUs: fc.integer({ min: 100, max: 5_000 }) }),
          fc.record({ stallAtUs: fc.constant(0), stallUs: fc.integer({ min: 300_000, max: 3_000_000 }) }),
        ),
        { minLength: MAX_PULLS, maxLength: MAX_PULLS },
      ),
      burst: fc.array(fc.integer({ min: MIN_BYTES, max: 4096 }), { minLength: 1, maxLength: 40 }),
      // The blocked sender: its queue, when it closes, how its stalled puller closes.
      writeQ: fc.integer({ min: 1, max: 4 }),
      blockedBurst: fc.integer({ min: 1, max: 30 }),
      blockedCloseUs: fc.integer({ min: START_US + 1_000, max: 1_500_000 }),
      pullCloseUs: fc.integer({ min: START_US + 1_000, max: 2_500_000 }),
      stuckStallUs: fc.integer({ min: 0, max: 3_000_000 }),
      // The dialer whose synchronous dial still waits (its listener's host is paused) when it closes.
      reacherCloseUs: fc.integer({ min: REACHER_START_US + 1_000, max: VOID_PAUSE_US - 100_000 }),
      network: networkArb({ minBufferBytes: 2_048, maxBufferBytes: 16_384 }),
    })
    .map((k): Scenario => {
      const options: Partial<OptionValues> = k.linger === undefined ? {} : { LINGER: k.linger };
      const push = socket(
        'push',
        'push',
        'push0',
        { kind: 'send', impolite: { closeAfterSend: true } },
        {
          listen: ['tcp://push:5555'],
          options,
        },
      );
      const hosts = ['push', 'blocked', 'stuck'];
      const sockets = [push];
      for (let i = 0; i < k.pulls; i++) {
        hosts.push(`pull${i}`);
        sockets.push(
          socket(
            `pull${i}`,
            `pull${i}`,
            'pull0',
            { kind: 'sink', ...k.pullApps[i]! },
            { dial: ['tcp://push:5555'] },
          ),
        );
      }
      // A sender whose sends wait for room when the application closes it.
      sockets.push(
        socket(
          'blocked',
          'blocked',
          'push0',
          { kind: 'send', impolite: {} },
          {
            listen: ['tcp://blocked:5555'],
            options: { 'WRITEQ-LEN': k.writeQ },
            closeAtUs: k.blockedCloseUs,
          },
        ),
      );
      // Its puller never reads (stalled for the whole run) and is closed under a waiting receive.
      sockets.push(
        socket(
          'stuck',
          'stuck',
          'pull0',
          { kind: 'sink', impolite: { watchRecv: true }, stallAtUs: 0, stallUs: k.stuckStallUs },
          {
            dial: ['tcp://blocked:5555'],
            options: { 'READQ-LEN': 1 },
            closeAtUs: k.pullCloseUs,
          },
        ),
      );
      // A PUSH dialing synchronously a PULL whose host is paused from 1 ms: the SP handshake cannot
      // complete, so its dial() still waits when the application closes it.
      hosts.push('void', 'reacher');
      sockets.push(
        socket('void', 'void', 'pull0', { kind: 'sink' }, { listen: ['tcp://void:5555'] }),
        socket(
          'reacher',
          'reacher',
          'push0',
          { kind: 'send', impolite: {} },
          {
            dial: ['tcp://void:5555'],
            options: { 'DIAL-ASYNCH': false, 'HANDSHAKE-TIMEOUT': VOID_PAUSE_US },
            startUs: REACHER_START_US,
            closeAtUs: k.reacherCloseUs,
          },
        ),
      );
      const sends = [
        ...k.burst.map((bytes, i) => ({ socket: 'push', bytes, gapUs: i === 0 ? START_US : 0 })),
        ...Array.from({ length: k.blockedBurst }, (_x, i) => ({
          socket: 'blocked',
          bytes: 2048,
          gapUs: i === 0 ? START_US : 0,
        })),
      ];
      const checks = CLOSE_CHECKS;
      const pause: FaultStep = { kind: 'pause', atUs: 1_000, host: 'void', forUs: VOID_PAUSE_US };
      return scenarioOf(
        'impolite/close-linger',
        o.impl,
        hosts,
        sockets,
        sends,
        calm(k.network),
        checks,
        undefined,
        {
          steps: [pause],
          phaseUs: VOID_PAUSE_US + 1_000,
        },
      );
    });
}

/**
 * 4..8 PUSH senders ("push0".."push7") bursting into one PULL ("sink") with READQ-LEN 0, 1 or 2 and
 * a slow consumer: several pipes pause at once when the queue fills and resume when it has room;
 * nothing is lost or duplicated, each sender's order is kept, everything arrives, none starves.
 */
function fanInArb(o: { impl: string }): fc.Arbitrary<Scenario> {
  return fc
    .record({
      senders: fc.integer({ min: 4, max: 8 }),
      readQ: fc.constantFrom(0, 1, 2),
      // Slower than a round trip (so fairness is judged) most of the time; sometimes as fast as it gets.
      recvDelayUs: fc.constantFrom(0, 8_000, 8_000, 8_000, 20_000),
      sinkDials: fc.boolean(),
      bursts: fc.array(fc.array(fc.integer({ min: MIN_BYTES, max: 2048 }), { minLength: 2, maxLength: 12 }), {
        minLength: 8,
        maxLength: 8,
      }),
      network: networkArb({ minBufferBytes: 2_048, maxBufferBytes: 16_384 }),
    })
    .map((k): Scenario => {
      const sink = socket(
        'sink',
        'sink',
        'pull0',
        { kind: 'sink', ...(k.recvDelayUs > 0 ? { recvDelayUs: k.recvDelayUs } : {}) },
        { listen: k.sinkDials ? [] : ['tcp://sink:5555'], options: { 'READQ-LEN': k.readQ } },
      );
      const hosts = ['sink'];
      const sockets = [sink];
      for (let i = 0; i < k.senders; i++) {
        const host = `push${i}`;
        hosts.push(host);
        const addr = `tcp://${host}:5600`;
        if (k.sinkDials) sink.dial.push(addr);
        sockets.push(
          socket(
            host,
            host,
            'push0',
            { kind: 'send' },
            {
              listen: k.sinkDials ? [addr] : [],
              dial: k.sinkDials ? [] : ['tcp://sink:5555'],
            },
          ),
        );
      }
      const sends = sockets
        .slice(1)
        .flatMap((x, i) =>
          k.bursts[i]!.map((bytes, j) => ({ socket: x.name, bytes, gapUs: j === 0 ? START_US : 0 })),
        );
      const checks = FAN_IN_CHECKS;
      // Short links (≤ 2 ms, jitter ≤ 0.5 ms), so the slow consumer is slower than a round trip.
      const network = {
        ...calm(k.network),
        latency: { kind: 'uniform' as const, minUs: 0, maxUs: 2_000 },
        jitterUs: Math.min(k.network.jitterUs, 500),
      };
      return scenarioOf('impolite/fan-in', o.impl, hosts, sockets, sends, network, checks);
    });
}

/** Gap between spaced sends: wider than a round trip on the short links drawn with it (≤ 8 ms). */
const SPACED_GAP_US = 10_000;

/** Short links (≤ 3 ms, jitter ≤ 0.5 ms) and no loss: a round trip stays under SPACED_GAP_US. */
function shortLinks(n: Scenario['network'], minBufferBytes: number): Scenario['network'] {
  return {
    ...calm(n),
    latency: { kind: 'uniform', minUs: 0, maxUs: 3_000 },
    jitterUs: Math.min(n.jitterUs, 500),
    sendBufferBytes: Math.max(n.sendBufferBytes, minBufferBytes),
    recvBufferBytes: Math.max(n.recvBufferBytes, minBufferBytes),
  };
}

/** One PUSH ("push") and `n` PULLs ("pull0".."pull3"): the pullers dial the PUSH, or it dials them. */
function pushPulls(
  n: number,
  pullsDial: boolean,
  pull: (i: number) => { app: AppSpec; options?: Partial<OptionValues>; closeAtUs?: number },
): { hosts: string[]; sockets: SocketSpec[] } {
  const push = socket(
    'push',
    'push',
    'push0',
    { kind: 'send' },
    { listen: pullsDial ? ['tcp://push:5555'] : [] },
  );
  const hosts = ['push'];
  const sockets = [push];
  for (let i = 0; i < n; i++) {
    const host = `pull${i}`;
    hosts.push(host);
    const addr = `tcp://${host}:5600`;
    if (!pullsDial) push.dial.push(addr);
    const p = pull(i);
    sockets.push(
      socket(host, host, 'pull0', p.app, {
        listen: pullsDial ? [] : [addr],
        dial: pullsDial ? ['tcp://push:5555'] : [],
        ...(p.options !== undefined ? { options: p.options } : {}),
        ...(p.closeAtUs !== undefined ? { closeAtUs: p.closeAtUs } : {}),
      }),
    );
  }
  return { hosts, sockets };
}

/**
 * One PUSH sending a spaced burst (a message every SPACED_GAP_US) into 3..4 PULLs, the first 1..n−2
 * stalled from the start for a few seconds with READQ-LEN 1 (their transport fills after a few
 * 8..16 KiB messages, so PUSH must skip them), the others reading: the others get the rest at once,
 * in strict turns.
 */
function skipStalledArb(o: { impl: string }): fc.Arbitrary<Scenario> {
  return fc
    .record({
      pulls: fc.integer({ min: 3, max: 4 }),
      stalledFrac: fc.integer({ min: 1, max: 2 }),
      stallUs: fc.integer({ min: 3_000_000, max: 5_000_000 }),
      pullsDial: fc.boolean(),
      burst: fc.array(fc.integer({ min: 8_192, max: 16_384 }), { minLength: 8, maxLength: 40, size: 'max' }),
      network: networkArb({ minBufferBytes: 16_384, maxBufferBytes: 20_000 }),
    })
    .map((k): Scenario => {
      const stalled = Math.min(k.stalledFrac, k.pulls - 2);
      const topo = pushPulls(k.pulls, k.pullsDial, (i) => ({
        app: i < stalled ? { kind: 'sink', stallAtUs: 0, stallUs: k.stallUs } : { kind: 'sink' },
        options: { 'READQ-LEN': 1 },
      }));
      const sends = k.burst.map((bytes, i) => ({
        socket: 'push',
        bytes,
        gapUs: i === 0 ? START_US : SPACED_GAP_US,
      }));
      const network = shortLinks(k.network, 16_384);
      const name = 'impolite/push-skip-stalled';
      return scenarioOf(name, o.impl, topo.hosts, topo.sockets, sends, network, SKIP_STALLED_CHECKS);
    });
}

/**
 * One PUSH sending a spaced burst into 3..4 reading PULLs, one of which (not the first) closes for
 * good mid-burst, half-way between two sends: the round-robin keeps its turn across the pipe
 * leaving (no puller gets two in a row while another reads), nothing is duplicated.
 */
function pushDetachArb(o: { impl: string }): fc.Arbitrary<Scenario> {
  return fc
    .record({
      pulls: fc.integer({ min: 3, max: 4 }),
      closing: fc.integer({ min: 1, max: 3 }),
      closeAfter: fc.integer({ min: 1, max: 30 }),
      pullsDial: fc.boolean(),
      burst: fc.array(fc.integer({ min: MIN_BYTES, max: 2048 }), {
        minLength: 6,
        maxLength: 30,
        size: 'max',
      }),
      network: networkArb({ minBufferBytes: 16_384, maxBufferBytes: 65_536 }),
    })
    .map((k): Scenario => {
      const closing = Math.min(k.closing, k.pulls - 1);
      const closeAtUs = START_US + Math.min(k.closeAfter, k.burst.length) * SPACED_GAP_US - SPACED_GAP_US / 2;
      const topo = pushPulls(k.pulls, k.pullsDial, (i) => ({
        app: { kind: 'sink' },
        ...(i === closing ? { closeAtUs } : {}),
      }));
      const sends = k.burst.map((bytes, i) => ({
        socket: 'push',
        bytes,
        gapUs: i === 0 ? START_US : SPACED_GAP_US,
      }));
      const network = shortLinks(k.network, 16_384);
      const name = 'impolite/push-detach';
      return scenarioOf(name, o.impl, topo.hosts, topo.sockets, sends, network, PUSH_DETACH_CHECKS);
    });
}

export const IMPOLITE_PROPERTIES: PropertySpec[] = [
  {
    id: 'impolite/req-abandon',
    family: 'impolite',
    title:
      'a REQ with 2..4 REPs (slow, stalled, closing) abandons late requests: the cancelled receive fails at once, no old reply reaches it, requests keep rotating over every live REP, a request whose REP closes moves to another',
    protocols: ['req0', 'rep0'],
    transports: ['tcp'],
    checks: REQ_ABANDON_CHECKS,
    faultKinds: [],
    sometimes: [],
    arb: ({ impl }) => reqArb({ impl, name: 'impolite/req-abandon', contexts: false }),
  },
  {
    id: 'impolite/req-contexts',
    family: 'impolite',
    title:
      'a REQ with 2..6 contexts, requests outstanding at once over 1..4 REPs, abandoning some and closing contexts under pending receives: each reply reaches its own context, closed and cancelled receives fail at once, the rest carry on',
    protocols: ['req0', 'rep0'],
    transports: ['tcp'],
    checks: REQ_REP_CONTEXT_CHECKS,
    faultKinds: [],
    sometimes: [],
    arb: ({ impl }) => reqArb({ impl, name: 'impolite/req-contexts', contexts: true }),
  },
  {
    id: 'impolite/survey-fast',
    family: 'impolite',
    title:
      'a SURVEYOR sends surveys faster than SURVEY-TIME: each new survey cancels the old, whose responses are dropped',
    protocols: ['surveyor0', 'respondent0'],
    transports: ['tcp'],
    checks: SURVEY_FAST_CHECKS,
    faultKinds: [],
    sometimes: [],
    arb: ({ impl }) => surveyArb({ impl }),
  },
  {
    id: 'impolite/close-linger',
    family: 'impolite',
    title:
      'send then close: with LINGER what close() drained is delivered and close() ends within LINGER; a close fails the sends, receives and synchronous dials waiting on the socket with ErrClosed at once',
    protocols: ['push0', 'pull0'],
    transports: ['tcp'],
    checks: CLOSE_CHECKS,
    faultKinds: [],
    sometimes: [],
    arb: ({ impl }) => closeArb({ impl }),
  },
  {
    id: 'impolite/fan-in',
    family: 'impolite',
    title:
      '4..8 PUSHes into one PULL with READQ-LEN 0..2 and a slow consumer: bounded queue, nothing lost or duplicated, order per sender, none starves',
    protocols: ['push0', 'pull0'],
    transports: ['tcp'],
    checks: FAN_IN_CHECKS,
    faultKinds: [],
    sometimes: [],
    arb: ({ impl }) => fanInArb({ impl }),
  },
  {
    id: 'impolite/push-skip-stalled',
    family: 'impolite',
    title:
      'a PUSH into several PULLs, some stalled: round-robin skips the stalled ones, the others get the rest at once',
    protocols: ['push0', 'pull0'],
    transports: ['tcp'],
    checks: SKIP_STALLED_CHECKS,
    faultKinds: [],
    sometimes: [],
    arb: ({ impl }) => skipStalledArb({ impl }),
  },
  {
    id: 'impolite/push-detach',
    family: 'impolite',
    title:
      'a PUSH into 3..4 reading PULLs, one leaving mid-burst: strict turns across the pipe leaving, nothing duplicated',
    protocols: ['push0', 'pull0'],
    transports: ['tcp'],
    checks: PUSH_DETACH_CHECKS,
    faultKinds: [],
    sometimes: [],
    arb: ({ impl }) => pushDetachArb({ impl }),
  },
];

export const IMPOLITE: FamilySpec = {
  name: 'impolite',
  title:
    'impolite: abandoned requests, many contexts and peers, context and socket closes under pending calls, fast surveys, send-then-close, fan-in',
  properties: IMPOLITE_PROPERTIES,
};
