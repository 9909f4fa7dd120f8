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
