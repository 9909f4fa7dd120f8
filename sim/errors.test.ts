/** checkDelayUs: what it accepts, how it rounds, and the message of each refusal. */
import { describe, expect, it } from 'vitest';
import { checkDelayUs, SimError } from './errors.js';

const refusal = (delayUs: unknown): string => {
  try {
    return `ok ${checkDelayUs(delayUs as number, 'delayUs')}`;
  } catch (e) {
    return e instanceof SimError ? `${e.name} ${e.code} | ${e.message}` : String(e);
  }
};

describe('checkDelayUs', () => {
  it('accepts 0 up to the largest safe integer, rounding a fraction up', () => {
    expect(refusal(0)).toBe('ok 0');
    expect(refusal(0.2)).toBe('ok 1');
    expect(refusal(7)).toBe('ok 7');
    expect(refusal(Number.MAX_SAFE_INTEGER)).toBe(`ok ${Number.MAX_SAFE_INTEGER}`);
  });

  const bad =
    'SimError ERR_BAD_DELAY | ERR_BAD_DELAY: delayUs must be a finite number >= 0 (microseconds), got';
  it.each([
    [-1, `${bad} -1`],
    [Number.NaN, `${bad} NaN`],
    [Number.POSITIVE_INFINITY, `${bad} Infinity`],
    ['5', `${bad} 5`],
    [
      Number.MAX_SAFE_INTEGER + 2,
      `SimError ERR_BAD_DELAY | ERR_BAD_DELAY: delayUs is beyond the safe-integer range of virtual time: ${Number.MAX_SAFE_INTEGER + 2}`,
    ],
  ])('refuses %s', (delayUs, message) => {
    expect(refusal(delayUs)).toBe(message);
  });
});
