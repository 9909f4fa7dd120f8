/**
 * The framing family: whatever the chunking, partial writes and stalls, every message arrives
 * intact, once, in order per pipe, over every transport; zero-length messages survive (drawn often);
 * a frame length over the receive limit closes the pipe before anything is allocated for it, after
 * the frames before it were delivered, and the socket goes on serving a well-behaved peer; garbage
 * after a valid handshake never crashes the socket (sp.md §8 items 6, 9, 10).
 */
import fc from 'fast-check';
import type { FamilySpec, PropertySpec } from '../catalog.js';
import {
  bytesEqual,
  defineCheck,
  matchDeliveries,
  originsOf,
  payloadOrigin,
  verdict,
  type CheckVerdict,
  type Observations,
  type RecvRecord,
} from '../checks.js';
import {
  DEFAULT_CHECKS,
  FAULT_PHASE_US,
  faultPlanArb,
  LIVENESS_US,
  networkArb,
  scenarioArb,
  sizesArb,
  TRANSPORTS,
  type GeneratedFaultKind,
  type ReqRepShape,
  type Transport,
} from '../generators.js';
import {
  SCENARIO_VERSION,
  SP_STACK,
  type RawPeerSpec,
  type RawStep,
  type Scenario,
  type SocketSpec,
} from '../model.js';
import {
  afterHandshake,
  closesItself,
  concatBytes,
  frame,
  frameHeader,
  headerForPeerOf,
  isIpc,
  listenerOf,
  MAX_EXACT_LENGTH,
  MAX_U64,
  parseFrames,
  receiveLimit,
  scenarioOption,
  splitWrites,
} from './raw-bytes.js';
import { PUBSUB_FRAMING_PROPERTY } from './pubsub.js';
import { RAW_PAIR_PROPERTY, RAW_PUBSUB_PROPERTY } from './raw.js';
import { modelCheck } from '../models/checks.js';

const ALL_FAULTS = ['partition', 'stall-reads', 'pause', 'reset', 'crash', 'link'] as const;
/** Faults that never destroy bytes a raw peer wrote, so what it must have delivered is exact. */
const RAW_PEER_FAULTS: readonly GeneratedFaultKind[] = ['partition', 'stall-reads', 'pause', 'link'];

/**
 * When the well-behaved peer of the raw-peer properties starts: 10 s after every fault healed, so
 * the raw peer has long connected (a PAIR0 socket takes one peer: the good one must not take the
 * slot first) and, on a correct stack, long been cut or gone.
 */
export const GOOD_PEER_START_US = FAULT_PHASE_US + 10_000_000;
/** When the raw peer connects (the listener is up by then: it binds at 0). */
const RAW_PEER_START_US = 1_000;
/** Room the protocols' own header words take on top of a workload message (REQ/REP backtraces). */
const PROTOCOL_HEADER_ALLOWANCE_BYTES = 64;

// ---------------------------------------------------------------------------------------------
// Checks.

/** The raw peer dialing `sock` (the raw-peer properties use one per socket), or undefined. */
function rawPeerOf(scenario: Scenario, sock: SocketSpec): RawPeerSpec | undefined {
  const mine = scenario.rawPeers.filter((p) => sock.listen.includes(p.dial));
  return mine.length === 1 ? mine[0] : undefined;
}

/** What a correct receiver delivers from the raw peer: its complete frames up to the first bad one. */
function expectedRawFrames(
  scenario: Scenario,
  obs: Observations,
  p: RawPeerSpec,
  sock: SocketSpec,
): Uint8Array[] {
  if (obs.raw[p.name]?.connectedAtUs == null) return [];
  return parseFrames(afterHandshake(p), isIpc(p.dial), receiveLimit(sock)).frames;
}

/**
 * Splits what a PAIR0 socket received into the raw peer's part (a leading run equal to its expected
 * frames, in order) and the rest. PAIR0 takes one peer at a time and the good peer starts after
 * the raw one is gone, so the raw peer's messages come first.
 */
function splitReceived(
  scenario: Scenario,
  obs: Observations,
  sock: SocketSpec,
): { p: RawPeerSpec; expected: Uint8Array[]; rawCount: number; rest: RecvRecord[] } | undefined {
  const p = rawPeerOf(scenario, sock);
  if (p === undefined) return undefined;
  const expected = expectedRawFrames(scenario, obs, p, sock);
  const got = obs.sockets[sock.name]?.received ?? [];
  let n = 0;
  while (n < got.length && n < expected.length && bytesEqual(expected[n]!, got[n]!.body)) n++;
  return { p, expected, rawCount: n, rest: got.slice(n) };
}

const NA = (why: string): CheckVerdict => ({ status: 'not-applicable', expected: null, actual: why });

