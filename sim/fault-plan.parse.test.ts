/**
 * parseFaultPlan, table-driven: each malformed step is refused with ERR_BAD_ARGUMENT naming the
 * field's JSON path and the reason; each well-formed step comes back normalized (times in µs,
 * defaults filled, unset options absent), with what the simulator cannot carry out named.
 */
import { describe, expect, it } from 'vitest';
import { SimError } from './errors.js';
import { parseFaultPlan, parseFaultPlanText, simulatorUnsupported } from './fault-plan.js';

const refusal = (plan: unknown): string => {
  try {
    parseFaultPlan(plan);
    return 'ok';
  } catch (e) {
    return e instanceof SimError ? `${e.code} | ${e.message.replace(/^ERR_BAD_ARGUMENT: /, '')}` : String(e);
  }
};

const link = { kind: 'link', atUs: 0, from: 'a', to: 'b' };
const PROXY_ONLY = 'is carried out by the real-socket fault proxy only, not the simulator';

describe('parseFaultPlan refuses a malformed step: path and reason', () => {
  const cases: [string, unknown, string][] = [
    [
      'a host on both sides',
      { kind: 'partition', atUs: 0, a: ['a'], b: ['b', 'a'] },
      'faults[0].b[1]: host "a" is also in a',
    ],
    [
      'atUs and at',
      { kind: 'partition', atUs: 0, at: '1ms', a: ['a'], b: ['b'] },
      'faults[0].at: give atUs or at, not both',
    ],
    [
      'forUs and for',
      { kind: 'partition', atUs: 0, a: ['a'], b: ['b'], forUs: 1, for: '1ms' },
      'faults[0].for: give forUs or for, not both',
    ],
    ['an empty side', { kind: 'partition', atUs: 0, a: [], b: ['b'] }, 'faults[0].a: must have >= 1 item(s)'],
    [
      'an empty host name',
      { kind: 'partition', atUs: 0, a: [''], b: ['b'] },
      'faults[0].a[0]: must not be empty',
    ],
    [
      'a stall without a duration',
      { kind: 'stall-reads', atUs: 0, conn: 'all', side: 'both' },
      'faults[0].forUs: required (or for as a duration string)',
    ],
    [
      'a stall without a start',
      { kind: 'stall-reads', conn: 'all', side: 'both', forUs: 1 },
      'faults[0].atUs: required (or at as a duration string, or atByte as a byte offset)',
    ],
    [
      'a stall of an unknown side',
      { kind: 'stall-reads', atUs: 0, conn: 'all', side: 'up', forUs: 1 },
      'faults[0].side: must be one of "client", "server", "both", got "up"',
    ],
    [
      'a reset at a byte without a side',
      { kind: 'reset', atByte: 5, conn: 'all' },
      'faults[0].side: required with atByte: the side whose incoming stream atByte counts',
    ],
    [
      'a reset at a time with a side',
      { kind: 'reset', atUs: 0, conn: 'all', side: 'client' },
      'faults[0].side: only with atByte (a reset at a time resets both ends)',
    ],
    [
      'a pause without a duration',
      { kind: 'pause', atUs: 0, host: 'a' },
      'faults[0].forUs: required (or for as a duration string)',
    ],
    [
      'restartAfterUs and restartAfter',
      { kind: 'crash', atUs: 0, host: 'a', restartAfterUs: 1, restartAfter: '1ms' },
      'faults[0].restartAfter: give restartAfterUs or restartAfter, not both',
    ],
    [
      'a restart without a start',
      { kind: 'restart', host: 'a' },
      'faults[0].atUs: required (or at as a duration string)',
    ],
    [
      'a byte window ended by forUs',
      { ...link, atUs: undefined, atByte: 1, set: { lossRate: 0.1 }, forUs: 5 },
      'faults[0].forUs: a window that starts at a byte offset ends by forBytes',
    ],
    [
      'a byte window ended by for',
      { ...link, atUs: undefined, atByte: 1, set: { lossRate: 0.1 }, for: '5ms' },
      'faults[0].for: a window that starts at a byte offset ends by forBytes',
    ],
    [
      'a time window ended by forBytes',
      { ...link, set: { lossRate: 0.1 }, forBytes: 5 },
      'faults[0].forBytes: a window that starts at a time ends by forUs/for',
    ],
    [
      'a link change that changes nothing',
      { ...link, set: {} },
      'faults[0].set: must change at least one of latency, jitterUs, bandwidthBytesPerSec, lossRate, slice',
    ],
    [
      'bandwidthBytesPerSec and bandwidth',
      { ...link, set: { bandwidthBytesPerSec: 5, bandwidth: '5kB/s' } },
      'faults[0].set.bandwidth: give bandwidthBytesPerSec or bandwidth, not both',
    ],
    [
      'slices of max < min',
      { ...link, set: { slice: { minBytes: 5, maxBytes: 4 } } },
      'faults[0].set.slice.maxBytes: must be >= minBytes',
    ],
    [
      'a slice delay given both ways',
      { ...link, set: { slice: { minBytes: 1, maxBytes: 4, delayUs: 1, delay: '1ms' } } },
      'faults[0].set.slice.delay: give delayUs or delay, not both',
    ],
    [
      'a host swizzled twice',
      { kind: 'swizzle-clog', atUs: 0, hosts: ['a', 'b', 'a'], stepUs: 1, forUs: 1 },
      'faults[0].hosts[2]: host "a" is listed twice',
    ],
    [
      'a swizzle without a step',
      { kind: 'swizzle-clog', atUs: 0, hosts: ['a'], forUs: 1 },
      'faults[0].stepUs: required (or step as a duration string)',
    ],
    [
      'a limit without atByte',
      { kind: 'limit', conn: 'all', side: 'client' },
      'faults[0].atByte: expected number, got nothing',
    ],
    [
      'a limit with atUs and at',
      { kind: 'limit', atByte: 3, atUs: 1, at: '1ms', conn: 'all', side: 'client' },
      'faults[0].at: give atUs or at, not both',
    ],
    [
      'a slow close without a duration',
      { kind: 'slow-close', atUs: 0, conn: 'all', side: 'client' },
      'faults[0].forUs: required (or for as a duration string)',
    ],
    [
      'a selector that is a number',
      { kind: 'reset', atUs: 0, conn: 5 },
      'faults[0].conn: must be "all" or an object {client?, server?, name?}',
    ],
    [
      'a selector naming an empty host',
      { kind: 'reset', atUs: 0, conn: { client: '' } },
      'faults[0].conn.client: must not be empty',
    ],
    [
      'an unknown kind',
      { kind: 'nap', atUs: 0 },
      'faults[0].kind: must be one of partition, stall-reads, reset, pause, crash, restart, link, swizzle-clog, limit, slow-close, got "nap"',
    ],
    ['a step that is not an object', 7, 'faults[0]: expected object, got 7'],
  ];
  it.each(cases)('%s', (_name, step, message) => {
    expect(refusal({ version: 1, faults: [step] })).toBe(`ERR_BAD_ARGUMENT | ${message}`);
  });

  it.each([
    [{ version: 2, faults: [] }, 'version: must be 1, got 2'],
    [{ version: 1 }, 'faults: expected array, got nothing'],
    [
      { version: 1, faults: [], proxy: { toxicity: 2, x: 1 } },
      'proxy.toxicity: must be <= 1, got 2; proxy.x: unknown field',
    ],
    [null, 'plan: expected object, got null'],
    [[], 'plan: expected object, got an array'],
  ])('a malformed plan %j', (plan, message) => {
    expect(refusal(plan)).toBe(`ERR_BAD_ARGUMENT | ${message}`);
  });
});

