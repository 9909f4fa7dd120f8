/**
 * A write path that treats a short write as a complete one: the bytes the transport did not accept
 * are dropped, so the peer's decoder loses frame boundaries (the classic unchecked `write(2)` return
 * value; mangos and nng loop until the whole frame is written). Composed through
 * SocketOptions.wrapConnection: the wrapper reports every write as fully accepted.
 */
import type { ConnHandlers, ConnState, StreamConn } from '../../../impl/runtime/env.js';
import type { ImplVariant } from '../actors.js';

/** Passes everything through, except that write() claims to have taken every byte. */
class TailDroppingConn implements StreamConn {
  constructor(private readonly inner: StreamConn) {}
  get id(): number {
    return this.inner.id;
  }
  get localAddress(): string {
    return this.inner.localAddress;
  }
  get remoteAddress(): string {
    return this.inner.remoteAddress;
  }
  get state(): ConnState {
    return this.inner.state;
  }
  setHandlers(handlers: ConnHandlers): void {
    this.inner.setHandlers(handlers);
  }
  write(bytes: Uint8Array): number {
    this.inner.write(bytes);
    return bytes.length; // the bug: the unaccepted tail is gone
  }
  pauseReading(): void {
    this.inner.pauseReading();
  }
  resumeReading(): void {
    this.inner.resumeReading();
  }
  shutdown(): void {
    this.inner.shutdown();
  }
  close(): void {
    this.inner.close();
  }
  reset(): void {
    this.inner.reset();
  }
}

export const PARTIAL_WRITE_DROP: ImplVariant = {
  summary: 'unchecked short write: the tail a partial conn.write did not accept is dropped (frames desync)',
  family: 'framing',
  socket: () => ({ socketOptions: { wrapConnection: (conn) => new TailDroppingConn(conn) } }),
};
