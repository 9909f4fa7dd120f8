import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../runtime/bytes.js';
import { SpError, type SpErrorCode } from '../errors.js';
import { BAD_HANDSHAKES, decodeHandshake, encodeHandshake, HANDSHAKE_BYTES } from './handshake.js';
import { PROTOCOLS, protocolById, protocolByName } from './protocols.js';

function codeOf(fn: () => unknown): SpErrorCode | 'no error' {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SpError);
    return (e as SpError).code;
  }
  return 'no error';
}

/** sp.md §2 "bytes 4-5 seen" column, captured from nngcat. */
const BYTES_4_5_SEEN: Record<string, string> = {
  pair0: '0010',
  pair1: '0011',
  pub0: '0020',
  sub0: '0021',
  req0: '0030',
  rep0: '0031',
  push0: '0050',
  pull0: '0051',
  surveyor0: '0062',
  respondent0: '0063',
  bus0: '0070',
};

describe('protocol table', () => {
  it('has the ids and peers of sp.md §2', () => {
    expect(PROTOCOLS.map((p) => [p.name, p.id, p.peerName, p.peerId])).toEqual([
      ['pair0', 16, 'pair0', 16],
      ['pair1', 17, 'pair1', 17],
      ['pub0', 32, 'sub0', 33],
      ['sub0', 33, 'pub0', 32],
      ['req0', 48, 'rep0', 49],
      ['rep0', 49, 'req0', 48],
      ['push0', 80, 'pull0', 81],
      ['pull0', 81, 'push0', 80],
      ['surveyor0', 98, 'respondent0', 99],
      ['respondent0', 99, 'surveyor0', 98],
      ['bus0', 112, 'bus0', 112],
      ['star', 1600, 'star', 1600],
    ]);
  });

  it('is symmetric: the peer of my peer is me', () => {
    for (const p of PROTOCOLS) {
      const peer = protocolByName(p.peerName);
      expect(peer?.id).toBe(p.peerId);
      expect(peer?.peerId).toBe(p.id);
    }
  });

  it('looks up by name and id, undefined when unknown', () => {
    expect(protocolByName('req0')?.id).toBe(48);
    expect(protocolById(0x63)?.name).toBe('respondent0');
    expect(protocolByName('req')).toBeUndefined();
    expect(protocolById(96)).toBeUndefined(); // legacy surveyor id, not ours
    expect(protocolById(0)).toBeUndefined();
  });
});

describe('encodeHandshake', () => {
  it.each(Object.entries(BYTES_4_5_SEEN))('%s sends 00 53 50 00 %s 00 00', (name, seen) => {
    const p = protocolByName(name)!;
    expect(toHex(encodeHandshake(p.id))).toBe(`00535000${seen}0000`);
  });

  it('matches the headers captured from nngcat and nanocat (sp.md §8)', () => {
    expect(encodeHandshake(48)).toEqual(fromHex('00535000 00300000')); // nngcat req0, nanocat req
    expect(encodeHandshake(32)).toEqual(fromHex('00535000 00200000')); // nngcat pub0
    expect(encodeHandshake(17)).toEqual(fromHex('00535000 00110000')); // pair1
    expect(encodeHandshake(98)).toEqual(fromHex('00535000 00620000')); // surveyor0
  });

  it('puts a two-byte id big-endian (star, 1600 = 0x0640)', () => {
    expect(toHex(encodeHandshake(1600))).toBe('0053500006400000');
    expect(toHex(encodeHandshake(0xffff))).toBe('00535000ffff0000');
    expect(encodeHandshake(0)).toHaveLength(HANDSHAKE_BYTES);
  });

  it.each([-1, 0x10000, 1.5, Number.NaN, Infinity])('rejects id %s with ErrBadValue', (id) => {
    expect(codeOf(() => encodeHandshake(id))).toBe('ErrBadValue');
    expect(() => encodeHandshake(id)).toThrow(
      `ErrBadValue: protocol id must be an integer in [0, 65535], got ${String(id)}`,
    );
  });
});

