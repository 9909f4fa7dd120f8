/**
 * `netlab bench sp`: PAIR0 and REQ/REP 64-byte round trips over real loopback TCP against the raw
 * limit (a bare node:net ping-pong with the same u64 framing and no SP logic), measured in the same
 * run; REQ/REP over the simulated network per wall second; the frame decoder against memcpy
 * (scenarios/sp/bench/sp-codec.ts); PUSH/PULL one-way throughput for 64-byte and 1 MiB messages against a bare
 * node:net pipelined stream with the same framing, also measured in the same run.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Env } from '../../../impl/runtime/env.js';
import { createNodeEnv } from '../../../impl/runtime/node.js';
import type { Socket } from '../../../impl/sp/core/socket.js';
import { openPair0 } from '../../../impl/sp/protocol/pair0.js';
import { openPull0, openPush0 } from '../../../impl/sp/protocol/pipeline.js';
import { openRep0 } from '../../../impl/sp/protocol/rep0.js';
import { openReq0 } from '../../../impl/sp/protocol/req0.js';
import { Network } from '../../../sim/net.js';
import { World } from '../../../sim/world.js';
import { runCodecBench } from './sp-codec.js';

const MESSAGE_BYTES = 64;
/** Round trips before timing starts, so connection setup and JIT warm-up stay out of the figure. */
const WARMUP_TRIPS = 200;
/** Round trips between two looks at the wall clock. */
const TRIPS_PER_BATCH = 100;

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
    const echo = echoLoop(server);
    const perSec = await timeRoundTrips(client, durationMs);
    await client.close();
    await server.close().catch(() => undefined);
    await echo;
    return perSec;
  } finally {
    await env.close().catch(() => undefined);
  }
}

/**
 * Sends every message back until the socket closes: the server side of every ping-pong (recv, then
 * send, which is also the lockstep REP requires).
 */
async function echoLoop(server: Socket): Promise<void> {
  for (;;) {
    let request: Uint8Array;
    try {
      request = await server.recv();
    } catch {
      return; // closed: the measurement is over
    }
    try {
      await server.send(request);
    } catch {
      return;
    }
  }
}

/**
 * Client round trips (send, then wait for the echo) for durationMs of wall time after a warm-up.
 * Returns round trips per wall second.
 */
async function timeRoundTrips(client: Socket, durationMs: number): Promise<number> {
  const msg = new Uint8Array(MESSAGE_BYTES).fill(7);
  for (let i = 0; i < WARMUP_TRIPS; i++) {
    await client.send(msg);
    await client.recv();
  }
  let trips = 0;
  const t0 = performance.now();
  const end = t0 + durationMs;
  while (performance.now() < end) {
    for (let i = 0; i < TRIPS_PER_BATCH; i++) {
      await client.send(msg);
      await client.recv();
    }
    trips += TRIPS_PER_BATCH;
  }
  return trips / ((performance.now() - t0) / 1000);
}

/** REQ/REP ping-pong on the real runtime over loopback TCP: round trips per second. */
async function reqRepRoundTrips(durationMs: number): Promise<number> {
  const env = createNodeEnv({ seed: 'bench-sp-reqrep', hostName: 'bench' });
  try {
    const rep = openRep0(env);
    const listener = rep.newListener('tcp://127.0.0.1:0');
    await listener.listen();
    const req = openReq0(env);
    await req.dial(listener.address);
    const echo = echoLoop(rep);
    const perSec = await timeRoundTrips(req, durationMs);
    await req.close();
    await rep.close().catch(() => undefined);
    await echo;
    return perSec;
  } finally {
    await env.close().catch(() => undefined);
  }
}

/**
 * The same REQ/REP ping-pong between two hosts of the simulated network (default link), the world
 * driven until the work settles as the runtime parity suite does: round trips per wall second, i.e.
 * what the simulator costs per exchange, not a virtual-time rate.
 */
