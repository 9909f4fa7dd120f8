import { describe, expect, it } from 'vitest';
import { SpError, type SpErrorCode } from './errors.js';
import {
  CORE_OPTION_NAMES,
  OPTION_DEFAULTS,
  OPTION_DOCS,
  OPTION_KEYS,
  OPTION_NAMES,
  OptionStore,
  validateOption,
  type OptionName,
} from './options.js';

function codeOf(fn: () => unknown): SpErrorCode | 'no error' {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(SpError);
    return (e as SpError).code;
  }
  return 'no error';
}

const SECOND_US = 1_000_000;

describe('option registry', () => {
  it('pins the defaults', () => {
    expect({ ...OPTION_DEFAULTS, SUBSCRIBE: 'empty', UNSUBSCRIBE: 'empty' }).toEqual({
      'RECV-DEADLINE': null,
      'SEND-DEADLINE': null,
      'RETRY-TIME': 60 * SECOND_US,
      'WRITEQ-LEN': 128,
      'READQ-LEN': 128,
      LINGER: SECOND_US,
      'MAX-RCV-SIZE': 1024 * 1024,
      'RECONNECT-TIME': 100_000,
      'MAX-RECONNECT-TIME': 0,
      'HANDSHAKE-TIMEOUT': 10 * SECOND_US,
      TTL: 8,
      'BEST-EFFORT': false,
      'FAIL-NO-PEERS': false,
      'GARBAGE-CLOSES-PIPE': false,
      'DIAL-ASYNCH': false,
      RAW: false,
      'LOCAL-ADDR': '',
      'REMOTE-ADDR': '',
      'SURVEY-TIME': SECOND_US,
      SUBSCRIBE: 'empty',
      UNSUBSCRIBE: 'empty',
      'PREFER-NEW': true,
      POLYAMOROUS: false,
    });
    expect(OPTION_DEFAULTS.SUBSCRIBE).toHaveLength(0);
    expect(Object.isFrozen(OPTION_DEFAULTS)).toBe(true);
  });

  it('names, documents and keys every option once', () => {
    expect(Object.keys(OPTION_DEFAULTS)).toEqual(OPTION_NAMES);
    expect(Object.keys(OPTION_DOCS)).toEqual(OPTION_NAMES);
    expect(Object.keys(OPTION_KEYS)).toEqual(OPTION_NAMES);
    for (const name of OPTION_NAMES) expect(OPTION_DOCS[name]).not.toBe('');
    // Durations say µs in their docs and carry Us in their TypeScript names.
    for (const name of [
      'RECV-DEADLINE',
      'SEND-DEADLINE',
      'RETRY-TIME',
      'LINGER',
      'RECONNECT-TIME',
      'MAX-RECONNECT-TIME',
      'HANDSHAKE-TIMEOUT',
      'SURVEY-TIME',
    ] as const) {
      expect(OPTION_DOCS[name]).toContain('µs');
      expect(OPTION_KEYS[name]).toMatch(/Us$/);
    }
    expect(new Set(Object.values(OPTION_KEYS)).size).toBe(OPTION_NAMES.length);
    // Every key is a camelCase identifier; sizes and queue lengths name their unit too.
    for (const name of OPTION_NAMES) expect(OPTION_KEYS[name]).toMatch(/^[a-z][A-Za-z]+$/);
    expect(OPTION_KEYS['READQ-LEN']).toBe('readQueueLen');
    expect(OPTION_KEYS['WRITEQ-LEN']).toBe('writeQueueLen');
    expect(OPTION_KEYS['MAX-RCV-SIZE']).toBe('maxRecvBytes');
    for (const name of CORE_OPTION_NAMES) expect(OPTION_NAMES).toContain(name);
  });
});

