/**
 * The echo stack's benchmark (`netlab bench echo`). It loads its Node-only code when run, so the echo
 * plugin stays isomorphic (the browser re-run bundle includes it).
 */
import type { BenchDef } from '../../stack.js';

export const ECHO_BENCH: BenchDef = {
  name: 'echo',
  summary: `64-byte echo round trips over real loopback TCP (netlab's echo requester and server on the
real runtime) vs a bare node:net ping-pong with the same framing; median of alternating rounds`,
  flags: [
    {
      name: 'duration-ms',
      help: 'wall time per round-trip measurement',
      defaultValue: 1000,
      min: 50,
      max: 600_000,
    },
  ],
  async run({ repeats, flags }) {
    const { GOAL_RATIO, runEchoBench } = await import('./echo.js');
    const result = await runEchoBench({ durationMs: flags['duration-ms']!, repeats });
    const text = [
      `bench echo (${result.nodeVersion})`,
      `  workload: ${result.workload}`,
      `  raw node:net ping-pong: ${result.rawRoundTripsPerSec} round trips/s  (baseline)`,
      `  netlab echo:            ${result.echoRoundTripsPerSec} round trips/s, ratio ${result.ratioEchoToRaw} (goal >= ${GOAL_RATIO})`,
      `  rounds (raw / echo):    ${result.rounds.map((r) => `${r.rawRoundTripsPerSec} / ${r.echoRoundTripsPerSec}`).join(', ')}`,
      result.meetsGoal ? '  all goals met' : '  GOALS MISSED: echoToRaw',
    ].join('\n');
    return { result, meetsGoal: result.meetsGoal, text };
  },
};

export const ECHO_BENCHES: readonly BenchDef[] = [ECHO_BENCH];
