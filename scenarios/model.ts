/**
 * The scenario envelope: what every scenario has, whatever its stack — the stack id, a name, the
 * implementation under test, the simulated hosts, the network model, the fault plan, the timing of
 * the fault and liveness phases, and the checks to evaluate — validated with zod so a case file read
 * back from disk is checked field by field. The stack's own fields (topology, workload) sit beside
 * these in the same object; the stack's StackCore.parseScenario validates them (scenarios/stack.ts).
 * Isomorphic: the browser viewer replays the same data.
 */
import { z } from 'zod';
import {
  constantLatencySchema,
  exponentialLatencySchema,
  jitterUsSchema,
  uniformLatencySchema,
} from '../sim/fault-limits.js';
import { parseFaultPlan, simulatorUnsupported, type FaultPlan } from '../sim/fault-plan.js';

/**
 * Version of the scenario format. 2: the envelope names its `stack` (version 1 scenarios were SP
 * scenarios without one; they are refused with a message that says so).
 */
export const SCENARIO_VERSION = 2;

/** Implementation under test: netlab itself, or a variant (a museum bug, a test double). */
export type ImplName = string;

export const us = (max: number) => z.number().int().min(0).max(max);
export const MAX_US = 3_600_000_000;
export const scenarioName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,31}$/, 'a lower-case name: a letter, then letters, digits or "-" (≤ 32)');

/**
 * The network's latency model: the shared schemas of sim/fault-limits.ts, so a scenario, a fault
 * plan, the simulator's link settings and the fault proxy's flags refuse the same values with the
 * same message (every value integer µs in [0, MAX_LATENCY_US], 10 s). A scenario's network has no
 * mixture model (the generators, the viewer's knobs and the timing checks know these three).
 */
const latency = z.discriminatedUnion('kind', [
  constantLatencySchema,
  uniformLatencySchema,
  exponentialLatencySchema,
]);

/** The envelope's fields; a stack's fields are every other key of the scenario object. */
export const envelopeSchema = z.looseObject({
  version: z.literal(SCENARIO_VERSION),
  /** The stack the scenario exercises (`netlab run --list-stacks`). */
  stack: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'a stack id'),
  name: z.string().min(1),
  impl: z.string().min(1),
  hosts: z.array(scenarioName).min(1).max(16),
  network: z.strictObject({
    latency,
    /** Shared bound: [0, MAX_JITTER_US] (10 s; scenarios allowed 1 s before the bounds were unified). */
    jitterUs: jitterUsSchema,
    /**
     * At most 0.5: a scenario rule, stricter than a link's loss rate in [0, 1] (sim/fault-limits.ts,
     * what fault plans and the simulator accept). Loss is not in the fault proxy's vocabulary.
     */
    lossRate: z.number().min(0).max(0.5),
    randomChunking: z.boolean(),
    partialWriteProbability: z.number().min(0).max(1),
    sendBufferBytes: z
      .number()
      .int()
      .min(1)
      .max(1 << 24),
    recvBufferBytes: z
      .number()
      .int()
      .min(1)
      .max(1 << 24),
  }),
  /** A fault plan (sim/FAULTS.md) over this scenario's host names. */
  faults: z.unknown(),
  /** Faults may act during [0, faultPhaseUs); then every fault heals. */
  faultPhaseUs: us(MAX_US),
  /** After healing, the system must converge within this bound (the liveness phase). */
  livenessUs: z.number().int().min(1).max(MAX_US),
  /** Ids of the checks to evaluate (the stack's checks and the engine's). */
  checks: z.array(z.string().min(1)).min(1).max(64),
});

/** The keys of the envelope: a stack's own fields are the others. */
export const ENVELOPE_KEYS: readonly string[] = Object.keys(envelopeSchema.shape);

type ParsedEnvelope = z.infer<typeof envelopeSchema>;

/** A parsed scenario as the engine sees it: the envelope (a stack's scenario type extends it). */
export interface Scenario {
  version: typeof SCENARIO_VERSION;
  stack: string;
  name: string;
  impl: string;
  hosts: string[];
  network: ParsedEnvelope['network'];
  faults: FaultPlan;
  faultPhaseUs: number;
  livenessUs: number;
  checks: string[];
}

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
  readonly code = 'ERR_BAD_SCENARIO';
}

