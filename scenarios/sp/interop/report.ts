/**
 * Interop cells as report cases (schema netlab/report@2): one case per cell, `runtime: "real"`,
 * `impl` the third-party library and its version ("nng 1.5.2"), so the web report's matrix shows a
 * column "nng 1.5.2 (real)" beside netlab's; rows are the cell's check without the peer
 * (`interop/PROTOCOL/ROLE/TRANSPORT[/FAULTS]`). See reports/SCHEMA.md, "Interop cases".
 */
import {
  createReport,
  mergeSuiteInto,
  traceFileName,
  TRACES_DIR,
  type BannerInput,
  type CaseInput,
  type Report,
} from '../../../reports/schema.js';
import type { TraceFile } from '../../../reports/write.js';
import { toJsonLines, TRACE_SCHEMA } from '../../../sim/trace.js';
import { dialectOf, exchangeOfCell, type Cell, type CellResult } from './matrix.js';
import { faultProfile } from './faults.js';

/** The report suite interop cases go in (a rerun replaces it in an existing report). */
export const INTEROP_SUITE = 'interop';

/** The library a peer program ships with, as the report's matrix column names it. */
const LIBRARY: Record<Cell['peer'], string> = { nng: 'nng', nanomsg: 'nanomsg' };

/** The impl (matrix column, without " (real)") of a peer: "nng 1.5.2", or "nng" when its version is not known. */
export function implName(peer: Cell['peer'], version: string | null): string {
  return version === null || version === 'unknown' ? LIBRARY[peer] : `${LIBRARY[peer]} ${version}`;
}

/** The command that reruns one cell. */
export function replayCommand(cell: Cell, seed: string): string {
  return (
    `netlab interop --peer ${cell.peer} --protocol ${cell.protocol} --role ${cell.role} ` +
    `--transport ${cell.transport} --faults ${cell.faults} --seed ${JSON.stringify(seed)}`
  );
}

/** The trace file of a cell that recorded one (null without), as the report's traces/ holds it. */
function cellTraceFile(r: CellResult, caseId: string, seed: string): TraceFile | null {
  if (r.trace.length === 0) return null;
  return {
    file: traceFileName(caseId),
    content: toJsonLines(
      { schema: TRACE_SCHEMA, seed, source: `${replayCommand(r, seed)} (netlab's side, real sockets)` },
      r.trace,
    ),
  };
}

/** The trace files of the cells that recorded one, for writeReportFiles beside the report. */
export function cellTraces(results: readonly CellResult[], seed: string): TraceFile[] {
  return results.flatMap((r) => {
    const t = cellTraceFile(r, cellCase(r, seed).id, seed);
    return t === null ? [] : [t];
  });
}

export function cellCase(r: CellResult, seed: string): CaseInput {
  const exchange = exchangeOfCell(r);
  const dialect = dialectOf(r.peer);
  const impl = implName(r.peer, r.peerVersion);
  const peerRole = r.role === 'listener' ? 'dialer' : 'listener';
  const faults = r.faults === 'none' ? '' : `/${r.faults}`;
  const netlabDoes = r.role === 'listener' ? 'listens' : 'dials';
  // The impl segment is what the matrix removes to make one row of every peer's cell.
  const id = `${INTEROP_SUITE}/${r.protocol}/${impl}/${r.role}/${r.transport}${faults}`;
  return {
    id,
    title: `netlab ${r.protocol} ${netlabDoes}, the peer's ${exchange.peerProtocol} ${r.role === 'listener' ? 'dials' : 'listens'} over ${r.transport}${r.faults === 'none' ? '' : ` with faults ${r.faults}`}`,
    stack: 'sp',
    family: INTEROP_SUITE,
    protocol: r.protocol,
    transport: r.transport,
    runtime: 'real',
    impl,
    peer: dialect.command,
    // The role of impl (the peer): its socket type and how it connects.
    role: `${exchange.peerProtocol} ${peerRole}`,
    faults: [...(faultProfile(r.faults)?.kinds ?? [])],
    ref: null,
    requirement: exchange.requirement,
    invariant: exchange.invariant,
    status: r.status,
    runs: r.status === 'skip' ? 0 : 1,
    fcSeed: null,
    fcPath: null,
    simSeed: null,
    shrinks: null,
    counterexample: null,
    expected: exchange.requirement,
    actual: r.detail,
    replay: replayCommand(r, seed),
    traceHash: null,
    trace: r.trace.length > 0 ? `${TRACES_DIR}/${traceFileName(id)}` : null,
    wallMs: r.durationMs,
  };
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
export function interopReport(results: readonly CellResult[], info: InteropRunInfo): Report {
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
  return createReport(banner, [{ name: INTEROP_SUITE, cases: results.map((r) => cellCase(r, info.seed)) }]);
}

/**
 * An existing report (say of `netlab run`) with its interop suite replaced by these results: the
 * rest is kept as it was, the interop knobs are added to its banner as `interop.*`, totals recomputed.
 */
export function mergeInteropInto(
  existing: Report,
  results: readonly CellResult[],
  info: InteropRunInfo,
): Report {
  return mergeSuiteInto(
    existing,
    INTEROP_SUITE,
    results.map((r) => cellCase(r, info.seed)),
    'interop',
    info.knobs,
  );
}
