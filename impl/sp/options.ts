/**
 * The registry of SP socket options: one typed table of every option's name (spelled as mangos
 * spells it), value type, default, unit and validation, plus OptionStore, the per-socket holder
 * that protocols restrict to the names they support. Defaults follow mangos v3 where it has one
 * (sp.md §5) and are pinned by options.test.ts.
 *
 * Units: every duration is an integer number of microseconds (virtual time in the simulator);
 * TypeScript names for them end in `Us` (see OPTION_KEYS). Deadlines use `null` for "none"
 * instead of mangos' 0, so 0 can never mean two things.
 */
import { SpError } from './errors.js';

/** Option values after validation. Durations are integer microseconds. */
export interface OptionValues {
  /** Receive timeout in µs; null = block forever. */
  'RECV-DEADLINE': number | null;
  /** Send timeout in µs; null = block forever. */
  'SEND-DEADLINE': number | null;
  /** REQ resend interval in µs; 0 = never resend. */
  'RETRY-TIME': number;
  /** Send queue length in messages. */
  'WRITEQ-LEN': number;
  /** Receive queue length in messages. */
  'READQ-LEN': number;
  /** How long close() may spend flushing queued sends, in µs. */
  LINGER: number;
  /** Largest accepted message body in bytes; 0 = unlimited. */
  'MAX-RCV-SIZE': number;
  /** First (and, without MAX-RECONNECT-TIME, every) redial interval in µs. */
  'RECONNECT-TIME': number;
  /** Cap of the growing redial interval in µs; 0 = no growth. */
  'MAX-RECONNECT-TIME': number;
  /** A connection whose peer has not sent its 8-byte header within this many µs is closed. */
  'HANDSHAKE-TIMEOUT': number;
  /** Most hops (header words, request id included) a message may carry; 1..255. */
  TTL: number;
  /** Drop a message instead of blocking when the send queue is full. */
  'BEST-EFFORT': boolean;
  /** Fail sends with ErrNoPeers instead of queueing when no peer is connected. */
  'FAIL-NO-PEERS': boolean;
  /**
   * REQ/REP: close the pipe a malformed request or reply came from (nng) instead of dropping the
   * message and keeping the pipe (mangos, the default).
   */
  'GARBAGE-CLOSES-PIPE': boolean;
  /** Dial in the background and keep retrying, instead of failing on the first refusal. */
  'DIAL-ASYNCH': boolean;
  /** Read-only: the socket is raw (x*), i.e. the application handles protocol headers. */
  RAW: boolean;
  /** Read-only: the local address of a pipe ('' when none). */
  'LOCAL-ADDR': string;
  /** Read-only: the remote address of a pipe ('' when none). */
  'REMOTE-ADDR': string;
  /** How long a surveyor collects responses, in µs. */
  'SURVEY-TIME': number;
  /** Topic prefix to subscribe to (a string is taken as its UTF-8 bytes); the last one set. */
  SUBSCRIBE: Uint8Array;
  /** Topic prefix to unsubscribe from (a string is taken as its UTF-8 bytes); the last one set. */
  UNSUBSCRIBE: Uint8Array;
  /**
   * PUB per-pipe queue or SUB receive queue full: drop the oldest queued message (true, nng's
   * choice and its SUB_PREFNEW: fresher data) or the new one (false, mangos PUB).
   */
  'PREFER-NEW': boolean;
  /**
   * PAIR1 only: accept many peers at once (nng's NNG_OPT_PAIR1_POLY); settable only before the
   * socket dials or listens (then ErrProtoState, nng's NNG_EBUSY).
   */
  POLYAMOROUS: boolean;
}

export type OptionName = keyof OptionValues;

/** Every option name once, in table order. */
export const OPTION_NAMES: readonly OptionName[] = Object.freeze([
  'RECV-DEADLINE',
  'SEND-DEADLINE',
  'RETRY-TIME',
  'WRITEQ-LEN',
  'READQ-LEN',
  'LINGER',
  'MAX-RCV-SIZE',
  'RECONNECT-TIME',
  'MAX-RECONNECT-TIME',
  'HANDSHAKE-TIMEOUT',
  'TTL',
  'BEST-EFFORT',
  'FAIL-NO-PEERS',
  'GARBAGE-CLOSES-PIPE',
  'DIAL-ASYNCH',
  'RAW',
  'LOCAL-ADDR',
  'REMOTE-ADDR',
  'SURVEY-TIME',
  'SUBSCRIBE',
  'UNSUBSCRIBE',
  'PREFER-NEW',
  'POLYAMOROUS',
] as const satisfies readonly OptionName[]);

/**
 * Options netlab's socket core itself handles for every protocol (impl/sp/core/socket.ts: its send
 * and receive queues, deadlines and best-effort rule, besides what mangos' core handles): protocols
 * add their own names to these when they build an OptionStore's `allowed` list.
 */
