/**
 * Serialisers: request and response heads (header case and order kept) and body framing helpers
 * (chunk encoder, last chunk with trailers, whole messages), so a decoded message re-serialises to
 * an equivalent one. Everything that would be invalid or smuggling-prone on the wire — a bad token,
 * a CR/LF/NUL in a value, both Content-Length and Transfer-Encoding, a body that disagrees with its
 * Content-Length — is refused with the same Http1Error codes the decoder uses.
 */
import { checkHost, checkTarget, contentLength, transferEncodingChunked } from './decoder.js';
import { Http1Error } from './errors.js';
import { Http1Headers, isFieldValue, isToken, latin1Bytes, type HeaderEntry } from './head.js';
import { concatBytes } from '../runtime/bytes.js';

const CRLF = '\r\n';
const VERSION_RE = /^HTTP\/1\.\d$/;

export interface RequestHeadInit {
  readonly method: string;
  readonly target: string;
  /** Default 'HTTP/1.1'. */
  readonly version?: string;
  readonly headers: Http1Headers | Iterable<HeaderEntry>;
}

export interface ResponseHeadInit {
  readonly status: number;
  /** Default '' (the reason phrase is optional, RFC 9112 §4). */
  readonly reason?: string;
  /** Default 'HTTP/1.1'. */
  readonly version?: string;
  readonly headers: Http1Headers | Iterable<HeaderEntry>;
}

function toHeaders(h: Http1Headers | Iterable<HeaderEntry>): Http1Headers {
  return h instanceof Http1Headers ? h : new Http1Headers(h);
}

function fieldLines(headers: Http1Headers): string {
  let out = '';
  for (const [name, value] of headers.entries()) {
    if (!isToken(name))
      throw new Http1Error('ErrBadFieldName', `field name ${JSON.stringify(name)} is not a token`);
    if (!isFieldValue(value)) {
      throw new Http1Error(
        'ErrBadFieldValue',
        `value of ${name} has a control byte (NUL, CR, LF...) or surrounding whitespace`,
      );
    }
    out += `${name}: ${value}${CRLF}`;
  }
  return out;
}

function checkVersion(version: string): number {
  if (!VERSION_RE.test(version))
    throw new Http1Error('ErrBadVersion', `version ${JSON.stringify(version)} is not HTTP/1.x`);
  return Number(version.slice(7));
}

/** The framing headers must be unambiguous (RFC 9112 §6.3 items 3-5): the decoder's own rules. */
function checkFraming(
  headers: Http1Headers,
  minor: number,
): { chunked: boolean; length: number | undefined } {
  const chunked = transferEncodingChunked(headers, minor);
  const length = contentLength(headers);
  if (chunked && length !== undefined)
    throw new Http1Error('ErrSmuggling', 'both Content-Length and Transfer-Encoding');
  return { chunked, length };
}

/** "METHOD SP TARGET SP VERSION CRLF fields CRLF" as bytes. */
export function serializeRequestHead(init: RequestHeadInit): Uint8Array {
  const version = init.version ?? 'HTTP/1.1';
  const minor = checkVersion(version);
  if (!isToken(init.method))
    throw new Http1Error('ErrBadMethod', `method ${JSON.stringify(init.method)} is not a token`);
  checkTarget(init.method, init.target);
  const headers = toHeaders(init.headers);
  const lines = fieldLines(headers);
  checkFraming(headers, minor);
  checkHost(headers, minor);
  return latin1Bytes(`${init.method} ${init.target} ${version}${CRLF}${lines}${CRLF}`, 'request head');
}

/** "VERSION SP STATUS SP REASON CRLF fields CRLF" as bytes. */
export function serializeResponseHead(init: ResponseHeadInit): Uint8Array {
  const version = init.version ?? 'HTTP/1.1';
  const minor = checkVersion(version);
  if (!Number.isInteger(init.status) || init.status < 100 || init.status > 599) {
    throw new Http1Error('ErrBadStatus', `status ${init.status} is not in 100..599`);
  }
  const reason = init.reason ?? '';
  for (let i = 0; i < reason.length; i++) {
    const c = reason.charCodeAt(i);
    if (!(c === 0x09 || (c >= 0x20 && c !== 0x7f && c <= 0xff)))
      throw new Http1Error('ErrBadStatus', 'control byte in the reason phrase');
  }
  const headers = toHeaders(init.headers);
  const lines = fieldLines(headers);
  checkFraming(headers, minor);
  return latin1Bytes(`${version} ${init.status} ${reason}${CRLF}${lines}${CRLF}`, 'response head');
}

