import { describe, expect, it } from 'vitest';
import {
  buildMatrix,
  checkReport,
  formatHash,
  globMatch,
  matches,
  parseHash,
  parseQuery,
  propertyOf,
  rowKey,
  rowTitle,
  summarizeTrace,
  type Case,
} from './model.js';
import { fixedReport, PLANTED_TRACE_TEXT } from './testing/fixtures.js';

const report = fixedReport();
const all = report.suites.flatMap((s) => s.cases.map((c) => ({ c, suite: s.name })));
const byId = (id: string): Case => all.find((x) => x.c.id === id)!.c;

function ids(query: string): string[] {
  const q = parseQuery(query);
  return all.filter(({ c, suite }) => matches(q, c, suite)).map(({ c }) => c.id);
}

describe('rows', () => {
  it('a row key is the case id without its /IMPL/ segment, also for impls with a slash', () => {
    expect(
      rowKey({ id: 'planted/resend/museum/lost-reply/reqrep.all-answered', impl: 'museum/lost-reply' }),
    ).toBe('planted/resend/reqrep.all-answered');
    expect(rowKey({ id: 'framing/pair0/netlab/stack.no-crash', impl: 'netlab' })).toBe(
      'framing/pair0/stack.no-crash',
    );
    expect(rowKey({ id: 'odd-id', impl: 'netlab' })).toBe('odd-id');
    expect(propertyOf({ id: 'planted/resend/netlab/coverage/fault:crash', impl: 'netlab' })).toBe(
      'planted/resend',
    );
  });

  it('a row title drops the implementation', () => {
    expect(rowTitle({ title: 'REQ resends (museum/x): reqrep.all-answered', impl: 'museum/x' })).toBe(
      'REQ resends: reqrep.all-answered',
    );
    expect(rowTitle({ title: 'museum/x: REQ resends', impl: 'museum/x' })).toBe('REQ resends');
    expect(rowTitle({ title: 'REQ resends [netlab]', impl: 'netlab' })).toBe('REQ resends');
    expect(rowTitle({ title: 'netlab', impl: 'netlab' })).toBe('netlab');
  });

  it('the matrix has one row per invariant, netlab first, museum after, property rows before coverage', () => {
    const m = buildMatrix(report.suites);
    expect(m.impls).toEqual(['netlab', 'museum/lost-reply', 'museum/no-resend']);
    expect(m.groups.map((g) => g.label)).toEqual(['framing · pair0', 'resend · req0/rep0']);
    const resend = m.groups[1]!;
    expect(resend.rows.map((r) => r.key)).toEqual([
      'planted/resend/reqrep.all-answered',
      'planted/resend/reqrep.one-reply-per-request',
      'planted/resend/coverage/fault:partition',
      'planted/resend/coverage/fault:crash',
      'planted/resend/sometimes/sp.resend',
    ]);
    const first = resend.rows[0]!;
    expect([...first.cells.keys()]).toEqual(['netlab', 'museum/lost-reply', 'museum/no-resend']);
    expect(first.title).toBe('REQ resends until answered: reqrep.all-answered');
    expect(resend.rows[2]!.coverage).toBe(true);
  });

  it('a real-runtime case gets its own column after the simulated ones', () => {
    const c = byId('framing/pair0/netlab/stack.no-crash');
    const m = buildMatrix([{ name: 'x', cases: [{ ...c, id: 'x/real', runtime: 'real' }, c] }]);
    expect(m.impls).toEqual(['netlab', 'netlab (real)']);
  });
});

describe('query', () => {
  it('parses key:value terms, aliases, negation, quotes and unknown keys', () => {
    const q = parseQuery('s:fail family:resend proto:req0 !impl:museum/* "two words" bogus:1');
    expect(q.terms).toEqual([
      { key: 'status', value: 'fail', negated: false },
      { key: 'family', value: 'resend', negated: false },
      { key: 'protocol', value: 'req0', negated: false },
      { key: 'impl', value: 'museum/*', negated: true },
      { key: 'text', value: 'two words', negated: false },
    ]);
    expect(q.unknown).toEqual(['bogus:1']);
  });

  it('globs match the whole value, case-insensitively', () => {
    expect(globMatch('museum/*', 'museum/lost-reply')).toBe(true);
    expect(globMatch('museum', 'museum/lost-reply')).toBe(false);
    expect(globMatch('NET*', 'netlab')).toBe(true);
    expect(globMatch('a.b', 'axb')).toBe(false);
  });

  it('filters: the example of the issue, same key = any, different keys = all', () => {
    expect(ids('s:fail family:resend proto:req0 !impl:museum/*')).toEqual([
      'planted/resend/netlab/reqrep.all-answered',
    ]);
    expect(ids('s:fail')).toHaveLength(2);
    expect(ids('s:fail s:error')).toHaveLength(3);
    // stack: the stack the case exercises.
    expect(ids('stack:sp')).toHaveLength(all.length);
    expect(ids('stack:echo')).toEqual([]);
    expect(ids('s:fail !stack:sp')).toEqual([]);
    expect(ids('s:failed')).toEqual(ids('s:fail'));
    expect(ids('!s:pass !s:skip proto:pair0')).toEqual([]);
    expect(ids('ref:14')).toHaveLength(3);
    expect(ids('fault:partition impl:netlab s:skip')).toEqual(['planted/resend/netlab/coverage/fault:crash']);
  });

  it('bare words match the title or id', () => {
    expect(ids('intact-in-order impl:netlab')).toEqual(['framing/pair0/netlab/delivery.intact-in-order']);
    expect(ids('!planted')).toHaveLength(5);
    expect(ids('')).toHaveLength(all.length);
  });
});

