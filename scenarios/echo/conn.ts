/**
 * Connection and env wrappers the echo lab composes: a connection that forwards everything (the base
 * of the taps that record what the actors do, and of the museum's planted bugs), and an env whose
 * connect and listen hand out wrapped connections. Isomorphic.
 */
import type {
  ConnectCallback,
  ConnectOptions,
  ConnHandlers,
  ConnState,
  Env,
  ListenCallback,
  StreamConn,
} from '../../impl/runtime/env.js';
import { ForwardingEnv } from '../../impl/runtime/env.js';

/** A StreamConn that hands every call to another one; subclasses override what they change. */
export class ForwardingConn implements StreamConn {
  constructor(protected readonly inner: StreamConn) {}
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
    this.inner.close();
  }
  reset(): void {
    this.inner.reset();
  }
}

/** How a ConnWrappingEnv wraps a connection: `dialed` for connect(), false for accepted ones. */
export type WrapConn = (conn: StreamConn, dialed: boolean) => StreamConn;

/** An env whose connect() and listen() hand the stack wrapped connections. */
export class ConnWrappingEnv extends ForwardingEnv {
  constructor(
    inner: Env,
    private readonly wrap: WrapConn,
  ) {
    super(inner);
  }
  override connect(address: string, callback: ConnectCallback, options?: ConnectOptions): void {
    this.inner.connect(
      address,
      (error, conn) => callback(error, conn === undefined ? conn : this.wrap(conn, true)),
      options,
    );
  }
  override listen(address: string, onConnection: (conn: StreamConn) => void, callback: ListenCallback): void {
    this.inner.listen(address, (conn) => onConnection(this.wrap(conn, false)), callback);
  }
}
