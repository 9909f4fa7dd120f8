import { describe, expect, it } from 'vitest';
import { HOST_TURN_EVERY, defaultYieldToHost, makeDefaultYield } from './host-yield.js';

describe('makeDefaultYield picks the host primitive', () => {
  it('Node: ticks, with a setImmediate turn every HOST_TURN_EVERY-th yield', async () => {
    const used: string[] = [];
    const y = makeDefaultYield({
      setImmediate: (fn) => {
        used.push('imm');
        fn();
      },
      process: {
        nextTick: (fn) => {
          used.push('tick');
          fn();
        },
      },
    });
    for (let i = 0; i < HOST_TURN_EVERY; i++) await y();
    expect(used.filter((u) => u === 'tick')).toHaveLength(HOST_TURN_EVERY - 1);
    expect(used.at(-1)).toBe('imm');
    expect(used.indexOf('imm')).toBe(HOST_TURN_EVERY - 1);
  });

  it('setImmediate alone (no process): every yield is a setImmediate turn that resolves', async () => {
    let turns = 0;
    const y = makeDefaultYield({
      setImmediate: (fn) => {
        turns++;
        fn();
      },
    });
    await y();
    await y();
    expect(turns).toBe(2);
  });

  it('a process without nextTick falls back to setImmediate', async () => {
    let turns = 0;
    const y = makeDefaultYield({
      setImmediate: (fn) => {
        turns++;
        fn();
      },
      process: {},
    });
    await y();
    expect(turns).toBe(1);
  });

  it('browsers: a MessageChannel message resolves each yield in order', async () => {
    const y = makeDefaultYield({ MessageChannel });
    const order: number[] = [];
    await Promise.all([y().then(() => order.push(1)), y().then(() => order.push(2))]);
    expect(order).toEqual([1, 2]);
  });

  it('no primitive at all: a clear error naming the way out', () => {
    expect(() => makeDefaultYield({})).toThrow('no host yield available: pass WorldOptions.yieldToHost');
  });

  it('the default yield resolves on this host', async () => {
    await expect(defaultYieldToHost()).resolves.toBeUndefined();
  });
});
