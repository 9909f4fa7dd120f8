/**
 * Targets sp-frame and sp-ipc-frame: the streaming frame decoder (impl/sp/wire/frames.ts, or any
 * decoder factory --impl names) fed one input twice, as one buffer and in the input's chunks, each
 * pass with a fresh decoder, a receive limit from the knob and a checking allocator. Oracles, per
 * pass: every delivered payload re-encodes (encodeFrameHeader + payload) to the next bytes of the
 * input; frames and the error (none, or its code) are those of the reference model
 * (frame-model.ts); only SpError is ever thrown; no allocation is negative or above the receive
 * limit (unlimited: above the largest length the input announced); frames plus allocations stay
 * within a step budget per input byte. A chunked pass that disagrees where the whole pass agreed
 * is chunking-differs.
 */
import fc from 'fast-check';
import type { FrameDecoderFactory, FrameDecoderLike } from '../../../impl/sp/core/pipe.js';
import { SpError } from '../../../impl/sp/errors.js';
import { DEFAULT_MAX_RECV_BYTES, encodeFrame, writeFrameHeader } from '../../../impl/sp/wire/frames.js';
import type { Rng } from '../../../sim/rng.js';
import { feature, type Coverage } from '../../../fuzz/coverage.js';
import { describeError } from '../../../fuzz/engine.js';
import { normalizeCuts, type FuzzInput } from '../../../fuzz/input.js';
import { decoderImpls } from './impls.js';
import type {
  ExecContext,
  Finding,
  FuzzTarget,
  MutationHints,
  OracleId,
  TargetRunner,
} from '../../../fuzz/target.js';
import { AllocRefused, CheckingPool, concat, FindingSignal, signal, u64Bytes } from './common.js';
import { FrameModel, LENGTH_CLASSES } from './frame-model.js';

/** Receive limits the knob selects: the default, none, and two small ones that make max+1 cheap to reach. */
export const FRAME_LIMITS: readonly number[] = [DEFAULT_MAX_RECV_BYTES, 0, 64, 1];

/** Coverage feature kinds of the frame targets (fuzz/README.md). */
export const K_LENGTH = 1;
export const K_CUT = 2;
export const K_END = 3;
export const K_ALLOC = 4;
export const K_FRAMES = 5;
export const K_OUTCOME = 6;

const NO_CUTS: readonly number[] = [];

const ERROR_FEATURE: Readonly<Record<string, number>> = { ErrTooLong: 1, ErrBadHeader: 2 };

/** Lengths worth writing into a length field, for receive limit `max`. */
export function interestingLengths(max: number): bigint[] {
  const out = [
    0n,
    1n,
    7n,
    8n,
    255n,
    256n,
    65535n,
    65536n,
    2n ** 31n - 1n,
    2n ** 31n,
    2n ** 32n - 1n,
    2n ** 32n,
    2n ** 53n - 1n,
    2n ** 53n,
    2n ** 53n + 1n,
    2n ** 56n,
    2n ** 60n - 1n,
    2n ** 63n - 1n,
    2n ** 63n,
    2n ** 64n - 2n,
    2n ** 64n - 1n,
  ];
  if (max > 0) out.push(BigInt(max) - 1n, BigInt(max), BigInt(max) + 1n, BigInt(max) + 2n);
  return out.filter((n) => n >= 0n);
}

function headerPatterns(ipc: boolean, max: number): Uint8Array[] {
  const lengths = interestingLengths(max).map(u64Bytes);
  if (!ipc) return lengths;
  // ipc: the type byte comes with the length; mostly the good one, sometimes a bad one.
  const out = lengths.map((l) => concat(Uint8Array.of(0x01), l));
  for (const t of [0x00, 0x02, 0x80, 0xff]) out.push(concat(Uint8Array.of(t), u64Bytes(0n)));
  return out;
}

