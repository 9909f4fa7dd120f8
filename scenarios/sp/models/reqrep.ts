/**
 * The reference models of the request/reply family (sp.md §3 "reqrep" and "survey"):
 *
 * Responders (REP0, XREP0, RESPONDENT0, XRESPONDENT0): a request arrives with its backtrace (pipe ids
 * pushed by devices, ending with the request or survey id, the word with the top bit set); each
 * reply goes back on the pipe its request came from, with that backtrace as its header, at most once
 * per request received (a raw XRESPONDENT in front of a device: once per respondent behind it, so
 * any number of times), and (the scenarios' responders echo) with the request's body. A reply on
 * another pipe, with another backtrace, twice, or with another body is a violation.
 *
 * REQ0: below (requesterModel).
 */
import { Readiness, concat, describe, pipeDiscipline, sameBytes, u32, type SocketRun } from './core.js';

/** A request or survey id word: the top bit set (sp.md §3). */
const ID_BIT = 0x8000_0000;
/** Most backtrace words a responder reads (a bound for malformed input; TTL is far below it). */
const MAX_BACKTRACE_WORDS = 256;

/** The backtrace at the front of a request (through the id word), or undefined when it has none. */
export function backtraceLength(wire: Uint8Array): number | undefined {
  for (let w = 0; w < MAX_BACKTRACE_WORDS && (w + 1) * 4 <= wire.length; w++)
    if ((u32(wire, w * 4) & ID_BIT) !== 0) return (w + 1) * 4;
  return undefined;
}

const RESPONDERS = new Set(['rep0', 'xrep0', 'respondent0', 'xrespondent0']);

export function responderModel(run: SocketRun): string | null {
  if (!RESPONDERS.has(run.protocol)) return null;
  const bad = pipeDiscipline(run);
  if (bad !== null) return bad;
  /** Requests per pipe not answered yet: backtrace and body. */
  const open = new Map<number, { bt: Uint8Array; body: Uint8Array; t: number }[]>();
  for (const e of run.events) {
    if (e.k === 'attach') open.set(e.pipe, []);
    else if (e.k === 'detach') open.delete(e.pipe);
    else if (e.k === 'in') {
      const wire = e.body;
      const n = backtraceLength(wire);
      if (n !== undefined)
        open.get(e.pipe)?.push({ bt: wire.subarray(0, n), body: wire.subarray(n), t: e.t });
    } else if (e.k === 'out') {
      // The backtrace travels in the header or at the front of the body (raw sockets pass it through).
      const wire = concat(e.header, e.body);
      const reqs = open.get(e.pipe) ?? [];
      const startsWith = (q: { bt: Uint8Array }): boolean =>
        wire.length >= q.bt.length && sameBytes(wire.subarray(0, q.bt.length), q.bt);
      const at = reqs.findIndex(startsWith);
      if (at < 0) {
        const n = backtraceLength(wire) ?? 0;
        const elsewhere = [...open].find(([, qs]) => qs.some(startsWith));
        return `replied ${describe(wire.subarray(n))} with backtrace ${hex(wire.subarray(0, n))} on pipe ${e.pipe} at ${e.t} µs, but no unanswered request with that backtrace came from that pipe${elsewhere === undefined ? '' : ` (one came from pipe ${elsewhere[0]})`}`;
      }
      const q = reqs[at]!;
      const body = wire.subarray(q.bt.length);
      if (!sameBytes(q.body, body))
        return `replied on pipe ${e.pipe} at ${e.t} µs to the request of ${q.t} µs (backtrace ${hex(q.bt)}) with ${describe(body)}, not its echo ${describe(q.body)}`;
      // A raw respondent fronting a device forwards every respondent's answer to one survey.
      if (run.protocol !== 'xrespondent0') reqs.splice(at, 1);
    }
  }
  return null;
}

/**
 * How long before RETRY-TIME runs out a request still certainly holds its pipe (µs): on real
 * sockets a host timer may fire a little early by the clock the log reads.
 */
const RETRY_SLACK_US = 2_000;

/** One request of one context, from the application's send until its reply, cancel or close. */
interface Request {
  /** 0: the socket itself (its default context); else the context's id in the wire log. */
  ctx: number;
  body: Uint8Array;
  /** Workload index (the send record's), for verdicts and the reply check. */
  index: number;
  /** The id it first went out with; a resend keeps it (sp.md §3). */
  id: number | undefined;
  /** The pipe its last transmission went on, while that pipe holds it. */
  pipe: number | undefined;
  /** When that transmission happened (µs). */
  outAtUs: number;
  /** Known to wait for a pipe: not sent yet, or its pipe went away. */
  waiting: boolean;
  goneAtUs: number | null;
  /** Its context's RETRY-TIME (µs; 0: never resent). */
  retryUs: number;
  ended: null | 'answered' | 'cancelled' | 'closed';
  /** The reply that answered it: its id and body after the id, and when it arrived. */
  answer?: { id: number; body: Uint8Array; atUs: number };
  delivered: number;
}

