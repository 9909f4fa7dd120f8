/**
 * The HTTP/1 connection pool's decision core: Go net/http Transport's pool semantics (getConn,
 * queueForIdleConn, queueForDial, tryPutIdleConn, decConnsPerHost; streams.md C.1/C.2) as a
 * deterministic, sans-I/O state machine. It knows nothing of sockets, clocks or HTTP bytes: the
 * Transport calls one input method per event (a request wants a connection, a dial ended, an
 * exchange ended, a connection closed, a request was cancelled, a deadline passed) with the time,
 * and carries out the ordered list of typed decisions it gets back (dial, deliver, idle, close...).
 * The same list is the trace: every decision of the pool is one event (issue #20 item 3).
 *
 * Time is integer microseconds on the driver's clock (virtual on the simulator); it never goes
 * backwards. Ids are non-negative safe integers: waiter and connection ids are the driver's, dial ids
 * the core's (counting from 1 in order, so a run's decisions are a function of its inputs).
 */
import { PoolError } from './pool-errors.js';

const SECOND_US = 1_000_000;

/** The pool's options; every one is optional and documented with its default in POOL_DEFAULTS. */
export interface PoolOptions {
  maxIdleConnsPerHost?: number;
  maxIdleConns?: number;
  maxConnsPerHost?: number;
  idleConnTimeoutUs?: number;
  disableKeepAlives?: boolean;
  maxWaitersPerHost?: number;
}
export type ResolvedPoolOptions = Required<PoolOptions>;

/** Every option with its default (the names and Go's DefaultTransport values). */
export const POOL_DEFAULTS: Readonly<ResolvedPoolOptions> = Object.freeze({
  /**
   * Idle connections kept per key (Go's DefaultMaxIdleConnsPerHost). 0 keeps none idle (hand-offs to
   * waiting requests still happen); unlike Go, where 0 selects the default because an unset field
   * and 0 look the same.
   */
  maxIdleConnsPerHost: 2,
  /** Idle connections kept across all keys; beyond it the least recently idled is closed. 0 = no limit. */
  maxIdleConns: 100,
  /** Dialing + active + idle connections per key; acquires beyond it wait. 0 = unlimited. */
  maxConnsPerHost: 0,
  /** An idle connection idle for this long (or longer) is closed and never handed out. 0 = never. */
  idleConnTimeoutUs: 90 * SECOND_US,
  /** Every connection serves one exchange and is closed after it; nothing is kept idle. */
  disableKeepAlives: false,
  /**
   * Requests waiting per key (for an idle connection, a dial or a conns-per-host slot). Go has no
   * bound; here one more acquire is refused with ErrTooManyWaiters, so a stuck host cannot make the
   * queue grow without end.
   */
  maxWaitersPerHost: 10_000,
});

const INT_OPTIONS = [
  'maxIdleConnsPerHost',
  'maxIdleConns',
  'maxConnsPerHost',
  'idleConnTimeoutUs',
  'maxWaitersPerHost',
] as const;
/** Upper bounds keep every sum of counts and times a safe integer. */
const INT_OPTION_MAX: Readonly<Record<(typeof INT_OPTIONS)[number], number>> = {
  maxIdleConnsPerHost: 1_000_000,
  maxIdleConns: 1_000_000,
  maxConnsPerHost: 1_000_000,
  idleConnTimeoutUs: 100 * 365 * 24 * 3600 * SECOND_US,
  maxWaitersPerHost: 1_000_000,
};
const INT_OPTION_MIN: Readonly<Record<(typeof INT_OPTIONS)[number], number>> = {
  maxIdleConnsPerHost: 0,
  maxIdleConns: 0,
  maxConnsPerHost: 0,
  idleConnTimeoutUs: 0,
  maxWaitersPerHost: 1,
};

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) {
    return String(value);
  }
  return typeof value;
}

