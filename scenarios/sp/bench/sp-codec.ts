/**
 * The SP frame decoder's speed against its bare limit, memcpy, measured in the same run.
 *
 * Baseline (memcpyBytesPerSec): the same wire bytes, in the same 64 KiB chunks, copied with
 * Uint8Array.prototype.set into one preallocated buffer: the least any decoder that must assemble
 * frames can do. Decoding a 64 KiB frame that straddles two reads costs an allocation plus that copy;
 * a frame whole inside one chunk costs no copy at all (a subarray view), so both cases are reported.
 * A third figure decodes straddling frames into the very buffer the memcpy baseline writes to (an
 * allocator carving it up), separating the decoder's own cost from the cost of fresh memory.
 */
import { performance } from 'node:perf_hooks';
import { createNodeEnv } from '../../../impl/runtime/node.js';
import { encodeFrameHeader, FrameDecoder, type Allocator } from '../../../impl/sp/wire/frames.js';

export interface CodecBenchOptions {
  /** 64 KiB frames per measured pass (default 512 = 32 MiB of payload). */
  frames64KiB?: number;
  /** 16-byte frames per measured pass (default 1 000 000). */
  frames16B?: number;
  /** Bytes per chunk handed to the decoder, as one socket read (default 65536). */
  readBytes?: number;
  /** Unmeasured passes before measuring (default 3). */
  warmups?: number;
  /** Measured passes; the best is reported (default 15: a pass takes only milliseconds). */
  repeats?: number;
}

export interface CodecBenchResult {
  workload: string;
  /** Headline: 64 KiB frames read in readBytes chunks; every frame straddles a read (= decode64KiBStraddlingBytesPerSec). */
  decode64KiBBytesPerSec: number;
  /** 64 KiB frames that straddle reads: allocation + copy per frame. */
  decode64KiBStraddlingBytesPerSec: number;
  /** 64 KiB frames each whole in its own chunk: zero copy (subarray views). An upper bound, not a copy speed. */
  decode64KiBWholeChunkBytesPerSec: number;
  /** As straddling, but bodies are carved from the memcpy baseline's preallocated buffer: the decoder's own overhead. */
  decode64KiBPreallocatedBytesPerSec: number;
  /**
   * As straddling, with the allocator the real runtime's pipes use (Env.allocUninitialized:
   * Buffer.allocUnsafeSlow, not zeroed) instead of new Uint8Array.
   */
  decode64KiBRuntimeAllocBytesPerSec: number;
  /** Set() of the same wire bytes in the same readBytes chunks into a preallocated buffer. */
  memcpyBytesPerSec: number;
  /** decode64KiBBytesPerSec / memcpyBytesPerSec (goal >= 0.9). */
  ratioDecodeToMemcpy: number;
  /** decode64KiBPreallocatedBytesPerSec / memcpyBytesPerSec: like for like, both writing into the same warm buffer. */
  ratioPreallocatedToMemcpy: number;
  /** decode64KiBWholeChunkBytesPerSec / memcpyBytesPerSec: far above 1 because nothing is copied. */
  ratioWholeChunkToMemcpy: number;
  /** decode64KiBRuntimeAllocBytesPerSec / memcpyBytesPerSec. */
  ratioRuntimeAllocToMemcpy: number;
  /** 16-byte payloads (24 wire bytes each) packed back to back, fed in readBytes chunks (goal >= 5 M/s). */
  decode16BFramesPerSec: number;
  readBytes: number;
  repeats: number;
  nodeVersion: string;
}

const FRAME_64KIB = 64 * 1024;
const HEADER_BYTES = 8;

/** `count` frames of `payloadBytes` each, back to back, with a recognisable fill. */
function wireStream(count: number, payloadBytes: number): Uint8Array {
  const frameBytes = HEADER_BYTES + payloadBytes;
  const wire = new Uint8Array(count * frameBytes);
  const header = encodeFrameHeader(payloadBytes);
  for (let i = 0; i < count; i++) {
    const at = i * frameBytes;
    wire.set(header, at);
    wire.fill(i & 0xff, at + HEADER_BYTES, at + frameBytes);
  }
  return wire;
}

/** Views of `wire` cut every `chunkBytes` bytes: the reads a socket would deliver. */
function chunked(wire: Uint8Array, chunkBytes: number): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < wire.length; at += chunkBytes) chunks.push(wire.subarray(at, at + chunkBytes));
  return chunks;
}

/** Best wall seconds of each variant over `repeats` rounds of one pass each (after `warmups` rounds). */
function bestSecondsInterleaved(
  warmups: number,
  repeats: number,
  runs: Record<string, () => number>,
): Record<string, number> {
  const expected: Record<string, number> = {};
  const best: Record<string, number> = {};
  for (let round = 0; round < warmups + repeats; round++) {
    for (const [name, run] of Object.entries(runs)) {
      const t0 = performance.now();
      const sum = run();
      const seconds = (performance.now() - t0) / 1000;
      expected[name] ??= sum;
      if (sum !== expected[name])
        throw new Error(`bench checksum of ${name} changed: ${sum} != ${expected[name]}`);
      if (round >= warmups) best[name] = Math.min(best[name] ?? Infinity, seconds);
    }
  }
  return best;
}

