/**
 * fast-check arbitraries for scenarios, built from parts the invariant families combine: a
 * topology (hosts, sockets, who dials whom, over tcp, ipc or inproc), a workload, a network model
 * and a fault plan. One generated value holds workload and faults, so a failing case shrinks both at
 * once: toward fewer and smaller messages, fewer and shorter faults, a calmer network and a simpler
 * topology (one client, tcp, the client dialing). The simulator's seed (simSeed) is generated but
 * never shrunk: draws are keyed by connection, direction and message, so removing a message keeps the
 * others' fates.
 */
import fc from 'fast-check';
import type { FaultPlan, FaultStep } from '../sim/fault-plan.js';
import { parseFaultPlan } from '../sim/fault-plan.js';
import type { OptionValues } from '../impl/sp/options.js';
import {
  SCENARIO_VERSION,
  type AppSpec,
  type Scenario,
  type ScenarioProtocol,
  type SocketSpec,
} from './model.js';

export type Transport = 'tcp' | 'ipc' | 'inproc';
export const TRANSPORTS: readonly Transport[] = ['tcp', 'ipc', 'inproc'];

/** The default fault phase of generated scenarios (faults start within it; all heal at its end). */
export const FAULT_PHASE_US = 2_000_000;
/** The default liveness bound after healing. */
export const LIVENESS_US = 30_000_000;

export interface Topology {
  hosts: string[];
  sockets: SocketSpec[];
}

/**
 * The sockets of a REQ/REP topology: raw XREQ clients instead of REQ, a raw XREP echo server
 * instead of REP, and a device in the middle (clients dial its XREP side "front", whose XREQ side
 * "back" dials the server). Every field defaults to false (plain REQ clients, REP server, no device).
 */
export interface ReqRepShape {
  rawClient?: boolean;
  rawServer?: boolean;
  device?: boolean;
}

export interface TopologyOptions extends ReqRepShape {
  /** pair0: two PAIR0 sockets; reqrep: one REP and 1..maxClients REQs (see ReqRepShape). */
  pattern: 'pair0' | 'reqrep';
  transport: Transport;
  /** REQ clients (reqrep only). */
  clients?: number;
  /** pair0: the receiving side dials (default: the sender dials). */
  receiverDials?: boolean;
  /** Options for every socket (then `serverOptions` / `clientOptions`). */
  options?: Partial<OptionValues>;
  serverOptions?: Partial<OptionValues>;
  clientOptions?: Partial<OptionValues>;
  serverApp?: Partial<AppSpec>;
  /** Raw clients: most requests outstanding at once (default 1). */
  pipeline?: number;
}

/** Options only the cooked protocols take (raw XREQ / XREP leave resending and garbage to the application). */
const COOKED_ONLY: readonly string[] = ['RETRY-TIME', 'FAIL-NO-PEERS', 'GARBAGE-CLOSES-PIPE'];

/** `options` without those a raw socket does not take (so one option set serves every shape). */
function rawSafe(raw: boolean, options: Partial<OptionValues>): Partial<OptionValues> {
  if (!raw) return options;
  return Object.fromEntries(Object.entries(options).filter(([k]) => !COOKED_ONLY.includes(k)));
}

function address(transport: Transport, host: string, port: number): string {
  if (transport === 'tcp') return `tcp://${host}:${port}`;
  if (transport === 'ipc') return `ipc:///tmp/netlab-${host}-${port}.sock`;
  return `inproc://${host}-${port}`;
}

/**
 * A topology as data. Over tcp every socket has its own host (client0, client1..., device, server);
 * ipc and inproc connect only within one host, so there every socket shares host "local".
 */