export function pathText(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '(root)';
  return path
    .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
    .join('')
    .replace(/^\./, '');
}

/** Throws a ScenarioError for the first issue of a failed zod parse, naming its JSON path. */
export function zodFail(error: z.ZodError, prefix: readonly PropertyKey[] = []): never {
  const issue = error.issues[0]!;
  throw new ScenarioError(`scenario ${pathText([...prefix, ...issue.path])}: ${issue.message}`);
}

/**
 * Validates the envelope of a scenario: the fields above, host names unique, the fault plan valid and
 * naming declared hosts, a uniform latency's bounds in order. Errors name the JSON path of the first
 * bad field and what it accepts. Returns the envelope alone (a stack parses its fields from `json`).
 */
export function parseEnvelope(json: unknown): Scenario {
  return parseEnvelopeFaults(parseEnvelopeFields(json));
}

/**
 * The first half of parseEnvelope: the fields and unique host names, the fault plan left unparsed
 * (`faults` holds the JSON as given). A stack's fields are checked between the two halves, so the
 * first error reported is the same whichever half would also find one.
 */
export function parseEnvelopeFields(json: unknown): Scenario {
  if (
    typeof json === 'object' &&
    json !== null &&
    (json as { version?: unknown }).version === 1 &&
    !('stack' in json)
  )
    throw new ScenarioError(
      `scenario version: this scenario has version 1 (before stacks); this netlab reads version ${SCENARIO_VERSION}, which names its stack (add "stack": "sp" and set "version": ${SCENARIO_VERSION})`,
    );
  const r = envelopeSchema.safeParse(json);
  if (!r.success) zodFail(r.error);
  const d = r.data;
  const hosts = new Set<string>();
  d.hosts.forEach((h, i) => {
    if (hosts.has(h)) throw new ScenarioError(`scenario hosts[${i}]: duplicate host name '${h}'`);
    hosts.add(h);
  });
  return {
    version: d.version,
    stack: d.stack,
    name: d.name,
    impl: d.impl,
    hosts: d.hosts,
    network: d.network,
    faults: d.faults as FaultPlan,
    faultPhaseUs: d.faultPhaseUs,
    livenessUs: d.livenessUs,
    checks: d.checks,
  };
}

/** The second half of parseEnvelope: the fault plan parsed and naming declared hosts; the latency bounds. */
export function parseEnvelopeFaults<S extends Scenario>(scenario: S): S {
  const fail = (path: string, why: string): never => {
    throw new ScenarioError(`scenario ${path}: ${why}`);
  };
  let faults: FaultPlan;
  try {
    faults = parseFaultPlan(scenario.faults);
  } catch (e) {
    throw new ScenarioError(`scenario faults: ${(e as Error).message}`);
  }
  // A scenario always runs on the simulator (and maybe on real sockets too): no proxy-only faults.
  const unsupported = simulatorUnsupported(faults);
  if (unsupported !== undefined) fail('faults', unsupported);
  for (const h of faultHosts(faults)) {
    if (!scenario.hosts.includes(h))
      fail('faults', `a fault names unknown host '${h}' (declared: ${scenario.hosts.join(', ')})`);
  }
  return { ...scenario, faults };
}

/** The fields of `json` that are not the envelope's: what a stack parses. */
export function stackFields(json: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(json)) if (!ENVELOPE_KEYS.includes(k)) out[k] = v;
  return out;
}

function faultHosts(plan: FaultPlan): string[] {
  const out: string[] = [];
  for (const f of plan.faults) {
    const r = f as unknown as Record<string, unknown>;
    for (const k of ['host', 'from', 'to']) if (typeof r[k] === 'string') out.push(r[k]);
    for (const k of ['a', 'b']) if (Array.isArray(r[k])) out.push(...(r[k] as string[]));
    const conn = r.conn as Record<string, unknown> | undefined;
    if (typeof conn === 'object')
      for (const k of ['client', 'server']) if (typeof conn[k] === 'string') out.push(conn[k]);
  }
  return out;
}
