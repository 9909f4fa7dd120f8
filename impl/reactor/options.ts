/**
 * The reactor's options: every bound with its documented default, validated once when a server or
 * a dialer is made. A value of the wrong type or out of range is a ReactorError ErrBadOption naming
 * the option, its range and the value given, never a silent clamp.
 *
 * Durations are integer microseconds (`...Us`) on the runtime's clock: virtual time on the
 * simulator, the host's monotonic clock on real sockets. A timeout of 0 means "none" (netpoll's
 * convention), except idleTimeoutUs where 0 also means none.
 */
import { ReactorError } from './errors.js';

export type LoadBalance = 'round-robin' | 'random' | 'least-connections';
export const LOAD_BALANCE_POLICIES: readonly LoadBalance[] = ['round-robin', 'random', 'least-connections'];

const KIB = 1024;
const MIB = 1024 * KIB;
const SECOND_US = 1_000_000;

/** Every option with its default; the README's table is this one. */
export const REACTOR_DEFAULTS: Readonly<Required<ReactorOptions>> = Object.freeze({
  /** Event loops per server or dialer group (netpoll: GOMAXPROCS/20 + 1; one per host here). */
  loops: 1,
  loadBalance: 'round-robin',
  /** LinkBuffer page size. */
  pageBytes: 8 * KIB,
  /** Free pages a loop group keeps for reuse; more are dropped to the garbage collector. */
  maxPooledPages: 1024,
  /** Checking mode: released pages are poisoned (0xDB) and quarantined before reuse. */
  checking: false,
  /** A blocking read (waitRead, waitUntil) waits at most this long. */
  readTimeoutUs: 30 * SECOND_US,
  /** A flush waits at most this long for the unsent output to fall to outputHighWaterBytes. */
  writeTimeoutUs: 30 * SECOND_US,
  /** A connection with no input and no output for this long is closed (netpoll sets keepalive). */
  idleTimeoutUs: 5 * 60 * SECOND_US,
  /** Reading stops when the input a connection holds reaches this (the peer's sender then blocks). */
  inputHighWaterBytes: 4 * MIB,
  /** Reading resumes once the input held falls to this (default: a quarter of the high-water mark). */
  inputLowWaterBytes: 1 * MIB,
  /**
   * Input held never exceeds this: a read that would is refused and the connection closed (default:
   * twice the high-water mark, room for the one read that crosses it).
   */
  maxInputBytes: 8 * MIB,
  /** flush() waits while more than this much committed output is unsent. */
  outputHighWaterBytes: 4 * MIB,
  /** onConnect/onRequest invocations running at once in a group; more wait in FIFO order. */
  maxConcurrentHandlers: 10_000,
  /** Open connections per server; beyond it the server stops taking connections in. */
  maxConnections: 10_000,
  /** Connections held unaccepted (not read) while a server is at maxConnections; more are closed. */
  acceptBacklog: 128,
  /** onRequest returning this many times in a row without consuming input or closing is a spin. */
  maxUnconsumedRuns: 8,
  /** Virtual CPU time each onRequest invocation costs its loop (ctx.charge adds more). */
  costUsPerRequest: 0,
});

export interface ReactorOptions {
  loops?: number;
  loadBalance?: LoadBalance;
  pageBytes?: number;
  maxPooledPages?: number;
  checking?: boolean;
  readTimeoutUs?: number;
  writeTimeoutUs?: number;
  idleTimeoutUs?: number;
  inputHighWaterBytes?: number;
  inputLowWaterBytes?: number;
  maxInputBytes?: number;
  outputHighWaterBytes?: number;
  maxConcurrentHandlers?: number;
  maxConnections?: number;
  acceptBacklog?: number;
  maxUnconsumedRuns?: number;
  costUsPerRequest?: number;
}

export type ResolvedReactorOptions = Required<ReactorOptions>;

/** Largest duration accepted: about 11.6 days, far beyond any sane timeout, far below 2^53. */
export const MAX_DURATION_US = 1_000_000 * SECOND_US;
/** Largest byte bound accepted (1 GiB): beyond it one connection could exhaust the process. */
export const MAX_BOUND_BYTES = 1024 * MIB;

