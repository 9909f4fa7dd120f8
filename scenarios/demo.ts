/**
 * The lab demo (until the scenario engine lands): clients send requests to a server over simulated
 * one-way links with seeded latency and loss; a client that gets no reply within its timeout resends.
 * It exercises the scheduler end to end (timers, async bodies awaiting world-settled promises, forked
 * random streams, the trace) and is deterministic: the same seed gives the same trace hash.
 * Isomorphic: no Node APIs, so the browser viewer can run it too.
 */
import { RingSink, type TraceEvent } from '../sim/trace.js';
import { World, type WorldMode } from '../sim/world.js';

export interface DemoOptions {
  seed: string;
  /** Number of clients (default 4). */
  clients?: number;
  /** Requests per client (default 25). */
  requestsPerClient?: number;
  /** Probability that a one-way message is lost (default 0.05). */
  lossRate?: number;
  /** Mean one-way latency in microseconds (default 5000); latency is min + exponential tail. */
  latencyMeanUs?: number;
  /** Client resend timeout in microseconds (default 30000). */
  timeoutUs?: number;
  /** Resends per request before the client gives up (default 5). */
  maxResends?: number;
  mode?: WorldMode;
  /** Trace events kept in memory for the caller (default 100 000). */
  traceCapacity?: number;
}

export interface DemoResult {
  seed: string;
  traceHash: string;
  events: number;
  virtualUs: number;
  sent: number;
  lost: number;
  resends: number;
  completed: number;
  failed: number;
  latencyUs: { p50: number; p90: number; max: number };
  trace: TraceEvent[];
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

export async function runDemo(options: DemoOptions): Promise<DemoResult> {
  const clients = options.clients ?? 4;
  const perClient = options.requestsPerClient ?? 25;
  const lossRate = options.lossRate ?? 0.05;
  const meanUs = options.latencyMeanUs ?? 5000;
  const timeoutUs = options.timeoutUs ?? 30_000;
  const maxResends = options.maxResends ?? 5;
  const ring = new RingSink(options.traceCapacity ?? 100_000);
  const world = new World({ seed: options.seed, mode: options.mode ?? 'fast', trace: { sinks: [ring] } });
  const stats = { sent: 0, lost: 0, resends: 0, completed: 0, failed: 0 };
  const latencies: number[] = [];

  /** One-way link: loss and latency drawn per message from the link's keyed stream. */
  const link = (from: string, to: string) => {
    const fate = world.rng.keyed(`link:${from}>${to}`);
    let index = 0;
    return (msg: string, deliver: () => void): void => {
      const i = index++;
      stats.sent++;
      world.trace.emit({ kind: 'msg-send', host: from, proto: 'demo', msg, bytes: msg.length, fields: [] });
      if (fate.unit(i, 0) < lossRate) {
        stats.lost++;
        world.trace.emit({ kind: 'note', host: from, text: `lost ${msg}` });
        return;
      }
      const latency = Math.round(meanUs / 2 - (meanUs / 2) * Math.log(1 - fate.unit(i, 1)));
      world.post(
        latency,
        () => {
          world.trace.emit({ kind: 'msg-recv', host: to, proto: 'demo', msg, bytes: msg.length, fields: [] });
          deliver();
        },
        undefined,
      );
    };
  };

  const replyWaiters = new Map<string, () => void>();
  for (let c = 0; c < clients; c++) {
    const name = `client${c}`;
    const toServer = link(name, 'server');
    const toClient = link('server', name);
    const serverRng = world.rng.fork(`server-work:${name}`);
    const clientRng = world.rng.fork(`client:${name}`);
    const handle = (id: string): void => {
      // The server takes a little virtual time per request before replying.
      world.post(
        serverRng.int(100, 900),
        () => toClient(`rep ${id}`, () => replyWaiters.get(id)?.()),
        undefined,
      );
    };
    world.post(
      clientRng.int(0, 10_000),
      async () => {
        for (let r = 0; r < perClient; r++) {
          const id = `${name}#${r}`;
          const startedUs = world.nowUs;
          let done = false;
          for (let attempt = 0; attempt <= maxResends && !done; attempt++) {
            if (attempt > 0) stats.resends++;
            const reply = world.defer<boolean>();
            replyWaiters.set(id, () => reply.resolve(true));
            const timer = world.setTimer(timeoutUs, () => reply.resolve(false), {
              host: name,
              label: 'resend',
            });
            toServer(`req ${id}${attempt > 0 ? ` (resend ${attempt})` : ''}`, () => handle(id));
            done = await reply.promise;
            world.clearTimer(timer);
          }
          replyWaiters.delete(id);
          if (done) {
            stats.completed++;
            latencies.push(world.nowUs - startedUs);
          } else {
            stats.failed++;
            world.trace.emit({ kind: 'error', host: name, code: 'GAVE_UP', message: `${id} unanswered` });
          }
          await world.sleep(clientRng.int(500, 3000));
        }
      },
      undefined,
    );
  }

  const run = await world.run({ maxEvents: 10_000_000 });
  world.close();
  latencies.sort((a, b) => a - b);
  return {
    seed: options.seed,
    traceHash: run.traceHash,
    events: world.eventsRun,
    virtualUs: run.nowUs,
    ...stats,
    latencyUs: {
      p50: percentile(latencies, 0.5),
      p90: percentile(latencies, 0.9),
      max: latencies.at(-1) ?? 0,
    },
    trace: ring.events(),
  };
}
