/**
 * SP message framing on stream transports (sp.md §1): TCP frames are `u64 BE length + payload`,
 * IPC frames `u8 type (0x01) + u64 BE length + payload`. FrameDecoder is a sans-I/O streaming
 * decoder: the transport feeds whatever chunks the connection delivers and gets whole payloads back.
 * It enforces the receive limit on the length field before it allocates anything for the body,
 * the allocation-DoS guard nanomsg#461 and nng#2281 are about.
 */
import { assert } from '../../runtime/assert.js';
import { SpError } from '../errors.js';

/** Where frame bodies that arrive in pieces are assembled. Inject one to pool or to count allocations. */
export interface Allocator {
  /**
   * A fresh, writable buffer of exactly `bytes` bytes that nobody else holds. Its contents may be
   * anything: the decoder overwrites every byte before it delivers the buffer.
   */
  alloc(bytes: number): Uint8Array;
}

export const defaultAllocator: Allocator = Object.freeze({
  alloc: (bytes: number): Uint8Array => new Uint8Array(bytes),
});

/** mangos `defaultMaxRxSize` and nanomsg NN_RCVMAXSIZE: 1 MiB. 0 means unlimited. */
export const DEFAULT_MAX_RECV_BYTES = 1024 * 1024;

/**
 * Frames up to this size get their whole body buffer at once, when their first body bytes arrive.
 * Larger frames (only possible with a raised or unlimited maxRecvBytes) grow their buffer by
 * doubling as bytes arrive, so a peer announcing 2^53-1 bytes and sending 10 holds about 1 MiB,
 * not a giant allocation (nanomsg#461).
 */
const EAGER_BODY_BYTES = DEFAULT_MAX_RECV_BYTES;

const TCP_HEADER_BYTES = 8;
const IPC_HEADER_BYTES = 9;
/** IPC in-band message type (sp-ipc-mapping-01); the only one defined. */
export const IPC_TYPE_MESSAGE = 0x01;
/** The high 32 bits of a length above this make it >= 2^53, beyond exact doubles. */
const MAX_SAFE_HIGH_WORD = 0x1fffff;
const TWO_POW_32 = 0x1_0000_0000;

export interface FrameDecoderOptions {
  /** Largest accepted payload in bytes; `== max` is accepted, `max + 1` is ErrTooLong. 0 = unlimited. Default DEFAULT_MAX_RECV_BYTES (1 MiB). */
  maxRecvBytes?: number;
  /** IPC framing: each frame starts with a type byte that must be 0x01. Default false (TCP framing). */
  ipc?: boolean;
  /** Where bodies that straddle chunks are assembled. Default defaultAllocator (new Uint8Array). */
  allocator?: Allocator;
}

/**
 * Streaming decoder for one direction of one connection. Frames may be split at any byte across
 * chunks, and one chunk may hold many frames.
 *
 * Payload ownership: a frame that lies whole inside one chunk is delivered as a subarray view of
 * that chunk (zero copy), so the payload aliases the chunk. The caller must therefore hand over
 * chunks it will not reuse or mutate; chunks delivered by the runtime are owned by the receiver, so
 * this holds for them. A frame that straddles chunks is copied into a buffer from the allocator of
 * exactly its length.
 *
 * Errors: a length above maxRecvBytes or not exactly representable is ErrTooLong; a bad IPC type
 * byte is ErrBadHeader. Frames completed earlier in the same feed() were already delivered. After
 * an error the decoder is failed for good (the pipe must close) and every later feed() throws the
 * same SpError again.
 */
export class FrameDecoder {
  private readonly maxRecvBytes: number;
  private readonly ipc: boolean;
  private readonly headerBytes: number;
  private readonly allocator: Allocator;

  /** Bytes of a header that straddles chunks; only the first `headerFill` are meaningful. */
  private readonly header = new Uint8Array(IPC_HEADER_BYTES);
  private headerFill = 0;
  /** Length of the frame whose body is being assembled, or -1 while reading a header. */
  private bodyBytes = -1;
  /** Assembly buffer for a straddling body; null until its first bytes arrive. */
  private body: Uint8Array | null = null;
  private bodyFill = 0;
  private error: SpError | null = null;
  private feeding = false;

