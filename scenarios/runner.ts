/**
 * The scenario runner: builds a simulated world from a scenario and a simSeed, runs the workload
 * under the fault plan, heals every fault at the end of the fault phase, gives the system the
 * liveness phase to converge, and evaluates the checks. Isomorphic (no Node APIs): the browser
 * viewer reruns scenarios with it.
 */
import type { Env } from '../impl/runtime/env.js';
import type { Socket, SocketOptions } from '../impl/sp/core/socket.js';
import { openPair0 } from '../impl/sp/protocol/pair0.js';
import { openRep0 } from '../impl/sp/protocol/rep0.js';
import { openReq0 } from '../impl/sp/protocol/req0.js';
import { applyFaultPlan, type FaultRecord } from '../sim/fault-plan.js';
import { Network, type NetStats } from '../sim/net.js';
import { RingSink, type TraceEvent } from '../sim/trace.js';
import { World } from '../sim/world.js';
import { evaluateChecks, type CheckResult, type Observations } from './checks.js';
import type { Scenario } from './model.js';

/** Replaces parts of the stack for a named implementation (the bug museum registers variants here). */
export type ImplVariant = (socket: 'client' | 'server') => Partial<SocketOptions>;

const IMPLS = new Map<string, ImplVariant>([['netlab', () => ({})]]);

export function registerImpl(name: string, variant: ImplVariant): void {
  IMPLS.set(name, variant);
}

export function implNames(): string[] {
  return [...IMPLS.keys()];
}

export interface RunOptions {
  /** Keep the last N trace events for the caller (default 0: hash only). */
  traceCapacity?: number;
  /** Bound on events per run (default 5 000 000). */
  maxEvents?: number;
}

export interface ScenarioResult {
  traceHash: string;
  events: number;
  virtualUs: number;
  observations: Observations;
  checks: CheckResult[];
  faults: FaultRecord[];
  trace: TraceEvent[];
  /** Network totals: segments, retransmissions, partial writes, resets... (for "sometimes" coverage). */
  net: NetStats;
  /** True when every check passed. */
  ok: boolean;
}

/** Deterministic payload of message i: its content names its index, so corruption and reordering show. */
export function payload(index: number, bytes: number): Uint8Array {
  const b = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) b[i] = (index * 131 + i * 7 + (i >>> 8)) & 0xff;
  return b;
}

export async function runScenario(
  scenario: Scenario,
  simSeed: string,
  options: RunOptions = {},
): Promise<ScenarioResult> {
  const variant = IMPLS.get(scenario.impl);
  if (variant === undefined)
    throw new Error(`unknown implementation '${scenario.impl}' (known: ${implNames().join(', ')})`);
  const ring = (options.traceCapacity ?? 0) > 0 ? new RingSink(options.traceCapacity) : undefined;
  const world = new World({ seed: simSeed, trace: ring ? { sinks: [ring] } : {} });
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
  const obs: Observations = {
    sent: [],
    accepted: [],
    received: [],
    replies: [],
    errors: [],
    completedAtUs: null,
  };
  const address = 'tcp://server:5555';
  const listenAddress = address;
  const sizes = scenario.workload.messageBytes;
  const common = { 'RECONNECT-TIME': 50_000, 'DIAL-ASYNCH': true, 'MAX-RCV-SIZE': 0 } as const;

  const serverBoot = async (env: Env): Promise<void> => {
    const opts = variant('server');
    if (scenario.protocol === 'pair0') {
      const s = openPair0(env, { ...opts, options: { ...common } });
      await s.listen(listenAddress);
      for (;;) obs.received.push(await s.recv());
    } else {
      const s = openRep0(env, { ...opts, options: { ...common } });
      await s.listen(listenAddress);
      for (;;) {
        const req = await s.recv();
        obs.received.push(req);
        await s.send(req);
      }
    }
  };
  const clientBoot = async (env: Env): Promise<void> => {
    const opts = variant('client');
    let s: Socket;
    if (scenario.protocol === 'pair0') {
      s = openPair0(env, { ...opts, options: { ...common } });
    } else {
      s = openReq0(env, { ...opts, options: { ...common, 'RETRY-TIME': 1_000_000 } });
    }
    await s.dial(address);
    for (let i = 0; i < sizes.length; i++) {
      const m = payload(i, sizes[i]!);
      obs.sent.push(m);
      try {
        await s.send(m);
        obs.accepted.push(i);
        if (scenario.protocol === 'reqrep') obs.replies.push({ index: i, reply: await s.recv() });
      } catch (e) {
        obs.errors.push(`${i}: ${(e as Error).message}`);
      }
    }
    obs.completedAtUs = env.nowUs();
  };

  net.addHost('server', { boot: serverBoot });
  net.addHost('client', { boot: clientBoot });
  const applied = applyFaultPlan(net, scenario.faults);
  applied.healAllAt(scenario.faultPhaseUs);
  const endUs = scenario.faultPhaseUs + scenario.livenessUs;
  const run = await world.run({ untilUs: endUs, maxEvents: options.maxEvents ?? 5_000_000 });
  const checks = evaluateChecks(scenario, obs, {
    endUs,
    healedAtUs: scenario.faultPhaseUs,
    faults: applied.records(),
    reason: run.reason,
  });
  return {
    traceHash: run.traceHash,
    events: world.eventsRun,
    virtualUs: run.nowUs,
    observations: obs,
    checks,
    faults: applied.records(),
    trace: ring?.events() ?? [],
    net: { ...net.stats },
    ok: checks.every((c) => c.status !== 'fail'),
  };
}
