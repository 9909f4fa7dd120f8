/**
 * The public API for writing scenario suites in your own vitest (or any test runner) files: the
 * building blocks netlab's own families use, and checkScenarios(), which runs a property over
 * generated scenarios and throws an Error whose message a failing test shows in full: the failing
 * checks, the shrunk scenario, fcSeed, fcPath, simSeed and how to replay it. Package entry point
 * `netlab/api` (README: "Writing your own scenario suites"). Isomorphic, like the rest of scenarios/.
 */
import type fc from 'fast-check';
import {
  checkProperty,
  parseCaseFile as parseCaseFileWith,
  replayCase as replayCaseOn,
  type ReplayOutcome,
} from '../property.js';
import type { CaseFile, PropertyOutcome } from './catalog.js';
import { implNames as registeredImplNames } from './actors.js';
import type { Scenario } from './model.js';
import { parseScenario, spCore, spImpls, type ScenarioResult } from './run.js';
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

/** fcSeed checkScenarios uses when none is given: fixed, so a test run is the same every time. */
export const DEFAULT_CHECK_SEED = 20261122;
/** Scenarios checkScenarios runs when `runs` is not given (the CLI's default too). */
export const DEFAULT_CHECK_RUNS = 100;
/** Longest shrunk scenario printed in a failure message; the error's `caseFile` has all of it. */
const SCENARIO_CHARS_MAX = 4000;

export interface CheckScenariosOptions {
  /** fast-check seed (default DEFAULT_CHECK_SEED): fix it, so CI and your machine agree. */
  seed?: number;
  /** Scenarios to generate (default DEFAULT_CHECK_RUNS). Bound it: every run simulates a world. */
  runs?: number;
  /** fcPath of a reported failure: with its seed, replays straight to the shrunk case. */
  path?: string;
  /** Run every scenario twice and require the same trace hash (default false). */
  checkDeterminism?: boolean;
  /** Sees every run's result, shrinking runs included (e.g. to count how often a fault fired). */
  onResult?: (result: ScenarioResult) => void;
}

/**
 * A property over generated scenarios failed. `caseFile` is the shrunk case: save it as JSON and
 * `netlab replay FILE` reruns it, or pass its scenario and simSeed to runScenario() in a test.
 */
export class ScenarioPropertyError extends Error {
  override readonly name = 'ScenarioPropertyError';
  readonly caseFile: CaseFile;
  readonly outcome: PropertyOutcome;

  constructor(outcome: PropertyOutcome & { counterexample: CaseFile }, runs: number) {
    const c = outcome.counterexample;
    const scenario = JSON.stringify(c.scenario, null, 2);
    const shown =
      scenario.length <= SCENARIO_CHARS_MAX
        ? scenario
        : `${scenario.slice(0, SCENARIO_CHARS_MAX)}… (truncated; error.caseFile.scenario has all of it)`;
    super(
      [
        `a property over generated scenarios failed after ${outcome.runs} of ${runs} runs (${outcome.shrinks} shrinks)`,
        'failing checks:',
        ...c.failed.map((f) => `  ${f.id}: expected ${f.expected ?? '?'}; actual ${f.actual ?? '?'}`),
        `fcSeed: ${c.fcSeed}  fcPath: ${JSON.stringify(c.fcPath)}  simSeed: ${JSON.stringify(c.simSeed)}  traceHash: ${c.traceHash}`,
        'replay:',
        `  checkScenarios(arb, { seed: ${c.fcSeed}, path: ${JSON.stringify(c.fcPath)} })  // straight to the shrunk case`,
        `  runScenario(error.caseFile.scenario, ${JSON.stringify(c.simSeed)})  // the single failing run`,
        '  netlab replay case.json  // after writing JSON.stringify(error.caseFile) to case.json',
        `shrunk scenario: ${shown}`,
      ].join('\n'),
    );
    this.caseFile = c;
    this.outcome = outcome;
  }
}

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
  const runs = options.runs ?? DEFAULT_CHECK_RUNS;
  const outcome = await checkProperty({
    stack: spCore,
    arb,
    fcSeed: options.seed ?? DEFAULT_CHECK_SEED,
    runs,
    // Stamped into the case file; a user's test is not a netlab build.
    netlabVersion: 'api',
    commit: 'unknown',
    ...(options.checkDeterminism !== undefined ? { checkDeterminism: options.checkDeterminism } : {}),
    ...(options.onResult !== undefined ? { onResult: options.onResult } : {}),
    ...(options.path !== undefined ? { path: options.path } : {}),
  });
  if (outcome.counterexample !== null)
    throw new ScenarioPropertyError({ ...outcome, counterexample: outcome.counterexample }, runs);
  return outcome;
}
