/**
 * The catalog of suites `netlab run` knows: each suite is a property over generated scenarios of
 * one protocol, run against one implementation. Produces report cases (reports/schema.ts) with every
 * field set, including the replay command. Isomorphic except for nothing: it only calls the runner.
 */
import { checkProperty, DETERMINISM_CHECK, type CaseFile } from './property.js';
import type { ScenarioResult } from './runner.js';

export interface SuiteSpec {
  name: string;
  protocol: 'pair0' | 'reqrep';
  title: string;
  /** The invariants (check ids) the suite's property enforces, with their requirement text. */
  invariants: { id: string; requirement: string; ref: string | null }[];
}

export const SUITES: readonly SuiteSpec[] = [
  {
    name: 'pair0',
    protocol: 'pair0',
    title: 'PAIR0 under chunking, partial writes, loss and faults',
    invariants: [
      {
        id: 'pair0.intact-in-order',
        requirement: 'PAIR0 delivers messages intact, in order, without duplicates',
        ref: null,
      },
      {
        id: 'pair0.all-delivered',
        requirement: 'after faults heal, every accepted message reaches the peer (no data-destroying fault)',
        ref: null,
      },
    ],
  },
  {
    name: 'reqrep',
    protocol: 'reqrep',
    title: 'REQ/REP under chunking, partial writes, loss and faults',
    invariants: [
      {
        id: 'reqrep.one-reply-per-request',
        requirement: 'a REQ gets exactly one reply per completed request',
        ref: '17',
      },
      {
        id: 'reqrep.all-answered',
        requirement: 'after faults heal, every request is answered (resend)',
        ref: '14',
      },
    ],
  },
];

export interface CatalogCase {
  id: string;
  title: string;
  family: string;
  protocol: string;
  transport: string;
  runtime: 'sim';
  impl: string;
  peer: null;
  role: null;
  faults: string[];
  ref: string | null;
  requirement: string;
  invariant: string;
  /** flaky: the same case replayed to a different outcome (set by --ci). */
  /** flaky: the same case replayed to a different outcome (set by --ci); skip: a coverage gap. */
  status: 'pass' | 'fail' | 'flaky' | 'skip';
  runs: number;
  fcSeed: number;
  fcPath: string | null;
  simSeed: string | null;
  shrinks: number | null;
  counterexample: CaseFile | null;
  expected: string | null;
  actual: string | null;
  replay: string;
  traceHash: string | null;
  trace: string | null;
  wallMs: number | null;
}

export interface SuiteRun {
  name: string;
  cases: CatalogCase[];
  /** The shrunk failing case, when the suite failed (for writing a case file). */
  failure: CaseFile | null;
  /** Virtual time simulated by every run of the suite (shrinking runs included), in microseconds. */
  virtualUs: number;
}

export interface RunSuiteOptions {
  fcSeed: number;
  runs: number;
  impl: string;
  netlabVersion: string;
  commit: string;
  /** Wall clock for the per-case duration; injected so this module stays free of host clocks. */
  nowMs: () => number;
  /** Called after every scenario run with the count so far (progress display). */
  onProgress?: (done: number) => void;
  /** Run each scenario twice and compare trace hashes (netlab run --check-determinism / --ci). */
  checkDeterminism?: boolean;
  /** Where a failing case file will be written (for the replay command). */
  caseFilePath: (suite: string, impl: string) => string;
}

/** Fault kinds the generators can draw: coverage reports any that a run never exercised. */
export const GENERATED_FAULT_KINDS = ['partition', 'stall-reads', 'pause', 'reset', 'crash', 'link'] as const;

/** "Sometimes" conditions: each should happen in some run, or the suite is not testing what it claims. */
const SOMETIMES: { id: string; text: string; seen: (r: ScenarioResult) => boolean }[] = [
  {
    id: 'net.partial-write',
    text: 'a write was accepted only in part',
    seen: (r) => r.net.partialWrites > 0,
  },
  {
    id: 'net.retransmission',
    text: 'a segment was lost and retransmitted',
    seen: (r) => r.net.retransmissions > 0,
  },
  { id: 'net.reset', text: 'a connection was reset under the protocol', seen: (r) => r.net.resets > 0 },
  {
    id: 'sp.redelivery-or-reconnect',
    text: 'the peer saw a message more than once (REQ resend) or a reconnect happened',
    seen: (r) => r.observations.received.length > r.observations.sent.length || r.net.connections > 1,
  },
];

