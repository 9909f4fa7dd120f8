/**
 * The SP stack's observations (what the scenario actors record per socket and raw peer) and its
 * checks: named invariants evaluated on them. A registry local to the stack: the invariant families
 * (scenarios/sp/families/) define theirs with defineCheck(); the SP plugin hands them to the engine
 * (StackCore.checks). The check types and the engine's own checks are scenarios/checks.ts.
 */
import { bytesEqual as sameBytes } from '../../impl/runtime/bytes.js';
import type { PipeEvent } from '../../impl/sp/core/socket.js';
import {
  verdict,
  type CheckContext as EngineCheckContext,
  type CheckDef as EngineCheckDef,
} from '../checks.js';
import type { ImpoliteObs } from './impolite-model.js';
import type { ProbeValue, Scenario, SocketSpec } from './model.js';
import type { WireLog } from './models/tap.js';

export { verdict } from '../checks.js';
export type { CheckKind, CheckResult, CheckStatus, CheckVerdict } from '../checks.js';

/** Equal bytes; a missing `b` (a message that was never sent) equals nothing. */
export function bytesEqual(a: Uint8Array, b: Uint8Array | undefined): boolean {
  return b !== undefined && sameBytes(a, b);
}

export interface SentRecord {
  index: number;
  bytes: number;
  /** When the application called send (virtual µs). */
  atUs: number;
  /** When send() resolved, or null (failed, or still pending at the end). */
  acceptedAtUs: number | null;
  error: string | null;
  /** The stable code of `error` when the stack raised it (SpError.code, e.g. "ErrSendTimeout"). */
  errorCode: string | null;
  /** When send() itself rejected (virtual µs), or null (accepted, pending, or lost with a crash). */
  failedAtUs: number | null;
  /** The socket's send queue length just before the call. */
  queuedBefore: number;
}

export interface RecvRecord {
  atUs: number;
  body: Uint8Array;
  /** The pipe it arrived on (null when the protocol does not say). */
  pipe: number | null;
  /** REQ replies and REP requests: the request id the message carried (its last header word). */
  requestId?: number;
}

/** One transport-level connect attempt of a dialer. */
export interface DialRecord {
  atUs: number;
  address: string;
  /** When the attempt ended: the connect failed, or its connection closed (either side); null: open at the end. */
  endUs: number | null;
  /** True when the transport connected (the handshake may still have failed). */
  connected: boolean;
}

export interface EndpointTotals {
  connections: number;
  attached: number;
  badHandshakes: number;
  rejected: number;
  badFrames: number;
}

export interface SocketObs {
  name: string;
  host: string;
  protocol: string;
  /** Workload sends, by index (REQ: requests). */
  sent: SentRecord[];
  /** What the application received: sink/echo messages, or REQ replies (then `replyTo` is set). */
  received: (RecvRecord & { replyTo?: number })[];
  /** Transport-level connect attempts made by this socket's dialers (tcp and ipc; not inproc). */
  dials: DialRecord[];
  /** The application's synchronous dial() calls (absent when it made none). */
  dialCalls?: DialCallRecord[];
  /** Pipe events seen by the socket's hook. */
  pipes: { atUs: number; event: PipeEvent; pipe: number }[];
  /** Endpoint counters summed over the socket's dialers and listeners (all incarnations). */
  endpoints: EndpointTotals;
  /** REQ only: every transmission of a request (first sends and resends), with its request id. */
  reqSends: {
    atUs: number;
    id: number;
    /** The pipe it went out on (null when the socket had several: not told apart). */
    pipe: number | null;
    /** Workload index of the request the application had sent last (the one in progress). */
    request: number;
  }[];
  /** REQ only: transmissions, resends, dropped replies. */
  req: { sends: number; resends: number; droppedReplies: number } | null;
  /** XREQ senders: replies whose id header matched no outstanding request (duplicates, cross-talk). */
  strayReplies: number;
  /** REP only: the most replies queued for one pipe at once (WRITEQ-LEN bounds it). */
  maxReplyQueue: number;
  /** When the application closed the socket (the scenario's closeAtUs), or null. */
  closedAtUs: number | null;
  /** Largest send / receive queue length sampled. */
  maxSendQ: number;
  maxRecvQ: number;
  /** Largest buffer the receive path asked the allocator for, in bytes. */
  maxAllocBytes: number;
  /** Allocator calls with a size that is no valid byte count (negative, fractional, not finite). */
  badAllocRequests: number;
  /** Application errors (send/recv failures), in order. */
  errors: string[];
  /** What the socket did on its pipes, one log per incarnation (scenarios/sp/models/tap.ts). */
  wire: (WireLog & { truncated: boolean })[];
  /** How many times the socket was opened (host restarts open it again). */
  opened: number;
  /** When the sender finished its workload, or null. */
  doneAtUs: number | null;
  /** PUB and SUB sockets only: their pipes, drops and subscription changes. */
  pubsub?: PubSubObs;
  /** Sockets with option probes (the options family): each probe's outcome, in order. */
  optionProbes?: OptionProbeRecord[];
  /** Scenario options (SocketSpec.options) the socket refused when the actor set them. */
  optionRefusals?: { name: string; value: ProbeValue; error: string }[];
  /**
   * Every receive call of the application (sink, echo, a surveyor collecting, a REQ awaiting its
   * reply), in call order: the timing family judges deadlines on them. Absent: none was made.
   */
  recvCalls?: RecvCallRecord[];
  /** Listening sockets: every connection accepted (tcp, ipc), in order. Absent: none. */
  accepts?: AcceptRecord[];
  /** Sockets with impolite applications (app.impolite): what the application saw (impolite-model.ts). */
  impolite?: ImpoliteObs;
}