function frameHints(ipc: boolean): MutationHints {
  const patterns = FRAME_LIMITS.map((max) => headerPatterns(ipc, max));
  const model = new FrameModel();
  return {
    interesting: (knob) => patterns[knob % patterns.length]!,
    fields(input) {
      // Header offsets (the type byte on ipc, else the length), the one in progress included.
      model.parse(input.data, ipc, FRAME_LIMITS[input.knob % FRAME_LIMITS.length]!);
      const out: number[] = [];
      for (let i = 0; i < model.count; i++) out.push(model.headerAt[i]!);
      if (model.openAt >= 0) out.push(model.openAt);
      if (model.errorAt >= 0) out.push(model.errorAt);
      // Where the next frame would start.
      out.push(input.data.length);
      return out;
    },
    unit(rng: Rng, _knob: number) {
      const small = rng.next() < 0.8;
      const n = small ? Math.floor(rng.next() * 17) : Math.floor(rng.next() * 200);
      const payload = new Uint8Array(n);
      for (let i = 0; i < n; i++) payload[i] = Math.floor(rng.next() * 256);
      return encodeFrame(payload, ipc);
    },
  };
}

/** fast-check arbitrary of structured streams: valid frames, then one of the classic ways to go wrong. */
function streamArb(ipc: boolean): fc.Arbitrary<FuzzInput> {
  const tail = fc.oneof(
    fc.constant({ kind: 'none' as const }),
    fc.record({ kind: fc.constant('truncate' as const), drop: fc.integer({ min: 1, max: 12 }) }),
    fc.record({
      kind: fc.constant('length' as const),
      length: fc.constantFrom(...interestingLengths(0), 2n ** 20n, 2n ** 20n + 1n, 63n, 64n, 65n),
      body: fc.uint8Array({ maxLength: 24 }),
    }),
    fc.record({ kind: fc.constant('type' as const), type: fc.integer({ min: 0, max: 255 }) }),
  );
  return fc
    .record({
      knob: fc.nat({ max: FRAME_LIMITS.length - 1 }),
      payloads: fc.array(fc.uint8Array({ maxLength: 48 }), { maxLength: 6 }),
      tail,
      cuts: fc.array(fc.nat({ max: 400 }), { maxLength: 6 }),
    })
    .map(({ knob, payloads, tail, cuts }) => {
      const parts = payloads.map((p) => encodeFrame(p, ipc));
      let data = concat(...parts);
      if (tail.kind === 'truncate') data = data.subarray(0, Math.max(0, data.length - tail.drop)).slice();
      else if (tail.kind === 'length')
        data = concat(data, ipc ? Uint8Array.of(1) : new Uint8Array(0), u64Bytes(tail.length), tail.body);
      else if (tail.kind === 'type' && ipc)
        data = concat(data, Uint8Array.of(tail.type), u64Bytes(3n), Uint8Array.of(1, 2, 3));
      return { data, cuts: normalizeCuts(cuts, data.length), knob };
    });
}

function whereText(chunked: boolean, cutCount: number): string {
  return chunked ? `in ${cutCount + 1} chunks` : 'as one buffer';
}

/** Where a chunk boundary at `cut` falls in the model's frame structure (coverage). */
function cutState(model: FrameModel, cut: number, headerBytes: number): number {
  for (let i = 0; i < model.count; i++) {
    const h = model.headerAt[i]!;
    const s = model.starts[i]!;
    const end = s + model.lens[i]!;
    if (cut < h || cut >= end) continue;
    if (cut < s) return cut - h; // inside the header: 0..headerBytes-1
    if (cut === s) return 16; // body starts in the next chunk
    return cut === end - 1 ? 18 : 17; // inside the body, at its last byte or before
  }
  if (model.openAt >= 0 && cut >= model.openAt)
    return cut - model.openAt < headerBytes ? 32 + (cut - model.openAt) : 48;
  return 63;
}

class FrameRunner implements TargetRunner {
  private readonly model = new FrameModel();
  private readonly pool = new CheckingPool();
  private readonly headerBytes: number;
  /** Where the re-encoding oracle writes each delivered frame's header. */
  private readonly header = new Uint8Array(9);
  // State of the current pass, read by onFrame.
  private data: Uint8Array = new Uint8Array(0);
  private got = 0;
  private stepBudget = 0;
  private chunked = false;
  private readonly onFrame = (payload: Uint8Array): void => this.frame(payload);

  constructor(
    private readonly ipc: boolean,
    private readonly factory: FrameDecoderFactory,
  ) {
    this.headerBytes = ipc ? 9 : 8;
  }