describe('decodeHandshake', () => {
  it('returns the peer id and accepts the expected peer for every protocol', () => {
    for (const p of PROTOCOLS) {
      expect(decodeHandshake(encodeHandshake(p.peerId), p.peerId)).toBe(p.peerId);
      expect(decodeHandshake(encodeHandshake(p.id))).toBe(p.id);
    }
  });

  it('reads only the first 8 bytes (nanocat sends header and first frame in one segment)', () => {
    const segment = fromHex('00535000 00300000 00000000 00000008 d4039cc6 70696e67');
    expect(decodeHandshake(segment, 48)).toBe(48);
  });

  it.each(BAD_HANDSHAKES.map((v) => [v.name, v] as const))('%s → its code', (_name, v) => {
    expect(codeOf(() => decodeHandshake(v.bytes, 16))).toBe(v.code);
  });

  it('has the catalogue of mangos TranSendConnBadHandshakes plus nngcat probes', () => {
    expect(BAD_HANDSHAKES.length).toBeGreaterThanOrEqual(14);
    const byName = new Map(BAD_HANDSHAKES.map((v) => [v.name, v]));
    expect(byName.size).toBe(BAD_HANDSHAKES.length);
    for (let n = 0; n < HANDSHAKE_BYTES; n++) {
      expect(BAD_HANDSHAKES.some((v) => v.bytes.length === n && v.code === 'ErrBadHeader')).toBe(true);
    }
    expect(toHex(byName.get('wrong protocol (pull0 0x0051 to pair0)')!.bytes)).toBe('0053500000510000');
    expect(toHex(byName.get('version 1')!.bytes)).toBe('0053500100100000');
    expect(toHex(byName.get('reserved 00 01')!.bytes)).toBe('0053500000100001');
    expect(toHex(byName.get('reserved 01 00')!.bytes)).toBe('0053500000100100');
    // Without an expected peer, only the wrong-protocol variant passes.
    for (const v of BAD_HANDSHAKES) {
      expect(codeOf(() => decodeHandshake(v.bytes))).toBe(v.code === 'ErrBadProto' ? 'no error' : v.code);
    }
  });

  it('names the wrong byte and shows the header in hex', () => {
    const msg = (bytes: string, peer?: number): string => {
      try {
        decodeHandshake(fromHex(bytes), peer);
      } catch (e) {
        return (e as SpError).message;
      }
      return '';
    };
    expect(msg('01535000 00100000')).toBe(
      'ErrBadHeader: connection header byte 0 is 0x01, want 0x00: [01 53 50 00 00 10 00 00]',
    );
    expect(msg('00785000 00100000')).toContain("byte 1 is 0x78, want 0x53 ('S')");
    expect(msg('00537800 00100000')).toContain("byte 2 is 0x78, want 0x50 ('P')");
    expect(msg('00535001 00100000')).toBe(
      'ErrBadVersion: connection header byte 3 (version) is 1, want 0: [00 53 50 01 00 10 00 00]',
    );
    expect(msg('00535000 00100001')).toContain('reserved bytes 6-7 are 00 01, want 00 00');
    expect(msg('00535000 00510000', 16)).toBe(
      'ErrBadProto: connection header bytes 4-5 (protocol) are 0x0051, want peer 0x0010: [00 53 50 00 00 51 00 00]',
    );
    expect(msg('005350')).toBe('ErrBadHeader: connection header is 3 bytes, need 8: [00 53 50]');
    expect(msg('')).toContain('is 0 bytes, need 8: [(none)]');
  });

  it('checks magic and reserved before the version, as mangos does', () => {
    expect(codeOf(() => decodeHandshake(fromHex('00535001 00100001')))).toBe('ErrBadHeader');
    expect(codeOf(() => decodeHandshake(fromHex('00535001 00510000'), 16))).toBe('ErrBadVersion');
  });

  it('accepts exactly the well-formed headers, for any 8 bytes', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 8, maxLength: 8 }),
        fc.integer({ min: 0, max: 0xffff }),
        (bytes, expected) => {
          // Bias towards near-valid headers so every branch is reached.
          const h = Uint8Array.from(bytes);
          if ((h[0]! & 1) === 0) h.set([0, 0x53, 0x50, h[3]! & 1], 0);
          if ((h[7]! & 2) === 0) h.set([0, 0], 6);
          const wellFormed = h[0] === 0 && h[1] === 0x53 && h[2] === 0x50 && h[6] === 0 && h[7] === 0;
          const id = (h[4]! << 8) | h[5]!;
          const code = codeOf(() => decodeHandshake(h, expected));
          if (!wellFormed) expect(code).toBe('ErrBadHeader');
          else if (h[3] !== 0) expect(code).toBe('ErrBadVersion');
          else if (id !== expected) expect(code).toBe('ErrBadProto');
          else expect(decodeHandshake(h, expected)).toBe(id);
        },
      ),
      { seed: 0x5b0001, numRuns: 2000 },
    );
  });
});
