/**
 * mangos#96/#102 (fixed by mangos' async handshaker): the listener read the peer's header of one
 * connection at a time, in accept order, so a peer that connects and says nothing holds every later
 * peer's handshake until it is cut (here: at HANDSHAKE-TIMEOUT; in mangos then: forever). Composed
 * through SocketOptions.wrapConnection: a per-socket queue lets only its head connection's bytes
 * through until that connection has delivered its 8-byte header or gone.
 */
import type { ConnHandlers, ConnState, NetError, StreamConn } from '../../../impl/runtime/env.js';
import { HANDSHAKE_BYTES } from '../../../impl/sp/wire/handshake.js';
import type { ImplVariant } from '../actors.js';

type Held =
  { kind: 'data'; bytes: Uint8Array } | { kind: 'end' } | { kind: 'close'; error: NetError | undefined };

/** Connections of one socket still waiting for their turn to handshake, oldest first. */
class HandshakeQueue {
  readonly waiting: SerialConn[] = [];
}

class SerialConn implements StreamConn {
  private handlers: ConnHandlers = {};
  private readonly held: Held[] = [];
  private passedBytes = 0;
  /** True once this connection no longer holds or waits for the queue. */
  private through = false;

  constructor(
    private readonly inner: StreamConn,
    private readonly queue: HandshakeQueue,
  ) {
    queue.waiting.push(this);
  }

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
    this.handlers = handlers;
    this.inner.setHandlers({
      onData: (bytes) => this.arrive({ kind: 'data', bytes }),
      onWritable: () => this.handlers.onWritable?.(),
      onEnd: () => this.arrive({ kind: 'end' }),
      onClose: (error) => this.arrive({ kind: 'close', error }),
    });
  }

  private myTurn(): boolean {
    return this.through || this.queue.waiting[0] === this;
  }

  private arrive(h: Held): void {
    // A connection that ends while waiting leaves the queue at once (and gets its events now).
    if (!this.myTurn() && h.kind === 'data') {
      this.held.push(h);
      return;
    }
    this.held.push(h);
    this.drain();
  }

  /** Delivers what was held, in order; leaves the queue once the header is through or the conn ends. */
  drain(): void {
    while (this.held.length > 0) {
      const h = this.held.shift()!;
      if (h.kind === 'data') {
        this.passedBytes += h.bytes.length;
        if (this.passedBytes >= HANDSHAKE_BYTES) this.leave();
        this.handlers.onData?.(h.bytes);
      } else {
        this.leave();
        if (h.kind === 'end') this.handlers.onEnd?.();
        else this.handlers.onClose?.(h.error);
      }
    }
  }

  /** Stops holding the queue; the next waiting connection gets its turn. */
  private leave(): void {
    if (this.through) return;
    this.through = true;
    const at = this.queue.waiting.indexOf(this);
    if (at >= 0) this.queue.waiting.splice(at, 1);
    if (at === 0) this.queue.waiting[0]?.drain();
  }

  write(bytes: Uint8Array): number {
    return this.inner.write(bytes);
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
    this.leave();
    this.inner.close();
  }
  reset(): void {
    this.leave();
    this.inner.reset();
  }
}

export const SERIAL_HANDSHAKE: ImplVariant = {
  summary:
    "mangos#96/#102: the listener reads one connection's header at a time, so a silent peer stalls every later one",
  family: 'handshake',
  socket: () => {
    const queue = new HandshakeQueue();
    return { socketOptions: { wrapConnection: (conn) => new SerialConn(conn, queue) } };
  },
};
