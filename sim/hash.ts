/**
 * A small, fast, pure-JavaScript 64-bit hash (two 32-bit lanes: a murmur3-style lane and an
 * xxhash32-style lane). It is used for the running trace hash and to derive RNG seeds. It is not
 * cryptographic; it only has to make accidental collisions between two runs vanishingly rare, and it
 * must give identical results in Node and in a browser, so it uses no platform hashing API.
 */

const C1 = 0xcc9e2d51;
// Odd multipliers of the running lanes (any odd constant makes the step a bijection).
const M1 = 0x01000193 | 0x9e370000;
const M2 = 0x85ebca6b;
const C2 = 0x1b873593;
const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;

const f64 = new Float64Array(1);
const f64Words = new Uint32Array(f64.buffer);

const TAG_INT = 1;
const TAG_FLOAT = 2;
const TAG_STRING = 3;
const TAG_BYTES = 4;
const TAG_TRUE = 5;
const TAG_FALSE = 6;
const TAG_NULL = 7;
const TAG_UNDEFINED = 8;
const TAG_ARRAY = 9;
const TAG_OBJECT = 10;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Bound on memoized string digests (the cache is dropped and refilled when it is full). */
const STRING_DIGEST_CACHE_MAX = 50_000;
const stringDigests = new Map<string, readonly [number, number]>();
const RECENT_SLOTS = 32;
const recentStrings: (string | undefined)[] = new Array<string | undefined>(RECENT_SLOTS).fill(undefined);
const recentDigests: (readonly [number, number] | undefined)[] = new Array<
  readonly [number, number] | undefined
>(RECENT_SLOTS).fill(undefined);

/**
 * A string's own 64-bit digest, memoized: traces repeat the same keys, kinds and host names millions
 * of times. A tiny direct-mapped cache in front of the Map answers the hottest strings by identity.
 */
export function stringDigestOf(s: string): readonly [number, number] {
  const n = s.length;
  const slot = n === 0 ? 0 : (n * 7 + s.charCodeAt(n - 1)) & (RECENT_SLOTS - 1);
  if (recentStrings[slot] === s) return recentDigests[slot]!;
  let d = stringDigests.get(s);
  if (d === undefined) {
    d = digestString(s);
    if (stringDigests.size >= STRING_DIGEST_CACHE_MAX) stringDigests.clear();
    stringDigests.set(s, d);
  }
  recentStrings[slot] = s;
  recentDigests[slot] = d;
  return d;
}

/** Standalone digest of a string's UTF-16 code units (two chars per 32-bit word). */
function digestString(s: string): readonly [number, number] {
  const n = s.length;
  let h1 = 0x3c6ef372 ^ n;
  let h2 = 0xa54ff53a ^ Math.imul(n, P1);
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const x = s.charCodeAt(i) | (s.charCodeAt(i + 1) << 16);
    let k = Math.imul(x, C1);
    k = (k << 15) | (k >>> 17);
    h1 ^= Math.imul(k, C2);
    h1 = ((h1 << 13) | (h1 >>> 19)) * 5 + 0xe6546b64;
    h1 |= 0;
    h2 = Math.imul(((h2 + Math.imul(x, P2)) << 13) | ((h2 + Math.imul(x, P2)) >>> 19), P1);
  }
  if (i < n) {
    h1 ^= Math.imul(s.charCodeAt(i), C1);
    h2 = Math.imul(h2 ^ s.charCodeAt(i), P2);
  }
  return [fmix32(h1), fmix32(h2)];
}

function hex8(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}

export class Hash64 {
  private h1: number;
  private h2: number;
  private words = 0;

  constructor(seed1 = 0x2545f491, seed2 = 0x6a09e667) {
    this.h1 = seed1 | 0;
    this.h2 = seed2 | 0;
  }

  /**
   * Mixes one 32-bit word into both lanes. Each lane's step is a bijection of its state for a given
   * word (xor or add, multiply by an odd constant, xor-shift), so two word sequences that differ at
   * one point and agree afterwards can never end in the same state: a divergence between two runs
   * always shows. The final avalanche happens once, in hex()/lanes().
   */
  word(x: number): void {
    let h1 = Math.imul(this.h1 ^ x, M1);
    h1 ^= h1 >>> 15;
    this.h1 = h1;
    let h2 = Math.imul((this.h2 + x) | 0, M2);
    h2 ^= h2 >>> 13;
    this.h2 = h2;
    this.words++;
  }

  /** Two words at once, state kept in locals. */
  words2(a: number, b: number): void {
    let h1 = Math.imul(this.h1 ^ a, M1);
    h1 ^= h1 >>> 15;
    let h2 = Math.imul((this.h2 + a) | 0, M2);
    h2 ^= h2 >>> 13;
    h1 = Math.imul(h1 ^ b, M1);
    h1 ^= h1 >>> 15;
    h2 = Math.imul((h2 + b) | 0, M2);
    h2 ^= h2 >>> 13;
    this.h1 = h1;
    this.h2 = h2;
    this.words += 2;
  }

  /** Four words at once (the fixed head of every hot trace event), state kept in locals. */
  words4(a: number, b: number, c: number, d: number): void {
    let h1 = this.h1;
    let h2 = this.h2;
    h1 = Math.imul(h1 ^ a, M1);
    h1 ^= h1 >>> 15;
    h2 = Math.imul((h2 + a) | 0, M2);
    h2 ^= h2 >>> 13;
    h1 = Math.imul(h1 ^ b, M1);
    h1 ^= h1 >>> 15;
    h2 = Math.imul((h2 + b) | 0, M2);
    h2 ^= h2 >>> 13;
    h1 = Math.imul(h1 ^ c, M1);
    h1 ^= h1 >>> 15;
    h2 = Math.imul((h2 + c) | 0, M2);
    h2 ^= h2 >>> 13;
    h1 = Math.imul(h1 ^ d, M1);
    h1 ^= h1 >>> 15;
    h2 = Math.imul((h2 + d) | 0, M2);
    h2 ^= h2 >>> 13;
    this.h1 = h1;
    this.h2 = h2;
    this.words += 4;
  }

