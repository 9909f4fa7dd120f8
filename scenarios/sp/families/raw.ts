/**
 * Raw sockets and devices in the scenario engine: properties where raw PAIR0/PAIR1, XPUB/XSUB and
 * XPUSH/XPULL sockets send, receive or forward (a device joining two raw sockets), with two generic
 * checks that follow messages through devices (checks.ts originsOf): every message a sink receives
 * is one of its origins' messages, intact, at most once and in send order per sender (matching its
 * subscriptions; a PUSH message at one sink only), and what was accepted arrives: at exactly one
 * puller (PUSH), at the peer (PAIR), at every reachable matching sink when nothing could drop it
 * (PUB, BUS, STAR: no fault, no loss). The properties sit in the framing and backpressure families;
 * raw BUS and STAR are in framing.ts (`framing/bus-device`, `framing/star`), raw SURVEYOR /
 * RESPONDENT in survey.ts (`resend/raw-survey`).
 */
import { topicMatches } from '../reference.js';
import { fromHex } from '../../../impl/runtime/bytes.js';
import fc from 'fast-check';
import { parseFaultPlan } from '../../../sim/fault-plan.js';
import type { PropertySpec } from '../catalog.js';
import { bytesEqual, defineCheck, originsOf, payloadOrigin, verdict, type CheckVerdict } from '../checks.js';
import {
  FAULT_PHASE_US,
  faultPlanArb,
  LIVENESS_US,
  networkArb,
  sizesArb,
  type GeneratedFaultKind,
  type Transport,
} from '../generators.js';
import {
  SCENARIO_VERSION,
  SP_STACK,
  type Scenario,
  type ScenarioProtocol,
  type SocketSpec,
} from '../model.js';

const NA = (why: string): CheckVerdict => ({ status: 'not-applicable', expected: null, actual: why });

function list(xs: readonly number[]): string {
  return xs.length > 8 ? `${xs.slice(0, 8).join(', ')}, ...` : xs.join(', ');
}

/**
 * How a sender's messages spread: `one` (PUSH: to exactly one puller), `each` (PAIR: to the peer,
 * whatever the faults short of a reset or crash), `each-calm` (PUB, BUS, STAR: to every reachable
 * sink, but these drop on full queues and lose what is sent before a path exists, so only judged
 * without faults or loss).
 */
type Spread = 'one' | 'each' | 'each-calm';

function spreadOf(p: ScenarioProtocol): Spread {
  if (p === 'push0' || p === 'xpush0') return 'one';
  if (p === 'pair0' || p === 'pair1' || p === 'xpair0' || p === 'xpair1') return 'each';
  return 'each-calm';
}

/** A SUB's topics (all it ever held; null for sinks that do not filter). */
function topicsOf(sink: SocketSpec): Uint8Array[] | null {
  return sink.protocol === 'sub0' ? (sink.app.subscribe ?? []).map(fromHex) : null;
}

const matches = (body: Uint8Array, topics: Uint8Array[] | null): boolean =>
  topics === null || topics.some((t) => topicMatches(body, t));

const sinks = (s: Scenario): SocketSpec[] => s.sockets.filter((x) => x.app.kind === 'sink');

