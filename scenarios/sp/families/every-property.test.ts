/**
 * Every SP property of every family holds for netlab at a quick count (fixed seed, QUICK_RUNS runs
 * each): the property suites as tests, so `npm test` fails on a property netlab breaks without
 * waiting for the lab, and so the mutation judge (vitest.mutate.config.ts) weighs impl/ and sim/
 * with the families themselves (models, exact timing, boundaries, impolite workloads, the
 * self-checks), not only with the unit tests. One test per property: per-test coverage then reruns
 * only the properties that reach a mutant.
 */
import { describe, expect, it } from 'vitest';
import { allProperties } from './index.js';
import { checkFamilyProperty } from './testing.js';

/** Runs per property: a third of the CLI's default (60 with --ci), ~20 s for all of them on one core. */
const QUICK_RUNS = 20;

describe('every SP property holds for netlab (seed 1, quick runs)', () => {
  for (const spec of allProperties())
    it(spec.id, async () => {
      const out = await checkFamilyProperty(spec, 'netlab', 1, QUICK_RUNS);
      expect(out.counterexample?.failed ?? []).toEqual([]);
      expect(out.ok).toBe(true);
    });
});
