import { describe, expect, it } from 'vitest';
import { Rng } from './rng.js';
import { SimError } from './errors.js';

function take(r: Rng, n: number): number[] {
  return Array.from({ length: n }, () => r.next());
}

describe('Rng', () => {
  it('same seed, same stream; different seed, different stream', () => {
    expect(take(new Rng('s1'), 5)).toEqual(take(new Rng('s1'), 5));
    expect(take(new Rng('s1'), 5)).not.toEqual(take(new Rng('s2'), 5));
  });

  it('forks are independent: drawing from one leaves every other stream unchanged', () => {
    const quiet = new Rng(42);
    const baseline = { a: take(quiet.fork('a'), 20), b: take(quiet.fork('b'), 20) };

    const busy = new Rng(42);
    const a = busy.fork('a');
    take(busy, 1000); // the parent draws
    const extra = busy.fork('extra'); // a new consumer appears
    take(extra, 1000);
    const b = busy.fork('b');
    expect(take(a, 20)).toEqual(baseline.a);
    expect(take(b, 20)).toEqual(baseline.b);
  });

  it('fork seeds differ by name and by parent, and concatenation does not collide', () => {
    const r = new Rng('root');
    expect(r.fork('ab').seed).not.toBe(r.fork('a').fork('b').seed);
    expect(new Rng('x').fork('n').seed).not.toBe(new Rng('y').fork('n').seed);
    expect(r.fork('a').seed).toBe(new Rng('root').fork('a').seed);
  });

  it('keyed draws depend only on (seed, key, index), not on other draws', () => {
    const k1 = new Rng(7).keyed('conn:3/dir:ab');
    const k2 = new Rng(7).keyed('conn:3/dir:ab');
    const forward = [0, 1, 2, 17, 2 ** 40].map((i) => k1.unit(i));
    const backward = [2 ** 40, 17, 2, 1, 0].map((i) => k2.unit(i)).reverse();
    expect(forward).toEqual(backward);
    expect(k1.unit(17)).not.toBe(k1.unit(18));
    expect(k1.unit(17, 1)).not.toBe(k1.unit(17, 0));
    expect(new Rng(7).keyed('conn:4/dir:ab').unit(17)).not.toBe(k1.unit(17));
  });

  it('keyed draws are roughly uniform in [0, 1)', () => {
    const k = new Rng('u').keyed('k');
    const buckets = new Array<number>(10).fill(0);
    const n = 100_000;
    let outOfRange = 0;
    for (let i = 0; i < n; i++) {
      const u = k.unit(i);
      if (!(u >= 0 && u < 1)) outOfRange++;
      else buckets[Math.floor(u * 10)]!++;
    }
    expect(outOfRange).toBe(0);
    for (const c of buckets) expect(Math.abs(c - n / 10)).toBeLessThan(n / 10 / 10);
  });

  it('helpers stay in range and reject bad arguments with a typed error', () => {
    const r = new Rng('h');
    for (let i = 0; i < 1000; i++) {
      const v = r.int(3, 5);
      expect(v >= 3 && v <= 5 && Number.isInteger(v)).toBe(true);
      expect(r.exponential(2)).toBeGreaterThanOrEqual(0);
    }
    expect(() => r.int(5, 3)).toThrow(SimError);
    expect(() => r.chance(1.5)).toThrow(SimError);
    expect(() => r.exponential(0)).toThrow(SimError);
    expect(() => r.pick([])).toThrow(SimError);
    expect(() => r.uniform(Number.NaN, 1)).toThrow(SimError);
  });
});
