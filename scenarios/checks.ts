/**
 * The engine's side of checks: evaluating a stack's checks on a run's observations, and the checks
 * every stack gets (stack.no-crash). The types live in scenarios/stack.ts; a stack defines its own
 * checks in its lab folder and hands them over through StackCore.checks().
 */
import { describePending } from './actions.js';
import type { CheckContext, CheckDef, CheckResult, CheckVerdict } from './stack.js';

export type { CheckContext, CheckDef, CheckKind, CheckResult, CheckStatus, CheckVerdict } from './stack.js';

/** Faults that destroy accepted data in flight. */
export const LOSSY_FAULTS: ReadonlySet<string> = new Set(['reset', 'crash', 'restart']);

export function verdict(violation: string | null, expected: string): CheckVerdict {
  return { status: violation === null ? 'pass' : 'fail', expected, actual: violation };
}

/** Checks of the engine, valid in every stack's scenarios. */
export const ENGINE_CHECKS: ReadonlyMap<string, CheckDef<unknown, unknown>> = new Map(
  [
    {
      id: 'stack.no-crash',
      kind: 'always',
      requirement: 'nothing a peer or the network does makes the stack throw (bad input is a typed error)',
      ref: null,
      evaluate: (_s: unknown, _o: unknown, ctx: CheckContext) => verdict(ctx.crash, 'no event throws'),
    } satisfies CheckDef<unknown, unknown>,
    {
      id: 'stack.workload-completes',
      kind: 'eventually',
      requirement:
        'every application action of the workload (send, request, survey, close) ends with a result or a typed error once faults have healed: none hangs',
      ref: null,
      evaluate: (_s: unknown, _o: unknown, ctx: CheckContext): CheckVerdict =>
        ctx.pending === undefined
          ? { status: 'not-applicable', expected: null, actual: 'the stack records no application actions' }
          : verdict(
              ctx.pending.length === 0 ? null : describePending(ctx.pending),
              'no action pending at the end',
            ),
    } satisfies CheckDef<unknown, unknown>,
  ].map((c) => [c.id, c]),
);

/** A check by id among a stack's checks and the engine's. */
export function findCheck<S, O, C extends CheckContext>(
  checks: ReadonlyMap<string, CheckDef<S, O, C>>,
  id: string,
): CheckDef<S, O, C> | undefined {
  // The engine checks read only the context, so they fit any stack's check signature.
  return checks.get(id) ?? ENGINE_CHECKS.get(id);
}

/** Every check id a scenario of a stack may name: the stack's, then the engine's. */
export function knownCheckIds(checks: ReadonlyMap<string, unknown>): string[] {
  return [...checks.keys(), ...[...ENGINE_CHECKS.keys()].filter((k) => !checks.has(k))];
}

/** Evaluates the scenario's checks, in the order it names them. */
export function evaluateChecks<S extends { checks: readonly string[] }, O, C extends CheckContext>(
  checks: ReadonlyMap<string, CheckDef<S, O, C>>,
  scenario: S,
  obs: O,
  ctx: C,
): CheckResult[] {
  return scenario.checks.map((id) => {
    const def = findCheck(checks, id);
    if (def === undefined) throw new Error(`unknown check '${id}'`);
    // A crash ends the run early: liveness cannot be judged, safety checks still can.
    const v: CheckVerdict =
      ctx.crash !== null && def.kind === 'eventually'
        ? { status: 'not-applicable', expected: null, actual: 'the run stopped at a crash' }
        : ctx.runtime === 'real' && def.timing === true
          ? {
              status: 'not-applicable',
              expected: null,
              actual: 'rests on exact timing: judged on the simulated network only',
            }
          : def.evaluate(scenario, obs, ctx);
    return { id, kind: def.kind, requirement: def.requirement, ...v };
  });
}
