/**
 * The in-page re-run bundle (web/build.mjs builds it into dist/web/runner.js): the isomorphic
 * scenario runner with every registered stack (scenarios/stacks.ts: their checks and variants), so the viewer can
 * rerun a case's scenario in the browser with its simSeed or other knobs. The report embeds it
 * deflated and the viewer loads it only when asked (zod and fast-check make it ~0.8 MB of script,
 * which a report page that is never rerun should not parse).
 */
import { Lab } from '../scenarios/lab.js';
import type { Scenario } from '../scenarios/model.js';
import type { RunOptions, ScenarioResult } from '../scenarios/runner.js';
import { STACKS } from '../scenarios/stacks.js';

/** What the runner bundle puts on window for the viewer (web/viewer.ts declares the same shape). */
export interface NetlabRunner {
  /** Validates scenario JSON (a case file's, or one with changed knobs); throws naming the bad field. */
  parseScenario(json: unknown): Scenario;
  /** Runs a scenario of any registered stack on the simulated network. */
  runScenario(scenario: Scenario, simSeed: string, options?: RunOptions): Promise<ScenarioResult>;
}

const lab = new Lab(STACKS);
(globalThis as { netlabRunner?: NetlabRunner }).netlabRunner = {
  parseScenario: (json) => lab.parseScenario(json),
  runScenario: (scenario, simSeed, options) => lab.runScenario(scenario, simSeed, options),
};
