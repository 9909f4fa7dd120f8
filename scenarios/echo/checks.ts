/**
 * The echo stack's observations (what its scenario actors record per client and per server) and its
 * checks: named invariants evaluated on them, with stable ids (a report and a case file name them).
 * The checks live here, in one static registry; the families (./families/) pick the ones each
 * property enforces. Isomorphic.
 */
import type { EchoRequesterStats } from '../../impl/echo/requester.js';
import type { EchoServerStats } from '../../impl/echo/echo.js';
import {
  SPEC_DEFAULT_MAX_FRAME_BYTES as DEFAULT_MAX_FRAME_BYTES,
  SPEC_DEFAULT_MAX_PENDING as DEFAULT_MAX_PENDING,
  SPEC_DEFAULT_MAX_PENDING_OUT_BYTES as DEFAULT_MAX_PENDING_OUT_BYTES,
  SPEC_DEFAULT_RECONNECT_MIN_US as DEFAULT_RECONNECT_MIN_US,
  SPEC_FRAME_HEADER_BYTES as FRAME_HEADER_BYTES,
} from './reference.js';
import { verdict, type CheckContext, type CheckDef, type CheckVerdict } from '../checks.js';
import { sessionsOf, type ClientSpec, type EchoScenario } from './model.js';

/** One reply the application got, in arrival order. */
export interface ReplyRecord {
  /** The message it answers (requests: by its id; sessions: by its position in the session). */
  index: number;
  /** sessions: the session it came in; requests: null. */
  session: number | null;
  atUs: number;
  bytes: number;
  /** Equal, byte for byte, to the message it answers. */
  intact: boolean;
}

/** One session of a sessions client. */
export interface SessionRecord {
  index: number;
  /** Its messages: [first, end). */
  first: number;
  end: number;
  startUs: number;
  /** When it ended (null: still running at the end of the run). */
  endUs: number | null;
  /** Echoes received. */
  replies: number;
  /** How it failed: a NetError code (ECONNRESET...), an echo error code, or null. */
  error: string | null;
  /** The server ended the connection cleanly on a frame boundary. */
  closedCleanly: boolean;
}

/** One transport-level connect attempt. */
export interface AttemptRecord {
  atUs: number;
  /** When it ended: the connect failed, or its connection closed (either side); null: open at the end. */
  endUs: number | null;
  connected: boolean;
}

/** A typed error a peer's code reported (a trace event of kind "error"). */
export interface ProtocolErrorRecord {
  atUs: number;
  code: string;
  message: string;
}

/** Sizes the decoders of an actor asked their allocator for. */
export interface AllocObs {
  /** The largest request, in bytes. */
  maxAllocBytes: number;
  /** Requests that were no byte count (negative, fractional, not finite). */
  badAllocs: number;
}

export interface EchoClientObs extends AllocObs {
  name: string;
  host: string;
  mode: 'requests' | 'sessions';
  /** How many times the client was started (a host restart starts it again). */
  boots: number;
  /** Messages the application started (requested, or sent in a session), by index, with when. */
  started: { index: number; atUs: number }[];
  replies: ReplyRecord[];
  /** Requests that failed (requests: an EchoError code; sessions: see `sessions`). */
  failed: { index: number; atUs: number; code: string }[];
  sessions: SessionRecord[];
  attempts: AttemptRecord[];
  protocolErrors: ProtocolErrorRecord[];
  /** requests: the requester's counters, summed over incarnations (maxPending: the most). */
  requester: Omit<EchoRequesterStats, 'pendingNow'>;
  /** The most requests the application had outstanding at once. */
  maxOutstanding: number;
  /** When every message had its outcome (answered or failed), or null. */
  doneAtUs: number | null;
}

export interface EchoServerObs extends AllocObs {
  name: string;
  host: string;
  boots: number;
  /** Listen failures (EADDRINUSE...), by message. */
  listenErrors: string[];
  /** When the latest incarnation started listening, or null. */
  listeningAtUs: number | null;
  /** The server's counters, summed over incarnations (the peaks: the most of any). */
  stats: EchoServerStats;
  protocolErrors: ProtocolErrorRecord[];
  /** Frame headers that reached the server split across reads (seen by a tap on its connections). */
  splitHeaders: number;
  /** Zero-length frames that reached it. */
  zeroLengthFrames: number;
}

