/**
 * The SP stack's benchmarks (`netlab bench sp`, `netlab bench fuzz`). Each loads its Node-only code
 * when run, so the SP plugin stays isomorphic (the browser re-run bundle includes it).
 */
import type { BenchDef } from '../../stack.js';

function goalsLine(goals: Record<string, boolean>): string {
  const missed = Object.entries(goals)
    .filter(([, ok]) => !ok)
    .map(([k]) => k);
  return missed.length === 0 ? '  all goals met' : `  GOALS MISSED: ${missed.join(', ')}`;
}

export const SP_BENCH: BenchDef = {
  name: 'sp',
  summary: `PAIR0 and REQ/REP 64-byte round trips over real loopback TCP vs a bare node:net ping-pong
with the same framing; REQ/REP over the simulated network per wall second; the SP frame
decoder vs memcpy, and 16-byte frames per second; PUSH/PULL one-way throughput (64 B and
1 MiB messages) vs a bare node:net pipelined stream with the same framing`,
  flags: [
    {
      name: 'duration-ms',
      help: 'wall time per round-trip measurement',
      defaultValue: 2000,
      min: 50,
      max: 600_000,
    },
  ],
  async run({ repeats, flags }) {
    const { runSpBench } = await import('./sp.js');
    const result = await runSpBench({ durationMs: flags['duration-ms']!, repeats });
    const m = (n: number): string => `${(n / 1e6).toFixed(2)} M`;
    const text = [
      `bench sp (${result.nodeVersion})`,
      `  workload: ${result.workload}`,
      `  raw node:net ping-pong: ${result.rawRoundTripsPerSec} round trips/s  (baseline)`,
      `  PAIR0:                  ${result.pair0RoundTripsPerSec} round trips/s, ratio ${result.ratioPair0ToRaw} (goal >= 0.7)`,
      `  REQ/REP:                ${result.reqRepPerSec} round trips/s, ratio ${result.ratioReqRepToRaw} to raw ${result.rawReqRepPerSec} (goal >= 0.7)`,
      `  REQ/REP, simulated:     ${result.simReqRepPerWallSec} round trips per wall s (two hosts, default link)`,
      `  pipeline: ${result.pipelineWorkload}`,
      `  raw stream, 64 B:       ${result.rawPipelined64PerSec} messages/s  (baseline)`,
      `  PUSH/PULL, 64 B:        ${result.pushPull64PerSec} messages/s, ratio ${result.ratioPushPull64ToRaw} (goal >= 0.6)`,
      `  raw stream, 1 MiB:      ${m(result.raw1MiBBytesPerSec)}B/s  (baseline)`,
      `  PUSH/PULL, 1 MiB:       ${m(result.pushPull1MiBBytesPerSec)}B/s, ratio ${result.ratioPushPull1MiBToRaw} (goal >= 0.8)`,
      `  decoder, 64 KiB frames: ${m(result.decode64KiBBytesPerSec)}B/s vs memcpy ${m(result.memcpyBytesPerSec)}B/s, ratio ${result.ratioDecodeToMemcpy} (goal >= 0.9)`,
      `  decoder, 16 B frames:   ${m(result.decode16BFramesPerSec)} frames/s (goal >= 5 M)`,
      goalsLine(result.goals),
    ].join('\n');
    return { result, meetsGoal: result.meetsGoal, text };
  },
};

export const FUZZ_BENCH: BenchDef = {
  name: 'fuzz',
  summary: 'netlab fuzz sp-frame execs/s vs decode-only of the same inputs (same chunks and limits)',
  flags: [
    {
      name: 'execs',
      help: 'fuzz execs per measured run',
      defaultValue: 200_000,
      min: 1_000,
      max: 100_000_000,
    },
  ],
  async run({ repeats, flags }) {
    const { runFuzzBench } = await import('./fuzz.js');
    const result = await runFuzzBench({ execs: flags.execs!, repeats });
    const k = (n: number): string => `${Math.round(n / 1000)} k`;
    const text = [
      `bench fuzz (${result.nodeVersion})`,
      `  workload:    ${result.workload}`,
      `  inputs:      ${result.avgInputBytes.toFixed(1)} bytes and ${result.avgChunks.toFixed(2)} chunks on average; corpus ${result.corpusSize}, coverage ${result.coverageSlots} slots`,
      `  decode-only: ${k(result.decodeOnlyPerSec)} inputs/s  (baseline)`,
      `  fuzzer:      ${k(result.execsPerSec)} execs/s (goal >= 200 k), ratio ${result.ratioFuzzToDecodeOnly.toFixed(2)} (goal >= 0.3)`,
      goalsLine(result.goals),
    ].join('\n');
    return { result, meetsGoal: result.meetsGoal, text };
  },
};

export const SP_BENCHES: readonly BenchDef[] = [SP_BENCH, FUZZ_BENCH];
