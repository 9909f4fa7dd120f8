/**
 * resolveReactorOptions as a caller meets it: every default, both ends of every range (accepted at
 * the end, refused one past it with the option, its range and the value named), values of the
 * wrong type described in the message, the derived input bounds, and the typed error itself.
 */
import { describe, expect, it } from 'vitest';
import { isReactorError, REACTOR_ERROR_CODES, ReactorError } from './errors.js';
import {
  LOAD_BALANCE_POLICIES,
  MAX_BOUND_BYTES,
  MAX_DURATION_US,
  REACTOR_DEFAULTS,
  resolveReactorOptions,
  type ReactorOptions,
} from './options.js';

/** The ErrBadOption message resolveReactorOptions throws for `options`, or 'accepted'. */
function refusal(options: Record<string, unknown>): string {
  try {
    resolveReactorOptions(options);
    return 'accepted';
  } catch (e) {
    if (!isReactorError(e, 'ErrBadOption')) throw e;
    return e.message;
  }
}

const MIB = 1024 * 1024;

/** The documented ranges, stated here from the doc table, not read from the module. */
const RANGES: [keyof ReactorOptions, number, number][] = [
  ['loops', 1, 256],
  ['pageBytes', 64, MIB],
  ['maxPooledPages', 0, 1_000_000],
  ['readTimeoutUs', 0, 1_000_000_000_000],
  ['writeTimeoutUs', 0, 1_000_000_000_000],
  ['idleTimeoutUs', 0, 1_000_000_000_000],
  ['inputHighWaterBytes', 1, 1024 * MIB],
  ['inputLowWaterBytes', 0, 1024 * MIB],
  ['maxInputBytes', 1, 1024 * MIB],
  ['outputHighWaterBytes', 0, 1024 * MIB],
  ['maxConcurrentHandlers', 1, 1_000_000],
  ['maxConnections', 1, 1_000_000],
  ['acceptBacklog', 0, 1_000_000],
  ['maxUnconsumedRuns', 1, 1_000_000],
  ['costUsPerRequest', 0, 1_000_000_000_000],
];

/** Options that must come with others to be valid at an end of their range. */
function withCompanions(name: keyof ReactorOptions, value: number): Record<string, unknown> {
  if (name === 'inputLowWaterBytes')
    return { inputLowWaterBytes: value, inputHighWaterBytes: Math.min(value + 1, 1024 * MIB) };
  if (name === 'maxInputBytes')
    return { maxInputBytes: value, inputHighWaterBytes: Math.min(value, 4 * MIB) };
  if (name === 'inputHighWaterBytes') return { inputHighWaterBytes: value, maxInputBytes: 1024 * MIB };
  return { [name]: value };
}

describe('options: defaults', () => {
  it('has the documented default of every option', () => {
    expect({ ...REACTOR_DEFAULTS }).toEqual({
      loops: 1,
      loadBalance: 'round-robin',
      pageBytes: 8192,
      maxPooledPages: 1024,
      checking: false,
      readTimeoutUs: 30_000_000,
      writeTimeoutUs: 30_000_000,
      idleTimeoutUs: 300_000_000,
      inputHighWaterBytes: 4 * MIB,
      inputLowWaterBytes: MIB,
      maxInputBytes: 8 * MIB,
      outputHighWaterBytes: 4 * MIB,
      maxConcurrentHandlers: 10_000,
      maxConnections: 10_000,
      acceptBacklog: 128,
      maxUnconsumedRuns: 8,
      costUsPerRequest: 0,
    });
    expect(resolveReactorOptions()).toEqual({ ...REACTOR_DEFAULTS });
    expect(resolveReactorOptions({})).toEqual({ ...REACTOR_DEFAULTS });
  });

  it('names the three balancing policies and the largest duration and byte bound', () => {
    expect(LOAD_BALANCE_POLICIES).toEqual(['round-robin', 'random', 'least-connections']);
    expect(MAX_DURATION_US).toBe(1_000_000_000_000);
    expect(MAX_BOUND_BYTES).toBe(1024 * MIB);
  });

  it('an option given as undefined keeps its default', () => {
    // As a JavaScript caller may pass them (TypeScript's exactOptionalPropertyTypes would not).
    const given: Record<string, unknown> = { loops: undefined, checking: undefined, loadBalance: undefined };
    const o = resolveReactorOptions(given);
    expect(o.loops).toBe(1);
    expect(o.checking).toBe(false);
    expect(o.loadBalance).toBe('round-robin');
  });
});

