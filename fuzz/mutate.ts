/**
 * Mutation: turns a corpus input into a new one with a stack of 1 to 8 operators, some blind
 * (bit flips, random bytes, insertions, deletions, duplications, truncation, splices with another
 * corpus input) and some structure-aware, from the target's hints (an interesting value such as a
 * length of max+1, 2^53 or 2^64-1 written over a length field; a valid frame inserted at a frame
 * boundary), plus changes to the knob and to where the stream is cut into chunks. Every draw comes
 * from one seeded stream, so a run is a pure function of its seed and corpus.
 */
import type { Rng } from '../sim/rng.js';
import { normalizeCuts, type FuzzInput } from './input.js';
import type { MutationHints } from './target.js';

/** Upper bound on chunk boundaries per input (the stream is cut into at most this + 1 chunks). */
export const MAX_CUTS = 16;

/** The parts of a corpus input the mutator reuses (computed once when the input joins the corpus). */
export interface CorpusInput {
  readonly input: FuzzInput;
  /** Offsets of fields worth overwriting with interesting values (length fields, header words). */
  readonly fields: readonly number[];
}

const INTERESTING_BYTES = Uint8Array.of(
  0x00,
  0x01,
  0x02,
  0x08,
  0x10,
  0x11,
  0x50,
  0x53,
  0x7f,
  0x80,
  0xfe,
  0xff,
);

export class Mutator {
  private readonly scratch: Uint8Array;
  private len = 0;
  private knob = 0;
  private cuts: number[] = [];

  constructor(
    private readonly rng: Rng,
    private readonly hints: MutationHints,
    private readonly knobCount: number,
    private readonly maxLenBytes: number,
  ) {
    // Room for the largest input plus one operator's growth.
    this.scratch = new Uint8Array(maxLenBytes + 64 * 1024);
  }

  private below(n: number): number {
    return Math.floor(this.rng.next() * n);
  }

  /**
   * A mutation of `parent`; `other` is a second corpus input for splicing. The result's data is a
   * view of the mutator's buffer, valid until the next call: copy it (stable()) to keep it.
   */
  mutate(parent: CorpusInput, other: CorpusInput): FuzzInput {
    const src = parent.input;
    // Corpus inputs are clipped to maxLenBytes when they join, so the whole input fits.
    this.len = src.data.length;
    this.scratch.set(src.data, 0);
    this.knob = src.knob;
    this.cuts = src.cuts.slice();
    // 1, 2 or 4 stacked operators (AFL's havoc, scaled to inputs of tens of bytes).
    const ops = 1 << this.below(3);
    for (let i = 0; i < ops; i++) this.apply(parent, other);
    const len = Math.min(this.len, this.maxLenBytes);
    // A view, not a copy: fresh typed arrays cost more than decoding a small input. The engine
    // copies the few inputs it keeps (stable()).
    const data = this.scratch.subarray(0, len);
    let cuts = this.cuts;
    if (cuts.length > 0 && (cuts.length > MAX_CUTS || cuts[cuts.length - 1]! >= len || !sortedDistinct(cuts)))
      cuts = normalizeCuts(cuts, len).slice(0, MAX_CUTS);
    return { data, cuts, knob: this.knob };
  }

  private apply(parent: CorpusInput, other: CorpusInput): void {
    const len = this.len;
    const s = this.scratch;
    switch (this.below(14)) {
      case 0: // flip one bit
        if (len > 0) s[this.below(len)]! ^= 1 << this.below(8);
        return;
      case 1: // a random byte
        if (len > 0) s[this.below(len)] = this.below(256);
        return;
      case 2: // an interesting byte
        if (len > 0) s[this.below(len)] = INTERESTING_BYTES[this.below(INTERESTING_BYTES.length)]!;
        return;
      case 3:
      case 4:
      case 5: // an interesting value over a field (or anywhere)
        this.writeInteresting(parent.fields);
        return;
      case 6: // insert 1-8 random bytes
        this.insert(this.below(len + 1), this.below(8) + 1, null);
        return;
      case 7: // delete a range
        if (len > 0) this.remove(this.below(len), 1 + this.below(Math.min(len, 16)));
        return;
      case 8: {
        // duplicate a range (repeats a frame, a header word)
        if (len === 0) return;
        const from = this.below(len);
        const n = 1 + this.below(Math.min(len - from, 64));
        this.insert(this.below(len + 1), n, from);
        return;
      }
      case 9: // truncate, often at a field
        if (len > 0) this.len = this.pickCut(parent.fields, len);
        return;
      case 10: {
        // splice: our head, the other input's tail
        const o = other.input.data;
        if (o.length === 0) return;
        const at = this.below(len + 1);
        const from = this.below(o.length);
        const n = Math.min(o.length - from, this.maxLenBytes - at);
        if (n <= 0) return;
        s.set(o.subarray(from, from + n), at);
        this.len = at + n;
        return;
      }
      case 11: {
        // insert a valid unit (a whole frame, a header word) at a field or at the end
        const unit = this.hints.unit(this.rng, this.knob);
        const fields = parent.fields;
        const at = fields.length > 0 && this.below(2) === 0 ? fields[this.below(fields.length)]! : len;
        if (at <= len) this.insertBytes(at, unit);
        return;
      }
      case 12: // another knob
        this.knob = this.below(this.knobCount);
        return;
      default:
        this.recut(parent.fields);
    }
  }

