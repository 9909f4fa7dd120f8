import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BANNER_FIELDS,
  CASE_FIELDS,
  CASE_STATUSES,
  computeTotals,
  createReport,
  formatJsonPath,
  isFinding,
  isReportRelativePath,
  museumVerdict,
  parseReport,
  REPORT_SCHEMA,
  ReportError,
  traceFileName,
  type Case,
  type Report,
} from './schema.js';
import { sampleBanner, sampleCase, sampleReport, sampleSuites } from './testing/fixtures.js';

/** A deep copy as plain JSON, the way a report arrives from disk. */
function json(report: Report): Record<string, unknown> {
  return JSON.parse(JSON.stringify(report)) as Record<string, unknown>;
}

/** The second case of the first suite, as raw JSON, for mutation. */
function secondCase(raw: Record<string, unknown>): Record<string, unknown> {
  return (raw.suites as { cases: Record<string, unknown>[] }[])[0]!.cases[1]!;
}

function reportError(f: () => unknown): ReportError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ReportError);
    return e as ReportError;
  }
  throw new Error('expected a ReportError, but nothing was thrown');
}

/** One value of the wrong type (or out of range) per case field. */
const MISTYPED: Record<keyof Case, unknown> = {
  id: 42,
  title: null,
  stack: 7,
  family: '',
  protocol: ['req0'],
  transport: false,
  runtime: 'virtual',
  impl: null,
  peer: 7,
  role: '',
  faults: 'partition',
  ref: 12,
  requirement: { text: 'MUST' },
  invariant: '',
  status: 'passed',
  runs: 1.5,
  fcSeed: '123',
  fcPath: 3,
  simSeed: 99,
  shrinks: -1,
  counterexample: { bytes: [1, Number.NaN] },
  expected: 1,
  actual: true,
  replay: '',
  traceHash: 0,
  trace: '../outside.jsonl',
  wallMs: -3,
  expect: 'maybe',
};

