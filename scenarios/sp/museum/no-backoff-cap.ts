/**
 * A dialer whose backoff grows without a cap: MAX-RECONNECT-TIME is ignored, so after a long outage
 * the next attempt may be minutes away (the growth mangos applies, minus its min(max, ...)).
 */
import type { ImplVariant } from '../actors.js';

export const NO_BACKOFF_CAP: ImplVariant = {
  summary: 'redial backoff grows past MAX-RECONNECT-TIME (mangos growth without its cap)',
  family: 'timing',
  socket: () => ({
    socketOptions: {
      backoff: { grow: (currentUs, _minUs, _maxUs, rng) => Math.round(currentUs * rng.uniform(1.1, 1.5)) },
    },
  }),
};
