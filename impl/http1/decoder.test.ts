import { describe, expect, it } from 'vitest';
import { RequestDecoder, ResponseDecoder } from './decoder.js';
import { Http1Error, HTTP1_ERROR_CODES, HTTP1_ERROR_INFO, isHttp1Error } from './errors.js';
import { bytesOf, decodeIn, everyByte } from './testing.js';

const req = (s: string, cuts?: number[] | 'bytes', close = false) => {
  const input = bytesOf(s);
  return decodeIn(new RequestDecoder(), input, cuts === 'bytes' ? everyByte(input) : cuts, close);
};
const res = (s: string, methods: string[] = ['GET'], close = false, cuts?: 'bytes') => {
  const d = new ResponseDecoder();
  for (const m of methods) d.expect(m);
  const input = bytesOf(s);
  return decodeIn(d, input, cuts === 'bytes' ? everyByte(input) : [], close);
};
const text = (b: number[]) => String.fromCharCode(...b);
const reqErr = (s: string) => req(s).errorCode;
const resErr = (s: string, methods?: string[]) => res(s, methods).errorCode;

describe('request heads', () => {
  it('decodes method, target, version, headers with original case, case-insensitive lookup, in order', () => {
    const r = req(
      'GET /a?b=c HTTP/1.1\r\nHost: x\r\nX-Multi: 1\r\nx-multi: 2\r\nAccept:  text/plain \r\n\r\n',
      'bytes',
    );
    expect(r.errorCode).toBeUndefined();
    const m = r.messages[0]!;
    const h = m.head;
    if (h.kind !== 'request') throw new Error('kind');
    expect([h.method, h.target, h.version, h.versionMinor]).toEqual(['GET', '/a?b=c', 'HTTP/1.1', 1]);
    expect(h.headers.entries()).toEqual([
      ['Host', 'x'],
      ['X-Multi', '1'],
      ['x-multi', '2'],
      ['Accept', 'text/plain'],
    ]);
    expect(h.headers.getAll('X-MULTI')).toEqual(['1', '2']);
    expect(h.headers.get('accept')).toBe('text/plain');
    expect(m.ended && m.keepAlive).toBe(true);
    expect(h.framing).toEqual({ kind: 'none' });
  });
  it('keep-alive: 1.1 default on, close token off; 1.0 default off, keep-alive token on', () => {
    expect(req('GET / HTTP/1.1\r\nHost: x\r\nConnection: Close\r\n\r\n').messages[0]!.keepAlive).toBe(false);
    expect(req('GET / HTTP/1.0\r\n\r\n').messages[0]!.keepAlive).toBe(false);
    expect(req('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n').messages[0]!.keepAlive).toBe(true);
    expect(
      req('GET / HTTP/1.1\r\nHost: x\r\nConnection: foo, keep-alive\r\n\r\n').messages[0]!.keepAlive,
    ).toBe(true);
  });
  it('flags Expect: 100-continue on 1.1 only', () => {
    const h = req('POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\na')
      .messages[0]!.head;
    expect(h.kind === 'request' && h.expectContinue).toBe(true);
    const h0 = req('POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n').messages[0]!.head;
    expect(h0.kind === 'request' && h0.expectContinue).toBe(false);
  });
  it('pipelined requests back to back in one buffer, bodies in order', () => {
    const r = req(
      'POST /1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcGET /2 HTTP/1.1\r\nHost: x\r\n\r\nPOST /3 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n',
    );
    expect(r.errorCode).toBeUndefined();
    expect(
      r.messages.map((m) => [m.head.kind === 'request' && m.head.target, text(m.body), m.ended]),
    ).toEqual([
      ['/1', 'abc', true],
      ['/2', '', true],
      ['/3', 'hi', true],
    ]);
  });
  it('tolerates one empty line before a request line, not two', () => {
    expect(req('\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n').messages).toHaveLength(1);
    expect(reqErr('\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n')).toBe('ErrBadStartLine');
  });
  it('ignores bytes after a message that closes the connection', () => {
    const r = req('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\nGARBAGE');
    expect([r.messages.length, r.errorCode]).toEqual([1, undefined]);
  });
  it('accepts CONNECT authority-form and OPTIONS *, absolute-form', () => {
    expect(reqErr('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n')).toBeUndefined();
    expect(reqErr('OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n')).toBeUndefined();
    expect(reqErr('GET http://x/y HTTP/1.1\r\nHost: x\r\n\r\n')).toBeUndefined();
  });
  it.each([
    ['GET  / HTTP/1.1\r\n\r\n', 'ErrBadStartLine'],
    ['GET / HTTP/1.1 \r\n\r\n', 'ErrBadStartLine'],
    ['GET /\r\n\r\n', 'ErrBadStartLine'],
    ['G(T / HTTP/1.1\r\nHost: x\r\n\r\n', 'ErrBadMethod'],
    ['GET /\x7f HTTP/1.1\r\nHost: x\r\n\r\n', 'ErrBadTarget'],
    ['GET x HTTP/1.1\r\nHost: x\r\n\r\n', 'ErrBadTarget'],
    ['GET * HTTP/1.1\r\nHost: x\r\n\r\n', 'ErrBadTarget'],
    ['CONNECT /x HTTP/1.1\r\nHost: x\r\n\r\n', 'ErrBadTarget'],
    ['GET / HTTP/1.1x\r\nHost: x\r\n\r\n', 'ErrBadVersion'],
    ['GET / http/1.1\r\nHost: x\r\n\r\n', 'ErrBadVersion'],
    ['GET / HTTP/2.0\r\nHost: x\r\n\r\n', 'ErrUnsupportedVersion'],
    ['GET / HTTP/1.1\nHost: x\r\n\r\n', 'ErrBadLineEnding'],
    ['GET / HTTP/1.1\r\nHost: x\n\r\n', 'ErrBadLineEnding'],
    ['GET / HTTP/1.1\r\nHost: x\r\n\n', 'ErrBadLineEnding'],
    ['GET / HTTP/1.1\r\nHost: x\rY: z\r\n\r\n', 'ErrBadLineEnding'],
    ['GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n c\r\n\r\n', 'ErrObsFold'],
    ['GET / HTTP/1.1\r\n Host: x\r\n\r\n', 'ErrObsFold'],
    ['GET / HTTP/1.1\r\nHost : x\r\n\r\n', 'ErrSpaceBeforeColon'],
    ['GET / HTTP/1.1\r\nHost\t: x\r\n\r\n', 'ErrSpaceBeforeColon'],
    ['GET / HTTP/1.1\r\nHost x\r\n\r\n', 'ErrSpaceBeforeColon'],
    ['GET / HTTP/1.1\r\nHost\r\n\r\n', 'ErrBadFieldName'],
    ['GET / HTTP/1.1\r\n: x\r\n\r\n', 'ErrBadFieldName'],
    ['GET / HTTP/1.1\r\nHo(st: x\r\n\r\n', 'ErrBadFieldName'],
    ['GET / HTTP/1.1\r\nHost: x\x00y\r\n\r\n', 'ErrBadFieldValue'],
    ['GET / HTTP/1.1\r\nHost: x\x01\r\n\r\n', 'ErrBadFieldValue'],
    ['GET / HTTP/1.1\r\n\r\n', 'ErrBadHost'],
    ['GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 'ErrBadHost'],
  ])('rejects %j with %s', (input, code) => {
    expect(reqErr(input)).toBe(code);
  });
});

describe('request bodies and framing (RFC 9112 §6.3)', () => {
  const H = 'POST / HTTP/1.1\r\nHost: x\r\n';
  it('Content-Length body, any chunking, as views of the input', () => {
    const r = req(`${H}Content-Length: 5\r\n\r\nhello`, 'bytes');
    expect(text(r.messages[0]!.body)).toBe('hello');
    const d = new RequestDecoder();
    const input = bytesOf(`${H}Content-Length: 5\r\n\r\nhello`);
    const data = d.push(input).find((e) => e.type === 'data');
    expect(data?.type === 'data' && data.bytes.buffer === input.buffer).toBe(true);
  });
  it('chunked with extensions and trailers', () => {
    const r = req(
      `${H}Transfer-Encoding: chunked\r\n\r\n3;a=b;c="q\\"x" \t;d\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\nx-t: 2\r\n\r\n`,
      'bytes',
    );
    expect(r.errorCode).toBeUndefined();
    expect(text(r.messages[0]!.body)).toBe('abc0123456789');
    expect(r.messages[0]!.trailers).toEqual([
      ['X-T', '1'],
      ['x-t', '2'],
    ]);
  });
  it.each([
    [`${H}Content-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n`, 'ErrSmuggling'],
    [`${H}Transfer-Encoding: chunked\r\nContent-Length: 1\r\n\r\n`, 'ErrSmuggling'],
    [`${H}Content-Length: 1\r\nContent-Length: 1\r\n\r\nx`, 'ErrDuplicateContentLength'],
    [`${H}Content-Length: 1\r\nContent-Length: 2\r\n\r\nx`, 'ErrDuplicateContentLength'],
    [`${H}Content-Length: 1, 1\r\n\r\nx`, 'ErrBadContentLength'],
    [`${H}Content-Length: +1\r\n\r\nx`, 'ErrBadContentLength'],
    [`${H}Content-Length: -1\r\n\r\nx`, 'ErrBadContentLength'],
    [`${H}Content-Length: 1 2\r\n\r\nx`, 'ErrBadContentLength'],
    [`${H}Content-Length: 0x1\r\n\r\nx`, 'ErrBadContentLength'],
    [`${H}Content-Length: \r\n\r\nx`, 'ErrBadContentLength'],
    [`${H}Content-Length: 9007199254740992\r\n\r\n`, 'ErrBadContentLength'],
    [`${H}Content-Length: 99999999999999999999999\r\n\r\n`, 'ErrBadContentLength'],
    [`${H}Transfer-Encoding: chunked, gzip\r\n\r\n`, 'ErrBadTransferEncoding'],
    [`${H}Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n`, 'ErrBadTransferEncoding'],
    [`${H}Transfer-Encoding: identity\r\n\r\n`, 'ErrBadTransferEncoding'],
    [`${H}Transfer-Encoding: ,\r\n\r\n`, 'ErrBadTransferEncoding'],
    [`${H}Transfer-Encoding: gzip, chunked\r\n\r\n`, 'ErrUnsupportedTransferCoding'],
    ['POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', 'ErrBadTransferEncoding'],
    [`${H}Transfer-Encoding: chunked\r\n\r\nx\r\n`, 'ErrBadChunkSize'],
    [`${H}Transfer-Encoding: chunked\r\n\r\n\r\n`, 'ErrBadChunkSize'],
    [`${H}Transfer-Encoding: chunked\r\n\r\n-1\r\n`, 'ErrBadChunkSize'],
    [`${H}Transfer-Encoding: chunked\r\n\r\n0x1\r\n`, 'ErrBadChunkSize'],
    [`${H}Transfer-Encoding: chunked\r\n\r\n1 \r\n`, 'ErrBadChunkSize'],
    [`${H}Transfer-Encoding: chunked\r\n\r\n 1\r\n`, 'ErrBadChunkSize'],
    [`${H}Transfer-Encoding: chunked\r\n\r\n20000000000000\r\n`, 'ErrBadChunkSize'],
    [`${H}Transfer-Encoding: chunked\r\n\r\nfffffffffffffffffff1\r\n`, 'ErrBadChunkSize'],
    [`${H}Transfer-Encoding: chunked\r\n\r\n1;\r\n`, 'ErrBadChunkExtension'],
    [`${H}Transfer-Encoding: chunked\r\n\r\n1;a=\r\n`, 'ErrBadChunkExtension'],
    [`${H}Transfer-Encoding: chunked\r\n\r\n1;a="x\r\n`, 'ErrBadChunkExtension'],
    [`${H}Transfer-Encoding: chunked\r\n\r\n1;a=b c\r\n`, 'ErrBadChunkExtension'],
    [`${H}Transfer-Encoding: chunked\r\n\r\n1\r\nxy\r\n`, 'ErrBadChunk'],
    [`${H}Transfer-Encoding: chunked\r\n\r\n1\nx\r\n`, 'ErrBadLineEnding'],
    [`${H}Transfer-Encoding: chunked\r\n\r\n1\r\nx\rx`, 'ErrBadLineEnding'],
    [`${H}Transfer-Encoding: chunked\r\n\r\n0\r\nA: b\n\r\n`, 'ErrBadLineEnding'],
    [`${H}Transfer-Encoding: chunked\r\n\r\n0\r\nA : b\r\n\r\n`, 'ErrSpaceBeforeColon'],
  ])('rejects %j with %s', (input, code) => {
    expect(reqErr(input)).toBe(code);
  });
  it('statuses follow the table: 400, 501 for an unknown coding, 431 for head limits, 413 for body', () => {
    const d = new RequestDecoder();
    const e = d.push(bytesOf(`${H}Transfer-Encoding: br, chunked\r\n\r\n`)).at(-1);
    expect(e?.type === 'error' && [e.error.code, e.error.status]).toEqual([
      'ErrUnsupportedTransferCoding',
      501,
    ]);
    expect(d.state).toBe('failed');
    const again = d.push(bytesOf('x'));
    expect(again[0]?.type === 'error' && again[0].error.code).toBe('ErrDecoderClosed');
    for (const code of HTTP1_ERROR_CODES)
      expect(new Http1Error(code, 'x').status).toBe(HTTP1_ERROR_INFO[code].status);
    expect(isHttp1Error(new Http1Error('ErrSmuggling', 'x'), 'ErrSmuggling')).toBe(true);
    expect(new Http1Error('ErrPoolSomething', 'x', { status: 503 }).status).toBe(503);
  });
  it('end() mid-message is ErrIncompleteMessage; between messages it is clean', () => {
    expect(req(`${H}Content-Length: 5\r\n\r\nhel`, [], true).errorCode).toBe('ErrIncompleteMessage');
    expect(req('GET / HTT', [], true).errorCode).toBe('ErrIncompleteMessage');
    expect(req('GET / HTTP/1.1\r\nHost: x\r\n\r\n', [], true).errorCode).toBeUndefined();
  });
});

describe('limits', () => {
  it('start line: exactly maxStartLineBytes passes, one more fails (any chunking)', () => {
    const line = (n: number) => `GET /${'a'.repeat(n - 'GET / HTTP/1.1'.length)} HTTP/1.1`;
    const ok = bytesOf(`${line(64)}\r\nHost: x\r\n\r\n`);
    const bad = bytesOf(`${line(65)}\r\nHost: x\r\n\r\n`);
    expect(
      decodeIn(new RequestDecoder({ maxStartLineBytes: 64 }), ok, everyByte(ok)).errorCode,
    ).toBeUndefined();
    expect(decodeIn(new RequestDecoder({ maxStartLineBytes: 64 }), ok, [65]).errorCode).toBeUndefined();
    expect(decodeIn(new RequestDecoder({ maxStartLineBytes: 64 }), bad).errorCode).toBe(
      'ErrStartLineTooLong',
    );
    expect(decodeIn(new RequestDecoder({ maxStartLineBytes: 64 }), bad, everyByte(bad)).errorCode).toBe(
      'ErrStartLineTooLong',
    );
  });
  it('header bytes: the field section incl. CRLFs and the empty line', () => {
    const head = 'GET / HTTP/1.1\r\nHost: x\r\nA: 12345\r\n\r\n'; // field section = 9 + 10 + 2 = 21
    expect(decodeIn(new RequestDecoder({ maxHeaderBytes: 21 }), bytesOf(head)).errorCode).toBeUndefined();
    expect(decodeIn(new RequestDecoder({ maxHeaderBytes: 20 }), bytesOf(head)).errorCode).toBe(
      'ErrHeadersTooLarge',
    );
    const big = `GET / HTTP/1.1\r\nHost: x\r\nA: ${'v'.repeat(70_000)}\r\n\r\n`;
    const e = decodeIn(new RequestDecoder(), bytesOf(big));
    expect(e.errorCode).toBe('ErrHeadersTooLarge');
  });
  it('header count: default 100, trailers counted separately', () => {
    const fields = (n: number) => Array.from({ length: n }, (_, i) => `F${i}: v\r\n`).join('');
    expect(reqErr(`GET / HTTP/1.1\r\nHost: x\r\n${fields(99)}\r\n`)).toBeUndefined();
    expect(reqErr(`GET / HTTP/1.1\r\nHost: x\r\n${fields(100)}\r\n`)).toBe('ErrTooManyHeaders');
    expect(
      reqErr(`POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n${fields(101)}\r\n`),
    ).toBe('ErrTooManyHeaders');
  });
  it('chunk-size line limit', () => {
    const H = 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n';
    const d = (s: string) => decodeIn(new RequestDecoder({ maxChunkLineBytes: 8 }), bytesOf(H + s)).errorCode;
    expect(d('1;abcdef\r\nx\r\n0\r\n\r\n')).toBeUndefined();
    expect(d('1;abcdefg\r\nx\r\n0\r\n\r\n')).toBe('ErrChunkLineTooLong');
    expect(reqErr(`${H}1;${'a'.repeat(2000)}\r\n`)).toBe('ErrChunkLineTooLong');
  });
  it('body: server default 16 MiB refused from the head, before any data; chunked counted as it comes', () => {
    const d = new RequestDecoder();
    const ev = d.push(bytesOf('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 16777217\r\n\r\n'));
    expect(ev.map((e) => e.type)).toEqual(['head', 'error']);
    expect(ev[1]?.type === 'error' && [ev[1].error.code, ev[1].error.status]).toEqual([
      'ErrBodyTooLarge',
      413,
    ]);
    const small = new RequestDecoder({ maxBodyBytes: 4 });
    const r = decodeIn(
      small,
      bytesOf('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n'),
    );
    expect([r.errorCode, r.dataBytes]).toEqual(['ErrBodyTooLarge', 3]);
  });
  it('client default has no body limit; a configured one applies to close-delimited bodies', () => {
    const d = new ResponseDecoder({ maxBodyBytes: 3 });
    const r = decodeIn(d, bytesOf('HTTP/1.1 200 OK\r\n\r\nabcd'));
    expect(r.errorCode).toBe('ErrBodyTooLarge');
    expect(res('HTTP/1.1 200 OK\r\nContent-Length: 20000000\r\n\r\n').errorCode).toBeUndefined();
  });
  it('bad options are ErrBadOption', () => {
    expect(() => new RequestDecoder({ maxHeaderBytes: -1 })).toThrow(/ErrBadOption/);
    expect(() => new RequestDecoder({ maxHeaderCount: 1.5 })).toThrow(/ErrBadOption/);
    expect(() => new ResponseDecoder({ maxBodyBytes: Number.POSITIVE_INFINITY })).not.toThrow();
    const d = new ResponseDecoder({ maxPendingRequests: 1 });
    d.expect('GET');
    expect(() => d.expect('GET')).toThrow(/ErrTooManyPending/);
  });
});

describe('responses', () => {
  it('status, reason, CL body, keep-alive; any chunking', () => {
    const r = res('HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno', ['GET'], false, 'bytes');
    const m = r.messages[0]!;
    expect(m.head.kind === 'response' && [m.head.status, m.head.reason]).toEqual([404, 'Not Found']);
    expect([text(m.body), m.keepAlive]).toEqual(['no', true]);
  });
  it('status line without reason (with or without the SP)', () => {
    expect(resErr('HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n')).toBeUndefined();
    expect(resErr('HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n')).toBeUndefined();
  });
  it('read until close without a length; end() ends it; keepAlive false', () => {
    const r = res('HTTP/1.1 200 OK\r\n\r\nsome bytes', ['GET'], true);
    expect([text(r.messages[0]!.body), r.messages[0]!.ended, r.messages[0]!.keepAlive]).toEqual([
      'some bytes',
      true,
      false,
    ]);
    const open = res('HTTP/1.1 200 OK\r\n\r\nsome bytes', ['GET'], false);
    expect(open.messages[0]!.ended).toBe(false);
  });
  it('no body for HEAD, 1xx, 204, 304 even with Content-Length', () => {
    const r = res(
      'HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nHTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx',
      ['HEAD', 'GET', 'GET', 'GET'],
    );
    expect(r.errorCode).toBeUndefined();
    expect(r.messages.map((m) => [m.head.kind === 'response' && m.head.status, text(m.body)])).toEqual([
      [200, ''],
      [204, ''],
      [304, ''],
      [200, 'x'],
    ]);
  });
  it('1xx interim responses are surfaced separately from the final one', () => {
    const r = res(
      'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx',
      ['POST'],
      false,
      'bytes',
    );
    expect(r.messages).toHaveLength(1);
    expect(r.messages[0]!.interim.map((h) => h.status)).toEqual([100, 103]);
    expect(text(r.messages[0]!.body)).toBe('x');
  });
  it('101 and a 2xx to CONNECT end HTTP/1 framing: later bytes are tunnel bytes', () => {
    const r = res('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\x81\x00raw', ['GET']);
    expect(r.messages[0]!.head.framing).toEqual({ kind: 'tunnel' });
    expect(text(r.tunnel)).toBe('\x81\x00raw');
    const c = res('HTTP/1.1 200 OK\r\n\r\nrawbytes', ['CONNECT']);
    expect([text(c.tunnel), c.messages[0]!.body.length]).toEqual(['rawbytes', 0]);
  });
  it('pipelined responses are matched to the queued methods in order', () => {
    const d = new ResponseDecoder();
    d.expect('HEAD');
    d.expect('GET');
    const r = decodeIn(
      d,
      bytesOf('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc'),
    );
    expect(r.messages.map((m) => text(m.body))).toEqual(['', 'abc']);
    expect(d.pending).toEqual([]);
  });
  it('1.0 response persistence, Connection: close', () => {
    expect(res('HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n').messages[0]!.keepAlive).toBe(false);
    expect(
      res('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n').messages[0]!.keepAlive,
    ).toBe(true);
    expect(
      res('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n').messages[0]!.keepAlive,
    ).toBe(false);
  });
  it.each([
    ['HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n', 'ErrSmuggling'],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n', 'ErrBadTransferEncoding'],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', 'ErrUnsupportedTransferCoding'],
    ['HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx', 'ErrDuplicateContentLength'],
    ['HTTP/1.1 2000 OK\r\n\r\n', 'ErrBadStatus'],
    ['HTTP/1.1 20 OK\r\n\r\n', 'ErrBadStatus'],
    ['HTTP/1.1 099 OK\r\n\r\n', 'ErrBadStatus'],
    ['HTTP/1.1 600 OK\r\n\r\n', 'ErrBadStatus'],
    ['HTTP/1.1 abc OK\r\n\r\n', 'ErrBadStatus'],
    ['HTTP/1.1 200 O\x01K\r\n\r\n', 'ErrBadStatus'],
    ['HTTP/1.1\r\n\r\n', 'ErrBadStartLine'],
    ['HTTP/1.x 200 OK\r\n\r\n', 'ErrBadVersion'],
    ['HTTP/3.0 200 OK\r\n\r\n', 'ErrUnsupportedVersion'],
    ['HTTP/1.1 200 OK\n\r\n', 'ErrBadLineEnding'],
    ['HTTP/1.1 200 OK\r\nA: b\r\n\tc\r\n\r\n', 'ErrObsFold'],
    ['\r\nHTTP/1.1 200 OK\r\n\r\n', 'ErrBadStartLine'],
  ])('rejects %j with %s', (input, code) => {
    expect(resErr(input)).toBe(code);
  });
  it('a close after an interim response, before the final one, is ErrIncompleteMessage', () => {
    expect(res('HTTP/1.1 100 Continue\r\n\r\n', ['POST'], true).errorCode).toBe('ErrIncompleteMessage');
  });
  it('obs-text in field values and reason phrases survives as latin1 chars', () => {
    const m = res('HTTP/1.1 200 \xe9t\xe9\r\nX: caf\xe9\r\nContent-Length: 0\r\n\r\n').messages[0]!;
    expect(m.head.kind === 'response' && [m.head.reason, m.head.headers.get('x')]).toEqual([
      '\u00e9t\u00e9',
      'caf\u00e9',
    ]);
  });
  it('OWS around a field value is not part of it; OWS around Content-Length digits is allowed', () => {
    const r = req('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: \t 2 \t\r\n\r\nab');
    expect([r.errorCode, text(r.messages[0]!.body)]).toEqual([undefined, 'ab']);
  });
  it('a response cut short by the close is ErrIncompleteMessage', () => {
    expect(res('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab', ['GET'], true).errorCode).toBe(
      'ErrIncompleteMessage',
    );
    expect(res('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab', ['GET'], true).errorCode).toBe(
      'ErrIncompleteMessage',
    );
  });
  it('errors are Http1Error instances with the code in the message', () => {
    const d = new ResponseDecoder();
    const e = d.push(bytesOf('HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n')).at(-1);
    expect(
      e?.type === 'error' &&
        e.error instanceof Http1Error &&
        e.error.message.startsWith('ErrBadContentLength:'),
    ).toBe(true);
    expect(d.error?.code).toBe('ErrBadContentLength');
  });
});
