/**
 * Runs a stack's parity suite (StackPlugin.parity): each case on the simulated network and over real
 * loopback sockets through the seeded fault proxy, compared by what the application saw. Produces
 * report cases (family "parity", runtime "real") so `netlab parity --out` and the lab's report show
 * them beside the properties.
 */
import type { CatalogCase } from '../catalog.js';
import { compareParity, type ParityDifference } from '../parity.js';
import { runScenario } from '../runner.js';
import type { AnyStack, ParityCase, ParityOutcome } from '../stack.js';
import { realFaultLayer } from './faults.js';
import { runOnReal } from './run.js';

export interface ParityResult {
  /** The stack whose case this is. */
  stack: string;
  name: string;
  title: string;
  /** pass: same outcome, or only declared differences; fail: an undeclared difference; error: a side did not run. */
  status: 'pass' | 'fail' | 'error';
  differences: ParityDifference[];
  sim: ParityOutcome | null;
  real: ParityOutcome | null;
  detail: string;
  wallMs: number;
}

function describe(d: ParityDifference): string {
  return `${d.part}: sim ${JSON.stringify(d.sim)}, real ${JSON.stringify(d.real)}${d.known !== null ? ` (known: ${d.known})` : ''}`;
}

export async function runParityCase(stack: AnyStack, c: ParityCase, seed: string): Promise<ParityResult> {
  const parity = stack.parity;
  if (parity === undefined) throw new Error(`stack '${stack.id}' has no parity suite`);
  const t0 = performance.now();
  const sim = parity.outcome(c.scenario, await runScenario(stack, c.scenario, seed));
  let real: ParityOutcome | null = null;
  let status: ParityResult['status'];
  let detail: string;
  let differences: ParityDifference[] = [];
  try {
    const r = await runOnReal(stack, c.scenario, seed, { faults: realFaultLayer });
    if ('unsupported' in r) {
      status = 'error';
      detail = `cannot run on real sockets: ${r.unsupported}`;
    } else {
      real = parity.outcome(c.scenario, r);
      differences = compareParity(c, sim, real);
      const unknown = differences.filter((d) => d.known === null);
      status = unknown.length === 0 ? 'pass' : 'fail';
      detail =
        differences.length === 0 ? 'same outcome on both runtimes' : differences.map(describe).join('; ');
    }
  } catch (e) {
    status = 'error';
    detail = `the real run failed: ${(e as Error).message}`;
  }
  return {
    stack: stack.id,
    name: c.name,
    title: c.title,
    status,
    differences,
    sim,
    real,
    detail,
    wallMs: performance.now() - t0,
  };
}

/** Every parity case of the given stacks, in stack then case order. */
export function parityCasesOf(stacks: readonly AnyStack[]): { stack: AnyStack; case: ParityCase }[] {
  return stacks.flatMap((stack) => (stack.parity?.cases() ?? []).map((c) => ({ stack, case: c })));
}

/** Runs the stacks' cases (all by default), `concurrency` at once; results in case order. */
export async function runParity(
  stacks: readonly AnyStack[],
  o: { seed: string; only?: readonly string[]; concurrency?: number } = { seed: 'parity' },
): Promise<ParityResult[]> {
  const cases = parityCasesOf(stacks).filter((c) => o.only === undefined || o.only.includes(c.case.name));
  const out: ParityResult[] = new Array<ParityResult>(cases.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const i = next++;
      out[i] = await runParityCase(cases[i]!.stack, cases[i]!.case, o.seed);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency ?? 4, cases.length)) }, worker));
  return out;
}

/** A parity result as a report case (column "netlab (real)", row parity/<case>). */
export function parityReportCase(
  r: ParityResult,
  seed: string,
  stack: AnyStack,
  c: ParityCase,
): Omit<CatalogCase, 'status'> & {
  status: 'pass' | 'fail' | 'error';
} {
  return {
    id: `parity/${r.name}`,
    title: `parity: ${r.title}`,
    stack: stack.id,
    family: 'parity',
    protocol: stack.protocolsOf(c.scenario).join('/'),
    transport: stack.transportsOf(c.scenario).join(','),
    runtime: 'real',
    impl: 'netlab',
    peer: null,
    role: null,
    faults: [...new Set(c.scenario.faults.faults.map((f) => f.kind))],
    ref: null,
    requirement:
      'the same scenario gives the application the same outcome on the simulated network and over real sockets (messages, order, error codes, verdicts)',
    invariant: 'parity/same-outcome',
    status: r.status,
    runs: 1,
    fcSeed: 0,
    fcPath: null,
    simSeed: seed,
    shrinks: null,
    counterexample: null,
    expected: 'the simulated outcome',
    actual: r.detail,
    replay: `netlab parity --stack ${stack.id} --case ${r.name} --seed ${seed}`,
    traceHash: null,
    trace: null,
    wallMs: Math.round(r.wallMs),
  };
}
