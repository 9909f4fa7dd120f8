/** `netlab demo`: the documented lab demo over the simulated world (see scenarios/demo.ts). */
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runDemo } from '../../scenarios/demo.js';
import { toJsonLines, TRACE_SCHEMA } from '../../sim/trace.js';
import { EXIT_FINDING, EXIT_OK, intFlag, parseFlags, printJson, UsageError, type Command } from './common.js';

export const demoCommand: Command = {
  name: 'demo',
  summary: 'request/resend demo on the simulated world; prints the trace hash',
  usage: `usage: netlab demo [--seed S] [--clients N] [--requests N] [--loss P] [--strict] [--out DIR] [--json]

Clients send requests to a server over simulated links with seeded latency and loss, and resend on
timeout. The same seed always gives the same trace hash.

  --seed S       root seed (default "netlab")
  --clients N    number of clients (default 4)
  --requests N   requests per client (default 25)
  --loss P       one-way loss probability, 0..1 (default 0.05)
  --strict       yield to the host after every event (same hash as the default fast mode)
  --out DIR      write DIR/demo-trace.jsonl (default reports/latest); --out '' writes nothing
  --json         print the result as JSON (without the trace)`,
  async run(argv) {
    const { values } = parseFlags(argv, {
      seed: { type: 'string', default: 'netlab' },
      clients: { type: 'string' },
      requests: { type: 'string' },
      loss: { type: 'string' },
      strict: { type: 'boolean' },
      out: { type: 'string', default: 'reports/latest' },
      json: { type: 'boolean' },
    });
    const loss = values.loss === undefined ? 0.05 : Number(values.loss);
    if (!(loss >= 0 && loss <= 1))
      throw new UsageError(`--loss must be a number in [0, 1], got '${values.loss}'`);
    const result = await runDemo({
      seed: values.seed,
      clients: intFlag('clients', values.clients, 4, 1, 1000),
      requestsPerClient: intFlag('requests', values.requests, 25, 1, 100_000),
      lossRate: loss,
      mode: values.strict ? 'strict' : 'fast',
    });
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
      process.stdout.write(
        [
          `netlab demo  seed=${result.seed}  trace hash ${result.traceHash}`,
          `  ${result.events} events over ${ms(result.virtualUs)} of virtual time`,
          `  messages sent ${result.sent}, lost ${result.lost}; resends ${result.resends}`,
          `  requests completed ${result.completed}, gave up ${result.failed}`,
          `  latency p50 ${ms(result.latencyUs.p50)}  p90 ${ms(result.latencyUs.p90)}  max ${ms(result.latencyUs.max)}`,
          tracePath ? `  trace: ${tracePath} (${result.trace.length} events)` : '  trace: not written',
          `  replay: netlab demo --seed ${JSON.stringify(result.seed)}`,
        ].join('\n') + '\n',
      );
    }
    return result.failed > 0 ? EXIT_FINDING : EXIT_OK;
  },
};