  exec(input: FuzzInput, ctx: ExecContext): Finding | null {
    const max = FRAME_LIMITS[input.knob % FRAME_LIMITS.length]!;
    const model = this.model;
    model.parse(input.data, this.ipc, max);
    this.data = input.data;
    // Frames and allocations: at most one of each per header's worth of bytes, plus slack.
    this.stepBudget = 2 * Math.ceil(input.data.length / this.headerBytes) + 8;
    const cov = ctx.coverage;
    this.modelFeatures(cov, input, max);
    const whole = this.pass(input, max, false, ctx);
    if (whole !== null || ctx.skipped) return whole;
    if (input.cuts.length === 0) return null;
    return this.pass(input, max, true, ctx);
  }

  private modelFeatures(cov: Coverage, input: FuzzInput, max: number): void {
    const model = this.model;
    const limitKind = max === 0 ? 1 : max === DEFAULT_MAX_RECV_BYTES ? 0 : 2;
    const classes = Math.min(model.classCount, 32);
    for (let i = 0; i < classes; i++) cov.hit(feature(K_LENGTH, model.classes[i]! | (limitKind << 8)));
    cov.hit(feature(K_FRAMES, Math.min(model.count, 8)));
    for (const c of input.cuts) cov.hit(feature(K_CUT, cutState(model, c, this.headerBytes)));
    const end =
      model.end === 'in-header'
        ? 1 + model.endFill
        : model.end === 'in-body'
          ? 16
          : model.end === 'error'
            ? 32
            : 0;
    cov.hit(feature(K_END, end | ((ERROR_FEATURE[model.error ?? ''] ?? 0) << 6)));
  }

  /** Feeds the input as one buffer, or in its chunks, to a fresh decoder, judging what comes out. */
  private pass(input: FuzzInput, max: number, chunked: boolean, ctx: ExecContext): Finding | null {
    const model = this.model;
    this.got = 0;
    this.chunked = chunked;
    this.pool.reset(
      max > 0 ? max : model.maxAnnounced,
      max > 0 ? `maxRecvBytes` : 'the largest length announced',
      this.stepBudget,
    );
    let decoder: FrameDecoderLike;
    try {
      decoder = this.factory({ maxRecvBytes: max, ipc: this.ipc, allocator: this.pool });
    } catch (e) {
      return { oracle: 'untyped-error', message: `the decoder factory threw: ${describeError(e)}` };
    }
    let thrown: unknown = undefined;
    let threw = false;
    const data = input.data;
    const cuts = chunked ? input.cuts : NO_CUTS;
    // Chunk k is data[cuts[k-1] .. cuts[k]), the last one running to the end.
    for (let k = 0, from = 0; k <= cuts.length; k++) {
      const to = k < cuts.length ? cuts[k]! : data.length;
      try {
        decoder.feed(chunked ? data.subarray(from, to) : data, this.onFrame);
      } catch (e) {
        thrown = e;
        threw = true;
        break;
      }
      from = to;
    }
    const cov = ctx.coverage;
    cov.hit(feature(K_ALLOC, Math.min(this.pool.requests, 7) | ((this.pool.largestLog2 + 1) << 3)));
    const mismatch: OracleId = chunked ? 'chunking-differs' : 'output-differs';
    if (threw) {
      if (thrown instanceof FindingSignal) return thrown.finding;
      if (thrown instanceof AllocRefused) {
        ctx.skipped = true;
        return null;
      }
      if (!(thrown instanceof SpError)) {
        return {
          oracle: 'untyped-error',
          message: `decoding ${whereText(chunked, cuts.length)} threw ${describeError(thrown)}`,
        };
      }
      cov.hit(feature(K_OUTCOME, (ERROR_FEATURE[thrown.code] ?? 7) | (chunked ? 8 : 0)));
      if (model.error === null) {
        return {
          oracle: chunked ? 'chunking-differs' : 'wrong-error',
          message: `decoding ${whereText(chunked, cuts.length)} threw ${thrown.code} after ${this.got} frames; the model decodes ${model.count} frames and no error (${thrown.message})`,
        };
      }
      if (thrown.code !== model.error) {
        return {
          oracle: chunked ? 'chunking-differs' : 'wrong-error',
          message: `decoding ${whereText(chunked, cuts.length)} threw ${thrown.code}; the model fails with ${model.error} at offset ${model.errorAt}`,
        };
      }
    } else {
      cov.hit(feature(K_OUTCOME, chunked ? 8 : 0));
      if (model.error !== null) {
        return {
          oracle: chunked ? 'chunking-differs' : 'missed-error',
          message: `decoding ${whereText(chunked, cuts.length)} accepted the header at offset ${model.errorAt} (${LENGTH_CLASSES[model.classes[model.classCount - 1]! & 0x7f]} length${model.classes[model.classCount - 1]! & 0x80 ? ', bad ipc type byte' : ''}) that must fail with ${model.error}`,
        };
      }
    }
    if (this.got !== model.count) {
      return {
        oracle: mismatch,
        message: `decoding ${whereText(chunked, cuts.length)} delivered ${this.got} frames; the model has ${model.count}`,
      };
    }
    return null;
  }

