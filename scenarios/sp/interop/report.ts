/**
 * SP interop cells as report cases (schema netlab/report@2): one case per cell, `runtime: "real"`,
 * `impl` the third-party library and its version ("nng 1.5.2"), so the web report's matrix shows a
 * column "nng 1.5.2 (real)" beside netlab's; rows are the cell's check without the peer
 * (`interop/PROTOCOL/ROLE/TRANSPORT[/FAULTS]`). The report around them: scenarios/interop/report.ts.
 */
import { traceFileName, TRACES_DIR, type CaseInput } from '../../../reports/schema.js';
import { INTEROP_SUITE } from '../../interop/report.js';
import { dialectOf, exchangeOfCell, type Cell, type CellResult } from './matrix.js';
import { faultProfile } from '../../interop/faults.js';

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

/** The report case of an SP cell's result. */
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