export async function runSuite(spec: SuiteSpec, o: RunSuiteOptions): Promise<SuiteRun> {
  const t0 = o.nowMs();
  const faultCounts = new Map<string, number>();
  const sometimes = new Map<string, number>();
  let observed = 0;
  let virtualUs = 0;
  const out = await checkProperty({
    protocol: spec.protocol,
    impl: o.impl,
    fcSeed: o.fcSeed,
    runs: o.runs,
    netlabVersion: o.netlabVersion,
    commit: o.commit,
    checkDeterminism: o.checkDeterminism === true,
    onResult: (r) => {
      observed++;
      virtualUs += r.virtualUs;
      o.onProgress?.(observed);
      for (const f of r.faults)
        if (f.startUs !== null) faultCounts.set(f.kind, (faultCounts.get(f.kind) ?? 0) + 1);
      for (const x of SOMETIMES) if (x.seen(r)) sometimes.set(x.id, (sometimes.get(x.id) ?? 0) + 1);
    },
  });
  const wallMs = o.nowMs() - t0;
  const cx = out.counterexample;
  const failedIds = new Set(cx?.failed.map((f) => f.id) ?? []);
  const faultKinds = cx ? [...new Set(cx.scenario.faults.faults.map((f) => f.kind))] : [];
  const cases = spec.invariants.map((inv): CatalogCase => {
    const failed = failedIds.has(inv.id);
    const check = cx?.failed.find((f) => f.id === inv.id);
    return {
      id: `${spec.name}/${o.impl}/${inv.id}`,
      title: `${spec.title}: ${inv.id}`,
      family: spec.name,
      protocol: spec.protocol === 'reqrep' ? 'req0/rep0' : spec.protocol,
      transport: 'tcp',
      runtime: 'sim',
      impl: o.impl,
      peer: null,
      role: null,
      faults: failed ? faultKinds : [],
      ref: inv.ref,
      requirement: inv.requirement,
      invariant: inv.id,
      status: failed ? 'fail' : 'pass',
      runs: out.runs,
      fcSeed: o.fcSeed,
      fcPath: failed ? cx!.fcPath : null,
      simSeed: failed ? cx!.simSeed : null,
      shrinks: failed ? out.shrinks : null,
      counterexample: failed ? cx : null,
      expected: check?.expected ?? null,
      actual: check?.actual ?? null,
      replay: failed
        ? `netlab replay ${o.caseFilePath(spec.name, o.impl)}`
        : `netlab run --suite ${spec.name} --impl ${o.impl} --seed ${o.fcSeed} --runs ${o.runs}`,
      traceHash: failed ? cx!.traceHash : null,
      trace: null,
      wallMs,
    };
  });
  const coverage = (id: string, title: string, count: number): CatalogCase => ({
    id: `${spec.name}/${o.impl}/${id}`,
    title: `${spec.title}: ${title}`,
    family: 'coverage',
    protocol: spec.protocol === 'reqrep' ? 'req0/rep0' : spec.protocol,
    transport: 'tcp',
    runtime: 'sim',
    impl: o.impl,
    peer: null,
    role: null,
    faults: [],
    ref: null,
    requirement: `${title}, in at least one generated run`,
    invariant: id,
    // Never exercised is not a failure of the implementation, but the report must show the gap.
    status: count > 0 ? 'pass' : 'skip',
    runs: observed,
    fcSeed: o.fcSeed,
    fcPath: null,
    simSeed: null,
    shrinks: null,
    counterexample: null,
    expected: 'at least once',
    actual: count > 0 ? `${count} of ${observed} runs` : `never exercised in ${observed} runs`,
    replay: `netlab run --suite ${spec.name} --impl ${o.impl} --seed ${o.fcSeed} --runs ${o.runs}`,
    traceHash: null,
    trace: null,
    wallMs: null,
  });
  if (o.checkDeterminism === true) {
    const nondet = cx?.failed.find((f) => f.id === DETERMINISM_CHECK);
    cases.push({
      ...coverage('engine/deterministic', 'the same scenario and simSeed give the same trace hash', observed),
      family: spec.name,
      requirement: 'the same scenario and simSeed give the same trace hash (every run executed twice)',
      status: nondet === undefined ? 'pass' : 'flaky',
      expected: nondet?.expected ?? 'identical trace hashes',
      actual: nondet?.actual ?? `${observed} scenarios ran twice with identical hashes`,
      replay:
        nondet === undefined
          ? `netlab run --suite ${spec.name} --impl ${o.impl} --seed ${o.fcSeed} --runs ${o.runs} --check-determinism`
          : `netlab replay ${o.caseFilePath(spec.name, o.impl)} --check-determinism`,
    });
  }
  for (const kind of GENERATED_FAULT_KINDS)
    cases.push(coverage(`coverage/fault:${kind}`, `fault ${kind} fired`, faultCounts.get(kind) ?? 0));
  for (const x of SOMETIMES) cases.push(coverage(`sometimes/${x.id}`, x.text, sometimes.get(x.id) ?? 0));
  return { name: spec.name, cases, failure: cx, virtualUs };
}