export function topology(o: TopologyOptions): Topology {
  const local = o.transport !== 'tcp';
  const serverHost = local ? 'local' : 'server';
  const reqrep = o.pattern === 'reqrep';
  const server: SocketSpec = {
    name: 'server',
    host: serverHost,
    protocol: !reqrep ? 'pair0' : o.rawServer === true ? 'xrep0' : 'rep0',
    listen: [],
    dial: [],
    options: rawSafe(reqrep && o.rawServer === true, { ...o.options, ...o.serverOptions }),
    app: { kind: o.pattern === 'pair0' ? 'sink' : 'echo', ...o.serverApp },
    startUs: 0,
  };
  const clients: SocketSpec[] = [];
  const n = o.pattern === 'pair0' ? 1 : Math.max(1, o.clients ?? 1);
  for (let i = 0; i < n; i++) {
    clients.push({
      name: `client${i}`,
      host: local ? 'local' : `client${i}`,
      protocol: !reqrep ? 'pair0' : o.rawClient === true ? 'xreq0' : ('req0' satisfies ScenarioProtocol),
      listen: [],
      dial: [],
      options: rawSafe(reqrep && o.rawClient === true, { ...o.options, ...o.clientOptions }),
      app: {
        kind: 'send',
        ...(reqrep && o.rawClient === true && (o.pipeline ?? 1) > 1 ? { pipeline: o.pipeline } : {}),
      },
      startUs: 0,
    });
  }
  if (o.pattern === 'pair0' && o.receiverDials === true) {
    const addr = address(o.transport, local ? 'local' : 'client0', 5555);
    clients[0]!.listen.push(addr);
    server.dial.push(addr);
  } else {
    const addr = address(o.transport, serverHost, 5555);
    server.listen.push(addr);
    for (const c of clients) c.dial.push(addr);
  }
  if (!reqrep || o.device !== true) {
    const hosts = local ? ['local'] : [...clients.map((c) => c.host), 'server'];
    return { hosts, sockets: [server, ...clients] };
  }
  // The device: clients dial its XREP side; its XREQ side dials the server.
  const deviceHost = local ? 'local' : 'device';
  const frontAddr = address(o.transport, deviceHost, 5556);
  const front: SocketSpec = {
    name: 'front',
    host: deviceHost,
    protocol: 'xrep0',
    listen: [frontAddr],
    dial: [],
    options: rawSafe(true, { ...o.options }),
    app: { kind: 'device', partner: 'back' },
    startUs: 0,
  };
  const back: SocketSpec = {
    name: 'back',
    host: deviceHost,
    protocol: 'xreq0',
    listen: [],
    dial: [...server.listen],
    options: rawSafe(true, { ...o.options }),
    app: { kind: 'device', partner: 'front' },
    startUs: 0,
  };
  for (const c of clients) c.dial = [frontAddr];
  const hosts = local ? ['local'] : [...clients.map((c) => c.host), 'device', 'server'];
  return { hosts, sockets: [server, ...clients, front, back] };
}

export interface NetworkDraw {
  latencyMinUs: number;
  latencySpreadUs: number;
  jitterUs: number;
  lossRate: number;
  randomChunking: boolean;
  partialWriteProbability: number;
  sendBufferBytes: number;
  recvBufferBytes: number;
}

/** Network knobs; each shrinks toward the calm end (no loss, no chunking, no partial writes). */
export function networkArb(
  o: { minBufferBytes?: number; maxBufferBytes?: number } = {},
): fc.Arbitrary<Scenario['network']> {
  return fc
    .record({
      latencyMinUs: fc.integer({ min: 0, max: 10_000 }),
      latencySpreadUs: fc.integer({ min: 0, max: 20_000 }),
      jitterUs: fc.integer({ min: 0, max: 2_000 }),
      lossRate: fc.constantFrom(0, 0.01, 0.05),
      randomChunking: fc.boolean(),
      partialWriteProbability: fc.constantFrom(0, 0.1, 0.5),
      // Windows below ~2 KiB make REQ resends outpace the link (a retry storm: every copy is answered).
      sendBufferBytes: fc.integer({ min: o.minBufferBytes ?? 2048, max: o.maxBufferBytes ?? 65536 }),
      recvBufferBytes: fc.integer({ min: o.minBufferBytes ?? 2048, max: o.maxBufferBytes ?? 65536 }),
    })
    .map((k: NetworkDraw) => ({
      latency: { kind: 'uniform' as const, minUs: k.latencyMinUs, maxUs: k.latencyMinUs + k.latencySpreadUs },
      jitterUs: k.jitterUs,
      lossRate: k.lossRate,
      randomChunking: k.randomChunking,
      partialWriteProbability: k.partialWriteProbability,
      sendBufferBytes: k.sendBufferBytes,
      recvBufferBytes: k.recvBufferBytes,
    }));
}

export type GeneratedFaultKind = 'partition' | 'stall-reads' | 'pause' | 'reset' | 'crash' | 'link';

