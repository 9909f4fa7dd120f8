/**
 * A model-based property of World's scheduling through its public API: setTimer, clearTimer, post
 * and postAt, from outside a run and from inside events (nested scheduling and cancelling), and runs
 * bounded by time, by event count, or to idle. The model is a plain list of pending events sorted
 * by (time, scheduling order). After every command: the callbacks that fired are exactly the model's,
 * in (time, scheduling order), each at its own time; a cleared timer never fires; the clock never
 * goes back (across runs too); the run's reason, clock, event count and pending count agree.
 *
 * Fixed seeds; on a failure fast-check prints the seed, the path and the shrunk command list.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { World, type Timer } from './world.js';

/** What a scheduled event does when it fires: schedule more, or clear a timer. */
type Op =
  | { kind: 'schedule'; via: 'timer' | 'post' | 'postAt'; delayUs: number; then: Op[] }
  | { kind: 'clear'; pick: number; stale: boolean };

function showOp(op: Op): string {
  if (op.kind === 'clear') return `clear(${op.pick}${op.stale ? ', stale' : ''})`;
  const then = op.then.length > 0 ? ` then [${op.then.map(showOp).join(', ')}]` : '';
  return `${op.via}(${op.delayUs})${then}`;
}

/** The delay the world uses: fractional delays round up (postAt takes integers only). */
const effectiveDelay = (op: { delayUs: number }): number => Math.ceil(op.delayUs);

interface Pending {
  t: number;
  order: number;
  id: number;
  timer: boolean;
  then: Op[];
}

/** The model: pending events as a list, the clock, and what fired. */
class Model {
  pending: Pending[] = [];
  nowUs = 0;
  order = 0;
  nextId = 0;
  /** Ids of timers that fired or were cleared, in that order (what a stale clear picks from). */
  done: number[] = [];

  apply(op: Op): void {
    if (op.kind === 'clear') {
      if (op.stale) return; // clearing a fired or cleared timer does nothing
      const timers = this.pending.filter((p) => p.timer).sort((a, b) => a.id - b.id);
      if (timers.length === 0) return;
      const victim = timers[op.pick % timers.length]!;
      this.pending = this.pending.filter((p) => p !== victim);
      this.done.push(victim.id);
      return;
    }
    this.pending.push({
      t: this.nowUs + effectiveDelay(op),
      order: this.order++,
      id: this.nextId++,
      timer: op.via === 'timer',
      then: op.then,
    });
  }

  /** What World.run({ untilUs, maxEvents }) must do, as a list of "id@time" and the run's outcome. */
  run(untilUs: number, maxEvents: number): { fired: string[]; reason: string; events: number } {
    const fired: string[] = [];
    for (;;) {
      if (this.pending.length === 0) {
        if (untilUs !== Infinity) this.nowUs = untilUs;
        return { fired, reason: 'idle', events: fired.length };
      }
      let next = this.pending[0]!;
      for (const p of this.pending) if (p.t < next.t || (p.t === next.t && p.order < next.order)) next = p;
      if (next.t > untilUs) {
        this.nowUs = untilUs;
        return { fired, reason: 'time-limit', events: fired.length };
      }
      if (fired.length >= maxEvents) return { fired, reason: 'event-limit', events: fired.length };
      this.pending = this.pending.filter((p) => p !== next);
      this.nowUs = next.t;
      fired.push(`${next.id}@${next.t}`);
      if (next.timer) this.done.push(next.id);
      for (const op of next.then) this.apply(op);
    }
  }
}

/** The world, and what its callbacks saw. */
class Real {
  readonly world = new World({ seed: 'world-model', traceTimers: true });
  nextId = 0;
  /** Pending timers by id, in id order (Map keeps insertion order). */
  readonly timers = new Map<number, Timer>();
  /** Timers that fired or were cleared, in that order. */
  readonly done: Timer[] = [];
  readonly cleared = new Set<number>();
  fired: string[] = [];
  lastNowUs = 0;
  violations: string[] = [];

