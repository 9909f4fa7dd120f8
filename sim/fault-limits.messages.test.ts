/**
 * The messages of refused settings, as users read them: a wrong discriminator names what it got,
 * object or not; a rate string that is not a rate says so. (Each case kills a mutant
 * `npm run mutate` found surviving: README.)
 */
import { describe, expect, it } from 'vitest';
import { latencyModelSchema, parseWith, rateTextSchema } from './fault-limits.js';
import { messageOf } from './testing/errors.js';

describe('refused values', () => {
  it('a latency model of an unknown kind names the kind it got', () => {
    const m = messageOf(() => parseWith(latencyModelSchema, { kind: 'bogus', us: 1 }, 'link.latency'));
    expect(m).toMatch(/^ERR_BAD_ARGUMENT: link\.latency\.kind: must be one of .*constant.*, got "bogus"$/);
  });

  it('a latency model that is not an object names the value itself', () => {
    const m = messageOf(() => parseWith(latencyModelSchema, 7, 'link.latency'));
    expect(m).toMatch(/^ERR_BAD_ARGUMENT: link\.latency.*got 7$/);
  });

  it('a rate that is not a rate', () => {
    expect(messageOf(() => parseWith(rateTextSchema, 'fast', 'bandwidth'))).toBe(
      'ERR_BAD_ARGUMENT: bandwidth: must be a rate such as "1MB/s" or "64KiB/s", got "fast"',
    );
    expect(parseWith(rateTextSchema, '1KiB/s', 'bandwidth')).toBe(1024);
  });
});
