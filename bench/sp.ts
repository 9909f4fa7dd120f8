/**
 * `netlab bench sp`: PAIR0 64-byte round trips over real loopback TCP against the raw limit (a bare
 * node:net ping-pong with the same u64 framing and no SP logic), measured in the same run, plus the
 * frame decoder against memcpy (bench/sp-codec.ts).
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { createNodeEnv } from '../impl/runtime/node.js';
import { openPair0 } from '../impl/sp/protocol/pair0.js';
import { runCodecBench } from './sp-codec.js';

const MESSAGE_BYTES = 64;

export interface SpBenchOptions {
  /** Wall time per round-trip measurement in ms (default 2000). */
  durationMs?: number;
  /** Measured repetitions; the best is reported (default 3). */
  repeats?: number;
}

/** PAIR0 ping-pong on the real runtime: round trips per second. */
async function pair0RoundTrips(durationMs: number): Promise<number> {
  const env = createNodeEnv({ seed: 'bench-sp', hostName: 'bench' });
  try {
    const server = openPair0(env);
    const listener = server.newListener('tcp://127.0.0.1:0');
    await listener.listen();
    const client = openPair0(env);
    await client.dial(listener.address);
    const msg = new Uint8Array(MESSAGE_BYTES).fill(7);
    // Echo loop on the server side.
    let running = true;
    const echo = (async () => {
      while (running) {
        let m: Uint8Array;
        try {
          m = await server.recv();
        } catch {
          return;
        }
        await server.send(m);
      }
    })();
    for (let i = 0; i < 200; i++) {
      await client.send(msg);
      await client.recv();
    }
    let trips = 0;
    const t0 = performance.now();
    const end = t0 + durationMs;
    while (performance.now() < end) {
      for (let i = 0; i < 100; i++) {
        await client.send(msg);
        await client.recv();
      }
      trips += 100;
    }
    const seconds = (performance.now() - t0) / 1000;
    running = false;
    await client.close();
    await server.close().catch(() => undefined);
    await echo;
    return trips / seconds;
  } finally {
    await env.close().catch(() => undefined);
  }
}

/** The raw limit: node:net ping-pong with u64 BE length framing, no SP logic at all. */
async function rawRoundTrips(durationMs: number): Promise<number> {
  const frame = new Uint8Array(8 + MESSAGE_BYTES);
  frame[7] = MESSAGE_BYTES;
  const server = net.createServer((sock) => {
    sock.setNoDelay(true);
    let buf: Buffer = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      while (buf.length >= 8) {
        const len = Number(buf.readBigUInt64BE(0));
        if (buf.length < 8 + len) break;
        sock.write(buf.subarray(0, 8 + len));
        buf = buf.subarray(8 + len);
      }
    });
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as net.AddressInfo).port;
  const client = net.connect(port, '127.0.0.1');
  client.setNoDelay(true);
  await new Promise<void>((res) => client.once('connect', res));
  let pending: (() => void) | undefined;
  let have = 0;
  client.on('data', (d: Buffer) => {
    have += d.length;
    while (have >= frame.length) {
      have -= frame.length;
      const p = pending;
      pending = undefined;
      p?.();
    }
  });
  const trip = (): Promise<void> =>
    new Promise<void>((res) => {
      pending = res;
      client.write(frame);
    });
  for (let i = 0; i < 200; i++) await trip();
  let trips = 0;
  const t0 = performance.now();
  const end = t0 + durationMs;
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++) await trip();
    trips += 100;
  }
  const seconds = (performance.now() - t0) / 1000;
  client.destroy();
  await new Promise<void>((res) => server.close(() => res()));
  return trips / seconds;
}

export interface SpBenchResult {
  bench: 'sp';
  workload: string;
  pair0RoundTripsPerSec: number;
  rawRoundTripsPerSec: number;
  /** pair0 / raw; goal >= 0.7. */
  ratioPair0ToRaw: number;
  decode64KiBBytesPerSec: number;
  memcpyBytesPerSec: number;
  /** goal >= 0.9 */
  ratioDecodeToMemcpy: number;
  /** goal >= 5 000 000 */
  decode16BFramesPerSec: number;
  codecWorkload: string;
  codec: Record<string, unknown>;
  goals: { pair0ToRaw: boolean; decodeToMemcpy: boolean; decode16BFrames: boolean };
  meetsGoal: boolean;
  nodeVersion: string;
}

export async function runSpBench(options: SpBenchOptions = {}): Promise<SpBenchResult> {
  const durationMs = options.durationMs ?? 2000;
  const repeats = options.repeats ?? 3;
  let pair0 = 0;
  let raw = 0;
  // Interleaved so a slow patch of the machine hits both alike.
  for (let i = 0; i < repeats; i++) {
    raw = Math.max(raw, await rawRoundTrips(durationMs));
    pair0 = Math.max(pair0, await pair0RoundTrips(durationMs));
  }
  const codec = runCodecBench();
  const ratio = pair0 / raw;
  const goals = {
    pair0ToRaw: ratio >= 0.7,
    decodeToMemcpy: codec.ratioDecodeToMemcpy >= 0.9,
    decode16BFrames: codec.decode16BFramesPerSec >= 5_000_000,
  };
  return {
    bench: 'sp',
    workload: `${MESSAGE_BYTES}-byte ping-pong over real loopback TCP, one connection, ${durationMs} ms per measurement, best of ${repeats}; PAIR0 on the real runtime vs bare node:net with the same u64 framing`,
    pair0RoundTripsPerSec: Math.round(pair0),
    rawRoundTripsPerSec: Math.round(raw),
    ratioPair0ToRaw: Number(ratio.toFixed(3)),
    decode64KiBBytesPerSec: Math.round(codec.decode64KiBBytesPerSec),
    memcpyBytesPerSec: Math.round(codec.memcpyBytesPerSec),
    ratioDecodeToMemcpy: Number(codec.ratioDecodeToMemcpy.toFixed(3)),
    decode16BFramesPerSec: Math.round(codec.decode16BFramesPerSec),
    codecWorkload: codec.workload,
    codec: { ...codec },
    goals,
    meetsGoal: Object.values(goals).every(Boolean),
    nodeVersion: process.version,
  };
}