defineCheck({
  id: 'raw.intact-once-in-order',
  kind: 'always',
  requirement:
    "through raw sockets and devices, every message a sink receives was sent by a socket that reaches it, intact, at most once and in send order per sender, matching the sink's subscriptions; a PUSH message reaches at most one sink",
  ref: null,
  evaluate(s, obs, ctx) {
    const expected =
      'each received message: an origin sent it, intact, later than its previous one, matching; PUSH messages at one sink';
    const pushedTo = new Map<string, string>();
    let judged = 0;
    for (const sink of sinks(s)) {
      judged++;
      const origins = new Set(originsOf(s, sink));
      const topics = topicsOf(sink);
      const last = new Map<string, number>();
      for (const [r, m] of (obs.sockets[sink.name]?.received ?? []).entries()) {
        const origin = payloadOrigin(s, m.body);
        if (
          origin === undefined ||
          !origins.has(origin.sender) ||
          !bytesEqual(ctx.payloadOf(origin.sender.name, origin.index), m.body)
        )
          return verdict(
            `${sink.name} received message #${r} (${m.body.length} bytes) that no socket reaching it sent (origins: ${[...origins].map((x) => x.name).join(', ') || 'none'})`,
            expected,
          );
        const key = `${origin.sender.name}#${origin.index}`;
        const before = last.get(origin.sender.name) ?? -1;
        if (origin.index <= before)
          return verdict(
            `${sink.name} received ${key} after ${origin.sender.name}#${before}: ${origin.index === before ? 'twice' : 'out of order'}`,
            expected,
          );
        last.set(origin.sender.name, origin.index);
        if (!matches(m.body, topics))
          return verdict(`${sink.name} received ${key}, which matches none of its topics`, expected);
        if (spreadOf(origin.sender.protocol) === 'one') {
          const other = pushedTo.get(key);
          if (other !== undefined && other !== sink.name)
            return verdict(`${key} reached both ${other} and ${sink.name}`, expected);
          pushedTo.set(key, sink.name);
        }
      }
    }
    return judged === 0 ? NA('no sink') : verdict(null, expected);
  },
});

defineCheck({
  id: 'raw.all-delivered',
  kind: 'eventually',
  requirement:
    'once faults heal, every send is accepted and every accepted message arrives: a PUSH message at exactly one puller, a PAIR message at the peer (unless a reset or crash destroyed data in flight); a PUB, BUS or STAR message at every sink it reaches and matches, when no fault fired and nothing was lost',
  ref: null,
  evaluate(s, obs, ctx) {
    const expected = 'every accepted message at its sinks';
    if (ctx.lossy) return NA('a reset or crash fired');
    const calm = s.network.lossRate === 0 && !ctx.faults.some((f) => f.startUs !== null);
    const receivedBy = new Map<string, Set<string>>();
    for (const sink of sinks(s))
      for (const m of obs.sockets[sink.name]?.received ?? []) {
        const origin = payloadOrigin(s, m.body);
        if (origin === undefined) continue;
        const key = `${origin.sender.name}#${origin.index}`;
        let set = receivedBy.get(key);
        if (set === undefined) receivedBy.set(key, (set = new Set()));
        set.add(sink.name);
      }
    let judged = 0;
    for (const sender of s.sockets.filter((x) => x.app.kind === 'send')) {
      const spread = spreadOf(sender.protocol);
      if (spread === 'each-calm' && !calm) continue;
      const o = obs.sockets[sender.name]!;
      const want = s.workload.sends.filter((w) => w.socket === sender.name).length;
      const settled = o.sent.filter((r) => r.acceptedAtUs !== null).length;
      if (settled < want)
        return verdict(
          `${sender.name}: ${settled} of ${want} sends accepted${o.errors.length > 0 ? `; errors: ${o.errors.slice(0, 3).join('; ')}` : ''}`,
          expected,
        );
      const reach = sinks(s).filter((x) => originsOf(s, x).includes(sender));
      judged++;
      for (const r of o.sent) {
        const key = `${sender.name}#${r.index}`;
        const got = receivedBy.get(key) ?? new Set<string>();
        if (spread === 'one') {
          if (got.size === 0 && reach.length > 0)
            return verdict(`${key} reached none of ${reach.map((x) => x.name).join(', ')}`, expected);
          continue;
        }
        const body = ctx.payloadOf(sender.name, r.index);
        const missing = reach.filter((x) => matches(body, topicsOf(x)) && !got.has(x.name));
        if (missing.length > 0) {
          const lost = o.sent
            .filter((x) => !(receivedBy.get(`${sender.name}#${x.index}`)?.has(missing[0]!.name) ?? false))
            .map((x) => x.index);
          return verdict(
            `${missing[0]!.name} lacks ${sender.name}'s messages ${list(lost)} (of ${o.sent.length})`,
            expected,
          );
        }
      }
    }
    return judged === 0
      ? NA(calm ? 'no sender' : 'a fault fired or the network loses segments')
      : verdict(null, expected);
  },
});

