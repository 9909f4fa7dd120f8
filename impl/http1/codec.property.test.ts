/**
 * Properties of the codec, fixed seeds (fast-check prints seed and path on failure):
 * 1. any valid generated message sequence (requests or responses; Content-Length, chunked with
 *    trailers, close-delimited, no-body cases; pipelined back to back) decodes to what was generated,
 *    identically under any chunking, and re-serialises to bytes that decode the same (byte-identical
 *    where the framing is not chunked);
 * 2. random byte mutations of valid messages, fed in random pieces, never throw, report errors only
 *    as Http1Error, never report more body bytes than the input had, and whatever they accept
 *    re-serialises to bytes that decode the same (the fuzz oracle of issue #20).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RequestDecoder, ResponseDecoder } from './decoder.js';
import { Http1Error } from './errors.js';
import { Http1Headers, type HeaderEntry, type RequestHead, type ResponseHead } from './head.js';
import { serializeMessage, serializeResponseHead, type MessageInit } from './serialize.js';
import { decodeIn, summarize, type DecodeSummary } from './testing.js';

const TCHARS = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const RESERVED = new Set(['content-length', 'transfer-encoding', 'host', 'connection', 'expect']);
const tokenArb = fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 12 });
const nameArb = tokenArb.filter((n) => !RESERVED.has(n.toLowerCase()));
const valueCharArb = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: 0x21, max: 0x7e }) },
  { weight: 2, arbitrary: fc.constantFrom(0x20, 0x09) },
  { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }) },
);
const valueArb = fc
  .array(valueCharArb, { maxLength: 20 })
  .map((cs) => String.fromCharCode(...cs).replace(/^[ \t]+|[ \t]+$/g, ''));
const fieldsArb = fc.array(fc.tuple(nameArb, valueArb), { maxLength: 6 });
const bodyArb = fc.array(fc.uint8Array({ minLength: 1, maxLength: 40 }), { maxLength: 4 });
const framingArb = fc.constantFrom('length', 'chunked', 'none', 'close');

interface GenMessage {
  init: MessageInit;
  method: string; // the request method (for responses: the method answered)
  /** A response read until close: nothing can follow it on the connection. */
  closeDelimited: boolean;
  /** Interim (1xx) responses sent before this final response. */
  interim: readonly MessageInit[];
}

/** The wire bytes of a generated message: its interim responses, then itself. */
function wireOf(m: GenMessage): Uint8Array {
  return concat([...m.interim.map((i) => serializeMessage(i)), serializeMessage(m.init)]);
}

/** Truncates a sequence after its first close-delimited message (nothing can follow one). */
function upToClose(msgs: GenMessage[]): GenMessage[] {
  const i = msgs.findIndex((m) => m.closeDelimited);
  return i < 0 ? msgs : msgs.slice(0, i + 1);
}

const requestArb: fc.Arbitrary<GenMessage> = fc
  .record({
    method: fc.oneof(fc.constantFrom('GET', 'POST', 'PUT', 'DELETE'), tokenArb),
    path: fc.string({ unit: fc.constantFrom(...'abc/?=&%-._~09'), maxLength: 20 }),
    minor: fc.constantFrom(0, 1, 1, 1),
    fields: fieldsArb,
    framing: framingArb,
    body: bodyArb,
    trailers: fieldsArb,
    connection: fc.constantFrom(undefined, 'close', 'keep-alive'),
    expect: fc.boolean(),
  })
  .map((g) => {
    const headers: HeaderEntry[] = [['Host', 'example.test'], ...g.fields];
    if (g.connection !== undefined) headers.push(['Connection', g.connection]);
    if (g.expect) headers.push(['Expect', '100-continue']);
    let framing = g.framing === 'close' ? 'none' : g.framing;
    if (framing === 'chunked' && g.minor === 0) framing = 'length';
    const body = framing === 'none' ? [] : g.body;
    if (framing === 'length')
      headers.push(['Content-Length', String(body.reduce((n, b) => n + b.length, 0))]);
    if (framing === 'chunked') headers.push(['Transfer-Encoding', 'chunked']);
    const init: MessageInit = {
      head: { method: g.method, target: `/${g.path}`, version: `HTTP/1.${g.minor}`, headers },
      body,
      ...(framing === 'chunked' ? { trailers: g.trailers } : {}),
    };
    return { init, method: g.method, closeDelimited: false, interim: [] };
  });

