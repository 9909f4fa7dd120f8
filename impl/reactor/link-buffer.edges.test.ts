/**
 * The link buffers at their edges: the exact messages of their typed errors, reads at and one past
 * chunk and page boundaries, pages given back (PagePool stats, checking mode) after release and close.
 */
import { describe, expect, it } from 'vitest';
import { InputBuffer, MAX_MALLOC_BYTES, OutputBuffer } from './link-buffer.js';
import { isPoisoned, PagePool } from './pages.js';
import { errorOf } from './testing/errors.js';

/** Bytes start, start+1, ... (mod 256). */
function seq(start: number, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A checking pool of 64-byte pages without quarantine (a given page is free, poisoned, at once). */
function checkingPool(): PagePool {
  return new PagePool({ pageBytes: 64, poison: true, quarantinePages: 0 });
}

/** An input buffer over chunks of the given sizes, bytes 0, 1, 2, ... across them. */
function inputOf(sizes: number[], pool = checkingPool(), maxBytes = 10_000): InputBuffer {
  const input = new InputBuffer(pool, { maxBytes });
  let at = 0;
  for (const n of sizes) {
    input.append(seq(at, n));
    at += n;
  }
  return input;
}

describe('link buffers: typed error messages', () => {
  it('a LinkSlice read or released after its release', () => {
    const input = inputOf([10]);
    const slice = input.slice(4);
    slice.release();
    const released = { code: 'ErrReleased', message: 'ErrReleased: read from a released slice' };
    expect(errorOf(() => slice.peek(1))).toEqual(released);
    expect(errorOf(() => slice.bytes())).toEqual(released);
    expect(errorOf(() => slice.indexOf(1))).toEqual(released);
    expect(errorOf(() => slice.release())).toEqual({
      code: 'ErrReleased',
      message: 'ErrReleased: slice released twice',
    });
  });

  it('an InputBuffer read or appended after close, appended after end', () => {
    const ended = inputOf([3]);
    ended.end();
    expect(errorOf(() => ended.append(seq(0, 1)))).toEqual({
      code: 'ErrConnClosed',
      message: 'ErrConnClosed: append: the input has ended (peer half-closed)',
    });
    const input = inputOf([3]);
    input.close();
    expect(errorOf(() => input.append(seq(0, 1)))).toEqual({
      code: 'ErrConnClosed',
      message: 'ErrConnClosed: append: the buffer is closed',
    });
    expect(errorOf(() => input.peek(0))).toEqual({
      code: 'ErrConnClosed',
      message: 'ErrConnClosed: read: the buffer is closed',
    });
    expect(errorOf(() => input.indexOf(1))).toMatchObject({ code: 'ErrConnClosed' });
  });

  it('an OutputBuffer written after close names the operation', () => {
    const out = new OutputBuffer(checkingPool());
    out.close();
    const closed = (what: string) => ({
      code: 'ErrConnClosed',
      message: `ErrConnClosed: ${what}: the buffer is closed`,
    });
    expect(errorOf(() => out.malloc(1))).toEqual(closed('malloc'));
    expect(errorOf(() => out.writeBytes(seq(0, 1)))).toEqual(closed('writeBytes'));
    expect(errorOf(() => out.writeString('x'))).toEqual(closed('writeString'));
    expect(errorOf(() => out.writeOwned(seq(0, 1)))).toEqual(closed('writeOwned'));
    expect(errorOf(() => out.commit())).toEqual(closed('commit'));
  });

  it('bad sizes: malloc and maxBytes', () => {
    const out = new OutputBuffer(checkingPool());
    expect(errorOf(() => out.malloc(-1))).toEqual({
      code: 'ErrBadOption',
      message: 'ErrBadOption: malloc n must be an integer in [0, 1073741824], got -1',
    });
    expect(errorOf(() => out.malloc(2 ** 30 + 1))).toMatchObject({ code: 'ErrBadOption' });
    expect(errorOf(() => new InputBuffer(checkingPool(), { maxBytes: -1 }))).toEqual({
      code: 'ErrBadOption',
      message: 'ErrBadOption: maxBytes must be an integer ≥ 0, got -1',
    });
    expect(errorOf(() => new InputBuffer(checkingPool(), { maxBytes: 0.5 }))).toMatchObject({
      code: 'ErrBadOption',
    });
    expect(new InputBuffer(checkingPool(), { maxBytes: 0 }).maxBytes).toBe(0);
  });
});

describe('InputBuffer straddle copies at the page size', () => {
  it('a straddling read of exactly a page goes into a pool page, one byte more into a large buffer', () => {
    const pool = checkingPool();
    const input = inputOf([32, 32, 40, 25], pool);
    expect(input.next(64)).toEqual(seq(0, 64));
    expect(input.copyBytes).toBe(64);
    expect(pool.stats).toMatchObject({ allocatedPages: 1, largeAllocations: 0 });
    expect(input.next(65)).toEqual(seq(64, 65));
    expect(input.copyBytes).toBe(64 + 128);
    expect(pool.stats).toMatchObject({ allocatedPages: 1, largeAllocations: 1, outstandingLarge: 1 });
    input.release();
    expect(pool.stats).toMatchObject({ outstandingPages: 0, outstandingLarge: 0 });
  });

  it('small copies share a page while they fit exactly, then take a fresh one', () => {
    const pool = checkingPool();
    const input = inputOf([16, 16, 16, 16, 16, 16], pool);
    const a = input.next(32); // straddles chunks 1-2
    const b = input.next(32); // chunks 3-4: exactly fills the page
    expect([a, b]).toEqual([seq(0, 32), seq(32, 32)]);
    expect(b.buffer).toBe(a.buffer);
    expect(pool.stats.allocatedPages).toBe(1);
    input.skip(8);
    const c = input.next(16); // straddles chunks 5-6: no room left, a fresh page
    expect(c).toEqual(seq(72, 16));
    expect(c.buffer).not.toBe(a.buffer);
    expect(pool.stats.allocatedPages).toBe(2);
    expect(input.copyBytes).toBe(128);
  });

  it('a copy larger than what is left in the page takes a fresh page and keeps the earlier bytes', () => {
    const pool = checkingPool();
    const input = inputOf([20, 20, 30, 30], pool);
    const a = input.next(40);
    const b = input.next(60);
    expect(a).toEqual(seq(0, 40));
    expect(b).toEqual(seq(40, 60));
    expect(pool.stats.allocatedPages).toBe(2);
  });

  it('a peek that straddles (no chunk read) still gives its copy page back at release', () => {
    const pool = checkingPool();
    const input = inputOf([10, 10], pool);
    const kept = input.peek(15);
    expect(kept).toEqual(seq(0, 15));
    expect(input.copyBytes).toBe(64);
    input.release();
    expect(input.copyBytes).toBe(0);
    expect(pool.stats.outstandingPages).toBe(0);
    expect(isPoisoned(kept)).toBe(true);
    expect(input.next(20)).toEqual(seq(0, 20)); // the unread chunks are untouched
  });
});

describe('InputBuffer reads across chunks from inside a chunk', () => {
  it('a read ending exactly at the end of a chunk is a view of it, not a copy; a whole chunk is the chunk itself', () => {
    const pool = checkingPool();
    const input = new InputBuffer(pool, { maxBytes: 100 });
    const first = seq(0, 10);
    const second = seq(10, 8);
    input.append(first);
    input.append(second);
    const head = input.next(4);
    const rest = input.next(6);
    expect(rest.buffer).toBe(first.buffer);
    expect(rest.byteOffset).toBe(first.byteOffset + 4);
    expect(Array.from(head)).toEqual([0, 1, 2, 3]);
    expect(input.next(8)).toBe(second);
    expect(pool.stats.allocatedPages).toBe(0);
  });

  it('readString from the middle of a chunk across the next one', () => {
    const input = new InputBuffer(checkingPool(), { maxBytes: 100 });
    input.append(text('0123456789'));
    input.append(text('abcdefghij'));
    input.skip(5);
    expect(input.readString(10)).toBe('56789abcde');
    expect(input.readString(3)).toBe('fgh');
    expect(input.length).toBe(2);
  });

  it('readString(0) of an empty or fully read buffer is the empty string', () => {
    const input = new InputBuffer(checkingPool(), { maxBytes: 100 });
    expect(input.readString(0)).toBe('');
    input.append(text('ab'));
    input.skip(2);
    expect(input.readString(0)).toBe('');
  });

  it('an empty chunk is not stored: the next read is still a view of the next chunk (no copy)', () => {
    const pool = checkingPool();
    const input = new InputBuffer(pool, { maxBytes: 100 });
    input.append(seq(0, 10));
    input.skip(10);
    input.append(new Uint8Array(0));
    const next = seq(10, 10);
    input.append(next);
    const view = input.peek(10);
    expect(view).toEqual(next);
    expect(view.buffer).toBe(next.buffer);
    expect(input.copyBytes).toBe(0);
    expect(pool.stats.allocatedPages).toBe(0);
    expect(input.heldBytes).toBe(20);
  });

  it('close twice is a no-op the second time; release after close too', () => {
    const pool = checkingPool();
    const input = inputOf([10, 10], pool);
    input.peek(15);
    input.close();
    input.close();
    input.release();
    expect(input.isClosed).toBe(true);
    expect(input.heldBytes).toBe(0);
    expect(pool.stats.outstandingPages).toBe(0);
  });
});

/** Drains at most `maxWrites` writes (an empty run would otherwise loop forever); returns the bytes and the writes. */
function drainBounded(out: OutputBuffer, maxWrites = 100): { bytes: Uint8Array; writes: number[] } {
  const got: number[] = [];
  const writes: number[] = [];
  for (let run = out.peekSend(); run !== undefined && writes.length < maxWrites; run = out.peekSend()) {
    writes.push(run.length);
    got.push(...run);
    out.ack(run.length);
  }
  return { bytes: Uint8Array.from(got), writes };
}

describe('OutputBuffer edges', () => {
  it('malloc of exactly a page is a pool page; one byte more is a one-off array', () => {
    const pool = checkingPool();
    const out = new OutputBuffer(pool);
    out.malloc(64).fill(1);
    expect(pool.stats).toMatchObject({ allocatedPages: 1, oversizeAllocations: 0 });
    out.malloc(65).fill(2);
    expect(pool.stats).toMatchObject({ allocatedPages: 1, oversizeAllocations: 1, oversizeBytes: 65 });
    expect(errorOf(() => out.malloc(2 ** 30 + 1))).toEqual({
      code: 'ErrBadOption',
      message: 'ErrBadOption: malloc n must be an integer in [0, 1073741824], got 1073741825',
    });
    expect(errorOf(() => out.malloc(0.5))).toMatchObject({ code: 'ErrBadOption' });
    out.commit();
    const { bytes, writes } = drainBounded(out);
    expect(writes).toEqual([64, 65]);
    expect(bytes).toEqual(
      Uint8Array.from([...new Array<number>(64).fill(1), ...new Array<number>(65).fill(2)]),
    );
    expect(pool.stats.outstandingPages).toBe(0);
  });

  it('malloc of exactly MAX_MALLOC_BYTES (1 GiB) is accepted (virtual memory: never touched here)', () => {
    const pool = checkingPool();
    const out = new OutputBuffer(pool);
    expect(out.malloc(MAX_MALLOC_BYTES).length).toBe(2 ** 30);
    expect(pool.stats).toMatchObject({ oversizeAllocations: 1, oversizeBytes: 2 ** 30 });
    expect(out.close()).toBe(2 ** 30);
  });

  it('writeString into a fresh buffer, and a string longer than the room left in the tail', () => {
    const pool = checkingPool();
    const out = new OutputBuffer(pool);
    out.writeString('héllo');
    out.writeBytes(seq(0, 54)); // the tail has 4 bytes left
    out.writeString('abcdefgh');
    expect(out.bufferedBytes).toBe(6 + 54 + 8);
    out.commit();
    const { bytes } = drainBounded(out);
    expect(bytes).toEqual(Uint8Array.from([...text('héllo'), ...seq(0, 54), ...text('abcdefgh')]));
    expect(pool.stats).toMatchObject({ allocatedPages: 2, outstandingPages: 0 });
  });

  it('empty writes send nothing: no empty run is ever handed to the socket', () => {
    const pool = checkingPool();
    const out = new OutputBuffer(pool);
    out.writeBytes(seq(0, 3));
    out.writeOwned(seq(3, 3));
    out.writeString('');
    out.writeOwned(new Uint8Array(0));
    out.writeBytes(new Uint8Array(0));
    out.commit();
    expect(out.unsentBytes).toBe(6);
    const { bytes, writes } = drainBounded(out);
    expect(writes).toEqual([3, 3]);
    expect(bytes).toEqual(seq(0, 6));
    expect(out.peekSend()).toBeUndefined();
    expect(pool.stats.outstandingPages).toBe(0);
  });

  it('owned arrays are sent as they are, each its own run, between page runs', () => {
    const pool = checkingPool();
    const out = new OutputBuffer(pool);
    out.writeBytes(seq(0, 3));
    out.commit();
    out.writeOwned(seq(3, 3)); // ends at 3, where the page's next run starts: not merged with it
    out.commit();
    out.writeBytes(seq(6, 2));
    out.commit();
    out.writeOwned(seq(8, 5)); // ends at 5, where the page's next (uncommitted) run starts
    out.writeBytes(seq(13, 2));
    out.commit();
    out.writeBytes(seq(15, 2)); // continues the page's last run: merged
    out.commit();
    const { bytes, writes } = drainBounded(out);
    expect(writes).toEqual([3, 3, 2, 5, 4]);
    expect(bytes).toEqual(seq(0, 17));
    expect(pool.stats.outstandingPages).toBe(0);
  });

  it('ack: a non-integer count or one past what is left of a partly sent run is an assertion', () => {
    const out = new OutputBuffer(checkingPool());
    out.writeBytes(seq(0, 10));
    out.commit();
    expect(() => out.ack(1.5)).toThrow(/ack covers at most the run peekSend returned/);
    out.ack(3);
    expect(out.peekSend()).toEqual(seq(3, 7));
    expect(() => out.ack(8)).toThrow(/ack covers at most the run peekSend returned/);
    out.ack(7);
    expect(out.unsentBytes).toBe(0);
  });

  it('a page fully sent while another is the tail leaves the tail open for the next write', () => {
    const pool = checkingPool();
    const out = new OutputBuffer(pool);
    out.writeBytes(seq(0, 100)); // page A full, page B (the tail) 36 bytes
    out.commit();
    out.ack(64); // A sent and given back
    expect(pool.stats.outstandingPages).toBe(1);
    out.writeBytes(seq(100, 10)); // into B
    expect(pool.stats).toMatchObject({ allocatedPages: 2, outstandingPages: 1 });
    out.commit();
    expect(drainBounded(out).bytes).toEqual(seq(64, 46));
    expect(pool.stats.outstandingPages).toBe(0);
  });

  it('close after a page was fully sent gives every other page back once; a second close returns 0', () => {
    const pool = checkingPool();
    const out = new OutputBuffer(pool);
    out.writeBytes(seq(0, 100));
    out.writeOwned(seq(0, 5));
    out.commit();
    out.ack(64); // page A sent and given back; sendHead moves on
    out.writeBytes(seq(0, 40)); // fills B, opens C: uncommitted
    expect(out.close()).toBe(36 + 5 + 40);
    expect(pool.stats.outstandingPages).toBe(0);
    expect(out.close()).toBe(0);
    expect(out.isClosed).toBe(true);
    expect(pool.stats.outstandingPages).toBe(0);
  });

  it('a second close after uncommitted writes only returns 0', () => {
    const pool = checkingPool();
    const out = new OutputBuffer(pool);
    out.writeOwned(seq(0, 5));
    out.writeBytes(seq(0, 5));
    expect(out.close()).toBe(10);
    expect(out.close()).toBe(0);
    expect(out.bufferedBytes + out.unsentBytes).toBe(0);
    expect(pool.stats.outstandingPages).toBe(0);
  });
});
