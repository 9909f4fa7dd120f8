/**
 * The real runtime: the Env seam over node:net sockets (TCP and unix), Node timers and the monotonic
 * clock, so the protocol code that runs on simulated hosts runs unchanged on real sockets (interop
 * runs, the parity suite). It is the only impl/ module allowed to touch Node APIs, host timers and
 * real time; everything else in impl/ reaches them through the Env it is handed.
 *
 * Semantics follow the seam's doc comments (impl/runtime/env.ts, sim/stream.ts); where a real
 * socket cannot match them exactly, the comment at that spot says what happens instead.
 */
import { randomBytes } from 'node:crypto';
import { lstat, unlink } from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { checkDelayUs, SimError } from '../../sim/errors.js';
import { Rng } from '../../sim/rng.js';
import { Trace, type TraceOptions } from '../../sim/trace.js';
import type {
  ConnectCallback,
  ConnectOptions,
  ConnHandlers,
  ConnState,
  Deferred,
  Env,
  ListenCallback,
  NetErrorCode,
  RandomSource,
  StreamAddress,
  StreamConn,
  StreamListener,
  TimerHandle,
  TraceInput,
} from './env.js';
import { formatAddress, NetError, parseAddress } from './env.js';

export interface NodeEnvOptions {
  /** Root seed of random(name); default: 16 random hex digits (printed by runs so they can be repeated). */
  seed?: string;
  /** Name in traces; default "local". */
  hostName?: string;
  /** Per-connection send buffer: write() accepts bytes only up to this many queued (default 64 KiB). */
  highWaterMarkBytes?: number;
  /** connect() gives up with ETIMEDOUT after this long unless the call says otherwise (default 10 s). */
  connectTimeoutUs?: number;
  /** After close(), reset the connection if the peer has not closed its side within this (default 60 s). */
  closeTimeoutUs?: number;
  /** Trace hashing (default off: real timings differ run to run) and sinks (default none). */
  trace?: TraceOptions;
  /**
   * Called when a callback this env invoked (timer, connection handler, connect/listen callback)
   * throws. The error is also kept: close() then rejects with ERR_EVENT_THREW, as a simulated run
   * would. Without this, nothing else reports it until close().
   */
  onCallbackError?: (error: unknown) => void;
}

const processShared = new Map<string, unknown>();

export const DEFAULT_HIGH_WATER_MARK_BYTES = 64 * 1024;
export const DEFAULT_CONNECT_TIMEOUT_US = 10_000_000;
/** The simulator's default (sim/net-config.ts), so close() behaves alike on both runtimes. */
export const DEFAULT_CLOSE_TIMEOUT_US = 60_000_000;

/** Node clamps longer setTimeout delays to 1 ms; longer timers are re-armed in steps of this. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * V8 stores typed arrays up to this size inside its heap (typed_array_max_size_in_heap); wrapping
 * one in a Buffer first moves it out, which is slower than copying it (measured: 24 bytes, 250 ns
 * against 100-170 ns; 72 bytes, even; 1 KiB, 600 ns against 1100 ns).
 */
const ON_HEAP_TYPED_ARRAY_MAX_BYTES = 64;

/** Written with a flush callback when no 'drain' is due; see NodeConn.write. */
const EMPTY = Buffer.alloc(0);

export function createNodeEnv(options: NodeEnvOptions = {}): NodeEnv {
  return new NodeEnv(options);
}

class NodeTimer implements TimerHandle {
  /** The Node timer or immediate currently armed for this handle, if any. */
  hostTimer: NodeJS.Timeout | undefined = undefined;
  hostImmediate: NodeJS.Immediate | undefined = undefined;
  active = true;

  constructor(
    readonly owner: NodeEnv,
    readonly deadlineUs: number,
    readonly fn: () => void,
    readonly label: string | undefined,
  ) {}

  get pending(): boolean {
    return this.active;
  }
}

class NodeDeferred<T> implements Deferred<T> {
  readonly promise: Promise<T>;
  settled = false;
  private res!: (value: T) => void;
  private rej!: (reason: unknown) => void;

  constructor() {
    this.promise = new Promise<T>((res, rej) => {
      this.res = res;
      this.rej = rej;
    });
  }

  resolve(value: T): void {
    if (this.settled) return;
    this.settled = true;
    this.res(value);
  }

  reject(reason: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.rej(reason);
  }
}

/** A connect() in progress: the socket and the once-only completion. */
interface PendingConnect {
  socket: net.Socket;
  finish(error: NetError | undefined, conn: StreamConn | undefined): void;
}

function errnoOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Maps a Node/libuv error to the seam's code. Unreachable hosts become ETIMEDOUT, which is what the
 * simulator reports when SYNs cannot get through; DNS failures become EINVAL ("names no host").
 */
function toNetError(error: unknown, phase: 'connect' | 'listen' | 'io', what: string): NetError {
  if (error instanceof NetError) return error;
  const errno = errnoOf(error);
  let code: NetErrorCode;
  switch (errno) {
    case 'ECONNREFUSED':
      code = 'ECONNREFUSED';
      break;
    case 'ENOENT': // unix path with no socket file: nobody listens there
      code = phase === 'connect' ? 'ECONNREFUSED' : 'EINVAL';
      break;
    case 'ECONNRESET':
    case 'EPIPE': // the peer is gone; for the seam that is a reset (EPIPE is reserved for local misuse)
    case 'ECONNABORTED':
      code = 'ECONNRESET';
      break;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
    case 'EHOSTDOWN':
      code = 'ETIMEDOUT';
      break;
    case 'EADDRINUSE':
      code = 'EADDRINUSE';
      break;
    default:
      code = phase === 'io' ? 'ECONNRESET' : 'EINVAL';
  }
  return new NetError(code, `${what}: ${errno ?? 'error'}: ${messageOf(error)}`, { cause: error });
}

function tcpAddress(host: string | undefined, port: number | undefined): string {
  return formatAddress({ transport: 'tcp', host: host ?? '?', port: port ?? 0 });
}

/** An unnamed unix socket end (the connecting side): getsockname gives an empty path. */
const UNNAMED_UNIX = 'unix://';

export class NodeEnv implements Env {
  readonly runtime = 'real' as const;
  readonly hostName: string;
  readonly seed: string;
  readonly highWaterMarkBytes: number;
  readonly connectTimeoutUs: number;
  readonly closeTimeoutUs: number;
  /** The env's trace; add sinks here, or pass them in options.trace. */
  readonly traceLog: Trace;
  private readonly rng: Rng;
  private readonly originMs = performance.now();
  private readonly onCallbackError: ((error: unknown) => void) | undefined;
  private closed = false;
  private closePromise: Promise<void> | undefined;
  private failureValue: { error: unknown } | undefined;
  private nextConnId = 1;
  private readonly timers = new Set<NodeTimer>();
  private readonly pendingConnects = new Set<PendingConnect>();
  /** @internal open connections, for close(). */
  readonly conns = new Set<NodeConn>();
  /** @internal live listeners, for close(). */
  readonly listeners = new Set<NodeListener>();
  /** @internal unix paths our own listeners hold: a second listen there is EADDRINUSE without probing. */
  readonly unixPaths = new Set<string>();
  /** Sockets of stale-path probes, for close(). */
  private readonly probes = new Set<net.Socket>();
  /** Sockets, servers and queued callbacks not yet finished: close() resolves when this reaches 0. */
  private live = 0;
  private onIdle: (() => void) | undefined;

  constructor(options: NodeEnvOptions = {}) {
    this.seed = options.seed ?? randomBytes(8).toString('hex');
    this.hostName = options.hostName ?? 'local';
    const hwm = options.highWaterMarkBytes ?? DEFAULT_HIGH_WATER_MARK_BYTES;
    if (!Number.isSafeInteger(hwm) || hwm < 1) {
      throw new SimError('ERR_BAD_ARGUMENT', `highWaterMarkBytes must be an integer >= 1, got ${hwm}`);
    }
    this.highWaterMarkBytes = hwm;
    this.connectTimeoutUs = checkDelayUs(
      options.connectTimeoutUs ?? DEFAULT_CONNECT_TIMEOUT_US,
      'connectTimeoutUs',
    );
    if (this.connectTimeoutUs === 0) throw new SimError('ERR_BAD_ARGUMENT', 'connectTimeoutUs must be > 0');
    this.closeTimeoutUs = checkDelayUs(options.closeTimeoutUs ?? DEFAULT_CLOSE_TIMEOUT_US, 'closeTimeoutUs');
    this.onCallbackError = options.onCallbackError;
    this.rng = new Rng(this.seed);
    this.traceLog = new Trace(() => this.nowUs(), { hash: false, ...options.trace });
  }

