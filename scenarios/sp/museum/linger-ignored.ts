/**
 * mangos' LINGER: documented, never implemented (reference sp.md, "mangos LINGER is documentation
 * only"): close() returns at once and drops what the socket still queues, so a send followed by a
 * close loses messages the application saw accepted. Composed by forcing LINGER to 0, which is what
 * close() then behaves as whatever the application set.
 */
import type { ImplVariant } from '../actors.js';

export const LINGER_IGNORED: ImplVariant = {
  summary: 'mangos: LINGER is documentation only (close() drops what is still queued at once)',
  family: 'impolite',
  socket: () => ({ options: { LINGER: 0 } }),
};
