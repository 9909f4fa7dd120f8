/**
 * The pure half of `npm run mutate`: flags, the fixed-seed sample, the score and its sampling
 * error, per-folder aggregation of a Stryker JSON report, and the printed line.
 */
import { describe, expect, it } from 'vitest';
import {
  aggregateReport,
  DEFAULT_BUDGET_MINUTES,
  DEFAULT_SEED,
  emptyCounts,
  folderOf,
  formatScoreLine,
  MIN_SAMPLE,
  mutantKey,
  mutateRanges,
  parseMutateArgs,
  reportMutantKey,
  sampleKeys,
  sampleSizeForBudget,
  scoreText,
  scoreWithError,
  sourceAt,
  UsageError,
  type StrykerReport,
} from './mutate-lib.mjs';

describe('parseMutateArgs', () => {
  it('defaults to a sampled run over impl/ and sim/ with a fixed seed and a 60-minute budget', () => {
    const a = parseMutateArgs([]);
    expect(a).toMatchObject({ paths: [], sample: null, all: false, changed: null, seed: DEFAULT_SEED });
    expect(a.budgetMinutes).toBe(DEFAULT_BUDGET_MINUTES);
  });

  it('takes folders positionally and by --mutate, and every flag in both spellings', () => {
    const a = parseMutateArgs(['impl/sp', '--mutate', 'sim/**/*.ts', '--sample=400', '--seed', '7']);
    expect(a.paths).toEqual(['impl/sp', 'sim/**/*.ts']);
    expect(a.sample).toBe(400);
    expect(a.seed).toBe('7');
    expect(parseMutateArgs(['--budget', '30']).budgetMinutes).toBe(30);
    expect(parseMutateArgs(['--min-score', '80.5']).minScore).toBe(80.5);
    expect(parseMutateArgs(['--all', '--force', '--concurrency', '1'])).toMatchObject({
      all: true,
      force: true,
      concurrency: 1,
    });
  });

  it('reads --changed with an optional inline base, leaving the next word a path', () => {
    expect(parseMutateArgs(['--changed', 'impl/sp'])).toMatchObject({
      changed: { base: null },
      paths: ['impl/sp'],
    });
    expect(parseMutateArgs(['--changed=HEAD~3']).changed).toEqual({ base: 'HEAD~3' });
  });

  it.each([
    [['--sample', '0'], /--sample wants a positive integer/],
    [['--sample'], /--sample needs a value/],
    [['--budget', '-5'], /--budget needs a value/],
    [['--min-score', '120'], /--min-score wants a percentage/],
    [['--seed', 'a b'], /--seed wants/],
    [['--frobnicate'], /unknown flag --frobnicate/],
    [['--all', '--changed'], /exclude each other/],
    [['--all', '--sample', '10'], /--all runs every mutant: drop --sample/],
    [['--changed', '--budget', '10'], /--changed runs every mutant: drop --budget/],
    [['--force'], /--force goes with --all or --changed/],
    [['--sample', '10', '--budget', '5'], /not both/],
    [['--changed='], /needs a git revision/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseMutateArgs(argv)).toThrow(UsageError);
    expect(() => parseMutateArgs(argv)).toThrow(message);
  });
});

