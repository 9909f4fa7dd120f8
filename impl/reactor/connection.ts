/**
 * One reactor connection, accepted or dialed alike: netpoll's `connection`, with the three defects
 * its users hit fixed (streams.md D.3).
 *
 * - Input: the runtime's chunks are adopted without copy into an InputBuffer (./link-buffer.ts).
 *   Reading stops when the input held reaches inputHighWaterBytes and resumes at
 *   inputLowWaterBytes, so a handler slower than its peer blocks the peer's sender, as TCP does,
 *   instead of growing the process (netpoll #98, #314). maxInputBytes is a hard bound.
 * - onRequest runs on the connection's loop, one invocation at a time, never before onConnect has
 *   ended, and again whenever unread input remains after it returns (level-triggered, as netpoll).
 *   A handler that returns maxUnconsumedRuns times in a row without consuming input or closing is
 *   a spin: the connection closes with ErrHandlerSpin instead of burning the loop. A handler that
 *   needs more bytes than are buffered awaits `waitRead(n)` (bounded by readTimeoutUs) instead of
 *   returning.
 * - Output: `flush()` commits what the handler wrote and writes it inline. Only when the socket
 *   took less than offered does the connection register write interest (counted: a peer that
 *   reads keeps the count near zero); the loop writes the rest when the socket drains, in order,
 *   exactly once. flush() resolves while at most outputHighWaterBytes stay unsent, else waits
 *   (a peer that never reads cannot grow the process) and fails at writeTimeoutUs with
 *   ErrWriteTimeout, the unsent bytes still queued in order. Two flushes at once: ErrConcurrentFlush.
 * - idleTimeoutUs closes a connection that moved no byte either way for that long (netpoll's
 *   "idle timeout" only set TCP keepalive: #58, #61, #174).
 * - Close: by the application or by the peer, the first closer wins and its reason is kept;
 *   onDisconnect and the close callbacks (LIFO) run exactly once, after the handler has returned;
 *   pages go back to the pool.
 *
 * Views returned by the reader stay valid until `reader.release()` or until the onRequest
 * invocation that got them returns (the connection releases what was read then); keep bytes
 * longer with `reader.slice(n)` (released by its own release()) or `readBytes(n)` (a copy).
 */
import { NetError, type Deferred, type Env, type StreamConn, type TimerHandle } from '../runtime/env.js';
import { ReactorError, type ReactorErrorCode } from './errors.js';
import { InputBuffer, OutputBuffer } from './link-buffer.js';
import type { EventLoop, LoopGroup } from './loop.js';

/** Why a connection closed: the first closer's reason. Stable names (serve --json counts them). */
export type CloseReason =
  /** The application called close(). */
  | 'user'
  /** The peer ended its side and everything it sent was handled, or it closed the connection. */
  | 'peer-closed'
  /** The connection was reset or lost (ECONNRESET, EHOSTDOWN...): the NetError is the cause. */
  | 'reset'
  /** No byte moved either way for idleTimeoutUs. */
  | 'idle-timeout'
  /** onRequest returned maxUnconsumedRuns times without consuming input or closing. */
  | 'handler-spin'
  /** onConnect or onRequest threw or rejected. */
  | 'handler-error'
  /** Input would have exceeded maxInputBytes. */
  | 'input-overflow'
  /** The server shut down (after its drain time for a busy connection). */
  | 'server-shutdown';

export const CLOSE_REASONS: readonly CloseReason[] = [
  'user',
  'peer-closed',
  'reset',
  'idle-timeout',
  'handler-spin',
  'handler-error',
  'input-overflow',
  'server-shutdown',
];

/** The callbacks of a server or dialer (netpoll's OnPrepare, OnConnect, OnRequest, OnDisconnect). */
export interface ReactorHandlers<C = unknown> {
  /** Runs synchronously when the connection is made; its result is the `ctx` the others get. */
  onPrepare?: (conn: Connection<C>) => C;
  /** Runs once, before any onRequest; onRequest waits until it has returned (or its promise settled). */
  onConnect?: (ctx: C, conn: Connection<C>) => void | Promise<void>;
  /**
   * Runs whenever unread input is buffered and the previous invocation has returned. Absent: input
   * waits for the application's own reads (`waitRead`), as a client usually does.
   */
  onRequest?: (ctx: C, conn: Connection<C>) => void | Promise<void>;
  /** Runs once when the connection has closed (after onConnect, after the last onRequest returned). */
  onDisconnect?: (ctx: C, conn: Connection<C>) => void;
}

