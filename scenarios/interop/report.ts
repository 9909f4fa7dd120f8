/**
 * Interop cells as report cases (schema netlab/report@2), for any stack: the stack's runner makes
 * each cell's case (StackInteropRunner.caseOf: `runtime: "real"`, `impl` the third-party library and
 * its version, so the web report's matrix shows a column "nng 1.5.2 (real)" beside netlab's); this
 * module puts them in a report of their own or in the interop suite of an existing one, and writes
 * netlab's side of each traced cell beside it. See reports/SCHEMA.md, "Interop cases".
 */
import {
  createReport,
  mergeSuiteInto,
  traceFileName,
  type BannerInput,
  type CaseInput,
  type Report,
} from '../../reports/schema.js';
import type { TraceFile } from '../../reports/write.js';
import { toJsonLines, TRACE_SCHEMA } from '../../sim/trace.js';
import type { InteropCellResult } from './matrix.js';

/** The report suite interop cases go in (a rerun replaces it in an existing report). */
export const INTEROP_SUITE = 'interop';

/** A cell's result beside its report case. */
export interface InteropOutcome {
  result: InteropCellResult;
  case: CaseInput;
}

/** The trace files of the cells that recorded one, for writeReportFiles beside the report. */
export function cellTraces(outcomes: readonly InteropOutcome[], seed: string): TraceFile[] {
  return outcomes.flatMap(({ result, case: c }) =>
    result.trace.length === 0
      ? []
      : [
          {
            file: traceFileName(c.id),
            content: toJsonLines(
              { schema: TRACE_SCHEMA, seed, source: `${c.replay ?? c.id} (netlab's side, real sockets)` },
              result.trace,
            ),
          },
        ],
  );
}

export interface InteropRunInfo {
  seed: string;
  knobs: Record<string, string | number | boolean>;
  netlabVersion: string;
  commit: string;
  startedAt: string;
  wallMs: number;
}

/** A new report holding only the interop suite. */
export function interopReport(cases: readonly CaseInput[], info: InteropRunInfo): Report {
  const banner: BannerInput = {
    simSeed: info.seed,
    // No fast-check property runs here; 0 says "none" in an integer field.
    fcSeed: 0,
    knobs: info.knobs,
    netlabVersion: info.netlabVersion,
    commit: info.commit,
    nodeVersion: process.version,
    startedAt: info.startedAt,
    virtualUs: 0,
    wallMs: Math.round(info.wallMs),
    scenarioRuns: null,
    scenarioRunsPerSec: null,
  };
  return createReport(banner, [{ name: INTEROP_SUITE, cases: [...cases] }]);
}

/**
 * An existing report (say of `netlab run`) with its interop suite replaced by these cases: the
 * rest is kept as it was, the interop knobs are added to its banner as `interop.*`, totals recomputed.
 */
export function mergeInteropInto(
  existing: Report,
  cases: readonly CaseInput[],
  info: InteropRunInfo,
): Report {
  return mergeSuiteInto(existing, INTEROP_SUITE, [...cases], 'interop', info.knobs);
}
