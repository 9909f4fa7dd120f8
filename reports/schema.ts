/**
 * The report model, schema `netlab/report@2`: what one `netlab run` found, as a run banner (seeds,
 * knobs, versions, time) and suites of cases, each case carrying everything needed to understand and
 * replay it. Zod schemas validate reports where they are produced and where they are read, with
 * typed errors that name the JSON path of the first bad field. Field reference: reports/SCHEMA.md.
 *
 * Isomorphic: no Node imports, so the browser report and viewer validate with the same code.
 */
import { z } from 'zod';

// ---------------------------------------------------------------------------------------------
// Versions, vocabularies and errors
// ---------------------------------------------------------------------------------------------

/**
 * The schema id every report carries. Renaming, removing or retyping a field bumps the version;
 * adding an optional field does not (readers drop fields they do not know).
 */
export const REPORT_SCHEMA = 'netlab/report@2';
export const REPORT_SCHEMA_VERSION = 2;

/** Outcomes of a case. `flaky`: the outcome differed between runs of the same case (counted as a pass in JUnit). */
export const CASE_STATUSES = ['pass', 'fail', 'error', 'skip', 'flaky'] as const;
export type CaseStatus = (typeof CASE_STATUSES)[number];

/**
 * What outcome of a case is correct. `pass`: a fail is a finding (every case of netlab itself).
 * `fail`: the case ran a museum variant (a deliberately broken implementation) under the
 * expected-outcome rule (`netlab run --impl all`, `npm run lab`): a fail is expected, not a finding;
 * whether the variant was caught at all is judged per variant in `banner.museum`.
 */
export const CASE_EXPECTS = ['pass', 'fail'] as const;
export type CaseExpect = (typeof CASE_EXPECTS)[number];

/**
 * A museum variant's verdict. `caught`: some property of its own family failed; `missed`: every
 * property of its family ran and none failed (a finding); `not-judged`: not all of them ran here
 * (another shard ran the rest, the budget ran out, its family was not selected, or it names none).
 */
export const MUSEUM_VERDICTS = ['caught', 'missed', 'not-judged'] as const;
export type MuseumVerdict = (typeof MUSEUM_VERDICTS)[number];

/** Where a case ran: the deterministic simulated network or real sockets. */
export const RUNTIMES = ['sim', 'real'] as const;
export type Runtime = (typeof RUNTIMES)[number];

/** Folder, relative to report.json, that holds the trace files cases point at. */
export const TRACES_DIR = 'traces';

/** Stable error codes. Never rename one: callers match on them. */
export type ReportErrorCode =
  /** A report (object or file) is not a valid `netlab/report@2`: bad field, truncated, newer schema. */
  | 'ERR_BAD_REPORT'
  /** An argument other than the report itself is unusable (e.g. a trace file name with a slash). */
  | 'ERR_BAD_ARGUMENT'
  /** Reading or writing a report file failed (missing file, permissions, disk full). */
  | 'ERR_REPORT_IO';

export class ReportError extends Error {
  override readonly name = 'ReportError';
  readonly code: ReportErrorCode;
  /** JSON path of the first bad field, e.g. "suites[0].cases[2].status"; null when no field is at fault. */
  readonly path: string | null;

