/**
 * `netlab run`: runs suites of generated scenarios on the simulated network, shrinks failures to a
 * minimal case file, and writes report.json, junit.xml and case files to --out (atomically).
 * `netlab replay CASE`: reruns a case file and checks that its trace hash and outcome reproduce.
 * Exit codes: 0 all pass / reproduced, 1 a failure / not reproduced, 2 usage or bad input.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeReportHtml } from '../../reports/html.js';
import { createReport, traceFileName, TRACES_DIR } from '../../reports/schema.js';
import { gitCommit, writeFileAtomicSync, writeReportFiles, type TraceFile } from '../../reports/write.js';
import { runProperty, type PropertySpec, type SuiteRun } from '../../scenarios/catalog.js';
import { FAMILIES } from '../../scenarios/families/index.js';
import '../../scenarios/museum/index.js';
import { TRANSPORTS, type Transport } from '../../scenarios/generators.js';
import { parseCaseFile, replayCase } from '../../scenarios/property.js';
import fc from 'fast-check';
import { implNames, runScenario } from '../../scenarios/runner.js';
import { toJsonLines, TRACE_SCHEMA } from '../../sim/trace.js';
import { hashValue } from '../../sim/hash.js';
import { intFlag, parseFlags, printJson, UsageError, type Command } from './common.js';

function netlabVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** --seed accepts an integer or any text (hashed to a 31-bit integer, printed back). */
function seedFrom(text: string | undefined): number {
  if (text === undefined) return 20261122;
  if (/^\d{1,9}$/.test(text)) return Number(text);
  return parseInt(hashValue(text).slice(0, 8), 16) & 0x7fffffff;
}

function protocolNames(): string[] {
  return [...new Set(FAMILIES.flatMap((f) => f.properties.flatMap((p) => p.protocols)))].sort();
}

/** Report suites are families: the cases of each family's properties, in run order. */
function groupByFamily(results: SuiteRun[]): { name: string; cases: SuiteRun['cases'] }[] {
  const out = new Map<string, SuiteRun['cases']>();
  for (const r of results) {
    const list = out.get(r.name) ?? [];
    list.push(...r.cases);
    out.set(r.name, list);
  }
  return [...out].map(([name, cases]) => ({ name, cases }));
}

