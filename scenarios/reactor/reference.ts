/**
 * What the reactor's checks hold it to, written down here from /work/shared/reference/streams.md D.2
 * and issue #19, not imported from impl/reactor/: an oracle that reads the implementation's own
 * defaults agrees with a wrong one (lint rule netlab/independent-oracles).
 */

/** #19 item 4: a blocking read waits at most 30 s unless configured otherwise. */
export const SPEC_DEFAULT_READ_TIMEOUT_US = 30_000_000;
/** #19 item 4: a flush that cannot drain waits at most 30 s unless configured otherwise. */
export const SPEC_DEFAULT_WRITE_TIMEOUT_US = 30_000_000;
/** #19 item 4: a connection with no input and no output for 5 min is closed (0: never). */
export const SPEC_DEFAULT_IDLE_TIMEOUT_US = 300_000_000;
/** #19 item 5: reading stops when unread input reaches 4 MiB unless configured otherwise. */
export const SPEC_DEFAULT_INPUT_HIGH_WATER_BYTES = 4 * 1024 * 1024;
/** #19 item 3: bounded re-invocations of a handler that consumes nothing; the reactor's documented default. */
export const SPEC_DEFAULT_MAX_UNCONSUMED_RUNS = 8;
/** #19 item 1: one loop per host unless configured otherwise. */
export const SPEC_DEFAULT_LOOPS = 1;
/**
 * "Within idleTimeout + one tick" (#19 Lab): the tick the checks allow a timer, 1 ms. On the
 * simulator timers fire at their exact virtual time, so any late close beyond it is a finding.
 */
export const SPEC_TICK_US = 1_000;
/**
 * #19 item 1: a loop is a virtual CPU; a charge of `us` makes it busy for `us` from now, or from the
 * end of the time already charged, and a busy loop delays only its own connections.
 */
export function busyUntilAfterCharge(busyUntilUs: number, nowUs: number, us: number): number {
  return us > 0 ? Math.max(busyUntilUs, nowUs) + us : busyUntilUs;
}
/** Close reasons that deliver committed output (the first closer's reason, #19 item 6). */
export const SPEC_GRACEFUL_REASONS: ReadonlySet<string> = new Set(['user', 'peer-closed', 'server-shutdown']);