defineCheck({
  id: 'framing.oversize-cut',
  kind: 'eventually',
  requirement:
    'a frame length over the receive limit (MAX-RCV-SIZE; 2^53-1 when unlimited) closes the pipe, and the endpoint counts it (badFrames)',
  ref: '6',
  evaluate(s, obs) {
    let judged = 0;
    for (const p of s.rawPeers) {
      const sock = listenerOf(s, p.dial);
      const o = obs.raw[p.name];
      if (sock === undefined || o?.connectedAtUs == null || closesItself(p)) continue;
      const parsed = parseFrames(afterHandshake(p), isIpc(p.dial), receiveLimit(sock));
      if (parsed.stop !== 'too-long') continue;
      judged++;
      const expected = `${p.name}'s connection closed by ${sock.name} and counted as a bad frame`;
      if (!o.closedByRemote)
        return verdict(
          `${p.name} announced a frame over ${receiveLimit(sock)} bytes and its connection is ${o.closedAtUs === null ? 'still open' : 'closed only by itself'} at the end`,
          expected,
        );
      const bad = obs.sockets[sock.name]!.endpoints.badFrames;
      if (bad < 1) return verdict(`${sock.name} counted ${bad} bad frames`, expected);
    }
    return judged === 0
      ? NA('no raw peer announced an oversize frame on a connection it kept open')
      : verdict(null, 'oversize frames cut');
  },
});

defineCheck({
  id: 'framing.no-oversize-alloc',
  kind: 'always',
  requirement:
    'the receive path never asks for a buffer larger than the receive limit (when unlimited: than the largest frame actually sent), nor for a size that is not a byte count',
  ref: '6',
  evaluate(s, obs) {
    for (const sock of s.sockets) {
      const o = obs.sockets[sock.name];
      if (o === undefined) continue;
      const max = scenarioOption(sock, 'MAX-RCV-SIZE');
      let bound = max;
      if (max === 0) {
        // Unlimited: a correct receiver allocates at most what real frames need.
        bound = 0;
        for (const w of s.workload.sends) bound = Math.max(bound, w.bytes + PROTOCOL_HEADER_ALLOWANCE_BYTES);
        for (const p of s.rawPeers.filter((x) => sock.listen.includes(x.dial)))
          for (const f of parseFrames(afterHandshake(p), isIpc(p.dial), MAX_EXACT_LENGTH).frames)
            bound = Math.max(bound, f.length);
      }
      const expected = `every allocation a byte count of at most ${bound} bytes${max === 0 ? ' (MAX-RCV-SIZE 0: the largest frame sent)' : ' (MAX-RCV-SIZE)'}`;
      if (o.badAllocRequests > 0)
        return verdict(
          `${sock.name} asked the allocator for ${o.badAllocRequests} sizes that are no byte count`,
          expected,
        );
      if (o.maxAllocBytes > bound)
        return verdict(`${sock.name} asked the allocator for ${o.maxAllocBytes} bytes`, expected);
    }
    return verdict(null, 'no allocation beyond the receive limit');
  },
});

defineCheck({
  id: 'framing.raw-frames-delivered',
  kind: 'eventually',
  requirement:
    'the frames a raw peer completes before a bad one reach the application intact and in order, and nothing else of its bytes does (all of them when it keeps its connection open)',
  ref: '6',
  evaluate(s, obs, ctx) {
    if (ctx.lossy) return NA('a reset or crash fired');
    let judged = 0;
    for (const sock of s.sockets) {
      if (sock.protocol !== 'pair0') continue;
      const split = splitReceived(s, obs, sock);
      if (split === undefined) continue;
      judged++;
      const { p, expected, rawCount, rest } = split;
      // A peer that closes its own connection may lose what it had not yet handed to the network.
      const exact = !closesItself(p);
      const want = `${exact ? 'exactly' : 'a prefix of'} the ${expected.length} complete frames ${p.name} wrote before its first bad one, then only the good peer's messages`;
      if (exact && rawCount < expected.length)
        return verdict(
          `${sock.name} received ${rawCount} of ${p.name}'s ${expected.length} frames before ${rest.length > 0 ? `a message that is not frame #${rawCount} (${rest[0]!.body.length} bytes)` : 'nothing more'}`,
          want,
        );
      const m = matchDeliveries(s, obs, ctx, sock, rest);
      if (m.violation !== null) return verdict(`after ${rawCount} frames of ${p.name}: ${m.violation}`, want);
    }
    return judged === 0 ? NA('no PAIR0 socket with one raw peer') : verdict(null, 'raw frames delivered');
  },
});

