/**
 * SP's interop matrix as the plugin offers it: netlab's SP sockets against nngcat (nng) and nanocat
 * (nanomsg) over real tcp and ipc. The axes are data (./axes.ts); the runner (./runner.ts, Node
 * only) is loaded when `netlab interop` runs cells.
 */
import type { StackInterop } from '../../stack.js';
import { PEER_COMMANDS, PEER_IDS, PROTOCOL_GROUPS, PROTOCOL_ORDER, ROLES } from './axes.js';

export const spInterop: StackInterop = {
  summary:
    'sp: the SP peers nngcat (nng) and nanocat (nanomsg); a cell is one conformance exchange between\n' +
    "  netlab's socket of a type (its --protocol) and the peer's matching socket (scenarios/sp/interop/cells.ts)",
  peers: PEER_IDS.map((id) => ({ id, command: PEER_COMMANDS[id] })),
  protocols: PROTOCOL_ORDER,
  protocolGroups: PROTOCOL_GROUPS,
  roles: ROLES,
  load: async () => (await import('./runner.js')).spInteropRunner,
};
