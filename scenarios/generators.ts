/**
 * fast-check arbitraries for scenarios. One generated value holds the workload and the faults, so a
 * failing case shrinks both at once: toward fewer and smaller messages, fewer and shorter faults, and
 * a calmer network. The simulator's seed (simSeed) is generated but never shrunk: draws are keyed by
 * connection, direction and message, so removing a message keeps the others' fates.
 */
import fc from 'fast-check';
import type { FaultPlan, FaultStep } from '../sim/fault-plan.js';
import { parseFaultPlan } from '../sim/fault-plan.js';
import { SCENARIO_VERSION, type Scenario } from './model.js';

export interface GenOptions {
  protocol: Scenario['protocol'];
  impl?: string;
  /** Largest number of messages (default 12). */
  maxMessages?: number;
  /** Largest message in bytes (default 4096). */
  maxMessageBytes?: number;
  /** Largest number of fault steps (default 3). */
  maxFaults?: number;
}

const FAULT_PHASE_US = 2_000_000;

function faultStep(): fc.Arbitrary<FaultStep> {
  const at = fc.integer({ min: 0, max: FAULT_PHASE_US - 1 });
  const dur = fc.integer({ min: 1_000, max: 1_000_000 });
  return fc.oneof(
    fc.record({
      kind: fc.constant('partition' as const),
      atUs: at,
      a: fc.constant(['client']),
      b: fc.constant(['server']),
      oneWay: fc.boolean(),
      forUs: dur,
    }),
    fc.record({
      kind: fc.constant('stall-reads' as const),
      atUs: at,
      conn: fc.constant('all' as const),
      side: fc.constantFrom('client' as const, 'server' as const),
      forUs: dur,
    }),
    fc.record({
      kind: fc.constant('pause' as const),
      atUs: at,
      host: fc.constantFrom('client', 'server'),
      forUs: dur,
    }),
    fc.record({ kind: fc.constant('reset' as const), atUs: at, conn: fc.constant('all' as const) }),
    fc.record({
      kind: fc.constant('crash' as const),
      atUs: at,
      host: fc.constant('server'),
      restartAfterUs: dur,
    }),
    fc.record({
      kind: fc.constant('link' as const),
      atUs: at,
      from: fc.constant('client'),
      to: fc.constant('server'),
      oneWay: fc.boolean(),
      set: fc.record({ lossRate: fc.double({ min: 0, max: 0.3, noNaN: true }) }),
      forUs: dur,
    }),
  ) as fc.Arbitrary<FaultStep>;
}

export function scenarioArb(options: GenOptions): fc.Arbitrary<Scenario> {
  return fc
    .record({
      messageBytes: fc.array(fc.integer({ min: 0, max: options.maxMessageBytes ?? 4096 }), {
        minLength: 1,
        maxLength: options.maxMessages ?? 12,
      }),
      latencyMinUs: fc.integer({ min: 0, max: 10_000 }),
      latencySpreadUs: fc.integer({ min: 0, max: 20_000 }),
      jitterUs: fc.integer({ min: 0, max: 2_000 }),
      lossRate: fc.constantFrom(0, 0.01, 0.05),
      randomChunking: fc.boolean(),
      partialWriteProbability: fc.constantFrom(0, 0.1, 0.5),
      // Windows below ~2 KiB make REQ resends outpace the link (a retry storm: every copy is answered).
      sendBufferBytes: fc.integer({ min: 2048, max: 65536 }),
      recvBufferBytes: fc.integer({ min: 2048, max: 65536 }),
      faults: fc.array(faultStep(), { maxLength: options.maxFaults ?? 3 }),
    })
    .map((k): Scenario => {
      const plan: FaultPlan = parseFaultPlan({ version: 1, faults: k.faults });
      return {
        version: SCENARIO_VERSION,
        name: `${options.protocol} generated`,
        protocol: options.protocol,
        transport: 'tcp',
        impl: options.impl ?? 'netlab',
        workload: { messageBytes: k.messageBytes },
        network: {
          latency: { kind: 'uniform', minUs: k.latencyMinUs, maxUs: k.latencyMinUs + k.latencySpreadUs },
          jitterUs: k.jitterUs,
          lossRate: k.lossRate,
          randomChunking: k.randomChunking,
          partialWriteProbability: k.partialWriteProbability,
          sendBufferBytes: k.sendBufferBytes,
          recvBufferBytes: k.recvBufferBytes,
        },
        faults: plan,
        faultPhaseUs: FAULT_PHASE_US,
        livenessUs: 30_000_000,
      };
    });
}

/** simSeed: generated, never shrunk (a new seed would change every fate, not simplify the case). */
export const simSeedArb: fc.Arbitrary<string> = fc.noShrink(
  fc.integer({ min: 0, max: 0x7fffffff }).map((n) => `sim-${n.toString(16)}`),
);
