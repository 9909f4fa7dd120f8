import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BytesError,
  bytesEqual,
  concatBytes,
  encodeU32,
  firstDifference,
  fromHex,
  hasPrefix,
  readU32,
  readU64,
  readU64Number,
  toHex,
  writeU32,
  writeU64,
  writeU64Number,
  type BytesErrorCode,
} from './bytes.js';

function codeOf(fn: () => unknown): BytesErrorCode | 'no error' {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(BytesError);
    return (e as BytesError).code;
  }
  return 'no error';
}

describe('hex', () => {
  it('encodes lower case, two digits per byte, with an optional separator', () => {
    expect(toHex(new Uint8Array(0))).toBe('');
    expect(toHex(Uint8Array.of(0, 0x53, 0x0a, 0xff))).toBe('00530aff');
    expect(toHex(Uint8Array.of(0, 0x53, 0x0a, 0xff), ' ')).toBe('00 53 0a ff');
    expect(toHex(Uint8Array.of(7), ' ')).toBe('07');
  });

  it('decodes either case and ignores whitespace between bytes', () => {
    expect(fromHex('')).toEqual(new Uint8Array(0));
    expect(fromHex('00535000 00300000')).toEqual(Uint8Array.of(0, 0x53, 0x50, 0, 0, 0x30, 0, 0));
    expect(fromHex('AbCd\n\tef ')).toEqual(Uint8Array.of(0xab, 0xcd, 0xef));
    expect(fromHex('  ')).toEqual(new Uint8Array(0));
  });

  it('rejects odd digit counts, non-hex characters and whitespace inside a byte (ERR_BAD_HEX)', () => {
    for (const bad of ['0', 'abc', '0g', 'g0', '0x00', 'a b', '00 1', '-1', 'éé']) {
      expect(
        codeOf(() => fromHex(bad)),
        bad,
      ).toBe('ERR_BAD_HEX');
    }
    expect(() => fromHex('abc')).toThrow(/ERR_BAD_HEX: .*odd number of digits/);
  });

  it('round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.constantFrom('', ' ', '\n'), (b, sep) => {
        expect(fromHex(toHex(b, sep))).toEqual(b);
        expect(fromHex(toHex(b).toUpperCase())).toEqual(b);
      }),
    );
  });
});

describe('concatBytes, bytesEqual, firstDifference, hasPrefix', () => {
  it('joins parts in order into a fresh array', () => {
    const a = Uint8Array.of(1, 2);
    expect(concatBytes([])).toEqual(new Uint8Array(0));
    expect(concatBytes([a, new Uint8Array(0), Uint8Array.of(3)])).toEqual(Uint8Array.of(1, 2, 3));
    const single = concatBytes([a]);
    expect(single).toEqual(a);
    expect(single).not.toBe(a); // a copy the caller may mutate
    const view = Uint8Array.of(9, 8, 7, 6).subarray(1, 3);
    expect(concatBytes([view, view])).toEqual(Uint8Array.of(8, 7, 8, 7));
  });

  it('compares by content', () => {
    expect(bytesEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
    expect(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(9, 1, 2).subarray(1))).toBe(true);
    expect(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false);
    expect(bytesEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 0))).toBe(false);
    expect(firstDifference(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(-1);
    expect(firstDifference(new Uint8Array(0), new Uint8Array(0))).toBe(-1);
    expect(firstDifference(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(1);
    expect(firstDifference(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 3))).toBe(2);
    expect(firstDifference(Uint8Array.of(1, 2, 3), new Uint8Array(0))).toBe(0);
    expect(hasPrefix(Uint8Array.of(1, 2, 3), new Uint8Array(0))).toBe(true);
    expect(hasPrefix(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2))).toBe(true);
    expect(hasPrefix(Uint8Array.of(1, 2, 3), Uint8Array.of(1, 2, 3))).toBe(true);
    expect(hasPrefix(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 3))).toBe(false);
    expect(hasPrefix(Uint8Array.of(1, 2, 3), Uint8Array.of(2))).toBe(false);
  });
});

