/**
 * PagePool at its edges: the exact messages of its typed errors, the size classes and the bound of
 * the large-buffer pool, and the checking mode's quarantine over many pages (its FIFO compacts).
 */
import { describe, expect, it } from 'vitest';
import { isPoisoned, MAX_POOLED_LARGE_BYTES, PagePool, POISON_BYTE } from './pages.js';
import { errorOf } from './testing/errors.js';

describe('PagePool typed errors name the argument, its range and the value', () => {
  it('alloc', () => {
    const pool = new PagePool({ pageBytes: 64 });
    expect(errorOf(() => pool.alloc(-1))).toEqual({
      code: 'ErrBadOption',
      message: 'ErrBadOption: alloc bytes must be an integer in [0, 1073741824], got -1',
    });
    expect(errorOf(() => pool.alloc(2 ** 30 + 1))).toEqual({
      code: 'ErrBadOption',
      message: 'ErrBadOption: alloc bytes must be an integer in [0, 1073741824], got 1073741825',
    });
    expect(pool.stats).toMatchObject({ oversizeAllocations: 0, oversizeBytes: 0 });
  });

  it('takeLarge: at least 1 byte, at most 1 GiB', () => {
    const pool = new PagePool({ pageBytes: 64 });
    expect(errorOf(() => pool.takeLarge(0))).toEqual({
      code: 'ErrBadOption',
      message: 'ErrBadOption: takeLarge bytes must be an integer in [1, 1073741824], got 0',
    });
    expect(errorOf(() => pool.takeLarge(2 ** 30 + 1))).toEqual({
      code: 'ErrBadOption',
      message: 'ErrBadOption: takeLarge bytes must be an integer in [1, 1073741824], got 1073741825',
    });
    expect(errorOf(() => pool.takeLarge(1.5))).toMatchObject({ code: 'ErrBadOption' });
    expect(pool.stats).toMatchObject({ largeAllocations: 0, outstandingLarge: 0 });
    expect(pool.takeLarge(1).length).toBe(128);
  });

  it('giveLarge of a buffer given twice or foreign', () => {
    const pool = new PagePool({ pageBytes: 64 });
    const buffer = pool.takeLarge(100);
    pool.giveLarge(buffer);
    expect(errorOf(() => pool.giveLarge(buffer))).toEqual({
      code: 'ErrReleased',
      message: 'ErrReleased: large buffer given back twice / not from this pool (128 bytes)',
    });
    expect(errorOf(() => pool.giveLarge(new Uint8Array(128)))).toMatchObject({ code: 'ErrReleased' });
  });

  it('give outside checking mode: a page of the wrong size', () => {
    const pool = new PagePool({ pageBytes: 64 });
    expect(errorOf(() => pool.give(new Uint8Array(65)))).toEqual({
      code: 'ErrReleased',
      message: 'ErrReleased: page given back twice / not from this pool (65 bytes, pageBytes 64)',
    });
    expect(pool.stats).toMatchObject({ outstandingPages: 0, pooledPages: 0 });
  });

  it('a poison option that is not a boolean', () => {
    const options = { poison: 'yes' } as unknown as { poison: boolean };
    expect(errorOf(() => new PagePool(options))).toEqual({
      code: 'ErrBadOption',
      message: 'ErrBadOption: poison must be a boolean, got yes',
    });
    expect(errorOf(() => new PagePool({ poison: true })) === 'no error').toBe(true);
    expect(errorOf(() => new PagePool({ poison: false })) === 'no error').toBe(true);
  });

  it('option values exactly one past each end', () => {
    expect(errorOf(() => new PagePool({ pageBytes: 1024 * 1024 + 1 }))).toEqual({
      code: 'ErrBadOption',
      message: 'ErrBadOption: pageBytes must be an integer in [64, 1048576], got 1048577',
    });
    expect(errorOf(() => new PagePool({ maxPooledPages: 1_000_001 }))).toEqual({
      code: 'ErrBadOption',
      message: 'ErrBadOption: maxPooledPages must be an integer in [0, 1000000], got 1000001',
    });
    expect(errorOf(() => new PagePool({ quarantinePages: 2.5 }))).toEqual({
      code: 'ErrBadOption',
      message: 'ErrBadOption: quarantinePages must be an integer ≥ 0, got 2.5',
    });
  });
});

