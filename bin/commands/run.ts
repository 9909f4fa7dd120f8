/**
 * `netlab run`: runs suites of generated scenarios on the simulated network, shrinks failures to a
 * minimal case file, and writes report.json, junit.xml and case files to --out (atomically).
 * Work items (implementation × property) can be sliced across CI runners (--shard i/n, joined by
 * `netlab merge`) and spread over worker threads (--workers N); results do not depend on either.
 * `netlab replay CASE`: reruns a case file and checks that its trace hash and outcome reproduce.
 * Exit codes: 0 no finding / reproduced, 1 a finding / not reproduced, 2 usage or bad input.
 * With --impl all, museum variants failing is the expected outcome (reports/SCHEMA.md, museum).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeReportHtml } from '../../reports/html.js';
import {
  createReport,
  isFinding,
  museumVerdict,
  type CaseExpect,
  type MuseumEntryInput,
  type Report,
} from '../../reports/schema.js';
import { gitCommit, writeFileAtomicSync, writeReportFiles, type TraceFile } from '../../reports/write.js';
import type { CatalogCase, SuiteRun } from '../../scenarios/catalog.js';
import { TRANSPORTS, type Transport } from '../../scenarios/generators.js';
import { parseCaseFile, replayCase } from '../../scenarios/property.js';
import type { StackProperty } from '../../scenarios/lab.js';
import type { AnyStack } from '../../scenarios/stack.js';
import { LAB } from '../lab.js';
import { hashValue } from '../../sim/hash.js';
import { intFlag, parseFlags, printJson, UsageError, type Command } from './common.js';
import { realFaultLayer } from '../../scenarios/real/faults.js';
import { runOnReal } from '../../scenarios/real/run.js';
import type { ItemOptions, ItemResult, WorkItem } from '../../scenarios/campaign/item.js';
import { runConcurrently, runInProcess, runOnWorkers, type Dispatch } from '../../scenarios/campaign/pool.js';
import {
  parseShard as parseShardText,
  shardItems,
  ShardError,
  type Shard,
} from '../../scenarios/campaign/shards.js';
import { packageRoot } from '../package-root.js';

/** netlab's version, from its package.json. */
export function netlabVersion(): string {
  const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as {
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

function protocolNames(stacks = LAB.stacks): string[] {
  return [...new Set(stacks.flatMap((s) => s.protocols()))].sort();
}

/** The stacks of a --stack selection (default: all); an unknown id is a usage error. */
export function selectStacks(selection: string | undefined): AnyStack[] {
  try {
    return LAB.select(selection);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** Family (suite) names of the given stacks, in stack then family order, each once. */
function familyNames(stacks = LAB.stacks): string[] {
  return [...new Set(stacks.flatMap((s) => s.families.map((f) => f.name)))];
}

/** Largest --workers: a bound, not a recommendation (one per core is the useful most). */
const WORKERS_MAX = 256;
/** Default --runs on the real runtime: each run takes real seconds (its fault phase and a quiet window). */
const REAL_RUNS_DEFAULT = 10;
/** Default --concurrency: real-runtime scenarios of one property running at once (each waits on real time). */
const REAL_CONCURRENCY_DEFAULT = 8;
/** Real-runtime properties running at once (each with its --concurrency scenarios). */
const REAL_ITEMS_AT_ONCE = 4;
/** Default --workers: two threads where there are two cores (the lab's budget is set on 2 cores). */
export function defaultWorkers(): number {
  return Math.min(2, availableParallelism());
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

/** The summary line of one museum variant: caught, MISSED, or why it was not judged. */
export function museumLine(e: MuseumEntryInput): string {
  const failed = e.properties.filter((p) => p.failed).length;
  const ran = e.properties.length;
  const counts = `${failed} of ${ran} ${ran === 1 ? 'property' : 'properties'} failed`;
  switch (museumVerdict(e)) {
    case 'caught':
      return `${e.impl}  caught by ${e.family} (${counts})`;
    case 'missed':
      return `${e.impl}  MISSED by ${e.family} (${counts})`;
    case 'not-judged':
      return `${e.impl}  not judged: ${
        e.family === null
          ? 'it names no family'
          : e.propertiesTotal === 0
            ? `its family ${e.family} was not run`
            : `${ran} of ${e.propertiesTotal} ${e.family} properties ran here`
      }`;
  }
}

/** Status label of a case line: an expected failure reads XFAIL. */
function label(status: string, expect: CaseExpect): string {
  return (expect === 'fail' && status === 'fail' ? 'xfail' : status).toUpperCase().padEnd(5);
}

/** The compiled worker (dist/bin/commands/run-worker.js), from source or dist alike. */
function workerFile(): string {
  const file = join(packageRoot(), 'dist', 'bin', 'commands', 'run-worker.js');
  if (!existsSync(file))
    throw new UsageError(
      `--workers needs the built worker ${file} (run \`npm run build\`), or use --workers 1`,
    );
  return file;
}

/** Parses --shard i/n; a bad value is a usage error naming what is accepted. */
export function parseShard(text: string | undefined): Shard {
  try {
    return parseShardText(text);
  } catch (e) {
    if (e instanceof ShardError) throw new UsageError(e.message);
    throw e;
  }
}

export { shardItems, type Shard };

export const runCommand: Command = {
  name: 'run',
  summary: 'run property suites on the simulated network; write report.json, junit.xml and case files',
  usage: `usage: netlab run [--stack ID[,ID]|all] [--suite FAMILY|all] [--property ID] [--protocol P] [--transport T]
                  [--impl NAME|all] [--seed S] [--runs N] [--budget SECONDS] [--out DIR] [--shard I/N]
                  [--workers N] [--check-determinism] [--ci] [--json] [--list-impls] [--list-stacks]
                  [--runtime sim|real|all] [--concurrency N]

Stacks: ${LAB.ids().join(', ')} (default: all)
  --stack ID[,ID]  only these stacks' properties and variants
  --list-stacks    print every stack id with a short description, one per line, and exit
Suites (invariant families): ${familyNames().join(', ')} (default: all)
  --property ID    only this property of the suite (ids are listed in report.json and by --list-properties)
  --list-properties  print every property id, one per line, and exit
  --protocol P     only properties covering this protocol (nng names: ${protocolNames().join(', ')})
  --transport T    draw only this transport (${TRANSPORTS.join(', ')}; default: each property's own set)
  --impl NAME      implementation under test (default netlab). all = netlab and every registered
                   variant, judged by expected outcome: exit 0 when netlab has no finding and every
                   museum variant is caught by its own family (a variant's failures are not findings)
  --list-impls     print every implementation name, one per line, and exit
  --seed S         fcSeed (integer, or text hashed to one); simSeeds are generated from it
  --runs N         scenarios per suite (default 100)
  --budget SEC     wall-clock budget: no new work item starts after it (default none)
  --out DIR        output directory (default reports/latest)
  --shard I/N      run only work item k (implementation x property, k from 0) with k mod N = I-1;
                   join the shards' --out directories with \`netlab merge\` (default 1/1)
  --workers N      worker threads running work items (default min(2, cores) = ${defaultWorkers()}; 1 = this thread)
  --check-determinism  run every scenario twice and require identical trace hashes (a difference: flaky)
  --ci             CI mode: --check-determinism, and every failing case replayed twice
  --json           print the report JSON instead of the summary table
  --runtime R      sim (default): the simulated network; real: the same generated scenarios over real
                   loopback sockets (tcp, unix, inproc), faults through the seeded proxy, checks that
                   rest on exact timing not judged, no shrinking; all: both (museum variants on the
                   simulator only). Cases carry runtime real and fill the "netlab (real)" column
  --real-runs N    scenarios per property on the real runtime (default ${REAL_RUNS_DEFAULT}; with --runtime real
                   alone, --runs sets it)
  --concurrency N  real-runtime scenarios of one property run at once (default ${REAL_CONCURRENCY_DEFAULT})`,
  async run(argv) {
    const values = parseRunFlags(argv);
    if (values['list-stacks']) {
      process.stdout.write(LAB.stacks.map((s) => `${s.id}\t${s.title}`).join('\n') + '\n');
      return 0;
    }
    const stacks = selectStacks(values.stack);
    if (printListing(values, stacks)) return 0;
    const plan = planRun(values, stacks);
    const version = netlabVersion();
    const commit = gitCommit(process.cwd());
    const started = performance.now();
    const startedAt = new Date().toISOString();

    const allItems = workItems(plan);
    const items = shardItems(allItems, plan.shard);
    const log = lineLogger(plan.json);
    log(headerLine(plan, items.length, allItems.length));
    const itemOptions: ItemOptions = {
      ...(plan.transport !== undefined ? { transport: plan.transport } : {}),
      fcSeed: plan.fcSeed,
      runs: plan.runs,
      realRuns: plan.realRuns,
      netlabVersion: version,
      commit,
      checkDeterminism: plan.checkDeterminism,
      ci: plan.ci,
      outDir: plan.outDir,
      realConcurrency: plan.realConcurrency,
    };
    const ran = await runItems(plan, items, allItems.length, itemOptions, started, log);

    const done = ran.results.filter((r): r is ItemResult => r !== undefined); // in run order
    const traces: TraceFile[] = done.flatMap((r) => r.traces);
    writeCaseFiles(done);
    const tally = campaignReport(plan, allItems, done, { version, commit, started, startedAt });
    const written = writeReportFiles(plan.outDir, tally.report, traces);
    writeReportHtml(plan.outDir, tally.report); // DIR/index.html, the web report
    if (plan.json) printJson(tally.report);
    else
      printSummary(log, tally, plan.expectedOutcomes, {
        threads: ran.threads,
        skipped: ran.skipped.length,
        written,
      });
    return exitCodeOf(tally.report);
  },
};

/** The flags of `netlab run`, parsed (unknown flags and bad values: UsageError). */
function parseRunFlags(argv: string[]) {
  return parseFlags(argv, {
    stack: { type: 'string' },
    'list-stacks': { type: 'boolean' },
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
    shard: { type: 'string' },
    workers: { type: 'string' },
    ci: { type: 'boolean' },
    'check-determinism': { type: 'boolean' },
    json: { type: 'boolean' },
    runtime: { type: 'string', default: 'sim' },
    'real-runs': { type: 'string' },
    concurrency: { type: 'string' },
  }).values;
}

type RunFlags = ReturnType<typeof parseRunFlags>;

/** Implementations of the selected stacks: netlab first, then their variants in registration order. */
function implNamesOf(stacks: readonly AnyStack[]): string[] {
  return ['netlab', ...LAB.implNames().filter((i) => i !== 'netlab' && stacks.includes(LAB.implStack(i)!))];
}

/** --list-impls, --list-properties: prints the list and returns true; false when neither is given. */
function printListing(values: RunFlags, stacks: AnyStack[]): boolean {
  if (values['list-impls']) {
    process.stdout.write(implNamesOf(stacks).join('\n') + '\n');
    return true;
  }
  if (values['list-properties']) {
    process.stdout.write(
      LAB.properties(stacks)
        .map((p) => p.spec.id)
        .join('\n') + '\n',
    );
    return true;
  }
  return false;
}

/** What `netlab run` runs, its flags validated (a bad one: UsageError naming what is accepted). */
interface RunPlan {
  stacks: AnyStack[];
  suiteNames: string[];
  properties: StackProperty[];
  transport: Transport | undefined;
  /** --impl all: netlab and every variant, judged by expected outcome. */
  expectedOutcomes: boolean;
  impls: string[];
  /** --runtime as given (sim, real or all), and the runtimes it names. */
  runtime: string;
  runtimes: WorkItem['runtime'][];
  runs: number;
  realRuns: number;
  realConcurrency: number;
  budgetMs: number;
  shard: Shard;
  workers: number;
  fcSeed: number;
  outDir: string;
  checkDeterminism: boolean;
  ci: boolean;
  json: boolean;
}

/** Validates the flags into a plan, in the order their errors are reported. */
function planRun(values: RunFlags, stacks: AnyStack[]): RunPlan {
  const transport = values.transport as Transport | undefined;
  if (transport !== undefined && !TRANSPORTS.includes(transport))
    throw new UsageError(`unknown transport '${values.transport}' (accepted: ${TRANSPORTS.join(', ')})`);
  const { suiteNames, properties } = selectProperties(values, stacks, transport);
  const expectedOutcomes = values.impl === 'all';
  const implNames = (): string[] => implNamesOf(stacks);
  const impls = expectedOutcomes ? implNames() : [values.impl];
  for (const i of impls) {
    if (!implNames().includes(i))
      throw new UsageError(`unknown implementation '${i}' (accepted: all, ${implNames().join(', ')})`);
  }
  if (!['sim', 'real', 'all'].includes(values.runtime))
    throw new UsageError(`unknown runtime '${values.runtime}' (accepted: sim, real, all)`);
  const runtimes: WorkItem['runtime'][] =
    values.runtime === 'all' ? ['sim', 'real'] : [values.runtime as WorkItem['runtime']];
  const runs = intFlag('runs', values.runs, 100, 1, 1_000_000);
  // Real runs last real seconds each: fewer by default than the simulator's hundred. Alone,
  // --runtime real takes --runs as its own.
  const realRuns = intFlag(
    'real-runs',
    values['real-runs'] ?? (runtimes.includes('sim') ? undefined : values.runs),
    REAL_RUNS_DEFAULT,
    1,
    1_000_000,
  );
  const realConcurrency = intFlag('concurrency', values.concurrency, REAL_CONCURRENCY_DEFAULT, 1, 64);
  const budgetMs =
    values.budget === undefined ? Infinity : intFlag('budget', values.budget, 0, 1, 86_400) * 1000;
  const shard = parseShard(values.shard);
  const workers = intFlag('workers', values.workers, defaultWorkers(), 1, WORKERS_MAX);
  const fcSeed = seedFrom(values.seed);
  return {
    stacks,
    suiteNames,
    properties,
    transport,
    expectedOutcomes,
    impls,
    runtime: values.runtime,
    runtimes,
    runs,
    realRuns,
    realConcurrency,
    budgetMs,
    shard,
    workers,
    fcSeed,
    outDir: values.out,
    checkDeterminism: values['check-determinism'] === true || values.ci === true,
    ci: values.ci === true,
    json: values.json === true,
  };
}

/** The suites (families) and properties that --suite, --property, --protocol and --transport select. */
function selectProperties(
  values: RunFlags,
  stacks: AnyStack[],
  transport: Transport | undefined,
): { suiteNames: string[]; properties: StackProperty[] } {
  const suiteNames = familyNames(stacks).filter((f) => values.suite === 'all' || f === values.suite);
  if (suiteNames.length === 0)
    throw new UsageError(
      `unknown suite '${values.suite}' (accepted: all, ${familyNames(stacks).join(', ')})`,
    );
  let properties: StackProperty[] = LAB.properties(stacks).filter((p) => suiteNames.includes(p.family.name));
  if (values.property !== undefined) {
    const known = properties.map((p) => p.spec.id);
    properties = properties.filter((p) => p.spec.id === values.property);
    if (properties.length === 0)
      throw new UsageError(`unknown property '${values.property}' (accepted: ${known.join(', ')})`);
  }
  if (values.protocol !== undefined) {
    if (!protocolNames(stacks).includes(values.protocol))
      throw new UsageError(
        `unknown protocol '${values.protocol}' (accepted: ${protocolNames(stacks).join(', ')})`,
      );
    properties = properties.filter((p) => p.spec.protocols.includes(values.protocol!));
  }
  if (transport !== undefined) properties = properties.filter((p) => p.spec.transports.includes(transport));
  if (properties.length === 0)
    throw new UsageError('no property matches the --suite, --property, --protocol and --transport given');
  return { suiteNames, properties };
}

/** Under --impl all every variant is expected to fail somewhere; alone, a failure is a failure. */
function expectOf(plan: RunPlan, impl: string): CaseExpect {
  return plan.expectedOutcomes && impl !== 'netlab' ? 'fail' : 'pass';
}

/** Work items in run order: every property for netlab, then for each variant (before sharding). */
function workItems(plan: RunPlan): WorkItem[] {
  const { runtimes, impls, properties } = plan;
  return runtimes
    .flatMap((runtime) =>
      // With both runtimes, museum variants are judged on the simulator only (where they shrink).
      impls
        .filter((impl) => runtime === 'sim' || runtimes.length === 1 || impl === 'netlab')
        // A variant runs against its own stack's properties; netlab against every stack's. Under
        // --impl all a variant runs only the family meant to catch it (its verdict reads no other),
        // which keeps the lab's time as families grow; alone, it runs every family of its stack.
        .flatMap((impl) =>
          properties
            .filter(
              (p) =>
                impl === 'netlab' ||
                (LAB.implStack(impl) === p.stack &&
                  (!plan.expectedOutcomes || LAB.implInfo(impl)?.family === p.spec.family)),
            )
            .map((p) => ({ stack: p.stack.id, impl, property: p.spec.id, runtime })),
        ),
    )
    .map((x, index) => ({ ...x, index }));
}

/** Prints a line, unless --json (the report is the only output then). */
function lineLogger(json: boolean): (line: string) => void {
  return (line) => {
    if (!json) process.stdout.write(line + '\n');
  };
}

/** The run's first line: every knob that reproduces it. */
function headerLine(plan: RunPlan, items: number, allItems: number): string {
  const { fcSeed, runs, runtimes, realRuns, stacks, suiteNames, properties, impls, shard, workers } = plan;
  const sharded = shard.count > 1;
  return (
    `netlab run  fcSeed=${fcSeed}  runs=${runs}${runtimes.includes('real') ? `  runtime=${plan.runtime}  realRuns=${realRuns}` : ''}  stacks=${stacks.map((s) => s.id).join(',')}  suites=${suiteNames.join(',')}  properties=${properties.length}  impl=${impls.join(',')}` +
    `${sharded ? `  shard=${shard.index}/${shard.count} (${items} of ${allItems} items)` : ''}  workers=${workers}`
  );
}

/** What running the work items gave: results by item index, items the budget skipped, threads used. */
interface ItemsRun {
  results: (ItemResult | undefined)[];
  skipped: WorkItem[];
  threads: number;
}

/**
 * Runs this shard's work items (simulated ones on worker threads, real ones here), printing each
 * item's case lines in run order as they finish, with a live progress line on a terminal.
 */
async function runItems(
  plan: RunPlan,
  items: WorkItem[],
  allItems: number,
  itemOptions: ItemOptions,
  started: number,
  log: (line: string) => void,
): Promise<ItemsRun> {
  const { budgetMs, workers } = plan;
  const tty = process.stdout.isTTY === true && !plan.json;
  const results: (ItemResult | undefined)[] = new Array<ItemResult | undefined>(allItems);
  const skipped: WorkItem[] = [];
  // Progress: scenarios run per item, summed; one live line on a terminal, per-item logs otherwise.
  const progress = new Map<number, number>();
  let finished = 0;
  let printedUpTo = 0;
  /** Case lines are printed in run order, whatever order the workers finish in. */
  const printInOrder = (): void => {
    for (; printedUpTo < items.length; printedUpTo++) {
      const item = items[printedUpTo]!;
      const r = results[item.index];
      if (r === undefined) {
        if (skipped.includes(item)) continue;
        return;
      }
      for (const c of r.run.cases) {
        if (c.family === 'coverage' && c.status === 'pass') continue; // the table lists coverage gaps only
        const detail = c.status === 'pass' ? '' : `  (${c.actual ?? ''})`;
        log(
          `  ${label(c.status, expectOf(plan, item.impl))} ${c.id}${detail}${c.status === 'fail' ? `\n        replay: ${c.replay}` : ''}`,
        );
      }
    }
  };
  const dispatch: Dispatch = {
    mayStart: (item) => {
      if (performance.now() - started <= budgetMs) return true;
      skipped.push(item);
      if (tty) process.stdout.write('\r\x1b[K');
      log(`  budget of ${budgetMs / 1000} s spent: skipping ${item.property} (${item.impl})`);
      return false;
    },
    onProgress: (item, done) => {
      progress.set(item.index, done);
      if (!tty || done % 10 !== 0) return;
      const total = [...progress.values()].reduce((a, b) => a + b, 0);
      process.stdout.write(
        `\r\x1b[K  ${finished}/${items.length} items done, ${total} scenarios run (shrinking counts too); now ${item.property} (${item.impl})`,
      );
    },
    onDone: (r) => {
      results[r.index] = r;
      progress.set(r.index, r.scenarioRuns);
      finished++;
      if (tty) process.stdout.write('\r\x1b[K');
      printInOrder();
    },
  };
  // Threads actually used: none beyond this one for a single item (a worker's start-up would only cost).
  // Simulated items are CPU-bound: worker threads. Real-runtime items mostly wait on real time and
  // sockets: with worker threads busy they run here, several at once, beside the simulation.
  const simItems = items.filter((i) => i.runtime === 'sim');
  const realItems = items.filter((i) => i.runtime === 'real');
  const threads = Math.max(1, Math.min(workers, simItems.length));
  const runSim = async (): Promise<void> => {
    if (simItems.length === 0) return;
    if (threads === 1) await runInProcess(LAB, simItems, itemOptions, dispatch);
    else await runOnWorkers(workerFile(), simItems, itemOptions, threads, dispatch);
  };
  if (threads === 1) {
    // One thread: the simulation would hold up the real runs' event loop; one after the other.
    await runSim();
    await runConcurrently(LAB, realItems, itemOptions, REAL_ITEMS_AT_ONCE, dispatch);
  } else
    await Promise.all([runSim(), runConcurrently(LAB, realItems, itemOptions, REAL_ITEMS_AT_ONCE, dispatch)]);
  printInOrder();
  return { results, skipped, threads };
}

/** Writes each finished item's case file (a shrunk failure), atomically. */
function writeCaseFiles(done: readonly ItemResult[]): void {
  for (const r of done) {
    if (r.caseFile === null) continue;
    mkdirSync(dirname(r.caseFile.path), { recursive: true });
    writeFileAtomicSync(r.caseFile.path, r.caseFile.content);
  }
}

/** The run's report, with what its summary prints beside it. */
interface RunTally {
  report: Report;
  museum: MuseumEntryInput[];
  wallMs: number;
  scenarioRuns: number;
  scenarioRunsPerSec: number;
}

/** The run's report: its suites by family, museum verdicts, banner knobs and timings. */
function campaignReport(
  plan: RunPlan,
  allItems: readonly WorkItem[],
  done: readonly ItemResult[],
  run: { version: string; commit: string; started: number; startedAt: string },
): RunTally {
  const {
    fcSeed,
    runs,
    stacks,
    suiteNames,
    properties,
    impls,
    runtimes,
    realRuns,
    shard,
    workers,
    budgetMs,
  } = plan;
  const suites = groupByFamily(done.map((r) => r.run)).map((s) => ({
    name: s.name,
    cases: s.cases.map((c: CatalogCase) => ({ ...c, expect: expectOf(plan, c.impl) })),
  }));
  const museum = museumEntries(plan, allItems, done);
  const wallMs = performance.now() - run.started;
  const scenarioRuns = done.reduce((sum, r) => sum + r.scenarioRuns, 0);
  const scenarioRunsPerSec = Math.round((scenarioRuns / Math.max(wallMs, 1)) * 10_000) / 10;
  const report: Report = createReport(
    {
      simSeed: `from fcSeed ${fcSeed}`,
      fcSeed,
      knobs: {
        runs,
        stacks: stacks.map((s) => s.id).join(','),
        suites: suiteNames.join(','),
        properties: properties.map((p) => p.spec.id).join(','),
        impls: impls.join(','),
        runtime: plan.runtime,
        ...(runtimes.includes('real') ? { realRuns } : {}),
        transport: plan.transport ?? "each property's own",
        ci: plan.ci,
        ...(shard.count > 1 ? { shard: `${shard.index}/${shard.count}` } : {}),
        workers,
        ...(budgetMs === Infinity ? {} : { budgetSec: budgetMs / 1000 }),
      },
      netlabVersion: run.version,
      commit: run.commit,
      nodeVersion: process.version,
      startedAt: run.startedAt,
      virtualUs: done.reduce((sum, r) => sum + r.run.virtualUs, 0),
      wallMs: Math.round(wallMs),
      scenarioRuns,
      scenarioRunsPerSec,
      ...(plan.expectedOutcomes ? { museum } : {}),
    },
    suites,
  );
  return { report, museum, wallMs, scenarioRuns, scenarioRunsPerSec };
}

/** Museum verdicts: each variant against the properties of its own family (all shards' worth in total). */
function museumEntries(
  plan: RunPlan,
  allItems: readonly WorkItem[],
  done: readonly ItemResult[],
): MuseumEntryInput[] {
  const variants = plan.impls.filter((i) => i !== 'netlab');
  return variants.map((impl) => {
    const variant = LAB.implInfo(impl);
    const family = variant?.family ?? null;
    const own = (p: { property: string; impl: string }): boolean =>
      p.impl === impl && plan.properties.some((s) => s.spec.id === p.property && s.spec.family === family);
    return {
      impl,
      family,
      summary: variant?.summary ?? '',
      propertiesTotal: family === null ? 0 : allItems.filter(own).length,
      properties: done
        .filter((r) => own(allItems[r.index]!))
        .map((r) => ({ id: r.run.property, failed: r.run.cases.some((c) => c.status === 'fail') })),
    };
  });
}

/** The summary after the case lines: museum verdicts, totals, time taken, where the report went. */
function printSummary(
  log: (line: string) => void,
  tally: RunTally,
  expectedOutcomes: boolean,
  ran: { threads: number; skipped: number; written: { reportJson: string; junitXml: string } },
): void {
  const { report, museum, wallMs, scenarioRuns, scenarioRunsPerSec } = tally;
  const t = report.banner.totals;
  for (const e of museum) log(`  ${museumLine(e)}`);
  log(
    `${t.cases} cases: ${t.pass} pass, ${t.fail} fail, ${t.error} error, ${t.flaky} flaky, ${t.skip} skip` +
      `${expectedOutcomes ? `; museum: ${t.caught} caught, ${t.missed} missed of ${museum.length}` : ''}; ${t.findings} ${t.findings === 1 ? 'finding' : 'findings'}`,
  );
  log(
    `took ${(wallMs / 1000).toFixed(1)} s: ${scenarioRuns} scenario runs, ${scenarioRunsPerSec} per second` +
      ` (${ran.threads === 1 ? '1 thread' : `${ran.threads} worker threads`}${ran.skipped > 0 ? `; ${ran.skipped} items skipped by the budget` : ''})`,
  );
  log(
    `report: ${relative(process.cwd(), ran.written.reportJson)}  junit: ${relative(process.cwd(), ran.written.junitXml)}`,
  );
}

/** The exit code a report calls for: 1 when it holds a finding (isFinding, or a missed variant), else 0. */
export function exitCodeOf(report: Report): number {
  const findings =
    report.suites.reduce((n, s) => n + s.cases.filter(isFinding).length, 0) +
    report.banner.museum.filter((e) => e.verdict === 'missed').length;
  return findings > 0 ? 1 : 0;
}

export const replayCommand: Command = {
  name: 'replay',
  summary: 'rerun a case file; exit 0 when its trace hash and outcome reproduce, 1 when not',
  usage: `usage: netlab replay CASE.json [--check-determinism] [--json] [--runtime sim|real]

Reruns the scenario of a case file (written by netlab run) with its simSeed and compares the trace
hash and the failing checks with the recorded ones.
  --check-determinism  run it twice and compare the two hashes as well
  --json               print the outcome as JSON
  --runtime R          sim (default); real: rerun the scenario over real loopback sockets (no trace
                       hash there: reproduced means the same checks fail)`,
  async run(argv) {
    const { values, positionals } = parseFlags(
      argv,
      {
        'check-determinism': { type: 'boolean' },
        json: { type: 'boolean' },
        runtime: { type: 'string', default: 'sim' },
      },
      true,
    );
    if (positionals.length !== 1) throw new UsageError('expected exactly one case file');
    if (values.runtime !== 'sim' && values.runtime !== 'real')
      throw new UsageError(`unknown runtime '${values.runtime}' (accepted: sim, real)`);
    const path = positionals[0]!;
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new UsageError(`cannot read case file ${path}: ${(e as Error).message}`);
    }
    let c;
    try {
      c = parseCaseFile(json, (s) => LAB.parseScenario(s));
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const stack = LAB.stackOf(c.scenario);
    if (values.runtime === 'real') {
      const r = await runOnReal(stack, c.scenario, c.simSeed, { faults: realFaultLayer });
      if ('unsupported' in r) throw new UsageError(`cannot replay on the real runtime: ${r.unsupported}`);
      const failing = r.checks.filter((x) => x.status === 'fail').map((x) => x.id);
      const expectedFailing = c.failed.map((x) => x.id);
      const reproduced = failing.join(',') === expectedFailing.join(',');
      if (values.json) printJson({ runtime: 'real', reproduced, failing, expectedFailing });
      else
        process.stdout.write(
          [
            `netlab replay ${path} --runtime real`,
            `  failing now: ${failing.join(', ') || 'none'}; recorded: ${expectedFailing.join(', ') || 'none'}`,
            ...r.checks.filter((x) => x.status === 'fail').map((x) => `  ${x.id}: ${x.actual ?? ''}`),
            `  ${reproduced ? 'reproduced' : 'NOT reproduced'}`,
          ].join('\n') + '\n',
        );
      return reproduced ? 0 : 1;
    }
    const first = await replayCase(stack, c);
    let deterministic = true;
    if (values['check-determinism'])
      deterministic = (await replayCase(stack, c)).traceHash === first.traceHash;
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