  apply(op: Op): void {
    const w = this.world;
    if (op.kind === 'clear') {
      if (op.stale) {
        if (this.done.length > 0) w.clearTimer(this.done[op.pick % this.done.length]!);
        return;
      }
      const ids = [...this.timers.keys()];
      if (ids.length === 0) return;
      const id = ids[op.pick % ids.length]!;
      const timer = this.timers.get(id)!;
      w.clearTimer(timer);
      if (timer.pending) this.violations.push(`timer ${id} still pending after clearTimer`);
      this.timers.delete(id);
      this.done.push(timer);
      this.cleared.add(id);
      return;
    }
    const id = this.nextId++;
    const fire = (): void => {
      const now = w.nowUs;
      if (now < this.lastNowUs)
        this.violations.push(`event ${id} at ${now} after the clock read ${this.lastNowUs}`);
      this.lastNowUs = now;
      if (this.cleared.has(id)) this.violations.push(`cleared timer ${id} fired`);
      this.fired.push(`${id}@${now}`);
      const timer = this.timers.get(id);
      if (timer !== undefined) {
        if (timer.pending) this.violations.push(`timer ${id} still pending while it fires`);
        this.timers.delete(id);
        this.done.push(timer);
      }
      for (const next of op.then) this.apply(next);
    };
    if (op.via === 'timer') this.timers.set(id, w.setTimer(op.delayUs, fire));
    else if (op.via === 'post') w.post(op.delayUs, fire, undefined);
    else w.postAt(w.nowUs + effectiveDelay(op), fire, undefined);
  }
}

type Cmd = fc.AsyncCommand<Model, Real>;

function agree(m: Model, r: Real): void {
  expect(r.violations).toEqual([]);
  expect(r.world.pending).toBe(m.pending.length);
  expect(r.world.nowUs).toBe(m.nowUs);
  expect(r.timers.size).toBe(m.pending.filter((p) => p.timer).length);
}

/** Schedules (or clears) from outside a run. */
class Schedule implements Cmd {
  constructor(readonly op: Op) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    m.apply(this.op);
    r.apply(this.op);
    agree(m, r);
    return Promise.resolve();
  }
  toString(): string {
    return showOp(this.op);
  }
}

/** Runs for some time (or to idle), at most maxEvents events. */
class Run implements Cmd {
  constructor(
    readonly forUs: number | null,
    readonly maxEvents: number,
  ) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    const before = r.world.nowUs;
    const untilUs = this.forUs === null ? Infinity : m.nowUs + this.forUs;
    const want = m.run(untilUs, this.maxEvents);
    r.fired = [];
    const got = await r.world.run({
      ...(this.forUs === null ? {} : { forUs: this.forUs }),
      maxEvents: this.maxEvents,
    });
    expect(r.fired).toEqual(want.fired);
    expect({ reason: got.reason, events: got.events, nowUs: got.nowUs, pending: got.pending }).toEqual({
      reason: want.reason,
      events: want.events,
      nowUs: m.nowUs,
      pending: m.pending.length,
    });
    expect(got.nowUs).toBeGreaterThanOrEqual(before);
    r.lastNowUs = Math.max(r.lastNowUs, got.nowUs);
    agree(m, r);
  }
  toString(): string {
    return `run(${this.forUs === null ? 'idle' : `for ${this.forUs}`}, max ${this.maxEvents})`;
  }
}

/** Delays with many ties (0..3), some spread, some fractional (rounded up). */
const delayArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 3 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 500 }) },
  { weight: 1, arbitrary: fc.constantFrom(0.25, 1.5, 2.0001) },
);

const clearArb: fc.Arbitrary<Op> = fc.record({
  kind: fc.constant('clear' as const),
  pick: fc.nat({ max: 1000 }),
  stale: fc.boolean(),
});

/** A scheduling op whose event, when it fires, runs up to `depth` more levels of ops. */
function opArb(depth: number): fc.Arbitrary<Op> {
  const then: fc.Arbitrary<Op[]> =
    depth === 0
      ? fc.constant([])
      : fc.array(fc.oneof({ weight: 3, arbitrary: opArb(depth - 1) }, { weight: 1, arbitrary: clearArb }), {
          maxLength: 3,
        });
  return fc.record({
    kind: fc.constant('schedule' as const),
    via: fc.constantFrom('timer' as const, 'post' as const, 'postAt' as const),
    delayUs: delayArb,
    then,
  });
}

const commandsArb = fc.commands<Model, Real, false>(
  [
    opArb(2).map((op) => new Schedule(op)),
    opArb(2).map((op) => new Schedule(op)),
    clearArb.map((op) => new Schedule(op)),
    fc
      .record({
        forUs: fc.option(fc.integer({ min: 0, max: 600 }), { nil: null }),
        maxEvents: fc.oneof(fc.constant(1_000_000), fc.integer({ min: 0, max: 6 })),
      })
      .map(({ forUs, maxEvents }) => new Run(forUs, maxEvents)),
  ],
  { maxCommands: 60, size: 'max' },
);

describe('World scheduling against a sorted-list model', () => {
  it('fires callbacks in (time, scheduling order); cleared timers never fire; the clock never goes back', async () => {
    await fc.assert(
      fc.asyncProperty(commandsArb, async (cmds) => {
        await fc.asyncModelRun(() => ({ model: new Model(), real: new Real() }), cmds);
        return true;
      }),
      { seed: 0x3017_d5ed, numRuns: 200 },
    );
  });
});
