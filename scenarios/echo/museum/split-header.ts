/**
 * A frame decoder that assumes a length prefix never spans two reads: when a read ends inside a
 * 4-byte header, it takes the bytes it has as the whole header (the missing low-order bytes read as
 * zeros, as from a zero-filled buffer), and the next read's first bytes become payload. Every
 * textbook length-prefix reader that calls readUInt32BE on each 'data' event has this bug; it hides
 * until the network splits a header. The servers of a scenario use it (echo-framing catches it under
 * random chunking); the echo-frame fuzz target finds it as chunking-differs.
 */
import {
  EchoProtocolError,
  FRAME_HEADER_BYTES,
  type Allocate,
  type FrameDecoderFactory,
  type FrameDecoderLike,
} from '../../../impl/echo/echo.js';
import type { EchoVariant } from '../actors.js';

class SplitHeaderDecoder implements FrameDecoderLike {
  private payload: Uint8Array | undefined;
  private payloadFillBytes = 0;
  private failed = false;

  constructor(
    private readonly maxFrameBytes: number,
    private readonly allocate: Allocate,
  ) {}

  get idle(): boolean {
    return this.payload === undefined;
  }

  push(chunk: Uint8Array, onFrame: (payload: Uint8Array) => void): void {
    if (this.failed) throw new EchoProtocolError('ErrFrameTooLarge', 'decoder already failed');
    let i = 0;
    while (i < chunk.length) {
      if (this.payload === undefined) {
        // The bug: the header is read from this chunk alone, short or not.
        let lengthBytes = 0;
        for (let k = 0; k < FRAME_HEADER_BYTES; k++) lengthBytes = lengthBytes * 256 + (chunk[i + k] ?? 0);
        i += FRAME_HEADER_BYTES;
        if (lengthBytes > this.maxFrameBytes) {
          this.failed = true;
          throw new EchoProtocolError(
            'ErrFrameTooLarge',
            `frame of ${lengthBytes} bytes exceeds the limit of ${this.maxFrameBytes} bytes`,
          );
        }
        if (lengthBytes === 0) {
          onFrame(new Uint8Array(0));
          continue;
        }
        this.payload = this.allocate(lengthBytes);
        this.payloadFillBytes = 0;
        if (i >= chunk.length) return;
      }
      const payload = this.payload;
      const take = Math.min(payload.length - this.payloadFillBytes, chunk.length - i);
      payload.set(chunk.subarray(i, i + take), this.payloadFillBytes);
      this.payloadFillBytes += take;
      i += take;
      if (this.payloadFillBytes === payload.length) {
        this.payload = undefined;
        onFrame(payload);
      }
    }
  }
}

export const splitHeaderDecoder: FrameDecoderFactory = (maxFrameBytes, allocate) =>
  new SplitHeaderDecoder(maxFrameBytes, allocate ?? ((n) => new Uint8Array(n)));

export const ECHO_SPLIT_HEADER: EchoVariant = {
  summary:
    'echo server whose decoder reads a length prefix from one read only: a header split across reads is misread',
  family: 'echo-framing',
  serverDecoder: splitHeaderDecoder,
};