/** What a connection has done (counters only ever grow, except the *Now fields). */
export interface ConnectionStats {
  bytesIn: number;
  bytesOut: number;
  /** onRequest invocations. */
  handlerRuns: number;
  /** Times reading was paused because the input held reached inputHighWaterBytes. */
  readPauses: number;
  /** The most input bytes held at once. */
  maxInputHeldBytes: number;
  /** The most committed output bytes unsent at once. */
  maxUnsentBytes: number;
  /** Times a flush left bytes the socket did not take, so the loop had to watch for writability. */
  writeInterestRegistrations: number;
  readTimeouts: number;
  writeTimeouts: number;
  /** Output bytes dropped unsent because the connection closed (reset, idle, a failed drain). */
  droppedOutputBytes: number;
  /** Input bytes never handled: refused (overflow), or unread when the connection closed. */
  droppedInputBytes: number;
}

function newStats(): ConnectionStats {
  return {
    bytesIn: 0,
    bytesOut: 0,
    handlerRuns: 0,
    readPauses: 0,
    maxInputHeldBytes: 0,
    maxUnsentBytes: 0,
    writeInterestRegistrations: 0,
    readTimeouts: 0,
    writeTimeouts: 0,
    droppedOutputBytes: 0,
    droppedInputBytes: 0,
  };
}

const RESOLVED: Promise<void> = Promise.resolve();

/** Reasons whose close still delivers the output already committed (bounded by writeTimeoutUs). */
const GRACEFUL: ReadonlySet<CloseReason> = new Set(['user', 'peer-closed', 'server-shutdown']);

/** The writing half handlers see: netpoll's Writer. */
export interface ConnWriter {
  /** A writable view of n bytes, sent at the next flush. */
  malloc(n: number): Uint8Array;
  writeBytes(bytes: Uint8Array): void;
  writeString(text: string): void;
  /** Appends the caller's array without a copy; the caller must not change it afterwards. */
  writeOwned(bytes: Uint8Array): void;
  /** Written and not yet flushed. */
  readonly bufferedBytes: number;
}

interface ReadWaiter {
  ready: () => boolean;
  what: string;
  d: Deferred<void>;
  timer: TimerHandle | undefined;
}

export class Connection<C = unknown> {
  /** The runtime's connection id (unique within the runtime), for traces. */
  readonly id: number;
  readonly localAddress: string;
  readonly remoteAddress: string;
  /** Which side made the connection. */
  readonly role: 'accepted' | 'dialed';
  /** The reader (netpoll's Reader): synchronous reads of what is buffered, plus release(). */
  readonly reader: InputBuffer;
  readonly stats: ConnectionStats = newStats();
  /** onPrepare's result. */
  ctx: C;
  private readonly output: OutputBuffer;
  private stateValue: 'active' | 'closing' | 'closed' = 'active';
  private reason: CloseReason | undefined;
  private reasonError: Error | undefined;
  private streamAlive = true;
  private connecting = true;
  private processing = false;
  private outputQueued = false;
  private readPaused = false;
  private writeInterest = false;
  private shutdownPending = false;
  private writeShut = false;
  private unconsumedStreak = 0;
  private appendedBytes = 0;
  private lastActivityUs: number;
  /** True while onData runs: lastActivityUs is already now. */
  private inOnData = false;
  private idleTimer: TimerHandle | undefined;
  private drainTimer: TimerHandle | undefined;
  private drainGaveUp = false;
  private readWaiter: ReadWaiter | undefined;
  private flushWaiter: { d: Deferred<void>; timer: TimerHandle | undefined } | undefined;
  private quietWaiters: Deferred<void>[] = [];
  private readonly closeCallbacks: ((conn: Connection<C>) => void)[] = [];
  private readonly closedDeferred: Deferred<CloseReason>;
  private tracedInBytes = -1;
  private tracedOutBytes = -1;
  private readTimeoutUs: number;
  private writeTimeoutUs: number;
  private idleTimeoutUs: number;

  /** @internal Made by a server or a dialer (./server.ts, ./dial.ts). */
  constructor(
    private readonly env: Env,
    readonly group: LoopGroup,
    readonly loop: EventLoop,
    private readonly stream: StreamConn,
    private readonly handlers: ReactorHandlers<C>,
    role: 'accepted' | 'dialed',
    private readonly onClosed: (conn: Connection<C>) => void,
  ) {
    const o = group.options;
    this.id = stream.id;
    this.localAddress = stream.localAddress;
    this.remoteAddress = stream.remoteAddress;
    this.role = role;
    this.readTimeoutUs = o.readTimeoutUs;
    this.writeTimeoutUs = o.writeTimeoutUs;
    this.idleTimeoutUs = o.idleTimeoutUs;
    this.reader = new InputBuffer(group.pages, { maxBytes: o.maxInputBytes });
    this.output = new OutputBuffer(group.pages);
    this.closedDeferred = env.defer<CloseReason>();
    this.lastActivityUs = env.nowUs();
    this.ctx = undefined as C;
    // A flush hands each batch over in one write: the runtime's per-tick coalescing would only delay it.
    stream.setCoalescing?.(false);
    stream.setHandlers({
      onData: (bytes) => this.onData(bytes),
      onWritable: () => this.scheduleOutput(),
      onEnd: () => this.onPeerEnd(),
      onClose: (error) => this.onStreamClose(error),
    });
    this.armIdle();
    this.trace('open', `loop ${loop.index}`);
    this.ctx = handlers.onPrepare ? handlers.onPrepare(this) : (undefined as C);
    this.startConnect();
  }