describe('validateOption', () => {
  const good: [OptionName, unknown, unknown][] = [
    ['RECV-DEADLINE', null, null],
    ['RECV-DEADLINE', 1, 1],
    ['SEND-DEADLINE', 250_000, 250_000],
    ['RETRY-TIME', 0, 0],
    ['WRITEQ-LEN', 0, 0],
    ['WRITEQ-LEN', 1_000_000, 1_000_000],
    ['READQ-LEN', 5, 5],
    ['LINGER', 0, 0],
    ['MAX-RCV-SIZE', 0, 0],
    ['MAX-RCV-SIZE', Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
    ['RECONNECT-TIME', 1, 1],
    ['MAX-RECONNECT-TIME', 0, 0],
    ['HANDSHAKE-TIMEOUT', 1_000_000, 1_000_000],
    ['TTL', 1, 1],
    ['TTL', 2, 2],
    ['TTL', 255, 255],
    ['BEST-EFFORT', true, true],
    ['FAIL-NO-PEERS', false, false],
    ['DIAL-ASYNCH', true, true],
    ['SURVEY-TIME', 0, 0],
    ['SUBSCRIBE', '', new Uint8Array(0)],
    ['SUBSCRIBE', 'é', Uint8Array.of(0xc3, 0xa9)],
    ['UNSUBSCRIBE', Uint8Array.of(1, 2), Uint8Array.of(1, 2)],
  ];
  it.each(good)('accepts %s = %s', (name, value, normalized) => {
    expect(validateOption(name, value)).toEqual(normalized);
  });

  const bad: [OptionName, unknown][] = [
    ['RECV-DEADLINE', 0], // null means none; 0 would be ambiguous (mangos rep requires > 0)
    ['RECV-DEADLINE', -1],
    ['RECV-DEADLINE', undefined],
    ['SEND-DEADLINE', 1.5],
    ['SEND-DEADLINE', '1s'],
    ['RETRY-TIME', -1],
    ['RETRY-TIME', null],
    ['RETRY-TIME', Infinity],
    ['WRITEQ-LEN', -1],
    ['WRITEQ-LEN', 1_000_001],
    ['READQ-LEN', 2.5],
    ['READQ-LEN', '128'],
    ['LINGER', -1],
    ['MAX-RCV-SIZE', -1],
    ['MAX-RCV-SIZE', 2 ** 53],
    ['MAX-RCV-SIZE', Number.NaN],
    ['RECONNECT-TIME', 0], // a hard redial spin (nng#1964)
    ['MAX-RECONNECT-TIME', -5],
    ['HANDSHAKE-TIMEOUT', 0],
    ['HANDSHAKE-TIMEOUT', null],
    ['TTL', 0],
    ['TTL', -1],
    ['TTL', 256],
    ['TTL', 'garbage'],
    ['TTL', 8.5],
    ['BEST-EFFORT', 1],
    ['FAIL-NO-PEERS', 'true'],
    ['DIAL-ASYNCH', null],
    ['SURVEY-TIME', -1],
    ['SUBSCRIBE', 42],
    ['SUBSCRIBE', [1, 2]],
    ['UNSUBSCRIBE', null],
  ];
  it.each(bad)('rejects %s = %s with ErrBadValue', (name, value) => {
    expect(codeOf(() => validateOption(name, value))).toBe('ErrBadValue');
  });

  it('says which option, what it wants and what it got', () => {
    expect(() => validateOption('TTL', 256)).toThrow(
      'ErrBadValue: option TTL must be an integer in [1, 255] (hops), got 256',
    );
    expect(() => validateOption('RECV-DEADLINE', 0)).toThrow(
      'ErrBadValue: option RECV-DEADLINE must be an integer >= 1 (µs; null = none), got 0',
    );
    expect(() => validateOption('BEST-EFFORT', 'yes')).toThrow('must be true or false, got "yes"');
  });

  it('rejects unknown names with ErrBadOption, listing the known ones', () => {
    expect(codeOf(() => validateOption('JUNK', 1))).toBe('ErrBadOption');
    expect(() => validateOption('recv-deadline', 1)).toThrow(
      "unknown option 'recv-deadline' (known: RECV-DEADLINE, ",
    );
    expect(codeOf(() => validateOption('toString', 1))).toBe('ErrBadOption');
  });

  it.each(['RAW', 'LOCAL-ADDR', 'REMOTE-ADDR'])('rejects setting read-only %s with ErrBadOption', (name) => {
    expect(() => validateOption(name, name === 'RAW' ? true : 'x')).toThrow(
      `ErrBadOption: option ${name} is read-only`,
    );
  });

  it('copies topic bytes so the caller may reuse its buffer', () => {
    const topic = Uint8Array.of(1, 2, 3);
    const v = validateOption<'SUBSCRIBE'>('SUBSCRIBE', topic);
    topic[0] = 9;
    expect(Array.from(v)).toEqual([1, 2, 3]);
  });
});

describe('OptionStore', () => {
  it('starts at the defaults, with overrides validated', () => {
    const s = new OptionStore({ TTL: 3, RAW: true });
    expect(s.get('TTL')).toBe(3);
    expect(s.get('RAW')).toBe(true); // read-only for users, settable by the socket at creation
    expect(s.get('WRITEQ-LEN')).toBe(128);
    expect(codeOf(() => new OptionStore({ TTL: 0 }))).toBe('ErrBadValue');
    expect(codeOf(() => new OptionStore({ JUNK: 1 } as never))).toBe('ErrBadOption');
  });

  it('validates each read-only option the socket sets by its own type', () => {
    const s = new OptionStore({ 'LOCAL-ADDR': 'tcp://a:1', 'REMOTE-ADDR': 'tcp://b:2', RAW: false });
    expect([s.get('LOCAL-ADDR'), s.get('REMOTE-ADDR'), s.get('RAW')]).toEqual([
      'tcp://a:1',
      'tcp://b:2',
      false,
    ]);
    expect(codeOf(() => new OptionStore({ RAW: 'yes' } as never))).toBe('ErrBadValue');
    expect(codeOf(() => new OptionStore({ 'LOCAL-ADDR': true } as never))).toBe('ErrBadValue');
  });

  it('sets, validates, and notifies listeners on every successful set', () => {
    const s = new OptionStore();
    const seen: OptionName[] = [];
    s.onChange((n) => seen.push(n));
    s.set('RECV-DEADLINE', 5_000);
    s.set('SUBSCRIBE', 'a');
    s.set('SUBSCRIBE', 'a'); // an action each time, so listeners hear it twice
    expect(s.get('RECV-DEADLINE')).toBe(5_000);
    expect(Array.from(s.get('SUBSCRIBE'))).toEqual([0x61]);
    expect(codeOf(() => s.set('TTL', 0))).toBe('ErrBadValue');
    expect(codeOf(() => s.set('RAW', true))).toBe('ErrBadOption');
    expect(codeOf(() => s.set('NOPE', 1))).toBe('ErrBadOption');
    expect(s.get('TTL')).toBe(8); // failed sets change nothing
    expect(seen).toEqual(['RECV-DEADLINE', 'SUBSCRIBE', 'SUBSCRIBE']);
  });

  it('accepts only the allowed names, as mangos protocols do', () => {
    const pub = new OptionStore({}, [...CORE_OPTION_NAMES]);
    pub.set('WRITEQ-LEN', 16);
    expect(pub.get('WRITEQ-LEN')).toBe(16);
    expect(pub.get('MAX-RCV-SIZE')).toBe(1024 * 1024);
    expect(() => pub.set('SUBSCRIBE', 'x')).toThrow(
      'ErrBadOption: option SUBSCRIBE is not supported by this socket',
    );
    expect(codeOf(() => pub.get('TTL'))).toBe('ErrBadOption');
    expect(codeOf(() => pub.set('JUNK', 1))).toBe('ErrBadOption');
    expect(codeOf(() => new OptionStore({ TTL: 2 }, ['LINGER']))).toBe('ErrBadOption');
    expect(codeOf(() => new OptionStore({}, ['JUNK' as OptionName]))).toBe('ErrBadOption');
  });

  it('has() tells explicit values from defaults, so endpoints can fall back to the socket', () => {
    const s = new OptionStore({ 'MAX-RCV-SIZE': 5 }, ['MAX-RCV-SIZE', 'RECONNECT-TIME']);
    expect(s.has('MAX-RCV-SIZE')).toBe(true);
    expect(s.has('RECONNECT-TIME')).toBe(false);
    s.set('RECONNECT-TIME', 100_000); // the default value, but given explicitly
    expect(s.has('RECONNECT-TIME')).toBe(true);
    expect(s.has('TTL')).toBe(false);
  });

  it('a listener that refuses a value undoes the set: the option keeps its old value', () => {
    const s = new OptionStore({}, ['UNSUBSCRIBE', 'LINGER']);
    s.set('UNSUBSCRIBE', 'a');
    s.onChange((name) => {
      if (name === 'UNSUBSCRIBE') throw new Error('refused');
    });
    expect(() => s.set('UNSUBSCRIBE', 'b')).toThrow('refused');
    expect(s.get('UNSUBSCRIBE')).toEqual(new TextEncoder().encode('a'));
    expect(() => s.set('LINGER', 5)).not.toThrow();
    expect(s.get('LINGER')).toBe(5);
  });

  it('a refused set leaves an option at its default still not explicit, and an explicit one explicit', () => {
    const s = new OptionStore({}, ['UNSUBSCRIBE', 'LINGER']);
    s.set('LINGER', 5);
    s.onChange(() => {
      throw new Error('refused');
    });
    expect(() => s.set('UNSUBSCRIBE', 'b')).toThrow('refused');
    expect(s.has('UNSUBSCRIBE')).toBe(false); // an endpoint store still falls back to the socket's
    expect(() => s.set('LINGER', 7)).toThrow('refused');
    expect(s.has('LINGER')).toBe(true);
    expect(s.get('LINGER')).toBe(5);
  });
});
