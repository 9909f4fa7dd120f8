/**
 * The handshake family: every malformed, truncated or mismatched connection header closes the
 * connection and is counted; a silent peer is cut at HANDSHAKE-TIMEOUT; slow or stalled handshakers
 * never delay other peers; peers with the right protocol always attach once faults heal
 * (sp.md §8 items 1-5).
 */
import fc from 'fast-check';
import { SPEC_PROTOCOL_IDS } from '../reference.js';
import type { FamilySpec, PropertySpec } from '../catalog.js';
import { defineCheck, verdict, type CheckVerdict, type SocketObs } from '../checks.js';
import {
  FAULT_PHASE_US,
  edgeIntArb,
  faultPlanArb,
  LIVENESS_US,
  networkArb,
  type GeneratedFaultKind,
  type Transport,
} from '../generators.js';
import {
  SCENARIO_VERSION,
  SP_STACK,
  type AppSpec,
  type RawPeerSpec,
  type RawStep,
  type Scenario,
  type ScenarioProtocol,
  type SocketSpec,
} from '../model.js';
import {
  closesItself,
  headerForPeerOf,
  listenerOf,
  maxOneWayUs,
  scenarioOption,
  splitWrites,
  timingUnjudgeable,
} from './raw-bytes.js';

/** Slack on every timing bound for event ordering and rounding within the simulator (1 ms). */
export const TIMING_SLACK_US = 1_000;
/** HANDSHAKE-TIMEOUT draws: 50 ms .. 2 s (never below what the drawn network needs for a handshake). */
const MIN_HANDSHAKE_TIMEOUT_US = 50_000;
const MAX_HANDSHAKE_TIMEOUT_US = 2_000_000;
/** Raw and good peers start within this long after the listener (which binds at 0). */
const PEER_START_MIN_US = 1_000;

/**
 * How long a good dialer may take from its start to an attached pipe on both ends: connect (one
 * round trip), then the listener's header back and the dialer's header over: two round trips at
 * most, plus slack. Nothing in it depends on other peers.
 */
export function attachBoundUs(network: Scenario['network']): number {
  return 4 * maxOneWayUs(network) + TIMING_SLACK_US;
}

/** Connection headers netlab must refuse, by what is wrong with them. */
export const BAD_HEADER_KINDS = [
  'silent',
  'truncated',
  'truncated-close',
  'byte0',
  'magic-s',
  'magic-p',
  'version',
  'reserved',
  'wrong-protocol',
] as const;
export type BadHeaderKind = (typeof BAD_HEADER_KINDS)[number];

/** True for the kinds that never complete an 8-byte header nor close: only the timeout ends them. */
function neverCompletes(p: RawPeerSpec): boolean {
  const written = p.script.reduce((n, s) => n + ('write' in s ? s.write.length / 2 : 0), 0);
  return written < 8 && !closesItself(p);
}

const NA = (why: string): CheckVerdict => ({ status: 'not-applicable', expected: null, actual: why });

// ---------------------------------------------------------------------------------------------
// Checks.

defineCheck({
  id: 'handshake.bad-peer-closed',
  kind: 'eventually',
  requirement:
    'a peer whose header is malformed, truncated, for the wrong protocol or never sent has its connection closed by the SP side',
  ref: '2',
  evaluate(s, obs) {
    let judged = 0;
    for (const p of s.rawPeers) {
      const o = obs.raw[p.name];
      if (o?.connectedAtUs == null || closesItself(p)) continue;
      judged++;
      if (!o.closedByRemote)
        return verdict(
          `${p.name} (${p.script.length === 0 ? 'silent' : 'bad header'}) is ${o.closedAtUs === null ? 'still connected' : 'closed only by itself'} at the end`,
          'every bad raw peer cut by the SP side',
        );
    }
    return judged === 0 ? NA('no raw peer kept a connection open') : verdict(null, 'bad peers cut');
  },
});