  get state(): 'active' | 'closing' | 'closed' {
    return this.stateValue;
  }

  /** The first closer's reason, once closing. */
  get closeReason(): CloseReason | undefined {
    return this.reason;
  }

  /** The error behind the close (a ReactorError, or the runtime's NetError), if any. */
  get closeError(): Error | undefined {
    return this.reasonError;
  }

  /** Settles with the close reason once the connection has closed and its callbacks have run. */
  get closed(): Promise<CloseReason> {
    return this.closedDeferred.promise;
  }

  /** The writing half: write, then flush(). */
  get writer(): ConnWriter {
    return this.output;
  }

  /** Committed output the socket has not taken yet. */
  get unsentBytes(): number {
    return this.output.unsentBytes;
  }

  /** True while the loop watches for writability (bytes remain after a write). */
  get writeInterestHeld(): boolean {
    return this.writeInterest;
  }

  /** True while reading is paused by input backpressure. */
  get readingPaused(): boolean {
    return this.readPaused;
  }

  /** Charges the connection's loop `us` of virtual CPU time (netlab's cost model; see ./loop.ts). */
  charge(us: number): void {
    this.loop.charge(us);
  }

  setReadTimeout(us: number): void {
    this.readTimeoutUs = checkDuration('readTimeoutUs', us);
  }

  setWriteTimeout(us: number): void {
    this.writeTimeoutUs = checkDuration('writeTimeoutUs', us);
  }

  /** Changes the idle timeout from now on (0: none). */
  setIdleTimeout(us: number): void {
    this.idleTimeoutUs = checkDuration('idleTimeoutUs', us);
    if (this.idleTimer !== undefined) this.env.clearTimer(this.idleTimer);
    this.idleTimer = undefined;
    this.armIdle();
  }

  /** Adds a callback run once when the connection has closed, after onDisconnect; the last added runs first. */
  addCloseCallback(fn: (conn: Connection<C>) => void): void {
    if (this.stateValue === 'closed')
      throw new ReactorError('ErrConnClosed', `connection ${this.id} is already closed`);
    this.closeCallbacks.push(fn);
  }

  // ---------------------------------------------------------------- reads

  /**
   * Resolves once at least n unread bytes are buffered. Rejects with ErrEOF when the peer ended
   * first, ErrReadTimeout after readTimeoutUs (0: never), ErrConnClosed when the connection closes,
   * ErrConcurrentRead when another blocking read waits. n above inputHighWaterBytes is ErrBadOption:
   * reading would pause before it could be satisfied.
   */
  waitRead(n: number): Promise<void> {
    const high = this.group.options.inputHighWaterBytes;
    if (!Number.isSafeInteger(n) || n < 0 || n > high)
      return this.rejected(
        new ReactorError(
          'ErrBadOption',
          `waitRead(${String(n)}): the count must be an integer in [0, ${high}] (inputHighWaterBytes)`,
        ),
      );
    return this.waitFor(() => this.reader.length >= n, `${n} bytes`);
  }

  /**
   * Resolves once the byte `delimiter` is buffered (then `reader.until(delimiter)` returns it).
   * Same errors as waitRead; gives up with ErrNotEnough if inputHighWaterBytes are unread without it.
   */
  waitUntil(delimiter: number): Promise<void> {
    const high = this.group.options.inputHighWaterBytes;
    return this.waitFor(() => {
      if (this.reader.indexOf(delimiter) >= 0) return true;
      if (this.reader.length >= high)
        throw new ReactorError(
          'ErrNotEnough',
          `no byte ${delimiter} within ${this.reader.length} unread bytes (inputHighWaterBytes ${high})`,
        );
      return false;
    }, `byte ${delimiter}`);
  }