describe('parseReport', () => {
  it('accepts a valid report and round-trips it through JSON unchanged', () => {
    const report = sampleReport();
    const again = parseReport(JSON.parse(JSON.stringify(report)));
    expect(again).toEqual(report);
    expect(JSON.stringify(again)).toBe(JSON.stringify(report));
    expect(Object.keys(again)).toEqual(['schema', 'banner', 'suites']);
    expect(Object.keys(again.suites[0]!.cases[0]!)).toEqual(CASE_FIELDS);
    expect(Object.keys(again.banner)).toEqual(BANNER_FIELDS);
  });

  it('round-trips arbitrary JSON counterexamples and strings', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string({ unit: 'binary' }), (counterexample, title) => {
        const suites = [{ name: 's', cases: [sampleCase({ counterexample, title: `t${title}` })] }];
        const report = createReport(sampleBanner(), suites);
        // Compared as JSON: fc.jsonValue() may draw -0, which JSON writes as 0.
        const asJson: unknown = JSON.parse(JSON.stringify(report));
        expect(parseReport(asJson)).toEqual(asJson);
      }),
      { numRuns: 200 },
    );
  });

  it('lists every case field in CASE_FIELDS, and no other', () => {
    expect([...CASE_FIELDS].sort()).toEqual(Object.keys(sampleCase()).sort());
    expect(new Set(CASE_FIELDS).size).toBe(28);
  });

  describe.each(CASE_FIELDS.filter((f) => f !== 'wallMs' && f !== 'expect'))('case field %s', (field) => {
    it('is required, and the error names its path', () => {
      const raw = json(sampleReport());
      delete secondCase(raw)[field];
      const e = reportError(() => parseReport(raw));
      expect(e.code).toBe('ERR_BAD_REPORT');
      expect(e.path).toBe(`suites[0].cases[1].${field}`);
      expect(e.message).toMatch(
        new RegExp(`^ERR_BAD_REPORT: suites\\[0\\]\\.cases\\[1\\]\\.${field}: missing`),
      );
    });
  });

  describe.each(CASE_FIELDS)('case field %s', (field) => {
    it('rejects a mistyped value, naming the path', () => {
      const raw = json(sampleReport());
      secondCase(raw)[field] = MISTYPED[field];
      const e = reportError(() => parseReport(raw));
      expect(e.code).toBe('ERR_BAD_REPORT');
      expect(e.path).toContain(`suites[0].cases[1].${field}`);
      expect(e.message).toContain(`suites[0].cases[1].${field}`);
    });
  });

  it('reads a missing case wallMs as null (older writers omit it)', () => {
    const raw = json(sampleReport());
    delete secondCase(raw).wallMs;
    expect(parseReport(raw).suites[0]!.cases[1]!.wallMs).toBeNull();
  });

  it('says what a valid value looks like, and reports the first bad field in document order', () => {
    const raw = json(sampleReport());
    secondCase(raw).runs = 1.5;
    secondCase(raw).status = 'passed';
    expect(() => parseReport(raw)).toThrow(
      'ERR_BAD_REPORT: suites[0].cases[1].status: must be one of "pass", "fail", "error", "skip", "flaky", got "passed" (and 1 more problem)',
    );
    const raw2 = json(sampleReport());
    secondCase(raw2).runs = 1.5;
    expect(() => parseReport(raw2)).toThrow('suites[0].cases[1].runs: expected an integer >= 0, got 1.5');
    const raw3 = json(sampleReport());
    delete secondCase(raw3).peer;
    expect(() => parseReport(raw3)).toThrow(
      'suites[0].cases[1].peer: missing (expected a non-empty string or null; use null where it does not apply)',
    );
  });

  it('names the path inside a counterexample that is not JSON', () => {
    const report = sampleReport();
    const bad = (counterexample: unknown): ReportError => {
      const suites = structuredClone(report.suites);
      suites[0]!.cases[1]!.counterexample = counterexample;
      return reportError(() => parseReport({ ...report, suites }));
    };
    expect(bad({ a: [1, Number.NaN] }).path).toBe('suites[0].cases[1].counterexample.a[1]');
    expect(bad({ a: [1, Number.NaN] }).message).toContain('NaN is not a JSON number');
    expect(bad([new Uint8Array(2)]).message).toContain('counterexample[0]: a Uint8Array is not plain JSON');
    expect(bad({ n: 10n }).message).toContain('counterexample.n: 10n (a bigint) is not JSON');
    expect(bad([1, undefined]).path).toBe('suites[0].cases[1].counterexample[1]');
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(bad(cycle).message).toContain('counterexample.self: a cycle is not JSON');
    // An undefined property is dropped by JSON.stringify and reads back the same: allowed.
    expect(() =>
      parseReport({
        ...report,
        suites: [{ name: 's', cases: [sampleCase({ counterexample: { a: undefined } })] }],
        banner: { ...report.banner, totals: computeTotals([{ cases: [sampleCase()] }]) },
      }),
    ).not.toThrow();
  });

  it('rejects banner fields by path', () => {
    const optional = new Set(['scenarioRuns', 'scenarioRunsPerSec', 'museum']);
    for (const field of BANNER_FIELDS.filter((f) => !optional.has(f))) {
      const raw = json(sampleReport());
      delete (raw.banner as Record<string, unknown>)[field];
      const e = reportError(() => parseReport(raw));
      expect(e.path).toBe(`banner.${field}`);
      expect(e.message).toContain(`banner.${field}: missing`);
    }
    const raw = json(sampleReport());
    (raw.banner as Record<string, unknown>).startedAt = 'yesterday';
    expect(() => parseReport(raw)).toThrow('banner.startedAt: expected an ISO 8601 date-time');
    const raw2 = json(sampleReport());
    (raw2.banner as { knobs: Record<string, unknown> }).knobs['loss rate'] = null;
    expect(() => parseReport(raw2)).toThrow(
      'banner.knobs["loss rate"]: expected a string, number or boolean, got null',
    );
  });

  it('rejects duplicate case ids, across suites too, naming both places', () => {
    const suites = sampleSuites();
    suites[1]!.cases[0]!.id = suites[0]!.cases[2]!.id;
    const e = reportError(() => createReport(sampleBanner(), suites));
    expect(e.path).toBe('suites[1].cases[0].id');
    expect(e.message).toContain(
      `duplicate case id "${suites[0]!.cases[2]!.id}" (first at suites[0].cases[2].id)`,
    );
  });

  it('gives a clear message for a newer schema, and for something that is not a report', () => {
    const raw = json(sampleReport());
    raw.schema = 'netlab/report@3';
    // Fields the newer version may have changed are not what the reader needs to hear about.
    raw.suites = 'whatever v3 holds';
    const e = reportError(() => parseReport(raw));
    expect(e.path).toBe('schema');
    expect(e.message).toContain('newer schema "netlab/report@3"');
    expect(e.message).toContain(`reads "${REPORT_SCHEMA}"`);

    // A report of before stacks (version 1) is refused naming both versions.
    raw.schema = 'netlab/report@1';
    const old = reportError(() => parseReport(raw));
    expect(old.path).toBe('schema');
    expect(old.message).toContain('older schema "netlab/report@1"');
    expect(old.message).toContain(`reads "${REPORT_SCHEMA}"`);

    raw.schema = 'netlab/trace@1';
    expect(() => parseReport(raw)).toThrow(
      'schema: must be "netlab/report@2", got "netlab/trace@1" (not a netlab report)',
    );
    delete raw.schema;
    expect(() => parseReport(raw)).toThrow('schema: missing');
    expect(() => parseReport([1, 2])).toThrow('report: expected a report object, got an array');
    expect(() => parseReport(null)).toThrow('report: expected a report object, got null');
  });

  it('checks banner.totals against the cases', () => {
    const raw = json(sampleReport());
    (raw.banner as { totals: Record<string, number> }).totals.fail = 2;
    const e = reportError(() => parseReport(raw));
    expect(e.path).toBe('banner.totals.fail');
    expect(e.message).toContain('banner.totals.fail: is 2 but the suites hold 1 case with status "fail"');
  });

  it('drops unknown fields (a newer minor writer may add optional ones)', () => {
    const raw = json(sampleReport());
    secondCase(raw).addedLater = 'x';
    expect(secondCase(raw as never)).toHaveProperty('addedLater');
    expect(parseReport(raw).suites[0]!.cases[1]).not.toHaveProperty('addedLater');
  });
});

