/**
 * Network settings: the latency mixture's branches, per-connection buffer sizes drawn over their
 * whole range, and the messages of refused settings. (Each case kills a mutant `npm run mutate`
 * found surviving: README.)
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONN, drawLatencyUs, drawSize, mergeConn, type LatencyModel } from './net-config.js';
import { Rng } from './rng.js';
import { messageOf } from './testing/errors.js';

describe('drawLatencyUs: a mixture', () => {
  const mixture = (slowProbability: number): LatencyModel => ({
    kind: 'mixture',
    slowProbability,
    fast: { kind: 'constant', us: 1000 },
    slow: { kind: 'constant', us: 50_000 },
  });
  const slowShare = (p: number): number => {
    const fate = new Rng('mixture').keyed('latency');
    let slow = 0;
    for (let i = 0; i < 2000; i++) if (drawLatencyUs(mixture(p), fate, i, 10) === 50_000) slow++;
    return slow / 2000;
  };

  it('draws the slow branch with its probability, and only then', () => {
    expect(slowShare(0)).toBe(0);
    expect(slowShare(1)).toBe(1);
    const share = slowShare(0.3);
    expect(share).toBeGreaterThan(0.25);
    expect(share).toBeLessThan(0.35);
  });
});

describe('drawSize', () => {
  it('a fixed size is itself; a range draws sizes over all of it', () => {
    const fate = new Rng('sizes').keyed('buf');
    expect(drawSize(4096, fate, 1)).toBe(4096);
    const drawn = Array.from({ length: 2000 }, (_, salt) =>
      drawSize({ minBytes: 100, maxBytes: 200 }, new Rng(`sizes-${salt}`).keyed('buf'), salt),
    );
    for (const n of drawn) {
      expect(Number.isInteger(n)).toBe(true);
      expect(n).toBeGreaterThanOrEqual(100);
      expect(n).toBeLessThanOrEqual(200);
    }
    expect(Math.min(...drawn)).toBe(100); // both ends are reachable
    expect(Math.max(...drawn)).toBe(200);
  });
});

describe('refused connection settings', () => {
  it('name the field, the range and the value', () => {
    expect(messageOf(() => mergeConn('conn', DEFAULT_CONN, { mssBytes: 0 }))).toBe(
      'ERR_BAD_ARGUMENT: conn.mssBytes: must be a number in [1, 1048576], got 0',
    );
    expect(messageOf(() => mergeConn('conn', DEFAULT_CONN, { sendBufferBytes: 'big' }))).toBe(
      'ERR_BAD_ARGUMENT: conn.sendBufferBytes: must be a byte count or {minBytes, maxBytes}, got "big"',
    );
    expect(messageOf(() => mergeConn('conn', DEFAULT_CONN, { rtoInitialUs: 10, rtoMaxUs: 5 }))).toBe(
      'ERR_BAD_ARGUMENT: conn.rtoMaxUs: must be >= rtoInitialUs (10)',
    );
  });

  it('a number only: no numeric strings, NaN, or values past either bound', () => {
    const refusal = (patch: Record<string, unknown>) =>
      messageOf(() => mergeConn('conn', DEFAULT_CONN, patch));
    expect(refusal({ maxRetransmits: '3' })).toBe(
      'ERR_BAD_ARGUMENT: conn.maxRetransmits: must be a number in [0, 64], got "3"',
    );
    expect(refusal({ maxRetransmits: NaN })).toBe(
      'ERR_BAD_ARGUMENT: conn.maxRetransmits: must be a number in [0, 64], got null',
    );
    expect(refusal({ maxRetransmits: 65 })).toBe(
      'ERR_BAD_ARGUMENT: conn.maxRetransmits: must be a number in [0, 64], got 65',
    );
    expect(refusal({ maxRetransmits: -1 })).toBe(
      'ERR_BAD_ARGUMENT: conn.maxRetransmits: must be a number in [0, 64], got -1',
    );
    expect(refusal({ randomChunking: 'yes' })).toBe(
      'ERR_BAD_ARGUMENT: conn.randomChunking: must be true or false, got "yes"',
    );
    const ok = mergeConn('conn', DEFAULT_CONN, { maxRetransmits: 64, partialWriteProbability: 1 });
    expect([ok.maxRetransmits, ok.partialWriteProbability]).toEqual([64, 1]);
    expect(mergeConn('conn', DEFAULT_CONN, { maxRetransmits: 0 }).maxRetransmits).toBe(0);
  });
});
