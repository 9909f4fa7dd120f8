/**
 * Target echo-frame: the echo protocol's streaming frame decoder (impl/echo/echo.ts FrameDecoder, or
 * a museum decoder --impl names) fed one input twice, as one buffer and in the input's chunks, each
 * pass with a fresh decoder, a frame limit from the knob and a checking allocator. Oracles, per pass:
 * only EchoProtocolError is ever thrown (untyped-error), and only where the reference model fails
 * (wrong-error, missed-error); the frames, and whether the decoder ends idle, are the model's
 * (output-differs); every frame re-encodes (u32 length + payload) to the input bytes it came from
 * (reencode-differs); no allocation is negative, fractional or above the limit (alloc-invalid,
 * alloc-over-limit); frames plus allocations stay within a step budget per input byte (hang). A
 * chunked pass that disagrees where the whole pass agreed is chunking-differs. Pure and isomorphic.
 */
import fc from 'fast-check';
import {
  DEFAULT_MAX_FRAME_BYTES,
  defaultFrameDecoder,
  EchoProtocolError,
  encodeFrameHeader,
  FRAME_HEADER_BYTES,
  type FrameDecoderFactory,
  type FrameDecoderLike,
} from '../../../impl/echo/echo.js';
import { feature, type Coverage } from '../../../fuzz/coverage.js';
import { describeError } from '../../../fuzz/engine.js';
import { normalizeCuts, type FuzzInput } from '../../../fuzz/input.js';
import type {
  ExecContext,
  Finding,
  FuzzTarget,
  MutationHints,
  OracleId,
  TargetRunner,
} from '../../../fuzz/target.js';
import type { FuzzImpl } from '../../stack.js';
import { ECHO_SPLIT_HEADER, splitHeaderDecoder } from '../museum/split-header.js';

/** Frame limits the knob selects: the default (1 MiB), a small one, none but empty frames, 4 KiB. */
export const ECHO_FRAME_LIMITS: readonly number[] = [DEFAULT_MAX_FRAME_BYTES, 64, 0, 4096];

/** Decoders the target can fuzz (--impl): netlab's, then the museum's decoder variant. */
const DECODERS: ReadonlyMap<string, { summary: string; factory: FrameDecoderFactory }> = new Map([
  ['netlab', { summary: 'impl/echo/echo.ts FrameDecoder as built', factory: defaultFrameDecoder }],
  ['museum/echo-split-header', { summary: ECHO_SPLIT_HEADER.summary, factory: splitHeaderDecoder }],
]);

/** The implementations echo-frame takes (StackFuzz.impls). */
export function echoFuzzImpls(): ReadonlyMap<string, FuzzImpl> {
  return new Map([...DECODERS].map(([name, d]) => [name, { name, summary: d.summary }]));
}

// Coverage feature kinds.
const K_LENGTH = 1;
const K_CUT = 2;
const K_END = 3;
const K_ALLOC = 4;
const K_FRAMES = 5;
const K_OUTCOME = 6;

/** Length classes of a header relative to the limit (coverage). */
function lengthClass(len: number, max: number): number {
  if (len === 0) return 0;
  if (len > max) return len === max + 1 ? 1 : len >= 0x80000000 ? 2 : 3;
  if (len === max) return 4;
  return len < 16 ? 5 : 6;
}

/** The reference model: frames of an input until the first length over the limit. */
class FrameModel {
  headerAt: number[] = [];
  lens: number[] = [];
  /** Where the input ends: on a frame boundary, inside a header (fill bytes), inside a body, or at an error. */
  end: 'boundary' | 'in-header' | 'in-body' | 'error' = 'boundary';
  endFill = 0;
  /** Offset of the header that fails (-1: none). */
  errorAt = -1;
  /** Offset of the frame in progress at the end (-1: none). */
  openAt = -1;
  classes: number[] = [];

  parse(data: Uint8Array, max: number): void {
    this.headerAt = [];
    this.lens = [];
    this.classes = [];
    this.end = 'boundary';
    this.endFill = 0;
    this.errorAt = -1;
    this.openAt = -1;
    let at = 0;
    while (at < data.length) {
      if (data.length - at < FRAME_HEADER_BYTES) {
        this.end = 'in-header';
        this.endFill = data.length - at;
        this.openAt = at;
        return;
      }
      const len = ((data[at]! << 24) | (data[at + 1]! << 16) | (data[at + 2]! << 8) | data[at + 3]!) >>> 0;
      this.classes.push(lengthClass(len, max));
      if (len > max) {
        this.end = 'error';
        this.errorAt = at;
        return;
      }
      if (data.length - at - FRAME_HEADER_BYTES < len) {
        this.end = 'in-body';
        this.openAt = at;
        return;
      }
      this.headerAt.push(at);
      this.lens.push(len);
      at += FRAME_HEADER_BYTES + len;
    }
  }
}