export interface FaultOptions {
  /** Hosts of the topology; the first is the "server" side for crash faults. */
  hosts: readonly string[];
  /** Hosts that may crash (default: none; a crashed sender loses its own workload by design). */
  crashable?: readonly string[];
  kinds?: readonly GeneratedFaultKind[];
  maxFaults?: number;
  phaseUs?: number;
}

/** One fault step over the topology's hosts; kinds that need two hosts are left out on one host. */
export function faultStepArb(o: FaultOptions): fc.Arbitrary<FaultStep> {
  const phase = o.phaseUs ?? FAULT_PHASE_US;
  const at = fc.integer({ min: 0, max: phase - 1 });
  const dur = fc.integer({ min: 1_000, max: 1_000_000 });
  const kinds = new Set(o.kinds ?? ['partition', 'stall-reads', 'pause', 'reset', 'crash', 'link']);
  const hosts = [...o.hosts];
  const two = hosts.length >= 2;
  const pairArb = fc.tuple(fc.constantFrom(...hosts), fc.constantFrom(...hosts)).filter(([a, b]) => a !== b);
  const arbs: fc.Arbitrary<FaultStep>[] = [];
  if (two && kinds.has('partition'))
    arbs.push(
      fc
        .record({
          kind: fc.constant('partition' as const),
          atUs: at,
          ab: pairArb,
          oneWay: fc.boolean(),
          forUs: dur,
        })
        .map(({ ab, ...r }) => ({ ...r, a: [ab[0]], b: [ab[1]] })),
    );
  if (kinds.has('stall-reads'))
    arbs.push(
      fc.record({
        kind: fc.constant('stall-reads' as const),
        atUs: at,
        conn: fc.constant('all' as const),
        side: fc.constantFrom('client' as const, 'server' as const),
        forUs: dur,
      }),
    );
  if (kinds.has('pause'))
    arbs.push(
      fc.record({
        kind: fc.constant('pause' as const),
        atUs: at,
        host: fc.constantFrom(...hosts),
        forUs: dur,
      }),
    );
  if (kinds.has('reset'))
    arbs.push(
      fc.record({ kind: fc.constant('reset' as const), atUs: at, conn: fc.constant('all' as const) }),
    );
  const crashable = o.crashable ?? [];
  if (kinds.has('crash') && crashable.length > 0)
    arbs.push(
      fc.record({
        kind: fc.constant('crash' as const),
        atUs: at,
        host: fc.constantFrom(...crashable),
        restartAfterUs: dur,
      }),
    );
  if (two && kinds.has('link'))
    arbs.push(
      fc
        .record({
          kind: fc.constant('link' as const),
          atUs: at,
          ab: pairArb,
          oneWay: fc.boolean(),
          set: fc.record({ lossRate: fc.double({ min: 0, max: 0.3, noNaN: true }) }),
          forUs: dur,
        })
        .map(({ ab, ...r }) => ({ ...r, from: ab[0], to: ab[1] })),
    );
  if (arbs.length === 0) throw new Error('faultStepArb: no fault kind applies to this topology');
  return fc.oneof(...arbs);
}

export function faultPlanArb(o: FaultOptions): fc.Arbitrary<FaultPlan> {
  return fc
    .array(faultStepArb(o), { maxLength: o.maxFaults ?? 3 })
    .map((faults) => parseFaultPlan({ version: 1, faults }));
}

/**
 * Message sizes for one sender; shrinks toward fewer and smaller messages. `messageBytes` replaces
 * the default size draw (uniform in 0..maxMessageBytes), e.g. to make zero-length messages common.
 */
export function sizesArb(
  o: {
    maxMessages?: number;
    maxMessageBytes?: number;
    minMessages?: number;
    messageBytes?: fc.Arbitrary<number>;
  } = {},
) {
  return fc.array(o.messageBytes ?? fc.integer({ min: 0, max: o.maxMessageBytes ?? 4096 }), {
    minLength: o.minMessages ?? 1,
    maxLength: o.maxMessages ?? 12,
  });
}

