/**
 * Fault profiles of the interop matrix: the `faults` dimension of a cell and the one place that
 * parses `netlab interop --faults`. A profile puts something between the two peers of a cell (a
 * seeded fault proxy) by turning the address the listener listens on into the address the dialer
 * dials. Only `none` exists so far; adding a profile is adding an entry to FAULT_PROFILES.
 */

export type Transport = 'tcp' | 'ipc';
export const TRANSPORTS: readonly Transport[] = ['tcp', 'ipc'];

/** What a profile needs to know about the cell it wraps (a subset of Cell, to avoid a cycle). */
export interface WrapTarget {
  /** Stable id of the cell, e.g. "nng/req0/dialer/tcp/none": a proxy may key its log or seed on it. */
  id: string;
  transport: Transport;
}

/** The path between the two peers of one cell. */
export interface WrappedAddress {
  /** The address the dialing side dials: the listener's own address, or a proxy in front of it. */
  dialUrl: string;
  /** Lines for the cell's detail (what the proxy did); [] when there is nothing to say. */
  log(): string[];
  /** Stops whatever was put in between; called once per cell, also after a timeout or an error. */
  close(): Promise<void>;
}

export interface FaultProfile {
  /** The name `--faults` accepts and cells carry, e.g. "none". */
  name: string;
  /** One line for `--help` and the report. */
  summary: string;
  /** Fault kinds the profile injects (the report case's `faults`); [] for none. */
  kinds: readonly string[];
  /** Transports the profile can sit on; cells on other transports are not generated for it. */
  transports: readonly Transport[];
  /**
   * Puts the faults between the peers: `listenUrl` is where the listening side listens; the result
   * says where the dialing side dials. `seed` is the run's seed joined with the cell id, so the same
   * seed gives every cell the same fate whatever order the cells run in.
   */
  wrap(target: WrapTarget, listenUrl: string, seed: string): Promise<WrappedAddress>;
}

/** No faults: the dialer dials the listener directly. */
const NONE: FaultProfile = {
  name: 'none',
  summary: 'no faults: the peers talk directly',
  kinds: [],
  transports: TRANSPORTS,
  wrap: (_target, listenUrl) =>
    Promise.resolve({ dialUrl: listenUrl, log: () => [], close: () => Promise.resolve() }),
};

/** Every profile `--faults` accepts, in the order `all` runs them. */
export const FAULT_PROFILES: readonly FaultProfile[] = [NONE];

/** Thrown for a `--faults` value that names no profile; the command turns it into a usage error. */
export class FaultsFlagError extends Error {
  override readonly name = 'FaultsFlagError';
}

/**
 * Parses `--faults`: one profile name, a comma-separated list, or `all` (every profile); default
 * `none`. Duplicates are dropped, order is kept.
 */
export function parseFaultsFlag(text: string | undefined): FaultProfile[] {
  if (text === undefined) return [NONE];
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0) throw new FaultsFlagError(`--faults needs a profile name, got '${text}'`);
  if (names.includes('all')) return [...FAULT_PROFILES];
  const out: FaultProfile[] = [];
  for (const name of names) {
    const profile = FAULT_PROFILES.find((p) => p.name === name);
    if (profile === undefined)
      throw new FaultsFlagError(
        `unknown fault profile '${name}' (accepted: all, ${FAULT_PROFILES.map((p) => p.name).join(', ')})`,
      );
    if (!out.includes(profile)) out.push(profile);
  }
  return out;
}

export function faultProfile(name: string): FaultProfile | undefined {
  return FAULT_PROFILES.find((p) => p.name === name);
}
