/**
 * The scenario runner, stack-neutral: builds a substrate from a scenario and a simSeed (the simulated
 * network, or real loopback sockets), asks the scenario's stack to boot its actors on each host,
 * applies the fault plan, runs the fault phase, heals every fault, gives the system the liveness
 * phase to converge, and evaluates the checks on what the actors observed. Its phases are separate
 * functions: build, faults, run, check. On the simulated network the check phase also judges the
 * simulator's self-checks (sim.time-monotonic, sim.bytes-conserved), after the scenario's own.
 * Isomorphic (no Node APIs): the browser viewer reruns scenarios with it.
 */
import type { Env } from '../impl/runtime/env.js';
import { applyFaultPlan, type FaultRecord } from '../sim/fault-plan.js';
import { Network, type NetStats } from '../sim/net.js';
import { RingSink, type TraceEvent, type TraceSink } from '../sim/trace.js';
import { World, type WorldMode } from '../sim/world.js';
import { evaluateChecks, evaluateImplicitChecks, LOSSY_FAULTS } from './checks.js';
import type { Scenario } from './model.js';
import type { AnyStackCore, CheckContext, CheckResult, SimAudit, StackCore, StackRun } from './stack.js';

export interface RunOptions {
  /** Keep the last N trace events for the caller (default 0: hash only). */
  traceCapacity?: number;
  /** Bound on events per run (default 5 000 000). */
  maxEvents?: number;
  /** The simulator's scheduling mode (default 'fast'; 'strict' yields after every event, same hash). */
  mode?: WorldMode;
  /** More sinks for the simulated world's trace events (e.g. the caller's own ring or file writer). */
  sinks?: readonly TraceSink[];
}

/** Default bound on events per run. */
export const MAX_EVENTS_DEFAULT = 5_000_000;

export interface ScenarioResult<O = unknown> {
  traceHash: string;
  events: number;
  virtualUs: number;
  /** What the stack's actors recorded (the stack's observation type). */
  observations: O;
  /** An event threw: the stack under test crashed (the run stopped there), or null. */
  crash: string | null;
  /**
   * The scenario's checks in its order, then (simulated runs) the self-checks it does not name:
   * sim.time-monotonic, sim.bytes-conserved (checks.ts, SELF_CHECK_IDS).
   */
  checks: CheckResult[];
  faults: FaultRecord[];
  trace: TraceEvent[];
  /** Network totals: segments, retransmissions, partial writes, resets... (for "sometimes" coverage). */
  net: NetStats;
  /** True when every check passed. */
  ok: boolean;
}

/** How a substrate's run ended. */
export interface SubstrateRun {
  traceHash: string;
  /** Why it stopped ("until", "idle", "settled", "crash"...). */
  reason: string;
  /** The substrate's time when it stopped, in microseconds since the run began. */
  nowUs: number;
  events: number;
}

/**
 * Where a scenario runs: the simulated network (runScenario), or real loopback sockets through the
 * seeded fault proxy (scenarios/real/substrate.ts, Node only). The runner core is the same on both: it
 * adds the hosts, applies the fault plan and runs; the substrate owns time, addresses and faults.
 */
export interface ScenarioSubstrate {
  readonly runtime: 'sim' | 'real';
  /** Adds a host whose boot runs when it starts (and again after a simulated restart). */
  addHost(name: string, boot: (env: Env) => void): void;
  /** Applies the scenario's fault plan from now, every fault healed at `healAtUs`. */
  applyFaults(scenario: Scenario, healAtUs: number): { records(): FaultRecord[] };
  /**
   * Runs until `endUs`. A real substrate may stop earlier once `healedAtUs` has passed and
   * `activity()` (a counter of everything the actors record) has not moved for its quiet window.
   */
  run(o: {
    endUs: number;
    healedAtUs: number;
    maxEvents: number;
    activity: () => number;
    /** True once the workload is done and every connection the scenario wants is up. */
    settled: () => boolean;
  }): Promise<SubstrateRun>;
  /** The trace events kept (RunOptions.traceCapacity), oldest first. */
  trace(): TraceEvent[];
  /** Network totals (zeros where a substrate cannot see them). */
  netStats(): NetStats;
  /**
   * The simulator's own accounts at the end of the run (trace time, clock, bytes per connection
   * direction), which the self-checks judge; only a simulated substrate has them.
   */
  audit?(): SimAudit;
}

