/**
 * The taps the echo actors record through (scenarios/echo/actors.ts): a frame decoder whose
 * allocations are recorded and bounded, a server connection tap that follows the frame structure of
 * what the server reads, and an env that records the typed errors an actor's code traces and, for
 * clients, every connect attempt with when it ended. Isomorphic.
 */
import { FRAME_HEADER_BYTES, type FrameDecoderFactory } from '../../impl/echo/echo.js';
import type {
  ConnectCallback,
  ConnectOptions,
  ConnHandlers,
  Env,
  StreamConn,
  TraceInput,
} from '../../impl/runtime/env.js';
import { ForwardingEnv } from '../../impl/runtime/env.js';
import type { AllocObs, AttemptRecord, EchoServerObs, ProtocolErrorRecord } from './checks.js';
import { ForwardingConn } from './conn.js';

/**
 * The most one allocation in a scenario may take (64 MiB, far above any legitimate frame: messages
 * are at most 1 MiB). A larger request fails as an exhausted heap would (RangeError) after it is
 * recorded, so a planted allocation bug shows in the observations without taking the machine's memory.
 */
export const SIM_HEAP_BYTES = 64 * 1024 * 1024;

/** A decoder factory whose allocations are recorded in `o` (and bounded by SIM_HEAP_BYTES). */
export function recordingDecoder(base: FrameDecoderFactory, o: AllocObs): FrameDecoderFactory {
  const allocate = (bytes: number): Uint8Array => {
    if (!Number.isSafeInteger(bytes) || bytes < 0) {
      o.badAllocs++;
      throw new RangeError(`allocate(${bytes}): not a byte count`);
    }
    if (bytes > o.maxAllocBytes) o.maxAllocBytes = bytes;
    if (bytes > SIM_HEAP_BYTES)
      throw new RangeError(`allocate(${bytes}): beyond the simulated heap (${SIM_HEAP_BYTES} bytes)`);
    return new Uint8Array(bytes);
  };
  return (maxFrameBytes) => base(maxFrameBytes, allocate);
}

/**
 * Follows the frame structure of the bytes a server reads (independently of the server's own
 * decoder): counts headers split across reads and zero-length frames.
 */
export class FrameTap {
  private headerFill = 0;
  private readonly header = new Uint8Array(FRAME_HEADER_BYTES);
  private remaining = 0;

  constructor(private readonly o: EchoServerObs) {}

  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - i);
        this.remaining -= take;
        i += take;
        continue;
      }
      const take = Math.min(FRAME_HEADER_BYTES - this.headerFill, chunk.length - i);
      this.header.set(chunk.subarray(i, i + take), this.headerFill);
      this.headerFill += take;
      i += take;
      if (this.headerFill < FRAME_HEADER_BYTES) {
        this.o.splitHeaders++;
        return;
      }
      this.headerFill = 0;
      const h = this.header;
      this.remaining = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
      if (this.remaining === 0) this.o.zeroLengthFrames++;
    }
  }
}

/** A server connection whose reads pass through a FrameTap on their way to the server. */
export class TappedServerConn extends ForwardingConn {
  constructor(
    inner: StreamConn,
    private readonly tap: FrameTap,
  ) {
    super(inner);
  }
  override setHandlers(handlers: ConnHandlers): void {
    this.inner.setHandlers(
      handlers.onData === undefined
        ? handlers
        : {
            ...handlers,
            onData: (bytes) => {
              this.tap.push(bytes);
              handlers.onData?.(bytes);
            },
          },
    );
  }
}

/** A connection whose end (closed by either side) is noted in its attempt record. */
class TappedClientConn extends ForwardingConn {
  constructor(
    inner: StreamConn,
    private readonly ended: () => void,
  ) {
    super(inner);
  }
  override setHandlers(handlers: ConnHandlers): void {
    this.inner.setHandlers({
      ...handlers,
      onClose: (error) => {
        this.ended();
        handlers.onClose?.(error);
      },
    });
  }
  override close(): void {
    this.ended();
    this.inner.close();
  }
  override reset(): void {
    this.ended();
    this.inner.reset();
  }
}

/**
 * A host's env as one actor sees it: typed errors its code traces are recorded (protocol errors),
 * and for clients every connect attempt with when it ended.
 */
export class ActorEnv extends ForwardingEnv {
  constructor(
    env: Env,
    private readonly errors: ProtocolErrorRecord[],
    private readonly attempts: AttemptRecord[] | null,
  ) {
    super(env);
  }
  override connect(address: string, callback: ConnectCallback, options?: ConnectOptions): void {
    const attempts = this.attempts;
    if (attempts === null) {
      this.inner.connect(address, callback, options);
      return;
    }
    const rec: AttemptRecord = { atUs: this.inner.nowUs(), endUs: null, connected: false };
    attempts.push(rec);
    const ended = (): void => {
      rec.endUs ??= this.inner.nowUs();
    };
    this.inner.connect(
      address,
      (error, conn) => {
        if (conn === undefined) {
          ended();
          callback(error, conn);
          return;
        }
        rec.connected = true;
        callback(error, new TappedClientConn(conn, ended));
      },
      options,
    );
  }
  override trace(event: TraceInput): void {
    if (event.kind === 'error')
      this.errors.push({ atUs: this.inner.nowUs(), code: event.code, message: event.message });
    if (this.inner.tracing) this.inner.trace(event);
  }
}
