/**
 * Typed errors of the reactor (impl/reactor/): every failure a peer, a timeout, a handler or a
 * caller can provoke is a ReactorError with a stable `code`, so tests, traces, close reasons and the
 * third-party checks match on the code, never on the message text. Network failures underneath keep
 * the runtime's NetError codes (ECONNRESET...), carried as the `cause`. Broken internal invariants
 * are plain assertions instead (STYLE.md habit 5).
 */

/** Stable error codes. Never rename one: reports, close-reason counters and users match on them. */
export type ReactorErrorCode =
  /** The connection (or server, or buffer) is closed; the operation can never succeed. */
  | 'ErrConnClosed'
  /** The peer ended its side (half-close) before the bytes a read waits for arrived. */
  | 'ErrEOF'
  /** A blocking read waited readTimeout without getting its bytes. */
  | 'ErrReadTimeout'
  /** A flush could not bring the unsent output down to outputHighWaterBytes within writeTimeout. */
  | 'ErrWriteTimeout'
  /** The connection saw no input and no output for idleTimeout. */
  | 'ErrIdleTimeout'
  /** A second flush started while one was still waiting (netpoll's ErrConcurrentAccess). */
  | 'ErrConcurrentFlush'
  /** A second blocking read started on a connection while one was still waiting. */
  | 'ErrConcurrentRead'
  /** A read asked for more bytes than are buffered (a non-blocking read), or a negative count. */
  | 'ErrNotEnough'
  /** A buffer, slice or view was used after release(), or released twice. */
  | 'ErrReleased'
  /** Unread input would exceed maxInputBytes: the bytes were refused and the connection closed. */
  | 'ErrInputOverflow'
  /** onRequest returned maxUnconsumedRuns times in a row without consuming input or closing. */
  | 'ErrHandlerSpin'
  /** A handler (onConnect, onRequest) threw or rejected; the connection was closed. */
  | 'ErrHandler'
  /** An option or argument value has the wrong type or is out of range. */
  | 'ErrBadOption'
  /** The server is shutting down: it accepts nothing more. */
  | 'ErrServerClosed';

/** Every code once, in declaration order: for exhaustive tests and documentation tables. */
const CODES = Object.freeze([
  'ErrConnClosed',
  'ErrEOF',
  'ErrReadTimeout',
  'ErrWriteTimeout',
  'ErrIdleTimeout',
  'ErrConcurrentFlush',
  'ErrConcurrentRead',
  'ErrNotEnough',
  'ErrReleased',
  'ErrInputOverflow',
  'ErrHandlerSpin',
  'ErrHandler',
  'ErrBadOption',
  'ErrServerClosed',
] as const satisfies readonly ReactorErrorCode[]);
export const REACTOR_ERROR_CODES: readonly ReactorErrorCode[] = CODES;

/** A reactor failure with a stable `code`; the message says what happened and with which values. */
export class ReactorError extends Error {
  override readonly name = 'ReactorError';
  constructor(
    readonly code: ReactorErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
  }
}

export function isReactorError(e: unknown, code?: ReactorErrorCode): e is ReactorError {
  return e instanceof ReactorError && (code === undefined || e.code === code);
}
