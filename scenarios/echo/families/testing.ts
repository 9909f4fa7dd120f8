/**
 * Test helpers of the echo family tests: run one property against an implementation with the CLI's
 * default of 100 runs (a museum variant must be caught within it) and a fixed seed.
 */
import type { PropertySpec } from '../../catalog.js';
import { checkProperty, type PropertyOutcome } from '../../property.js';
import type { EchoScenario } from '../model.js';
import { echoCore } from '../run.js';

/** `netlab run`'s default number of runs per property. */
export const CLI_RUNS = 100;

export function checkEchoProperty(
  spec: PropertySpec<EchoScenario>,
  impl: string,
  fcSeed = 1,
  runs = CLI_RUNS,
): Promise<PropertyOutcome<EchoScenario>> {
  return checkProperty({
    stack: echoCore,
    arb: spec.arb({ impl, transports: spec.transports }),
    fcSeed,
    runs,
    netlabVersion: 'test',
    commit: 'test',
  });
}
