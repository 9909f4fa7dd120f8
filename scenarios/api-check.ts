/**
 * checkScenarios for any stack: runs a property over generated scenarios and throws an Error whose
 * message a failing test shows in full (the failing checks, the shrunk scenario, fcSeed, fcPath,
 * simSeed and how to replay it). Each stack's public API (`netlab/api`, `netlab/api/reactor`) binds
 * it to its own StackCore. Stack-neutral and isomorphic, like the rest of the engine.
 */
import type fc from 'fast-check';
import type { Scenario } from './model.js';
import { checkProperty, type CaseFile, type PropertyOutcome } from './property.js';
import type { ScenarioResult } from './runner.js';
import type { StackCore } from './stack.js';

/** fcSeed checkScenarios uses when none is given: fixed, so a test run is the same every time. */
export const DEFAULT_CHECK_SEED = 20261122;
/** Scenarios checkScenarios runs when `runs` is not given (the CLI's default too). */
export const DEFAULT_CHECK_RUNS = 100;
/** Longest shrunk scenario printed in a failure message; the error's `caseFile` has all of it. */
const SCENARIO_CHARS_MAX = 4000;

export interface CheckScenariosOptions<O = unknown> {
  /** fast-check seed (default DEFAULT_CHECK_SEED): fix it, so CI and your machine agree. */
  seed?: number;
  /** Scenarios to generate (default DEFAULT_CHECK_RUNS). Bound it: every run simulates a world. */
  runs?: number;
  /** fcPath of a reported failure: with its seed, replays straight to the shrunk case. */
  path?: string;
  /** Run every scenario twice and require the same trace hash (default false). */
  checkDeterminism?: boolean;
  /** Sees every run's result, shrinking runs included (e.g. to count how often a fault fired). */
  onResult?: (result: ScenarioResult<O>) => void;
}

/**
 * A property over generated scenarios failed. `caseFile` is the shrunk case: save it as JSON and
 * `netlab replay FILE` reruns it, or pass its scenario and simSeed to runScenario() in a test.
 */
export class ScenarioPropertyError<S extends Scenario = Scenario> extends Error {
  override readonly name = 'ScenarioPropertyError';
  readonly caseFile: CaseFile<S>;
  readonly outcome: PropertyOutcome<S>;

  constructor(
    outcome: PropertyOutcome<S> & { counterexample: CaseFile<S> },
    runs: number,
    runName = 'runScenario',
  ) {
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
        `  ${runName}(error.caseFile.scenario, ${JSON.stringify(c.simSeed)})  // the single failing run`,
        '  netlab replay case.json  // after writing JSON.stringify(error.caseFile) to case.json',
        `shrunk scenario: ${shown}`,
      ].join('\n'),
    );
    this.caseFile = c;
    this.outcome = outcome;
  }
}

/**
 * Runs `runs` generated scenarios of `stack` (each with a generated simSeed) and evaluates the checks
 * each scenario names. Resolves with the outcome when every run passed; rejects with a
 * ScenarioPropertyError describing the shrunk counterexample when one failed. `runName` is the name
 * the stack's API gives its single-run function, for the replay line of the message.
 */
export async function checkStackScenarios<S extends Scenario, O>(
  stack: StackCore<S, O>,
  arb: fc.Arbitrary<S>,
  options: CheckScenariosOptions<O> = {},
  runName = 'runScenario',
): Promise<PropertyOutcome<S>> {
  const runs = options.runs ?? DEFAULT_CHECK_RUNS;
  const outcome = await checkProperty({
    stack,
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
    throw new ScenarioPropertyError<S>({ ...outcome, counterexample: outcome.counterexample }, runs, runName);
  return outcome;
}
