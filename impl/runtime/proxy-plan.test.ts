/**
 * The fault proxy's decision core without sockets: decisions are a function of (seed, connection,
 * direction, offset) whatever the chunking; bytes come out intact and in order; stall, reset, limit,
 * slow close, bandwidth, slicing and the timeline take effect where they say. The faults are fault
 * plans compiled by compileProxyFaults (the profiles too, with the decisions the former parser gave);
 * the former description format still converts; bad plans are typed errors naming the field.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, firstDifference } from './bytes.js';
import { SimError } from '../../sim/errors.js';
import { planFromProxyDescription } from './proxy-legacy.js';
import {
  compileProxyFaults,
  connectionIsFaulty,
  describeProxyFaults,
  DirectionShaper,
  isCompiledProxyFaults,
  parseRateBytesPerSec,
  parseSizeBytes,
  PROXY_PROFILE_NAMES,
  PROXY_PROFILE_PLANS,
  PROXY_PROFILES,
  proxyProfile,
  simulateDirection,
  withoutFaults,
  type ProxyFaults,
  type ProxyLogEntry,
  type ShaperAction,
} from './proxy-plan.js';

/** A plan of the given steps, compiled for a stand-alone proxy (hosts "client" and "server"). */
function plan(...faults: unknown[]): ProxyFaults {
  return compileProxyFaults({ version: 1, faults });
}

/** A description in the former format ({up, down, timeline, ...}), converted and compiled. */
function described(json: unknown): ProxyFaults {
  return compileProxyFaults(planFromProxyDescription(json));
}

/** The client-to-server (up) link from the accept on. */
const UP = { at: '0s', from: 'client', to: 'server', oneWay: true } as const;

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

