/**
 * fast-check arbitraries for echo scenarios: a topology (one server, clients on their own hosts over
 * tcp, or everything on one host over ipc), the clients' options and messages, with the engine's
 * network and fault arbitraries (scenarios/generators.ts). One generated value holds workload and
 * faults, so a failing case shrinks both at once: toward fewer and smaller messages, fewer and
 * shorter faults, a calmer network, one client and tcp.
 */
import fc from 'fast-check';
import type { FaultStep } from '../../sim/fault-plan.js';
import { parseFaultPlan } from '../../sim/fault-plan.js';
import {
  FAULT_PHASE_US,
  faultStepArb,
  LIVENESS_US,
  networkArb,
  type GeneratedFaultKind,
  type Transport,
} from '../generators.js';
import {
  ECHO_STACK,
  SCENARIO_VERSION,
  type ClientSpec,
  type EchoScenario,
  type ServerSpec,
} from './model.js';

export const ECHO_TRANSPORTS: readonly Transport[] = ['tcp', 'ipc'];

/** When the clients start: after the server (at 0) listens. */
export const CLIENT_START_US = 1_000;
/** The unit of generated pauses between messages. */
export const GAP_STEP_US = 10_000;
/** Most fault steps per scenario. */
export const MAX_FAULTS = 3;

/**
 * Message sizes: mostly small (zero-length common), sometimes large enough (8..24 KiB) that writes
 * go out in pieces and a server's echoes pile up; shrinks toward small. Larger ones add nothing the
 * small windows of the generated networks do not already split, and cost seconds of simulated
 * retransmissions on lossy links.
 */
export const messageBytesArb: fc.Arbitrary<number> = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 4096 }) },
  { weight: 2, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.integer({ min: 8 * 1024, max: 24 * 1024 }) },
);

export interface EchoArbOptions {
  impl: string;
  transports: readonly Transport[];
  mode: ClientSpec['mode'];
  /** Scenario name (the property id is a good one). */
  name: string;
  checks: readonly string[];
  faultKinds: readonly GeneratedFaultKind[];
  maxClients?: number;
  maxMessages?: number;
  /** Most of the pause before each message (default 0: back to back). */
  maxGapUs?: number;
  /** May the server's host crash (tcp only: over ipc every actor shares the host)? */
  serverCrashes?: boolean;
}

/** A client's options and messages (its name, host and address come from the topology). */
type ClientDraw = Pick<ClientSpec, 'options' | 'messages'>;

function clientDrawArb(o: EchoArbOptions): fc.Arbitrary<ClientDraw> {
  const messages = fc.array(
    fc.record({
      bytes: messageBytesArb,
      // In steps of GAP_STEP_US, so shrinking a gap takes few steps.
      gapUs:
        o.maxGapUs === undefined || o.maxGapUs < GAP_STEP_US
          ? fc.constant(0)
          : fc.integer({ min: 0, max: Math.floor(o.maxGapUs / GAP_STEP_US) }).map((k) => k * GAP_STEP_US),
    }),
    { minLength: 1, maxLength: o.maxMessages ?? 10 },
  );
  const options: fc.Arbitrary<ClientSpec['options']> =
    o.mode === 'requests'
      ? fc.record({ window: fc.integer({ min: 1, max: 4 }) })
      : fc.record({ sessionMessages: fc.integer({ min: 1, max: 6 }) });
  return fc.record({ options, messages });
}

/** Hosts a fault step names (a plan drawn over more hosts keeps only the steps on hosts that exist). */
function stepHosts(step: FaultStep): string[] {
  const r = step as unknown as Record<string, unknown>;
  const out: string[] = [];
  for (const k of ['host', 'from', 'to']) if (typeof r[k] === 'string') out.push(r[k]);
  for (const k of ['a', 'b']) if (Array.isArray(r[k])) out.push(...(r[k] as string[]));
  return out;
}

/**
 * Generated echo scenarios of one client mode, for one property. No chain: the transport, the
 * clients and a fault plan over the most hosts are drawn side by side, and the steps naming hosts
 * the drawn topology lacks are dropped. A chained arbitrary redraws its inner value while shrinking,
 * which on a fragile failure (a reset that must catch a request in flight) made shrinking run for
 * minutes.
 */
export function echoScenarioArb(o: EchoArbOptions): fc.Arbitrary<EchoScenario> {
  const transports = o.transports.filter((t) => ECHO_TRANSPORTS.includes(t));
  if (transports.length === 0) throw new Error(`echo runs over ${ECHO_TRANSPORTS.join(' and ')} only`);
  const maxClients = o.maxClients ?? 2;
  const tcpHosts = ['server', ...Array.from({ length: maxClients }, (_, i) => `client${i}`)];
  // Fault steps shrink by going away, not by moving: a failure that hangs on when a reset hits a
  // request in flight stays failing as both move by a microsecond, which walked the shrinker down
  // one step at a time for minutes.
  const faults = (hosts: readonly string[], crashable: readonly string[]) =>
    fc
      .array(fc.noShrink(faultStepArb({ hosts, kinds: o.faultKinds, crashable })), { maxLength: MAX_FAULTS })
      .map((steps) => parseFaultPlan({ version: 1, faults: steps }));
  return fc
    .record({
      transport: fc.constantFrom(...transports),
      clients: fc.array(clientDrawArb(o), { minLength: 1, maxLength: maxClients }),
      // Small outboxes sometimes, so reading pauses for backpressure.
      maxPendingOutBytes: fc.option(fc.integer({ min: 1024, max: 64 * 1024 }), { nil: undefined }),
      network: networkArb(),
      tcpFaults: faults(tcpHosts, o.serverCrashes === true ? ['server'] : []),
      // Over ipc every actor shares one host: crashing it would take the clients along.
      ipcFaults: faults(['local'], []),
    })
    .map((k): EchoScenario => {
      const tcp = k.transport === 'tcp';
      const hosts = tcp ? ['server', ...k.clients.map((_, i) => `client${i}`)] : ['local'];
      const address = tcp ? 'tcp://server:7000' : 'ipc:///tmp/netlab-echo.sock';
      const plan = tcp ? k.tcpFaults : k.ipcFaults;
      const server: ServerSpec = {
        name: 'server',
        host: tcp ? 'server' : 'local',
        listen: address,
        options: k.maxPendingOutBytes === undefined ? {} : { maxPendingOutBytes: k.maxPendingOutBytes },
        startUs: 0,
      };
      return {
        version: SCENARIO_VERSION,
        stack: ECHO_STACK,
        name: o.name,
        impl: o.impl,
        hosts,
        servers: [server],
        clients: k.clients.map((c, i) => ({
          name: `client${i}`,
          host: tcp ? `client${i}` : 'local',
          connect: address,
          mode: o.mode,
          options: c.options,
          startUs: CLIENT_START_US,
          messages: c.messages,
        })),
        network: k.network,
        faults: {
          version: 1,
          faults: plan.faults.filter((f) => stepHosts(f).every((h) => hosts.includes(h))),
        },
        faultPhaseUs: FAULT_PHASE_US,
        livenessUs: LIVENESS_US,
        checks: [...o.checks],
      };
    });
}
