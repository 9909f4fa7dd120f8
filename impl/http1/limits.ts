/**
 * The codec's limits: every bound with its documented default, validated once when a decoder is
 * made. A wrong value is an Http1Error ErrBadOption naming the option, never a silent clamp.
 * The head is the only thing the decoder buffers, and only up to these limits; body bytes are
 * passed through as views of the input, never accumulated.
 */
import { Http1Error } from './errors.js';

const KIB = 1024;
const MIB = 1024 * KIB;

export interface Http1Limits {
  /** Longest start line (request line or status line), CRLF excluded. Default 8 KiB. */
  maxStartLineBytes: number;
  /** Largest field section, every field line with its CRLF plus the empty line. Default 64 KiB. */
  maxHeaderBytes: number;
  /** Most field lines in a head (and, separately, in a trailer section). Default 100. */
  maxHeaderCount: number;
  /** Longest chunk-size line, extensions included, CRLF excluded. Default 1 KiB. */
  maxChunkLineBytes: number;
  /** Largest body; Infinity = none. Default 16 MiB for requests (server), Infinity for responses (client). */
  maxBodyBytes: number;
  /** Most request methods queued on a response decoder (pipelining depth). Default 100. */
  maxPendingRequests: number;
}

/** Defaults shared by both directions; maxBodyBytes depends on the direction. */
export const HTTP1_LIMIT_DEFAULTS: Readonly<Omit<Http1Limits, 'maxBodyBytes'>> = Object.freeze({
  maxStartLineBytes: 8 * KIB,
  maxHeaderBytes: 64 * KIB,
  maxHeaderCount: 100,
  maxChunkLineBytes: 1 * KIB,
  maxPendingRequests: 100,
});
/** A server reading requests refuses bodies over 16 MiB unless told otherwise. */
export const HTTP1_SERVER_MAX_BODY_BYTES = 16 * MIB;
/** A client reading responses has no body limit unless told one. */
export const HTTP1_CLIENT_MAX_BODY_BYTES = Number.POSITIVE_INFINITY;

/** Upper bounds that keep a misconfiguration from turning a limit into an unbounded buffer. */
const RANGES: Readonly<Record<keyof Http1Limits, readonly [number, number]>> = Object.freeze({
  maxStartLineBytes: [16, 1 * MIB],
  maxHeaderBytes: [2, 16 * MIB],
  maxHeaderCount: [1, 100_000],
  maxChunkLineBytes: [1, 1 * MIB],
  maxBodyBytes: [0, Number.POSITIVE_INFINITY],
  maxPendingRequests: [1, 1_000_000],
});

/** Fills defaults for a direction and validates every given value. */
export function resolveLimits(
  direction: 'request' | 'response',
  given: Partial<Http1Limits> = {},
): Readonly<Http1Limits> {
  const out: Http1Limits = {
    ...HTTP1_LIMIT_DEFAULTS,
    maxBodyBytes: direction === 'request' ? HTTP1_SERVER_MAX_BODY_BYTES : HTTP1_CLIENT_MAX_BODY_BYTES,
  };
  for (const key of Object.keys(given) as (keyof Http1Limits)[]) {
    const range = RANGES[key] as readonly [number, number] | undefined;
    if (range === undefined) throw new Http1Error('ErrBadOption', `unknown limit ${String(key)}`);
    const value = given[key];
    if (value === undefined) continue;
    const integral =
      Number.isInteger(value) || (key === 'maxBodyBytes' && value === Number.POSITIVE_INFINITY);
    if (typeof value !== 'number' || !integral || value < range[0] || value > range[1]) {
      throw new Http1Error(
        'ErrBadOption',
        `${key} must be an integer in [${range[0]}, ${range[1]}]${key === 'maxBodyBytes' ? ' or Infinity' : ''}, got ${String(value)}`,
      );
    }
    out[key] = value;
  }
  return Object.freeze(out);
}