/**
 * REQ0, with any number of contexts (sp.md §3 "reqrep"; nng req0 contexts, mangos OpenContext):
 * - a context has at most one live request: its next send cancels the one before, and closing the
 *   context cancels it; a cancelled or answered request never goes out again;
 * - every transmission carries one request id word and the body of a live request; a request keeps
 *   the id of its first transmission when resent, and no two requests share an id;
 * - it goes out on an attached pipe that is ready and carries no other live request; it moves to
 *   another pipe only when its pipe goes away or RETRY-TIME ran out;
 * - no request waits while some pipe is ready and free, and requests go round-robin: no pipe
 *   carries two while another stayed ready and free since before the first;
 * - the application gets, on the context that sent it, only the reply to its own request: an
 *   arrival with that request's id, while it was live, and each at most once.
 * A resend after RETRY-TIME frees its pipe unseen (no event marks it): from then until the request
 * goes out again its pipe is neither certainly busy nor certainly free, and the model judges
 * neither way.
 */
export function requesterModel(run: SocketRun): string | null {
  if (run.protocol !== 'req0') return null;
  const bad = pipeDiscipline(run);
  if (bad !== null) return bad;
  const ready = new Readiness();
  /** Since when (event index) each attached pipe carried no live request. */
  const freeSince = new Map<number, number>();
  /** Every request, in send order; the live one of each context; live transmitted ones by id. */
  const requests: Request[] = [];
  const current = new Map<number, Request>();
  const byId = new Map<number, Request>();
  const usedIds = new Map<number, Request>();
  let lastDetach = -1;
  let closed = false;
  let sendIndex = 0;
  const ctxRetryUs = run.app.contextOptions?.['RETRY-TIME'];
  const retryOf = (ctx: number): number =>
    ctx !== 0 && typeof ctxRetryUs === 'number' ? ctxRetryUs : run.options.retryUs;
  const holder = (p: number): Request | undefined => {
    for (const r of current.values()) if (r.ended === null && r.pipe === p) return r;
    return undefined;
  };
  /** The request certainly on pipe p at `t` (its RETRY-TIME has not run out), if any. */
  const certainlyOn = (p: number, t: number): Request | undefined => {
    const r = holder(p);
    if (r === undefined) return undefined;
    return r.retryUs <= 0 || t < r.outAtUs + r.retryUs - RETRY_SLACK_US ? r : undefined;
  };
  const release = (r: Request, i: number): void => {
    if (r.pipe !== undefined && freeSince.has(r.pipe)) freeSince.set(r.pipe, i);
    r.pipe = undefined;
    r.waiting = false;
    if (r.id !== undefined) byId.delete(r.id);
  };
  const end = (r: Request | undefined, how: 'cancelled' | 'closed', i: number): void => {
    if (r === undefined || r.ended !== null) return;
    r.ended = how;
    release(r, i);
  };
  const name = (r: Request): string => `request #${r.index}${r.ctx === 0 ? '' : ` (context ${r.ctx})`}`;
  const events = run.events;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    switch (e.k) {
      case 'attach':
        freeSince.set(e.pipe, i);
        break;
      case 'detach': {
        lastDetach = i;
        const r = holder(e.pipe);
        freeSince.delete(e.pipe);
        if (r !== undefined) {
          r.pipe = undefined;
          // Resent at once elsewhere; with RETRY-TIME 0 it fails instead (ErrCanceled).
          if (r.retryUs > 0) r.waiting = true;
          else end(r, 'cancelled', i);
        }
        break;
      }
      case 'send': {
        const ctx = e.ctx ?? 0;
        end(current.get(ctx), 'cancelled', i);
        const v = run.sends[sendIndex];
        const r: Request = {
          ctx,
          body: e.body,
          index: v?.index ?? run.firstSend + sendIndex,
          id: undefined,
          pipe: undefined,
          outAtUs: e.t,
          waiting: true,
          goneAtUs: v?.goneAtUs ?? null,
          retryUs: retryOf(ctx),
          ended: null,
          delivered: 0,
        };
        sendIndex++;
        requests.push(r);
        current.set(ctx, r);
        break;
      }
      case 'ctx-close':
        end(current.get(e.ctx), 'closed', i);
        break;
      case 'close':
        closed = true;
        break;
      case 'in': {
        if (e.body.length < 4) break;
        const r = byId.get(u32(e.body, 0));
        if (r === undefined || r.ended !== null) break;
        r.ended = 'answered';
        r.answer = { id: u32(e.body, 0), body: e.body.subarray(4), atUs: e.t };
        release(r, i);
        break;
      }
      case 'out': {
        if (e.header.length !== 4 || (u32(e.header, 0) & ID_BIT) === 0)
          return `transmitted ${describe(e.body)} on pipe ${e.pipe} at ${e.t} µs with header ${hex(e.header)}, not one request id word`;
        const id = u32(e.header, 0);
        const owner = usedIds.get(id);
        let r: Request | undefined;
        if (owner !== undefined) {
          if (owner.ended !== null)
            return `transmitted ${name(owner)} (id ${id.toString(16)}) again on pipe ${e.pipe} at ${e.t} µs after it was ${owner.ended}`;
          if (!sameBytes(e.body, owner.body))
            return `transmitted ${describe(e.body)} on pipe ${e.pipe} at ${e.t} µs under id ${id.toString(16)}, the id of ${name(owner)} (${describe(owner.body)})`;
          r = owner;
        } else {
          r = [...current.values()].find((q) => q.ended === null && sameBytes(q.body, e.body));
          if (r === undefined) {
            const old = [...requests].reverse().find((q) => sameBytes(q.body, e.body));
            return old === undefined
              ? `transmitted ${describe(e.body)} on pipe ${e.pipe} at ${e.t} µs, which the application never sent`
              : `transmitted ${name(old)} on pipe ${e.pipe} at ${e.t} µs after it was ${old.ended ?? 'replaced'}`;
          }
          if (r.id !== undefined)
            return `resent ${name(r)} on pipe ${e.pipe} at ${e.t} µs with id ${id.toString(16)}, not the ${r.id.toString(16)} it first went out with`;
        }
        if (!ready.idle(e.pipe))
          return `transmitted ${name(r)} on pipe ${e.pipe} at ${e.t} µs while that pipe was still busy writing`;
        const other = certainlyOn(e.pipe, e.t);
        if (other !== undefined && other !== r)
          return `transmitted ${name(r)} on pipe ${e.pipe} at ${e.t} µs while that pipe still carried ${name(other)}`;
        if (r.pipe !== undefined && certainlyOn(r.pipe, e.t) === r)
          return `transmitted ${name(r)} again on pipe ${e.pipe} at ${e.t} µs, ${e.t - r.outAtUs} µs after it went out on pipe ${r.pipe}, which still lives, within RETRY-TIME ${r.retryUs} µs`;
        const last = ready.lastOut.get(e.pipe) ?? -1;
        if (last >= 0 && last > lastDetach)
          for (const q of ready.idleSince.keys()) {
            const since = Math.max(ready.idleSince.get(q)!, freeSince.get(q) ?? Number.MAX_SAFE_INTEGER);
            if (q !== e.pipe && holder(q) === undefined && since < last)
              return `gave pipe ${e.pipe} ${name(r)} at ${e.t} µs, its second while pipe ${q} had been ready and free since before its first (not round-robin)`;
          }
        if (r.pipe !== undefined && r.pipe !== e.pipe && freeSince.has(r.pipe)) freeSince.set(r.pipe, i);
        r.id = id;
        r.pipe = e.pipe;
        r.outAtUs = e.t;
        r.waiting = false;
        usedIds.set(id, r);
        byId.set(id, r);
        break;
      }
      case 'step': {
        if (closed) break;
        for (const r of current.values()) {
          if (r.ended !== null || !r.waiting || (r.goneAtUs !== null && r.goneAtUs <= e.t)) continue;
          for (const q of ready.idleSince.keys())
            if (holder(q) === undefined)
              return `${name(r)} waited at ${e.t} µs while pipe ${q} was ready and free`;
        }
        break;
      }
      default:
        break;
    }
    ready.apply(e, i);
  }
  return repliesDelivered(run, requests);
}

/** The application's replies: each its own request's, arrived while that request was live, once. */
function repliesDelivered(run: SocketRun, requests: readonly Request[]): string | null {
  for (const got of run.received) {
    if (got.replyTo === undefined) continue;
    const r = requests.find((q) => q.index === got.replyTo);
    if (r === undefined) continue; // sent in another incarnation
    const a = r.answer;
    if (a === undefined || a.atUs > got.atUs)
      return `the application got ${describe(got.body)} at ${got.atUs} µs as the reply to request #${r.index}, but no reply with its id ${r.id === undefined ? '(never sent)' : r.id.toString(16)} had arrived while it was live`;
    if (!sameBytes(a.body, got.body))
      return `the application got ${describe(got.body)} at ${got.atUs} µs as the reply to request #${r.index}, but its reply (id ${a.id.toString(16)}) was ${describe(a.body)}`;
    if (got.requestId !== undefined && got.requestId !== a.id)
      return `the application got the reply to request #${r.index} at ${got.atUs} µs under id ${got.requestId.toString(16)}, not its ${a.id.toString(16)}`;
    if (++r.delivered > 1)
      return `the application got the reply to request #${r.index} twice (again at ${got.atUs} µs)`;
  }
  return null;
}

function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('') || '(empty)';
}
