/**
 * The fixed hash layouts of the byte-stream kinds take events without a host too (the schema makes
 * `host` optional): such an event hashes, and differently from one with a host. (Kills a mutant
 * `npm run mutate` found surviving: README.)
 */
import { describe, expect, it } from 'vitest';
import { eventDigest, type TraceEvent } from './trace.js';

describe('trace digests of host-less byte-stream events', () => {
  const events = [
    { seq: 0, tUs: 5, kind: 'write', conn: 1, offered: 10, accepted: 10 },
    { seq: 0, tUs: 5, kind: 'chunk', conn: 1, dir: 'c>s', bytes: 10, offset: 0 },
    { seq: 0, tUs: 5, kind: 'read', conn: 1, bytes: 10 },
    { seq: 0, tUs: 5, kind: 'loss', conn: 1, dir: 'c>s', bytes: 10, retransmits: 1, delayUs: 200_000 },
  ];
  for (const e of events) {
    it(`hashes a ${e.kind} without a host, and tells it from one with a host`, () => {
      const bare = eventDigest(e as unknown as TraceEvent);
      const hosted = eventDigest({ ...e, host: 'a' } as unknown as TraceEvent);
      expect(bare).toMatch(/^[0-9a-f]{16}$/);
      expect(bare).not.toBe(hosted);
      expect(eventDigest({ ...e } as unknown as TraceEvent)).toBe(bare);
    });
  }
});