defineCheck({
  id: 'handshake.bad-peer-counted',
  kind: 'eventually',
  requirement:
    'every connection refused at the handshake is counted by its endpoint (badHandshakes or rejected)',
  ref: '3',
  evaluate(s, obs) {
    let judged = 0;
    for (const sock of s.sockets) {
      const connected = s.rawPeers.filter(
        (p) => sock.listen.includes(p.dial) && obs.raw[p.name]?.connectedAtUs != null,
      ).length;
      if (connected === 0) continue;
      judged++;
      const e = obs.sockets[sock.name]!.endpoints;
      if (e.badHandshakes + e.rejected < connected)
        return {
          status: 'fail',
          expected: `${sock.name} counts at least ${connected} refused connections (one per bad raw peer)`,
          actual: `badHandshakes ${e.badHandshakes}, rejected ${e.rejected}`,
        };
    }
    return judged === 0 ? NA('no raw peer connected') : verdict(null, 'bad handshakes counted');
  },
});

defineCheck({
  id: 'handshake.timeout-cut',
  timing: true,
  kind: 'always',
  requirement:
    "a peer that has not completed its header is cut at the listener's HANDSHAKE-TIMEOUT: never later than the timeout plus the crossings of the accept and the close, and one that never completes it not before the timeout",
  ref: '4',
  evaluate(s, obs, ctx) {
    let judged = 0;
    let skipped = '';
    for (const p of s.rawPeers) {
      const o = obs.raw[p.name];
      const sock = listenerOf(s, p.dial);
      if (o?.connectedAtUs == null || sock === undefined) continue;
      const timeoutUs = scenarioOption(sock, 'HANDSHAKE-TIMEOUT');
      // The listener accepts when the dialer's ACK arrives (one crossing after connectedAtUs) and
      // starts the timer then; its close or reset takes one more crossing back.
      const crossingsUs = 2 * maxOneWayUs(s.network) + TIMING_SLACK_US;
      const deadlineUs = o.connectedAtUs + timeoutUs + crossingsUs;
      const why = timingUnjudgeable(s, ctx.faults, p.startUs, deadlineUs);
      if (why !== null || deadlineUs > ctx.endUs) {
        skipped = why ?? 'the deadline is past the end of the run';
        continue;
      }
      judged++;
      const expected = `${p.name} closed by ${deadlineUs} us (connected ${o.connectedAtUs} + HANDSHAKE-TIMEOUT ${timeoutUs} + 2 crossings ${crossingsUs})`;
      if (o.closedAtUs === null || o.closedAtUs > deadlineUs)
        return verdict(
          `${p.name} ${o.closedAtUs === null ? 'was still connected at the end' : `was closed at ${o.closedAtUs} us`}`,
          expected,
        );
      const earliestUs = o.connectedAtUs + timeoutUs;
      if (neverCompletes(p) && o.closedAtUs < earliestUs)
        return verdict(
          `${p.name} never completed its header and was cut at ${o.closedAtUs} us, before ${earliestUs} us`,
          `a peer still inside its HANDSHAKE-TIMEOUT (${timeoutUs} us) is left alone`,
        );
    }
    return judged === 0
      ? NA(skipped || 'no raw peer connected')
      : verdict(null, 'cut at the handshake timeout');
  },
});

/** Dialing SP sockets whose address has a listener in the scenario: the good peers. */
function goodDialers(s: Scenario): { dialer: SocketSpec; listener: SocketSpec }[] {
  const out: { dialer: SocketSpec; listener: SocketSpec }[] = [];
  for (const d of s.sockets)
    for (const a of d.dial) {
      const l = listenerOf(s, a);
      if (l !== undefined) out.push({ dialer: d, listener: l });
    }
  return out;
}

function attachedTimes(o: SocketObs): number[] {
  return o.pipes.filter((e) => e.event === 'attached').map((e) => e.atUs);
}

defineCheck({
  id: 'handshake.good-peer-prompt',
  timing: true,
  kind: 'always',
  requirement:
    'a well-behaved peer attaches on both ends within a bound set by the network alone, however many slow or silent handshakers the listener holds',
  ref: '5',
  evaluate(s, obs, ctx) {
    let judged = 0;
    let skipped = '';
    const pairs = goodDialers(s);
    for (const { dialer, listener } of pairs) {
      const boundUs = attachBoundUs(s.network);
      const byUs = dialer.startUs + boundUs;
      const why = timingUnjudgeable(s, ctx.faults, 0, byUs);
      if (why !== null) {
        skipped = why;
        continue;
      }
      judged++;
      const expected = `${dialer.name} (started ${dialer.startUs} us) attached on both ends by ${byUs} us (4 network crossings + ${TIMING_SLACK_US} us)`;
      const first = attachedTimes(obs.sockets[dialer.name]!)[0];
      if (first === undefined || first > byUs)
        return verdict(
          `${dialer.name} ${first === undefined ? 'never attached' : `attached at ${first} us`}; ${s.rawPeers.length} raw peers at the listener`,
          expected,
        );
      // The listener's side: as many attached pipes by then as good dialers that started before.
      const need = pairs.filter((x) => x.listener === listener && x.dialer.startUs <= dialer.startUs).length;
      const have = attachedTimes(obs.sockets[listener.name]!).filter((t) => t <= byUs).length;
      if (have < need)
        return verdict(
          `${listener.name} had attached ${have} pipes by ${byUs} us; ${s.rawPeers.length} raw peers at it`,
          `${need} attached on ${listener.name} by then`,
        );
    }
    return judged === 0 ? NA(skipped || 'no good dialer') : verdict(null, 'good peers attached promptly');
  },
});