describe('computeTotals and createReport', () => {
  it('counts every status', () => {
    expect(computeTotals(sampleSuites())).toEqual({
      cases: 5,
      pass: 1,
      fail: 1,
      error: 1,
      skip: 1,
      flaky: 1,
      findings: 3,
      caught: 0,
      missed: 0,
    });
    expect(computeTotals([])).toEqual({
      cases: 0,
      pass: 0,
      fail: 0,
      error: 0,
      skip: 0,
      flaky: 0,
      findings: 0,
      caught: 0,
      missed: 0,
    });
  });

  it('totals always sum to the case count', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.constantFrom(...CASE_STATUSES))), (statuses) => {
        const t = computeTotals(statuses.map((s) => ({ cases: s.map((status) => ({ status })) })));
        expect(t.pass + t.fail + t.error + t.skip + t.flaky).toBe(t.cases);
        expect(t.cases).toBe(statuses.flat().length);
      }),
    );
  });

  it('createReport fills in the schema id and totals, and validates', () => {
    const report = createReport(sampleBanner(), sampleSuites());
    expect(report.schema).toBe(REPORT_SCHEMA);
    expect(report.banner.totals.cases).toBe(5);
    expect(() => createReport(sampleBanner(), [{ name: 's', cases: [sampleCase({ replay: '' })] }])).toThrow(
      'suites[0].cases[0].replay: must not be empty',
    );
  });
});

