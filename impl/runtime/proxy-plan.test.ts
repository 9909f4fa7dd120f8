/**
 * The fault proxy's decision core without sockets: decisions are a function of (seed, connection,
 * direction, offset) whatever the chunking; bytes come out intact and in order; stall, reset, limit,
 * slow close, bandwidth, slicing and the timeline take effect where they say; bad descriptions are
 * typed errors naming the field.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, firstDifference } from './bytes.js';
import { SimError } from '../../sim/errors.js';
import {
  connectionIsFaulty,
  describeProxyFaults,
  DirectionShaper,
  parseProxyFaults,
  parseProxyFaultsText,
  parseRateBytesPerSec,
  parseSizeBytes,
  PROXY_PROFILE_NAMES,
  PROXY_PROFILES,
  proxyProfile,
  simulateDirection,
  type ProxyFaults,
  type ProxyLogEntry,
  type ShaperAction,
} from './proxy-plan.js';

/** "same", or where two byte arrays first differ (vitest's deep equality is slow on large arrays). */
function sameBytes(actual: Uint8Array, expected: Uint8Array): string {
  const i = firstDifference(actual, expected);
  if (i < 0) return 'same';
  if (i < actual.length && i < expected.length) return `byte ${i} differs: ${actual[i]} vs ${expected[i]}`;
  return `length ${actual.length} vs ${expected.length}`;
}

/** Deterministic pseudo-random payload (a simple LCG: test data, not a decision). */
function payload(lengthBytes: number, salt: number): Uint8Array {
  const out = new Uint8Array(lengthBytes);
  let x = (salt * 2654435761) >>> 0;
  for (let i = 0; i < lengthBytes; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** Splits bytes at the given cut points (sorted, deduplicated, inside the array). */
function chunk(bytes: Uint8Array, cuts: readonly number[]): Uint8Array[] {
  const points = [...new Set(cuts.filter((c) => c > 0 && c < bytes.length))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let at = 0;
  for (const c of [...points, bytes.length]) {
    out.push(bytes.subarray(at, c));
    at = c;
  }
  return out;
}

/** The decisions of a log without timestamps: what the determinism claim is about. */
function decisions(log: readonly ProxyLogEntry[]): string[] {
  return log.map((e) => `${e.dir} ${e.offset} ${e.action} ${e.bytes} ${e.detail}`);
}

const RICH: ProxyFaults = parseProxyFaults({
  up: {
    latency: { kind: 'uniform', minUs: 1000, maxUs: 9000 },
    jitterUs: 3000,
    slice: { minBytes: 1, maxBytes: 300, delayUs: 50 },
    stalls: [
      { atByte: 777, forUs: 40_000 },
      { atByte: 5000, for: '10ms' },
    ],
    slowCloseUs: 2000,
  },
  timeline: [
    { kind: 'set', direction: 'up', atByte: 2000, forBytes: 3000, set: { slice: null, bandwidth: '2MB/s' } },
    { kind: 'stall', direction: 'both', atByte: 9000, for: '1ms' },
  ],
});

describe('decisions are a function of (seed, conn, dir, offset)', () => {
  it('any chunking of the same bytes gives the same decisions and the same output', () => {
    const data = payload(12_000, 1);
    const base = simulateDirection({ seed: 's1', connIndex: 3, dir: 'up', faults: RICH }, [data]);
    expect(sameBytes(concatBytes(base.written), data)).toBe('same');
    expect(base.log.some((e) => e.action === 'slice')).toBe(true);
    expect(base.log.some((e) => e.action === 'delay')).toBe(true);
    expect(base.log.filter((e) => e.action === 'stall').map((e) => e.offset)).toEqual([777, 5000, 9000]);
    // fast-check with a fixed seed; a failure prints seed and path.
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: data.length - 1 }), { maxLength: 200 }),
        fc.integer({ min: 0, max: 3000 }),
        (cuts, gapUs) => {
          const run = simulateDirection(
            { seed: 's1', connIndex: 3, dir: 'up', faults: RICH },
            chunk(data, cuts),
            gapUs,
          );
          expect(decisions(run.log)).toEqual(decisions(base.log));
          expect(sameBytes(concatBytes(run.written), data)).toBe('same');
        },
      ),
      { seed: 4242, numRuns: 100 },
    );
  });

  it('different seeds, connections or directions cut and delay differently', () => {
    const data = payload(4000, 2);
    const faults = parseProxyFaults({
      up: { slice: { minBytes: 1, maxBytes: 64, delayUs: 0 }, jitter: '5ms' },
      down: { slice: { minBytes: 1, maxBytes: 64, delayUs: 0 }, jitter: '5ms' },
    });
    const run = (seed: string, connIndex: number, dir: 'up' | 'down'): string[] =>
      decisions(simulateDirection({ seed, connIndex, dir, faults }, [data]).log).map((d) =>
        d.slice(d.indexOf(' ')),
      );
    const a = run('a', 0, 'up');
    expect(run('a', 0, 'up')).toEqual(a);
    expect(run('b', 0, 'up')).not.toEqual(a);
    expect(run('a', 1, 'up')).not.toEqual(a);
    expect(run('a', 0, 'down')).not.toEqual(a);
  });
});

