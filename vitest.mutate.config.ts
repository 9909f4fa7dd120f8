/**
 * The tests that judge impl/ and sim/ in a mutation run (`npm run mutate`, stryker.config.mjs):
 * their unit tests, the in-process property and scenario suites under scenarios/ (on the simulator,
 * fixed seeds, the CLI's quick run counts) and the wire-codec fuzzer's short seeded runs (fuzz/).
 * ~700 tests, ~90 s on 2 cores. Left out: anything needing a third-party peer, real sockets, a
 * browser or a build, and the slow registry check:
 * - `*.interop.test.ts`, scenarios/interop/, scenarios/<stack>/interop/: nngcat and nanocat peers;
 * - `*.real.test.ts`, scenarios/real/, impl/runtime/node*.test.ts, scenarios/<stack>/bench/: real
 *   loopback sockets (impl/runtime/node* is not mutated either);
 * - bin/, web/, reports/: the CLI, the browser page and the report writers judge nothing in impl/ or sim/;
 * - scenarios/stacks.test.ts: its museum check (every variant caught at netlab run's default runs) takes
 *   ~19 s alone, ~40 s instrumented, and repeats what the family suites check; it also bundles with esbuild.
 * impl/echo/echo.test.ts stays: its "over the real runtime" block uses loopback sockets, but briefly
 * (~20 ms) and in-process, and the file's decoder and backpressure tests judge impl/echo.
 * The settings of vitest.config.ts are kept (the Stryker runner itself sets threads, one worker).
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['impl/**/*.test.ts', 'sim/**/*.test.ts', 'scenarios/**/*.test.ts', 'fuzz/**/*.test.ts'],
    exclude: [
      '**/node_modules/**',
      '**/dist/**',
      '**/*.interop.test.ts',
      '**/*.real.test.ts',
      'scenarios/real/**',
      'scenarios/interop/**',
      'scenarios/*/interop/**',
      'scenarios/*/bench/**',
      'scenarios/stacks.test.ts',
      'impl/runtime/node*.test.ts',
      'bin/**',
      'web/**',
      'reports/**',
    ],
    testTimeout: 60_000,
    pool: 'forks',
    reporters: [
      // Stryker's workers set STRYKER_MUTATOR_WORKER: no console output there, nobody reads it.
      ...(process.env.STRYKER_MUTATOR_WORKER === undefined ? ['default'] : []),
      './vitest-load-failure-reporter.ts',
    ],
  },
});
