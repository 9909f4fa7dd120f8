/**
 * Typed errors of the pool's decision core (impl/http1/pool-core.ts): a bad option, a bad argument
 * or a misuse by the driver (an id it never got, a connection it already gave back) is a PoolError
 * with a stable `code`, thrown before the core changes any state, so a driver bug can never leave
 * the counts wrong. Broken internal invariants are plain assertions instead (STYLE.md habit 5).
 */

/** Stable error codes. Never rename one: traces, reports and users match on them. */
export type PoolErrorCode =
  /** An option has the wrong type or is out of range. */
  | 'ErrBadOption'
  /** An argument (a time, an id, a key, a retry input) has the wrong type or is out of range. */
  | 'ErrBadArgument'
  /** A time went backwards: every input's nowUs must be >= the previous one's. */
  | 'ErrTimeBackwards'
  /** acquire() with a waiterId that is still waiting. */
  | 'ErrDuplicateWaiter'
  /** acquire() when the key already has maxWaitersPerHost waiters. */
  | 'ErrTooManyWaiters'
  /** dialDone()/dialFailed() for a dialId the core never gave out or already settled. */
  | 'ErrUnknownDial'
  /** dialDone() with a connId that is already live in the pool. */
  | 'ErrDuplicateConn'
  /** release()/connClosed() for a connId the pool does not hold (never dialed, or closed). */
  | 'ErrUnknownConn'
  /** release() of a connection that is idle, not delivered to a request. */
  | 'ErrConnNotActive';

/** Every code once, in declaration order: for exhaustive tests and documentation tables. */
export const POOL_ERROR_CODES: readonly PoolErrorCode[] = Object.freeze([
  'ErrBadOption',
  'ErrBadArgument',
  'ErrTimeBackwards',
  'ErrDuplicateWaiter',
  'ErrTooManyWaiters',
  'ErrUnknownDial',
  'ErrDuplicateConn',
  'ErrUnknownConn',
  'ErrConnNotActive',
] as const satisfies readonly PoolErrorCode[]);

/** A pool failure with a stable `code`; the message says what happened and with which values. */
export class PoolError extends Error {
  override readonly name = 'PoolError';
  constructor(
    readonly code: PoolErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

export function isPoolError(e: unknown, code?: PoolErrorCode): e is PoolError {
  return e instanceof PoolError && (code === undefined || e.code === code);
}