async function simReqRepRoundTrips(durationMs: number): Promise<number> {
  const world = new World({ seed: 'bench-sp-sim' });
  const network = new Network(world);
  const server: Env = network.addHost('server').env;
  const client: Env = network.addHost('client').env;
  const work = async (): Promise<number> => {
    const rep = openRep0(server);
    await rep.listen('tcp://server:5555');
    const req = openReq0(client);
    await req.dial('tcp://server:5555');
    const echo = echoLoop(rep);
    const perSec = await timeRoundTrips(req, durationMs);
    await req.close();
    await rep.close();
    await echo;
    return perSec;
  };
  let settled = false;
  const result = work().finally(() => {
    settled = true;
    world.stop(); // nothing else should be left, but a stray timer must not keep the bench running
  });
  while (!settled) {
    const run = await world.run({ maxEvents: 50_000_000 });
    await new Promise<void>((res) => setImmediate(res)); // let the finally() above run
    if (!settled && run.reason === 'idle')
      throw new Error(`simulated REQ/REP stuck at t=${run.nowUs}us with nothing left to run`);
  }
  return result;
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

/** The large message of the PUSH/PULL throughput pair. */
const LARGE_MESSAGE_BYTES = 1 << 20;

/** Messages received before a one-way throughput measurement starts (connection setup and JIT warm-up). */
function warmupMessages(bytes: number): number {
  return bytes >= LARGE_MESSAGE_BYTES ? 32 : 20_000;
}

/**
 * Counts what a receiver gets: after `warmup` messages it notes the time, and `durationMs` later it
 * reports messages per wall second over the measured stretch.
 */
function throughputMeter(warmup: number, durationMs: number) {
  let count = 0;
  let t0 = 0;
  let counted0 = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let finish: ((perSec: number) => void) | undefined;
  const done = new Promise<number>((res) => (finish = res));
  return {
    done,
    /** Called once per received message; returns false once the measurement is over. */
    tick(): boolean {
      count++;
      if (count === warmup) {
        t0 = performance.now();
        counted0 = count;
        timer = setTimeout(() => {
          timer = undefined;
          finish?.((count - counted0) / ((performance.now() - t0) / 1000));
          finish = undefined;
        }, durationMs);
      }
      return finish !== undefined;
    },
    cancel(): void {
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}

/**
 * PUSH -> PULL over real loopback TCP (both netlab sockets on the real runtime, in this process, as
 * the raw pair below): the pusher sends as fast as send() accepts, the puller receives; messages per
 * wall second at the puller.
 */
export async function pushPullThroughput(bytes: number, durationMs: number): Promise<number> {
  const env = createNodeEnv({ seed: 'bench-sp-pipeline', hostName: 'bench' });
  try {
    const pull = openPull0(env, { options: { 'MAX-RCV-SIZE': 0 } });
    const listener = pull.newListener('tcp://127.0.0.1:0');
    await listener.listen();
    const push = openPush0(env);
    await push.dial(listener.address);
    const meter = throughputMeter(warmupMessages(bytes), durationMs);
    const msg = new Uint8Array(bytes).fill(7);
    let stop = false;
    const sender = (async () => {
      while (!stop) {
        try {
          await push.send(msg);
        } catch {
          return;
        }
      }
    })();
    const receiver = (async () => {
      for (;;) {
        try {
          await pull.recvMsg(); // the message itself: recv() would add a promise to unwrap the body
        } catch {
          return;
        }
        if (!meter.tick()) return;
      }
    })();
    const perSec = await meter.done;
    stop = true;
    await receiver;
    push.setOption('LINGER', 0);
    await push.close();
    await sender;
    await pull.close();
    return perSec;
  } finally {
    await env.close().catch(() => undefined);
  }
}

/**
 * The raw limit of a one-way stream: bare node:net, the same u64 BE framing, the writer writing frames
 * back to back until write() asks it to wait for 'drain', the reader cutting the stream into frames
 * and handing each on as one contiguous buffer (a copy only when a frame spans chunks, as any framed
 * reader). No SP handshake, queues or promises. Messages per wall second at the reader.
 */
export async function rawPipelinedThroughput(bytes: number, durationMs: number): Promise<number> {
  const meter = throughputMeter(warmupMessages(bytes), durationMs);
  let stop = false;
  const server = net.createServer((sock) => {
    let chunks: Buffer[] = [];
    let have = 0;
    let need = -1; // payload bytes of the frame being read; -1 while its header is incomplete
    let sink = 0;
    sock.on('data', (d: Buffer) => {
      chunks.push(d);
      have += d.length;
      for (;;) {
        if (need < 0) {
          if (have < 8) return;
          const head = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
          need = Number(head.readBigUInt64BE(0));
          chunks = head.length > 8 ? [head.subarray(8)] : [];
          have -= 8;
        }
        if (have < need) return;
        const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
        const frame = all.subarray(0, need);
        sink ^= frame[frame.length - 1] ?? 0; // "use" the message
        chunks = all.length > need ? [all.subarray(need)] : [];
        have -= need;
        need = -1;
        if (!meter.tick()) {
          stop = true;
          sock.destroy();
          return;
        }
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () => void sink);
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as net.AddressInfo).port;
  const client = net.connect(port, '127.0.0.1');
  client.setNoDelay(true);
  client.on('error', () => undefined);
  await new Promise<void>((res) => client.once('connect', res));
  const header = Buffer.alloc(8);
  header.writeBigUInt64BE(BigInt(bytes));
  const payload = Buffer.alloc(bytes, 7);
  // Small frames go out as one buffer (as netlab's pipe writes them), large ones as header + body.
  const small = bytes <= 4096 ? Buffer.concat([header, payload]) : undefined;
  const writer = (async () => {
    while (!stop && !client.destroyed) {
      let more: boolean;
      // The buffers are never changed, so writing the same ones again is safe (no copy).
      if (small !== undefined) more = client.write(small);
      else {
        client.write(header);
        more = client.write(payload);
      }
      if (!more)
        await new Promise<void>((res) => {
          const go = (): void => {
            client.off('drain', go).off('close', go);
            res();
          };
          client.on('drain', go).on('close', go);
        });
    }
  })();
  const perSec = await meter.done;
  stop = true;
  client.destroy();
  await writer;
  await new Promise<void>((res) => server.close(() => res()));
  return perSec;
}

export interface SpBenchResult {
  bench: 'sp';
  workload: string;
  pair0RoundTripsPerSec: number;
  rawRoundTripsPerSec: number;
  /** pair0 / raw; goal >= 0.7. */
  ratioPair0ToRaw: number;
  reqRepPerSec: number;
  /** The raw ping-pong of the same run (= rawRoundTripsPerSec), the baseline of reqRepPerSec. */
  rawReqRepPerSec: number;
  /** reqRep / raw; goal >= 0.7. */
  ratioReqRepToRaw: number;
  /** REQ/REP round trips over the simulated network (two hosts, default link) per wall second. */
  simReqRepPerWallSec: number;
  /** PUSH -> PULL, 64-byte messages, one-way over loopback TCP: messages per second at the puller. */
  pushPull64PerSec: number;
  /** The raw limit of the same run: bare node:net pipelined stream, same framing, 64-byte messages. */
  rawPipelined64PerSec: number;
  /** pushPull64 / rawPipelined64; goal >= 0.6. */
  ratioPushPull64ToRaw: number;
  /** PUSH -> PULL, 1 MiB messages: payload bytes per second at the puller. */
  pushPull1MiBBytesPerSec: number;
  /** The raw limit of the same run for 1 MiB messages: payload bytes per second. */
  raw1MiBBytesPerSec: number;
  /** pushPull1MiB / raw1MiB; goal >= 0.8. */
  ratioPushPull1MiBToRaw: number;
  pipelineWorkload: string;
  decode64KiBBytesPerSec: number;
  memcpyBytesPerSec: number;
  /** goal >= 0.9 */
  ratioDecodeToMemcpy: number;
  /** goal >= 5 000 000 */
  decode16BFramesPerSec: number;
  codecWorkload: string;
  codec: Record<string, unknown>;
  goals: {
    pair0ToRaw: boolean;
    reqRepToRaw: boolean;
    decodeToMemcpy: boolean;
    decode16BFrames: boolean;
    pushPull64ToRaw: boolean;
    pushPull1MiBToRaw: boolean;
  };
  meetsGoal: boolean;
  nodeVersion: string;
}

export async function runSpBench(options: SpBenchOptions = {}): Promise<SpBenchResult> {
  const durationMs = options.durationMs ?? 2000;
  const repeats = options.repeats ?? 3;
  let pair0 = 0;
  let reqRep = 0;
  let raw = 0;
  let simReqRep = 0;
  let raw64 = 0;
  let pushPull64 = 0;
  let raw1MiB = 0;
  let pushPull1MiB = 0;
  // Interleaved so a slow patch of the machine hits all alike.
  for (let i = 0; i < repeats; i++) {
    raw = Math.max(raw, await rawRoundTrips(durationMs));
    pair0 = Math.max(pair0, await pair0RoundTrips(durationMs));
    reqRep = Math.max(reqRep, await reqRepRoundTrips(durationMs));
    simReqRep = Math.max(simReqRep, await simReqRepRoundTrips(durationMs));
    raw64 = Math.max(raw64, await rawPipelinedThroughput(MESSAGE_BYTES, durationMs));
    pushPull64 = Math.max(pushPull64, await pushPullThroughput(MESSAGE_BYTES, durationMs));
    raw1MiB = Math.max(raw1MiB, await rawPipelinedThroughput(LARGE_MESSAGE_BYTES, durationMs));
    pushPull1MiB = Math.max(pushPull1MiB, await pushPullThroughput(LARGE_MESSAGE_BYTES, durationMs));
  }
  const codec = runCodecBench();
  const ratio = pair0 / raw;
  const ratioReqRep = reqRep / raw;
  const goals = {
    pair0ToRaw: ratio >= 0.7,
    reqRepToRaw: ratioReqRep >= 0.7,
    decodeToMemcpy: codec.ratioDecodeToMemcpy >= 0.9,
    decode16BFrames: codec.decode16BFramesPerSec >= 5_000_000,
    pushPull64ToRaw: pushPull64 / raw64 >= 0.6,
    pushPull1MiBToRaw: pushPull1MiB / raw1MiB >= 0.8,
  };
  return {
    bench: 'sp',
    workload: `${MESSAGE_BYTES}-byte ping-pong over real loopback TCP, one connection, ${durationMs} ms per measurement, best of ${repeats}; PAIR0 and REQ/REP (REP echoing) on the real runtime vs bare node:net with the same u64 framing; REQ/REP also between two simulated hosts (default link), per wall second`,
    pair0RoundTripsPerSec: Math.round(pair0),
    rawRoundTripsPerSec: Math.round(raw),
    ratioPair0ToRaw: Number(ratio.toFixed(3)),
    reqRepPerSec: Math.round(reqRep),
    rawReqRepPerSec: Math.round(raw),
    ratioReqRepToRaw: Number(ratioReqRep.toFixed(3)),
    simReqRepPerWallSec: Math.round(simReqRep),
    pushPull64PerSec: Math.round(pushPull64),
    rawPipelined64PerSec: Math.round(raw64),
    ratioPushPull64ToRaw: Number((pushPull64 / raw64).toFixed(3)),
    pushPull1MiBBytesPerSec: Math.round(pushPull1MiB * LARGE_MESSAGE_BYTES),
    raw1MiBBytesPerSec: Math.round(raw1MiB * LARGE_MESSAGE_BYTES),
    ratioPushPull1MiBToRaw: Number((pushPull1MiB / raw1MiB).toFixed(3)),
    pipelineWorkload: `one-way streams over real loopback TCP, one connection, ${durationMs} ms per measurement after a warm-up, best of ${repeats}: netlab PUSH -> PULL (send as fast as send() accepts, default queues) vs bare node:net writing u64-framed messages until write() asks for 'drain', the reader cutting frames; ${MESSAGE_BYTES}-byte and 1 MiB messages`,
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