/** Fills in defaults and validates every option; throws ErrBadOption naming the first bad one. */
export function resolvePoolOptions(options: PoolOptions = {}): ResolvedPoolOptions {
  const given = options as Record<string, unknown>;
  for (const name of Object.keys(given)) {
    if (!(name in POOL_DEFAULTS)) {
      throw new PoolError('ErrBadOption', `unknown option ${name}`);
    }
  }
  const resolved: ResolvedPoolOptions = { ...POOL_DEFAULTS };
  for (const name of INT_OPTIONS) {
    const value = given[name];
    if (value === undefined) continue;
    const min = INT_OPTION_MIN[name];
    const max = INT_OPTION_MAX[name];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new PoolError(
        'ErrBadOption',
        `${name} must be an integer in [${min}, ${max}], got ${describe(value)}`,
      );
    }
    resolved[name] = value;
  }
  const keepAlives = given['disableKeepAlives'];
  if (keepAlives !== undefined) {
    if (typeof keepAlives !== 'boolean') {
      throw new PoolError('ErrBadOption', `disableKeepAlives must be a boolean, got ${describe(keepAlives)}`);
    }
    resolved.disableKeepAlives = keepAlives;
  }
  return resolved;
}

/** Why the pool closes a connection (the `why` of a close decision). */
export type CloseReason =
  /** Idle for idleConnTimeoutUs or longer: found by expire() or skipped by an acquire's LIFO pick. */
  | 'idle-timeout'
  /** Total idle connections went above maxIdleConns: the least recently idled one goes. */
  | 'evict-lru'
  /** The key already had maxIdleConnsPerHost idle connections and no request was waiting. */
  | 'too-many-idle-host'
  /** disableKeepAlives: a connection is never kept or handed over after its exchange. */
  | 'keepalives-disabled'
  /** closeIdleConnections(), or a connection freed after it with nobody waiting (before any acquire). */
  | 'close-idle'
  /** release() said the exchange did not end clean and complete (C.2 item 7). */
  | 'not-reusable';

/**
 * One decision. The driver executes them in order; the trace records them as they are.
 * - `dial`: open a connection for `key`; report it with dialDone/dialFailed(dialId). `for` is the
 *   waiter it was started for; `why` is `new-waiter` (an acquire found no idle connection and a free
 *   slot) or `slot-freed` (a connection closed at maxConnsPerHost and its slot went to the oldest
 *   request waiting for one: golang/go #32336).
 * - `wait`: the request waits; `queue` is `idle` (it will take the next connection that frees up,
 *   oldest waiter first) or `conns-per-host` (it also waits for a slot under maxConnsPerHost). A
 *   request usually gets `wait idle` then `dial` or `wait conns-per-host` (as Go queues both).
 * - `deliver`: give connection `connId` to waiter `waiterId` (exactly once per waiter). `how`:
 *   `idle-lifo` (the most recently idled connection of the key), `fresh-dial` (the dial started for
 *   this waiter), `handoff` (a connection that freed up, or a dial whose own waiter was gone). `reused`
 *   is Go's isReused: the connection has been through the idle path before, so a failure on it may be
 *   retried (see shouldRetry).
 * - `fail`: the dial started for this waiter failed while it still waited; the request fails with it
 *   (Go delivers the dial error to its wantConn).
 * - `dial-failed`: a dial failed (always reported, whether or not its waiter still waited).
 * - `dial-unclaimed`: a dial ended after its waiter had left (cancelled, or served by another
 *   connection): late binding; the connection goes to the next waiter or the idle list, or is closed.
 * - `idle`: connection `connId` is kept idle; `expiresAtUs` is when it times out (null: never).
 * - `close`: close connection `connId` now, for `why`.
 * - `forget`: the driver reported the connection closed (connClosed); the pool dropped it. `was` is
 *   the state it had. Nothing to execute.
 * - `cancelled`: a waiting request left (cancel). Its dial, if any (`dialId`), goes on.
 */
export type PoolDecision =
  | { kind: 'dial'; key: string; dialId: number; for: number; why: 'new-waiter' | 'slot-freed' }
  | { kind: 'wait'; waiterId: number; key: string; queue: 'idle' | 'conns-per-host' }
  | {
      kind: 'deliver';
      waiterId: number;
      connId: number;
      key: string;
      reused: boolean;
      how: 'idle-lifo' | 'fresh-dial' | 'handoff';
    }
  | { kind: 'fail'; waiterId: number; key: string; dialId: number; error: string }
  | { kind: 'dial-failed'; dialId: number; key: string; for: number; error: string }
  | { kind: 'dial-unclaimed'; dialId: number; connId: number; key: string; for: number }
  | { kind: 'idle'; connId: number; key: string; expiresAtUs: number | null }
  | { kind: 'close'; connId: number; key: string; why: CloseReason }
  | { kind: 'forget'; connId: number; key: string; was: 'idle' | 'active' }
  | { kind: 'cancelled'; waiterId: number; key: string; dialId: number | null };

