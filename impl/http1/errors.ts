/**
 * Typed errors of the HTTP/1.1 codec (impl/http1/): every malformed or over-limit message is an
 * Http1Error with a stable `code`, the HTTP `status` a server should answer with before it closes
 * the connection, and the RFC section the rule comes from. Tests, traces and the conformance run
 * match on the code, never on the message text. Broken internal invariants are plain assertions.
 *
 * The code table is data (HTTP1_ERROR_INFO) so another module of this folder can add its own codes
 * by extending the table in its own file, without touching the codec's.
 */

/** What the table says about one code: the status a server answers and the rule's source. */
export interface Http1ErrorInfo {
  /** Status a server should answer before closing (for response-side errors: what a proxy would). */
  readonly status: number;
  /** Where the rule comes from, e.g. 'RFC 9112 §6.3'. */
  readonly section: string;
  /** One line for the README table. */
  readonly summary: string;
}

/**
 * Every codec code with its status and section. Never rename a code: users match on them.
 * 400 for malformed input, 431 for head limits (as Go's net/http answers a head over its limit),
 * 413 for an over-limit body, 501 for an unimplemented transfer coding (RFC 9112 §6.1), 505 for a
 * major version other than 1, 502 for errors only a response can have (what a gateway answers).
 */
export const HTTP1_ERROR_INFO = Object.freeze({
  ErrBadStartLine: {
    status: 400,
    section: 'RFC 9112 §3, §4',
    summary: 'request line or status line is not METHOD SP TARGET SP VERSION / VERSION SP STATUS SP REASON',
  },
  ErrBadMethod: {
    status: 400,
    section: 'RFC 9112 §3.1, RFC 9110 §5.6.2',
    summary: 'method is empty or has a character that is not a token character',
  },
  ErrBadTarget: {
    status: 400,
    section: 'RFC 9112 §3.2',
    summary:
      'request target is empty, has a control, space or non-ASCII byte, or has the wrong form for its method',
  },
  ErrBadVersion: { status: 400, section: 'RFC 9112 §2.3', summary: 'HTTP-version is not HTTP/DIGIT.DIGIT' },
  ErrUnsupportedVersion: {
    status: 505,
    section: 'RFC 9112 §2.3, RFC 9110 §15.6.6',
    summary: 'HTTP major version is not 1',
  },
  ErrBadStatus: {
    status: 502,
    section: 'RFC 9112 §4, RFC 9110 §15',
    summary: 'status code is not three digits in 100..599, or the reason phrase has a control byte',
  },
  ErrBadLineEnding: {
    status: 400,
    section: 'RFC 9112 §2.2',
    summary: 'bare LF or bare CR where CRLF is required (a CR or LF inside a field value lands here)',
  },
  ErrObsFold: {
    status: 400,
    section: 'RFC 9112 §5.2, §2.2',
    summary:
      'a field line starts with SP or HTAB (obsolete line folding, or whitespace after the start line)',
  },
  ErrSpaceBeforeColon: {
    status: 400,
    section: 'RFC 9112 §5.1',
    summary: 'whitespace between a field name and its colon',
  },
  ErrBadFieldName: {
    status: 400,
    section: 'RFC 9112 §5, RFC 9110 §5.1',
    summary: 'field line without a colon, or a field name that is empty or not a token',
  },
  ErrBadFieldValue: {
    status: 400,
    section: 'RFC 9110 §5.5',
    summary:
      'field value contains NUL or another control byte (or, when serialising, CR, LF or a char above 0xFF)',
  },
  ErrBadHost: {
    status: 400,
    section: 'RFC 9112 §3.2',
    summary: 'HTTP/1.1 request without a Host field, or with more than one',
  },
  ErrBadContentLength: {
    status: 400,
    section: 'RFC 9112 §6.3 item 5, RFC 9110 §8.6',
    summary: 'Content-Length is not 1*DIGIT (a sign, a space, a list, junk) or exceeds 2^53-1',
  },
  ErrDuplicateContentLength: {
    status: 400,
    section: 'RFC 9112 §6.3 item 5',
    summary: 'more than one Content-Length field line (identical values included)',
  },
  ErrSmuggling: {
    status: 400,
    section: 'RFC 9112 §6.3 item 3, §11.2',
    summary:
      'both Content-Length and Transfer-Encoding (request: reject; response: fail the exchange, close)',
  },
  ErrBadTransferEncoding: {
    status: 400,
    section: 'RFC 9112 §6.1, §6.3 item 4',
    summary:
      'Transfer-Encoding whose final coding is not chunked, chunked twice, empty, or in an HTTP/1.0 message',
  },
  ErrUnsupportedTransferCoding: {
    status: 501,
    section: 'RFC 9112 §6.1',
    summary: 'a transfer coding netlab does not implement (anything but chunked)',
  },
  ErrBadChunkSize: {
    status: 400,
    section: 'RFC 9112 §7.1',
    summary: 'chunk size is empty, not hex, or exceeds 2^53-1',
  },
  ErrBadChunkExtension: {
    status: 400,
    section: 'RFC 9112 §7.1.1',
    summary: 'chunk extension is not ;name[=token|quoted-string]',
  },
  ErrBadChunk: { status: 400, section: 'RFC 9112 §7.1', summary: 'chunk data not followed by CRLF' },
  ErrStartLineTooLong: {
    status: 400,
    section: 'RFC 9112 §3 (limit maxStartLineBytes)',
    summary: 'start line longer than maxStartLineBytes',
  },
  ErrHeadersTooLarge: {
    status: 431,
    section: 'RFC 6585 §5 (limit maxHeaderBytes)',
    summary: 'field section (or trailer section) larger than maxHeaderBytes',
  },
  ErrTooManyHeaders: {
    status: 431,
    section: 'RFC 6585 §5 (limit maxHeaderCount)',
    summary: 'more field lines (or trailer lines) than maxHeaderCount',
  },
  ErrChunkLineTooLong: {
    status: 400,
    section: 'RFC 9112 §7.1.1 (limit maxChunkLineBytes)',
    summary: 'chunk-size line (with extensions) longer than maxChunkLineBytes',
  },
  ErrBodyTooLarge: {
    status: 413,
    section: 'RFC 9110 §15.5.14 (limit maxBodyBytes)',
    summary: 'declared or received body larger than maxBodyBytes (raised before the bytes are passed on)',
  },
  ErrIncompleteMessage: {
    status: 400,
    section: 'RFC 9112 §8',
    summary: 'the peer closed (end()) in the middle of a message',
  },
  ErrDecoderClosed: {
    status: 400,
    section: 'n/a (caller error)',
    summary: 'push() or end() after the decoder failed or ended',
  },
  ErrTooManyPending: {
    status: 400,
    section: 'n/a (limit maxPendingRequests)',
    summary: 'more request methods queued on a response decoder than maxPendingRequests',
  },
  ErrBodyLengthMismatch: {
    status: 400,
    section: 'RFC 9112 §6.2',
    summary: "serialiser: body bytes differ from the head's Content-Length, or a body where none is allowed",
  },
  ErrBadOption: {
    status: 400,
    section: 'n/a (options)',
    summary: 'an option has the wrong type or is out of range',
  },
} as const satisfies Record<string, Http1ErrorInfo>);