export const runCommand: Command = {
  name: 'run',
  summary: 'run property suites on the simulated network; write report.json, junit.xml and case files',
  usage: `usage: netlab run [--suite FAMILY|all] [--property ID] [--protocol P] [--transport T] [--impl NAME|all]
                  [--seed S] [--runs N] [--budget SECONDS] [--out DIR] [--check-determinism] [--ci] [--json]
                  [--list-impls]

Suites (invariant families): ${FAMILIES.map((s) => s.name).join(', ')} (default: all)
  --property ID    only this property of the suite (ids are listed in report.json and by --list-properties)
  --list-properties  print every property id, one per line, and exit
  --protocol P     only properties covering this protocol (nng names: ${protocolNames().join(', ')})
  --transport T    draw only this transport (${TRANSPORTS.join(', ')}; default: each property's own set)
  --impl NAME      implementation under test (default netlab; all = netlab and every registered variant)
  --list-impls     print every implementation name, one per line, and exit
  --seed S         fcSeed (integer, or text hashed to one); simSeeds are generated from it
  --runs N         scenarios per suite (default 100)
  --budget SEC     wall-clock budget: no new suite starts after it (default none)
  --out DIR        output directory (default reports/latest)
  --check-determinism  run every scenario twice and require identical trace hashes (a difference: flaky)
  --ci             CI mode: --check-determinism, and every failing case replayed twice
  --json           print the report JSON instead of the summary table`,
  async run(argv) {
    const { values } = parseFlags(argv, {
      suite: { type: 'string', default: 'all' },
      property: { type: 'string' },
      'list-properties': { type: 'boolean' },
      protocol: { type: 'string' },
      transport: { type: 'string' },
      impl: { type: 'string', default: 'netlab' },
      'list-impls': { type: 'boolean' },
      seed: { type: 'string' },
      runs: { type: 'string' },
      budget: { type: 'string' },
      out: { type: 'string', default: 'reports/latest' },
      ci: { type: 'boolean' },
      'check-determinism': { type: 'boolean' },
      json: { type: 'boolean' },
    });
    if (values['list-impls']) {
      process.stdout.write(implNames().join('\n') + '\n');
      return 0;
    }
    if (values['list-properties']) {
      process.stdout.write(FAMILIES.flatMap((f) => f.properties.map((p) => p.id)).join('\n') + '\n');
      return 0;
    }
    const transport = values.transport as Transport | undefined;
    if (transport !== undefined && !TRANSPORTS.includes(transport))
      throw new UsageError(`unknown transport '${values.transport}' (accepted: ${TRANSPORTS.join(', ')})`);
    const families = FAMILIES.filter((f) => values.suite === 'all' || f.name === values.suite);
    if (families.length === 0)
      throw new UsageError(
        `unknown suite '${values.suite}' (accepted: all, ${FAMILIES.map((s) => s.name).join(', ')})`,
      );
    let properties: PropertySpec[] = families.flatMap((f) => f.properties);
    if (values.property !== undefined) {
      const known = properties.map((p) => p.id);
      properties = properties.filter((p) => p.id === values.property);
      if (properties.length === 0)
        throw new UsageError(`unknown property '${values.property}' (accepted: ${known.join(', ')})`);
    }
    if (values.protocol !== undefined) {
      if (!protocolNames().includes(values.protocol))
        throw new UsageError(
          `unknown protocol '${values.protocol}' (accepted: ${protocolNames().join(', ')})`,
        );
      properties = properties.filter((p) => p.protocols.includes(values.protocol!));
    }
    if (transport !== undefined) properties = properties.filter((p) => p.transports.includes(transport));
    if (properties.length === 0)
      throw new UsageError('no property matches the --suite, --property, --protocol and --transport given');
    const impls = values.impl === 'all' ? implNames() : [values.impl];
    for (const i of impls) {
      if (!implNames().includes(i))
        throw new UsageError(`unknown implementation '${i}' (accepted: all, ${implNames().join(', ')})`);
    }
    const runs = intFlag('runs', values.runs, 100, 1, 1_000_000);
    const budgetMs =
      values.budget === undefined ? Infinity : intFlag('budget', values.budget, 0, 1, 86_400) * 1000;
    const fcSeed = seedFrom(values.seed);
    const outDir = values.out;
    const version = netlabVersion();
    const commit = gitCommit(process.cwd());
    const started = performance.now();
    const startedAt = new Date().toISOString();
    const caseDir = join(outDir, 'cases');
    const caseFilePath = (property: string, impl: string): string =>
      join(caseDir, `${property}-${impl}`.replace(/[^A-Za-z0-9_.-]/g, '_') + '.json');
    const results: SuiteRun[] = [];
    const traces: TraceFile[] = [];
    const tty = process.stdout.isTTY === true && values.json !== true;
    const log = (line: string): void => {
      if (!values.json) process.stdout.write(line + '\n');
    };
    log(
      `netlab run  fcSeed=${fcSeed}  runs=${runs}  suites=${families.map((s) => s.name).join(',')}  properties=${properties.length}  impl=${impls.join(',')}`,
    );
    for (const impl of impls) {
      for (const spec of properties) {
        if (performance.now() - started > budgetMs) {
          log(`  budget of ${budgetMs / 1000} s spent: skipping ${spec.id} (${impl})`);
          continue;
        }
        const r = await runProperty(spec, {
          ...(transport !== undefined ? { transport } : {}),
          fcSeed,
          runs,
          impl,
          netlabVersion: version,
          commit,
          nowMs: () => performance.now(),
          checkDeterminism: values['check-determinism'] === true || values.ci === true,
          // A progress line on a terminal; a plain log (one line per suite) otherwise.
          ...(tty
            ? {
                onProgress: (done: number) => {
                  if (done % 10 === 0)
                    process.stdout.write(
                      `\r  ${spec.id} (${impl}): ${done} scenarios run (shrinking counts too)  `,
                    );
                },
              }
            : {}),
          caseFilePath,
        });
        if (tty) process.stdout.write('\r\x1b[K');
        results.push(r);
        if (r.failure === null) {
          // A sample of passing runs: the suite's first generated scenario, traced, on its first case.
          const [sample] = fc.sample(
            spec.arb({ impl, transports: transport ? [transport] : spec.transports }),
            {
              seed: fcSeed,
              numRuns: 1,
            },
          );
          const first = r.cases[0];
          if (sample !== undefined && first !== undefined) {
            const simSeed = `sample-${fcSeed}`;
            const traced = await runScenario(sample, simSeed, { traceCapacity: 200_000 });
            const file = traceFileName(`${first.id}-sample`);
            traces.push({
              file,
              content: toJsonLines(
                { schema: TRACE_SCHEMA, seed: simSeed, source: `sample of ${first.id}` },
                traced.trace,
              ),
            });
            first.trace = `${TRACES_DIR}/${file}`;
            first.traceHash = traced.traceHash;
          }
        }
        if (r.failure !== null) {
          // The failing case's trace goes into the report (the viewer opens it).
          const rerun = await runScenario(r.failure.scenario, r.failure.simSeed, { traceCapacity: 500_000 });
          for (const c of r.cases) {
            if (c.status !== 'fail') continue;
            const file = traceFileName(c.id);
            traces.push({
              file,
              content: toJsonLines(
                { schema: TRACE_SCHEMA, seed: r.failure.simSeed, source: c.replay },
                rerun.trace,
              ),
            });
            c.trace = `${TRACES_DIR}/${file}`;
          }
          mkdirSync(caseDir, { recursive: true });
          const file = caseFilePath(spec.id, impl);
          writeFileAtomicSync(file, JSON.stringify(r.failure, null, 2) + '\n');
          if (values.ci) {
            // Determinism check: the shrunk case must replay to its recorded hash, twice.
            for (let k = 0; k < 2; k++) {
              const again = await replayCase(r.failure);
              if (!again.reproduced) for (const c of r.cases) if (c.status === 'fail') c.status = 'flaky';
            }
          }
        }
        for (const c of r.cases) {
          if (c.family === 'coverage' && c.status === 'pass') continue; // the table lists coverage gaps only
          const detail = c.status === 'pass' ? '' : `  (${c.actual ?? ''})`;
          log(
            `  ${c.status.toUpperCase().padEnd(5)} ${c.id}${detail}${c.status === 'fail' ? `\n        replay: ${c.replay}` : ''}`,
          );
        }
      }
    }
    const wallMs = performance.now() - started;
    const report = createReport(
      {
        simSeed: `from fcSeed ${fcSeed}`,
        fcSeed,
        knobs: {
          runs,
          suites: families.map((s) => s.name).join(','),
          properties: properties.map((p) => p.id).join(','),
          impls: impls.join(','),
          transport: transport ?? "each property's own",
          ci: values.ci === true,
        },
        netlabVersion: version,
        commit,
        nodeVersion: process.version,
        startedAt,
        virtualUs: results.reduce((sum, r) => sum + r.virtualUs, 0),
        wallMs: Math.round(wallMs),
      },
      groupByFamily(results),
    );
    const written = writeReportFiles(outDir, report, traces);
    writeReportHtml(outDir, report); // DIR/index.html, the web report
    const t = report.banner.totals;
    if (values.json) {
      printJson(report);
    } else {
      log(
        `${t.cases} cases: ${t.pass} pass, ${t.fail} fail, ${t.error} error, ${t.flaky} flaky, ${t.skip} skip  (${(wallMs / 1000).toFixed(1)} s)`,
      );
      log(
        `report: ${relative(process.cwd(), written.reportJson)}  junit: ${relative(process.cwd(), written.junitXml)}`,
      );
    }
    return t.fail + t.error + t.flaky > 0 ? 1 : 0;
  },
};

