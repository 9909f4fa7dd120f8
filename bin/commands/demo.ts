/**
 * `netlab demo`: the documented lab demo over the simulated network, a scenario of the echo stack
 * (see scenarios/echo/demo.ts).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runDemo, type DemoOptions, type DemoResult } from '../../scenarios/echo/demo.js';
import { ScenarioError } from '../../scenarios/model.js';
import { parseFaultPlanText } from '../../sim/fault-plan.js';
import { toJsonLines, TRACE_SCHEMA } from '../../sim/trace.js';
import { EXIT_FINDING, EXIT_OK, intFlag, parseFlags, printJson, UsageError, type Command } from './common.js';

export const demoCommand: Command = {
  name: 'demo',
  summary: 'echo sessions over the simulated network under a fault plan; prints the trace hash',
  usage: `usage: netlab demo [--seed S] [--clients N] [--sessions N] [--loss P] [--faults FILE | --swarm]
                   [--strict] [--out DIR] [--json]

Echo clients on several simulated hosts talk to one echo server over a lossy network with random
segmentation and short writes, while a fault plan partitions, pauses, stalls and resets things.
Every session must echo its bytes intact or fail with a typed error; a corrupted reply, or any echo
check of the demo scenario that fails, is a finding (exit 1). The demo is a scenario of the echo
stack run by the lab's runner. The same seed always gives the same trace hash.

  --seed S       root seed (default "netlab")
  --clients N    client hosts (default 4)
  --sessions N   echo sessions per client (default 12)
  --loss P       segment loss probability on every link, 0..1 (default 0.01)
  --faults FILE  a fault plan (JSON, see sim/FAULTS.md) instead of the built-in one
  --swarm        draw the fault plan from the seed (its knobs are printed)
  --strict       yield to the host after every event (same hash as the default fast mode)
  --out DIR      write DIR/demo-trace.jsonl (default reports/latest); --out '' writes nothing
  --json         print the result as JSON (without the trace)`,
  async run(argv) {
    const { values } = parseFlags(argv, {
      seed: { type: 'string', default: 'netlab' },
      clients: { type: 'string' },
      sessions: { type: 'string' },
      loss: { type: 'string' },
      faults: { type: 'string' },
      swarm: { type: 'boolean' },
      strict: { type: 'boolean' },
      out: { type: 'string', default: 'reports/latest' },
      json: { type: 'boolean' },
    });
    const loss = values.loss === undefined ? 0.01 : Number(values.loss);
    if (!(loss >= 0 && loss <= 1))
      throw new UsageError(`--loss must be a number in [0, 1], got '${values.loss}'`);
    if (values.faults !== undefined && values.swarm === true)
      throw new UsageError('--faults and --swarm exclude each other');
    const options: DemoOptions = {
      seed: values.seed,
      clients: intFlag('clients', values.clients, 4, 1, 200),
      sessions: intFlag('sessions', values.sessions, 12, 1, 10_000),
      lossRate: loss,
      mode: values.strict ? 'strict' : 'fast',
      swarm: values.swarm === true,
    };
    if (values.faults !== undefined) {
      let text: string;
      try {
        text = readFileSync(values.faults, 'utf8');
      } catch (e) {
        throw new UsageError(`cannot read --faults ${values.faults}: ${(e as Error).message}`);
      }
      try {
        options.faultPlan = parseFaultPlanText(text);
      } catch (e) {
        throw new UsageError(`bad fault plan ${values.faults}: ${(e as Error).message}`);
      }
    }
    let result: DemoResult;
    try {
      result = await runDemo(options);
    } catch (e) {
      // A given plan that names hosts the demo does not have (client4 with --clients 2...).
      if (e instanceof ScenarioError) throw new UsageError(`the demo scenario is invalid: ${e.message}`);
      throw e;
    }
    let tracePath: string | null = null;
    if (values.out !== '') {
      mkdirSync(values.out, { recursive: true });
      tracePath = join(values.out, 'demo-trace.jsonl');
      // Write then rename, so a killed run never leaves a half-written trace.
      writeFileSync(
        `${tracePath}.tmp`,
        toJsonLines({ schema: TRACE_SCHEMA, seed: result.seed, source: 'netlab demo' }, result.trace),
      );
      renameSync(`${tracePath}.tmp`, tracePath);
    }
    const { trace: _trace, ...summary } = result;
    if (values.json) {
      printJson({ ...summary, tracePath });
    } else {
      const ms = (us: number): string => `${(us / 1000).toFixed(1)} ms`;
      const errs = Object.entries(result.errors)
        .map(([k, v]) => `${k} x${v}`)
        .join(', ');
      process.stdout.write(
        [
          `netlab demo  seed=${result.seed}  trace hash ${result.traceHash}`,
          `  ${result.events} events over ${ms(result.virtualUs)} of virtual time`,
          `  sessions ok ${result.sessionsOk}, failed ${result.sessionsFailed}${errs ? ` (${errs})` : ''}; corrupted ${result.corrupted}`,
          ...result.failedChecks.map((c) => `  FINDING ${c.id}: ${c.actual ?? 'failed'}`),
          `  bytes echoed ${result.bytesEchoed}; segments ${result.net.segments}, retransmissions ${result.net.retransmissions}, ` +
            `partial writes ${result.net.partialWrites}, resets ${result.net.resets}`,
          ...(result.swarmKnobs ? [`  swarm knobs: ${result.swarmKnobs}`] : []),
          '  faults:',
          ...result.faults.map(
            (f) =>
              `    #${f.id} ${f.kind.padEnd(12)} ${f.status.padEnd(7)} ${f.startUs === null ? '' : `at ${ms(f.startUs)}`}` +
              `${f.endUs === null ? '' : ` until ${ms(f.endUs)}`}  ${f.detail}`,
          ),
          tracePath
            ? `  trace: ${tracePath} (${result.trace.length} events${result.droppedTraceEvents ? `, ${result.droppedTraceEvents} oldest dropped` : ''})`
            : '  trace: not written',
          `  replay: netlab demo --seed ${JSON.stringify(result.seed)}${values.swarm ? ' --swarm' : ''}`,
        ].join('\n') + '\n',
      );
    }
    return result.corrupted > 0 || result.failedChecks.length > 0 ? EXIT_FINDING : EXIT_OK;
  },
};
