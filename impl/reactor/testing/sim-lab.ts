/**
 * Test support for the reactor over the simulated network: a world with a server host and a client
 * host, a raw byte client (no reactor on its side) that records what it receives and can stop
 * reading, and a way to run the world until some async work settles. Not part of the stack.
 */
import { Network, type NetworkOptions } from '../../../sim/net.js';
import { World } from '../../../sim/world.js';
import { firstDifference } from '../../runtime/bytes.js';
import type { Env, StreamConn } from '../../runtime/env.js';

export interface ReactorLab {
  world: World;
  net: Network;
  server: Env;
  client: Env;
  /** Runs the world until `work` settles; fails if the world goes idle first. */
  drive<T>(work: () => Promise<T>, untilUs?: number): Promise<T>;
  /** Runs the world for `us` of virtual time (or until it is idle). */
  advance(us: number): Promise<void>;
}

export function reactorLab(seed: string, options: NetworkOptions = {}): ReactorLab {
  const world = new World({ seed });
  const net = new Network(world, options);
  const server = net.addHost('server').env;
  const client = net.addHost('client').env;
  return {
    world,
    net,
    server,
    client,
    async drive<T>(work: () => Promise<T>, untilUs = 3600 * 1_000_000): Promise<T> {
      let settled = false;
      const result = work().finally(() => {
        settled = true;
        world.stop();
      });
      while (!settled) {
        const r = await world.run({ untilUs, maxEvents: 20_000_000 });
        if (!settled && r.reason !== 'event-limit' && r.reason !== 'stopped')
          throw new Error(`work stuck at t=${r.nowUs}us (${r.reason})`);
      }
      return result;
    },
    async advance(us: number): Promise<void> {
      await world.run({ untilUs: world.nowUs + us });
    },
  };
}

/** A plain byte client: what it received, whether it closed, and a switch to stop reading. */
export interface RawClient {
  conn: StreamConn;
  received(): Uint8Array;
  receivedBytes(): number;
  /** null while open, else 'clean' or the error code. */
  closed(): string | null;
  ended(): boolean;
  /** Writes everything, waiting for onWritable on short writes; resolves when all was accepted. */
  send(bytes: Uint8Array): Promise<void>;
}

export function rawClient(env: Env, address: string, options: { paused?: boolean } = {}): Promise<RawClient> {
  const d = env.defer<RawClient>();
  env.connect(address, (err, conn) => {
    if (conn === undefined) {
      d.reject(err);
      return;
    }
    const chunks: Uint8Array[] = [];
    let total = 0;
    let closed: string | null = null;
    let ended = false;
    let writable: (() => void) | undefined;
    conn.setHandlers({
      onData: (b) => {
        chunks.push(b);
        total += b.length;
      },
      onWritable: () => writable?.(),
      onEnd: () => {
        ended = true;
      },
      onClose: (e) => (closed = e ? e.code : 'clean'),
    });
    if (options.paused === true) conn.pauseReading();
    d.resolve({
      conn,
      received() {
        const out = new Uint8Array(total);
        let at = 0;
        for (const c of chunks) {
          out.set(c, at);
          at += c.length;
        }
        return out;
      },
      receivedBytes: () => total,
      closed: () => closed,
      ended: () => ended,
      send(bytes) {
        const done = env.defer<void>();
        let at = 0;
        const pump = (): void => {
          while (at < bytes.length) {
            const n = conn.write(bytes.subarray(at));
            at += n;
            if (n === 0 || at < bytes.length) {
              writable = pump;
              return;
            }
          }
          writable = undefined;
          done.resolve(undefined);
        };
        pump();
        return done.promise;
      },
    });
  });
  return d.promise;
}

/** Deterministic test bytes: n bytes whose values depend on the position and a salt. */
export function pattern(n: number, salt = 0): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = (i * 31 + salt * 7 + (i >> 8)) & 0xff;
  return out;
}

/**
 * Throws unless `actual` equals `expected`, naming the first differing offset (a deep-equality
 * matcher's diff of megabyte arrays takes seconds and shows nothing useful).
 */
export function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  const at = firstDifference(actual, expected);
  if (at < 0) return;
  throw new Error(
    `bytes differ at offset ${at}: got ${actual.length} bytes (${String(actual[at])} there), ` +
      `expected ${expected.length} (${String(expected[at])})`,
  );
}
