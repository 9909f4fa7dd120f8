/**
 * The fuzzer's coverage signal: not code coverage, but the set of decoder situations an input
 * reached. A target reports a sequence of features during one exec (small integers such as
 * "length field in class max+1", "chunk boundary 3 bytes into a header", "ended with ErrTooLong",
 * "the decoder asked for 2 buffers"); every feature is hashed together with the one before it
 * (AFL's edge idea: order matters, so "zero-length frame after a straddling frame" differs from the
 * reverse) into a 64 Ki-slot map. An input that sets a slot no earlier input set has reached a new
 * decoder state and joins the corpus. fuzz/README.md lists each target's features.
 */

/** Slots of the map: 2^16. A collision only hides a feature, it never invents one. */
export const COVERAGE_SLOTS = 1 << 16;
const SLOT_MASK = COVERAGE_SLOTS - 1;
/** Features one exec may report; later ones are ignored (bounds the work per exec). */
export const MAX_FEATURES_PER_EXEC = 512;

/** Packs a feature from a kind (0..255) and a value (0..2^23-1). */
export function feature(kind: number, value: number): number {
  return ((kind & 0xff) << 23) | (value & 0x7fffff);
}

export class Coverage {
  private readonly map = new Uint8Array(COVERAGE_SLOTS);
  private readonly pending = new Int32Array(MAX_FEATURES_PER_EXEC);
  private pendingCount = 0;
  private prev = 0;
  /** Slots set so far: the size of the coverage reached. */
  slots = 0;

  /** Starts the feature sequence of one exec. */
  begin(): void {
    this.pendingCount = 0;
    this.prev = 0;
  }

  /** Records one feature of the current exec. */
  hit(f: number): void {
    if (this.pendingCount === MAX_FEATURES_PER_EXEC) return;
    const h = Math.imul(this.prev ^ Math.imul(f, 0x9e3779b1), 0x85ebca6b);
    this.pending[this.pendingCount++] = (h ^ (h >>> 16)) & SLOT_MASK;
    this.prev = f + 1;
  }

  /** Ends the exec: marks its slots, returns how many were new (0 = nothing new reached). */
  commit(): number {
    let fresh = 0;
    const map = this.map;
    for (let i = 0; i < this.pendingCount; i++) {
      const slot = this.pending[i]!;
      if (map[slot] === 0) {
        map[slot] = 1;
        fresh++;
      }
    }
    this.slots += fresh;
    this.pendingCount = 0;
    return fresh;
  }

  /** Ends the exec without marking anything (a skipped or failing exec). */
  discard(): void {
    this.pendingCount = 0;
  }
}
