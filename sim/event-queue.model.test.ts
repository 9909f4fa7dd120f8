/**
 * A model-based property of the event queue: random sequences of pushes (many at equal times),
 * cancellations of live and of stale slots, pops, takes, pops up to a time and drains, run against
 * the queue and against a plain list sorted by (time, insertion order). After every command both
 * agree on size and earliest time; every pop returns the model's earliest entry with its own fn and
 * arg; a cancelled entry is never returned; a recycled slot never aliases a live one; a push beyond
 * the bound throws ERR_QUEUE_FULL and changes nothing. World relies on the tie rule (events at one
 * time run in the order they were scheduled; sim/net/flow.ts keeps a flow's segments in a FIFO on it).
 *
 * Fixed seeds; on a failure fast-check prints the seed, the path and the shrunk command list.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { SimError } from './errors.js';
import { EventQueue, type EventFn } from './event-queue.js';

interface Entry {
  t: number;
  id: number;
  slot: number;
  fn: EventFn;
  arg: { id: number };
}

/** The model: live entries in insertion order, the slots of entries that left the queue, the bound. */
class Model {
  live: Entry[] = [];
  /** Slots handed out for entries that were popped or cancelled since (stale handles). */
  stale: number[] = [];
  nextId = 0;
  constructor(readonly maxPending: number) {}

  /** The earliest live entry: least time, then least insertion order (ids grow with insertion). */
  earliest(): Entry {
    let best = this.live[0]!;
    for (const e of this.live) if (e.t < best.t || (e.t === best.t && e.id < best.id)) best = e;
    return best;
  }

  leave(e: Entry): void {
    this.live = this.live.filter((x) => x !== e);
    this.stale.push(e.slot);
  }
}

interface Real {
  q: EventQueue;
}

type Cmd = fc.Command<Model, Real>;

/** After every command: same size, same earliest time, and no two live entries share a slot. */
function agree(m: Model, r: Real): void {
  expect(r.q.size).toBe(m.live.length);
  if (m.live.length > 0) expect(r.q.peekTime()).toBe(m.earliest().t);
  expect(new Set(m.live.map((e) => e.slot)).size).toBe(m.live.length);
}

/** Takes the earliest event through pop() + fnOf/argOf + release(), or take(), and checks it is the model's. */
function takeOne(m: Model, r: Real, how: 'pop' | 'take'): Entry {
  const want = m.earliest();
  expect(r.q.peekTime()).toBe(want.t);
  if (how === 'pop') {
    const slot = r.q.pop();
    expect(slot).toBe(want.slot);
    expect(r.q.fnOf(slot)).toBe(want.fn);
    expect(r.q.argOf(slot)).toBe(want.arg);
    r.q.release(slot);
  } else {
    r.q.take();
    expect(r.q.takenFn).toBe(want.fn);
    expect(r.q.takenArg).toBe(want.arg);
  }
  m.leave(want);
  return want;
}

class Push implements Cmd {
  constructor(readonly t: number) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const id = m.nextId;
    const arg = { id };
    const fn: EventFn = () => id;
    if (m.live.length === m.maxPending) {
      // Every slot is live: the queue refuses, and nothing changes.
      expect(() => r.q.push(this.t, fn, arg)).toThrowError(
        expect.objectContaining({ code: 'ERR_QUEUE_FULL' }) as SimError,
      );
      agree(m, r);
      return;
    }
    m.nextId++;
    const slot = r.q.push(this.t, fn, arg);
    // A recycled slot is no longer stale: its old handle now names this entry.
    m.stale = m.stale.filter((s) => s !== slot);
    m.live.push({ t: this.t, id, slot, fn, arg });
    agree(m, r);
  }
  toString(): string {
    return `push(${this.t})`;
  }
}

class Pop implements Cmd {
  constructor(readonly how: 'pop' | 'take') {}
  check(m: Readonly<Model>): boolean {
    return m.live.length > 0;
  }
  run(m: Model, r: Real): void {
    takeOne(m, r, this.how);
    agree(m, r);
  }
  toString(): string {
    return this.how;
  }
}