/** Drives a shaper by hand: push at times, poll at every wake, record (time, action). */
function drive(
  faults: ProxyFaults,
  arrivals: readonly { atUs: number; bytes: Uint8Array }[],
  endAtUs?: number,
  dir: 'up' | 'down' = 'up',
): { events: { tUs: number; action: ShaperAction }[]; log: ProxyLogEntry[]; shaper: DirectionShaper } {
  const log: ProxyLogEntry[] = [];
  const shaper = new DirectionShaper({
    seed: 'x',
    connIndex: 0,
    dir,
    faults,
    startUs: 0,
    onLog: (e) => log.push(e),
  });
  const events: { tUs: number; action: ShaperAction }[] = [];
  const inputs = [...arrivals.map((a) => ({ t: a.atUs, bytes: a.bytes }))];
  if (endAtUs !== undefined) inputs.push({ t: endAtUs, bytes: new Uint8Array(0) });
  let now = 0;
  let i = 0;
  for (let guard = 0; guard < 1_000_000; guard++) {
    const wake = shaper.nextWakeUs();
    const input = inputs[i];
    if (input !== undefined && (wake === undefined || input.t <= wake)) {
      now = Math.max(now, input.t);
      if (input.bytes.length === 0 && i === inputs.length - 1 && endAtUs !== undefined) shaper.end(now);
      else shaper.push(now, input.bytes);
      i++;
    } else if (wake !== undefined) {
      now = Math.max(now, wake);
    } else break;
    for (const action of shaper.poll(now)) events.push({ tUs: now, action });
  }
  return { events, log, shaper };
}

const writes = (events: { action: ShaperAction }[]): Uint8Array[] =>
  events.flatMap((e) => (e.action.type === 'write' ? [e.action.bytes] : []));

