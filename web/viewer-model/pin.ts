/** The failure pin: where the viewer opens for a failing case. */
import type { TraceEvent } from '../../sim/trace.js';

/**
 * Where the viewer opens for a failing case. Checks are judged on the observations of the whole run
 * after it ends, so the trace holds no "invariant failed" event: the pin is the first `error` event
 * when there is one (an upper layer recorded a typed error), else the last event, where the run
 * ended and the failed check was judged.
 */
export function failurePin(events: readonly TraceEvent[]): { event: number; why: string } {
  const err = events.findIndex((e) => e.kind === 'error');
  if (err >= 0) return { event: err, why: 'the first error event of the trace' };
  return {
    event: Math.max(0, events.length - 1),
    why: 'the last event of the run: checks are judged on the whole run after it ends',
  };
}