/** A key's counts (the viewer's per-host chart; `live` = dialing + active + idle). */
export interface HostCounts {
  key: string;
  idle: number;
  active: number;
  dialing: number;
  live: number;
  waiting: number;
  waitingForSlot: number;
}

interface Conn {
  readonly id: number;
  readonly key: string;
  state: 'active' | 'idle';
  /** Go's markReused: set when the connection goes through the idle path. */
  reused: boolean;
  idleSinceUs: number;
}

interface Waiter {
  readonly id: number;
  readonly key: string;
  /** The dial started for this waiter, if any (it goes on after the waiter leaves). */
  dialId: number | null;
}

interface Dial {
  readonly id: number;
  readonly key: string;
  readonly forWaiter: number;
}

interface Host {
  readonly key: string;
  /** Idle connections in the order they went idle: taken from the end (LIFO). */
  readonly idle: Conn[];
  /** Every waiting request of the key, oldest first (Map order is insertion order): FIFO. */
  readonly waiters: Map<number, Waiter>;
  /** The waiters that also wait for a slot under maxConnsPerHost, oldest first. */
  readonly slotWaiters: Map<number, Waiter>;
  active: number;
  dialing: number;
  /** Go's connsPerHost: dialing + active + idle, counted on every path in and out. */
  live: number;
}

function checkId(what: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new PoolError(
      'ErrBadArgument',
      `${what} must be a non-negative safe integer, got ${describe(value)}`,
    );
  }
  return value;
}

/** The pool's decision core. One instance per Transport; not shared between drivers. */
export class PoolCore {
  readonly options: ResolvedPoolOptions;
  private readonly hosts = new Map<string, Host>();
  private readonly conns = new Map<number, Conn>();
  private readonly dials = new Map<number, Dial>();
  private readonly waiters = new Map<number, Waiter>();
  /** All idle connections, least recently idled first (re-idling moves one to the end). */
  private readonly lru = new Map<number, Conn>();
  private nextDialId = 1;
  private lastNowUs = 0;
  /**
   * Go's closeIdle: set by closeIdleConnections, cleared by the next acquire. While set, a connection
   * that frees up with nobody waiting is closed instead of kept, so exchanges still running when
   * closeIdleConnections was called do not refill the idle lists behind it.
   */
  private closeIdle = false;

  constructor(options: PoolOptions = {}) {
    this.options = resolvePoolOptions(options);
  }

  /** A request wants a connection for `key` (scheme + host + port). */
  acquire(key: string, waiterId: number, nowUs: number): PoolDecision[] {
    if (typeof key !== 'string' || key.length === 0) {
      throw new PoolError('ErrBadArgument', `key must be a non-empty string, got ${describe(key)}`);
    }
    checkId('waiterId', waiterId);
    this.checkTime(nowUs);
    if (this.waiters.has(waiterId)) {
      throw new PoolError('ErrDuplicateWaiter', `waiter ${waiterId} is already waiting`);
    }
    const existing = this.hosts.get(key);
    if (existing !== undefined && existing.waiters.size >= this.options.maxWaitersPerHost) {
      throw new PoolError(
        'ErrTooManyWaiters',
        `${key} already has ${existing.waiters.size} waiting requests (maxWaitersPerHost ${this.options.maxWaitersPerHost})`,
      );
    }
    this.tick(nowUs);
    const out: PoolDecision[] = [];
    const host = this.host(key);
    const waiter: Waiter = { id: waiterId, key, dialId: null };
    this.closeIdle = false;
    // queueForIdleConn: with keep-alives off no connection is ever idle, and no request waits for one.
    if (!this.options.disableKeepAlives) {
      while (host.idle.length > 0) {
        const conn = host.idle[host.idle.length - 1];
        if (conn === undefined) break;
        if (this.expired(conn, nowUs)) {
          // Go skips (and closes) connections idle too long: never hand out a stale one (C.2 item 4).
          this.closeConn(conn, 'idle-timeout', out);
          continue;
        }
        this.takeIdle(conn);
        out.push({ kind: 'deliver', waiterId, connId: conn.id, key, reused: conn.reused, how: 'idle-lifo' });
        this.dropHostIfEmpty(host);
        return out;
      }
    }
    this.waiters.set(waiterId, waiter);
    host.waiters.set(waiterId, waiter);
    if (!this.options.disableKeepAlives) out.push({ kind: 'wait', waiterId, key, queue: 'idle' });
    // queueForDial: the slot is counted when the dial starts, so dialing counts against the limit.
    const max = this.options.maxConnsPerHost;
    if (max === 0 || host.live < max) {
      host.live += 1;
      this.startDial(host, waiter, 'new-waiter', out);
    } else {
      host.slotWaiters.set(waiterId, waiter);
      out.push({ kind: 'wait', waiterId, key, queue: 'conns-per-host' });
    }
    return out;
  }

