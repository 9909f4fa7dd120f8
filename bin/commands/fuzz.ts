/** `netlab fuzz TARGET`: the wire-framing fuzzer (fuzz/README.md). */
import { performance } from 'node:perf_hooks';
import {
  DEFAULT_MAX_CORPUS,
  DEFAULT_MAX_CRASHERS,
  DEFAULT_MINIMIZE_EXECS,
  replayInput,
  runFuzz,
  type NamedInput,
} from '../../fuzz/engine.js';
import { loadInputDir, saveCorpusInput, saveCrasher, seedDir, type LoadResult } from '../../fuzz/io.js';
import { FuzzInputError, parseInputFile } from '../../fuzz/input.js';
import type { FuzzTarget } from '../../fuzz/target.js';
import type { AnyStack, FuzzImpl } from '../../scenarios/stack.js';
import { LAB } from '../lab.js';
import { selectStacks } from './run.js';
import { readFileSync } from 'node:fs';
import { EXIT_FINDING, EXIT_OK, intFlag, parseFlags, printJson, UsageError, type Command } from './common.js';

const DEFAULT_TIME_MS = 60_000;
const DEFAULT_OUT = 'reports/latest/fuzz';

/** "60s", "5m", "1500ms", "1h", or a bare number of seconds, in milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (m === null) throw new UsageError(`--time must look like 60s, 5m, 1500ms or 1h, got '${text}'`);
  const n = Number(m[1]);
  const ms =
    n * ({ ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const)[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  if (!(ms > 0) || ms > 7 * 24 * 3_600_000)
    throw new UsageError(`--time must be above 0 and at most 7 days, got '${text}'`);
  return ms;
}

/** The implementation every target fuzzes by default. */
const DEFAULT_IMPL = 'netlab';

/** A fuzz target with the stack it belongs to. */
interface StackTarget {
  stack: AnyStack;
  target: FuzzTarget;
}

/** Every fuzz target of the given stacks, in stack then target order (names are unique). */
function targetsOf(stacks: readonly AnyStack[]): StackTarget[] {
  return stacks.flatMap((stack) => (stack.fuzz?.targets ?? []).map((target) => ({ stack, target })));
}

function knownTargets(stacks: readonly AnyStack[]): string {
  return targetsOf(stacks)
    .map((t) => t.target.name)
    .join(', ');
}

function targetOf(name: string | undefined, stacks: readonly AnyStack[]): StackTarget {
  if (name === undefined) throw new UsageError(`expected a target: ${knownTargets(stacks)}`);
  const t = targetsOf(stacks).find((x) => x.target.name === name);
  if (t === undefined)
    throw new UsageError(`unknown target '${name}'; known targets: ${knownTargets(stacks)}`);
  return t;
}

function fuzzImpls(stack: AnyStack): ReadonlyMap<string, FuzzImpl> {
  return stack.fuzz?.impls() ?? new Map();
}

function implOf({ stack, target }: StackTarget, impl: string | undefined): string {
  if (impl === undefined || impl === DEFAULT_IMPL) return DEFAULT_IMPL;
  if (!target.takesDecoderImpl)
    throw new UsageError(`${target.name} fuzzes netlab only; --impl applies to frame decoder targets`);
  const impls = fuzzImpls(stack);
  if (!impls.has(impl))
    throw new UsageError(`unknown implementation '${impl}'; known: ${[...impls.keys()].join(', ')}`);
  return impl;
}

function listText(stacks: readonly AnyStack[]): string {
  const lines = ['Targets:'];
  for (const { stack, target: t } of targetsOf(stacks)) {
    lines.push(`  ${t.name.padEnd(18)} [${stack.id}] ${t.summary}`);
    t.knobs.forEach((k, i) => lines.push(`  ${''.padEnd(18)}   knob ${i}: ${k}`));
  }
  for (const stack of stacks) {
    const impls = fuzzImpls(stack);
    if (impls.size === 0) continue;
    lines.push('', `Implementations of ${stack.id} (--impl, for the targets that take one):`);
    for (const d of impls.values()) lines.push(`  ${d.name.padEnd(28)} ${d.summary}`);
  }
  return lines.join('\n') + '\n';
}

function reportProblems(loaded: LoadResult, what: string): void {
  for (const p of loaded.problems) process.stderr.write(`netlab fuzz: skipped ${what} file: ${p}\n`);
}

