/**
 * What the SP option API must accept and refuse, stated from the references, not from impl/sp/:
 * each option's valid values (type and range), which socket types take it, which a dialer or a
 * listener takes, and the typed error a refusal must carry. The options family
 * (families/options.ts) sets generated values through the public API and judges them by this
 * table; the scenario model (model.ts) validates scenario files with it, so a value the reference
 * calls valid that the stack refuses is a finding of the run, not a bad scenario. No value import
 * from impl/ (lint rule netlab/independent-oracles): an oracle that calls the stack's own validator
 * agrees with the stack's bug in it. Sources: sp.md = /work/shared/reference/sp.md (mangos
 * `internal/test/options.go`, nng's option docs), README = impl/sp/README.md (netlab's documented
 * choices).
 */
import type { OptionName } from '../../impl/sp/options.js';

/** How an option's values are checked. */
export type SpecOptionRule =
  /** null = no deadline, else an integer number of µs >= 1. */
  | { kind: 'deadline' }
  /** An integer in [min, max]. */
  | { kind: 'integer'; min: number; max: number }
  | { kind: 'boolean' }
  /** Bytes (Uint8Array) or a string (taken as its UTF-8 bytes). */
  | { kind: 'topic' }
  /** Read-only: getOption may answer, setOption is always refused (ErrBadOption). */
  | { kind: 'readonly' };

/**
 * Largest queue length (messages) netlab documents for WRITEQ-LEN / READQ-LEN: every queue has an
 * explicit bound (shared/STYLE.md); the option docs (`netlab cat --help`, README "Options") say
 * 0..1 000 000. mangos takes any int >= 0 (sp.md §5: QLen −1 → ErrBadValue).
 */
export const SPEC_MAX_QUEUE_LEN = 1_000_000;
/** Largest MAX-RCV-SIZE: a frame length must be an exact JavaScript integer (README "Max receive size": above 2^53−1 is ErrTooLong). */
export const SPEC_MAX_RECV_BYTES = Number.MAX_SAFE_INTEGER;
/** Durations are integer µs; the largest is the largest exact integer. */
const MAX_US = Number.MAX_SAFE_INTEGER;
/** TTL range: mangos 1..255 (sp.md §3 REQ/REP "TTL range"; checklist item 26: 0, −1, 256 → ErrBadValue). */
export const SPEC_TTL_MIN = 1;
export const SPEC_TTL_MAX = 255;

export const SPEC_OPTION_RULES: Readonly<Record<OptionName, SpecOptionRule>> = Object.freeze({
  // sp.md §5: mangos rep's SEND/RECV-DEADLINE require > 0; netlab spells "none" null (README).
  'RECV-DEADLINE': { kind: 'deadline' },
  'SEND-DEADLINE': { kind: 'deadline' },
  'RETRY-TIME': { kind: 'integer', min: 0, max: MAX_US }, // sp.md §3: 0 disables resending
  'WRITEQ-LEN': { kind: 'integer', min: 0, max: SPEC_MAX_QUEUE_LEN }, // sp.md §5: rep's mangos default is 0
  'READQ-LEN': { kind: 'integer', min: 0, max: SPEC_MAX_QUEUE_LEN }, // sp.md §5: nng pair's 0
  LINGER: { kind: 'integer', min: 0, max: MAX_US },
  'MAX-RCV-SIZE': { kind: 'integer', min: 0, max: SPEC_MAX_RECV_BYTES }, // sp.md §5: −1 bad, 0 = unlimited
  // sp.md §7 (nng#1964): a zero reconnect time spins; README: >= 1.
  'RECONNECT-TIME': { kind: 'integer', min: 1, max: MAX_US },
  'MAX-RECONNECT-TIME': { kind: 'integer', min: 0, max: MAX_US }, // sp.md §4: 0 = no backoff
  // sp.md §1 and checklist item 4: a bounded handshake; a zero bound would cut every handshake.
  'HANDSHAKE-TIMEOUT': { kind: 'integer', min: 1, max: MAX_US },
  TTL: { kind: 'integer', min: SPEC_TTL_MIN, max: SPEC_TTL_MAX },
  'BEST-EFFORT': { kind: 'boolean' },
  'FAIL-NO-PEERS': { kind: 'boolean' },
  'GARBAGE-CLOSES-PIPE': { kind: 'boolean' },
  'DIAL-ASYNCH': { kind: 'boolean' },
  RAW: { kind: 'readonly' }, // sp.md §5: "read-only bool"
  'LOCAL-ADDR': { kind: 'readonly' },
  'REMOTE-ADDR': { kind: 'readonly' },
  'SURVEY-TIME': { kind: 'integer', min: 0, max: MAX_US }, // README: 0 = no time limit
  SUBSCRIBE: { kind: 'topic' }, // sp.md §5: []byte or string
  UNSUBSCRIBE: { kind: 'topic' },
  'PREFER-NEW': { kind: 'boolean' },
  POLYAMOROUS: { kind: 'boolean' },
});

