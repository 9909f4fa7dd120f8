/**
 * Typed errors of the Scalability Protocols (SP) stack. Every failure a peer, a timeout or a caller
 * can provoke is an SpError with a stable `code` spelled as mangos spells it (`ErrBadHeader`, ...),
 * so tests, traces and the third-party checks match on the code, never on message text. Broken
 * internal invariants are plain assertions instead (STYLE.md habit 5).
 */

/** Stable error codes (mangos `errors/errors.go` names). Never rename one: reports and users match on them. */
export type SpErrorCode =
  /** The socket, context, dialer, listener or pipe was closed; the operation can never succeed. */
  | 'ErrClosed'
  /** A connection header had wrong magic (`00 'S' 'P'`), a non-zero reserved field, or was cut short. */
  | 'ErrBadHeader'
  /** A connection header carried an SP version other than 0. */
  | 'ErrBadVersion'
  /** The peer speaks a protocol that is not this socket's peer protocol (e.g. pull0 talking to pair0). */
  | 'ErrBadProto'
  /** A frame or message is longer than the receive limit (MAX-RCV-SIZE) or than any length we can represent. */
  | 'ErrTooLong'
  /** A send did not complete before SEND-DEADLINE. */
  | 'ErrSendTimeout'
  /** A receive did not complete before RECV-DEADLINE. */
  | 'ErrRecvTimeout'
  /** The operation is not valid in the protocol's current state (e.g. REP send before recv). */
  | 'ErrProtoState'
  /** The protocol does not support the operation at all (e.g. recv on a PUB socket). */
  | 'ErrProtoOp'
  /** The operation was canceled by a later one (e.g. a new REQ send cancels the pending request). */
  | 'ErrCanceled'
  /** Nobody listens at the dialed address. */
  | 'ErrConnRefused'
  /** Another listener already holds the address, or a dialer was started twice. */
  | 'ErrAddrInUse'
  /** The option name is unknown, read-only, or not supported by this socket type. */
  | 'ErrBadOption'
  /** An option or argument value has the wrong type or is out of range. */
  | 'ErrBadValue'
  /** A send failed at once because the socket has no peers and FAIL-NO-PEERS is set. */
  | 'ErrNoPeers'
  /** The operation needs a raw socket (e.g. a device) but got a cooked one. */
  | 'ErrNotRaw'
  /** The address names a transport scheme this stack does not provide. */
  | 'ErrBadTran'
  /** The address is malformed for its transport. */
  | 'ErrBadAddr'
  /** The connection was reset by the peer or the network. */
  | 'ErrConnReset'
  /** A network-level operation (connect, handshake) took longer than its bound. */
  | 'ErrTimedOut'
  /** A value of the wrong kind for the operation, such as a message or socket of an unexpected type. */
  | 'ErrBadType'
  /** A received message is malformed for its protocol (e.g. a REQ/REP header without its terminating word). */
  | 'ErrGarbled';

/** Every code once, in declaration order: for exhaustive tests and documentation tables. */
const CODES = Object.freeze([
  'ErrClosed',
  'ErrBadHeader',
  'ErrBadVersion',
  'ErrBadProto',
  'ErrTooLong',
  'ErrSendTimeout',
  'ErrRecvTimeout',
  'ErrProtoState',
  'ErrProtoOp',
  'ErrCanceled',
  'ErrConnRefused',
  'ErrAddrInUse',
  'ErrBadOption',
  'ErrBadValue',
  'ErrNoPeers',
  'ErrNotRaw',
  'ErrBadTran',
  'ErrBadAddr',
  'ErrConnReset',
  'ErrTimedOut',
  'ErrBadType',
  'ErrGarbled',
] as const satisfies readonly SpErrorCode[]);
export const SP_ERROR_CODES: readonly SpErrorCode[] = CODES;
// Fails to compile when a code is added to the union but not to the list.
const _everyCodeListed: Exclude<SpErrorCode, (typeof CODES)[number]> extends never ? true : never = true;

export class SpError extends Error {
  override readonly name = 'SpError';
  readonly code: SpErrorCode;

  constructor(code: SpErrorCode, message: string, options?: { cause?: unknown }) {
    super(`${code}: ${message}`, options);
    this.code = code;
  }
}

/** Shorthand for `new SpError(code, message, { cause })`; omits `cause` when it is undefined. */
export function spError(code: SpErrorCode, message: string, cause?: unknown): SpError {
  return cause === undefined ? new SpError(code, message) : new SpError(code, message, { cause });
}

/**
 * The nng error number (`nng.h`, v1.5.2) a code corresponds to, for the third-party checks that
 * compare netlab against nngcat. Codes nng has no counterpart for (ErrNoPeers, ErrNotRaw, ErrBadType,
 * ErrGarbled: nng closes the pipe instead) are absent.
 */
export const NNG_ERRNO: Readonly<Partial<Record<SpErrorCode, number>>> = Object.freeze({
  // NNG_EINVAL: nng reports invalid arguments, option values and addresses alike.
  ErrBadValue: 3,
  ErrBadOption: 3,
  ErrBadAddr: 3,
  // NNG_ETIMEDOUT covers both send and receive timeouts, and connect timeouts.
  ErrSendTimeout: 5,
  ErrRecvTimeout: 5,
  ErrTimedOut: 5,
  ErrConnRefused: 6, // NNG_ECONNREFUSED
  ErrClosed: 7, // NNG_ECLOSED
  ErrProtoOp: 9, // NNG_ENOTSUP
  ErrBadTran: 9, // NNG_ENOTSUP: nng has no scheme-specific error
  ErrAddrInUse: 10, // NNG_EADDRINUSE
  ErrProtoState: 11, // NNG_ESTATE
  // NNG_EPROTO: nng does not distinguish bad magic, bad version and wrong peer protocol.
  ErrBadHeader: 13,
  ErrBadVersion: 13,
  ErrBadProto: 13,
  ErrTooLong: 17, // NNG_EMSGSIZE
  ErrConnReset: 19, // NNG_ECONNRESET
  ErrCanceled: 20, // NNG_ECANCELED
});