export interface EchoObservations {
  clients: Record<string, EchoClientObs>;
  servers: Record<string, EchoServerObs>;
  /** An event threw: the stack under test crashed (the run stopped there). */
  crash: string | null;
}

/** The echo stack's check context: the engine's. */
export type EchoCheckContext = CheckContext;

/** An echo check. */
export type EchoCheckDef = CheckDef<EchoScenario, EchoObservations, EchoCheckContext>;

const NA = (why: string): CheckVerdict => ({ status: 'not-applicable', expected: null, actual: why });

/** Network error codes (impl/runtime/env.ts NetErrorCode): how a session may legitimately fail. */
const NET_ERROR_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTDOWN',
  'EADDRINUSE',
  'ENOTCONN',
  'EPIPE',
  'EINVAL',
]);

function clientsOf(s: EchoScenario, mode: ClientSpec['mode']): ClientSpec[] {
  return s.clients.filter((c) => c.mode === mode);
}

/** Hosts that were started more than once (crashed and restarted). */
function restartedHosts(obs: EchoObservations): Set<string> {
  const out = new Set<string>();
  for (const c of Object.values(obs.clients)) if (c.boots > 1) out.add(c.host);
  for (const x of Object.values(obs.servers)) if (x.boots > 1) out.add(x.host);
  return out;
}

export const REPLIES_INTACT_IN_ORDER: EchoCheckDef = {
  id: 'echo.replies-intact-in-order',
  kind: 'always',
  requirement:
    'every reply equals, byte for byte, the message it answers, and replies come in order: a requester gets each answer once, in request order; a session gets a prefix of its messages back',
  ref: null,
  evaluate(s, obs) {
    const expected = 'replies intact, once each, in order';
    for (const c of s.clients) {
      const o = obs.clients[c.name];
      if (o === undefined) continue;
      if (c.mode === 'requests') {
        let last = -1;
        for (const r of o.replies) {
          if (r.index <= last)
            return verdict(
              `${c.name} got the answer to message ${r.index} after the answer to message ${last}`,
              expected,
            );
          if (!r.intact)
            return verdict(
              `${c.name}'s answer to message ${r.index} (${r.bytes} bytes) differs from it`,
              expected,
            );
          last = r.index;
        }
      } else {
        const next = new Map<number, number>();
        for (const r of o.replies) {
          const session = o.sessions[r.session ?? -1];
          if (session === undefined)
            return verdict(`${c.name} got a reply outside any session (message ${r.index})`, expected);
          const want = next.get(session.index) ?? session.first;
          if (r.index !== want || r.index >= session.end)
            return verdict(
              `${c.name}'s session ${session.index} got reply #${want - session.first} as message ${r.index} (its messages are ${session.first}..${session.end - 1})`,
              expected,
            );
          if (!r.intact)
            return verdict(
              `${c.name}'s session ${session.index}: the echo of message ${r.index} (${r.bytes} bytes) differs from it`,
              expected,
            );
          next.set(session.index, want + 1);
        }
      }
    }
    return verdict(null, expected);
  },
};

export const NO_PROTOCOL_ERROR: EchoCheckDef = {
  id: 'echo.no-protocol-error',
  kind: 'always',
  requirement:
    'between correct peers no side ever reports a protocol error (oversize length, unexpected or short reply): the network may delay, split, stall or cut the byte stream, never corrupt it',
  ref: null,
  evaluate(s, obs) {
    const expected = 'no protocol error at any client or server';
    for (const c of s.clients) {
      const e = obs.clients[c.name]?.protocolErrors[0];
      if (e !== undefined) return verdict(`${c.name} at ${e.atUs} µs: ${e.message}`, expected);
    }
    for (const x of s.servers) {
      const e = obs.servers[x.name]?.protocolErrors[0];
      if (e !== undefined) return verdict(`${x.name} at ${e.atUs} µs: ${e.message}`, expected);
    }
    return verdict(null, expected);
  },
};