describe('PagePool large buffers', () => {
  it('size classes: the next power of two, at least two pages', () => {
    const pool = new PagePool({ pageBytes: 64 });
    expect([1, 128, 129, 256, 257, 1000].map((n) => pool.takeLarge(n).length)).toEqual([
      128, 128, 256, 256, 512, 1024,
    ]);
    expect(pool.stats).toMatchObject({ largeAllocations: 6, largeReusedTakes: 0, outstandingLarge: 6 });
  });

  it('a given buffer is reused by a take of its class only', () => {
    const pool = new PagePool({ pageBytes: 64 });
    const a = pool.takeLarge(200);
    a.fill(9);
    pool.giveLarge(a);
    expect(pool.stats.outstandingLarge).toBe(0);
    const other = pool.takeLarge(300); // class 512: a fresh one
    expect(other).not.toBe(a);
    expect(pool.takeLarge(129)).toBe(a); // class 256: the given one, bytes unchanged (no poison)
    expect(a[0]).toBe(9);
    expect(pool.takeLarge(256)).not.toBe(a); // taken already: a fresh one
    expect(pool.stats).toMatchObject({ largeAllocations: 3, largeReusedTakes: 1, outstandingLarge: 3 });
  });

  it('keeps free large buffers up to MAX_POOLED_LARGE_BYTES in total: exactly at the bound kept, one past dropped', () => {
    expect(MAX_POOLED_LARGE_BYTES).toBe(16 * 1024 * 1024);
    const half = MAX_POOLED_LARGE_BYTES / 2;
    const pool = new PagePool({ pageBytes: 64 });
    const [a, b, c] = [pool.takeLarge(half), pool.takeLarge(half), pool.takeLarge(100)];
    pool.giveLarge(a);
    pool.giveLarge(b); // 16 MiB free: at the bound, kept
    pool.giveLarge(c); // one more 128 bytes: past the bound, dropped
    // (identity compared as booleans: a failure must not diff 8 MiB arrays)
    expect(pool.takeLarge(half) === b).toBe(true);
    expect(pool.takeLarge(half) === a).toBe(true);
    expect(pool.takeLarge(100) === c).toBe(false);
    expect(pool.stats).toMatchObject({ largeAllocations: 4, largeReusedTakes: 2, outstandingLarge: 3 });
  });

  it('a reused take makes room in the bound again', () => {
    const half = MAX_POOLED_LARGE_BYTES / 2;
    const pool = new PagePool({ pageBytes: 64 });
    const [a, b] = [pool.takeLarge(half), pool.takeLarge(half)];
    pool.giveLarge(a);
    pool.giveLarge(b);
    expect(pool.takeLarge(half) === b).toBe(true); // 8 MiB free again
    pool.giveLarge(b); // 16 MiB free again: kept
    expect(pool.takeLarge(half) === b).toBe(true);
    expect(pool.takeLarge(half) === a).toBe(true);
    expect(pool.stats).toMatchObject({ largeAllocations: 2, largeReusedTakes: 3, outstandingLarge: 2 });
  });

  it('in checking mode a given large buffer is poisoned and not reused', () => {
    const pool = new PagePool({ pageBytes: 64, poison: true });
    const a = pool.takeLarge(200);
    a.fill(1);
    pool.giveLarge(a);
    expect(isPoisoned(a)).toBe(true);
    expect(pool.takeLarge(200)).not.toBe(a);
    expect(pool.stats).toMatchObject({ largeAllocations: 2, largeReusedTakes: 0, outstandingLarge: 1 });
  });
});

describe('PagePool checking mode over many pages', () => {
  it('the quarantine stays FIFO, counted exactly, past many pushes and shifts', () => {
    const pool = new PagePool({ pageBytes: 64, poison: true, quarantinePages: 3 });
    const taken = Array.from({ length: 200 }, () => pool.take());
    for (let i = 0; i < taken.length; i++) {
      const page = taken[i] as Uint8Array;
      page.fill(i & 0x7f);
      pool.give(page);
      expect(isPoisoned(page)).toBe(true);
      expect(pool.stats).toMatchObject({
        quarantinedPages: Math.min(i + 1, 3),
        pooledPages: Math.max(0, i + 1 - 3),
        outstandingPages: 199 - i,
      });
    }
    // The free list is LIFO: the page that left quarantine last (taken[196]) comes first.
    expect(pool.take()).toBe(taken[196]);
    expect(pool.take()).toBe(taken[195]);
    expect(pool.stats).toMatchObject({ allocatedPages: 200, reusedTakes: 2, quarantinedPages: 3 });
  });

  it('quarantinePages 0: a given page is poisoned and free at once', () => {
    const pool = new PagePool({ pageBytes: 64, poison: true, quarantinePages: 0 });
    const page = pool.take();
    pool.give(page);
    expect(pool.stats).toMatchObject({ quarantinedPages: 0, pooledPages: 1 });
    const again = pool.take();
    expect(again).toBe(page);
    expect(again[63]).toBe(POISON_BYTE);
  });

  it('pages leaving quarantine beyond maxPooledPages are dropped and counted', () => {
    const pool = new PagePool({ pageBytes: 64, poison: true, quarantinePages: 1, maxPooledPages: 1 });
    const [a, b, c] = [pool.take(), pool.take(), pool.take()];
    pool.give(a);
    pool.give(b); // a leaves quarantine: free
    pool.give(c); // b leaves quarantine: the free list is full, dropped
    expect(pool.stats).toMatchObject({ quarantinedPages: 1, pooledPages: 1, droppedPages: 1 });
    expect(pool.take()).toBe(a);
  });
});
