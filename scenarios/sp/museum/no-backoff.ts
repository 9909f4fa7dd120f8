/**
 * A dialer with no backoff growth: every redial waits RECONNECT-TIME whatever MAX-RECONNECT-TIME
 * says (nng#693 / nng#1964: a failing dialer spinning at a fixed, too short interval).
 */
import type { ImplVariant } from '../actors.js';

export const NO_BACKOFF: ImplVariant = {
  summary: 'nng#693, nng#1964: redial without backoff growth (every wait is RECONNECT-TIME)',
  family: 'redial',
  socket: () => ({ socketOptions: { backoff: { grow: (_currentUs, minUs) => minUs } } }),
};
