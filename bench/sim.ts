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
import { Rng } from '../sim/rng.js';
import { World, type Deferred, type WorldMode } from '../sim/world.js';

export interface SimBenchOptions {
  /** Events per measured run of the bare loop and the fast scheduler (default 2 000 000). */
  events?: number;
  /** Events per measured strict run (default 300 000: strict is ~10x slower). */
  strictEvents?: number;
  /** Measured repetitions; the best is reported (default 3). */
  repeats?: number;
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

export async function runSimBench(options: SimBenchOptions = {}): Promise<SimBenchResult> {
  const events = options.events ?? 2_000_000;
  const strictEvents = options.strictEvents ?? 300_000;
  const repeats = options.repeats ?? 3;
  const delays = delayTable();
  // Warm up every path so the JIT has compiled them before anything is timed.
  bareRun(200_000, delays);
  await worldRun('fast', 200_000, delays);
  await worldRun('strict', 20_000, delays);
  let bare = 0;
  let fast = 0;
  let strict = 0;
  // Interleave the variants so a slow patch of the machine hits all of them alike.
  for (let i = 0; i < repeats; i++) {
    bare = Math.max(bare, bareRun(events, delays));
    fast = Math.max(fast, await worldRun('fast', events, delays));
    strict = Math.max(strict, await worldRun('strict', strictEvents, delays));
  }
  const ratio = fast / bare;
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
    meetsGoal: ratio >= 0.5,
    nodeVersion: process.version,
  };
}
