/**
 * Byte helpers shared by the stacks, the simulator and their tests: hex text, concatenation,
 * equality and prefix tests, and big-endian u32 / u64 fields (SP request ids and pipe ids are u32,
 * SP frame lengths u64). Browser-safe: Uint8Array only, no Buffer, no imports.
 *
 * Bad input (malformed hex, a value or offset out of range) is a BytesError with a stable `code`;
 * nothing here clamps or wraps silently except writeU32, which takes its value modulo 2^32 exactly
 * as DataView.setUint32 does (so int32 results of `|` work).
 *
 * The SP frame codec (impl/sp/wire/frames.ts) keeps its own inline u64 header code on purpose: it
 * reads the high word first to vet the length before any allocation, with its own error codes.
 */

/** Stable error codes. Never rename one: callers match on them. */
export type BytesErrorCode =
  /** Hex text with an odd number of digits, a non-hex character, or whitespace inside a byte. */
  | 'ERR_BAD_HEX'
  /** An offset past the end of the array, or a value outside the field's range. */
  | 'ERR_OUT_OF_RANGE';

export class BytesError extends Error {
  override readonly name = 'BytesError';
  readonly code: BytesErrorCode;

  constructor(code: BytesErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

const HEX_DIGITS = '0123456789abcdef';
/** Byte -> two lower-case hex digits. */
const HEX_PAIRS: readonly string[] = Array.from(
  { length: 256 },
  (_, b) => HEX_DIGITS[b >>> 4]! + HEX_DIGITS[b & 0xf]!,
);

/**
 * Lower-case hex of `bytes`, two digits per byte, with `separator` between bytes (default none):
 * toHex(Uint8Array.of(0, 0x53)) is '0053', toHex(..., ' ') is '00 53'. Empty input gives ''.
 */
export function toHex(bytes: Uint8Array, separator = ''): string {
  let s = '';
  for (let i = 0; i < bytes.length; i++) {
    if (i > 0 && separator !== '') s += separator;
    s += HEX_PAIRS[bytes[i]!]!;
  }
  return s;
}

/** The value of one hex digit's char code, or -1. */
function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48; // 0-9
  if (c >= 97 && c <= 102) return c - 87; // a-f
  if (c >= 65 && c <= 70) return c - 55; // A-F
  return -1;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/**
 * Bytes from hex text. Digits may be upper or lower case; spaces, tabs and newlines between bytes
 * are ignored, so captured wire dumps ('00535000 00300000') paste as they are. Anything else is
 * ERR_BAD_HEX: an odd number of digits, a non-hex character, or whitespace splitting a byte.
 */
export function fromHex(text: string): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(text.length >>> 1);
  let n = 0;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    const hi = hexValue(c);
    if (hi < 0) throw badHex(text, i, 'is not a hex digit');
    if (i + 1 >= text.length) throw badHex(text, i, 'is the last digit of an odd number of digits');
    const lo = hexValue(text.charCodeAt(i + 1));
    if (lo < 0) {
      throw isSpace(text.charCodeAt(i + 1))
        ? badHex(text, i + 1, 'splits a byte (whitespace is allowed only between bytes)')
        : badHex(text, i + 1, 'is not a hex digit');
    }
    out[n++] = (hi << 4) | lo;
    i += 2;
  }
  return n === out.length ? out : out.slice(0, n);
}

function badHex(text: string, at: number, what: string): BytesError {
  const shown = text.length > 64 ? `${text.slice(0, 61)}...` : text;
  return new BytesError(
    'ERR_BAD_HEX',
    `character ${JSON.stringify(text[at])} at ${at} ${what}: ${JSON.stringify(shown)}`,
  );
}

/** The parts joined into one fresh array, in order (always a copy, even of a single part). */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Whether `a` and `b` hold the same bytes (views are compared by content, not by buffer). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Where `a` and `b` first differ: the index of the first unequal byte, the shorter length when one
 * is a proper prefix of the other, or -1 when they are equal. For test diagnostics on large arrays.
 */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

