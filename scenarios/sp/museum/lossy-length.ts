/**
 * A u64 frame length read into a JS double (high * 2^32 + low) with no guard for 2^53: above it
 * the value rounds, so with no receive limit (MAX-RCV-SIZE 0) the decoder takes a length it cannot
 * even represent for a real one and asks for a buffer of it (nng#2281 bounds lengths to 2^60-1 and
 * netlab to 2^53-1 for this reason; nanomsg#461 is the unbounded allocation it leads to).
 */
import type { ImplVariant } from '../actors.js';
import { naiveDecoderFactory, type LengthReader } from './naive-decoder.js';

const readLossy: LengthReader = (b, at) => {
  const high = ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
  const low = ((b[at + 4]! << 24) | (b[at + 5]! << 16) | (b[at + 6]! << 8) | b[at + 7]!) >>> 0;
  return high * 0x1_0000_0000 + low; // the bug: no high-word guard, so >= 2^53 rounds silently
};

export const LOSSY_LENGTH: ImplVariant = {
  summary: 'nng#2281-class: u64 frame length read as a double without a 2^53 guard (rounds, then allocates)',
  family: 'framing',
  socket: () => ({ socketOptions: { frameDecoder: naiveDecoderFactory({ readLength: readLossy }) } }),
};
