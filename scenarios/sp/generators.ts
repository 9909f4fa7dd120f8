/**
 * fast-check arbitraries for SP scenarios: a topology (hosts, sockets, who dials whom, over tcp,
 * ipc or inproc) and a workload, with the engine's network and fault arbitraries
 * (scenarios/generators.ts). One generated value holds workload and faults, so a failing case
 * shrinks both at once: toward fewer and smaller messages, fewer and shorter faults, a calmer network
 * and a simpler topology (one client, tcp, the client dialing).
 */
import fc from 'fast-check';
import type { OptionValues } from '../../impl/sp/options.js';
import {
  FAULT_PHASE_US,
  faultPlanArb,
  LIVENESS_US,
  networkArb,
  sizesArb,
  type Transport,
} from '../generators.js';
import {
  SCENARIO_VERSION,
  SP_STACK,
  type AppSpec,
  type Scenario,
  type ScenarioProtocol,
  type SocketSpec,
} from './model.js';
// The reference models' checks (model.*): DEFAULT_CHECKS and the families' lists name them.
import './models/checks.js';

export {
  edgeIntArb,
  edgeValues,
  FAULT_PHASE_US,
  faultPlanArb,
  faultStepArb,
  LIVENESS_US,
  networkArb,
  simSeedArb,
  sizesArb,
  TRANSPORTS,
  type EdgeIntOptions,
  type FaultOptions,
  type GeneratedFaultKind,
  type NetworkDraw,
  type Transport,
} from '../generators.js';

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
  pair0: ['stack.no-crash', 'delivery.intact-in-order', 'delivery.all-delivered', 'model.pair', 'model.wire'],
  reqrep: [
    'stack.no-crash',
    'reqrep.one-reply-per-request',
    'reqrep.all-answered',
    'model.reqrep',
    'model.wire',
  ],
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
          stack: SP_STACK,
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
