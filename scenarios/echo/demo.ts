/**
 * The lab demo (`netlab demo`), as a scenario of the echo stack run by the engine's runner: echo
 * clients on several simulated hosts run one-shot sessions against one echo server over a lossy,
 * jittery network with random segmentation and short writes, while a fault plan partitions, pauses,
 * stalls and resets things (or, with `swarm`, a plan drawn from the seed). Every session either
 * echoes every byte intact or fails with a typed network error; a reply that differs from what was
 * sent is a finding, and so is any echo check that fails. Same seed, same trace hash.
 * Isomorphic: no Node APIs, so the browser viewer can run it too.
 */
import {
  describeKnobs,
  drawSwarmPlan,
  parseFaultPlan,
  type FaultPlan,
  type FaultRecord,
  type FaultStep,
} from '../../sim/fault-plan.js';
import type { NetStats } from '../../sim/net.js';
import { Rng } from '../../sim/rng.js';
import { RingSink, type TraceEvent } from '../../sim/trace.js';
import type { WorldMode } from '../../sim/world.js';
import type { CheckResult } from '../checks.js';
import { MAX_US } from '../model.js';
import { runScenario } from '../runner.js';
import { ECHO_STACK, SCENARIO_VERSION, type ClientSpec, type EchoScenario } from './model.js';
import { echoCore, parseEchoScenario } from './run.js';

/** The documented default plan: one fault of most kinds, spread over the first five virtual seconds. */
export const DEMO_FAULT_PLAN: FaultPlan = parseFaultPlan({
  version: 1,
  faults: [
    { at: '300ms', kind: 'partition', a: ['client1'], b: ['server'], for: '800ms' },
    { at: '1500ms', kind: 'link', from: 'client2', to: 'server', set: { lossRate: 0.2 }, for: '1s' },
    { at: '2s', kind: 'pause', host: 'server', for: '300ms' },
    { at: '3s', kind: 'stall-reads', conn: 'all', side: 'server', for: '250ms' },
    { at: '4s', kind: 'reset', conn: { client: 'client0' } },
  ],
});

export interface DemoOptions {
  seed: string;
  /** Client hosts (default 4). */
  clients?: number;
  /** Echo sessions per client (default 12). */
  sessions?: number;
  /** Messages per session (default 6); sizes are drawn per message from 0 to 32 KiB. */
  messagesPerSession?: number;
  /** One-way segment loss on every link (default 0.01). */
  lossRate?: number;
  /** The fault plan (default DEMO_FAULT_PLAN); ignored with swarm. */
  faultPlan?: FaultPlan;
  /** Draw the fault plan from the seed instead (TigerBeetle-style swarm). */
  swarm?: boolean;
  mode?: WorldMode;
  /** Trace events kept in memory for the caller (default 200 000; older ones are dropped). */
  traceCapacity?: number;
}

export interface DemoResult {
  seed: string;
  traceHash: string;
  events: number;
  virtualUs: number;
  sessionsOk: number;
  sessionsFailed: number;
  /** Failed sessions by error code. */
  errors: Record<string, number>;
  /** Sessions whose replies differed from the messages: a finding (must be 0). */
  corrupted: number;
  bytesEchoed: number;
  /** The echo checks of the demo scenario that failed (a finding; must be empty). */
  failedChecks: CheckResult[];
  net: NetStats;
  faults: FaultRecord[];
  /** The swarm's drawn knobs, printable; null when the plan was given. */
  swarmKnobs: string | null;
  trace: TraceEvent[];
  droppedTraceEvents: number;
}

const SERVER_ADDRESS = 'tcp://server:7000';
/** A session gives up after this long (ETIMEDOUT). */
const SESSION_TIMEOUT_US = 20_000_000;
/** Pause after a failed session before the next one. */
const RETRY_PAUSE_US = 250_000;
const MAX_MESSAGE_BYTES = 32 * 1024;

/** Hosts a fault step names. */
function stepHosts(step: FaultStep): string[] {
  const r = step as unknown as Record<string, unknown>;
  const out: string[] = [];
  for (const k of ['host', 'from', 'to']) if (typeof r[k] === 'string') out.push(r[k]);
  for (const k of ['a', 'b', 'hosts']) if (Array.isArray(r[k])) out.push(...(r[k] as string[]));
  const conn = r.conn as Record<string, unknown> | undefined;
  if (typeof conn === 'object')
    for (const k of ['client', 'server']) if (typeof conn[k] === 'string') out.push(conn[k]);
  return out;
}

/** When the last step of a plan is over (its start plus how long it lasts), in µs. */
export function planEndUs(plan: FaultPlan): number {
  let end = 0;
  for (const f of plan.faults) {
    const r = f as unknown as Record<string, unknown>;
    const num = (k: string): number => (typeof r[k] === 'number' ? r[k] : 0);
    const hosts = Array.isArray(r.hosts) ? r.hosts.length : 0;
    end = Math.max(end, f.atUs + num('forUs') + num('restartAfterUs') + 2 * num('stepUs') * hosts);
  }
  return end;
}

