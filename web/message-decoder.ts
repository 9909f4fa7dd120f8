/**
 * The message pane's decoder interface: how a stack tells the viewer what the bytes of its messages
 * are. Stack-neutral on purpose: web/ knows no stack; each stack's lab folder exports a decoder
 * (SP's: scenarios/sp/viewer.ts) and the page's bootstrap hands the list to the viewer
 * (scenarios/stacks-viewer.ts, web/app-entry.ts). Types only, so a stack's decoder depends on
 * nothing of web/ at run time.
 */
import type { TraceEvent, TraceField } from '../sim/trace.js';

/** A msg-send or msg-recv event: what a decoder reads. */
export type MessageEvent = Extract<TraceEvent, { kind: 'msg-send' | 'msg-recv' }>;

/** One field as the message pane shows it: its byte range in the message, its value, its bytes if known. */
export interface DecodedField extends TraceField {
  /**
   * The field's `length` bytes as far as the decoder can tell them from the trace (which records
   * values, not raw bytes): a number per known byte, null per unknown one. Absent: all unknown.
   */
  bytes?: readonly (number | null)[];
}

export interface DecodedMessage {
  fields: DecodedField[];
  /** One sentence on where the shown bytes come from (e.g. "re-encoded big-endian from the values"). */
  bytesNote?: string;
}

/** A stack's decoder for the message pane. */
export interface MessageDecoder {
  /** The stack it belongs to (shown in the pane), e.g. "sp". */
  stack: string;
  /** The `proto` values of the messages it decodes (e.g. "req0", "pair1"). */
  protos: readonly string[];
  decode(event: MessageEvent): DecodedMessage;
}
