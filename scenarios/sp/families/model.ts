/**
 * The model family: multi-pipe topologies no other property runs, judged by the reference models
 * (scenarios/sp/models/). Several PUSH senders fan in to one PULL whose application is slow or
 * stalls and whose receive queue is small, under stalls, pauses, partitions and resets; one PUSH
 * fans out to several PULLs whose pipes reset and come back; several PAIR peers contend for one
 * PAIR; and one REQ spreads its requests over several REPs, some of them paused. The other
 * properties list the model checks for the topologies they already run.
 */
import fc from 'fast-check';
import type { FaultStep } from '../../../sim/fault-plan.js';
import { parseFaultPlan } from '../../../sim/fault-plan.js';
import type { FamilySpec, PropertySpec } from '../catalog.js';
import {
  FAULT_PHASE_US,
  faultPlanArb,
  LIVENESS_US,
  networkArb,
  type GeneratedFaultKind,
  type Transport,
} from '../generators.js';
import { SCENARIO_VERSION, SP_STACK, type AppSpec, type Scenario, type SocketSpec } from '../model.js';
import { modelCheck } from '../models/checks.js';

/** Most sockets on the many side of a topology (senders into one PULL, REPs behind one REQ). */
const MAX_PEERS = 3;
/** Most messages per sender: enough to fill small queues, few enough to keep a run short. */
const MAX_BURST = 24;
const MIN_MESSAGE_BYTES = 4;
const MAX_MESSAGE_BYTES = 2048;

/** Faults of the fan-in property: stalls, and resets, which may lose only what was in flight. */
const FAN_IN_FAULTS: readonly GeneratedFaultKind[] = ['stall-reads', 'pause', 'partition', 'reset'];
/** Faults of the REQ fan-out: a REP host may pause (REQ must use the others), links may stall. */
const FAN_OUT_FAULTS: readonly GeneratedFaultKind[] = ['pause', 'stall-reads', 'partition'];

function addr(transport: Transport, host: string, port: number): string {
  if (transport === 'tcp') return `tcp://${host}:${port}`;
  if (transport === 'ipc') return `ipc:///tmp/netlab-${host}-${port}.sock`;
  return `inproc://${host}-${port}`;
}

/** The receiving application: maybe slow, maybe stalling for a while. */
const slowAppArb: fc.Arbitrary<Partial<AppSpec>> = fc
  .record({
    stallAtUs: fc.integer({ min: 0, max: 1_000_000 }),
    stallUs: fc.constantFrom(0, 200_000, 1_200_000),
    recvDelayUs: fc.constantFrom(0, 0, 300, 3_000),
  })
  .map(({ recvDelayUs, stallUs, stallAtUs }) => ({
    ...(stallUs > 0 ? { stallAtUs, stallUs } : {}),
    ...(recvDelayUs > 0 ? { recvDelayUs } : {}),
  }));

const burstArb = fc.array(fc.integer({ min: MIN_MESSAGE_BYTES, max: MAX_MESSAGE_BYTES }), {
  minLength: 1,
  maxLength: MAX_BURST,
});

function scenario(o: {
  name: string;
  impl: string;
  hosts: string[];
  sockets: SocketSpec[];
  sends: { socket: string; bytes: number; gapUs: number }[];
  network: Scenario['network'];
  faults: Scenario['faults'];
  checks: readonly string[];
  livenessUs?: number;
}): Scenario {
  return {
    version: SCENARIO_VERSION,
    stack: SP_STACK,
    name: o.name,
    impl: o.impl,
    hosts: o.hosts,
    sockets: o.sockets,
    rawPeers: [],
    workload: { sends: o.sends },
    network: o.network,
    faults: o.faults,
    faultPhaseUs: FAULT_PHASE_US,
    livenessUs: o.livenessUs ?? LIVENESS_US,
    checks: [...o.checks],
  };
}

