#!/usr/bin/env node
// @ts-check
/**
 * `npm run mutate`: mutation testing of impl/ and sim/ with Stryker (stryker.config.mjs), judged by
 * the unit tests and the in-process property suites (vitest.mutate.config.ts). Not part of npm test.
 *
 * Default: a fixed-seed sample of mutants sized to finish within --budget minutes (60), scored with
 * its sampling error. --all: every mutant; --changed: every mutant of the files changed since a git
 * base; both reuse earlier results (Stryker's incremental file in reports/mutation/). Usage: USAGE in
 * bin/mutate-lib.mjs, or `npm run mutate -- --help`.
 *
 * How a sample is drawn: Stryker's own instrumenter (the very one @stryker-mutator/core uses, so
 * the mutants are the same) lists every mutant of the selection without running anything; each is
 * ranked by SHA-256(seed, file, location, mutator, replacement) and the N lowest are the sample (a
 * simple random sample, the same for the same seed and source). Stryker then runs with `mutate`
 * narrowed to those mutants' nodes, and the netlab-sample checker (bin/mutate-plugin.mjs) vetoes
 * the other mutants on those nodes before they reach a test runner.
 *
 * Plain ESM JavaScript, like bin/netlab: mutation testing runs on the sources, so this must start
 * without a build, and it imports devDependencies that have no business in dist/.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import process from 'node:process';
import { fileURLToPath, pathToFileURL, URL } from 'node:url';
import {
  aggregateReport,
  DEFAULT_COST,
  DEFAULT_PATHS,
  folderOf,
  formatScoreLine,
  mutantKey,
  mutateRanges,
  parseMutateArgs,
  sampleKeys,
  sampleSizeForBudget,
  toRelative,
  UsageError,
  USAGE,
} from './mutate-lib.mjs';
import { launcherState } from './mutate-plugin.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const OUT = path.join(ROOT, 'reports', 'mutation');
/** A sampled run of fewer mutants does not recalibrate the cost model. */
const MIN_CALIBRATION = 50;
const PLUGIN = fileURLToPath(new URL('./mutate-plugin.mjs', import.meta.url));

/** @param {string} line */
function say(line) {
  process.stderr.write(`${line}\n`);
}

/** Stryker's own copies of the instrumenter and minimatch (core pins them), not whatever is hoisted. */
async function strykerInternals() {
  const requireFromCore = createRequire(import.meta.resolve('@stryker-mutator/core'));
  const instrumenterPath = requireFromCore.resolve('@stryker-mutator/instrumenter');
  const instrumenter = /** @type {{ Instrumenter: new (log: object) => { instrument: Function } }} */ (
    await import(pathToFileURL(instrumenterPath).href)
  );
  const { minimatch } = /** @type {{ minimatch: (f: string, p: string, o: object) => boolean }} */ (
    requireFromCore('minimatch')
  );
  return { Instrumenter: instrumenter.Instrumenter, minimatch };
}

/** @param {string} dir @returns {string[]} absolute paths of the .ts files under dir */
function walk(dir) {
  /** @type {string[]} */
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(full));
    else if (entry.name.endsWith('.ts')) out.push(full);
  }
  return out;
}

/** @param {readonly string[]} args */
function git(args) {
  const r = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new UsageError(`git ${args.join(' ')} failed: ${(r.stderr || '').trim()}`);
  return r.stdout.trim();
}

/** The default base of --changed: the merge-base with main, or HEAD~1 when HEAD is on main. */
function defaultBase() {
  const head = git(['rev-parse', 'HEAD']);
  for (const ref of ['origin/main', 'main']) {
    const ok = spawnSync('git', ['rev-parse', '--verify', '--quiet', ref], { cwd: ROOT }).status === 0;
    if (!ok) continue;
    const base = git(['merge-base', 'HEAD', ref]);
    if (base !== head) return { base, label: `merge-base with ${ref}` };
  }
  return { base: git(['rev-parse', 'HEAD~1']), label: 'HEAD~1' };
}