  /** The first error a callback threw, if any (close() rejects with it). */
  get failure(): unknown {
    return this.failureValue?.error;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  nowUs(): number {
    // Relative to the env's creation, so traces start near 0 like simulated ones.
    return Math.floor((performance.now() - this.originMs) * 1000);
  }

  setTimer(delayUs: number, fn: () => void, label?: string): TimerHandle {
    const d = checkDelayUs(delayUs, 'timer delay');
    const timer = new NodeTimer(this, this.nowUs() + d, fn, label);
    if (this.closed) {
      // The host is down: nothing runs on it any more, but callers (often onClose handlers reacting
      // to EHOSTDOWN) should not crash for trying.
      timer.active = false;
      return timer;
    }
    this.timers.add(timer);
    if (d === 0) timer.hostImmediate = setImmediate(this.fireTimer, timer);
    else this.armTimer(timer);
    return timer;
  }

  clearTimer(timer: TimerHandle): void {
    if (!(timer instanceof NodeTimer) || timer.owner !== this) {
      throw new SimError(
        'ERR_FOREIGN_TIMER',
        'clearTimer was given a handle that is not a timer of this env',
      );
    }
    this.disarm(timer);
  }

  sleep(delayUs: number): Promise<void> {
    const d = new NodeDeferred<void>();
    this.setTimer(delayUs, () => d.resolve(), 'sleep');
    return d.promise;
  }

  defer<T>(): Deferred<T> {
    return new NodeDeferred<T>();
  }

  random(name: string): RandomSource {
    return this.rng.fork(name);
  }

  /** The real runtime is one world per process: shared values live in a process-wide map. */
  shared<T>(key: string, create: () => T): T {
    if (!processShared.has(key)) processShared.set(key, create());
    return processShared.get(key) as T;
  }

  trace(event: TraceInput): void {
    this.emit(event);
  }

  /**
   * Env.allocUninitialized: Buffer.allocUnsafeSlow (its own memory, not a slice of Node's shared
   * pool, so the array can be kept for long), seen as a plain Uint8Array: a Buffer's slice() would
   * share memory where Uint8Array's copies.
   */
  allocUninitialized(bytes: number): Uint8Array {
    const b = Buffer.allocUnsafeSlow(bytes);
    return new Uint8Array(b.buffer, b.byteOffset, bytes);
  }

  get tracing(): boolean {
    return this.traceLog.enabled;
  }

  connect(address: string, callback: ConnectCallback, options?: ConnectOptions): void {
    if (this.closed) {
      this.later(() => callback(this.hostDown('connect'), undefined));
      return;
    }
    const timeoutUs = options?.timeoutUs ?? this.connectTimeoutUs;
    if (!(typeof timeoutUs === 'number' && timeoutUs > 0 && Number.isFinite(timeoutUs))) {
      // As the simulator does: a bad timeout is a failed connect, reported through the callback.
      const netError = new NetError(
        'EINVAL',
        `connect timeoutUs must be a positive number, got ${timeoutUs}`,
      );
      this.later(() => callback(netError, undefined));
      return;
    }
    let addr: StreamAddress;
    try {
      addr = parseAddress(address);
    } catch (error) {
      const netError = toNetError(error, 'connect', `connect ${address}`);
      this.emit({ kind: 'connect-error', to: String(address), code: netError.code });
      this.later(() => callback(netError, undefined));
      return;
    }
    const to = formatAddress(addr);
    // The socket's own high-water mark equals ours, so a short write that queues bytes in Node leaves
    // it "full" and Node emits 'drain' once it empties (see NodeConn.write).
    const socketOptions: net.SocketConstructorOpts & { writableHighWaterMark: number } = {
      allowHalfOpen: true,
      writableHighWaterMark: this.highWaterMarkBytes,
    };
    const socket = new net.Socket(socketOptions);
    socket.once('close', this.retain());
    const pending: PendingConnect = {
      socket,
      finish: (error, conn) => {
        if (!this.pendingConnects.delete(pending)) return;
        this.disarm(timer);
        socket.off('connect', onConnect);
        if (error !== undefined) {
          socket.destroy();
          this.emit({ kind: 'connect-error', to, code: error.code });
        }
        this.guard(() => callback(error, conn));
      },
    };
    const onConnect = (): void => {
      const tcp = addr.transport === 'tcp';
      const local = tcp ? tcpAddress(socket.localAddress, socket.localPort) : UNNAMED_UNIX;
      const remote = tcp ? tcpAddress(socket.remoteAddress, socket.remotePort) : to;
      const conn = new NodeConn(this, socket, this.connId(), tcp, local, remote);
      this.emit({ kind: 'connect', conn: conn.id, from: local, to: remote });
      pending.finish(undefined, conn);
    };
    this.pendingConnects.add(pending);
    socket.on('connect', onConnect);
    // Stays attached for the socket's life: an 'error' with no listener would be an uncaught exception.
    socket.on('error', (error) => pending.finish(toNetError(error, 'connect', `connect ${to}`), undefined));
    const timer = this.internalTimer(timeoutUs, () =>
      pending.finish(
        new NetError('ETIMEDOUT', `connect ${to}: no connection after ${timeoutUs} us`),
        undefined,
      ),
    );
    try {
      if (addr.transport === 'tcp') socket.connect({ host: addr.host, port: addr.port, noDelay: true });
      else socket.connect({ path: addr.path });
    } catch (error) {
      // Node validates some arguments synchronously; the seam reports every failure through the callback.
      const netError = toNetError(error, 'connect', `connect ${to}`);
      this.later(() => pending.finish(netError, undefined));
    }
  }

  listen(address: string, onConnection: (conn: StreamConn) => void, callback: ListenCallback): void {
    if (this.closed) {
      this.later(() => callback(this.hostDown('listen'), undefined));
      return;
    }
    let addr: StreamAddress;
    try {
      addr = parseAddress(address);
    } catch (error) {
      const netError = toNetError(error, 'listen', `listen ${address}`);
      this.later(() => callback(netError, undefined));
      return;
    }
    this.startListening(addr, onConnection, callback, true);
  }

  /**
   * The host goes down: closes every listener and connection this env created (open connections get
   * onClose with EHOSTDOWN and their TCP peers a reset, as on a simulated crash; pending connect and
   * listen callbacks get EHOSTDOWN), clears its timers, and resolves once every socket and server is
   * closed. Afterwards timers are inert and connect/listen fail with
   * EHOSTDOWN. Rejects with ERR_EVENT_THREW if a callback threw during the env's life.
   */
  close(): Promise<void> {
    this.closePromise ??= this.closeAll();
    return this.closePromise;
  }

  private async closeAll(): Promise<void> {
    this.closed = true;
    for (const timer of [...this.timers]) this.disarm(timer);
    for (const p of [...this.pendingConnects]) {
      // The callback must not run inside close(): stop the attempt now, report on a later turn.
      p.socket.destroy();
      this.later(() => p.finish(this.hostDown('connect'), undefined));
    }
    for (const listener of [...this.listeners]) listener.close();
    for (const conn of [...this.conns]) conn.hostDown();
    for (const probe of this.probes) probe.destroy();
    if (this.live > 0) await new Promise<void>((resolve) => (this.onIdle = resolve));
    this.traceLog.close();
    if (this.failureValue !== undefined) {
      throw new SimError('ERR_EVENT_THREW', `a callback threw: ${messageOf(this.failureValue.error)}`, {
        cause: this.failureValue.error,
      });
    }
  }

  /** @internal Runs a callback into user code; a throw is recorded, never let loose on the event loop. */
  guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.callbackThrew(error);
    }
  }

  /** @internal What guard() does with a throw (the read path catches inline, with no closure per read). */
  callbackThrew(error: unknown): void {
    this.failureValue ??= { error };
    this.emit({ kind: 'error', code: 'ERR_EVENT_THREW', message: messageOf(error) });
    this.onCallbackError?.(error);
  }

  /** @internal Emits a built-in trace event (nothing when tracing is off; hot paths check env.tracing first, so they do not even build the event). */
  emit(event: TraceInput): void {
    if (!this.traceLog.enabled) return;
    event.host ??= this.hostName;
    this.traceLog.emit(event);
  }

  /** @internal Counts a handle or queued callback that close() must wait for; returns its once-only release. */
  retain(): () => void {
    this.live++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.live === 0 && this.onIdle !== undefined) {
        const resolve = this.onIdle;
        this.onIdle = undefined;
        resolve();
      }
    };
  }

  /** @internal A fresh connection id. */
  connId(): number {
    return this.nextConnId++;
  }

  /** @internal The error for work attempted on (or cut off by) a closed env. */
  hostDown(what: string): NetError {
    return new NetError('EHOSTDOWN', `${what}: the env of host ${this.hostName} is closed`);
  }

  /** Runs fn on a later turn of the event loop (never synchronously), counted for close(). */
  private later(fn: () => void): void {
    const release = this.retain();
    setImmediate(() => {
      this.guard(fn);
      release();
    });
  }

  private readonly fireTimer = (timer: NodeTimer): void => {
    timer.hostTimer = undefined;
    timer.hostImmediate = undefined;
    if (!timer.active) return;
    // Node's timer clock is the loop's cached millisecond time, which may lag: re-arm until the
    // deadline really passed, so a timer never fires early (and long timers work past 2^31 ms).
    if (this.nowUs() < timer.deadlineUs) {
      this.armTimer(timer);
      return;
    }
    timer.active = false;
    this.timers.delete(timer);
    this.guard(timer.fn);
  };

  private armTimer(timer: NodeTimer): void {
    const remainingUs = Math.max(0, timer.deadlineUs - this.nowUs());
    const ms = Math.min(Math.max(1, Math.ceil(remainingUs / 1000)), MAX_TIMEOUT_MS);
    timer.hostTimer = setTimeout(this.fireTimer, ms, timer);
  }

  private disarm(timer: NodeTimer): void {
    if (!timer.active) return;
    timer.active = false;
    this.timers.delete(timer);
    if (timer.hostTimer !== undefined) clearTimeout(timer.hostTimer);
    if (timer.hostImmediate !== undefined) clearImmediate(timer.hostImmediate);
    timer.hostTimer = undefined;
    timer.hostImmediate = undefined;
  }

  private internalTimer(delayUs: number, fn: () => void): NodeTimer {
    return this.setTimer(delayUs, fn, 'internal') as NodeTimer;
  }

  private startListening(
    addr: StreamAddress,
    onConnection: (conn: StreamConn) => void,
    callback: ListenCallback,
    mayReclaim: boolean,
  ): void {
    if (this.closed) {
      this.later(() => callback(this.hostDown('listen'), undefined));
      return;
    }
    const what = `listen ${formatAddress(addr)}`;
    const server = net.createServer({
      allowHalfOpen: true,
      noDelay: true,
      // Accepted sockets get our high-water mark as theirs, for the 'drain' guarantee in write().
      highWaterMark: this.highWaterMarkBytes,
    });
    const release = this.retain();
    server.once('close', release);
    let listener: NodeListener | undefined;
    server.on('connection', (socket: net.Socket) => {
      if (listener !== undefined) {
        listener.accept(socket);
      } else {
        socket.on('error', () => undefined);
        socket.destroy();
      }
    });
    server.on('error', (error) => {
      if (listener !== undefined) {
        // After listening, errors are accept failures (EMFILE...): the listener keeps going.
        this.emit({ kind: 'error', code: errnoOf(error) ?? 'ERR_LISTEN', message: messageOf(error) });
        return;
      }
      // A failed listen emits no 'close'; the server holds nothing any more.
      release();
      if (this.closed) {
        this.guard(() => callback(this.hostDown('listen'), undefined));
      } else if (
        errnoOf(error) === 'EADDRINUSE' &&
        addr.transport === 'unix' &&
        mayReclaim &&
        !this.unixPaths.has(addr.path)
      ) {
        this.reclaimStalePath(
          addr.path,
          () => this.startListening(addr, onConnection, callback, false),
          (netError) => this.guard(() => callback(netError, undefined)),
        );
      } else {
        const netError = toNetError(error, 'listen', what);
        this.guard(() => callback(netError, undefined));
      }
    });
    server.once('listening', () => {
      let bound: string;
      if (addr.transport === 'tcp') {
        const info = server.address() as net.AddressInfo;
        bound = tcpAddress(info.address, info.port);
      } else {
        bound = formatAddress(addr);
      }
      listener = new NodeListener(
        this,
        server,
        bound,
        addr.transport === 'unix' ? addr.path : undefined,
        onConnection,
      );
      if (this.closed) {
        // close() ran while the listen was in flight (a DNS lookup, say): undo it.
        listener.close();
        this.guard(() => callback(this.hostDown('listen'), undefined));
        return;
      }
      this.listeners.add(listener);
      if (addr.transport === 'unix') this.unixPaths.add(addr.path);
      this.emit({ kind: 'listen', addr: bound });
      const l = listener;
      this.guard(() => callback(undefined, l));
    });
    try {
      if (addr.transport === 'tcp') server.listen({ host: addr.host, port: addr.port });
      else server.listen({ path: addr.path });
    } catch (error) {
      release();
      const netError = toNetError(error, 'listen', what);
      this.later(() => callback(netError, undefined));
    }
  }

  /**
   * A unix path is taken. If the socket file is stale (its listener died without unlinking it), a
   * connect probe is refused: then unlink it and let the caller retry. A live listener, or a file
   * that is not a socket, is EADDRINUSE. Caveat: a live listener in another process sees the probe
   * as a connection that closes at once.
   */
  private reclaimStalePath(path: string, retry: () => void, fail: (error: NetError) => void): void {
    const inUse = (detail: string): NetError =>
      new NetError('EADDRINUSE', `listen unix://${path}: ${detail}`);
    const release = this.retain();
    let finished = false;
    const done = (fn: () => void): void => {
      if (finished) return;
      finished = true;
      fn();
      release();
    };
    const probe = net.connect({ path });
    let answered = false;
    this.probes.add(probe);
    probe.once('close', () => {
      this.probes.delete(probe);
      // Destroyed by close() before it got an answer.
      if (!answered) done(() => fail(this.hostDown('listen')));
    });
    probe.once('connect', () => {
      if (answered) return;
      answered = true;
      probe.destroy();
      done(() => fail(inUse('a live listener holds the path')));
    });
    probe.on('error', (error) => {
      if (answered) return;
      answered = true;
      probe.destroy();
      const errno = errnoOf(error);
      if (this.closed) done(() => fail(this.hostDown('listen')));
      else if (errno === 'ENOENT') done(retry);
      else if (errno !== 'ECONNREFUSED') done(() => fail(inUse(`probe failed with ${errno ?? 'error'}`)));
      else {
        lstat(path, (statError, stats) => {
          if (statError !== null) {
            done(statError.code === 'ENOENT' ? retry : () => fail(inUse(statError.message)));
          } else if (!stats.isSocket()) {
            done(() => fail(inUse('the path exists and is not a socket')));
          } else {
            unlink(path, (unlinkError) => {
              done(
                unlinkError === null || unlinkError.code === 'ENOENT'
                  ? retry
                  : () => fail(inUse(`stale socket file could not be removed: ${unlinkError.message}`)),
              );
            });
          }
        });
      }
    });
  }
}