  constructor(options: FrameDecoderOptions = {}) {
    const max = options.maxRecvBytes ?? DEFAULT_MAX_RECV_BYTES;
    if (!Number.isSafeInteger(max) || max < 0) {
      throw new SpError(
        'ErrBadValue',
        `maxRecvBytes must be an integer in [0, 2^53-1] (0 = unlimited), got ${String(max)}`,
      );
    }
    const ipc = options.ipc ?? false;
    if (typeof ipc !== 'boolean')
      throw new SpError('ErrBadValue', `ipc must be a boolean, got ${String(ipc)}`);
    const allocator = options.allocator ?? defaultAllocator;
    if (typeof allocator?.alloc !== 'function') {
      throw new SpError('ErrBadValue', 'allocator must have an alloc(bytes) method');
    }
    this.maxRecvBytes = max;
    this.ipc = ipc;
    this.headerBytes = ipc ? IPC_HEADER_BYTES : TCP_HEADER_BYTES;
    this.allocator = allocator;
  }

  /** Bytes received of the frame not yet complete, header included (0 between frames). */
  get bufferedBytes(): number {
    return this.bodyBytes < 0 ? this.headerFill : this.headerBytes + this.bodyFill;
  }

  /** true after an error: the pipe must close. */
  get failed(): boolean {
    return this.error !== null;
  }

  /**
   * Consumes one chunk and calls onFrame for every frame it completes, in order. Throws SpError
   * (ErrTooLong, ErrBadHeader) when the stream is bad. If onFrame throws, the rest of the chunk is
   * lost, so the decoder fails with ErrClosed (cause: the callback's error) and rethrows it.
   */
  feed(chunk: Uint8Array, onFrame: (payload: Uint8Array) => void): void {
    if (this.error !== null) throw this.error;
    if (this.feeding) throw new Error('FrameDecoder.feed() called from inside onFrame: not reentrant');
    this.feeding = true;
    try {
      this.consume(chunk, onFrame);
    } catch (e) {
      this.error ??= new SpError('ErrClosed', 'frame decoder stopped: an onFrame callback threw', {
        cause: e,
      });
      throw e;
    } finally {
      this.feeding = false;
    }
  }

  private consume(chunk: Uint8Array, onFrame: (payload: Uint8Array) => void): void {
    const end = chunk.length;
    const headerBytes = this.headerBytes;
    let pos = 0;
    while (pos < end) {
      let frameBytes = this.bodyBytes;
      if (frameBytes < 0) {
        if (this.headerFill === 0 && end - pos >= headerBytes) {
          // Fast path: the whole header is in this chunk; parse it in place.
          frameBytes = this.parseLength(chunk, pos);
          pos += headerBytes;
        } else {
          const take = Math.min(headerBytes - this.headerFill, end - pos);
          this.header.set(chunk.subarray(pos, pos + take), this.headerFill);
          this.headerFill += take;
          pos += take;
          if (this.headerFill < headerBytes) return;
          frameBytes = this.parseLength(this.header, 0);
          this.headerFill = 0;
        }
        if (end - pos >= frameBytes) {
          // Zero copy: the body lies whole in this chunk (this includes zero-length frames).
          const payload = chunk.subarray(pos, pos + frameBytes);
          // Consumed as produced: the payload handed on is exactly as long as its header said.
          assert(payload.length === frameBytes, 'a decoded frame is as long as its length header');
          pos += frameBytes;
          onFrame(payload);
          continue;
        }
        this.bodyBytes = frameBytes;
        // The body straddles chunks; the loop comes back with bodyBytes >= 0 if bytes remain.
        continue;
      }
      // Assembling a body that straddles chunks.
      const take = Math.min(frameBytes - this.bodyFill, end - pos);
      const body = this.bodyFor(this.bodyFill + take);
      body.set(chunk.subarray(pos, pos + take), this.bodyFill);
      this.bodyFill += take;
      pos += take;
      if (this.bodyFill === frameBytes) {
        assert(body.length === frameBytes, 'a decoded frame is as long as its length header');
        this.body = null;
        this.bodyFill = 0;
        this.bodyBytes = -1;
        onFrame(body);
      }
    }
  }

  /**
   * Reads and checks a frame header at `at`; the length is vetted before any body memory exists.
   * Inline rather than impl/runtime/bytes.ts readU64Number: this runs once per frame on the receive
   * path, and it must check the high word before combining and fail with the SP codes.
   */
  private parseLength(b: Uint8Array, at: number): number {
    let o = at;
    if (this.ipc) {
      const type = b[o]!;
      if (type !== IPC_TYPE_MESSAGE) {
        this.fail(
          'ErrBadHeader',
          `ipc frame type byte is 0x${type.toString(16).padStart(2, '0')}, want 0x01 ` +
            '(nng rejects other types with NNG_EPROTO; mangos ignores the byte)',
        );
      }
      o++;
    }
    const high = ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
    const low = ((b[o + 4]! << 24) | (b[o + 5]! << 16) | (b[o + 6]! << 8) | b[o + 7]!) >>> 0;
    // Check the high word before combining: above 0x1fffff the double would round (>= 2^53).
    if (high > MAX_SAFE_HIGH_WORD) {
      this.fail(
        'ErrTooLong',
        `frame length 0x${high.toString(16).padStart(8, '0')}${low.toString(16).padStart(8, '0')} ` +
          'is beyond 2^53-1 bytes',
      );
    }
    const length = high * TWO_POW_32 + low;
    if (this.maxRecvBytes !== 0 && length > this.maxRecvBytes) {
      this.fail('ErrTooLong', `frame length ${length} bytes exceeds maxRecvBytes ${this.maxRecvBytes}`);
    }
    return length;
  }

