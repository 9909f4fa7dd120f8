/**
 * fast-check arbitraries for the stack-neutral parts of scenarios: a network model, a fault plan
 * over a stack's hosts, message sizes and the simulator's seed. A stack's generators (e.g.
 * scenarios/sp/generators.ts) add a topology and a workload. One generated value holds workload and faults, so a failing case shrinks both at
 * once: toward fewer and smaller messages, fewer and shorter faults, a calmer network and a simpler
 * topology (one client, tcp, the client dialing). The simulator's seed (simSeed) is generated but
 * never shrunk: draws are keyed by connection, direction and message, so removing a message keeps the
 * others' fates.
 */
import fc from 'fast-check';
import type { FaultPlan, FaultStep } from '../sim/fault-plan.js';
import { parseFaultPlan } from '../sim/fault-plan.js';
import type { Scenario } from './model.js';

export type Transport = 'tcp' | 'ipc' | 'inproc';
export const TRANSPORTS: readonly Transport[] = ['tcp', 'ipc', 'inproc'];

/** The default fault phase of generated scenarios (faults start within it; all heal at its end). */
export const FAULT_PHASE_US = 2_000_000;
/** The default liveness bound after healing. */
export const LIVENESS_US = 30_000_000;

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

/** simSeed: generated, never shrunk (a new seed would change every fate, not simplify the case). */
export const simSeedArb: fc.Arbitrary<string> = fc.noShrink(
  fc.integer({ min: 0, max: 0x7fffffff }).map((n) => `sim-${n.toString(16)}`),
);
