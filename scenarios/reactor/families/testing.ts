/** Test helpers of the reactor family tests: one property against an implementation, a fixed seed. */
import type { PropertySpec } from '../../catalog.js';
import { checkProperty, type PropertyOutcome } from '../../property.js';
import type { ReactorScenario } from '../model.js';
import { reactorCore } from '../run.js';

export const CLI_RUNS = 100;

export function checkReactorProperty(
  spec: PropertySpec<ReactorScenario>,
  impl: string,
  fcSeed = 1,
  runs = CLI_RUNS,
): Promise<PropertyOutcome<ReactorScenario>> {
  return checkProperty({
    stack: reactorCore,
    arb: spec.arb({ impl, transports: spec.transports }),
    fcSeed,
    runs,
    netlabVersion: 'test',
    commit: 'test',
  });
}