  /** The dial `dialId` gave connection `connId` (a new id: the driver's handle for it). */
  dialDone(dialId: number, connId: number, nowUs: number): PoolDecision[] {
    const dial = this.dialOf(dialId);
    checkId('connId', connId);
    this.checkTime(nowUs);
    if (this.conns.has(connId)) {
      throw new PoolError('ErrDuplicateConn', `connection ${connId} is already in the pool`);
    }
    this.tick(nowUs);
    const out: PoolDecision[] = [];
    const host = this.hostOf(dial.key);
    this.dials.delete(dialId);
    host.dialing -= 1;
    const conn: Conn = { id: connId, key: dial.key, state: 'active', reused: false, idleSinceUs: 0 };
    this.conns.set(connId, conn);
    host.active += 1;
    const waiter = this.waiters.get(dial.forWaiter);
    if (waiter !== undefined && waiter.dialId === dialId) {
      this.removeWaiter(waiter);
      out.push({
        kind: 'deliver',
        waiterId: waiter.id,
        connId,
        key: dial.key,
        reused: false,
        how: 'fresh-dial',
      });
    } else {
      // Late binding: its request left (cancelled, or served by a connection that freed up first).
      // The connection is not wasted: it goes to the next waiter or the idle list (Go's
      // putOrCloseIdleConn). Go 1.19 instead cancels the dial with the request: a peer difference.
      out.push({ kind: 'dial-unclaimed', dialId, connId, key: dial.key, for: dial.forWaiter });
      this.putIdle(conn, nowUs, out);
    }
    this.dropHostIfEmpty(host);
    return out;
  }

  /** The dial `dialId` failed with `error` (a code, e.g. ECONNREFUSED). */
  dialFailed(dialId: number, error: string, nowUs: number): PoolDecision[] {
    const dial = this.dialOf(dialId);
    if (typeof error !== 'string') {
      throw new PoolError('ErrBadArgument', `error must be a string code, got ${describe(error)}`);
    }
    this.tick(nowUs);
    const out: PoolDecision[] = [];
    const host = this.hostOf(dial.key);
    this.dials.delete(dialId);
    host.dialing -= 1;
    out.push({ kind: 'dial-failed', dialId, key: dial.key, for: dial.forWaiter, error });
    const waiter = this.waiters.get(dial.forWaiter);
    if (waiter !== undefined && waiter.dialId === dialId) {
      this.removeWaiter(waiter);
      out.push({ kind: 'fail', waiterId: waiter.id, key: dial.key, dialId, error });
    }
    // The failed dial's slot goes to the oldest request waiting for one (decConnsPerHost).
    this.releaseSlot(host, out);
    this.dropHostIfEmpty(host);
    return out;
  }

