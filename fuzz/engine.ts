/**
 * The fuzz loop: start from a corpus (committed seeds, a corpus folder, fast-check generated
 * inputs), then repeatedly pick a corpus input, mutate it, run it through the target and its
 * oracles; inputs that reach new decoder states (fuzz/coverage.ts) join the corpus, inputs that break
 * an oracle are minimized and reported once per oracle. Pure and deterministic: the wall clock comes
 * in as a function (only --time and the speed figure use it) and files are the caller's (fuzz/io.ts),
 * so given the seed, the corpus and --runs, the same inputs run in the same order.
 */
import { Rng } from '../sim/rng.js';
import { Coverage } from './coverage.js';
import { normalizeCuts, type FuzzInput } from './input.js';
import { Mutator, stable, type CorpusInput } from './mutate.js';
import type { ExecContext, Finding, FuzzTarget, OracleId, TargetRunner } from './target.js';

/** Defaults of the bounds below; the CLI documents them. */
export const DEFAULT_GENERATED_SEEDS = 256;
export const DEFAULT_MAX_CORPUS = 10_000;
export const DEFAULT_MAX_CRASHERS = 10;
export const DEFAULT_MINIMIZE_EXECS = 20_000;
/** Sync execs between two looks at the clock (and between two host turns). */
const EXECS_PER_SLICE = 256;

export interface NamedInput {
  /** Where it came from (a file name, "generated #3"), for reports. */
  name: string;
  input: FuzzInput;
}

export interface FuzzOptions {
  target: FuzzTarget;
  /** Implementation under test (default "netlab"); validated by the caller. */
  impl?: string;
  /** Root seed: every random draw of the run derives from it. */
  seed: string;
  /** Stop after this many execs (the initial corpus included). At least one of runs/timeMs is required. */
  runs?: number;
  /** Stop after this much wall time in ms (checked every 256 execs). */
  timeMs?: number;
  /** Milliseconds from any fixed origin (the CLI passes performance.now); only used for timeMs and speed. */
  clock: () => number;
  /** Inputs to start from (seed files, a corpus folder), run first, in order. */
  initialCorpus?: readonly NamedInput[];
  /** fast-check generated inputs added to the initial corpus (default 256). */
  generatedSeeds?: number;
  /** Bound on input size in bytes (default: the target's). */
  maxLenBytes?: number;
  /** Bound on the in-memory corpus (default 10 000); further new-coverage inputs are not kept. */
  maxCorpus?: number;
  /** Stop after this many distinct crashers (one per oracle; default 10). */
  maxCrashers?: number;
  /** Execs spent minimizing each crasher (default 20 000; 0 = keep it as found). */
  minimizeExecs?: number;
  /** Called for each input that joined the corpus during the run (not the initial ones). */
  onCorpusInput?(input: FuzzInput): void;
  /** Called once per crasher, after minimization. */
  onCrasher?(crasher: Crasher): void | Promise<void>;
  /**
   * Called with every input executed by the main loop (benchmarks replay them decode-only). Its
   * data is a view of a reused buffer, valid during the call only: copy what you keep.
   */
  onExec?(input: FuzzInput): void;
}

export interface Crasher {
  oracle: OracleId;
  message: string;
  /** The minimized input (the finding it gives may word its numbers differently; the oracle is the same). */
  input: FuzzInput;
  /** The input as found. */
  found: FuzzInput;
  /** 1-based exec at which it was found. */
  exec: number;
  minimizeExecs: number;
}

export interface FuzzResult {
  target: string;
  impl: string;
  seed: string;
  execs: number;
  /** Execs that could not be judged (ExecContext.skipped). */
  skipped: number;
  seconds: number;
  execsPerSec: number;
  corpusSize: number;
  /** Coverage slots reached (fuzz/coverage.ts). */
  coverageSlots: number;
  crashers: Crasher[];
  stoppedBy: 'runs' | 'time' | 'crashers';
}

/** A numeric seed for fast-check, from the root seed. */
export function numericSeed(seed: string, name: string): number {
  return Math.floor(new Rng(seed).fork(name).next() * 0x7fffffff);
}

/** Runs one input through a runner; throws that escape the target are findings too. */
async function execOnce(runner: TargetRunner, input: FuzzInput, ctx: ExecContext): Promise<Finding | null> {
  try {
    return await runner.exec(input, ctx);
  } catch (e) {
    return { oracle: 'untyped-error', message: `escaped the target: ${describeError(e)}` };
  }
}

function execOnceSync(runner: TargetRunner, input: FuzzInput, ctx: ExecContext): Finding | null {
  try {
    return runner.exec(input, ctx) as Finding | null;
  } catch (e) {
    return { oracle: 'untyped-error', message: `escaped the target: ${describeError(e)}` };
  }
}

export function describeError(e: unknown): string {
  if (e instanceof Error) return `${e.name}: ${e.message}`;
  return `non-Error thrown: ${String(e)}`;
}

