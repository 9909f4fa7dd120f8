/**
 * The engine's side of checks: evaluating a stack's checks on a run's observations, and the checks
 * every stack gets (stack.no-crash, stack.workload-completes, and the simulator's self-checks
 * sim.time-monotonic and sim.bytes-conserved, which the runner judges on every simulated run whether
 * or not the scenario names them, with sim.events-in-order and sim.link-model). The types live in scenarios/stack.ts; a stack defines its own
 * checks in its lab folder and hands them over through StackCore.checks().
 */
import type { FaultPlan, FaultRecord } from '../sim/fault-plan.js';
import { describeAccount, linkAuditViolation } from '../sim/net.js';
import { describePending } from './actions.js';
import type { CheckContext, CheckDef, CheckResult, CheckVerdict, SimAudit } from './stack.js';

export type {
  CheckContext,
  CheckDef,
  CheckKind,
  CheckResult,
  CheckStatus,
  CheckVerdict,
  SimAudit,
} from './stack.js';

/** Faults that destroy accepted data in flight. */
export const LOSSY_FAULTS: ReadonlySet<string> = new Set(['reset', 'crash', 'restart']);

export function verdict(violation: string | null, expected: string): CheckVerdict {
  return { status: violation === null ? 'pass' : 'fail', expected, actual: violation };
}

/** How many discrepant connection directions a sim.bytes-conserved failure spells out. */
const MAX_LISTED_FLOWS = 3;

/** A self-check's verdict where the simulator kept no accounts (real sockets). */
const NOT_SIMULATED: CheckVerdict = {
  status: 'not-applicable',
  expected: null,
  actual: 'a self-check of the simulator: judged on the simulated network only',
};

/** sim.time-monotonic: no trace event stamped earlier than the one before it, nor after the clock. */
export function timeMonotonicViolation(audit: SimAudit): string | null {
  const t = audit.time;
  const problems: string[] = [];
  if (t.backsteps > 0 && t.first !== null)
    problems.push(
      `virtual time stepped back ${t.backsteps} time${t.backsteps === 1 ? '' : 's'} in ${t.events} trace events; ` +
        `first at event #${t.first.seq}, stamped ${t.first.tUs} us after one at ${t.first.previousTUs} us`,
    );
  if (t.lastTUs > audit.clockUs)
    problems.push(
      `the last trace event is stamped ${t.lastTUs} us, later than the world's clock at the end (${audit.clockUs} us)`,
    );
  return problems.length === 0 ? null : problems.join('; ');
}

/** sim.bytes-conserved: every connection direction's accepted bytes accounted for. */
export function bytesConservedViolation(audit: SimAudit): string | null {
  const v = audit.bytes.violations;
  if (v.length === 0) return null;
  const listed = v.slice(0, MAX_LISTED_FLOWS).map(describeAccount);
  const more = v.length > listed.length ? `; and ${v.length - listed.length} more` : '';
  return (
    `${v.length} of ${audit.bytes.flows} connection direction${audit.bytes.flows === 1 ? '' : 's'} ` +
    `do${v.length === 1 ? 'es' : ''} not add up: ${listed.join('; ')}${more}`
  );
}

/** sim.events-in-order: events ran in (time, scheduling order), and no bounded run left one due. */
export function eventsInOrderViolation(audit: SimAudit): string | null {
  const e = audit.events;
  const problems: string[] = [];
  if (e.first !== null)
    problems.push(
      `${e.outOfOrder} of ${e.events} events ran out of order; first: event #${e.first.seq} (due ${e.first.tUs} us) ` +
        `ran after event #${e.first.previousSeq} (due ${e.first.previousTUs} us)` +
        (e.first.tUs === e.first.previousTUs ? ', which was scheduled after it for the same time' : ''),
    );
  if (e.firstStop !== null)
    problems.push(
      `${e.stoppedEarly} bounded run${e.stoppedEarly === 1 ? '' : 's'} stopped with an event still due; first: ` +
        `run until ${e.firstStop.untilUs} us stopped with one due at ${e.firstStop.dueUs} us`,
    );
  return problems.length === 0 ? null : problems.join('; ');
}

/** sim.link-model: the network model's per-segment rules (sim/net/audit.ts LinkAudit). */
export function linkModelViolation(audit: SimAudit): string | null {
  return linkAuditViolation(audit.links);
}

/**
 * sim.partitions-respected: every time the network held a direction's traffic for a partition,
 * the fault plan had a partition in force that cuts that direction: from its a side to its b side,
 * or back when it is not one-way. Judged from the plan's own steps and the run's fault records,
 * never from the network's partition table (the thing judged). Holds while a swizzle-clog step is
 * in force are not judged (its cuts change host by host, in an order drawn at run time).
 */
