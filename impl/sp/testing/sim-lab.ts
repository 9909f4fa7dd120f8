/**
 * Test support for SP over the simulated network: a world with hosts a and b, and a way to run the
 * world until some async work settles (stopping the world then, since redials may keep it busy
 * forever). Used by the protocol tests; not part of the stack.
 */
import { Network, type NetworkOptions } from '../../../sim/net.js';
import { World } from '../../../sim/world.js';
import type { Env } from '../../runtime/env.js';
import { SpError } from '../errors.js';

export interface Lab {
  world: World;
  net: Network;
  a: Env;
  b: Env;
  /** Runs the world until `work` settles; fails if the world goes idle first. */
  drive<T>(work: () => Promise<T>, untilUs?: number): Promise<T>;
}

export function lab(seed: string, options: NetworkOptions = {}): Lab {
  const world = new World({ seed });
  const net = new Network(world, options);
  const a = net.addHost('a').env;
  const b = net.addHost('b').env;
  return {
    world,
    net,
    a,
    b,
    async drive<T>(work: () => Promise<T>, untilUs = 3600 * 1_000_000): Promise<T> {
      let settled = false;
      const result = work().finally(() => {
        settled = true;
        world.stop(); // the world may have endless work (redials): stop as soon as ours is done
      });
      while (!settled) {
        // The world drains promise continuations after each dirty event, so once run() returns,
        // `settled` is already up to date.
        const r = await world.run({ untilUs, maxEvents: 20_000_000 });
        if (!settled && r.reason !== 'event-limit' && r.reason !== 'stopped') {
          throw new Error(`work stuck at t=${r.nowUs}us (${r.reason})`);
        }
      }
      return result;
    },
  };
}

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);
export const str = (b: Uint8Array): string => new TextDecoder().decode(b);

/** The SpError code a promise rejects with, 'ok' when it resolves. */
export async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return e instanceof SpError ? e.code : `non-SpError: ${String(e)}`;
  }
}
