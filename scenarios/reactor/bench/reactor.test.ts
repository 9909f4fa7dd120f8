/** `netlab bench reactor`, briefly: both sides measure, the figures and ratios are consistent (no speed asserted). */
import { describe, expect, it } from 'vitest';
import { PagePool } from '../../../impl/reactor/pages.js';
import { requireBuild } from '../../testing/spawn.js';
import { checkParsersAgree, concatParser, frameReads, linkBufferParser, runReactorBench } from './reactor.js';

describe('bench reactor', () => {
  it('the two frame parsers see the same frames, whatever the read boundaries', () => {
    for (const payload of [1, 64, 8190, 64 * 1024]) checkParsersAgree(frameReads(payload).reads);
    // Reads of odd sizes: frames straddle 2 or more reads, headers split across reads.
    const { reads } = frameReads(300);
    const stream = Buffer.concat(reads);
    const odd: Buffer[] = [];
    for (let at = 0, n = 1; at < stream.length; at += n, n = (n * 7 + 3) % 997 || 1)
      odd.push(stream.subarray(at, at + n));
    const pool = new PagePool();
    const lb = linkBufferParser(pool);
    const cc = concatParser();
    let a = 0;
    let b = 0;
    for (const r of odd) {
      a += lb.feed(r);
      b += cc.feed(r);
    }
    expect(a).toBe(b);
    expect(a).toBeGreaterThan(0);
    expect(pool.stats.outstandingPages).toBe(0);
  });

  it('measures the reactor and the raw echo in alternating rounds, and the parsers', async () => {
    requireBuild();
    const r = await runReactorBench({ durationMs: 50, repeats: 3 });
    expect(r.rounds).toHaveLength(3);
    for (const k of [
      'reactorRoundTripsPerSec',
      'rawRoundTripsPerSec',
      'reactor10RoundTripsPerSec',
      'raw10RoundTripsPerSec',
    ] as const)
      expect(r[k]).toBeGreaterThan(0);
    expect(r.ratioReactorToRaw).toBeCloseTo(r.reactorRoundTripsPerSec / r.rawRoundTripsPerSec, 2);
    expect(r.ratioReactor10ToRaw).toBeCloseTo(r.reactor10RoundTripsPerSec / r.raw10RoundTripsPerSec, 2);
    expect(r.writeInterestRegistrationsPerMessage).toBeGreaterThanOrEqual(0);
    expect(r.ratioLinkBufferToConcat64B).toBeGreaterThan(0);
    expect(r.ratioLinkBufferToConcat64KiB).toBeGreaterThan(0);
    expect(r.linkBufferAllocationsPerFrame).toBeGreaterThanOrEqual(0);
    expect(r.meetsGoal).toBe(Object.values(r.goals).every(Boolean));
  }, 60_000);
});