export const BOUNDED_MEMORY: EchoCheckDef = {
  id: 'echo.bounded-memory',
  kind: 'always',
  requirement:
    "no decoder allocates more than its maxFrameBytes (nor a size that is no byte count); a server's echoes waiting per connection stay within maxPendingOutBytes plus what one read can complete; a requester never holds more than maxPending requests",
  ref: null,
  evaluate(s, obs) {
    const expected = 'every buffer and queue within its bound';
    for (const x of s.servers) {
      const o = obs.servers[x.name];
      if (o === undefined) continue;
      const maxFrame = x.options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
      if (o.badAllocs > 0)
        return verdict(`${x.name} asked for ${o.badAllocs} sizes that are no byte count`, expected);
      if (o.maxAllocBytes > maxFrame)
        return verdict(
          `${x.name} allocated ${o.maxAllocBytes} bytes for a frame (limit ${maxFrame})`,
          expected,
        );
      // One read completes at most the frame in progress plus the chunk's own bytes, each echoed
      // with a 4-byte header; reading pauses once the outbox passes maxPendingOutBytes.
      const chunk = o.stats.maxChunkBytes;
      const bound =
        (x.options.maxPendingOutBytes ?? DEFAULT_MAX_PENDING_OUT_BYTES) +
        maxFrame +
        2 * chunk +
        2 * FRAME_HEADER_BYTES;
      if (o.stats.maxPendingOutBytes > bound)
        return verdict(
          `${x.name} had ${o.stats.maxPendingOutBytes} echo bytes waiting on one connection (bound ${bound})`,
          expected,
        );
    }
    for (const c of s.clients) {
      const o = obs.clients[c.name];
      if (o === undefined) continue;
      const maxFrame = c.options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
      if (o.badAllocs > 0)
        return verdict(`${c.name} asked for ${o.badAllocs} sizes that are no byte count`, expected);
      if (o.maxAllocBytes > maxFrame)
        return verdict(
          `${c.name} allocated ${o.maxAllocBytes} bytes for a reply (limit ${maxFrame})`,
          expected,
        );
      const maxPending = c.options.maxPending ?? DEFAULT_MAX_PENDING;
      if (o.requester.maxPending > maxPending)
        return verdict(
          `${c.name} held ${o.requester.maxPending} requests (maxPending ${maxPending})`,
          expected,
        );
    }
    return verdict(null, expected);
  },
};

export const ALL_ANSWERED: EchoCheckDef = {
  id: 'echo.all-answered',
  kind: 'eventually',
  requirement:
    'once faults heal, every request of a requester is answered, even when resets or a server crash cut connections with requests outstanding (they are resent)',
  ref: null,
  evaluate(s, obs) {
    const clients = clientsOf(s, 'requests');
    if (clients.length === 0) return NA('no requests client');
    const restarted = restartedHosts(obs);
    let judged = 0;
    for (const c of clients) {
      if (restarted.has(c.host)) continue;
      judged++;
      const o = obs.clients[c.name];
      const want = c.messages.length;
      const answered = new Set(o?.replies.map((r) => r.index) ?? []).size;
      const failed = o?.failed[0];
      if (answered < want || failed !== undefined)
        return {
          status: 'fail',
          expected: `${c.name}'s ${want} requests answered`,
          actual: `${answered} of ${want} answered${failed !== undefined ? `; request ${failed.index} failed with ${failed.code}` : ''}${o !== undefined ? ` (${o.requester.connectAttempts} connect attempts, ${o.requester.resends} resends)` : ''}`,
        };
    }
    return judged === 0
      ? NA('every requests client sits on a host that restarted')
      : verdict(null, 'all answered');
  },
};