/** Files changed since base: committed, staged, unstaged and untracked (relative paths). */
function changedFiles(base) {
  const tracked = git(['diff', '--name-only', '--diff-filter=d', base]).split('\n');
  const untracked = git(['ls-files', '--others', '--exclude-standard']).split('\n');
  return new Set([...tracked, ...untracked].filter(Boolean));
}

/** @param {string} file */
function readJson(file) {
  return JSON.parse(readFileSync(file, 'utf8'));
}

const COST_FILE = path.join(OUT, 'cost.json');

/**
 * The cost model for a selection (its folders, e.g. "impl/sp+sim"): what the last sampled run of the
 * same folders measured (reports/mutation/cost.json), else DEFAULT_COST. Keyed by folders because a
 * mutant's cost depends on them: a sim/ survivor reruns hundreds of tests, an impl/runtime/ one a few.
 * @param {string} key
 */
function costModel(key) {
  try {
    const known = /** @type {Record<string, { secondsPerMutant: number, fixedSeconds: number }>} */ (
      readJson(COST_FILE)
    )[key];
    if (known && known.secondsPerMutant > 0 && known.fixedSeconds > 0)
      return { ...known, from: `measured by the last sampled run of ${key}` };
  } catch {
    // no earlier run: the defaults
  }
  return { ...DEFAULT_COST, from: 'the default cost model' };
}

/**
 * Records what a sampled run measured, for costModel; a run of fewer than MIN_CALIBRATION mutants
 * says too little (its few mutants may all be cheap ones) and is not recorded.
 * @param {string} key
 * @param {{ secondsPerMutant: number | null, fixedSeconds: number }} timing
 * @param {number} drawn
 */
function recordCost(key, timing, drawn) {
  if (drawn < MIN_CALIBRATION || !timing.secondsPerMutant) return;
  /** @type {Record<string, unknown>} */
  let known = {};
  try {
    known = readJson(COST_FILE);
  } catch {
    // first record
  }
  known[key] = {
    secondsPerMutant: timing.secondsPerMutant,
    fixedSeconds: timing.fixedSeconds,
    mutants: drawn,
  };
  writeFileSync(COST_FILE, `${JSON.stringify(known, null, 2)}\n`);
}