/**
 * Runs `work` with V8's stack capture off (Error.stackTraceLimit = 0). Most fuzz inputs end in a
 * typed error, and capturing its stack costs more than decoding the input; findings carry their
 * message, and a replay shows the stack. Restored afterwards, even on a throw.
 */
export async function withoutStackTraces<T>(work: () => Promise<T>): Promise<T> {
  const before = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return await work();
  } finally {
    Error.stackTraceLimit = before;
  }
}

export async function runFuzz(options: FuzzOptions): Promise<FuzzResult> {
  return withoutStackTraces(() => fuzzLoop(options));
}

async function fuzzLoop(options: FuzzOptions): Promise<FuzzResult> {
  const { target, clock } = options;
  const impl = options.impl ?? 'netlab';
  if (options.runs === undefined && options.timeMs === undefined)
    throw new Error('runFuzz needs a bound: runs or timeMs');
  const runs = options.runs ?? Number.MAX_SAFE_INTEGER;
  const maxLen = options.maxLenBytes ?? target.maxLenBytes;
  const maxCorpus = options.maxCorpus ?? DEFAULT_MAX_CORPUS;
  const maxCrashers = options.maxCrashers ?? DEFAULT_MAX_CRASHERS;
  const minimizeExecs = options.minimizeExecs ?? DEFAULT_MINIMIZE_EXECS;
  const runner = target.runner(impl);
  const isAsync = target.async;
  const coverage = new Coverage();
  const ctx: ExecContext = { coverage, skipped: false };
  const rng = new Rng(options.seed).fork(`fuzz/${target.name}`);
  const mutator = new Mutator(rng.fork('mutate'), target.hints, target.knobs.length, maxLen);
  const corpus: CorpusInput[] = [];
  const crashers: Crasher[] = [];
  const seen = new Set<OracleId>();
  let execs = 0;
  let skipped = 0;
  const start = clock();
  const deadline = options.timeMs === undefined ? Infinity : start + options.timeMs;

  const entry = (input: FuzzInput): CorpusInput => ({ input, fields: target.hints.fields(input) });

  const onFinding = async (finding: Finding, input: FuzzInput): Promise<void> => {
    if (seen.has(finding.oracle)) return;
    seen.add(finding.oracle);
    const m = await minimize(runner, input, finding.oracle, minimizeExecs, target.async, target.hints.fields);
    const crasher: Crasher = {
      oracle: finding.oracle,
      message: m.finding?.message ?? finding.message,
      input: m.input,
      found: input,
      exec: execs,
      minimizeExecs: m.execs,
    };
    crashers.push(crasher);
    await options.onCrasher?.(crasher);
  };

  /** Judges one exec's outcome: returns true when the input reached new coverage. */
  const settle = (finding: Finding | null): boolean => {
    if (finding !== null || ctx.skipped) {
      if (ctx.skipped) skipped++;
      coverage.discard();
      return false;
    }
    return coverage.commit() > 0;
  };

  // The initial corpus: files first, then generated structured inputs. Every one is kept (even
  // without new coverage) so mutation starts from all of them.
  const initial: FuzzInput[] = (options.initialCorpus ?? []).map((n) => clip(n.input, maxLen));
  const generated = options.generatedSeeds ?? DEFAULT_GENERATED_SEEDS;
  if (generated > 0)
    for (const g of target.seeds(numericSeed(options.seed, `fuzz/${target.name}/seeds`), generated))
      initial.push(clip(g, maxLen));
  let stoppedBy: FuzzResult['stoppedBy'] = 'runs';
  for (const input of initial) {
    if (execs >= runs) break;
    ctx.skipped = false;
    coverage.begin();
    execs++;
    const finding = target.async ? await execOnce(runner, input, ctx) : execOnceSync(runner, input, ctx);
    settle(finding);
    if (corpus.length < maxCorpus) corpus.push(entry(input));
    if (finding !== null) await onFinding(finding, input);
    if (crashers.length >= maxCrashers) break;
  }
  if (corpus.length === 0) corpus.push(entry({ data: new Uint8Array(0), cuts: [], knob: 0 }));

  // The main loop, in slices: a sync target runs a slice without yielding; the clock is read once
  // per slice.
  main: while (execs < runs && crashers.length < maxCrashers) {
    if (clock() >= deadline) {
      stoppedBy = 'time';
      break;
    }
    const sliceEnd = Math.min(runs, execs + EXECS_PER_SLICE);
    while (execs < sliceEnd) {
      const parent = corpus[Math.floor(rng.next() * corpus.length)]!;
      const other = corpus[Math.floor(rng.next() * corpus.length)]!;
      const input = mutator.mutate(parent, other);
      options.onExec?.(input);
      ctx.skipped = false;
      coverage.begin();
      execs++;
      const finding = isAsync ? await execOnce(runner, input, ctx) : execOnceSync(runner, input, ctx);
      if (settle(finding)) {
        const kept = stable(input);
        if (corpus.length < maxCorpus) corpus.push(entry(kept));
        options.onCorpusInput?.(kept);
      }
      if (finding !== null) {
        await onFinding(finding, stable(input));
        if (crashers.length >= maxCrashers) break main;
      }
    }
  }
  if (crashers.length >= maxCrashers) stoppedBy = 'crashers';
  const seconds = Math.max((clock() - start) / 1000, 1e-9);
  return {
    target: target.name,
    impl,
    seed: options.seed,
    execs,
    skipped,
    seconds,
    execsPerSec: execs / seconds,
    corpusSize: corpus.length,
    coverageSlots: coverage.slots,
    crashers,
    stoppedBy,
  };
}