class NodeListener implements StreamListener {
  private closed = false;

  constructor(
    private readonly env: NodeEnv,
    private readonly server: net.Server,
    readonly address: string,
    private readonly unixPath: string | undefined,
    private readonly onConnection: (conn: StreamConn) => void,
  ) {}

  /** Stops accepting; established connections stay. libuv unlinks the unix socket file it bound. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.env.listeners.delete(this);
    if (this.unixPath !== undefined) this.env.unixPaths.delete(this.unixPath);
    this.server.close();
    this.env.emit({ kind: 'note', text: `listener ${this.address} closed` });
  }

  accept(socket: net.Socket): void {
    socket.once('close', this.env.retain());
    if (this.closed || this.env.isClosed) {
      socket.on('error', () => undefined);
      socket.destroy();
      return;
    }
    const tcp = this.unixPath === undefined;
    const local = tcp ? tcpAddress(socket.localAddress, socket.localPort) : this.address;
    const remote = tcp ? tcpAddress(socket.remoteAddress, socket.remotePort) : UNNAMED_UNIX;
    const conn = new NodeConn(this.env, socket, this.env.connId(), tcp, local, remote);
    this.env.emit({ kind: 'accept', conn: conn.id, from: remote, to: local });
    this.env.guard(() => this.onConnection(conn));
  }
}

/**
 * One end of a real stream. Reading is on only while a handler wants data (onData set, not paused):
 * until then bytes stay buffered (in Node, then in the kernel, which closes the TCP window), so
 * nothing is lost between connect and setHandlers.
 */
class NodeConn implements StreamConn {
  private stateValue: ConnState = 'open';
  private handlers: ConnHandlers = {};
  private readingPaused = false;
  /** shutdown(), close() or reset() was called: write() throws EPIPE. */
  private writeShut = false;
  /** close() or reset() was called: nothing more is delivered to the handlers except onClose. */
  private closing = false;
  /** A short write happened and onWritable is owed. */
  private wantWritable = false;
  /** True while writes of the current tick are corked (coalesced into one writev at its end). */
  private corked = false;
  /** False once the owner said it coalesces its own writes (setCoalescing): no cork then. */
  private coalescing = true;
  /** Counts short writes, so a stale next-tick notice does not fire for a newer one. */
  private writableEpoch = 0;
  /** Bounds how long close() waits for the peer's FIN. */
  private closeTimer: TimerHandle | undefined;
  private error: NetError | undefined;

