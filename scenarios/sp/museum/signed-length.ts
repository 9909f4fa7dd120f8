/**
 * The frame length read as a signed 64-bit value (its high word as int32): a length with the top
 * bit set becomes negative, slips past `length > max` (mangos checks `sz < 0 || sz > maxrx` for
 * exactly this), and the body allocation is asked for a negative size — a makeslice panic in Go, a
 * huge size_t in C.
 */
import type { ImplVariant } from '../actors.js';
import { naiveDecoderFactory, readU64Length, type LengthReader } from './naive-decoder.js';

const readSigned: LengthReader = (b, at) => {
  // The bug: `| 0` instead of `>>> 0` keeps the sign of the high word.
  const high = (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
  if (high >= 0) return readU64Length(b, at);
  const low = ((b[at + 4]! << 24) | (b[at + 5]! << 16) | (b[at + 6]! << 8) | b[at + 7]!) >>> 0;
  return high * 0x1_0000_0000 + low;
};

export const SIGNED_LENGTH: ImplVariant = {
  summary:
    'mangos-style sz<0 check missing: frame length read as signed, top-bit lengths pass the limit negative',
  family: 'framing',
  socket: () => ({ socketOptions: { frameDecoder: naiveDecoderFactory({ readLength: readSigned }) } }),
};
