import { describe, expect, it } from 'vitest';
import { concatBytes } from '../../runtime/bytes.js';
import { openPull0 } from '../protocol/pipeline.js';
import { rawPeer } from '../testing/raw-peer.js';
import { lab, str, text } from '../testing/sim-lab.js';
import { encodeFrame } from '../wire/frames.js';

const MS = 1000;

/** A frame header announcing 2^40 bytes: ErrTooLong under the 1 MiB default. */
const OVERSIZE_HEADER = Uint8Array.of(0, 0, 0x01, 0, 0, 0, 0, 0);

describe('StreamPipe: frames before a bad one, while the application is slow', () => {
  // Found by `netlab fuzz sp-stream` (late-reader mode): with the receive queue full, the frames
  // decoded from the same read as a bad header waited in the pipe and were lost when it aborted.
  for (const bad of [true, false]) {
    it(`delivers every frame received before ${bad ? 'an oversize header, then closes the pipe' : 'the end of a good stream'}`, async () => {
      const { a, b, drive } = lab(`pipe-held-${bad}`);
      const server = openPull0(a, { options: { 'READQ-LEN': 1, 'RECV-DEADLINE': 100 * MS } });
      const r = await drive(async () => {
        await server.listen('tcp://a:5555');
        const peer = await rawPeer(b, 'tcp://a:5555', 80);
        const frames = ['one', 'two', 'three'].map((s) => encodeFrame(text(s)));
        // One write: every frame and the bad header reach the pipe in one read.
        peer.conn.write(concatBytes([...frames, ...(bad ? [OVERSIZE_HEADER] : [])]));
        await b.sleep(20 * MS); // the queue fills (READQ-LEN 1) and the pipe pauses
        const got: string[] = [];
        for (;;) {
          try {
            got.push(str(await server.recv()));
          } catch {
            break;
          }
        }
        await b.sleep(20 * MS);
        return { got, closed: peer.closed() };
      });
      expect(r.got).toEqual(['one', 'two', 'three']);
      if (bad) expect(r.closed).not.toBeNull();
      else expect(r.closed).toBeNull();
    });
  }
});