describe('URL hash', () => {
  const none = { viewer: false, tUs: null, msg: null, filter: '' };
  it('round-trips the view', () => {
    const state = {
      query: 's:fail !impl:museum/* "a b"&x=1',
      caseId: 'planted/resend/netlab/x',
      coverage: true,
      ...none,
    };
    expect(parseHash(formatHash(state))).toEqual(state);
    expect(formatHash({ query: '', caseId: null, coverage: false, ...none })).toBe('');
    expect(parseHash('')).toEqual({ query: '', caseId: null, coverage: false, ...none });
    expect(parseHash('#case=a%2Fb')).toEqual({ query: '', caseId: 'a/b', coverage: false, ...none });
  });

  it('carries the viewer, its moment and its message', () => {
    const state = {
      query: '',
      caseId: 'a/b',
      coverage: false,
      viewer: true,
      tUs: 1500,
      msg: 42,
      filter: '',
    };
    expect(formatHash(state)).toBe('#case=a%2Fb&view=viewer&t=1500&msg=42');
    expect(parseHash(formatHash(state))).toEqual(state);
    // The viewer's filter rides along, spaces and all.
    const filtered = { ...state, filter: 'host:server conn:2 request-id=7&x' };
    expect(formatHash(filtered)).toBe(
      '#case=a%2Fb&view=viewer&t=1500&msg=42&filter=host%3Aserver+conn%3A2+request-id%3D7%26x',
    );
    expect(parseHash(formatHash(filtered))).toEqual(filtered);
    expect(formatHash({ ...filtered, viewer: false, tUs: null, msg: null })).toBe('#case=a%2Fb');
    // Without a case there is no viewer; a bad number is ignored.
    expect(formatHash({ ...state, caseId: null })).toBe('');
    expect(parseHash('#case=x&view=viewer&t=abc')).toMatchObject({ viewer: true, tUs: null });
  });
});

describe('checkReport', () => {
  it('accepts a valid report without problems', () => {
    const r = checkReport(JSON.parse(JSON.stringify(report)));
    expect(r.problems).toEqual([]);
    expect(r.report.suites.flatMap((s) => s.cases)).toHaveLength(all.length);
  });

  it('reads another schema version as far as it can and says so', () => {
    const json = JSON.parse(JSON.stringify(report)) as Record<string, unknown> & {
      suites: { cases: unknown[] }[];
    };
    json.schema = 'netlab/report@3';
    json.suites[0]!.cases[0] = { id: 'x', status: 'pass' };
    json.suites[0]!.cases[1] = { ...(json.suites[0]!.cases[1] as object), status: 'wobbly' };
    const r = checkReport(json);
    expect(r.problems[0]).toMatch(/^schema: this report says "netlab\/report@3"/);
    expect(r.problems[1]).toMatch(/^suites\[0\]\.cases\[0\]\.title: missing/);
    expect(r.problems[2]).toMatch(/^suites\[0\]\.cases\[1\]\.status: "wobbly"/);
    expect(r.report.suites.flatMap((s) => s.cases)).toHaveLength(all.length - 2);
  });

  it('never throws on garbage', () => {
    for (const v of [null, 1, 'x', [], { suites: 3 }, { suites: [null, { cases: [1] }] }]) {
      expect(checkReport(v).problems.length).toBeGreaterThan(0);
    }
  });
});

describe('summarizeTrace', () => {
  it('counts events by kind, hosts and the virtual span, skipping the header', () => {
    const s = summarizeTrace(PLANTED_TRACE_TEXT);
    expect(s.events).toBe(6);
    expect(s.header).toMatchObject({ schema: 'netlab/trace@2', seed: 's-4f1c' });
    expect(s.schemaProblem).toBeNull();
    expect(s.hosts).toEqual(['client0', 'server']);
    expect(s.lastUs! - s.firstUs!).toBe(30_000_000);
    expect(s.kinds[0]).toEqual(['connect', 1]);
    expect(s.badLines).toBe(0);
  });

  it('says why a trace of another schema version cannot be opened', () => {
    const old = PLANTED_TRACE_TEXT.replace('netlab/trace@2', 'netlab/trace@1');
    const s = summarizeTrace(old);
    expect(s.events).toBe(6);
    expect(s.schemaProblem).toMatch(
      /schema "netlab\/trace@1" \(version 1\).*"netlab\/trace@2" \(version 2\)/,
    );
  });

  it('counts lines that are not JSON (a truncated file)', () => {
    const s = summarizeTrace(PLANTED_TRACE_TEXT.slice(0, -20));
    expect(s.badLines).toBe(1);
    expect(s.events).toBe(5);
  });
});
