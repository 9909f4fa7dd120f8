/**
 * Properties over generated scenarios: run many (scenario, simSeed) pairs; on a failure fast-check
 * shrinks workload and faults together, and the minimal case becomes a case file (scenario, simSeed,
 * fcSeed, fcPath, netlab version, commit, outcome, trace hash) that replayCase() reruns exactly.
 */
import fc from 'fast-check';
import type { CheckResult } from './checks.js';
import { simSeedArb } from './generators.js';
import type { Scenario } from './model.js';
import { runScenario, type ScenarioResult } from './runner.js';
import type { StackCore } from './stack.js';

/**
 * Version of case files. 2: the scenario names its stack (scenario version 2). A case file of
 * another version is refused, naming the version it has and the one expected.
 */
export const CASE_SCHEMA = 'netlab/case@2';

export interface CaseFile<S extends Scenario = Scenario> {
  schema: typeof CASE_SCHEMA;
  scenario: S;
  simSeed: string;
  fcSeed: number;
  fcPath: string;
  netlabVersion: string;
  commit: string;
  /** The failing checks when the case was recorded. */
  failed: CheckResult[];
  traceHash: string;
}

export interface PropertyOutcome<S extends Scenario = Scenario> {
  ok: boolean;
  runs: number;
  fcSeed: number;
  /** Set when a property failed: the shrunk counterexample as a case file. */
  counterexample: CaseFile<S> | null;
  shrinks: number;
  /** Scenario runs spent shrinking (0 when it passed). */
  shrinkRuns: number;
  /** True when shrinking stopped at its bound (PropertyOptions.shrinkRunsMax): the case may not be minimal. */
  shrinkCapped: boolean;
}

/**
 * Default bound on the scenario runs spent shrinking one failure. Shrinking walks down one accepted
 * candidate at a time; when a failure needs two fault times to keep their distance, fast-check's
 * integer shrinker can only take 1 µs steps, and an unbounded shrink then takes hours. Counted in
 * runs, not wall time, so the same seed still gives the same case.
 */
export const SHRINK_RUNS_MAX_DEFAULT = 3_000;

export interface PropertyOptions<S extends Scenario = Scenario, O = unknown> {
  /** The stack the scenarios belong to. */
  stack: StackCore<S, O>;
  /** Generated scenarios (a stack's generators, or a family's own arbitrary). */
  arb: fc.Arbitrary<S>;
  fcSeed: number;
  runs: number;
  netlabVersion: string;
  commit: string;
  /** Sees every run's result (shrinking runs included): coverage counters hang here. */
  onResult?: (result: ScenarioResult<O>) => void;
  /**
   * Run every scenario twice and require the same trace hash: a difference fails the property with
   * the synthetic check 'engine.deterministic' (and shrinks like any failure).
   */
  checkDeterminism?: boolean;
  /** Bound on the scenario runs spent shrinking a failure (default SHRINK_RUNS_MAX_DEFAULT). */
  shrinkRunsMax?: number;
  /**
   * fast-check path of a recorded failure (with its fcSeed): start from that counterexample instead
   * of generating, so a failure reported as "fcSeed S, fcPath P" replays at once. Default: none.
   */
  path?: string;
}

/** The id of the synthetic check a nondeterministic scenario fails. */
export const DETERMINISM_CHECK = 'engine.deterministic';

export async function checkProperty<S extends Scenario, O>(
  options: PropertyOptions<S, O>,
): Promise<PropertyOutcome<S>> {
  const shrinkRunsMax = options.shrinkRunsMax ?? SHRINK_RUNS_MAX_DEFAULT;
  // Runs after the first failure are shrinking runs; past the bound every candidate is taken as
  // passing without a run, so fast-check settles on the smallest failure found so far.
  let failedOnce = false;
  let shrinkRuns = 0;
  let shrinkCapped = false;
  const details = await fc.check(
    fc.asyncProperty(options.arb, simSeedArb, async (scenario, simSeed) => {
      if (failedOnce) {
        if (shrinkRuns >= shrinkRunsMax) {
          shrinkCapped = true;
          return true;
        }
        shrinkRuns++;
      }
      const ok = await runOnce(scenario, simSeed);
      if (!ok) failedOnce = true;
      return ok;
    }),
    {
      seed: options.fcSeed,
      numRuns: options.runs,
      endOnFailure: false,
      ...(options.path !== undefined ? { path: options.path } : {}),
    },
  );
  if (!details.failed || details.counterexample === null) {
    return {
      ok: true,
      runs: details.numRuns,
      fcSeed: options.fcSeed,
      counterexample: null,
      shrinks: 0,
      shrinkRuns: 0,
      shrinkCapped: false,
    };
  }
  return failureOutcome(options, details.counterexample, {
    runs: details.numRuns,
    shrinks: details.numShrinks,
    path: details.counterexamplePath ?? '',
    shrinkRuns,
    shrinkCapped,
  });

  /** One generated or shrinking run: true when it passes. */
  async function runOnce(scenario: S, simSeed: string): Promise<boolean> {
    const r = await runScenario(options.stack, scenario, simSeed);
    options.onResult?.(r);
    if (
      options.checkDeterminism === true &&
      (await runScenario(options.stack, scenario, simSeed)).traceHash !== r.traceHash
    )
      return false;
    return r.ok;
  }
}

