/**
 * The public API for writing scenario suites in your own vitest (or any test runner) files: the
 * building blocks netlab's own families use, and checkScenarios(), which runs a property over
 * generated scenarios and throws an Error whose message a failing test shows in full: the failing
 * checks, the shrunk scenario, fcSeed, fcPath, simSeed and how to replay it. Package entry point
 * `netlab/api` (README: "Writing your own scenario suites"). Isomorphic, like the rest of scenarios/.
 */
import type fc from 'fast-check';
import {
  checkStackScenarios,
  ScenarioPropertyError as StackScenarioPropertyError,
  type CheckScenariosOptions,
} from '../api-check.js';
import {
  parseCaseFile as parseCaseFileWith,
  replayCase as replayCaseOn,
  type ReplayOutcome,
} from '../property.js';
import type { CaseFile, PropertyOutcome } from './catalog.js';
import { implNames as registeredImplNames } from './actors.js';
import type { Scenario } from './model.js';
import { parseScenario, spCore, spImpls } from './run.js';
// Importing the families registers their checks (delivery.*, reqrep.*, framing...) for use by id.
import './families/index.js';

export { defineScenario, CALM_NETWORK, type ScenarioDraft, type SocketDraft } from './define.js';
export {
  runScenario,
  registerImpl,
  payload,
  parseScenario,
  type ImplVariant,
  type SocketParts,
  type ScenarioResult,
  type RunOptions,
} from './run.js';
export {
  defineCheck,
  checkById,
  matchDeliveries,
  peersOf,
  verdict,
  bytesEqual,
  type CheckDef,
  type CheckContext,
  type CheckVerdict,
  type CheckResult,
  type Observations,
  type SocketObs,
  type RawPeerObs,
} from './checks.js';
export { LOSSY_FAULTS } from '../checks.js';
export {
  topology,
  scenarioArb,
  networkArb,
  faultPlanArb,
  faultStepArb,
  sizesArb,
  simSeedArb,
  DEFAULT_CHECKS,
  TRANSPORTS,
  type Transport,
  type Topology,
  type TopologyOptions,
  type GenOptions,
} from './generators.js';
export { checkProperty } from '../property.js';
export { DEFAULT_CHECK_SEED, DEFAULT_CHECK_RUNS, type CheckScenariosOptions } from '../api-check.js';
export type { CaseFile, PropertyOutcome } from './catalog.js';
export type { Scenario, ScenarioInput, SocketSpec, RawPeerSpec } from './model.js';

/** Every SP implementation name: netlab, the museum, then those registered with registerImpl. */
export function implNames(): string[] {
  return [...new Set(['netlab', ...spImpls().keys(), ...registeredImplNames()])];
}

/** Reruns an SP case file: reproduced when the trace hash and the failing checks both match. */
export function replayCase(c: CaseFile): Promise<ReplayOutcome> {
  return replayCaseOn(spCore, c);
}

/** Validates an SP case file read from disk; errors name the bad field. */
export function parseCaseFile(json: unknown): CaseFile {
  return parseCaseFileWith(json, parseScenario);
}

/**
 * A property over generated SP scenarios failed. `caseFile` is the shrunk case: save it as JSON and
 * `netlab replay FILE` reruns it, or pass its scenario and simSeed to runScenario() in a test.
 */
export type ScenarioPropertyError = StackScenarioPropertyError<Scenario>;
export const ScenarioPropertyError = StackScenarioPropertyError;

/**
 * Runs `runs` generated scenarios (each with a generated simSeed) and evaluates the checks each
 * scenario names. Resolves with the outcome when every run passed; rejects with a
 * ScenarioPropertyError describing the shrunk counterexample when one failed.
 *
 *   await checkScenarios(scenarioArb({ protocol: 'reqrep', checks: [...] }), { seed: 1, runs: 50 });
 */
export async function checkScenarios(
  arb: fc.Arbitrary<Scenario>,
  options: CheckScenariosOptions = {},
): Promise<PropertyOutcome> {
  return checkStackScenarios(spCore, arb, options);
}
