/**
 * The report page's model, without the DOM: a light check of the embedded report, the conformance
 * matrix (rows = one invariant across implementations, columns = implementations), the query
 * language of the query bar, and the view state kept in the URL hash. Pure functions, so vitest
 * tests them in Node and the page (web/main.ts) only renders.
 */
import type { Banner, Case, CaseStatus, Report, Totals } from '../reports/schema.js';
import { traceSchemaProblem } from '../sim/trace.js';

export type { Banner, Case, CaseStatus, Report, Totals };

/** The schema this page reads; another one is shown as a problem, and rendered as far as it goes. */
export const PAGE_REPORT_SCHEMA = 'netlab/report@2';

export const STATUSES: readonly CaseStatus[] = ['pass', 'fail', 'error', 'skip', 'flaky'];

/** Icon and word per outcome: the page never relies on colour alone. */
export const STATUS_LABEL: Readonly<Record<CaseStatus, { icon: string; text: string }>> = {
  pass: { icon: '✓', text: 'pass' },
  fail: { icon: '✗', text: 'fail' },
  error: { icon: '!', text: 'error' },
  skip: { icon: '–', text: 'skip' },
  flaky: { icon: '~', text: 'flaky' },
};

// ---------------------------------------------------------------------------------------------
// Light validation (the builder validated with zod; this guards against a hand-edited or foreign file)
// ---------------------------------------------------------------------------------------------