/** Pops every event at or before a time, as World.run({ untilUs }) does. */
class PopUntil implements Cmd {
  constructor(readonly untilT: number) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const want = m.live
      .filter((e) => e.t <= this.untilT)
      .sort((a, b) => a.t - b.t || a.id - b.id)
      .map((e) => e.id);
    const got: number[] = [];
    while (r.q.size > 0 && r.q.peekTime() <= this.untilT) got.push(takeOne(m, r, 'take').id);
    expect(got).toEqual(want);
    agree(m, r);
  }
  toString(): string {
    return `popUntil(${this.untilT})`;
  }
}

/** Cancels a live entry (a cleared timer): removed once, never returned, its slot released. */
class Cancel implements Cmd {
  constructor(readonly pick: number) {}
  check(m: Readonly<Model>): boolean {
    return m.live.length > 0;
  }
  run(m: Model, r: Real): void {
    const victim = m.live[this.pick % m.live.length]!;
    expect(r.q.remove(victim.slot)).toBe(true);
    expect(r.q.remove(victim.slot)).toBe(false); // a second cancel before release finds nothing
    r.q.release(victim.slot);
    m.leave(victim);
    agree(m, r);
  }
  toString(): string {
    return `cancel(${this.pick})`;
  }
}

/** Cancels by a handle that is no longer pending (popped or cancelled, slot not reused), or out of range. */
class CancelStale implements Cmd {
  constructor(readonly pick: number) {}
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const slot = m.stale.length > 0 ? m.stale[this.pick % m.stale.length]! : -1 - (this.pick % 3);
    expect(r.q.remove(slot)).toBe(false);
    expect(r.q.remove(1_000_000 + this.pick)).toBe(false);
    agree(m, r);
  }
  toString(): string {
    return `cancelStale(${this.pick})`;
  }
}

/** Empties the queue in order: every slot is free again and the next pushes reuse them. */
class Drain implements Cmd {
  check(): boolean {
    return true;
  }
  run(m: Model, r: Real): void {
    const want = [...m.live].sort((a, b) => a.t - b.t || a.id - b.id).map((e) => e.id);
    const got: number[] = [];
    while (r.q.size > 0) got.push(takeOne(m, r, 'pop').id);
    expect(got).toEqual(want);
    agree(m, r);
  }
  toString(): string {
    return 'drain';
  }
}

/** Times with many ties (0..5), some spread out, some far (beyond 2^32, near the safe-integer end). */
const timeArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 5 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 1_000_000 }) },
  { weight: 1, arbitrary: fc.constantFrom(2 ** 32, 2 ** 32 + 1, 2 ** 40, Number.MAX_SAFE_INTEGER) },
);

const commandsArb = fc.commands<Model, Real>(
  [
    timeArb.map((t) => new Push(t)),
    timeArb.map((t) => new Push(t)),
    fc.constantFrom<'pop' | 'take'>('pop', 'take').map((how) => new Pop(how)),
    fc.nat().map((n) => new Cancel(n)),
    fc.nat().map((n) => new CancelStale(n)),
    timeArb.map((t) => new PopUntil(t)),
    fc.constant(new Drain()),
  ],
  { maxCommands: 300, size: 'max' },
);

describe('EventQueue against a sorted-list model', () => {
  it('pops in (time, insertion order) under ties, random cancels and slot reuse', () => {
    fc.assert(
      fc.property(
        // A small bound makes ERR_QUEUE_FULL reachable; a tiny first capacity makes the arrays grow.
        fc.constantFrom(6, 40, 10_000),
        fc.constantFrom(1, 2, 16),
        commandsArb,
        (maxPending, initialCapacity, cmds) => {
          fc.modelRun(
            () => ({
              model: new Model(maxPending),
              real: { q: new EventQueue(maxPending, initialCapacity) },
            }),
            cmds,
          );
        },
      ),
      { seed: 0x5e1f_c4ec, numRuns: 400 },
    );
  });
});
