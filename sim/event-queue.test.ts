import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventQueue } from './event-queue.js';
import { SimError } from './errors.js';

const noop = (): void => undefined;

function drain(q: EventQueue): unknown[] {
  const out: unknown[] = [];
  while (q.size > 0) {
    const slot = q.pop();
    out.push(q.argOf(slot));
    q.release(slot);
  }
  return out;
}

describe('EventQueue', () => {
  it('pops by time, and by insertion order at equal times', () => {
    const q = new EventQueue();
    q.push(5, noop, 'c');
    q.push(1, noop, 'a');
    q.push(5, noop, 'd');
    q.push(1, noop, 'b');
    q.push(0, noop, 'z');
    expect(drain(q)).toEqual(['z', 'a', 'b', 'c', 'd']);
  });

  it('matches a stable sort for any mix of pushes, pops and removals', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({ op: fc.constant('push' as const), t: fc.integer({ min: 0, max: 20 }) }),
            fc.record({ op: fc.constant('pop' as const) }),
            fc.record({ op: fc.constant('remove' as const), pick: fc.nat() }),
          ),
          { maxLength: 300 },
        ),
        (ops) => {
          const q = new EventQueue(10_000, 2);
          // model: list of {t, id, slot}
          let model: { t: number; id: number; slot: number }[] = [];
          let id = 0;
          for (const o of ops) {
            if (o.op === 'push') {
              const slot = q.push(o.t, noop, id);
              model.push({ t: o.t, id: id++, slot });
            } else if (o.op === 'pop') {
              if (model.length === 0) continue;
              const best = [...model].sort((a, b) => a.t - b.t || a.id - b.id)[0]!;
              const slot = q.pop();
              expect(q.argOf(slot)).toBe(best.id);
              q.release(slot);
              model = model.filter((m) => m !== best);
            } else {
              if (model.length === 0) continue;
              const victim = model[o.pick % model.length]!;
              expect(q.remove(victim.slot)).toBe(true);
              q.release(victim.slot);
              model = model.filter((m) => m !== victim);
            }
            expect(q.size).toBe(model.length);
          }
          const rest = model.sort((a, b) => a.t - b.t || a.id - b.id).map((m) => m.id);
          expect(drain(q)).toEqual(rest);
        },
      ),
      { seed: 20261122, numRuns: 300 },
    );
  });

  it('refuses to grow past its bound with ERR_QUEUE_FULL', () => {
    const q = new EventQueue(4, 2);
    for (let i = 0; i < 4; i++) q.push(i, noop, i);
    expect(() => q.push(9, noop, 9)).toThrowError(
      expect.objectContaining({ code: 'ERR_QUEUE_FULL' }) as Error,
    );
    expect(() => new EventQueue(0)).toThrow(SimError);
  });

  it('remove of an unknown or already-popped slot returns false', () => {
    const q = new EventQueue();
    const s = q.push(1, noop, 1);
    expect(q.remove(99)).toBe(false);
    const popped = q.pop();
    expect(popped).toBe(s);
    expect(q.remove(s)).toBe(false);
  });
});

describe('EventQueue.remove at the edges of its slots', () => {
  it('refuses a slot never handed out (the next one, or beyond) and leaves the queue as it was', () => {
    const q = new EventQueue(100, 4);
    const f = (): undefined => undefined;
    const slots = [q.push(30, f, 'a'), q.push(10, f, 'b'), q.push(20, f, 'c')];
    const next = Math.max(...slots) + 1;
    expect(q.remove(next)).toBe(false);
    expect(q.remove(next + 5)).toBe(false);
    expect(q.remove(-1)).toBe(false);
    const order: number[] = [];
    while (q.size > 0) order.push(q.pop());
    expect(order).toEqual([slots[1], slots[2], slots[0]]);
  });
});