  constructor(code: ReportErrorCode, message: string, options?: { path?: string | null; cause?: unknown }) {
    super(`${code}: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.path = options?.path ?? null;
  }
}

// ---------------------------------------------------------------------------------------------
// Types (hand-written for their documentation; the schemas below are checked against them)
// ---------------------------------------------------------------------------------------------

export interface Totals {
  cases: number;
  pass: number;
  fail: number;
  error: number;
  skip: number;
  flaky: number;
  /**
   * What needs a person: cases whose outcome is not the expected one (see isFinding) plus missed
   * museum variants. A run exits 1 when this is > 0. Optional in JSON (computed when absent).
   */
  findings: number;
  /** Museum variants caught (banner.museum verdict "caught"). Optional in JSON. */
  caught: number;
  /** Museum variants missed (verdict "missed"; each is a finding too). Optional in JSON. */
  missed: number;
}

/** One own-family property a museum variant ran, and whether it failed (caught the variant). */
export interface MuseumProperty {
  /** Property id, e.g. "framing/pair0". */
  id: string;
  /** True when some invariant case of the property failed on the variant. */
  failed: boolean;
}

/** A museum variant run under the expected-outcome rule: was it caught by the family meant to catch it? */
export interface MuseumEntry {
  /** Implementation name, e.g. "museum/mangos-108". */
  impl: string;
  /** The invariant family meant to catch it (ImplVariant.family); null when it names none. */
  family: string | null;
  /** One line naming the historical bug and where it was. */
  summary: string;
  /** How many properties of its family the whole run holds (every shard together). */
  propertiesTotal: number;
  /** The properties of its family this report ran on it, with their outcome. */
  properties: MuseumProperty[];
  /** Derived from the two fields above (museumVerdict); validation checks it. */
  verdict: MuseumVerdict;
}

/** The run banner: everything needed to reproduce the run as a whole, and how long it took. */
export interface Banner {
  /** Root seed of the simulated world(s). */
  simSeed: string;
  /** fast-check's root seed for the run (a 32-bit integer in practice). */
  fcSeed: number;
  /** Every knob of the run, printed so a reader can reproduce it (swarm draws included). */
  knobs: Record<string, string | number | boolean>;
  /** package.json version of netlab. */
  netlabVersion: string;
  /** Git commit the run was built from, or "unknown" (see gitCommit in write.ts). */
  commit: string;
  /** process.version of the Node that ran it, e.g. "v20.20.2". */
  nodeVersion: string;
  /** Wall-clock start of the run, ISO 8601 (e.g. new Date().toISOString()). */
  startedAt: string;
  /** Virtual time simulated over the whole run, in integer microseconds. */
  virtualUs: number;
  /** Wall time the run took, in milliseconds (a merged report: the sum over its inputs). */
  wallMs: number;
  /**
   * Generated scenarios checked over the run (shrinking runs included; a --check-determinism run
   * counts once); null when not counted. Optional in JSON (read as null).
   */
  scenarioRuns: number | null;
  /** scenarioRuns per second of wallMs, one decimal; null when not counted. Optional in JSON. */
  scenarioRunsPerSec: number | null;
  /** Case counts by status, findings and museum verdicts; must equal computeTotals(suites, museum). */
  totals: Totals;
  /** Museum variants run under the expected-outcome rule, in run order; [] for none. Optional in JSON. */
  museum: MuseumEntry[];
}

/** One test case: a property, conformance check or interop cell, with its outcome and how to replay it. */
export interface Case {
  /** Stable id, unique within the report (e.g. "sp/req0/resend-after-partition"). */
  id: string;
  title: string;
  /** The stack the case exercises (`netlab run --list-stacks`), e.g. "sp", "echo". */
  stack: string;
  /**
   * The invariant family (the suite: "framing", "resend"...; "coverage" for coverage rows, "parity",
   * "interop" for the parity and interop suites).
   */
  family: string;
  /** Protocol, e.g. "req0". */
  protocol: string;
  /** Transport, e.g. "tcp", "ipc", "inproc". */
  transport: string;
  runtime: Runtime;
  /** Implementation under test, e.g. "netlab". */
  impl: string;
  /** The other side when it is a third-party peer ("nngcat", "nanocat"); null otherwise. */
  peer: string | null;
  /** The role of `impl` in the case ("dialer", "listener", "req"...); null when it has none. */
  role: string | null;
  /** Names of the fault kinds the case injected; [] for none. */
  faults: string[];
  /** Checklist id the case covers (e.g. "sp-12"); null when it covers none. */
  ref: string | null;
  /** The requirement text (MUST/SHOULD) the case checks; null when there is none. */
  requirement: string | null;
  /** Name of the invariant checked (the one that failed, for a failure); null when none. */
  invariant: string | null;
  status: CaseStatus;
  /** How many times the case ran (fast-check runs, or repetitions); 0 when skipped. */
  runs: number;
  /** fast-check seed of the case; null when it is not a property. */
  fcSeed: number | null;
  /** fast-check `path` of the (shrunk) failure; null when none. */
  fcPath: string | null;
  /** Seed of the simulated world of the reported run; null on the real runtime. */
  simSeed: string | null;
  /** Shrink steps fast-check took; null when nothing was shrunk. */
  shrinks: number | null;
  /**
   * The (shrunk) counterexample as plain JSON (objects, arrays, strings, finite numbers, booleans,
   * null; no Uint8Array, Map, bigint or NaN: validation rejects them); null when there is none.
   * Typed `unknown` so a runner can pass its own interface-typed value without a cast.
   */
  counterexample: unknown;
  /** What should have happened; null when not applicable. */
  expected: string | null;
  /** What happened (for a skip: why it was skipped); null when not applicable. */
  actual: string | null;
  /** The shell command that reproduces this case exactly. Required on every case. */
  replay: string;
  /** Trace hash of the reported run (16 hex digits from sim/trace.ts); null without a trace. */
  traceHash: string | null;
  /** Trace file, relative to report.json (e.g. "traces/x.jsonl"); null when none was kept. */
  trace: string | null;
  /** Wall time of the case in milliseconds; null when not measured. May be omitted in JSON (read as null). */
  wallMs: number | null;
  /** The correct outcome: "fail" for a museum variant under the expected-outcome rule. Optional in JSON (read as "pass"). */
  expect: CaseExpect;
}

/** A case as a producer writes it: `expect` may be left out (it is "pass"). */
export type CaseInput = Omit<Case, 'expect'> & { expect?: CaseExpect };

export interface Suite {
  name: string;
  cases: Case[];
}

export interface Report {
  schema: typeof REPORT_SCHEMA;
  banner: Banner;
  suites: Suite[];
}

// ---------------------------------------------------------------------------------------------
// Field descriptions (used in error messages; SCHEMA.md documents the same fields)
// ---------------------------------------------------------------------------------------------

const NON_EMPTY = 'a non-empty string';
const STRING_OR_NULL = 'a string or null';
const NAME_OR_NULL = 'a non-empty string or null';

/** Every Case field, in the order report.json lists them, with what a valid value looks like. */
const CASE_FIELD_DESCRIPTIONS: { readonly [K in keyof Case]-?: string } = {
  id: NON_EMPTY,
  title: NON_EMPTY,
  stack: NON_EMPTY,
  family: NON_EMPTY,
  protocol: NON_EMPTY,
  transport: NON_EMPTY,
  runtime: '"sim" or "real"',
  impl: NON_EMPTY,
  peer: NAME_OR_NULL,
  role: NAME_OR_NULL,
  faults: 'an array of strings ([] for none)',
  ref: NAME_OR_NULL,
  requirement: STRING_OR_NULL,
  invariant: NAME_OR_NULL,
  status: CASE_STATUSES.map((s) => JSON.stringify(s)).join(', '),
  runs: 'an integer >= 0',
  fcSeed: 'an integer or null',
  fcPath: STRING_OR_NULL,
  simSeed: STRING_OR_NULL,
  shrinks: 'an integer >= 0 or null',
  counterexample: 'a JSON value or null',
  expected: STRING_OR_NULL,
  actual: STRING_OR_NULL,
  replay: 'a non-empty string (the command that reproduces the case)',
  traceHash: NAME_OR_NULL,
  trace: 'a relative path such as "traces/x.jsonl", or null',
  wallMs: 'a number >= 0 or null',
  expect: CASE_EXPECTS.map((s) => JSON.stringify(s)).join(' or '),
};

/** Every Case field name, in report order. */
export const CASE_FIELDS = Object.keys(CASE_FIELD_DESCRIPTIONS) as readonly (keyof Case)[];

const BANNER_FIELD_DESCRIPTIONS: { readonly [K in keyof Banner]-?: string } = {
  simSeed: 'a string',
  fcSeed: 'an integer',
  knobs: 'an object whose values are strings, numbers or booleans',
  netlabVersion: NON_EMPTY,
  commit: NON_EMPTY,
  nodeVersion: NON_EMPTY,
  startedAt: 'an ISO 8601 date-time such as "2025-01-31T12:00:00.000Z"',
  virtualUs: 'an integer >= 0 (microseconds)',
  wallMs: 'a number >= 0 (milliseconds)',
  scenarioRuns: 'an integer >= 0 or null',
  scenarioRunsPerSec: 'a number >= 0 or null',
  totals: 'an object of case counts',
  museum: 'an array of museum entries ({ impl, family, summary, propertiesTotal, properties, verdict })',
};

const MUSEUM_FIELD_DESCRIPTIONS: Record<string, string> = {
  impl: NON_EMPTY,
  family: NAME_OR_NULL,
  summary: 'a string',
  propertiesTotal: 'an integer >= 0',
  properties: 'an array of { id, failed }',
  verdict: MUSEUM_VERDICTS.map((s) => JSON.stringify(s)).join(', '),
};

/** Every Banner field name, in report order. */
export const BANNER_FIELDS = Object.keys(BANNER_FIELD_DESCRIPTIONS) as readonly (keyof Banner)[];

// ---------------------------------------------------------------------------------------------
// Schemas
// ---------------------------------------------------------------------------------------------

type Key = string | number;

/** Deepest nesting a counterexample may have: a bound, so a hostile file cannot blow the stack. */
const MAX_JSON_DEPTH = 64;

/** The first place where `value` would not survive a JSON round trip, or null if it would. */
function firstNonJson(
  value: unknown,
  path: Key[],
  ancestors: Set<object>,
): { path: Key[]; why: string } | null {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return null;
  if (typeof value === 'number')
    return Number.isFinite(value) ? null : { path, why: `${String(value)} is not a JSON number` };
  if (typeof value !== 'object') return { path, why: `${describeValue(value)} is not JSON` };
  if (ancestors.has(value)) return { path, why: 'a cycle is not JSON' };
  if (path.length >= MAX_JSON_DEPTH) return { path, why: `nested deeper than ${MAX_JSON_DEPTH} levels` };
  const proto = Object.getPrototypeOf(value) as unknown;
  const isArray = Array.isArray(value);
  if (!isArray && proto !== Object.prototype && proto !== null) {
    // A Uint8Array or Map would be mangled by JSON.stringify; the caller must convert it first.
    const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
    return { path, why: `a ${typeof name === 'string' ? name : 'non-plain object'} is not plain JSON` };
  }
  ancestors.add(value);
  try {
    if (isArray) {
      const items = value as unknown[];
      // Index loop, not for-of over entries, so holes are seen (and rejected as undefined).
      for (let i = 0; i < items.length; i++) {
        const bad = firstNonJson(items[i], [...path, i], ancestors);
        if (bad) return bad;
      }
    } else {
      for (const [k, v] of Object.entries(value)) {
        // JSON.stringify drops an undefined property, which reads back the same (absent = undefined).
        if (v === undefined) continue;
        const bad = firstNonJson(v, [...path, k], ancestors);
        if (bad) return bad;
      }
    }
  } finally {
    ancestors.delete(value);
  }
  return null;
}

const jsonValueOrNull = z
  .custom<unknown>(() => true)
  .superRefine((v, ctx) => {
    if (v === undefined) {
      ctx.addIssue({ code: 'custom', message: 'missing' });
      return;
    }
    const bad = firstNonJson(v, [], new Set());
    if (bad) ctx.addIssue({ code: 'custom', path: bad.path, message: bad.why });
  });

/** True for a POSIX-style relative path with no "..", empty or absolute parts: portable and inside the report folder. */
export function isReportRelativePath(p: string): boolean {
  if (p === '' || p.startsWith('/') || p.includes('\\') || /^[A-Za-z]:/.test(p)) return false;
  return p.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

const nonEmpty = z.string().min(1);
const nameOrNull = z.string().min(1).nullable();
const stringOrNull = z.string().nullable();
const count = z.number().int().min(0);

const totalsSchema = z.object({
  cases: count,
  pass: count,
  fail: count,
  error: count,
  skip: count,
  flaky: count,
  // Optional so reports written before museum verdicts existed still read; parseReport fills them in.
  findings: count.optional(),
  caught: count.optional(),
  missed: count.optional(),
});

const museumEntrySchema = z.object({
  impl: nonEmpty,
  family: nameOrNull,
  summary: z.string(),
  propertiesTotal: count,
  properties: z.array(z.object({ id: nonEmpty, failed: z.boolean() })),
  verdict: z.enum(MUSEUM_VERDICTS),
});

const bannerSchema = z.object({
  simSeed: z.string(),
  fcSeed: z.number().int(),
  knobs: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  netlabVersion: nonEmpty,
  commit: nonEmpty,
  nodeVersion: nonEmpty,
  startedAt: z.iso.datetime({ offset: true }),
  virtualUs: count,
  wallMs: z.number().min(0),
  scenarioRuns: count.nullable().default(null),
  scenarioRunsPerSec: z.number().min(0).nullable().default(null),
  totals: totalsSchema,
  museum: z.array(museumEntrySchema).default([]),
});

const caseSchema = z.object({
  id: nonEmpty,
  title: nonEmpty,
  stack: nonEmpty,
  family: nonEmpty,
  protocol: nonEmpty,
  transport: nonEmpty,
  runtime: z.enum(RUNTIMES),
  impl: nonEmpty,
  peer: nameOrNull,
  role: nameOrNull,
  faults: z.array(z.string()),
  ref: nameOrNull,
  requirement: stringOrNull,
  invariant: nameOrNull,
  status: z.enum(CASE_STATUSES),
  runs: count,
  fcSeed: z.number().int().nullable(),
  fcPath: stringOrNull,
  simSeed: stringOrNull,
  shrinks: count.nullable(),
  counterexample: jsonValueOrNull,
  expected: stringOrNull,
  actual: stringOrNull,
  replay: nonEmpty,
  traceHash: nameOrNull,
  trace: z
    .string()
    .superRefine((p, ctx) => {
      if (!isReportRelativePath(p))
        ctx.addIssue({
          code: 'custom',
          message: `must be a relative path inside the report folder such as "${TRACES_DIR}/x.jsonl", got ${describeValue(p)}`,
        });
    })
    .nullable(),
  // Optional in JSON (older writers and hand-written reports may lack it); always present once parsed.
  wallMs: z.number().min(0).nullable().default(null),
  expect: z.enum(CASE_EXPECTS).default('pass'),
});

const suiteSchema = z.object({ name: nonEmpty, cases: z.array(caseSchema) });

const reportSchema = z.object({
  schema: z.literal(REPORT_SCHEMA),
  banner: bannerSchema,
  suites: z.array(suiteSchema),
});

/** Zod schemas of the model, for callers that compose them (e.g. a merge tool). parseReport is the checked entry point. */
export const schemas = {
  totals: totalsSchema,
  museumEntry: museumEntrySchema,
  banner: bannerSchema,
  case: caseSchema,
  suite: suiteSchema,
  report: reportSchema,
} as const;

// Compile-time proof that the schemas and the documented interfaces describe the same shapes
// (totals as read: the derived counts may be absent; parseReport fills them in).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type DerivedTotals = 'findings' | 'caught' | 'missed';
type ReadTotals = Omit<Totals, DerivedTotals> & { [K in DerivedTotals]?: number | undefined };
type ReadBanner = Omit<Banner, 'totals'> & { totals: ReadTotals };
const schemaMatchesTypes: [
  Same<z.output<typeof caseSchema>, Case>,
  Same<z.output<typeof museumEntrySchema>, MuseumEntry>,
  Same<z.output<typeof bannerSchema>, ReadBanner>,
  Same<z.output<typeof reportSchema>, Omit<Report, 'banner'> & { banner: ReadBanner }>,
] = [true, true, true, true];
void schemaMatchesTypes;

// ---------------------------------------------------------------------------------------------
// Error messages naming JSON paths
// ---------------------------------------------------------------------------------------------

/** Formats a path the way a reader writes it in JS: suites[0].cases[2].status. */
export function formatJsonPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (typeof p === 'string' && /^[A-Za-z_$][\w$]*$/.test(p)) out += out === '' ? p : `.${p}`;
    else out += `[${JSON.stringify(String(p))}]`;
  }
  return out === '' ? 'report' : out;
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (typeof v === 'bigint') return `${v}n (a bigint)`;
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** Follows `path` through the raw input; `found` is false when some key on the way is absent. */
function lookup(root: unknown, path: readonly PropertyKey[]): { found: boolean; value: unknown } {
  let cur: unknown = root;
  for (const key of path) {
    if (typeof cur !== 'object' || cur === null || !Object.prototype.hasOwnProperty.call(cur, key))
      return { found: false, value: undefined };
    cur = (cur as Record<PropertyKey, unknown>)[key];
  }
  return { found: true, value: cur };
}

/** What a valid value at `path` looks like, for the fields the model documents. */
function expectedAt(path: readonly PropertyKey[]): string | undefined {
  const [a, b, c, , e] = path;
  if (path.length === 1 && a === 'suites') return 'an array of suites';
  if (path.length === 1 && a === 'banner') return 'a banner object';
  if (a === 'suites' && path.length === 2) return 'a suite object ({ name, cases })';
  if (a === 'suites' && path.length === 3 && c === 'cases') return 'an array of cases';
  if (a === 'suites' && path.length === 4) return 'a case object';
  if (a === 'suites' && path.length === 6 && e === 'faults') return 'a string';
  if (a === 'suites' && c === 'cases' && path.length === 5 && typeof e === 'string')
    return (CASE_FIELD_DESCRIPTIONS as Record<string, string>)[e];
  if (a === 'suites' && path.length === 3 && c === 'name') return NON_EMPTY;
  if (a === 'banner' && path.length === 2 && typeof b === 'string')
    return (BANNER_FIELD_DESCRIPTIONS as Record<string, string>)[b];
  if (a === 'banner' && b === 'knobs' && path.length === 3) return 'a string, number or boolean';
  if (a === 'banner' && b === 'totals' && path.length === 3) return 'an integer >= 0';
  if (a === 'banner' && b === 'museum' && path.length === 3) return 'a museum entry object';
  if (a === 'banner' && b === 'museum' && path.length === 4 && typeof path[3] === 'string')
    return MUSEUM_FIELD_DESCRIPTIONS[path[3]];
  return undefined;
}

type Issue = z.core.$ZodIssue;

function issueText(issue: Issue, input: unknown): string {
  // Custom checks (JSON values, trace paths) word their own message, even for a hole in an array.
  if (issue.code === 'custom')
    return issue.message === 'missing'
      ? `missing (expected ${expectedAt(issue.path) ?? 'a value'})`
      : issue.message;
  const { found, value } = lookup(input, issue.path);
  const expected = expectedAt(issue.path);
  if (!found) {
    // Only nullable fields get the null hint: for replay or id, null is not an option.
    const hint = expected?.endsWith('or null') ? '; use null where it does not apply' : '';
    return `missing (expected ${expected ?? issue.message}${hint})`;
  }
  switch (issue.code) {
    case 'invalid_type':
      if (expected === undefined && issue.expected === 'int')
        return `must be an integer, got ${describeValue(value)}`;
      return `expected ${expected ?? issue.expected}, got ${describeValue(value)}`;
    case 'invalid_union':
      return `expected ${expected ?? 'another value'}, got ${describeValue(value)}`;
    case 'too_small':
      if (issue.origin === 'string')
        return expected?.endsWith('or null')
          ? 'must not be empty (use null where it does not apply)'
          : 'must not be empty';
      return `must be ${issue.inclusive === false ? '>' : '>='} ${Number(issue.minimum)}, got ${describeValue(value)}`;
    case 'invalid_value':
      return `must be ${issue.values.length > 1 ? 'one of ' : ''}${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(value)}`;
    case 'invalid_format':
      return `expected ${expected ?? issue.format}, got ${describeValue(value)}`;
    default:
      return issue.message;
  }
}

function badReport(path: readonly PropertyKey[], text: string, more = 0): ReportError {
  const at = formatJsonPath(path);
  const tail = more > 0 ? ` (and ${more} more problem${more === 1 ? '' : 's'})` : '';
  return new ReportError('ERR_BAD_REPORT', `${at}: ${text}${tail}`, { path: at });
}

const SCHEMA_ID_RE = /^netlab\/report@(\d+)$/;

/** Rejects anything that is not a report of a version this code reads, before looking at its fields. */
function checkSchemaId(json: unknown): void {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw badReport([], `expected a report object, got ${describeValue(json)}`);
  const id = (json as { schema?: unknown }).schema;
  const m = typeof id === 'string' ? SCHEMA_ID_RE.exec(id) : null;
  if (m !== null && Number(m[1]) > REPORT_SCHEMA_VERSION)
    throw badReport(
      ['schema'],
      `this report uses the newer schema ${JSON.stringify(id)}; this netlab reads ${JSON.stringify(REPORT_SCHEMA)}. ` +
        'Open it with a newer netlab.',
    );
  if (m !== null && Number(m[1]) < REPORT_SCHEMA_VERSION)
    throw badReport(
      ['schema'],
      `this report uses the older schema ${JSON.stringify(id)}; this netlab reads ${JSON.stringify(REPORT_SCHEMA)} ` +
        '(cases name their stack since version 2). Run the suites again with this netlab, or open it with the netlab that wrote it.',
    );
  if (id === undefined)
    throw badReport(
      ['schema'],
      `missing (expected ${JSON.stringify(REPORT_SCHEMA)}); is this a netlab report?`,
    );
  if (id !== REPORT_SCHEMA)
    throw badReport(
      ['schema'],
      `must be ${JSON.stringify(REPORT_SCHEMA)}, got ${describeValue(id)}` +
        (m === null ? ' (not a netlab report)' : ''),
    );
}

// ---------------------------------------------------------------------------------------------
// Public entry points
// ---------------------------------------------------------------------------------------------

/**
 * True when a case's outcome needs a person: an error or a flaky outcome always (the lab itself is
 * at fault), a fail unless the case expected one (a museum variant under the expected-outcome rule).
 */
export function isFinding(c: { readonly status: CaseStatus; readonly expect?: CaseExpect }): boolean {
  if (c.status === 'error' || c.status === 'flaky') return true;
  return c.status === 'fail' && c.expect !== 'fail';
}

/** A museum variant's verdict from the properties of its family that ran (see MuseumVerdict). */
export function museumVerdict(
  e: Pick<MuseumEntry, 'family' | 'propertiesTotal' | 'properties'>,
): MuseumVerdict {
  if (e.properties.some((p) => p.failed)) return 'caught';
  if (e.family === null || e.propertiesTotal === 0) return 'not-judged';
  const ran = new Set(e.properties.map((p) => p.id)).size;
  return ran >= e.propertiesTotal ? 'missed' : 'not-judged';
}

/** Counts cases by status, the findings, and the museum verdicts. */
export function computeTotals(
  suites: readonly {
    readonly cases: readonly { readonly status: CaseStatus; readonly expect?: CaseExpect }[];
  }[],
  museum: readonly Pick<MuseumEntry, 'family' | 'propertiesTotal' | 'properties'>[] = [],
): Totals {
  const totals: Totals = {
    cases: 0,
    pass: 0,
    fail: 0,
    error: 0,
    skip: 0,
    flaky: 0,
    findings: 0,
    caught: 0,
    missed: 0,
  };
  for (const suite of suites) {
    for (const c of suite.cases) {
      totals.cases++;
      totals[c.status]++;
      if (isFinding(c)) totals.findings++;
    }
  }
  for (const e of museum) {
    const verdict = museumVerdict(e);
    if (verdict === 'caught') totals.caught++;
    if (verdict === 'missed') {
      totals.missed++;
      totals.findings++;
    }
  }
  return totals;
}

/** Checks what the field schemas cannot: museum entries agree with themselves and with the cases. */
function checkMuseum(report: ReadReport): void {
  const entries = new Map<string, number>();
  report.banner.museum.forEach((e, m) => {
    const path = ['banner', 'museum', m];
    const previous = entries.get(e.impl);
    if (previous !== undefined)
      throw badReport(
        [...path, 'impl'],
        `duplicate museum entry for ${JSON.stringify(e.impl)} (first at banner.museum[${previous}])`,
      );
    entries.set(e.impl, m);
    const seen = new Set<string>();
    e.properties.forEach((p, i) => {
      if (seen.has(p.id))
        throw badReport([...path, 'properties', i, 'id'], `duplicate property ${JSON.stringify(p.id)}`);
      seen.add(p.id);
    });
    if (seen.size > e.propertiesTotal)
      throw badReport(
        [...path, 'propertiesTotal'],
        `is ${e.propertiesTotal} but ${seen.size} properties of the family are listed as run`,
      );
    const verdict = museumVerdict(e);
    if (e.verdict !== verdict)
      throw badReport(
        [...path, 'verdict'],
        `is ${JSON.stringify(e.verdict)} but its properties make it ${JSON.stringify(verdict)}`,
      );
  });
  report.suites.forEach((suite, s) =>
    suite.cases.forEach((c, i) => {
      if (c.expect === 'fail' && !entries.has(c.impl))
        throw badReport(
          ['suites', s, 'cases', i, 'expect'],
          `is "fail" but banner.museum has no entry for its impl ${JSON.stringify(c.impl)} (only museum variants may expect a failure)`,
        );
    }),
  );
}

type ReadReport = z.output<typeof reportSchema>;

/**
 * Validates a parsed JSON value as a `netlab/report@2` report and returns it normalized (fields in
 * schema order, unknown fields dropped, omitted optional fields filled in: a case's `wallMs` as null
 * and `expect` as "pass", the banner's `scenarioRuns*` as null and `museum` as [], the derived
 * totals computed). Beyond field types it checks that case ids are unique, that museum entries are
 * consistent (verdict derived from the properties; only listed variants expect a failure) and that
 * banner.totals equals computeTotals(suites, museum).
 * Throws ReportError('ERR_BAD_REPORT') whose message starts with the JSON path of the first bad
 * field (also in `error.path`), e.g. "suites[0].cases[2].status: must be one of ...".
 */
/**
 * `existing` with the suite `name` replaced by (or added as) `cases`: the other suites stay as they
 * were, `knobs` join the banner's as `<knobPrefix>.<key>`, totals are recomputed. How `netlab
 * interop --out` and `netlab parity --out` add their results to the report of a `netlab run`.
 */
export function mergeSuiteInto(
  existing: Report,
  name: string,
  cases: readonly CaseInput[],
  knobPrefix: string,
  knobs: Record<string, string | number | boolean>,
): Report {
  const suites = [...existing.suites.filter((s) => s.name !== name), { name, cases }];
  const merged = { ...existing.banner.knobs };
  for (const [k, v] of Object.entries(knobs)) merged[`${knobPrefix}.${k}`] = v;
  return parseReport({
    ...existing,
    banner: { ...existing.banner, knobs: merged, totals: computeTotals(suites, existing.banner.museum) },
    suites,
  });
}

export function parseReport(json: unknown): Report {
  checkSchemaId(json);
  const r = reportSchema.safeParse(json);
  if (!r.success) {
    const [first, ...rest] = r.error.issues;
    // safeParse failing with no issue would be a zod bug; say so rather than crash on undefined.
    if (first === undefined) throw badReport([], 'invalid (no detail from the validator)');
    throw badReport(first.path, issueText(first, json), rest.length);
  }
  const read = r.data;

  const firstSeen = new Map<string, string>();
  read.suites.forEach((suite, s) =>
    suite.cases.forEach((c, i) => {
      const path = ['suites', s, 'cases', i, 'id'];
      const previous = firstSeen.get(c.id);
      if (previous !== undefined)
        throw badReport(path, `duplicate case id ${JSON.stringify(c.id)} (first at ${previous})`);
      firstSeen.set(c.id, formatJsonPath(path));
    }),
  );
  checkMuseum(read);

  const actual = computeTotals(read.suites, read.banner.museum);
  const given: { [K in keyof Totals]?: number | undefined } = read.banner.totals;
  for (const key of Object.keys(actual) as (keyof Totals)[]) {
    const value = given[key];
    if (value !== undefined && value !== actual[key]) {
      const n = actual[key];
      const what =
        key === 'findings' || key === 'caught' || key === 'missed'
          ? `the suites and museum entries make it ${n}`
          : `the suites hold ${n} ${n === 1 ? 'case' : 'cases'}${key === 'cases' ? '' : ` with status ${JSON.stringify(key)}`}`;
      throw badReport(['banner', 'totals', key], `is ${value} but ${what}`);
    }
  }
  const { totals: _given, museum, ...rest } = read.banner;
  return { ...read, banner: { ...rest, totals: actual, museum } };
}

/** A museum entry as a producer writes it: the verdict is derived. */
export type MuseumEntryInput = Omit<MuseumEntry, 'verdict'>;

/** A banner as a producer writes it: totals and verdicts are derived, the newer fields optional. */
export type BannerInput = Omit<Banner, 'totals' | 'museum' | 'scenarioRuns' | 'scenarioRunsPerSec'> &
  Partial<Pick<Banner, 'scenarioRuns' | 'scenarioRunsPerSec'>> & { museum?: MuseumEntryInput[] };

/**
 * Builds a validated report from a banner without totals and the suites: computes the totals and
 * museum verdicts, then runs parseReport, so a bad case (say a counterexample holding a Uint8Array)
 * fails here, at the producer, with the path of the field. The usual way for a runner to make a Report.
 */
export function createReport(
  banner: BannerInput,
  suites: readonly { name: string; cases: readonly CaseInput[] }[],
): Report {
  const museum = (banner.museum ?? []).map((e) => ({ ...e, verdict: museumVerdict(e) }));
  return parseReport({
    schema: REPORT_SCHEMA,
    banner: { ...banner, totals: computeTotals(suites, museum), museum },
    suites,
  });
}

/**
 * A file name for a case's trace that is safe on every file system and unique per id: characters
 * outside [A-Za-z0-9._-] become "_", and when that changed the id, an 8-hex-digit hash of the id is
 * appended so "a/b" and "a_b" do not collide. Put the file under TRACES_DIR and set the case's
 * `trace` to `${TRACES_DIR}/${name}`.
 */
export function traceFileName(caseId: string, extension = '.jsonl'): string {
  // A leading dot would hide the file (and "." or ".." would name a directory); the cap keeps names portable.
  const safe =
    caseId
      .replace(/[^A-Za-z0-9._-]/g, '_')
      .replace(/^\.+/, '_')
      .slice(0, 120) || '_';
  if (safe === caseId && safe !== '') return `${safe}${extension}`;
  // FNV-1a over UTF-16 code units: tiny, deterministic, identical in Node and browsers.
  let h = 0x811c9dc5;
  for (let i = 0; i < caseId.length; i++) h = Math.imul(h ^ caseId.charCodeAt(i), 0x01000193) >>> 0;
  return `${safe}-${h.toString(16).padStart(8, '0')}${extension}`;
}
