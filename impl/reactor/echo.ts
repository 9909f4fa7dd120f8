/**
 * The reactor echo (`netlab serve echo-reactor`): every byte a connection receives is written back
 * on it, in order, as soon as it is read. Third-party clients and load tools drive the reactor
 * through it, and the lab's reactor families run it on the simulator and real sockets.
 *
 * Backpressure end to end: the echo waits in flush() while more than outputHighWaterBytes are
 * unsent (a client that sends but never reads), so it stops consuming input; input then reaches
 * inputHighWaterBytes and reading pauses, and the client's sender blocks. A flush that waits
 * writeTimeoutUs fails the invocation: the connection closes with reason handler-error
 * (cause ErrWriteTimeout).
 */
import type { Env } from '../runtime/env.js';
import type { Connection, ReactorHandlers } from './connection.js';
import type { ReactorOptions } from './options.js';
import { serveReactor, type ReactorServer } from './server.js';

/** Bytes taken per read: at most a page, so a read that straddles chunks copies into one pool page. */
function echoChunkBytes(conn: Connection): number {
  return Math.min(conn.reader.length, conn.group.options.pageBytes);
}

/** onRequest of the echo: write back everything unread, then flush (its promise is the invocation's). */
export function echoOnRequest(_ctx: unknown, conn: Connection): Promise<void> {
  const reader = conn.reader;
  while (reader.length > 0) conn.writer.writeBytes(reader.next(echoChunkBytes(conn)));
  return conn.flush();
}

export const ECHO_HANDLERS: ReactorHandlers = { onRequest: echoOnRequest };

/** Starts the echo at `address` (tcp://host:port, port 0 for any; unix:///path). */
export function serveEcho(env: Env, address: string, options: ReactorOptions = {}): Promise<ReactorServer> {
  return serveReactor(env, address, ECHO_HANDLERS, options);
}
