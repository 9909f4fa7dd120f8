/**
 * SP's interop runner, as `netlab interop` loads it (StackInteropRunner): its cells for a
 * selection, its peers' versions, one cell run, and a result as a report case. Node only (peers are
 * child processes); the plugin reaches it through `spInterop.load()` (./index.ts).
 */
import { peerVersion } from '../../interop/harness.js';
import type { InteropCell, InteropSelection, StackInteropRunner } from '../../interop/matrix.js';
import { PEER_IDS, PROTOCOL_ORDER, ROLES, type PeerId, type Role, type SpProtocol } from './axes.js';
import { PEER_DIALECTS } from './cells.js';
import { matrixCells, runCell, type Cell } from './matrix.js';
import { cellCase } from './report.js';
import { SP_STACK } from '../model.js';

/** The SP cell an engine cell names (it came from matrixCells, so every axis is SP's). */
function spCell(cell: InteropCell): Cell {
  if (
    cell.stack !== SP_STACK ||
    !PEER_IDS.includes(cell.peer as PeerId) ||
    !PROTOCOL_ORDER.includes(cell.protocol as SpProtocol) ||
    !ROLES.includes(cell.role as Role)
  )
    throw new Error(`not an SP interop cell: ${JSON.stringify(cell)}`);
  const { stack: _stack, ...rest } = cell;
  return rest as Cell;
}

/** Only the values of `list` that are SP's own. */
function own<T extends string>(list: readonly string[], accepted: readonly T[]): T[] {
  return accepted.filter((v) => list.includes(v));
}

export const spInteropRunner: StackInteropRunner = {
  cells(selection: InteropSelection): InteropCell[] {
    const peers = own(selection.peers, PEER_IDS);
    const protocols = own(selection.protocols, PROTOCOL_ORDER);
    const roles = own(selection.roles, ROLES);
    // An axis with none of SP's values selects no SP cell (matrixCells reads an empty list as "all").
    if (peers.length === 0 || protocols.length === 0 || roles.length === 0) return [];
    if (selection.transports.length === 0 || selection.faults.length === 0) return [];
    return matrixCells({
      peers,
      protocols,
      roles,
      transports: selection.transports,
      faults: selection.faults,
      quick: selection.quick,
    }).map((c) => ({ stack: SP_STACK, ...c }));
  },

  async peerVersions(peers) {
    const versions: Record<string, string> = {};
    for (const p of own(peers, PEER_IDS)) {
      const dialect = PEER_DIALECTS[p];
      versions[dialect.command] =
        (await peerVersion(dialect.command, dialect.versionArgs)) ?? 'not installed';
    }
    return versions;
  },

  async runCell(cell, options) {
    return { stack: SP_STACK, ...(await runCell(spCell(cell), options)) };
  },

  caseOf(result, seed) {
    return cellCase({ ...result, ...spCell(result) }, seed);
  },
};
