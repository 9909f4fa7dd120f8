/**
 * The scenario model: plain data that fully describes one run (protocol, transport, workload,
 * network model, fault plan, timing), validated with zod so a case file read back from disk is
 * checked field by field. Isomorphic: the browser viewer replays the same data.
 */
import { z } from 'zod';
import { parseFaultPlan, type FaultPlan } from '../sim/fault-plan.js';

export const SCENARIO_VERSION = 1;

/** Implementation under test: netlab itself, or a planted historical bug (the museum swaps parts in). */
export type ImplName = string;

const latency = z.union([
  z.strictObject({ kind: z.literal('constant'), us: z.number().int().min(0).max(10_000_000) }),
  z.strictObject({
    kind: z.literal('uniform'),
    minUs: z.number().int().min(0).max(10_000_000),
    maxUs: z.number().int().min(0).max(10_000_000),
  }),
  z.strictObject({
    kind: z.literal('exponential'),
    minUs: z.number().int().min(0).max(10_000_000),
    meanUs: z.number().int().min(1).max(10_000_000),
  }),
]);

export const scenarioSchema = z.strictObject({
  version: z.literal(SCENARIO_VERSION),
  name: z.string().min(1),
  protocol: z.enum(['pair0', 'reqrep']),
  /** Only tcp so far: client and server are separate hosts, and ipc addresses are local to one. */
  transport: z.enum(['tcp']),
  impl: z.string().min(1),
  /** Message (or request) sizes in bytes, sent in order by the client. */
  workload: z.strictObject({
    messageBytes: z
      .array(
        z
          .number()
          .int()
          .min(0)
          .max(1 << 20),
      )
      .max(1000),
  }),
  network: z.strictObject({
    latency,
    jitterUs: z.number().int().min(0).max(1_000_000),
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
  /** A fault plan (sim/FAULTS.md); host names are "client" and "server". */
  faults: z.unknown(),
  /** Faults may act during [0, faultPhaseUs); then every fault heals. */
  faultPhaseUs: z.number().int().min(0).max(3_600_000_000),
  /** After healing, the system must converge within this bound (the liveness phase). */
  livenessUs: z.number().int().min(1).max(3_600_000_000),
});

export type Scenario = Omit<z.infer<typeof scenarioSchema>, 'faults'> & { faults: FaultPlan };

export class ScenarioError extends Error {
  override readonly name = 'ScenarioError';
  readonly code = 'ERR_BAD_SCENARIO';
}

/** Validates a scenario; errors name the JSON path of the first bad field and what it accepts. */
export function parseScenario(json: unknown): Scenario {
  const r = scenarioSchema.safeParse(json);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const path =
      issue.path.length === 0
        ? '(root)'
        : issue.path
            .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
            .join('')
            .replace(/^\./, '');
    throw new ScenarioError(`scenario ${path}: ${issue.message}`);
  }
  let faults: FaultPlan;
  try {
    faults = parseFaultPlan(r.data.faults);
  } catch (e) {
    throw new ScenarioError(`scenario faults: ${(e as Error).message}`);
  }
  if (
    r.data.network.latency.kind === 'uniform' &&
    r.data.network.latency.maxUs < r.data.network.latency.minUs
  ) {
    throw new ScenarioError('scenario network.latency.maxUs: must be >= minUs');
  }
  return { ...r.data, faults };
}
