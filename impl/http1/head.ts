/**
 * Message heads: the header list (original case and order kept, case-insensitive lookup), the
 * request and response head shapes, and the character rules of RFC 9110 §5.6.2 (token) and §5.5
 * (field values) shared by the decoder and the serialiser.
 */
import { Http1Error } from './errors.js';

/** tchar per RFC 9110 §5.6.2: "!#$%&'*+-.^_`|~" plus DIGIT and ALPHA. */
const TCHAR = new Uint8Array(256);
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;
for (const ch of "!#$%&'*+-.^_`|~") TCHAR[ch.charCodeAt(0)] = 1;

export function isTokenChar(code: number): boolean {
  return TCHAR[code] === 1;
}

/** A non-empty token (RFC 9110 §5.6.2). */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (TCHAR[s.charCodeAt(i)] !== 1) return false;
  return true;
}

/** field-vchar / SP / HTAB per RFC 9110 §5.5: VCHAR, obs-text (0x80-0xFF), SP, HTAB; no other CTL. */
export function isFieldValueChar(code: number): boolean {
  return code === 0x09 || (code >= 0x20 && code !== 0x7f && code <= 0xff);
}

/** A field value as the serialiser accepts it: field chars only, no leading or trailing whitespace. */
export function isFieldValue(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!isFieldValueChar(s.charCodeAt(i))) return false;
  if (s.length === 0) return true;
  const first = s.charCodeAt(0);
  const last = s.charCodeAt(s.length - 1);
  return first !== 0x20 && first !== 0x09 && last !== 0x20 && last !== 0x09;
}

/** One field line as received or to be sent: name in its original case, value without OWS. */
export type HeaderEntry = readonly [name: string, value: string];

/**
 * The fields of a head or a trailer section: kept in order with their original case (a decoded
 * message re-serialises byte for byte), looked up case-insensitively.
 */
export class Http1Headers {
  readonly #entries: HeaderEntry[];
  readonly #index = new Map<string, string[]>();

  constructor(entries: Iterable<HeaderEntry> = []) {
    this.#entries = [];
    for (const [name, value] of entries) this.append(name, value);
  }

  /** Adds a field line at the end (does not validate: the serialiser does, the decoder already has). */
  append(name: string, value: string): void {
    this.#entries.push([name, value]);
    const key = name.toLowerCase();
    const list = this.#index.get(key);
    if (list === undefined) this.#index.set(key, [value]);
    else list.push(value);
  }

  /** Number of field lines. */
  get size(): number {
    return this.#entries.length;
  }

  has(name: string): boolean {
    return this.#index.has(name.toLowerCase());
  }

  /** The first value of a field, or undefined. */
  get(name: string): string | undefined {
    return this.#index.get(name.toLowerCase())?.[0];
  }

  /** Every value of a field, in the order received. */
  getAll(name: string): readonly string[] {
    return this.#index.get(name.toLowerCase()) ?? [];
  }

  /** The field lines in order, original case. */
  entries(): readonly HeaderEntry[] {
    return this.#entries;
  }

  /** The comma-separated list elements of every line of a field, trimmed, empty elements dropped (RFC 9110 §5.6.1). */
  tokens(name: string): string[] {
    const out: string[] = [];
    for (const v of this.getAll(name)) {
      for (const part of v.split(',')) {
        const t = part.trim();
        if (t.length > 0) out.push(t);
      }
    }
    return out;
  }
}

/** How a message's body is delimited (RFC 9112 §6.3). */
export type Http1Framing =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly lengthBytes: number }
  | { readonly kind: 'chunked' }
  /** Response body read until the server closes (RFC 9112 §6.3 item 8). */
  | { readonly kind: 'close' }
  /** HTTP/1 framing ends: 101 Switching Protocols or a 2xx answer to CONNECT. */
  | { readonly kind: 'tunnel' };

interface HeadCommon {
  /** The version as sent: 'HTTP/1.0' or 'HTTP/1.1' (a higher 1.x minor is kept as sent, treated as 1.1). */
  readonly version: string;
  /** The minor version digit (0 → HTTP/1.0 rules). */
  readonly versionMinor: number;
  readonly headers: Http1Headers;
  /** Whether the connection stays open after this message (RFC 9112 §9.3). */
  readonly keepAlive: boolean;
  readonly framing: Http1Framing;
}

export interface RequestHead extends HeadCommon {
  readonly kind: 'request';
  readonly method: string;
  readonly target: string;
  /** `Expect: 100-continue` on an HTTP/1.1 request (RFC 9110 §10.1.1; ignored for HTTP/1.0). */
  readonly expectContinue: boolean;
}

export interface ResponseHead extends HeadCommon {
  readonly kind: 'response';
  readonly status: number;
  readonly reason: string;
}

/** Bytes → string, one char per byte (latin1 identity, so obs-text survives a round trip). */
export function latin1(bytes: Uint8Array, start: number, end: number): string {
  let s = '';
  // Bounded slices keep String.fromCharCode.apply within engines' argument limits.
  for (let i = start; i < end; i += 4096) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, Math.min(end, i + 4096)) as unknown as number[]);
  }
  return s;
}

/** String → bytes, one byte per char; a char above 0xFF cannot be sent. */
export function latin1Bytes(s: string, what: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0xff) throw new Http1Error('ErrBadFieldValue', `${what} has a character above 0xFF at ${i}`);
    out[i] = c;
  }
  return out;
}