  /**
   * The exchange on `connId` ended. `reusable` only after a clean, complete exchange (request fully
   * written, response read to its end, neither side asked to close: C.2 item 7); otherwise it closes.
   */
  release(connId: number, how: { reusable: boolean }, nowUs: number): PoolDecision[] {
    const conn = this.connOf(connId);
    if (typeof how !== 'object' || how === null || typeof how.reusable !== 'boolean') {
      throw new PoolError('ErrBadArgument', 'release needs { reusable: boolean }');
    }
    this.checkTime(nowUs);
    if (conn.state !== 'active') {
      throw new PoolError('ErrConnNotActive', `connection ${connId} is idle, not delivered to a request`);
    }
    this.tick(nowUs);
    const out: PoolDecision[] = [];
    const host = this.hostOf(conn.key);
    if (how.reusable) this.putIdle(conn, nowUs, out);
    else this.closeConn(conn, 'not-reusable', out);
    this.dropHostIfEmpty(host);
    return out;
  }

  /** The driver saw `connId` close (peer close, reset, error), idle or active. */
  connClosed(connId: number, nowUs: number): PoolDecision[] {
    const conn = this.connOf(connId);
    this.tick(nowUs);
    const out: PoolDecision[] = [];
    const host = this.hostOf(conn.key);
    const was = conn.state;
    this.dropConn(conn);
    out.push({ kind: 'forget', connId, key: conn.key, was });
    this.releaseSlot(host, out);
    this.dropHostIfEmpty(host);
    return out;
  }

  /**
   * The request `waiterId` was cancelled while it waited. Its dial, if any, goes on (late binding).
   * A waiter that is not waiting (already delivered or failed, or unknown) gets no decisions: a cancel
   * racing a delivery is normal, and the driver then releases the delivered connection itself.
   */
  cancel(waiterId: number, nowUs: number): PoolDecision[] {
    checkId('waiterId', waiterId);
    this.tick(nowUs);
    const waiter = this.waiters.get(waiterId);
    if (waiter === undefined) return [];
    const host = this.hostOf(waiter.key);
    this.removeWaiter(waiter);
    const out: PoolDecision[] = [{ kind: 'cancelled', waiterId, key: waiter.key, dialId: waiter.dialId }];
    this.dropHostIfEmpty(host);
    return out;
  }

  /**
   * Close every idle connection (Go's CloseIdleConnections). Active ones are left alone, but until
   * the next acquire one that frees up with nobody waiting is closed too (`close-idle`), not kept.
   */
  closeIdleConnections(nowUs: number): PoolDecision[] {
    this.tick(nowUs);
    this.closeIdle = true;
    const out: PoolDecision[] = [];
    const touched = new Set<Host>();
    for (const conn of [...this.lru.values()]) {
      touched.add(this.hostOf(conn.key));
      this.closeConn(conn, 'close-idle', out);
    }
    for (const host of touched) this.dropHostIfEmpty(host);
    return out;
  }

  /** Close the idle connections idle for idleConnTimeoutUs or longer (call at nextDeadlineUs()). */
  expire(nowUs: number): PoolDecision[] {
    this.tick(nowUs);
    const out: PoolDecision[] = [];
    const touched = new Set<Host>();
    // The LRU is in idle-time order (time never goes back), so the expired ones are a prefix.
    for (const conn of [...this.lru.values()]) {
      if (!this.expired(conn, nowUs)) break;
      touched.add(this.hostOf(conn.key));
      this.closeConn(conn, 'idle-timeout', out);
    }
    for (const host of touched) this.dropHostIfEmpty(host);
    return out;
  }

  /** When expire() has work next (the oldest idle connection's timeout), or null if never. */
  nextDeadlineUs(): number | null {
    if (this.options.idleConnTimeoutUs === 0) return null;
    for (const conn of this.lru.values()) return conn.idleSinceUs + this.options.idleConnTimeoutUs;
    return null;
  }

  /** Counts per key, in key order of first use; keys with nothing live and nobody waiting are dropped. */
  hostCounts(): HostCounts[] {
    return [...this.hosts.values()].map((h) => ({
      key: h.key,
      idle: h.idle.length,
      active: h.active,
      dialing: h.dialing,
      live: h.live,
      waiting: h.waiters.size,
      waitingForSlot: h.slotWaiters.size,
    }));
  }