/** One chunk: "HEX CRLF data CRLF" (RFC 9112 §7.1). Empty data yields no bytes (a 0 would end the body). */
export function encodeChunk(data: Uint8Array): Uint8Array {
  if (data.length === 0) return new Uint8Array(0);
  const prefix = latin1Bytes(`${data.length.toString(16)}${CRLF}`, 'chunk size');
  const out = new Uint8Array(prefix.length + data.length + 2);
  out.set(prefix, 0);
  out.set(data, prefix.length);
  out[out.length - 2] = 0x0d;
  out[out.length - 1] = 0x0a;
  return out;
}

/** The last chunk and the trailer section: "0 CRLF trailers CRLF" (RFC 9112 §7.1.2). */
export function encodeLastChunk(trailers: Http1Headers | Iterable<HeaderEntry> = []): Uint8Array {
  return latin1Bytes(`0${CRLF}${fieldLines(toHeaders(trailers))}${CRLF}`, 'trailer section');
}

/** A whole message: head plus body framed as its own headers say. */
export interface MessageInit {
  readonly head:
    (RequestHeadInit & { readonly kind?: 'request' }) | (ResponseHeadInit & { readonly kind?: 'response' });
  readonly body?: readonly Uint8Array[];
  /** Only for a chunked body. */
  readonly trailers?: Http1Headers | Iterable<HeaderEntry>;
  /** For a response: the method it answers (HEAD responses carry no body). Default 'GET'. */
  readonly requestMethod?: string;
}

/**
 * Serialises a whole message. The body is framed by the head's own fields: chunked when
 * Transfer-Encoding says so, else exactly Content-Length bytes, else (response only) delimited by
 * the close. A body where the message cannot have one, or of a length other than the declared one,
 * is ErrBodyLengthMismatch.
 */
export function serializeMessage(init: MessageInit): Uint8Array {
  const h = init.head;
  const isResponse = 'status' in h;
  const headBytes = isResponse ? serializeResponseHead(h) : serializeRequestHead(h);
  const headers = toHeaders(h.headers);
  const minor = checkVersion(h.version ?? 'HTTP/1.1');
  const { chunked, length } = checkFraming(headers, minor);
  const body = init.body ?? [];
  let bodyBytes = 0;
  for (const b of body) bodyBytes += b.length;
  const noBody =
    isResponse && (init.requestMethod === 'HEAD' || h.status < 200 || h.status === 204 || h.status === 304);
  if (noBody && bodyBytes > 0)
    throw new Http1Error(
      'ErrBodyLengthMismatch',
      `status ${isResponse ? h.status : ''} to ${init.requestMethod ?? 'GET'} cannot carry a body`,
    );
  const hasTrailers = init.trailers !== undefined && toHeaders(init.trailers).size > 0;
  if (hasTrailers && !(chunked && !noBody))
    throw new Http1Error('ErrBodyLengthMismatch', 'trailers need a chunked body');
  if (noBody) return headBytes;
  if (chunked)
    return concatBytes([headBytes, ...body.map(encodeChunk), encodeLastChunk(init.trailers ?? [])]);
  if (length !== undefined) {
    if (length !== bodyBytes)
      throw new Http1Error(
        'ErrBodyLengthMismatch',
        `body is ${bodyBytes} bytes, Content-Length says ${length}`,
      );
    return concatBytes([headBytes, ...body]);
  }
  if (!isResponse && bodyBytes > 0)
    throw new Http1Error('ErrBodyLengthMismatch', 'a request body needs Content-Length or chunked');
  return concatBytes([headBytes, ...body]);
}
