/**
 * Targets for the SP protocol headers inside a message body (sans-I/O parsers the protocols share):
 *
 * - sp-req-rep-header: splitBacktrace (REP0 and RESPONDENT0 with TTL words; XREP0 and XRESPONDENT0
 *   with TTL - 1, their own pipe word counting against TTL) and replyIdOf (the request id REQ0, and
 *   the survey id SURVEYOR0, read from a reply).
 * - sp-hop-header: PAIR1's hopCountOf and STAR's isHopCount (a 4-byte hop count with its top three
 *   bytes zero).
 *
 * Oracles: nothing throws; the outcome equals the reference model's, written from the RFCs
 * (sp-request-reply-01: a stack of big-endian words, each with the top bit clear except the last,
 * the request id; at most TTL words); what was split re-encodes to the input (header + payload =
 * body; encodeU32(id) = the first four bytes). Messages arrive whole, so there is no chunking here;
 * sp-stream fuzzes the same parsers behind a live pipe.
 */
import fc from 'fast-check';
import { hopCountOf } from '../../../impl/sp/protocol/pair1.js';
import { splitBacktrace } from '../../../impl/sp/protocol/rep0.js';
import { encodeU32, replyIdOf } from '../../../impl/sp/protocol/req0.js';
import { isHopCount } from '../../../impl/sp/protocol/star.js';
import type { Rng } from '../../../sim/rng.js';
import { feature } from '../../../fuzz/coverage.js';
import { describeError } from '../../../fuzz/engine.js';
import type { FuzzInput } from '../../../fuzz/input.js';
import type { ExecContext, Finding, FuzzTarget, TargetRunner } from '../../../fuzz/target.js';
import { concat, u32Bytes } from './common.js';

const MSB = 0x8000_0000;

interface BacktraceKnob {
  kind: 'backtrace';
  label: string;
  ttlWords: number;
}
interface ReplyIdKnob {
  kind: 'reply-id';
  label: string;
}
type HeaderKnob = BacktraceKnob | ReplyIdKnob;

const REQ_REP_KNOBS: readonly HeaderKnob[] = [
  { kind: 'backtrace', label: 'REP0/RESPONDENT0 backtrace, TTL 8 (default)', ttlWords: 8 },
  { kind: 'backtrace', label: 'XREP0/XRESPONDENT0 backtrace, TTL 8 (7 words past the pipe id)', ttlWords: 7 },
  { kind: 'backtrace', label: 'backtrace, TTL 1', ttlWords: 1 },
  { kind: 'backtrace', label: "backtrace, TTL 15 (nng's maximum)", ttlWords: 15 },
  { kind: 'backtrace', label: "backtrace, TTL 255 (mangos' maximum)", ttlWords: 255 },
  { kind: 'reply-id', label: 'REQ0/SURVEYOR0 reply id' },
];

