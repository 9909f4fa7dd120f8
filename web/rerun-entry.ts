/**
 * The in-page re-run bundle (web/build.mjs builds it into dist/web/runner.js): the isomorphic
 * scenario runner with the families' checks and the museum's variants registered, so the viewer can
 * rerun a case's scenario in the browser with its simSeed or other knobs. The report embeds it
 * deflated and the viewer loads it only when asked (zod and fast-check make it ~0.8 MB of script,
 * which a report page that is never rerun should not parse).
 */
// Registering: the families define their checks by id, the museum its implementation variants.
import '../scenarios/sp/families/index.js';
import '../scenarios/sp/museum/index.js';
import { parseScenario } from '../scenarios/model.js';
import { runScenario } from '../scenarios/runner.js';

/** What the runner bundle puts on window for the viewer (web/viewer.ts declares the same shape). */
export interface NetlabRunner {
  /** Validates scenario JSON (a case file's, or one with changed knobs); throws naming the bad field. */
  parseScenario: typeof parseScenario;
  runScenario: typeof runScenario;
}

(globalThis as { netlabRunner?: NetlabRunner }).netlabRunner = { parseScenario, runScenario };