describe('u32', () => {
  it('reads and writes big-endian at the boundaries', () => {
    for (const [n, hex] of [
      [0, '00000000'],
      [1, '00000001'],
      [0x8000_0000, '80000000'],
      [2 ** 32 - 1, 'ffffffff'],
    ] as const) {
      expect(toHex(encodeU32(n))).toBe(hex);
      const b = new Uint8Array(6);
      writeU32(b, 2, n);
      expect(toHex(b)).toBe(`0000${hex}`);
      expect(readU32(b, 2)).toBe(n);
    }
    expect(readU32(fromHex('ffffffff'))).toBe(4294967295); // unsigned, never negative
  });

  it('takes the value modulo 2^32, as DataView.setUint32', () => {
    expect(toHex(encodeU32(0x8000_0000 | 1))).toBe('80000001'); // int32 spelling
    expect(toHex(encodeU32(-1))).toBe('ffffffff');
    expect(toHex(encodeU32(2 ** 32 + 5))).toBe('00000005');
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 32 - 1 }), (n) => {
        const b = new Uint8Array(4);
        new DataView(b.buffer).setUint32(0, n);
        expect(encodeU32(n)).toEqual(b);
        expect(readU32(b)).toBe(n >>> 0);
      }),
    );
  });

  it('rejects offsets that do not fit (ERR_OUT_OF_RANGE)', () => {
    expect(codeOf(() => readU32(new Uint8Array(3)))).toBe('ERR_OUT_OF_RANGE');
    expect(codeOf(() => readU32(new Uint8Array(8), 5))).toBe('ERR_OUT_OF_RANGE');
    expect(codeOf(() => readU32(new Uint8Array(8), -1))).toBe('ERR_OUT_OF_RANGE');
    expect(codeOf(() => readU32(new Uint8Array(8), 0.5))).toBe('ERR_OUT_OF_RANGE');
    expect(codeOf(() => writeU32(new Uint8Array(4), 1, 0))).toBe('ERR_OUT_OF_RANGE');
    expect(codeOf(() => readU32(new Uint8Array(8), 4))).toBe('no error');
  });
});

describe('u64', () => {
  const cases: [bigint, string][] = [
    [0n, '0000000000000000'],
    [2n ** 32n - 1n, '00000000ffffffff'],
    [2n ** 32n, '0000000100000000'],
    [2n ** 53n - 1n, '001fffffffffffff'],
    [2n ** 53n, '0020000000000000'],
    [2n ** 64n - 1n, 'ffffffffffffffff'],
  ];

  it('reads and writes bigints exactly, 0 to 2^64-1', () => {
    for (const [v, hex] of cases) {
      const b = new Uint8Array(9);
      writeU64(b, 1, v);
      expect(toHex(b)).toBe(`00${hex}`);
      expect(readU64(b, 1)).toBe(v);
      expect(new DataView(b.buffer).getBigUint64(1)).toBe(v);
    }
    expect(codeOf(() => writeU64(new Uint8Array(8), 0, -1n))).toBe('ERR_OUT_OF_RANGE');
    expect(codeOf(() => writeU64(new Uint8Array(8), 0, 2n ** 64n))).toBe('ERR_OUT_OF_RANGE');
    expect(codeOf(() => readU64(new Uint8Array(7)))).toBe('ERR_OUT_OF_RANGE');
  });

  it('reads and writes safe numbers, and refuses what a double cannot hold exactly', () => {
    for (const [v, hex] of cases) {
      const b = fromHex(hex);
      if (v <= BigInt(Number.MAX_SAFE_INTEGER)) {
        expect(readU64Number(b)).toBe(Number(v));
        const w = new Uint8Array(8);
        writeU64Number(w, 0, Number(v));
        expect(toHex(w)).toBe(hex);
      } else {
        expect(codeOf(() => readU64Number(b))).toBe('ERR_OUT_OF_RANGE');
      }
    }
    for (const bad of [-1, 0.5, 2 ** 53, Number.NaN, Infinity]) {
      expect(
        codeOf(() => writeU64Number(new Uint8Array(8), 0, bad)),
        String(bad),
      ).toBe('ERR_OUT_OF_RANGE');
    }
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), (v) => {
        const b = new Uint8Array(8);
        new DataView(b.buffer).setBigUint64(0, v);
        expect(readU64(b)).toBe(v);
        if (v <= BigInt(Number.MAX_SAFE_INTEGER)) expect(readU64Number(b)).toBe(Number(v));
        const w = new Uint8Array(8);
        writeU64(w, 0, v);
        expect(w).toEqual(b);
      }),
    );
  });
});