export const RAW_CHECKS = ['stack.no-crash', 'raw.intact-once-in-order', 'raw.all-delivered'] as const;
/** The properties' lists: RAW_CHECKS and the reference models of their protocols (scenarios/sp/models/). */
const RAW_PAIR_CHECKS = [...RAW_CHECKS, 'model.pair', 'model.wire'] as const;
const RAW_PUBSUB_CHECKS = [...RAW_CHECKS, 'model.pubsub', 'model.wire'] as const;

// ---------------------------------------------------------------------------------------------
// Generators

/** Faults that never make a sender lose its own workload (its host never crashes). */
const ALL_BUT_SENDER_CRASH: readonly GeneratedFaultKind[] = [
  'partition',
  'stall-reads',
  'pause',
  'reset',
  'crash',
  'link',
];
const STALL_FAULTS: readonly GeneratedFaultKind[] = ['stall-reads', 'pause', 'partition'];

/** When fan-out senders (PUB) start: long after every socket of a calm network connected (1 s). */
const FANOUT_FIRST_SEND_US = 1_000_000;

/** Where the raw sockets sit: the sender, the receivers, or a device between them. */
export type RawShape = 'raw-sender' | 'raw-receiver' | 'device';
const RAW_SHAPES: readonly RawShape[] = ['raw-sender', 'raw-receiver', 'device'];

interface LineOptions {
  transport: Transport;
  shape: RawShape;
  /** The cooked sender and receiver protocols (their raw names are 'x' + the name). */
  sender: ScenarioProtocol;
  receiver: ScenarioProtocol;
  /** How many receivers (sinks). */
  receivers: number;
  /** Per receiver: raw in the raw-receiver shape (receiver 0 always is). */
  rawReceivers: readonly boolean[];
  senderOptions?: SocketSpec['options'];
  receiverOptions?: SocketSpec['options'];
  /** Options of both device sockets. */
  deviceOptions?: SocketSpec['options'];
  receiverApp?: (i: number, raw: boolean) => Partial<SocketSpec['app']>;
}

const raw = (p: ScenarioProtocol): ScenarioProtocol => `x${p}` as ScenarioProtocol;

/**
 * A sender ("client0", socket 0, so its payloads' first byte is 00) and `receivers` sinks
 * ("sink0"..) that dial it, or dial a device ("front" dials the sender, "back" is dialed by the
 * sinks, both on host "device") in the device shape. Over tcp every socket has its own host; ipc
 * and inproc put them all on host "local".
 */
