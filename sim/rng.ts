/**
 * Seeded randomness. One root seed; every consumer draws from its own named fork, whose seed is a
 * hash of (parent seed, name), so adding a consumer or drawing more from one stream never shifts
 * another stream's draws. Sequential streams use seedrandom's `alea` generator (fast, and its state
 * is portable between Node and browsers). For draws that must not depend on how many other draws
 * happened (the fate of message 17 on connection 3), `keyed(name).unit(index)` is stateless: the
 * value is a pure function of (seed, name, index).
 */
import alea from 'seedrandom/lib/alea.js';
import { SimError } from './errors.js';
import { Hash64 } from './hash.js';

interface Generator {
  (): number;
}

/** Derives a child seed from a parent seed and a name; the separator keeps ("a","bc") != ("ab","c"). */
export function deriveSeed(parentSeed: string, name: string): string {
  const h = new Hash64();
  h.string(parentSeed);
  h.string(name);
  return h.hex();
}

function checkRange(what: string, ok: boolean, detail: string): void {
  if (!ok) throw new SimError('ERR_BAD_ARGUMENT', `${what}: ${detail}`);
}

export class Rng {
  readonly seed: string;
  readonly name: string;
  private readonly gen: Generator;
  /** How many values this stream has produced (for determinism diagnostics). */
  draws = 0;

  constructor(seed: string | number, name = 'root') {
    this.seed = String(seed);
    this.name = name;
    this.gen = alea(this.seed);
  }

  /** A child stream whose draws depend only on (this seed, name). */
  fork(name: string): Rng {
    return new Rng(deriveSeed(this.seed, name), this.name === 'root' ? name : `${this.name}/${name}`);
  }

  /** A stateless keyed stream: `unit(i)` depends only on (this seed, name, i). */
  keyed(name: string): KeyedStream {
    return new KeyedStream(deriveSeed(this.seed, name));
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.draws++;
    return this.gen();
  }

  /** Uniform integer in [minIncl, maxIncl]. */
  int(minIncl: number, maxIncl: number): number {
    checkRange(
      'Rng.int',
      Number.isInteger(minIncl) && Number.isInteger(maxIncl) && minIncl <= maxIncl,
      `bad range [${minIncl}, ${maxIncl}]`,
    );
    return minIncl + Math.floor(this.next() * (maxIncl - minIncl + 1));
  }

  /** Uniform real in [min, max). */
  uniform(min: number, max: number): number {
    checkRange(
      'Rng.uniform',
      Number.isFinite(min) && Number.isFinite(max) && min <= max,
      `bad range [${min}, ${max})`,
    );
    return min + this.next() * (max - min);
  }

  /** True with probability p (0 <= p <= 1). */
  chance(p: number): boolean {
    checkRange('Rng.chance', p >= 0 && p <= 1, `probability must be in [0, 1], got ${p}`);
    return this.next() < p;
  }

  /** Exponentially distributed with the given mean (> 0). */
  exponential(mean: number): number {
    checkRange(
      'Rng.exponential',
      Number.isFinite(mean) && mean > 0,
      `mean must be finite and > 0, got ${mean}`,
    );
    return -mean * Math.log(1 - this.next());
  }

  /** One element chosen uniformly. */
  pick<T>(items: readonly T[]): T {
    checkRange('Rng.pick', items.length > 0, 'cannot pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }
}

const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;

function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Counter-based draws: value i is a hash of (stream seed, i, salt). No state, so the value for one
 * index never depends on which other indices were drawn: this is what keeps the fate of the other
 * messages unchanged when a shrinker removes one.
 */
export class KeyedStream {
  readonly seed: string;
  private readonly k1: number;
  private readonly k2: number;

  constructor(seed: string) {
    this.seed = seed;
    const h = new Hash64();
    h.string(seed);
    [this.k1, this.k2] = h.lanes();
  }

  /** Uniform in [0, 1) for (index, salt); index and salt are non-negative integers. */
  unit(index: number, salt = 0): number {
    // Two rounds: the index, then the salt, each through a full avalanche, so no two (index, salt)
    // pairs can cancel each other out. 32 bits of resolution are plenty for probabilities and delays.
    const lo = index >>> 0;
    const hi = Math.floor(index / 4294967296) >>> 0;
    const a = mix32(this.k1 ^ Math.imul(lo + 1, P1) ^ hi);
    return mix32(a ^ this.k2 ^ Math.imul(salt + 1, P2)) * 2.3283064365386963e-10;
  }

  /** Uniform integer in [minIncl, maxIncl] for (index, salt). */
  int(index: number, minIncl: number, maxIncl: number, salt = 0): number {
    return minIncl + Math.floor(this.unit(index, salt) * (maxIncl - minIncl + 1));
  }
}
