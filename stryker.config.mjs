// @ts-check
/**
 * Stryker's configuration for `npm run mutate` (bin/mutate.mjs): what is mutated (impl/ and sim/, not
 * tests, test helpers, the real-socket adapter impl/runtime/node*), what judges it
 * (vitest.mutate.config.ts: the unit tests and the in-process property suites, fixed seeds), and
 * where the reports go (reports/mutation/). The launcher narrows `mutate` to a folder, a sample of
 * mutants or the changed files, and adds the sampling checker; `npx stryker run` alone runs every mutant.
 * @type {import('@stryker-mutator/api/core').PartialStrykerOptions}
 */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutate.config.ts' },
  coverageAnalysis: 'perTest',
  mutate: [
    'impl/**/*.ts',
    'sim/**/*.ts',
    '!**/*.test.ts',
    // Type-only files (impl/runtime/env.ts's interfaces, barrels like sim/index.ts) need no entry:
    // the instrumenter makes no mutant of types or re-exports.
    '!**/*.d.ts',
    '!**/testing/**',
    // The real-socket adapter and the fault proxy's sockets: no simulator suite runs them.
    '!impl/runtime/node*.ts',
  ],
  reporters: ['html', 'json', 'progress'],
  htmlReporter: { fileName: 'reports/mutation/index.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  incrementalFile: 'reports/mutation/stryker-incremental.json',
  tempDirName: '.stryker-tmp',
  // Files the judging tests never read: copying them into every sandbox is wasted time.
  ignorePatterns: [
    '/dist',
    '/docs',
    '/reports/latest',
    '/reports/mutation',
    '/coverage',
    '/traces',
    '/corpus',
    '/crashers',
    '/web/__screenshots__',
  ],
  concurrency: 2,
  // A busy machine (other work runs beside a mutation run) stretches test times: allow for it.
  timeoutMS: 20_000,
  timeoutFactor: 2,
  dryRunTimeoutMinutes: 20,
  cleanTempDir: true,
};