defineCheck({
  id: 'handshake.good-peer-attached',
  kind: 'eventually',
  requirement: 'a peer with the right protocol is attached once every fault has healed',
  ref: '1',
  evaluate(s, obs) {
    const pairs = goodDialers(s);
    if (pairs.length === 0) return NA('no good dialer');
    for (const { dialer } of pairs) {
      const o = obs.sockets[dialer.name]!;
      const live = new Set<number>();
      for (const e of o.pipes) {
        if (e.event === 'attached') live.add(e.pipe);
        else if (e.event === 'detached') live.delete(e.pipe);
      }
      if (live.size === 0)
        return verdict(
          `${dialer.name} has no attached pipe at the end (${attachedTimes(o).length} attaches, ${o.dials.length} connects${o.errors.length ? `; ${o.errors[0]}` : ''})`,
          'every good dialer attached at the end',
        );
    }
    return verdict(null, 'every good dialer attached at the end');
  },
});

// ---------------------------------------------------------------------------------------------
// Generators.

function addressFor(transport: Transport): string {
  return transport === 'tcp' ? 'tcp://server:5555' : 'ipc:///tmp/netlab-local-5555.sock';
}

/** The socket type that talks to `p` (REQ for REP and back; PAIR0 for PAIR0). */
function peerProtocol(p: ScenarioProtocol): ScenarioProtocol {
  return p === 'req0' ? 'rep0' : p === 'rep0' ? 'req0' : 'pair0';
}

/** What each socket's application does here: nothing is sent; receivers just receive. */
function appFor(p: ScenarioProtocol): AppSpec {
  return { kind: p === 'pair0' ? 'sink' : p === 'rep0' ? 'echo' : 'send' };
}

/** A byte other than `v`: its neighbours v ± 1, 0, 1, 0xfe and 0xff often (edgeIntArb), else any. */
const byteOtherThan = (v: number) =>
  edgeIntArb({ min: 0, max: 255, edges: [v, 0x80] }).filter((b) => b !== v);
/** A non-zero byte for a reserved or version field: 1, 0x7f..0x81, 0xfe, 0xff often. */
const nonZeroByte = edgeIntArb({ min: 1, max: 255, edges: [0x80] });

/** The bytes a raw peer of a kind writes, for a listener expecting `goodHeader`. */
function badHeaderArb(kind: BadHeaderKind, goodHeader: Uint8Array): fc.Arbitrary<Uint8Array> {
  const set = (at: number, v: fc.Arbitrary<number>) =>
    v.map((b) => {
      const h = goodHeader.slice();
      h[at] = b;
      return h;
    });
  const expectedId = (goodHeader[4]! << 8) | goodHeader[5]!;
  switch (kind) {
    case 'silent':
      return fc.constant(new Uint8Array(0));
    case 'truncated':
      return fc.integer({ min: 1, max: 7 }).map((n) => goodHeader.slice(0, n));
    case 'truncated-close':
      return fc.integer({ min: 0, max: 7 }).map((n) => goodHeader.slice(0, n));
    case 'byte0':
      return set(0, byteOtherThan(0));
    case 'magic-s':
      return set(1, byteOtherThan(0x53));
    case 'magic-p':
      return set(2, byteOtherThan(0x50));
    case 'version':
      return set(3, nonZeroByte);
    case 'reserved':
      // Byte 6 alone, byte 7 alone, or both non-zero: a check of one reserved byte only is caught.
      return fc
        .oneof(
          nonZeroByte.map((b) => [b, 0] as const),
          nonZeroByte.map((b) => [0, b] as const),
          fc.tuple(nonZeroByte, nonZeroByte),
        )
        .map(([a, b]) => {
          const h = goodHeader.slice();
          h[6] = a;
          h[7] = b;
          return h;
        });
    case 'wrong-protocol':
      // Known ids of other protocols (the listener's own included), or any other u16.
      return fc
        .oneof(fc.constantFrom(...SPEC_PROTOCOL_IDS), fc.integer({ min: 0, max: 0xffff }))
        .filter((id) => id !== expectedId)
        .map((id) => {
          const h = goodHeader.slice();
          h[4] = id >>> 8;
          h[5] = id & 0xff;
          return h;
        });
  }
}

