/**
 * Network edges: refused host names and link changes, one-way link changes, partitions needing
 * both sides, per-pair connection names, shared values created once, connecting to oneself by
 * "localhost", control-packet retransmission backoff capped at rtoMaxUs, and jitter on the handshake.
 */
import { describe, expect, it } from 'vitest';
import { Network } from '../net.js';
import type { NetError } from '../stream.js';
import { World } from '../world.js';
import { messageOf } from '../testing/errors.js';

const MS = 1000;

function net2(options: ConstructorParameters<typeof Network>[1] = {}) {
  const world = new World({ seed: 'network-edges' });
  const net = new Network(world, options);
  return { world, net, a: net.addHost('a'), b: net.addHost('b') };
}

describe('Network: refusals', () => {
  it('a host may not be named like the local host', () => {
    const { net } = net2();
    expect(messageOf(() => net.addHost('localhost'))).toBe(
      'ERR_BAD_ARGUMENT: host name must start with a letter and use [A-Za-z0-9_.-], got "localhost"',
    );
  });

  it('a link change names an unknown host; a partition needs a host on each side', () => {
    const { net } = net2();
    expect(messageOf(() => net.setLink('a', 'x', { jitterUs: 1 }))).toBe(
      'ERR_BAD_ARGUMENT: no host named "x"',
    );
    expect(messageOf(() => net.setLink('x', 'a', { jitterUs: 1 }))).toBe(
      'ERR_BAD_ARGUMENT: no host named "x"',
    );
    expect(messageOf(() => net.partition(['a'], []))).toBe(
      'ERR_BAD_ARGUMENT: a partition needs hosts on both sides',
    );
    expect(messageOf(() => net.partition([], ['a']))).toBe(
      'ERR_BAD_ARGUMENT: a partition needs hosts on both sides',
    );
  });
});

describe('Network: links, names, shared values', () => {
  it('a one-way link change leaves the way back alone', () => {
    const { net } = net2();
    net.setLink('a', 'b', { jitterUs: 7 }, { oneWay: true });
    expect([net.linkConfig('a', 'b').jitterUs, net.linkConfig('b', 'a').jitterUs]).toEqual([7, 0]);
    net.setLink('a', 'b', { jitterUs: 9 });
    expect([net.linkConfig('a', 'b').jitterUs, net.linkConfig('b', 'a').jitterUs]).toEqual([9, 9]);
  });

  it('connections are named by client and target, counted per pair', async () => {
    const { world, net, a } = net2();
    net.host('b').env.listen(
      'tcp://b:80',
      () => undefined,
      () => undefined,
    );
    for (let i = 0; i < 2; i++) a.env.connect('tcp://b:80', () => undefined);
    await world.run({ untilUs: 100 * MS });
    expect(net.connections().map((c) => c.name)).toEqual(['a>tcp://b:80#1', 'a>tcp://b:80#2']);
  });

  it('a shared value is created once', () => {
    const { net } = net2();
    let created = 0;
    const first = net.shared('k', () => ({ n: ++created }));
    expect(net.shared('k', () => ({ n: ++created }))).toBe(first);
    expect(created).toBe(1);
  });

  it('a host reaches its own listener as "localhost"', async () => {
    const { world, a } = net2();
    a.env.listen(
      'tcp://a:80',
      () => undefined,
      () => undefined,
    );
    const got: string[] = [];
    a.env.connect('tcp://localhost:80', (err) => got.push(err?.code ?? 'connected'));
    await world.run({ untilUs: 100 * MS });
    expect(got).toEqual(['connected']);
  });
});

describe('Network: control packets', () => {
  it('lost SYNs are retried after rtoInitialUs, doubling up to rtoMaxUs', async () => {
    const { world, net, a } = net2({
      link: { lossRate: 1 },
      conn: { maxRetransmits: 4, rtoInitialUs: 200 * MS, rtoMaxUs: 300 * MS },
    });
    a.env.connect('tcp://b:80', () => undefined, { timeoutUs: 60_000 * MS });
    // Each loss is counted as it is retried: at 0, 200 ms, 500 ms (waits of 200 ms, then 300 ms:
    // capped, not 400 ms) and 800 ms.
    const counted: number[] = [];
    for (const atUs of [199 * MS, 201 * MS, 499 * MS, 501 * MS, 799 * MS, 801 * MS]) {
      await world.run({ untilUs: atUs });
      counted.push(net.stats.retransmissions);
    }
    expect(counted).toEqual([1, 2, 2, 3, 3, 4]);
  });

  it('jitter delays the handshake by up to jitterUs per packet', async () => {
    const times = new Set<number>();
    for (let s = 0; s < 5; s++) {
      const world = new World({ seed: `jitter-${s}` });
      const net = new Network(world, { link: { latency: { kind: 'constant', us: MS }, jitterUs: 10 * MS } });
      net.addHost('b').env.listen(
        'tcp://b:80',
        () => undefined,
        () => undefined,
      );
      net.addHost('a').env.connect('tcp://b:80', (err: NetError | undefined) => {
        if (err === undefined) times.add(world.nowUs);
      });
      await world.run({ untilUs: 100 * MS });
    }
    expect(times.size).toBeGreaterThan(1);
    for (const t of times) expect(t >= 2 * MS && t <= 22 * MS).toBe(true);
  });
});
