/**
 * The pool's decision core, one rule at a time, as a driver meets it: the decisions each input
 * returns (LIFO pick, FIFO waiters, the oldest waiter first, limits, late binding, expiry at exactly
 * the timeout, LRU eviction across keys, keep-alives off, closeIdleConnections), Go's known bugs as
 * scenarios (#32336, #29889), misuse refused with a stable code, and shouldRetry's table.
 */
import { describe, expect, it } from 'vitest';
import {
  POOL_DEFAULTS,
  PoolCore,
  resolvePoolOptions,
  shouldRetry,
  type PoolDecision,
  type RetryInput,
} from './pool-core.js';
import { isPoolError, POOL_ERROR_CODES, PoolError, type PoolErrorCode } from './pool-errors.js';

const A = 'http://a:80';
const B = 'http://b:80';
const S = 1_000_000;

function throwsCode(fn: () => unknown, code: PoolErrorCode): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(isPoolError(caught, code), `expected ${code}, got ${String(caught)}`).toBe(true);
}

/** The dial decision in a list (exactly one expected). */
function dialOf(ds: PoolDecision[]): Extract<PoolDecision, { kind: 'dial' }> {
  const dials = ds.filter((d): d is Extract<PoolDecision, { kind: 'dial' }> => d.kind === 'dial');
  expect(dials).toHaveLength(1);
  return dials[0]!;
}

/** Acquire for a fresh connection: dial and complete it; returns the decisions of dialDone. */
function openConn(
  pool: PoolCore,
  key: string,
  waiterId: number,
  connId: number,
  nowUs: number,
): PoolDecision[] {
  const dial = dialOf(pool.acquire(key, waiterId, nowUs));
  return pool.dialDone(dial.dialId, connId, nowUs);
}

describe('options', () => {
  it('has the issue defaults', () => {
    expect(POOL_DEFAULTS).toEqual({
      maxIdleConnsPerHost: 2,
      maxIdleConns: 100,
      maxConnsPerHost: 0,
      idleConnTimeoutUs: 90 * S,
      disableKeepAlives: false,
      maxWaitersPerHost: 10_000,
    });
    expect(new PoolCore().options).toEqual(POOL_DEFAULTS);
  });

  it('refuses bad values naming the option, and unknown options', () => {
    throwsCode(() => resolvePoolOptions({ maxConnsPerHost: -1 }), 'ErrBadOption');
    throwsCode(() => resolvePoolOptions({ maxIdleConns: 1.5 }), 'ErrBadOption');
    throwsCode(() => resolvePoolOptions({ maxWaitersPerHost: 0 }), 'ErrBadOption');
    throwsCode(() => resolvePoolOptions({ idleConnTimeoutUs: Number.NaN }), 'ErrBadOption');
    throwsCode(() => resolvePoolOptions({ disableKeepAlives: 1 as unknown as boolean }), 'ErrBadOption');
    throwsCode(() => resolvePoolOptions({ maxIdle: 3 } as unknown as object), 'ErrBadOption');
    expect(() => resolvePoolOptions({ maxConnsPerHost: -1 })).toThrow(/maxConnsPerHost.*-1/);
    expect(resolvePoolOptions({ maxIdleConnsPerHost: 0, maxConnsPerHost: 4 })).toMatchObject({
      maxIdleConnsPerHost: 0,
      maxConnsPerHost: 4,
    });
  });

  it('error codes are listed once and carried by PoolError', () => {
    expect(new Set(POOL_ERROR_CODES).size).toBe(POOL_ERROR_CODES.length);
    const e = new PoolError('ErrUnknownConn', 'x');
    expect(e.message).toBe('ErrUnknownConn: x');
    expect(isPoolError(e)).toBe(true);
    expect(isPoolError(e, 'ErrUnknownDial')).toBe(false);
    expect(isPoolError(new Error('x'))).toBe(false);
  });
});

