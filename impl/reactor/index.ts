/**
 * The reactor (netlab's take on cloudwego/netpoll): event loops as virtual CPUs, zero-copy link
 * buffers, timeouts that work, input and accept backpressure. The connection engine the HTTP/1.1,
 * qrpc and HTTP/2 stacks build on. See ./README.md.
 */
export { REACTOR_ERROR_CODES, ReactorError, isReactorError, type ReactorErrorCode } from './errors.js';
export {
  LOAD_BALANCE_POLICIES,
  REACTOR_DEFAULTS,
  resolveReactorOptions,
  type LoadBalance,
  type ReactorOptions,
  type ResolvedReactorOptions,
} from './options.js';
export {
  CLOSE_REASONS,
  Connection,
  type CloseReason,
  type ConnectionStats,
  type ConnWriter,
  type ReactorHandlers,
} from './connection.js';
export { EventLoop, LoopGroup, type LoopGroupStats } from './loop.js';
export { DEFAULT_DRAIN_TIMEOUT_US, serveReactor, type ReactorServer, type ServerStats } from './server.js';
export { createDialer, type DialOptions, type ReactorDialer } from './dial.js';
export { ECHO_HANDLERS, echoOnRequest, serveEcho } from './echo.js';
export { InputBuffer, LinkSlice, OutputBuffer } from './link-buffer.js';
export { PagePool } from './pages.js';
