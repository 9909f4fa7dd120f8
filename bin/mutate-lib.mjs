// @ts-check
/**
 * The pure half of `npm run mutate` (bin/mutate.mjs): flag parsing, the fixed-seed sample of
 * mutants, the mutation score with its sampling error, per-folder aggregation of Stryker's JSON
 * report, and the one-line summary. No I/O here, so bin/mutate-lib.test.ts covers it in `npm test`.
 *
 * Plain ESM JavaScript for the launcher's reason (see bin/mutate.mjs); types in mutate-lib.d.mts.
 */
import { createHash } from 'node:crypto';

export const DEFAULT_SEED = '1';
export const DEFAULT_BUDGET_MINUTES = 60;
/** What `npm run mutate` mutates when no path is given. */
export const DEFAULT_PATHS = ['impl', 'sim'];
/** Below this many mutants a "sample" says too little to be worth a run. */
export const MIN_SAMPLE = 30;
/** z for a two-sided 95 % interval. */
export const Z95 = 1.959964;

/**
 * Cost model for sizing the default sample when no earlier sampled run on this machine measured it
 * (reports/mutation/summary.json `timing` wins): wall seconds per sampled mutant with 2 test-runner
 * processes, and the fixed cost (listing the mutants, the sandbox, the initial test run with
 * per-test coverage). Measured on the 2-core lab machine while other work ran: 216 mutants of
 * impl/sp and sim in 2,354 s (10.9 s each) after 63 s fixed (README, "Mutation testing").
 */
export const DEFAULT_COST = { secondsPerMutant: 11, fixedSeconds: 120 };

export class UsageError extends Error {}

export const USAGE = `usage: npm run mutate -- [PATH|GLOB ...] [options]

Mutation testing of impl/ and sim/ with Stryker, judged by the unit tests and the in-process
property suites (vitest.mutate.config.ts). Not part of npm test.

  PATH|GLOB          what to mutate: a folder (impl/sp), a file, or a glob; default impl/ and sim/
  --mutate GLOB      the same, as a flag (repeatable)
  --sample N         run a fixed-seed sample of N mutants (default: as many as fit --budget)
  --budget MINUTES   size the default sample to finish within MINUTES (default ${DEFAULT_BUDGET_MINUTES})
  --seed S           the sample's seed (default ${DEFAULT_SEED}); same seed and source, same sample
  --all              every mutant of the selection (reuses earlier results: Stryker --incremental)
  --changed[=BASE]   every mutant of the selected files changed since BASE (committed, staged,
                     unstaged or untracked), reusing earlier results; BASE defaults to the
                     merge-base with main (HEAD~1 on main itself)
  --force            with --all or --changed: rerun every mutant, ignoring earlier results
  --concurrency N    test-runner processes (default: stryker.config.mjs, 2)
  --min-score P      exit 1 when the score is below P percent
  --list             print the selection, its mutant count and the sample, run nothing
  -h, --help         this text

Writes reports/mutation/index.html (Stryker's report), mutation.json (its JSON report) and
summary.json (the score, its 95 % interval, per folder, the surviving mutants); prints one line.
Exit 0 done, 1 score below --min-score, 2 usage or internal error.`;

/**
 * @param {string} text
 * @param {string} flag
 */
function positiveInt(text, flag) {
  if (!/^[1-9][0-9]*$/.test(text)) throw new UsageError(`${flag} wants a positive integer, got "${text}"`);
  return Number(text);
}

/**
 * Parses the launcher's arguments (what follows `npm run mutate --`).
 * @param {readonly string[]} argv
 * @returns {import('./mutate-lib.d.mts').MutateArgs}
 */