/** Thrown from inside the decoder (onFrame, allocate) to stop it with a finding. */
class FindingSignal extends Error {
  override readonly name = 'FindingSignal';
  constructor(readonly finding: Finding) {
    super(finding.message);
  }
}

/** Bytes the pool hands out per pass: a frame at the default limit plus the largest input. */
const POOL_BYTES = DEFAULT_MAX_FRAME_BYTES + 64 * 1024;

function u32Bytes(n: number): Uint8Array {
  return Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function encodeFrame(payload: Uint8Array): Uint8Array {
  return concat([encodeFrameHeader(payload.length), payload]);
}

/** Lengths worth writing into a length field, for limit `max`. */
function interestingLengths(max: number): number[] {
  return [
    0,
    1,
    3,
    4,
    255,
    256,
    65535,
    65536,
    0x7fffffff,
    0x80000000,
    0xffffffff,
    max - 1,
    max,
    max + 1,
    max + 2,
  ]
    .filter((n) => n >= 0 && n <= 0xffffffff)
    .map((n) => n >>> 0);
}

const HINTS: MutationHints = (() => {
  const patterns = ECHO_FRAME_LIMITS.map((max) => interestingLengths(max).map(u32Bytes));
  const model = new FrameModel();
  return {
    interesting: (knob) => patterns[knob % patterns.length]!,
    fields(input) {
      model.parse(input.data, ECHO_FRAME_LIMITS[input.knob % ECHO_FRAME_LIMITS.length]!);
      const out = [...model.headerAt];
      if (model.openAt >= 0) out.push(model.openAt);
      if (model.errorAt >= 0) out.push(model.errorAt);
      out.push(input.data.length);
      return out;
    },
    unit(rng) {
      const n = rng.next() < 0.8 ? Math.floor(rng.next() * 17) : Math.floor(rng.next() * 200);
      const payload = new Uint8Array(n);
      for (let i = 0; i < n; i++) payload[i] = Math.floor(rng.next() * 256);
      return encodeFrame(payload);
    },
  };
})();

/** Structured inputs: valid frames, then one of the classic ways to go wrong, cut into chunks. */
const streamArb: fc.Arbitrary<FuzzInput> = fc
  .record({
    knob: fc.nat({ max: ECHO_FRAME_LIMITS.length - 1 }),
    payloads: fc.array(fc.uint8Array({ maxLength: 48 }), { maxLength: 6 }),
    tail: fc.oneof(
      fc.constant({ kind: 'none' as const }),
      fc.record({ kind: fc.constant('truncate' as const), drop: fc.integer({ min: 1, max: 6 }) }),
      fc.record({
        kind: fc.constant('length' as const),
        length: fc.constantFrom(...interestingLengths(64), ...interestingLengths(DEFAULT_MAX_FRAME_BYTES)),
        body: fc.uint8Array({ maxLength: 24 }),
      }),
    ),
    cuts: fc.array(fc.nat({ max: 400 }), { maxLength: 6 }),
  })
  .map(({ knob, payloads, tail, cuts }) => {
    let data = concat(payloads.map(encodeFrame));
    if (tail.kind === 'truncate') data = data.slice(0, Math.max(0, data.length - tail.drop));
    else if (tail.kind === 'length') data = concat([data, u32Bytes(tail.length), tail.body]);
    return { data, cuts: normalizeCuts(cuts, data.length), knob };
  });

/** Where a chunk boundary falls in the model's frame structure (coverage). */
function cutState(model: FrameModel, cut: number): number {
  for (let i = 0; i < model.headerAt.length; i++) {
    const h = model.headerAt[i]!;
    const s = h + FRAME_HEADER_BYTES;
    const end = s + model.lens[i]!;
    if (cut < h || cut >= end) continue;
    if (cut < s) return cut - h; // inside the header: 0..3
    return cut === s ? 8 : 9; // the body starts in the next chunk, or is split
  }
  if (model.openAt >= 0 && cut >= model.openAt)
    return cut - model.openAt < FRAME_HEADER_BYTES ? 16 + cut - model.openAt : 24;
  return 31;
}

class EchoFrameRunner implements TargetRunner {
  private readonly model = new FrameModel();
  private readonly pool = new Uint8Array(POOL_BYTES);
  // State of the current pass, read by onFrame and allocate.
  private data: Uint8Array = new Uint8Array(0);
  private max = 0;
  private got = 0;
  private allocs = 0;
  private poolUsed = 0;
  private largestLog2 = -1;
  private stepBudget = 0;
  private chunked = false;
  private readonly onFrame = (payload: Uint8Array): void => this.frame(payload);
  private readonly allocate = (bytes: number): Uint8Array => this.alloc(bytes);

  constructor(private readonly factory: FrameDecoderFactory) {}

  exec(input: FuzzInput, ctx: ExecContext): Finding | null {
    const max = ECHO_FRAME_LIMITS[input.knob % ECHO_FRAME_LIMITS.length]!;
    this.max = max;
    this.data = input.data;
    this.model.parse(input.data, max);
    // At most one frame and one allocation per header's worth of bytes, plus slack.
    this.stepBudget = 2 * Math.ceil(input.data.length / FRAME_HEADER_BYTES) + 8;
    this.modelFeatures(ctx.coverage, input);
    const whole = this.pass(input, false, ctx);
    if (whole !== null || input.cuts.length === 0) return whole;
    return this.pass(input, true, ctx);
  }

  private modelFeatures(cov: Coverage, input: FuzzInput): void {
    const m = this.model;
    const knob = input.knob % ECHO_FRAME_LIMITS.length;
    for (const c of m.classes.slice(0, 32)) cov.hit(feature(K_LENGTH, c | (knob << 4)));
    cov.hit(feature(K_FRAMES, Math.min(m.headerAt.length, 8)));
    for (const c of input.cuts) cov.hit(feature(K_CUT, cutState(m, c)));
    const end = { boundary: 0, 'in-header': 1 + m.endFill, 'in-body': 8, error: 16 }[m.end];
    cov.hit(feature(K_END, end));
  }

  private alloc(bytes: number): Uint8Array {
    if (++this.allocs + this.got > this.stepBudget)
      throw new FindingSignal({
        oracle: 'hang',
        message: `more than ${this.stepBudget} frames and allocations for ${this.data.length} bytes`,
      });
    if (!Number.isSafeInteger(bytes) || bytes < 0)
      throw new FindingSignal({ oracle: 'alloc-invalid', message: `asked the allocator for ${bytes} bytes` });
    if (bytes > this.max)
      throw new FindingSignal({
        oracle: 'alloc-over-limit',
        message: `asked the allocator for ${bytes} bytes, above maxFrameBytes (${this.max})`,
      });
    const log2 = bytes === 0 ? 0 : 32 - Math.clz32(bytes);
    if (log2 > this.largestLog2) this.largestLog2 = log2;
    if (bytes > POOL_BYTES - this.poolUsed) return new Uint8Array(bytes); // legitimate, just large
    // Not zeroed: a decoder fills a payload completely before it hands it out.
    const out = this.pool.subarray(this.poolUsed, this.poolUsed + bytes);
    this.poolUsed += bytes;
    return out;
  }

  /** Feeds the input as one buffer, or in its chunks, to a fresh decoder, judging what comes out. */
  private pass(input: FuzzInput, chunked: boolean, ctx: ExecContext): Finding | null {
    const m = this.model;
    this.got = 0;
    this.allocs = 0;
    this.poolUsed = 0;
    this.largestLog2 = -1;
    this.chunked = chunked;
    const where = chunked ? `in ${input.cuts.length + 1} chunks` : 'as one buffer';
    const mismatch: OracleId = chunked ? 'chunking-differs' : 'output-differs';
    let decoder: FrameDecoderLike;
    try {
      decoder = this.factory(this.max, this.allocate);
    } catch (e) {
      return { oracle: 'untyped-error', message: `the decoder factory threw: ${describeError(e)}` };
    }
    const data = input.data;
    const cuts = chunked ? input.cuts : [];
    let thrown: unknown = undefined;
    let threw = false;
    for (let k = 0, from = 0; k <= cuts.length; k++) {
      const to = k < cuts.length ? cuts[k]! : data.length;
      try {
        decoder.push(chunked ? data.subarray(from, to) : data, this.onFrame);
      } catch (e) {
        thrown = e;
        threw = true;
        break;
      }
      from = to;
    }
    const cov = ctx.coverage;
    cov.hit(feature(K_ALLOC, Math.min(this.allocs, 7) | ((this.largestLog2 + 1) << 3)));
    if (threw) {
      if (thrown instanceof FindingSignal) return thrown.finding;
      if (!(thrown instanceof EchoProtocolError))
        return { oracle: 'untyped-error', message: `decoding ${where} threw ${describeError(thrown)}` };
      cov.hit(feature(K_OUTCOME, 1 | (chunked ? 8 : 0)));
      if (m.end !== 'error')
        return {
          oracle: chunked ? 'chunking-differs' : 'wrong-error',
          message: `decoding ${where} threw ${thrown.code} after ${this.got} frames; the model decodes ${m.headerAt.length} frames and no error (${thrown.message})`,
        };
      if (thrown.code !== 'ErrFrameTooLarge')
        return {
          oracle: chunked ? 'chunking-differs' : 'wrong-error',
          message: `decoding ${where} threw ${thrown.code}; the model fails with ErrFrameTooLarge at offset ${m.errorAt}`,
        };
    } else {
      cov.hit(feature(K_OUTCOME, chunked ? 8 : 0));
      if (m.end === 'error')
        return {
          oracle: chunked ? 'chunking-differs' : 'missed-error',
          message: `decoding ${where} accepted the length at offset ${m.errorAt}, over the limit of ${this.max} bytes`,
        };
      if (decoder.idle !== (m.end === 'boundary'))
        return {
          oracle: mismatch,
          message: `decoding ${where} ended ${decoder.idle ? 'idle' : 'inside a frame'}; the input ends ${m.end === 'boundary' ? 'on a frame boundary' : `inside a frame (${m.end})`}`,
        };
    }
    if (this.got !== m.headerAt.length)
      return {
        oracle: mismatch,
        message: `decoding ${where} delivered ${this.got} frames; the model has ${m.headerAt.length}`,
      };
    return null;
  }

  private frame(payload: Uint8Array): void {
    const m = this.model;
    const i = this.got++;
    if (this.got + this.allocs > this.stepBudget)
      throw new FindingSignal({
        oracle: 'hang',
        message: `more than ${this.stepBudget} frames and allocations for ${this.data.length} bytes`,
      });
    const oracle: OracleId = this.chunked ? 'chunking-differs' : 'output-differs';
    if (i >= m.headerAt.length)
      throw new FindingSignal({
        oracle,
        message: `frame ${i + 1} delivered (${payload.length} bytes) where the model has ${m.headerAt.length} frames`,
      });
    const at = m.headerAt[i]!;
    const start = at + FRAME_HEADER_BYTES;
    const data = this.data;
    if (payload.length !== m.lens[i])
      throw new FindingSignal({
        oracle,
        message: `frame ${i + 1} has ${payload.length} bytes; the model's has ${m.lens[i]}`,
      });
    // Re-encoding: the header of a frame of this payload is the input's header bytes.
    const header = encodeFrameHeader(payload.length);
    for (let k = 0; k < FRAME_HEADER_BYTES; k++)
      if (header[k] !== data[at + k])
        throw new FindingSignal({
          oracle: this.chunked ? 'chunking-differs' : 'reencode-differs',
          message: `frame ${i + 1} (${payload.length} bytes) re-encodes to a header that differs from the input at offset ${at + k}`,
        });
    for (let k = 0; k < payload.length; k++)
      if (payload[k] !== data[start + k])
        throw new FindingSignal({
          oracle: this.chunked ? 'chunking-differs' : 'reencode-differs',
          message: `frame ${i + 1} differs from the input at payload byte ${k} (offset ${start + k})`,
        });
  }
}

export const ECHO_FRAME: FuzzTarget = {
  name: 'echo-frame',
  summary: "the echo protocol's streaming frame decoder (u32 length + payload) with a frame limit",
  knobs: ECHO_FRAME_LIMITS.map(
    (m) =>
      `maxFrameBytes ${m}${m === DEFAULT_MAX_FRAME_BYTES ? ' (default)' : m === 0 ? ' (empty frames only)' : ''}`,
  ),
  async: false,
  takesDecoderImpl: true,
  maxLenBytes: 4096,
  hints: HINTS,
  seeds(seed, count) {
    return fc.sample(streamArb, { seed, numRuns: count });
  },
  runner(impl) {
    const d = DECODERS.get(impl);
    if (d === undefined) throw new Error(`unknown echo decoder implementation '${impl}'`);
    return new EchoFrameRunner(d.factory);
  },
};
