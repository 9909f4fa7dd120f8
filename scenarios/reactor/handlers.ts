/**
 * The lab's reactor handlers (model.ts HandlerKind): impl/reactor's echo, and handlers written here
 * against the reactor's public API to exercise it: `framed` (waitRead + next, one frame per
 * invocation, answered with itself; a write timeout is survived: the bytes stay queued and the
 * handler goes on), `slow` (echo charging CPU per request), `stall` (echo that stops consuming for a
 * while on its first request: input backpressure), `peek` (consumes only complete frames, returns
 * otherwise: spin detection). Each reports what a tap needs through `HandlerHooks`. Isomorphic.
 */
import type { Connection, ReactorHandlers } from '../../impl/reactor/connection.js';
import { echoOnRequest } from '../../impl/reactor/echo.js';
import type { Env } from '../../impl/runtime/env.js';
import type { ServerSpec } from './model.js';

/** What a handler tells the lab's tap about itself. */
export interface HandlerHooks {
  /** A blocking read began (waitRead); `end` is called with its outcome code ('ok' or the error code). */
  readWait(conn: Connection): (outcome: string) => void;
  /** A flush began; `end` is called with its outcome code. */
  flush(conn: Connection): (outcome: string) => void;
  /** The handler charged its loop `us`. */
  charged(conn: Connection, us: number): void;
}

function codeOf(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : e instanceof Error ? e.name : 'unknown';
}

async function flushTapped(conn: Connection, hooks: HandlerHooks): Promise<void> {
  const end = hooks.flush(conn);
  try {
    await conn.flush();
    end('ok');
  } catch (e) {
    end(codeOf(e));
    throw e;
  }
}

async function waitTapped(conn: Connection, n: number, hooks: HandlerHooks): Promise<void> {
  const end = hooks.readWait(conn);
  try {
    await conn.waitRead(n);
    end('ok');
  } catch (e) {
    end(codeOf(e));
    throw e;
  }
}

/** Everything unread written back (the echo's body, with the flush tapped). */
async function echoAll(conn: Connection, hooks: HandlerHooks): Promise<void> {
  const reader = conn.reader;
  while (reader.length > 0) conn.writer.writeBytes(reader.next(Math.min(reader.length, 8192)));
  await flushTapped(conn, hooks);
}

/** The handlers of one server incarnation. */
export function labHandlers(x: ServerSpec, env: Env, hooks: HandlerHooks): ReactorHandlers {
  switch (x.handler) {
    case 'echo':
      return {
        onRequest: async (ctx, conn) => {
          const end = hooks.flush(conn);
          try {
            await echoOnRequest(ctx, conn);
            end('ok');
          } catch (e) {
            end(codeOf(e));
            throw e;
          }
        },
      };
    case 'slow':
      return {
        onRequest: async (_ctx, conn) => {
          conn.charge(x.handlerUs);
          hooks.charged(conn, x.handlerUs);
          await echoAll(conn, hooks);
        },
      };
    case 'stall': {
      const stalled = new Set<number>();
      return {
        onRequest: async (_ctx, conn) => {
          if (!stalled.has(conn.id)) {
            stalled.add(conn.id);
            if (x.handlerUs > 0) await env.sleep(x.handlerUs);
          }
          await echoAll(conn, hooks);
        },
      };
    }
    case 'framed':
      return {
        onRequest: async (_ctx, conn) => {
          await waitTapped(conn, 4, hooks);
          const len = conn.reader.peekU32BE();
          const high = conn.group.options.inputHighWaterBytes;
          if (4 + len > high) {
            conn.close(); // a frame that could never be buffered whole: refused
            return;
          }
          await waitTapped(conn, 4 + len, hooks);
          conn.writer.writeBytes(conn.reader.next(4 + len));
          try {
            await flushTapped(conn, hooks);
          } catch (e) {
            // A write timeout leaves the bytes queued, in order: go on with the next frame.
            if (codeOf(e) !== 'ErrWriteTimeout') throw e;
          }
        },
      };
    case 'peek':
      return {
        onRequest: async (_ctx, conn) => {
          const reader = conn.reader;
          while (reader.length >= 4) {
            const len = reader.peekU32BE();
            if (reader.length < 4 + len) break;
            conn.writer.writeBytes(reader.next(4 + len));
          }
          if (conn.writer.bufferedBytes > 0) await flushTapped(conn, hooks);
        },
      };
  }
}