describe('the sample', () => {
  const keys = Array.from({ length: 1000 }, (_, i) => `impl/sp/f${i % 7}.ts@${i}:0-${i}:5 M r${i}`);

  it('is the same for the same seed and keys, in any order, and another for another seed', () => {
    const a = sampleKeys(keys, 50, '1');
    expect(a).toHaveLength(50);
    expect(new Set(a).size).toBe(50);
    expect(sampleKeys([...keys].reverse(), 50, '1')).toEqual(a);
    const b = sampleKeys(keys, 50, '2');
    expect(b).not.toEqual(a);
    expect(a.filter((k) => b.includes(k)).length).toBeLessThan(15);
  });

  it('grows by appending: a larger sample holds the smaller one (ranks do not depend on n)', () => {
    const small = sampleKeys(keys, 20, 'x');
    expect(sampleKeys(keys, 60, 'x').slice(0, 20)).toEqual(small);
  });

  it('keeps a mutant in or out whatever happens to the other keys', () => {
    const a = new Set(sampleKeys(keys, 100, '1'));
    const edited = [...keys.slice(0, 500), 'impl/sp/new.ts@1:0-1:1 M x'];
    const b = sampleKeys(edited, 1000, '1');
    // Ranks are per key: the order of the surviving keys is unchanged.
    const order = sampleKeys(keys, 1000, '1').filter((k) => edited.includes(k));
    expect(b.filter((k) => k !== 'impl/sp/new.ts@1:0-1:1 M x')).toEqual(order);
    expect(a.size).toBe(100);
  });

  it('spreads over files like a uniform draw (each file within a binomial band)', () => {
    const s = sampleKeys(keys, 350, '1');
    for (let f = 0; f < 7; f++) {
      const got = s.filter((k) => k.startsWith(`impl/sp/f${f}.ts`)).length;
      expect(got).toBeGreaterThan(30);
      expect(got).toBeLessThan(70);
    }
  });

  it('is sized to the budget, at least MIN_SAMPLE, at most the population', () => {
    expect(sampleSizeForBudget(5000, 60, { secondsPerMutant: 6, fixedSeconds: 240 })).toBe(560);
    expect(sampleSizeForBudget(5000, 1, { secondsPerMutant: 6, fixedSeconds: 240 })).toBe(MIN_SAMPLE);
    expect(sampleSizeForBudget(100, 600, { secondsPerMutant: 6, fixedSeconds: 240 })).toBe(100);
  });

  it('becomes mutate ranges that cover each drawn node once (lines 1-based, columns 0-based)', () => {
    const location = { start: { line: 9, column: 4 }, end: { line: 10, column: 2 } };
    expect(
      mutateRanges([
        { relFile: 'sim/a.ts', location },
        { relFile: 'sim/a.ts', location },
        { relFile: 'impl/b.ts', location: { start: { line: 0, column: 0 }, end: { line: 0, column: 3 } } },
      ]),
    ).toEqual(['impl/b.ts:1:0-1:3', 'sim/a.ts:10:4-11:2']);
  });
});

describe('scoreWithError', () => {
  const counts = (killed: number, survived: number, extra: Partial<ReturnType<typeof emptyCounts>> = {}) => ({
    ...emptyCounts(),
    killed,
    survived,
    ...extra,
  });

  it('is Stryker score: killed and timeout over valid mutants; errors are not valid', () => {
    const s = scoreWithError(counts(70, 20, { timeout: 10, noCoverage: 0, runtimeError: 5 }), 105, 105);
    expect(s.score).toBeCloseTo(0.8);
    expect(s.valid).toBe(100);
    expect(s.halfWidth).toBe(0); // a census has no sampling error
    expect(s.wilson).toEqual([0.8, 0.8]);
  });

  it('has the normal-approximation half-width with the finite-population correction', () => {
    // p = 0.8, n = 400 of N = 5000: 1.96 * sqrt(0.8*0.2/400 * 4600/4999)
    const s = scoreWithError(counts(320, 80), 400, 5000);
    expect(s.score).toBeCloseTo(0.8);
    expect(s.halfWidth).toBeCloseTo(1.959964 * Math.sqrt(((0.8 * 0.2) / 400) * (4600 / 4999)), 10);
    expect(s.halfWidth).toBeCloseTo(0.0376, 3);
    // Without the correction (N huge) it is the textbook 1.96 * sqrt(pq/n).
    expect(scoreWithError(counts(320, 80), 400, 1e9).halfWidth).toBeCloseTo(0.0392, 3);
  });

  it('gives a Wilson interval that stays informative at 100 %', () => {
    const s = scoreWithError(counts(30, 0), 30, 3000);
    expect(s.halfWidth).toBe(0);
    expect(s.wilson![1]).toBe(1);
    expect(s.wilson![0]).toBeLessThan(0.9);
  });

  it('reads as "p ± h", as the Wilson interval where the normal one collapses, as p for a census', () => {
    expect(scoreText(scoreWithError(counts(320, 80), 400, 5000))).toBe('80.0% ± 3.8%');
    expect(scoreText(scoreWithError(counts(30, 0), 30, 3000))).toMatch(/^100\.0% \(8\d\.\d%–100\.0%\)$/);
    expect(scoreText(scoreWithError(counts(30, 0), 30, 30))).toBe('100.0%');
    expect(scoreText(scoreWithError(counts(0, 0), 0, 30))).toBe('n/a');
  });

  it('is n/a without a valid mutant', () => {
    expect(scoreWithError(counts(0, 0, { runtimeError: 3 }), 3, 10)).toEqual({
      score: null,
      valid: 0,
      halfWidth: null,
      wilson: null,
    });
  });
});

