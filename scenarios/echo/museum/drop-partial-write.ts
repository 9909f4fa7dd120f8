/**
 * An echo server whose write path treats a short write as a complete one: the bytes the transport
 * did not accept are dropped, so the client's decoder loses frame boundaries (the classic unchecked
 * `write(2)` return value). Composed through the server's env: every connection it accepts is
 * wrapped so that write() claims to have taken every byte. The echo-framing family catches it
 * (replies corrupted, or protocol errors at the client) whenever a partial write happens.
 */
import type { StreamConn } from '../../../impl/runtime/env.js';
import type { EchoVariant } from '../actors.js';
import { ConnWrappingEnv, ForwardingConn } from '../conn.js';

/** Passes everything through, except that write() claims to have taken every byte. */
class TailDroppingConn extends ForwardingConn {
  override write(bytes: Uint8Array): number {
    this.inner.write(bytes);
    return bytes.length; // the bug: the unaccepted tail is gone
  }
}

export const ECHO_DROP_PARTIAL_WRITE: EchoVariant = {
  summary:
    'echo server with an unchecked short write: the tail a partial conn.write did not accept is dropped (echoes desync)',
  family: 'echo-framing',
  serverEnv: (env) =>
    new ConnWrappingEnv(env, (conn: StreamConn, dialed) => (dialed ? conn : new TailDroppingConn(conn))),
};
