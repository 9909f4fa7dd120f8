import { describe, expect, it } from 'vitest';
import { assert, AssertionError } from './assert.js';

describe('assert', () => {
  it('passes silently when the invariant holds', () => {
    expect(() => assert(true, 'never shown')).not.toThrow();
  });

  it('throws a distinct AssertionError with code ERR_ASSERTION when it does not', () => {
    let caught: unknown;
    try {
      assert(1 + 1 === 3, 'arithmetic holds');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(AssertionError);
    expect(caught).toBeInstanceOf(Error);
    const e = caught as AssertionError;
    expect(e.code).toBe('ERR_ASSERTION');
    expect(e.name).toBe('AssertionError');
    expect(e.message).toBe('netlab internal invariant: arithmetic holds');
  });

  it('narrows the type it asserted', () => {
    const v: number | undefined = [1, 2].find((x) => x === 2);
    assert(v !== undefined, 'the element is there');
    const n: number = v; // compiles only because assert narrowed v
    expect(n).toBe(2);
  });
});