describe('acquire and dial', () => {
  it('a first request waits for an idle connection and dials; the dial goes to it fresh', () => {
    const pool = new PoolCore();
    expect(pool.acquire(A, 1, 0)).toEqual([
      { kind: 'wait', waiterId: 1, key: A, queue: 'idle' },
      { kind: 'dial', key: A, dialId: 1, for: 1, why: 'new-waiter' },
    ]);
    expect(pool.hostCounts()).toEqual([
      { key: A, idle: 0, active: 0, dialing: 1, live: 1, waiting: 1, waitingForSlot: 0 },
    ]);
    expect(pool.dialDone(1, 100, 5)).toEqual([
      { kind: 'deliver', waiterId: 1, connId: 100, key: A, reused: false, how: 'fresh-dial' },
    ]);
    expect(pool.connState(100)).toBe('active');
    expect(pool.release(100, { reusable: true }, 10)).toEqual([
      { kind: 'idle', connId: 100, key: A, expiresAtUs: 10 + 90 * S },
    ]);
  });

  it('takes idle connections LIFO: the most recently idled first', () => {
    const pool = new PoolCore();
    openConn(pool, A, 1, 100, 0);
    openConn(pool, A, 2, 200, 0);
    pool.release(100, { reusable: true }, 1);
    pool.release(200, { reusable: true }, 2);
    expect(pool.idleConnIds(A)).toEqual([100, 200]);
    expect(pool.acquire(A, 3, 3)).toEqual([
      { kind: 'deliver', waiterId: 3, connId: 200, key: A, reused: true, how: 'idle-lifo' },
    ]);
    expect(pool.acquire(A, 4, 3)).toEqual([
      { kind: 'deliver', waiterId: 4, connId: 100, key: A, reused: true, how: 'idle-lifo' },
    ]);
  });

  it('keeps keys apart', () => {
    const pool = new PoolCore();
    openConn(pool, A, 1, 100, 0);
    pool.release(100, { reusable: true }, 1);
    expect(dialOf(pool.acquire(B, 2, 2)).key).toBe(B);
    expect(pool.idleConnIds(A)).toEqual([100]);
  });
});