  private waitFor(ready: () => boolean, what: string): Promise<void> {
    if (this.stateValue !== 'active') return this.rejected(this.closedError('read'));
    if (this.readWaiter !== undefined)
      return this.rejected(
        new ReactorError('ErrConcurrentRead', `connection ${this.id}: a blocking read already waits`),
      );
    try {
      if (ready()) return this.resolved();
    } catch (error) {
      return this.rejected(error as Error);
    }
    if (this.reader.ended) return this.rejected(this.eofError(what));
    const d = this.env.defer<void>();
    const timer =
      this.readTimeoutUs > 0
        ? this.env.setTimer(this.readTimeoutUs, () => this.onReadTimeout(), 'reactor read-timeout')
        : undefined;
    this.readWaiter = { ready, what, d, timer };
    // A waiting read needs bytes: let them in even above the high-water mark (maxInputBytes holds).
    this.updateReading();
    return d.promise;
  }

  private onReadTimeout(): void {
    // A waiter is there: whatever ends one clears its timer (clearReadWaiter).
    const w = this.readWaiter!;
    this.readWaiter = undefined;
    this.stats.readTimeouts++;
    w.d.reject(
      new ReactorError(
        'ErrReadTimeout',
        `connection ${this.id}: waited ${this.readTimeoutUs} us for ${w.what}, ${this.reader.length} unread`,
      ),
    );
    this.updateReading();
  }

  private settleReadWaiter(): void {
    const w = this.readWaiter;
    if (w === undefined) return;
    let ready: boolean;
    try {
      ready = w.ready();
    } catch (error) {
      this.clearReadWaiter(w);
      w.d.reject(error);
      return;
    }
    if (ready) {
      this.clearReadWaiter(w);
      w.d.resolve(undefined);
    } else if (this.reader.ended) {
      this.clearReadWaiter(w);
      w.d.reject(this.eofError(w.what));
    }
  }

  private clearReadWaiter(w: ReadWaiter): void {
    if (w.timer !== undefined) this.env.clearTimer(w.timer);
    this.readWaiter = undefined;
  }

  private eofError(what: string): ReactorError {
    return new ReactorError(
      'ErrEOF',
      `connection ${this.id}: the peer ended its side before ${what} arrived (${this.reader.length} unread)`,
    );
  }

  // ---------------------------------------------------------------- writes

  /**
   * Commits what was written and writes it now as far as the socket takes it. Resolves while at
   * most outputHighWaterBytes stay unsent; else once the peer has read enough. Rejects with
   * ErrWriteTimeout after writeTimeoutUs (the bytes stay queued, in order), ErrConcurrentFlush if a
   * flush already waits, ErrConnClosed once closing or after shutdownWrite().
   */
  flush(): Promise<void> {
    // shutdownPending stays set once writeShut is: it covers both.
    if (this.stateValue !== 'active' || this.shutdownPending || !this.streamAlive)
      return this.rejected(this.closedError('flush'));
    if (this.flushWaiter !== undefined)
      return this.rejected(
        new ReactorError('ErrConcurrentFlush', `connection ${this.id}: a flush is already waiting`),
      );
    this.output.commit();
    this.noteUnsent();
    this.traceLevels();
    this.scheduleOutput();
    if (this.output.unsentBytes <= this.group.options.outputHighWaterBytes) return this.resolved();
    const d = this.env.defer<void>();
    const timer =
      this.writeTimeoutUs > 0
        ? this.env.setTimer(this.writeTimeoutUs, () => this.onWriteTimeout(), 'reactor write-timeout')
        : undefined;
    this.flushWaiter = { d, timer };
    return d.promise;
  }

  private onWriteTimeout(): void {
    // A waiter is there: whatever ends one clears its timer (pumpOutput, failFlushWaiter).
    const w = this.flushWaiter!;
    this.flushWaiter = undefined;
    this.stats.writeTimeouts++;
    w.d.reject(
      new ReactorError(
        'ErrWriteTimeout',
        `connection ${this.id}: ${this.output.unsentBytes} bytes still unsent after ${this.writeTimeoutUs} us ` +
          `(above outputHighWaterBytes ${this.group.options.outputHighWaterBytes}); they stay queued in order`,
      ),
    );
  }

  /**
   * Half-close: commits what was written, and once all of it is sent ends this side (the peer reads
   * to its end). Reading goes on until the peer ends too.
   */
  shutdownWrite(): void {
    if (this.stateValue !== 'active' || this.shutdownPending) return;
    this.output.commit();
    this.shutdownPending = true;
    this.scheduleOutput();
  }

  private scheduleOutput(): void {
    if (this.outputQueued || !this.streamAlive) return;
    this.outputQueued = true;
    this.loop.run(this.pumpOutputTask);
  }

