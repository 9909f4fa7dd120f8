/**
 * How a rejected option value is shown in its ErrBadValue message, per type, and the checks on the
 * read-only options a socket sets through its store's overrides. (Mutation survivors options.ts:260,
 * :262 (seed 3) and :300 (seed 2).)
 */
import { describe, expect, it } from 'vitest';
import { OptionStore, validateOption } from './options.js';

describe('ErrBadValue shows the rejected value', () => {
  it.each([
    ['a string, quoted', 'yes', 'got "yes"'],
    ['a bigint, with its n', 5n, 'got 5n'],
    ['bytes, by length', new Uint8Array(3), 'got Uint8Array(3)'],
    ['an object, by its tag', {}, 'got [object Object]'],
    ['an array, by its tag', [1], 'got [object Array]'],
    ['null', null, 'got null'],
    ['undefined', undefined, 'got undefined'],
  ])('%s', (_what, value, shown) => {
    expect(() => validateOption('TTL', value)).toThrow(
      `ErrBadValue: option TTL must be an integer in [1, 255] (hops), ${shown}`,
    );
  });
});

describe('read-only options set by the socket itself', () => {
  it('RAW must be a boolean, the addresses strings', () => {
    expect(() => new OptionStore({ RAW: 'yes' as unknown as boolean })).toThrow(
      'ErrBadValue: option RAW must be true or false, got "yes"',
    );
    expect(() => new OptionStore({ 'LOCAL-ADDR': 5 as unknown as string })).toThrow(
      'ErrBadValue: option LOCAL-ADDR must be a string, got 5',
    );
    expect(new OptionStore({ 'REMOTE-ADDR': 'tcp://a:1', RAW: true }).get('REMOTE-ADDR')).toBe('tcp://a:1');
  });

  it('a user may not set them', () => {
    expect(() => validateOption('LOCAL-ADDR', 'tcp://a:1')).toThrow(
      'ErrBadOption: option LOCAL-ADDR is read-only',
    );
  });
});

/**
 * Every option's ErrBadValue message names its type, range and unit, and the range ends are
 * accepted (seed-5 survivor options.ts:294: the topic message emptied went unnoticed).
 */
describe('ErrBadValue names each option range and unit', () => {
  it.each([
    ['SEND-DEADLINE', 0, 'an integer >= 1 (µs; null = none), got 0'],
    ['RETRY-TIME', -1, 'an integer >= 0 (µs), got -1'],
    ['WRITEQ-LEN', -1, 'an integer in [0, 1000000] (messages), got -1'],
    ['READQ-LEN', 1_000_001, 'an integer in [0, 1000000] (messages), got 1000001'],
    ['LINGER', 1.5, 'an integer >= 0 (µs), got 1.5'],
    ['MAX-RCV-SIZE', -1, 'an integer >= 0 (bytes), got -1'],
    ['RECONNECT-TIME', 0, 'an integer >= 1 (µs), got 0'],
    ['MAX-RECONNECT-TIME', -1, 'an integer >= 0 (µs), got -1'],
    ['HANDSHAKE-TIMEOUT', 0, 'an integer >= 1 (µs), got 0'],
    ['TTL', 256, 'an integer in [1, 255] (hops), got 256'],
    ['SURVEY-TIME', -1, 'an integer >= 0 (µs), got -1'],
    ['FAIL-NO-PEERS', 1, 'true or false, got 1'],
    ['GARBAGE-CLOSES-PIPE', 1, 'true or false, got 1'],
    ['DIAL-ASYNCH', 1, 'true or false, got 1'],
    ['PREFER-NEW', 1, 'true or false, got 1'],
    ['POLYAMOROUS', 1, 'true or false, got 1'],
    ['SUBSCRIBE', 5, 'a Uint8Array or a string, got 5'],
    ['UNSUBSCRIBE', null, 'a Uint8Array or a string, got null'],
  ])('%s refuses %s', (name, value, says) => {
    expect(() => validateOption(name, value)).toThrow(`ErrBadValue: option ${name} must be ${says}`);
  });

  it.each([
    ['SEND-DEADLINE', 1],
    ['SEND-DEADLINE', null],
    ['RETRY-TIME', 0],
    ['WRITEQ-LEN', 0],
    ['READQ-LEN', 1_000_000],
    ['MAX-RCV-SIZE', 0],
    ['RECONNECT-TIME', 1],
    ['MAX-RECONNECT-TIME', 0],
    ['HANDSHAKE-TIMEOUT', 1],
    ['TTL', 1],
    ['TTL', 255],
    ['SURVEY-TIME', 0],
  ])('%s takes %s', (name, value) => {
    expect(validateOption(name, value)).toBe(value);
  });
});

describe('ErrBadOption lists the names a socket takes', () => {
  it('an option this socket does not support: the message lists its options', () => {
    const s = new OptionStore({}, ['LINGER', 'TTL']);
    expect(() => s.set('SUBSCRIBE', 'x')).toThrow(
      'ErrBadOption: option SUBSCRIBE is not supported by this socket (supported: LINGER, TTL)',
    );
  });
});
