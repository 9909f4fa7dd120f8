import { describe, expect, it } from 'vitest';
import { RequestDecoder } from './decoder.js';
import { Http1Headers } from './head.js';
import {
  encodeChunk,
  encodeLastChunk,
  serializeMessage,
  serializeRequestHead,
  serializeResponseHead,
} from './serialize.js';
import { bytesOf, decodeIn } from './testing.js';

const str = (b: Uint8Array) => String.fromCharCode(...b);

describe('serialisers', () => {
  it('request and response heads keep header case and order', () => {
    expect(
      str(
        serializeRequestHead({
          method: 'GET',
          target: '/x',
          headers: [
            ['hOsT', 'a'],
            ['X-A', '1'],
            ['x-a', '2'],
          ],
        }),
      ),
    ).toBe('GET /x HTTP/1.1\r\nhOsT: a\r\nX-A: 1\r\nx-a: 2\r\n\r\n');
    expect(
      str(
        serializeResponseHead({
          status: 204,
          reason: 'No Content',
          version: 'HTTP/1.0',
          headers: new Http1Headers(),
        }),
      ),
    ).toBe('HTTP/1.0 204 No Content\r\n\r\n');
  });
  it('HTTP/1.0 requests need no Host; CONNECT authority-form and OPTIONS * are fine', () => {
    expect(str(serializeRequestHead({ method: 'GET', target: '/', version: 'HTTP/1.0', headers: [] }))).toBe(
      'GET / HTTP/1.0\r\n\r\n',
    );
    expect(() =>
      serializeRequestHead({ method: 'CONNECT', target: 'h:443', headers: [['Host', 'h:443']] }),
    ).not.toThrow();
    expect(() =>
      serializeRequestHead({ method: 'OPTIONS', target: '*', headers: [['Host', 'h']] }),
    ).not.toThrow();
  });
  it('chunk encoder and last chunk with trailers', () => {
    expect(str(encodeChunk(bytesOf('0123456789abcdefX')))).toBe('11\r\n0123456789abcdefX\r\n');
    expect(encodeChunk(new Uint8Array(0)).length).toBe(0);
    expect(str(encodeLastChunk([['Checksum', 'abc']]))).toBe('0\r\nChecksum: abc\r\n\r\n');
    expect(str(encodeLastChunk())).toBe('0\r\n\r\n');
  });
  it('whole messages decode back to the same content', () => {
    const wire = serializeMessage({
      head: {
        method: 'POST',
        target: '/u',
        headers: [
          ['Host', 'h'],
          ['Transfer-Encoding', 'chunked'],
        ],
      },
      body: [bytesOf('ab'), bytesOf('c')],
      trailers: [['T', 'v']],
    });
    const r = decodeIn(new RequestDecoder(), wire);
    expect([str(Uint8Array.from(r.messages[0]!.body)), r.messages[0]!.trailers]).toEqual([
      'abc',
      [['T', 'v']],
    ]);
  });
  it.each([
    [() => serializeRequestHead({ method: 'G T', target: '/', headers: [] }), 'ErrBadMethod'],
    [() => serializeRequestHead({ method: 'GET', target: '/a b', headers: [] }), 'ErrBadTarget'],
    [() => serializeRequestHead({ method: 'GET', target: '', headers: [] }), 'ErrBadTarget'],
    [
      () => serializeRequestHead({ method: 'GET', target: '/', version: 'HTTP/2', headers: [] }),
      'ErrBadVersion',
    ],
    [
      () => serializeRequestHead({ method: 'GET', target: '/', headers: [['Bad Name', 'x']] }),
      'ErrBadFieldName',
    ],
    [
      () => serializeRequestHead({ method: 'GET', target: '/', headers: [['X', 'a\r\nInjected: 1']] }),
      'ErrBadFieldValue',
    ],
    [
      () => serializeRequestHead({ method: 'GET', target: '/', headers: [['X', 'a\nb']] }),
      'ErrBadFieldValue',
    ],
    [
      () => serializeRequestHead({ method: 'GET', target: '/', headers: [['X', 'a\0b']] }),
      'ErrBadFieldValue',
    ],
    [() => serializeRequestHead({ method: 'GET', target: '/', headers: [['X', ' a']] }), 'ErrBadFieldValue'],
    [
      () => serializeRequestHead({ method: 'GET', target: '/', headers: [['X', '\u0100']] }),
      'ErrBadFieldValue',
    ],
    [
      () =>
        serializeRequestHead({
          method: 'POST',
          target: '/',
          headers: [
            ['Content-Length', '1'],
            ['Transfer-Encoding', 'chunked'],
          ],
        }),
      'ErrSmuggling',
    ],
    [
      () =>
        serializeRequestHead({
          method: 'POST',
          target: '/',
          headers: [
            ['Content-Length', '1'],
            ['Content-Length', '1'],
          ],
        }),
      'ErrDuplicateContentLength',
    ],
    [
      () => serializeRequestHead({ method: 'POST', target: '/', headers: [['Content-Length', ' 1']] }),
      'ErrBadFieldValue',
    ],
    [
      () => serializeRequestHead({ method: 'POST', target: '/', headers: [['Content-Length', '+1']] }),
      'ErrBadContentLength',
    ],
    [
      () =>
        serializeRequestHead({
          method: 'POST',
          target: '/',
          headers: [['Transfer-Encoding', 'chunked, gzip']],
        }),
      'ErrBadTransferEncoding',
    ],
    [() => serializeResponseHead({ status: 99, headers: [] }), 'ErrBadStatus'],
    [() => serializeResponseHead({ status: 200, reason: 'a\r\nb', headers: [] }), 'ErrBadStatus'],
    [
      () =>
        serializeMessage({
          head: {
            method: 'POST',
            target: '/',
            headers: [
              ['Host', 'h'],
              ['Content-Length', '2'],
            ],
          },
          body: [bytesOf('abc')],
        }),
      'ErrBodyLengthMismatch',
    ],
    [
      () =>
        serializeMessage({
          head: { method: 'POST', target: '/', headers: [['Host', 'h']] },
          body: [bytesOf('abc')],
        }),
      'ErrBodyLengthMismatch',
    ],
    [
      () => serializeMessage({ head: { status: 204, headers: [] }, body: [bytesOf('a')] }),
      'ErrBodyLengthMismatch',
    ],
    [
      () =>
        serializeMessage({
          head: { status: 200, headers: [['Content-Length', '1']] },
          body: [bytesOf('a')],
          trailers: [['A', 'b']],
        }),
      'ErrBodyLengthMismatch',
    ],
    [() => encodeLastChunk([['X', 'a\rb']]), 'ErrBadFieldValue'],
    [() => serializeRequestHead({ method: 'GET', target: '/', headers: [] }), 'ErrBadHost'],
    [
      () =>
        serializeRequestHead({
          method: 'GET',
          target: '/',
          headers: [
            ['Host', 'a'],
            ['host', 'b'],
          ],
        }),
      'ErrBadHost',
    ],
    [
      () => serializeRequestHead({ method: 'CONNECT', target: '/x', headers: [['Host', 'h']] }),
      'ErrBadTarget',
    ],
    [() => serializeRequestHead({ method: 'GET', target: '*', headers: [['Host', 'h']] }), 'ErrBadTarget'],
  ])('refuses to emit an invalid message, case %#', (fn, code) => {
    expect(fn).toThrow(new RegExp(`^${code}:`));
  });
});
