/**
 * Fault profiles of the interop matrix: the `faults` dimension of a cell and the one place that
 * parses `netlab interop --faults`. A profile puts a seeded fault proxy (impl/runtime/node-proxy.ts)
 * between the two peers of a cell, by turning the address the listener listens on into the address
 * the dialer dials; its faults are the proxy's named profile of the same name (PROXY_PROFILES:
 * latency, slicing, stall, reset, chaos). `none` lets the peers talk directly.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFaultProxy } from '../../impl/runtime/node-proxy.js';
import {
  describeProxyFaults,
  PROXY_PROFILES,
  PROXY_PROFILE_NAMES,
  type ProxyProfileName,
} from '../../impl/runtime/proxy-plan.js';

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
  /** Connections made through the wrapper so far (a redial after a reset makes it 2); null: unknown. */
  connections(): number | null;
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
  /**
   * True when the profile destroys bytes in flight (a reset): a protocol that does not resend may
   * then lose a message, and the cell asks instead that the peers reconnect.
   */
  destroysData: boolean;
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
  destroysData: false,
  transports: TRANSPORTS,
  wrap: (_target, listenUrl) =>
    Promise.resolve({
      dialUrl: listenUrl,
      log: () => [],
      connections: () => null,
      close: () => Promise.resolve(),
    }),
};

/** Fault kinds each proxy profile injects (the report case's `faults`). */
const PROFILE_KINDS: Record<Exclude<ProxyProfileName, 'none'>, readonly string[]> = {
  latency: ['latency'],
  slicing: ['slicing'],
  stall: ['stall'],
  reset: ['reset'],
  chaos: ['latency', 'slicing', 'bandwidth', 'stall', 'slow-close'],
};

/** The proxy's profile `name`, in front of the cell's listener (tcp, or a unix socket for ipc). */
function proxied(name: Exclude<ProxyProfileName, 'none'>): FaultProfile {
  return {
    name,
    summary: `through the seeded fault proxy: ${describeProxyFaults(PROXY_PROFILES[name])}`,
    kinds: PROFILE_KINDS[name],
    destroysData:
      PROXY_PROFILES[name].up?.resetAtByte !== undefined ||
      PROXY_PROFILES[name].down?.resetAtByte !== undefined,
    transports: TRANSPORTS,
    async wrap(target, listenUrl, seed) {
      const ipc = target.transport === 'ipc';
      // A unix-socket proxy needs a path of its own; a fresh directory keeps cells apart.
      const dir = ipc ? mkdtempSync(join(tmpdir(), 'netlab-interop-proxy-')) : undefined;
      try {
        const proxy = await startFaultProxy({
          listen: dir !== undefined ? `ipc://${join(dir, 'proxy.sock')}` : 'tcp://127.0.0.1:0',
          upstream: listenUrl,
          seed: `${seed}/${target.id}`,
          faults: name,
        });
        return {
          dialUrl: proxy.address.replace(/^unix:\/\//, 'ipc://'),
          log: () => {
            const conns = proxy.connections.map(
              (c) =>
                `conn ${c.index}: ${c.up.forwarded} B up, ${c.down.forwarded} B down${c.outcome !== undefined ? `, ${c.outcome}` : ''}`,
            );
            return [`proxy ${name} (seed ${proxy.seed}): ${conns.join('; ') || 'no connection'}`];
          },
          connections: () => proxy.accepted,
          close: async () => {
            await proxy.close();
            if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
          },
        };
      } catch (e) {
        if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
        throw e;
      }
    },
  };
}

/** Every profile `--faults` accepts, in the order `all` runs them. */
export const FAULT_PROFILES: readonly FaultProfile[] = [
  NONE,
  ...PROXY_PROFILE_NAMES.filter((n): n is Exclude<ProxyProfileName, 'none'> => n !== 'none').map(proxied),
];

/** Thrown for a `--faults` value that names no profile; the command turns it into a usage error. */
export class FaultsFlagError extends Error {
  override readonly name = 'FaultsFlagError';
}

/**
 * Parses `--faults`: one profile name, a comma-separated list, or `all` (every profile, the
 * default: the matrix runs with and without faults). Duplicates are dropped, order is kept.
 */
export function parseFaultsFlag(text: string | undefined): FaultProfile[] {
  if (text === undefined) return [...FAULT_PROFILES];
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