  private pumpOutput(): void {
    this.outputQueued = false;
    // Output dropped by a close (counted in droppedOutputBytes) is not sent after all.
    if (!this.streamAlive || this.drainGaveUp) return;
    for (;;) {
      const view = this.output.peekSend();
      if (view === undefined) break;
      let acceptedBytes: number;
      try {
        acceptedBytes = this.stream.write(view);
      } catch (error) {
        if (!(error instanceof NetError)) throw error;
        // The stream is gone; its onClose follows (or came) and ends the connection.
        this.streamAlive = false;
        this.beginClose('reset', error);
        return;
      }
      if (acceptedBytes > 0) {
        this.output.ack(acceptedBytes);
        this.stats.bytesOut += acceptedBytes;
        // A write made while onData runs (a synchronous handler's flush) is the same instant.
        if (!this.inOnData) this.touch();
      }
      if (acceptedBytes < view.length) {
        if (!this.writeInterest) {
          this.writeInterest = true;
          this.stats.writeInterestRegistrations++;
          this.group.writeInterestRegistrations++;
          this.trace('write-interest', `${this.output.unsentBytes} bytes unsent`);
          this.traceDepth('interest', 1);
        }
        break;
      }
    }
    if (this.output.unsentBytes === 0) {
      if (this.writeInterest) this.traceDepth('interest', 0);
      this.writeInterest = false;
      if (this.shutdownPending && !this.writeShut) {
        this.writeShut = true;
        this.stream.shutdown();
      }
    }
    this.traceLevels();
    const w = this.flushWaiter;
    if (w !== undefined && this.output.unsentBytes <= this.group.options.outputHighWaterBytes) {
      this.flushWaiter = undefined;
      if (w.timer !== undefined) this.env.clearTimer(w.timer);
      w.d.resolve(undefined);
    }
    if (this.stateValue === 'closing') this.maybeFinish();
    else this.notifyQuiet();
  }

  private noteUnsent(): void {
    const unsent = this.output.unsentBytes;
    if (unsent > this.stats.maxUnsentBytes) this.stats.maxUnsentBytes = unsent;
  }

  // ---------------------------------------------------------------- input events

  private onData(chunk: Uint8Array): void {
    if (this.stateValue !== 'active') {
      this.stats.droppedInputBytes += chunk.length;
      return;
    }
    try {
      this.reader.append(chunk);
    } catch (error) {
      if (!(error instanceof ReactorError) || error.code !== 'ErrInputOverflow') throw error;
      this.stats.droppedInputBytes += chunk.length;
      this.beginClose('input-overflow', error);
      return;
    }
    this.appendedBytes += chunk.length;
    this.stats.bytesIn += chunk.length;
    const held = this.reader.heldBytes;
    if (held > this.stats.maxInputHeldBytes) this.stats.maxInputHeldBytes = held;
    this.touch();
    this.inOnData = true;
    try {
      this.traceLevels();
      this.settleReadWaiter();
      this.updateReading();
      this.scheduleRun();
    } finally {
      this.inOnData = false;
    }
  }

  private onPeerEnd(): void {
    if (this.stateValue !== 'active') return;
    this.reader.end();
    this.trace('peer-end', `${this.reader.length} unread`);
    this.settleReadWaiter();
    if (this.handlers.onRequest !== undefined && !this.processing && !this.connecting)
      if (this.reader.length === 0) this.beginClose('peer-closed');
      else this.scheduleRun();
  }

  private onStreamClose(error: NetError | undefined): void {
    this.streamAlive = false;
    if (this.stateValue !== 'active') {
      this.maybeFinish();
      return;
    }
    if (error === undefined && this.reader.length > 0) {
      // The peer closed cleanly before its last bytes were read: they stay readable (a client
      // reading a response until the server's close needs them); the connection closes once they
      // are handled, or when the application closes it. Output can no longer go anywhere.
      this.reader.end(); // idempotent: usually onEnd came first
      this.failFlushWaiter();
      this.settleReadWaiter();
      this.scheduleRun();
      return;
    }
    this.beginClose(error ? 'reset' : 'peer-closed', error);
  }

  private failFlushWaiter(): void {
    const f = this.flushWaiter;
    if (f === undefined) return;
    this.flushWaiter = undefined;
    if (f.timer !== undefined) this.env.clearTimer(f.timer);
    f.d.reject(this.closedError('flush'));
  }

  /** Pauses reading at the high-water mark, resumes at the low-water mark or for a waiting read. */
  private updateReading(): void {
    if (!this.streamAlive || this.stateValue !== 'active') return;
    const o = this.group.options;
    const held = this.reader.heldBytes;
    const waiting = this.readWaiter !== undefined;
    if (!this.readPaused && held >= o.inputHighWaterBytes && !waiting) {
      this.readPaused = true;
      this.stats.readPauses++;
      this.stream.pauseReading();
      this.trace('read-pause', `${held} bytes held`);
    } else if (this.readPaused && (held <= o.inputLowWaterBytes || waiting)) {
      this.readPaused = false;
      this.stream.resumeReading();
      this.trace('read-resume', `${held} bytes held`);
    }
  }

