/**
 * The 8-byte SP connection header both sides send at once on connect (sp.md §1, nanomsg
 * `rfc/sp-tcp-mapping-01.txt`): `00 'S' 'P' <version 0> <protocol id u16 BE> <reserved 00 00>`.
 * Sans-I/O: the transport reads 8 bytes and hands them here; a throw means "close the connection".
 */
import { toHex } from '../../runtime/bytes.js';
import { SpError, type SpErrorCode } from '../errors.js';

export const HANDSHAKE_BYTES = 8;

const MAGIC_S = 0x53; // 'S'
const MAGIC_P = 0x50; // 'P'

/** Bytes as spaced hex for error messages ('00 53 50'), '(none)' for no bytes. */
function hex(bytes: Uint8Array): string {
  return bytes.length === 0 ? '(none)' : toHex(bytes, ' ');
}

function hex16(v: number): string {
  return `0x${v.toString(16).padStart(4, '0')}`;
}

/** The header this socket sends: `00 53 50 00 <id u16 BE> 00 00`. */
export function encodeHandshake(protocolId: number): Uint8Array {
  if (!Number.isInteger(protocolId) || protocolId < 0 || protocolId > 0xffff) {
    throw new SpError(
      'ErrBadValue',
      `protocol id must be an integer in [0, 65535], got ${String(protocolId)}`,
    );
  }
  return Uint8Array.of(0, MAGIC_S, MAGIC_P, 0, protocolId >>> 8, protocolId & 0xff, 0, 0);
}

/**
 * Checks a peer's header and returns its protocol id. Only the first 8 bytes are read; bytes after
 * them (nanomsg sends its first frame in the same segment) are the caller's to keep.
 *
 * Order follows mangos `conn.handshake()`: magic and reserved bytes first (ErrBadHeader), then the
 * version (ErrBadVersion), then the peer's protocol (ErrBadProto). nng reports all three as EPROTO.
 *
 * @param expectedPeerId when given, any other peer id is ErrBadProto (mangos checks at handshake;
 *   nng in each protocol's pipe_start, with the same outcome: the connection closes).
 */
export function decodeHandshake(header: Uint8Array, expectedPeerId?: number): number {
  if (header.length < HANDSHAKE_BYTES) {
    // A header cut short is as bad as a wrong one once the caller says the input is complete
    // (the peer closed, or the handshake timeout fired): mangos TranSendConnBadHandshakes.
    throw new SpError(
      'ErrBadHeader',
      `connection header is ${header.length} bytes, need ${HANDSHAKE_BYTES}: [${hex(header)}]`,
    );
  }
  const h = header.length === HANDSHAKE_BYTES ? header : header.subarray(0, HANDSHAKE_BYTES);
  const bad = (code: SpErrorCode, what: string): never => {
    throw new SpError(code, `connection header ${what}: [${hex(h)}]`);
  };
  if (h[0] !== 0) bad('ErrBadHeader', `byte 0 is 0x${hex(h.subarray(0, 1))}, want 0x00`);
  if (h[1] !== MAGIC_S) bad('ErrBadHeader', `byte 1 is 0x${hex(h.subarray(1, 2))}, want 0x53 ('S')`);
  if (h[2] !== MAGIC_P) bad('ErrBadHeader', `byte 2 is 0x${hex(h.subarray(2, 3))}, want 0x50 ('P')`);
  if (h[6] !== 0 || h[7] !== 0) {
    bad('ErrBadHeader', `reserved bytes 6-7 are ${hex(h.subarray(6, 8))}, want 00 00`);
  }
  if (h[3] !== 0) bad('ErrBadVersion', `byte 3 (version) is ${h[3]}, want 0`);
  const peerId = (h[4]! << 8) | h[5]!;
  if (expectedPeerId !== undefined && peerId !== expectedPeerId) {
    bad('ErrBadProto', `bytes 4-5 (protocol) are ${hex16(peerId)}, want peer ${hex16(expectedPeerId)}`);
  }
  return peerId;
}

/** Protocol id the catalogue's full-length variants carry: pair0, so only the named fault is wrong. */
const CATALOGUE_ID = 0x0010;
const GOOD = encodeHandshake(CATALOGUE_ID);

function variant(name: string, bytes: readonly number[], code: SpErrorCode) {
  return Object.freeze({ name, bytes: Uint8Array.from(bytes), code });
}

/**
 * Bad connection headers, after mangos `internal/test/transport.go` TranSendConnBadHandshakes plus
 * the variants probed against nngcat in sp.md §1. Each `code` is what decodeHandshake(bytes, 16)
 * throws: the expected peer is pair0 (16), so the wrong-protocol variant (pull0, 0x0051) is
 * ErrBadProto and every other full-length variant fails only on the fault its name gives.
 * Short headers are the first 0..7 bytes of a good pair0 header, judged as complete input.
 *
 * Note: the `bytes` are shared; copy them before mutating.
 */
export const BAD_HANDSHAKES: readonly { name: string; bytes: Uint8Array; code: SpErrorCode }[] =
  Object.freeze([
    ...Array.from({ length: HANDSHAKE_BYTES }, (_, n) =>
      variant(`short header (${n} bytes)`, [...GOOD.subarray(0, n)], 'ErrBadHeader'),
    ),
    variant('byte 0 not zero', [1, MAGIC_S, MAGIC_P, 0, 0, 0x10, 0, 0], 'ErrBadHeader'),
    variant("byte 1 not 'S'", [0, 0x78, MAGIC_P, 0, 0, 0x10, 0, 0], 'ErrBadHeader'),
    variant("byte 2 not 'P'", [0, MAGIC_S, 0x78, 0, 0, 0x10, 0, 0], 'ErrBadHeader'),
    variant('version 1', [0, MAGIC_S, MAGIC_P, 1, 0, 0x10, 0, 0], 'ErrBadVersion'),
    variant('reserved 00 01', [0, MAGIC_S, MAGIC_P, 0, 0, 0x10, 0, 1], 'ErrBadHeader'),
    variant('reserved 01 00', [0, MAGIC_S, MAGIC_P, 0, 0, 0x10, 1, 0], 'ErrBadHeader'),
    variant('wrong protocol (pull0 0x0051 to pair0)', [0, MAGIC_S, MAGIC_P, 0, 0, 0x51, 0, 0], 'ErrBadProto'),
  ]);
