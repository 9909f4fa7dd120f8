/**
 * Test helpers shared by the family tests: run one property against an implementation with the
 * CLI's default of 100 runs (a museum variant must be caught within it) and a fixed seed.
 */
import type { PropertySpec } from '../catalog.js';
import { checkProperty, type PropertyOutcome } from '../../property.js';
import { spCore } from '../run.js';

/** `netlab run`'s default number of runs per property. */
export const CLI_RUNS = 100;

export function checkFamilyProperty(
  spec: PropertySpec,
  impl: string,
  fcSeed = 1,
  runs = CLI_RUNS,
): Promise<PropertyOutcome> {
  return checkProperty({
    stack: spCore,
    arb: spec.arb({ impl, transports: spec.transports }),
    fcSeed,
    runs,
    netlabVersion: 'test',
    commit: 'test',
  });
}

/** Ids of the checks the shrunk counterexamples of `specs` fail for `impl` (empty: all passed). */
export async function failingChecks(
  specs: readonly PropertySpec[],
  impl: string,
  fcSeed = 1,
): Promise<string[]> {
  const failed: string[] = [];
  for (const p of specs) {
    const out = await checkFamilyProperty(p, impl, fcSeed);
    if (!out.ok) failed.push(...out.counterexample!.failed.map((f) => f.id));
  }
  return failed;
}