describe('options: ranges', () => {
  it.each(RANGES)(
    '%s accepts %d and %d, and refuses one past either end naming the range',
    (name, min, max) => {
      expect(resolveReactorOptions(withCompanions(name, min) as ReactorOptions)[name]).toBe(min);
      if (name === 'inputLowWaterBytes')
        // In range, but low water must stay below high water, which cannot pass 1 GiB.
        expect(refusal(withCompanions(name, max))).toBe(
          `ErrBadOption: option inputLowWaterBytes (${max}) must be below inputHighWaterBytes (${max})`,
        );
      else expect(resolveReactorOptions(withCompanions(name, max) as ReactorOptions)[name]).toBe(max);
      const wanted = `an integer in [${min}, ${max}]`;
      expect(refusal({ [name]: min - 1 })).toBe(
        `ErrBadOption: option ${name} must be ${wanted}, got ${min - 1}`,
      );
      expect(refusal({ [name]: max + 1 })).toBe(
        `ErrBadOption: option ${name} must be ${wanted}, got ${max + 1}`,
      );
      // A fraction inside the range is still refused: durations and sizes are whole units.
      expect(refusal({ [name]: min + 0.5 })).toBe(
        `ErrBadOption: option ${name} must be ${wanted}, got ${min + 0.5}`,
      );
    },
  );

  it.each([
    [Number.NaN, 'NaN'],
    [Number.POSITIVE_INFINITY, 'Infinity'],
    ['8', '"8"'],
    [null, 'null'],
    [true, 'true'],
    [{ n: 1 }, 'object'],
    [[2], 'object'],
    [() => 2, 'function'],
  ])('a count given as %s is refused, described as %s', (value, described) => {
    expect(refusal({ loops: value })).toBe(
      `ErrBadOption: option loops must be an integer in [1, 256], got ${described}`,
    );
  });

  it('a value beyond 2^53 is refused even where the range has no end in sight', () => {
    expect(refusal({ maxConnections: Number.MAX_SAFE_INTEGER + 1 })).toMatch(
      /^ErrBadOption: option maxConnections must be an integer in \[1, 1000000\], got 9007199254740992$/,
    );
  });

  it('each option lands in its own field', () => {
    const given = {
      loops: 3,
      pageBytes: 128,
      maxPooledPages: 7,
      readTimeoutUs: 11,
      writeTimeoutUs: 12,
      idleTimeoutUs: 13,
      inputHighWaterBytes: 1000,
      inputLowWaterBytes: 100,
      maxInputBytes: 5000,
      outputHighWaterBytes: 2000,
      maxConcurrentHandlers: 4,
      maxConnections: 5,
      acceptBacklog: 6,
      maxUnconsumedRuns: 2,
      costUsPerRequest: 9,
      checking: true,
      loadBalance: 'least-connections',
    } as const;
    expect(resolveReactorOptions(given)).toEqual(given);
  });
});

describe('options: the policy, the checking switch and unknown names', () => {
  it.each(LOAD_BALANCE_POLICIES.map((p) => [p]))('accepts the policy %s', (policy) => {
    expect(resolveReactorOptions({ loadBalance: policy }).loadBalance).toBe(policy);
  });

  it.each([
    ['fastest', '"fastest"'],
    [1, '1'],
    ['', '""'],
  ])('refuses the policy %j, listing the known ones', (value, described) => {
    expect(refusal({ loadBalance: value })).toBe(
      `ErrBadOption: option loadBalance must be one of round-robin, random, least-connections, got ${described}`,
    );
  });

  it('takes checking true or false, nothing else', () => {
    expect(resolveReactorOptions({ checking: true }).checking).toBe(true);
    expect(resolveReactorOptions({ checking: false }).checking).toBe(false);
    expect(refusal({ checking: 'yes' })).toBe('ErrBadOption: option checking must be a boolean, got "yes"');
    expect(refusal({ checking: 0 })).toBe('ErrBadOption: option checking must be a boolean, got 0');
  });

  it('refuses an unknown name, listing every known one', () => {
    expect(refusal({ idleTimeout: 5 })).toBe(
      'ErrBadOption: unknown option "idleTimeout" (known: loops, loadBalance, pageBytes, maxPooledPages, ' +
        'checking, readTimeoutUs, writeTimeoutUs, idleTimeoutUs, inputHighWaterBytes, inputLowWaterBytes, ' +
        'maxInputBytes, outputHighWaterBytes, maxConcurrentHandlers, maxConnections, acceptBacklog, ' +
        'maxUnconsumedRuns, costUsPerRequest)',
    );
    // Refused even with an undefined value? No: an undefined option is no option.
    expect(refusal({ idleTimeout: undefined })).toBe('accepted');
  });

  it('checks options in the order given and reports the first bad one', () => {
    expect(refusal({ loops: 0, pageBytes: 1 })).toMatch(/option loops /);
    expect(refusal({ pageBytes: 1, loops: 0 })).toMatch(/option pageBytes /);
  });
});

