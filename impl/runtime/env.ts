/**
 * The runtime seam: the only interface protocol code (impl/sp, later h2, mux...) depends on for
 * time, timers, randomness, promises the scheduler can see, byte-stream connections and trace
 * annotations. Two implementations: the simulated one (sim/net.ts, a SimHost's `env`) and the real
 * one (impl/runtime/node.ts, node:net and real timers). Protocol code cannot tell which it runs on,
 * and never imports `node:` modules or sim/ directly: only this file.
 */
import type { ConnHandlers, ConnState, NetError, StreamConn, StreamListener } from '../../sim/stream.js';
import type { TraceInput } from '../../sim/trace.js';
import type { Deferred } from '../../sim/world.js';

export type {
  ConnHandlers,
  ConnState,
  NetErrorCode,
  StreamAddress,
  StreamConn,
  StreamListener,
} from '../../sim/stream.js';
export { NetError, parseAddress, formatAddress } from '../../sim/stream.js';
export type { Deferred } from '../../sim/world.js';
export type { TraceInput, TraceField } from '../../sim/trace.js';

/** Handle of a timer started through the seam. */
export interface TimerHandle {
  readonly pending: boolean;
}

/** A seeded random stream (sim: a fork of the world's seed; real: of the runtime's seed). */
export interface RandomSource {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [minIncl, maxIncl]. */
  int(minIncl: number, maxIncl: number): number;
  /** Uniform real in [min, max). */
  uniform(min: number, max: number): number;
  chance(p: number): boolean;
  exponential(mean: number): number;
  fork(name: string): RandomSource;
}

export interface ConnectOptions {
  /** Give up with ETIMEDOUT after this long (default: the runtime's, 10 s in the simulator). */
  timeoutUs?: number;
}

export type ConnectCallback = (error: NetError | undefined, conn: StreamConn | undefined) => void;
export type ListenCallback = (error: NetError | undefined, listener: StreamListener | undefined) => void;

export interface Env {
  /**
   * Which runtime this is. The one behaviour that differs on purpose: a simulated host that crashes
   * goes silent (nothing of it runs again), while closing a real env reports EHOSTDOWN to its open
   * connections and pending callbacks.
   */
  readonly runtime: 'sim' | 'real';
  /** Name of the host this env belongs to (the simulated host, or "local" for the real runtime). */
  readonly hostName: string;
  /** Monotonic time in integer microseconds (virtual in the simulator). */
  nowUs(): number;
  setTimer(delayUs: number, fn: () => void, label?: string): TimerHandle;
  /** Cancels a timer of this env; a handle from elsewhere throws. Clearing twice is harmless. */
  clearTimer(timer: TimerHandle): void;
  /** Resolves after delayUs. */
  sleep(delayUs: number): Promise<void>;
  /** A promise settled through the runtime, so the simulator drains its continuations in order. */
  defer<T>(): Deferred<T>;
  /** A named seeded random stream; the same name gives the same stream for the same seed. */
  random(name: string): RandomSource;
  /**
   * A value shared by all code of one world (every host of a simulated network; the whole real
   * runtime), created on first use: e.g. the pipe-id allocator, whose ids must be unique world-wide.
   */
  shared<T>(key: string, create: () => T): T;
  /**
   * Connects to an address; the callback runs exactly once, later (never synchronously). A bad
   * address or a non-positive or non-finite timeoutUs is EINVAL through the callback.
   */
  connect(address: string, callback: ConnectCallback, options?: ConnectOptions): void;
  /** Starts listening; the callback runs exactly once, later, with the listener or the error (EADDRINUSE...). */
  listen(address: string, onConnection: (conn: StreamConn) => void, callback: ListenCallback): void;
  /**
   * Adds an upper-layer event (message sent/received with decoded fields, queue depth...) to the
   * trace; sets the event's `host` to this env's host when the caller left it out.
   */
  trace(event: TraceInput): void;
  /** False when trace() would record nothing: hot paths skip building the event then. */
  readonly tracing: boolean;
  /**
   * Optional: a fresh array of exactly `bytes` bytes that nobody else holds, whose contents are
   * unspecified (not zeroed), for a buffer the caller fills completely before anyone reads it (the
   * SP frame decoder assembling a frame that spans reads). Skipping the zero fill matters for large
   * frames. Runtimes without it (the simulator, browsers) leave callers to `new Uint8Array(bytes)`.
   * The real runtime has it (impl/runtime/node.ts).
   */
  allocUninitialized?(bytes: number): Uint8Array;
}

/**
 * An Env that hands every call to another one: a base for wrappers that change a few things (the
 * scenario runner's recording env, the real substrate's per-host env), so each overrides only what
 * it changes and new parts of the seam reach the inner env without touching the wrappers.
 */
export class ForwardingEnv implements Env {
  readonly allocUninitialized?: (bytes: number) => Uint8Array;

  constructor(protected readonly inner: Env) {
    if (inner.allocUninitialized !== undefined)
      this.allocUninitialized = (bytes) => inner.allocUninitialized!(bytes);
  }
  get runtime(): 'sim' | 'real' {
    return this.inner.runtime;
  }
  get hostName(): string {
    return this.inner.hostName;
  }
  get tracing(): boolean {
    return this.inner.tracing;
  }
  nowUs(): number {
    return this.inner.nowUs();
  }
  setTimer(delayUs: number, fn: () => void, label?: string): TimerHandle {
    return this.inner.setTimer(delayUs, fn, label);
  }
  clearTimer(timer: TimerHandle): void {
    this.inner.clearTimer(timer);
  }
  sleep(delayUs: number): Promise<void> {
    return this.inner.sleep(delayUs);
  }
  defer<T>(): Deferred<T> {
    return this.inner.defer<T>();
  }
  random(name: string): RandomSource {
    return this.inner.random(name);
  }
  shared<T>(key: string, create: () => T): T {
    return this.inner.shared(key, create);
  }
  connect(address: string, callback: ConnectCallback, options?: ConnectOptions): void {
    this.inner.connect(address, callback, options);
  }
  listen(address: string, onConnection: (conn: StreamConn) => void, callback: ListenCallback): void {
    this.inner.listen(address, onConnection, callback);
  }
  trace(event: TraceInput): void {
    this.inner.trace(event);
  }
}

/**
 * A StreamConn that hands every call to another one: a base for wrappers that change a few things
 * (the labs' taps, planted museum bugs), so each overrides only what it changes.
 */
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
  setCoalescing(on: boolean): void {
    this.inner.setCoalescing?.(on);
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

/** An env whose connect() and listen() hand out wrapped connections. */
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
