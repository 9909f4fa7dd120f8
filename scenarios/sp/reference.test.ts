/**
 * The oracles' reference tables against the implementation: they are written apart on purpose, so a
 * default or id changed in impl/sp/ (or mistyped here) shows as a disagreement instead of passing
 * through both.
 */
import { describe, expect, it } from 'vitest';
import { OPTION_DEFAULTS } from '../../impl/sp/options.js';
import { encodeHandshake } from '../../impl/sp/wire/handshake.js';
import { PROTOCOLS } from '../../impl/sp/wire/protocols.js';
import { hasPrefix } from '../../impl/sp/protocol/pubsub.js';
import {
  headerForPeerOf,
  SPEC_OPTION_DEFAULTS,
  SPEC_PROTOCOL_IDS,
  specProtocol,
  topicMatches,
} from './reference.js';

describe("the SP oracles' reference", () => {
  it("has netlab's documented option defaults, and they are impl/sp's", () => {
    expect(SPEC_OPTION_DEFAULTS).toEqual(OPTION_DEFAULTS);
  });

  it('has the protocol ids of sp.md §2, and they are impl/sp/wire/protocols.ts', () => {
    expect(SPEC_PROTOCOL_IDS).toEqual(PROTOCOLS.map((p) => p.id));
    for (const p of PROTOCOLS) {
      expect(specProtocol(p.name), p.name).toEqual({ id: p.id, peerId: p.peerId });
      expect(headerForPeerOf(p.name), p.name).toEqual(encodeHandshake(p.peerId));
    }
    expect(specProtocol('xreq0')).toEqual(specProtocol('req0'));
    expect(() => specProtocol('zmq')).toThrow(/sp\.md/);
    expect([...headerForPeerOf('req0')]).toEqual([0x00, 0x53, 0x50, 0x00, 0x00, 0x31, 0x00, 0x00]);
  });

  it('matches topics by prefix as SUB does', () => {
    const b = (...xs: number[]) => Uint8Array.from(xs);
    for (const [body, topic, want] of [
      [b(1, 2, 3), b(), true],
      [b(1, 2, 3), b(1, 2), true],
      [b(1, 2, 3), b(1, 2, 3), true],
      [b(1, 2), b(1, 2, 3), false],
      [b(1, 3, 3), b(1, 2), false],
      [b(), b(), true],
    ] as const) {
      expect(topicMatches(body, topic)).toBe(want);
      expect(hasPrefix(body, topic)).toBe(want);
    }
  });
});
