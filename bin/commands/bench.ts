/** `netlab bench NAME`: runs a benchmark that measures its own baseline in the same run. */
import { runFuzzBench } from '../../bench/fuzz.js';
import { runSimBench } from '../../bench/sim.js';
import { runSpBench } from '../../scenarios/sp/bench/sp.js';
import { EXIT_FINDING, EXIT_OK, intFlag, parseFlags, printJson, UsageError, type Command } from './common.js';

const BENCHES = ['sim', 'sp', 'fuzz'] as const;

function goalsLine(goals: Record<string, boolean>): string {
  const missed = Object.entries(goals)
    .filter(([, ok]) => !ok)
    .map(([k]) => k);
  return missed.length === 0 ? '  all goals met' : `  GOALS MISSED: ${missed.join(', ')}`;
}

export const benchCommand: Command = {
  name: 'bench',
  summary: 'run a benchmark against its baseline (sim, sp, fuzz)',
  usage: `usage: netlab bench NAME [--json] [--repeats N] [--enforce] [options]

Benchmarks:
  sim   scheduler events/s vs a bare event-queue loop (fast and strict modes), and the simulated
        network (100 echoing connections with loss, chunking and partial writes) vs the same bare loop
  sp    PAIR0 and REQ/REP 64-byte round trips over real loopback TCP vs a bare node:net ping-pong
        with the same framing; REQ/REP over the simulated network per wall second; the SP frame
        decoder vs memcpy, and 16-byte frames per second; PUSH/PULL one-way throughput (64 B and
        1 MiB messages) vs a bare node:net pipelined stream with the same framing
  fuzz  netlab fuzz sp-frame execs/s vs decode-only of the same inputs (same chunks and limits)

  --json            print one JSON object (figures, baselines, ratios, goals)
  --repeats N       measured repetitions, best reported (default 3)
  --enforce         exit 1 when a goal is missed (default: report only)
  sim only:
  --events N        scheduler events per measured run (default 2000000)
  --strict-events N events per strict-mode run (default 300000)
  --net-seconds N   virtual seconds of the network workload per run (default 20)
  sp only:
  --duration-ms N   wall time per round-trip measurement (default 2000)
  fuzz only:
  --execs N         fuzz execs per measured run (default 200000)`,
  async run(argv) {
    const { values, positionals } = parseFlags(
      argv,
      {
        json: { type: 'boolean' },
        events: { type: 'string' },
        'strict-events': { type: 'string' },
        'net-seconds': { type: 'string' },
        'duration-ms': { type: 'string' },
        execs: { type: 'string' },
        repeats: { type: 'string' },
        enforce: { type: 'boolean' },
      },
      true,
    );
    const name = positionals[0];
    if (positionals.length !== 1 || (name !== 'sim' && name !== 'sp' && name !== 'fuzz')) {
      throw new UsageError(
        `expected one benchmark name (${BENCHES.join(', ')}), got ${positionals.join(' ') || 'none'}`,
      );
    }
    const repeats = intFlag('repeats', values.repeats, 3, 1, 100);
    let meetsGoal: boolean;
    if (name === 'sim') {
      const result = await runSimBench({
        events: intFlag('events', values.events, 2_000_000, 10_000),
        strictEvents: intFlag('strict-events', values['strict-events'], 300_000, 1_000),
        netVirtualSeconds: intFlag('net-seconds', values['net-seconds'], 20, 1, 3600),
        repeats,
      });
      meetsGoal = result.meetsGoal;
      if (values.json) printJson(result);
      else {
        const fmt = (n: number): string => `${(n / 1e6).toFixed(2)} M events/s`;
        process.stdout.write(
          [
            `bench sim (${result.nodeVersion})`,
            `  workload:  ${result.workload}`,
            `  bare loop: ${fmt(result.bareEventsPerSec)}  (baseline)`,
            `  scheduler: ${fmt(result.schedulerEventsPerSec)}  fast mode, ratio ${result.ratioSchedulerToBare} (goal >= ${result.goalRatioSchedulerToBare})`,
            `  strict:    ${fmt(result.strictEventsPerSec)}  yield after every event`,
            `  network:   ${result.netWorkload}`,
            `             ${fmt(result.netEventsPerSec)} (goal >= 1.50, and ratio ${result.ratioNetToBare} to bare, goal >= 0.3)`,
            `             ${result.netRoundTripsPerWallSec} round trips/s, ${result.virtualSecondsPerWallSecond} virtual s per wall s (goal >= 10)`,
            goalsLine(result.goals),
          ].join('\n') + '\n',
        );
      }
    } else if (name === 'fuzz') {
      const result = await runFuzzBench({
        execs: intFlag('execs', values.execs, 200_000, 1_000, 100_000_000),
        repeats,
      });
      meetsGoal = result.meetsGoal;
      if (values.json) printJson(result);
      else {
        const k = (n: number): string => `${Math.round(n / 1000)} k`;
        process.stdout.write(
          [
            `bench fuzz (${result.nodeVersion})`,
            `  workload:    ${result.workload}`,
            `  inputs:      ${result.avgInputBytes.toFixed(1)} bytes and ${result.avgChunks.toFixed(2)} chunks on average; corpus ${result.corpusSize}, coverage ${result.coverageSlots} slots`,
            `  decode-only: ${k(result.decodeOnlyPerSec)} inputs/s  (baseline)`,
            `  fuzzer:      ${k(result.execsPerSec)} execs/s (goal >= 200 k), ratio ${result.ratioFuzzToDecodeOnly.toFixed(2)} (goal >= 0.3)`,
            goalsLine(result.goals),
          ].join('\n') + '\n',
        );
      }
    } else {
      const result = await runSpBench({
        durationMs: intFlag('duration-ms', values['duration-ms'], 2000, 50, 600_000),
        repeats,
      });
      meetsGoal = result.meetsGoal;
      if (values.json) printJson(result);
      else {
        const m = (n: number): string => `${(n / 1e6).toFixed(2)} M`;
        process.stdout.write(
          [
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
          ].join('\n') + '\n',
        );
      }
    }
    return values.enforce && !meetsGoal ? EXIT_FINDING : EXIT_OK;
  },
};
