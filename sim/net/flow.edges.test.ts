/**
 * Data segments on a lossy link: when the sender gives up (the retransmission budget and the time
 * its last retransmission times out, counted from the write, not from the start of the run).
 */
import { describe, expect, it } from 'vitest';
import { Network, type SimEnv } from '../net.js';
import type { StreamConn } from '../stream.js';
import { World } from '../world.js';

const MS = 1000;

function connectP(env: SimEnv, address: string): Promise<StreamConn> {
  const d = env.defer<StreamConn>();
  env.connect(address, (err, conn) => (err ? d.reject(err) : d.resolve(conn!)));
  return d.promise;
}

/** Writes one segment at `writeAtUs` over a link that loses everything; returns when the sender fails. */
async function giveUp(maxRetransmits: number, writeAtUs: number): Promise<{ atUs: number; code?: string }> {
  const world = new World({ seed: 'flow-giveup' });
  const net = new Network(world, { conn: { maxRetransmits, rtoInitialUs: 100 * MS, rtoMaxUs: 60_000 * MS } });
  let out: { atUs: number; code?: string } | undefined;
  net.addHost('srv', {
    boot: (env) =>
      env.listen(
        'tcp://srv:80',
        () => undefined,
        () => undefined,
      ),
  });
  net.addHost('cli', {
    boot: async (env) => {
      const conn = await connectP(env, 'tcp://srv:80');
      await env.sleep(writeAtUs - world.nowUs);
      expect(world.nowUs).toBe(writeAtUs);
      conn.setHandlers({ onClose: (e) => (out = { atUs: world.nowUs, code: e?.code }) });
      net.setLink('cli', 'srv', { lossRate: 1 }, { oneWay: true });
      conn.write(new Uint8Array([1, 2, 3]));
    },
  });
  await world.run();
  return out!;
}

describe('a data segment that is always lost', () => {
  it('is retried maxRetransmits times (each rto doubling); the sender fails when the last retry times out', async () => {
    // rto 100, 200, 400 ms: the original and 2 retries each time out before the sender gives up.
    const r = await giveUp(2, 50 * MS);
    expect(r.code).toBe('ETIMEDOUT');
    expect(r.atUs).toBe(50 * MS + 700 * MS);
  });

  it('with no retransmissions allowed, fails one rto after the write', async () => {
    const r = await giveUp(0, 1000 * MS);
    expect(r.code).toBe('ETIMEDOUT');
    expect(r.atUs).toBe(1100 * MS);
  });
});
