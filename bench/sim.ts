/**
 * `netlab bench sim`: the scheduler's speed against its bare limit, measured in the same run.
 *
 * Baseline (bareEventsPerSec): the same event queue driven by a bare loop (pop, call, push), no
 * world, no promises: the ceiling of any scheduler on this queue. Scheduler (schedulerEventsPerSec):
 * the real World in fast mode on a workload where 1 in 10 events settles a promise an async function
 * awaits. Strict (strictEventsPerSec): the same workload yielding to the host after every event.
 */
import { performance } from 'node:perf_hooks';
import { EventQueue } from '../sim/event-queue.js';
import { Network } from '../sim/net.js';
import type { StreamConn } from '../sim/stream.js';
import { Rng } from '../sim/rng.js';
import { World, type Deferred, type WorldMode } from '../sim/world.js';

export interface SimBenchOptions {
  /** Events per measured run of the bare loop and the fast scheduler (default 2 000 000). */
  events?: number;
  /** Events per measured strict run (default 300 000: strict is ~10x slower). */
  strictEvents?: number;
  /** Measured repetitions; the best is reported (default 3). */
  repeats?: number;
  /** Virtual seconds of the network workload per measured run (default 20). */
  netVirtualSeconds?: number;
}

export interface SimBenchResult {
  bench: 'sim';
  workload: string;
  actors: number;
  events: number;
  strictEvents: number;
  repeats: number;
  bareEventsPerSec: number;
  schedulerEventsPerSec: number;
  strictEventsPerSec: number;
  /** schedulerEventsPerSec / bareEventsPerSec; the goal is >= 0.5. */
  ratioSchedulerToBare: number;
  goalRatioSchedulerToBare: number;
  netWorkload: string;
  /** World events per wall second on the network workload. Goals: >= 1.5 M and >= 0.3 x bareEventsPerSec. */
  netEventsPerSec: number;
  /** Completed echo round trips per wall second. */
  netRoundTripsPerWallSec: number;
  /** Virtual seconds simulated per wall second (goal >= 10). */
  virtualSecondsPerWallSecond: number;
  ratioNetToBare: number;
  netTraceEvents: number;
  netTraceHash: string;
  goals: {
    schedulerToBare: boolean;
    netEventsPerSec: boolean;
    netToBare: boolean;
    virtualSecondsPerWallSecond: boolean;
  };
  meetsGoal: boolean;
  nodeVersion: string;
}

const ACTORS = 1000;
const PLAIN_PER_SETTLE = 9; // 9 plain events, then 1 that settles a promise: 1 in 10
const DELAY_TABLE_SIZE = 4096;

/** Delays (us) drawn once from a seeded stream, shared by every variant so they do equal work. */
function delayTable(): Float64Array {
  const rng = new Rng('bench-sim').fork('delays');
  const t = new Float64Array(DELAY_TABLE_SIZE);
  for (let i = 0; i < t.length; i++) t[i] = rng.int(1, 1000);
  return t;
}

function bareRun(events: number, delays: Float64Array): number {
  const q = new EventQueue(1_000_000);
  let count = 0;
  let now = 0;
  const step = (arg: unknown): void => {
    count++;
    q.push(now + delays[count & (DELAY_TABLE_SIZE - 1)]!, step, arg);
  };
  for (let a = 0; a < ACTORS; a++) q.push(delays[a]!, step, a);
  const t0 = performance.now();
  while (count < events) {
    now = q.peekTime();
    const slot = q.pop();
    const fn = q.fnOf(slot);
    const arg = q.argOf(slot);
    q.release(slot);
    fn(arg);
  }
  return events / ((performance.now() - t0) / 1000);
}

interface ActorState {
  left: number;
  done: Deferred<void> | undefined;
}

async function worldRun(mode: WorldMode, events: number, delays: Float64Array): Promise<number> {
  const w = new World({ seed: 'bench-sim', mode, traceTimers: false });
  let count = 0;
  const step = (s: ActorState): void => {
    count++;
    if (s.left-- > 0) w.post(delays[count & (DELAY_TABLE_SIZE - 1)]!, step, s);
    else s.done?.resolve();
  };
  const actor = async (id: number): Promise<void> => {
    const s: ActorState = { left: 0, done: undefined };
    let first = true;
    while (count < events) {
      const d = w.defer<void>();
      s.left = PLAIN_PER_SETTLE;
      s.done = d;
      w.post(first ? delays[id]! : delays[count & (DELAY_TABLE_SIZE - 1)]!, step, s);
      first = false;
      await d.promise;
    }
  };
  for (let a = 0; a < ACTORS; a++) void actor(a);
  const t0 = performance.now();
  const r = await w.run({ maxEvents: events });
  const seconds = (performance.now() - t0) / 1000;
  return r.events / seconds;
}

const NET_CONNECTIONS = 100;
const NET_CLIENT_HOSTS = 10;
const NET_MESSAGE_BYTES = 64;

interface NetRunResult {
  events: number;
  roundTrips: number;
  wallSeconds: number;
  virtualSeconds: number;
  traceEvents: number;
  traceHash: string;
}

/**
 * 100 connections (10 client hosts x 10) to one echo server, each echoing 64-byte messages back to
 * back; 5 ms +- 1 ms one-way latency, 1 % segment loss, random chunking, partial writes, trace
 * hashing on. Clients loop over partial writes and reassemble split replies.
 */
