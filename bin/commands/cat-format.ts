/**
 * Prints received messages for `netlab cat` byte for byte as nngcat 1.5.2 prints them (printmsg()
 * in src/tools/nngcat/nngcat.c, checked against the real binary for all 256 byte values):
 *
 * - none:    nothing at all (nngcat's default, and `--format no`).
 * - raw:     the body as is, no delimiter.
 * - ascii:   one byte per byte: 0x20..0x7e as is, every other byte as '.'; NO newline, so
 *            consecutive messages run together (isprint() in the C locale; nngcat never calls
 *            setlocale, so bytes >= 0x80 are never printable).
 * - quoted:  `"` + body + `"\n`, where \n, \r, \t, `"` and `\` become \n, \r, \t, \" and \\,
 *            other bytes 0x20..0x7e are literal and everything else (0x00-0x08, 0x0b, 0x0c,
 *            0x0e-0x1f, 0x7f-0xff) is \xHH in lowercase hex. No \a, \b, \v, \f or \0 forms, and
 *            nothing separates \xHH from a following hex digit (the output is not valid C for
 *            that case, and that is what nngcat does).
 * - hex:     `"` + \xHH (lowercase) for every byte + `"\n`.
 * - msgpack: a msgpack bin object per message: c4 LEN8 when the length < 256, c5 LEN16-BE when
 *            < 65536, else c6 LEN32-BE; then the body. No trailer. An empty message is c4 00.
 */
import type { CatFormat } from './cat-args.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NEWLINE = 0x0a;
const DOT = 0x2e;
const HEX_DIGITS = '0123456789abcdef';

function isPrint(byte: number): boolean {
  return byte >= 0x20 && byte <= 0x7e;
}

/** Characters nngcat's --quoted writes as a two-character backslash escape. */
const SHORT_ESCAPES = new Map<number, number>([
  [0x0a, 0x6e], // \n
  [0x0d, 0x72], // \r
  [0x09, 0x74], // \t
  [QUOTE, QUOTE],
  [BACKSLASH, BACKSLASH],
]);

/** Writes `\xHH` for one byte at `at`; returns the next write position. */
function putHexEscape(out: Uint8Array, at: number, byte: number): number {
  out[at] = BACKSLASH;
  out[at + 1] = 0x78; // x
  out[at + 2] = HEX_DIGITS.charCodeAt(byte >> 4);
  out[at + 3] = HEX_DIGITS.charCodeAt(byte & 0x0f);
  return at + 4;
}

/** Longest escape is 4 bytes per body byte, plus the two quotes and the newline. */
function escapedCapacity(body: Uint8Array): Uint8Array {
  return new Uint8Array(body.length * 4 + 3);
}

function quoted(body: Uint8Array): Uint8Array {
  const out = escapedCapacity(body);
  let at = 0;
  out[at++] = QUOTE;
  for (const byte of body) {
    const escaped = SHORT_ESCAPES.get(byte);
    if (escaped !== undefined) {
      out[at++] = BACKSLASH;
      out[at++] = escaped;
    } else if (isPrint(byte)) {
      out[at++] = byte;
    } else {
      at = putHexEscape(out, at, byte);
    }
  }
  out[at++] = QUOTE;
  out[at++] = NEWLINE;
  return out.slice(0, at);
}

function hex(body: Uint8Array): Uint8Array {
  const out = escapedCapacity(body);
  let at = 0;
  out[at++] = QUOTE;
  for (const byte of body) at = putHexEscape(out, at, byte);
  out[at] = QUOTE;
  out[at + 1] = NEWLINE; // hex fills the capacity exactly: 4 bytes per body byte + 3
  return out;
}

function ascii(body: Uint8Array): Uint8Array {
  return body.map((byte) => (isPrint(byte) ? byte : DOT));
}

function msgpack(body: Uint8Array): Uint8Array {
  const lengthBytes = body.length;
  let header: number[];
  if (lengthBytes < 0x100) header = [0xc4, lengthBytes];
  else if (lengthBytes < 0x10000) header = [0xc5, lengthBytes >>> 8, lengthBytes & 0xff];
  else {
    // nngcat writes the low 32 bits of the length; bodies here never reach 4 GiB anyway.
    header = [
      0xc6,
      (lengthBytes >>> 24) & 0xff,
      (lengthBytes >>> 16) & 0xff,
      (lengthBytes >>> 8) & 0xff,
      lengthBytes & 0xff,
    ];
  }
  const out = new Uint8Array(header.length + lengthBytes);
  out.set(header, 0);
  out.set(body, header.length);
  return out;
}

/** The bytes nngcat writes to stdout for one received message body in the given format. */
export function formatMessage(format: CatFormat, body: Uint8Array): Uint8Array {
  switch (format) {
    case 'none':
      return new Uint8Array(0);
    case 'raw':
      return body.slice();
    case 'ascii':
      return ascii(body);
    case 'quoted':
      return quoted(body);
    case 'hex':
      return hex(body);
    case 'msgpack':
      return msgpack(body);
  }
}