describe('each fault takes effect', () => {
  it('latency and jitter delay every byte by a segment draw, and keep order', () => {
    const faults = parseProxyFaults({ up: { latency: '20ms', jitter: '5ms' }, segmentBytes: 100 });
    const data = payload(1000, 3);
    const { events, log } = drive(faults, [{ atUs: 0, bytes: data }]);
    expect(sameBytes(concatBytes(writes(events)), data)).toBe('same');
    expect(log).toHaveLength(10);
    for (const e of log) {
      expect(e.action).toBe('delay');
      const us = Number(/latency (\d+)us/.exec(e.detail)![1]);
      expect(us).toBeGreaterThanOrEqual(20_000);
      expect(us).toBeLessThan(25_000);
    }
    expect(Math.min(...events.map((e) => e.tUs))).toBeGreaterThanOrEqual(20_000);
    const times = events.map((e) => e.tUs);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
  });

  it('a stall holds every byte from its offset until it ends; reading is blocked meanwhile', () => {
    const faults = parseProxyFaults({ up: { stalls: [{ atByte: 100, for: '500ms' }] } });
    const data = payload(300, 4);
    const { events, shaper } = drive(faults, [
      { atUs: 1000, bytes: data.subarray(0, 150) },
      { atUs: 2000, bytes: data.subarray(150) },
    ]);
    const before = events.filter((e) => e.tUs < 501_000);
    expect(sameBytes(concatBytes(writes(before)), data.subarray(0, 100))).toBe('same');
    expect(sameBytes(concatBytes(writes(events)), data)).toBe('same');
    expect(Math.min(...events.filter((e) => e.tUs >= 501_000).map((e) => e.tUs))).toBe(501_000);
    expect(shaper.readBlockedUntilUs).toBe(501_000);
  });

  it('a reset forwards exactly the bytes before its offset, then resets; later bytes are dropped', () => {
    const faults = parseProxyFaults({ up: { resetAtByte: 1234 } });
    const data = payload(5000, 5);
    const { events, shaper, log } = drive(faults, [{ atUs: 0, bytes: data }]);
    expect(sameBytes(concatBytes(writes(events)), data.subarray(0, 1234))).toBe('same');
    expect(events.at(-1)!.action).toMatchObject({ type: 'reset', offset: 1234 });
    expect(shaper.terminal).toBe('reset');
    expect(shaper.discarded).toBe(5000 - 1234);
    expect(shaper.nextWakeUs()).toBeUndefined();
    // Nothing past the reset offset is planned, so the log does not depend on how much was read.
    expect(Math.max(...log.map((e) => e.offset + e.bytes))).toBe(1234);
  });

  it('a reset at offset 0 fires before any byte; a stream that ends before the offset is not reset', () => {
    const at0 = drive(parseProxyFaults({ up: { resetAtByte: 0 } }), [{ atUs: 5, bytes: payload(10, 1) }]);
    expect(at0.events[0]!.action.type).toBe('reset');
    expect(writes(at0.events)).toHaveLength(0);
    const short = drive(
      parseProxyFaults({ up: { resetAtByte: 100 } }),
      [{ atUs: 0, bytes: payload(50, 1) }],
      10,
    );
    expect(short.events.map((e) => e.action.type)).toEqual(['write', 'fin']);
  });

  it('the data limit forwards N bytes, then closes the connection', () => {
    const data = payload(3000, 6);
    const { events, shaper } = drive(
      parseProxyFaults({ down: { limitBytes: 2048 } }),
      [{ atUs: 0, bytes: data }],
      10,
      'down',
    );
    expect(sameBytes(concatBytes(writes(events)), data.subarray(0, 2048))).toBe('same');
    expect(events.at(-1)!.action).toEqual({ type: 'limit', offset: 2048 });
    expect(shaper.terminal).toBe('limit');
  });

  it('slow close holds the FIN after the last byte', () => {
    const { events } = drive(
      parseProxyFaults({ up: { slowClose: '200ms' } }),
      [{ atUs: 0, bytes: payload(10, 1) }],
      1000,
    );
    expect(events.map((e) => [e.tUs, e.action.type])).toEqual([
      [0, 'write'],
      [201_000, 'fin'],
    ]);
  });

  it('bandwidth spaces the writes so the rate is the one asked for', () => {
    const data = payload(10_000, 7);
    const { events } = drive(parseProxyFaults({ up: { bandwidth: '10kB/s' }, segmentBytes: 500 }), [
      { atUs: 0, bytes: data },
    ]);
    expect(sameBytes(concatBytes(writes(events)), data)).toBe('same');
    // 20 segments of 500 bytes, each 50 ms of the 10 kB/s budget: the last starts at 950 ms.
    expect(events.at(-1)!.tUs).toBe(950_000);
  });

  it('slicing writes each slice alone, sized within the range, delayUs apart', () => {
    const faults = parseProxyFaults({ up: { slice: { minBytes: 3, maxBytes: 17, delay: '1ms' } } });
    const data = payload(2000, 8);
    const { events, log } = drive(faults, [{ atUs: 0, bytes: data }]);
    const w = events.filter((e) => e.action.type === 'write');
    expect(sameBytes(concatBytes(writes(w)), data)).toBe('same');
    expect(w.length).toBe(log.length);
    for (const [i, e] of log.entries()) {
      expect(e.action).toBe('slice');
      expect(e.bytes).toBeGreaterThanOrEqual(3);
      expect(e.bytes).toBeLessThanOrEqual(17);
      // The log gives the planned size: the stream may end inside the last slice.
      const written = (w[i]!.action as { bytes: Uint8Array }).bytes.length;
      if (i < log.length - 1) expect(written).toBe(e.bytes);
      else expect(written).toBe(2000 - e.offset);
      if (i > 0) expect(w[i]!.tUs - w[i - 1]!.tUs).toBe(1000);
    }
    expect(new Set(log.map((e) => e.bytes)).size).toBeGreaterThan(5);
  });

  it('timeline windows by bytes change the faults exactly over their range', () => {
    const faults = parseProxyFaults({
      segmentBytes: 100,
      timeline: [{ kind: 'set', direction: 'up', atByte: 250, forBytes: 300, set: { latency: '5ms' } }],
    });
    const { log } = drive(faults, [{ atUs: 0, bytes: payload(1000, 9) }]);
    expect(log.map((e) => [e.offset, e.bytes, e.action])).toEqual([
      [0, 100, 'forward'],
      [100, 100, 'forward'],
      [200, 50, 'forward'],
      [250, 100, 'delay'],
      [350, 100, 'delay'],
      [450, 100, 'delay'],
      [550, 100, 'forward'],
      [650, 100, 'forward'],
      [750, 100, 'forward'],
      [850, 100, 'forward'],
      [950, 100, 'forward'],
    ]);
  });

  it('timeline windows by time apply to the segments planned inside them', () => {
    const faults = parseProxyFaults({
      segmentBytes: 10,
      timeline: [{ kind: 'set', direction: 'up', at: '10ms', for: '10ms', set: { latency: '5ms' } }],
    });
    const { log } = drive(
      faults,
      [0, 5000, 10_000, 15_000, 20_000].map((atUs, i) => ({ atUs, bytes: payload(10, i) })),
    );
    expect(log.map((e) => [e.tUs, e.action])).toEqual([
      [0, 'forward'],
      [5000, 'forward'],
      [10_000, 'delay'],
      [15_000, 'delay'],
      [20_000, 'forward'],
    ]);
  });

  it('timeline steps by time: a stall and a reset fire at their time, counted from the accept', () => {
    const faults = parseProxyFaults({
      timeline: [
        { kind: 'stall', direction: 'up', at: '10ms', for: '5ms' },
        { kind: 'reset', direction: 'both', at: '30ms' },
      ],
    });
    const { events, log, shaper } = drive(faults, [
      { atUs: 0, bytes: payload(10, 1) },
      { atUs: 12_000, bytes: payload(10, 2) },
    ]);
    expect(events.map((e) => [e.tUs, e.action.type])).toEqual([
      [0, 'write'],
      [15_000, 'write'],
      [30_000, 'reset'],
    ]);
    expect(log.filter((e) => e.action === 'stall')).toMatchObject([{ tUs: 10_000, offset: 10 }]);
    expect(shaper.terminal).toBe('reset');
  });
});

