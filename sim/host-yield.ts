/**
 * The one host-yield function: the only code in sim/ that touches the host's event loop. The
 * scheduler awaits it after an event that settled a promise, so that every promise continuation that
 * event triggered (however many levels deep) runs before the next event, as on a real event loop.
 * It never decides *what* runs next (the scheduler does), so it cannot affect determinism, only
 * speed. Node: setImmediate (a macrotask, after the microtask queue drains). Browsers:
 * a MessageChannel message (also a macrotask, and unlike setTimeout never clamped to 4 ms).
 */

export type YieldToHost = () => Promise<void>;

interface HostGlobals {
  setImmediate?: (fn: () => void) => unknown;
  MessageChannel?: typeof MessageChannel;
}

function makeDefaultYield(): YieldToHost {
  const g = globalThis as HostGlobals;
  const setImm = g.setImmediate;
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
