/** impl/http1: the strict sans-I/O HTTP/1.1 codec (RFC 9112). See README.md. */
export { HTTP1_ERROR_CODES, HTTP1_ERROR_INFO, Http1Error, isHttp1Error } from './errors.js';
export type { Http1ErrorCode, Http1ErrorInfo } from './errors.js';
export {
  HTTP1_CLIENT_MAX_BODY_BYTES,
  HTTP1_LIMIT_DEFAULTS,
  HTTP1_SERVER_MAX_BODY_BYTES,
  resolveLimits,
} from './limits.js';
export type { Http1Limits } from './limits.js';
export { Http1Headers, isToken, isFieldValue } from './head.js';
export type { HeaderEntry, Http1Framing, RequestHead, ResponseHead } from './head.js';
export { RequestDecoder, ResponseDecoder } from './decoder.js';
export type { DecoderState, Http1Event } from './decoder.js';
export {
  encodeChunk,
  encodeLastChunk,
  serializeMessage,
  serializeRequestHead,
  serializeResponseHead,
} from './serialize.js';
export type { MessageInit, RequestHeadInit, ResponseHeadInit } from './serialize.js';