/** Interleaves the senders' bursts (each keeps its order), as the workload lists them. */
function interleave(bursts: { socket: string; sizes: number[]; gapUs: number }[]) {
  const out: { socket: string; bytes: number; gapUs: number }[] = [];
  const longest = Math.max(...bursts.map((b) => b.sizes.length));
  for (let i = 0; i < longest; i++)
    for (const b of bursts) {
      const bytes = b.sizes[i];
      if (bytes !== undefined) out.push({ socket: b.socket, bytes, gapUs: i === 0 ? 0 : b.gapUs });
    }
  return out;
}

export const FAN_IN_CHECKS = [
  'stack.no-crash',
  modelCheck('model.pipeline'),
  modelCheck('model.wire'),
] as const;

/** 2..MAX_PEERS PUSHes into one slow PULL with a small receive queue; the PULL listens or dials them all. */
function fanInArb(o: { impl: string; transports: readonly Transport[] }): fc.Arbitrary<Scenario> {
  return fc
    .record({
      transport: fc.constantFrom(...o.transports),
      pushers: fc.integer({ min: 2, max: MAX_PEERS }),
      pullListens: fc.boolean(),
      readQ: fc.integer({ min: 1, max: 8 }),
      writeQ: fc.integer({ min: 0, max: 8 }),
      app: slowAppArb,
      bursts: fc.array(fc.record({ sizes: burstArb, gapUs: fc.constantFrom(0, 0, 500, 20_000) }), {
        minLength: MAX_PEERS,
        maxLength: MAX_PEERS,
      }),
    })
    .chain((k) => {
      const local = k.transport !== 'tcp';
      const pullHost = local ? 'local' : 'pull';
      const pushers = Array.from({ length: k.pushers }, (_, i) => `push${i}`);
      const hosts = local ? ['local'] : [pullHost, ...pushers];
      const pullAddr = addr(k.transport, pullHost, 5555);
      const sockets: SocketSpec[] = [
        {
          name: 'pull',
          host: pullHost,
          protocol: 'pull0',
          listen: k.pullListens ? [pullAddr] : [],
          dial: k.pullListens ? [] : pushers.map((p, i) => addr(k.transport, local ? 'local' : p, 5600 + i)),
          options: { 'READQ-LEN': k.readQ },
          app: { kind: 'sink', ...k.app },
          startUs: 0,
        },
        ...pushers.map((p, i): SocketSpec => ({
          name: p,
          host: local ? 'local' : p,
          protocol: 'push0',
          listen: k.pullListens ? [] : [addr(k.transport, local ? 'local' : p, 5600 + i)],
          dial: k.pullListens ? [pullAddr] : [],
          options: { 'WRITEQ-LEN': k.writeQ },
          app: { kind: 'send' },
          startUs: 0,
        })),
      ];
      return fc
        .record({
          network: networkArb({ minBufferBytes: 2048, maxBufferBytes: 16384 }),
          faults: faultPlanArb({ hosts, kinds: FAN_IN_FAULTS, maxFaults: 2 }),
        })
        .map((n) =>
          scenario({
            name: 'model/fan-in',
            impl: o.impl,
            hosts,
            sockets,
            sends: interleave(
              pushers.map((p, i) => ({ socket: p, sizes: k.bursts[i]!.sizes, gapUs: k.bursts[i]!.gapUs })),
            ),
            network: n.network,
            faults: n.faults,
            checks: FAN_IN_CHECKS,
          }),
        );
    });
}

/**
 * One PUSH into 2..MAX_PEERS PULLs, each maybe slow or stalling, pipes reset and redialed: the
 * round-robin position must survive pipes coming and going, and a stalled puller must not hold
 * messages that another, idle one could take.
 */