/** An option read or set: the value read (as probe JSON), or the error (its stable code, or `untyped: message`). */
export type OptionOutcome = { value: ProbeValue } | { error: string };

/** One option probe (SocketSpec.optionProbes): the option read before, the set, the option read after. */
export interface OptionProbeRecord {
  target: 'socket' | 'dialer' | 'listener';
  name: string;
  value: ProbeValue;
  before: OptionOutcome;
  set: { ok: true } | { error: string };
  after: OptionOutcome;
}

/** One receive call of the application. */
export interface RecvCallRecord {
  /** When the application called recv (virtual µs). */
  atUs: number;
  /** When it returned a message or failed; null: still waiting at the end of the run. */
  endUs: number | null;
  /** null: it returned a message; else the stack's error code ("ErrRecvTimeout"), or "error" for others. */
  code: string | null;
  /** Surveyors: the workload index of the survey being collected; REQ: of the request awaited. */
  index?: number;
}

/** One connection a listening socket accepted. */
/** A synchronous dial() call of the application (DIAL-ASYNCH off): when it ended, and how. */
export interface DialCallRecord {
  address: string;
  atUs: number;
  /** When its promise settled (a pipe attached, the first attempt failed, the socket closed); null: never. */
  endedAtUs: number | null;
  /** The error code it failed with; null: it succeeded (or never ended). */
  errorCode: string | null;
}

export interface AcceptRecord {
  /** When the listener's side saw the connection (the handshake timer starts here). */
  atUs: number;
  /** When it ended (closed by either side); null: open at the end. */
  endUs: number | null;
  /** Its remote address (a pipe on it has the same). */
  remoteAddress: string;
  /** When a pipe on it attached (the handshake completed and the protocol took it), or null. */
  attachedAtUs: number | null;
}

/** What a PUB or SUB socket observed (all incarnations). */
export interface PubSubObs {
  /**
   * Pipes with the address of their far end (PUB) or near end (SUB): a PUB pipe serves the SUB
   * whose pipe has its remote address as local address.
   */
  pipes: {
    pipe: number;
    localAddress: string;
    remoteAddress: string;
    attachedAtUs: number;
    detachedAtUs: number | null;
    /** PUB: messages this pipe lost because its queue was full. */
    droppedFull: number;
  }[];
  /** The most messages queued at once: per pipe (PUB) or in the receive queue (SUB). */
  maxQueued: number;
  /** SUB: messages lost because the receive queue was full. */
  droppedFull: number;
  /** SUB: queued messages purged by an unsubscribe. */
  purged: number;
  /** SUB: how many messages the application had received when it unsubscribed (null: never). */
  unsubscribedAfter: number | null;
}

export interface RawPeerObs {
  name: string;
  connectedAtUs: number | null;
  /** When the connection ended (either side), or null if still open at the end. */
  closedAtUs: number | null;
  /** True when the SP side closed or reset it (rather than the script). */
  closedByRemote: boolean;
  bytesIn: number;
  error: string | null;
}

export interface Observations {
  sockets: Record<string, SocketObs>;
  raw: Record<string, RawPeerObs>;
  /** An event threw: the stack under test crashed (the run stopped there). */
  crash: string | null;
}

/** What SP checks read besides the observations: the engine's context and the workload's payloads. */
export interface CheckContext extends EngineCheckContext {
  /** Payload of message `index` of socket `name` (what the workload sent). */
  payloadOf(socket: string, index: number): Uint8Array;
}