  /** The assembly buffer, grown if needed to hold `needBytes` (never beyond the frame length). */
  private bodyFor(needBytes: number): Uint8Array {
    const body = this.body;
    if (body !== null && body.length >= needBytes) return body;
    const frameBytes = this.bodyBytes;
    const sizeBytes =
      frameBytes <= EAGER_BODY_BYTES
        ? frameBytes
        : Math.min(frameBytes, Math.max(EAGER_BODY_BYTES, 2 * (body?.length ?? 0), needBytes));
    const grown = this.allocator.alloc(sizeBytes);
    if (grown.length !== sizeBytes) {
      throw new Error(`Allocator.alloc(${sizeBytes}) returned ${grown.length} bytes`);
    }
    if (body !== null && this.bodyFill > 0) grown.set(body.subarray(0, this.bodyFill));
    this.body = grown;
    return grown;
  }

  private fail(code: 'ErrTooLong' | 'ErrBadHeader', message: string): never {
    this.error = new SpError(code, message);
    throw this.error;
  }
}

function checkPayloadBytes(payloadBytes: number): void {
  if (!Number.isSafeInteger(payloadBytes) || payloadBytes < 0) {
    throw new SpError(
      'ErrBadValue',
      `payload length must be an integer in [0, 2^53-1] bytes, got ${String(payloadBytes)}`,
    );
  }
}

/** Inline rather than bytes.ts writeU64Number: once per sent frame, and the length is checked already. */
function writeHeader(out: Uint8Array, payloadBytes: number, ipc: boolean): number {
  let o = 0;
  if (ipc) out[o++] = IPC_TYPE_MESSAGE;
  const high = Math.floor(payloadBytes / TWO_POW_32);
  const low = payloadBytes >>> 0;
  out[o] = high >>> 24;
  out[o + 1] = (high >>> 16) & 0xff;
  out[o + 2] = (high >>> 8) & 0xff;
  out[o + 3] = high & 0xff;
  out[o + 4] = low >>> 24;
  out[o + 5] = (low >>> 16) & 0xff;
  out[o + 6] = (low >>> 8) & 0xff;
  out[o + 7] = low & 0xff;
  return o + 8;
}

/**
 * Writes the 8-byte (TCP) or 9-byte (IPC) header announcing `payloadBytes` at the start of `out`
 * (at least that long) and returns its length: encodeFrameHeader without the allocation, for hot
 * loops such as the fuzzer's re-encoding oracle.
 */
export function writeFrameHeader(out: Uint8Array, payloadBytes: number, ipc = false): number {
  checkPayloadBytes(payloadBytes);
  if (out.length < (ipc ? IPC_HEADER_BYTES : TCP_HEADER_BYTES))
    throw new SpError(
      'ErrBadValue',
      `a frame header needs ${ipc ? IPC_HEADER_BYTES : TCP_HEADER_BYTES} bytes, got ${out.length}`,
    );
  return writeHeader(out, payloadBytes, ipc);
}

/** The 8-byte (TCP) or 9-byte (IPC) header announcing a payload of `payloadBytes`. */
export function encodeFrameHeader(payloadBytes: number, ipc = false): Uint8Array {
  checkPayloadBytes(payloadBytes);
  const out = new Uint8Array(ipc ? IPC_HEADER_BYTES : TCP_HEADER_BYTES);
  writeHeader(out, payloadBytes, ipc);
  return out;
}

/**
 * Header and payload in one fresh buffer: one write for small messages. For large payloads prefer
 * writing encodeFrameHeader() and the payload separately, which saves the copy.
 */
export function encodeFrame(payload: Uint8Array, ipc = false): Uint8Array {
  checkPayloadBytes(payload.length);
  const out = new Uint8Array((ipc ? IPC_HEADER_BYTES : TCP_HEADER_BYTES) + payload.length);
  out.set(payload, writeHeader(out, payload.length, ipc));
  return out;
}