describe('waiters', () => {
  it('are served FIFO: a freed connection goes to the oldest waiter first', () => {
    const pool = new PoolCore({ maxConnsPerHost: 1 });
    openConn(pool, A, 1, 100, 0);
    expect(pool.acquire(A, 2, 1)).toEqual([
      { kind: 'wait', waiterId: 2, key: A, queue: 'idle' },
      { kind: 'wait', waiterId: 2, key: A, queue: 'conns-per-host' },
    ]);
    pool.acquire(A, 3, 2);
    pool.acquire(A, 4, 3);
    expect(pool.waiterIds(A)).toEqual([2, 3, 4]);
    expect(pool.release(100, { reusable: true }, 4)).toEqual([
      { kind: 'deliver', waiterId: 2, connId: 100, key: A, reused: true, how: 'handoff' },
    ]);
    expect(pool.release(100, { reusable: true }, 5)).toEqual([
      { kind: 'deliver', waiterId: 3, connId: 100, key: A, reused: true, how: 'handoff' },
    ]);
    pool.cancel(4, 6);
    expect(pool.release(100, { reusable: true }, 7)).toEqual([
      { kind: 'idle', connId: 100, key: A, expiresAtUs: 7 + 90 * S },
    ]);
    expect(pool.hostCounts()[0]).toMatchObject({ idle: 1, live: 1, waiting: 0, waitingForSlot: 0 });
  });

  it('limit 4 with 20 acquires: never more than 4 live, every request served, 4 dials', () => {
    const pool = new PoolCore({ maxConnsPerHost: 4 });
    const dials: number[] = [];
    const served: number[] = [];
    const check = (ds: PoolDecision[]): void => {
      for (const d of ds) {
        if (d.kind === 'dial') dials.push(d.dialId);
        if (d.kind === 'deliver') served.push(d.waiterId);
      }
      expect(pool.hostCounts()[0]?.live ?? 0).toBeLessThanOrEqual(4);
    };
    let now = 0;
    for (let w = 1; w <= 20; w++) check(pool.acquire(A, w, now++));
    expect(dials).toEqual([1, 2, 3, 4]);
    expect(pool.hostCounts()[0]).toMatchObject({ dialing: 4, live: 4, waiting: 20, waitingForSlot: 16 });
    for (const d of [1, 2, 3, 4]) check(pool.dialDone(d, 100 + d, now++));
    expect(served).toEqual([1, 2, 3, 4]);
    // Each exchange ends in turn; the connection goes to the oldest waiter.
    for (let i = 0; i < 16; i++) check(pool.release(101 + (i % 4), { reusable: true }, now++));
    expect(served).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(dials).toHaveLength(4);
    for (const c of [101, 102, 103, 104]) check(pool.release(c, { reusable: true }, now++));
    // Two stay idle (maxIdleConnsPerHost), two are closed.
    expect(pool.hostCounts()[0]).toMatchObject({ idle: 2, active: 0, live: 2 });
  });

  it('golang/go #32336: a connection closing at the limit wakes a waiter (a dial for it)', () => {
    const pool = new PoolCore({ maxConnsPerHost: 1 });
    openConn(pool, A, 1, 100, 0);
    pool.acquire(A, 2, 1);
    expect(pool.connClosed(100, 2)).toEqual([
      { kind: 'forget', connId: 100, key: A, was: 'active' },
      { kind: 'dial', key: A, dialId: 2, for: 2, why: 'slot-freed' },
    ]);
    expect(pool.hostCounts()[0]).toMatchObject({ live: 1, dialing: 1, waitingForSlot: 0 });
    expect(pool.dialDone(2, 200, 3)).toEqual([
      { kind: 'deliver', waiterId: 2, connId: 200, key: A, reused: false, how: 'fresh-dial' },
    ]);
  });

  it('#32336 with a not-reusable release and with a failed dial: the slot goes on', () => {
    const pool = new PoolCore({ maxConnsPerHost: 1 });
    openConn(pool, A, 1, 100, 0);
    pool.acquire(A, 2, 1);
    pool.acquire(A, 3, 1);
    expect(pool.release(100, { reusable: false }, 2)).toEqual([
      { kind: 'close', connId: 100, key: A, why: 'not-reusable' },
      { kind: 'dial', key: A, dialId: 2, for: 2, why: 'slot-freed' },
    ]);
    expect(pool.dialFailed(2, 'ECONNREFUSED', 3)).toEqual([
      { kind: 'dial-failed', dialId: 2, key: A, for: 2, error: 'ECONNREFUSED' },
      { kind: 'fail', waiterId: 2, key: A, dialId: 2, error: 'ECONNREFUSED' },
      { kind: 'dial', key: A, dialId: 3, for: 3, why: 'slot-freed' },
    ]);
    expect(pool.dialFailed(3, 'ECONNREFUSED', 4)).toHaveLength(2);
    expect(pool.hostCounts()).toEqual([]);
  });

  it('golang/go #29889: an unclaimed dial and a close at the limit never make more than maxConnsPerHost', () => {
    const pool = new PoolCore({ maxConnsPerHost: 2 });
    openConn(pool, A, 1, 100, 0);
    const d2 = dialOf(pool.acquire(A, 2, 0));
    pool.acquire(A, 3, 0); // waits for a slot
    pool.cancel(2, 1); // its dial goes on and holds the slot
    expect(pool.hostCounts()[0]).toMatchObject({ live: 2, dialing: 1, waitingForSlot: 1 });
    // The unclaimed dial goes to waiter 3 (still waiting for a slot): no new dial.
    expect(pool.dialDone(d2.dialId, 200, 2)).toEqual([
      { kind: 'dial-unclaimed', dialId: d2.dialId, connId: 200, key: A, for: 2 },
      { kind: 'deliver', waiterId: 3, connId: 200, key: A, reused: true, how: 'handoff' },
    ]);
    expect(pool.hostCounts()[0]).toMatchObject({
      live: 2,
      active: 2,
      dialing: 0,
      waiting: 0,
      waitingForSlot: 0,
    });
    // Closing one with nobody waiting lowers the count instead of dialing.
    expect(pool.connClosed(100, 3)).toEqual([{ kind: 'forget', connId: 100, key: A, was: 'active' }]);
    expect(pool.hostCounts()[0]).toMatchObject({ live: 1 });
  });

  it('refuses more than maxWaitersPerHost waiters and a waiter id already waiting', () => {
    const pool = new PoolCore({ maxConnsPerHost: 1, maxWaitersPerHost: 2 });
    pool.acquire(A, 1, 0);
    throwsCode(() => pool.acquire(A, 1, 0), 'ErrDuplicateWaiter');
    pool.acquire(A, 2, 0);
    throwsCode(() => pool.acquire(A, 3, 0), 'ErrTooManyWaiters');
    expect(pool.waiterIds(A)).toEqual([1, 2]);
    pool.acquire(B, 3, 0); // another key has its own bound
  });
});