describe('helpers', () => {
  it('formatJsonPath writes paths as JavaScript would', () => {
    expect(formatJsonPath([])).toBe('report');
    expect(formatJsonPath(['suites', 0, 'cases', 12, 'id'])).toBe('suites[0].cases[12].id');
    expect(formatJsonPath(['banner', 'knobs', 'loss rate'])).toBe('banner.knobs["loss rate"]');
  });

  it('isReportRelativePath accepts only portable paths inside the report folder', () => {
    expect(isReportRelativePath('traces/a.jsonl')).toBe(true);
    for (const p of ['', '/abs', 'C:/x', 'a\\b', '../x', 'traces/../x', 'a//b', './a', 'a/'])
      expect(isReportRelativePath(p), p).toBe(false);
  });

  it('traceFileName is safe, stable and collision-free', () => {
    expect(traceFileName('plain-id_1.2')).toBe('plain-id_1.2.jsonl');
    const a = traceFileName('a/b');
    const b = traceFileName('a_b');
    expect(a).toMatch(/^a_b-[0-9a-f]{8}\.jsonl$/);
    expect(b).toBe('a_b.jsonl');
    expect(traceFileName('a/b')).toBe(a);
    expect(traceFileName('..')).toMatch(/^_-[0-9a-f]{8}\.jsonl$/);
    expect(traceFileName('')).toMatch(/^_-[0-9a-f]{8}\.jsonl$/);
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (id) => {
        const name = traceFileName(id);
        expect(name).toMatch(/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/);
        expect(isReportRelativePath(`traces/${name}`)).toBe(true);
      }),
    );
  });
});

describe('SCHEMA.md', () => {
  const doc = readFileSync(new URL('./SCHEMA.md', import.meta.url), 'utf8');

  it('documents every case and banner field', () => {
    for (const field of [...CASE_FIELDS, ...BANNER_FIELDS]) expect(doc, field).toContain(`| \`${field}\` |`);
  });

  it('holds an example that is a valid report', () => {
    const block = /```json\n([\s\S]*?)\n```/.exec(doc);
    expect(block).not.toBeNull();
    const report = parseReport(JSON.parse(block![1]!));
    expect(report.banner.totals.cases).toBeGreaterThan(0);
  });
});

