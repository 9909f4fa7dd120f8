/**
 * The echo stack's bug museum: variants of the stack, each a classic bug of length-prefixed
 * protocols, composed from the real implementation through its injection points (the env a server or
 * client runs on, so its connections; the servers' frame decoder), so production code carries no
 * test switches. `netlab run --list-impls` lists them; `--impl museum/NAME` runs one.
 */
import type { EchoVariant } from '../actors.js';
import { ECHO_DROP_PARTIAL_WRITE } from './drop-partial-write.js';
import { ECHO_NO_RESEND } from './no-resend.js';
import { ECHO_SPLIT_HEADER } from './split-header.js';

/** Every echo museum variant by name, in listing order (by family: echo-framing, echo-reqrep). */
export const ECHO_MUSEUM: ReadonlyMap<string, EchoVariant> = new Map<string, EchoVariant>([
  ['museum/echo-drop-partial-write', ECHO_DROP_PARTIAL_WRITE],
  ['museum/echo-split-header', ECHO_SPLIT_HEADER],
  ['museum/echo-no-resend', ECHO_NO_RESEND],
]);