describe('parseFaultPlan normalizes a well-formed step', () => {
  const cases: [unknown, unknown, string | undefined][] = [
    [
      { kind: 'partition', at: '2ms', a: ['a'], b: ['b'], for: '1s' },
      { kind: 'partition', atUs: 2000, a: ['a'], b: ['b'], oneWay: false, forUs: 1_000_000 },
      undefined,
    ],
    [
      { kind: 'partition', atUs: 0, a: ['a'], b: ['b'], oneWay: true },
      { kind: 'partition', atUs: 0, a: ['a'], b: ['b'], oneWay: true },
      undefined,
    ],
    [
      { kind: 'stall-reads', atByte: 10, conn: { client: 'a', name: 'x' }, side: 'client', for: '3ms' },
      {
        kind: 'stall-reads',
        atUs: 0,
        conn: { client: 'a', name: 'x' },
        side: 'client',
        forUs: 3000,
        atByte: 10,
      },
      `faults[0].atByte: a step keyed by bytes ${PROXY_ONLY}`,
    ],
    [
      { kind: 'stall-reads', atUs: 5, conn: {}, side: 'both', forUs: 4 },
      { kind: 'stall-reads', atUs: 5, conn: {}, side: 'both', forUs: 4 },
      undefined,
    ],
    [
      { kind: 'reset', atByte: 7, side: 'server', conn: { server: 'b' } },
      { kind: 'reset', atUs: 0, conn: { server: 'b' }, atByte: 7, side: 'server' },
      `faults[0].atByte: a step keyed by bytes ${PROXY_ONLY}`,
    ],
    [{ kind: 'reset', at: '1ms', conn: 'all' }, { kind: 'reset', atUs: 1000, conn: 'all' }, undefined],
    [
      { kind: 'pause', at: '1ms', host: 'a', for: '2ms' },
      { kind: 'pause', atUs: 1000, host: 'a', forUs: 2000 },
      undefined,
    ],
    [
      { kind: 'crash', atUs: 1, host: 'a', restartAfter: '2ms' },
      { kind: 'crash', atUs: 1, host: 'a', restartAfterUs: 2000 },
      undefined,
    ],
    [{ kind: 'crash', atUs: 1, host: 'a' }, { kind: 'crash', atUs: 1, host: 'a' }, undefined],
    [{ kind: 'restart', at: '3ms', host: 'a' }, { kind: 'restart', atUs: 3000, host: 'a' }, undefined],
    [
      {
        ...link,
        set: { jitter: '2ms', bandwidth: '1kB/s', lossRate: 0.5, latency: { kind: 'constant', us: 5 } },
        for: '1ms',
      },
      {
        ...link,
        oneWay: false,
        set: {
          latency: { kind: 'constant', us: 5 },
          jitterUs: 2000,
          bandwidthBytesPerSec: 1000,
          lossRate: 0.5,
        },
        forUs: 1000,
      },
      undefined,
    ],
    [
      {
        ...link,
        atUs: undefined,
        atByte: 1,
        oneWay: true,
        set: { slice: { minBytes: 1, maxBytes: 2, delay: '1ms' } },
        forBytes: 9,
      },
      {
        ...link,
        oneWay: true,
        set: { slice: { minBytes: 1, maxBytes: 2, delayUs: 1000 } },
        atByte: 1,
        forBytes: 9,
      },
      `faults[0].atByte: a step keyed by bytes ${PROXY_ONLY}`,
    ],
    [
      { ...link, set: { slice: { minBytes: 1, maxBytes: 2 } } },
      { ...link, oneWay: false, set: { slice: { minBytes: 1, maxBytes: 2, delayUs: 0 } } },
      `faults[0].set.slice: slicing ${PROXY_ONLY} (the simulator chunks with conn.randomChunking)`,
    ],
    [
      { ...link, set: { slice: { minBytes: 3, maxBytes: 3, delayUs: 5 } } },
      { ...link, oneWay: false, set: { slice: { minBytes: 3, maxBytes: 3, delayUs: 5 } } },
      `faults[0].set.slice: slicing ${PROXY_ONLY} (the simulator chunks with conn.randomChunking)`,
    ],
    [
      { ...link, set: { jitterUs: 3, bandwidthBytesPerSec: 7 } },
      { ...link, oneWay: false, set: { jitterUs: 3, bandwidthBytesPerSec: 7 } },
      undefined,
    ],
    [
      { kind: 'swizzle-clog', at: '1ms', hosts: ['a', 'b'], step: '2ms', for: '3ms' },
      { kind: 'swizzle-clog', atUs: 1000, hosts: ['a', 'b'], stepUs: 2000, forUs: 3000 },
      undefined,
    ],
    [
      { kind: 'limit', atByte: 3, conn: 'all', side: 'client' },
      { kind: 'limit', atUs: 0, atByte: 3, conn: 'all', side: 'client' },
      `faults[0].kind: "limit" ${PROXY_ONLY}`,
    ],
    [
      { kind: 'slow-close', at: '1ms', conn: 'all', side: 'server', for: '1ms' },
      { kind: 'slow-close', atUs: 1000, conn: 'all', side: 'server', forUs: 1000 },
      `faults[0].kind: "slow-close" ${PROXY_ONLY}`,
    ],
  ];
  it.each(cases)('%j', (step, normalized, unsupported) => {
    const plan = parseFaultPlan({ version: 1, faults: [step] });
    expect(plan.faults).toStrictEqual([normalized]);
    expect(simulatorUnsupported(plan)).toBe(unsupported);
  });

  it('proxy settings are kept as given, and are proxy-only', () => {
    for (const proxy of [{}, { toxicity: 0.5 }, { toxicity: 0.5, faultyConnections: 3, segmentBytes: 100 }]) {
      const plan = parseFaultPlan({ version: 1, faults: [], proxy });
      expect(plan.proxy).toStrictEqual(proxy);
      expect(simulatorUnsupported(plan)).toBe('proxy: settings of the fault proxy; the simulator has none');
    }
    expect(parseFaultPlan({ version: 1, faults: [] })).toStrictEqual({ version: 1, faults: [] });
  });
});

