/**
 * The one host-yield function: the only code in sim/ that touches the host's event loop. The
 * scheduler awaits it after an event that settled a promise, so that every promise continuation that
 * event triggered (however many levels deep) runs before the next event, as on a real event loop.
 * It never decides *what* runs next (the scheduler does), so it cannot affect determinism, only
 * speed.
 *
 * Node: process.nextTick. Called from inside a microtask (the run loop is one), a tick runs only
 * after the whole microtask queue has drained, including microtasks queued while draining (Node's
 * processTicksAndRejections alternates "all ticks, then all microtasks"). That is the drain we need,
 * at ~0.4 us instead of ~1.2 us for a setImmediate turn of the libuv loop. Because ticks never let
 * the loop reach I/O, every HOST_TURN_EVERY-th yield is a setImmediate, so signals, I/O and test
 * runners' messages still get through during a long run.
 * Browsers: a MessageChannel message (a macrotask, and unlike setTimeout never clamped to 4 ms).
 */

export type YieldToHost = () => Promise<void>;

/** One in this many Node yields is a full event-loop turn (setImmediate) instead of a tick. */
export const HOST_TURN_EVERY = 256;

// The host's timers are reached here on purpose: this is the one injected host-yield function the
// determinism rules allow (it only waits for the host; the scheduler alone decides what runs next).
export interface HostGlobals {
  setImmediate?: (fn: () => void) => unknown;
  process?: { nextTick?: (fn: () => void) => void };
  MessageChannel?: typeof MessageChannel;
}

/** Picks the host yield from `g` (the real globals by default; tests pass fakes). */
export function makeDefaultYield(g: HostGlobals = globalThis): YieldToHost {
  const setImm = g.setImmediate;
  const nextTick = g.process?.nextTick;
  if (typeof setImm === 'function' && typeof nextTick === 'function') {
    let n = 0;
    return () =>
      new Promise<void>((resolve) => {
        if (++n % HOST_TURN_EVERY === 0) void setImm(resolve);
        else nextTick(resolve);
      });
  }
  if (typeof setImm === 'function') {
    return () => new Promise<void>((resolve) => void setImm(resolve));
  }
  const MC = g.MessageChannel;
  if (typeof MC === 'function') {
    const channel = new MC();
    const waiting: (() => void)[] = [];
    channel.port1.onmessage = () => waiting.shift()?.();
    return () =>
      new Promise<void>((resolve) => {
        waiting.push(resolve);
        channel.port2.postMessage(0);
      });
  }
  throw new Error('no host yield available: pass WorldOptions.yieldToHost');
}

let cached: YieldToHost | undefined;

/** The host yield for the current platform (created on first use). */
export function defaultYieldToHost(): Promise<void> {
  cached ??= makeDefaultYield();
  return cached();
}