describe('late binding', () => {
  it('a cancelled request does not cancel its dial; the connection goes to the next waiter', () => {
    const pool = new PoolCore();
    pool.acquire(A, 1, 0);
    expect(pool.cancel(1, 1)).toEqual([{ kind: 'cancelled', waiterId: 1, key: A, dialId: 1 }]);
    expect(pool.pendingDialIds()).toEqual([1]);
    expect(dialOf(pool.acquire(A, 2, 2)).dialId).toBe(2);
    expect(pool.dialDone(1, 100, 3)).toEqual([
      { kind: 'dial-unclaimed', dialId: 1, connId: 100, key: A, for: 1 },
      { kind: 'deliver', waiterId: 2, connId: 100, key: A, reused: true, how: 'handoff' },
    ]);
    // Waiter 2's own dial is now unclaimed too: it goes to the idle list.
    expect(pool.dialDone(2, 200, 4)).toEqual([
      { kind: 'dial-unclaimed', dialId: 2, connId: 200, key: A, for: 2 },
      { kind: 'idle', connId: 200, key: A, expiresAtUs: 4 + 90 * S },
    ]);
  });

  it('a waiter served by a connection that freed up first leaves its dial to the idle list', () => {
    const pool = new PoolCore();
    openConn(pool, A, 1, 100, 0);
    pool.acquire(A, 2, 1); // dial 2 for waiter 2
    expect(pool.release(100, { reusable: true }, 2)).toEqual([
      { kind: 'deliver', waiterId: 2, connId: 100, key: A, reused: true, how: 'handoff' },
    ]);
    expect(pool.cancel(2, 3)).toEqual([]); // delivered already: nothing to cancel
    expect(pool.dialDone(2, 200, 4).map((d) => d.kind)).toEqual(['dial-unclaimed', 'idle']);
    expect(pool.idleConnIds(A)).toEqual([200]);
  });

  it('a dial failing after its waiter left fails nobody', () => {
    const pool = new PoolCore();
    pool.acquire(A, 1, 0);
    pool.cancel(1, 0);
    expect(pool.dialFailed(1, 'ETIMEDOUT', 1)).toEqual([
      { kind: 'dial-failed', dialId: 1, key: A, for: 1, error: 'ETIMEDOUT' },
    ]);
    expect(pool.hostCounts()).toEqual([]);
  });

  it('a cancelled waiter waiting for a slot leaves the queue, the next one gets the slot', () => {
    const pool = new PoolCore({ maxConnsPerHost: 1 });
    openConn(pool, A, 1, 100, 0);
    pool.acquire(A, 2, 0);
    pool.acquire(A, 3, 0);
    expect(pool.cancel(2, 1)).toEqual([{ kind: 'cancelled', waiterId: 2, key: A, dialId: null }]);
    expect(dialOf(pool.connClosed(100, 2)).for).toBe(3);
  });
});