function clip(input: FuzzInput, maxLen: number): FuzzInput {
  if (input.data.length <= maxLen) return input;
  const data = input.data.slice(0, maxLen);
  return { data, cuts: normalizeCuts(input.cuts, data.length), knob: input.knob };
}

/** Runs one input once (replay): the finding, or null when every oracle holds. */
export async function replayInput(
  target: FuzzTarget,
  impl: string,
  input: FuzzInput,
): Promise<Finding | null> {
  const ctx: ExecContext = { coverage: new Coverage(), skipped: false };
  ctx.coverage.begin();
  return execOnce(target.runner(impl), input, ctx);
}

/**
 * Delta-debugging minimization: drops chunk boundaries, then ever smaller ranges of bytes, keeping
 * each removal after which the same oracle still fails; bounded by `budget` execs.
 */
export async function minimize(
  runner: TargetRunner,
  found: FuzzInput,
  oracle: OracleId,
  budget: number,
  async: boolean,
  fields?: (input: FuzzInput) => readonly number[],
): Promise<{ input: FuzzInput; finding: Finding | null; execs: number }> {
  const ctx: ExecContext = { coverage: new Coverage(), skipped: false };
  let execs = 0;
  let best = found;
  let bestFinding: Finding | null = null;
  const fails = async (candidate: FuzzInput): Promise<boolean> => {
    if (execs >= budget) return false;
    execs++;
    ctx.skipped = false;
    ctx.coverage.begin();
    const f = async ? await execOnce(runner, candidate, ctx) : execOnceSync(runner, candidate, ctx);
    ctx.coverage.discard();
    if (f === null || f.oracle !== oracle) return false;
    bestFinding = f;
    return true;
  };
  if (!(await fails(best))) return { input: found, finding: null, execs };

  // Chunk boundaries: try none at all, then each one alone.
  if (best.cuts.length > 0) {
    const none = { ...best, cuts: [] };
    if (await fails(none)) best = none;
    for (let i = best.cuts.length - 1; i >= 0 && execs < budget; i--) {
      const cuts = best.cuts.filter((_, k) => k !== i);
      const c = { ...best, cuts };
      if (await fails(c)) best = c;
    }
  }
  // Structure first: whole units between two consecutive fields (a frame, a header word), last first.
  if (fields !== undefined) {
    for (let progress = true; progress && execs < budget;) {
      progress = false;
      const at = [...new Set(fields(best))].filter((f) => f <= best.data.length).sort((x, y) => x - y);
      // Spans of one and of two consecutive fields (a frame's header and body are two fields in
      // some targets), the last ones first.
      search: for (let i = at.length - 2; i >= 0 && execs < budget; i--) {
        for (let span = 1; span <= 2 && i + span < at.length; span++) {
          const c = removeRange(best, at[i]!, at[i + span]! - at[i]!);
          if (c.data.length < best.data.length && (await fails(c))) {
            best = c;
            progress = true;
            break search;
          }
        }
      }
    }
  }
  // Bytes: remove ranges of halving size, repeated until a round removes nothing (delta debugging
  // with a fixpoint: a removal late in a round can make an earlier one possible).
  for (let progress = true; progress && execs < budget;) {
    progress = false;
    for (let size = highestPowerOfTwoAtMost(best.data.length); size >= 1 && execs < budget; size >>= 1) {
      for (let at = 0; at + size <= best.data.length && execs < budget;) {
        const c = removeRange(best, at, size);
        if (await fails(c)) {
          best = c;
          progress = true;
        } else at += size;
      }
    }
  }
  // Bytes left: zero those that do not matter, so the file shows what does.
  for (let i = 0; i < best.data.length && execs < budget; i++) {
    if (best.data[i] === 0) continue;
    const data = best.data.slice();
    data[i] = 0;
    const c = { ...best, data };
    if (await fails(c)) best = c;
  }
  return { input: best, finding: bestFinding, execs };
}

function highestPowerOfTwoAtMost(n: number): number {
  let p = 1;
  while (p * 2 <= n) p *= 2;
  return n === 0 ? 0 : p;
}

function removeRange(input: FuzzInput, at: number, n: number): FuzzInput {
  const data = new Uint8Array(input.data.length - n);
  data.set(input.data.subarray(0, at), 0);
  data.set(input.data.subarray(at + n), at);
  const cuts = input.cuts.map((c) => (c <= at ? c : Math.max(at, c - n)));
  return { data, cuts: normalizeCuts(cuts, data.length), knob: input.knob };
}