  constructor(
    private readonly env: NodeEnv,
    private readonly socket: net.Socket,
    readonly id: number,
    private readonly tcp: boolean,
    readonly localAddress: string,
    readonly remoteAddress: string,
  ) {
    env.conns.add(this);
    socket.on('data', (chunk: Buffer) => this.onSocketData(chunk));
    socket.on('end', () => this.onSocketEnd());
    socket.on('error', (error) => {
      this.error ??= toNetError(error, 'io', `connection ${this.id}`);
    });
    socket.on('drain', this.onDrained);
    // With allowHalfOpen, Node destroys the socket (and emits 'close') once our FIN is out and the
    // peer's has been read: that is the clean close of shutdown() + onEnd, or of close().
    socket.on('close', (hadError: boolean) => this.onSocketClose(hadError));
    // Attaching 'data' switched the socket to flowing; stay paused until someone wants the bytes.
    this.updateFlow();
  }

  get state(): ConnState {
    return this.stateValue;
  }

  setHandlers(handlers: ConnHandlers): void {
    this.handlers = handlers;
    this.updateFlow();
  }

  write(bytes: Uint8Array): number {
    return this.writeBytes(bytes, false);
  }

  /** See StreamConn.setCoalescing: off, each write goes to the socket at once, uncorked. */
  setCoalescing(on: boolean): void {
    this.coalescing = on;
  }