/** Pauses between a raw peer's writes: mostly short, sometimes long enough to outlast the timeout. */
const trickleDelayArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 10_000 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 2_500_000 }) },
);

function rawPeerArb(
  name: string,
  host: string,
  dial: string,
  goodHeader: Uint8Array,
): fc.Arbitrary<RawPeerSpec> {
  return fc
    .constantFrom(...BAD_HEADER_KINDS)
    .chain((kind) =>
      fc.record({
        kind: fc.constant(kind),
        bytes: badHeaderArb(kind, goodHeader),
        cuts: fc.array(fc.nat(), { maxLength: 3 }),
        delaysUs: fc.array(trickleDelayArb, { maxLength: 4 }),
        closeAfterUs: trickleDelayArb,
        startUs: fc.integer({ min: PEER_START_MIN_US, max: 100_000 }),
      }),
    )
    .map((k): RawPeerSpec => {
      const script: RawStep[] = splitWrites(k.bytes, k.cuts, k.delaysUs);
      if (k.kind === 'truncated-close') script.push({ afterUs: k.closeAfterUs, action: 'close' });
      return { name, host, dial, startUs: k.startUs, script };
    });
}

interface HandshakeScenarioOptions {
  impl: string;
  transports: readonly Transport[];
  /** Bad raw peers at the listener (0 for the good-peers property). */
  maxRawPeers: number;
  /** Good dialers (pair0 listeners take one). */
  maxDialers: number;
  faultKinds: readonly GeneratedFaultKind[];
  name: string;
  checks: readonly string[];
}

/**
 * A listener of a drawn protocol with a drawn HANDSHAKE-TIMEOUT, good dialers of its peer protocol,
 * and raw peers sending bad, truncated, slow or no headers; network and faults drawn. The timeout
 * is never below what the drawn network needs for a good handshake (two round trips), so a cut
 * good peer is always a finding.
 */
function handshakeScenarioArb(o: HandshakeScenarioOptions): fc.Arbitrary<Scenario> {
  return fc
    .record({
      transport: fc.constantFrom(...o.transports.filter((t) => t !== 'inproc')),
      protocol: fc.constantFrom<ScenarioProtocol>('pair0', 'rep0', 'req0'),
      network: networkArb(),
      // Timing bounds need a loss-free network: draw one three times in four.
      lossRate: fc.oneof(
        { weight: 3, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.constantFrom(0.01, 0.05) },
      ),
    })
    .map(({ lossRate, network, ...k }) => ({ ...k, network: { ...network, lossRate } }))
    .chain(({ transport, protocol, network }) => {
      const local = transport === 'ipc';
      const addr = addressFor(transport);
      const minTimeoutUs = Math.max(MIN_HANDSHAKE_TIMEOUT_US, attachBoundUs(network) + 10_000);
      const maxDialers = protocol === 'pair0' ? 1 : o.maxDialers;
      const hosts = local ? ['local'] : ['client0', 'server', ...(o.maxRawPeers > 0 ? ['peers'] : [])];
      for (let i = 1; i < maxDialers && !local; i++) hosts.unshift(`client${i}`);
      const goodHeader = headerForPeerOf(protocol);
      return fc
        .record({
          timeoutUs: edgeIntArb({ min: minTimeoutUs, max: Math.max(minTimeoutUs, MAX_HANDSHAKE_TIMEOUT_US) }),
          dialerStartsUs: fc.array(fc.integer({ min: PEER_START_MIN_US, max: 200_000 }), {
            minLength: 1,
            maxLength: maxDialers,
          }),
          raw: fc.array(fc.nat(), { minLength: o.maxRawPeers > 0 ? 1 : 0, maxLength: o.maxRawPeers }),
          faults: faultPlanArb({ hosts, kinds: o.faultKinds, maxFaults: 2 }),
        })
        .chain((k) =>
          fc
            .tuple(...k.raw.map((_, i) => rawPeerArb(`raw${i}`, local ? 'local' : 'peers', addr, goodHeader)))
            .map((rawPeers): Scenario => {
              const options = { 'HANDSHAKE-TIMEOUT': k.timeoutUs };
              const dialerProtocol = peerProtocol(protocol);
              const sockets: SocketSpec[] = [
                {
                  name: 'server',
                  host: local ? 'local' : 'server',
                  protocol,
                  listen: [addr],
                  dial: [],
                  options,
                  app: appFor(protocol),
                  startUs: 0,
                },
                ...k.dialerStartsUs.map((startUs, i): SocketSpec => ({
                  name: `client${i}`,
                  host: local ? 'local' : `client${i}`,
                  protocol: dialerProtocol,
                  listen: [],
                  dial: [addr],
                  options,
                  app: appFor(dialerProtocol),
                  startUs,
                })),
              ];
              return {
                version: SCENARIO_VERSION,
                stack: SP_STACK,
                name: o.name,
                impl: o.impl,
                hosts: local ? ['local'] : hosts.filter((h) => h !== 'peers' || rawPeers.length > 0),
                sockets,
                rawPeers,
                workload: { sends: [] },
                network,
                faults: k.faults,
                faultPhaseUs: FAULT_PHASE_US,
                livenessUs: LIVENESS_US,
                checks: [...o.checks],
              };
            }),
        );
    });
}

