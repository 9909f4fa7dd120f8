/**
 * The reference model of SP stream framing the frame targets judge decoders against, written from
 * the mapping documents (sp.md §1), not from impl/sp/wire/frames.ts: a stream is a sequence of
 * [type byte 0x01 on ipc] + u64 big-endian length + payload. A header is judged when its last byte
 * arrives: a type byte other than 0x01 is ErrBadHeader; a length of 2^53 or more (beyond exact
 * doubles), or above a non-zero receive limit, is ErrTooLong. Frames before a bad header are
 * delivered; nothing after it is. Input that ends inside a header or a body is simply incomplete.
 */
import type { SpErrorCode } from '../../../impl/sp/errors.js';

const TWO_POW_32 = 0x1_0000_0000;

/** How a parse ended. */
export type ModelEnd = 'idle' | 'in-header' | 'in-body' | 'error';

/**
 * Length classes: where a length sits relative to the boundaries decoders get wrong (0, the
 * receive limit, 2^32, 2^53, 2^63, 2^64-1). Coverage features and seed generation use them.
 */
export const LENGTH_CLASSES = [
  'zero',
  '1-7',
  '8-255',
  '256-65535',
  '64Ki-(max-2)',
  'max-1',
  'max',
  'max+1',
  '(max+2)-(2^32-1)',
  '2^32-(2^53-1)',
  '2^53',
  '(2^53+1)-(2^63-1)',
  '2^63-(2^64-2)',
  '2^64-1',
] as const;

/** The class (index into LENGTH_CLASSES) of the u64 length high * 2^32 + low, for receive limit `max` (0 = none). */
export function lengthClass(high: number, low: number, max: number): number {
  if (high >= 0x8000_0000) return high === 0xffff_ffff && low === 0xffff_ffff ? 13 : 12;
  if (high > 0x20_0000 || (high === 0x20_0000 && low > 0)) return 11;
  if (high === 0x20_0000) return 10;
  const n = high * TWO_POW_32 + low;
  if (max > 0) {
    if (n === max - 1) return 5;
    if (n === max) return 6;
    if (n === max + 1) return 7;
    if (n > max + 1 && n < TWO_POW_32) return 8;
  }
  if (n >= TWO_POW_32) return 9;
  if (n === 0) return 0;
  if (n < 8) return 1;
  if (n < 256) return 2;
  if (n < 65536) return 3;
  return max > 0 && n > max ? 8 : 4;
}

export class FrameModel {
  /** Complete frames: header offset, payload offset and payload length. */
  headerAt = new Int32Array(64);
  starts = new Int32Array(64);
  lens = new Int32Array(64);
  count = 0;
  /** Length class of every judged header, in order (complete frames, then the one in progress or the bad one). */
  classes = new Uint8Array(64);
  classCount = 0;
  end: ModelEnd = 'idle';
  /** Bytes of the unfinished header or body at the end. */
  endFill = 0;
  /** The error the stream must fail with, and the offset of the header that causes it. */
  error: SpErrorCode | null = null;
  errorAt = -1;
  /** Largest length any accepted header announced (complete or not); 0 when none. */
  maxAnnounced = 0;
  /** Offset of the frame in progress at the end (its header), or -1. */
  openAt = -1;

  parse(data: Uint8Array, ipc: boolean, max: number): void {
    const headerBytes = ipc ? 9 : 8;
    this.count = 0;
    this.classCount = 0;
    this.end = 'idle';
    this.endFill = 0;
    this.error = null;
    this.errorAt = -1;
    this.maxAnnounced = 0;
    this.openAt = -1;
    const n = data.length;
    let at = 0;
    while (at < n) {
      if (n - at < headerBytes) {
        this.end = 'in-header';
        this.endFill = n - at;
        this.openAt = at;
        return;
      }
      const o = ipc ? at + 1 : at;
      const high = ((data[o]! << 24) | (data[o + 1]! << 16) | (data[o + 2]! << 8) | data[o + 3]!) >>> 0;
      const low = ((data[o + 4]! << 24) | (data[o + 5]! << 16) | (data[o + 6]! << 8) | data[o + 7]!) >>> 0;
      this.pushClass(lengthClass(high, low, max) | (ipc && data[at] !== 0x01 ? 0x80 : 0));
      if (ipc && data[at] !== 0x01) {
        this.fail('ErrBadHeader', at);
        return;
      }
      // 2^53 and above cannot be held exactly: too long whatever the limit.
      if (high >= 0x20_0000) {
        this.fail('ErrTooLong', at);
        return;
      }
      const length = high * TWO_POW_32 + low;
      if (max > 0 && length > max) {
        this.fail('ErrTooLong', at);
        return;
      }
      if (length > this.maxAnnounced) this.maxAnnounced = length;
      const start = at + headerBytes;
      if (n - start < length) {
        this.end = 'in-body';
        this.endFill = n - start;
        this.openAt = at;
        return;
      }
      this.pushFrame(at, start, length);
      at = start + length;
    }
  }

  private fail(code: SpErrorCode, at: number): void {
    this.error = code;
    this.errorAt = at;
    this.end = 'error';
  }

  private pushClass(c: number): void {
    if (this.classCount === this.classes.length) {
      const grown = new Uint8Array(this.classes.length * 2);
      grown.set(this.classes);
      this.classes = grown;
    }
    this.classes[this.classCount++] = c;
  }

  private pushFrame(headerAt: number, start: number, length: number): void {
    if (this.count === this.starts.length) {
      const size = this.starts.length * 2;
      const grow = (a: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => {
        const g = new Int32Array(size);
        g.set(a);
        return g;
      };
      this.headerAt = grow(this.headerAt);
      this.starts = grow(this.starts);
      this.lens = grow(this.lens);
    }
    this.headerAt[this.count] = headerAt;
    this.starts[this.count] = start;
    this.lens[this.count] = length;
    this.count++;
  }
}
