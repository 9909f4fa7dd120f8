/**
 * `netlab bench reactor`: two measures, each against a baseline taken in the same run.
 *
 * 1. Ping-pong: 64-byte messages over real loopback TCP, one message outstanding per connection, on
 *    1 and on 10 connections. Server: the reactor echo (`netlab serve echo-reactor`, a child
 *    process) vs a bare node:net echo (a tiny script, a child process). Client: the same node:net
 *    code in this process for both. Within a round the two are measured in alternating 100 ms
 *    slices on warm connections (a slow patch of a shared machine hits both); the median of the
 *    rounds of each is reported. The reactor's write-interest registrations come from its `--json` summary at exit,
 *    divided by the messages it echoed.
 * 2. LinkBuffer parse, in process: length-prefixed frames (u32 length, then 64 B or 64 KiB) parsed
 *    out of 64 KiB reads with InputBuffer (peekU32BE / skip / next / release) vs the idiomatic Node
 *    approach (keep the chunks, Buffer.concat once a frame is complete, subarray within a chunk).
 *    Allocations per frame are the PagePool's fresh pages plus one-off (oversize) arrays, counted
 *    after a warm-up pass (steady state).
 *
 * Node only (loaded on demand by ./index.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { InputBuffer } from '../../../impl/reactor/link-buffer.js';
import { PagePool } from '../../../impl/reactor/pages.js';
import { packageRoot } from '../../../bin/package-root.js';

export const MESSAGE_BYTES = 64;
/** Connections of the multi-connection ping-pong. */
export const MANY_CONNECTIONS = 10;
/** Round trips per connection before timing starts (connection set-up and JIT warm-up). */
const WARMUP_TRIPS = 300;
/** Ping-pong measurements alternate raw and reactor in slices of this long. */
const SLICE_MS = 100;
/** Round trips between two looks at the wall clock. */
const TRIPS_PER_CHECK = 20;
/** Each read the parse benchmark feeds: 64 KiB. */
export const READ_BYTES = 64 * 1024;
/** Bytes of frames per parse pass (a whole number of frames, cut into READ_BYTES reads). */
const PARSE_STREAM_BYTES = 4 * 1024 * 1024;
/** Bounds on the child servers: listening within this, exiting within this after SIGTERM. */
const SERVER_START_TIMEOUT_MS = 15_000;
const SERVER_STOP_TIMEOUT_MS = 10_000;

export const GOALS = {
  ratioReactorToRaw: 0.9,
  ratioReactor10ToRaw: 0.9,
  writeInterestRegistrationsPerMessage: 0.01,
  ratioLinkBufferToConcat: 1.0,
  /** "No allocation per frame in steady state": below one per thousand frames. */
  linkBufferAllocationsPerFrame: 0.001,
} as const;

export interface ReactorBenchOptions {
  /** Wall time per measurement in ms (default 1000). */
  durationMs?: number;
  /** Alternating rounds; the median of each side is reported (default 3, at least 3). */
  repeats?: number;
}

export interface ReactorBenchRound {
  rawRoundTripsPerSec: number;
  reactorRoundTripsPerSec: number;
  raw10RoundTripsPerSec: number;
  reactor10RoundTripsPerSec: number;
  concat64BFramesPerSec: number;
  linkBuffer64BFramesPerSec: number;
  concat64KiBFramesPerSec: number;
  linkBuffer64KiBFramesPerSec: number;
}

export interface ReactorBenchResult {
  bench: 'reactor';
  workload: string;
  reactorRoundTripsPerSec: number;
  rawRoundTripsPerSec: number;
  ratioReactorToRaw: number;
  reactor10RoundTripsPerSec: number;
  raw10RoundTripsPerSec: number;
  ratioReactor10ToRaw: number;
  writeInterestRegistrationsPerMessage: number;
  ratioLinkBufferToConcat64B: number;
  ratioLinkBufferToConcat64KiB: number;
  /** The worse of the two frame sizes (64 B and 64 KiB), steady state. */
  linkBufferAllocationsPerFrame: number;
  rounds: (ReactorBenchRound & {
    linkBufferAllocationsPerFrame64B: number;
    linkBufferAllocationsPerFrame64KiB: number;
  })[];
  goals: {
    reactorToRaw: boolean;
    reactor10ToRaw: boolean;
    writeInterest: boolean;
    linkBuffer64B: boolean;
    linkBuffer64KiB: boolean;
    linkBufferAllocations: boolean;
  };
  meetsGoal: boolean;
  nodeVersion: string;
}