export interface Checked {
  /** What could be read: a banner (possibly partial) and the cases that look like cases. */
  report: { banner: Partial<Banner>; suites: { name: string; cases: Case[] }[] };
  /** Problems, for the banner at the top of the page; [] when the report is fine. */
  problems: string[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const CASE_STRINGS = ['id', 'title', 'stack', 'family', 'protocol', 'impl', 'replay'] as const;

const NULL_DEFAULTS = {
  transport: '?',
  runtime: 'sim',
  peer: null,
  role: null,
  faults: [],
  ref: null,
  requirement: null,
  invariant: null,
  runs: 0,
  fcSeed: null,
  fcPath: null,
  simSeed: null,
  shrinks: null,
  counterexample: null,
  expected: null,
  actual: null,
  traceHash: null,
  trace: null,
  wallMs: null,
} as const;

/**
 * Checks the shape the page depends on and keeps everything usable: a case missing a field the
 * matrix needs is dropped with a problem naming it, the rest renders. Never throws.
 */
export function checkReport(json: unknown): Checked {
  const problems: string[] = [];
  if (!isObject(json)) {
    return { report: { banner: {}, suites: [] }, problems: ['the embedded report is not a JSON object'] };
  }
  if (json.schema !== PAGE_REPORT_SCHEMA)
    problems.push(
      `schema: this report says ${JSON.stringify(json.schema ?? null)}; this page reads "${PAGE_REPORT_SCHEMA}" ` +
        '(shown as far as it can be read; rebuild it with the netlab that wrote it)',
    );
  const banner: Partial<Banner> = isObject(json.banner) ? json.banner : {};
  if (!isObject(json.banner)) problems.push('banner: missing or not an object');
  const suites: { name: string; cases: Case[] }[] = [];
  if (!Array.isArray(json.suites)) problems.push('suites: missing or not an array');
  else {
    json.suites.forEach((s: unknown, si) => {
      if (!isObject(s) || !Array.isArray(s.cases)) {
        problems.push(`suites[${si}]: not a suite (an object with name and cases)`);
        return;
      }
      const name = typeof s.name === 'string' ? s.name : `suite ${si}`;
      const cases: Case[] = [];
      s.cases.forEach((c: unknown, ci) => {
        const where = `suites[${si}].cases[${ci}]`;
        if (!isObject(c)) {
          problems.push(`${where}: not an object; case left out`);
          return;
        }
        const bad = CASE_STRINGS.find((k) => typeof c[k] !== 'string' || c[k] === '');
        if (bad !== undefined) {
          problems.push(`${where}.${bad}: missing or not a string; case left out`);
          return;
        }
        if (!STATUSES.includes(c.status as CaseStatus)) {
          problems.push(
            `${where}.status: ${JSON.stringify(c.status ?? null)} is not an outcome; case left out`,
          );
          return;
        }
        // Nullable fields the page reads: absent in a foreign file, so default them rather than crash.
        cases.push({ ...NULL_DEFAULTS, ...c } as unknown as Case);
      });
      suites.push({ name, cases });
    });
  }
  return { report: { banner, suites }, problems };
}

// ---------------------------------------------------------------------------------------------
// The conformance matrix
// ---------------------------------------------------------------------------------------------

/** True for the coverage cases of a property: ids PROPERTY/IMPL/coverage/... and PROPERTY/IMPL/sometimes/... */
export function isCoverageCase(c: Pick<Case, 'id' | 'family'>): boolean {
  return c.family === 'coverage' || /\/(coverage|sometimes)\//.test(c.id);
}

/** The row key: the case id with its `/IMPL/` segment removed, so one invariant of every impl is one row. */
export function rowKey(c: Pick<Case, 'id' | 'impl'>): string {
  const seg = `/${c.impl}/`;
  const at = c.id.indexOf(seg);
  return at < 0 ? c.id : c.id.slice(0, at) + '/' + c.id.slice(at + seg.length);
}

/** The property part of an id (what precedes `/IMPL/`): the coverage cases of a case share it. */
export function propertyOf(c: Pick<Case, 'id' | 'impl'>): string {
  const at = c.id.indexOf(`/${c.impl}/`);
  return at < 0 ? c.id : c.id.slice(0, at);
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The case title without its implementation ("... (museum/x)", "[museum/x]", "museum/x: ..."). */
export function rowTitle(c: Pick<Case, 'title' | 'impl'>): string {
  const impl = escapeRegExp(c.impl);
  const stripped = c.title
    .replace(new RegExp(`\\s*[([]${impl}[)\\]]`, 'g'), '')
    .replace(new RegExp(`^${impl}\\s*[:·-]\\s*`), '')
    .replace(new RegExp(`\\s+(on|of|in|for)\\s+${impl}(?=$|[\\s:,.])`, 'g'), '')
    .trim();
  return stripped === '' ? c.title : stripped;
}

export interface Row {
  key: string;
  title: string;
  suite: string;
  protocol: string;
  ref: string | null;
  requirement: string | null;
  coverage: boolean;
  /** impl -> case */
  cells: Map<string, Case>;
}

export interface Group {
  /** "suite · protocol" */
  label: string;
  suite: string;
  protocol: string;
  rows: Row[];
}

export interface Matrix {
  impls: string[];
  groups: Group[];
}

/** netlab first, then the simulated impls, museum/* after, then everything on the real runtime. */
export function implOrder(a: string, b: string): number {
  const rank = (s: string): number => (s === 'netlab' ? 0 : s.startsWith('museum/') ? 2 : 1);
  return rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
}

/** Natural order for checklist ids: "2" < "10" < "sp-3" < null. */
function refOrder(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a.localeCompare(b, 'en', { numeric: true });
}

/** Builds the matrix of the cases given (in report order within a group, refs sorted). */
export function buildMatrix(suites: readonly { name: string; cases: readonly Case[] }[]): Matrix {
  const impls = new Set<string>();
  const groups = new Map<string, Group>();
  const rows = new Map<string, Row>();
  for (const suite of suites) {
    for (const c of suite.cases) {
      const impl = c.runtime === 'real' ? `${c.impl} (real)` : c.impl;
      impls.add(impl);
      const key = `${suite.name}\u0000${rowKey(c)}`;
      let row = rows.get(key);
      if (row === undefined) {
        const gkey = `${suite.name}\u0000${c.protocol}`;
        let group = groups.get(gkey);
        if (group === undefined) {
          group = {
            label: `${suite.name} · ${c.protocol}`,
            suite: suite.name,
            protocol: c.protocol,
            rows: [],
          };
          groups.set(gkey, group);
        }
        row = {
          key: rowKey(c),
          title: rowTitle(c),
          suite: suite.name,
          protocol: c.protocol,
          ref: c.ref ?? null,
          requirement: c.requirement ?? null,
          coverage: isCoverageCase(c),
          cells: new Map(),
        };
        rows.set(key, row);
        group.rows.push(row);
      }
      row.cells.set(impl, c);
    }
  }
  const orderedImpls = [...impls].sort((a, b) => {
    const real = Number(a.endsWith(' (real)')) - Number(b.endsWith(' (real)'));
    return real || implOrder(a, b);
  });
  for (const g of groups.values()) {
    // Stable sort: property rows before coverage rows, then by checklist id.
    g.rows.sort((a, b) => Number(a.coverage) - Number(b.coverage) || refOrder(a.ref, b.ref));
  }
  return { impls: orderedImpls, groups: [...groups.values()] };
}

/** The column an impl's cell goes in (real-runtime cases get their own column). */
export function columnOf(c: Pick<Case, 'impl' | 'runtime'>): string {
  return c.runtime === 'real' ? `${c.impl} (real)` : c.impl;
}

export function emptyTotals(): Totals {
  return { cases: 0, pass: 0, fail: 0, error: 0, skip: 0, flaky: 0, findings: 0, caught: 0, missed: 0 };
}

// ---------------------------------------------------------------------------------------------
// The query language: `s:fail stack:sp family:resend proto:req0 !impl:museum/*`
// ---------------------------------------------------------------------------------------------

/** Query keys and their aliases. */
const KEYS: Readonly<Record<string, QueryKey>> = {
  s: 'status',
  status: 'status',
  stack: 'stack',
  family: 'family',
  f: 'family',
  suite: 'suite',
  proto: 'protocol',
  protocol: 'protocol',
  p: 'protocol',
  impl: 'impl',
  i: 'impl',
  id: 'id',
  ref: 'ref',
  transport: 'transport',
  t: 'transport',
  runtime: 'runtime',
  fault: 'fault',
  peer: 'peer',
};

export type QueryKey =
  | 'status'
  | 'stack'
  | 'family'
  | 'suite'
  | 'protocol'
  | 'impl'
  | 'id'
  | 'ref'
  | 'transport'
  | 'runtime'
  | 'fault'
  | 'peer'
  | 'text';

export interface Term {
  key: QueryKey;
  /** The value as typed (lower-cased); `*` is a wildcard. */
  value: string;
  negated: boolean;
}

export interface Query {
  terms: Term[];
  /** Terms that could not be read (an unknown key), for a hint under the bar. */
  unknown: string[];
}

/** Splits on whitespace, keeping "double quoted" stretches together. */
function tokens(text: string): string[] {
  const out: string[] = [];
  const re = /(!?[\w.-]+:)?"([^"]*)"|\S+/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) out.push(m[2] !== undefined ? `${m[1] ?? ''}${m[2]}` : m[0]);
  return out;
}

export function parseQuery(text: string): Query {
  const terms: Term[] = [];
  const unknown: string[] = [];
  for (const raw of tokens(text)) {
    let t = raw;
    const negated = t.startsWith('!') || (t.startsWith('-') && t.includes(':'));
    if (negated) t = t.slice(1);
    if (t === '') continue;
    const colon = t.indexOf(':');
    if (colon > 0) {
      const key = KEYS[t.slice(0, colon).toLowerCase()];
      if (key === undefined) {
        unknown.push(raw);
        continue;
      }
      terms.push({ key, value: t.slice(colon + 1).toLowerCase(), negated });
    } else terms.push({ key: 'text', value: t.toLowerCase(), negated });
  }
  return { terms, unknown };
}

/** Glob match, case-insensitive: `*` is any run of characters; without `*`, the whole value. */
export function globMatch(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map(escapeRegExp).join('.*')}$`, 'i');
  return re.test(value);
}

/** Status words people type: s:failed, s:passed, s:skipped, s:errors. */
const STATUS_ALIASES: Readonly<Record<string, string>> = {
  passed: 'pass',
  ok: 'pass',
  failed: 'fail',
  failure: 'fail',
  errors: 'error',
  skipped: 'skip',
};

function termMatches(term: Term, c: Case, suite: string): boolean {
  const v = term.value;
  switch (term.key) {
    case 'status':
      return globMatch(STATUS_ALIASES[v] ?? v, c.status);
    case 'stack':
      return globMatch(v, c.stack);
    case 'family':
      // family names the suite (a family of properties) or the case's own family field
      return globMatch(v, suite) || globMatch(v, c.family);
    case 'suite':
      return globMatch(v, suite);
    case 'protocol':
      // "req0/rep0" matches proto:req0: a protocol pair matches either side.
      return globMatch(v, c.protocol) || c.protocol.split('/').some((p) => globMatch(v, p));
    case 'impl':
      return globMatch(v, c.impl) || globMatch(v, columnOf(c));
    case 'id':
      return globMatch(v, c.id) || globMatch(v, rowKey(c));
    case 'ref':
      return c.ref !== null && globMatch(v, c.ref);
    case 'transport':
      return globMatch(v, c.transport);
    case 'runtime':
      return globMatch(v, c.runtime);
    case 'fault':
      return Array.isArray(c.faults) && c.faults.some((f) => globMatch(v, f));
    case 'peer':
      return c.peer !== null && globMatch(v, c.peer);
    case 'text': {
      const pattern = v.includes('*') ? v : `*${v}*`;
      return globMatch(pattern, c.title) || globMatch(pattern, c.id);
    }
  }
}

/**
 * Whether a case matches: every negated term must not match; positive terms of the same key are
 * alternatives (`s:fail s:error`), positive terms of different keys must all match.
 */
export function matches(q: Query, c: Case, suite: string): boolean {
  const byKey = new Map<QueryKey, boolean>();
  for (const term of q.terms) {
    const hit = termMatches(term, c, suite);
    if (term.negated) {
      if (hit) return false;
      continue;
    }
    byKey.set(term.key, (byKey.get(term.key) ?? false) || hit);
  }
  for (const ok of byKey.values()) if (!ok) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// View state in the URL hash: #q=s%3Afail&case=ID&view=viewer&t=US&msg=SEQ&cov=1
// ---------------------------------------------------------------------------------------------

export interface ViewState {
  query: string;
  /** Id of the case whose page is open; null for none. */
  caseId: string | null;
  /** Show the coverage rows (PROPERTY/IMPL/coverage/..., sometimes/...) in the matrix. */
  coverage: boolean;
  /** The case is open in the scenario viewer (`view=viewer`) rather than on its case page. */
  viewer: boolean;
  /** Viewer: the moment selected, virtual µs (`t=`). */
  tUs: number | null;
  /** Viewer: the message selected, by its event's seq (`msg=`). */
  msg: number | null;
  /** Viewer: the filter across its panes (`filter=host:NAME conn:ID words`), '' for none. */
  filter: string;
}

function hashNumber(v: string | null): number | null {
  return v !== null && /^\d{1,15}$/.test(v) ? Number(v) : null;
}

export function parseHash(hash: string): ViewState {
  const params = new URLSearchParams(hash.replace(/^#/, ''));
  return {
    query: params.get('q') ?? '',
    caseId: params.get('case'),
    coverage: params.get('cov') === '1',
    viewer: params.get('view') === 'viewer',
    tUs: hashNumber(params.get('t')),
    msg: hashNumber(params.get('msg')),
    filter: params.get('filter')?.trim() ?? '',
  };
}

export function formatHash(state: ViewState): string {
  const params = new URLSearchParams();
  if (state.query !== '') params.set('q', state.query);
  if (state.caseId !== null) params.set('case', state.caseId);
  if (state.caseId !== null && state.viewer) {
    params.set('view', 'viewer');
    if (state.tUs !== null) params.set('t', String(state.tUs));
    if (state.msg !== null) params.set('msg', String(state.msg));
    if (state.filter !== '') params.set('filter', state.filter);
  }
  if (state.coverage) params.set('cov', '1');
  const s = params.toString();
  return s === '' ? '' : `#${s}`;
}

