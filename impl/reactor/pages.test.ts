import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_POOLED_PAGES,
  DEFAULT_PAGE_BYTES,
  DEFAULT_QUARANTINE_PAGES,
  isPoisoned,
  PagePool,
  POISON_BYTE,
} from './pages.js';
import { errorOf } from './testing/errors.js';

describe('PagePool options', () => {
  it('has the documented defaults', () => {
    const pool = new PagePool();
    expect(pool.pageBytes).toBe(DEFAULT_PAGE_BYTES);
    expect(DEFAULT_PAGE_BYTES).toBe(8192);
    expect(pool.maxPooledPages).toBe(DEFAULT_MAX_POOLED_PAGES);
    expect(pool.quarantinePages).toBe(DEFAULT_QUARANTINE_PAGES);
    expect(pool.poison).toBe(false);
  });

  it('accepts the range ends', () => {
    expect(new PagePool({ pageBytes: 64 }).pageBytes).toBe(64);
    expect(new PagePool({ pageBytes: 1024 * 1024 }).pageBytes).toBe(1024 * 1024);
    expect(new PagePool({ maxPooledPages: 0 }).maxPooledPages).toBe(0);
    expect(new PagePool({ maxPooledPages: 1_000_000 }).maxPooledPages).toBe(1_000_000);
    expect(new PagePool({ quarantinePages: 0 }).quarantinePages).toBe(0);
  });

  it('refuses values out of range with ErrBadOption naming the option, its range and the value', () => {
    expect(errorOf(() => new PagePool({ pageBytes: 63 }))).toEqual({
      code: 'ErrBadOption',
      message: 'ErrBadOption: pageBytes must be an integer in [64, 1048576], got 63',
    });
    expect(errorOf(() => new PagePool({ pageBytes: 1024 * 1024 + 1 }))).toMatchObject({
      code: 'ErrBadOption',
    });
    expect(errorOf(() => new PagePool({ pageBytes: 100.5 }))).toMatchObject({ code: 'ErrBadOption' });
    expect(errorOf(() => new PagePool({ pageBytes: NaN }))).toEqual({
      code: 'ErrBadOption',
      message: 'ErrBadOption: pageBytes must be an integer in [64, 1048576], got NaN',
    });
    expect(errorOf(() => new PagePool({ maxPooledPages: -1 }))).toEqual({
      code: 'ErrBadOption',
      message: 'ErrBadOption: maxPooledPages must be an integer in [0, 1000000], got -1',
    });
    expect(errorOf(() => new PagePool({ maxPooledPages: 1_000_001 }))).toMatchObject({
      code: 'ErrBadOption',
    });
    expect(errorOf(() => new PagePool({ quarantinePages: -1 }))).toEqual({
      code: 'ErrBadOption',
      message: 'ErrBadOption: quarantinePages must be an integer ≥ 0, got -1',
    });
  });
});

