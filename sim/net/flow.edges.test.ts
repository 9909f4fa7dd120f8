/**
 * Data segments on a lossy link: when the sender gives up (the retransmission budget and the time
 * its last retransmission times out, counted from the write, not from the start of the run).
 */
import { describe, expect, it } from 'vitest';
import { linkAuditViolation, Network, type SimEnv } from '../net.js';
import type { StreamConn } from '../stream.js';
import { World } from '../world.js';

const MS = 1000;

function connectP(env: SimEnv, address: string): Promise<StreamConn> {
  const d = env.defer<StreamConn>();
  env.connect(address, (err, conn) => (err ? d.reject(err) : d.resolve(conn!)));
  return d.promise;
}

/** Writes one segment at `writeAtUs` over a link that loses everything; returns when the sender fails. */
async function giveUp(
  maxRetransmits: number,
  writeAtUs: number,
): Promise<{ atUs: number; code: string | undefined }> {
  const world = new World({ seed: 'flow-giveup' });
  const net = new Network(world, { conn: { maxRetransmits, rtoInitialUs: 100 * MS, rtoMaxUs: 60_000 * MS } });
  let out: { atUs: number; code: string | undefined } | undefined;
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

describe('a jittered link', () => {
  /** 40 one-byte-segment writes, 1 ms apart, over 10 ms latency plus up to 30 ms of jitter. */
  async function jittered(): Promise<{ net: Network; arrivals: number[]; sentUs: number[]; got: number[] }> {
    const world = new World({ seed: 'jitter' });
    const net = new Network(world, {
      link: { latency: { kind: 'constant', us: 10 * MS }, jitterUs: 30 * MS },
      conn: { mssBytes: 1 },
    });
    const arrivals: number[] = [];
    const got: number[] = [];
    net.addHost('srv').env.listen(
      'tcp://srv:80',
      (c) =>
        c.setHandlers({
          onData: (b) => {
            for (const x of b) {
              got.push(x);
              arrivals.push(world.nowUs);
            }
          },
        }),
      () => undefined,
    );
    const sentUs: number[] = [];
    net.addHost('cli', {
      boot: async (env) => {
        const conn = await connectP(env, 'tcp://srv:80');
        for (let i = 0; i < 40; i++) {
          sentUs.push(world.nowUs);
          conn.write(new Uint8Array([i]));
          await env.sleep(1 * MS);
        }
      },
    });
    await world.run();
    return { net, arrivals, sentUs, got };
  }

  it('delays segments by latency plus jitter, yet delivers them in order and none before its own delay', async () => {
    const { net, arrivals, sentUs, got } = await jittered();
    expect(got).toEqual(Array.from({ length: 40 }, (_, i) => i));
    const delays = arrivals.map((t, i) => t - sentUs[i]!);
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(10 * MS);
    // Jitter applied to the data segments themselves (the first few also wait out the handshake).
    expect(Math.min(...delays.slice(20))).toBeGreaterThan(20 * MS);
    expect(Math.max(...delays)).toBeLessThanOrEqual(40 * MS + 40 * MS);
    const a = net.linkAudit();
    expect([a.early, linkAuditViolation(a)]).toEqual([0, null]);
  });
});