export function partitionsViolation(
  scenario: unknown,
  audit: SimAudit,
  records: readonly FaultRecord[],
): string | null {
  const steps = (scenario as { faults?: Partial<FaultPlan> } | null)?.faults?.faults ?? [];
  const active = (r: FaultRecord, t: number): boolean =>
    r.startUs !== null && r.startUs <= t && (r.endUs === null || t <= r.endUs);
  for (const h of audit.links.holds) {
    if (records.some((r) => r.kind === 'swizzle-clog' && active(r, h.atUs))) continue;
    const cut = records.some((r, i) => {
      const step = steps[i];
      if (r.kind !== 'partition' || step?.kind !== 'partition' || !active(r, h.atUs)) return false;
      if (step.a.includes(h.from) && step.b.includes(h.to)) return true;
      return step.oneWay !== true && step.b.includes(h.from) && step.a.includes(h.to);
    });
    if (!cut) {
      const inForce = records
        .filter((r) => r.kind === 'partition' && active(r, h.atUs))
        .map((r) => r.detail)
        .join('; ');
      return `traffic from ${h.from} to ${h.to} was held for a partition at ${h.atUs} us, yet no partition of the plan cut that direction then (${inForce === '' ? 'none in force' : `in force: ${inForce}`})`;
    }
  }
  return null;
}

/** The simulator's self-checks: judged on every simulated run, named by the scenario or not. */
const SELF_CHECKS: readonly CheckDef<unknown, unknown>[] = [
  {
    id: 'sim.time-monotonic',
    kind: 'always',
    requirement:
      "virtual time never steps back: every trace event is stamped at or after the one before it, and none after the world's clock",
    ref: null,
    evaluate: (_s: unknown, _o: unknown, ctx: CheckContext) =>
      ctx.sim === undefined
        ? NOT_SIMULATED
        : verdict(
            timeMonotonicViolation(ctx.sim),
            'every trace event at or after the one before it, none after the clock',
          ),
  },
  {
    id: 'sim.bytes-conserved',
    kind: 'always',
    requirement:
      'per connection and direction, the bytes writes accepted = the bytes the reader was handed + the bytes still ' +
      'buffered (send buffer, in flight, receive buffer) + the bytes destroyed (lost to a reset or timeout, dropped ' +
      'at a closed end, discarded unread)',
    ref: null,
    evaluate: (_s: unknown, _o: unknown, ctx: CheckContext) =>
      ctx.sim === undefined
        ? NOT_SIMULATED
        : verdict(
            bytesConservedViolation(ctx.sim),
            'accepted = read + buffered + destroyed, in every direction of every connection',
          ),
  },
  {
    id: 'sim.events-in-order',
    kind: 'always',
    requirement:
      'events run in virtual-time order, and events due at the same time in the order they were scheduled; ' +
      'a run bounded by a time stops with no event due at or before it',
    ref: null,
    evaluate: (_s: unknown, _o: unknown, ctx: CheckContext) =>
      ctx.sim === undefined
        ? NOT_SIMULATED
        : verdict(
            eventsInOrderViolation(ctx.sim),
            'every event after the one before it in (time, scheduling order); none due when a bounded run stops',
          ),
  },
  {
    id: 'sim.link-model',
    kind: 'always',
    requirement:
      "each connection direction hands its receiver every segment in order and no earlier than the segment's own " +
      'delays allow (link free, serialization, loss recovery, latency); a receive buffer never holds more than its ' +
      'size; no segment is retransmitted more often than the bound',
    ref: null,
    evaluate: (_s: unknown, _o: unknown, ctx: CheckContext) =>
      ctx.sim === undefined
        ? NOT_SIMULATED
        : verdict(
            linkModelViolation(ctx.sim),
            'no segment early, no receive buffer over its size, no segment over the retransmission bound',
          ),
  },
  {
    id: 'sim.partitions-respected',
    kind: 'always',
    requirement:
      "the network holds a direction's traffic only while a partition of the fault plan cuts that direction " +
      '(a to b, and b to a unless it is one-way)',
    ref: null,
    evaluate: (s: unknown, _o: unknown, ctx: CheckContext) =>
      ctx.sim === undefined
        ? NOT_SIMULATED
        : verdict(
            partitionsViolation(s, ctx.sim, ctx.faults),
            'every hold covered by a partition of the plan that cuts its direction',
          ),
  },
];

/** Ids of the simulator's self-checks, in the order the runner appends them. */
export const SELF_CHECK_IDS: readonly string[] = SELF_CHECKS.map((c) => c.id);

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
    ...SELF_CHECKS,
  ].map((c) => [c.id, c]),
);

/**
 * Engine checks judged on every run whether the scenario names them or not: the workload completes
 * (every runtime; not applicable for a stack that records no actions), and on the simulated network
 * the simulator's self-checks.
 */
export function implicitChecks(named: readonly string[], simulated: boolean): string[] {
  const ids = ['stack.workload-completes', ...(simulated ? SELF_CHECK_IDS : [])];
  return ids.filter((id) => !named.includes(id));
}

/**
 * The implicit checks the scenario does not name, judged on the engine's context (`ctx.pending`,
 * and `ctx.sim`: the simulator's accounts). The runner appends them to the scenario's own checks.
 */
export function evaluateImplicitChecks(
  named: readonly string[],
  ctx: CheckContext,
  simulated: boolean,
  faults?: FaultPlan,
): CheckResult[] {
  // The fault plan rides along for sim.partitions-respected, which judges holds against its steps.
  const scenario = { checks: implicitChecks(named, simulated), ...(faults !== undefined ? { faults } : {}) };
  return evaluateChecks(new Map(), scenario, undefined, ctx);
}

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
