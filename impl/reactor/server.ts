/**
 * A reactor server: a listener whose connections are balanced over a group of event loops
 * (./loop.ts) and served by the application's handlers (./connection.ts).
 *
 * Accept backpressure: at maxConnections open connections the server stops taking new ones in.
 * Connections that arrive meanwhile are held unread, in arrival order, up to acceptBacklog (as a
 * kernel's listen backlog holds them); each close admits the oldest one held. Beyond the backlog a
 * new connection is reset at once (counted as refused). Open connections are never failed to make
 * room.
 *
 * Shutdown: stop accepting, close what is quiet at once, let the rest finish for at most the drain
 * time, then close them (output already flushed still goes out, bounded by writeTimeoutUs), and
 * finally abort whatever has still not closed one drain time later. Every step is bounded.
 */
import {
  NetError,
  type Env,
  type StreamConn,
  type StreamListener,
  type TimerHandle,
} from '../runtime/env.js';
import { Connection, CLOSE_REASONS, type CloseReason, type ReactorHandlers } from './connection.js';
import { ReactorError } from './errors.js';
import { LoopGroup } from './loop.js';
import { resolveReactorOptions, type ReactorOptions } from './options.js';

/** Default drain time of shutdown(): in-flight work gets this long (netlab serve --drain-timeout). */
export const DEFAULT_DRAIN_TIMEOUT_US = 5_000_000;

export interface ServerStats {
  /** Connections taken in (served by handlers). */
  accepted: number;
  /** Open now. */
  open: number;
  /** The most open at once. */
  peakOpen: number;
  /** Closed connections by reason. */
  closed: Record<CloseReason, number>;
  /** Connections reset at arrival because the accept backlog was full, or the server was closing. */
  refused: number;
  /** Held unread now because maxConnections are open. */
  heldNow: number;
  /** The most held at once. */
  maxHeld: number;
  /** Times a connection had to be held (the server was at maxConnections). */
  acceptPauses: number;
  /** Bytes in and out over closed and open connections (open ones as of their last update). */
  bytesIn: number;
  bytesOut: number;
}

export interface ReactorServer<C = unknown> {
  /** The bound address (with the real port when port 0 was asked for). */
  readonly address: string;
  readonly group: LoopGroup;
  readonly stats: ServerStats;
  /** The open connections, in acceptance order. */
  connections(): Connection<C>[];
  /**
   * Stops accepting, lets in-flight work finish for at most drainUs (default 5 s), closes the rest;
   * resolves once every connection has closed (bounded: see the module comment).
   */
  shutdown(drainUs?: number): Promise<void>;
}

function emptyClosed(): Record<CloseReason, number> {
  const out = {} as Record<CloseReason, number>;
  for (const r of CLOSE_REASONS) out[r] = 0;
  return out;
}

/** Listens at `address` and serves every connection with `handlers`. Rejects with the runtime's NetError (EADDRINUSE...). */
export function serveReactor<C = unknown>(
  env: Env,
  address: string,
  handlers: ReactorHandlers<C>,
  options: ReactorOptions = {},
): Promise<ReactorServer<C>> {
  const resolved = resolveReactorOptions(options);
  const server = new Server<C>(env, new LoopGroup(env, resolved), handlers);
  const d = env.defer<ReactorServer<C>>();
  env.listen(
    address,
    (stream) => server.arrive(stream),
    (error, listener) => {
      if (listener === undefined) {
        d.reject(error ?? new NetError('EINVAL', `listen ${address} failed`));
        return;
      }
      server.listening(listener);
      d.resolve(server);
    },
  );
  return d.promise;
}

class Server<C> implements ReactorServer<C> {
  readonly stats: ServerStats = {
    accepted: 0,
    open: 0,
    peakOpen: 0,
    closed: emptyClosed(),
    refused: 0,
    heldNow: 0,
    maxHeld: 0,
    acceptPauses: 0,
    bytesIn: 0,
    bytesOut: 0,
  };
  private listener: StreamListener | undefined;
  private readonly open = new Set<Connection<C>>();
  private readonly held: StreamConn[] = [];
  private stopping = false;
  private shutdownDone: Promise<void> | undefined;

  constructor(
    private readonly env: Env,
    readonly group: LoopGroup,
    private readonly handlers: ReactorHandlers<C>,
  ) {}

  get address(): string {
    // Set before serveReactor hands the server out.
    return this.listener!.address;
  }

