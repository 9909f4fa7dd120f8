/** ByteQueue against a plain byte-array model: pushes, takes across chunks, whole-chunk shifts, clears. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteQueue } from './byte-queue.js';

type Op = { push: number } | { take: number } | { shift: true } | { clear: true };

describe('ByteQueue', () => {
  it('behaves as a FIFO of bytes whatever the sequence of operations', () => {
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 4, arbitrary: fc.integer({ min: 0, max: 9 }).map((n) => ({ push: n })) },
      { weight: 3, arbitrary: fc.integer({ min: 0, max: 25 }).map((n) => ({ take: n })) },
      { weight: 2, arbitrary: fc.constant({ shift: true as const }) },
      { weight: 1, arbitrary: fc.constant({ clear: true as const }) },
    );
    let steps = 0;
    fc.assert(
      fc.property(fc.array(op, { minLength: 50, maxLength: 200 }), (ops) => {
        const q = new ByteQueue();
        let model: number[] = [];
        let chunkEnds: number[] = []; // model offsets where pushed chunks end
        let next = 0;
        for (const o of ops) {
          steps++;
          if ('push' in o) {
            const bytes = Uint8Array.from({ length: o.push }, () => next++ & 0xff);
            q.push(bytes);
            model.push(...bytes);
            if (o.push > 0) chunkEnds.push(model.length);
          } else if ('take' in o) {
            const n = Math.min(o.take, model.length);
            expect([...q.take(o.take)]).toEqual(model.slice(0, n));
            model = model.slice(n);
            chunkEnds = chunkEnds.map((e) => e - n).filter((e) => e > 0);
          } else if ('shift' in o) {
            const end = chunkEnds.shift();
            const got = q.shiftChunk();
            if (end === undefined) expect(got).toBeUndefined();
            else {
              expect([...got!]).toEqual(model.slice(0, end));
              model = model.slice(end);
              chunkEnds = chunkEnds.map((e) => e - end);
            }
          } else {
            q.clear();
            model = [];
            chunkEnds = [];
          }
          expect(q.length).toBe(model.length);
        }
      }),
      { seed: 18, numRuns: 150 },
    );
    expect(steps).toBeGreaterThan(5_000);
  });

  it('a take within the first chunk returns it whole or a view of it; a take across chunks copies', () => {
    const q = new ByteQueue();
    const a = Uint8Array.of(1, 2, 3);
    q.push(a);
    q.push(Uint8Array.of(4, 5));
    expect([...q.take(1)]).toEqual([1]);
    expect([...q.take(3)]).toEqual([2, 3, 4]);
    expect([...q.shiftChunk()!]).toEqual([5]);
    expect(q.take(5)).toHaveLength(0);
    q.push(a);
    expect(q.take(3)).toBe(a); // the whole chunk, not a copy
  });

  it('keeps its order through many pushes and takes that slide its chunks to the front', () => {
    const q = new ByteQueue();
    const out: number[] = [];
    for (let i = 0; i < 5000; i++) {
      q.push(Uint8Array.of(i & 0xff, (i + 1) & 0xff));
      if (i % 3 !== 0) out.push(...q.take(3));
    }
    out.push(...q.take(q.length));
    const expected: number[] = [];
    for (let i = 0; i < 5000; i++) expected.push(i & 0xff, (i + 1) & 0xff);
    expect(out).toEqual(expected);
  });
});
