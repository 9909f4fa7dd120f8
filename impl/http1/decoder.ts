/**
 * Incremental, sans-I/O HTTP/1.1 decoders (RFC 9112) for requests (server side) and responses
 * (client side). push(bytes) may be called with any chunking, one byte at a time included, and
 * returns the events that bytes completed; end() tells the decoder the peer closed. The decoder
 * buffers only the line it is reading (bounded by the limits); body bytes are returned as views of
 * the pushed input, valid until the caller reuses that input. A malformed or over-limit message ends
 * the event list with one `error` event carrying an Http1Error; the decoder is then dead (a server
 * answers error.status and closes; a client closes).
 */
import { Http1Error } from './errors.js';
import {
  Http1Headers,
  isFieldValueChar,
  isToken,
  isTokenChar,
  latin1,
  type Http1Framing,
  type RequestHead,
  type ResponseHead,
} from './head.js';
import { resolveLimits, type Http1Limits } from './limits.js';

export type Http1Event =
  /** A request head or a final (≥ 200) response head. */
  | { readonly type: 'head'; readonly head: RequestHead | ResponseHead }
  /** A 1xx interim response other than 101 (RFC 9110 §15.2); the final response follows. */
  | { readonly type: 'interim'; readonly head: ResponseHead }
  /** Body bytes: a view of the pushed input. */
  | { readonly type: 'data'; readonly bytes: Uint8Array }
  /** The trailer section of a chunked body (only when it has at least one field). */
  | { readonly type: 'trailers'; readonly trailers: Http1Headers }
  /** The message is complete; keepAlive says whether another may follow on this connection. */
  | { readonly type: 'end'; readonly keepAlive: boolean }
  /** Bytes after a 101 or a 2xx to CONNECT: no longer HTTP/1 (views of the input). */
  | { readonly type: 'tunnel'; readonly bytes: Uint8Array }
  /** The message was malformed or over a limit; nothing more is decoded. */
  | { readonly type: 'error'; readonly error: Http1Error };

export type DecoderState =
  | 'start-line'
  | 'fields'
  | 'body-length'
  | 'body-close'
  | 'chunk-size'
  | 'chunk-data'
  | 'chunk-data-cr'
  | 'chunk-data-lf'
  | 'trailers'
  | 'tunnel'
  /** Ended cleanly: a message asked to close, or end() came between messages. */
  | 'closed'
  | 'failed';

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const MAX_SAFE = Number.MAX_SAFE_INTEGER; // 2^53 - 1: lengths beyond it are refused, never rounded
const LINE_BUF_INITIAL_BYTES = 256;

const VERSION_RE = /^HTTP\/(\d)\.(\d)$/;

function fail(code: ConstructorParameters<typeof Http1Error>[0], message: string): never {
  throw new Http1Error(code, message);
}

/** Shared machinery; RequestDecoder and ResponseDecoder differ in the start line and the framing rules. */
abstract class DecoderBase {
  protected readonly limits: Readonly<Http1Limits>;
  #state: DecoderState = 'start-line';
  #error: Http1Error | undefined;
  // The line being read; grows by doubling, never beyond the current line's limit + 1 (its CR).
  #line = new Uint8Array(LINE_BUF_INITIAL_BYTES);
  #lineBytes = 0;
  #headerBytes = 0;
  #fields: Http1Headers = new Http1Headers();
  #bodyLeftBytes = 0;
  #bodyTotalBytes = 0;
  #keepAlive = true;
  #leadingEmptyLines = 0;

  constructor(limits: Readonly<Http1Limits>) {
    this.limits = limits;
  }

  get state(): DecoderState {
    return this.#state;
  }

  /** The error that killed the decoder, if any. */
  get error(): Http1Error | undefined {
    return this.#error;
  }

  /** Feeds bytes; returns the events they complete. The input must not change while its views are in use. */
  push(input: Uint8Array): Http1Event[] {
    const events: Http1Event[] = [];
    if (this.#state === 'failed') {
      events.push({
        type: 'error',
        error: new Http1Error('ErrDecoderClosed', 'push() after the decoder failed'),
      });
      return events;
    }
    try {
      this.#run(input, events);
    } catch (e) {
      if (!(e instanceof Http1Error)) throw e;
      this.#state = 'failed';
      this.#error = e;
      events.push({ type: 'error', error: e });
    }
    return events;
  }