const RICH: ProxyFaults = plan(
  {
    kind: 'link',
    ...UP,
    set: {
      latency: { kind: 'uniform', minUs: 1000, maxUs: 9000 },
      jitterUs: 3000,
      slice: { minBytes: 1, maxBytes: 300, delayUs: 50 },
    },
  },
  { kind: 'stall-reads', atByte: 777, conn: 'all', side: 'server', forUs: 40_000 },
  { kind: 'stall-reads', atByte: 5000, conn: 'all', side: 'server', for: '10ms' },
  { kind: 'slow-close', at: '0s', conn: 'all', side: 'server', forUs: 2000 },
  {
    kind: 'link',
    atByte: 2000,
    forBytes: 3000,
    from: 'client',
    to: 'server',
    oneWay: true,
    set: { slice: null, bandwidth: '2MB/s' },
  },
  { kind: 'stall-reads', atByte: 9000, conn: 'all', side: 'both', for: '1ms' },
);

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
    const faults = plan({
      kind: 'link',
      at: '0s',
      from: 'client',
      to: 'server',
      set: { slice: { minBytes: 1, maxBytes: 64 }, jitter: '5ms' },
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
    const faults = compileProxyFaults({
      version: 1,
      faults: [{ kind: 'link', ...UP, set: { latency: '20ms', jitter: '5ms' } }],
      proxy: { segmentBytes: 100 },
    });
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
    const faults = plan({ kind: 'stall-reads', atByte: 100, conn: 'all', side: 'server', for: '500ms' });
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
    const faults = plan({ kind: 'reset', atByte: 1234, conn: 'all', side: 'server' });
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
    const at0 = drive(plan({ kind: 'reset', atByte: 0, conn: 'all', side: 'server' }), [
      { atUs: 5, bytes: payload(10, 1) },
    ]);
    expect(at0.events[0]!.action.type).toBe('reset');
    expect(writes(at0.events)).toHaveLength(0);
    const short = drive(
      plan({ kind: 'reset', atByte: 100, conn: 'all', side: 'server' }),
      [{ atUs: 0, bytes: payload(50, 1) }],
      10,
    );
    expect(short.events.map((e) => e.action.type)).toEqual(['write', 'fin']);
  });

  it('the data limit forwards N bytes, then closes the connection', () => {
    const data = payload(3000, 6);
    const { events, shaper } = drive(
      plan({ kind: 'limit', atByte: 2048, conn: 'all', side: 'client' }),
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
      plan({ kind: 'slow-close', at: '0s', conn: 'all', side: 'server', for: '200ms' }),
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
    const faults = compileProxyFaults({
      version: 1,
      faults: [{ kind: 'link', ...UP, set: { bandwidth: '10kB/s' } }],
      proxy: { segmentBytes: 500 },
    });
    const { events } = drive(faults, [{ atUs: 0, bytes: data }]);
    expect(sameBytes(concatBytes(writes(events)), data)).toBe('same');
    // 20 segments of 500 bytes, each 50 ms of the 10 kB/s budget: the last starts at 950 ms.
    expect(events.at(-1)!.tUs).toBe(950_000);
  });

  it('slicing writes each slice alone, sized within the range, delayUs apart', () => {
    const faults = plan({ kind: 'link', ...UP, set: { slice: { minBytes: 3, maxBytes: 17, delay: '1ms' } } });
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
    const faults = compileProxyFaults({
      version: 1,
      faults: [
        {
          kind: 'link',
          atByte: 250,
          forBytes: 300,
          from: 'client',
          to: 'server',
          oneWay: true,
          set: { latency: '5ms' },
        },
      ],
      proxy: { segmentBytes: 100 },
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
    const faults = compileProxyFaults({
      version: 1,
      faults: [{ kind: 'link', ...UP, at: '10ms', for: '10ms', set: { latency: '5ms' } }],
      proxy: { segmentBytes: 10 },
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
    const faults = plan(
      { kind: 'stall-reads', at: '10ms', conn: 'all', side: 'server', for: '5ms' },
      { kind: 'reset', at: '30ms', conn: 'all' },
    );
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

/** FNV-1a of the decision lines, for pinning long logs. */
function fnv(lines: readonly string[]): string {
  let h = 0x811c9dc5;
  const text = lines.join('\n');
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** Every decision with its time, as the former parser's pins were taken. */
function timedDecisions(log: readonly ProxyLogEntry[]): string[] {
  return log.map((e) => `${e.tUs} ${e.offset} ${e.action} ${e.bytes} ${e.detail}`);
}

describe('profiles are fault plans, compiled', () => {
  it('every profile is a plan that compiles, describes itself, and is what PROXY_PROFILES holds', () => {
    for (const name of PROXY_PROFILE_NAMES) {
      expect(compileProxyFaults(PROXY_PROFILE_PLANS[name])).toEqual(PROXY_PROFILES[name]);
      expect(proxyProfile(name)).toBe(PROXY_PROFILES[name]);
      expect(describeProxyFaults(proxyProfile(name))).toMatch(/^up: /);
    }
    expect(describeProxyFaults(proxyProfile('none'))).toBe('up: none; down: none');
    expect(() => proxyProfile('nope')).toThrow(/unknown fault profile "nope" \(known: none, latency/);
  });

  it('compile to the faults the former profile table held', () => {
    const latency = { latency: { kind: 'uniform', minUs: 2000, maxUs: 10_000 }, jitterUs: 2000 };
    const chaos = {
      latency: { kind: 'uniform', minUs: 1000, maxUs: 5000 },
      jitterUs: 2000,
      bandwidthBytesPerSec: 1_000_000,
      slice: { minBytes: 1, maxBytes: 256, delayUs: 0 },
      stalls: [{ atByte: 64, forUs: 100_000 }],
      slowCloseUs: 50_000,
    };
    const slicing = { slice: { minBytes: 1, maxBytes: 64, delayUs: 100 } };
    const stall = { stalls: [{ atByte: 12, forUs: 200_000 }] };
    expect(PROXY_PROFILES).toEqual({
      none: {},
      latency: { up: latency, down: latency },
      slicing: { up: slicing, down: slicing },
      stall: { up: stall, down: stall },
      reset: { up: { resetAtByte: 12 }, faultyConnections: 1 },
      chaos: { up: chaos, down: chaos },
    });
  });

  it('give, for a fixed seed, the decisions the former parser gave (pinned before the change)', () => {
    // [profile, connection, direction, decisions, FNV-1a of "tUs offset action bytes detail" lines],
    // taken with the former parseProxyFaults for seed "pin" and 3000 bytes of payload(3000, 7).
    const pins: [string, number, 'up' | 'down', number, string][] = [
      ['none', 0, 'up', 4, '6a75c22b'],
      ['latency', 0, 'up', 4, 'fffe88b2'],
      ['latency', 0, 'down', 4, 'f4a6a316'],
      ['latency', 1, 'up', 4, '5050f5a2'],
      ['latency', 1, 'down', 4, 'db65d85e'],
      ['slicing', 0, 'up', 96, '99674912'],
      ['slicing', 0, 'down', 103, '9a18dcf9'],
      ['slicing', 1, 'up', 94, 'af6490e5'],
      ['slicing', 1, 'down', 99, '0cf9cfc3'],
      ['stall', 0, 'up', 6, '2c3638b0'],
      ['stall', 1, 'down', 6, '2c3638b0'],
      ['reset', 0, 'up', 2, '84430347'],
      ['reset', 0, 'down', 4, '6a75c22b'],
      ['reset', 1, 'up', 4, '6a75c22b'],
      ['chaos', 0, 'up', 29, 'cd37cf69'],
      ['chaos', 0, 'down', 27, '41fb4916'],
      ['chaos', 1, 'up', 28, '1ef443a0'],
      ['chaos', 1, 'down', 32, '4928778d'],
    ];
    const data = payload(3000, 7);
    for (const [name, connIndex, dir, count, hash] of pins) {
      const faults = proxyProfile(name);
      const own = connectionIsFaulty(faults, 'pin', connIndex) ? faults : withoutFaults(faults);
      const lines = timedDecisions(
        simulateDirection({ seed: 'pin', connIndex, dir, faults: own }, [data]).log,
      );
      expect([name, connIndex, dir, lines.length, fnv(lines)]).toEqual([name, connIndex, dir, count, hash]);
    }
  });
});

describe('the former description format', () => {
  const RICH_DESCRIBED = {
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
      {
        kind: 'set',
        direction: 'up',
        atByte: 2000,
        forBytes: 3000,
        set: { slice: null, bandwidth: '2MB/s' },
      },
      { kind: 'stall', direction: 'both', atByte: 9000, for: '1ms' },
    ],
  };

  it('converts to the plan that says the same, with the former decisions', () => {
    const data = payload(12_000, 1);
    // Pinned with the former parser: its log named the timeline stall "(timeline[1])"; a stall keyed
    // by bytes is now one of the direction's own stalls, so that detail is the one difference.
    const former = { up: [77, '6046e9c9'], down: [12, '108f2b52'] } as const;
    for (const dir of ['up', 'down'] as const) {
      const run = (faults: ProxyFaults): string[] =>
        timedDecisions(simulateDirection({ seed: 's1', connIndex: 3, dir, faults }, [data]).log);
      const lines = run(described(RICH_DESCRIBED));
      expect(lines).toEqual(run(RICH));
      const asBefore = lines.map((l) => (/ 9000 stall /.test(l) ? `${l} (timeline[1])` : l));
      expect([asBefore.length, fnv(asBefore)]).toEqual(former[dir]);
    }
  });

  it('normalizes durations, rates and latency shorthands to µs fields', () => {
    expect(
      described({
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
    // A bare array is a timeline.
    expect(described([{ kind: 'reset', direction: 'up', atByte: 5 }])).toEqual({ up: { resetAtByte: 5 } });
  });

  it('bad descriptions are SimError ERR_BAD_ARGUMENT naming the field as the description wrote it', () => {
    const cases: [unknown, RegExp][] = [
      [{ up: { slice: { minBytes: 8, maxBytes: 4 } } }, /faults\.up\.slice\.maxBytes: must be >= minBytes/],
      [{ up: { bogus: 1 } }, /faults\.up\.bogus: unknown field \(known: latency/],
      [{ up: { jitter: '5 parsecs' } }, /faults\.up\.jitter: must be a duration/],
      [{ up: { jitter: '5ms', jitterUs: 5 } }, /faults\.up\.jitter: give jitterUs or jitter, not both/],
      [{ up: { latency: '20s' } }, /faults\.up\.latency: must be <= 10000000 \(MAX_LATENCY_US, 10s\)/],
      [{ up: { stalls: [{ atByte: 4 }] } }, /faults\.up\.stalls\[0\]\.forUs: required/],
      [{ down: { resetAtByte: -1 } }, /faults\.down\.resetAtByte: must be >= 0, got -1/],
      [{ down: { limitBytes: 1.5 } }, /faults\.down\.limitBytes: must be an integer, got 1.5/],
      [{ up: { slowClose: 'soon' } }, /faults\.up\.slowClose: must be a duration/],
      [{ toxicity: 2 }, /faults\.toxicity: must be <= 1, got 2/],
      [{ version: 2 }, /faults\.version: must be 1, got 2/],
      [{ timeline: [{ kind: 'explode' }] }, /faults\.timeline\[0\]\.kind: must be one of/],
      [
        { timeline: [{ kind: 'reset', direction: 'up' }] },
        /faults\.timeline\[0\]\.atUs: required \(or at as a duration string, or atByte/,
      ],
      [{ timeline: [{ kind: 'reset', direction: 'sideways', atByte: 1 }] }, /direction: must be one of/],
      [
        { timeline: [{ kind: 'set', direction: 'up', atByte: 1, forUs: 5, set: { jitterUs: 1 } }] },
        /faults\.timeline\[0\]\.forUs: a window that starts at a byte offset ends by forBytes/,
      ],
      [
        { timeline: [{ kind: 'set', direction: 'up', atByte: 1, set: {} }] },
        /faults\.timeline\[0\]\.set: must change at least one/,
      ],
      [{ up: { latency: { kind: 'gaussian' } } }, /faults\.up\.latency\.kind: must be one of constant/],
      [5, /faults: must be an object, got 5/],
    ];
    for (const [json, message] of cases) {
      let error: unknown;
      try {
        planFromProxyDescription(json);
      } catch (e) {
        error = e;
      }
      expect(error, JSON.stringify(json)).toBeInstanceOf(SimError);
      expect((error as SimError).code).toBe('ERR_BAD_ARGUMENT');
      expect((error as SimError).message).toMatch(message);
    }
  });
});

describe('compiling a plan for the proxy', () => {
  it('steps of other hosts, and selectors that do not match, leave the connection alone', () => {
    const faults = compileProxyFaults(
      {
        version: 1,
        faults: [
          { kind: 'link', at: '0s', from: 'a', to: 'b', set: { latency: '5ms' } },
          { kind: 'link', at: '0s', from: 'srv', to: 'cli', oneWay: true, set: { jitter: '1ms' } },
          { kind: 'reset', atByte: 10, conn: { client: 'other' }, side: 'both' },
          { kind: 'reset', atByte: 20, conn: { name: 'cli>tcp://srv:80#1' }, side: 'both' },
          {
            kind: 'stall-reads',
            atByte: 30,
            conn: { client: 'cli', server: 'srv' },
            side: 'client',
            for: '1ms',
          },
          { kind: 'pause', at: '1s', host: 'elsewhere', for: '1s' },
        ],
      },
      { client: 'cli', server: 'srv' },
    );
    expect(faults).toEqual({ down: { jitterUs: 1000, stalls: [{ atByte: 30, forUs: 1000 }] } });
  });

  it('later settings override earlier ones field by field; after a window they stay in order', () => {
    expect(
      plan(
        { kind: 'link', at: '0s', from: 'client', to: 'server', set: { latency: '5ms', jitter: '1ms' } },
        { kind: 'link', ...UP, set: { latency: '7ms', slice: { minBytes: 1, maxBytes: 9 } } },
        { kind: 'link', ...UP, set: { slice: null } },
      ),
    ).toEqual({
      up: { latency: { kind: 'constant', us: 7000 }, jitterUs: 1000 },
      down: { latency: { kind: 'constant', us: 5000 }, jitterUs: 1000 },
    });
    expect(
      plan(
        { kind: 'link', ...UP, at: '1s', for: '1s', set: { latency: '9ms' } },
        { kind: 'link', ...UP, set: { latency: '1ms' } },
      ).timeline,
    ).toEqual([
      {
        kind: 'set',
        direction: 'up',
        atUs: 1_000_000,
        forUs: 1_000_000,
        set: { latency: { kind: 'constant', us: 9000 } },
      },
      { kind: 'set', direction: 'up', atUs: 0, set: { latency: { kind: 'constant', us: 1000 } } },
    ]);
  });

  it('what the proxy cannot carry out is refused, naming the step; or skipped when asked', () => {
    const cases: [unknown, RegExp][] = [
      [
        { kind: 'crash', at: '1s', host: 'server' },
        /faults\[0\]\.kind: "crash" has no equivalent in the fault proxy/,
      ],
      [
        { kind: 'link', ...UP, set: { lossRate: 0.1, latency: '1ms' } },
        /faults\[0\]\.set\.lossRate: the fault proxy cannot lose bytes of a TCP stream/,
      ],
      [
        { kind: 'partition', at: '1s', a: ['client'], b: ['server'] },
        /faults\[0\]\.forUs: required by the fault proxy/,
      ],
      [
        { kind: 'stall-reads', at: '1s', atByte: 5, conn: 'all', side: 'both', for: '1s' },
        /faults\[0\]\.atUs: a step keyed by atByte applies from the start of the connection/,
      ],
      [
        { kind: 'slow-close', at: '1s', conn: 'all', side: 'both', for: '1s' },
        /faults\[0\]\.atUs: the fault proxy holds every end of stream/,
      ],
    ];
    for (const [step, message] of cases) {
      expect(() => plan(step), JSON.stringify(step)).toThrow(message);
      expect(() => plan(step)).toThrow(SimError);
    }
    const skipped = compileProxyFaults(
      { version: 1, faults: cases.map(([step]) => step) },
      { unsupported: 'skip' },
    );
    expect(skipped).toEqual({ up: { latency: { kind: 'constant', us: 1000 } } });
  });

  it('bad plans are the plan parser errors, and the link option is validated as a link change', () => {
    expect(() => plan({ kind: 'link', ...UP, set: { jitter: '11s' } })).toThrow(
      /faults\[0\]\.set\.jitter: must be <= 10000000 \(MAX_JITTER_US, 10s\), got 11000000/,
    );
    expect(() => compileProxyFaults({ up: { latency: '5ms' } })).toThrow(/version: must be 1/);
    expect(() => compileProxyFaults({ version: 1, faults: [] }, { link: { jitterUs: -1 } })).toThrow(
      /link\.jitterUs: must be >= 0, got -1/,
    );
    // An empty link change (a same-host link with whole writes, as real runs give) changes nothing.
    expect(withoutFaults(compileProxyFaults({ version: 1, faults: [] }, { link: {} }))).toEqual(
      withoutFaults(compileProxyFaults({ version: 1, faults: [] })),
    );
  });

  it('only the compiler makes ProxyFaults: its results are frozen and recognized, nothing else is', () => {
    const faults = plan({ kind: 'reset', atByte: 1, conn: 'all', side: 'both' });
    expect(isCompiledProxyFaults(faults)).toBe(true);
    expect(Object.isFrozen(faults.up)).toBe(true);
    expect(isCompiledProxyFaults({ up: { resetAtByte: 1 } })).toBe(false);
    const spared = withoutFaults(compileProxyFaults({ version: 1, faults: [], proxy: { segmentBytes: 9 } }));
    expect(spared).toEqual({ segmentBytes: 9 });
    expect(isCompiledProxyFaults(spared)).toBe(true);
  });
});

describe('units and connection choice', () => {
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
    const first = compileProxyFaults({ version: 1, faults: [], proxy: { faultyConnections: 2 } });
    expect([0, 1, 2, 3].map((i) => connectionIsFaulty(first, 's', i))).toEqual([true, true, false, false]);
    const half = compileProxyFaults({ version: 1, faults: [], proxy: { toxicity: 0.5 } });
    const picks = (seed: string): boolean[] =>
      Array.from({ length: 200 }, (_, i) => connectionIsFaulty(half, seed, i));
    expect(picks('s')).toEqual(picks('s'));
    expect(picks('s')).not.toEqual(picks('t'));
    const count = picks('s').filter(Boolean).length;
    expect(count).toBeGreaterThan(70);
    expect(count).toBeLessThan(130);
  });
});
