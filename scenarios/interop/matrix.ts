/**
 * The interop matrix, stack-neutral: what a cell is (a third-party peer × the subject netlab plays ×
 * netlab's role × transport × fault profile), its verdict, the bounds every stack's cells share,
 * and the job pool that runs cells of any number of stacks at once. Each stack describes its own
 * axes (StackInterop in scenarios/stack.ts) and loads a StackInteropRunner on demand (Node only): the
 * cells a selection holds, how one cell runs, and how a result reads as a report case.
 *
 * Verdicts:
 * - pass: every check of the exchange held (a documented difference of the peer is noted in detail);
 * - fail: a check did not hold, or a netlab operation failed with its typed error;
 * - error: no verdict could be reached: the cell ran out of time, a peer crashed or exited with a
 *   non-zero status, a peer could not start, a required peer is missing, or netlab threw;
 * - skip: the peer is not installed (and NETLAB_REQUIRE_PEERS is not 1).
 */
import type { CaseInput } from '../../reports/schema.js';
import type { TraceEvent } from '../../sim/trace.js';
import type { FaultProfile, Transport } from './faults.js';

export type CellStatus = 'pass' | 'fail' | 'error' | 'skip';

/** One cell of the matrix. `role` and `protocol` are netlab's. */
export interface InteropCell {
  /** The stack whose runner runs it. */
  stack: string;
  /** The peer, by the library it ships with (`--peer`), e.g. "nng". */
  peer: string;
  /** What netlab plays: its socket type, client or server kind... (`--protocol`). */
  protocol: string;
  /** How netlab takes part in the connection (`--role`), e.g. "listener". */
  role: string;
  transport: Transport;
  /** Fault profile name (./faults.ts); "none" for a direct connection. */
  faults: string;
}

export interface InteropCellResult extends InteropCell {
  /** Stable id: PEER/PROTOCOL/ROLE/TRANSPORT/FAULTS. */
  id: string;
  status: CellStatus;
  /** What happened, starting with the peer and its version ("nngcat 1.5.2: ..."). */
  detail: string;
  /** The peer's version ("1.5.2"; "unknown" when installed without one), null when it is not installed. */
  peerVersion: string | null;
  /** Wall time of the cell, setup and cleanup included, in milliseconds. */
  durationMs: number;
  /** netlab's side of the cell as trace events (CellOptions.traceCapacity; empty without). */
  trace: TraceEvent[];
}

/** Default bound of one cell, setup and exchange (cleanup has its own bound). */
export const DEFAULT_CELL_TIMEOUT_MS = 10_000;
/** Default cells run at once: they mostly wait on peers' timers, so more than the 2 cores pay off. */
export const DEFAULT_JOBS = 4;
/** Most cells at once `--jobs` accepts (each may run a peer process or two and a proxy). */
export const MAX_JOBS = 64;
/** Default seed of the fault decisions of a run (printed; `--seed` changes it). */
export const DEFAULT_SEED = 'netlab-interop';
/** Trace events `netlab interop --out` keeps per cell: an exchange is a few hundred. */
export const CELL_TRACE_EVENTS_MAX = 5_000;

export function cellId(cell: Omit<InteropCell, 'stack'>): string {
  return `${cell.peer}/${cell.protocol}/${cell.role}/${cell.transport}/${cell.faults}`;
}

/** Which cells to run, each axis already validated against the stack's values (empty: none). */
export interface InteropSelection {
  peers: readonly string[];
  protocols: readonly string[];
  roles: readonly string[];
  transports: readonly Transport[];
  faults: readonly FaultProfile[];
  /** One cell per (peer, protocol, fault profile), rotating through roles and transports. */
  quick: boolean;
}

export interface CellOptions {
  /** Bound of the cell (default DEFAULT_CELL_TIMEOUT_MS). */
  timeoutMs?: number;
  /** Seed of the fault decisions; a cell uses `${seed}/${cellId}` (default DEFAULT_SEED). */
  seed?: string;
  /**
   * Keep the last N trace events of netlab's side of the cell (its env's), for the report's viewer
   * (default 0: none; `netlab interop --out` keeps CELL_TRACE_EVENTS_MAX).
   */
  traceCapacity?: number;
}

/** A stack's interop cells, loaded on demand (Node only: peers are child processes). */
export interface StackInteropRunner {
  /** The cells of a selection, in the stack's matrix order. */
  cells(selection: InteropSelection): InteropCell[];
  /** The peer programs a selection of peers runs, each with its version ("not installed" when absent). */
  peerVersions(peers: readonly string[]): Promise<Record<string, string>>;
  /** Runs one of its cells to a verdict. Never throws; never leaves a child process or socket behind. */
  runCell(cell: InteropCell, options: CellOptions): Promise<InteropCellResult>;
  /** The report case of a result (suite "interop", runtime "real", impl the peer's library and version). */
  caseOf(result: InteropCellResult, seed: string): CaseInput;
}

export interface MatrixOptions {
  /** Cells run at once (default DEFAULT_JOBS). */
  jobs?: number;
  /** Called as each cell finishes (in completion order). */
  onResult?: (result: InteropCellResult, index: number) => void;
}

/** Runs cells with `runCell`, `jobs` at a time; results in the order of `cells`. */
export async function runMatrix<C extends InteropCell>(
  cells: readonly C[],
  runCell: (cell: C) => Promise<InteropCellResult>,
  options: MatrixOptions = {},
): Promise<InteropCellResult[]> {
  const jobs = Math.max(1, Math.min(options.jobs ?? DEFAULT_JOBS, MAX_JOBS));
  const results: InteropCellResult[] = new Array<InteropCellResult>(cells.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (;;) {
      const index = next++;
      const cell = cells[index];
      if (cell === undefined) return;
      const r = await runCell(cell);
      results[index] = r;
      options.onResult?.(r, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, cells.length) }, worker));
  return results;
}
