/**
 * The catalog of suites `netlab run` knows: each suite is a property over generated scenarios of
 * one protocol, run against one implementation. Produces report cases (reports/schema.ts) with every
 * field set, including the replay command. Isomorphic except for nothing: it only calls the runner.
 */
import fc from 'fast-check';
import { findCheck, implicitChecks } from './checks.js';
import { simSeedArb, type Transport } from './generators.js';
import type { Scenario } from './model.js';
import { CASE_SCHEMA, checkProperty, DETERMINISM_CHECK, type CaseFile } from './property.js';
import type { ScenarioResult } from './runner.js';
import type { AnyStack, SometimesDef } from './stack.js';

/**
 * One property: generated scenarios of a shape (its arbitrary), checked against a set of
 * invariants. A family (framing, handshake, redial, resend, backpressure) is a list of properties.
 */
export interface PropertySpec<S extends Scenario = Scenario> {
  /** Stable id, unique across families, e.g. "framing/pair0". */
  id: string;
  family: string;
  title: string;
  /** Protocols covered, nng names (for --protocol), e.g. ["req0", "rep0"]. */
  protocols: readonly string[];
  /** Transports the arbitrary draws from; --transport narrows to one. */
  transports: readonly Transport[];
  /**
   * The invariants (check ids) the property enforces, in report order. The simulator's self-checks
   * (sim.time-monotonic, sim.bytes-conserved) need not be listed: every simulated run judges them,
   * and the report has a case for each after these.
   */
  checks: readonly string[];
  /** Fault kinds the arbitrary can draw (coverage lists any never exercised). */
  faultKinds: readonly string[];
  /** "Sometimes" conditions (SOMETIMES ids) this property should exercise. */
  sometimes: readonly string[];
  arb(o: { impl: string; transports: readonly Transport[] }): fc.Arbitrary<S>;
}

export interface FamilySpec<S extends Scenario = Scenario> {
  name: string;
  title: string;
  properties: readonly PropertySpec<S>[];
}

export interface CatalogCase {
  id: string;
  title: string;
  /** The stack the case exercises (StackPlugin.id). */
  stack: string;
  /** The invariant family (framing, resend...; "coverage" for coverage rows). */
  family: string;
  protocol: string;
  transport: string;
  runtime: 'sim' | 'real';
  impl: string;
  peer: null;
  role: null;
  faults: string[];
  ref: string | null;
  requirement: string;
  invariant: string;
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
  /** The family (report suite) name. */
  name: string;
  property: string;
  cases: CatalogCase[];
  /** The shrunk failing case, when the suite failed (for writing a case file). */
  failure: CaseFile | null;
  /** Virtual time simulated by every run of the suite (shrinking runs included), in microseconds. */
  virtualUs: number;
}

export interface RunSuiteOptions {
  /** The stack whose property runs. */
  stack: AnyStack;
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
  caseFilePath: (property: string, impl: string) => string;
  /** Narrow the property to one transport (netlab run --transport). */
  transport?: Transport;
}

/**
 * "Sometimes" conditions of the engine (network events every stack can meet); each stack adds its
 * own (StackPlugin.sometimes). Each should happen in some run, or the property is not testing what it
 * claims.
 */
export const ENGINE_SOMETIMES: readonly SometimesDef[] = [
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
];

/** The "sometimes" conditions a stack's properties may name: the engine's, then the stack's. */
export function sometimesOf(stack: AnyStack): readonly SometimesDef[] {
  return [...ENGINE_SOMETIMES, ...(stack.sometimes as readonly SometimesDef[])];
}

/** Replay command of a passing case: rerun its property with the same seed and runs. */
function rerunCommand(spec: PropertySpec, o: RunSuiteOptions, extra = ''): string {
  return `netlab run --stack ${o.stack.id} --suite ${spec.family} --property ${spec.id} --impl ${o.impl} --seed ${o.fcSeed} --runs ${o.runs}${o.transport ? ` --transport ${o.transport}` : ''}${extra}`;
}

