/**
 * One work item of `netlab run`: one property run against one implementation, with everything that
 * follows from it (the traced sample of a pass, the traced failing case, the case file, the --ci
 * replays). The same function runs in the main thread (--workers 1) and in worker threads
 * (run-worker.ts), so a run's results do not depend on how it was spread: every item draws from the
 * run's fcSeed alone.
 */
import { join } from 'node:path';
import fc from 'fast-check';
import { traceFileName, TRACES_DIR } from '../../reports/schema.js';
import type { TraceFile } from '../../reports/write.js';
import { runProperty, runPropertySampled, type PropertySpec, type SuiteRun } from '../catalog.js';
import type { Transport } from '../generators.js';
import { replayCase } from '../property.js';
import { runScenario } from '../runner.js';
import type { Lab } from '../lab.js';
import type { AnyStack } from '../stack.js';
import { toJsonLines, TRACE_SCHEMA, type TraceEvent } from '../../sim/trace.js';
import { realFaultLayer } from '../real/faults.js';
import { runOnReal } from '../real/run.js';

/** One implementation × property pair; `index` is its place in the run's order (before sharding). */
export interface WorkItem {
  index: number;
  /** The stack whose property this is. */
  stack: string;
  impl: string;
  property: string;
  /** Where the property runs: the simulated network, or real loopback sockets (scenarios/real). */
  runtime: 'sim' | 'real';
}

/** What every item of a run shares (plain data: it crosses to worker threads). */
export interface ItemOptions {
  fcSeed: number;
  runs: number;
  /** Scenarios per property on the real runtime. */
  realRuns: number;
  transport?: Transport;
  netlabVersion: string;
  commit: string;
  checkDeterminism: boolean;
  /** --ci: replay every failing case twice; an outcome that does not reproduce is flaky. */
  ci: boolean;
  /** The run's output directory: case files go to <outDir>/cases/ (the replay commands name them). */
  outDir: string;
  /** Scenarios of one property run at once on the real runtime (they wait on real time). */
  realConcurrency: number;
}

export interface ItemResult {
  index: number;
  /** The property's run; its failing cases point at their trace, the first case at a passing sample. */
  run: SuiteRun;
  traces: TraceFile[];
  /** The shrunk failing case to write (its path is in the failing cases' replay command). */
  caseFile: { path: string; content: string } | null;
  /** Scenarios checked (shrinking runs included). */
  scenarioRuns: number;
}

/** Traced events kept for a passing sample and for a failing case (a bound on trace file size). */
const SAMPLE_TRACE_EVENTS_MAX = 200_000;
const FAILURE_TRACE_EVENTS_MAX = 500_000;
/** Traced events kept per real run (netlab's side; the first run's and failing runs' are written). */
const REAL_TRACE_EVENTS_MAX = 100_000;

export function caseFilePath(outDir: string, property: string, impl: string): string {
  return join(outDir, 'cases', `${property}-${impl}`.replace(/[^A-Za-z0-9_.-]/g, '_') + '.json');
}

export function propertyById(lab: Lab, stackId: string, id: string): { stack: AnyStack; spec: PropertySpec } {
  const stack = lab.stack(stackId);
  if (stack === undefined) throw new Error(`unknown stack '${stackId}'`);
  const found = lab.properties([stack]).find((p) => p.spec.id === id);
  if (found === undefined) throw new Error(`unknown property '${id}' of stack '${stackId}'`);
  return { stack, spec: found.spec };
}

