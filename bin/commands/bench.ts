/** `netlab bench NAME`: runs a benchmark that measures its own baseline in the same run. */
import { runSimBench } from '../../bench/sim.js';
import { EXIT_FINDING, EXIT_OK, intFlag, parseFlags, printJson, UsageError, type Command } from './common.js';

const BENCHES = ['sim'] as const;

export const benchCommand: Command = {
  name: 'bench',
  summary: 'run a benchmark against its baseline (sim)',
  usage: `usage: netlab bench NAME [--json] [--events N] [--strict-events N] [--repeats N] [--enforce]

Benchmarks: ${BENCHES.join(', ')}
  sim   scheduler events/s vs a bare event-queue loop, fast and strict modes

  --json            print one JSON object (figures, baseline and ratio)
  --events N        events per measured run (default 2000000)
  --strict-events N events per strict-mode run (default 300000)
  --repeats N       measured repetitions, best reported (default 3)
  --enforce         exit 1 when the goal ratio is missed (default: report only)`,
  async run(argv) {
    const { values, positionals } = parseFlags(
      argv,
      {
        json: { type: 'boolean' },
        events: { type: 'string' },
        'strict-events': { type: 'string' },
        repeats: { type: 'string' },
        enforce: { type: 'boolean' },
      },
      true,
    );
    const name = positionals[0];
    if (positionals.length !== 1 || name !== 'sim') {
      throw new UsageError(
        `expected one benchmark name (${BENCHES.join(', ')}), got ${positionals.join(' ') || 'none'}`,
      );
    }
    const result = await runSimBench({
      events: intFlag('events', values.events, 2_000_000, 10_000),
      strictEvents: intFlag('strict-events', values['strict-events'], 300_000, 1_000),
      repeats: intFlag('repeats', values.repeats, 3, 1, 100),
    });
    if (values.json) {
      printJson(result);
    } else {
      const fmt = (n: number): string => `${(n / 1e6).toFixed(2)} M events/s`;
      process.stdout.write(
        [
          `bench sim (${result.nodeVersion})`,
          `  workload:  ${result.workload}`,
          `  bare loop: ${fmt(result.bareEventsPerSec)}  (baseline)`,
          `  scheduler: ${fmt(result.schedulerEventsPerSec)}  fast mode, ratio ${result.ratioSchedulerToBare} (goal >= ${result.goalRatioSchedulerToBare})`,
          `  strict:    ${fmt(result.strictEventsPerSec)}  yield after every event`,
          `  ${result.meetsGoal ? 'goal met' : 'GOAL MISSED'}`,
        ].join('\n') + '\n',
      );
    }
    return values.enforce && !result.meetsGoal ? EXIT_FINDING : EXIT_OK;
  },
};