// ---------------------------------------------------------------------------------------------
// Child servers

/** The raw baseline: a bare node:net echo, printing the same `listening URL` line as netlab serve. */
const RAW_ECHO_SCRIPT = `
const net = require('node:net');
const server = net.createServer({ allowHalfOpen: true }, (s) => {
  s.setNoDelay(true);
  s.on('data', (d) => s.write(d));
  s.on('end', () => s.end());
  s.on('error', () => {});
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write('listening tcp://127.0.0.1:' + server.address().port + '\\n');
});
process.on('SIGTERM', () => process.exit(0));
`;

interface ChildServer {
  child: ChildProcess;
  port: number;
  /** stdout after the `listening` line, collected until exit. */
  stdout(): string;
  stop(): Promise<void>;
}

function startChild(command: string, args: string[]): Promise<ChildServer> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(`${args.join(' ')}: no 'listening' line within ${SERVER_START_TIMEOUT_MS} ms: ${err}`),
      );
    }, SERVER_START_TIMEOUT_MS);
    const onData = (): void => {
      const m = /^listening tcp:\/\/127\.0\.0\.1:(\d+)\n/.exec(out);
      if (m === null) return;
      clearTimeout(timer);
      child.stdout.off('data', onData);
      const line = m[0].length;
      resolve({
        child,
        port: Number(m[1]),
        stdout: () => out.slice(line),
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          const kill = setTimeout(() => child.kill('SIGKILL'), SERVER_STOP_TIMEOUT_MS);
          await exited;
          clearTimeout(kill);
        },
      });
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${args.join(' ')} exited (${String(code)}) before listening: ${err}`));
    });
  });
}

function startReactorServer(): Promise<ChildServer> {
  const netlab = join(packageRoot(), 'bin', 'netlab');
  return startChild(process.execPath, [
    netlab,
    'serve',
    'echo-reactor',
    '--listen',
    'tcp://127.0.0.1:0',
    '--json',
    '--drain-timeout',
    '1s',
  ]);
}

function startRawServer(): Promise<ChildServer> {
  return startChild(process.execPath, ['-e', RAW_ECHO_SCRIPT]);
}

// ---------------------------------------------------------------------------------------------
// The client (the same for both servers)

interface PingPonger {
  trip(): Promise<void>;
  close(): void;
}

async function openPingPonger(port: number): Promise<PingPonger> {
  const sock = net.connect({ host: '127.0.0.1', port, noDelay: true });
  sock.on('error', () => undefined);
  await new Promise<void>((res, rej) => {
    sock.once('connect', res);
    sock.once('error', rej);
  });
  const message = Buffer.alloc(MESSAGE_BYTES, 7);
  let pending: (() => void) | undefined;
  let have = 0;
  sock.on('data', (d: Buffer) => {
    have += d.length;
    while (have >= MESSAGE_BYTES) {
      have -= MESSAGE_BYTES;
      const p = pending;
      pending = undefined;
      p?.();
    }
  });
  return {
    trip: () =>
      new Promise<void>((res) => {
        pending = res;
        sock.write(message);
      }),
    close: () => sock.destroy(),
  };
}

interface Measured {
  perSec: number;
  /** Round trips made, warm-up included (the reactor's write-interest figure divides by them). */
  trips: number;
}

/** Round trips made by `clients` (one message outstanding on each) during `ms`, and the time taken. */
async function timedTrips(
  clients: readonly PingPonger[],
  ms: number,
): Promise<{ trips: number; ms: number }> {
  let trips = 0;
  const t0 = performance.now();
  const end = t0 + ms;
  await Promise.all(
    clients.map(async (c) => {
      while (performance.now() < end) {
        for (let i = 0; i < TRIPS_PER_CHECK; i++) await c.trip();
        trips += TRIPS_PER_CHECK;
      }
    }),
  );
  return { trips, ms: performance.now() - t0 };
}

/**
 * Round trips per second over `connections` connections to each server, one message outstanding
 * on each: both sets of connections are opened and warmed up, then measured in alternating slices
 * (raw, reactor, raw, ...) of SLICE_MS, so a slow patch of a shared machine hits both alike.
 */
async function pingPongPair(
  rawPort: number,
  reactorPort: number,
  connections: number,
  durationMs: number,
): Promise<{ raw: Measured; reactor: Measured }> {
  const open = (port: number): Promise<PingPonger[]> =>
    Promise.all(Array.from({ length: connections }, () => openPingPonger(port)));
  const rawClients = await open(rawPort);
  const reactorClients = await open(reactorPort);
  const warm = async (clients: readonly PingPonger[]): Promise<void> => {
    await Promise.all(
      clients.map(async (c) => {
        for (let i = 0; i < WARMUP_TRIPS; i++) await c.trip();
      }),
    );
  };
  await warm(rawClients);
  await warm(reactorClients);
  const slices = Math.max(1, Math.ceil(durationMs / SLICE_MS));
  const sliceMs = durationMs / slices;
  const raw = { trips: 0, ms: 0 };
  const reactor = { trips: 0, ms: 0 };
  for (let i = 0; i < slices; i++) {
    const r = await timedTrips(rawClients, sliceMs);
    raw.trips += r.trips;
    raw.ms += r.ms;
    const e = await timedTrips(reactorClients, sliceMs);
    reactor.trips += e.trips;
    reactor.ms += e.ms;
  }
  for (const c of [...rawClients, ...reactorClients]) c.close();
  const warmTrips = connections * WARMUP_TRIPS;
  return {
    raw: { perSec: raw.trips / (raw.ms / 1000), trips: raw.trips + warmTrips },
    reactor: { perSec: reactor.trips / (reactor.ms / 1000), trips: reactor.trips + warmTrips },
  };
}

// ---------------------------------------------------------------------------------------------
// The LinkBuffer parse benchmark

/** A stream of whole frames of `payloadBytes` each (u32 big-endian length first), cut into reads. */
export function frameReads(payloadBytes: number): { reads: Buffer[]; frames: number } {
  const frameBytes = 4 + payloadBytes;
  const frames = Math.max(1, Math.floor(PARSE_STREAM_BYTES / frameBytes));
  const stream = Buffer.alloc(frames * frameBytes);
  for (let f = 0; f < frames; f++) {
    const at = f * frameBytes;
    stream.writeUInt32BE(payloadBytes, at);
    stream[at + 4] = f & 0xff;
    stream[at + frameBytes - 1] = (f * 7) & 0xff;
  }
  const reads: Buffer[] = [];
  for (let at = 0; at < stream.length; at += READ_BYTES) reads.push(stream.subarray(at, at + READ_BYTES));
  return { reads, frames };
}

/** A frame parser fed reads; `feed` returns a checksum of what it parsed (first and last byte of each frame). */
interface FrameParser {
  feed(read: Buffer): number;
}

/** InputBuffer: append the read, peekU32BE / skip / next per complete frame, release at the end of the read. */
export function linkBufferParser(pool: PagePool): FrameParser {
  const input = new InputBuffer(pool, { maxBytes: 64 * 1024 * 1024 });
  return {
    feed(read) {
      input.append(read);
      let sum = 0;
      while (input.length >= 4) {
        const len = input.peekU32BE();
        if (input.length < 4 + len) break;
        input.skip(4);
        const frame = input.next(len);
        sum += frame[0]! + frame[len - 1]!;
      }
      input.release();
      return sum;
    },
  };
}

/** The idiomatic Node parser: keep the chunks; subarray within one, Buffer.concat once a frame is complete across several. */
export function concatParser(): FrameParser {
  let chunks: Buffer[] = [];
  let total = 0;
  return {
    feed(read) {
      chunks.push(read);
      total += read.length;
      let sum = 0;
      for (;;) {
        if (total < 4) break;
        let head = chunks[0]!;
        if (head.length < 4) {
          head = Buffer.concat(chunks);
          chunks = [head];
        }
        const len = head.readUInt32BE(0);
        const need = 4 + len;
        if (total < need) break;
        let frame: Buffer;
        if (head.length >= need) {
          frame = head.subarray(4, need);
          if (head.length === need) chunks.shift();
          else chunks[0] = head.subarray(need);
        } else {
          // The frame straddles reads: join exactly its bytes, keep the rest of the last read.
          const parts: Buffer[] = [];
          let taken = 0;
          while (taken < need) {
            const c = chunks[0]!;
            const want = need - taken;
            if (c.length <= want) {
              parts.push(c);
              taken += c.length;
              chunks.shift();
            } else {
              parts.push(c.subarray(0, want));
              chunks[0] = c.subarray(want);
              taken += want;
            }
          }
          frame = Buffer.concat(parts, need).subarray(4);
        }
        total -= need;
        sum += frame[0]! + frame[len - 1]!;
      }
      return sum;
    },
  };
}

/** Both parsers see the same frames in one pass (else the comparison would be meaningless). */
export function checkParsersAgree(reads: readonly Buffer[]): void {
  const lb = linkBufferParser(new PagePool());
  const cc = concatParser();
  let a = 0;
  let b = 0;
  for (const r of reads) {
    a += lb.feed(r);
    b += cc.feed(r);
  }
  if (a !== b) throw new Error(`parsers disagree: LinkBuffer checksum ${a}, concat ${b}`);
}

interface ParseMeasure {
  framesPerSec: number;
  /** Fresh pool pages plus one-off arrays per frame after the warm-up pass (LinkBuffer only). */
  allocationsPerFrame: number;
  checksum: number;
}

function measureParse(
  reads: readonly Buffer[],
  framesPerPass: number,
  make: (pool: PagePool) => FrameParser,
  durationMs: number,
): ParseMeasure {
  const pool = new PagePool();
  const parser = make(pool);
  let checksum = 0;
  for (const r of reads) checksum += parser.feed(r); // warm-up pass: pages come into the pool
  const before = pool.stats;
  let frames = 0;
  const t0 = performance.now();
  const end = t0 + durationMs;
  do {
    for (const r of reads) checksum += parser.feed(r);
    frames += framesPerPass;
  } while (performance.now() < end);
  const seconds = (performance.now() - t0) / 1000;
  const after = pool.stats;
  const allocations =
    after.allocatedPages - before.allocatedPages + (after.oversizeAllocations - before.oversizeAllocations);
  return { framesPerSec: frames / seconds, allocationsPerFrame: allocations / frames, checksum };
}

// ---------------------------------------------------------------------------------------------

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const ratio = (a: number, b: number): number => Number((a / b).toFixed(3));

export async function runReactorBench(options: ReactorBenchOptions = {}): Promise<ReactorBenchResult> {
  const durationMs = options.durationMs ?? 1000;
  const repeats = Math.max(3, options.repeats ?? 3);
  const small = frameReads(64);
  const large = frameReads(64 * 1024);
  for (const { reads } of [small, large]) checkParsersAgree(reads);
  const rounds: ReactorBenchResult['rounds'] = [];
  let reactorMessages = 0;
  const raw = await startRawServer();
  let reactor: ChildServer | undefined;
  let summary: { writeInterestRegistrations?: number; bytesOut?: number };
  try {
    reactor = await startReactorServer();
    for (let i = 0; i < repeats; i++) {
      const one = await pingPongPair(raw.port, reactor.port, 1, durationMs);
      const many = await pingPongPair(raw.port, reactor.port, MANY_CONNECTIONS, durationMs);
      const [raw1, reactor1, raw10, reactor10] = [one.raw, one.reactor, many.raw, many.reactor];
      reactorMessages += reactor1.trips + reactor10.trips;
      const c64 = measureParse(small.reads, small.frames, () => concatParser(), durationMs);
      const l64 = measureParse(small.reads, small.frames, linkBufferParser, durationMs);
      const c64k = measureParse(large.reads, large.frames, () => concatParser(), durationMs);
      const l64k = measureParse(large.reads, large.frames, linkBufferParser, durationMs);
      rounds.push({
        rawRoundTripsPerSec: Math.round(raw1.perSec),
        reactorRoundTripsPerSec: Math.round(reactor1.perSec),
        raw10RoundTripsPerSec: Math.round(raw10.perSec),
        reactor10RoundTripsPerSec: Math.round(reactor10.perSec),
        concat64BFramesPerSec: Math.round(c64.framesPerSec),
        linkBuffer64BFramesPerSec: Math.round(l64.framesPerSec),
        concat64KiBFramesPerSec: Math.round(c64k.framesPerSec),
        linkBuffer64KiBFramesPerSec: Math.round(l64k.framesPerSec),
        linkBufferAllocationsPerFrame64B: l64.allocationsPerFrame,
        linkBufferAllocationsPerFrame64KiB: l64k.allocationsPerFrame,
      });
    }
    await reactor.stop();
    const lines = reactor.stdout().trim().split('\n');
    summary = JSON.parse(lines[lines.length - 1] ?? '{}') as typeof summary;
  } finally {
    await reactor?.stop();
    await raw.stop();
  }
  const med = (k: keyof ReactorBenchRound): number => median(rounds.map((r) => r[k]));
  const reactor1 = med('reactorRoundTripsPerSec');
  const raw1 = med('rawRoundTripsPerSec');
  const reactor10 = med('reactor10RoundTripsPerSec');
  const raw10 = med('raw10RoundTripsPerSec');
  const wiPerMessage = Number(((summary.writeInterestRegistrations ?? NaN) / reactorMessages).toPrecision(3));
  const alloc = Math.max(
    ...rounds.map((r) => Math.max(r.linkBufferAllocationsPerFrame64B, r.linkBufferAllocationsPerFrame64KiB)),
  );
  const result = {
    reactorRoundTripsPerSec: Math.round(reactor1),
    rawRoundTripsPerSec: Math.round(raw1),
    ratioReactorToRaw: ratio(reactor1, raw1),
    reactor10RoundTripsPerSec: Math.round(reactor10),
    raw10RoundTripsPerSec: Math.round(raw10),
    ratioReactor10ToRaw: ratio(reactor10, raw10),
    writeInterestRegistrationsPerMessage: wiPerMessage,
    ratioLinkBufferToConcat64B: ratio(med('linkBuffer64BFramesPerSec'), med('concat64BFramesPerSec')),
    ratioLinkBufferToConcat64KiB: ratio(med('linkBuffer64KiBFramesPerSec'), med('concat64KiBFramesPerSec')),
    linkBufferAllocationsPerFrame: Number(alloc.toPrecision(3)),
  };
  const goals = {
    reactorToRaw: result.ratioReactorToRaw >= GOALS.ratioReactorToRaw,
    reactor10ToRaw: result.ratioReactor10ToRaw >= GOALS.ratioReactor10ToRaw,
    writeInterest: result.writeInterestRegistrationsPerMessage <= GOALS.writeInterestRegistrationsPerMessage,
    linkBuffer64B: result.ratioLinkBufferToConcat64B >= GOALS.ratioLinkBufferToConcat,
    linkBuffer64KiB: result.ratioLinkBufferToConcat64KiB >= GOALS.ratioLinkBufferToConcat,
    linkBufferAllocations: result.linkBufferAllocationsPerFrame <= GOALS.linkBufferAllocationsPerFrame,
  };
  return {
    bench: 'reactor',
    workload: `${MESSAGE_BYTES}-byte ping-pong over real loopback TCP on 1 and ${MANY_CONNECTIONS} connections (one message outstanding on each), ${durationMs} ms per side per round in alternating ${SLICE_MS} ms slices after ${WARMUP_TRIPS} warm-up trips per connection, median of ${repeats} rounds: \`netlab serve echo-reactor\` vs a bare node:net echo, each in its own process, the same node:net client in the bench process; LinkBuffer parse: u32-length-prefixed 64 B and 64 KiB frames out of ${READ_BYTES / 1024} KiB reads, InputBuffer (peekU32BE/skip/next/release, default 8 KiB pages) vs keep-the-chunks + Buffer.concat once a frame is complete + subarray within a chunk`,
    ...result,
    rounds,
    goals,
    meetsGoal: Object.values(goals).every(Boolean),
    nodeVersion: process.version,
  };
}
