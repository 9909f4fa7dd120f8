/**
 * Test helpers for the codec: feed a message in given pieces and fold the events into one summary
 * (data chunks concatenated), so tests compare what was decoded, not how it was chunked.
 */
import type { Http1Event, RequestDecoder, ResponseDecoder } from './decoder.js';
import type { RequestHead, ResponseHead } from './head.js';

export interface MessageSummary {
  head: RequestHead | ResponseHead;
  interim: ResponseHead[];
  body: number[];
  trailers: (readonly [string, string])[];
  ended: boolean;
  keepAlive: boolean | undefined;
}

export interface DecodeSummary {
  messages: MessageSummary[];
  tunnel: number[];
  errorCode: string | undefined;
  /** Body bytes reported in data events, summed. */
  dataBytes: number;
}

export function bytesOf(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) & 0xff;
  return out;
}

/** Feeds `input` split at `cuts` (sorted offsets), then end() if `close`; folds the events. */
export function decodeIn(
  decoder: RequestDecoder | ResponseDecoder,
  input: Uint8Array,
  cuts: readonly number[] = [],
  close = false,
): DecodeSummary {
  const events: Http1Event[] = [];
  let at = 0;
  for (const c of [...cuts, input.length]) {
    if (c < at) continue;
    // Copy each piece so a decoder keeping views of earlier input would be caught by later reuse.
    events.push(...decoder.push(input.slice(at, c)));
    at = c;
  }
  if (close) events.push(...decoder.end());
  return summarize(events);
}

export function summarize(events: readonly Http1Event[]): DecodeSummary {
  const out: DecodeSummary = { messages: [], tunnel: [], errorCode: undefined, dataBytes: 0 };
  let pendingInterim: ResponseHead[] = [];
  for (const e of events) {
    const cur = out.messages[out.messages.length - 1];
    switch (e.type) {
      case 'interim':
        pendingInterim.push(e.head);
        break;
      case 'head':
        out.messages.push({
          head: e.head,
          interim: pendingInterim,
          body: [],
          trailers: [],
          ended: false,
          keepAlive: undefined,
        });
        pendingInterim = [];
        break;
      case 'data':
        out.dataBytes += e.bytes.length;
        cur?.body.push(...e.bytes);
        break;
      case 'trailers':
        cur?.trailers.push(...e.trailers.entries());
        break;
      case 'end':
        if (cur !== undefined) {
          cur.ended = true;
          cur.keepAlive = e.keepAlive;
        }
        break;
      case 'tunnel':
        out.tunnel.push(...e.bytes);
        break;
      case 'error':
        out.errorCode ??= e.error.code; // the first error; later ones are ErrDecoderClosed
        break;
    }
  }
  return out;
}

/** Every split of the input into single bytes. */
export function everyByte(input: Uint8Array): number[] {
  return Array.from({ length: input.length }, (_, i) => i);
}
