/**
 * The contract between the fuzz engine and a target (one codec or parser under test): how to
 * generate structured seeds, which fields are worth mutating with which values, and one exec that
 * runs an input through the code under test and checks its oracles, reporting coverage features.
 */
import type { Rng } from '../sim/rng.js';
import type { Coverage } from './coverage.js';
import type { FuzzInput } from './input.js';

/** Which oracle an input broke. Stable ids: crasher files and tests match on them. */
export type OracleId =
  /** The code under test threw something other than its stack's typed error (SpError, EchoError...: an error with a stable `code`). */
  | 'untyped-error'
  /** It threw a typed error where the model expects none, or another code than the model's. */
  | 'wrong-error'
  /** It accepted input the model rejects (a bad length, a bad header). */
  | 'missed-error'
  /** Its output (frames, messages, parsed fields) differs from the model's. */
  | 'output-differs'
  /** Re-encoding what it decoded does not reproduce the input it consumed. */
  | 'reencode-differs'
  /** Whole-buffer and chunked decoding of the same input disagree. */
  | 'chunking-differs'
  /** It asked the allocator for more than the receive limit (or, unlimited, the announced length). */
  | 'alloc-over-limit'
  /** It asked the allocator for a negative, fractional or non-finite size. */
  | 'alloc-invalid'
  /** It did more steps (frames, allocations, events) than the input's size allows: a hang. */
  | 'hang'
  /** A live socket over the simulated network misbehaved (crashed the world, kept a bad pipe...). */
  | 'stream-misbehaved';

export interface Finding {
  oracle: OracleId;
  /** One line: what happened, with the numbers that matter. */
  message: string;
}

/** Per-exec services the engine hands a target. */
export interface ExecContext {
  readonly coverage: Coverage;
  /**
   * Set by the target when the input could not be judged (e.g. a legitimate allocation larger
   * than the fuzzer's memory pool): the exec counts, but neither as a finding nor as coverage.
   */
  skipped: boolean;
}

/** A target bound to one implementation (--impl). */
export interface TargetRunner {
  exec(input: FuzzInput, ctx: ExecContext): Finding | null | Promise<Finding | null>;
}

/** Structure the mutator should know about. */
export interface MutationHints {
  /** Byte patterns worth writing over a field for this knob (lengths near the limit, ids with the top bit...). */
  interesting: (knob: number) => readonly Uint8Array[];
  /** Offsets in data where those patterns belong (length fields, header words); may be empty. */
  fields: (input: FuzzInput) => readonly number[];
  /** A structurally valid unit (a frame, a header word) to insert at a field or at the end. */
  unit: (rng: Rng, knob: number) => Uint8Array;
}

export interface FuzzTarget {
  readonly name: string;
  readonly summary: string;
  /** What each knob value selects (its length is the knob count). */
  readonly knobs: readonly string[];
  /** True when exec returns a promise (the simulated-network target). */
  readonly async: boolean;
  /** True when --impl picks the frame decoder (museum variants plug in there). */
  readonly takesDecoderImpl: boolean;
  /** Default bound on input size in bytes. */
  readonly maxLenBytes: number;
  readonly hints: MutationHints;
  /** `count` structured inputs from fast-check arbitraries, deterministic in `seed`. */
  seeds(seed: number, count: number): FuzzInput[];
  /** Binds the target to an implementation name (already validated against the impl list). */
  runner(impl: string): TargetRunner;
}