describe('aggregating a Stryker JSON report', () => {
  const loc = (line: number, col: number, endCol: number) => ({
    start: { line, column: col },
    end: { line, column: endCol },
  });
  const report: StrykerReport = {
    files: {
      '/repo/impl/sp/a.ts': {
        source: 'const a = 1 + 2;\nif (x < y) go();\n',
        mutants: [
          {
            id: '1',
            mutatorName: 'ArithmeticOperator',
            replacement: '1 - 2',
            status: 'Killed',
            location: loc(1, 11, 16),
          },
          {
            id: '2',
            mutatorName: 'EqualityOperator',
            replacement: 'x <= y',
            status: 'Survived',
            location: loc(2, 5, 10),
          },
          {
            id: '3',
            mutatorName: 'ConditionalExpression',
            replacement: 'true',
            status: 'CompileError',
            location: loc(2, 5, 10),
          },
          {
            id: '4',
            mutatorName: 'BlockStatement',
            replacement: '{}',
            status: 'Ignored',
            location: loc(2, 1, 2),
          },
        ],
      },
      '/repo/sim/b.ts': {
        source: 'export const n = 5;\n',
        mutants: [
          {
            id: '5',
            mutatorName: 'StringLiteral',
            replacement: '""',
            status: 'Timeout',
            location: loc(1, 17, 18),
          },
          {
            id: '6',
            mutatorName: 'ArithmeticOperator',
            replacement: 'n',
            status: 'NoCoverage',
            location: loc(1, 14, 15),
          },
        ],
      },
      '/repo/impl/echo/c.ts': {
        source: 'x',
        mutants: [
          { id: '7', mutatorName: 'M', replacement: 'y', status: 'Survived', location: loc(1, 1, 2) },
        ],
      },
    },
  };
  const files = new Set(['impl/sp/a.ts', 'sim/b.ts']);

  it('counts every mutant of the selected files by folder when nothing was sampled', () => {
    const a = aggregateReport(report, {
      root: '/repo',
      files,
      sample: null,
      population: { 'impl/sp': 3, sim: 2 },
    });
    expect(a.counts).toMatchObject({
      killed: 1,
      survived: 1,
      compileError: 1,
      timeout: 1,
      noCoverage: 1,
      ignored: 0,
    });
    expect(a.score).toBeCloseTo(0.5);
    expect(a.halfWidth).toBe(0);
    expect(a.folders['impl/sp']).toMatchObject({ population: 3, drawn: 3, score: 0.5 });
    expect(a.folders.sim).toMatchObject({ population: 2, score: 0.5 });
    expect(Object.keys(a.folders)).toEqual(['impl/sp', 'sim']); // impl/echo was not selected
    // Grouped by kind (mutator), then file and line.
    expect(a.survivors).toEqual([
      {
        file: 'sim/b.ts',
        line: 1,
        column: 14,
        mutator: 'ArithmeticOperator',
        original: 'n',
        replacement: 'n',
        status: 'NoCoverage',
      },
      {
        file: 'impl/sp/a.ts',
        line: 2,
        column: 5,
        mutator: 'EqualityOperator',
        original: 'x < y',
        replacement: 'x <= y',
        status: 'Survived',
      },
    ]);
  });

  it('counts only sampled mutants when a sample was drawn, with the sampling error of each folder', () => {
    const sample = new Set([
      reportMutantKey(report.files['/repo/impl/sp/a.ts']!.mutants[0]!, 'impl/sp/a.ts'),
      reportMutantKey(report.files['/repo/impl/sp/a.ts']!.mutants[1]!, 'impl/sp/a.ts'),
      reportMutantKey(report.files['/repo/sim/b.ts']!.mutants[0]!, 'sim/b.ts'),
    ]);
    const a = aggregateReport(report, {
      root: '/repo',
      files,
      sample,
      population: { 'impl/sp': 40, sim: 60 },
    });
    expect(a.drawn).toBe(3);
    expect(a.population).toBe(100);
    expect(a.counts).toMatchObject({ killed: 1, survived: 1, timeout: 1, compileError: 0, noCoverage: 0 });
    expect(a.score).toBeCloseTo(2 / 3);
    expect(a.halfWidth).toBeGreaterThan(0);
    expect(a.folders['impl/sp']).toMatchObject({ population: 40, drawn: 2, score: 0.5 });
    expect(a.folders.sim).toMatchObject({ population: 60, drawn: 1, score: 1 });
    const line = formatScoreLine(a, { mode: 'sampled', seed: '1', minutes: 52.4 });
    expect(line).toMatch(
      /^mutation score 66\.7% ± \d+\.\d% \(95% CI, sample of 3 of 100 mutants, seed 1\): 1 killed, 1 survived, 0 no coverage, 1 timeout; impl\/sp 50\.0% ± \d+\.\d%, sim 100\.0% \(\d+\.\d%–100\.0%\); 52 min$/,
    );
  });

  it('keys report mutants (1-based) as the instrumenter keys them (0-based)', () => {
    const m = report.files['/repo/impl/sp/a.ts']!.mutants[1]!;
    expect(reportMutantKey(m, 'impl/sp/a.ts')).toBe(
      mutantKey(
        {
          mutatorName: 'EqualityOperator',
          replacement: 'x <= y',
          location: { start: { line: 1, column: 4 }, end: { line: 1, column: 9 } },
        },
        'impl/sp/a.ts',
      ),
    );
  });

  it('rejects a status the schema does not have', () => {
    const bad: StrykerReport = {
      files: {
        '/repo/sim/b.ts': {
          source: '',
          mutants: [{ id: '1', mutatorName: 'M', status: 'Weird', location: loc(1, 1, 1) }],
        },
      },
    };
    expect(() =>
      aggregateReport(bad, { root: '/repo', files, sample: null, population: { sim: 1 } }),
    ).toThrow(/unknown mutant status "Weird"/);
  });
});

