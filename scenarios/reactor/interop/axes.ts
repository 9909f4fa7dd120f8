/**
 * The reactor interop matrix's axes, as data (the plugin stays isomorphic): its peers, what netlab
 * plays (the echo-reactor) and netlab's role (it listens; the peers dial).
 */

/** The reactor's stack id. */
export const REACTOR_STACK = 'reactor';

/** `--peer` values: raw node:net clients, and netlab's own small Go client (standard library only). */
export type ReactorPeerId = 'node' | 'go';
export const REACTOR_PEER_IDS: readonly ReactorPeerId[] = ['node', 'go'];

/** The program each peer runs. */
export const REACTOR_PEER_COMMANDS: Record<ReactorPeerId, string> = {
  node: 'node',
  go: 'go-echo-client',
};

/** What netlab plays: the reactor echo (`netlab serve echo-reactor`'s server, in process). */
export const REACTOR_PROTOCOLS: readonly string[] = ['echo-reactor'];

/** netlab's echo listens; the peer dials. */
export const REACTOR_ROLES: readonly string[] = ['listener'];