function pushFanOutArb(o: { impl: string; transports: readonly Transport[] }): fc.Arbitrary<Scenario> {
  return fc
    .record({
      transport: fc.constantFrom(...o.transports),
      pullers: fc.integer({ min: 2, max: MAX_PEERS }),
      pushListens: fc.boolean(),
      writeQ: fc.integer({ min: 0, max: 8 }),
      readQ: fc.integer({ min: 1, max: 8 }),
      apps: fc.array(slowAppArb, { minLength: MAX_PEERS, maxLength: MAX_PEERS }),
      sizes: fc.array(fc.integer({ min: MIN_MESSAGE_BYTES, max: MAX_MESSAGE_BYTES }), {
        minLength: 1,
        maxLength: 3 * MAX_BURST,
      }),
      gapUs: fc.constantFrom(0, 0, 500, 20_000),
      // One puller's pipe goes away while the others stay: resets of its connections (tcp), or it
      // closes for good; the round-robin position must move with the pipes.
      resets: fc.array(
        fc.record({ atUs: fc.integer({ min: 0, max: FAULT_PHASE_US - 1 }), who: fc.nat(MAX_PEERS - 1) }),
        { maxLength: 3 },
      ),
      closes: fc.option(
        fc.record({ atUs: fc.integer({ min: 1_000, max: FAULT_PHASE_US }), who: fc.nat(MAX_PEERS - 1) }),
        { nil: undefined },
      ),
    })
    .chain((k) => {
      const local = k.transport !== 'tcp';
      const pushHost = local ? 'local' : 'push';
      const pullers = Array.from({ length: k.pullers }, (_, i) => `pull${i}`);
      const hosts = local ? ['local'] : [pushHost, ...pullers];
      const pushAddr = addr(k.transport, pushHost, 5555);
      const own = (i: number): string => addr(k.transport, local ? 'local' : pullers[i]!, 5600 + i);
      const sockets: SocketSpec[] = [
        {
          name: 'push',
          host: pushHost,
          protocol: 'push0',
          listen: k.pushListens ? [pushAddr] : [],
          dial: k.pushListens ? [] : pullers.map((_, i) => own(i)),
          options: { 'WRITEQ-LEN': k.writeQ },
          app: { kind: 'send' },
          startUs: 0,
        },
        ...pullers.map((p, i): SocketSpec => ({
          name: p,
          host: local ? 'local' : p,
          protocol: 'pull0',
          listen: k.pushListens ? [] : [own(i)],
          dial: k.pushListens ? [pushAddr] : [],
          options: { 'READQ-LEN': k.readQ },
          app: { kind: 'sink', ...k.apps[i]! },
          startUs: 0,
          ...(k.closes !== undefined && k.closes.who % k.pullers === i ? { closeAtUs: k.closes.atUs } : {}),
        })),
      ];
      // A puller's connections: it dials (client) or the PUSH dials it (server).
      const targeted: FaultStep[] = local
        ? []
        : k.resets.map((r) => {
            const host = pullers[r.who % k.pullers]!;
            return { kind: 'reset', atUs: r.atUs, conn: k.pushListens ? { client: host } : { server: host } };
          });
      return fc
        .record({
          network: networkArb({ minBufferBytes: 2048, maxBufferBytes: 16384 }),
          // The PUSH host never pauses or crashes: its workload would stall with it.
          faults: faultPlanArb({
            hosts: local ? hosts : hosts.filter((h) => h !== pushHost),
            kinds: local ? ['stall-reads', 'reset'] : FAN_IN_FAULTS,
            maxFaults: 3,
          }),
        })
        .map((n) =>
          scenario({
            name: 'model/push-fan-out',
            impl: o.impl,
            hosts,
            sockets,
            sends: k.sizes.map((bytes, i) => ({ socket: 'push', bytes, gapUs: i === 0 ? 0 : k.gapUs })),
            network: n.network,
            faults: parseFaultPlan({ version: 1, faults: [...n.faults.faults, ...targeted] }),
            checks: FAN_IN_CHECKS,
          }),
        );
    });
}

/** The contending PAIR peers' redial interval (a refused peer redials until the run ends). */
const PAIR_REDIAL_US = 250_000;
/** The contention property's liveness phase: enough for every burst (at most 24 × 20 ms) to drain. */
const PAIR_LIVENESS_US = 5_000_000;

export const PAIR_CONTENTION_CHECKS = [
  'stack.no-crash',
  modelCheck('model.pair'),
  modelCheck('model.wire'),
] as const;

