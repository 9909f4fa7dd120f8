/**
 * What the scenario viewer needs to know of SP (web/message-decoder.ts): the message pane's decoder
 * for the messages the SP stack traces — frames on tcp and ipc, messages handed over on inproc, and
 * the REQ/REP and SURVEYOR/RESPONDENT requests, replies, surveys and responses. The trace carries
 * field values, not raw bytes: this rebuilds the bytes SP puts on the wire from them where it can
 * (integers big-endian, the ipc frame's message-type byte) and leaves the rest unknown.
 */
import { IPC_TYPE_MESSAGE } from '../../impl/sp/wire/frames.js';
import { PROTOCOLS } from '../../impl/sp/wire/protocols.js';
import type { TraceField } from '../../sim/trace.js';
import type { DecodedField, MessageDecoder } from '../stack.js';

/** A field's value as `length` big-endian bytes (booleans, non-negative integers, UTF-8 text), or nulls when it cannot be. */
export function encodeField(f: TraceField): (number | null)[] {
  const out: (number | null)[] = new Array<number | null>(f.length).fill(null);
  if (f.length <= 0) return out;
  if (typeof f.value === 'boolean') {
    out.fill(0);
    out[f.length - 1] = f.value ? 1 : 0;
    return out;
  }
  if (typeof f.value === 'number' && Number.isSafeInteger(f.value) && f.value >= 0) {
    let v = BigInt(f.value);
    for (let i = f.length - 1; i >= 0; i--) {
      out[i] = Number(v & 0xffn);
      v >>= 8n;
    }
    return v === 0n ? out : out.fill(null);
  }
  if (typeof f.value === 'string') {
    const enc = new TextEncoder().encode(f.value);
    if (enc.length === f.length) return Array.from(enc);
  }
  return out;
}

/** The bytes of one SP field as the wire has them, as far as its value tells. */
export function spFieldBytes(f: TraceField): (number | null)[] {
  switch (f.name) {
    // A count of words: the words themselves (hop ids, then the request id) are not its value.
    case 'backtrace-words':
      return new Array<number | null>(f.length).fill(null);
    // The frame length: u64 big-endian, after the message-type byte on ipc (9 bytes).
    case 'length':
      if (f.length === 9) return [IPC_TYPE_MESSAGE, ...encodeField({ ...f, length: 8 })];
      return encodeField(f);
    default:
      return encodeField(f);
  }
}

export const spViewerDecoder: MessageDecoder = {
  stack: 'sp',
  protos: PROTOCOLS.map((p) => p.name),
  decode(event) {
    const fields: DecodedField[] = (event.fields ?? []).map((f) => ({ ...f, bytes: spFieldBytes(f) }));
    return {
      fields,
      bytesNote:
        'field bytes are re-encoded from their values as SP puts them on the wire (integers big-endian; ' +
        'a backtrace is shown by its word count, its words are not in the trace)',
    };
  },
};