/** An SP check. */
export type CheckDef = EngineCheckDef<Scenario, Observations, CheckContext>;

const REGISTRY = new Map<string, CheckDef>();

/** Registers an SP check; ids are stable (a report and a case file name them). */
export function defineCheck(def: CheckDef): CheckDef {
  const old = REGISTRY.get(def.id);
  if (old !== undefined && old !== def) throw new Error(`check ${def.id} is defined twice`);
  REGISTRY.set(def.id, def);
  return def;
}

export function checkById(id: string): CheckDef | undefined {
  return REGISTRY.get(id);
}

export function checkIds(): string[] {
  return [...REGISTRY.keys()];
}

/** The SP checks by id (StackCore.checks). */
export function spChecks(): ReadonlyMap<string, CheckDef> {
  return REGISTRY;
}

// ---------------------------------------------------------------------------------------------
// Helpers the families share.

/** Sockets connected to `s` by the topology (one dials an address the other listens on). */
export function peersOf(scenario: Scenario, s: SocketSpec): SocketSpec[] {
  return scenario.sockets.filter(
    (o) => o !== s && (o.dial.some((a) => s.listen.includes(a)) || s.dial.some((a) => o.listen.includes(a))),
  );
}

/**
 * The sockets whose workload messages may reach `receiver`: its peers that send (or echo), and,
 * through a device (a peer whose application is `device`), whatever reaches the device's other side
 * (its partner, or the device socket itself for a loopback device), recursively. Never the receiver
 * itself: a device does not send a message back where it came from (an XBUS hub skips the pipe it
 * arrived on).
 */
export function originsOf(scenario: Scenario, receiver: SocketSpec): SocketSpec[] {
  const out = new Set<SocketSpec>();
  const seen = new Set<SocketSpec>();
  const visit = (side: SocketSpec, from: SocketSpec): void => {
    for (const p of peersOf(scenario, side)) {
      if (p === from) continue;
      if (p.app.kind === 'send' || p.app.kind === 'echo') out.add(p);
      else if (p.app.kind === 'device' && !seen.has(p)) {
        seen.add(p);
        const partner =
          p.app.partner === undefined ? p : scenario.sockets.find((x) => x.name === p.app.partner);
        if (partner !== undefined) visit(partner, p === partner ? side : p);
      }
    }
  };
  visit(receiver, receiver);
  out.delete(receiver);
  return [...out];
}

/** The sender and index a workload payload names in its first word (runner.payload), if it can. */
export function payloadOrigin(
  s: Scenario,
  body: Uint8Array,
): { sender: SocketSpec; index: number } | undefined {
  if (body.length < 4) return undefined;
  const tag = ((body[0]! << 24) | (body[1]! << 16) | (body[2]! << 8) | body[3]!) >>> 0;
  const sender = s.sockets[tag >>> 24];
  return sender === undefined ? undefined : { sender, index: tag & 0xffffff };
}

/**
 * Matches what `receiver` got against what its peers sent: every received message must be the next
 * not-yet-seen message of some sender, intact (so: no corruption, no duplicate, no reordering per
 * sender, nothing invented). Returns the first violation, or null, and how many were matched.
 */
export function matchDeliveries(
  scenario: Scenario,
  obs: Observations,
  ctx: CheckContext,
  receiver: SocketSpec,
  received: readonly RecvRecord[],
): { violation: string | null; matched: number } {
  const senders = peersOf(scenario, receiver).filter((p) => p.app.kind === 'send' || p.app.kind === 'echo');
  const next = new Map<string, number>(senders.map((s) => [s.name, 0]));
  let matched = 0;
  for (let r = 0; r < received.length; r++) {
    const body = received[r]!.body;
    let best: { sender: string; at: number } | undefined;
    for (const s of senders) {
      const sent = obs.sockets[s.name]?.sent ?? [];
      for (let i = next.get(s.name)!; i < sent.length; i++) {
        if (bytesEqual(ctx.payloadOf(s.name, i), body)) {
          if (best === undefined || i - next.get(s.name)! < best.at - next.get(best.sender)!)
            best = { sender: s.name, at: i };
          break;
        }
      }
    }
    if (best === undefined)
      return {
        violation: `${receiver.name} received message #${r} (${body.length} bytes) that is not the next message of any sender, intact and in order`,
        matched,
      };
    next.set(best.sender, best.at + 1);
    matched++;
  }
  return { violation: null, matched };
}