/**
 * A PAIR (0 or 1 mono) listener that 2..MAX_PEERS PAIR dialers contend for: one peer at a time,
 * the others refused and redialing; resets hand the place to another. The listener sends a burst
 * (it blocks while it has no peer); the dialers receive.
 */
function pairContentionArb(o: { impl: string; transports: readonly Transport[] }): fc.Arbitrary<Scenario> {
  return fc
    .record({
      transport: fc.constantFrom(...o.transports),
      protocol: fc.constantFrom('pair0' as const, 'pair1' as const),
      // PAIR1 receivers at the edge: a cooked send arrives with hop count 1, which TTL 1 must pass.
      ttl: fc.constantFrom(1, 2, 8),
      peers: fc.integer({ min: 2, max: MAX_PEERS }),
      apps: fc.array(slowAppArb, { minLength: MAX_PEERS, maxLength: MAX_PEERS }),
      sizes: burstArb,
      gapUs: fc.constantFrom(0, 1_000, 20_000),
    })
    .chain((k) => {
      const local = k.transport !== 'tcp';
      const hubHost = local ? 'local' : 'hub';
      const peers = Array.from({ length: k.peers }, (_, i) => `peer${i}`);
      const hosts = local ? ['local'] : [hubHost, ...peers];
      const hubAddr = addr(k.transport, hubHost, 5555);
      const sockets: SocketSpec[] = [
        {
          name: 'hub',
          host: hubHost,
          protocol: k.protocol,
          listen: [hubAddr],
          dial: [],
          options: {},
          app: { kind: 'send' },
          startUs: 0,
        },
        ...peers.map((p, i): SocketSpec => ({
          name: p,
          host: local ? 'local' : p,
          protocol: k.protocol,
          listen: [],
          dial: [hubAddr],
          // Refused peers redial until the end: slower than the runner's 50 ms, to keep runs cheap.
          options: { 'RECONNECT-TIME': PAIR_REDIAL_US, ...(k.protocol === 'pair1' ? { TTL: k.ttl } : {}) },
          app: { kind: 'sink', ...k.apps[i]! },
          startUs: 0,
        })),
      ];
      return fc
        .record({
          network: networkArb({ minBufferBytes: 2048, maxBufferBytes: 16384 }),
          faults: faultPlanArb({
            hosts: local ? hosts : hosts.filter((h) => h !== hubHost),
            kinds: local ? ['stall-reads', 'reset'] : FAN_IN_FAULTS,
            maxFaults: 3,
          }),
        })
        .map((n) =>
          scenario({
            name: 'model/pair-contention',
            impl: o.impl,
            hosts,
            sockets,
            sends: k.sizes.map((bytes, i) => ({ socket: 'hub', bytes, gapUs: i === 0 ? 0 : k.gapUs })),
            network: n.network,
            faults: n.faults,
            checks: PAIR_CONTENTION_CHECKS,
            livenessUs: PAIR_LIVENESS_US,
          }),
        );
    });
}

export const REQ_FAN_OUT_CHECKS = [
  'stack.no-crash',
  'reqrep.one-reply-per-request',
  'reqrep.all-answered',
  'resend.same-id',
  'resend.reply-id-matches',
  'model.reqrep',
  'model.wire',
] as const;