describe('parseFaultPlanText: where malformed JSON goes wrong', () => {
  const where = (text: string): string => {
    try {
      parseFaultPlanText(text);
      return 'ok';
    } catch (e) {
      if (!(e instanceof SimError)) return String(e);
      expect(e.cause).toBeInstanceOf(SyntaxError);
      // The engine's own wording follows in parentheses; it differs between engines.
      return e.message.replace(/^ERR_BAD_ARGUMENT: plan: malformed JSON: /, '').replace(/ \(.*\)$/s, '');
    }
  };
  it.each([
    ['   ', 'expected a value, got end of text at line 1, column 4'],
    ['{', 'expected a property name in double quotes, got end of text at line 1, column 2'],
    ['{"a" 1}', 'expected ":" after a property name, got "1" at line 1, column 6'],
    ['{"a":1,}', 'expected a property name in double quotes, got "}" at line 1, column 8'],
    ['{"a":1 "b":2}', 'expected "," or "}" in an object, got "\\"" at line 1, column 8'],
    ['[1,2', 'expected "," or "]" in an array, got end of text at line 1, column 5'],
    ['[1 2]', 'expected "," or "]" in an array, got "2" at line 1, column 4'],
    ['[1,]', 'expected a value, got "]" at line 1, column 4'],
    ['"abc', 'unterminated string at line 1, column 5'],
    ['"a\\qb"', 'bad escape in string at line 1, column 3'],
    ['{"x": "\\u12"}', 'bad escape in string at line 1, column 8'],
    ['"a\u0001b"', 'control character in string at line 1, column 3'],
    ['tru', 'unexpected "t" at line 1, column 1'],
    ['nul', 'unexpected "n" at line 1, column 1'],
    ['fals', 'unexpected "f" at line 1, column 1'],
    ['-', 'unexpected "-" at line 1, column 1'],
    ['01', 'unexpected "1" after the end of the plan at line 1, column 2'],
    ['[9 1]', 'expected "," or "]" in an array, got "1" at line 1, column 4'],
    ['[-a1]', 'unexpected "-" at line 1, column 2'],
    ['{"a b": 1,}', 'expected a property name in double quotes, got "}" at line 1, column 11'],
    [
      '{"x": "\\/\\b\\f\\n\\r\\t\\"\\\\\\u00e9", }',
      'expected a property name in double quotes, got "}" at line 1, column 33',
    ],
    [
      '{"x": -1.5e+3, "y": [true, false, null], "z": {}}x',
      'unexpected "x" after the end of the plan at line 1, column 50',
    ],
    ['\t\r\n{"x" : 1 ,\t"y" :\n2}z', 'unexpected "z" after the end of the plan at line 3, column 3'],
    ['{"version":1, "faults": [] }\n\n  }', 'unexpected "}" after the end of the plan at line 3, column 3'],
    [
      '{\n  "version": 1,\n  "faults": [\n    {"kind": "pause",}\n  ]\n}',
      'expected a property name in double quotes, got "}" at line 4, column 22',
    ],
  ])('%j', (text, message) => {
    expect(where(text)).toBe(message);
  });

  it('every escape JSON allows passes, and a plan that is not text is refused', () => {
    expect(() =>
      parseFaultPlanText('{"version": 1, "faults": [], "x": "\\/\\b\\f\\n\\r\\t\\"\\\\"}'),
    ).toThrowError(/^ERR_BAD_ARGUMENT: x: unknown field$/);
    expect(() => parseFaultPlanText(5 as unknown as string)).toThrowError(
      /^ERR_BAD_ARGUMENT: plan: expected JSON text, got 5$/,
    );
  });
});