  /** Totals across keys: connections the pool holds (idle + active), dials in flight, waiters. */
  totals(): { idle: number; active: number; dialing: number; waiting: number } {
    let active = 0;
    for (const c of this.conns.values()) if (c.state === 'active') active += 1;
    return { idle: this.lru.size, active, dialing: this.dials.size, waiting: this.waiters.size };
  }

  /** The idle connection ids of `key`, least recently idled first (the next LIFO pick is last). */
  idleConnIds(key: string): number[] {
    return (this.hosts.get(key)?.idle ?? []).map((c) => c.id);
  }

  /** The waiting request ids of `key`, oldest first. */
  waiterIds(key: string): number[] {
    return [...(this.hosts.get(key)?.waiters.keys() ?? [])];
  }

  /** The state of a connection the pool holds, or null. */
  connState(connId: number): 'idle' | 'active' | null {
    return this.conns.get(connId)?.state ?? null;
  }

  /** The dial ids in flight, oldest first. */
  pendingDialIds(): number[] {
    return [...this.dials.keys()];
  }

  // ---- internals ----

  /** Validate and take the input's time (every input calls this once its other checks passed). */
  private tick(nowUs: number): void {
    this.checkTime(nowUs);
    this.lastNowUs = nowUs;
  }

  private checkTime(nowUs: number): void {
    if (typeof nowUs !== 'number' || !Number.isSafeInteger(nowUs) || nowUs < 0) {
      throw new PoolError(
        'ErrBadArgument',
        `nowUs must be a non-negative safe integer, got ${describe(nowUs)}`,
      );
    }
    if (nowUs < this.lastNowUs) {
      throw new PoolError(
        'ErrTimeBackwards',
        `nowUs ${nowUs} is before the previous input's ${this.lastNowUs}`,
      );
    }
  }

  private expired(conn: Conn, nowUs: number): boolean {
    const timeoutUs = this.options.idleConnTimeoutUs;
    return timeoutUs > 0 && nowUs - conn.idleSinceUs >= timeoutUs;
  }

  private host(key: string): Host {
    let host = this.hosts.get(key);
    if (host === undefined) {
      host = { key, idle: [], waiters: new Map(), slotWaiters: new Map(), active: 0, dialing: 0, live: 0 };
      this.hosts.set(key, host);
    }
    return host;
  }

  private hostOf(key: string): Host {
    const host = this.hosts.get(key);
    if (host === undefined) throw new Error(`pool-core invariant: no host state for ${key}`);
    return host;
  }

  /** Forget a key with nothing live and nobody waiting, so the map stays as big as the live state. */
  private dropHostIfEmpty(host: Host): void {
    if (host.live === 0 && host.waiters.size === 0) {
      if (host.active !== 0 || host.dialing !== 0 || host.idle.length !== 0 || host.slotWaiters.size !== 0) {
        throw new Error(`pool-core invariant: ${host.key} has live = 0 but holds connections`);
      }
      this.hosts.delete(host.key);
    }
  }

  private dialOf(dialId: number): Dial {
    checkId('dialId', dialId);
    const dial = this.dials.get(dialId);
    if (dial === undefined) throw new PoolError('ErrUnknownDial', `dial ${dialId} is not in flight`);
    return dial;
  }

  private connOf(connId: number): Conn {
    checkId('connId', connId);
    const conn = this.conns.get(connId);
    if (conn === undefined) throw new PoolError('ErrUnknownConn', `connection ${connId} is not in the pool`);
    return conn;
  }

  private startDial(host: Host, waiter: Waiter, why: 'new-waiter' | 'slot-freed', out: PoolDecision[]): void {
    const dialId = this.nextDialId++;
    this.dials.set(dialId, { id: dialId, key: host.key, forWaiter: waiter.id });
    waiter.dialId = dialId;
    host.dialing += 1;
    out.push({ kind: 'dial', key: host.key, dialId, for: waiter.id, why });
  }

  private removeWaiter(waiter: Waiter): void {
    this.waiters.delete(waiter.id);
    const host = this.hostOf(waiter.key);
    host.waiters.delete(waiter.id);
    host.slotWaiters.delete(waiter.id);
  }