/** The outcome of a failed property: its counterexample run once more, as a case file. */
async function failureOutcome<S extends Scenario, O>(
  options: PropertyOptions<S, O>,
  [scenario, simSeed]: [S, string],
  found: { runs: number; shrinks: number; path: string; shrinkRuns: number; shrinkCapped: boolean },
): Promise<PropertyOutcome<S>> {
  const r = await runScenario(options.stack, scenario, simSeed);
  const again = options.checkDeterminism === true ? await runScenario(options.stack, scenario, simSeed) : r;
  const failed = r.checks.filter((c) => c.status === 'fail');
  if (again.traceHash !== r.traceHash) {
    failed.push({
      id: DETERMINISM_CHECK,
      kind: 'always',
      requirement: 'the same scenario and simSeed give the same trace hash',
      status: 'fail',
      expected: r.traceHash,
      actual: again.traceHash,
    });
  }
  return {
    ok: false,
    runs: found.runs,
    fcSeed: options.fcSeed,
    shrinks: found.shrinks,
    shrinkRuns: found.shrinkRuns,
    shrinkCapped: found.shrinkCapped,
    counterexample: {
      schema: CASE_SCHEMA,
      scenario,
      simSeed,
      fcSeed: options.fcSeed,
      fcPath: found.path,
      netlabVersion: options.netlabVersion,
      commit: options.commit,
      failed,
      traceHash: r.traceHash,
    },
  };
}

export class CaseFileError extends Error {
  override readonly name = 'CaseFileError';
  readonly code = 'ERR_BAD_CASE';
}

/**
 * Validates a case file read from disk; errors name the bad field. `parseScenario` validates its
 * scenario (a Lab's, which knows every stack, or one stack's).
 */
export function parseCaseFile<S extends Scenario>(
  json: unknown,
  parseScenario: (json: unknown) => S,
): CaseFile<S> {
  if (typeof json !== 'object' || json === null) throw new CaseFileError('case file: must be a JSON object');
  const o = json as Record<string, unknown>;
  if (typeof o.schema === 'string' && o.schema !== CASE_SCHEMA && o.schema.startsWith('netlab/case@')) {
    const has = Number(o.schema.slice('netlab/case@'.length));
    const want = Number(CASE_SCHEMA.slice('netlab/case@'.length));
    throw new CaseFileError(
      `case file schema ${o.schema} is ${has < want ? 'older' : 'newer'} than this netlab reads (${CASE_SCHEMA})${has < want ? ': record the case again with this netlab (netlab run)' : ''}`,
    );
  }
  if (o.schema !== CASE_SCHEMA)
    throw new CaseFileError(`case file schema: expected "${CASE_SCHEMA}", got ${JSON.stringify(o.schema)}`);
  for (const [k, t] of [
    ['simSeed', 'string'],
    ['fcSeed', 'number'],
    ['fcPath', 'string'],
    ['traceHash', 'string'],
    ['netlabVersion', 'string'],
    ['commit', 'string'],
  ] as const) {
    if (typeof o[k] !== t)
      throw new CaseFileError(`case file ${k}: expected a ${t}, got ${JSON.stringify(o[k])}`);
  }
  if (!Array.isArray(o.failed)) throw new CaseFileError('case file failed: expected an array of checks');
  let scenario: S;
  try {
    scenario = parseScenario(o.scenario);
  } catch (e) {
    throw new CaseFileError(`case file ${(e as Error).message}`);
  }
  return { ...(o as unknown as CaseFile<S>), scenario };
}

export interface ReplayOutcome {
  traceHash: string;
  reproduced: boolean;
  /** Ids of the checks that fail now. */
  failing: string[];
  expectedFailing: string[];
}

/** Reruns a case: reproduced when the trace hash and the failing checks both match the record. */
export async function replayCase<S extends Scenario>(
  stack: StackCore<S, unknown>,
  c: CaseFile<S>,
): Promise<ReplayOutcome> {
  const r = await runScenario(stack, c.scenario, c.simSeed);
  const failing = r.checks.filter((x) => x.status === 'fail').map((x) => x.id);
  const expectedFailing = c.failed.map((x) => x.id);
  return {
    traceHash: r.traceHash,
    reproduced: r.traceHash === c.traceHash && failing.join(',') === expectedFailing.join(','),
    failing,
    expectedFailing,
  };
}