export const replayCommand: Command = {
  name: 'replay',
  summary: 'rerun a case file; exit 0 when its trace hash and outcome reproduce, 1 when not',
  usage: `usage: netlab replay CASE.json [--check-determinism] [--json]

Reruns the scenario of a case file (written by netlab run) with its simSeed and compares the trace
hash and the failing checks with the recorded ones.
  --check-determinism  run it twice and compare the two hashes as well
  --json               print the outcome as JSON`,
  async run(argv) {
    const { values, positionals } = parseFlags(
      argv,
      { 'check-determinism': { type: 'boolean' }, json: { type: 'boolean' } },
      true,
    );
    if (positionals.length !== 1) throw new UsageError('expected exactly one case file');
    const path = positionals[0]!;
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new UsageError(`cannot read case file ${path}: ${(e as Error).message}`);
    }
    let c;
    try {
      c = parseCaseFile(json);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const first = await replayCase(c);
    let deterministic = true;
    if (values['check-determinism']) deterministic = (await replayCase(c)).traceHash === first.traceHash;
    const ok = first.reproduced && deterministic;
    if (values.json) printJson({ ...first, deterministic, recordedTraceHash: c.traceHash });
    else {
      process.stdout.write(
        [
          `netlab replay ${path}`,
          `  trace hash ${first.traceHash} (recorded ${c.traceHash})`,
          `  failing now: ${first.failing.join(', ') || 'none'}; recorded: ${first.expectedFailing.join(', ') || 'none'}`,
          ...(values['check-determinism']
            ? [`  second run: ${deterministic ? 'same hash' : 'DIFFERENT hash'}`]
            : []),
          `  ${ok ? 'reproduced' : 'NOT reproduced'}`,
        ].join('\n') + '\n',
      );
    }
    return ok ? 0 : 1;
  },
};