defineCheck({
  id: 'framing.good-peer-served',
  kind: 'eventually',
  requirement:
    'after a raw peer sent an oversize frame or garbage, the socket still serves a well-behaved peer: everything it sends is delivered',
  ref: '10',
  evaluate(s, obs, ctx) {
    if (ctx.lossy) return NA('a reset or crash fired');
    let judged = 0;
    for (const sock of s.sockets) {
      if (sock.protocol !== 'pair0') continue;
      const split = splitReceived(s, obs, sock);
      if (split === undefined) continue;
      const senders = s.sockets.filter(
        (x) => x.app.kind === 'send' && x.dial.some((a) => sock.listen.includes(a)),
      );
      const want = s.workload.sends.filter((w) => senders.some((x) => x.name === w.socket)).length;
      if (want === 0) continue;
      judged++;
      const accepted = senders.reduce(
        (n, x) => n + (obs.sockets[x.name]?.sent.filter((r) => r.acceptedAtUs !== null).length ?? 0),
        0,
      );
      const m = matchDeliveries(s, obs, ctx, sock, split.rest);
      if (accepted !== want || m.violation !== null || m.matched !== want)
        return {
          status: 'fail',
          expected: `the good peer's ${want} messages accepted and delivered to ${sock.name}`,
          actual: `${accepted} accepted, ${m.matched} delivered${m.violation !== null ? ` (${m.violation})` : ''}; ${sock.name} refused ${obs.sockets[sock.name]!.endpoints.rejected} pipes`,
        };
    }
    return judged === 0 ? NA('no good peer sent anything') : verdict(null, 'good peer served');
  },
});

// ---------------------------------------------------------------------------------------------
// Generators.

function addressFor(transport: Transport): string {
  return transport === 'tcp' ? 'tcp://server:5555' : 'ipc:///tmp/netlab-local-5555.sock';
}

/** MAX-RCV-SIZE draws: mostly small limits (1..64 KiB, shrinking toward 16 bytes), sometimes 0 = unlimited. */
const maxRecvArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 16, max: 1024 }) },
  { weight: 2, arbitrary: fc.integer({ min: 1025, max: 65536 }) },
  { weight: 2, arbitrary: fc.constant(0) },
);

/**
 * A length over the limit: just above it, anywhere above it, at the edge of exact doubles (2^53),
 * with the top bit set (negative to a signed reader), close to 2^64-1.
 */
export function oversizeLengthArb(maxRecvBytes: number): fc.Arbitrary<bigint> {
  const limit = maxRecvBytes > 0 ? BigInt(maxRecvBytes) : MAX_EXACT_LENGTH;
  const above = (lo: bigint, hi: bigint) => fc.bigInt({ min: lo > limit ? lo : limit + 1n, max: hi });
  return fc.oneof(
    above(limit + 1n, limit + 1024n),
    above(limit + 1n, MAX_U64),
    above(2n ** 53n, 2n ** 53n + 4096n),
    above(2n ** 63n, MAX_U64),
    above(MAX_U64 - 4096n, MAX_U64),
    ...(maxRecvBytes > 0 ? [above(limit + 1n, 2n ** 32n)] : []),
  );
}

/** Bytes that are not a clean frame stream: random bytes, headers promising more than follows, the classics of mangos' TcpBadRecv. */
function garbageArb(ipc: boolean, maxRecvBytes: number): fc.Arbitrary<Uint8Array> {
  const body = fc.uint8Array({ maxLength: 48 });
  const typeByte = fc.oneof(fc.constant(0x01), fc.integer({ min: 0, max: 255 }));
  const header = (length: fc.Arbitrary<bigint>) =>
    fc
      .tuple(length, typeByte)
      .map(([l, t]) =>
        ipc ? concatBytes([Uint8Array.of(t), frameHeader(l, false)]) : frameHeader(l, false),
      );
  const piece = fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 32 }),
    body.map((b) => frame(b, ipc)),
    fc.tuple(header(fc.bigInt({ min: 0n, max: 96n })), body).map(([h, b]) => concatBytes([h, b])),
    fc.tuple(header(oversizeLengthArb(maxRecvBytes)), body).map(([h, b]) => concatBytes([h, b])),
    fc.constantFrom(
      Uint8Array.of(0x80),
      Uint8Array.of(0, 0, 0, 1),
      concatBytes([frameHeader(10n, ipc), Uint8Array.of(1, 2)]),
    ),
  );
  return fc.array(piece, { minLength: 1, maxLength: 5 }).map(concatBytes);
}

interface RawPeerPropertyOptions {
  impl: string;
  transports: readonly Transport[];
  kind: 'oversize' | 'garbage';
}

/**
 * A PAIR0 listener with a drawn MAX-RCV-SIZE, one raw peer that handshakes correctly and then sends
 * frames and an oversize length (oversize) or garbage it then closes or resets (garbage), written in
 * drawn pieces with drawn pauses; optionally a well-behaved PAIR0 sender that starts once the raw
 * peer is done. Faults never destroy data (no reset, no crash): what must arrive is exact.
 */