/** One REQ dialing (or dialed by) 2..MAX_PEERS echoing REPs, some slow; REP hosts may pause. */
function reqFanOutArb(o: { impl: string; transports: readonly Transport[] }): fc.Arbitrary<Scenario> {
  return fc
    .record({
      transport: fc.constantFrom(...o.transports),
      reps: fc.integer({ min: 2, max: MAX_PEERS }),
      retryUs: fc.constantFrom(20_000, 200_000, 1_000_000),
      apps: fc.array(slowAppArb, { minLength: MAX_PEERS, maxLength: MAX_PEERS }),
      sizes: burstArb,
      gapUs: fc.constantFrom(0, 0, 1_000, 30_000),
    })
    .chain((k) => {
      const local = k.transport !== 'tcp';
      const reqHost = local ? 'local' : 'client';
      const reps = Array.from({ length: k.reps }, (_, i) => `rep${i}`);
      const hosts = local ? ['local'] : [reqHost, ...reps];
      const sockets: SocketSpec[] = [
        {
          name: 'client0',
          host: reqHost,
          protocol: 'req0',
          listen: [],
          dial: reps.map((r, i) => addr(k.transport, local ? 'local' : r, 5700 + i)),
          options: { 'RETRY-TIME': k.retryUs },
          app: { kind: 'send' },
          startUs: 0,
        },
        ...reps.map((r, i): SocketSpec => ({
          name: r,
          host: local ? 'local' : r,
          protocol: 'rep0',
          listen: [addr(k.transport, local ? 'local' : r, 5700 + i)],
          dial: [],
          options: {},
          app: { kind: 'echo', ...k.apps[i]! },
          startUs: 0,
        })),
      ];
      return fc
        .record({
          network: networkArb({ minBufferBytes: 4096, maxBufferBytes: 32768 }),
          // The client's host never pauses (its workload would stall with it).
          faults: faultPlanArb({
            hosts: local ? hosts : hosts.filter((h) => h !== reqHost),
            kinds: local ? ['stall-reads', 'partition'] : FAN_OUT_FAULTS,
            maxFaults: 2,
          }),
        })
        .map((n) =>
          scenario({
            name: 'model/req-fan-out',
            impl: o.impl,
            hosts,
            sockets,
            sends: k.sizes.map((bytes, i) => ({ socket: 'client0', bytes, gapUs: i === 0 ? 0 : k.gapUs })),
            network: n.network,
            faults: n.faults,
            checks: REQ_FAN_OUT_CHECKS,
          }),
        );
    });
}

/**
 * A polyamorous PAIR1 hub ("hub", nng's poly mode) with 2..MAX_PEERS mono PAIR1 peers: either the
 * hub sends a burst (each to its longest-attached pipe: the messages name none) to reading peers, or
 * the peers send bursts and the hub echoes each back on the pipe it came from (the message names
 * it), to peers that never read, so the hub's per-pipe queues (WRITEQ-LEN 0..8) fill and drop.
 * Resets and stalls move the pipes; the pair model judges each send's pipe, hop count and losses.
 */
function pairPolyArb(o: { impl: string; transports: readonly Transport[] }): fc.Arbitrary<Scenario> {
  return fc
    .record({
      transport: fc.constantFrom(...o.transports),
      hubEchoes: fc.boolean(),
      writeQ: fc.integer({ min: 0, max: 8 }),
      peers: fc.integer({ min: 2, max: MAX_PEERS }),
      apps: fc.array(slowAppArb, { minLength: MAX_PEERS, maxLength: MAX_PEERS }),
      bursts: fc.array(burstArb, { minLength: MAX_PEERS, maxLength: MAX_PEERS }),
      gapUs: fc.constantFrom(0, 1_000, 20_000),
    })
    .chain((k) => {
      const local = k.transport !== 'tcp';
      const hubHost = local ? 'local' : 'hub';
      const peers = Array.from({ length: k.peers }, (_, i) => `peer${i}`);
      const hosts = local ? ['local'] : [hubHost, ...peers];
      const hubAddr = addr(k.transport, hubHost, 5555);
      const sockets: SocketSpec[] = [
        {
          name: 'hub',
          host: hubHost,
          protocol: 'pair1',
          listen: [hubAddr],
          dial: [],
          options: { POLYAMOROUS: true, 'WRITEQ-LEN': k.writeQ },
          app: { kind: k.hubEchoes ? 'echo' : 'send' },
          startUs: 0,
        },
        ...peers.map((p, i): SocketSpec => ({
          name: p,
          host: local ? 'local' : p,
          protocol: 'pair1',
          listen: [],
          dial: [hubAddr],
          options: {},
          app: k.hubEchoes ? { kind: 'send' } : { kind: 'sink', ...k.apps[i]! },
          startUs: 0,
        })),
      ];
      // The first send waits for the peers to attach (a poly send with no pipe is dropped).
      const burst = (socket: string, sizes: readonly number[]) =>
        sizes.map((bytes, i) => ({ socket, bytes, gapUs: i === 0 ? POLY_FIRST_SEND_US : k.gapUs }));
      const sends = k.hubEchoes
        ? peers.flatMap((p, i) => burst(p, k.bursts[i]!))
        : burst('hub', k.bursts[0]!);
      return fc
        .record({
          network: networkArb({ minBufferBytes: 2048, maxBufferBytes: 16384 }),
          faults: faultPlanArb({
            hosts: local ? hosts : hosts.filter((h) => h !== hubHost),
            kinds: local ? ['stall-reads', 'reset'] : FAN_IN_FAULTS,
            maxFaults: 3,
          }),
        })
        .map((n) =>
          scenario({
            name: 'model/pair-poly',
            impl: o.impl,
            hosts,
            sockets,
            sends,
            network: n.network,
            faults: n.faults,
            checks: PAIR_CONTENTION_CHECKS,
          }),
        );
    });
}