export const SESSIONS_COMPLETE: EchoCheckDef = {
  id: 'echo.sessions-complete',
  kind: 'eventually',
  requirement:
    'with no fault that destroys data (reset, crash), every session of a sessions client echoes all its messages and ends cleanly, whatever the chunking, partial writes, stalls and partitions',
  ref: null,
  evaluate(s, obs, ctx) {
    const clients = clientsOf(s, 'sessions');
    if (clients.length === 0) return NA('no sessions client');
    if (ctx.lossy) return NA('a reset or crash fired');
    for (const c of clients) {
      const o = obs.clients[c.name];
      const want = sessionsOf(c);
      const expected = `${c.name}'s ${want.length} sessions complete`;
      for (const w of want.keys()) {
        const r = o?.sessions[w];
        if (r === undefined || r.endUs === null)
          return verdict(
            `${c.name}'s session ${w} ${r === undefined ? 'never started' : 'never ended'}`,
            expected,
          );
        if (r.error !== null || !r.closedCleanly || r.replies !== r.end - r.first)
          return verdict(
            `${c.name}'s session ${w} got ${r.replies} of ${r.end - r.first} echoes and ended ${r.error ?? (r.closedCleanly ? 'cleanly' : 'uncleanly')}`,
            expected,
          );
      }
    }
    return verdict(null, 'every session complete');
  },
};

export const SESSIONS_FAIL_TYPED: EchoCheckDef = {
  id: 'echo.sessions-fail-typed',
  kind: 'always',
  requirement:
    'a session that ended either got every echo and a clean close, or failed with a network error code: it never ends quietly with echoes missing',
  ref: null,
  evaluate(s, obs) {
    const clients = clientsOf(s, 'sessions');
    if (clients.length === 0) return NA('no sessions client');
    const expected = 'every ended session complete, or failed with a network error';
    for (const c of clients)
      for (const r of obs.clients[c.name]?.sessions ?? []) {
        if (r.endUs === null) continue;
        const complete = r.error === null && r.closedCleanly && r.replies === r.end - r.first;
        if (complete) continue;
        if (r.error === null)
          return verdict(
            `${c.name}'s session ${r.index} ended with ${r.replies} of ${r.end - r.first} echoes and no error`,
            expected,
          );
        if (!NET_ERROR_CODES.has(r.error))
          return verdict(
            `${c.name}'s session ${r.index} failed with ${r.error}, not a network error`,
            expected,
          );
      }
    return verdict(null, expected);
  },
};

export const RECONNECT_BACKOFF: EchoCheckDef = {
  id: 'echo.reconnect-backoff',
  kind: 'always',
  requirement:
    'a requester waits at least reconnectMinUs after a connect attempt ends (refused, timed out, or its connection lost) before the next one, and never has two attempts open at once',
  ref: null,
  timing: true,
  evaluate(s, obs) {
    const clients = clientsOf(s, 'requests');
    if (clients.length === 0) return NA('no requests client');
    for (const c of clients) {
      const o = obs.clients[c.name];
      if (o === undefined) continue;
      const minUs = c.options.reconnectMinUs ?? DEFAULT_RECONNECT_MIN_US;
      const expected = `${c.name}: attempts at least ${minUs} µs after the previous one ended`;
      for (let i = 1; i < o.attempts.length; i++) {
        const prev = o.attempts[i - 1]!;
        const cur = o.attempts[i]!;
        if (prev.endUs === null)
          return verdict(`attempt ${i} at ${cur.atUs} µs while attempt ${i - 1} was still open`, expected);
        if (cur.atUs - prev.endUs < minUs)
          return verdict(
            `attempt ${i} at ${cur.atUs} µs, ${cur.atUs - prev.endUs} µs after attempt ${i - 1} ended`,
            expected,
          );
      }
    }
    return verdict(null, 'reconnects backed off');
  },
};

/** The echo checks by id (StackCore.checks), in report order. */
export const ECHO_CHECKS: ReadonlyMap<string, EchoCheckDef> = new Map(
  [
    REPLIES_INTACT_IN_ORDER,
    NO_PROTOCOL_ERROR,
    BOUNDED_MEMORY,
    ALL_ANSWERED,
    SESSIONS_COMPLETE,
    SESSIONS_FAIL_TYPED,
    RECONNECT_BACKOFF,
  ].map((c) => [c.id, c]),
);