  /** The peer closed its side: ends a read-until-close body, or fails a message cut short. */
  end(): Http1Event[] {
    const s = this.#state;
    if (s === 'failed')
      return [{ type: 'error', error: new Http1Error('ErrDecoderClosed', 'end() after the decoder failed') }];
    this.#state = 'closed';
    if (s === 'body-close') return [{ type: 'end', keepAlive: false }];
    if (s === 'closed' || s === 'tunnel') return [];
    if (s === 'start-line' && this.#lineBytes === 0 && this.idleBetweenMessages()) return [];
    const error = new Http1Error('ErrIncompleteMessage', `peer closed in state ${s}`);
    this.#state = 'failed';
    this.#error = error;
    return [{ type: 'error', error }];
  }

  /** True when no message is in progress (no byte of the next one seen). */
  protected abstract idleBetweenMessages(): boolean;
  protected abstract parseStartLine(line: string): void;
  /** Builds the head from the start line already parsed and the fields; decides the framing. */
  protected abstract finishHead(fields: Http1Headers): {
    event: Http1Event;
    framing: Http1Framing;
    keepAlive: boolean;
  };
  /** Called when a final message ends (response decoders drop the request they answered). */
  protected abstract messageEnded(): void;

  #run(input: Uint8Array, events: Http1Event[]): void {
    let pos = 0;
    const n = input.length;
    while (pos < n) {
      switch (this.#state) {
        case 'start-line': {
          const next = this.#takeLine(
            input,
            pos,
            this.limits.maxStartLineBytes,
            'ErrStartLineTooLong',
            'start line',
          );
          if (next < 0) return;
          pos = next;
          if (this.#lineBytes === 0) {
            // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before a request line;
            // one is tolerated (old clients add a CRLF after a POST body), more is junk.
            this.#leadingEmptyLines++;
            if (this.#leadingEmptyLines > 1 || !this.allowsLeadingEmptyLine())
              fail('ErrBadStartLine', 'empty line where a start line was expected');
            continue;
          }
          const startLine = latin1(this.#line, 0, this.#lineBytes);
          this.#lineBytes = 0;
          this.parseStartLine(startLine);
          this.#state = 'fields';
          this.#headerBytes = 0;
          this.#fields = new Http1Headers();
          break;
        }
        case 'fields':
        case 'trailers': {
          const trailers = this.#state === 'trailers';
          const budget = this.limits.maxHeaderBytes - this.#headerBytes - 2;
          if (budget < 0)
            fail(
              'ErrHeadersTooLarge',
              `${trailers ? 'trailer' : 'field'} section over maxHeaderBytes=${this.limits.maxHeaderBytes}`,
            );
          const next = this.#takeLine(
            input,
            pos,
            budget,
            'ErrHeadersTooLarge',
            trailers ? 'trailer section' : 'field section',
          );
          if (next < 0) return;
          pos = next;
          this.#headerBytes += this.#lineBytes + 2;
          if (this.#lineBytes === 0) {
            this.#endOfSection(trailers, events);
            break;
          }
          if (this.#fields.size >= this.limits.maxHeaderCount) {
            fail(
              'ErrTooManyHeaders',
              `more than maxHeaderCount=${this.limits.maxHeaderCount} ${trailers ? 'trailer' : 'field'} lines`,
            );
          }
          this.#parseFieldLine(this.#line, this.#lineBytes, this.#fields);
          this.#lineBytes = 0;
          break;
        }
        case 'body-length': {
          const take = Math.min(this.#bodyLeftBytes, n - pos);
          events.push({ type: 'data', bytes: input.subarray(pos, pos + take) });
          pos += take;
          this.#bodyLeftBytes -= take;
          if (this.#bodyLeftBytes === 0) this.#endMessage(events);
          break;
        }
        case 'body-close': {
          this.#countBody(n - pos);
          events.push({ type: 'data', bytes: input.subarray(pos, n) });
          pos = n;
          break;
        }
        case 'chunk-size': {
          const next = this.#takeLine(
            input,
            pos,
            this.limits.maxChunkLineBytes,
            'ErrChunkLineTooLong',
            'chunk-size line',
          );
          if (next < 0) return;
          pos = next;
          const size = parseChunkLine(this.#line, this.#lineBytes);
          this.#lineBytes = 0;
          if (size === 0) {
            this.#state = 'trailers';
            this.#headerBytes = 0;
            this.#fields = new Http1Headers();
          } else {
            this.#countBody(size);
            this.#bodyLeftBytes = size;
            this.#state = 'chunk-data';
          }
          break;
        }
        case 'chunk-data': {
          const take = Math.min(this.#bodyLeftBytes, n - pos);
          events.push({ type: 'data', bytes: input.subarray(pos, pos + take) });
          pos += take;
          this.#bodyLeftBytes -= take;
          if (this.#bodyLeftBytes === 0) this.#state = 'chunk-data-cr';
          break;
        }
        case 'chunk-data-cr': {
          if (input[pos] !== CR) fail('ErrBadChunk', 'chunk data not followed by CRLF');
          pos++;
          this.#state = 'chunk-data-lf';
          break;
        }
        case 'chunk-data-lf': {
          if (input[pos] !== LF) fail('ErrBadLineEnding', 'bare CR after chunk data');
          pos++;
          this.#state = 'chunk-size';
          break;
        }
        case 'tunnel': {
          events.push({ type: 'tunnel', bytes: input.subarray(pos, n) });
          pos = n;
          break;
        }
        case 'closed':
          // After a message that closes the connection nothing more is HTTP/1 (RFC 9112 §9.6: a
          // server stops reading after Connection: close). The bytes are dropped, not buffered.
          return;
        case 'failed':
          return;
      }
    }
  }

  /** Whether an empty line may precede the start line (requests only). */
  protected allowsLeadingEmptyLine(): boolean {
    return false;
  }

  #countBody(bytes: number): void {
    this.#bodyTotalBytes += bytes;
    if (this.#bodyTotalBytes > this.limits.maxBodyBytes) {
      fail('ErrBodyTooLarge', `body over maxBodyBytes=${this.limits.maxBodyBytes}`);
    }
  }

  #endOfSection(trailers: boolean, events: Http1Event[]): void {
    const fields = this.#fields;
    if (trailers) {
      if (fields.size > 0) events.push({ type: 'trailers', trailers: fields });
      this.#endMessage(events);
      return;
    }
    this.#leadingEmptyLines = 0;
    const { event, framing, keepAlive } = this.finishHead(fields);
    events.push(event);
    this.#keepAlive = keepAlive;
    this.#bodyTotalBytes = 0;
    if (event.type === 'interim') {
      this.#state = 'start-line';
      return;
    }
    switch (framing.kind) {
      case 'none':
        this.#endMessage(events);
        return;
      case 'length':
        this.#countBody(framing.lengthBytes);
        if (framing.lengthBytes === 0) {
          this.#endMessage(events);
          return;
        }
        this.#bodyLeftBytes = framing.lengthBytes;
        this.#state = 'body-length';
        return;
      case 'chunked':
        this.#state = 'chunk-size';
        return;
      case 'close':
        this.#state = 'body-close';
        return;
      case 'tunnel':
        this.messageEnded();
        this.#state = 'tunnel';
        return;
    }
  }

  #endMessage(events: Http1Event[]): void {
    events.push({ type: 'end', keepAlive: this.#keepAlive });
    this.messageEnded();
    this.#state = this.#keepAlive ? 'start-line' : 'closed';
  }

  /**
   * Appends input[pos..] up to the next LF to the line buffer. Returns the position after the LF
   * when the line is complete (its CR removed, checked to be the only CR), -1 when more bytes are
   * needed. The line may hold at most limitBytes (plus its CR) — checked before copying.
   */
  #takeLine(
    input: Uint8Array,
    pos: number,
    limitBytes: number,
    code: 'ErrStartLineTooLong' | 'ErrHeadersTooLarge' | 'ErrChunkLineTooLong',
    what: string,
  ): number {
    const lf = input.indexOf(LF, pos);
    const end = lf < 0 ? input.length : lf;
    const add = end - pos;
    const total = this.#lineBytes + add;
    // +1: the CR that ends the line is not part of the limit.
    // The byte that would be the line's last: if the line is already one past its limit, it must be the CR.
    const lastByte = add > 0 ? input[end - 1] : this.#line[total - 1];
    if (total > limitBytes + 1 || (total === limitBytes + 1 && lastByte !== CR)) {
      fail(code, `${what} over its limit of ${limitBytes} bytes`);
    }
    if (total > this.#line.length) {
      let size = this.#line.length;
      while (size < total) size *= 2;
      const grown = new Uint8Array(Math.min(size, limitBytes + 1));
      grown.set(this.#line.subarray(0, this.#lineBytes));
      this.#line = grown;
    }
    this.#line.set(input.subarray(pos, end), this.#lineBytes);
    this.#lineBytes = total;
    if (lf < 0) return -1;
    // RFC 9112 §2.2: a line ends with CRLF; a bare LF or a bare CR is invalid (strict: rejected).
    if (total === 0 || this.#line[total - 1] !== CR) fail('ErrBadLineEnding', `bare LF in the ${what}`);
    this.#lineBytes = total - 1;
    const cr = this.#line.subarray(0, this.#lineBytes).indexOf(CR);
    if (cr >= 0) fail('ErrBadLineEnding', `bare CR in the ${what} at byte ${cr}`);
    return lf + 1;
  }

  /** field-line = field-name ":" OWS field-value OWS (RFC 9112 §5). */
  #parseFieldLine(line: Uint8Array, len: number, into: Http1Headers): void {
    const first = line[0];
    // RFC 9112 §5.2: obs-fold is rejected (a server MUST reject or replace; strict: reject).
    if (first === SP || first === HTAB) fail('ErrObsFold', 'field line starts with whitespace (obs-fold)');
    let i = 0;
    while (i < len && isTokenChar(line[i] ?? 0)) i++;
    if (i === len) fail('ErrBadFieldName', 'field line without a colon');
    const stop = line[i];
    if (stop === SP || stop === HTAB) {
      // RFC 9112 §5.1: whitespace before the colon MUST be rejected with 400 (smuggling vector).
      fail('ErrSpaceBeforeColon', `whitespace between field name and colon`);
    }
    if (stop !== 0x3a) fail('ErrBadFieldName', `byte 0x${(stop ?? 0).toString(16)} in a field name`);
    if (i === 0) fail('ErrBadFieldName', 'empty field name');
    let vs = i + 1;
    let ve = len;
    while (vs < ve && (line[vs] === SP || line[vs] === HTAB)) vs++;
    while (ve > vs && (line[ve - 1] === SP || line[ve - 1] === HTAB)) ve--;
    for (let k = vs; k < ve; k++) {
      const c = line[k] ?? 0;
      if (!isFieldValueChar(c)) fail('ErrBadFieldValue', `control byte 0x${c.toString(16)} in a field value`);
    }
    into.append(latin1(line, 0, i), latin1(line, vs, ve));
  }
}

/** chunk = chunk-size [ chunk-ext ] CRLF (RFC 9112 §7.1); returns the size, validates the extensions. */
function parseChunkLine(line: Uint8Array, len: number): number {
  let i = 0;
  let size = 0;
  while (i < len) {
    const c = line[i] ?? 0;
    const d =
      c >= 0x30 && c <= 0x39
        ? c - 0x30
        : c >= 0x61 && c <= 0x66
          ? c - 0x57
          : c >= 0x41 && c <= 0x46
            ? c - 0x37
            : -1;
    if (d < 0) break;
    size = size * 16 + d;
    // Overflow is refused, never wrapped or rounded (a classic smuggling vector).
    if (size > MAX_SAFE) fail('ErrBadChunkSize', 'chunk size over 2^53-1');
    i++;
  }
  if (i === 0) fail('ErrBadChunkSize', 'chunk size is not hex');
  // chunk-ext = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] ) (RFC 9112 §7.1.1)
  const bws = (): void => {
    while (i < len && (line[i] === SP || line[i] === HTAB)) i++;
  };
  const sizeEnd = i;
  while (i < len) {
    const code = i === sizeEnd ? 'ErrBadChunkSize' : 'ErrBadChunkExtension';
    bws();
    // Strict: whitespace is allowed only before a ";" (BWS), never at the end of the line.
    if (line[i] !== 0x3b)
      fail(
        code,
        i === len ? 'whitespace at the end of the chunk-size line' : 'junk after the chunk size or extension',
      );
    i++;
    bws();
    const nameStart = i;
    while (i < len && isTokenChar(line[i] ?? 0)) i++;
    if (i === nameStart) fail('ErrBadChunkExtension', 'empty chunk extension name');
    let j = i;
    while (j < len && (line[j] === SP || line[j] === HTAB)) j++;
    if (j < len && line[j] === 0x3d) {
      i = j + 1;
      bws();
      if (line[i] === 0x22) {
        // quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE (RFC 9110 §5.6.4)
        i++;
        let closed = false;
        while (i < len) {
          const c = line[i] ?? 0;
          if (c === 0x22) {
            closed = true;
            i++;
            break;
          }
          if (c === 0x5c) {
            const q = i + 1 < len ? (line[i + 1] ?? 0) : -1;
            if (!(q === HTAB || (q >= 0x20 && q !== 0x7f))) fail('ErrBadChunkExtension', 'bad quoted-pair');
            i += 2;
            continue;
          }
          if (!(
            c === HTAB ||
            c === SP ||
            c === 0x21 ||
            (c >= 0x23 && c <= 0x5b) ||
            (c >= 0x5d && c <= 0x7e) ||
            c >= 0x80
          )) {
            fail('ErrBadChunkExtension', `byte 0x${c.toString(16)} in a quoted chunk extension value`);
          }
          i++;
        }
        if (!closed) fail('ErrBadChunkExtension', 'unterminated quoted chunk extension value');
      } else {
        const vStart = i;
        while (i < len && isTokenChar(line[i] ?? 0)) i++;
        if (i === vStart) fail('ErrBadChunkExtension', 'empty chunk extension value');
      }
    }
    if (i < len && line[i] !== SP && line[i] !== HTAB && line[i] !== 0x3b)
      fail('ErrBadChunkExtension', 'junk in a chunk extension');
  }
  return size;
}

/** Parses "1*DIGIT" Content-Length values strictly (RFC 9112 §6.3 item 5, RFC 9110 §8.6). */
export function contentLength(fields: Http1Headers): number | undefined {
  const all = fields.getAll('content-length');
  if (all.length === 0) return undefined;
  // Go accepts identical duplicates; netlab refuses every duplicate (llhttp does too): a proxy in
  // front may have picked a different line, and no correct sender needs two.
  if (all.length > 1) fail('ErrDuplicateContentLength', `${all.length} Content-Length field lines`);
  const v = all[0] ?? '';
  if (!/^[0-9]+$/.test(v)) fail('ErrBadContentLength', `Content-Length ${JSON.stringify(v)} is not 1*DIGIT`);
  const n = v.length > 16 ? Number.POSITIVE_INFINITY : Number(v);
  if (n > MAX_SAFE) fail('ErrBadContentLength', `Content-Length ${v} over 2^53-1`);
  return n;
}

/**
 * Checks Transfer-Encoding (RFC 9112 §6.1): returns true for a final chunked; throws for chunked
 * not final or repeated (400) and for any other coding (501, netlab implements only chunked).
 */
export function transferEncodingChunked(fields: Http1Headers, versionMinor: number): boolean {
  if (!fields.has('transfer-encoding')) return false;
  // §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
  if (versionMinor === 0) fail('ErrBadTransferEncoding', 'Transfer-Encoding in an HTTP/1.0 message');
  const codings = fields.tokens('transfer-encoding').map((t) => t.toLowerCase());
  if (codings.length === 0) fail('ErrBadTransferEncoding', 'empty Transfer-Encoding');
  for (let k = 0; k < codings.length; k++) {
    const c = codings[k] ?? '';
    if (c === 'chunked' && k !== codings.length - 1)
      fail('ErrBadTransferEncoding', 'chunked is not the final transfer coding');
  }
  if (codings[codings.length - 1] !== 'chunked')
    fail('ErrBadTransferEncoding', 'final transfer coding is not chunked');
  for (const c of codings) {
    if (c !== 'chunked') {
      const name = c.split(';')[0]?.trim() ?? '';
      if (!isToken(name))
        fail('ErrBadTransferEncoding', `transfer coding ${JSON.stringify(c)} is not a token`);
      fail('ErrUnsupportedTransferCoding', `transfer coding ${JSON.stringify(name)} is not implemented`);
    }
  }
  return true;
}

/** RFC 9112 §9.3: 1.1 persists unless "close"; 1.0 persists only with "keep-alive". */
function persistent(fields: Http1Headers, versionMinor: number): boolean {
  const conn = fields.tokens('connection').map((t) => t.toLowerCase());
  if (conn.includes('close')) return false;
  if (versionMinor === 0) return conn.includes('keep-alive');
  return true;
}

function parseVersion(v: string): number {
  const m = VERSION_RE.exec(v);
  if (m === null) fail('ErrBadVersion', `version ${JSON.stringify(v)} is not HTTP/DIGIT.DIGIT`);
  if (m[1] !== '1') fail('ErrUnsupportedVersion', `HTTP major version ${m[1] ?? ''} is not 1`);
  return Number(m[2]);
}

/** request-target forms (RFC 9112 §3.2): visible ASCII only; asterisk-form only for OPTIONS, authority-form only (and always) for CONNECT. */
export function checkTarget(method: string, target: string): void {
  if (target.length === 0) fail('ErrBadTarget', 'empty request target');
  for (let i = 0; i < target.length; i++) {
    const c = target.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) fail('ErrBadTarget', `byte 0x${c.toString(16)} in the request target`);
  }
  // §3.2: asterisk-form only for OPTIONS, authority-form only (and always) for CONNECT.
  if (method === 'CONNECT') {
    if (target.startsWith('/') || target.includes('/') || !target.includes(':'))
      fail('ErrBadTarget', 'CONNECT needs an authority-form target host:port');
  } else if (target === '*') {
    if (method !== 'OPTIONS') fail('ErrBadTarget', 'asterisk-form target outside OPTIONS');
  } else if (!target.startsWith('/') && !/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(target)) {
    fail('ErrBadTarget', 'target is neither origin-form nor absolute-form');
  }
}

/** RFC 9112 §3.2: an HTTP/1.1 request carries exactly one Host (a server MUST answer 400 otherwise). */
export function checkHost(fields: Http1Headers, versionMinor: number): void {
  const hosts = fields.getAll('host');
  if (hosts.length > 1 || (versionMinor >= 1 && hosts.length === 0))
    fail('ErrBadHost', `${hosts.length} Host field lines`);
}

/** Decodes requests (a server's input). Pipelined requests back to back are decoded in order. */
export class RequestDecoder extends DecoderBase {
  #method = '';
  #target = '';
  #version = '';
  #minor = 1;
  #idle = true;

  constructor(limits: Partial<Http1Limits> = {}) {
    super(resolveLimits('request', limits));
  }

  protected override allowsLeadingEmptyLine(): boolean {
    return true;
  }

  protected idleBetweenMessages(): boolean {
    return this.#idle;
  }

  protected messageEnded(): void {
    this.#idle = true;
  }

  /** request-line = method SP request-target SP HTTP-version (RFC 9112 §3), single SPs. */
  protected parseStartLine(line: string): void {
    this.#idle = false;
    const a = line.indexOf(' ');
    const b = a < 0 ? -1 : line.indexOf(' ', a + 1);
    if (a < 0 || b < 0 || line.indexOf(' ', b + 1) >= 0)
      fail('ErrBadStartLine', 'request line is not METHOD SP TARGET SP VERSION');
    const method = line.slice(0, a);
    const target = line.slice(a + 1, b);
    const version = line.slice(b + 1);
    if (!isToken(method)) fail('ErrBadMethod', `method ${JSON.stringify(method)} is not a token`);
    checkTarget(method, target);
    this.#minor = parseVersion(version);
    this.#method = method;
    this.#target = target;
    this.#version = version;
  }

  protected finishHead(fields: Http1Headers): {
    event: Http1Event;
    framing: Http1Framing;
    keepAlive: boolean;
  } {
    const minor = this.#minor;
    checkHost(fields, minor);
    const chunked = transferEncodingChunked(fields, minor);
    const length = contentLength(fields);
    // §6.3 item 3 / §11.2: a request with both is a smuggling attempt; rejected.
    if (chunked && length !== undefined) fail('ErrSmuggling', 'both Content-Length and Transfer-Encoding');
    // §6.3 item 7: a request with neither has no body.
    const framing: Http1Framing = chunked
      ? { kind: 'chunked' }
      : length !== undefined && length > 0
        ? { kind: 'length', lengthBytes: length }
        : length === 0
          ? { kind: 'length', lengthBytes: 0 }
          : { kind: 'none' };
    const keepAlive = persistent(fields, minor);
    const expectContinue =
      minor >= 1 && fields.getAll('expect').some((v) => v.toLowerCase() === '100-continue');
    const head: RequestHead = {
      kind: 'request',
      method: this.#method,
      target: this.#target,
      version: this.#version,
      versionMinor: minor,
      headers: fields,
      keepAlive,
      framing,
      expectContinue,
    };
    return { event: { type: 'head', head }, framing, keepAlive };
  }
}

/**
 * Decodes responses (a client's input). The decoder must be told the method of each request it
 * will see an answer to, in order (expect()): a HEAD response has no body and a 2xx to CONNECT ends
 * HTTP/1. A response with no method queued is decoded as the answer to a GET.
 */
export class ResponseDecoder extends DecoderBase {
  #pending: string[] = [];
  #status = 0;
  #reason = '';
  #version = '';
  #minor = 1;
  #idle = true;

  constructor(limits: Partial<Http1Limits> = {}) {
    super(resolveLimits('response', limits));
  }

  /** Queues the method of the next request sent on this connection (pipelining keeps the order). */
  expect(method: string): void {
    if (this.#pending.length >= this.limits.maxPendingRequests) {
      throw new Http1Error(
        'ErrTooManyPending',
        `more than maxPendingRequests=${this.limits.maxPendingRequests} requests outstanding`,
      );
    }
    this.#pending.push(method);
  }

  /** Request methods still waiting for their final response. */
  get pending(): readonly string[] {
    return this.#pending;
  }

  protected idleBetweenMessages(): boolean {
    return this.#idle;
  }

  protected messageEnded(): void {
    this.#idle = true;
    this.#pending.shift();
  }

  /** status-line = HTTP-version SP status-code SP [ reason-phrase ] (RFC 9112 §4). */
  protected parseStartLine(line: string): void {
    this.#idle = false;
    const a = line.indexOf(' ');
    if (a < 0) fail('ErrBadStartLine', 'status line is not VERSION SP STATUS SP REASON');
    this.#minor = parseVersion(line.slice(0, a));
    this.#version = line.slice(0, a);
    const code = line.slice(a + 1, a + 4);
    if (!/^[1-5][0-9][0-9]$/.test(code))
      fail('ErrBadStatus', `status ${JSON.stringify(code)} is not three digits in 100..599`);
    // The SP before an empty reason is required by the grammar; Go tolerates its absence and so
    // does netlab ("HTTP/1.1 200" has an unambiguous meaning).
    if (line.length > a + 4 && line.charCodeAt(a + 4) !== SP)
      fail('ErrBadStatus', 'status code not followed by SP');
    const reason = line.slice(a + 5);
    for (let i = 0; i < reason.length; i++) {
      if (!isFieldValueChar(reason.charCodeAt(i))) fail('ErrBadStatus', 'control byte in the reason phrase');
    }
    this.#status = Number(code);
    this.#reason = reason;
  }

  protected finishHead(fields: Http1Headers): {
    event: Http1Event;
    framing: Http1Framing;
    keepAlive: boolean;
  } {
    const status = this.#status;
    const minor = this.#minor;
    const method = this.#pending[0] ?? 'GET';
    // Framing headers are validated even where they do not frame (HEAD, 1xx, 204, 304): a proxy
    // forwarding the message could otherwise be desynchronised.
    const chunked = transferEncodingChunked(fields, minor);
    const length = contentLength(fields);
    // §6.3 item 3: a client fails the exchange and closes the connection (the pool's job).
    if (chunked && length !== undefined) fail('ErrSmuggling', 'both Content-Length and Transfer-Encoding');
    let keepAlive = persistent(fields, minor);
    let framing: Http1Framing;
    if (status === 101 || (method === 'CONNECT' && status >= 200 && status < 300)) {
      framing = { kind: 'tunnel' };
      keepAlive = false;
    } else if (method === 'HEAD' || status < 200 || status === 204 || status === 304) {
      framing = { kind: 'none' };
    } else if (chunked) {
      framing = { kind: 'chunked' };
    } else if (length !== undefined) {
      framing = { kind: 'length', lengthBytes: length };
    } else {
      framing = { kind: 'close' };
      keepAlive = false;
    }
    const head: ResponseHead = {
      kind: 'response',
      status,
      reason: this.#reason,
      version: this.#version,
      versionMinor: minor,
      headers: fields,
      keepAlive,
      framing,
    };
    if (status < 200 && status !== 101) {
      // The final response is still owed: a close now is an incomplete exchange (#idle stays false).
      return { event: { type: 'interim', head }, framing, keepAlive: true };
    }
    return { event: { type: 'head', head }, framing, keepAlive };
  }
}