/** The simulated network as a substrate: one World, one Network, the scenario's network settings. */
export function simSubstrate(
  scenario: Scenario,
  simSeed: string,
  options: RunOptions = {},
): ScenarioSubstrate {
  const ring = (options.traceCapacity ?? 0) > 0 ? new RingSink(options.traceCapacity) : undefined;
  const sinks: TraceSink[] = [...(ring ? [ring] : []), ...(options.sinks ?? [])];
  const world = new World({
    seed: simSeed,
    ...(options.mode !== undefined ? { mode: options.mode } : {}),
    trace: sinks.length > 0 ? { sinks } : {},
  });
  const n = scenario.network;
  const net = new Network(world, {
    link: { latency: n.latency, jitterUs: n.jitterUs, lossRate: n.lossRate },
    conn: {
      randomChunking: n.randomChunking,
      partialWriteProbability: n.partialWriteProbability,
      sendBufferBytes: n.sendBufferBytes,
      recvBufferBytes: n.recvBufferBytes,
      maxRetransmits: 30, // loss alone should not reset connections within a scenario
    },
  });
  return {
    runtime: 'sim',
    addHost: (name, boot) => void net.addHost(name, { boot }),
    applyFaults(s, healAtUs) {
      const applied = applyFaultPlan(net, s.faults);
      applied.healAllAt(healAtUs);
      return applied;
    },
    async run({ endUs, maxEvents }) {
      try {
        // The bound is an event too: a run that stopped short of the events due exactly at its bound
        // would leave this one queued, and the scheduler's order audit (sim.events-in-order) says so.
        if (endUs >= world.nowUs) world.postAt(endUs, reachBound, undefined);
        const run = await world.run({ untilUs: endUs, maxEvents });
        return { traceHash: run.traceHash, reason: run.reason, nowUs: run.nowUs, events: world.eventsRun };
      } catch (e) {
        // The caller records the crash; what ran so far still has a hash.
        throw Object.assign(e instanceof Error ? e : new Error(String(e)), {
          substrateRun: {
            traceHash: world.trace.hash(),
            reason: 'crash',
            nowUs: world.nowUs,
            events: world.eventsRun,
          } satisfies SubstrateRun,
        });
      }
    },
    trace: () => ring?.events() ?? [],
    netStats: () => ({ ...net.stats }),
    audit: () => ({
      time: world.trace.timeAudit(),
      clockUs: world.nowUs,
      bytes: net.byteAudit(),
      events: world.eventAudit(),
      links: net.linkAudit(),
    }),
  };
}

/** The event at a run's bound: it does nothing but be due there (see simSubstrate's run). */
function reachBound(): void {
  return;
}

/** Runs a scenario of `stack` on the simulated network. */
export async function runScenario<S extends Scenario, O, C extends CheckContext>(
  stack: StackCore<S, O, C>,
  scenario: S,
  simSeed: string,
  options: RunOptions = {},
): Promise<ScenarioResult<O>> {
  return runScenarioOn(stack, scenario, simSubstrate(scenario, simSeed, options), options);
}

