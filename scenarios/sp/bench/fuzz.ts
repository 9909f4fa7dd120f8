/**
 * `netlab bench fuzz`: the fuzzer's speed on sp-frame against its baseline, measured in the same
 * run: decode-only of the very inputs the fuzzer executed (recorded from a run with the same seed),
 * each fed to a fresh netlab decoder in the same chunks with the same receive limit and a pooled
 * allocator like the fuzzer's, with nothing
 * else done (no mutation, model, oracles, second pass or coverage). Both sides run with V8's stack
 * capture off, as the fuzz loop does (fuzz/engine.ts), so the baseline is not dominated by stack
 * traces of the typed errors most fuzz inputs end in. Goals: >= 200 000 execs/s, >= 0.3 x decode-only.
 */
import { performance } from 'node:perf_hooks';
import { SpError } from '../../../impl/sp/errors.js';
import { FrameDecoder, type Allocator } from '../../../impl/sp/wire/frames.js';
import { runFuzz, withoutStackTraces } from '../../../fuzz/engine.js';
import { chunksOf, type FuzzInput } from '../../../fuzz/input.js';
import { stable } from '../../../fuzz/mutate.js';
import { POOL_BYTES } from '../fuzz/common.js';
import { FRAME_LIMITS, SP_FRAME } from '../fuzz/frames.js';

export interface FuzzBenchOptions {
  /** Execs per measured fuzz run (default 200 000). */
  execs?: number;
  /** Measured rounds, each one fuzz run and one decode-only pass; the best of each is reported (default 3). */
  repeats?: number;
  /** Fuzz seed (default "bench"). */
  seed?: string;
}

export interface FuzzBenchResult {
  workload: string;
  /** Fuzzer execs per second on sp-frame (netlab decoder): mutation, model, two decodes, oracles, coverage. */
  execsPerSec: number;
  /** Baseline: the same inputs decoded once each in their chunks, nothing else. */
  decodeOnlyPerSec: number;
  /** execsPerSec / decodeOnlyPerSec (goal >= 0.3). */
  ratioFuzzToDecodeOnly: number;
  execs: number;
  avgInputBytes: number;
  avgChunks: number;
  corpusSize: number;
  coverageSlots: number;
  crashers: number;
  goals: { execsPerSec: boolean; ratioFuzzToDecodeOnly: boolean };
  meetsGoal: boolean;
  repeats: number;
  nodeVersion: string;
}

const GOAL_EXECS_PER_SEC = 200_000;
const GOAL_RATIO = 0.3;

/**
 * Decodes every input once with a fresh decoder; returns a checksum so nothing is optimised away.
 * Bodies come from one reused pool, as in the fuzzer: with the default allocator a frame announcing
 * 1 MiB would cost a fresh zeroed megabyte per input and the baseline would measure memset.
 */
function decodeOnly(inputs: readonly FuzzInput[], chunks: readonly Uint8Array[][]): number {
  let sum = 0;
  const onFrame = (p: Uint8Array): void => {
    sum += p.length + 1;
  };
  const pool = new Uint8Array(POOL_BYTES);
  let used = 0;
  const allocator: Allocator = {
    alloc(bytes) {
      if (bytes > POOL_BYTES - used) throw new SpError('ErrTooLong', 'beyond the bench pool');
      const out = pool.subarray(used, used + bytes);
      used += bytes;
      return out;
    },
  };
  for (let i = 0; i < inputs.length; i++) {
    const input = inputs[i]!;
    used = 0;
    const d = new FrameDecoder({ maxRecvBytes: FRAME_LIMITS[input.knob % FRAME_LIMITS.length]!, allocator });
    try {
      for (const c of chunks[i]!) d.feed(c, onFrame);
    } catch (e) {
      if (!(e instanceof SpError)) throw e;
      sum += 7;
    }
  }
  return sum;
}

export async function runFuzzBench(options: FuzzBenchOptions = {}): Promise<FuzzBenchResult> {
  const execs = options.execs ?? 200_000;
  const repeats = options.repeats ?? 3;
  const seed = options.seed ?? 'bench';
  const clock = (): number => performance.now();

  // Record what the fuzzer runs (unmeasured): the same seed gives the same inputs in the timed runs.
  const inputs: FuzzInput[] = [];
  const first = await runFuzz({
    target: SP_FRAME,
    seed,
    runs: execs,
    clock,
    onExec: (i) => inputs.push(stable(i)),
  });
  // Chunking is part of each input; split once, outside the timed baseline, as the fuzzer's
  // own chunks are views it makes per exec.
  const chunks = inputs.map(chunksOf);
  let bytes = 0;
  let chunkCount = 0;
  for (let i = 0; i < inputs.length; i++) {
    bytes += inputs[i]!.data.length;
    chunkCount += chunks[i]!.length;
  }

  let bestFuzzSec = Infinity;
  let bestDecodeSec = Infinity;
  let checksum: number | undefined;
  let last = first;
  for (let round = 0; round < repeats + 1; round++) {
    const r = await runFuzz({ target: SP_FRAME, seed, runs: execs, clock });
    if (r.execs !== first.execs)
      throw new Error(`bench fuzz run changed: ${r.execs} execs, first had ${first.execs}`);
    last = r;
    const t0 = clock();
    const sum = await withoutStackTraces(() => Promise.resolve(decodeOnly(inputs, chunks)));
    const decodeSec = (clock() - t0) / 1000;
    checksum ??= sum;
    if (sum !== checksum) throw new Error(`decode-only checksum changed: ${sum} != ${checksum}`);
    // Round 0 warms up both sides.
    if (round === 0) continue;
    bestFuzzSec = Math.min(bestFuzzSec, r.seconds);
    bestDecodeSec = Math.min(bestDecodeSec, decodeSec);
  }
  const execsPerSec = first.execs / bestFuzzSec;
  const decodeOnlyPerSec = inputs.length / bestDecodeSec;
  const ratio = execsPerSec / decodeOnlyPerSec;
  const goals = {
    execsPerSec: execsPerSec >= GOAL_EXECS_PER_SEC,
    ratioFuzzToDecodeOnly: ratio >= GOAL_RATIO,
  };
  return {
    workload:
      `netlab fuzz sp-frame --seed ${seed} --runs ${execs} (netlab decoder) vs decode-only of the ${inputs.length} ` +
      `inputs of its main loop, same chunks and limits, fresh decoder each; stack capture off on both sides; ` +
      `best of ${repeats} after 1 warm-up round`,
    execsPerSec,
    decodeOnlyPerSec,
    ratioFuzzToDecodeOnly: ratio,
    execs: first.execs,
    avgInputBytes: bytes / Math.max(inputs.length, 1),
    avgChunks: chunkCount / Math.max(inputs.length, 1),
    corpusSize: last.corpusSize,
    coverageSlots: last.coverageSlots,
    crashers: last.crashers.length,
    goals,
    meetsGoal: goals.execsPerSec && goals.ratioFuzzToDecodeOnly,
    repeats,
    nodeVersion: process.version,
  };
}
