/**
 * The SP pipe on the real runtime, where it writes owned chunks without copying
 * (StreamConn.writeOwned) and assembles frames that span reads in unzeroed memory
 * (Env.allocUninitialized): messages of every size class, from empty to several MiB (the decoder
 * grows its buffer past 1 MiB), arrive intact and in order over loopback TCP and ipc.
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { createNodeEnv } from '../../runtime/node.js';
import { openPull0, openPush0 } from '../protocol/pipeline.js';

vi.setConfig({ testTimeout: 20_000 });

/** A body whose every byte depends on its index and the message's, so a stale or shifted byte shows. */
function body(lengthBytes: number, salt: number): Uint8Array {
  const b = new Uint8Array(lengthBytes);
  for (let i = 0; i < lengthBytes; i++) b[i] = (i * 31 + salt * 7 + (i >>> 12)) & 0xff;
  return b;
}

const SIZES = [0, 1, 4096, 4097, 65535, 65536, 65537, 200_000, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 5];

describe.each(['tcp', 'ipc'] as const)('SP pipe on the real runtime over %s', (transport) => {
  it('delivers messages from 0 bytes to 3 MiB intact and in order (zero-copy writes, unzeroed assembly)', async () => {
    const env = createNodeEnv({ seed: 'pipe-real', hostName: 'pipe' });
    const path = join(tmpdir(), `netlab-pipe-real-${process.pid}.sock`);
    try {
      // The allocator the pipe uses for assembly: unzeroed memory of exactly the size asked.
      const probe = env.allocUninitialized(10);
      expect(probe).toBeInstanceOf(Uint8Array);
      expect(Buffer.isBuffer(probe)).toBe(false);
      expect(probe.length).toBe(10);

      rmSync(path, { force: true });
      const pull = openPull0(env, { options: { 'MAX-RCV-SIZE': 0, 'RECV-DEADLINE': 10_000_000 } });
      const l = pull.newListener(transport === 'tcp' ? 'tcp://127.0.0.1:0' : `ipc://${path}`);
      await l.listen();
      const push = openPush0(env);
      await push.dial(l.address);
      const sent = SIZES.map((n, i) => body(n, i));
      const sending = (async () => {
        for (const m of sent) await push.send(m);
      })();
      for (const [i, want] of sent.entries()) {
        const got = await pull.recv();
        expect(got.length, `message #${i}`).toBe(want.length);
        expect(Buffer.compare(got, want), `message #${i} (${want.length} bytes)`).toBe(0);
      }
      await sending;
      await push.close();
      await pull.close();
    } finally {
      await env.close().catch(() => undefined);
      rmSync(path, { force: true });
    }
  });
});
