/**
 * Simulated streams: a zero-byte write is a no-op (no trace event, no partial-write draw spent),
 * and a connect that timed out stays failed when the late SYN-ACK arrives.
 */
import { describe, expect, it } from 'vitest';
import { Network } from '../net.js';
import type { NetError, StreamConn } from '../stream.js';
import { RingSink } from '../trace.js';
import { World } from '../world.js';

const MS = 1000;

describe('zero-byte writes', () => {
  /** Accepted counts of 20 writes of 1000 bytes (each preceded by an empty one if `empties`). */
  async function run(empties: boolean): Promise<{ accepted: number[]; writes: string[] }> {
    const world = new World({ seed: 'empty-write' });
    const ring = new RingSink(10_000);
    world.trace.addSink(ring);
    const net = new Network(world, { conn: { partialWriteProbability: 0.5, sendBufferBytes: 1 << 20 } });
    net.addHost('srv').env.listen(
      'tcp://srv:80',
      (c) => c.setHandlers({}),
      () => undefined,
    );
    const accepted: number[] = [];
    net.addHost('cli').env.connect('tcp://srv:80', (err, conn) => {
      if (err !== undefined || conn === undefined) throw new Error('no connection');
      conn.setHandlers({});
      for (let i = 0; i < 20; i++) {
        if (empties) expect(conn.write(new Uint8Array(0))).toBe(0);
        accepted.push(conn.write(new Uint8Array(1000)));
      }
    });
    await world.run({ untilUs: 1000 * MS });
    const writes = ring
      .events()
      .filter((e) => e.kind === 'write')
      .map((e) => `${e.offered}/${e.accepted}`);
    return { accepted, writes };
  }

  it('returns 0, leaves no write event and does not shift the partial-write draws of later writes', async () => {
    const plain = await run(false);
    const withEmpties = await run(true);
    expect(plain.accepted.some((n) => n < 1000)).toBe(true); // some writes were capped
    expect(withEmpties.accepted).toEqual(plain.accepted);
    expect(withEmpties.writes).toEqual(plain.writes);
    expect(withEmpties.writes.every((w) => !w.startsWith('0/'))).toBe(true);
  });
});

describe('connect timeout', () => {
  it('a SYN-ACK that arrives after the timeout changes nothing: one ETIMEDOUT, no connection', async () => {
    const world = new World({ seed: 'late-synack' });
    const ring = new RingSink(10_000);
    world.trace.addSink(ring);
    const net = new Network(world, { link: { latency: { kind: 'constant', us: 10 * MS } } });
    let accepts = 0;
    net.addHost('srv').env.listen(
      'tcp://srv:80',
      () => accepts++,
      () => undefined,
    );
    const calls: string[] = [];
    net
      .addHost('cli')
      .env.connect(
        'tcp://srv:80',
        (err: NetError | undefined, conn: StreamConn | undefined) =>
          calls.push(`${world.nowUs} ${err?.message ?? 'ok'} ${conn === undefined ? '-' : 'conn'}`),
        { timeoutUs: 15 * MS },
      );
    await world.run({ untilUs: 1000 * MS });
    expect(calls).toEqual([`${15 * MS} ETIMEDOUT: connect to tcp://srv:80 timed out after 15000 us -`]);
    const timers = ring
      .events()
      .filter((e) => e.kind === 'timer-fire')
      .map((e) => `${e.tUs} ${e.host} ${(e as { label?: string }).label}`);
    expect(timers).toContain(`${15 * MS} cli connect-timeout`);
    expect(accepts).toBe(0);
    expect(net.connections()).toEqual([]);
  });
});

describe('connect handshake', () => {
  it('a connect that succeeds or is refused clears its timeout: the world goes idle at once', async () => {
    for (const listen of [true, false]) {
      const world = new World({ seed: 'clears' });
      const net = new Network(world);
      const srv = net.addHost('srv');
      if (listen)
        srv.env.listen(
          'tcp://srv:80',
          () => undefined,
          () => undefined,
        );
      const got: string[] = [];
      net.addHost('cli').env.connect('tcp://srv:80', (err) => got.push(err?.code ?? 'connected'), {
        timeoutUs: 60_000 * MS,
      });
      const r = await world.run();
      expect(got).toEqual([listen ? 'connected' : 'ECONNREFUSED']);
      expect(r.nowUs).toBeLessThan(100 * MS);
    }
  });

  it('reaches a unix-socket listener by its path', async () => {
    const world = new World({ seed: 'unix' });
    const net = new Network(world);
    const h = net.addHost('h');
    let accepted = 0;
    h.env.listen(
      'unix:///tmp/sock',
      () => accepted++,
      () => undefined,
    );
    const got: string[] = [];
    h.env.connect('unix:///tmp/sock', (err) => got.push(err?.code ?? 'connected'));
    await world.run({ untilUs: 100 * MS });
    expect([got, accepted]).toEqual([['connected'], 1]);
  });

  it('a client that crashed and restarted during the handshake gets no connection from it', async () => {
    const world = new World({ seed: 'client-restart' });
    const net = new Network(world, { link: { latency: { kind: 'constant', us: 10 * MS } } });
    let accepted = 0;
    net.addHost('srv').env.listen(
      'tcp://srv:80',
      () => accepted++,
      () => undefined,
    );
    const cli = net.addHost('cli');
    const got: string[] = [];
    cli.env.connect('tcp://srv:80', (err) => got.push(err?.code ?? 'connected'));
    world.post(5 * MS, () => cli.crash(), undefined);
    world.post(6 * MS, () => cli.restart(), undefined);
    await world.run({ untilUs: 1000 * MS });
    expect([got, accepted, net.connections()]).toEqual([[], 0, []]);
  });
});