/** When the first send of model/pair-poly goes: its peers have dialed and attached by then. */
const POLY_FIRST_SEND_US = 100_000;

export const MODEL_PROPERTIES: PropertySpec[] = [
  {
    id: 'model/fan-in',
    family: 'model',
    title:
      'several PUSHes into one slow PULL with a small queue, under stalls and resets: each message goes out once, in order, on an idle pipe; PULL delivers what arrived, in order',
    protocols: ['push0', 'pull0'],
    transports: ['tcp', 'ipc', 'inproc'],
    checks: FAN_IN_CHECKS,
    faultKinds: FAN_IN_FAULTS,
    sometimes: ['sp.queue-full'],
    arb: ({ impl, transports }) => fanInArb({ impl, transports }),
  },
  {
    id: 'model/push-fan-out',
    family: 'model',
    title:
      'one PUSH over several PULLs, some slow or stalled, pipes reset and redialed: each message goes once, in order, round-robin to an idle pipe, never waiting while one is idle',
    protocols: ['push0', 'pull0'],
    transports: ['tcp', 'ipc', 'inproc'],
    checks: FAN_IN_CHECKS,
    faultKinds: FAN_IN_FAULTS,
    sometimes: ['sp.queue-full'],
    arb: ({ impl, transports }) => pushFanOutArb({ impl, transports }),
  },
  {
    id: 'model/pair-contention',
    family: 'model',
    title:
      'several PAIR peers contending for one PAIR listener, under resets: one peer at a time, each message once, in order, never waiting while the peer is idle',
    protocols: ['pair0', 'pair1'],
    transports: ['tcp', 'ipc', 'inproc'],
    checks: PAIR_CONTENTION_CHECKS,
    faultKinds: FAN_IN_FAULTS,
    sometimes: [],
    arb: ({ impl, transports }) => pairContentionArb({ impl, transports }),
  },
  {
    id: 'model/pair-poly',
    family: 'model',
    title:
      "a polyamorous PAIR1 with several mono PAIR1 peers, under resets and stalls: each send goes to the pipe it names, else the longest-attached one, with hop count 1, through that pipe's queue, dropped only when it is full",
    protocols: ['pair1'],
    transports: ['tcp', 'ipc', 'inproc'],
    checks: PAIR_CONTENTION_CHECKS,
    faultKinds: FAN_IN_FAULTS,
    sometimes: [],
    arb: ({ impl, transports }) => pairPolyArb({ impl, transports }),
  },
  {
    id: 'model/req-fan-out',
    family: 'model',
    title:
      "one REQ over several REPs, some slow or paused: each reply goes back on its request's pipe, each request gets one reply, its own",
    protocols: ['req0', 'rep0'],
    transports: ['tcp', 'ipc', 'inproc'],
    checks: REQ_FAN_OUT_CHECKS,
    faultKinds: FAN_OUT_FAULTS,
    sometimes: [],
    arb: ({ impl, transports }) => reqFanOutArb({ impl, transports }),
  },
];

export const MODEL: FamilySpec = {
  name: 'model',
  title: 'model: multi-pipe topologies judged by the reference models of each SP protocol',
  properties: MODEL_PROPERTIES,
};
