/**
 * The fuzzer's files (Node only; the engine and targets stay pure): the committed seed corpus
 * (fuzz/seeds/TARGET/*.json) and regression crashers (fuzz/regressions/TARGET/*.json), a corpus
 * folder (--corpus DIR: *.json read first, new-coverage inputs written back), and crashers
 * (DIR/crashers/TARGET-ORACLE-ID.json, each with the command line that replays it). A file that is
 * not a valid input is reported and skipped, never fatal.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NamedInput } from './engine.js';
import {
  inputFile,
  inputFileText,
  inputId,
  parseInputFile,
  type FuzzInput,
  type InputFile,
} from './input.js';

/** The repository root: the nearest folder above this file with a package.json (works from dist/ too). */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('netlab fuzz: cannot find the repository root (no package.json above)');
    dir = up;
  }
}

export function seedDir(target: string): string {
  return join(repoRoot(), 'fuzz', 'seeds', target);
}

export function regressionDir(target: string): string {
  return join(repoRoot(), 'fuzz', 'regressions', target);
}

export interface LoadedFile extends NamedInput {
  file: InputFile;
}

export interface LoadResult {
  inputs: LoadedFile[];
  /** One line per file that could not be used (unreadable, not JSON, a bad field). */
  problems: string[];
  /** Files for another target, left out. */
  otherTargets: number;
}

/** Reads every *.json file of `dir` (sorted by name, so runs are reproducible) meant for `target`. */
export function loadInputDir(dir: string, target: string): LoadResult {
  const result: LoadResult = { inputs: [], problems: [], otherTargets: 0 };
  if (!existsSync(dir)) return result;
  const names = readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .sort();
  for (const name of names) {
    const path = join(dir, name);
    try {
      const { file, input } = parseInputFile(readFileSync(path, 'utf8'), path);
      if (file.target !== target) {
        result.otherTargets++;
        continue;
      }
      result.inputs.push({ name: path, input, file });
    } catch (e) {
      result.problems.push(e instanceof Error ? e.message : String(e));
    }
  }
  return result;
}

/** Writes text to a file atomically (a reader never sees half a file). */
function writeAtomic(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

/** Saves a corpus input as DIR/ID.json; returns its path. */
export function saveCorpusInput(dir: string, target: string, input: FuzzInput): string {
  const path = join(dir, `${inputId(input)}.json`);
  writeAtomic(path, inputFileText(inputFile(target, input)));
  return path;
}

/** The one-line command that replays a saved input. */
export function replayCommand(target: string, impl: string, path: string): string {
  return `netlab fuzz ${target}${impl === 'netlab' ? '' : ` --impl ${impl}`} --replay ${path}`;
}

/** Saves a crasher as DIR/crashers/TARGET-ORACLE-ID.json with its replay command; returns the path and command. */
export function saveCrasher(
  outDir: string,
  target: string,
  impl: string,
  input: FuzzInput,
  finding: { oracle: string; message: string },
): { path: string; replay: string } {
  const path = join(outDir, 'crashers', `${target}-${finding.oracle}-${inputId(input)}.json`);
  const replay = replayCommand(target, impl, path);
  const recorded = { oracle: finding.oracle, message: finding.message };
  writeAtomic(path, inputFileText(inputFile(target, input, { impl, finding: recorded, replay })));
  return { path, replay };
}