describe('fault descriptions', () => {
  it('every profile parses and describes itself; unknown profiles list the known ones', () => {
    for (const name of PROXY_PROFILE_NAMES) {
      expect(proxyProfile(name)).toEqual(parseProxyFaults(PROXY_PROFILES[name]));
      expect(describeProxyFaults(proxyProfile(name))).toMatch(/^up: /);
    }
    expect(describeProxyFaults(proxyProfile('none'))).toBe('up: none; down: none');
    expect(() => proxyProfile('nope')).toThrow(/unknown fault profile "nope" \(known: none, latency/);
  });

  it('normalizes durations, rates and latency shorthands to µs fields', () => {
    expect(
      parseProxyFaults({
        up: {
          latency: '20ms',
          jitter: '5ms',
          bandwidth: '1MB/s',
          slice: { minBytes: 1, maxBytes: 2, delay: '1ms' },
          slowClose: '1s',
        },
        timeline: [{ kind: 'stall', direction: 'down', at: '2s', for: '100ms' }],
      }),
    ).toEqual({
      up: {
        latency: { kind: 'constant', us: 20_000 },
        jitterUs: 5000,
        bandwidthBytesPerSec: 1_000_000,
        slice: { minBytes: 1, maxBytes: 2, delayUs: 1000 },
        slowCloseUs: 1_000_000,
      },
      timeline: [{ kind: 'stall', direction: 'down', atUs: 2_000_000, forUs: 100_000 }],
    });
  });

  it('bad descriptions are SimError ERR_BAD_ARGUMENT naming the field', () => {
    const cases: [unknown, RegExp][] = [
      [
        { up: { slice: { minBytes: 8, maxBytes: 4 } } },
        /faults\.up\.slice\.maxBytes: must be an integer in \[8,/,
      ],
      [{ up: { bogus: 1 } }, /faults\.up\.bogus: unknown field \(known: latency/],
      [{ up: { jitter: '5 parsecs' } }, /faults\.up\.jitter: must be a duration/],
      [{ up: { jitter: '5ms', jitterUs: 5 } }, /give jitterUs or jitter, not both/],
      [{ up: { stalls: [{ atByte: 4 }] } }, /faults\.up\.stalls\[0\]\.forUs: required/],
      [{ down: { resetAtByte: -1 } }, /faults\.down\.resetAtByte: must be an integer/],
      [{ toxicity: 2 }, /faults\.toxicity: must be a number in \[0, 1\], got 2/],
      [{ timeline: [{ kind: 'explode' }] }, /faults\.timeline\[0\]\.kind: must be one of/],
      [{ timeline: [{ kind: 'reset', direction: 'up' }] }, /give exactly one of atByte/],
      [{ timeline: [{ kind: 'reset', direction: 'sideways', atByte: 1 }] }, /direction: must be one of/],
      [
        { timeline: [{ kind: 'set', direction: 'up', atByte: 1, forUs: 5, set: { jitterUs: 1 } }] },
        /ends by forBytes/,
      ],
      [{ timeline: [{ kind: 'set', direction: 'up', atByte: 1, set: {} }] }, /set: must change at least one/],
      [{ up: { latency: { kind: 'gaussian' } } }, /faults\.up\.latency\.kind: must be constant/],
      [[], /faults: must be an object, got an array/],
    ];
    for (const [json, message] of cases) {
      let error: unknown;
      try {
        parseProxyFaults(json);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(json)).toBeInstanceOf(SimError);
      expect((error as SimError).code).toBe('ERR_BAD_ARGUMENT');
      expect((error as SimError).message).toMatch(message);
    }
    expect(() => parseProxyFaultsText('{"up": ')).toThrow(/faults: malformed JSON/);
  });

  it('sizes and rates', () => {
    expect(parseSizeBytes('4096')).toBe(4096);
    expect(parseSizeBytes('64KiB')).toBe(65_536);
    expect(parseSizeBytes('1MB')).toBe(1_000_000);
    expect(parseSizeBytes('1.5 kb')).toBe(1500);
    expect(parseSizeBytes('1 parsec')).toBeUndefined();
    expect(parseSizeBytes('-1')).toBeUndefined();
    expect(parseRateBytesPerSec('1MiB/s')).toBe(1_048_576);
    expect(parseRateBytesPerSec('300')).toBe(300);
    expect(parseRateBytesPerSec('fast')).toBeUndefined();
  });

  it('toxicity and faultyConnections pick connections by index, the same way for the same seed', () => {
    const first = parseProxyFaults({ faultyConnections: 2 });
    expect([0, 1, 2, 3].map((i) => connectionIsFaulty(first, 's', i))).toEqual([true, true, false, false]);
    const half = parseProxyFaults({ toxicity: 0.5 });
    const picks = (seed: string): boolean[] =>
      Array.from({ length: 200 }, (_, i) => connectionIsFaulty(half, seed, i));
    expect(picks('s')).toEqual(picks('s'));
    expect(picks('s')).not.toEqual(picks('t'));
    const count = picks('s').filter(Boolean).length;
    expect(count).toBeGreaterThan(70);
    expect(count).toBeLessThan(130);
  });
});
