/**
 * The reactor's public API for scenario suites in your own test files (package entry point
 * `netlab/api/reactor`): define a scenario by hand or generate them, run one on the simulated
 * network, check a property over many with a shrunk, replayable counterexample, and the reactor
 * itself (serveReactor, createDialer...) for servers and clients of your own. Isomorphic.
 *
 *   const s = defineReactorScenario({ hosts: ['server', 'client0'], servers: [...], clients: [...] });
 *   const result = await runReactorScenario(s, 'my-seed');   // result.checks: every verdict
 *   await checkReactorScenarios(reactorScenarioArb({...}), { seed: 1, runs: 50 });
 */
import type fc from 'fast-check';
import { checkStackScenarios, ScenarioPropertyError, type CheckScenariosOptions } from '../api-check.js';
import {
  parseCaseFile as parseCaseFileWith,
  replayCase as replayCaseOn,
  type CaseFile,
  type PropertyOutcome,
  type ReplayOutcome,
} from '../property.js';
import type { ReactorScenario } from './model.js';
import type { ReactorObservations } from './observations.js';
import { parseReactorScenario, reactorCore } from './run.js';

export {
  defineReactorScenario,
  runReactorScenario,
  parseReactorScenario,
  CALM_NETWORK,
  ALL_REACTOR_CHECKS,
  type ReactorResult,
  type ReactorScenarioDraft,
} from './run.js';
export {
  HANDLER_KINDS,
  type HandlerKind,
  type ReactorScenario,
  type ServerSpec,
  type ServerOptions,
  type ClientSpec,
  type ClientAction,
} from './model.js';
export { REACTOR_CHECKS, type ReactorCheckDef } from './checks.js';
export type { ReactorObservations } from './observations.js';
export { reactorScenarioArb, boundaryArb, type ReactorArbOptions } from './generators.js';
export { reactorConnectionViews, type ReactorConnectionView } from './viewer.js';
export { DEFAULT_CHECK_SEED, DEFAULT_CHECK_RUNS, ScenarioPropertyError, type CheckScenariosOptions };
// The reactor itself: servers and clients of your own, on a simulated host's env or a real one.
export {
  serveReactor,
  createDialer,
  serveEcho,
  Connection,
  ReactorError,
  REACTOR_DEFAULTS,
  CLOSE_REASONS,
  type ReactorHandlers,
  type ReactorOptions,
  type ReactorServer,
  type CloseReason,
} from '../../impl/reactor/index.js';
import { DEFAULT_CHECK_RUNS, DEFAULT_CHECK_SEED } from '../api-check.js';

/**
 * Runs `runs` generated reactor scenarios (each with a generated simSeed) and evaluates the checks
 * each names. Resolves with the outcome when every run passed; rejects with a ScenarioPropertyError
 * (its `caseFile` is the shrunk case; `netlab replay` reruns it) when one failed.
 */
export function checkReactorScenarios(
  arb: fc.Arbitrary<ReactorScenario>,
  options: CheckScenariosOptions<ReactorObservations> = {},
): Promise<PropertyOutcome<ReactorScenario>> {
  return checkStackScenarios(reactorCore, arb, options, 'runReactorScenario');
}

/** Reruns a reactor case file: reproduced when the trace hash and the failing checks both match. */
export function replayReactorCase(c: CaseFile<ReactorScenario>): Promise<ReplayOutcome> {
  return replayCaseOn(reactorCore, c);
}

/** Validates a reactor case file read from disk; errors name the bad field. */
export function parseReactorCaseFile(json: unknown): CaseFile<ReactorScenario> {
  return parseCaseFileWith(json, parseReactorScenario);
}
