/**
 * fast-check arbitraries for reactor scenarios: one server (tcp or ipc) with a handler kind and
 * reactor options drawn at their boundaries (0, 1, limit-1, limit, limit+1 around the sizes the
 * clients send), clients on their own hosts running scripts of sends, frames, read pauses, idles and
 * closes, with the engine's network and fault arbitraries. Workload and faults are drawn side by
 * side (no chain), fault steps shrink by going away.
 */
import fc from 'fast-check';
import type { FaultStep } from '../../sim/fault-plan.js';
import { parseFaultPlan } from '../../sim/fault-plan.js';
import { faultStepArb, networkArb, type GeneratedFaultKind, type Transport } from '../generators.js';
import {
  HANDLER_KINDS,
  REACTOR_STACK,
  SCENARIO_VERSION,
  type ClientAction,
  type HandlerKind,
  type ReactorScenario,
  type ServerSpec,
} from './model.js';

export const REACTOR_TRANSPORTS: readonly Transport[] = ['tcp', 'ipc'];
export const CLIENT_START_US = 1_000;
/** The generated fault phase: short, the scripts are short. */
export const REACTOR_FAULT_PHASE_US = 500_000;
/**
 * Liveness after healing: every idle timeout drawn (at most 1 s) and the drain of a few tens of KiB
 * through 2 KiB windows on a lossy link (each loss costs a 200 ms retransmission).
 */
export const REACTOR_LIVENESS_US = 10_000_000;

/** A value near a limit: 0, 1, limit-1, limit, limit+1, or anything up to twice the limit. */
export function boundaryArb(limit: number): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(0, 1, Math.max(0, limit - 1), limit, limit + 1) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: 2 * limit }) },
  );
}

export interface ReactorArbOptions {
  impl: string;
  transports: readonly Transport[];
  name: string;
  checks: readonly string[];
  faultKinds: readonly GeneratedFaultKind[];
  handlers: readonly HandlerKind[];
  maxClients: number;
  /** Draws the server options of the shape. */
  options: fc.Arbitrary<ServerSpec['options']>;
  /** Draws a client's script; `limit` is the input high-water mark drawn, or a size scale. */
  script: (handler: HandlerKind) => fc.Arbitrary<ClientAction[]>;
  /** slow: CPU per request; stall: the stall (µs). */
  handlerUs?: fc.Arbitrary<number>;
}

function stepHosts(step: FaultStep): string[] {
  const r = step as unknown as Record<string, unknown>;
  const out: string[] = [];
  for (const k of ['host', 'from', 'to']) if (typeof r[k] === 'string') out.push(r[k]);
  for (const k of ['a', 'b']) if (Array.isArray(r[k])) out.push(...(r[k] as string[]));
  return out;
}

/** A script's data actions for a handler: frames for the framed kinds, raw sends otherwise. */
export function dataAction(handler: HandlerKind, bytes: fc.Arbitrary<number>): fc.Arbitrary<ClientAction> {
  return bytes.map((n): ClientAction =>
    handler === 'framed' || handler === 'peek' ? { kind: 'frame', bytes: n } : { kind: 'send', bytes: n },
  );
}

/** How a script ends: half-close mostly, sometimes a close right after sending, a reset, or nothing. */
export const endingArb: fc.Arbitrary<ClientAction[]> = fc.oneof(
  { weight: 5, arbitrary: fc.constant<ClientAction[]>([{ kind: 'half-close' }]) },
  { weight: 2, arbitrary: fc.constant<ClientAction[]>([{ kind: 'close' }]) },
  { weight: 1, arbitrary: fc.constant<ClientAction[]>([{ kind: 'reset' }]) },
  { weight: 2, arbitrary: fc.constant<ClientAction[]>([]) },
);

export function reactorScenarioArb(o: ReactorArbOptions): fc.Arbitrary<ReactorScenario> {
  const transports = o.transports.filter((t) => REACTOR_TRANSPORTS.includes(t));
  if (transports.length === 0) throw new Error(`reactor runs over ${REACTOR_TRANSPORTS.join(' and ')} only`);
  const handlers = o.handlers.filter((h) => HANDLER_KINDS.includes(h));
  const tcpHosts = ['server', ...Array.from({ length: o.maxClients }, (_, i) => `client${i}`)];
  const faults = (hosts: readonly string[]) =>
    fc
      .array(fc.noShrink(faultStepArb({ hosts, kinds: o.faultKinds, phaseUs: REACTOR_FAULT_PHASE_US })), {
        maxLength: 2,
      })
      .map((steps) => parseFaultPlan({ version: 1, faults: steps }));
  return fc
    .record({
      transport: fc.constantFrom(...transports),
      handler: fc.constantFrom(...handlers),
      handlerUs: o.handlerUs ?? fc.constant(0),
      options: o.options,
      scripts: fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 1, maxLength: o.maxClients }),
      network: networkArb(),
      tcpFaults: faults(tcpHosts),
      ipcFaults: faults(['local']),
    })
    .chain((k) => fc.tuple(fc.constant(k), fc.tuple(...k.scripts.map(() => o.script(k.handler)))))
    .map(([k, scripts]): ReactorScenario => {
      const tcp = k.transport === 'tcp';
      const hosts = tcp ? ['server', ...scripts.map((_, i) => `client${i}`)] : ['local'];
      const address = tcp ? 'tcp://server:7000' : 'ipc:///tmp/netlab-reactor.sock';
      const plan = tcp ? k.tcpFaults : k.ipcFaults;
      return {
        version: SCENARIO_VERSION,
        stack: REACTOR_STACK,
        name: o.name,
        impl: o.impl,
        hosts,
        servers: [
          {
            name: 'server',
            host: tcp ? 'server' : 'local',
            listen: address,
            handler: k.handler,
            handlerUs: k.handlerUs,
            options: k.options,
            startUs: 0,
          },
        ],
        clients: scripts.map((actions, i) => ({
          name: `client${i}`,
          host: tcp ? `client${i}` : 'local',
          connect: address,
          startUs: CLIENT_START_US + i * 100,
          actions,
        })),
        network: k.network,
        faults: {
          version: 1,
          faults: plan.faults.filter((f) => stepHosts(f).every((h) => hosts.includes(h))),
        },
        faultPhaseUs: REACTOR_FAULT_PHASE_US,
        livenessUs: REACTOR_LIVENESS_US,
        checks: [...o.checks],
      };
    });
}