export function parseMutateArgs(argv) {
  /** @type {import('./mutate-lib.d.mts').MutateArgs} */
  const args = {
    help: false,
    paths: [],
    sample: null,
    budgetMinutes: DEFAULT_BUDGET_MINUTES,
    budgetGiven: false,
    seed: DEFAULT_SEED,
    all: false,
    changed: null,
    force: false,
    concurrency: null,
    minScore: null,
    list: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = /** @type {string} */ (argv[i]);
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : null;
    /** The flag's value: inline (--flag=v) or the next argument. */
    const value = () => {
      if (inline !== null) return inline;
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('-')) throw new UsageError(`${name} needs a value`);
      i++;
      return next;
    };
    switch (name) {
      case '-h':
      case '--help':
        args.help = true;
        break;
      case '--mutate':
        args.paths.push(value());
        break;
      case '--sample':
        args.sample = positiveInt(value(), '--sample');
        break;
      case '--budget':
        args.budgetMinutes = positiveInt(value(), '--budget');
        args.budgetGiven = true;
        break;
      case '--seed': {
        const seed = value();
        if (!/^[A-Za-z0-9._-]{1,64}$/.test(seed)) throw new UsageError(`--seed wants letters, digits, . _ -`);
        args.seed = seed;
        break;
      }
      case '--all':
        args.all = true;
        break;
      case '--changed':
        // The base only inline: `--changed impl/sp` means "changed files under impl/sp".
        if (inline === '') throw new UsageError('--changed= needs a git revision');
        args.changed = { base: inline };
        break;
      case '--force':
        args.force = true;
        break;
      case '--concurrency':
        args.concurrency = positiveInt(value(), '--concurrency');
        break;
      case '--min-score': {
        const text = value();
        const p = Number(text);
        if (text.trim() === '' || !Number.isFinite(p) || p < 0 || p > 100)
          throw new UsageError(`--min-score wants a percentage 0..100, got "${text}"`);
        args.minScore = p;
        break;
      }
      case '--list':
        args.list = true;
        break;
      default:
        if (arg.startsWith('-')) throw new UsageError(`unknown flag ${arg}`);
        args.paths.push(arg);
    }
  }
  const exhaustive = [args.all && '--all', args.changed && '--changed'].filter(Boolean);
  if (exhaustive.length > 1) throw new UsageError('--all and --changed exclude each other');
  if (exhaustive.length > 0 && args.sample !== null)
    throw new UsageError(`${String(exhaustive[0])} runs every mutant: drop --sample`);
  if (exhaustive.length > 0 && args.budgetGiven)
    throw new UsageError(`${String(exhaustive[0])} runs every mutant: drop --budget`);
  if (args.force && exhaustive.length === 0) throw new UsageError('--force goes with --all or --changed');
  if (args.sample !== null && args.budgetGiven) throw new UsageError('give --sample or --budget, not both');
  return args;
}

/**
 * A mutant's identity across runs: file (relative, '/'-separated), 0-based location as Stryker's
 * instrumenter gives it, mutator and replacement. Stable while the lines above it don't move.
 * @param {import('./mutate-lib.d.mts').MutantLike} m
 * @param {string} relFile
 */
export function mutantKey(m, relFile) {
  const { start, end } = m.location;
  return `${relFile}@${start.line}:${start.column}-${end.line}:${end.column} ${m.mutatorName} ${m.replacement ?? ''}`;
}

/**
 * A mutation-testing-report-schema mutant (1-based lines and columns) under the same key.
 * @param {import('./mutate-lib.d.mts').ReportMutant} m
 * @param {string} relFile
 */
export function reportMutantKey(m, relFile) {
  const { start, end } = m.location;
  return mutantKey(
    {
      mutatorName: m.mutatorName,
      replacement: m.replacement ?? null,
      location: {
        start: { line: start.line - 1, column: start.column - 1 },
        end: { line: end.line - 1, column: end.column - 1 },
      },
    },
    relFile,
  );
}

/**
 * A fixed-seed simple random sample (without replacement) of `n` keys: every key is ranked by
 * SHA-256(seed, key) and the `n` lowest ranks are taken. The same seed and keys give the same
 * sample whatever their order; a mutant's rank does not depend on the others, so an edit elsewhere
 * leaves the rest of the sample alone.
 * @param {readonly string[]} keys
 * @param {number} n
 * @param {string} seed
 * @returns {string[]} the sampled keys, in rank order
 */
export function sampleKeys(keys, n, seed) {
  const ranked = [...new Set(keys)].map((key) => ({
    key,
    rank: createHash('sha256').update(`${seed}\0${key}`).digest('hex'),
  }));
  ranked.sort((a, b) => (a.rank < b.rank ? -1 : a.rank > b.rank ? 1 : 0));
  return ranked.slice(0, Math.max(0, n)).map((r) => r.key);
}

/**
 * How many mutants fit the budget: (budget - fixed cost) / seconds per mutant, at least MIN_SAMPLE,
 * at most the population.
 * @param {number} population
 * @param {number} budgetMinutes
 * @param {{ secondsPerMutant: number, fixedSeconds: number }} cost
 */
export function sampleSizeForBudget(population, budgetMinutes, cost) {
  const fit = Math.floor((budgetMinutes * 60 - cost.fixedSeconds) / Math.max(0.1, cost.secondsPerMutant));
  return Math.min(population, Math.max(MIN_SAMPLE, fit));
}

/** Statuses of the mutation-testing report schema, as counted here. */
export const STATUS_FIELDS = /** @type {const} */ ({
  Killed: 'killed',
  Survived: 'survived',
  NoCoverage: 'noCoverage',
  Timeout: 'timeout',
  RuntimeError: 'runtimeError',
  CompileError: 'compileError',
  Ignored: 'ignored',
  Pending: 'pending',
});

