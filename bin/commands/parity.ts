/**
 * `netlab parity`: every selected stack's parity suite (StackPlugin.parity) on both runtimes, compared. Exit 0 when
 * every case gives the same outcome (or only declared differences), 1 on an undeclared difference,
 * 2 on a usage error or a side that could not run.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { writeReportHtml } from '../../reports/html.js';
import { createReport, mergeSuiteInto, ReportError, type Report } from '../../reports/schema.js';
import { gitCommit, readReportFile, REPORT_JSON, writeReportFiles } from '../../reports/write.js';
import { parityCasesOf, parityReportCase, runParity } from '../../scenarios/real/parity.js';
import { intFlag, parseFlags, printJson, UsageError, type Command } from './common.js';
import { netlabVersion, selectStacks } from './run.js';

/** The report in DIR, to merge into; one that cannot be read is a usage error naming why. */
function readExisting(dir: string): Report {
  try {
    return readReportFile(join(dir, REPORT_JSON));
  } catch (e) {
    if (!(e instanceof ReportError)) throw e;
    throw new UsageError(`--out ${dir} holds a report netlab cannot merge into (${e.message})`);
  }
}

export const parityCommand: Command = {
  name: 'parity',
  summary: 'run the parity suite on the simulated network and over real sockets; compare the outcomes',
  usage: `usage: netlab parity [--stack ID[,ID]] [--case NAME[,NAME...]] [--seed S] [--concurrency N] [--out DIR] [--json] [--list]

Runs each parity case twice: on the simulated network, and over real loopback sockets with the
equivalent faults through the seeded fault proxy. Compares what the application saw (messages per
sender in order, failed sends and their error codes, check verdicts), never timings.
  --stack IDS       only these stacks' cases (default: all)
  --case NAMES      only these cases (see --list)
  --seed S          seed of both runs (default parity)
  --concurrency N   cases at once (default 4)
  --out DIR         write report.json, junit.xml and index.html there (cases: family parity, runtime
                    real); a report already there (netlab run's) gets the parity suite added
  --json            print { "cases": [ { name, status, differences, detail } ] }
  --list            print the case names and exit`,
  async run(argv) {
    const { values } = parseFlags(argv, {
      stack: { type: 'string' },
      case: { type: 'string' },
      seed: { type: 'string', default: 'parity' },
      concurrency: { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean' },
      list: { type: 'boolean' },
    });
    const stacks = selectStacks(values.stack);
    const all = parityCasesOf(stacks);
    if (values.list) {
      process.stdout.write(all.map((c) => `${c.case.name}  ${c.case.title}`).join('\n') + '\n');
      return 0;
    }
    const only = values.case?.split(',').map((s) => s.trim());
    for (const n of only ?? [])
      if (!all.some((c) => c.case.name === n))
        throw new UsageError(
          `unknown parity case '${n}' (accepted: ${all.map((c) => c.case.name).join(', ')})`,
        );
    const concurrency = intFlag('concurrency', values.concurrency, 4, 1, 64);
    const started = performance.now();
    const startedAt = new Date().toISOString();
    const results = await runParity(stacks, { seed: values.seed, ...(only ? { only } : {}), concurrency });
    const wallMs = performance.now() - started;
    if (values.out !== undefined) {
      const cases = results.map((r) => {
        const c = all.find((x) => x.stack.id === r.stack && x.case.name === r.name)!;
        return { ...parityReportCase(r, values.seed, c.stack, c.case), expect: 'pass' as const };
      });
      const knobs = { suite: 'parity', cases: results.map((r) => r.name).join(','), concurrency };
      // A report already there (from netlab run) keeps its suites; only the parity suite is replaced.
      const existing = existsSync(join(values.out, REPORT_JSON)) ? readExisting(values.out) : null;
      const report =
        existing !== null
          ? mergeSuiteInto(existing, 'parity', cases, 'parity', knobs)
          : createReport(
              {
                simSeed: values.seed,
                fcSeed: 0,
                knobs,
                netlabVersion: netlabVersion(),
                commit: gitCommit(process.cwd()),
                nodeVersion: process.version,
                startedAt,
                virtualUs: 0,
                wallMs: Math.round(wallMs),
              },
              [{ name: 'parity', cases }],
            );
      const written = writeReportFiles(values.out, report);
      writeReportHtml(values.out, report);
      if (!values.json)
        process.stdout.write(
          `report: ${relative(process.cwd(), written.reportJson)}${existing !== null ? ' (parity suite merged into the report there)' : ''}\n`,
        );
    }
    if (values.json)
      printJson({
        cases: results.map((r) => ({
          name: r.name,
          status: r.status,
          differences: r.differences,
          detail: r.detail,
        })),
      });
    else {
      for (const r of results)
        process.stdout.write(`  ${r.status.toUpperCase().padEnd(5)} ${r.name}  ${r.detail}\n`);
      const n = (s: string): number => results.filter((r) => r.status === s).length;
      process.stdout.write(
        `${results.length} parity cases: ${n('pass')} pass, ${n('fail')} fail, ${n('error')} error (${(wallMs / 1000).toFixed(1)} s)\n`,
      );
    }
    if (results.some((r) => r.status === 'error')) return 2;
    return results.some((r) => r.status === 'fail') ? 1 : 0;
  },
};