describe('idle timeout', () => {
  it('closes at exactly idleConnTimeoutUs and not a microsecond before', () => {
    const pool = new PoolCore({ idleConnTimeoutUs: 10 });
    openConn(pool, A, 1, 100, 0);
    pool.release(100, { reusable: true }, 5);
    expect(pool.nextDeadlineUs()).toBe(15);
    expect(pool.expire(14)).toEqual([]);
    expect(pool.expire(15)).toEqual([{ kind: 'close', connId: 100, key: A, why: 'idle-timeout' }]);
    expect(pool.nextDeadlineUs()).toBeNull();
    expect(pool.hostCounts()).toEqual([]);
  });

  it('an acquire takes a connection idle for just under the timeout, and skips one at the timeout', () => {
    const pool = new PoolCore({ idleConnTimeoutUs: 10 });
    openConn(pool, A, 1, 100, 0);
    openConn(pool, A, 2, 200, 0);
    pool.release(100, { reusable: true }, 0);
    pool.release(200, { reusable: true }, 1);
    // At 10, 100 is expired (10 - 0 >= 10) but 200 (idle since 1) is not: LIFO takes 200.
    expect(pool.acquire(A, 3, 10)).toEqual([
      { kind: 'deliver', waiterId: 3, connId: 200, key: A, reused: true, how: 'idle-lifo' },
    ]);
    // Only 100 is left and expired: it is closed, then the request dials.
    expect(pool.acquire(A, 4, 10)).toEqual([
      { kind: 'close', connId: 100, key: A, why: 'idle-timeout' },
      { kind: 'wait', waiterId: 4, key: A, queue: 'idle' },
      { kind: 'dial', key: A, dialId: 3, for: 4, why: 'new-waiter' },
    ]);
  });

  it('expire closes only the expired prefix, oldest first, across keys; a re-idled one starts again', () => {
    const pool = new PoolCore({ idleConnTimeoutUs: 10 });
    openConn(pool, A, 1, 100, 0);
    openConn(pool, B, 2, 200, 0);
    openConn(pool, A, 3, 300, 0);
    pool.release(100, { reusable: true }, 1);
    pool.release(200, { reusable: true }, 2);
    pool.release(300, { reusable: true }, 3);
    expect(pool.expire(12).map((d) => d.kind === 'close' && d.connId)).toEqual([100, 200]);
    expect(pool.nextDeadlineUs()).toBe(13);
    pool.acquire(A, 4, 12);
    pool.release(300, { reusable: true }, 12);
    expect(pool.nextDeadlineUs()).toBe(22);
  });

  it('idleConnTimeoutUs 0 never expires', () => {
    const pool = new PoolCore({ idleConnTimeoutUs: 0 });
    openConn(pool, A, 1, 100, 0);
    expect(pool.release(100, { reusable: true }, 0)).toEqual([
      { kind: 'idle', connId: 100, key: A, expiresAtUs: null },
    ]);
    expect(pool.nextDeadlineUs()).toBeNull();
    expect(pool.expire(Number.MAX_SAFE_INTEGER)).toEqual([]);
    expect(pool.acquire(A, 2, Number.MAX_SAFE_INTEGER)[0]).toMatchObject({ kind: 'deliver', connId: 100 });
  });
});

