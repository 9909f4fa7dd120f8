import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { edgeIntArb, edgeValues } from './generators.js';

const SAMPLES = 2000;

function draw(arb: fc.Arbitrary<number>, seed: number): number[] {
  return fc.sample(arb, { seed, numRuns: SAMPLES });
}

describe('edgeIntArb', () => {
  it('lists min, min + 1, each limit − 1 / limit / limit + 1 and max, clamped and once each', () => {
    expect(edgeValues({ min: 0, max: 100, edges: [10, 100, 0, 500] })).toEqual([0, 1, 9, 10, 11, 99, 100]);
    expect(edgeValues({ min: 5, max: 5 })).toEqual([5]);
    expect(() => edgeValues({ min: 3, max: 2 })).toThrow(/bad range/);
  });

  it('draws every edge, about 40 % of the time, over a fixed seed', () => {
    const o = { min: 0, max: 1_000_000, edges: [1024, 65_536] };
    const got = draw(edgeIntArb(o), 7);
    const edges = edgeValues(o);
    for (const e of edges) expect(got, `edge ${e}`).toContain(e);
    const share = got.filter((v) => edges.includes(v)).length / got.length;
    expect(share).toBeGreaterThan(0.3);
    expect(share).toBeLessThan(0.5);
    expect(got.every((v) => Number.isInteger(v) && v >= 0 && v <= 1_000_000)).toBe(true);
  });

  it('log spread makes small values common and still reaches the top of the range', () => {
    const got = draw(edgeIntArb({ min: 0, max: 4 * 1024 * 1024, spread: 'log', edgeWeight: 0.1 }), 3);
    expect(got.filter((v) => v < 4096).length).toBeGreaterThan(SAMPLES / 3);
    expect(got.some((v) => v > 1024 * 1024)).toBe(true);
  });

  it('handles ranges beyond 32 bits and negative minimums', () => {
    const big = draw(edgeIntArb({ min: 0, max: Number.MAX_SAFE_INTEGER, edges: [2 ** 40] }), 1);
    expect(big).toContain(2 ** 40 + 1);
    expect(big).toContain(Number.MAX_SAFE_INTEGER);
    expect(big.every((v) => Number.isSafeInteger(v))).toBe(true);
    const neg = draw(edgeIntArb({ min: -1, max: 255, edges: [0, 256] }), 2);
    for (const e of [-1, 0, 1, 254, 255]) expect(neg).toContain(e);
  });

  it('shrinks toward min', () => {
    const out = fc.check(
      fc.property(edgeIntArb({ min: 3, max: 10_000, edges: [500] }), (v) => v < 400),
      { seed: 5 },
    );
    expect(out.failed).toBe(true);
    expect(out.counterexample?.[0]).toBe(400);
  });
});