/** Whether `bytes` starts with `prefix` (the empty prefix matches everything). */
export function hasPrefix(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (prefix.length > bytes.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

function checkRange(b: Uint8Array, at: number, width: number): void {
  if (!Number.isInteger(at) || at < 0 || at + width > b.length) {
    throw new BytesError(
      'ERR_OUT_OF_RANGE',
      `a ${width}-byte field at offset ${String(at)} does not fit in ${b.length} bytes`,
    );
  }
}

function word(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

function putWord(b: Uint8Array, at: number, n: number): void {
  b[at] = n >>> 24;
  b[at + 1] = (n >>> 16) & 0xff;
  b[at + 2] = (n >>> 8) & 0xff;
  b[at + 3] = n & 0xff;
}

/** The unsigned big-endian u32 at `at` (0 .. 2^32-1). */
export function readU32(b: Uint8Array, at = 0): number {
  checkRange(b, at, 4);
  return word(b, at);
}

/**
 * Writes `n` as a big-endian u32 at `at`. `n` is taken modulo 2^32 as DataView.setUint32 takes it,
 * so both 0x8000_0001 and its int32 spelling (0x8000_0000 | 1) write 80 00 00 01.
 */
export function writeU32(b: Uint8Array, at: number, n: number): void {
  checkRange(b, at, 4);
  putWord(b, at, n);
}

/** `n` as a fresh 4-byte big-endian u32 (modulo 2^32, as writeU32). */
export function encodeU32(n: number): Uint8Array<ArrayBuffer> {
  const b = new Uint8Array(4);
  putWord(b, 0, n);
  return b;
}

const TWO_POW_32 = 0x1_0000_0000;
/** The high word of a u64 above this makes the value >= 2^53, beyond exact doubles. */
const MAX_SAFE_HIGH_WORD = 0x1f_ffff;
const U64_MAX = (1n << 64n) - 1n;

/** The big-endian u64 at `at`, exactly, as a bigint (0 .. 2^64-1). */
export function readU64(b: Uint8Array, at = 0): bigint {
  checkRange(b, at, 8);
  return (BigInt(word(b, at)) << 32n) | BigInt(word(b, at + 4));
}

/** Writes `v` (0 .. 2^64-1, else ERR_OUT_OF_RANGE) as a big-endian u64 at `at`. */
export function writeU64(b: Uint8Array, at: number, v: bigint): void {
  checkRange(b, at, 8);
  if (typeof v !== 'bigint' || v < 0n || v > U64_MAX) {
    throw new BytesError('ERR_OUT_OF_RANGE', `a u64 must be a bigint in [0, 2^64-1], got ${String(v)}`);
  }
  putWord(b, at, Number(v >> 32n));
  putWord(b, at + 4, Number(v & 0xffff_ffffn));
}

/**
 * The big-endian u64 at `at` as a number; a value above 2^53-1 (which a double cannot hold
 * exactly) is ERR_OUT_OF_RANGE rather than a rounded length.
 */
export function readU64Number(b: Uint8Array, at = 0): number {
  checkRange(b, at, 8);
  const high = word(b, at);
  const low = word(b, at + 4);
  // Checked before combining: above this high word the double would round.
  if (high > MAX_SAFE_HIGH_WORD) {
    throw new BytesError(
      'ERR_OUT_OF_RANGE',
      `u64 0x${high.toString(16).padStart(8, '0')}${low.toString(16).padStart(8, '0')} is beyond 2^53-1`,
    );
  }
  return high * TWO_POW_32 + low;
}

/** Writes `n` (an integer in [0, 2^53-1], else ERR_OUT_OF_RANGE) as a big-endian u64 at `at`. */
export function writeU64Number(b: Uint8Array, at: number, n: number): void {
  checkRange(b, at, 8);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new BytesError(
      'ERR_OUT_OF_RANGE',
      `a u64 number must be an integer in [0, 2^53-1], got ${String(n)}`,
    );
  }
  putWord(b, at, Math.floor(n / TWO_POW_32));
  putWord(b, at + 4, n >>> 0);
}
