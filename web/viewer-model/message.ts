/**
 * A message's bytes for the message pane: the fields a stack's decoder (web/message-decoder.ts)
 * finds in a msg-send / msg-recv, laid out over a dump whose bytes are known only where the
 * decoder could rebuild them (the trace records lengths and decoded fields, not raw bytes). With
 * no decoder for the message's proto, the fields still show where they sit; every byte is unknown.
 */
import type { TraceEvent } from '../../sim/trace.js';
import type { DecodedField, DecodedMessage, MessageDecoder, MessageEvent } from '../message-decoder.js';

export interface MessageView {
  direction: 'tx' | 'rx';
  /** Length of the dump: the message's byte count or the furthest field end, whichever is larger. */
  length: number;
  /** Per byte: its value when known, null when the trace does not carry it. */
  bytes: (number | null)[];
  /** Per byte: the indices (into fields) of the fields covering it. */
  fieldsAt: number[][];
  fields: DecodedField[];
  /** The stack whose decoder read it, or null when none handles its proto. */
  decodedBy: string | null;
  /** Where the known bytes come from (the decoder's note), or null. */
  bytesNote: string | null;
}

/** Bytes of a message the dump shows at most. */
export const MESSAGE_DUMP_MAX_BYTES = 4096;

/** The decoder for a proto: the first in the list that names it. */
export function decoderFor(decoders: readonly MessageDecoder[], proto: string): MessageDecoder | undefined {
  return decoders.find((d) => d.protos.includes(proto));
}

/**
 * The bytes of a msg-send / msg-recv as far as its stack's decoder knows them, or null for other
 * events. Where fields overlap (a count and the words it counts), the first field knowing a byte
 * gives its value.
 */
export function messageView(e: TraceEvent, decoders: readonly MessageDecoder[] = []): MessageView | null {
  if (e.kind !== 'msg-send' && e.kind !== 'msg-recv') return null;
  const m: MessageEvent = e;
  const decoder = decoderFor(decoders, m.proto);
  const decoded: DecodedMessage = decoder?.decode(m) ?? { fields: (m.fields ?? []).map((f) => ({ ...f })) };
  const fields = decoded.fields;
  const length = Math.max(
    m.bytes,
    fields.reduce((x, f) => Math.max(x, f.offset + f.length), 0),
  );
  // Bound the dump: a 1 MiB payload is not shown byte by byte.
  const shown = Math.min(length, MESSAGE_DUMP_MAX_BYTES);
  const bytes: (number | null)[] = new Array<number | null>(shown).fill(null);
  const fieldsAt: number[][] = Array.from({ length: shown }, () => []);
  fields.forEach((f, fi) => {
    for (let k = 0; k < f.length; k++) {
      const at = f.offset + k;
      if (at >= shown) break;
      fieldsAt[at]!.push(fi);
      if (bytes[at] === null) bytes[at] = f.bytes?.[k] ?? null;
    }
  });
  return {
    direction: m.kind === 'msg-send' ? 'tx' : 'rx',
    length,
    bytes,
    fieldsAt,
    fields,
    decodedBy: decoder?.stack ?? null,
    bytesNote: decoded.bytesNote ?? null,
  };
}
