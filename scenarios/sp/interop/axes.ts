/**
 * The axes of SP's interop matrix as plain data (no peer code, so the plugin stays isomorphic):
 * the third-party peers, the socket types netlab plays against them and the roles it takes.
 * The exchanges themselves are in ./cells.ts; the runner in ./matrix.ts.
 */

/** The third-party peers, by the library they ship with. */
export type PeerId = 'nng' | 'nanomsg';
export const PEER_IDS: readonly PeerId[] = ['nng', 'nanomsg'];

/** Each peer's program (Debian: nng-utils, nanomsg-utils). */
export const PEER_COMMANDS = { nng: 'nngcat', nanomsg: 'nanocat' } as const satisfies Record<PeerId, string>;

/** SP socket types, by nng's names. */
export type SpProtocol =
  | 'pair0'
  | 'pair1'
  | 'req0'
  | 'rep0'
  | 'pub0'
  | 'sub0'
  | 'push0'
  | 'pull0'
  | 'bus0'
  | 'surveyor0'
  | 'respondent0';

/** How netlab's socket takes part in the connection. */
export type Role = 'dialer' | 'listener';
export const ROLES: readonly Role[] = ['listener', 'dialer'];

/** Socket types in matrix order. */
export const PROTOCOL_ORDER: readonly SpProtocol[] = [
  'pair0',
  'pair1',
  'req0',
  'rep0',
  'pub0',
  'sub0',
  'push0',
  'pull0',
  'bus0',
  'surveyor0',
  'respondent0',
];

/** Families `--protocol` also accepts, naming both socket types of a pattern. */
export const PROTOCOL_GROUPS: Readonly<Record<string, readonly SpProtocol[]>> = {
  pair: ['pair0', 'pair1'],
  reqrep: ['req0', 'rep0'],
  pubsub: ['pub0', 'sub0'],
  pipeline: ['push0', 'pull0'],
  bus: ['bus0'],
  survey: ['surveyor0', 'respondent0'],
};