  // ---------------------------------------------------------------- handlers

  private startConnect(): void {
    const onConnect = this.handlers.onConnect;
    if (onConnect === undefined) {
      this.connecting = false;
      this.maybeFinish(); // closed in onPrepare: nothing left to wait for
      return;
    }
    this.loop.run(() =>
      this.group.startHandler(async () => {
        try {
          await onConnect(this.ctx, this);
        } catch (error) {
          this.handlerFailed('onConnect', error);
        }
        this.connecting = false;
        if (this.stateValue !== 'active') this.maybeFinish();
        else if (this.reader.ended && this.reader.length === 0 && this.handlers.onRequest !== undefined)
          this.beginClose('peer-closed');
        else this.scheduleRun();
      }),
    );
  }

  private scheduleRun(): void {
    if (
      this.handlers.onRequest === undefined ||
      this.stateValue !== 'active' ||
      this.processing ||
      this.connecting ||
      this.reader.length === 0
    )
      return;
    this.processing = true;
    this.loop.run(this.startRequestTask);
  }

  // Made once per connection: scheduling a run allocates no closure on the hot path.
  private readonly invokeRequestBound = (): Promise<void> | undefined => this.invokeRequest();
  private readonly startRequestTask = (): void => this.group.startHandler(this.invokeRequestBound);
  private readonly pumpOutputTask = (): void => this.pumpOutput();
  private readonly requestReturnedBound = (): void => this.requestReturned();
  private readonly requestRejectedBound = (error: unknown): void => {
    this.handlerFailed('onRequest', error);
    this.requestReturned();
  };
  private readonly runAgainBound = (): void => {
    this.scheduleRun();
    this.notifyQuiet();
  };
  // The running invocation's starting point: what it found unread, appended so far, and when.
  private requestUnreadBefore = 0;
  private requestAppendedBefore = 0;
  private requestStartedUs = 0;

  /**
   * One onRequest invocation. A handler that ends synchronously (returns nothing, or the settled
   * promise of a flush that wrote everything at once) is finished here, with no promise and no
   * microtask: the echo's path. Otherwise the invocation ends when its promise settles. Returns the
   * promise the handler pool waits for, or undefined when the invocation is over.
   */
  private invokeRequest(): Promise<void> | undefined {
    const onRequest = this.handlers.onRequest!;
    if (this.stateValue !== 'active') {
      this.processing = false;
      this.maybeFinish();
      return undefined;
    }
    this.requestUnreadBefore = this.reader.length;
    this.requestAppendedBefore = this.appendedBytes;
    this.loop.charge(this.group.options.costUsPerRequest);
    this.stats.handlerRuns++;
    if (this.env.tracing) {
      this.requestStartedUs = this.env.nowUs();
      this.trace('request-start', `${this.requestUnreadBefore} unread`);
    }
    let result: void | Promise<void>;
    try {
      result = onRequest(this.ctx, this);
    } catch (error) {
      this.handlerFailed('onRequest', error);
      result = undefined;
    }
    if (result !== undefined && result !== RESOLVED && typeof result.then === 'function')
      return result.then(this.requestReturnedBound, this.requestRejectedBound);
    if (!this.requestEnded()) return undefined;
    // More input is waiting: the next invocation starts after this one has left the pool (a
    // handler consuming a frame per call would otherwise recurse once per buffered frame).
    if (this.reader.length > 0) return this.resolved().then(this.runAgainBound);
    this.notifyQuiet();
    return undefined;
  }

  /** The handler's promise settled: end the invocation, then run again if input is unread. */
  private requestReturned(): void {
    if (this.requestEnded()) this.runAgainBound();
  }

  /**
   * Bookkeeping after onRequest: releases what it read, detects a spin, closes on the peer's end.
   * True when the connection stays active with no close begun (the caller may run it again).
   */
  private requestEnded(): boolean {
    this.processing = false;
    // Guarded here too: the detail string would be built for every request even with tracing off.
    if (this.env.tracing) this.trace('request', `${this.env.nowUs() - this.requestStartedUs} us`);
    if (this.stateValue !== 'active') {
      this.maybeFinish();
      return false;
    }
    const consumedBytes =
      this.requestUnreadBefore + (this.appendedBytes - this.requestAppendedBefore) - this.reader.length;
    // What the handler read is released when it returns: views of it are void from here on.
    this.reader.release();
    this.traceLevels();
    this.updateReading();
    this.unconsumedStreak = consumedBytes > 0 ? 0 : this.unconsumedStreak + 1;
    if (this.reader.ended && (this.reader.length === 0 || consumedBytes === 0)) {
      // The peer sent everything it will: nothing left, or nothing the handler can make progress on.
      this.beginClose('peer-closed');
      return false;
    }
    if (this.unconsumedStreak >= this.group.options.maxUnconsumedRuns) {
      this.beginClose(
        'handler-spin',
        new ReactorError(
          'ErrHandlerSpin',
          `connection ${this.id}: onRequest returned ${this.unconsumedStreak} times in a row without ` +
            `consuming any of ${this.reader.length} unread bytes or closing`,
        ),
      );
      return false;
    }
    return true;
  }

