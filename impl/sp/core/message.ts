/**
 * An SP message: the protocol header (a stack of big-endian 32-bit words for REQ/REP and friends,
 * empty for PAIR0), the body, and the pipe it arrived on. On the wire the header is simply the
 * leading bytes of the frame; protocols split it off on receive.
 */
import { concatBytes } from '../../runtime/bytes.js';
import type { Pipe } from './pipe.js';

export interface Message {
  header: Uint8Array;
  body: Uint8Array;
  /** The pipe the message arrived on (undefined for messages created by the application). */
  pipe?: Pipe;
}

const EMPTY = new Uint8Array(0);

export function newMessage(body: Uint8Array, header: Uint8Array = EMPTY): Message {
  return { header, body };
}

/** Header and body as one contiguous array (copies only when both are non-empty). */
export function messageBytes(msg: Message): Uint8Array {
  if (msg.header.length === 0) return msg.body;
  if (msg.body.length === 0) return msg.header;
  return concatBytes([msg.header, msg.body]);
}
