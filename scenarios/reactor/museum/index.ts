/**
 * The reactor's bug museum (#19 Lab): classic netpoll-style bugs composed from the real reactor
 * through injection points outside impl/reactor/ (the server's env and so its streams, its handlers
 * and connections, its options, the server object), each caught by a named check.
 */
import type { ReactorHandlers } from '../../../impl/reactor/connection.js';
import type { LoopGroup } from '../../../impl/reactor/loop.js';
import type { ReactorVariant } from '../actors.js';
import { ConnWrappingEnv, ForwardingConn, type StreamConn } from '../../../impl/runtime/env.js';

/** Idle timeout as keepalive (netpoll #58/#61): the connection never closes for idleness. */
export const IDLE_KEEPALIVE: ReactorVariant = {
  summary: 'idle timeout treated as TCP keepalive: an idle connection is never closed',
  family: 'reactor-timeouts',
  parts: () => ({
    handlers: (h) => ({
      ...h,
      onPrepare: (conn) => {
        conn.setIdleTimeout(0);
        return h.onPrepare?.(conn);
      },
    }),
  }),
};

/** A stream whose pauseReading is ignored. */
class NeverPausingConn extends ForwardingConn {
  override pauseReading(): void {
    // the bug: reads never pause
  }
}

/** Unbounded input (netpoll #98/#314): reading never pauses, the input held grows with the peer. */
export const UNBOUNDED_INPUT: ReactorVariant = {
  summary: 'input never paused: a slow handler lets its peer grow the process',
  family: 'reactor-backpressure',
  parts: () => ({ env: (env) => new ConnWrappingEnv(env, (s: StreamConn) => new NeverPausingConn(s)) }),
};

/**
 * onRequest re-run on unconsumed input without bound: a bounded stand-in, the spin bound raised to
 * 10 000 re-runs, far past what the scenario configured.
 */
export const SPIN: ReactorVariant = {
  summary: 'onRequest re-run on unconsumed input without (practical) bound: spin detection off',
  family: 'reactor-callbacks',
  parts: () => ({ options: (o) => ({ ...o, maxUnconsumedRuns: 10_000 }) }),
};

/** After a connection's flush timed out, each write swaps its first two bytes: output reordered. */
class ReorderingConn extends ForwardingConn {
  constructor(
    inner: StreamConn,
    private readonly timedOut: ReadonlySet<number>,
  ) {
    super(inner);
  }
  override write(bytes: Uint8Array): number {
    if (!this.timedOut.has(this.id) || bytes.length < 2) return this.inner.write(bytes);
    const copy = bytes.slice();
    copy[0] = bytes[1]!;
    copy[1] = bytes[0]!;
    return this.inner.write(copy);
  }
}

export const FLUSH_REORDER: ReactorVariant = {
  summary: 'a flush that reorders the queued output after a write timeout',
  family: 'reactor-output',
  parts: () => {
    const timedOut = new Set<number>();
    return {
      env: (env) => new ConnWrappingEnv(env, (s) => new ReorderingConn(s, timedOut)),
      handlers: (h): ReactorHandlers => ({
        ...h,
        onPrepare: (conn) => {
          const flush = conn.flush.bind(conn);
          conn.flush = () =>
            flush().catch((e: unknown) => {
              if ((e as { code?: string }).code === 'ErrWriteTimeout') timedOut.add(conn.id);
              throw e;
            });
          return h.onPrepare?.(conn);
        },
      }),
    };
  },
};

export const CLOSE_TWICE: ReactorVariant = {
  summary: 'a close callback run twice',
  family: 'reactor-callbacks',
  parts: () => ({
    handlers: (h) => ({
      ...h,
      onPrepare: (conn) => {
        const add = conn.addCloseCallback.bind(conn);
        let first = true;
        conn.addCloseCallback = (fn) => {
          add(fn);
          if (first) add(fn); // the bug: the first callback registered runs twice
          first = false;
        };
        return h.onPrepare?.(conn);
      },
    }),
  }),
};

export const RR_OFF_BY_ONE: ReactorVariant = {
  summary: 'round-robin off by one: the index wraps one loop early, the last loop never gets a connection',
  family: 'reactor-balance',
  parts: () => ({
    server: (server) => {
      const group: LoopGroup = server.group;
      if (group.options.loadBalance !== 'round-robin') return;
      let next = 0;
      group.assign = () => {
        const n = group.loops.length;
        const loop = group.loops[next % Math.max(1, n - 1)]!;
        next++;
        loop.assigned++;
        loop.connections++;
        return loop;
      };
    },
  }),
};

export const REACTOR_MUSEUM: ReadonlyMap<string, ReactorVariant> = new Map<string, ReactorVariant>([
  ['museum/reactor-idle-keepalive', IDLE_KEEPALIVE],
  ['museum/reactor-unbounded-input', UNBOUNDED_INPUT],
  ['museum/reactor-spin', SPIN],
  ['museum/reactor-flush-reorder', FLUSH_REORDER],
  ['museum/reactor-close-twice', CLOSE_TWICE],
  ['museum/reactor-rr-off-by-one', RR_OFF_BY_ONE],
]);