export interface GenOptions {
  /** pair0: PAIR0 one way; reqrep: REQ clients against one REP. */
  protocol: 'pair0' | 'reqrep';
  impl?: string;
  /** Transports to draw from (default: tcp only). The first is where shrinking goes. */
  transports?: readonly Transport[];
  /** REQ clients, 1..maxClients (default 1). */
  maxClients?: number;
  /** Largest number of messages per sender (default 12). */
  maxMessages?: number;
  /** Largest message in bytes (default 4096). */
  maxMessageBytes?: number;
  /** The size of one message (default: uniform in 0..maxMessageBytes). */
  messageBytes?: fc.Arbitrary<number>;
  /** Largest number of fault steps (default 3). */
  maxFaults?: number;
  /** Checks to evaluate (default: the pattern's delivery checks and stack.no-crash). */
  checks?: readonly string[];
  /** Options for every socket of the topology. */
  options?: Partial<OptionValues>;
  clientOptions?: Partial<OptionValues>;
  name?: string;
  /** reqrep: the shapes to draw from (default: plain REQ/REP only). The first is where shrinking goes. */
  shapes?: readonly ReqRepShape[];
  /** Raw clients: pipeline drawn in 1..maxPipeline (default 1). */
  maxPipeline?: number;
}

export const DEFAULT_CHECKS: Record<GenOptions['protocol'], readonly string[]> = {
  pair0: ['stack.no-crash', 'delivery.intact-in-order', 'delivery.all-delivered'],
  reqrep: ['stack.no-crash', 'reqrep.one-reply-per-request', 'reqrep.all-answered'],
};

/** The server side may crash (and restart); the senders' own workloads would die with them. */
function crashableHosts(t: Topology): string[] {
  return t.sockets
    .filter((s) => s.app.kind !== 'send')
    .map((s) => s.host)
    .filter((h) => !t.sockets.some((s) => s.host === h && s.app.kind === 'send'));
}

/** Generated scenarios of one pattern: topology, workload, network and faults in one value. */
export function scenarioArb(options: GenOptions): fc.Arbitrary<Scenario> {
  const transports = options.transports ?? ['tcp'];
  return fc
    .record({
      transport: fc.constantFrom(...transports),
      clients: fc.integer({ min: 1, max: options.protocol === 'reqrep' ? (options.maxClients ?? 1) : 1 }),
      receiverDials: fc.boolean(),
      reqrep: fc.constantFrom(...(options.shapes ?? [{}])),
      pipeline: fc.integer({ min: 1, max: options.maxPipeline ?? 1 }),
    })
    .chain((shape) => {
      const topo = topology({
        pattern: options.protocol,
        transport: shape.transport,
        clients: shape.clients,
        receiverDials: shape.receiverDials,
        ...shape.reqrep,
        pipeline: shape.pipeline,
        ...(options.options ? { options: options.options } : {}),
        ...(options.clientOptions ? { clientOptions: options.clientOptions } : {}),
      });
      const senders = topo.sockets.filter((s) => s.app.kind === 'send');
      return fc
        .record({
          sizes: fc.tuple(
            ...senders.map(() =>
              sizesArb({
                ...(options.maxMessages !== undefined ? { maxMessages: options.maxMessages } : {}),
                ...(options.maxMessageBytes !== undefined
                  ? { maxMessageBytes: options.maxMessageBytes }
                  : {}),
                ...(options.messageBytes !== undefined ? { messageBytes: options.messageBytes } : {}),
              }),
            ),
          ),
          network: networkArb(),
          faults: faultPlanArb({
            hosts: topo.hosts,
            crashable: crashableHosts(topo),
            ...(options.maxFaults !== undefined ? { maxFaults: options.maxFaults } : {}),
          }),
        })
        .map((k): Scenario => ({
          version: SCENARIO_VERSION,
          name: options.name ?? `${options.protocol} generated`,
          impl: options.impl ?? 'netlab',
          hosts: topo.hosts,
          sockets: topo.sockets,
          rawPeers: [],
          workload: {
            sends: senders.flatMap((s, i) =>
              k.sizes[i]!.map((bytes) => ({ socket: s.name, bytes, gapUs: 0 })),
            ),
          },
          network: k.network,
          faults: k.faults,
          faultPhaseUs: FAULT_PHASE_US,
          livenessUs: LIVENESS_US,
          checks: [...(options.checks ?? DEFAULT_CHECKS[options.protocol])],
        }));
    });
}

/** simSeed: generated, never shrunk (a new seed would change every fate, not simplify the case). */
export const simSeedArb: fc.Arbitrary<string> = fc.noShrink(
  fc.integer({ min: 0, max: 0x7fffffff }).map((n) => `sim-${n.toString(16)}`),
);