  /**
   * Zero copy (see StreamConn.writeOwned): the array is wrapped, not copied, and taken whole
   * whenever the send buffer is below its high-water mark, so one large message costs one write and
   * one 'drain' instead of one per high-water mark's worth (and no copy). Bound: at most
   * highWaterMarkBytes - 1 + bytes.length bytes queued in Node for this connection.
   */
  writeOwned(bytes: Uint8Array): number {
    return this.writeBytes(bytes, true);
  }

  private writeBytes(bytes: Uint8Array, owned: boolean): number {
    // A destroyed socket whose 'close' is still queued (reset, peer reset) is closed for the seam.
    if (this.stateValue === 'closed' || this.socket.destroyed) {
      throw new NetError('ENOTCONN', `write on connection ${this.id}, which is closed`);
    }
    if (this.writeShut) {
      throw new NetError('EPIPE', `write on connection ${this.id} after shutdown() or close()`);
    }
    if (bytes.length === 0) return 0;
    const spaceBytes = Math.max(0, this.env.highWaterMarkBytes - this.socket.writableLength);
    const accepted = owned && spaceBytes > 0 ? bytes.length : Math.min(bytes.length, spaceBytes);
    if (accepted > 0) {
      // Writes of one tick go out as one writev: a protocol writes each frame's header and body
      // separately, and small messages would otherwise cost a syscall each.
      if (this.coalescing && !this.corked) {
        this.corked = true;
        this.socket.cork();
        process.nextTick(() => {
          this.corked = false;
          this.socket.uncork();
        });
      }
      this.socket.write(
        owned && bytes.byteLength > ON_HEAP_TYPED_ARRAY_MAX_BYTES
          ? // A view of the caller's memory: it promised never to change it.
            Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
          : // Buffer.from(Uint8Array) copies (into Node's pool for small arrays): the caller may
            // reuse its array as soon as we return. Tiny owned arrays are copied too: V8 keeps them
            // on its heap, and taking their .buffer costs more than the copy.
            Buffer.from(accepted === bytes.length ? bytes : bytes.subarray(0, accepted)),
      );
    }
    if (accepted < bytes.length) {
      this.wantWritable = true;
      this.writableEpoch++;
      if (this.socket.writableNeedDrain) {
        // The bytes are queued in Node (the kernel is full): 'drain' comes when the queue empties.
      } else if (this.socket.writableLength === 0) {
        // The kernel took everything synchronously. Node then computes write()'s result after the
        // queue already emptied, sets no needDrain and never emits 'drain' (Node 20), so the room we
        // have now is announced on the next tick; a newer short write supersedes this notice.
        const epoch = this.writableEpoch;
        process.nextTick(() => {
          if (epoch === this.writableEpoch) this.onDrained();
        });
      } else {
        // Queued but below Node's own mark (cannot happen while it equals ours): the callback of an
        // empty write runs once everything queued before it is flushed.
        this.socket.write(EMPTY, this.onDrained);
      }
    }
    // Checked here: the event object would be built for every write even with tracing off.
    if (this.env.tracing) this.env.emit({ kind: 'write', conn: this.id, offered: bytes.length, accepted });
    return accepted;
  }