  listening(listener: StreamListener): void {
    this.listener = listener;
    if (this.env.tracing) this.env.trace({ kind: 'note', text: `reactor listening ${listener.address}` });
  }

  connections(): Connection<C>[] {
    return [...this.open];
  }

  arrive(stream: StreamConn): void {
    if (this.stopping) {
      this.refuse(stream);
      return;
    }
    if (this.open.size < this.group.options.maxConnections) {
      this.admit(stream);
      return;
    }
    if (this.held.length >= this.group.options.acceptBacklog) {
      this.refuse(stream);
      return;
    }
    // Held unread: the peer's bytes wait in its socket buffers, as in a kernel's accept queue.
    stream.pauseReading();
    stream.setHandlers({
      onClose: () => {
        const i = this.held.indexOf(stream);
        if (i >= 0) this.held.splice(i, 1);
        this.stats.heldNow = this.held.length;
      },
    });
    this.held.push(stream);
    this.stats.acceptPauses++;
    this.stats.heldNow = this.held.length;
    if (this.held.length > this.stats.maxHeld) this.stats.maxHeld = this.held.length;
    if (this.env.tracing)
      this.env.trace({
        kind: 'note',
        conn: stream.id,
        text: `reactor accept held: ${this.open.size} open (maxConnections), ${this.held.length} held`,
      });
  }

  private refuse(stream: StreamConn): void {
    this.stats.refused++;
    stream.reset();
  }

  private admit(stream: StreamConn): void {
    const loop = this.group.assign();
    const conn = new Connection<C>(this.env, this.group, loop, stream, this.handlers, 'accepted', (c) =>
      this.closed(c),
    );
    this.stats.accepted++;
    if (conn.state === 'closed') return; // closed during onPrepare (closed() already counted it)
    this.open.add(conn);
    this.stats.open = this.open.size;
    if (this.open.size > this.stats.peakOpen) this.stats.peakOpen = this.open.size;
    // A held stream was paused here; one whose first bytes already reached the high-water mark
    // while the connection was set up stays paused (the connection resumes it at low water).
    if (!conn.readingPaused) stream.resumeReading();
  }

  private closed(conn: Connection<C>): void {
    this.group.release(conn.loop);
    this.open.delete(conn);
    this.stats.open = this.open.size;
    this.stats.closed[conn.closeReason!]++;
    this.stats.bytesIn += conn.stats.bytesIn;
    this.stats.bytesOut += conn.stats.bytesOut;
    // Nothing is held once stopping: shutdown refused the held ones, and arrive() refuses.
    const next = this.held.shift();
    this.stats.heldNow = this.held.length;
    if (next !== undefined) this.admit(next);
  }

  shutdown(drainUs = DEFAULT_DRAIN_TIMEOUT_US): Promise<void> {
    if (!Number.isSafeInteger(drainUs) || drainUs < 0)
      throw new ReactorError(
        'ErrBadOption',
        `drain time must be a non-negative integer of µs, got ${String(drainUs)}`,
      );
    this.shutdownDone ??= this.runShutdown(drainUs);
    return this.shutdownDone;
  }

  private async runShutdown(drainUs: number): Promise<void> {
    this.stopping = true;
    this.listener!.close();
    for (const stream of this.held.splice(0)) this.refuse(stream);
    this.stats.heldNow = 0;
    const conns = [...this.open];
    // Quiet connections close now; busy ones when quiet or at the drain deadline.
    for (const conn of conns) void conn.whenQuiet().then(() => conn.beginClose('server-shutdown'));
    await this.within(drainUs, Promise.all(conns.map((c) => c.whenQuiet())));
    for (const conn of conns) conn.beginClose('server-shutdown');
    await this.within(drainUs, Promise.all(conns.map((c) => c.closed)));
    for (const conn of conns) conn.abort('server-shutdown'); // a no-op on a closed one
  }

  /** Resolves when `work` settles or after us, whichever is first (the timer is cleared either way). */
  private within(us: number, work: Promise<unknown>): Promise<void> {
    const d = this.env.defer<void>();
    const timer: TimerHandle = this.env.setTimer(us, () => d.resolve(undefined), 'reactor shutdown-drain');
    const settled = (): void => {
      this.env.clearTimer(timer);
      d.resolve(undefined);
    };
    work.then(settled, settled);
    return d.promise;
  }
}