const responseArb: fc.Arbitrary<GenMessage> = fc
  .record({
    method: fc.constantFrom('GET', 'GET', 'POST', 'HEAD'),
    status: fc.constantFrom(200, 201, 204, 301, 304, 404, 500, 599),
    reason: fc.constantFrom('', 'OK', 'Not Found', 'x y z'),
    minor: fc.constantFrom(0, 1, 1, 1),
    fields: fieldsArb,
    framing: framingArb,
    body: bodyArb,
    trailers: fieldsArb,
    connection: fc.constantFrom(undefined, 'close', 'keep-alive'),
    interim: fc.array(fc.record({ status: fc.constantFrom(100, 102, 103), fields: fieldsArb }), {
      maxLength: 2,
    }),
  })
  .map((g) => {
    const headers: HeaderEntry[] = [...g.fields];
    if (g.connection !== undefined) headers.push(['Connection', g.connection]);
    const noBody = g.method === 'HEAD' || g.status === 204 || g.status === 304;
    let framing = g.framing;
    if (framing === 'chunked' && g.minor === 0) framing = 'length';
    if (framing === 'none') framing = 'length';
    const body = noBody ? [] : g.body;
    const declared = g.body.reduce((n, b) => n + b.length, 0);
    if (framing === 'length')
      headers.push([
        'Content-Length',
        String(noBody && g.method === 'HEAD' ? declared : body.reduce((n, b) => n + b.length, 0)),
      ]);
    if (framing === 'chunked') headers.push(['Transfer-Encoding', 'chunked']);
    const init: MessageInit = {
      head: { status: g.status, reason: g.reason, version: `HTTP/1.${g.minor}`, headers },
      body,
      requestMethod: g.method,
      ...(framing === 'chunked' && !noBody ? { trailers: g.trailers } : {}),
    };
    const interim = g.interim.map((i): MessageInit => ({
      head: { status: i.status, reason: 'Info', headers: i.fields },
    }));
    return { init, method: g.method, closeDelimited: framing === 'close' && !noBody, interim };
  });

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** The comparable content of a decoded head (Http1Headers flattened). */
function headView(h: RequestHead | ResponseHead): unknown {
  return { ...h, headers: h.headers.entries() };
}
function view(s: DecodeSummary): unknown {
  return {
    error: s.errorCode,
    messages: s.messages.map((m) => ({ ...m, head: headView(m.head), interim: m.interim.map(headView) })),
  };
}

const cutsArb = (maxLen: number) =>
  fc.uniqueArray(fc.integer({ min: 0, max: maxLen }), { maxLength: 12 }).map((a) => a.sort((x, y) => x - y));

function decoderFor(
  kind: 'request' | 'response',
  msgs: readonly GenMessage[],
): RequestDecoder | ResponseDecoder {
  if (kind === 'request') return new RequestDecoder();
  const d = new ResponseDecoder();
  for (const m of msgs) d.expect(m.method);
  return d;
}

/** Re-serialises what was decoded: head as decoded, body as one piece, trailers as decoded. */
function reserialize(s: DecodeSummary, msgs: readonly GenMessage[]): Uint8Array {
  return concat(
    s.messages.map((m, i) => {
      const h = m.head;
      const head =
        h.kind === 'request'
          ? { method: h.method, target: h.target, version: h.version, headers: h.headers }
          : { status: h.status, reason: h.reason, version: h.version, headers: h.headers };
      const interim = m.interim.map((i) =>
        serializeResponseHead({ status: i.status, reason: i.reason, version: i.version, headers: i.headers }),
      );
      return concat([
        ...interim,
        serializeMessage({
          head,
          body: [Uint8Array.from(m.body)],
          ...(m.trailers.length > 0 ? { trailers: m.trailers } : {}),
          requestMethod: msgs[i]?.method ?? 'GET',
        }),
      ]);
    }),
  );
}

