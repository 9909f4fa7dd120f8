/** Every fuzz target by name, in the order `netlab fuzz --list` shows them. */
import type { FuzzTarget } from '../../../fuzz/target.js';
import { SP_FRAME, SP_IPC_FRAME } from './frames.js';
import { SP_HANDSHAKE } from './handshake.js';
import { SP_HOP_HEADER, SP_REQ_REP_HEADER } from './headers.js';
import { SP_STREAM } from './stream.js';

export const TARGETS: ReadonlyMap<string, FuzzTarget> = new Map(
  [SP_FRAME, SP_HANDSHAKE, SP_IPC_FRAME, SP_STREAM, SP_REQ_REP_HEADER, SP_HOP_HEADER].map((t) => [t.name, t]),
);
