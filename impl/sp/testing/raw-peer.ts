/**
 * Test support: a byte-level SP peer on a simulated host, for wire and bad-input tests. It dials,
 * sends a chosen 8-byte header, writes hand-made frames and decodes the frames it receives (or,
 * paused, reads nothing, to stall the socket under test). Not part of the stack.
 */
import { writeU32 } from '../../runtime/bytes.js';
import type { Env, StreamConn } from '../../runtime/env.js';
import { encodeFrame, FrameDecoder } from '../wire/frames.js';
import { encodeHandshake, HANDSHAKE_BYTES } from '../wire/handshake.js';

export interface RawPeer {
  conn: StreamConn;
  /** Frames received after the peer's handshake, as payloads. */
  frames: Uint8Array[];
  /** null while open, else 'clean' or the error code. */
  closed(): string | null;
  /** Writes one frame (payload as given). */
  sendFrame(payload: Uint8Array): void;
}

/** Dials `address` from `env` and handshakes as `protocolId`; `paused` never reads. */
export function rawPeer(env: Env, address: string, protocolId: number, paused = false): Promise<RawPeer> {
  const d = env.defer<RawPeer>();
  env.connect(address, (err, conn) => {
    if (err !== undefined || conn === undefined) {
      d.reject(err);
      return;
    }
    const frames: Uint8Array[] = [];
    let closed: string | null = null;
    let hsLeft = HANDSHAKE_BYTES;
    const decoder = new FrameDecoder({ maxRecvBytes: 0 });
    conn.setHandlers({
      onData: (b) => {
        const skip = Math.min(hsLeft, b.length);
        hsLeft -= skip;
        if (b.length > skip) decoder.feed(b.subarray(skip), (f) => frames.push(f.slice()));
      },
      onEnd: () => conn.close(),
      onClose: (e) => (closed = e ? e.code : 'clean'),
    });
    if (paused) conn.pauseReading();
    conn.write(encodeHandshake(protocolId));
    d.resolve({
      conn,
      frames,
      closed: () => closed,
      sendFrame: (payload) => {
        conn.write(encodeFrame(payload));
      },
    });
  });
  return d.promise;
}

/** Bytes of a hop count (or pipe id) word followed by a UTF-8 text. */
export function word(n: number, text = ''): Uint8Array {
  const t = new TextEncoder().encode(text);
  const b = new Uint8Array(4 + t.length);
  writeU32(b, 0, n);
  b.set(t, 4);
  return b;
}
