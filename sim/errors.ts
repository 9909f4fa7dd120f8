/**
 * Typed errors of the simulator. Every error a caller can provoke (bad delays, foreign handles,
 * running a finished world, overflowing a bound) is a SimError with a stable `code`, so tests and
 * the report can match on the code rather than on message text.
 */

/** Stable error codes. Never rename one: reports and users match on them. */
export type SimErrorCode =
  /** A delay or time that is negative, NaN, infinite or beyond the safe-integer range. */
  | 'ERR_BAD_DELAY'
  /** A timer handle that belongs to another world, or is not a timer handle at all. */
  | 'ERR_FOREIGN_TIMER'
  /** The world was closed or failed; it accepts no more events or runs. */
  | 'ERR_WORLD_FINISHED'
  /** run() was called while a run of the same world is still in progress. */
  | 'ERR_WORLD_RUNNING'
  /** An event callback (or the async body it returned) threw; the world is now finished. */
  | 'ERR_EVENT_THREW'
  /** The event queue reached its configured bound (maxPendingEvents). */
  | 'ERR_QUEUE_FULL'
  /** An option or argument had the wrong type or range. */
  | 'ERR_BAD_ARGUMENT';

export class SimError extends Error {
  override readonly name = 'SimError';
  readonly code: SimErrorCode;

  constructor(code: SimErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.code = code;
  }
}

/** Validates a delay in virtual microseconds and rounds a fractional one up (never earlier than asked). */
export function checkDelayUs(delayUs: number, what: string): number {
  // Number.isFinite is false for NaN, ±Infinity and anything that is not a number.
  if (!Number.isFinite(delayUs) || delayUs < 0) {
    throw new SimError(
      'ERR_BAD_DELAY',
      `${what} must be a finite number >= 0 (microseconds), got ${String(delayUs)}`,
    );
  }
  const rounded = Math.ceil(delayUs);
  if (rounded > Number.MAX_SAFE_INTEGER) {
    throw new SimError(
      'ERR_BAD_DELAY',
      `${what} is beyond the safe-integer range of virtual time: ${delayUs}`,
    );
  }
  return rounded;
}
