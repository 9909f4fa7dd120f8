/**
 * The link buffers at their edges: the exact messages of their typed errors, reads at and one past
 * chunk and page boundaries, pages given back (PagePool stats, checking mode) after release and close.
 */
import { describe, expect, it } from 'vitest';
import { isReactorError, type ReactorErrorCode } from './errors.js';
import { InputBuffer, OutputBuffer } from './link-buffer.js';
import { isPoisoned, PagePool, POISON_BYTE } from './pages.js';

/** The code and message of the ReactorError `fn` throws, or 'no error'. */
function errorOf(fn: () => unknown): { code: ReactorErrorCode; message: string } | 'no error' {
  try {
    fn();
  } catch (e) {
    if (!isReactorError(e)) throw e;
    return { code: e.code, message: e.message };
  }
  return 'no error';
}

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