function rawPeerScenarioArb(o: RawPeerPropertyOptions): fc.Arbitrary<Scenario> {
  return fc
    .record({
      transport: fc.constantFrom(...o.transports.filter((t) => t !== 'inproc')),
      maxRecvBytes: o.kind === 'garbage' ? maxRecvArb.filter((m) => m > 0) : maxRecvArb,
    })
    .chain(({ transport, maxRecvBytes }) => {
      const ipc = transport === 'ipc';
      const goodMax = Math.min(512, maxRecvBytes > 0 ? maxRecvBytes : 512);
      const payloadArb =
        o.kind === 'oversize'
          ? fc
              .record({
                bodies: fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 5 }),
                length: oversizeLengthArb(maxRecvBytes),
                tail: fc.uint8Array({ maxLength: 16 }),
              })
              .map((k) =>
                concatBytes([...k.bodies.map((b) => frame(b, ipc)), frameHeader(k.length, ipc), k.tail]),
              )
          : garbageArb(ipc, maxRecvBytes);
      const local = transport !== 'tcp';
      const hosts = local ? ['local'] : ['peer', 'server'];
      return fc
        .record({
          payload: payloadArb,
          cuts: fc.array(fc.nat(), { maxLength: 4 }),
          delaysUs: fc.array(fc.integer({ min: 0, max: 20_000 }), { maxLength: 5 }),
          ending:
            o.kind === 'garbage' ? fc.constantFrom('close' as const, 'reset' as const) : fc.constant(null),
          endAfterUs: fc.integer({ min: 0, max: 50_000 }),
          good: fc.option(fc.array(fc.integer({ min: 4, max: goodMax }), { minLength: 1, maxLength: 6 }), {
            nil: null,
          }),
          network: networkArb(),
          faults: faultPlanArb({ hosts, kinds: RAW_PEER_FAULTS, maxFaults: 2 }),
        })
        .map((k): Scenario => {
          const addr = addressFor(transport);
          const peerHost = local ? 'local' : 'peer';
          const script: RawStep[] = splitWrites(
            concatBytes([headerForPeerOf('pair0'), k.payload]),
            k.cuts,
            k.delaysUs,
          );
          if (k.ending !== null) script.push({ afterUs: k.endAfterUs, action: k.ending });
          const sockets: SocketSpec[] = [
            {
              name: 'server',
              host: local ? 'local' : 'server',
              protocol: 'pair0',
              listen: [addr],
              dial: [],
              options: { 'MAX-RCV-SIZE': maxRecvBytes },
              app: { kind: 'sink' },
              startUs: 0,
            },
          ];
          if (k.good !== null)
            sockets.push({
              name: 'client0',
              host: peerHost,
              protocol: 'pair0',
              listen: [],
              dial: [addr],
              options: {},
              app: { kind: 'send' },
              startUs: GOOD_PEER_START_US,
            });
          return {
            version: SCENARIO_VERSION,
            stack: SP_STACK,
            name: `framing/${o.kind}`,
            impl: o.impl,
            hosts,
            sockets,
            rawPeers: [{ name: 'raw0', host: peerHost, dial: addr, startUs: RAW_PEER_START_US, script }],
            workload: { sends: (k.good ?? []).map((bytes) => ({ socket: 'client0', bytes, gapUs: 0 })) },
            network: k.network,
            faults: k.faults,
            faultPhaseUs: FAULT_PHASE_US,
            livenessUs: LIVENESS_US,
            checks: [...RAW_PEER_CHECKS[o.kind]],
          };
        });
    });
}

const RAW_PEER_CHECKS = {
  oversize: [
    'stack.no-crash',
    'framing.oversize-cut',
    'framing.no-oversize-alloc',
    'framing.raw-frames-delivered',
    'framing.good-peer-served',
  ],
  garbage: [
    'stack.no-crash',
    'framing.no-oversize-alloc',
    'framing.raw-frames-delivered',
    'framing.good-peer-served',
  ],
} as const;

/**
 * Raw REQ/REP shapes: XREQ clients against REP, REQ clients against an XREP echo, raw on both
 * sides, and a device (XREP | device | XREQ) between the clients and the server. Shrinks toward the
 * first: XREQ against REP.
 */
export const RAW_REQREP_SHAPES: readonly ReqRepShape[] = [
  { rawClient: true },
  { rawServer: true },
  { rawClient: true, rawServer: true },
  { device: true },
  { device: true, rawClient: true },
  { device: true, rawServer: true },
];

/** Message sizes with zero-length messages common (1 in 5), the rest uniform up to 4 KiB. */
const SIZE_WITH_ZEROS: fc.Arbitrary<number> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0, max: 4096 }) },
  { weight: 1, arbitrary: fc.constant(0) },
);

// ---------------------------------------------------------------------------------------------
// BUS and PAIR1.

const BUS_PROTOCOLS: ReadonlySet<string> = new Set(['bus0', 'xbus0']);
const STAR_PROTOCOLS: ReadonlySet<string> = new Set(['star', 'xstar']);