/** Every option name the reference knows. */
export const SPEC_OPTION_NAMES: readonly OptionName[] = Object.freeze(
  Object.keys(SPEC_OPTION_RULES) as OptionName[],
);

/**
 * Options every socket type takes: mangos' core handles deadlines, queue lengths, BEST-EFFORT,
 * LINGER, the receive limit, reconnect times and DIAL-ASYNCH for every protocol, and RAW is
 * readable everywhere (sp.md §5); netlab adds HANDSHAKE-TIMEOUT (README "Handshake timeout").
 */
const CORE: readonly OptionName[] = [
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
];

/**
 * A socket type's own options on top of CORE (sp.md §3 and §5, README per protocol): RETRY-TIME and
 * FAIL-NO-PEERS on REQ (sp.md §5 BEST-EFFORT / FAIL-NO-PEERS rows), FAIL-NO-PEERS on PUSH, TTL on
 * whatever checks hops (rep, respondent, xrep, xrespondent, pair1, xpair1, star, xstar: sp.md §5 TTL
 * row), GARBAGE-CLOSES-PIPE on the cooked sockets that parse a header (README "Garbage"),
 * SURVEY-TIME on the surveyor, SUBSCRIBE / UNSUBSCRIBE on SUB only (README: XSUB has no
 * subscriptions), PREFER-NEW on every PUB/SUB socket (README pub/sub), POLYAMOROUS on PAIR1.
 */
const PROTOCOL_EXTRAS: Readonly<Record<string, readonly OptionName[]>> = Object.freeze({
  pair0: [],
  xpair0: [],
  pair1: ['TTL', 'GARBAGE-CLOSES-PIPE', 'POLYAMOROUS'],
  xpair1: ['TTL', 'GARBAGE-CLOSES-PIPE', 'POLYAMOROUS'],
  req0: ['RETRY-TIME', 'FAIL-NO-PEERS', 'GARBAGE-CLOSES-PIPE'],
  xreq0: [],
  rep0: ['TTL', 'GARBAGE-CLOSES-PIPE'],
  xrep0: ['TTL'],
  surveyor0: ['SURVEY-TIME', 'GARBAGE-CLOSES-PIPE'],
  xsurveyor0: [],
  respondent0: ['TTL', 'GARBAGE-CLOSES-PIPE'],
  xrespondent0: ['TTL'],
  pub0: ['PREFER-NEW'],
  xpub0: ['PREFER-NEW'],
  sub0: ['SUBSCRIBE', 'UNSUBSCRIBE', 'PREFER-NEW'],
  xsub0: ['PREFER-NEW'],
  push0: ['FAIL-NO-PEERS'],
  xpush0: ['FAIL-NO-PEERS'],
  pull0: [],
  xpull0: [],
  bus0: [],
  xbus0: [],
  star: ['TTL'],
  xstar: ['TTL'],
});