  private frame(payload: Uint8Array): void {
    const model = this.model;
    const i = this.got++;
    if (this.got + this.pool.requests > this.stepBudget)
      throw signal(
        'hang',
        `more than ${this.stepBudget} frames and allocations for ${this.data.length} bytes`,
      );
    if (i >= model.count) {
      throw signal(
        this.chunked ? 'chunking-differs' : 'output-differs',
        `frame ${i + 1} delivered (${payload.length} bytes) where the model has ${model.count} frames`,
      );
    }
    // Re-encode and compare with the input at the frame's place: header, then payload. The
    // chunked pass (run only after the whole pass agreed) compares with the model's frame instead.
    const data = this.data;
    const at = model.headerAt[i]!;
    const start = model.starts[i]!;
    const oracle: OracleId = this.chunked ? 'chunking-differs' : 'reencode-differs';
    if (this.chunked) {
      if (payload.length !== model.lens[i]) {
        throw signal(
          oracle,
          `frame ${i + 1} has ${payload.length} bytes in chunks, ${model.lens[i]} as one buffer`,
        );
      }
    } else {
      const header = this.header;
      const headerBytes = writeFrameHeader(header, payload.length, this.ipc);
      for (let k = 0; k < headerBytes; k++) {
        if (header[k] !== data[at + k]) {
          throw signal(
            oracle,
            `frame ${i + 1} (${payload.length} bytes) re-encodes to a header that differs from the input at offset ${at + k}`,
          );
        }
      }
      if (payload.length > data.length - start) {
        throw signal(
          oracle,
          `frame ${i + 1} has ${payload.length} bytes; only ${data.length - start} follow its header`,
        );
      }
    }
    // A zero-copy view of the input at the right place is equal by construction.
    if (payload.buffer === data.buffer && payload.byteOffset === data.byteOffset + start) return;
    for (let k = 0; k < payload.length; k++) {
      if (payload[k] !== data[start + k]) {
        throw signal(
          oracle,
          `frame ${i + 1} differs from the input at payload byte ${k} (offset ${start + k})`,
        );
      }
    }
  }
}

function frameTarget(ipc: boolean): FuzzTarget {
  const hints = frameHints(ipc);
  return {
    name: ipc ? 'sp-ipc-frame' : 'sp-frame',
    summary: ipc
      ? 'the frame decoder on ipc framing (type byte 0x01 + u64 length + payload)'
      : 'the streaming frame decoder (u64 length + payload) with a receive limit',
    knobs: FRAME_LIMITS.map(
      (m) =>
        `maxRecvBytes ${m}${m === 0 ? ' (unlimited)' : m === DEFAULT_MAX_RECV_BYTES ? ' (default)' : ''}`,
    ),
    async: false,
    takesDecoderImpl: true,
    maxLenBytes: 4096,
    hints,
    seeds(seed, count) {
      return fc.sample(streamArb(ipc), { seed, numRuns: count });
    },
    runner(impl) {
      const d = decoderImpls().get(impl);
      if (d === undefined) throw new Error(`unknown decoder implementation '${impl}'`);
      return new FrameRunner(ipc, d.factory);
    },
  };
}

export const SP_FRAME = frameTarget(false);
export const SP_IPC_FRAME = frameTarget(true);