export async function netRun(virtualSeconds: number): Promise<NetRunResult> {
  const world = new World({ seed: 'bench-net' });
  const net = new Network(world, {
    link: { latency: { kind: 'uniform', minUs: 4000, maxUs: 6000 }, lossRate: 0.01 },
    conn: { randomChunking: true, mssBytes: 1460, partialWriteProbability: 0.05 },
  });
  let roundTrips = 0;
  /** Writes all of `bytes`, continuing on onWritable after short writes. */
  const sender = (conn: StreamConn) => {
    const pending: Uint8Array[] = [];
    const flush = (): void => {
      while (pending.length > 0) {
        const head = pending[0]!;
        const n = conn.write(head);
        if (n < head.length) {
          pending[0] = head.subarray(n);
          return;
        }
        pending.shift();
      }
    };
    return {
      send(bytes: Uint8Array): void {
        pending.push(bytes);
        if (pending.length === 1) flush();
      },
      flush,
    };
  };
  net.addHost('server', {
    boot: (env) =>
      env.listen(
        'tcp://server:7000',
        (conn) => {
          const out = sender(conn);
          conn.setHandlers({ onData: (b) => out.send(b), onWritable: out.flush });
        },
        (err) => {
          if (err) throw err;
        },
      ),
  });
  const message = new Uint8Array(NET_MESSAGE_BYTES).fill(7);
  for (let h = 0; h < NET_CLIENT_HOSTS; h++) {
    net.addHost(`client${h}`, {
      boot: (env) => {
        for (let c = 0; c < NET_CONNECTIONS / NET_CLIENT_HOSTS; c++) {
          env.connect('tcp://server:7000', (err, conn) => {
            if (err || conn === undefined) throw err ?? new Error('no connection');
            const out = sender(conn);
            let received = 0;
            conn.setHandlers({
              onData: (b) => {
                received += b.length;
                while (received >= NET_MESSAGE_BYTES) {
                  received -= NET_MESSAGE_BYTES;
                  roundTrips++;
                  out.send(message);
                }
              },
              onWritable: out.flush,
            });
            out.send(message);
          });
        }
      },
    });
  }
  const t0 = performance.now();
  const r = await world.run({ untilUs: virtualSeconds * 1_000_000 });
  const wallSeconds = (performance.now() - t0) / 1000;
  return {
    events: r.events,
    roundTrips,
    wallSeconds,
    virtualSeconds,
    traceEvents: world.trace.count,
    traceHash: r.traceHash,
  };
}

export async function runSimBench(options: SimBenchOptions = {}): Promise<SimBenchResult> {
  const events = options.events ?? 2_000_000;
  const strictEvents = options.strictEvents ?? 300_000;
  const repeats = options.repeats ?? 3;
  const netVirtualSeconds = options.netVirtualSeconds ?? 20;
  const delays = delayTable();
  // Warm up every path so the JIT has compiled them before anything is timed.
  bareRun(200_000, delays);
  await worldRun('fast', 200_000, delays);
  await worldRun('strict', 20_000, delays);
  await netRun(1);
  let bare = 0;
  let fast = 0;
  let strict = 0;
  let bestNet: NetRunResult | undefined;
  // Interleave the variants so a slow patch of the machine hits all of them alike.
  for (let i = 0; i < repeats; i++) {
    bare = Math.max(bare, bareRun(events, delays));
    fast = Math.max(fast, await worldRun('fast', events, delays));
    strict = Math.max(strict, await worldRun('strict', strictEvents, delays));
    const n = await netRun(netVirtualSeconds);
    if (bestNet === undefined || n.wallSeconds < bestNet.wallSeconds) bestNet = n;
  }
  const ratio = fast / bare;
  const netRes = bestNet!;
  const netEventsPerSec = netRes.events / netRes.wallSeconds;
  const virtualSecondsPerWallSecond = netRes.virtualSeconds / netRes.wallSeconds;
  const goals = {
    schedulerToBare: ratio >= 0.5,
    netEventsPerSec: netEventsPerSec >= 1_500_000,
    netToBare: netEventsPerSec >= 0.3 * bare,
    virtualSecondsPerWallSecond: virtualSecondsPerWallSecond >= 10,
  };
  return {
    bench: 'sim',
    workload:
      `${ACTORS} async actors; each awaits a world-settled promise after every ${PLAIN_PER_SETTLE} plain ` +
      `callback events (1 in ${PLAIN_PER_SETTLE + 1} events settles a promise); delays 1-1000 us from a seeded ` +
      `table; trace hashing on, timer tracing off; best of ${repeats}`,
    actors: ACTORS,
    events,
    strictEvents,
    repeats,
    bareEventsPerSec: Math.round(bare),
    schedulerEventsPerSec: Math.round(fast),
    strictEventsPerSec: Math.round(strict),
    ratioSchedulerToBare: Number(ratio.toFixed(3)),
    goalRatioSchedulerToBare: 0.5,
    netWorkload:
      `${NET_CONNECTIONS} connections (${NET_CLIENT_HOSTS} client hosts) echoing ${NET_MESSAGE_BYTES}-byte messages back to back ` +
      `through one server; latency uniform 4-6 ms one way, 1% segment loss, random chunking (mss 1460), ` +
      `5% partial writes, trace hashing on; ${netVirtualSeconds} virtual s per run; best of ${repeats}`,
    netEventsPerSec: Math.round(netEventsPerSec),
    netRoundTripsPerWallSec: Math.round(netRes.roundTrips / netRes.wallSeconds),
    virtualSecondsPerWallSecond: Number(virtualSecondsPerWallSecond.toFixed(2)),
    ratioNetToBare: Number((netEventsPerSec / bare).toFixed(3)),
    netTraceEvents: netRes.traceEvents,
    netTraceHash: netRes.traceHash,
    goals,
    meetsGoal: Object.values(goals).every(Boolean),
    nodeVersion: process.version,
  };
}
