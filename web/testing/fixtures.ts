/**
 * Report fixtures for the web report's tests: a fixed, valid report with several implementations
 * (netlab and museum variants), every outcome, coverage cases and a failing case with a
 * counterexample and a trace. Fixed values only (no clock), so a screenshot of it is reproducible.
 */
import { createReport, type Banner, type Case, type Report, type Suite } from '../../reports/schema.js';
import { TRACE_SCHEMA } from '../../sim/trace.js';

export const PLANTED_TRACE = 'traces/planted_resend_netlab_reqrep.all-answered.jsonl';

/** A small trace in netlab/trace JSON lines (the current schema): a header and 6 events. */
export const PLANTED_TRACE_TEXT =
  [
    { schema: TRACE_SCHEMA, seed: 's-4f1c', source: 'planted failing case' },
    { kind: 'listen', host: 'server', addr: 'tcp://server:5555', seq: 0, tUs: 0 },
    {
      kind: 'connect',
      host: 'client0',
      conn: 1,
      from: 'tcp://client0:49152',
      to: 'tcp://server:5555',
      seq: 1,
      tUs: 1200,
    },
    { kind: 'fault-start', fault: 'partition', id: 1, seq: 2, tUs: 5000 },
    { kind: 'timer-set', host: 'client0', timer: 3, delayUs: 1000000, label: 'resend', seq: 3, tUs: 5100 },
    { kind: 'fault-end', fault: 'partition', id: 1, seq: 4, tUs: 2005000 },
    { kind: 'note', host: 'client0', text: 'no reply </script><b>', seq: 5, tUs: 30000000 },
  ]
    .map((e) => JSON.stringify(e))
    .join('\n') + '\n';

export function fixedBanner(): Omit<Banner, 'totals'> {
  return {
    simSeed: 'from fcSeed 20261122',
    fcSeed: 20261122,
    knobs: {
      runs: 5,
      suites: 'resend',
      impls: 'netlab,museum/lost-reply,museum/no-resend',
      transport: 'tcp',
      ci: false,
    },
    netlabVersion: '0.1.0',
    commit: '05779ae3c2b1a0d9e8f7a6b5c4d3e2f1a0b9c8d7',
    nodeVersion: 'v20.20.2',
    startedAt: '2025-01-31T12:00:00.000Z',
    virtualUs: 84_000_000,
    wallMs: 2310.5,
    scenarioRuns: 15,
    scenarioRunsPerSec: 6.5,
    museum: [],
  };
}

function planted(impl: string, invariant: string, overrides: Partial<Case> = {}): Case {
  const property = 'planted/resend';
  const coverage = /^(coverage|sometimes)\//.test(invariant);
  return {
    id: `${property}/${impl}/${invariant}`,
    title: `REQ resends until answered${impl === 'netlab' ? '' : ` (${impl})`}: ${invariant}`,
    stack: 'sp',
    family: coverage ? 'coverage' : 'resend',
    protocol: 'req0/rep0',
    transport: 'tcp',
    runtime: 'sim',
    impl,
    peer: null,
    role: 'req',
    faults: ['partition'],
    ref: coverage ? null : invariant === 'reqrep.all-answered' ? '14' : '17',
    requirement: coverage
      ? `${invariant.replace(/^\w+\//, '')} happened, in at least one generated run`
      : invariant === 'reqrep.all-answered'
        ? 'after faults heal, every request is answered (REQ resends; REP answers)'
        : 'a REQ gets exactly one reply per completed request',
    invariant,
    status: 'pass',
    expect: 'pass',
    runs: 5,
    fcSeed: 20261122,
    fcPath: null,
    simSeed: null,
    shrinks: null,
    counterexample: null,
    expected: null,
    actual: null,
    replay: `netlab run --suite resend --impl ${impl} --seed 20261122 --runs 5`,
    traceHash: null,
    trace: null,
    wallMs: 12.5,
    ...overrides,
  };
}

/** The planted suite: a failing netlab case (counterexample, trace, shrinks) against two museum variants. */
export function plantedSuite(): Suite {
  const failing = {
    status: 'fail' as const,
    runs: 3,
    fcPath: '2:1:0',
    simSeed: 's-4f1c',
    shrinks: 5,
    counterexample: { requests: 1, faults: [{ at: '5ms', kind: 'partition', for: '2s', note: '</script>' }] },
    expected: 'request 0x80000001 answered after the partition healed',
    actual: 'no reply after 30 s of virtual time',
    traceHash: '9c1f0e2d3b4a5968',
  };
  return {
    name: 'resend',
    cases: [
      planted('netlab', 'reqrep.all-answered', {
        ...failing,
        trace: PLANTED_TRACE,
        replay: 'netlab replay reports/latest/cases/planted_resend-netlab.json',
      }),
      planted('netlab', 'reqrep.one-reply-per-request'),
      planted('netlab', 'coverage/fault:partition'),
      planted('netlab', 'coverage/fault:crash', { status: 'skip', actual: 'never exercised in 5 runs' }),
      planted('netlab', 'sometimes/sp.resend'),
      planted('museum/lost-reply', 'reqrep.all-answered', {
        ...failing,
        actual: 'the reply was dropped by REP',
      }),
      planted('museum/lost-reply', 'reqrep.one-reply-per-request', {
        status: 'flaky',
        actual: 'failed in 1 of 3 runs',
      }),
      planted('museum/no-resend', 'reqrep.all-answered', {
        status: 'error',
        actual: 'the runner crashed: TypeError',
      }),
      planted('museum/no-resend', 'reqrep.one-reply-per-request', {
        status: 'skip',
        runs: 0,
        actual: 'not applicable',
      }),
    ],
  };
}

/** A second family so the matrix has groups. */
function framingSuite(): Suite {
  const c = (impl: string, inv: string, overrides: Partial<Case> = {}): Case =>
    planted(impl, inv, {
      id: `framing/pair0/${impl}/${inv}`,
      title: `PAIR0 delivers every message intact, once and in order: ${inv}`,
      family: 'framing',
      protocol: 'pair0',
      role: null,
      faults: [],
      ref: null,
      requirement: 'every message arrives intact, at most once and in order per sender',
      replay: `netlab run --suite framing --impl ${impl} --seed 20261122 --runs 5`,
      ...overrides,
    });
  return {
    name: 'framing',
    cases: [
      c('netlab', 'delivery.intact-in-order'),
      c('netlab', 'stack.no-crash'),
      c('museum/lost-reply', 'delivery.intact-in-order'),
      c('museum/lost-reply', 'stack.no-crash'),
      c('museum/no-resend', 'delivery.intact-in-order'),
    ],
  };
}

/** The fixed report of the screenshot test. */
export function fixedReport(): Report {
  return createReport(fixedBanner(), [framingSuite(), plantedSuite()]);
}