/** Runs a scenario of `stack` on a substrate (runScenario: the simulated network). */
export async function runScenarioOn<S extends Scenario, O, C extends CheckContext>(
  stack: StackCore<S, O, C>,
  scenario: S,
  substrate: ScenarioSubstrate,
  options: RunOptions = {},
): Promise<ScenarioResult<O>> {
  if (scenario.stack !== stack.id)
    throw new Error(`scenario '${scenario.name}' is for stack '${scenario.stack}', not '${stack.id}'`);
  const actors = buildPhase(stack, scenario, substrate);
  const applied = substrate.applyFaults(scenario, scenario.faultPhaseUs);
  const { run, crash } = await runPhase(scenario, substrate, actors, options);
  actors.finish(crash);
  return checkPhase(stack, scenario, substrate, actors, run, crash, applied.records());
}

/** Build: the stack's actors for the scenario's implementation, booted on every host. */
function buildPhase<S extends Scenario, O, C extends CheckContext>(
  stack: StackCore<S, O, C>,
  scenario: S,
  substrate: ScenarioSubstrate,
): StackRun<O, C> {
  const actors = stack.start(scenario, scenario.impl);
  for (const host of scenario.hosts) substrate.addHost(host, (env) => actors.boot(host, env));
  return actors;
}

/** Run: the fault phase, then the liveness phase; a crash of the stack ends the run where it is. */
async function runPhase<O, C extends CheckContext>(
  scenario: Scenario,
  substrate: ScenarioSubstrate,
  actors: StackRun<O, C>,
  options: RunOptions,
): Promise<{ run: SubstrateRun; crash: string | null }> {
  const endUs = scenario.faultPhaseUs + scenario.livenessUs;
  try {
    const run = await substrate.run({
      endUs,
      healedAtUs: scenario.faultPhaseUs,
      maxEvents: options.maxEvents ?? MAX_EVENTS_DEFAULT,
      activity: () => actors.activity(),
      settled: () => actors.settled(),
    });
    return { run, crash: null };
  } catch (e) {
    const partial = (e as { substrateRun?: SubstrateRun }).substrateRun;
    return {
      run: partial ?? { traceHash: '', reason: 'crash', nowUs: endUs, events: 0 },
      crash: (e as Error).message,
    };
  }
}

/**
 * Check: every check the scenario names, on the observations, in the stack's check context; then,
 * where the substrate keeps the simulator's accounts, the self-checks the scenario does not name.
 */
function checkPhase<S extends Scenario, O, C extends CheckContext>(
  stack: StackCore<S, O, C>,
  scenario: S,
  substrate: ScenarioSubstrate,
  actors: StackRun<O, C>,
  run: SubstrateRun,
  crash: string | null,
  faults: FaultRecord[],
): ScenarioResult<O> {
  const audit = substrate.audit?.();
  const base: CheckContext = {
    endUs: scenario.faultPhaseUs + scenario.livenessUs,
    healedAtUs: scenario.faultPhaseUs,
    faults,
    reason: run.reason,
    lossy: faults.some((f) => f.startUs !== null && LOSSY_FAULTS.has(f.kind)),
    runtime: substrate.runtime,
    crash,
    ...(actors.pending !== undefined ? { pending: actors.pending() } : {}),
    ...(audit !== undefined ? { sim: audit } : {}),
  };
  const ctx = actors.context(base);
  const checks = evaluateChecks(stack.checks(), scenario, actors.observations, ctx);
  checks.push(...evaluateImplicitChecks(scenario.checks, base, audit !== undefined, scenario.faults));
  return {
    traceHash: run.traceHash,
    events: run.events,
    virtualUs: run.nowUs,
    observations: actors.observations,
    crash,
    checks,
    faults,
    trace: substrate.trace(),
    net: substrate.netStats(),
    ok: checks.every((c) => c.status !== 'fail'),
  };
}

/** A stack of the registry by the scenario's `stack` field (errors name the known ones). */
export function stackFor<T extends AnyStackCore>(stacks: readonly T[], scenario: { stack: string }): T {
  const s = stacks.find((x) => x.id === scenario.stack);
  if (s === undefined)
    throw new Error(`unknown stack '${scenario.stack}' (known: ${stacks.map((x) => x.id).join(', ')})`);
  return s;
}