async function replay(
  found: StackTarget,
  path: string,
  implFlag: string | undefined,
  json: boolean,
): Promise<number> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  let parsed;
  try {
    parsed = parseInputFile(text, path);
  } catch (e) {
    if (e instanceof FuzzInputError) throw new UsageError(e.message);
    throw e;
  }
  const target = found.target;
  if (parsed.file.target !== target.name)
    throw new UsageError(`${path} is an input for ${parsed.file.target}, not ${target.name}`);
  const impl = implOf(found, implFlag ?? parsed.file.impl);
  const finding = await replayInput(target, impl, parsed.input);
  if (json) {
    printJson({
      target: target.name,
      impl,
      file: path,
      ok: finding === null,
      finding,
      recorded: parsed.file.finding ?? null,
    });
  } else if (finding === null) {
    process.stdout.write(`PASS  ${target.name} (${impl}) ${path}: every oracle holds\n`);
  } else {
    process.stdout.write(
      `FAIL  ${target.name} (${impl}) ${path}\n      ${finding.oracle}: ${finding.message}\n`,
    );
  }
  return finding === null ? EXIT_OK : EXIT_FINDING;
}

export const fuzzCommand: Command = {
  name: 'fuzz',
  summary: `fuzz a wire codec (${knownTargets(LAB.stacks)}); crashers are minimized and saved`,
  usage: `usage: netlab fuzz TARGET [--time 60s | --runs N] [--seed S] [--corpus DIR] [--out DIR] [--impl NAME] [--json]
       netlab fuzz TARGET --replay FILE [--impl NAME] [--json]
       netlab fuzz --list [--stack ID[,ID]]

Targets: ${knownTargets(LAB.stacks)} (--list shows what each fuzzes, its stack and its knobs)

  --time DUR         wall-time bound: 60s, 5m, 1500ms, 1h (default 60s, unless --runs is given)
  --runs N           exec bound, the initial corpus included (with --time: whichever comes first)
  --seed S           root seed; the same seed, corpus and --runs run the same inputs (default 1)
  --corpus DIR       read DIR/*.json first, and write there every input that reaches new coverage
  --out DIR          crashers go to DIR/crashers/ (default ${DEFAULT_OUT})
  --impl NAME        frame decoder for sp-frame, sp-ipc-frame, sp-stream: netlab (default),
                     museum/naive-decoder, or a museum codec variant (--list names them)
  --max-len N        bound on input size in bytes (default: the target's)
  --max-corpus N     bound on the in-memory corpus (default ${DEFAULT_MAX_CORPUS})
  --max-crashers N   stop after this many distinct crashers, one per oracle (default ${DEFAULT_MAX_CRASHERS})
  --minimize N       execs spent minimizing each crasher (default ${DEFAULT_MINIMIZE_EXECS}; 0 = off)
  --generated N      fast-check generated seeds added to the corpus (default 256)
  --no-seeds         leave out the committed seed corpus (fuzz/seeds/TARGET/)
  --json             print one JSON object (execs, execsPerSec, crashers, corpusSize, ...)
  --replay FILE      run one saved input (a crasher or corpus file) through every oracle
  --list             list targets, their knobs and the implementations
  --stack ID[,ID]    only these stacks' targets (default: all)

Exit codes: 0 nothing found (replay: every oracle holds), 1 crashers found (replay: an oracle
fails), 2 usage or internal error. A corpus file that is not a valid input is reported and skipped.`,
  async run(argv) {
    const { values, positionals } = parseFlags(
      argv,
      {
        time: { type: 'string' },
        runs: { type: 'string' },
        seed: { type: 'string' },
        corpus: { type: 'string' },
        out: { type: 'string' },
        impl: { type: 'string' },
        'max-len': { type: 'string' },
        'max-corpus': { type: 'string' },
        'max-crashers': { type: 'string' },
        minimize: { type: 'string' },
        generated: { type: 'string' },
        'no-seeds': { type: 'boolean' },
        json: { type: 'boolean' },
        replay: { type: 'string' },
        list: { type: 'boolean' },
        stack: { type: 'string' },
      },
      true,
    );
    const stacks = selectStacks(values.stack);
    if (values.list) {
      process.stdout.write(listText(stacks));
      return EXIT_OK;
    }
    if (positionals.length > 1) throw new UsageError(`expected one target, got ${positionals.join(' ')}`);
    const found = targetOf(positionals[0], stacks);
    const target = found.target;
    const json = values.json === true;
    if (values.replay !== undefined) return replay(found, values.replay, values.impl, json);

    const impl = implOf(found, values.impl);
    const runs = values.runs === undefined ? undefined : intFlag('runs', values.runs, 0, 1);
    const timeMs =
      values.time !== undefined
        ? parseDuration(values.time)
        : runs === undefined
          ? DEFAULT_TIME_MS
          : undefined;
    const seed = values.seed ?? '1';
    const outDir = values.out ?? DEFAULT_OUT;
    const maxLen = intFlag('max-len', values['max-len'], target.maxLenBytes, 1, 1 << 20);

    const initial: NamedInput[] = [];
    const skippedFiles: string[] = [];
    if (values['no-seeds'] !== true) {
      const seeds = loadInputDir(seedDir(target.name), target.name);
      reportProblems(seeds, 'seed');
      skippedFiles.push(...seeds.problems);
      initial.push(...seeds.inputs);
    }
    let newCorpusInputs = 0;
    const corpusDir = values.corpus;
    if (corpusDir !== undefined) {
      const loaded = loadInputDir(corpusDir, target.name);
      reportProblems(loaded, 'corpus');
      skippedFiles.push(...loaded.problems);
      initial.push(...loaded.inputs);
    }
    const crashers: {
      oracle: string;
      message: string;
      file: string;
      replay: string;
      exec: number;
      bytes: number;
      hex: string;
    }[] = [];
    if (!json) {
      process.stdout.write(
        `fuzz ${target.name} (${impl}) seed ${seed}, ${runs === undefined ? '' : `${runs} runs`}${runs !== undefined && timeMs !== undefined ? ' or ' : ''}${timeMs === undefined ? '' : `${timeMs / 1000} s`}, ${initial.length} corpus files\n`,
      );
    }
    const result = await runFuzz({
      target,
      impl,
      seed,
      ...(runs === undefined ? {} : { runs }),
      ...(timeMs === undefined ? {} : { timeMs }),
      clock: () => performance.now(),
      initialCorpus: initial,
      generatedSeeds: intFlag('generated', values.generated, 256, 0, 100_000),
      maxLenBytes: maxLen,
      maxCorpus: intFlag('max-corpus', values['max-corpus'], DEFAULT_MAX_CORPUS, 1),
      maxCrashers: intFlag('max-crashers', values['max-crashers'], DEFAULT_MAX_CRASHERS, 1, 1000),
      minimizeExecs: intFlag('minimize', values.minimize, DEFAULT_MINIMIZE_EXECS, 0),
      ...(corpusDir === undefined
        ? {}
        : {
            onCorpusInput: (input) => {
              saveCorpusInput(corpusDir, target.name, input);
              newCorpusInputs++;
            },
          }),
      onCrasher: (c) => {
        const saved = saveCrasher(outDir, target.name, impl, c.input, c);
        const hex = Buffer.from(c.input.data).toString('hex');
        crashers.push({
          oracle: c.oracle,
          message: c.message,
          file: saved.path,
          replay: saved.replay,
          exec: c.exec,
          bytes: c.input.data.length,
          hex,
        });
        if (!json) {
          process.stdout.write(
            `CRASHER ${c.oracle} at exec ${c.exec}: ${c.message}\n  input (${c.input.data.length} bytes, knob ${c.input.knob}, cuts [${c.input.cuts.join(', ')}]): ${hex.length > 160 ? `${hex.slice(0, 160)}...` : hex}\n  saved:  ${saved.path}\n  replay: ${saved.replay}\n`,
          );
        }
      },
    });
    if (json) {
      printJson({
        target: result.target,
        impl: result.impl,
        seed: result.seed,
        execs: result.execs,
        execsPerSec: Math.round(result.execsPerSec),
        seconds: result.seconds,
        corpusSize: result.corpusSize,
        newCorpusInputs,
        coverageSlots: result.coverageSlots,
        skippedExecs: result.skipped,
        stoppedBy: result.stoppedBy,
        crashers,
        skippedFiles,
      });
    } else {
      process.stdout.write(
        `${result.execs} execs in ${result.seconds.toFixed(1)} s (${Math.round(result.execsPerSec)}/s), corpus ${result.corpusSize}` +
          `${corpusDir === undefined ? '' : ` (${newCorpusInputs} new in ${corpusDir})`}, coverage ${result.coverageSlots} slots, ` +
          `${crashers.length} crasher${crashers.length === 1 ? '' : 's'} (stopped by ${result.stoppedBy})\n`,
      );
    }
    return crashers.length > 0 ? EXIT_FINDING : EXIT_OK;
  },
};
