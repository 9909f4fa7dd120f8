/**
 * A textbook frame decoder for the museum's length bugs: read the header (type byte on ipc, u64
 * big-endian length), vet the length against the receive limit, allocate the body, fill it,
 * deliver it — the shape of nanomsg's and mangos' readers. Correct as it stands (every body through
 * the allocator, no zero-copy); each museum variant swaps exactly one part: how the length is read,
 * or allocating before vetting. Not production code: impl/sp/wire/frames.ts is netlab's decoder.
 */
import type { FrameDecoderFactory, FrameDecoderLike } from '../../../impl/sp/core/pipe.js';
import { SpError } from '../../../impl/sp/errors.js';
import { defaultAllocator, DEFAULT_MAX_RECV_BYTES, type Allocator } from '../../../impl/sp/wire/frames.js';

const TWO_POW_32 = 0x1_0000_0000;

/** Reads the 8-byte length at `at`; throws SpError ErrTooLong for a length it cannot represent. */
export type LengthReader = (b: Uint8Array, at: number) => number;

/** The correct reader: unsigned words, and nothing at or above 2^53 (a double would round it). */
export const readU64Length: LengthReader = (b, at) => {
  const high = ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
  const low = ((b[at + 4]! << 24) | (b[at + 5]! << 16) | (b[at + 6]! << 8) | b[at + 7]!) >>> 0;
  if (high > 0x1fffff)
    throw new SpError('ErrTooLong', `frame length is beyond 2^53-1 bytes (high word ${high})`);
  return high * TWO_POW_32 + low;
};

export interface NaiveDecoderParts {
  readLength?: LengthReader;
  /** Ask the allocator for the body before vetting its length (the nanomsg#461 order). Default false. */
  allocBeforeVet?: boolean;
}

class NaiveFrameDecoder implements FrameDecoderLike {
  private readonly headerBytes: number;
  private readonly header: Uint8Array;
  private headerFill = 0;
  private body: Uint8Array | null = null;
  private bodyFill = 0;
  private error: Error | null = null;

  constructor(
    private readonly maxRecvBytes: number,
    private readonly ipc: boolean,
    private readonly allocator: Allocator,
    private readonly readLength: LengthReader,
    private readonly allocBeforeVet: boolean,
  ) {
    this.headerBytes = ipc ? 9 : 8;
    this.header = new Uint8Array(this.headerBytes);
  }

  feed(chunk: Uint8Array, onFrame: (payload: Uint8Array) => void): void {
    if (this.error !== null) throw this.error;
    try {
      this.consume(chunk, onFrame);
    } catch (e) {
      this.error = e instanceof Error ? e : new Error(String(e));
      throw this.error;
    }
  }

  private consume(chunk: Uint8Array, onFrame: (payload: Uint8Array) => void): void {
    let pos = 0;
    for (;;) {
      if (this.body === null) {
        const take = Math.min(this.headerBytes - this.headerFill, chunk.length - pos);
        this.header.set(chunk.subarray(pos, pos + take), this.headerFill);
        this.headerFill += take;
        pos += take;
        if (this.headerFill < this.headerBytes) return;
        this.headerFill = 0;
        if (this.ipc && this.header[0] !== 0x01)
          throw new SpError('ErrBadHeader', `ipc frame type byte is ${this.header[0]}, want 1`);
        const length = this.readLength(this.header, this.ipc ? 1 : 0);
        if (this.allocBeforeVet) this.body = this.allocator.alloc(length);
        if (this.maxRecvBytes !== 0 && length > this.maxRecvBytes)
          throw new SpError('ErrTooLong', `frame length ${length} exceeds ${this.maxRecvBytes}`);
        this.body ??= this.allocator.alloc(length);
        this.bodyFill = 0;
      }
      const body = this.body;
      const take = Math.min(body.length - this.bodyFill, chunk.length - pos);
      body.set(chunk.subarray(pos, pos + take), this.bodyFill);
      this.bodyFill += take;
      pos += take;
      if (this.bodyFill < body.length) return;
      this.body = null;
      onFrame(body);
      if (pos === chunk.length) return;
    }
  }
}

/** A decoder factory for StreamPipe (SocketOptions.frameDecoder) built from the given parts. */
export function naiveDecoderFactory(parts: NaiveDecoderParts = {}): FrameDecoderFactory {
  return (options) =>
    new NaiveFrameDecoder(
      options.maxRecvBytes ?? DEFAULT_MAX_RECV_BYTES,
      options.ipc ?? false,
      options.allocator ?? defaultAllocator,
      parts.readLength ?? readU64Length,
      parts.allocBeforeVet ?? false,
    );
}
