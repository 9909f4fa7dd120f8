/**
 * `netlab bench NAME`: runs a benchmark that measures its own baseline in the same run. `sim` is the
 * engine's own; every other comes from a stack (StackPlugin.benches).
 */
import { runSimBench } from '../../bench/sim.js';
import type { AnyStack, BenchDef } from '../../scenarios/stack.js';
import { LAB } from '../lab.js';
import { EXIT_FINDING, EXIT_OK, intFlag, parseFlags, printJson, UsageError, type Command } from './common.js';
import { selectStacks } from './run.js';

function goalsLine(goals: Record<string, boolean>): string {
  const missed = Object.entries(goals)
    .filter(([, ok]) => !ok)
    .map(([k]) => k);
  return missed.length === 0 ? '  all goals met' : `  GOALS MISSED: ${missed.join(', ')}`;
}

/** The engine's benchmark: the scheduler and the simulated network against a bare loop. */
const SIM_BENCH: BenchDef = {
  name: 'sim',
  summary: `scheduler events/s vs a bare event-queue loop (fast and strict modes), and the simulated
network (100 echoing connections with loss, chunking and partial writes) vs the same bare loop`,
  flags: [
    { name: 'events', help: 'scheduler events per measured run', defaultValue: 2_000_000, min: 10_000 },
    { name: 'strict-events', help: 'events per strict-mode run', defaultValue: 300_000, min: 1_000 },
    {
      name: 'net-seconds',
      help: 'virtual seconds of the network workload per run',
      defaultValue: 20,
      min: 1,
      max: 3600,
    },
  ],
  async run({ repeats, flags }) {
    const result = await runSimBench({
      events: flags.events!,
      strictEvents: flags['strict-events']!,
      netVirtualSeconds: flags['net-seconds']!,
      repeats,
    });
    const fmt = (n: number): string => `${(n / 1e6).toFixed(2)} M events/s`;
    const text = [
      `bench sim (${result.nodeVersion})`,
      `  workload:  ${result.workload}`,
      `  bare loop: ${fmt(result.bareEventsPerSec)}  (baseline)`,
      `  scheduler: ${fmt(result.schedulerEventsPerSec)}  fast mode, ratio ${result.ratioSchedulerToBare} (goal >= ${result.goalRatioSchedulerToBare})`,
      `  strict:    ${fmt(result.strictEventsPerSec)}  yield after every event`,
      `  network:   ${result.netWorkload}`,
      `             ${fmt(result.netEventsPerSec)} (goal >= 1.50, and ratio ${result.ratioNetToBare} to bare, goal >= 0.3)`,
      `             ${result.netRoundTripsPerWallSec} round trips/s, ${result.virtualSecondsPerWallSecond} virtual s per wall s (goal >= 10)`,
      goalsLine(result.goals),
    ].join('\n');
    return { result, meetsGoal: result.meetsGoal, text };
  },
};

/** Every benchmark of the given stacks, the engine's first, each with the stack it belongs to. */
function benchesOf(stacks: readonly AnyStack[]): { stack: string | null; bench: BenchDef }[] {
  return [
    { stack: null, bench: SIM_BENCH },
    ...stacks.flatMap((s) => (s.benches ?? []).map((bench) => ({ stack: s.id, bench }))),
  ];
}

function helpText(): string {
  const all = benchesOf(LAB.stacks);
  const lines = ['Benchmarks (stack in brackets; sim is the engine):'];
  // Names padded to the longest one, so a summary never runs into its name.
  const nameWidth = Math.max(...all.map(({ bench }) => bench.name.length)) + 2;
  for (const { stack, bench } of all) {
    const [first, ...rest] = bench.summary.split('\n');
    lines.push(`  ${bench.name.padEnd(nameWidth)}${stack === null ? '' : `[${stack}] `}${first ?? ''}`);
    for (const r of rest) lines.push(`  ${' '.repeat(nameWidth)}${r}`);
  }
  lines.push(
    '',
    '  --json            print one JSON object (figures, baselines, ratios, goals)',
    '  --repeats N       measured repetitions, best reported (default 3)',
    '  --enforce         exit 1 when a goal is missed (default: report only)',
    '  --list            print every benchmark name with its stack, one per line, and exit',
    "  --stack ID[,ID]   only these stacks' benchmarks (for --list; default: all)",
  );
  for (const { bench } of all) {
    if (bench.flags.length === 0) continue;
    lines.push(`  ${bench.name} only:`);
    for (const f of bench.flags)
      lines.push(`  --${`${f.name} N`.padEnd(16)}${f.help} (default ${f.defaultValue})`);
  }
  return lines.join('\n');
}

export const benchCommand: Command = {
  name: 'bench',
  summary: `run a benchmark against its baseline (${benchesOf(LAB.stacks)
    .map((b) => b.bench.name)
    .join(', ')})`,
  usage: `usage: netlab bench NAME [--json] [--repeats N] [--enforce] [options]
       netlab bench --list [--stack ID[,ID]]

${helpText()}`,
  async run(argv) {
    const all = benchesOf(LAB.stacks);
    const flagSpec: Record<string, { type: 'string' } | { type: 'boolean' }> = {
      json: { type: 'boolean' },
      repeats: { type: 'string' },
      enforce: { type: 'boolean' },
      list: { type: 'boolean' },
      stack: { type: 'string' },
    };
    for (const { bench } of all) for (const f of bench.flags) flagSpec[f.name] = { type: 'string' };
    const { values, positionals } = parseFlags(argv, flagSpec, true);
    const v = values as Record<string, string | boolean | undefined>;
    const selected = benchesOf(selectStacks(v.stack as string | undefined));
    if (v.list === true) {
      process.stdout.write(selected.map((b) => `${b.bench.name}\t${b.stack ?? 'engine'}`).join('\n') + '\n');
      return EXIT_OK;
    }
    const name = positionals[0];
    const found = selected.find((b) => b.bench.name === name);
    if (positionals.length !== 1 || found === undefined) {
      throw new UsageError(
        `expected one benchmark name (${selected.map((b) => b.bench.name).join(', ')}), got ${positionals.join(' ') || 'none'}`,
      );
    }
    const bench = found.bench;
    for (const { bench: other } of all) {
      if (other === bench) continue;
      for (const f of other.flags)
        if (v[f.name] !== undefined && !bench.flags.some((g) => g.name === f.name))
          throw new UsageError(`--${f.name} applies to bench ${other.name}, not ${bench.name}`);
    }
    const repeats = intFlag('repeats', v.repeats as string | undefined, 3, 1, 100);
    const flags: Record<string, number> = {};
    for (const f of bench.flags)
      flags[f.name] = intFlag(f.name, v[f.name] as string | undefined, f.defaultValue, f.min, f.max);
    const outcome = await bench.run({ repeats, flags });
    if (v.json === true) printJson(outcome.result);
    else process.stdout.write(outcome.text + '\n');
    return v.enforce === true && !outcome.meetsGoal ? EXIT_FINDING : EXIT_OK;
  },
};