/** The option names a socket of `protocol` (nng name, raw with an x) takes; throws for an unknown protocol. */
export function specSocketOptions(protocol: string): readonly OptionName[] {
  const extras = PROTOCOL_EXTRAS[protocol];
  if (extras === undefined) throw new Error(`no socket type '${protocol}' in the option reference`);
  return [...CORE, ...extras];
}

/**
 * What a dialer or a listener takes as its own (overriding the socket's): the receive limit (sp.md
 * §1: "Listener/dialer value overrides socket", checklist item 7), the reconnect times (nng sets them
 * per dialer, sp.md §4), the handshake bound (per connection, sp.md §1) and DIAL-ASYNCH.
 */
export const SPEC_ENDPOINT_OPTIONS: readonly OptionName[] = Object.freeze([
  'MAX-RCV-SIZE',
  'RECONNECT-TIME',
  'MAX-RECONNECT-TIME',
  'HANDSHAKE-TIMEOUT',
  'DIAL-ASYNCH',
] as OptionName[]);

/** The refusal the reference requires for a setOption, or null when the set must be accepted. */
export type SpecOptionVerdict = null | 'ErrBadOption' | 'ErrBadValue' | 'ErrProtoState';

/**
 * Options settable only before the socket dials or listens (its first dialer or listener made):
 * afterwards a valid value is ErrProtoState. POLYAMOROUS: nng refuses NNG_OPT_PAIR1_POLY once the
 * socket started (NNG_EBUSY; sp.md §3 PAIR1 "nng polyamorous"); README "PAIR1 polyamorous": "Settable
 * only before the socket dials or listens; afterwards ErrProtoState" (whatever the value: the
 * state is what refuses it).
 */
export const SPEC_SET_BEFORE_START: readonly OptionName[] = Object.freeze(['POLYAMOROUS'] as OptionName[]);

/** Whether `value` is valid for `name` by the rule alone (the socket type aside). */
export function specValueValid(name: OptionName, value: unknown): boolean {
  const rule = SPEC_OPTION_RULES[name];
  const intIn = (min: number, max: number) =>
    typeof value === 'number' && Number.isSafeInteger(value) && value >= min && value <= max;
  switch (rule.kind) {
    case 'deadline':
      return value === null || intIn(1, MAX_US);
    case 'integer':
      return intIn(rule.min, rule.max);
    case 'boolean':
      return typeof value === 'boolean';
    case 'topic':
      return typeof value === 'string' || value instanceof Uint8Array;
    case 'readonly':
      return false;
  }
}

/**
 * The reference's verdict on setting `name` to `value` on a socket of `protocol` (or on one of its
 * dialers or listeners): unknown name, a name the socket type (or endpoint) does not take, or a
 * read-only option → ErrBadOption (mangos: an option a protocol does not know is ErrBadOption, sp.md
 * §5); a wrong type or a value out of range → ErrBadValue (sp.md §5, checklist items 8 and 26).
 */
export function specSetVerdict(
  protocol: string,
  target: 'socket' | 'dialer' | 'listener',
  name: string,
  value: unknown,
): SpecOptionVerdict {
  if (!Object.hasOwn(SPEC_OPTION_RULES, name)) return 'ErrBadOption';
  const known = name as OptionName;
  const takes = target === 'socket' ? specSocketOptions(protocol) : SPEC_ENDPOINT_OPTIONS;
  if (!takes.includes(known)) return 'ErrBadOption';
  if (SPEC_OPTION_RULES[known].kind === 'readonly') return 'ErrBadOption';
  return specValueValid(known, value) ? null : 'ErrBadValue';
}

/** The reference's verdict on reading `name` from a socket of `protocol`: null when readable. */
export function specGetVerdict(protocol: string, name: string): SpecOptionVerdict {
  if (!Object.hasOwn(SPEC_OPTION_RULES, name)) return 'ErrBadOption';
  return specSocketOptions(protocol).includes(name as OptionName) ? null : 'ErrBadOption';
}
