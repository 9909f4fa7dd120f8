/**
 * mangos#108 (open): mangos has no handshake timeout, so a peer that connects and never sends its
 * 8-byte header holds a connection (and, before the async handshaker of mangos#96/#102, the whole
 * accept loop) forever. Composed by forcing HANDSHAKE-TIMEOUT to a day: at scenario scale, never.
 */
import type { ImplVariant } from '../actors.js';

/** One virtual day: longer than any scenario runs. */
const NEVER_US = 24 * 3600 * 1_000_000;

export const NO_HANDSHAKE_TIMEOUT: ImplVariant = {
  summary: 'mangos#108: no handshake timeout (a silent peer is never cut)',
  family: 'handshake',
  socket: () => ({ options: { 'HANDSHAKE-TIMEOUT': NEVER_US } }),
};
