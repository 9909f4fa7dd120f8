/**
 * For mutation runs only (vitest.mutate.config.ts): a test file that fails to load gets one failed
 * test carrying its load error, so Stryker counts the mutant that broke the load as killed.
 *
 * Why: a static mutant (code run at import time, e.g. `const GOOD = encodeHandshake(...)` in
 * impl/sp/wire/handshake.ts) that throws makes every test file importing it fail to load. vitest
 * records that on the file, with no test in it; @stryker-mutator/vitest-runner 9.6.1 builds a
 * mutant's verdict from the tests it collects only, finds none failed, and reports the mutant
 * Survived with 0 tests run (stryker-js#6150, open; fix proposed in stryker-js#6217). Measured
 * here: 5 of handshake.ts's 15 "survivors" were such mutants. In a dry run (no mutant) the added
 * failure makes Stryker stop, as it should when a judging test file cannot load.
 */
import type { RunnerTestCase, RunnerTestFile } from 'vitest';
import type { Reporter, Vitest } from 'vitest/node';

export default class LoadFailureAsFailedTest implements Reporter {
  private vitest: Vitest | undefined;

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  onTestRunEnd(): void {
    for (const file of this.vitest?.state.getFiles() ?? []) addLoadFailure(file);
  }
}

/** Adds the failed test to a file that failed without a test of its own. */
function addLoadFailure(file: RunnerTestFile): boolean {
  if (file.result?.state !== 'fail' || file.tasks.length > 0) return false;
  const errors = file.result.errors ?? [];
  const test = {
    type: 'test',
    id: `${file.id}_load`,
    name: 'loads (the test file failed to load)',
    fullName: `${file.name} loads (the test file failed to load)`,
    fullTestName: 'loads (the test file failed to load)',
    mode: 'run',
    suite: file,
    file,
    meta: {},
    timeout: 0,
    annotations: [],
    artifacts: [],
    result: {
      state: 'fail',
      duration: file.result.duration ?? 0,
      errors: errors.length ? errors : [{ message: 'the test file failed to load', name: 'Error' }],
    },
    // vitest builds a test's context when it runs one; nothing reads it once the run has ended.
  } as unknown as RunnerTestCase;
  file.tasks.push(test);
  return true;
}