describe('codec properties', () => {
  for (const kind of ['request', 'response'] as const) {
    it(`${kind}s: any chunking decodes the same, matches what was generated, and round-trips`, () => {
      const msgArb = kind === 'request' ? requestArb : responseArb;
      fc.assert(
        fc.property(
          fc
            .array(msgArb, { minLength: 1, maxLength: 4 })
            .map(upToClose)
            .chain((msgs) => {
              const wire = concat(msgs.map(wireOf));
              return fc.tuple(fc.constant(msgs), fc.constant(wire), cutsArb(wire.length));
            }),
          ([msgs, wire, cuts]) => {
            const whole = decodeIn(decoderFor(kind, msgs), wire, [], true);
            const pieces = decodeIn(decoderFor(kind, msgs), wire, cuts, true);
            expect(view(pieces)).toEqual(view(whole));
            expect(whole.errorCode).toBeUndefined();
            // Messages up to the first that closes the connection are decoded, in order, as generated.
            const closeAt = whole.messages.findIndex((m) => !m.keepAlive);
            expect(whole.messages.length).toBe(closeAt < 0 ? msgs.length : closeAt + 1);
            whole.messages.forEach((m, i) => {
              const g = msgs[i]!.init;
              expect(m.ended).toBe(true);
              expect(m.interim.map((h) => [h.status, h.headers.entries()])).toEqual(
                msgs[i]!.interim.map((x) => [
                  'status' in x.head ? x.head.status : 0,
                  [...(x.head.headers as Iterable<HeaderEntry>)],
                ]),
              );
              expect(m.head.headers.entries()).toEqual([...(g.head.headers as Iterable<HeaderEntry>)]);
              expect(m.body).toEqual([...concat(g.body ?? [])]);
              expect(m.trailers).toEqual([
                ...new Http1Headers((g.trailers ?? []) as Iterable<HeaderEntry>).entries(),
              ]);
              if (m.head.kind === 'request' && 'method' in g.head)
                expect([m.head.method, m.head.target]).toEqual([g.head.method, g.head.target]);
              if (m.head.kind === 'response' && 'status' in g.head)
                expect([m.head.status, m.head.reason]).toEqual([g.head.status, g.head.reason]);
            });
            const again = reserialize(whole, msgs);
            const redecoded = decodeIn(decoderFor(kind, msgs), again, [], true);
            expect(view(redecoded)).toEqual(view(whole));
            const anyChunked = whole.messages.some((m) => m.head.framing.kind === 'chunked');
            if (!anyChunked && closeAt < 0) expect(again).toEqual(wire);
          },
        ),
        { seed: 20_001, numRuns: 150 },
      );
    });
  }

  it('random byte mutations never throw, report only Http1Error, never more body bytes than input', () => {
    const mutationArb = fc.array(
      fc.record({
        at: fc.nat(),
        op: fc.constantFrom('set', 'insert', 'delete'),
        byte: fc.constantFrom(0, 9, 10, 13, 32, 0x3a, 0x3b, 0x30, 0x66, 0x7f, 0xff, 0x41),
      }),
      { minLength: 1, maxLength: 6 },
    );
    fc.assert(
      fc.property(
        fc.constantFrom('request', 'response'),
        fc.array(fc.oneof(requestArb, responseArb), { minLength: 1, maxLength: 3 }).map(upToClose),
        mutationArb,
        fc.uniqueArray(fc.nat({ max: 400 }), { maxLength: 10 }),
        (kind, msgs, mutations, cuts) => {
          const bytes = [...concat(msgs.map(wireOf))];
          for (const m of mutations) {
            const at = bytes.length === 0 ? 0 : m.at % bytes.length;
            if (m.op === 'set') bytes[at] = m.byte;
            else if (m.op === 'insert') bytes.splice(at, 0, m.byte);
            else bytes.splice(at, 1);
          }
          const input = Uint8Array.from(bytes);
          const d = decoderFor(kind, msgs);
          const events = [];
          let at = 0;
          for (const c of [...cuts.sort((x, y) => x - y), input.length]) {
            if (c < at || c > input.length) continue;
            events.push(...d.push(input.subarray(at, c)));
            at = c;
          }
          events.push(...d.end());
          let dataBytes = 0;
          let errors = 0;
          for (const e of events) {
            if (e.type === 'data' || e.type === 'tunnel') dataBytes += e.bytes.length;
            if (e.type === 'error') {
              expect(e.error).toBeInstanceOf(Http1Error);
              if (e.error.code !== 'ErrDecoderClosed') errors++;
            }
          }
          expect(dataBytes).toBeLessThanOrEqual(input.length);
          // Differential: what the codec accepted re-serialises to bytes that decode the same.
          const accepted = summarize(events);
          if (accepted.errorCode === undefined && accepted.messages.every((m) => m.ended)) {
            const again = concat([reserialize(accepted, msgs), Uint8Array.from(accepted.tunnel)]);
            expect(view(decodeIn(decoderFor(kind, msgs), again, [], true))).toEqual(view(accepted));
          }
          expect(errors).toBeLessThanOrEqual(1); // one failure; later calls only say ErrDecoderClosed
        },
      ),
      { seed: 20_002, numRuns: 200 },
    );
  });
});
