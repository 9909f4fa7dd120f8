// @ts-check
/**
 * Stryker plugins of `npm run mutate` (loaded by Stryker from bin/mutate.mjs, not by the config):
 *
 * - checker `netlab-sample`: lets through exactly the sampled mutants. The launcher narrows
 *   Stryker's `mutate` to the sampled mutants' own nodes, but a node carries more mutants than the
 *   one drawn (other mutators, and those of nodes nested in it); this checker marks those "not in
 *   the sample" before any test runs. Stryker's only status for a checker's veto is CompileError, so
 *   that is how they show in its report (hidden by default there; summary.json leaves them out).
 * - reporter `netlab-progress`: a progress line per minute counting sampled mutants only, and the
 *   phase times the launcher's cost model learns from (summary.json `timing`).
 *
 * The plugin objects are written out ({ kind, name, injectableClass }, as @stryker-mutator/api's
 * declareClassPlugin returns them) so this file imports nothing but the launcher's pure half.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { mutantKey, reportMutantKey } from './mutate-lib.mjs';

/** Shared with bin/mutate.mjs: Stryker runs reporters in the launcher's own process. */
const STATE_KEY = Symbol.for('netlab.mutate.state');

/**
 * @typedef {{ sample: ReadonlySet<string> | null, root: string, startedMs: number,
 *   dryRunDoneMs: number | null, doneMs: number | null, tested: number, survived: number,
 *   planned: number, lastPrintMs: number, print: (line: string) => void }} LauncherState
 */

/** @returns {LauncherState} */
export function launcherState() {
  const g = /** @type {Record<symbol, LauncherState | undefined>} */ (/** @type {unknown} */ (globalThis));
  return (g[STATE_KEY] ??= {
    sample: null,
    root: process.cwd(),
    startedMs: Date.now(),
    dryRunDoneMs: null,
    doneMs: null,
    tested: 0,
    survived: 0,
    planned: 0,
    lastPrintMs: 0,
    print: (line) => process.stderr.write(`${line}\n`),
  });
}

/**
 * @typedef {{ id: string, fileName: string, mutatorName: string, replacement?: string,
 *   location: import('./mutate-lib.d.mts').Location }} ApiMutant
 */

class SampleChecker {
  static inject = /** @type {const} */ (['options']);
  /** @type {Set<string>} */
  keys = new Set();
  root = '';
  file = '';

  /** @param {{ netlabSample?: { file?: string } }} options */
  constructor(options) {
    this.file = options.netlabSample?.file ?? '';
  }

  init() {
    if (!this.file)
      throw new Error('netlab-sample: netlabSample.file is not set (run through npm run mutate)');
    const sample = /** @type {{ root: string, keys: string[] }} */ (
      JSON.parse(readFileSync(this.file, 'utf8'))
    );
    this.root = sample.root;
    this.keys = new Set(sample.keys);
    return Promise.resolve();
  }

  /** @param {ApiMutant[]} mutants */
  check(mutants) {
    /** @type {Record<string, { status: 'passed' } | { status: 'compileError', reason: string }>} */
    const results = {};
    for (const m of mutants) {
      const rel = path.relative(this.root, m.fileName).split(path.sep).join('/');
      results[m.id] = this.keys.has(mutantKey({ ...m, replacement: m.replacement ?? null }, rel))
        ? { status: 'passed' }
        : { status: 'compileError', reason: 'not in the sample (npm run mutate): not run' };
    }
    return Promise.resolve(results);
  }
}

/** @typedef {{ status: string, fileName: string, mutatorName: string, replacement?: string,
 *   location: import('./mutate-lib.d.mts').Location }} ApiMutantResult */

class ProgressReporter {
  onDryRunCompleted() {
    launcherState().dryRunDoneMs = Date.now();
  }

  /** @param {{ mutantPlans: { mutant: ApiMutantResult & { status?: string } }[] }} event */
  onMutationTestingPlanReady(event) {
    const s = launcherState();
    s.planned = event.mutantPlans.filter(
      (p) => p.mutant.status !== 'Ignored' && this.counts(p.mutant, false),
    ).length;
    s.tested = 0;
    s.survived = 0;
    s.print(`mutate: ${s.planned} mutants to test`);
  }

  /** @param {ApiMutantResult} result */
  onMutantTested(result) {
    const s = launcherState();
    if (!this.counts(result, true) || result.status === 'Ignored') return;
    s.tested++;
    if (result.status === 'Survived' || result.status === 'NoCoverage') s.survived++;
    const now = Date.now();
    if (now - s.lastPrintMs >= 60_000 || s.tested === s.planned) {
      s.lastPrintMs = now;
      const minutes = (now - s.startedMs) / 60_000;
      const since = s.dryRunDoneMs ?? s.startedMs;
      const perMutant = (now - since) / 1000 / s.tested;
      const left = ((s.planned - s.tested) * perMutant) / 60;
      s.print(
        `mutate: ${s.tested}/${s.planned} tested, ${s.survived} survived or uncovered; ` +
          `${minutes.toFixed(0)} min elapsed, ~${left.toFixed(0)} min left`,
      );
    }
  }

  onMutationTestReportReady() {
    launcherState().doneMs = Date.now();
  }

  /**
   * Whether a mutant is one the launcher counts (the sample, or any when there is none). Stryker
   * hands reporters its own 0-based locations in the plan and schema (1-based) ones in results.
   * @param {ApiMutantResult} m
   * @param {boolean} schemaLocation
   */
  counts(m, schemaLocation) {
    const s = launcherState();
    if (!s.sample) return true;
    const rel = path.relative(s.root, m.fileName).split(path.sep).join('/');
    const key = schemaLocation
      ? reportMutantKey({ id: '', status: m.status, ...m }, rel)
      : mutantKey({ ...m, replacement: m.replacement ?? null }, rel);
    return s.sample.has(key);
  }
}

export const strykerPlugins = [
  { kind: 'Checker', name: 'netlab-sample', injectableClass: SampleChecker },
  { kind: 'Reporter', name: 'netlab-progress', injectableClass: ProgressReporter },
];

/** The checker's option, so Stryker validates it instead of warning about an unknown key. */
export const strykerValidationSchema = {
  $schema: 'http://json-schema.org/draft-07/schema',
  type: 'object',
  properties: {
    netlabSample: {
      type: 'object',
      description: 'npm run mutate: the sample file the netlab-sample checker lets through',
      properties: { file: { type: 'string' } },
      additionalProperties: false,
    },
  },
};