describe('handlers and closing', () => {
  /** srv accepts, cli writes 10 bytes and closes; `srvSetup` decides what srv does with its end. */
  async function pair(srvSetup: (conn: StreamConn, world: World) => void) {
    const world = new World({ seed: 'closing' });
    const ring = new RingSink(10_000);
    world.trace.addSink(ring);
    const net = new Network(world);
    net.addHost('srv').env.listen(
      'tcp://srv:80',
      (c) => srvSetup(c, world),
      () => undefined,
    );
    const closedAt: number[] = [];
    net.addHost('cli').env.connect('tcp://srv:80', (err, c) => {
      if (err !== undefined || c === undefined) return;
      c.setHandlers({ onClose: () => closedAt.push(world.nowUs) });
      c.write(new Uint8Array(10));
      c.close();
      c.close(); // a second close changes nothing
    });
    const r = await world.run();
    return { r, ring, closedAt };
  }

  it('bytes that arrived before the handlers were set are delivered when they are', async () => {
    const seen: string[] = [];
    let setAtUs = -1;
    await pair((c, world) =>
      world.post(
        50 * MS,
        () => {
          setAtUs = world.nowUs;
          c.setHandlers({ onData: (b) => seen.push(`${world.nowUs} ${b.length}`), onEnd: () => c.close() });
        },
        undefined,
      ),
    );
    expect(setAtUs).toBeGreaterThanOrEqual(50 * MS);
    expect(seen).toEqual([`${setAtUs} 10`]);
  });

  it('a clean close finishes both ends promptly, clears the close timeout, and is traced once per close()', async () => {
    const { r, ring, closedAt } = await pair((c) =>
      c.setHandlers({ onData: () => undefined, onEnd: () => c.close() }),
    );
    expect(closedAt).toHaveLength(1);
    expect(closedAt[0]).toBeLessThan(100 * MS);
    expect(r.nowUs).toBeLessThan(100 * MS); // no close-timeout timer left pending
    const closes = ring
      .events()
      .filter((e) => e.kind === 'close')
      .map((e) => `${e.host} ${(e as { side: string }).side}`);
    expect(closes).toEqual(['cli local', 'srv half', 'srv local']);
  });

  it('a peer that never closes its side gets the connection reset after closeTimeoutUs (both ends told why)', async () => {
    const world = new World({ seed: 'close-timeout' });
    const ring = new RingSink(10_000);
    world.trace.addSink(ring);
    const net = new Network(world, { conn: { closeTimeoutUs: 5000 * MS } });
    const out: string[] = [];
    const closed = (who: string) => (e?: NetError) =>
      out.push(`${who} ${world.nowUs} ${e?.code} ${e?.message}`);
    net.addHost('srv').env.listen(
      'tcp://srv:80',
      (c) => c.setHandlers({ onData: () => undefined, onClose: closed('srv') }), // never closes
      () => undefined,
    );
    let closeAtUs = -1;
    net.addHost('cli').env.connect('tcp://srv:80', (err, c) => {
      if (err !== undefined || c === undefined) return;
      c.setHandlers({ onClose: closed('cli') });
      closeAtUs = world.nowUs;
      c.close();
    });
    await world.run();
    const at = closeAtUs + 5000 * MS;
    expect(out.sort()).toEqual([
      `cli ${at} ECONNRESET ECONNRESET: connection 1 reset: close timeout`,
      `srv ${at} ECONNRESET ECONNRESET: connection 1 reset: close timeout`,
    ]);
    const resets = ring.events().filter((e) => e.kind === 'reset');
    expect(resets.map((e) => (e as { reason?: string }).reason)).toEqual(['close timeout']);
    const fired = ring.events().filter((e) => e.kind === 'timer-fire');
    expect(fired.map((e) => `${e.host} ${(e as { label?: string }).label}`)).toContain('cli close-timeout');
  });
});