/**
 * The demo as an echo scenario: sizes and start times drawn from the seed (each client from its own
 * fork, so adding a client leaves the others' draws alone), the fault plan given or drawn.
 */
export function demoScenario(options: DemoOptions): { scenario: EchoScenario; swarmKnobs: string | null } {
  const clients = options.clients ?? 4;
  const sessions = options.sessions ?? 12;
  const perSession = options.messagesPerSession ?? 6;
  const root = new Rng(options.seed);
  const hosts = ['server', ...Array.from({ length: clients }, (_, c) => `client${c}`)];
  const clientSpecs = hosts.slice(1).map((host): ClientSpec => {
    const rng = root.fork(`demo/${host}`);
    return {
      name: host,
      host,
      connect: SERVER_ADDRESS,
      mode: 'sessions',
      options: { sessionMessages: perSession, timeoutUs: SESSION_TIMEOUT_US, retryPauseUs: RETRY_PAUSE_US },
      // The server boots first.
      startUs: rng.int(10_000, 50_000),
      messages: Array.from({ length: sessions * perSession }, () => ({
        bytes: rng.int(0, MAX_MESSAGE_BYTES),
        gapUs: 0,
      })),
    };
  });
  // The built-in plan names client0..client2: with fewer clients, the steps on missing hosts go.
  let plan = options.faultPlan ?? {
    version: 1 as const,
    faults: DEMO_FAULT_PLAN.faults.filter((f) => stepHosts(f).every((h) => hosts.includes(h))),
  };
  let swarmKnobs: string | null = null;
  if (options.swarm === true) {
    const drawn = drawSwarmPlan(root.fork('swarm'), hosts);
    plan = drawn.plan;
    swarmKnobs = describeKnobs(drawn.knobs);
  }
  const faultPhaseUs = Math.min(MAX_US, planEndUs(plan) + 1);
  const scenario = parseEchoScenario({
    version: SCENARIO_VERSION,
    stack: ECHO_STACK,
    name: options.swarm === true ? 'demo-swarm' : 'demo',
    impl: 'netlab',
    hosts,
    servers: [{ name: 'server', host: 'server', listen: SERVER_ADDRESS }],
    clients: clientSpecs,
    network: {
      latency: { kind: 'uniform', minUs: 2000, maxUs: 8000 },
      jitterUs: 500,
      lossRate: options.lossRate ?? 0.01,
      randomChunking: true,
      partialWriteProbability: 0.1,
      sendBufferBytes: 65536,
      recvBufferBytes: 16384,
    },
    faults: plan,
    faultPhaseUs,
    // The run ends when every session is over (the world goes idle), long before this.
    livenessUs: MAX_US,
    checks: [
      'stack.no-crash',
      'echo.replies-intact-in-order',
      'echo.no-protocol-error',
      'echo.bounded-memory',
      'echo.sessions-fail-typed',
    ],
  });
  return { scenario, swarmKnobs };
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const { scenario, swarmKnobs } = demoScenario(options);
  const ring = new RingSink(options.traceCapacity ?? 200_000);
  const run = await runScenario(echoCore, scenario, options.seed, {
    mode: options.mode ?? 'fast',
    sinks: [ring],
    maxEvents: 50_000_000,
  });
  let sessionsOk = 0;
  let sessionsFailed = 0;
  let corrupted = 0;
  let bytesEchoed = 0;
  const errors: Record<string, number> = {};
  for (const c of scenario.clients) {
    const o = run.observations.clients[c.name]!;
    for (const s of o.sessions) {
      if (s.endUs === null) continue;
      const replies = o.replies.filter((r) => r.session === s.index);
      if (replies.some((r) => !r.intact)) corrupted++;
      if (s.error === null && s.replies === s.end - s.first) {
        sessionsOk++;
        for (let i = s.first; i < s.end; i++) bytesEchoed += c.messages[i]!.bytes;
      } else {
        sessionsFailed++;
        const code = s.error ?? 'INCOMPLETE';
        errors[code] = (errors[code] ?? 0) + 1;
      }
    }
  }
  const trace = ring.events();
  return {
    seed: options.seed,
    traceHash: run.traceHash,
    events: run.events,
    // The runner's clock reads the scenario's end once the world is idle: the last event is when
    // the demo really ended.
    virtualUs: trace.at(-1)?.tUs ?? run.virtualUs,
    sessionsOk,
    sessionsFailed,
    errors,
    corrupted,
    bytesEchoed,
    failedChecks: run.checks.filter((c) => c.status === 'fail'),
    net: run.net,
    faults: run.faults,
    swarmKnobs,
    trace,
    droppedTraceEvents: ring.dropped,
  };
}
