/**
 * The reactor's benchmark (`netlab bench reactor`). It loads its Node-only code when run, so the
 * reactor plugin stays isomorphic.
 */
import type { BenchDef } from '../../stack.js';

export const REACTOR_BENCH: BenchDef = {
  name: 'reactor',
  summary: `64-byte ping-pong over real loopback on 1 and 10 connections: netlab serve echo-reactor vs a
bare node:net echo (separate processes, the same client); LinkBuffer frame parsing (64 B and 64 KiB
frames out of 64 KiB reads) vs Buffer.concat; median of alternating rounds`,
  flags: [
    {
      name: 'duration-ms',
      help: 'wall time per measurement',
      defaultValue: 1000,
      min: 50,
      max: 600_000,
    },
  ],
  async run({ repeats, flags }) {
    const { GOALS, runReactorBench } = await import('./reactor.js');
    const r = await runReactorBench({ durationMs: flags['duration-ms']!, repeats });
    const missed = Object.entries(r.goals)
      .filter(([, ok]) => !ok)
      .map(([k]) => k);
    const text = [
      `bench reactor (${r.nodeVersion})`,
      `  workload: ${r.workload}`,
      `  1 connection:   raw ${r.rawRoundTripsPerSec} round trips/s (baseline), reactor ${r.reactorRoundTripsPerSec}, ratio ${r.ratioReactorToRaw} (goal >= ${GOALS.ratioReactorToRaw})`,
      `  10 connections: raw ${r.raw10RoundTripsPerSec} round trips/s (baseline), reactor ${r.reactor10RoundTripsPerSec}, ratio ${r.ratioReactor10ToRaw} (goal >= ${GOALS.ratioReactor10ToRaw})`,
      `  write-interest registrations per message: ${r.writeInterestRegistrationsPerMessage} (goal <= ${GOALS.writeInterestRegistrationsPerMessage})`,
      `  LinkBuffer / concat: 64 B frames ${r.ratioLinkBufferToConcat64B}, 64 KiB frames ${r.ratioLinkBufferToConcat64KiB} (goal >= ${GOALS.ratioLinkBufferToConcat})`,
      `  LinkBuffer allocations per frame (steady state): ${r.linkBufferAllocationsPerFrame} (goal <= ${GOALS.linkBufferAllocationsPerFrame})`,
      `  rounds: ${JSON.stringify(r.rounds)}`,
      missed.length === 0 ? '  all goals met' : `  GOALS MISSED: ${missed.join(', ')}`,
    ].join('\n');
    return { result: r, meetsGoal: r.meetsGoal, text };
  },
};

export const REACTOR_BENCHES: readonly BenchDef[] = [REACTOR_BENCH];