const BAD_PEER_FAULTS: readonly GeneratedFaultKind[] = ['partition', 'pause', 'link', 'stall-reads'];
const GOOD_PEER_FAULTS: readonly GeneratedFaultKind[] = [
  'partition',
  'pause',
  'link',
  'stall-reads',
  'reset',
];

const BAD_PEER_CHECKS = [
  'stack.no-crash',
  'handshake.bad-peer-closed',
  'handshake.bad-peer-counted',
  'handshake.timeout-cut',
  'handshake.good-peer-prompt',
  'handshake.good-peer-attached',
] as const;
const GOOD_PEER_CHECKS = [
  'stack.no-crash',
  'handshake.good-peer-prompt',
  'handshake.good-peer-attached',
] as const;

export const HANDSHAKE_PROPERTIES: PropertySpec[] = [
  {
    id: 'handshake/bad-peers',
    family: 'handshake',
    title:
      'bad, truncated, wrong-protocol, slow and silent headers are cut (silent ones at HANDSHAKE-TIMEOUT) and counted, and never delay a good peer',
    protocols: ['pair0', 'req0', 'rep0'],
    transports: ['tcp', 'ipc'],
    checks: BAD_PEER_CHECKS,
    faultKinds: BAD_PEER_FAULTS,
    sometimes: ['sp.bad-peer-cut'],
    arb: ({ impl, transports }) =>
      handshakeScenarioArb({
        impl,
        transports,
        maxRawPeers: 4,
        maxDialers: 1,
        faultKinds: BAD_PEER_FAULTS,
        name: 'handshake/bad-peers',
        checks: BAD_PEER_CHECKS,
      }),
  },
  {
    id: 'handshake/good-peers',
    family: 'handshake',
    title:
      'peers with the right protocol (PAIR0, REQ/REP either way) attach promptly, and again once faults heal',
    protocols: ['pair0', 'req0', 'rep0'],
    transports: ['tcp', 'ipc'],
    checks: GOOD_PEER_CHECKS,
    faultKinds: GOOD_PEER_FAULTS,
    sometimes: ['net.reset', 'sp.reconnect'],
    arb: ({ impl, transports }) =>
      handshakeScenarioArb({
        impl,
        transports,
        maxRawPeers: 0,
        maxDialers: 3,
        faultKinds: GOOD_PEER_FAULTS,
        name: 'handshake/good-peers',
        checks: GOOD_PEER_CHECKS,
      }),
  },
];

export const HANDSHAKE: FamilySpec = {
  name: 'handshake',
  title: 'handshake: bad headers are cut and counted, silent peers time out, good peers always attach',
  properties: HANDSHAKE_PROPERTIES,
};
