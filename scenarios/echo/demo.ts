/**
 * The lab demo (until the scenario engine lands): echo clients on several simulated hosts talk to
 * one echo server over a lossy, jittery network with random segmentation and short writes, while a
 * fault plan partitions, pauses, stalls and resets things (or, with `swarm`, a plan drawn from the
 * seed). Every session either echoes every byte intact or fails with a typed network error; a
 * session whose replies differ from what it sent is a finding. Same seed, same trace hash.
 * Isomorphic: no Node APIs, so the browser viewer can run it too.
 */
import { runEchoClient, startEchoServer } from '../../impl/echo/echo.js';
import type { Env } from '../../impl/runtime/env.js';
import {
  applyFaultPlan,
  describeKnobs,
  drawSwarmPlan,
  parseFaultPlan,
  type FaultPlan,
  type FaultRecord,
} from '../../sim/fault-plan.js';
import { Network, type NetStats } from '../../sim/net.js';
import { RingSink, type TraceEvent } from '../../sim/trace.js';
import { World, type WorldMode } from '../../sim/world.js';

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
  /** Messages per session (default 6); sizes are drawn per session from 0 to 32 KiB. */
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
  net: NetStats;
  faults: FaultRecord[];
  /** The swarm's drawn knobs, printable; null when the plan was given. */
  swarmKnobs: string | null;
  trace: TraceEvent[];
  droppedTraceEvents: number;
}

const SERVER_ADDRESS = 'tcp://server:7000';
const SESSION_TIMEOUT_US = 20_000_000;
const RETRY_PAUSE_US = 250_000;

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const clients = options.clients ?? 4;
  const sessions = options.sessions ?? 12;
  const perSession = options.messagesPerSession ?? 6;
  const ring = new RingSink(options.traceCapacity ?? 200_000);
  const world = new World({ seed: options.seed, mode: options.mode ?? 'fast', trace: { sinks: [ring] } });
  const net = new Network(world, {
    link: {
      latency: { kind: 'uniform', minUs: 2000, maxUs: 8000 },
      jitterUs: 500,
      lossRate: options.lossRate ?? 0.01,
    },
    conn: { randomChunking: true, partialWriteProbability: 0.1, recvBufferBytes: 16384 },
  });
  const result = { sessionsOk: 0, sessionsFailed: 0, corrupted: 0, bytesEchoed: 0 };
  const errors: Record<string, number> = {};

  net.addHost('server', {
    boot: async (env) => {
      await startEchoServer(env, SERVER_ADDRESS);
    },
  });

  const clientMain = async (env: Env): Promise<void> => {
    const rng = env.random('sessions');
    await env.sleep(rng.int(10_000, 50_000)); // the server boots first
    for (let s = 0; s < sessions; s++) {
      const messages = Array.from({ length: perSession }, (_, i) => {
        const m = new Uint8Array(rng.int(0, 32 * 1024));
        for (let b = 0; b < m.length; b++) m[b] = (b * 7 + i * 13 + s) & 0xff;
        return m;
      });
      const outcome = await runEchoClient(env, SERVER_ADDRESS, messages, { timeoutUs: SESSION_TIMEOUT_US });
      // Whatever came back must be a prefix of what was sent, byte for byte, even when the session failed.
      const intact = outcome.replies.every(
        (r, i) => r.length === messages[i]!.length && r.every((x, j) => x === messages[i]![j]),
      );
      if (!intact) {
        result.corrupted++;
        env.trace({
          kind: 'error',
          code: 'CORRUPTED',
          message: `session ${s}: a reply differs from the message sent`,
        });
      }
      if (outcome.error === null && outcome.replies.length === messages.length) {
        result.sessionsOk++;
        result.bytesEchoed += messages.reduce((n, m) => n + m.length, 0);
      } else {
        result.sessionsFailed++;
        const code = outcome.error ?? 'INCOMPLETE';
        errors[code] = (errors[code] ?? 0) + 1;
        await env.sleep(RETRY_PAUSE_US);
      }
    }
  };
  const hostNames = ['server'];
  for (let c = 0; c < clients; c++) {
    hostNames.push(`client${c}`);
    net.addHost(`client${c}`, { boot: clientMain });
  }

  let plan = options.faultPlan ?? DEMO_FAULT_PLAN;
  let swarmKnobs: string | null = null;
  if (options.swarm === true) {
    const drawn = drawSwarmPlan(world.rng.fork('swarm'), hostNames);
    plan = drawn.plan;
    swarmKnobs = describeKnobs(drawn.knobs);
  }
  const applied = applyFaultPlan(net, plan);

  const run = await world.run({ maxEvents: 50_000_000 });
  world.close();
  return {
    seed: options.seed,
    traceHash: run.traceHash,
    events: world.eventsRun,
    virtualUs: run.nowUs,
    ...result,
    errors,
    net: { ...net.stats },
    faults: applied.records(),
    swarmKnobs,
    trace: ring.events(),
    droppedTraceEvents: ring.dropped,
  };
}