  pauseReading(): void {
    this.readingPaused = true;
    this.updateFlow();
  }

  resumeReading(): void {
    this.readingPaused = false;
    this.updateFlow();
  }

  shutdown(): void {
    if (this.writeShut || this.stateValue === 'closed') return;
    this.writeShut = true;
    this.wantWritable = false;
    this.socket.end();
  }

  /**
   * As in the simulator: the FIN follows the queued bytes, reading stops (bytes still arriving are
   * read and dropped), and onClose(undefined) comes once the peer's FIN is through too. A peer that
   * never closes its side gets the connection reset after closeTimeoutUs (both sides: ECONNRESET).
   * Unlike close(2), the socket lingers until then, so a peer still writing is not reset.
   */
  close(): void {
    if (this.closing || this.stateValue === 'closed') return;
    this.closing = true;
    this.writeShut = true;
    this.wantWritable = false;
    this.env.emit({ kind: 'close', conn: this.id, side: 'local' });
    this.socket.end();
    this.updateFlow();
    this.closeTimer = this.env.setTimer(
      this.env.closeTimeoutUs,
      () => {
        this.error ??= new NetError('ECONNRESET', `connection ${this.id}: the peer never closed its side`);
        this.abort();
      },
      'close-timeout',
    );
  }

  /**
   * TCP: RST via resetAndDestroy (SO_LINGER 0); the peer gets ECONNRESET. Unix sockets have no
   * reset: the socket is destroyed and the peer gets ECONNRESET only if unread bytes were left in
   * our receive queue (Linux), otherwise end-of-stream, then ECONNRESET (mapped from EPIPE) on its
   * next write. The resetting side gets a clean onClose.
   */
  reset(): void {
    if (this.stateValue === 'closed' || this.socket.destroyed) return;
    this.closing = true;
    this.writeShut = true;
    this.wantWritable = false;
    this.env.emit({ kind: 'reset', conn: this.id, reason: 'reset()', lostBytes: this.socket.writableLength });
    this.abort();
  }