function word(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/** The model's backtrace length in words, or 0 for garbage (no id word) and -1 for a stack deeper than TTL. */
export function modelBacktraceWords(body: Uint8Array, ttlWords: number): number {
  const complete = Math.floor(body.length / 4);
  let idWord = -1;
  for (let w = 0; w < complete; w++) {
    if (word(body, 4 * w) >= MSB) {
      idWord = w;
      break;
    }
  }
  if (idWord >= 0) return idWord + 1 <= ttlWords ? idWord + 1 : -1;
  // No id word among the complete words: too deep if more than TTL of them, else garbage.
  return complete > ttlWords ? -1 : 0;
}

const K_KNOB = 1;
const K_OUTCOME = 2;
const K_TAIL = 3;

class ReqRepRunner implements TargetRunner {
  exec(input: FuzzInput, ctx: ExecContext): Finding | null {
    const knob = REQ_REP_KNOBS[input.knob % REQ_REP_KNOBS.length]!;
    const body = input.data;
    const cov = ctx.coverage;
    cov.hit(feature(K_KNOB, input.knob % REQ_REP_KNOBS.length));
    cov.hit(feature(K_TAIL, (body.length % 4) | (Math.min(body.length >> 2, 20) << 2)));
    if (knob.kind === 'reply-id') {
      let id: number | undefined;
      try {
        id = replyIdOf(body);
      } catch (e) {
        return { oracle: 'untyped-error', message: `replyIdOf threw ${describeError(e)}` };
      }
      const want = body.length >= 4 && word(body, 0) >= MSB ? word(body, 0) : undefined;
      cov.hit(feature(K_OUTCOME, want === undefined ? (body.length < 4 ? 1 : 2) : 3));
      if (id !== want)
        return {
          oracle: 'output-differs',
          message: `replyIdOf gave ${String(id)}; the model gives ${String(want)}`,
        };
      if (id !== undefined) {
        const again = encodeU32(id);
        for (let k = 0; k < 4; k++)
          if (again[k] !== body[k])
            return { oracle: 'reencode-differs', message: `id ${id} re-encodes differently at byte ${k}` };
      }
      return null;
    }
    const want = modelBacktraceWords(body, knob.ttlWords);
    cov.hit(feature(K_OUTCOME, want <= 0 ? want + 2 : 8 + Math.min(want, 16)));
    let split: { header: Uint8Array; payload: Uint8Array } | undefined;
    try {
      split = splitBacktrace(body, knob.ttlWords);
    } catch (e) {
      return { oracle: 'untyped-error', message: `splitBacktrace threw ${describeError(e)}` };
    }
    if (split === undefined) {
      if (want > 0)
        return {
          oracle: 'output-differs',
          message: `splitBacktrace dropped a body whose backtrace is ${want} words (TTL ${knob.ttlWords})`,
        };
      return null;
    }
    const words = split.header.length / 4;
    if (want <= 0 || words !== want) {
      return {
        oracle: want <= 0 ? 'missed-error' : 'output-differs',
        message: `splitBacktrace gave a ${split.header.length}-byte header; the model ${want === 0 ? 'finds no id word' : want < 0 ? `finds more than ${knob.ttlWords} words` : `gives ${want} words`}`,
      };
    }
    const again = concat(split.header, split.payload);
    if (again.length !== body.length || again.some((b, i) => b !== body[i]))
      return {
        oracle: 'reencode-differs',
        message: 'header + payload differ from the body they were split from',
      };
    return null;
  }
}

const ID_PATTERNS = [0x8000_0000, 0x7fff_ffff, 0xffff_ffff, 0, 1, 0x8000_0001, 8, 9, 255, 256].map(u32Bytes);

function wordStackArb(knobs: number): fc.Arbitrary<FuzzInput> {
  const pipeWord = fc.integer({ min: 0, max: 0x7fff_ffff });
  const idWord = fc.integer({ min: MSB, max: 0xffff_ffff });
  return fc
    .record({
      pipes: fc.array(pipeWord, { maxLength: 18 }),
      id: fc.option(idWord),
      payload: fc.uint8Array({ maxLength: 12 }),
      cut: fc.option(fc.nat({ max: 80 })),
      knob: fc.nat({ max: knobs - 1 }),
    })
    .map(({ pipes, id, payload, cut, knob }) => {
      let data = concat(...pipes.map(u32Bytes), id === null ? new Uint8Array(0) : u32Bytes(id), payload);
      if (cut !== null) data = data.slice(0, cut);
      return { data, cuts: [], knob };
    });
}

/** Word-aligned offsets of the first 24 words: where ids and pipe ids go. */
function wordFields(input: FuzzInput): number[] {
  const out: number[] = [];
  for (let at = 0; at <= input.data.length && out.length < 24; at += 4) out.push(at);
  return out;
}

export const SP_REQ_REP_HEADER: FuzzTarget = {
  name: 'sp-req-rep-header',
  summary: 'REQ/REP and SURVEYOR/RESPONDENT header parsing: backtrace split with TTL, reply and survey ids',
  knobs: REQ_REP_KNOBS.map((k) => k.label),
  async: false,
  takesDecoderImpl: false,
  maxLenBytes: 1100,
  hints: {
    interesting: () => ID_PATTERNS,
    fields: wordFields,
    unit: (rng: Rng) =>
      u32Bytes(
        rng.next() < 0.5
          ? Math.floor(rng.next() * 0x8000_0000)
          : (MSB + Math.floor(rng.next() * 0x8000_0000)) >>> 0,
      ),
  },
  seeds(seed, count) {
    return fc.sample(wordStackArb(REQ_REP_KNOBS.length), { seed, numRuns: count });
  },
  runner() {
    return new ReqRepRunner();
  },
};

const HOP_KNOBS = ['PAIR1 hopCountOf', 'STAR isHopCount'] as const;

class HopRunner implements TargetRunner {
  exec(input: FuzzInput, ctx: ExecContext): Finding | null {
    const star = input.knob % HOP_KNOBS.length === 1;
    const b = input.data;
    const want = b.length === 4 && b[0] === 0 && b[1] === 0 && b[2] === 0 ? b[3]! : undefined;
    ctx.coverage.hit(
      feature(
        K_OUTCOME,
        (want === undefined ? 0 : 1 + (want > 8 ? 1 : 0)) | (star ? 4 : 0) | (Math.min(b.length, 8) << 3),
      ),
    );
    let got: number | undefined;
    try {
      got = star ? (isHopCount(b) ? b[3] : undefined) : hopCountOf(b);
    } catch (e) {
      return { oracle: 'untyped-error', message: `${HOP_KNOBS[star ? 1 : 0]} threw ${describeError(e)}` };
    }
    if (got !== want)
      return {
        oracle: 'output-differs',
        message: `${HOP_KNOBS[star ? 1 : 0]} gave ${String(got)}; the model gives ${String(want)}`,
      };
    if (got !== undefined && (b[3] !== got || encodeU32(got).some((x, i) => x !== b[i])))
      return { oracle: 'reencode-differs', message: `hop count ${got} re-encodes differently` };
    return null;
  }
}

export const SP_HOP_HEADER: FuzzTarget = {
  name: 'sp-hop-header',
  summary: 'PAIR1 and STAR hop-count headers (4 bytes, top three zero)',
  knobs: HOP_KNOBS,
  async: false,
  takesDecoderImpl: false,
  maxLenBytes: 16,
  hints: {
    interesting: () => [0, 1, 8, 9, 255, 256, 0x0100_0000, 0xffff_ffff].map(u32Bytes),
    fields: () => [0],
    unit: (rng: Rng) => u32Bytes(Math.floor(rng.next() * 300)),
  },
  seeds(seed, count) {
    const arb = fc.record({
      data: fc.oneof(fc.integer({ min: 0, max: 300 }).map(u32Bytes), fc.uint8Array({ maxLength: 6 })),
      knob: fc.nat({ max: HOP_KNOBS.length - 1 }),
    });
    return fc.sample(arb, { seed, numRuns: count }).map(({ data, knob }) => ({ data, cuts: [], knob }));
  },
  runner() {
    return new HopRunner();
  },
};
