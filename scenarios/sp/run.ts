/**
 * The SP stack's core (StackCore: parse, start, checks, variants, transports) and the SP runner
 * bound to it: `runScenario(scenario, simSeed)` runs an SP scenario on the simulated network through
 * the engine's runner. SP lab code and tests import the runner's pieces from here.
 */
import { parseStackScenario } from '../lab.js';
import {
  runScenario as runOnEngine,
  runScenarioOn as runOnEngineSubstrate,
  type RunOptions,
  type ScenarioResult as EngineScenarioResult,
  type ScenarioSubstrate,
} from '../runner.js';
import type { ImplInfo, StackCore } from '../stack.js';
import { implNames, implVariant, scheduledUntilUs, startSpActors, type ImplVariant } from './actors.js';
import { spChecks, type CheckContext, type Observations } from './checks.js';
import { parseSpFields, scenarioTransports, SP_STACK, type Scenario } from './model.js';
import { MUSEUM } from './museum/index.js';

export {
  OPENERS,
  payload,
  registerImpl,
  SCENARIO_SOCKET_DEFAULTS,
  SIM_HEAP_BYTES,
  type ImplVariant,
  type SocketOpener,
  type SocketParts,
} from './actors.js';
export type { RunOptions } from '../runner.js';

/** A run of an SP scenario. */
export type ScenarioResult = EngineScenarioResult<Observations>;

/** An SP implementation variant by name: netlab, a registered one (tests, API users), the museum. */
export function spVariant(name: string): ImplVariant | undefined {
  return implVariant(name) ?? MUSEUM.get(name);
}

/** Every SP variant besides netlab: the museum, then those registered with registerImpl. */
export function spImpls(): ReadonlyMap<string, ImplInfo> {
  const out = new Map<string, ImplInfo>(MUSEUM);
  for (const name of implNames()) if (name !== 'netlab' && !out.has(name)) out.set(name, implVariant(name)!);
  return out;
}

export const spCore: StackCore<Scenario, Observations, CheckContext> = {
  id: SP_STACK,
  parseScenario: parseSpFields,
  start(scenario, impl) {
    const variant = spVariant(impl);
    if (variant === undefined)
      throw new Error(
        `unknown implementation '${impl}' (known: netlab, ${[...spImpls().keys()].join(', ')})`,
      );
    return startSpActors(scenario, variant);
  },
  checks: spChecks,
  impls: spImpls,
  transportsOf: scenarioTransports,
  protocolsOf: (s) => [...new Set(s.sockets.map((x) => x.protocol))],
  scheduledUntilUs,
};

/** Runs an SP scenario on the simulated network. */
export function runScenario(
  scenario: Scenario,
  simSeed: string,
  options: RunOptions = {},
): Promise<ScenarioResult> {
  return runOnEngine(spCore, scenario, simSeed, options);
}

/** Runs an SP scenario on a substrate (real sockets: scenarios/real/). */
export function runScenarioOn(
  scenario: Scenario,
  substrate: ScenarioSubstrate,
  options: RunOptions = {},
): Promise<ScenarioResult> {
  return runOnEngineSubstrate(spCore, scenario, substrate, options);
}

/** Validates an SP scenario (envelope and SP fields, check ids against the SP checks). */
export function parseScenario(json: unknown): Scenario {
  return parseStackScenario(spCore, json);
}