describe('PagePool take / give', () => {
  it('hands out pages of exactly pageBytes and reuses given ones', () => {
    const pool = new PagePool({ pageBytes: 64 });
    const a = pool.take();
    const b = pool.take();
    expect(a.length).toBe(64);
    expect(a).not.toBe(b);
    expect(pool.stats).toMatchObject({
      allocatedPages: 2,
      reusedTakes: 0,
      outstandingPages: 2,
      pooledPages: 0,
    });
    pool.give(a);
    expect(pool.stats).toMatchObject({ outstandingPages: 1, pooledPages: 1 });
    expect(pool.take()).toBe(a);
    expect(pool.stats).toMatchObject({
      allocatedPages: 2,
      reusedTakes: 1,
      outstandingPages: 2,
      pooledPages: 0,
    });
  });

  it('in checking mode refuses a page given twice or not from this pool with ErrReleased', () => {
    const pool = new PagePool({ pageBytes: 64, poison: true });
    const other = new PagePool({ pageBytes: 64, poison: true });
    const a = pool.take();
    pool.give(a);
    expect(errorOf(() => pool.give(a))).toEqual({
      code: 'ErrReleased',
      message: 'ErrReleased: page given back twice / not from this pool (64 bytes, pageBytes 64)',
    });
    expect(errorOf(() => pool.give(other.take()))).toMatchObject({ code: 'ErrReleased' });
    expect(errorOf(() => pool.give(new Uint8Array(64)))).toMatchObject({ code: 'ErrReleased' });
    expect(errorOf(() => pool.give(pool.alloc(100)))).toMatchObject({ code: 'ErrReleased' });
    expect(pool.stats.outstandingPages).toBe(0);
  });

  it('outside checking mode keeps no set of pages out (hot path): it counts them and refuses a wrong size', () => {
    const pool = new PagePool({ pageBytes: 64 });
    const a = pool.take();
    const b = pool.take();
    expect(pool.stats.outstandingPages).toBe(2);
    pool.give(a);
    pool.give(b);
    expect(pool.stats.outstandingPages).toBe(0);
    expect(errorOf(() => pool.give(pool.alloc(100)))).toMatchObject({ code: 'ErrReleased' });
  });

  it('drops given pages beyond maxPooledPages', () => {
    const pool = new PagePool({ pageBytes: 64, maxPooledPages: 2 });
    const pages = [pool.take(), pool.take(), pool.take()];
    for (const p of pages) pool.give(p);
    expect(pool.stats).toMatchObject({ pooledPages: 2, droppedPages: 1, outstandingPages: 0 });
    const none = new PagePool({ pageBytes: 64, maxPooledPages: 0 });
    none.give(none.take());
    expect(none.stats).toMatchObject({ pooledPages: 0, droppedPages: 1 });
    none.take();
    expect(none.stats.allocatedPages).toBe(2);
  });

  it('alloc hands out one-off arrays, counted, never pooled', () => {
    const pool = new PagePool({ pageBytes: 64 });
    expect(pool.alloc(100).length).toBe(100);
    expect(pool.alloc(0).length).toBe(0);
    expect(pool.stats).toMatchObject({
      oversizeAllocations: 2,
      oversizeBytes: 100,
      allocatedPages: 0,
      outstandingPages: 0,
    });
    expect(errorOf(() => pool.alloc(-1))).toMatchObject({ code: 'ErrBadOption' });
    expect(errorOf(() => pool.alloc(1.5))).toMatchObject({ code: 'ErrBadOption' });
    expect(errorOf(() => pool.alloc(2 ** 30 + 1))).toMatchObject({ code: 'ErrBadOption' });
  });

  it('stats is a snapshot', () => {
    const pool = new PagePool({ pageBytes: 64 });
    const before = pool.stats;
    pool.take();
    expect(before.allocatedPages).toBe(0);
    expect(pool.stats.allocatedPages).toBe(1);
  });
});

describe('PagePool checking mode', () => {
  it('poisons a given page, so a view kept past give reads poison', () => {
    const pool = new PagePool({ pageBytes: 64, poison: true, quarantinePages: 0 });
    const page = pool.take();
    page.fill(7);
    const kept = page.subarray(10, 20);
    pool.give(page);
    expect(isPoisoned(kept)).toBe(true);
    expect(pool.isPoisoned(page)).toBe(true);
    expect(kept[0]).toBe(POISON_BYTE);
  });

  it('quarantines given pages FIFO before they can be taken again', () => {
    const pool = new PagePool({ pageBytes: 64, poison: true, quarantinePages: 2 });
    const [a, b, c] = [pool.take(), pool.take(), pool.take()];
    pool.give(a);
    pool.give(b);
    expect(pool.stats).toMatchObject({ quarantinedPages: 2, pooledPages: 0 });
    const fresh = pool.take(); // nothing free yet: a new page, not a quarantined one
    expect(fresh).not.toBe(a);
    expect(fresh).not.toBe(b);
    pool.give(c); // pushes a, the oldest, out of quarantine
    expect(pool.stats).toMatchObject({ quarantinedPages: 2, pooledPages: 1 });
    expect(pool.take()).toBe(a);
  });

  it('without checking mode, given pages keep their bytes and are reused at once', () => {
    const pool = new PagePool({ pageBytes: 64 });
    const page = pool.take();
    page.fill(7);
    pool.give(page);
    expect(isPoisoned(page)).toBe(false);
    expect(pool.take()[0]).toBe(7);
  });

  it('isPoisoned: every byte POISON_BYTE, and an empty view proves nothing', () => {
    expect(isPoisoned(new Uint8Array(0))).toBe(false);
    expect(isPoisoned(Uint8Array.of(POISON_BYTE, POISON_BYTE))).toBe(true);
    expect(isPoisoned(Uint8Array.of(POISON_BYTE, 0))).toBe(false);
  });
});