/** Pass/fail verdict from a violation text. */

function errorsTail(o: SocketObs): string {
  return o.errors.length ? `; errors: ${o.errors.slice(0, 3).join('; ')}` : '';
}

/** A socket whose application sends requests and awaits replies: a REQ, or a raw XREQ sender. */
export function isRequester(spec: SocketSpec): boolean {
  return (spec.protocol === 'req0' || spec.protocol === 'xreq0') && spec.app.kind === 'send';
}

// ---------------------------------------------------------------------------------------------
// Engine-level checks every family can use.

defineCheck({
  id: 'delivery.intact-in-order',
  kind: 'always',
  requirement:
    'every message arrives intact, at most once and in order per sender, under any chunking, partial writes and stalls',
  ref: null,
  evaluate(s, obs, ctx) {
    for (const sock of s.sockets) {
      if (sock.protocol !== 'pair0' || sock.app.kind === 'send') continue;
      const got = obs.sockets[sock.name]?.received ?? [];
      const m = matchDeliveries(s, obs, ctx, sock, got);
      if (m.violation !== null) return verdict(m.violation, 'received is an in-order subsequence of sent');
    }
    return verdict(null, 'received is an in-order subsequence of sent');
  },
});

defineCheck({
  id: 'delivery.all-delivered',
  kind: 'eventually',
  requirement:
    'after faults heal, every message send() accepted reaches the peer (unless a fault destroyed data in flight)',
  ref: null,
  evaluate(s, obs, ctx) {
    if (ctx.lossy) return { status: 'not-applicable', expected: null, actual: 'a reset or crash fired' };
    let accepted = 0;
    let sent = 0;
    let delivered = 0;
    let tail = '';
    for (const sock of s.sockets) {
      const o = obs.sockets[sock.name];
      if (o === undefined) continue;
      if (sock.app.kind === 'send') {
        sent += s.workload.sends.filter((w) => w.socket === sock.name).length;
        accepted += o.sent.filter((x) => x.acceptedAtUs !== null).length;
        tail += errorsTail(o);
      } else if (sock.protocol === 'pair0') delivered += o.received.length;
    }
    return {
      status: accepted === sent && delivered === accepted ? 'pass' : 'fail',
      expected: `${sent} messages accepted and delivered`,
      actual: `${accepted} accepted, ${delivered} delivered${tail}`,
    };
  },
});

defineCheck({
  id: 'reqrep.one-reply-per-request',
  kind: 'always',
  requirement:
    'a REQ (or raw XREQ sender) gets exactly one reply per completed request, and it answers that request; an XREQ gets no reply that answers no outstanding request',
  ref: '17',
  evaluate(s, obs, ctx) {
    for (const sock of s.sockets) {
      if (!isRequester(sock)) continue;
      const o = obs.sockets[sock.name]!;
      if (o.strayReplies > 0)
        return verdict(
          `${sock.name}: ${o.strayReplies} replies answered no outstanding request`,
          'each completed request has exactly one reply, equal to its echo',
        );
      const seen = new Set<number>();
      for (const r of o.received) {
        const i = r.replyTo!;
        if (seen.has(i)) return verdict(`${sock.name}: request #${i} got more than one reply`, 'one reply');
        seen.add(i);
        if (!bytesEqual(ctx.payloadOf(sock.name, i), r.body))
          return verdict(
            `${sock.name}: request #${i} got a reply that is not its echo (${r.body.length} bytes)`,
            'each completed request has exactly one reply, equal to its echo',
          );
      }
    }
    return verdict(null, 'each completed request has exactly one reply, equal to its echo');
  },
});

defineCheck({
  id: 'reqrep.all-answered',
  kind: 'eventually',
  requirement:
    'after faults heal, every request is answered (REQ resends; REP answers); a raw XREQ, which never resends, only when no fault destroyed data in flight',
  ref: '14',
  evaluate(s, obs, ctx) {
    let want = 0;
    let got = 0;
    let tail = '';
    for (const sock of s.sockets) {
      if (!isRequester(sock)) continue;
      // A request lost with its pipe stays lost: raw REQ leaves resending to the application.
      if (sock.protocol === 'xreq0' && ctx.lossy) continue;
      const o = obs.sockets[sock.name]!;
      want += s.workload.sends.filter((w) => w.socket === sock.name).length;
      got += o.received.length;
      tail += errorsTail(o);
    }
    return {
      status: got === want ? 'pass' : 'fail',
      expected: `${want} replies`,
      actual: `${got} replies${tail}`,
    };
  },
});