  /** An idle connection leaves the idle list to be delivered. */
  private takeIdle(conn: Conn): void {
    const host = this.hostOf(conn.key);
    const at = host.idle.lastIndexOf(conn);
    if (at < 0) throw new Error(`pool-core invariant: idle connection ${conn.id} not in its list`);
    host.idle.splice(at, 1);
    this.lru.delete(conn.id);
    conn.state = 'active';
    host.active += 1;
  }

  /**
   * Go's tryPutIdleConn for an active connection whose exchange ended clean (or an unclaimed dial):
   * hand it to the oldest waiting request, else keep it idle within the limits, else close it.
   */
  private putIdle(conn: Conn, nowUs: number, out: PoolDecision[]): void {
    if (this.options.disableKeepAlives) {
      this.closeConn(conn, 'keepalives-disabled', out);
      return;
    }
    conn.reused = true;
    const host = this.hostOf(conn.key);
    // The oldest waiter first (C.2 item 3). A waiter whose own dial is still running takes this one;
    // its dial's connection will then be unclaimed and go to the next waiter or the idle list.
    for (const waiter of host.waiters.values()) {
      this.removeWaiter(waiter);
      out.push({
        kind: 'deliver',
        waiterId: waiter.id,
        connId: conn.id,
        key: conn.key,
        reused: true,
        how: 'handoff',
      });
      return;
    }
    if (this.closeIdle) {
      this.closeConn(conn, 'close-idle', out);
      return;
    }
    if (host.idle.length >= this.options.maxIdleConnsPerHost) {
      this.closeConn(conn, 'too-many-idle-host', out);
      return;
    }
    conn.state = 'idle';
    conn.idleSinceUs = nowUs;
    host.active -= 1;
    host.idle.push(conn);
    this.lru.set(conn.id, conn);
    const timeoutUs = this.options.idleConnTimeoutUs;
    out.push({
      kind: 'idle',
      connId: conn.id,
      key: conn.key,
      expiresAtUs: timeoutUs === 0 ? null : nowUs + timeoutUs,
    });
    const maxIdle = this.options.maxIdleConns;
    if (maxIdle > 0 && this.lru.size > maxIdle) {
      for (const oldest of this.lru.values()) {
        this.closeConn(oldest, 'evict-lru', out);
        // The evicted connection may have been its key's last one (another key than this one's).
        if (oldest.key !== conn.key) this.dropHostIfEmpty(this.hostOf(oldest.key));
        break;
      }
    }
  }

  /** The pool closes a connection it holds (idle or active) and gives its slot on. */
  private closeConn(conn: Conn, why: CloseReason, out: PoolDecision[]): void {
    const host = this.hostOf(conn.key);
    this.dropConn(conn);
    out.push({ kind: 'close', connId: conn.id, key: conn.key, why });
    this.releaseSlot(host, out);
  }

  /** Remove a connection from every structure (not from the live count: releaseSlot does that). */
  private dropConn(conn: Conn): void {
    const host = this.hostOf(conn.key);
    this.conns.delete(conn.id);
    if (conn.state === 'idle') {
      const at = host.idle.indexOf(conn);
      if (at < 0) throw new Error(`pool-core invariant: idle connection ${conn.id} not in its list`);
      host.idle.splice(at, 1);
      this.lru.delete(conn.id);
    } else {
      host.active -= 1;
    }
  }

  /**
   * Go's decConnsPerHost: a slot freed by a close or a failed dial goes to the oldest request waiting
   * for one (a new dial for it, the count unchanged), else the count goes down. Forgetting this hand
   * over is golang/go #32336 (a waiter never woken); counting it twice is #29889.
   */
  private releaseSlot(host: Host, out: PoolDecision[]): void {
    for (const waiter of host.slotWaiters.values()) {
      host.slotWaiters.delete(waiter.id);
      this.startDial(host, waiter, 'slot-freed', out);
      return;
    }
    if (host.live <= 0) throw new Error(`pool-core invariant: ${host.key} live count would go negative`);
    host.live -= 1;
  }
}