  private handlerFailed(which: string, error: unknown): void {
    const reactorError = new ReactorError(
      'ErrHandler',
      `connection ${this.id}: ${which} failed: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
    this.beginClose('handler-error', reactorError);
  }

  // ---------------------------------------------------------------- idle

  private touch(): void {
    this.lastActivityUs = this.env.nowUs();
  }

  /** Called only with no idle timer pending (at open, after setIdleTimeout cleared it, from its own firing). */
  private armIdle(): void {
    if (this.idleTimeoutUs <= 0 || this.stateValue !== 'active') return;
    const dueInUs = Math.max(0, this.lastActivityUs + this.idleTimeoutUs - this.env.nowUs());
    this.idleTimer = this.env.setTimer(dueInUs, () => this.onIdleTimer(), 'reactor idle-timeout');
  }

  /** Re-armed lazily: activity only moves lastActivityUs, the one timer looks when it fires. */
  private onIdleTimer(): void {
    // It fires only while active with a timeout: beginClose and setIdleTimeout clear it.
    this.idleTimer = undefined;
    const idleUs = this.env.nowUs() - this.lastActivityUs;
    if (idleUs >= this.idleTimeoutUs)
      this.beginClose(
        'idle-timeout',
        new ReactorError('ErrIdleTimeout', `connection ${this.id}: no input or output for ${idleUs} us`),
      );
    else this.armIdle();
  }

  // ---------------------------------------------------------------- close

  /**
   * Closes the connection (first closer wins). Output already flushed is still sent, for at most
   * writeTimeoutUs; then the stream closes. onDisconnect and the close callbacks run once the
   * running handler has returned.
   */
  close(): void {
    this.beginClose('user');
  }

  /**
   * Resolves when the connection is quiet: no handler running or due, nothing unread, nothing
   * unsent; or when it has closed. A server's graceful shutdown waits for it.
   */
  whenQuiet(): Promise<void> {
    const d = this.env.defer<void>();
    if (this.isQuiet()) d.resolve(undefined);
    else this.quietWaiters.push(d);
    return d.promise;
  }

  /** True once closed too: finish() runs with no handler due and closes both buffers (0 unread, 0 unsent). */
  private isQuiet(): boolean {
    return !this.processing && !this.connecting && this.reader.length === 0 && this.output.unsentBytes === 0;
  }

  private notifyQuiet(): void {
    if (this.quietWaiters.length === 0 || !this.isQuiet()) return;
    for (const d of this.quietWaiters.splice(0)) d.resolve(undefined);
  }

  /** @internal The server closes connections this way at shutdown. */
  beginClose(reason: CloseReason, error?: Error): void {
    if (this.stateValue !== 'active') return;
    this.stateValue = 'closing';
    this.reason = reason;
    this.reasonError = error;
    if (this.idleTimer !== undefined) this.env.clearTimer(this.idleTimer);
    this.idleTimer = undefined;
    this.trace('close', error === undefined ? reason : `${reason}: ${error.message}`);
    if (error instanceof ReactorError && this.env.tracing)
      this.env.trace({ kind: 'error', conn: this.id, code: error.code, message: error.message });
    const w = this.readWaiter;
    if (w !== undefined) {
      this.clearReadWaiter(w);
      w.d.reject(this.closedError('read'));
    }
    this.failFlushWaiter();
    if (this.streamAlive && !this.readPaused) {
      this.readPaused = true;
      this.stream.pauseReading();
    }
    if (!GRACEFUL.has(reason)) this.dropOutput();
    this.maybeFinish();
  }

  private dropOutput(): void {
    this.stats.droppedOutputBytes += this.output.unsentBytes;
    this.drainGaveUp = true;
  }

  /**
   * @internal The last resort of a server's shutdown: closes now, without waiting for a handler that
   * has not returned in time or for unsent output (dropped and counted), resetting the stream.
   */
  abort(reason: CloseReason): void {
    this.beginClose(reason);
    if (this.stateValue !== 'closing') return;
    this.dropOutput();
    this.processing = false;
    this.connecting = false;
    if (this.streamAlive) {
      this.streamAlive = false;
      this.stream.reset();
    }
    this.maybeFinish();
  }

  private maybeFinish(): void {
    if (this.stateValue !== 'closing' || this.processing || this.connecting) return;
    if (this.streamAlive && !this.drainGaveUp && this.output.unsentBytes > 0) {
      if (this.drainTimer === undefined && this.writeTimeoutUs > 0)
        this.drainTimer = this.env.setTimer(
          this.writeTimeoutUs,
          () => {
            this.drainTimer = undefined;
            this.dropOutput();
            this.maybeFinish();
          },
          'reactor close-drain',
        );
      return;
    }
    if (this.drainTimer !== undefined) {
      this.env.clearTimer(this.drainTimer);
      this.drainTimer = undefined;
    }
    this.finish();
  }

  private finish(): void {
    this.stateValue = 'closed';
    if (!this.drainGaveUp) this.stats.droppedOutputBytes += this.output.unsentBytes; // (else counted already)
    this.stats.droppedInputBytes += this.reader.length;
    if (this.streamAlive) {
      // A close that is not graceful with input still unread resets, as a kernel's close() with
      // unread data does: a close would keep reading and discarding until the peer closes (the
      // runtime's close timeout, 60 s), so a peer that floods and never reads (the one that made the
      // connection idle or its flush time out) would go on being read at full speed.
      // (A spin always leaves input unread; an overflow may have read all it holds, and resets too.)
      const unread = this.reader.length > 0 && !GRACEFUL.has(this.reason!);
      if (this.reason === 'input-overflow' || unread) this.stream.reset();
      else this.stream.close();
    }
    this.reader.close();
    this.output.close();
    this.traceLevels();
    const onDisconnect = this.handlers.onDisconnect;
    if (onDisconnect !== undefined) this.runCallback('onDisconnect', () => onDisconnect(this.ctx, this));
    const callbacks = this.closeCallbacks.splice(0);
    for (let i = callbacks.length - 1; i >= 0; i--)
      this.runCallback('close callback', () => callbacks[i]!(this));
    this.onClosed(this);
    this.notifyQuiet();
    this.closedDeferred.resolve(this.reason!);
  }

  /** A throwing close callback is the application's bug: traced and counted, never the process's end. */
  private runCallback(which: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.group.callbackErrors++;
      if (this.env.tracing)
        this.env.trace({
          kind: 'error',
          conn: this.id,
          code: 'ErrHandler',
          message: `connection ${this.id}: ${which} threw: ${error instanceof Error ? error.message : String(error)}`,
        });
    }
  }

  // ---------------------------------------------------------------- helpers

  private closedError(what: string): ReactorError {
    const code: ReactorErrorCode = 'ErrConnClosed';
    const why =
      this.reason !== undefined
        ? `closed (${this.reason})`
        : this.streamAlive
          ? 'write side shut down'
          : 'closed by the peer';
    return new ReactorError(code, `connection ${this.id}: ${what} after it was ${why}`);
  }

  /**
   * A settled promise for an operation that completed at once. On the simulator it settles through
   * the runtime, so the event that awaited it runs its continuation before the next event; on real
   * sockets one shared resolved promise does, with no allocation on the hot path.
   */
  private resolved(): Promise<void> {
    if (this.env.runtime === 'real') return RESOLVED;
    const d = this.env.defer<void>();
    d.resolve(undefined);
    return d.promise;
  }

  private rejected(error: Error): Promise<void> {
    const d = this.env.defer<void>();
    d.reject(error);
    return d.promise;
  }

  /**
   * Input held and output unsent as queue-depth samples (`reactor in:ID`, `reactor out:ID`), only
   * when they changed: the viewer charts them per connection.
   */
  private traceLevels(): void {
    if (!this.env.tracing) return;
    const inBytes = this.reader.isClosed ? 0 : this.reader.heldBytes;
    if (inBytes !== this.tracedInBytes) {
      this.tracedInBytes = inBytes;
      this.traceDepth('in', inBytes);
    }
    const outBytes = this.output.unsentBytes;
    if (outBytes !== this.tracedOutBytes) {
      this.tracedOutBytes = outBytes;
      this.traceDepth('out', outBytes);
    }
  }

  private traceDepth(which: 'in' | 'out' | 'interest', depth: number): void {
    if (!this.env.tracing) return;
    this.env.trace({ kind: 'queue-depth', conn: this.id, queue: `reactor ${which}:${this.id}`, depth });
  }

  private trace(what: string, detail: string): void {
    if (!this.env.tracing) return;
    this.env.trace({ kind: 'note', conn: this.id, text: `reactor ${what}: ${detail}` });
  }
}

function checkDuration(name: string, us: number): number {
  if (!Number.isSafeInteger(us) || us < 0)
    throw new ReactorError('ErrBadOption', `${name} must be a non-negative integer of µs, got ${String(us)}`);
  return us;
}