/** Stable error codes of the codec. */
export type Http1ErrorCode = keyof typeof HTTP1_ERROR_INFO;

/** Every code once, in table order: for exhaustive tests and documentation tables. */
export const HTTP1_ERROR_CODES: readonly Http1ErrorCode[] = Object.freeze(
  Object.keys(HTTP1_ERROR_INFO) as Http1ErrorCode[],
);

/**
 * A codec failure with a stable `code` and the `status` a server answers with. The code type is a
 * string so that other modules of impl/http1 can raise their own codes (declared in their own table);
 * the codec itself only raises Http1ErrorCode values.
 */
export class Http1Error extends Error {
  override readonly name = 'Http1Error';
  /** Status a server should answer before closing the connection. */
  readonly status: number;
  constructor(
    readonly code: Http1ErrorCode | (string & {}),
    message: string,
    options?: { status?: number; cause?: unknown },
  ) {
    super(`${code}: ${message}`, options?.cause === undefined ? undefined : { cause: options.cause });
    const known = (HTTP1_ERROR_INFO as Record<string, Http1ErrorInfo | undefined>)[code];
    this.status = options?.status ?? known?.status ?? 400;
  }
}

export function isHttp1Error(e: unknown, code?: string): e is Http1Error {
  return e instanceof Http1Error && (code === undefined || e.code === code);
}
