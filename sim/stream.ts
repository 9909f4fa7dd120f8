/**
 * The byte-stream vocabulary shared by the simulated network and the real runtime: addresses,
 * connection and listener interfaces with syscall-like semantics, and typed network errors. It sits
 * in sim/ (the lowest layer) so both runtimes can use it; protocol code sees it through
 * impl/runtime/env.ts.
 */

/** Stable codes, named after the POSIX errno a real socket would report. */
export type NetErrorCode =
  /** Nobody listens at the address. */
  | 'ECONNREFUSED'
  /** The peer reset the connection, or it was lost (crash, too many retransmissions); in-flight bytes are lost. */
  | 'ECONNRESET'
  /** Connect or retransmission timed out (e.g. SYN lost in a partition). */
  | 'ETIMEDOUT'
  /** Another listener holds the address. */
  | 'EADDRINUSE'
  /** The address is malformed or names no host. */
  | 'EINVAL'
  /** Write after this side shut down or closed. */
  | 'EPIPE'
  /** Operation on a connection that is already closed. */
  | 'ENOTCONN'
  /** The host this runtime belongs to is down (crashed). */
  | 'EHOSTDOWN';

export class NetError extends Error {
  override readonly name = 'NetError';
  constructor(
    readonly code: NetErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${code}: ${message}`, options);
  }
}

export type StreamAddress =
  { transport: 'tcp'; host: string; port: number } | { transport: 'unix'; path: string };

/**
 * Parses "tcp://host:port" (also bare "host:port", and "[v6]:port") or "unix:///path" (also
 * "ipc:///path", as SP spells it). Port 0 asks a listener for any free port. Throws NetError EINVAL
 * naming what is wrong.
 */
export function parseAddress(text: string): StreamAddress {
  if (typeof text !== 'string' || text.length === 0)
    throw new NetError('EINVAL', `address must be a non-empty string, got ${JSON.stringify(text)}`);
  const unix = /^(?:unix|ipc):\/\/(.+)$/.exec(text);
  if (unix) {
    const path = unix[1]!;
    if (path.includes('\0'))
      throw new NetError('EINVAL', `unix path contains a NUL byte: ${JSON.stringify(text)}`);
    return { transport: 'unix', path };
  }
  const rest = text.startsWith('tcp://') ? text.slice(6) : text;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(rest))
    throw new NetError('EINVAL', `unknown address scheme in ${JSON.stringify(text)} (tcp:// or unix://)`);
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/.exec(rest);
  if (!m) throw new NetError('EINVAL', `expected tcp://host:port, got ${JSON.stringify(text)}`);
  const port = Number(m[2]);
  if (port > 65535) throw new NetError('EINVAL', `port out of range (0-65535) in ${JSON.stringify(text)}`);
  const host = m[1]!.startsWith('[') ? m[1]!.slice(1, -1) : m[1]!;
  return { transport: 'tcp', host, port };
}

export function formatAddress(a: StreamAddress): string {
  if (a.transport === 'unix') return `unix://${a.path}`;
  return a.host.includes(':') ? `tcp://[${a.host}]:${a.port}` : `tcp://${a.host}:${a.port}`;
}

export interface ConnHandlers {
  /** Bytes arrived, in order; the callee owns the array. Never called while reading is paused. */
  onData?(bytes: Uint8Array): void;
  /** After write() accepted fewer bytes than offered: called once, when more can be written. */
  onWritable?(): void;
  /** The peer will send no more (half-close); everything it sent has been delivered. */
  onEnd?(): void;
  /** The connection is gone in both directions; `error` is set unless it closed cleanly. */
  onClose?(error: NetError | undefined): void;
}

export type ConnState = 'open' | 'closed';

/** One end of a connected byte stream. */
export interface StreamConn {
  /** Identifier, unique within its runtime, for traces. */
  readonly id: number;
  readonly localAddress: string;
  readonly remoteAddress: string;
  readonly state: ConnState;
  setHandlers(handlers: ConnHandlers): void;
  /**
   * Offers bytes; returns how many the send buffer accepted (0..bytes.length), like write(2) on a
   * non-blocking socket. On a short write, onWritable fires once when space frees up. The caller
   * may reuse `bytes` after the call: accepted bytes were copied. Throws NetError ENOTCONN once the
   * connection is closed or reset (checked first), EPIPE after shutdown() or close().
   */
  write(bytes: Uint8Array): number;
  /**
   * Optional zero-copy write(), for bytes the caller hands over for good: it promises never to
   * change `bytes` (nor the memory they view) after the call, so the runtime may keep a reference
   * instead of copying. Same contract as write() otherwise (returns how many bytes were accepted; a
   * short write gets one onWritable; same errors). A runtime may accept the whole array whenever
   * its send buffer is not full, so up to highWaterMark + bytes.length bytes can be queued on the
   * connection: that is the bound. Runtimes without it (the simulator, wrappers) get write(), whose
   * outcome is the same bytes in the same order. The real runtime (impl/runtime/node.ts) has it.
   */
  writeOwned?(bytes: Uint8Array): number;
  /**
   * Optional: whether the runtime may hold this tick's writes back to send them together (default
   * on). The real runtime corks a connection's writes until the end of the tick, so a protocol that
   * writes a header and a body separately costs one syscall, not two; a caller that already hands
   * over each batch in one write (the reactor's flush) turns it off and saves the tick's delay. The
   * bytes, their order and write()'s result are the same either way; the simulator has no such
   * delay and no such method.
   */
  setCoalescing?(on: boolean): void;
  /** Stops onData; unread bytes stay buffered and the receive window closes as they pile up. */
  pauseReading(): void;
  resumeReading(): void;
  /** Half-close: no more writes; the peer gets onEnd once everything queued has arrived. */
  shutdown(): void;
  /**
   * Graceful close: queued bytes are still delivered, this side stops reading (later bytes are
   * dropped), and onClose(undefined) comes once the peer's FIN has arrived too. A peer that never
   * closes its side gets the connection reset after the runtime's close timeout (default 60 s).
   */
  close(): void;
  /**
   * Abortive close: queued and in-flight bytes are lost; this side gets a clean onClose and the peer
   * ECONNRESET. Real unix sockets have no RST: there the peer sees ECONNRESET only if it had unread
   * bytes, otherwise end-of-stream and then ECONNRESET on its next write.
   */
  reset(): void;
}

export interface StreamListener {
  /** The bound address (with the real port when port 0 was asked for). */
  readonly address: string;
  close(): void;
}