/** Best wall seconds of `repeats` passes after `warmups`; `run` returns a checksum that must not vary. */
function bestSeconds(warmups: number, repeats: number, run: () => number): number {
  let expected: number | undefined;
  const check = (sum: number): void => {
    expected ??= sum;
    if (sum !== expected) throw new Error(`bench checksum changed: ${sum} != ${expected}`);
  };
  for (let i = 0; i < warmups; i++) check(run());
  let best = Infinity;
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    const sum = run();
    best = Math.min(best, (performance.now() - t0) / 1000);
    check(sum);
  }
  return best;
}

/** Decodes every chunk with a fresh decoder; the checksum touches each payload so none is optimised away. */
function decodeRun(chunks: readonly Uint8Array[], allocator?: Allocator): number {
  const d = new FrameDecoder(allocator === undefined ? {} : { allocator });
  let sum = 0;
  const onFrame = (p: Uint8Array): void => {
    sum += p.length + (p.length === 0 ? 0 : p[p.length - 1]!);
  };
  for (const c of chunks) d.feed(c, onFrame);
  if (d.bufferedBytes !== 0) throw new Error('bench stream ended mid-frame');
  return sum;
}

function memcpyRun(chunks: readonly Uint8Array[], into: Uint8Array): number {
  let at = 0;
  for (const c of chunks) {
    into.set(c, at);
    at += c.length;
  }
  return at + into[at - 1]!;
}

export function runCodecBench(options: CodecBenchOptions = {}): CodecBenchResult {
  const frames64KiB = options.frames64KiB ?? 512;
  const frames16B = options.frames16B ?? 1_000_000;
  const readBytes = options.readBytes ?? 65536;
  const warmups = options.warmups ?? 3;
  const repeats = options.repeats ?? 30;

  const wire64 = wireStream(frames64KiB, FRAME_64KIB);
  const reads64 = chunked(wire64, readBytes);
  const whole64 = chunked(wire64, HEADER_BYTES + FRAME_64KIB);
  const copyInto = new Uint8Array(wire64.length);
  const wire16 = wireStream(frames16B, 16);
  const reads16 = chunked(wire16, readBytes);

  // The 64 KiB variants run interleaved, one pass of each per round, so a slow patch of the machine
  // or a garbage collection triggered by one variant's allocations hits them all alike.
  let carvedBytes = 0;
  const carve: Allocator = {
    alloc: (bytes) => copyInto.subarray(carvedBytes, (carvedBytes += bytes)),
  };
  // Only its allocator is used (no socket, no timer): the env holds nothing that needs closing.
  const runtime = createNodeEnv({ seed: 'bench-codec', hostName: 'bench' });
  const runtimeAlloc: Allocator = { alloc: (bytes) => runtime.allocUninitialized(bytes) };
  const best64 = bestSecondsInterleaved(warmups, repeats, {
    memcpy: () => memcpyRun(reads64, copyInto),
    straddle: () => decodeRun(reads64),
    preallocated: () => {
      carvedBytes = 0;
      return decodeRun(reads64, carve);
    },
    whole: () => decodeRun(whole64),
    runtimeAlloc: () => decodeRun(reads64, runtimeAlloc),
  });
  const memcpySec = best64.memcpy!;
  const straddleSec = best64.straddle!;
  const preallocatedSec = best64.preallocated!;
  const wholeSec = best64.whole!;
  const runtimeAllocSec = best64.runtimeAlloc!;
  const small16Sec = bestSeconds(warmups, repeats, () => decodeRun(reads16));

  const memcpyBytesPerSec = wire64.length / memcpySec;
  const straddling = wire64.length / straddleSec;
  const whole = wire64.length / wholeSec;
  const preallocated = wire64.length / preallocatedSec;
  const runtimeAllocated = wire64.length / runtimeAllocSec;
  return {
    workload:
      `${frames64KiB} frames of 64 KiB (${wire64.length} wire bytes) read in ${readBytes}-byte chunks ` +
      `(each frame straddles a read: alloc + copy) vs set() of the same chunks into a preallocated buffer; ` +
      `the same straddling frames decoded into that preallocated buffer, and with the real runtime's unzeroed allocator; the same frames one per chunk (zero copy); ${frames16B} 16-byte frames in ${readBytes}-byte chunks; ` +
      `default allocator, fresh decoder per pass, best of ${repeats} after ${warmups} warm-ups`,
    decode64KiBBytesPerSec: straddling,
    decode64KiBStraddlingBytesPerSec: straddling,
    decode64KiBWholeChunkBytesPerSec: whole,
    decode64KiBPreallocatedBytesPerSec: preallocated,
    decode64KiBRuntimeAllocBytesPerSec: runtimeAllocated,
    memcpyBytesPerSec,
    ratioDecodeToMemcpy: straddling / memcpyBytesPerSec,
    ratioPreallocatedToMemcpy: preallocated / memcpyBytesPerSec,
    ratioWholeChunkToMemcpy: whole / memcpyBytesPerSec,
    ratioRuntimeAllocToMemcpy: runtimeAllocated / memcpyBytesPerSec,
    decode16BFramesPerSec: frames16B / small16Sec,
    readBytes,
    repeats,
    nodeVersion: process.version,
  };
}