describe('idle limits', () => {
  it('maxIdleConnsPerHost: one more idle connection for the key is closed', () => {
    const pool = new PoolCore({ maxIdleConnsPerHost: 1 });
    openConn(pool, A, 1, 100, 0);
    openConn(pool, A, 2, 200, 0);
    pool.release(100, { reusable: true }, 1);
    expect(pool.release(200, { reusable: true }, 2)).toEqual([
      { kind: 'close', connId: 200, key: A, why: 'too-many-idle-host' },
    ]);
  });

  it('maxIdleConnsPerHost 0 keeps none idle but still hands over to a waiter', () => {
    const pool = new PoolCore({ maxIdleConnsPerHost: 0 });
    openConn(pool, A, 1, 100, 0);
    pool.acquire(A, 2, 0);
    expect(pool.release(100, { reusable: true }, 1)[0]).toMatchObject({
      kind: 'deliver',
      waiterId: 2,
      how: 'handoff',
    });
    expect(pool.release(100, { reusable: true }, 2)).toEqual([
      { kind: 'close', connId: 100, key: A, why: 'too-many-idle-host' },
    ]);
  });

  it('maxIdleConns evicts the least recently idled connection across keys', () => {
    const pool = new PoolCore({ maxIdleConns: 2 });
    openConn(pool, A, 1, 100, 0);
    openConn(pool, B, 2, 200, 0);
    openConn(pool, A, 3, 300, 0);
    pool.release(100, { reusable: true }, 1);
    pool.release(200, { reusable: true }, 2);
    expect(pool.release(300, { reusable: true }, 3)).toEqual([
      { kind: 'idle', connId: 300, key: A, expiresAtUs: 3 + 90 * S },
      { kind: 'close', connId: 100, key: A, why: 'evict-lru' },
    ]);
    expect(pool.idleConnIds(A)).toEqual([300]);
    expect(pool.idleConnIds(B)).toEqual([200]);
    // A re-idled connection becomes the most recent: 200 is now the oldest.
    pool.acquire(A, 4, 4);
    openConn(pool, 'http://c:80', 5, 500, 5);
    pool.release(300, { reusable: true }, 6);
    expect(pool.release(500, { reusable: true }, 7).at(-1)).toEqual({
      kind: 'close',
      connId: 200,
      key: B,
      why: 'evict-lru',
    });
  });
});

describe('disableKeepAlives', () => {
  it('dials per request, closes after each exchange and never hands over', () => {
    const pool = new PoolCore({ disableKeepAlives: true, maxConnsPerHost: 1 });
    expect(pool.acquire(A, 1, 0)).toEqual([{ kind: 'dial', key: A, dialId: 1, for: 1, why: 'new-waiter' }]);
    pool.dialDone(1, 100, 0);
    expect(pool.acquire(A, 2, 0)).toEqual([{ kind: 'wait', waiterId: 2, key: A, queue: 'conns-per-host' }]);
    expect(pool.release(100, { reusable: true }, 1)).toEqual([
      { kind: 'close', connId: 100, key: A, why: 'keepalives-disabled' },
      { kind: 'dial', key: A, dialId: 2, for: 2, why: 'slot-freed' },
    ]);
    pool.cancel(2, 2);
    expect(pool.dialDone(2, 200, 3)).toEqual([
      { kind: 'dial-unclaimed', dialId: 2, connId: 200, key: A, for: 2 },
      { kind: 'close', connId: 200, key: A, why: 'keepalives-disabled' },
    ]);
    expect(pool.hostCounts()).toEqual([]);
  });
});