/** The inputs of shouldRetry: what the Transport knows when an exchange failed. */
export interface RetryInput {
  /** The connection had been through the idle path (the deliver decision's `reused`). */
  reused: boolean;
  /** Response bytes read before the failure. */
  responseBytesSeen: number;
  /** Request bytes written to the connection before the failure. */
  requestBytesWritten: number;
  /** The body is empty or can be produced again (Go: no body, NoBody, or GetBody set). */
  bodyReplayable: boolean;
  method: string;
  /** Request headers as name/value pairs (names matched case-insensitively). */
  headers: readonly (readonly [string, string])[];
  cause: RetryCause;
}
export type RetryCause = 'server-closed-idle' | 'read-error' | 'write-error' | 'header-timeout' | 'cancel';
const RETRY_CAUSES: readonly RetryCause[] = [
  'server-closed-idle',
  'read-error',
  'write-error',
  'header-timeout',
  'cancel',
];

/** Methods Go treats as idempotent for retries (Request.isReplayable). */
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);
const IDEMPOTENCY_HEADERS: ReadonlySet<string> = new Set(['idempotency-key', 'x-idempotency-key']);

/**
 * Whether the Transport retries a failed request on a new connection, and why (C.1 "Retry", C.2
 * item 5; Go's shouldRetryRequest). A pure function of what was seen; the rules in order:
 * never after a header timeout or a cancel; never on a connection not reused (a fresh connection's
 * failure is the server's answer, and retrying could loop); never once a response byte arrived;
 * nothing written → retry iff the body is replayable; else only a replayable request (idempotent
 * method or an Idempotency-Key / X-Idempotency-Key header, and a replayable body), and only when
 * the server closed the idle connection or reading failed before the first response byte. A POST
 * whose bytes were written is never retried (golang/go #19943).
 */
export function shouldRetry(input: RetryInput): { retry: boolean; why: string } {
  checkRetryInput(input);
  if (input.cause === 'cancel') return { retry: false, why: 'cancelled' };
  if (input.cause === 'header-timeout') return { retry: false, why: 'response-header-timeout' };
  if (!input.reused) return { retry: false, why: 'fresh-connection' };
  if (input.responseBytesSeen > 0) return { retry: false, why: 'response-started' };
  if (input.requestBytesWritten === 0) {
    return input.bodyReplayable
      ? { retry: true, why: 'nothing-written' }
      : { retry: false, why: 'nothing-written-body-not-replayable' };
  }
  const idempotent =
    IDEMPOTENT_METHODS.has(input.method) ||
    input.headers.some(([name]) => IDEMPOTENCY_HEADERS.has(name.toLowerCase()));
  if (!idempotent) return { retry: false, why: 'not-idempotent' };
  if (!input.bodyReplayable) return { retry: false, why: 'body-not-replayable' };
  if (input.cause === 'server-closed-idle') return { retry: true, why: 'server-closed-idle' };
  if (input.cause === 'read-error') return { retry: true, why: 'read-error-before-response' };
  return { retry: false, why: 'write-error-after-bytes-written' };
}

function checkRetryInput(input: RetryInput): void {
  if (typeof input !== 'object' || input === null) {
    throw new PoolError('ErrBadArgument', 'shouldRetry needs an input object');
  }
  for (const name of ['reused', 'bodyReplayable'] as const) {
    if (typeof input[name] !== 'boolean') {
      throw new PoolError('ErrBadArgument', `${name} must be a boolean, got ${describe(input[name])}`);
    }
  }
  for (const name of ['responseBytesSeen', 'requestBytesWritten'] as const) {
    const v = input[name];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) {
      throw new PoolError(
        'ErrBadArgument',
        `${name} must be a non-negative safe integer, got ${describe(v)}`,
      );
    }
  }
  if (typeof input.method !== 'string' || input.method.length === 0) {
    throw new PoolError('ErrBadArgument', `method must be a non-empty string, got ${describe(input.method)}`);
  }
  if (!Array.isArray(input.headers))
    throw new PoolError('ErrBadArgument', 'headers must be an array of [name, value]');
  if (!RETRY_CAUSES.includes(input.cause)) {
    throw new PoolError(
      'ErrBadArgument',
      `cause must be one of ${RETRY_CAUSES.join(', ')}, got ${describe(input.cause)}`,
    );
  }
}