// ---------------------------------------------------------------------------------------------
// Traces (JSON lines, netlab/trace@2)
// ---------------------------------------------------------------------------------------------

export interface TraceSummary {
  header: Record<string, unknown> | null;
  /** Why the viewer cannot open the trace (a header of another schema version), or null. */
  schemaProblem: string | null;
  events: number;
  firstUs: number | null;
  lastUs: number | null;
  kinds: [string, number][];
  hosts: string[];
  /** Lines that were not JSON objects (a corrupt or truncated file). */
  badLines: number;
}

export function summarizeTrace(text: string): TraceSummary {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  let header: Record<string, unknown> | null = null;
  const kinds = new Map<string, number>();
  const hosts = new Set<string>();
  let events = 0;
  let badLines = 0;
  let firstUs: number | null = null;
  let lastUs: number | null = null;
  lines.forEach((line, i) => {
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      badLines++;
      return;
    }
    if (!isObject(v)) {
      badLines++;
      return;
    }
    if (i === 0 && typeof v.schema === 'string') {
      header = v;
      return;
    }
    events++;
    const kind = typeof v.kind === 'string' ? v.kind : '?';
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    if (typeof v.host === 'string') hosts.add(v.host);
    if (typeof v.tUs === 'number') {
      firstUs ??= v.tUs;
      lastUs = v.tUs;
    }
  });
  const schema = (header as Record<string, unknown> | null)?.schema;
  return {
    header,
    schemaProblem: schema === undefined ? null : traceSchemaProblem(schema),
    events,
    firstUs,
    lastUs,
    kinds: [...kinds].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)),
    hosts: [...hosts].sort(),
    badLines,
  };
}

/** "1.234 s", "12 ms", "850 µs" */
export function formatUs(us: number): string {
  if (us >= 1_000_000) return `${(us / 1_000_000).toFixed(3)} s`;
  if (us >= 1000) return `${(us / 1000).toFixed(1)} ms`;
  return `${us} µs`;
}
