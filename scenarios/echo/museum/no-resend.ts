/**
 * A requester that loses its outstanding requests with the connection: after a reconnect it never
 * sends again what it had sent before, so a request a reset or a server crash caught in flight is
 * never answered (the at-most-once client that believes it is at-least-once). Composed through the
 * client's env: its connections swallow every frame whose request id an earlier connection of the
 * same client already carried, while telling the requester they were written. The echo-reqrep
 * family catches it (a request unanswered, or the next reply out of order).
 */
import { FRAME_HEADER_BYTES } from '../../../impl/echo/echo.js';
import { REQUEST_ID_BYTES } from '../../../impl/echo/requester.js';
import type { StreamConn } from '../../../impl/runtime/env.js';
import type { EchoVariant } from '../actors.js';
import { ConnWrappingEnv, ForwardingConn } from '../conn.js';

function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/** Follows the outgoing frames; a frame whose id an earlier connection carried is swallowed. */
class ResendDroppingConn extends ForwardingConn {
  /** Bytes left of the frame being written (header included); 0 at a frame boundary. */
  private remaining = 0;
  private dropping = false;

  constructor(
    inner: StreamConn,
    /** Ids written on earlier connections of this client. */
    private readonly before: ReadonlySet<number>,
    /** Ids written on any connection of this client (this one adds to it). */
    private readonly written: Set<number>,
  ) {
    super(inner);
  }

  override write(bytes: Uint8Array): number {
    let accepted = 0;
    let i = 0;
    while (i < bytes.length) {
      if (this.remaining === 0) {
        // A frame starts here; the requester writes its header and request id as one piece.
        if (bytes.length - i < FRAME_HEADER_BYTES + REQUEST_ID_BYTES)
          return accepted + this.inner.write(bytes.subarray(i));
        const id = u32(bytes, i + FRAME_HEADER_BYTES);
        this.remaining = FRAME_HEADER_BYTES + u32(bytes, i);
        this.dropping = this.before.has(id);
        this.written.add(id);
      }
      const take = Math.min(this.remaining, bytes.length - i);
      if (this.dropping) {
        // The bug: a resend is reported written and never goes out.
        this.remaining -= take;
        i += take;
        accepted += take;
        continue;
      }
      const n = this.inner.write(bytes.subarray(i, i + take));
      this.remaining -= n;
      i += n;
      accepted += n;
      if (n < take) break;
    }
    return accepted;
  }
}

export const ECHO_NO_RESEND: EchoVariant = {
  summary:
    'echo requester that never resends: requests outstanding when a connection is lost are not sent again after the reconnect',
  family: 'echo-reqrep',
  clientEnv: (env) => {
    const written = new Set<number>();
    return new ConnWrappingEnv(env, (conn, dialed) =>
      dialed ? new ResendDroppingConn(conn, new Set(written), written) : conn,
    );
  },
};