describe('museum outcomes', () => {
  const variantCase = (id: string, status: Case['status'], family = 'framing'): Case =>
    sampleCase({ id, family, impl: 'museum/x', status, expect: 'fail' });
  const entry = (properties: { id: string; failed: boolean }[], propertiesTotal = 2) => ({
    impl: 'museum/x',
    family: 'framing',
    summary: 'a planted bug',
    propertiesTotal,
    properties,
  });

  it('an expected failure is not a finding; error and flaky always are', () => {
    expect(isFinding({ status: 'fail' })).toBe(true);
    expect(isFinding({ status: 'fail', expect: 'pass' })).toBe(true);
    expect(isFinding({ status: 'fail', expect: 'fail' })).toBe(false);
    expect(isFinding({ status: 'pass', expect: 'fail' })).toBe(false);
    expect(isFinding({ status: 'error', expect: 'fail' })).toBe(true);
    expect(isFinding({ status: 'flaky', expect: 'fail' })).toBe(true);
    expect(isFinding({ status: 'skip' })).toBe(false);
  });

  it('a variant is caught by any failed property of its family, missed when all ran and passed', () => {
    expect(museumVerdict(entry([{ id: 'a', failed: true }]))).toBe('caught');
    expect(museumVerdict(entry([{ id: 'a', failed: false }]))).toBe('not-judged');
    expect(
      museumVerdict(
        entry([
          { id: 'a', failed: false },
          { id: 'b', failed: false },
        ]),
      ),
    ).toBe('missed');
    expect(museumVerdict(entry([], 0))).toBe('not-judged');
    expect(museumVerdict({ ...entry([], 0), family: null })).toBe('not-judged');
  });

  it('createReport derives verdicts and totals; they round-trip', () => {
    const report = createReport(
      {
        ...sampleBanner(),
        scenarioRuns: 300,
        scenarioRunsPerSec: 163.9,
        museum: [
          entry([
            { id: 'a', failed: true },
            { id: 'b', failed: false },
          ]),
          { ...entry([{ id: 'a', failed: false }], 1), impl: 'museum/y' },
        ],
      },
      [
        {
          name: 'framing',
          cases: [
            sampleCase({ id: 'n1' }),
            variantCase('v1', 'fail'),
            variantCase('v2', 'pass'),
            { ...variantCase('y1', 'pass'), impl: 'museum/y' },
          ],
        },
      ],
    );
    expect(report.banner.museum.map((m) => m.verdict)).toEqual(['caught', 'missed']);
    expect(report.banner.totals).toMatchObject({ fail: 1, findings: 1, caught: 1, missed: 1 });
    expect(parseReport(json(report))).toEqual(report);
    expect(report.suites[0]!.cases.map((c) => c.expect)).toEqual(['pass', 'fail', 'fail', 'fail']);
  });

  it('reads reports written before museum outcomes: expect, totals, museum and scenarioRuns filled in', () => {
    const raw = json(sampleReport());
    const banner = raw.banner as Record<string, unknown> & { totals: Record<string, unknown> };
    for (const k of ['findings', 'caught', 'missed']) delete banner.totals[k];
    delete banner.museum;
    delete banner.scenarioRuns;
    delete banner.scenarioRunsPerSec;
    for (const c of (raw.suites as { cases: Record<string, unknown>[] }[]).flatMap((x) => x.cases))
      delete c.expect;
    const report = parseReport(raw);
    expect(report).toEqual(sampleReport());
    expect(report.banner.totals.findings).toBe(3);
    expect(Object.keys(report.banner)).toEqual(BANNER_FIELDS);
  });

  it('rejects inconsistent museum entries and expectations, naming the field', () => {
    const good = () =>
      json(
        createReport({ ...sampleBanner(), museum: [entry([{ id: 'a', failed: true }])] }, [
          { name: 'framing', cases: [variantCase('v1', 'fail')] },
        ]),
      );
    const museumOf = (raw: Record<string, unknown>) =>
      (raw.banner as { museum: Record<string, unknown>[] }).museum;
    const caseOf = (raw: Record<string, unknown>) =>
      (raw.suites as { cases: Record<string, unknown>[] }[])[0]!.cases[0]!;

    let raw = good();
    museumOf(raw)[0]!.verdict = 'missed';
    expect(() => parseReport(raw)).toThrow(
      'banner.museum[0].verdict: is "missed" but its properties make it "caught"',
    );
    raw = good();
    museumOf(raw)[0]!.verdict = 'escaped';
    expect(() => parseReport(raw)).toThrow(/banner\.museum\[0\]\.verdict: must be one of "caught"/);
    raw = good();
    delete museumOf(raw)[0]!.propertiesTotal;
    expect(() => parseReport(raw)).toThrow(
      'banner.museum[0].propertiesTotal: missing (expected an integer >= 0)',
    );
    raw = good();
    museumOf(raw).push({ ...museumOf(raw)[0]! });
    expect(() => parseReport(raw)).toThrow('banner.museum[1].impl: duplicate museum entry for "museum/x"');
    raw = good();
    museumOf(raw)[0]!.propertiesTotal = 0;
    expect(() => parseReport(raw)).toThrow('banner.museum[0].propertiesTotal: is 0 but 1 properties');
    raw = good();
    caseOf(raw).impl = 'netlab';
    expect(() => parseReport(raw)).toThrow(
      'suites[0].cases[0].expect: is "fail" but banner.museum has no entry for its impl "netlab"',
    );
    raw = good();
    caseOf(raw).expect = 'maybe';
    expect(() => parseReport(raw)).toThrow('suites[0].cases[0].expect: must be one of "pass", "fail"');
    raw = good();
    (raw.banner as { totals: Record<string, number> }).totals.findings = 1;
    expect(() => parseReport(raw)).toThrow(
      'banner.totals.findings: is 1 but the suites and museum entries make it 0',
    );
    raw = good();
    (raw.banner as Record<string, unknown>).scenarioRuns = -1;
    expect(() => parseReport(raw)).toThrow('banner.scenarioRuns: must be >= 0');
  });
});