  /** @internal env.close(): the host goes down; as on a crash, the peer sees a reset. */
  hostDown(): void {
    if (this.stateValue === 'closed') return;
    this.error ??= this.env.hostDown(`connection ${this.id}`);
    this.closing = true;
    this.writeShut = true;
    this.wantWritable = false;
    this.abort();
  }

  /** Releases the socket at once, with an RST where TCP allows it. */
  private abort(): void {
    const socket = this.socket;
    if (socket.destroyed) return;
    // While a shutdown is in flight (FIN requested, 'finish' not yet emitted) libuv refuses to
    // reset (EINVAL), and Node then emits 'error' but never 'close'. A plain destroy is all that is
    // possible then: the peer sees end-of-stream (or ECONNRESET if we leave unread bytes).
    const shutting = socket.writableEnded && !socket.writableFinished;
    if (this.tcp && !shutting) {
      try {
        socket.resetAndDestroy();
      } catch {
        // resetAndDestroy refuses some handle states; a plain destroy still releases the socket.
      }
    }
    if (!socket.destroyed) socket.destroy();
  }

  private updateFlow(): void {
    if (this.stateValue === 'closed') return;
    // After close() we keep reading (and discard), so the peer's FIN can arrive.
    const want = this.closing || (!this.readingPaused && this.handlers.onData !== undefined);
    if (want) this.socket.resume();
    else this.socket.pause();
  }

  private onSocketData(chunk: Buffer): void {
    if (this.stateValue === 'closed' || this.closing) return;
    const handlers = this.handlers;
    if (this.readingPaused || handlers.onData === undefined) {
      // Node can hand over a chunk it had in flight when we paused: put it back, in order.
      this.socket.pause();
      this.socket.unshift(chunk);
      return;
    }
    if (this.env.tracing) this.env.emit({ kind: 'read', conn: this.id, bytes: chunk.byteLength });
    // guard() inlined: a closure per read is measurable on the ping-pong benchmark.
    try {
      handlers.onData(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    } catch (error) {
      this.env.callbackThrew(error);
    }
  }

  private onSocketEnd(): void {
    if (this.stateValue === 'closed' || this.closing) return;
    this.env.emit({ kind: 'close', conn: this.id, side: 'half' });
    const handlers = this.handlers;
    this.env.guard(() => handlers.onEnd?.());
  }

  private readonly onDrained = (): void => {
    if (!this.wantWritable || this.writeShut || this.stateValue === 'closed') return;
    this.wantWritable = false;
    const handlers = this.handlers;
    this.env.guard(() => handlers.onWritable?.());
  };

  private onSocketClose(hadError: boolean): void {
    if (this.stateValue === 'closed') return;
    this.stateValue = 'closed';
    this.wantWritable = false;
    this.env.conns.delete(this);
    if (this.closeTimer !== undefined) this.env.clearTimer(this.closeTimer);
    const error =
      this.error ?? (hadError ? new NetError('ECONNRESET', `connection ${this.id} failed`) : undefined);
    if (error !== undefined && error.code !== 'EHOSTDOWN') {
      this.env.emit({
        kind: 'reset',
        conn: this.id,
        reason: error.message,
        lostBytes: this.socket.writableLength,
      });
    }
    const handlers = this.handlers;
    this.env.guard(() => handlers.onClose?.(error));
  }
}
