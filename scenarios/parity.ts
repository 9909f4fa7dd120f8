/**
 * The parity comparison, stack-neutral: two outcomes of one parity case (simulated and over real
 * sockets, StackParity.outcome) compared part by part. A difference is a finding, reported with both
 * sides; a difference the case declares (a documented modelling gap) is reported as known, never
 * hidden. Isomorphic: the comparison is plain data.
 */
import type { ParityCase, ParityOutcome } from './stack.js';

export type { ParityCase, ParityOutcome, StackParity } from './stack.js';

export interface ParityDifference {
  /** A part's name (a stack's, e.g. received.<socket>), checks.<id> or crashed. */
  part: string;
  sim: unknown;
  real: unknown;
  /** Set when the case declares this difference: the reason. */
  known: string | null;
}

/** Differences between the two outcomes, part by part (checks not judged on one side are skipped). */
export function compareParity(c: ParityCase, sim: ParityOutcome, real: ParityOutcome): ParityDifference[] {
  const known = new Map((c.knownDifferences ?? []).map((k) => [k.part, k.why]));
  const out: ParityDifference[] = [];
  const add = (part: string, a: unknown, b: unknown): void => {
    if (JSON.stringify(a) !== JSON.stringify(b))
      out.push({ part, sim: a, real: b, known: known.get(part) ?? null });
  };
  // Parts in the stack's order (sim's first, then any only the real run has).
  const parts = [...new Set([...Object.keys(sim.parts), ...Object.keys(real.parts)])];
  for (const part of parts) add(part, sim.parts[part] ?? null, real.parts[part] ?? null);
  for (const id of Object.keys(sim.checks)) {
    const a = sim.checks[id]!;
    const b = real.checks[id];
    if (b === undefined || a === 'not-applicable' || b === 'not-applicable') continue;
    add(`checks.${id}`, a, b);
  }
  add('crashed', sim.crashed, real.crashed);
  return out;
}