describe('helpers', () => {
  it('names folders: impl/<stack>, else the top folder', () => {
    expect(folderOf('impl/sp/wire/frames.ts')).toBe('impl/sp');
    expect(folderOf('impl/runtime/bytes.ts')).toBe('impl/runtime');
    expect(folderOf('sim/net/flow.ts')).toBe('sim');
  });

  it('cuts the source a report location covers, across lines too', () => {
    const src = 'abc\ndef\nghi';
    expect(sourceAt(src, { start: { line: 2, column: 2 }, end: { line: 2, column: 4 } })).toBe('ef');
    expect(sourceAt(src, { start: { line: 1, column: 3 }, end: { line: 3, column: 2 } })).toBe('c\ndef\ng');
  });

  it('says which run the line is about', () => {
    const a = aggregateReport(
      {
        files: {
          '/r/sim/x.ts': {
            source: 'x',
            mutants: [
              {
                id: '1',
                mutatorName: 'M',
                replacement: 'y',
                status: 'Killed',
                location: { start: { line: 1, column: 1 }, end: { line: 1, column: 2 } },
              },
            ],
          },
        },
      },
      { root: '/r', files: new Set(['sim/x.ts']), sample: null, population: { sim: 1 } },
    );
    expect(formatScoreLine(a, { mode: 'all', seed: '1', minutes: 3 })).toBe(
      'mutation score 100.0% (every one of 1 mutants): 1 killed, 0 survived, 0 no coverage, 0 timeout; sim 100.0%; 3 min',
    );
    expect(formatScoreLine(a, { mode: 'changed', seed: '1', minutes: 3 })).toContain('in the changed files');
  });
});