function lineTopology(o: LineOptions): { hosts: string[]; sockets: SocketSpec[] } {
  const local = o.transport !== 'tcp';
  const hostOf = (h: string): string => (local ? 'local' : h);
  const addr = (host: string, port: number): string =>
    o.transport === 'tcp'
      ? `tcp://${host}:${port}`
      : o.transport === 'ipc'
        ? `ipc:///tmp/netlab-raw-${port}.sock`
        : `inproc://raw-${port}`;
  const senderAddr = addr(hostOf('client0'), 5555);
  const sender: SocketSpec = {
    name: 'client0',
    host: hostOf('client0'),
    protocol: o.shape === 'raw-sender' ? raw(o.sender) : o.sender,
    listen: [senderAddr],
    dial: [],
    options: o.senderOptions ?? {},
    app: { kind: 'send' },
    startUs: 0,
  };
  const sockets: SocketSpec[] = [sender];
  let sinkAddr = senderAddr;
  if (o.shape === 'device') {
    const backAddr = addr(hostOf('device'), 5556);
    sinkAddr = backAddr;
    sockets.push(
      {
        name: 'front',
        host: hostOf('device'),
        protocol: raw(o.receiver),
        listen: [],
        dial: [senderAddr],
        options: o.deviceOptions ?? {},
        app: { kind: 'device', partner: 'back' },
        startUs: 0,
      },
      {
        name: 'back',
        host: hostOf('device'),
        protocol: raw(o.sender),
        listen: [backAddr],
        dial: [],
        options: o.deviceOptions ?? {},
        app: { kind: 'device', partner: 'front' },
        startUs: 0,
      },
    );
  }
  for (let i = 0; i < o.receivers; i++) {
    // In the raw-receiver shape the first sink is always raw; elsewhere the draw decides
    // (behind a device, any mix of raw and cooked sinks).
    const isRaw =
      o.shape === 'raw-receiver' ? i === 0 || o.rawReceivers[i]! : o.shape === 'device' && o.rawReceivers[i]!;
    sockets.push({
      name: `sink${i}`,
      host: hostOf(`sink${i}`),
      protocol: isRaw ? raw(o.receiver) : o.receiver,
      listen: [],
      dial: [sinkAddr],
      options: o.receiverOptions ?? {},
      app: { kind: 'sink', ...o.receiverApp?.(i, isRaw) },
      startUs: 0,
    });
  }
  const hosts = local ? ['local'] : [...new Set(sockets.map((x) => x.host))];
  return { hosts, sockets };
}

/** Hosts that may crash and restart: every host but the sender's (it would lose its own workload). */
function crashable(t: { hosts: string[]; sockets: SocketSpec[] }): string[] {
  const sender = t.sockets.find((x) => x.app.kind === 'send')!.host;
  return t.hosts.filter((h) => h !== sender);
}

function scenarioOf(
  o: { impl: string; name: string },
  t: { hosts: string[]; sockets: SocketSpec[] },
  k: {
    sends: { bytes: number; gapUs: number }[];
    network: Scenario['network'];
    faults: Scenario['faults'];
  },
  checks: readonly string[],
): Scenario {
  return {
    version: SCENARIO_VERSION,
    stack: SP_STACK,
    name: o.name,
    impl: o.impl,
    hosts: t.hosts,
    sockets: t.sockets,
    rawPeers: [],
    workload: { sends: k.sends.map((w) => ({ socket: 'client0', ...w })) },
    network: k.network,
    faults: k.faults,
    faultPhaseUs: FAULT_PHASE_US,
    livenessUs: LIVENESS_US,
    checks: [...checks],
  };
}

/**
 * PAIR0 or PAIR1 one way with a raw socket: a raw sender (XPAIR1 starts the hop count at 0), a raw
 * receiver, or a device (XPAIR | device | XPAIR) between a cooked sender and receiver, whose hop
 * counts add up on the way. Any fault but a crash of the sender's host.
 */
function rawPairArb(o: { impl: string; transports: readonly Transport[] }): fc.Arbitrary<Scenario> {
  return fc
    .record({
      transport: fc.constantFrom(...o.transports),
      protocol: fc.constantFrom<ScenarioProtocol>('pair1', 'pair0'),
      shape: fc.constantFrom(...RAW_SHAPES),
    })
    .chain((d) => {
      const t = lineTopology({
        transport: d.transport,
        shape: d.shape,
        sender: d.protocol,
        receiver: d.protocol,
        receivers: 1,
        rawReceivers: [false],
      });
      return fc
        .record({
          sizes: sizesArb({ messageBytes: fc.integer({ min: 4, max: 4096 }), maxMessages: 10 }),
          network: networkArb(),
          faults: faultPlanArb({
            hosts: t.hosts,
            crashable: crashable(t),
            kinds: ALL_BUT_SENDER_CRASH,
            maxFaults: 2,
          }),
        })
        .map((k) =>
          scenarioOf(
            { impl: o.impl, name: 'framing/raw-pair' },
            t,
            { sends: k.sizes.map((bytes) => ({ bytes, gapUs: 0 })), network: k.network, faults: k.faults },
            RAW_PAIR_CHECKS,
          ),
        );
    });
}

