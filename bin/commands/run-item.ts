/**
 * One work item of `netlab run`: one property run against one implementation, with everything that
 * follows from it (the traced sample of a pass, the traced failing case, the case file, the --ci
 * replays). The same function runs in the main thread (--workers 1) and in worker threads
 * (run-worker.ts), so a run's results do not depend on how it was spread: every item draws from the
 * run's fcSeed alone.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { traceFileName, TRACES_DIR } from '../../reports/schema.js';
import type { TraceFile } from '../../reports/write.js';
import {
  runProperty,
  runPropertySampled,
  type PropertySpec,
  type SuiteRun,
} from '../../scenarios/catalog.js';
import type { Transport } from '../../scenarios/generators.js';
import { replayCase } from '../../scenarios/property.js';
import { runScenario } from '../../scenarios/runner.js';
import type { AnyStack } from '../../scenarios/stack.js';
import { LAB } from '../lab.js';
import { toJsonLines, TRACE_SCHEMA } from '../../sim/trace.js';
import { realFaultLayer } from '../../scenarios/real/faults.js';
import { runOnReal } from '../../scenarios/real/run.js';

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

/** The directory holding netlab's package.json, from source (bin/commands) or from dist/bin/commands. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'netlab')
      return dir;
    const up = dirname(dir);
    if (up === dir)
      throw new Error('cannot find the netlab package.json above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

export function caseFilePath(outDir: string, property: string, impl: string): string {
  return join(outDir, 'cases', `${property}-${impl}`.replace(/[^A-Za-z0-9_.-]/g, '_') + '.json');
}

export function propertyById(stackId: string, id: string): { stack: AnyStack; spec: PropertySpec } {
  const stack = LAB.stack(stackId);
  if (stack === undefined) throw new Error(`unknown stack '${stackId}'`);
  const found = LAB.properties([stack]).find((p) => p.spec.id === id);
  if (found === undefined) throw new Error(`unknown property '${id}' of stack '${stackId}'`);
  return { stack, spec: found.spec };
}

export async function runWorkItem(
  item: WorkItem,
  o: ItemOptions,
  nowMs: () => number,
  onProgress?: (done: number) => void,
): Promise<ItemResult> {
  const { stack, spec } = propertyById(item.stack, item.property);
  const impl = item.impl;
  let scenarioRuns = 0;
  if (item.runtime === 'real') {
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
      run: (scenario, seed) => runOnReal(stack, scenario, seed, { faults: realFaultLayer }),
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
    return { index: item.index, run: r, traces: [], caseFile, scenarioRuns };
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