export async function runProperty(spec: PropertySpec, o: RunSuiteOptions): Promise<SuiteRun> {
  const t0 = o.nowMs();
  const faultCounts = new Map<string, number>();
  const sometimes = new Map<string, number>();
  let observed = 0;
  let virtualUs = 0;
  const transports = o.transport ? [o.transport] : spec.transports;
  const sometimesDefs = sometimesOf(o.stack);
  const out = await checkProperty<Scenario, unknown>({
    stack: o.stack,
    arb: spec.arb({ impl: o.impl, transports }),
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
      for (const x of sometimesDefs) if (x.seen(r)) sometimes.set(x.id, (sometimes.get(x.id) ?? 0) + 1);
    },
  });
  const wallMs = o.nowMs() - t0;
  const cx = out.counterexample;
  const failedIds = new Set(cx?.failed.map((f) => f.id) ?? []);
  const faultKinds = cx ? [...new Set(cx.scenario.faults.faults.map((f) => f.kind))] : [];
  const protocol = spec.protocols.join('/');
  const transport = transports.join(',');
  const caseFile = o.caseFilePath(spec.id, o.impl);
  const base = {
    stack: o.stack.id,
    family: spec.family,
    protocol,
    transport,
    runtime: 'sim' as const,
    impl: o.impl,
    peer: null,
    role: null,
    fcSeed: o.fcSeed,
  };
  // The property's checks, then the self-checks every simulated run judges (unless it lists them).
  const judged = [...spec.checks, ...implicitChecks(spec.checks, true)];
  const cases = judged.map((id): CatalogCase => {
    const def = findCheck(o.stack.checks(), id);
    const failed = failedIds.has(id);
    const check = cx?.failed.find((f) => f.id === id);
    return {
      ...base,
      id: `${spec.id}/${o.impl}/${id}`,
      title: `${spec.title}: ${id}`,
      faults: failed ? faultKinds : [],
      ref: def?.ref ?? null,
      requirement: def?.requirement ?? id,
      invariant: id,
      status: failed ? 'fail' : 'pass',
      runs: out.runs,
      fcPath: failed ? cx!.fcPath : null,
      simSeed: failed ? cx!.simSeed : null,
      shrinks: failed ? out.shrinks : null,
      counterexample: failed ? cx : null,
      expected: check?.expected ?? null,
      actual:
        check === undefined
          ? null
          : out.shrinkCapped
            ? `${check.actual ?? 'failed'} (shrinking stopped at its bound of ${out.shrinkRuns} runs: the case may not be minimal)`
            : check.actual,
      replay: failed ? `netlab replay ${caseFile}` : rerunCommand(spec, o),
      traceHash: failed ? cx!.traceHash : null,
      trace: null,
      wallMs,
    };
  });
  const coverage = (id: string, title: string, count: number): CatalogCase => ({
    ...base,
    id: `${spec.id}/${o.impl}/${id}`,
    title: `${spec.title}: ${title}`,
    family: 'coverage',
    faults: [],
    ref: null,
    requirement: `${title}, in at least one generated run`,
    invariant: id,
    // Never exercised is not a failure of the implementation, but the report must show the gap.
    status: count > 0 ? 'pass' : 'skip',
    runs: observed,
    fcPath: null,
    simSeed: null,
    shrinks: null,
    counterexample: null,
    expected: 'at least once',
    actual: count > 0 ? `${count} of ${observed} runs` : `never exercised in ${observed} runs`,
    replay: rerunCommand(spec, o),
    traceHash: null,
    trace: null,
    wallMs: null,
  });
  if (o.checkDeterminism === true) {
    const nondet = cx?.failed.find((f) => f.id === DETERMINISM_CHECK);
    cases.push({
      ...coverage('engine/deterministic', 'the same scenario and simSeed give the same trace hash', observed),
      family: spec.family,
      requirement: 'the same scenario and simSeed give the same trace hash (every run executed twice)',
      status: nondet === undefined ? 'pass' : 'flaky',
      expected: nondet?.expected ?? 'identical trace hashes',
      actual: nondet?.actual ?? `${observed} scenarios ran twice with identical hashes`,
      replay:
        nondet === undefined
          ? rerunCommand(spec, o, ' --check-determinism')
          : `netlab replay ${caseFile} --check-determinism`,
    });
  }
  for (const kind of spec.faultKinds)
    cases.push(coverage(`coverage/fault:${kind}`, `fault ${kind} fired`, faultCounts.get(kind) ?? 0));
  for (const x of sometimesDefs)
    if (spec.sometimes.includes(x.id))
      cases.push(coverage(`sometimes/${x.id}`, x.text, sometimes.get(x.id) ?? 0));
  return { name: spec.family, property: spec.id, cases, failure: cx, virtualUs };
}

/** One scenario run on a substrate other than the simulator, or why that scenario cannot run there. */
export type SampledRun = ScenarioResult | { unsupported: string };

export interface SampledOptions extends RunSuiteOptions {
  runtime: 'real';
  /** Runs the scenario on the substrate (scenarios/real: real loopback sockets through the fault proxy). */
  run(scenario: Scenario, seed: string): Promise<SampledRun>;
  /** Scenarios run at once (they are I/O bound: real time passes while they wait). Default 1. */
  concurrency?: number;
}