/** @returns {import('./mutate-lib.d.mts').Counts} */
export function emptyCounts() {
  return {
    killed: 0,
    survived: 0,
    noCoverage: 0,
    timeout: 0,
    runtimeError: 0,
    compileError: 0,
    ignored: 0,
    pending: 0,
  };
}

/**
 * Stryker's mutation score over valid mutants, (killed + timeout) / (killed + timeout + survived +
 * no coverage), and its 95 % interval as an estimate of the population's score from a simple random
 * sample: the normal approximation to the binomial, with the finite-population correction
 * (N - n) / (N - 1), so a census (n = N) has no sampling error. `wilson` is the Wilson interval with
 * the same correction, honest where the normal one collapses (a score of 0 or 100 %, few mutants).
 * @param {import('./mutate-lib.d.mts').Counts} c
 * @param {number} sampled mutants drawn (n)
 * @param {number} population mutants in the selection (N)
 * @returns {import('./mutate-lib.d.mts').Score}
 */
export function scoreWithError(c, sampled, population) {
  const detected = c.killed + c.timeout;
  const valid = detected + c.survived + c.noCoverage;
  if (valid === 0) return { score: null, valid, halfWidth: null, wilson: null };
  const p = detected / valid;
  const fpc = population > 1 ? Math.max(0, (population - sampled) / (population - 1)) : 0;
  const halfWidth = Z95 * Math.sqrt(((p * (1 - p)) / valid) * fpc);
  // Wilson with an effective sample size n / fpc (a census: infinite, the interval shrinks to p).
  let wilson = /** @type {[number, number]} */ ([p, p]);
  if (fpc > 0) {
    const n = valid / fpc;
    const z2 = Z95 * Z95;
    const centre = (p + z2 / (2 * n)) / (1 + z2 / n);
    const half = (Z95 * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / (1 + z2 / n);
    wilson = [Math.max(0, centre - half), Math.min(1, centre + half)];
  }
  return { score: p, valid, halfWidth, wilson };
}

/**
 * The folder a file's score is reported under: impl/<stack> for the stacks and the runtime seam,
 * otherwise the top folder (sim).
 * @param {string} relFile
 */
export function folderOf(relFile) {
  const parts = relFile.split('/');
  if (parts[0] === 'impl' && parts.length > 2) return `impl/${parts[1]}`;
  return parts[0] ?? relFile;
}

/**
 * The source text a report location covers (1-based lines and columns, end exclusive).
 * @param {string} source
 * @param {import('./mutate-lib.d.mts').ReportLocation} loc
 */
export function sourceAt(source, loc) {
  const lines = source.split('\n');
  if (loc.start.line === loc.end.line)
    return (lines[loc.start.line - 1] ?? '').slice(loc.start.column - 1, loc.end.column - 1);
  const first = (lines[loc.start.line - 1] ?? '').slice(loc.start.column - 1);
  const middle = lines.slice(loc.start.line, loc.end.line - 1);
  const last = (lines[loc.end.line - 1] ?? '').slice(0, loc.end.column - 1);
  return [first, ...middle, last].join('\n');
}

/** @param {string} text */
function oneLine(text, max = 80) {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

/**
 * Aggregates Stryker's JSON report (mutation-testing-report-schema: files -> mutants -> status)
 * over the selection: only `files` (relative paths) count, and only mutants in `sampleKeys` when a
 * sample was drawn (a sampled run also reports the mutants it skipped, as compile errors).
 * `population` is what the selection holds per folder (from the enumeration).
 * @param {import('./mutate-lib.d.mts').StrykerReport} report
 * @param {{ root: string, files: ReadonlySet<string>, sample: ReadonlySet<string> | null,
 *           population: Readonly<Record<string, number>> }} scope
 * @returns {import('./mutate-lib.d.mts').Aggregate}
 */
export function aggregateReport(report, scope) {
  const counts = emptyCounts();
  /** @type {Record<string, import('./mutate-lib.d.mts').Counts>} */
  const byFolder = {};
  /** @type {import('./mutate-lib.d.mts').Survivor[]} */
  const survivors = [];
  let drawn = 0;
  /** @type {Record<string, number>} */
  const drawnByFolder = {};
  for (const [name, file] of Object.entries(report.files)) {
    const rel = toRelative(name, scope.root);
    if (!scope.files.has(rel)) continue;
    const folder = folderOf(rel);
    for (const m of file.mutants) {
      if (scope.sample && !scope.sample.has(reportMutantKey(m, rel))) continue;
      const field = STATUS_FIELDS[/** @type {keyof typeof STATUS_FIELDS} */ (m.status)];
      if (!field) throw new Error(`unknown mutant status "${m.status}" in ${rel}`);
      if (field === 'ignored') continue; // disabled in the source: not part of the population either
      drawn++;
      drawnByFolder[folder] = (drawnByFolder[folder] ?? 0) + 1;
      counts[field]++;
      (byFolder[folder] ??= emptyCounts())[field]++;
      if (field === 'survived' || field === 'noCoverage') {
        survivors.push({
          file: rel,
          line: m.location.start.line,
          column: m.location.start.column,
          mutator: m.mutatorName,
          original: oneLine(sourceAt(file.source, m.location)),
          replacement: oneLine(m.replacement ?? ''),
          status: m.status,
        });
      }
    }
  }
  survivors.sort((a, b) =>
    a.mutator !== b.mutator
      ? a.mutator < b.mutator
        ? -1
        : 1
      : a.file !== b.file
        ? a.file < b.file
          ? -1
          : 1
        : a.line - b.line,
  );
  const populationTotal = Object.values(scope.population).reduce((s, n) => s + n, 0);
  /** @type {import('./mutate-lib.d.mts').Aggregate['folders']} */
  const folders = {};
  for (const folder of Object.keys(scope.population).sort()) {
    const c = byFolder[folder] ?? emptyCounts();
    const population = scope.population[folder] ?? 0;
    const n = scope.sample ? (drawnByFolder[folder] ?? 0) : population;
    folders[folder] = { population, drawn: n, counts: c, ...scoreWithError(c, n, population) };
  }
  const n = scope.sample ? drawn : populationTotal;
  return {
    population: populationTotal,
    drawn: n,
    counts,
    ...scoreWithError(counts, n, populationTotal),
    folders,
    survivors,
  };
}

/**
 * @param {string} name
 * @param {string} root
 */
export function toRelative(name, root) {
  const norm = name.replace(/\\/g, '/');
  const base = root.replace(/\\/g, '/').replace(/\/$/, '');
  return norm.startsWith(`${base}/`) ? norm.slice(base.length + 1) : norm;
}

/** @param {number | null} p */
function pct(p) {
  return p === null ? 'n/a' : `${(p * 100).toFixed(1)}%`;
}

/**
 * "87.3% ± 2.1%"; where the normal interval collapses on a sample (a score of 0 or 100 %), the
 * Wilson interval instead: "100.0% (86.4%–100.0%)"; a census: the score alone.
 * @param {import('./mutate-lib.d.mts').Score} s
 */
export function scoreText(s) {
  if (s.score === null) return 'n/a';
  if (s.halfWidth && s.halfWidth > 0) return `${pct(s.score)} ± ${pct(s.halfWidth)}`;
  if (s.wilson && s.wilson[1] > s.wilson[0])
    return `${pct(s.score)} (${pct(s.wilson[0])}–${pct(s.wilson[1])})`;
  return pct(s.score);
}

/**
 * The one line `npm run mutate` ends with.
 * @param {import('./mutate-lib.d.mts').Aggregate} a
 * @param {{ mode: 'sampled' | 'all' | 'changed', seed: string, minutes: number }} run
 */
export function formatScoreLine(a, run) {
  const how =
    run.mode === 'sampled'
      ? `95% CI, sample of ${a.drawn} of ${a.population} mutants, seed ${run.seed}`
      : run.mode === 'changed'
        ? `every one of ${a.population} mutants in the changed files`
        : `every one of ${a.population} mutants`;
  const c = a.counts;
  const counts = [
    `${c.killed} killed`,
    `${c.survived} survived`,
    `${c.noCoverage} no coverage`,
    `${c.timeout} timeout`,
    ...(c.runtimeError ? [`${c.runtimeError} runtime error`] : []),
    ...(c.compileError ? [`${c.compileError} compile error`] : []),
  ].join(', ');
  const folders = Object.entries(a.folders)
    .map(([name, f]) => `${name} ${scoreText(f)}`)
    .join(', ');
  return `mutation score ${scoreText(a)} (${how}): ${counts}; ${folders}; ${Math.round(run.minutes)} min`;
}

/**
 * Stryker mutate ranges ("file:line:col-line:col", lines 1-based, columns 0-based as Stryker reads
 * them) that cover exactly the sampled mutants' nodes, one per distinct node.
 * @param {readonly { relFile: string, location: import('./mutate-lib.d.mts').Location }[]} mutants
 */
export function mutateRanges(mutants) {
  const ranges = new Set();
  for (const { relFile, location: l } of mutants)
    ranges.add(`${relFile}:${l.start.line + 1}:${l.start.column}-${l.end.line + 1}:${l.end.column}`);
  return [...ranges].sort();
}