defineCheck({
  id: 'bus.no-relay-no-dup',
  kind: 'always',
  requirement:
    'a BUS socket receives only what a directly connected peer sent (or, through an XBUS hub device, another peer of the hub), intact and at most once: a cooked BUS never relays between its peers and never duplicates; a hub never echoes',
  ref: '40',
  evaluate(s, obs, ctx) {
    const expected =
      'every received message sent by a directly connected peer or through a hub, intact, at most once';
    let judged = 0;
    for (const sock of s.sockets) {
      if (!BUS_PROTOCOLS.has(sock.protocol) || sock.app.kind !== 'sink') continue;
      judged++;
      const direct = new Set(originsOf(s, sock).map((p) => p.name));
      const seen = new Set<string>();
      for (const [r, m] of (obs.sockets[sock.name]?.received ?? []).entries()) {
        const origin = payloadOrigin(s, m.body);
        if (origin === undefined || !bytesEqual(ctx.payloadOf(origin.sender.name, origin.index), m.body))
          return verdict(
            `${sock.name} received message #${r} (${m.body.length} bytes) that no socket sent`,
            expected,
          );
        const key = `${origin.sender.name}#${origin.index}`;
        if (!direct.has(origin.sender.name))
          return verdict(
            `${sock.name} received ${key}, but ${origin.sender.name} is neither one of its peers nor behind a hub (senders that reach it: ${[...direct].join(', ') || 'none'}): relayed`,
            expected,
          );
        if (seen.has(key)) return verdict(`${sock.name} received ${key} twice`, expected);
        seen.add(key);
      }
    }
    return judged === 0 ? NA('no BUS sink') : verdict(null, expected);
  },
});

defineCheck({
  id: 'bus.delivered-when-calm',
  kind: 'eventually',
  requirement:
    'with no fault and no loss, every message a BUS sender sends reaches each directly connected BUS sink, and through an XBUS hub every other peer of the hub (per-pipe queues never fill at this load)',
  ref: '40',
  evaluate(s, obs, ctx) {
    if (ctx.faults.some((f) => f.startUs !== null)) return NA('a fault fired');
    if (s.network.lossRate > 0)
      return NA('the network loses segments (retransmissions may outlast the start-up)');
    let judged = 0;
    for (const sock of s.sockets) {
      if (!BUS_PROTOCOLS.has(sock.protocol) || sock.app.kind !== 'sink') continue;
      const got = new Set(
        (obs.sockets[sock.name]?.received ?? []).map((m) => {
          const o = payloadOrigin(s, m.body);
          return o === undefined ? '' : `${o.sender.name}#${o.index}`;
        }),
      );
      for (const p of originsOf(s, sock)) {
        if (p.app.kind !== 'send') continue;
        const sent = obs.sockets[p.name]?.sent ?? [];
        judged++;
        const missing = sent.filter((x) => !got.has(`${p.name}#${x.index}`)).length;
        if (missing > 0)
          return verdict(
            `${sock.name} lacks ${missing} of the ${sent.length} messages of its peer ${p.name}`,
            "each direct peer's messages all delivered",
          );
      }
    }
    return judged === 0 ? NA('no BUS sink with a sending peer') : verdict(null, 'all delivered');
  },
});

defineCheck({
  id: 'pair1.intact-in-order',
  kind: 'always',
  requirement:
    'PAIR1 delivers every message intact, at most once and in order, the hop-count header never showing in the body',
  ref: '39',
  evaluate(s, obs, ctx) {
    let judged = 0;
    for (const sock of s.sockets) {
      if (sock.protocol !== 'pair1' || sock.app.kind === 'send') continue;
      judged++;
      const m = matchDeliveries(s, obs, ctx, sock, obs.sockets[sock.name]?.received ?? []);
      if (m.violation !== null) return verdict(m.violation, 'received is an in-order subsequence of sent');
    }
    return judged === 0
      ? NA('no PAIR1 receiver')
      : verdict(null, 'received is an in-order subsequence of sent');
  },
});

defineCheck({
  id: 'pair1.all-delivered',
  kind: 'eventually',
  requirement:
    'after faults heal, every message a PAIR1 send() accepted reaches the peer (unless a fault destroyed data in flight)',
  ref: '39',
  evaluate(s, obs, ctx) {
    if (ctx.lossy) return NA('a reset or crash fired');
    let accepted = 0;
    let delivered = 0;
    for (const sock of s.sockets) {
      if (sock.protocol !== 'pair1') continue;
      const o = obs.sockets[sock.name];
      if (sock.app.kind === 'send') accepted += o?.sent.filter((x) => x.acceptedAtUs !== null).length ?? 0;
      else delivered += o?.received.length ?? 0;
    }
    const sent = s.workload.sends.length;
    return {
      status: accepted === sent && delivered === accepted ? 'pass' : 'fail',
      expected: `${sent} messages accepted and delivered`,
      actual: `${accepted} accepted, ${delivered} delivered`,
    };
  },
});

const BUS_CHECKS = [
  'stack.no-crash',
  'bus.no-relay-no-dup',
  'bus.delivered-when-calm',
  'model.bus',
  'model.wire',
] as const;
const STAR_CHECKS = [
  'stack.no-crash',
  'star.tree-once',
  'star.delivered-when-calm',
  modelCheck('model.star'),
  modelCheck('model.wire'),
] as const;
/** Through a hub, per-sender order is judged too (raw.ts). */
const BUS_DEVICE_CHECKS = [...BUS_CHECKS, 'raw.intact-once-in-order'] as const;