  private writeInteresting(fields: readonly number[]): void {
    const patterns = this.hints.interesting(this.knob);
    if (patterns.length === 0) return;
    const p = patterns[this.below(patterns.length)]!;
    let at: number;
    if (fields.length > 0 && this.below(4) !== 0) at = fields[this.below(fields.length)]!;
    else at = this.below(this.len + 1);
    const end = Math.min(at + p.length, this.maxLenBytes);
    if (end <= at) return;
    this.scratch.set(p.subarray(0, end - at), at);
    if (end > this.len) this.len = end;
  }

  /** Inserts n bytes at `at`: random ones, or copies of [from, from + n) of the current data. */
  private insert(at: number, n: number, from: number | null): void {
    n = Math.min(n, this.maxLenBytes - at);
    if (n <= 0) return;
    const s = this.scratch;
    if (from !== null) {
      const copy = s.slice(from, from + n);
      this.insertBytes(at, copy);
      return;
    }
    s.copyWithin(at + n, at, this.len);
    for (let i = 0; i < n; i++) s[at + i] = this.below(256);
    this.len = Math.min(this.len + n, s.length);
    this.shiftCuts(at, n);
  }

  private insertBytes(at: number, bytes: Uint8Array): void {
    const n = Math.min(bytes.length, this.maxLenBytes - at);
    if (n <= 0) return;
    const s = this.scratch;
    s.copyWithin(at + n, at, this.len);
    s.set(bytes.subarray(0, n), at);
    this.len = Math.min(this.len + n, s.length);
    this.shiftCuts(at, n);
  }

  private remove(at: number, n: number): void {
    n = Math.min(n, this.len - at);
    this.scratch.copyWithin(at, at + n, this.len);
    this.len -= n;
    this.shiftCuts(at, -n);
  }

  /** Keeps chunk boundaries on the same bytes when bytes are inserted or removed before them. */
  private shiftCuts(at: number, delta: number): void {
    const cuts = this.cuts;
    for (let i = 0; i < cuts.length; i++) if (cuts[i]! > at) cuts[i] = Math.max(at, cuts[i]! + delta);
  }

  /** A position to cut at: near a field (where header and body states change) or anywhere. */
  private pickCut(fields: readonly number[], len: number): number {
    if (fields.length > 0 && this.below(2) === 0) {
      const f = fields[this.below(fields.length)]! + this.below(12) - 2;
      return Math.max(0, Math.min(len, f));
    }
    return this.below(len + 1);
  }

  private recut(fields: readonly number[]): void {
    const len = this.len;
    if (len < 2) {
      this.cuts = [];
      return;
    }
    switch (this.below(4)) {
      case 0: // fresh random cuts
        this.cuts = [];
        for (let n = this.below(MAX_CUTS / 2) + 1; n > 0; n--) this.cuts.push(this.pickCut(fields, len));
        break;
      case 1: // add one
        this.cuts.push(this.pickCut(fields, len));
        break;
      case 2: // remove one
        if (this.cuts.length > 0) this.cuts.splice(this.below(this.cuts.length), 1);
        break;
      default: // every byte its own chunk, for short inputs: the most splits there are
        if (len <= MAX_CUTS + 1) this.cuts = Array.from({ length: len - 1 }, (_, i) => i + 1);
        else this.cuts.push(this.pickCut(fields, len));
    }
    this.cuts = normalizeCuts(this.cuts, len).slice(0, MAX_CUTS);
  }
}

/** A copy of `input` that owns its bytes (mutator outputs are views of a reused buffer). */
export function stable(input: FuzzInput): FuzzInput {
  return { data: input.data.slice(), cuts: input.cuts.slice(), knob: input.knob };
}

function sortedDistinct(cuts: readonly number[]): boolean {
  for (let i = 1; i < cuts.length; i++) if (cuts[i]! <= cuts[i - 1]!) return false;
  return cuts[0]! > 0;
}