/** A subscriber's topics: everything, all of socket 0's messages, single messages, or none of them. */
const topicArb: fc.Arbitrary<string> = fc.oneof(
  fc.constant(''),
  fc.constant('00'),
  fc.integer({ min: 0, max: 15 }).map((i) => `000000${i.toString(16).padStart(2, '0')}`),
  fc.constant('01'),
);

/**
 * PUB/SUB with raw sockets: an XPUB publisher, XSUB sinks (which receive everything, unfiltered)
 * next to SUBs, or a forwarder device (XSUB | device | XPUB) between a PUB and 1..3 subscribers.
 * The first message goes out after 1 s, so every path exists by then on a calm network.
 */
function rawPubSubArb(o: { impl: string; transports: readonly Transport[] }): fc.Arbitrary<Scenario> {
  return fc
    .record({
      transport: fc.constantFrom(...o.transports),
      shape: fc.constantFrom(...RAW_SHAPES),
      receivers: fc.integer({ min: 1, max: 3 }),
      rawReceivers: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
      topics: fc.array(fc.uniqueArray(topicArb, { minLength: 1, maxLength: 3 }), {
        minLength: 3,
        maxLength: 3,
      }),
    })
    .chain((d) => {
      const t = lineTopology({
        transport: d.transport,
        shape: d.shape,
        sender: 'pub0',
        receiver: 'sub0',
        receivers: d.receivers,
        rawReceivers: d.rawReceivers,
        receiverApp: (i, isRaw) => (isRaw ? {} : { subscribe: d.topics[i]! }),
      });
      return fc
        .record({
          sends: fc.array(
            fc.record({
              bytes: fc.integer({ min: 4, max: 2048 }),
              gapUs: fc.integer({ min: 0, max: 20_000 }),
            }),
            { minLength: 1, maxLength: 16 },
          ),
          network: networkArb(),
          faults: fc.oneof(
            fc.constant(parseFaultPlan({ version: 1, faults: [] })),
            faultPlanArb({
              hosts: t.hosts,
              crashable: crashable(t),
              kinds: ALL_BUT_SENDER_CRASH,
              maxFaults: 2,
            }),
          ),
        })
        .map((k) =>
          scenarioOf(
            { impl: o.impl, name: 'framing/raw-pubsub' },
            t,
            {
              sends: k.sends.map((w, i) => ({ ...w, gapUs: i === 0 ? FANOUT_FIRST_SEND_US : w.gapUs })),
              network: k.network,
              faults: k.faults,
            },
            RAW_PUBSUB_CHECKS,
          ),
        );
    });
}

/**
 * PUSH/PULL with raw sockets under backpressure: an XPUSH into 1..3 pullers, XPULL sinks next to
 * PULLs, or a streamer device (XPULL | device | XPUSH) between a PUSH and 1..3 pullers; small
 * queues everywhere, pullers that stall or read slowly, stall faults. PULL never drops and a device
 * forwards with the same backpressure, so everything accepted reaches exactly one puller.
 */