/**
 * A property on a substrate where runs are not reproducible to the event (real sockets): the same
 * generated scenarios as the simulated property (fc.sample with the same fcSeed), run concurrently,
 * without shrinking (a shrink step could not tell a smaller failure from a different timing). A
 * failing case carries the scenario itself, which `netlab replay` reruns on either runtime.
 * Checks that rest on exact timing are not judged here; a check judged in no run is a skip.
 */
export async function runPropertySampled(spec: PropertySpec, o: SampledOptions): Promise<SuiteRun> {
  const t0 = o.nowMs();
  const transports = o.transport ? [o.transport] : spec.transports;
  const pairs = fc.sample(fc.tuple(spec.arb({ impl: o.impl, transports }), simSeedArb), {
    seed: o.fcSeed,
    numRuns: o.runs,
  });
  const results: (SampledRun | undefined)[] = new Array<SampledRun | undefined>(pairs.length);
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < pairs.length) {
      const i = next++;
      const [scenario, seed] = pairs[i]!;
      try {
        results[i] = await o.run(scenario, seed);
      } catch (e) {
        results[i] = { unsupported: `the run failed to start: ${(e as Error).message}` };
      }
      o.onProgress?.(++done);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency ?? 1, pairs.length)) }, worker));
  const wallMs = o.nowMs() - t0;
  const ran = results.filter((r): r is ScenarioResult => r !== undefined && !('unsupported' in r));
  const unsupported = new Map<string, number>();
  for (const r of results)
    if (r !== undefined && 'unsupported' in r)
      unsupported.set(r.unsupported, (unsupported.get(r.unsupported) ?? 0) + 1);
  const firstFail = (id: string): number =>
    results.findIndex(
      (r) =>
        r !== undefined && !('unsupported' in r) && r.checks.some((c) => c.id === id && c.status === 'fail'),
    );
  const caseFile = o.caseFilePath(spec.id, `${o.impl}.real`);
  let failure: CaseFile | null = null;
  const cases = [...spec.checks, ...implicitChecks(spec.checks, false)].map((id): CatalogCase => {
    const def = findCheck(o.stack.checks(), id);
    const at = firstFail(id);
    const judged = ran.filter((r) =>
      r.checks.some((c) => c.id === id && (c.status === 'pass' || c.status === 'fail')),
    ).length;
    const base = {
      id: `${spec.id}/${o.impl}/real/${id}`,
      title: `${spec.title}: ${id} (real sockets)`,
      stack: o.stack.id,
      family: spec.family,
      protocol: spec.protocols.join('/'),
      transport: transports.join(','),
      runtime: o.runtime,
      impl: o.impl,
      peer: null,
      role: null,
      ref: def?.ref ?? null,
      requirement: def?.requirement ?? id,
      invariant: id,
      runs: ran.length,
      fcSeed: o.fcSeed,
      fcPath: null,
      shrinks: null,
      traceHash: null,
      trace: null,
      wallMs,
    };
    if (at >= 0) {
      const r = results[at] as ScenarioResult;
      const [scenario, seed] = pairs[at]!;
      const check = r.checks.find((c) => c.id === id)!;
      const cx: CaseFile = {
        schema: CASE_SCHEMA,
        scenario,
        simSeed: seed,
        fcSeed: o.fcSeed,
        fcPath: '',
        netlabVersion: o.netlabVersion,
        commit: o.commit,
        failed: r.checks.filter((c) => c.status === 'fail'),
        traceHash: '',
      };
      failure ??= cx;
      return {
        ...base,
        faults: [...new Set(scenario.faults.faults.map((f) => f.kind))],
        status: 'fail',
        simSeed: seed,
        counterexample: cx,
        expected: check.expected,
        actual: `${check.actual ?? 'failed'} (run ${at + 1} of ${pairs.length}, not shrunk)`,
        replay: `netlab replay ${caseFile} --runtime real`,
      };
    }
    const skipped = [...unsupported].map(([why, n]) => `${n} not run: ${why}`).join('; ');
    return {
      ...base,
      faults: [],
      status: judged > 0 ? 'pass' : 'skip',
      simSeed: null,
      counterexample: null,
      expected: def?.timing === true ? 'judged on the simulated network only (exact timing)' : null,
      actual:
        judged > 0
          ? `held in ${judged} of ${pairs.length} runs${skipped ? `; ${skipped}` : ''}`
          : def?.timing === true
            ? 'not judged on real sockets: it rests on exact timing (judged on the simulated network)'
            : `judged in none of ${pairs.length} runs${skipped ? `; ${skipped}` : ''}`,
      replay: `${rerunCommand(spec, o)} --runtime real`,
    };
  });
  return { name: spec.family, property: spec.id, cases, failure, virtualUs: 0 };
}
