/**
 * The reactor's interop matrix as the plugin offers it: the reactor echo (real runtime, in process)
 * against raw node:net clients and netlab's own Go client, over real tcp and ipc, with and without
 * the fault proxy's profiles. The runner (./runner.ts, Node only) is loaded when cells run.
 */
import type { StackInterop } from '../../stack.js';
import { REACTOR_PEER_COMMANDS, REACTOR_PEER_IDS, REACTOR_PROTOCOLS, REACTOR_ROLES } from './axes.js';

export const reactorInterop: StackInterop = {
  summary:
    "reactor: raw node:net clients (node) and netlab's own Go client (go, built from\n" +
    '  scenarios/reactor/interop/peers/go-echo-client with golang-go); a cell sends messages of 1 B, 64 B,\n' +
    "  64 KiB and 1 MiB to netlab's echo-reactor, checks each echo byte-exact, half-closes and expects a clean close",
  peers: REACTOR_PEER_IDS.map((id) => ({ id, command: REACTOR_PEER_COMMANDS[id] })),
  protocols: REACTOR_PROTOCOLS,
  protocolGroups: {},
  roles: REACTOR_ROLES,
  load: async () => (await import('./runner.js')).reactorInteropRunner,
};
