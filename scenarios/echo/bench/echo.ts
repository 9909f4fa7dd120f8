/**
 * `netlab bench echo`: 64-byte echo round trips over real loopback TCP with netlab's echo stack (a
 * requester against an echo server, impl/echo/ on the real runtime) against the raw limit measured
 * in the same run: a bare node:net ping-pong with the same framing (u32 length, 4-byte request id,
 * 64-byte body) and no protocol logic. Rounds alternate raw and echo so a slow patch of the machine
 * hits both alike; the median of each is reported. Node only (loaded on demand by ./index.ts).
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { FRAME_HEADER_BYTES, startEchoServer } from '../../../impl/echo/echo.js';
import { openEchoRequester, REQUEST_ID_BYTES } from '../../../impl/echo/requester.js';
import { createNodeEnv } from '../../../impl/runtime/node.js';

export const MESSAGE_BYTES = 64;
/** Round trips before timing starts (connection set-up and JIT warm-up stay out of the figure). */
const WARMUP_TRIPS = 500;
/** Round trips between two looks at the wall clock. */
const TRIPS_PER_BATCH = 100;
/** The goal: netlab's echo at least half the raw ping-pong's round trips per second. */
export const GOAL_RATIO = 0.5;

export interface EchoBenchOptions {
  /** Wall time per measurement in ms (default 1000). */
  durationMs?: number;
  /** Alternating rounds (raw, then echo); the median of each is reported (default 3). */
  repeats?: number;
}

export interface EchoBenchResult {
  bench: 'echo';
  workload: string;
  /** netlab echo: requester against echo server, median round trips per second. */
  echoRoundTripsPerSec: number;
  /** The baseline: bare node:net ping-pong with the same framing, median round trips per second. */
  rawRoundTripsPerSec: number;
  /** echo / raw; goal >= 0.5. */
  ratioEchoToRaw: number;
  /** Every round's figures, in the order measured. */
  rounds: { rawRoundTripsPerSec: number; echoRoundTripsPerSec: number }[];
  goals: { echoToRaw: boolean };
  meetsGoal: boolean;
  nodeVersion: string;
}

/** Calls `trip` for durationMs of wall time after a warm-up: round trips per wall second. */
async function timeTrips(trip: () => Promise<unknown>, durationMs: number): Promise<number> {
  for (let i = 0; i < WARMUP_TRIPS; i++) await trip();
  let trips = 0;
  const t0 = performance.now();
  const end = t0 + durationMs;
  while (performance.now() < end) {
    for (let i = 0; i < TRIPS_PER_BATCH; i++) await trip();
    trips += TRIPS_PER_BATCH;
  }
  return trips / ((performance.now() - t0) / 1000);
}

/** netlab's requester against netlab's echo server, one request outstanding at a time. */
async function echoRoundTrips(durationMs: number): Promise<number> {
  const env = createNodeEnv({ seed: 'bench-echo', hostName: 'bench' });
  try {
    const server = await startEchoServer(env, 'tcp://127.0.0.1:0');
    const requester = openEchoRequester(env, server.address);
    const body = new Uint8Array(MESSAGE_BYTES).fill(7);
    const perSec = await timeTrips(() => requester.request(body), durationMs);
    requester.close();
    server.close();
    return perSec;
  } finally {
    await env.close().catch(() => undefined);
  }
}

/** The raw limit: node:net ping-pong, the same u32-framed 68-byte payload, an echoing server. */
async function rawRoundTrips(durationMs: number): Promise<number> {
  const payloadBytes = REQUEST_ID_BYTES + MESSAGE_BYTES;
  const frame = Buffer.alloc(FRAME_HEADER_BYTES + payloadBytes, 7);
  frame.writeUInt32BE(payloadBytes, 0);
  const server = net.createServer((sock) => {
    sock.setNoDelay(true);
    let buf: Buffer = Buffer.alloc(0);
    sock.on('data', (d: Buffer) => {
      buf = buf.length === 0 ? d : Buffer.concat([buf, d]);
      while (buf.length >= FRAME_HEADER_BYTES) {
        const len = buf.readUInt32BE(0);
        if (buf.length < FRAME_HEADER_BYTES + len) break;
        sock.write(buf.subarray(0, FRAME_HEADER_BYTES + len));
        buf = buf.subarray(FRAME_HEADER_BYTES + len);
      }
    });
    sock.on('error', () => undefined);
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as net.AddressInfo).port;
  const client = net.connect(port, '127.0.0.1');
  client.setNoDelay(true);
  client.on('error', () => undefined);
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
  const perSec = await timeTrips(trip, durationMs);
  client.destroy();
  await new Promise<void>((res) => server.close(() => res()));
  return perSec;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export async function runEchoBench(options: EchoBenchOptions = {}): Promise<EchoBenchResult> {
  const durationMs = options.durationMs ?? 1000;
  const repeats = Math.max(3, options.repeats ?? 3);
  const rounds: EchoBenchResult['rounds'] = [];
  for (let i = 0; i < repeats; i++) {
    const raw = await rawRoundTrips(durationMs);
    const echo = await echoRoundTrips(durationMs);
    rounds.push({ rawRoundTripsPerSec: Math.round(raw), echoRoundTripsPerSec: Math.round(echo) });
  }
  const raw = median(rounds.map((r) => r.rawRoundTripsPerSec));
  const echo = median(rounds.map((r) => r.echoRoundTripsPerSec));
  const ratio = echo / raw;
  const goals = { echoToRaw: ratio >= GOAL_RATIO };
  return {
    bench: 'echo',
    workload: `${MESSAGE_BYTES}-byte echo round trips over real loopback TCP, one connection, one request at a time, ${durationMs} ms per measurement after ${WARMUP_TRIPS} warm-up trips, median of ${repeats} alternating rounds: netlab's echo requester and server (impl/echo on the real runtime) vs bare node:net with the same framing (u32 length + 4-byte id + ${MESSAGE_BYTES}-byte body)`,
    echoRoundTripsPerSec: Math.round(echo),
    rawRoundTripsPerSec: Math.round(raw),
    ratioEchoToRaw: Number(ratio.toFixed(3)),
    rounds,
    goals,
    meetsGoal: Object.values(goals).every(Boolean),
    nodeVersion: process.version,
  };
}
