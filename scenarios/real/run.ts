/**
 * One scenario over real loopback sockets: the real substrate (./substrate.ts) with the seeded fault
 * proxy as its fault layer (./faults.ts), disposed of whatever happens. `netlab run --runtime real`
 * and `netlab replay --runtime real` use it; the parity suite compares it with the simulator.
 */
import type { SampledRun } from '../catalog.js';
import type { Scenario } from '../model.js';
import { runScenarioOn, type ScenarioResult } from '../runner.js';
import type { AnyStackCore } from '../stack.js';
import { realSubstrate, realUnsupported, type RealFaultLayer } from './substrate.js';

export interface RealRunOptions {
  /** The fault layer for scenarios with faults (default: none, and such scenarios are not run). */
  faults?: (seed: string) => RealFaultLayer;
  quietUs?: number;
  /** Keep the last N trace events of the run (default 0: none). */
  traceCapacity?: number;
}

/** Runs the scenario over real sockets, or says why it cannot (a fault with no real equivalent). */
export async function runOnReal(
  stack: AnyStackCore,
  scenario: Scenario,
  seed: string,
  o: RealRunOptions = {},
): Promise<SampledRun> {
  const why = realUnsupported(scenario, o.faults !== undefined);
  if (why !== null) return { unsupported: why };
  const faults = o.faults?.(seed);
  const substrate = realSubstrate(stack, scenario, {
    seed,
    ...(faults !== undefined ? { faults } : {}),
    ...(o.quietUs !== undefined ? { quietUs: o.quietUs } : {}),
    ...(o.traceCapacity !== undefined ? { traceCapacity: o.traceCapacity } : {}),
  });
  let result: ScenarioResult;
  try {
    result = await runScenarioOn(stack, scenario, substrate);
  } finally {
    await substrate.dispose();
  }
  return result;
}