export const CORE_OPTION_NAMES: readonly OptionName[] = Object.freeze([
  'RECV-DEADLINE',
  'SEND-DEADLINE',
  'WRITEQ-LEN',
  'READQ-LEN',
  'BEST-EFFORT',
  'LINGER',
  'MAX-RCV-SIZE',
  'RECONNECT-TIME',
  'MAX-RECONNECT-TIME',
  'HANDSHAKE-TIMEOUT',
  'DIAL-ASYNCH',
  'RAW',
] as const satisfies readonly OptionName[]);

const SECOND_US = 1_000_000;
const MS_US = 1_000;
const MAX_QUEUE_LEN = 1_000_000;

export const OPTION_DEFAULTS: Readonly<OptionValues> = Object.freeze({
  'RECV-DEADLINE': null,
  'SEND-DEADLINE': null,
  'RETRY-TIME': 60 * SECOND_US, // mangos resendTime time.Minute; nng 60000 ms
  'WRITEQ-LEN': 128,
  'READQ-LEN': 128,
  LINGER: SECOND_US, // documented by mangos, implemented by none of its v3 protocols (sp.md §5)
  'MAX-RCV-SIZE': 1024 * 1024, // mangos defaultMaxRxSize; nng's 0 = unlimited invites nanomsg#461
  'RECONNECT-TIME': 100 * MS_US,
  'MAX-RECONNECT-TIME': 0,
  'HANDSHAKE-TIMEOUT': 10 * SECOND_US, // nng's value; mangos has none (mangos#108)
  TTL: 8,
  'BEST-EFFORT': false,
  'FAIL-NO-PEERS': false,
  'GARBAGE-CLOSES-PIPE': false,
  'DIAL-ASYNCH': false,
  RAW: false,
  'LOCAL-ADDR': '',
  'REMOTE-ADDR': '',
  'SURVEY-TIME': SECOND_US, // mangos, nng and nanomsg agree on 1 s; the RFC's 60 s is not used
  SUBSCRIBE: new Uint8Array(0),
  UNSUBSCRIBE: new Uint8Array(0),
  'PREFER-NEW': true, // nng: PUB drops the oldest, SUB_PREFNEW defaults to true (sp.md §3)
  POLYAMOROUS: false, // nng's default: a PAIR1 socket is mono unless made poly before it starts
});

export const OPTION_DOCS: Readonly<Record<OptionName, string>> = Object.freeze({
  'RECV-DEADLINE': 'receive timeout in µs, > 0; null = none (default null)',
  'SEND-DEADLINE': 'send timeout in µs, > 0; null = none (default null)',
  'RETRY-TIME': 'REQ resend interval in µs; 0 = never resend (default 60 000 000 = 60 s)',
  'WRITEQ-LEN': 'send queue length in messages, 0..1 000 000 (default 128)',
  'READQ-LEN': 'receive queue length in messages, 0..1 000 000 (default 128)',
  LINGER: 'time close() may spend flushing queued sends, in µs (default 1 000 000 = 1 s)',
  'MAX-RCV-SIZE':
    'largest accepted message in bytes, checked before allocating; 0 = unlimited (default 1 048 576 = 1 MiB)',
  'RECONNECT-TIME': 'first redial interval in µs, >= 1 (default 100 000 = 100 ms)',
  'MAX-RECONNECT-TIME': 'cap of the growing redial interval in µs; 0 = no growth (default 0)',
  'HANDSHAKE-TIMEOUT':
    'close a connection whose peer header is not in within this many µs, >= 1 (default 10 000 000 = 10 s)',
  TTL: 'most hops a message may carry, request id included, 1..255 (default 8)',
  'BEST-EFFORT': 'drop instead of blocking when the send queue is full (default false)',
  'FAIL-NO-PEERS': 'fail sends with ErrNoPeers when no peer is connected (default false)',
  'GARBAGE-CLOSES-PIPE':
    'REQ/REP: close the pipe of a malformed message, as nng, instead of dropping it, as mangos (default false)',
  'DIAL-ASYNCH': 'dial in the background and keep retrying instead of failing on refusal (default false)',
  RAW: 'read-only: the socket is raw (default false)',
  'LOCAL-ADDR': "read-only: local address of a pipe (default '')",
  'REMOTE-ADDR': "read-only: remote address of a pipe (default '')",
  'SURVEY-TIME': 'how long a surveyor collects responses, in µs (default 1 000 000 = 1 s)',
  SUBSCRIBE:
    'topic prefix to subscribe to, bytes or UTF-8 string; empty = everything (no default subscription)',
  UNSUBSCRIBE: 'topic prefix to unsubscribe from, bytes or UTF-8 string',
  'PREFER-NEW':
    'PUB/SUB: a full queue drops its oldest message (true, nng) or the new one (false, mangos PUB) (default true)',
  POLYAMOROUS:
    'PAIR1: many peers, each message to the pipe it names (nng NNG_OPT_PAIR1_POLY); only before dial/listen (default false)',
});