export async function runWorkItem(
  lab: Lab,
  item: WorkItem,
  o: ItemOptions,
  nowMs: () => number,
  onProgress?: (done: number) => void,
): Promise<ItemResult> {
  const { stack, spec } = propertyById(lab, item.stack, item.property);
  const impl = item.impl;
  let scenarioRuns = 0;
  if (item.runtime === 'real') {
    // netlab's side of each real run is traced; kept: the first run's (a sample) and failing runs'.
    const realTraces = new Map<string, TraceEvent[]>();
    let firstSeed: string | undefined;
    const r = await runPropertySampled(spec, {
      ...(o.transport !== undefined ? { transport: o.transport } : {}),
      stack,
      runtime: 'real',
      fcSeed: o.fcSeed,
      runs: o.realRuns,
      impl,
      netlabVersion: o.netlabVersion,
      commit: o.commit,
      nowMs,
      concurrency: o.realConcurrency,
      run: async (scenario, seed) => {
        firstSeed ??= seed;
        const run = await runOnReal(stack, scenario, seed, {
          faults: realFaultLayer,
          traceCapacity: REAL_TRACE_EVENTS_MAX,
        });
        if (!('unsupported' in run) && (seed === firstSeed || !run.ok)) realTraces.set(seed, run.trace);
        return run;
      },
      onProgress: (done) => {
        scenarioRuns = done;
        onProgress?.(done);
      },
      caseFilePath: (property, i) => caseFilePath(o.outDir, property, i),
    });
    const caseFile =
      r.failure === null
        ? null
        : {
            path: caseFilePath(o.outDir, spec.id, `${impl}.real`),
            content: JSON.stringify(r.failure, null, 2) + '\n',
          };
    const traces: TraceFile[] = [];
    const attach = (c: SuiteRun['cases'][number], seed: string, suffix: string, source: string): void => {
      const events = realTraces.get(seed);
      if (events === undefined) return;
      const file = traceFileName(`${c.id}${suffix}`);
      traces.push({ file, content: toJsonLines({ schema: TRACE_SCHEMA, seed, source }, events) });
      c.trace = `${TRACES_DIR}/${file}`;
    };
    for (const c of r.cases)
      if (c.status === 'fail' && c.simSeed !== null) attach(c, c.simSeed, '', `${c.replay} (real sockets)`);
    const first = r.cases[0];
    if (first !== undefined && first.trace === null && firstSeed !== undefined)
      attach(first, firstSeed, '-sample', `sample of ${first.id} (real sockets)`);
    return { index: item.index, run: r, traces, caseFile, scenarioRuns };
  }
  const r = await runProperty(spec, {
    ...(o.transport !== undefined ? { transport: o.transport } : {}),
    stack,
    fcSeed: o.fcSeed,
    runs: o.runs,
    impl,
    netlabVersion: o.netlabVersion,
    commit: o.commit,
    nowMs,
    checkDeterminism: o.checkDeterminism,
    onProgress: (done) => {
      scenarioRuns = done;
      onProgress?.(done);
    },
    caseFilePath: (property, i) => caseFilePath(o.outDir, property, i),
  });
  const traces: TraceFile[] = [];
  let caseFile: ItemResult['caseFile'] = null;
  if (r.failure === null) {
    // A sample of passing runs: the suite's first generated scenario, traced, on its first case.
    const [sample] = fc.sample(
      spec.arb({ impl, transports: o.transport ? [o.transport] : spec.transports }),
      {
        seed: o.fcSeed,
        numRuns: 1,
      },
    );
    const first = r.cases[0];
    if (sample !== undefined && first !== undefined) {
      const simSeed = `sample-${o.fcSeed}`;
      const traced = await runScenario(stack, sample, simSeed, { traceCapacity: SAMPLE_TRACE_EVENTS_MAX });
      const file = traceFileName(`${first.id}-sample`);
      traces.push({
        file,
        content: toJsonLines(
          { schema: TRACE_SCHEMA, seed: simSeed, source: `sample of ${first.id}` },
          traced.trace,
        ),
      });
      first.trace = `${TRACES_DIR}/${file}`;
      first.traceHash = traced.traceHash;
    }
  } else {
    // The failing case's trace goes into the report (the viewer opens it).
    const rerun = await runScenario(stack, r.failure.scenario, r.failure.simSeed, {
      traceCapacity: FAILURE_TRACE_EVENTS_MAX,
    });
    for (const c of r.cases) {
      if (c.status !== 'fail') continue;
      const file = traceFileName(c.id);
      traces.push({
        file,
        content: toJsonLines(
          { schema: TRACE_SCHEMA, seed: r.failure.simSeed, source: c.replay },
          rerun.trace,
        ),
      });
      c.trace = `${TRACES_DIR}/${file}`;
    }
    caseFile = {
      path: caseFilePath(o.outDir, spec.id, impl),
      content: JSON.stringify(r.failure, null, 2) + '\n',
    };
    if (o.ci) {
      // Determinism check: the shrunk case must replay to its recorded hash, twice.
      for (let k = 0; k < 2; k++) {
        const again = await replayCase(stack, r.failure);
        if (!again.reproduced) for (const c of r.cases) if (c.status === 'fail') c.status = 'flaky';
      }
    }
  }
  return { index: item.index, run: r, traces, caseFile, scenarioRuns };
}