const RANGES: Record<Exclude<keyof ReactorOptions, 'loadBalance' | 'checking'>, readonly [number, number]> = {
  loops: [1, 256],
  pageBytes: [64, 1 * MIB],
  maxPooledPages: [0, 1_000_000],
  readTimeoutUs: [0, MAX_DURATION_US],
  writeTimeoutUs: [0, MAX_DURATION_US],
  idleTimeoutUs: [0, MAX_DURATION_US],
  inputHighWaterBytes: [1, MAX_BOUND_BYTES],
  inputLowWaterBytes: [0, MAX_BOUND_BYTES],
  maxInputBytes: [1, MAX_BOUND_BYTES],
  outputHighWaterBytes: [0, MAX_BOUND_BYTES],
  maxConcurrentHandlers: [1, 1_000_000],
  maxConnections: [1, 1_000_000],
  acceptBacklog: [0, 1_000_000],
  maxUnconsumedRuns: [1, 1_000_000],
  costUsPerRequest: [0, MAX_DURATION_US],
};

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  // Never undefined: an option given as undefined is skipped before any check.
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return typeof value;
}

function bad(name: string, wanted: string, value: unknown): ReactorError {
  return new ReactorError('ErrBadOption', `option ${name} must be ${wanted}, got ${describe(value)}`);
}

/**
 * Fills in defaults and validates every option; throws ErrBadOption on the first bad one, and on an
 * unknown option name (a misspelt option silently ignored is a bound silently not applied).
 */
export function resolveReactorOptions(options: ReactorOptions = {}): ResolvedReactorOptions {
  const out: ResolvedReactorOptions = { ...REACTOR_DEFAULTS };
  for (const [name, value] of Object.entries(options) as [keyof ReactorOptions, unknown][]) {
    if (value === undefined) continue;
    if (name === 'loadBalance') {
      // includes() is false for any value that is not one of the policy strings, whatever its type.
      if (!(LOAD_BALANCE_POLICIES as readonly unknown[]).includes(value))
        throw bad(name, `one of ${LOAD_BALANCE_POLICIES.join(', ')}`, value);
      out.loadBalance = value as LoadBalance;
      continue;
    }
    if (name === 'checking') {
      if (typeof value !== 'boolean') throw bad(name, 'a boolean', value);
      out.checking = value;
      continue;
    }
    const range = (RANGES as Record<string, readonly [number, number] | undefined>)[name];
    if (range === undefined)
      throw new ReactorError(
        'ErrBadOption',
        `unknown option ${JSON.stringify(name)} (known: ${Object.keys(REACTOR_DEFAULTS).join(', ')})`,
      );
    const [min, max] = range;
    // isSafeInteger is false for anything that is not a number: no typeof check needed.
    if (!Number.isSafeInteger(value) || (value as number) < min || (value as number) > max)
      throw bad(name, `an integer in [${min}, ${max}]`, value);
    (out as Record<string, unknown>)[name] = value;
  }
  // The derived defaults follow a high-water mark the caller changed.
  if (options.inputLowWaterBytes === undefined)
    out.inputLowWaterBytes = Math.floor(out.inputHighWaterBytes / 4);
  if (options.maxInputBytes === undefined)
    out.maxInputBytes = Math.min(MAX_BOUND_BYTES, 2 * out.inputHighWaterBytes);
  if (out.inputLowWaterBytes >= out.inputHighWaterBytes)
    throw new ReactorError(
      'ErrBadOption',
      `option inputLowWaterBytes (${out.inputLowWaterBytes}) must be below inputHighWaterBytes (${out.inputHighWaterBytes})`,
    );
  if (out.maxInputBytes < out.inputHighWaterBytes)
    throw new ReactorError(
      'ErrBadOption',
      `option maxInputBytes (${out.maxInputBytes}) must be at least inputHighWaterBytes (${out.inputHighWaterBytes})`,
    );
  return out;
}