describe('closing', () => {
  it('closeIdleConnections closes every idle connection, leaves active ones', () => {
    const pool = new PoolCore();
    openConn(pool, A, 1, 100, 0);
    openConn(pool, B, 2, 200, 0);
    openConn(pool, A, 3, 300, 0);
    pool.release(100, { reusable: true }, 1);
    pool.release(200, { reusable: true }, 2);
    expect(pool.closeIdleConnections(3)).toEqual([
      { kind: 'close', connId: 100, key: A, why: 'close-idle' },
      { kind: 'close', connId: 200, key: B, why: 'close-idle' },
    ]);
    expect(pool.totals()).toEqual({ idle: 0, active: 1, dialing: 0, waiting: 0 });
    expect(pool.release(300, { reusable: true }, 4)).toEqual([
      { kind: 'close', connId: 300, key: A, why: 'close-idle' },
    ]);
    expect(pool.totals()).toEqual({ idle: 0, active: 0, dialing: 0, waiting: 0 });
    expect(pool.hostCounts()).toEqual([]);
  });

  it('after closeIdleConnections a freed connection is closed, not kept, until the next acquire', () => {
    const pool = new PoolCore();
    openConn(pool, A, 1, 100, 0);
    openConn(pool, A, 2, 200, 0);
    openConn(pool, B, 3, 300, 0);
    pool.closeIdleConnections(1);
    expect(pool.release(100, { reusable: true }, 2)).toEqual([
      { kind: 'close', connId: 100, key: A, why: 'close-idle' },
    ]);
    const d = dialOf(pool.acquire(A, 4, 3));
    // The acquire ends it (Go's closeIdle flag): a release hands over, then idles again.
    expect(pool.release(200, { reusable: true }, 4)[0]).toMatchObject({
      kind: 'deliver',
      waiterId: 4,
      connId: 200,
    });
    expect(pool.release(300, { reusable: true }, 5)).toEqual([
      { kind: 'idle', connId: 300, key: B, expiresAtUs: 5 + 90 * S },
    ]);
    expect(pool.dialDone(d.dialId, 400, 6).map((x) => x.kind)).toEqual(['dial-unclaimed', 'idle']);
  });

  it('an idle connection holding the only slot is taken, not waited behind', () => {
    const pool = new PoolCore({ maxConnsPerHost: 1, disableKeepAlives: false });
    openConn(pool, A, 1, 100, 0);
    pool.release(100, { reusable: true }, 0);
    // Idle connection 100 holds the only slot; an acquire takes it rather than waiting.
    expect(pool.acquire(A, 2, 1)[0]).toMatchObject({ kind: 'deliver', connId: 100 });
  });

  it('a peer close of an idle connection forgets it and frees its slot', () => {
    const pool = new PoolCore();
    openConn(pool, A, 1, 100, 0);
    pool.release(100, { reusable: true }, 1);
    expect(pool.connClosed(100, 2)).toEqual([{ kind: 'forget', connId: 100, key: A, was: 'idle' }]);
    expect(pool.nextDeadlineUs()).toBeNull();
    expect(pool.hostCounts()).toEqual([]);
  });
});

describe('misuse', () => {
  it('refuses unknown ids, a second release, a release of an idle connection and time going back', () => {
    const pool = new PoolCore();
    throwsCode(() => pool.dialDone(1, 100, 0), 'ErrUnknownDial');
    throwsCode(() => pool.release(100, { reusable: true }, 0), 'ErrUnknownConn');
    throwsCode(() => pool.connClosed(100, 0), 'ErrUnknownConn');
    openConn(pool, A, 1, 100, 5);
    throwsCode(() => pool.acquire(A, 2, 4), 'ErrTimeBackwards');
    const d = dialOf(pool.acquire(A, 2, 5));
    throwsCode(() => pool.dialDone(d.dialId, 100, 5), 'ErrDuplicateConn');
    throwsCode(() => pool.dialDone(d.dialId + 1, 300, 5), 'ErrUnknownDial');
    pool.cancel(2, 6);
    pool.release(100, { reusable: true }, 6);
    throwsCode(() => pool.release(100, { reusable: true }, 6), 'ErrConnNotActive');
    pool.connClosed(100, 7);
    throwsCode(() => pool.release(100, { reusable: false }, 7), 'ErrUnknownConn');
    // A refused input does not take its time either: 8 after a refused 9 is not going back.
    pool.acquire(A, 5, 8);
    throwsCode(() => pool.acquire(A, 5, 9), 'ErrDuplicateWaiter');
    expect(pool.cancel(5, 8)).toMatchObject([{ kind: 'cancelled', waiterId: 5 }]);
    // The refused calls changed nothing.
    expect(pool.totals()).toEqual({ idle: 0, active: 0, dialing: 2, waiting: 0 });
  });

  it('refuses bad arguments with ErrBadArgument', () => {
    const pool = new PoolCore();
    throwsCode(() => pool.acquire('', 1, 0), 'ErrBadArgument');
    throwsCode(() => pool.acquire(A, -1, 0), 'ErrBadArgument');
    throwsCode(() => pool.acquire(A, 1, 0.5), 'ErrBadArgument');
    throwsCode(() => pool.acquire(A, 1, -1), 'ErrBadArgument');
    throwsCode(() => pool.cancel(Number.NaN, 0), 'ErrBadArgument');
    pool.acquire(A, 1, 0);
    throwsCode(() => pool.dialFailed(1, 42 as unknown as string, 0), 'ErrBadArgument');
    pool.dialDone(1, 100, 0);
    throwsCode(() => pool.release(100, {} as { reusable: boolean }, 0), 'ErrBadArgument');
    expect(pool.totals()).toEqual({ idle: 0, active: 1, dialing: 0, waiting: 0 });
  });
});