  /** Five words at once, state kept in locals. */
  words5(a: number, b: number, c: number, d: number, e: number): void {
    let h1 = this.h1;
    let h2 = this.h2;
    h1 = Math.imul(h1 ^ a, M1);
    h1 ^= h1 >>> 15;
    h2 = Math.imul((h2 + a) | 0, M2);
    h2 ^= h2 >>> 13;
    h1 = Math.imul(h1 ^ b, M1);
    h1 ^= h1 >>> 15;
    h2 = Math.imul((h2 + b) | 0, M2);
    h2 ^= h2 >>> 13;
    h1 = Math.imul(h1 ^ c, M1);
    h1 ^= h1 >>> 15;
    h2 = Math.imul((h2 + c) | 0, M2);
    h2 ^= h2 >>> 13;
    h1 = Math.imul(h1 ^ d, M1);
    h1 ^= h1 >>> 15;
    h2 = Math.imul((h2 + d) | 0, M2);
    h2 ^= h2 >>> 13;
    h1 = Math.imul(h1 ^ e, M1);
    h1 ^= h1 >>> 15;
    h2 = Math.imul((h2 + e) | 0, M2);
    h2 ^= h2 >>> 13;
    this.h1 = h1;
    this.h2 = h2;
    this.words += 5;
  }

  /** Mixes a non-negative integer up to 2^53 as two words, with no type tag (for fixed layouts). */
  uint53(n: number): void {
    this.word(n >>> 0);
    this.word((n / 4294967296) >>> 0);
  }

  number(n: number): void {
    if ((n | 0) === n) {
      this.word(TAG_INT);
      this.word(n);
    } else {
      f64[0] = n;
      this.word(TAG_FLOAT);
      this.word(f64Words[0]!);
      this.word(f64Words[1]!);
    }
  }

  /**
   * Mixes a string as (tag, length, its own 64-bit digest). The digest of a string does not depend on
   * the running state, so it is memoized: traces repeat the same keys, kinds and host names millions
   * of times, and hashing them char by char was the trace's largest cost.
   */
  string(s: string): void {
    this.word(TAG_STRING);
    this.word(s.length);
    this.stringDigest(s);
  }

  /**
   * Mixes only a string's own 64-bit digest (two words, no tag or length): for fixed layouts, where
   * the position already says "a string goes here" and the digest covers the length.
   */
  stringDigest(s: string): void {
    const d = stringDigestOf(s);
    this.word(d[0]);
    this.word(d[1]);
  }

  /** Mixes a pre-digested string: the same words as stringDigest(label.text), with no lookup. */
  label(l: HashLabel): void {
    this.word(l.d0);
    this.word(l.d1);
  }

  bytes(b: Uint8Array): void {
    const n = b.length;
    this.word(TAG_BYTES);
    this.word(n);
    let i = 0;
    for (; i + 3 < n; i += 4) this.word(b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24));
    for (; i < n; i++) this.word(b[i]!);
  }

  /**
   * Mixes any JSON-like value (plus Uint8Array). Object keys are mixed in insertion order, which is
   * deterministic for objects built by the same code; values of different types never collide by tag.
   */
  value(v: unknown): void {
    switch (typeof v) {
      case 'number':
        this.number(v);
        return;
      case 'string':
        this.string(v);
        return;
      case 'boolean':
        this.word(v ? TAG_TRUE : TAG_FALSE);
        return;
      case 'undefined':
        this.word(TAG_UNDEFINED);
        return;
      case 'bigint':
        this.string(v.toString());
        return;
      case 'object':
        if (v === null) {
          this.word(TAG_NULL);
        } else if (v instanceof Uint8Array) {
          this.bytes(v);
        } else if (Array.isArray(v)) {
          this.word(TAG_ARRAY);
          this.word(v.length);
          for (const item of v) this.value(item);
        } else {
          this.word(TAG_OBJECT);
          const o = v as Record<string, unknown>;
          for (const key in o) {
            this.string(key);
            this.value(o[key]);
          }
        }
        return;
      default:
        // Functions and symbols carry no stable identity across runs; hash their type only.
        this.string(typeof v);
    }
  }

  /** The digest so far as 16 hex digits; the running state is left unchanged. */
  hex(): string {
    return hex8(fmix32(this.h1 ^ this.words)) + hex8(fmix32(this.h2 ^ Math.imul(this.words, P1)));
  }

  /** The two finalized lanes, for callers that need numbers (seed derivation, keyed draws). */
  lanes(): [number, number] {
    return [fmix32(this.h1 ^ this.words), fmix32(this.h2 ^ Math.imul(this.words, P1))];
  }
}

/**
 * A string digested once, for hot paths that mix the same string millions of times (host names,
 * stream directions): Hash64.label(l) mixes exactly what Hash64.stringDigest(l.text) would.
 */
export class HashLabel {
  readonly d0: number;
  readonly d1: number;
  constructor(readonly text: string) {
    const d = digestString(text);
    this.d0 = d[0];
    this.d1 = d[1];
  }
}

/** One-shot 64-bit digest of a value, as 16 hex digits. */
export function hashValue(v: unknown): string {
  const h = new Hash64();
  h.value(v);
  return h.hex();
}