describe('options: the input bounds derived from the high-water mark', () => {
  it('derives low water as a quarter (rounded down) and the input bound as twice the high-water mark', () => {
    const o = resolveReactorOptions({ inputHighWaterBytes: 10 });
    expect(o.inputLowWaterBytes).toBe(2);
    expect(o.maxInputBytes).toBe(20);
  });

  it('caps the derived input bound at 1 GiB', () => {
    const o = resolveReactorOptions({ inputHighWaterBytes: 1024 * MIB });
    expect(o.maxInputBytes).toBe(1024 * MIB);
    expect(resolveReactorOptions({ inputHighWaterBytes: 600 * MIB }).maxInputBytes).toBe(1024 * MIB);
  });

  it('keeps the low-water mark and input bound a caller gave', () => {
    const o = resolveReactorOptions({
      inputHighWaterBytes: 1000,
      inputLowWaterBytes: 999,
      maxInputBytes: 1000,
    });
    expect(o.inputLowWaterBytes).toBe(999);
    expect(o.maxInputBytes).toBe(1000);
    expect(resolveReactorOptions({ inputLowWaterBytes: 5 }).inputLowWaterBytes).toBe(5);
    expect(resolveReactorOptions({ maxInputBytes: 5 * MIB }).maxInputBytes).toBe(5 * MIB);
  });

  it('low water must be below high water: one below passes, equal or above is refused with both values', () => {
    expect(refusal({ inputHighWaterBytes: 100, inputLowWaterBytes: 99 })).toBe('accepted');
    expect(refusal({ inputHighWaterBytes: 100, inputLowWaterBytes: 100 })).toBe(
      'ErrBadOption: option inputLowWaterBytes (100) must be below inputHighWaterBytes (100)',
    );
    expect(refusal({ inputHighWaterBytes: 100, inputLowWaterBytes: 101 })).toBe(
      'ErrBadOption: option inputLowWaterBytes (101) must be below inputHighWaterBytes (100)',
    );
    // The derived low water of a high-water mark of 1 is 0: below it.
    expect(resolveReactorOptions({ inputHighWaterBytes: 1 }).inputLowWaterBytes).toBe(0);
  });

  it('the input bound must be at least high water: equal passes, one below is refused with both values', () => {
    expect(refusal({ inputHighWaterBytes: 100, maxInputBytes: 100 })).toBe('accepted');
    expect(refusal({ inputHighWaterBytes: 100, maxInputBytes: 99 })).toBe(
      'ErrBadOption: option maxInputBytes (99) must be at least inputHighWaterBytes (100)',
    );
    // A caller's input bound below the default high-water mark is refused too.
    expect(refusal({ maxInputBytes: MIB })).toBe(
      `ErrBadOption: option maxInputBytes (${MIB}) must be at least inputHighWaterBytes (${4 * MIB})`,
    );
  });
});

describe('ReactorError', () => {
  it('carries its code, names itself and prefixes the message with the code', () => {
    const cause = new Error('underneath');
    const e = new ReactorError('ErrReadTimeout', 'waited 5 us', { cause });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('ReactorError');
    expect(e.code).toBe('ErrReadTimeout');
    expect(e.message).toBe('ErrReadTimeout: waited 5 us');
    expect(e.cause).toBe(cause);
    expect(String(e)).toBe('ReactorError: ErrReadTimeout: waited 5 us');
  });

  it('isReactorError: any code without one asked for, only that code with one; never a plain Error', () => {
    const e = new ReactorError('ErrEOF', 'x');
    expect(isReactorError(e)).toBe(true);
    expect(isReactorError(e, 'ErrEOF')).toBe(true);
    expect(isReactorError(e, 'ErrHandler')).toBe(false);
    const lookalike = Object.assign(new Error('ErrEOF: x'), { code: 'ErrEOF' });
    expect(isReactorError(lookalike)).toBe(false);
    expect(isReactorError(lookalike, 'ErrEOF')).toBe(false);
    expect(isReactorError(undefined)).toBe(false);
  });

  it('lists every code once', () => {
    expect(new Set(REACTOR_ERROR_CODES).size).toBe(REACTOR_ERROR_CODES.length);
    expect(REACTOR_ERROR_CODES).toContain('ErrBadOption');
    expect(REACTOR_ERROR_CODES).toContain('ErrServerClosed');
    expect(REACTOR_ERROR_CODES.length).toBe(14);
  });
});
