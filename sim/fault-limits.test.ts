/**
 * One set of limits: every bound of the fault vocabulary is a named constant, accepted at the bound
 * and refused just past it, with the same message, by fault plans and by the simulator's link
 * settings (the scenario model and the proxy's flags: bin/commands/proxy.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { SimError } from './errors.js';
import {
  formatDurationUs,
  MAX_BANDWIDTH_BYTES_PER_SEC,
  MAX_JITTER_US,
  MAX_LATENCY_US,
  MAX_PLAN_STEPS,
  MAX_PLAN_US,
  MAX_SIZE_BYTES,
  parseDurationUs,
  parseRateBytesPerSec,
  parseSizeBytes,
} from './fault-limits.js';
import { drawSwarmPlan, parseFaultPlan } from './fault-plan.js';
import { DEFAULT_LINK, mergeLink } from './net-config.js';
import { Rng } from './rng.js';

/** The message a call throws ("accepted" when it does not), without the error code. */
function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(SimError);
    return (e as SimError).message.replace(/^ERR_BAD_ARGUMENT: /, '');
  }
  return 'accepted';
}

const linkStep = (set: Record<string, unknown>) => () =>
  parseFaultPlan({ version: 1, faults: [{ kind: 'link', atUs: 0, from: 'a', to: 'b', set }] });
const linkSetting = (patch: Record<string, unknown>) => () => mergeLink('link', DEFAULT_LINK, patch);