function rawPipelineArb(o: { impl: string; transports: readonly Transport[] }): fc.Arbitrary<Scenario> {
  const stallArb = fc.oneof(
    fc.constant({}),
    fc.record({
      stallAtUs: fc.integer({ min: 0, max: 1_000_000 }),
      stallUs: fc.integer({ min: 1_000, max: 1_000_000 }),
    }),
    fc.record({ recvDelayUs: fc.integer({ min: 100, max: 20_000 }) }),
  );
  return fc
    .record({
      transport: fc.constantFrom(...o.transports),
      shape: fc.constantFrom(...RAW_SHAPES),
      receivers: fc.integer({ min: 1, max: 3 }),
      rawReceivers: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
      writeQ: fc.integer({ min: 1, max: 16 }),
      readQ: fc.integer({ min: 1, max: 16 }),
      stalls: fc.array(stallArb, { minLength: 3, maxLength: 3 }),
    })
    .chain((d) => {
      const t = lineTopology({
        transport: d.transport,
        shape: d.shape,
        sender: 'push0',
        receiver: 'pull0',
        receivers: d.receivers,
        rawReceivers: d.rawReceivers,
        senderOptions: { 'WRITEQ-LEN': d.writeQ },
        receiverOptions: { 'READQ-LEN': d.readQ },
        deviceOptions: { 'WRITEQ-LEN': d.writeQ, 'READQ-LEN': d.readQ },
        receiverApp: (i) => d.stalls[i]!,
      });
      return fc
        .record({
          burst: fc.array(fc.integer({ min: 4, max: 2048 }), { minLength: 1, maxLength: 40 }),
          network: networkArb({ minBufferBytes: 2048, maxBufferBytes: 16384 }),
          faults: faultPlanArb({ hosts: t.hosts, kinds: STALL_FAULTS, maxFaults: 2 }),
        })
        .map((k) =>
          scenarioOf(
            { impl: o.impl, name: 'backpressure/raw-pipeline' },
            t,
            { sends: k.burst.map((bytes) => ({ bytes, gapUs: 0 })), network: k.network, faults: k.faults },
            RAW_PIPELINE_CHECKS,
          ),
        );
    });
}

const RAW_PIPELINE_CHECKS = [
  ...RAW_CHECKS,
  'backpressure.queues-bounded',
  'model.pipeline',
  'model.wire',
] as const;

export const RAW_PAIR_PROPERTY: PropertySpec = {
  id: 'framing/raw-pair',
  family: 'framing',
  title:
    'raw PAIR0 / PAIR1 senders, receivers and devices (XPAIR | device | XPAIR) deliver every message intact, once and in order; PAIR1 hop counts add up through the device',
  protocols: ['pair0', 'pair1', 'xpair0', 'xpair1'],
  transports: ['tcp', 'ipc', 'inproc'],
  checks: RAW_PAIR_CHECKS,
  faultKinds: ALL_BUT_SENDER_CRASH,
  sometimes: ['net.partial-write', 'net.retransmission', 'sp.reconnect'],
  arb: ({ impl, transports }) => rawPairArb({ impl, transports }),
};

export const RAW_PUBSUB_PROPERTY: PropertySpec = {
  id: 'framing/raw-pubsub',
  family: 'framing',
  title:
    'XPUB publishes like PUB, XSUB receives everything unfiltered, a forwarder (XSUB | device | XPUB) passes every message on to matching subscribers, intact and in order',
  protocols: ['pub0', 'sub0', 'xpub0', 'xsub0'],
  transports: ['tcp', 'ipc', 'inproc'],
  checks: RAW_PUBSUB_CHECKS,
  faultKinds: ALL_BUT_SENDER_CRASH,
  sometimes: ['net.partial-write', 'net.retransmission'],
  arb: ({ impl, transports }) => rawPubSubArb({ impl, transports }),
};

export const RAW_PIPELINE_PROPERTY: PropertySpec = {
  id: 'backpressure/raw-pipeline',
  family: 'backpressure',
  title:
    'XPUSH / XPULL and a streamer device (XPULL | device | XPUSH) under stalled pullers: queues stay bounded and every accepted message reaches exactly one puller, in order',
  protocols: ['push0', 'pull0', 'xpush0', 'xpull0'],
  transports: ['tcp', 'ipc', 'inproc'],
  checks: RAW_PIPELINE_CHECKS,
  faultKinds: STALL_FAULTS,
  sometimes: ['sp.queue-full', 'net.partial-write'],
  arb: ({ impl, transports }) => rawPipelineArb({ impl, transports }),
};
