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
 * REQ0 (one request at a time per context; the scenarios' REQ applications use the socket's one):
 * every transmission is of the request the application is waiting on, with one request id word, on
 * an attached pipe that is ready and free (carries no unanswered request); a request never waits
 * while some pipe is ready and free; requests go round-robin: no pipe carries two while another
 * pipe stayed ready and free since before the first. A pipe is freed when the reply to its request
 * arrives or the request moves to another pipe. (A resend after RETRY-TIME frees its pipe unseen:
 * the model then thinks the pipe busy a little longer, which only makes it more lenient.)
 */
export function requesterModel(run: SocketRun): string | null {
  if (run.protocol !== 'req0') return null;
  const bad = pipeDiscipline(run);
  if (bad !== null) return bad;
  const ready = new Readiness();
  /** Since when (event index) each pipe carried no unanswered request. */
  const freeSince = new Map<number, number>();
  let cur:
    | {
        body: Uint8Array;
        index: number;
        id: number | undefined;
        pipe: number | undefined;
        waiting: boolean;
        answered: boolean;
        goneAtUs: number | null;
      }
    | undefined;
  let sendIndex = 0;
  const busy = (p: number): boolean => cur !== undefined && !cur.answered && cur.pipe === p;
  const idleSince = (p: number): number | undefined => {
    const r = ready.idleSince.get(p);
    if (r === undefined || busy(p)) return undefined;
    return Math.max(r, freeSince.get(p) ?? -1);
  };
  const events = run.events;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    switch (e.k) {
      case 'attach':
        freeSince.set(e.pipe, i);
        break;
      case 'detach':
        freeSince.delete(e.pipe);
        if (cur !== undefined && !cur.answered && cur.pipe === e.pipe) {
          cur.pipe = undefined;
          cur.waiting = true;
        }
        break;
      case 'send': {
        const v = run.sends[sendIndex];
        cur = {
          body: e.body,
          index: run.firstSend + sendIndex,
          id: undefined,
          pipe: undefined,
          waiting: true,
          answered: false,
          goneAtUs: v?.goneAtUs ?? null,
        };
        sendIndex++;
        break;
      }
      case 'in':
        if (cur?.id !== undefined && !cur.answered && e.body.length >= 4 && u32(e.body, 0) === cur.id) {
          cur.answered = true;
          if (cur.pipe !== undefined) freeSince.set(cur.pipe, i);
        }
        break;
      case 'out': {
        if (cur === undefined)
          return `transmitted ${describe(e.body)} on pipe ${e.pipe} at ${e.t} µs before the application sent any request`;
        if (!sameBytes(e.body, cur.body))
          return `transmitted ${describe(e.body)} on pipe ${e.pipe} at ${e.t} µs while the application's request was ${describe(cur.body)}`;
        if (e.header.length !== 4 || (u32(e.header, 0) & ID_BIT) === 0)
          return `transmitted a request on pipe ${e.pipe} at ${e.t} µs with header ${hex(e.header)}, not one request id word`;
        if (!ready.idle(e.pipe))
          return `transmitted request #${cur.index} on pipe ${e.pipe} at ${e.t} µs while that pipe was still busy writing`;
        const last = ready.lastOut.get(e.pipe) ?? -1;
        if (last >= 0)
          for (const q of ready.idleSince.keys()) {
            const since = idleSince(q);
            if (q !== e.pipe && since !== undefined && since < last)
              return `gave pipe ${e.pipe} request #${cur.index} at ${e.t} µs, its second while pipe ${q} had been ready and free since before its first (not round-robin)`;
          }
        if (cur.pipe !== undefined && cur.pipe !== e.pipe) freeSince.set(cur.pipe, i);
        cur.id = u32(e.header, 0);
        cur.pipe = e.pipe;
        cur.waiting = false;
        break;
      }
      case 'step': {
        if (cur === undefined || cur.answered || !cur.waiting) break;
        if (cur.goneAtUs !== null && cur.goneAtUs <= e.t) break;
        for (const q of ready.idleSince.keys())
          if (idleSince(q) !== undefined)
            return `request #${cur.index} waited at ${e.t} µs while pipe ${q} was ready and free`;
        break;
      }
      default:
        break;
    }
    ready.apply(e, i);
  }
  return null;
}

function hex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('') || '(empty)';
}
