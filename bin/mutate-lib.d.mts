/** Types of bin/mutate-lib.mjs (plain JavaScript, run without a build), for its tests. */

export interface MutateArgs {
  help: boolean;
  /** Folders, files or globs to mutate; empty: DEFAULT_PATHS. */
  paths: string[];
  /** --sample N, or null: sized by the budget. */
  sample: number | null;
  budgetMinutes: number;
  budgetGiven: boolean;
  seed: string;
  all: boolean;
  /** --changed[=BASE]; base null: the default base. */
  changed: { base: string | null } | null;
  force: boolean;
  concurrency: number | null;
  minScore: number | null;
  list: boolean;
}

export interface Position {
  line: number;
  column: number;
}
/** Stryker's internal location: 0-based lines and columns, end exclusive. */
export interface Location {
  start: Position;
  end: Position;
}
/** A mutation-testing-report-schema location: 1-based lines and columns. */
export type ReportLocation = Location;

export interface MutantLike {
  mutatorName: string;
  replacement: string | null;
  location: Location;
}

export interface ReportMutant {
  id: string;
  mutatorName: string;
  replacement?: string;
  status: string;
  location: ReportLocation;
}

export interface StrykerReport {
  files: Record<string, { source: string; mutants: ReportMutant[] }>;
}

export interface Counts {
  killed: number;
  survived: number;
  noCoverage: number;
  timeout: number;
  runtimeError: number;
  compileError: number;
  ignored: number;
  pending: number;
}

export interface Score {
  /** (killed + timeout) / valid, or null without a valid mutant. */
  score: number | null;
  /** killed + timeout + survived + no coverage. */
  valid: number;
  /** Half the 95 % interval (normal approximation, finite-population corrected); 0 for a census. */
  halfWidth: number | null;
  /** The Wilson 95 % interval with the same correction. */
  wilson: [number, number] | null;
}

export interface Survivor {
  file: string;
  /** 1-based. */
  line: number;
  column: number;
  mutator: string;
  original: string;
  replacement: string;
  status: string;
}

export interface FolderScore extends Score {
  population: number;
  drawn: number;
  counts: Counts;
}

export interface Aggregate extends Score {
  population: number;
  drawn: number;
  counts: Counts;
  folders: Record<string, FolderScore>;
  survivors: Survivor[];
}

export const DEFAULT_SEED: string;
export const DEFAULT_BUDGET_MINUTES: number;
export const DEFAULT_PATHS: string[];
export const MIN_SAMPLE: number;
export const Z95: number;
export const DEFAULT_COST: { secondsPerMutant: number; fixedSeconds: number };
export const USAGE: string;
export const STATUS_FIELDS: Readonly<Record<string, keyof Counts>>;

export class UsageError extends Error {}

export function parseMutateArgs(argv: readonly string[]): MutateArgs;
export function mutantKey(m: MutantLike, relFile: string): string;
export function reportMutantKey(m: ReportMutant, relFile: string): string;
export function sampleKeys(keys: readonly string[], n: number, seed: string): string[];
export function sampleSizeForBudget(
  population: number,
  budgetMinutes: number,
  cost: { secondsPerMutant: number; fixedSeconds: number },
): number;
export function emptyCounts(): Counts;
export function scoreWithError(c: Counts, sampled: number, population: number): Score;
export function scoreText(s: Score): string;
export function folderOf(relFile: string): string;
export function sourceAt(source: string, loc: ReportLocation): string;
export function aggregateReport(
  report: StrykerReport,
  scope: {
    root: string;
    files: ReadonlySet<string>;
    sample: ReadonlySet<string> | null;
    population: Readonly<Record<string, number>>;
  },
): Aggregate;
export function toRelative(name: string, root: string): string;
export function formatScoreLine(
  a: Aggregate,
  run: { mode: 'sampled' | 'all' | 'changed'; seed: string; minutes: number },
): string;
export function mutateRanges(mutants: readonly { relFile: string; location: Location }[]): string[];