/** TypeScript names of the options, carrying their unit, for config objects and reports. */
export const OPTION_KEYS: Readonly<Record<OptionName, string>> = Object.freeze({
  'RECV-DEADLINE': 'recvDeadlineUs',
  'SEND-DEADLINE': 'sendDeadlineUs',
  'RETRY-TIME': 'retryTimeUs',
  'WRITEQ-LEN': 'writeQueueLen',
  'READQ-LEN': 'readQueueLen',
  LINGER: 'lingerUs',
  'MAX-RCV-SIZE': 'maxRecvBytes',
  'RECONNECT-TIME': 'reconnectTimeUs',
  'MAX-RECONNECT-TIME': 'maxReconnectTimeUs',
  'HANDSHAKE-TIMEOUT': 'handshakeTimeoutUs',
  TTL: 'ttlHops',
  'BEST-EFFORT': 'bestEffort',
  'FAIL-NO-PEERS': 'failNoPeers',
  'GARBAGE-CLOSES-PIPE': 'garbageClosesPipe',
  'DIAL-ASYNCH': 'dialAsync',
  RAW: 'raw',
  'LOCAL-ADDR': 'localAddr',
  'REMOTE-ADDR': 'remoteAddr',
  'SURVEY-TIME': 'surveyTimeUs',
  SUBSCRIBE: 'subscribeTopic',
  UNSUBSCRIBE: 'unsubscribeTopic',
  'PREFER-NEW': 'preferNew',
  POLYAMOROUS: 'polyamorous',
});

type Rule =
  | { kind: 'deadline' }
  | { kind: 'integer'; min: number; max: number; unit: string }
  | { kind: 'boolean' }
  | { kind: 'topic' }
  | { kind: 'readonly' };

const duration = (minUs: number): Rule => ({
  kind: 'integer',
  min: minUs,
  max: Number.MAX_SAFE_INTEGER,
  unit: 'µs',
});
const queueLen: Rule = { kind: 'integer', min: 0, max: MAX_QUEUE_LEN, unit: 'messages' };

const RULES: Readonly<Record<OptionName, Rule>> = Object.freeze({
  // mangos rep requires deadlines > 0; with null for "none", 0 would only be ambiguous.
  'RECV-DEADLINE': { kind: 'deadline' },
  'SEND-DEADLINE': { kind: 'deadline' },
  'RETRY-TIME': duration(0),
  'WRITEQ-LEN': queueLen,
  'READQ-LEN': queueLen,
  LINGER: duration(0),
  'MAX-RCV-SIZE': { kind: 'integer', min: 0, max: Number.MAX_SAFE_INTEGER, unit: 'bytes' },
  // 0 would redial in a hard loop: nng#1964 ("missing default of zero leads to a hard spin").
  'RECONNECT-TIME': duration(1),
  'MAX-RECONNECT-TIME': duration(0),
  // A zero timeout would close every connection before its header could arrive.
  'HANDSHAKE-TIMEOUT': duration(1),
  TTL: { kind: 'integer', min: 1, max: 255, unit: 'hops' }, // mangos range; nng caps at 15
  'BEST-EFFORT': { kind: 'boolean' },
  'FAIL-NO-PEERS': { kind: 'boolean' },
  'GARBAGE-CLOSES-PIPE': { kind: 'boolean' },
  'DIAL-ASYNCH': { kind: 'boolean' },
  RAW: { kind: 'readonly' },
  'LOCAL-ADDR': { kind: 'readonly' },
  'REMOTE-ADDR': { kind: 'readonly' },
  'SURVEY-TIME': duration(0),
  SUBSCRIBE: { kind: 'topic' },
  UNSUBSCRIBE: { kind: 'topic' },
  'PREFER-NEW': { kind: 'boolean' },
  POLYAMOROUS: { kind: 'boolean' },
});

function isOptionName(name: string): name is OptionName {
  return Object.hasOwn(RULES, name);
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Uint8Array) return `Uint8Array(${value.length})`;
  if (typeof value === 'object' && value !== null) return Object.prototype.toString.call(value);
  return String(value);
}

function badValue(name: OptionName, want: string, value: unknown): never {
  throw new SpError('ErrBadValue', `option ${name} must be ${want}, got ${show(value)}`);
}

function checkInteger(name: OptionName, value: unknown, min: number, max: number, unit: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    badValue(name, `an integer ${range} (${unit})`, value);
  }
  return value;
}