defineCheck({
  id: 'star.tree-once',
  kind: 'always',
  requirement:
    'on a tree (line or star topology) STAR forwarding delivers each message to each socket at most once, intact, and never back to its sender',
  ref: null,
  evaluate(s, obs, ctx) {
    const expected = 'every received message sent by another socket, intact, at most once';
    let judged = 0;
    for (const sock of s.sockets) {
      if (!STAR_PROTOCOLS.has(sock.protocol) || sock.app.kind !== 'sink') continue;
      judged++;
      const seen = new Set<string>();
      for (const [r, m] of (obs.sockets[sock.name]?.received ?? []).entries()) {
        const origin = payloadOrigin(s, m.body);
        if (
          origin === undefined ||
          origin.sender === sock ||
          !bytesEqual(ctx.payloadOf(origin.sender.name, origin.index), m.body)
        )
          return verdict(
            `${sock.name} received message #${r} (${m.body.length} bytes) that no other socket sent`,
            expected,
          );
        const key = `${origin.sender.name}#${origin.index}`;
        if (seen.has(key)) return verdict(`${sock.name} received ${key} twice`, expected);
        seen.add(key);
      }
    }
    return judged === 0 ? NA('no STAR sink') : verdict(null, expected);
  },
});

defineCheck({
  id: 'star.delivered-when-calm',
  kind: 'eventually',
  requirement:
    'with no fault and no loss, every message a STAR sender sends reaches every STAR sink of the tree (at most 4 hops, below TTL 8)',
  ref: null,
  evaluate(s, obs, ctx) {
    if (ctx.faults.some((f) => f.startUs !== null)) return NA('a fault fired');
    if (s.network.lossRate > 0)
      return NA('the network loses segments (retransmissions may outlast the start-up)');
    const sinks = s.sockets.filter((x) => STAR_PROTOCOLS.has(x.protocol) && x.app.kind === 'sink');
    const sent = s.sockets
      .filter((x) => STAR_PROTOCOLS.has(x.protocol) && x.app.kind === 'send')
      .flatMap((x) => (obs.sockets[x.name]?.sent ?? []).map((r) => `${x.name}#${r.index}`));
    for (const sink of sinks) {
      const got = new Set(
        (obs.sockets[sink.name]?.received ?? []).map((m) => {
          const o = payloadOrigin(s, m.body);
          return o === undefined ? '' : `${o.sender.name}#${o.index}`;
        }),
      );
      const missing = sent.filter((k) => !got.has(k));
      if (missing.length > 0)
        return verdict(
          `${sink.name} lacks ${missing.length} of ${sent.length} messages (first ${missing[0]})`,
          'all delivered',
        );
    }
    return sinks.length === 0 || sent.length === 0
      ? NA('no STAR sink or nothing sent')
      : verdict(null, 'all delivered');
  },
});

/** When BUS senders start: long after every socket of a calm network connected (1 s). */
const BUS_FIRST_SEND_US = 1_000_000;

/**
 * BUS topologies of 3..5 sockets: a star (the hub listens, the others dial it) or a line (each
 * socket dials the previous one); the first two non-hub sockets (the two ends of a line) are a
 * sender and a sink, the others draw their role. So some message always has a path through a
 * middle socket to a sink it is not connected to: a relaying BUS shows.
 *
 * `raw`: each socket is drawn raw (XBUS, XSTAR) or cooked; a raw XSTAR sender starts the hop count
 * at 0 (the runner). `hub`: the star's hub (bus0) is an XBUS loopback device that forwards each
 * message to every other leaf, so every sink hears every sending leaf but itself.
 */
