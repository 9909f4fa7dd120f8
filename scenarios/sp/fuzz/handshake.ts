/**
 * Target sp-handshake: decodeHandshake (impl/sp/wire/handshake.ts) on any bytes, expecting the peer
 * id the knob picks (or none). Oracles: only SpError is thrown; the outcome (the id, or the error
 * code) is the reference model's, written from the TCP mapping (`00 'S' 'P' 00 <id u16> 00 00`,
 * mangos' check order: magic and reserved bytes, then version, then peer protocol); an accepted
 * header re-encodes (encodeHandshake) to the input's first 8 bytes; bytes after the first 8 change
 * nothing. The byte-at-a-time collection of the header happens in the pipe: sp-stream covers it.
 */
import fc from 'fast-check';
import { SpError, type SpErrorCode } from '../../../impl/sp/errors.js';
import { decodeHandshake, encodeHandshake } from '../../../impl/sp/wire/handshake.js';
import { PROTOCOLS, protocolById } from '../../../impl/sp/wire/protocols.js';
import type { Rng } from '../../../sim/rng.js';
import { feature } from '../../../fuzz/coverage.js';
import { describeError } from '../../../fuzz/engine.js';
import type { FuzzInput } from '../../../fuzz/input.js';
import type { ExecContext, Finding, FuzzTarget, TargetRunner } from '../../../fuzz/target.js';

/** Knob 0 expects no particular peer; knob k > 0 expects PROTOCOLS[k - 1]'s id. */
const EXPECTED: readonly (number | undefined)[] = [undefined, ...PROTOCOLS.map((p) => p.id)];

type Outcome = { id: number } | { code: SpErrorCode };

/** The model: which check fails first, or the announced id. */
export function modelHandshake(b: Uint8Array, expected: number | undefined): Outcome & { check: number } {
  if (b.length < 8) return { code: 'ErrBadHeader', check: 1 };
  if (b[0] !== 0x00 || b[1] !== 0x53 || b[2] !== 0x50) return { code: 'ErrBadHeader', check: 2 };
  if (b[6] !== 0x00 || b[7] !== 0x00) return { code: 'ErrBadHeader', check: 3 };
  if (b[3] !== 0x00) return { code: 'ErrBadVersion', check: 4 };
  const id = (b[4]! << 8) | b[5]!;
  if (expected !== undefined && id !== expected) return { code: 'ErrBadProto', check: 5 };
  return { id, check: 0 };
}

const K_CHECK = 1;
const K_LENGTH = 2;
const K_ID = 3;

function attempt(data: Uint8Array, expected: number | undefined): Outcome | { untyped: unknown } {
  try {
    return { id: decodeHandshake(data, expected) };
  } catch (e) {
    return e instanceof SpError ? { code: e.code } : { untyped: e };
  }
}

function describe(o: Outcome): string {
  return 'id' in o ? `id 0x${o.id.toString(16)}` : o.code;
}

class HandshakeRunner implements TargetRunner {
  exec(input: FuzzInput, ctx: ExecContext): Finding | null {
    const expected = EXPECTED[input.knob % EXPECTED.length];
    const data = input.data;
    const model = modelHandshake(data, expected);
    const cov = ctx.coverage;
    cov.hit(feature(K_CHECK, model.check));
    cov.hit(feature(K_LENGTH, Math.min(data.length, 9)));
    if (data.length >= 6) {
      const id = (data[4]! << 8) | data[5]!;
      cov.hit(feature(K_ID, id === expected ? 0 : protocolById(id) !== undefined ? 1 : 2));
    }
    const got = attempt(data, expected);
    if ('untyped' in got)
      return { oracle: 'untyped-error', message: `decodeHandshake threw ${describeError(got.untyped)}` };
    if (describe(got) !== describe(model)) {
      const oracle = 'id' in got ? ('id' in model ? 'output-differs' : 'missed-error') : 'wrong-error';
      return { oracle, message: `decodeHandshake gave ${describe(got)}; the model gives ${describe(model)}` };
    }
    if ('id' in got) {
      const again = encodeHandshake(got.id);
      for (let k = 0; k < 8; k++)
        if (again[k] !== data[k])
          return {
            oracle: 'reencode-differs',
            message: `id 0x${got.id.toString(16)} re-encodes differently at byte ${k}`,
          };
    }
    if (data.length > 8) {
      const alone = attempt(data.slice(0, 8), expected);
      if ('untyped' in alone || describe(alone) !== describe(got))
        return { oracle: 'output-differs', message: 'the bytes after the 8-byte header changed the outcome' };
    }
    return null;
  }
}

function handshakeArb(): fc.Arbitrary<FuzzInput> {
  const good = fc.constantFrom(...PROTOCOLS.map((p) => p.id)).map((id) => encodeHandshake(id));
  const bytes = fc.oneof(
    good,
    good.chain((g) => fc.nat({ max: 7 }).map((n) => g.slice(0, n))),
    good.chain((g) =>
      fc.tuple(fc.nat({ max: 7 }), fc.integer({ min: 0, max: 255 })).map(([i, v]) => {
        const c = g.slice();
        c[i] = v;
        return c;
      }),
    ),
    good.chain((g) =>
      fc.uint8Array({ minLength: 1, maxLength: 16 }).map((t) => Uint8Array.from([...g, ...t])),
    ),
    fc.uint8Array({ maxLength: 12 }),
  );
  return fc
    .record({ data: bytes, knob: fc.nat({ max: EXPECTED.length - 1 }) })
    .map(({ data, knob }) => ({ data, cuts: [], knob }));
}

export const SP_HANDSHAKE: FuzzTarget = {
  name: 'sp-handshake',
  summary: 'the 8-byte SP connection header decoder, expecting each peer protocol in turn',
  knobs: EXPECTED.map((e) =>
    e === undefined ? 'any peer' : `peer ${protocolById(e)!.name} (0x${e.toString(16)})`,
  ),
  async: false,
  takesDecoderImpl: false,
  maxLenBytes: 64,
  hints: {
    interesting: (knob) => {
      const e = EXPECTED[knob % EXPECTED.length] ?? 0x10;
      return [
        encodeHandshake(e),
        encodeHandshake(e ^ 1),
        Uint8Array.of(0, 0x53, 0x50, 1),
        Uint8Array.of(0, 0),
        Uint8Array.of(0xff),
      ];
    },
    fields: () => [0, 3, 4, 6],
    unit: (rng: Rng) => encodeHandshake(PROTOCOLS[Math.floor(rng.next() * PROTOCOLS.length)]!.id),
  },
  seeds(seed, count) {
    return fc.sample(handshakeArb(), { seed, numRuns: count });
  },
  runner() {
    return new HandshakeRunner();
  },
};
