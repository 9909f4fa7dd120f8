import { describe, expect, it } from 'vitest';
import { AssertionError } from '../runtime/assert.js';
import type { ReactorErrorCode } from './errors.js';
import { InputBuffer, OutputBuffer } from './link-buffer.js';
import { isPoisoned, PagePool, POISON_BYTE } from './pages.js';
import { errorOf } from './testing/errors.js';

function codeOf(fn: () => unknown): ReactorErrorCode | 'no error' {
  const e = errorOf(fn);
  return e === 'no error' ? e : e.code;
}

/** Bytes start, start+1, ... (mod 256). */
function seq(start: number, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A checking pool with small pages and no quarantine, plus an input buffer over three chunks of 10 bytes (0..29). */
function threeChunks(maxBytes = 1000): { pool: PagePool; input: InputBuffer; chunks: Uint8Array[] } {
  const pool = new PagePool({ pageBytes: 64, poison: true, quarantinePages: 0 });
  const input = new InputBuffer(pool, { maxBytes });
  const chunks = [seq(0, 10), seq(10, 10), seq(20, 10)];
  for (const c of chunks) input.append(c);
  return { pool, input, chunks };
}

describe('InputBuffer append', () => {
  it('adopts chunks without copy and ignores empty ones', () => {
    const { input, chunks } = threeChunks();
    input.append(new Uint8Array(0));
    expect(input.length).toBe(30);
    expect(input.heldBytes).toBe(30);
    const v = input.peek(10);
    expect(v.buffer).toBe(chunks[0]?.buffer); // same memory: a subarray, not a copy
  });

  it('refuses a chunk that would exceed maxBytes with ErrInputOverflow, storing nothing', () => {
    const { input } = threeChunks(35);
    input.append(seq(0, 5)); // exactly maxBytes
    expect(errorOf(() => input.append(seq(0, 1)))).toEqual({
      code: 'ErrInputOverflow',
      message: 'ErrInputOverflow: a chunk of 1 bytes on 35 held (35 unread) exceeds maxBytes 35',
    });
    expect(input.length).toBe(35);
    expect(input.heldBytes).toBe(35);
  });

  it('counts read-but-unreleased bytes against maxBytes until release', () => {
    const { input } = threeChunks(30);
    input.skip(30);
    expect(input.length).toBe(0);
    expect(codeOf(() => input.append(seq(0, 1)))).toBe('ErrInputOverflow');
    input.release();
    expect(input.heldBytes).toBe(0);
    input.append(seq(0, 30));
    expect(input.length).toBe(30);
  });

  it('refuses appends after end() and after close() with ErrConnClosed', () => {
    const { input } = threeChunks();
    expect(input.ended).toBe(false);
    input.end();
    expect(input.ended).toBe(true);
    expect(codeOf(() => input.append(seq(0, 1)))).toBe('ErrConnClosed');
    expect(input.next(30)).toEqual(seq(0, 30)); // buffered bytes stay readable after end
    input.close();
    expect(codeOf(() => input.append(seq(0, 1)))).toBe('ErrConnClosed');
  });

  it('rejects a bad maxBytes with ErrBadOption', () => {
    const pool = new PagePool();
    expect(codeOf(() => new InputBuffer(pool, { maxBytes: -1 }))).toBe('ErrBadOption');
    expect(codeOf(() => new InputBuffer(pool, { maxBytes: 1.5 }))).toBe('ErrBadOption');
  });
});

describe('InputBuffer reads: boundaries', () => {
  it('n = 0 gives an empty view and does not move', () => {
    const { input } = threeChunks();
    expect(input.peek(0).length).toBe(0);
    expect(input.next(0).length).toBe(0);
    input.skip(0);
    expect(input.readBytes(0).length).toBe(0);
    expect(input.readString(0)).toBe('');
    expect(input.length).toBe(30);
  });

  it('n = length reads everything; length + 1 is ErrNotEnough with the numbers', () => {
    const { input } = threeChunks();
    expect(errorOf(() => input.peek(31))).toEqual({
      code: 'ErrNotEnough',
      message: 'ErrNotEnough: asked 31, 30 buffered',
    });
    expect(input.peek(30)).toEqual(seq(0, 30));
    expect(input.next(30)).toEqual(seq(0, 30));
    expect(input.length).toBe(0);
    expect(errorOf(() => input.next(1))).toEqual({
      code: 'ErrNotEnough',
      message: 'ErrNotEnough: asked 1, 0 buffered',
    });
  });

  it('negative and non-integer counts are ErrNotEnough', () => {
    const { input } = threeChunks();
    for (const n of [-1, 1.5, NaN, Infinity]) {
      expect(codeOf(() => input.peek(n))).toBe('ErrNotEnough');
      expect(codeOf(() => input.next(n))).toBe('ErrNotEnough');
      expect(codeOf(() => input.skip(n))).toBe('ErrNotEnough');
      expect(codeOf(() => input.readBytes(n))).toBe('ErrNotEnough');
      expect(codeOf(() => input.readString(n))).toBe('ErrNotEnough');
      expect(codeOf(() => input.slice(n))).toBe('ErrNotEnough');
    }
    expect(input.length).toBe(30);
  });

  it('exactly a chunk is a view of it; one byte past a chunk copies once into a pool page', () => {
    const { pool, input, chunks } = threeChunks();
    const whole = input.next(10);
    expect(whole.buffer).toBe(chunks[0]?.buffer);
    expect(pool.stats.allocatedPages).toBe(0);
    const past = input.next(11); // 10..20: the second chunk and one byte of the third
    expect(past).toEqual(seq(10, 11));
    expect(past.buffer).not.toBe(chunks[1]?.buffer);
    expect(pool.stats.outstandingPages).toBe(1);
    expect(input.copyBytes).toBe(64);
  });

  it('a read straddling 3 chunks returns the bytes in one copy', () => {
    const { pool, input } = threeChunks();
    input.skip(5);
    expect(input.peek(24)).toEqual(seq(5, 24));
    expect(input.next(25)).toEqual(seq(5, 25));
    expect(pool.stats.outstandingPages).toBe(1); // two small copies share a page
    expect(input.length).toBe(0);
  });

  it('a straddling read above a page copies into a pooled large buffer, reused after release', () => {
    const pool = new PagePool({ pageBytes: 64 });
    const input = new InputBuffer(pool, { maxBytes: 1000 });
    for (let round = 0; round < 3; round++) {
      input.append(seq(round, 50));
      input.append(seq(round + 50, 50));
      expect(input.next(100)).toEqual(seq(round, 100));
      // Size class: the next power of two above 100, at least two pages.
      expect(input.copyBytes).toBe(128);
      input.release();
      expect(input.copyBytes).toBe(0);
    }
    expect(pool.stats).toMatchObject({
      largeAllocations: 1,
      largeReusedTakes: 2,
      outstandingLarge: 0,
      oversizeAllocations: 0,
      allocatedPages: 0,
    });
  });

  it('in checking mode a large copy is poisoned on release and never reused', () => {
    const pool = new PagePool({ pageBytes: 64, poison: true });
    const input = new InputBuffer(pool, { maxBytes: 1000 });
    input.append(seq(0, 50));
    input.append(seq(50, 50));
    const kept = input.next(100);
    input.release();
    expect(pool.isPoisoned(kept)).toBe(true);
    input.append(seq(0, 50));
    input.append(seq(50, 50));
    input.next(100);
    expect(pool.stats).toMatchObject({ largeAllocations: 2, largeReusedTakes: 0 });
  });

  it('a large buffer given back twice or foreign is ErrReleased', () => {
    const pool = new PagePool({ pageBytes: 64 });
    const b = pool.takeLarge(200);
    expect(b.length).toBe(256);
    pool.giveLarge(b);
    expect(() => pool.giveLarge(b)).toThrow(/ErrReleased: large buffer given back twice/);
    expect(() => pool.giveLarge(new Uint8Array(256))).toThrow(/ErrReleased/);
  });

  it('skip moves across chunks', () => {
    const { input } = threeChunks();
    input.skip(19);
    expect(input.next(1)).toEqual(seq(19, 1));
    input.skip(10);
    expect(input.length).toBe(0);
  });
});

describe('InputBuffer until / indexOf', () => {
  it('finds the delimiter across chunks and includes it', () => {
    const { input } = threeChunks();
    expect(input.indexOf(25)).toBe(25);
    expect(input.indexOf(0)).toBe(0);
    expect(input.until(0)).toEqual(seq(0, 1));
    expect(input.indexOf(25)).toBe(24);
    expect(input.until(25)).toEqual(seq(1, 25));
    expect(input.length).toBe(4);
  });

  it('returns null / -1 when the delimiter is not buffered, position unchanged', () => {
    const { input } = threeChunks();
    input.skip(3);
    expect(input.indexOf(2)).toBe(-1);
    expect(input.until(99)).toBeNull();
    expect(input.length).toBe(27);
    const pool = new PagePool();
    const empty = new InputBuffer(pool, { maxBytes: 10 });
    expect(empty.until(10)).toBeNull();
    expect(empty.indexOf(10)).toBe(-1);
  });

  it('parses lines', () => {
    const pool = new PagePool({ pageBytes: 64 });
    const input = new InputBuffer(pool, { maxBytes: 100 });
    input.append(text('GET / HT'));
    input.append(text('TP/1.1\r\nHost: x\r\n\r'));
    const lines: string[] = [];
    for (let line = input.until(10); line !== null; line = input.until(10))
      lines.push(new TextDecoder().decode(line));
    expect(lines).toEqual(['GET / HTTP/1.1\r\n', 'Host: x\r\n']);
    expect(input.length).toBe(1);
  });
});

describe('InputBuffer readBytes / readString / integers', () => {
  it('readBytes returns a copy that survives release and close', () => {
    const { input } = threeChunks();
    const copy = input.readBytes(15);
    input.release();
    input.close();
    expect(copy).toEqual(seq(0, 15));
  });

  it('readString decodes UTF-8 across chunk boundaries without a page', () => {
    const pool = new PagePool({ pageBytes: 64 });
    const input = new InputBuffer(pool, { maxBytes: 100 });
    const bytes = text('héllo → 😀');
    input.append(bytes.subarray(0, 2)); // splits the é
    input.append(bytes.subarray(2, 10)); // splits the arrow
    input.append(bytes.subarray(10));
    expect(input.readString(bytes.length)).toBe('héllo → 😀');
    expect(pool.stats.outstandingPages).toBe(0);
  });

  it('readString replaces malformed sequences', () => {
    const pool = new PagePool();
    const input = new InputBuffer(pool, { maxBytes: 100 });
    input.append(Uint8Array.of(0x61, 0xff, 0x62));
    expect(input.readString(3)).toBe('a\ufffdb');
  });

  it('reads big-endian integers across chunk boundaries', () => {
    const pool = new PagePool();
    const input = new InputBuffer(pool, { maxBytes: 100 });
    input.append(Uint8Array.of(0xff, 0xfe));
    input.append(Uint8Array.of(0xfd));
    input.append(Uint8Array.of(0xfc, 0x01, 0x02, 0x03, 0x04));
    expect(input.peekU32BE()).toBe(0xfffefdfc);
    expect(input.length).toBe(8);
    expect(input.readU32BE()).toBe(0xfffefdfc);
    expect(input.readU8()).toBe(1);
    expect(input.readU16BE()).toBe(0x0203);
    expect(errorOf(() => input.readU16BE())).toEqual({
      code: 'ErrNotEnough',
      message: 'ErrNotEnough: asked 2, 1 buffered',
    });
    expect(codeOf(() => input.peekU32BE())).toBe('ErrNotEnough');
    expect(input.readU8()).toBe(4);
    expect(codeOf(() => input.readU8())).toBe('ErrNotEnough');
    expect(pool.stats.outstandingPages).toBe(0);
  });
});

describe('InputBuffer release', () => {
  it('poisons dropped chunks so a view kept past release reads poison (checking mode)', () => {
    const { input } = threeChunks();
    const kept = input.next(10);
    const second = input.next(10); // 10..19: the whole second chunk, a view
    const partial = input.next(2); // 20, 21: inside the third chunk
    input.release();
    expect(isPoisoned(kept)).toBe(true);
    expect(isPoisoned(second)).toBe(true);
    // The third chunk still has unread bytes: not poisoned, not dropped.
    expect(partial).toEqual(seq(20, 2));
    expect(input.heldBytes).toBe(10);
    expect(input.next(8)).toEqual(seq(22, 8));
    input.release();
    expect(isPoisoned(partial)).toBe(true);
    expect(input.heldBytes).toBe(0);
  });

  it('gives straddle-copy pages back (poisoned) and reuses them', () => {
    const { pool, input } = threeChunks();
    const copy = input.next(15);
    expect(pool.stats.outstandingPages).toBe(1);
    input.release();
    expect(isPoisoned(copy)).toBe(true);
    expect(pool.stats).toMatchObject({ outstandingPages: 0, pooledPages: 1 });
    input.append(seq(0, 10));
    input.next(10); // 25..29 + 0..4 straddles again
    expect(pool.stats).toMatchObject({ allocatedPages: 1, reusedTakes: 1 });
  });

  it('does not poison without checking mode', () => {
    const pool = new PagePool({ pageBytes: 64 });
    const input = new InputBuffer(pool, { maxBytes: 100 });
    input.append(seq(0, 10));
    const kept = input.next(10);
    input.release();
    expect(kept).toEqual(seq(0, 10));
  });

  it('steady-state framing allocates no page per frame', () => {
    const pool = new PagePool({ pageBytes: 256, poison: true, quarantinePages: 0 });
    const input = new InputBuffer(pool, { maxBytes: 10_000 });
    const frame = (i: number): Uint8Array => Uint8Array.of(0, 0, 0, 4, i, i, i, i);
    let frames = 0;
    for (let round = 0; round < 50; round++) {
      // Chunks of 13 bytes: frames straddle them.
      const stream = new Uint8Array(13 * 8);
      for (let k = 0; k < 13; k++) stream.set(frame(k), k * 8);
      for (let at = 0; at < stream.length; at += 13) input.append(stream.slice(at, at + 13));
      while (input.length >= 4 && input.length >= 4 + input.peekU32BE()) {
        const len = input.readU32BE();
        const body = input.next(len);
        expect(body[0]).toBe(body[3]);
        frames++;
        input.release();
      }
    }
    expect(frames).toBe(50 * 13);
    expect(pool.stats.allocatedPages).toBe(1);
  });
});

describe('LinkSlice', () => {
  it('reads its bytes like the buffer and keeps its chunks alive across release', () => {
    const { input } = threeChunks();
    input.skip(5);
    const s = input.slice(20); // 5..24 over three chunks
    expect(input.length).toBe(5);
    expect(s.length).toBe(20);
    input.release();
    expect(input.heldBytes).toBe(30); // all three pinned by the slice
    expect(s.bytes()).toEqual(seq(5, 20));
    expect(s.peek(3)).toEqual(seq(5, 3));
    expect(s.readU8()).toBe(5);
    expect(s.indexOf(20)).toBe(14);
    expect(s.until(20)).toEqual(seq(6, 15));
    expect(s.peekU32BE()).toBe(0x15161718);
    expect(s.readBytes(2)).toEqual(seq(21, 2));
    expect(s.readString(1)).toBe('\u0017');
    expect(errorOf(() => s.next(2))).toEqual({
      code: 'ErrNotEnough',
      message: 'ErrNotEnough: asked 2, 1 buffered',
    });
    s.skip(1);
    expect(s.length).toBe(0);
    s.release();
    expect(input.heldBytes).toBe(10); // the third chunk still has unread bytes
  });

  it('a view from the slice stays valid until the slice is released, then reads poison', () => {
    const { input } = threeChunks();
    const s = input.slice(10);
    const v = s.next(10);
    input.release();
    input.close();
    expect(v).toEqual(seq(0, 10));
    s.release();
    expect(isPoisoned(v)).toBe(true);
    expect(input.heldBytes).toBe(0);
  });

  it('a chunk released by the buffer is dropped only when the last covering slice goes', () => {
    const { input } = threeChunks();
    const a = input.slice(3);
    const b = input.slice(3);
    input.skip(24);
    input.release();
    expect(input.heldBytes).toBe(10);
    a.release();
    expect(input.heldBytes).toBe(10);
    const bv = b.peek(3);
    b.release();
    expect(input.heldBytes).toBe(0);
    expect(isPoisoned(bv)).toBe(true);
  });

  it('a slice of read-but-unreleased chunks: releasing it keeps them until the buffer releases', () => {
    const { input } = threeChunks();
    const s = input.slice(10);
    s.release();
    expect(input.heldBytes).toBe(30);
    input.release();
    expect(input.heldBytes).toBe(20);
  });

  it('bytes() copies once into a page held by the slice when it straddles', () => {
    const { pool, input } = threeChunks();
    input.skip(8);
    const s = input.slice(4);
    const v = s.bytes();
    expect(v).toEqual(seq(8, 4));
    expect(pool.stats.outstandingPages).toBe(1);
    input.release();
    expect(pool.stats.outstandingPages).toBe(1);
    s.release();
    expect(pool.stats.outstandingPages).toBe(0);
    expect(isPoisoned(v)).toBe(true);
  });

  it('release twice and reads after release are ErrReleased', () => {
    const { input } = threeChunks();
    const s = input.slice(4);
    expect(s.isReleased).toBe(false);
    s.release();
    expect(s.isReleased).toBe(true);
    expect(errorOf(() => s.release())).toEqual({
      code: 'ErrReleased',
      message: 'ErrReleased: slice released twice',
    });
    for (const read of [
      () => s.peek(0),
      () => s.next(1),
      () => s.skip(0),
      () => s.bytes(),
      () => s.indexOf(1),
      () => s.until(1),
      () => s.readBytes(0),
      () => s.readString(0),
      () => s.readU8(),
      () => s.readU32BE(),
    ]) {
      expect(codeOf(read)).toBe('ErrReleased');
    }
  });

  it('an empty slice pins nothing', () => {
    const { input } = threeChunks();
    const s = input.slice(0);
    expect(s.bytes().length).toBe(0);
    input.close();
    expect(input.heldBytes).toBe(0);
    s.release();
  });
});

describe('InputBuffer close', () => {
  it('drops everything including unread bytes; reads throw ErrConnClosed; idempotent', () => {
    const { pool, input } = threeChunks();
    const v = input.peek(15);
    const unreadView = input.peek(5);
    input.close();
    input.close();
    expect(input.isClosed).toBe(true);
    expect(input.length).toBe(0);
    expect(input.heldBytes).toBe(0);
    expect(pool.stats.outstandingPages).toBe(0);
    expect(isPoisoned(v)).toBe(true);
    expect(isPoisoned(unreadView)).toBe(true);
    for (const read of [
      () => input.peek(0),
      () => input.next(0),
      () => input.skip(0),
      () => input.until(1),
      () => input.indexOf(1),
      () => input.readBytes(0),
      () => input.readString(0),
      () => input.readU8(),
      () => input.peekU32BE(),
      () => input.slice(0),
    ]) {
      expect(codeOf(read)).toBe('ErrConnClosed');
    }
    input.release(); // a no-op after close
  });
});

describe('OutputBuffer', () => {
  /** Drains everything unsent through a socket accepting `accept` bytes per write. */
  function drain(out: OutputBuffer, accept = Infinity): Uint8Array {
    const got: number[] = [];
    for (let run = out.peekSend(); run !== undefined; run = out.peekSend()) {
      const n = Math.min(run.length, accept);
      got.push(...run.subarray(0, n));
      out.ack(n);
    }
    return Uint8Array.from(got);
  }

  it('delivers committed bytes in order, exactly once, and returns pages once sent', () => {
    const pool = new PagePool({ pageBytes: 64, poison: true, quarantinePages: 0 });
    const out = new OutputBuffer(pool);
    out.writeBytes(seq(0, 100)); // spans two pages
    out.writeString('hé');
    const owned = seq(7, 3);
    out.writeOwned(owned);
    out.malloc(2).set([1, 2]);
    expect(out.bufferedBytes).toBe(108);
    expect(out.unsentBytes).toBe(0);
    expect(out.peekSend()).toBeUndefined();
    out.commit();
    expect(out.bufferedBytes).toBe(0);
    expect(out.unsentBytes).toBe(108);
    const expected = new Uint8Array([...seq(0, 100), ...text('hé'), ...owned, 1, 2]);
    expect(drain(out, 7)).toEqual(expected);
    expect(out.unsentBytes).toBe(0);
    expect(pool.stats.outstandingPages).toBe(0);
    expect(out.close()).toBe(0);
  });

  it('malloc: inside the tail page when it has room, a new page when not, one-off above a page', () => {
    const pool = new PagePool({ pageBytes: 64 });
    const out = new OutputBuffer(pool);
    const a = out.malloc(60);
    const b = out.malloc(4);
    expect(b.buffer).toBe(a.buffer);
    const c = out.malloc(1);
    expect(c.buffer).not.toBe(a.buffer);
    expect(pool.stats.allocatedPages).toBe(2);
    const big = out.malloc(65);
    expect(big.length).toBe(65);
    expect(pool.stats).toMatchObject({ oversizeAllocations: 1, allocatedPages: 2 });
    expect(out.malloc(0).length).toBe(0);
    a.fill(1);
    b.fill(2);
    c.fill(3);
    big.fill(4);
    out.commit();
    expect(drain(out)).toEqual(
      Uint8Array.from([...new Array<number>(60).fill(1), 2, 2, 2, 2, 3, ...new Array<number>(65).fill(4)]),
    );
  });

  it('malloc refuses bad sizes with ErrBadOption', () => {
    const out = new OutputBuffer(new PagePool());
    for (const n of [-1, 1.5, NaN, 2 ** 30 + 1]) expect(codeOf(() => out.malloc(n))).toBe('ErrBadOption');
  });

  it('bytes written after a commit wait for the next one', () => {
    const pool = new PagePool({ pageBytes: 64 });
    const out = new OutputBuffer(pool);
    out.writeBytes(seq(0, 10));
    out.commit();
    out.writeBytes(seq(10, 5));
    expect(drain(out)).toEqual(seq(0, 10));
    expect(out.bufferedBytes).toBe(5);
    out.commit();
    expect(drain(out)).toEqual(seq(10, 5));
  });

  it('merges contiguous runs of one page into one send', () => {
    const pool = new PagePool({ pageBytes: 64 });
    const out = new OutputBuffer(pool);
    out.writeBytes(seq(0, 10));
    out.commit();
    out.writeBytes(seq(10, 10));
    out.commit();
    expect(out.peekSend()?.length).toBe(20);
  });

  it('bytes written while a run is being sent are sent after it, not merged into the sent run', () => {
    const pool = new PagePool({ pageBytes: 64 });
    const out = new OutputBuffer(pool);
    out.writeBytes(seq(0, 10));
    out.commit();
    out.writeBytes(seq(10, 5)); // same page, after the committed run
    expect(drain(out)).toEqual(seq(0, 10));
    out.commit();
    expect(drain(out)).toEqual(seq(10, 5));
    expect(pool.stats.outstandingPages).toBe(0);
  });

  it('reuses pages in steady state and frees the tail once sent', () => {
    const pool = new PagePool({ pageBytes: 64 });
    const out = new OutputBuffer(pool);
    for (let i = 0; i < 100; i++) {
      out.writeBytes(seq(i, 30));
      out.commit();
      expect(drain(out)).toEqual(seq(i, 30));
      expect(pool.stats.outstandingPages).toBe(0);
    }
    expect(pool.stats.allocatedPages).toBe(1);
  });

  it('ack beyond the run is an assertion (an internal bug)', () => {
    const out = new OutputBuffer(new PagePool({ pageBytes: 64 }));
    out.writeBytes(seq(0, 10));
    out.commit();
    expect(() => out.ack(11)).toThrow(AssertionError);
    out.ack(0);
    const empty = new OutputBuffer(new PagePool());
    expect(() => empty.ack(1)).toThrow(AssertionError);
  });

  it('close returns every page and the dropped byte count; later writes are ErrConnClosed', () => {
    const pool = new PagePool({ pageBytes: 64, poison: true });
    const out = new OutputBuffer(pool);
    out.writeBytes(seq(0, 100));
    out.commit();
    out.ack(30);
    out.writeString('abc');
    out.writeOwned(seq(0, 4));
    expect(out.close()).toBe(70 + 3 + 4);
    expect(out.close()).toBe(0);
    expect(out.isClosed).toBe(true);
    expect(pool.stats.outstandingPages).toBe(0);
    expect(out.peekSend()).toBeUndefined();
    expect(out.unsentBytes + out.bufferedBytes).toBe(0);
    for (const write of [
      () => out.malloc(1),
      () => out.writeBytes(seq(0, 1)),
      () => out.writeString('x'),
      () => out.writeOwned(seq(0, 1)),
      () => out.commit(),
    ]) {
      expect(codeOf(write)).toBe('ErrConnClosed');
    }
  });

  it('a poisoned page read through a kept peekSend view after close', () => {
    const pool = new PagePool({ pageBytes: 64, poison: true });
    const out = new OutputBuffer(pool);
    out.writeBytes(seq(0, 10));
    out.commit();
    const run = out.peekSend();
    out.close();
    expect(run?.[0]).toBe(POISON_BYTE);
  });

  it('writeString spans pages and keeps multi-byte characters whole', () => {
    const pool = new PagePool({ pageBytes: 64 });
    const out = new OutputBuffer(pool);
    out.writeBytes(seq(0, 62));
    const s = '😀'.repeat(40) + 'é';
    out.writeString(s);
    out.commit();
    const got = drain(out, 5);
    expect(new TextDecoder().decode(got.subarray(62))).toBe(s);
  });
});