describe('one set of limits', () => {
  it('are the documented values', () => {
    expect([MAX_LATENCY_US, MAX_JITTER_US, MAX_PLAN_US, MAX_PLAN_STEPS, MAX_SIZE_BYTES]).toEqual([
      10_000_000,
      10_000_000,
      2 ** 40,
      10_000,
      2 ** 31,
    ]);
    expect(MAX_BANDWIDTH_BYTES_PER_SEC).toBe(2 ** 40);
  });

  it('latency: every value of every model, in a plan and in link settings, at most MAX_LATENCY_US', () => {
    const over = `must be <= ${MAX_LATENCY_US} (MAX_LATENCY_US, 10s), got ${MAX_LATENCY_US + 1}`;
    const models: [Record<string, unknown>, string][] = [
      [{ kind: 'constant', us: MAX_LATENCY_US + 1 }, 'us'],
      [{ kind: 'uniform', minUs: 0, maxUs: MAX_LATENCY_US + 1 }, 'maxUs'],
      [{ kind: 'exponential', minUs: MAX_LATENCY_US + 1, meanUs: 0 }, 'minUs'],
      [{ kind: 'exponential', minUs: 0, meanUs: MAX_LATENCY_US + 1 }, 'meanUs'],
    ];
    for (const [latency, field] of models) {
      expect(refusal(linkStep({ latency }))).toBe(`faults[0].set.latency.${field}: ${over}`);
      expect(refusal(linkSetting({ latency }))).toBe(`link.latency.${field}: ${over}`);
    }
    const mixture = {
      kind: 'mixture',
      fast: { kind: 'constant', us: 1 },
      slow: { kind: 'constant', us: MAX_LATENCY_US + 1 },
      slowProbability: 0.1,
    };
    expect(refusal(linkSetting({ latency: mixture }))).toBe(`link.latency.slow.us: ${over}`);
    expect(refusal(linkStep({ latency: `${MAX_LATENCY_US + 1}us` }))).toBe(`faults[0].set.latency: ${over}`);
    const at = { kind: 'uniform', minUs: MAX_LATENCY_US, maxUs: MAX_LATENCY_US };
    expect(refusal(linkStep({ latency: at }))).toBe('accepted');
    expect(refusal(linkSetting({ latency: at }))).toBe('accepted');
    // Integer µs everywhere (the scenario model's rule before; the simulator took fractions).
    expect(refusal(linkSetting({ latency: { kind: 'constant', us: 1.5 } }))).toBe(
      'link.latency.us: must be an integer, got 1.5',
    );
  });

  it('jitter and bandwidth, the same in a plan and in link settings', () => {
    const jitter = `must be <= ${MAX_JITTER_US} (MAX_JITTER_US, 10s), got ${MAX_JITTER_US + 1}`;
    expect(refusal(linkStep({ jitterUs: MAX_JITTER_US + 1 }))).toBe(`faults[0].set.jitterUs: ${jitter}`);
    expect(refusal(linkSetting({ jitterUs: MAX_JITTER_US + 1 }))).toBe(`link.jitterUs: ${jitter}`);
    expect(refusal(linkStep({ jitter: formatDurationUs(MAX_JITTER_US + 1000) }))).toMatch(
      /faults\[0\]\.set\.jitter: must be <= 10000000 \(MAX_JITTER_US, 10s\), got 10001000/,
    );
    expect(refusal(linkStep({ jitterUs: -1 }))).toBe('faults[0].set.jitterUs: must be >= 0, got -1');
    expect(refusal(linkSetting({ jitterUs: -1 }))).toBe('link.jitterUs: must be >= 0, got -1');
    const bandwidth = `must be <= ${MAX_BANDWIDTH_BYTES_PER_SEC} (MAX_BANDWIDTH_BYTES_PER_SEC), got`;
    expect(refusal(linkStep({ bandwidthBytesPerSec: 2 ** 41 }))).toMatch(bandwidth);
    expect(refusal(linkSetting({ bandwidthBytesPerSec: 2 ** 41 }))).toMatch(bandwidth);
    expect(refusal(linkStep({ bandwidth: '2000GB/s' }))).toMatch(`faults[0].set.bandwidth: ${bandwidth}`);
    expect(refusal(linkSetting({ lossRate: 1.5 }))).toBe('link.lossRate: must be <= 1, got 1.5');
    expect(refusal(linkStep({ lossRate: 1.5 }))).toBe('faults[0].set.lossRate: must be <= 1, got 1.5');
  });

  it('plan times, sizes, and the number of steps', () => {
    expect(
      refusal(() =>
        parseFaultPlan({ version: 1, faults: [{ kind: 'reset', atUs: MAX_PLAN_US + 1, conn: 'all' }] }),
      ),
    ).toBe(`faults[0].atUs: must be <= ${MAX_PLAN_US} (MAX_PLAN_US, 2^40us), got ${MAX_PLAN_US + 1}`);
    expect(refusal(linkStep({ slice: { minBytes: 1, maxBytes: MAX_SIZE_BYTES + 1 } }))).toBe(
      `faults[0].set.slice.maxBytes: must be <= ${MAX_SIZE_BYTES} (MAX_SIZE_BYTES, 2^31), got ${MAX_SIZE_BYTES + 1}`,
    );
    const steps = (n: number) => () =>
      parseFaultPlan({
        version: 1,
        faults: Array.from({ length: n }, () => ({ kind: 'reset', atUs: 0, conn: 'all' })),
      });
    expect(refusal(steps(MAX_PLAN_STEPS))).toBe('accepted');
    expect(refusal(steps(MAX_PLAN_STEPS + 1))).toBe(`faults: must have <= ${MAX_PLAN_STEPS} item(s)`);
  });

  it('integer fields refuse fractions: jitter, slice sizes, plan times, proxy sizes and counts', () => {
    const frac = 'must be an integer, got 1.5';
    expect(refusal(linkStep({ jitterUs: 1.5 }))).toBe(`faults[0].set.jitterUs: ${frac}`);
    expect(refusal(linkSetting({ jitterUs: 1.5 }))).toBe(`link.jitterUs: ${frac}`);
    expect(refusal(linkStep({ slice: { minBytes: 1.5, maxBytes: 4 } }))).toBe(
      `faults[0].set.slice.minBytes: ${frac}`,
    );
    expect(
      refusal(() => parseFaultPlan({ version: 1, faults: [{ kind: 'reset', atUs: 1.5, conn: 'all' }] })),
    ).toBe(`faults[0].atUs: ${frac}`);
    const proxy = (p: Record<string, unknown>) => () => parseFaultPlan({ version: 1, faults: [], proxy: p });
    expect(refusal(proxy({ segmentBytes: 1.5 }))).toBe(`proxy.segmentBytes: ${frac}`);
    expect(refusal(proxy({ faultyConnections: 1.5 }))).toBe(`proxy.faultyConnections: ${frac}`);
    expect(refusal(proxy({ segmentBytes: 1, faultyConnections: 0 }))).toBe('accepted');
    // Rates and probabilities may be fractions.
    expect(refusal(linkSetting({ bandwidthBytesPerSec: 1.5, lossRate: 0.5 }))).toBe('accepted');
  });

  it('swarm knobs are bounded by the same limits', () => {
    expect(
      refusal(() =>
        drawSwarmPlan(new Rng(1), ['a', 'b'], { latencyMeanUs: { min: 0, max: MAX_LATENCY_US + 1 } }),
      ),
    ).toMatch(/swarm\.latencyMeanUs\.max: must be <= 10000000/);
    expect(
      refusal(() => drawSwarmPlan(new Rng(1), ['a', 'b'], { jitterUs: { min: 0, max: MAX_JITTER_US } })),
    ).toBe('accepted');
  });
});

describe('text forms', () => {
  it('durations, sizes and rates', () => {
    expect(parseDurationUs('250ms')).toBe(250_000);
    expect(parseDurationUs('1.5 s')).toBe(1_500_000);
    expect(parseDurationUs('2min')).toBe(120_000_000);
    expect(parseDurationUs('-1s')).toBeUndefined();
    expect(formatDurationUs(1_500_000)).toBe('1.5s');
    // The largest unit that keeps the value whole: below 1ms, or not a whole ms, stays in us.
    expect([0, 7, 999, 1000, 1500, 999_000, 1_000_000, 1_001_000].map(formatDurationUs)).toEqual([
      '0us',
      '7us',
      '999us',
      '1ms',
      '1500us',
      '999ms',
      '1s',
      '1.001s',
    ]);
    expect(parseSizeBytes('64KiB')).toBe(65_536);
    expect(parseSizeBytes('1e3')).toBeUndefined();
    expect(parseRateBytesPerSec('1MB/s')).toBe(1_000_000);
  });

  it('sizes written with a leading point, one digit or several', () => {
    expect(parseSizeBytes('.5KiB')).toBe(512);
    expect(parseSizeBytes('.25 kB')).toBe(250);
    expect(parseSizeBytes('.125MB')).toBe(125_000);
    expect(parseSizeBytes('.KiB')).toBeUndefined();
  });
});