async function main() {
  const startedMs = Date.now();
  const args = parseMutateArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  process.chdir(ROOT);
  const config = /** @type {{ default: { mutate: string[], concurrency?: number } }} */ (
    await import(pathToFileURL(path.join(ROOT, 'stryker.config.mjs')).href)
  ).default;
  const { Instrumenter, minimatch } = await strykerInternals();

  // The universe: what stryker.config.mjs mutates (its positive patterns, less its ! patterns).
  /** @param {string} file @param {string} pattern */
  const matches = (file, pattern) => minimatch(file, path.resolve(ROOT, pattern), { dot: false });
  const include = config.mutate.filter((p) => !p.startsWith('!'));
  const exclude = config.mutate.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
  const roots = [...new Set(include.map((p) => p.split('/')[0] ?? p))];
  const universe = roots
    .filter((r) => existsSync(path.join(ROOT, r)))
    .flatMap((r) => walk(path.join(ROOT, r)))
    .filter((f) => include.some((p) => matches(f, p)) && !exclude.some((p) => matches(f, p)))
    .sort();

  // The selection: paths (folders, files) or globs.
  /** @type {Set<string>} */
  const selected = new Set();
  for (const sel of args.paths.length ? args.paths : DEFAULT_PATHS) {
    const abs = path.resolve(ROOT, sel);
    const isDir = existsSync(abs) && statSync(abs).isDirectory();
    const hit = universe.filter((f) =>
      isDir ? f.startsWith(`${abs}${path.sep}`) : f === abs || matches(f, sel),
    );
    if (hit.length === 0)
      throw new UsageError(
        `${sel}: no file to mutate there (stryker.config.mjs mutates ${include.join(', ')})`,
      );
    hit.forEach((f) => selected.add(f));
  }
  let files = [...selected].sort();
  const mode = args.changed ? 'changed' : args.all ? 'all' : 'sampled';
  if (args.changed) {
    const { base, label } = args.changed.base
      ? { base: git(['rev-parse', args.changed.base]), label: args.changed.base }
      : defaultBase();
    const changed = changedFiles(base);
    files = files.filter((f) => changed.has(toRelative(f, ROOT)));
    say(`mutate: --changed since ${label} (${base.slice(0, 10)}): ${files.length} file(s) to mutate`);
    if (files.length === 0) {
      say('mutate: no changed source file in the selection: nothing to do');
      return 0;
    }
  }

  // Every mutant of the selection, from Stryker's own instrumenter (nothing runs).
  const quietLog = {
    isDebugEnabled: () => false,
    isTraceEnabled: () => false,
    debug() {},
    trace() {},
    info() {},
    warn: (/** @type {string} */ m) => say(`mutate: ${m}`),
    error: (/** @type {string} */ m) => say(`mutate: ${m}`),
    fatal: (/** @type {string} */ m) => say(`mutate: ${m}`),
  };
  const instrumented =
    /** @type {{ mutants: { fileName: string, status?: string, mutatorName: string,
     *   replacement: string, location: import('./mutate-lib.d.mts').Location }[] }} */ (
      await new Instrumenter(quietLog).instrument(
        files.map((name) => ({ name, content: readFileSync(name, 'utf8'), mutate: true })),
        { ignorers: [], plugins: null, excludedMutations: [] },
      )
    );
  const mutants = instrumented.mutants
    .filter((m) => m.status !== 'Ignored') // a `// Stryker disable` in the source
    .map((m) => {
      const relFile = toRelative(m.fileName, ROOT);
      return { relFile, location: m.location, key: mutantKey(m, relFile) };
    });
  /** @type {Record<string, number>} */
  const population = {};
  for (const m of mutants) population[folderOf(m.relFile)] = (population[folderOf(m.relFile)] ?? 0) + 1;
  const relFiles = files.map((f) => toRelative(f, ROOT));

  /** @type {string[] | null} */
  let sample = null;
  let sizing = '';
  if (mode === 'sampled') {
    const cost = costModel(Object.keys(population).sort().join('+'));
    const n = args.sample ?? sampleSizeForBudget(mutants.length, args.budgetMinutes, cost);
    sizing = args.sample
      ? `--sample ${args.sample}`
      : `sized for ${args.budgetMinutes} min at ~${cost.secondsPerMutant.toFixed(1)} s per mutant + ` +
        `${Math.round(cost.fixedSeconds / 60)} min fixed (${cost.from})`;
    if (n < mutants.length)
      sample = sampleKeys(
        mutants.map((m) => m.key),
        n,
        args.seed,
      );
  }
  const folderList = Object.entries(population)
    .map(([f, n]) => `${f} ${n}`)
    .join(', ');
  say(
    `mutate: ${relFiles.length} file(s), ${mutants.length} mutants (${folderList}); ` +
      (sample
        ? `sample of ${sample.length}, seed ${args.seed}, ${sizing}`
        : `running every mutant${mode === 'sampled' ? ` (${sizing} covers them all)` : ''}`),
  );
  if (args.list) {
    for (const f of relFiles) process.stdout.write(`${f}\n`);
    if (sample) for (const k of sample) process.stdout.write(`sample ${k}\n`);
    return 0;
  }
  if (mutants.length === 0) {
    say('mutate: the selection has no mutants: nothing to do');
    return 0;
  }

  mkdirSync(OUT, { recursive: true });
  const sampleFile = path.join(OUT, 'sample.json');
  const sampleSet = sample ? new Set(sample) : null;
  /** @type {Record<string, unknown>} */
  const strykerOptions = {
    reporters: ['html', 'json', 'netlab-progress'],
    appendPlugins: [PLUGIN],
    ...(args.concurrency ? { concurrency: args.concurrency } : {}),
  };
  if (sample) {
    const drawn = mutants.filter((m) => sampleSet?.has(m.key));
    writeFileSync(sampleFile, `${JSON.stringify({ root: ROOT, seed: args.seed, keys: sample }, null, 1)}\n`);
    Object.assign(strykerOptions, {
      mutate: mutateRanges(drawn),
      checkers: ['netlab-sample'],
      netlabSample: { file: sampleFile },
    });
  } else {
    // Every mutant: reuse what an earlier exhaustive run found (sampled runs never write this file).
    Object.assign(strykerOptions, { mutate: relFiles, incremental: mode !== 'sampled', force: args.force });
  }

  const state = launcherState();
  state.sample = sampleSet;
  state.root = ROOT;
  state.startedMs = startedMs;
  const { Stryker } = await import('@stryker-mutator/core');
  try {
    await new Stryker(/** @type {never} */ (strykerOptions)).runMutationTest();
  } catch (error) {
    say(`mutate: Stryker failed: ${error instanceof Error ? error.message : String(error)}`);
    return 2;
  }
  const doneMs = Date.now();

  const report = readJson(path.join(OUT, 'mutation.json'));
  const aggregate = aggregateReport(report, {
    root: ROOT,
    files: new Set(relFiles),
    sample: sampleSet,
    population,
  });
  const minutes = (doneMs - state.startedMs) / 60_000;
  // A "sample" as large as the selection is a census: the line says so.
  const lineMode = sample ? 'sampled' : mode === 'changed' ? 'changed' : 'all';
  const line = formatScoreLine(aggregate, { mode: lineMode, seed: args.seed, minutes });
  const fixedSeconds = ((state.dryRunDoneMs ?? doneMs) - state.startedMs) / 1000;
  const mutantSeconds = (doneMs - (state.dryRunDoneMs ?? doneMs)) / 1000;
  const summary = {
    schema: 'netlab/mutation-summary@1',
    line,
    mode,
    seed: mode === 'sampled' ? args.seed : null,
    selection: args.paths.length ? args.paths : DEFAULT_PATHS,
    files: relFiles,
    ...aggregate,
    timing: {
      totalSeconds: Math.round((doneMs - state.startedMs) / 1000),
      fixedSeconds: Math.round(fixedSeconds),
      mutantSeconds: Math.round(mutantSeconds),
      secondsPerMutant: aggregate.drawn > 0 ? Number((mutantSeconds / aggregate.drawn).toFixed(2)) : null,
      concurrency: args.concurrency ?? config.concurrency ?? null,
    },
    report: 'reports/mutation/index.html',
    json: 'reports/mutation/mutation.json',
  };
  writeFileSync(path.join(OUT, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  if (mode === 'sampled')
    recordCost(Object.keys(population).sort().join('+'), summary.timing, aggregate.drawn);

  if (aggregate.survivors.length) {
    say(`mutate: ${aggregate.survivors.length} surviving or uncovered mutant(s):`);
    for (const s of aggregate.survivors)
      say(
        `  ${s.file}:${s.line}  ${s.mutator}  ${s.original} → ${s.replacement}${s.status === 'NoCoverage' ? '  (no coverage)' : ''}`,
      );
  }
  say('mutate: report reports/mutation/index.html, summary reports/mutation/summary.json');
  process.stdout.write(`${line}\n`);
  if (args.minScore !== null && (aggregate.score === null || aggregate.score * 100 < args.minScore)) {
    say(`mutate: score below --min-score ${args.minScore}%`);
    return 1;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (/** @type {unknown} */ error) => {
    if (error instanceof UsageError) {
      process.stderr.write(`mutate: ${error.message}\n${USAGE.split('\n')[0]}\n`);
    } else {
      process.stderr.write(
        `mutate: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
    }
    process.exit(2);
  },
);
