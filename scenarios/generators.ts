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
          // A lossy link, sometimes also a slow one (back-to-back segments queue behind each other:
          // the simulator's link audit, sim.link-model, checks they never arrive early).
          set: fc.record(
            {
              lossRate: fc.double({ min: 0, max: 0.3, noNaN: true }),
              bandwidthBytesPerSec: fc.constantFrom(200_000, 1_000_000, 10_000_000),
            },
            { requiredKeys: ['lossRate'] },
          ),
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

/** The most an edge-aware arbitrary may weigh its edges (the rest of the range must stay reachable). */
const EDGE_WEIGHT_MAX = 0.9;
/** The default share of draws that land on an edge (issue #18: "a real weight"). */
export const EDGE_WEIGHT_DEFAULT = 0.4;

export interface EdgeIntOptions {
  /** Smallest value (inclusive); an edge itself, with min + 1. */
  min: number;
  /** Largest value (inclusive); an edge itself. */
  max: number;
  /**
   * Named limits (a receive limit, a queue length, a TTL...): each adds limit − 1, limit and
   * limit + 1, clamped to [min, max] (out-of-range ones are dropped).
   */
  edges?: readonly number[];
  /** Share of draws that are an edge, in (0, 0.9] (default 0.4). */
  edgeWeight?: number;
  /**
   * The other draws: 'uniform' over [min, max] (default) or 'log' (log-uniform: every power of two
   * of the range as likely as the next, so small values are common in a range up to megabytes).
   */
  spread?: 'uniform' | 'log';
}

/** A uniform integer in [lo, hi] that may exceed fc.integer's 32-bit range (then through bigInt). */
function intBetween(lo: number, hi: number): fc.Arbitrary<number> {
  if (lo >= -0x80000000 && hi <= 0x7fffffff) return fc.integer({ min: lo, max: hi });
  return fc.bigInt({ min: BigInt(lo), max: BigInt(hi) }).map(Number, (n) => {
    if (typeof n !== 'number' || !Number.isSafeInteger(n)) throw new Error('not a safe integer');
    return BigInt(n);
  });
}

/**
 * The edges `edgeIntArb` draws, sorted, each once: min, min + 1, each named limit − 1, limit,
 * limit + 1 (clamped to [min, max]) and max.
 */
export function edgeValues(o: EdgeIntOptions): number[] {
  if (!Number.isSafeInteger(o.min) || !Number.isSafeInteger(o.max) || o.min > o.max)
    throw new Error(`edgeIntArb: bad range [${o.min}, ${o.max}]`);
  const all = [o.min, o.min + 1, o.max];
  for (const e of o.edges ?? []) all.push(e - 1, e, e + 1);
  return [...new Set(all.filter((v) => Number.isSafeInteger(v) && v >= o.min && v <= o.max))].sort(
    (a, b) => a - b,
  );
}

/** Log-uniform over [min, max] (min >= 0): a bit length first, then uniform within it. */
function logUniform(min: number, max: number): fc.Arbitrary<number> {
  const bands: fc.Arbitrary<number>[] = [];
  for (let bits = 0; bits <= 53; bits++) {
    const lo = Math.max(min, bits === 0 ? 0 : 2 ** (bits - 1));
    const hi = Math.min(max, 2 ** bits - 1);
    if (lo <= hi) bands.push(intBetween(lo, hi));
  }
  return bands.length === 1 ? bands[0]! : fc.oneof(...bands);
}

/**
 * An integer in [min, max] that lands on an edge (edgeValues: min, min + 1, limit − 1, limit,
 * limit + 1 of each named limit, max) in about `edgeWeight` (default 40 %) of draws, and otherwise
 * anywhere in the range (uniform, or log-uniform with spread 'log'). Off-by-one bugs live at the
 * edges, which a uniform draw over a wide range almost never hits (issue #18, item 2). Shrinks
 * toward min.
 */
export function edgeIntArb(o: EdgeIntOptions): fc.Arbitrary<number> {
  const edges = edgeValues(o);
  const w = o.edgeWeight ?? EDGE_WEIGHT_DEFAULT;
  if (!(w > 0 && w <= EDGE_WEIGHT_MAX)) throw new Error(`edgeIntArb: edgeWeight ${w} not in (0, 0.9]`);
  const rest = o.spread === 'log' && o.min >= 0 ? logUniform(o.min, o.max) : intBetween(o.min, o.max);
  const scale = 1000;
  return fc.oneof(
    { weight: Math.round(w * scale), arbitrary: fc.constantFrom(...edges) },
    { weight: Math.round((1 - w) * scale), arbitrary: rest },
  );
}

/**
 * Message sizes for one sender; shrinks toward fewer and smaller messages. The default size draw is
 * edge-aware (edgeIntArb over 0..maxMessageBytes: 0, 1, max − 1, max and each of `limits` ± 1 in
 * about 40 % of draws, else uniform); `messageBytes` replaces it, e.g. to make zero-length
 * messages common.
 */
export function sizesArb(
  o: {
    maxMessages?: number;
    maxMessageBytes?: number;
    minMessages?: number;
    messageBytes?: fc.Arbitrary<number>;
    /** Sizes that are limits of the scenario (a MAX-RCV-SIZE...), drawn at limit − 1, limit, limit + 1. */
    limits?: readonly number[];
  } = {},
) {
  const sizeArb =
    o.messageBytes ??
    edgeIntArb({ min: 0, max: o.maxMessageBytes ?? 4096, ...(o.limits ? { edges: o.limits } : {}) });
  return fc.array(sizeArb, {
    minLength: o.minMessages ?? 1,
    maxLength: o.maxMessages ?? 12,
  });
}

/** simSeed: generated, never shrunk (a new seed would change every fate, not simplify the case). */
export const simSeedArb: fc.Arbitrary<string> = fc.noShrink(
  fc.integer({ min: 0, max: 0x7fffffff }).map((n) => `sim-${n.toString(16)}`),
);
