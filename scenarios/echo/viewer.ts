/**
 * What the scenario viewer needs to know of echo: the message pane's decoder for the frames and the
 * requester's requests and replies (proto "echo"). The trace carries field values, not raw bytes:
 * the u32 length prefix and the u32 request id are re-encoded big-endian from them; payload bytes
 * stay unknown.
 */
import type { TraceField } from '../../sim/trace.js';
import type { DecodedField, MessageDecoder } from '../stack.js';

/** A non-negative integer field as its `length` big-endian bytes (nulls when it does not fit). */
function bigEndian(f: TraceField): (number | null)[] {
  const out = new Array<number | null>(f.length).fill(null);
  if (typeof f.value !== 'number' || !Number.isSafeInteger(f.value) || f.value < 0) return out;
  let v = f.value;
  for (let i = f.length - 1; i >= 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return v === 0 ? out : out.fill(null);
}

export const echoViewerDecoder: MessageDecoder = {
  stack: 'echo',
  protos: ['echo'],
  decode(event) {
    const fields: DecodedField[] = event.fields.map((f) => ({ ...f, bytes: bigEndian(f) }));
    return {
      fields,
      bytesNote:
        'the length prefix and the request id are re-encoded big-endian from their values; payload bytes are not in the trace',
    };
  },
};