/** Validates `value` for `name`, read-only options included (the socket itself sets those). */
function checkValue(name: OptionName, value: unknown): OptionValues[OptionName] {
  const rule = RULES[name];
  switch (rule.kind) {
    case 'deadline':
      if (value === null) return null;
      return checkInteger(name, value, 1, Number.MAX_SAFE_INTEGER, 'µs; null = none');
    case 'integer':
      return checkInteger(name, value, rule.min, rule.max, rule.unit);
    case 'boolean':
      if (typeof value !== 'boolean') badValue(name, 'true or false', value);
      return value;
    case 'topic':
      if (typeof value === 'string') return new TextEncoder().encode(value);
      // Copied, so a caller reusing its buffer cannot change a subscription behind the socket's back.
      if (value instanceof Uint8Array) return value.slice();
      return badValue(name, 'a Uint8Array or a string', value);
    case 'readonly':
      if (name === 'RAW') {
        if (typeof value !== 'boolean') badValue(name, 'true or false', value);
        return value;
      }
      if (typeof value !== 'string') badValue(name, 'a string', value);
      return value;
  }
}

function unknownOption(name: string): never {
  throw new SpError('ErrBadOption', `unknown option '${name}' (known: ${OPTION_NAMES.join(', ')})`);
}

/**
 * Validates a value a user sets, returning it normalized (topics become a private Uint8Array).
 * Throws SpError ErrBadOption for an unknown or read-only name, ErrBadValue for a wrong type or range.
 */
export function validateOption<N extends OptionName>(name: string, value: unknown): OptionValues[N] {
  if (!isOptionName(name)) unknownOption(name);
  if (RULES[name].kind === 'readonly') throw new SpError('ErrBadOption', `option ${name} is read-only`);
  return checkValue(name, value) as OptionValues[N];
}

/**
 * The options of one socket. `allowed` lists the names this socket type accepts (default: all);
 * others are ErrBadOption, as mangos protocols answer options they do not know. Overrides given to
 * the constructor are validated too, and may set read-only options (the socket decides RAW).
 */
export class OptionStore {
  private readonly values: OptionValues;
  private readonly allowed: ReadonlySet<OptionName>;
  private readonly listeners: ((name: OptionName) => void)[] = [];
  /** Names given explicitly (constructor override or set()), so endpoint stores can fall back to the socket's. */
  private readonly explicit = new Set<OptionName>();

  constructor(overrides: Partial<OptionValues> = {}, allowed: readonly OptionName[] = OPTION_NAMES) {
    for (const name of allowed) if (!isOptionName(name)) unknownOption(name);
    this.allowed = new Set(allowed);
    const values: Record<string, unknown> = { ...OPTION_DEFAULTS };
    for (const [name, value] of Object.entries(overrides)) {
      if (value === undefined) continue; // tolerated from JS callers
      const known = this.check(name);
      values[known] = checkValue(known, value);
      this.explicit.add(known);
    }
    this.values = values as unknown as OptionValues;
  }

  /** The current value; ErrBadOption when this socket does not support the option. */
  get<N extends OptionName>(name: N): OptionValues[N] {
    return this.values[this.check(name) as N];
  }

  /**
   * true when the option was given explicitly (constructor override or set()) rather than left at
   * its default; false for names this store does not allow. Endpoint (dialer/listener) stores use it
   * to fall back to the socket's value, as nng listener/dialer options override the socket's.
   */
  has(name: OptionName): boolean {
    return this.explicit.has(name);
  }

  /** Validates and stores a value, then tells every onChange listener (even when the value is unchanged: SUBSCRIBE is an action); a listener that throws undoes the set. */
  set(name: string, value: unknown): void {
    const known = this.check(name);
    const normalized = validateOption(known, value);
    const values = this.values as unknown as Record<OptionName, unknown>;
    const old = values[known];
    const wasExplicit = this.explicit.has(known);
    values[known] = normalized;
    this.explicit.add(known);
    try {
      for (const fn of this.listeners) fn(known);
    } catch (e) {
      // A listener refused the value (UNSUBSCRIBE of a topic not subscribed: ErrBadValue): a
      // refused set leaves the option as it was (found by the options family, options.refused-keeps-old).
      values[known] = old;
      if (!wasExplicit) this.explicit.delete(known);
      throw e;
    }
  }

  /** Calls `fn` after every successful set(), with the option's name. */
  onChange(fn: (name: OptionName) => void): void {
    this.listeners.push(fn);
  }

  private check(name: string): OptionName {
    if (!isOptionName(name)) unknownOption(name);
    if (!this.allowed.has(name)) {
      throw new SpError(
        'ErrBadOption',
        `option ${name} is not supported by this socket (supported: ${[...this.allowed].join(', ')})`,
      );
    }
    return name;
  }
}