describe('shouldRetry', () => {
  const base: RetryInput = {
    reused: true,
    responseBytesSeen: 0,
    requestBytesWritten: 0,
    bodyReplayable: true,
    method: 'GET',
    headers: [],
    cause: 'server-closed-idle',
  };
  const verdict = (over: Partial<RetryInput>): string => {
    const r = shouldRetry({ ...base, ...over });
    return `${r.retry}:${r.why}`;
  };

  it('never after a header timeout or a cancel, never on a fresh connection or after a response byte', () => {
    expect(verdict({ cause: 'cancel' })).toBe('false:cancelled');
    expect(verdict({ cause: 'header-timeout', requestBytesWritten: 10 })).toBe(
      'false:response-header-timeout',
    );
    expect(verdict({ reused: false })).toBe('false:fresh-connection');
    expect(verdict({ responseBytesSeen: 1, cause: 'read-error' })).toBe('false:response-started');
  });

  it('nothing written: retry iff the body is replayable, whatever the method', () => {
    expect(verdict({ method: 'POST', cause: 'write-error' })).toBe('true:nothing-written');
    expect(verdict({ method: 'POST', bodyReplayable: false, cause: 'write-error' })).toBe(
      'false:nothing-written-body-not-replayable',
    );
  });

  it('bytes written: only idempotent, replayable requests, on a server close of an idle conn or a read error', () => {
    const w = { requestBytesWritten: 40 };
    expect(verdict({ ...w })).toBe('true:server-closed-idle');
    expect(verdict({ ...w, cause: 'read-error', method: 'HEAD' })).toBe('true:read-error-before-response');
    expect(verdict({ ...w, method: 'OPTIONS' })).toBe('true:server-closed-idle');
    expect(verdict({ ...w, method: 'TRACE' })).toBe('true:server-closed-idle');
    expect(verdict({ ...w, cause: 'write-error' })).toBe('false:write-error-after-bytes-written');
    // golang/go #19943: a POST whose bytes were written is not retried...
    expect(verdict({ ...w, method: 'POST' })).toBe('false:not-idempotent');
    expect(verdict({ ...w, method: 'PUT', cause: 'read-error' })).toBe('false:not-idempotent');
    // ...unless it carries an idempotency key (any case), and its body can be replayed.
    expect(verdict({ ...w, method: 'POST', headers: [['idempotency-KEY', 'k']] })).toBe(
      'true:server-closed-idle',
    );
    expect(verdict({ ...w, method: 'POST', headers: [['X-Idempotency-Key', '']] })).toBe(
      'true:server-closed-idle',
    );
    expect(
      verdict({ ...w, method: 'POST', headers: [['Idempotency-Key', 'k']], bodyReplayable: false }),
    ).toBe('false:body-not-replayable');
    expect(verdict({ ...w, bodyReplayable: false })).toBe('false:body-not-replayable');
    // Methods are case-sensitive tokens (RFC 9110 §9.1): "get" is not GET.
    expect(verdict({ ...w, method: 'get' })).toBe('false:not-idempotent');
  });

  it('refuses malformed input', () => {
    throwsCode(() => shouldRetry({ ...base, requestBytesWritten: -1 }), 'ErrBadArgument');
    throwsCode(() => shouldRetry({ ...base, cause: 'eof' as RetryInput['cause'] }), 'ErrBadArgument');
    throwsCode(() => shouldRetry({ ...base, method: '' }), 'ErrBadArgument');
    throwsCode(() => shouldRetry({ ...base, reused: 1 as unknown as boolean }), 'ErrBadArgument');
    throwsCode(
      () => shouldRetry({ ...base, headers: {} as unknown as RetryInput['headers'] }),
      'ErrBadArgument',
    );
  });
});