function busScenarioArb(o: {
  impl: string;
  transports: readonly Transport[];
  protocol?: 'bus0' | 'star';
  raw?: boolean;
  hub?: boolean;
  name?: string;
}): fc.Arbitrary<Scenario> {
  const protocol = o.protocol ?? 'bus0';
  const rawProtocol = protocol === 'bus0' ? ('xbus0' as const) : ('xstar' as const);
  const hub = o.hub === true;
  return fc
    .record({
      transport: fc.constantFrom(...o.transports),
      shape: hub ? fc.constant('star' as const) : fc.constantFrom('star' as const, 'line' as const),
      n: fc.integer({ min: 3, max: 5 }),
      roles: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
      // A constant draws nothing: the cooked properties' draws stay as they were.
      raws:
        o.raw === true
          ? fc.array(fc.boolean(), { minLength: 5, maxLength: 5 })
          : fc.constant([false, false, false, false, false]),
    })
    .chain(({ transport, shape, n, roles, raws }) => {
      const local = transport !== 'tcp';
      const names = Array.from({ length: n }, (_, i) => `bus${i}`);
      const hostOf = (i: number): string => (local ? 'local' : names[i]!);
      const addr = (i: number): string =>
        transport === 'tcp'
          ? `tcp://${names[i]}:5555`
          : transport === 'ipc'
            ? `ipc:///tmp/netlab-bus${i}.sock`
            : `inproc://bus${i}`;
      // The two forced roles: a line's ends; a star's first two leaves (the hub is bus0).
      const first = shape === 'line' ? 0 : 1;
      const second = shape === 'line' ? n - 1 : 2;
      const sockets: SocketSpec[] = names.map((name, i) => {
        const send = i === first ? true : i === second ? false : roles[i]!;
        const listens = shape === 'star' ? i === 0 : i < n - 1;
        const dials = shape === 'star' ? (i === 0 ? [] : [addr(0)]) : i === 0 ? [] : [addr(i - 1)];
        const isHub = hub && i === 0;
        return {
          name,
          host: hostOf(i),
          protocol: isHub ? 'xbus0' : raws[i]! ? rawProtocol : protocol,
          listen: listens ? [addr(i)] : [],
          dial: dials,
          options: {},
          app: isHub ? { kind: 'device' } : { kind: send ? 'send' : 'sink' },
          startUs: 0,
        };
      });
      const hosts = local ? ['local'] : names;
      const senders = sockets.filter((x) => x.app.kind === 'send');
      return fc
        .record({
          sizes: fc.tuple(
            ...senders.map(() =>
              sizesArb({ messageBytes: fc.integer({ min: 4, max: 2048 }), maxMessages: 10 }),
            ),
          ),
          gapsUs: fc.array(fc.integer({ min: 0, max: 20_000 }), { minLength: 10, maxLength: 10 }),
          network: networkArb(),
          faults: faultPlanArb({
            hosts,
            // A sink's (or the hub's) host may crash and restart (a sender's would lose its own
            // workload by design).
            crashable: local ? [] : sockets.filter((x) => x.app.kind !== 'send').map((x) => x.host),
            kinds: ALL_FAULTS,
            maxFaults: 2,
          }),
        })
        .map((k): Scenario => ({
          version: SCENARIO_VERSION,
          stack: SP_STACK,
          name: o.name ?? (protocol === 'bus0' ? 'framing/bus' : 'framing/star'),
          impl: o.impl,
          hosts,
          sockets,
          rawPeers: [],
          workload: {
            sends: senders.flatMap((x, i) =>
              k.sizes[i]!.map((bytes, j) => ({
                socket: x.name,
                bytes,
                gapUs: j === 0 ? BUS_FIRST_SEND_US : k.gapsUs[j]!,
              })),
            ),
          },
          network: k.network,
          faults: k.faults,
          faultPhaseUs: FAULT_PHASE_US,
          livenessUs: LIVENESS_US,
          checks: [...(protocol === 'star' ? STAR_CHECKS : hub ? BUS_DEVICE_CHECKS : BUS_CHECKS)],
        }));
    });
}

export const FRAMING_PROPERTIES: PropertySpec[] = [
  {
    id: 'framing/pair0',
    family: 'framing',
    title: 'PAIR0 delivers every message intact, once and in order under chunking, partial writes and faults',
    protocols: ['pair0'],
    transports: TRANSPORTS,
    checks: DEFAULT_CHECKS.pair0,
    faultKinds: ALL_FAULTS,
    sometimes: ['net.partial-write', 'net.retransmission', 'net.reset', 'sp.reconnect', 'sp.zero-length'],
    arb: ({ impl, transports }) =>
      scenarioArb({
        protocol: 'pair0',
        impl,
        transports,
        name: 'framing/pair0',
        messageBytes: SIZE_WITH_ZEROS,
      }),
  },
  {
    id: 'framing/reqrep',
    family: 'framing',
    title: 'REQ/REP carry requests and replies intact under chunking, partial writes and faults',
    protocols: ['req0', 'rep0'],
    transports: TRANSPORTS,
    checks: DEFAULT_CHECKS.reqrep,
    faultKinds: ALL_FAULTS,
    sometimes: ['net.partial-write', 'net.retransmission', 'net.reset', 'sp.reconnect', 'sp.resend'],
    arb: ({ impl, transports }) =>
      scenarioArb({
        protocol: 'reqrep',
        impl,
        transports,
        maxClients: 3,
        name: 'framing/reqrep',
        // A short RETRY-TIME would make resends dominate; framing is about bytes (resend has its own family).
        clientOptions: { 'RETRY-TIME': 1_000_000 },
      }),
  },
  {
    id: 'framing/raw-reqrep',
    family: 'framing',
    title:
      'requests and replies pass intact through raw XREQ / XREP sockets (pipelined) and through a device, under chunking, partial writes and faults',
    protocols: ['req0', 'rep0', 'xreq0', 'xrep0'],
    transports: TRANSPORTS,
    checks: DEFAULT_CHECKS.reqrep,
    faultKinds: ALL_FAULTS,
    sometimes: ['net.partial-write', 'net.retransmission', 'net.reset', 'sp.reconnect'],
    arb: ({ impl, transports }) =>
      scenarioArb({
        protocol: 'reqrep',
        impl,
        transports,
        maxClients: 3,
        maxPipeline: 8,
        shapes: RAW_REQREP_SHAPES,
        name: 'framing/raw-reqrep',
        // REQ clients behind a device resend only on RETRY-TIME when the device loses the server.
        clientOptions: { 'RETRY-TIME': 1_000_000 },
      }),
  },
  {
    id: 'framing/oversize',
    family: 'framing',
    title:
      'a frame length over MAX-RCV-SIZE (up to 2^64-1) closes the pipe before any allocation, after the earlier frames were delivered',
    protocols: ['pair0'],
    transports: ['tcp', 'ipc'],
    checks: RAW_PEER_CHECKS.oversize,
    faultKinds: RAW_PEER_FAULTS,
    sometimes: ['net.partial-write', 'sp.bad-peer-cut', 'sp.zero-length'],
    arb: ({ impl, transports }) => rawPeerScenarioArb({ impl, transports, kind: 'oversize' }),
  },
  {
    id: 'framing/garbage',
    family: 'framing',
    title: 'garbage after a valid handshake never crashes the socket, which goes on serving a good peer',
    protocols: ['pair0'],
    transports: ['tcp', 'ipc'],
    checks: RAW_PEER_CHECKS.garbage,
    faultKinds: RAW_PEER_FAULTS,
    sometimes: ['sp.bad-peer-cut', 'sp.zero-length'],
    arb: ({ impl, transports }) => rawPeerScenarioArb({ impl, transports, kind: 'garbage' }),
  },
  PUBSUB_FRAMING_PROPERTY,
  {
    id: 'framing/bus',
    family: 'framing',
    title:
      'BUS never duplicates or loops: each message reaches each directly connected peer at most once, intact, and is never relayed (star and line topologies of 3..5 sockets)',
    protocols: ['bus0'],
    transports: TRANSPORTS,
    checks: BUS_CHECKS,
    faultKinds: ALL_FAULTS,
    sometimes: ['net.partial-write', 'net.retransmission', 'sp.reconnect'],
    arb: ({ impl, transports }) => busScenarioArb({ impl, transports }),
  },
  {
    id: 'framing/bus-device',
    family: 'framing',
    title:
      'an XBUS loopback device is a hub: each message of a leaf (BUS or raw XBUS) reaches every other leaf at most once, intact, in order, never echoed back to its sender',
    protocols: ['bus0', 'xbus0'],
    transports: TRANSPORTS,
    checks: BUS_DEVICE_CHECKS,
    faultKinds: ALL_FAULTS,
    sometimes: ['net.partial-write', 'net.retransmission', 'sp.reconnect'],
    arb: ({ impl, transports }) =>
      busScenarioArb({ impl, transports, raw: true, hub: true, name: 'framing/bus-device' }),
  },
  {
    id: 'framing/star',
    family: 'framing',
    title:
      'STAR on a tree (line or star of 3..5 sockets, cooked or raw XSTAR) forwards each message to every socket at most once, intact, never back to its sender',
    protocols: ['star', 'xstar'],
    transports: TRANSPORTS,
    checks: STAR_CHECKS,
    faultKinds: ALL_FAULTS,
    sometimes: ['net.partial-write', 'net.retransmission', 'sp.reconnect'],
    arb: ({ impl, transports }) => busScenarioArb({ impl, transports, protocol: 'star', raw: true }),
  },
  RAW_PAIR_PROPERTY,
  RAW_PUBSUB_PROPERTY,
  {
    id: 'framing/pair1',
    family: 'framing',
    title:
      'PAIR1 delivers every message intact, once and in order (hop-count header included) under chunking, partial writes and faults',
    protocols: ['pair1'],
    transports: TRANSPORTS,
    checks: ['stack.no-crash', 'pair1.intact-in-order', 'pair1.all-delivered', 'model.pair', 'model.wire'],
    faultKinds: ALL_FAULTS,
    sometimes: ['net.partial-write', 'net.retransmission', 'net.reset', 'sp.reconnect', 'sp.zero-length'],
    arb: ({ impl, transports }) =>
      scenarioArb({
        protocol: 'pair0',
        impl,
        transports,
        name: 'framing/pair1',
        messageBytes: SIZE_WITH_ZEROS,
        checks: [
          'stack.no-crash',
          'pair1.intact-in-order',
          'pair1.all-delivered',
          'model.pair',
          'model.wire',
        ],
      }).map((sc) => ({ ...sc, sockets: sc.sockets.map((x) => ({ ...x, protocol: 'pair1' as const })) })),
  },
];

export const FRAMING: FamilySpec = {
  name: 'framing',
  title: 'framing: messages arrive intact, once, in order, whatever the bytes do',
  properties: FRAMING_PROPERTIES,
};
