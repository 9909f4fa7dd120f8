/**
 * Simulated network edges: how many times a lost control packet is retried, which segments the
 * trace reports as lost, host pause/resume refusals, a crashed host's pending promises, healing a
 * partition that does not exist. (Each case kills a mutant `npm run mutate` found surviving: README.)
 */
import { describe, expect, it } from 'vitest';
import { SimError } from '../errors.js';
import { Network } from '../net.js';
import type { NetError } from '../stream.js';
import { RingSink, type TraceEvent } from '../trace.js';
import { World } from '../world.js';

const MS = 1000;

const simCode = (fn: () => unknown): string => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return e instanceof SimError ? e.message : String(e);
  }
};

describe('control packets on a lossy link', () => {
  it('a SYN that is always lost is retried exactly maxRetransmits times, then connect times out', async () => {
    for (const maxRetransmits of [0, 1, 3]) {
      const world = new World({ seed: 'syn-loss' });
      const net = new Network(world, { link: { lossRate: 1 }, conn: { maxRetransmits } });
      const a = net.addHost('a');
      const b = net.addHost('b');
      b.env.listen(
        'tcp://b:80',
        () => undefined,
        () => undefined,
      );
      let error: NetError | undefined;
      a.env.connect('tcp://b:80', (err) => (error = err), { timeoutUs: 60_000 * MS });
      await world.run();
      expect(error?.code).toBe('ETIMEDOUT');
      expect(net.stats.retransmissions).toBe(maxRetransmits);
    }
  });

  it('waits rtoInitialUs, then twice as long after each further loss (exponential backoff)', async () => {
    const rtoUs = 200 * MS;
    const world = new World({ seed: 'syn-backoff' });
    const net = new Network(world, {
      link: { lossRate: 1 },
      conn: { maxRetransmits: 3, rtoInitialUs: rtoUs },
    });
    const a = net.addHost('a');
    net.addHost('b');
    a.env.connect('tcp://b:80', () => undefined, { timeoutUs: 60_000 * MS });
    // Losses at 0, rto, 3 rto and 7 rto (waits of rto, 2 rto, 4 rto); each counts as it is lost
    // and retried, the last (at maxRetransmits) is not retried.
    const counted: number[] = [];
    for (const atUs of [rtoUs - 1, rtoUs + 1, 3 * rtoUs - 1, 3 * rtoUs + 1, 7 * rtoUs + 1]) {
      await world.run({ untilUs: atUs });
      counted.push(net.stats.retransmissions);
    }
    expect(counted).toEqual([1, 2, 2, 3, 3]);
  });
});

describe('the loss trace', () => {
  it('reports only segments that were lost, each with its retransmissions and delay', async () => {
    const ring = new RingSink(100_000);
    const world = new World({ seed: 'loss-trace', trace: { sinks: [ring] } });
    const net = new Network(world, { link: { lossRate: 0.2 }, conn: { mssBytes: 100 } });
    const a = net.addHost('a');
    const b = net.addHost('b');
    let got = 0;
    b.env.listen(
      'tcp://b:80',
      (conn) => conn.setHandlers({ onData: (bytes) => (got += bytes.length) }),
      () => undefined,
    );
    a.env.connect('tcp://b:80', (err, conn) => {
      expect(err).toBeUndefined();
      conn!.write(new Uint8Array(5000));
    });
    await world.run({ untilUs: 60_000 * MS });
    expect(got).toBe(5000);
    const losses = ring.events().filter((e): e is Extract<TraceEvent, { kind: 'loss' }> => e.kind === 'loss');
    expect(losses.length).toBeGreaterThan(0);
    expect(losses.length).toBeLessThan(50); // 50 segments, 20 % lost: far fewer than all of them
    for (const l of losses) {
      expect(l.retransmits).toBeGreaterThan(0);
      expect(l.delayUs).toBeGreaterThan(0);
    }
    const retransmitted = losses.reduce((n, l) => n + l.retransmits, 0);
    expect(retransmitted).toBeLessThanOrEqual(net.stats.retransmissions);
  });
});

describe('host states', () => {
  it('pause needs an up host; resume needs a paused one', () => {
    const net = new Network(new World({ seed: 'pause' }));
    const h = net.addHost('h');
    expect(simCode(() => h.resume())).toBe('ERR_BAD_ARGUMENT: cannot resume host h: it is up');
    h.pause();
    expect(simCode(() => h.pause())).toBe('ERR_BAD_ARGUMENT: cannot pause host h: it is paused');
    h.resume();
    h.crash();
    expect(simCode(() => h.pause())).toBe('ERR_BAD_ARGUMENT: cannot pause host h: it is crashed');
    expect(simCode(() => h.crash())).toBe('ERR_BAD_ARGUMENT: host h is already crashed');
  });

  it("a crashed host's promises never settle, not even in its next incarnation", async () => {
    const world = new World({ seed: 'crash-defer' });
    const net = new Network(world);
    const h = net.addHost('h');
    const env = h.env;
    const settled: string[] = [];
    const watch = (name: string, p: Promise<unknown>): void => {
      p.then(
        () => settled.push(`${name} resolved`),
        () => settled.push(`${name} rejected`),
      );
    };
    const live = env.defer<number>();
    const toResolve = env.defer<number>();
    const toReject = env.defer<number>();
    watch('live', live.promise);
    watch('resolve', toResolve.promise);
    watch('reject', toReject.promise);
    live.reject(new Error('before the crash'));
    await world.run();
    h.crash();
    toResolve.resolve(1);
    toReject.reject(new Error('after the crash'));
    h.restart();
    toReject.reject(new Error('after the restart'));
    await world.run({ forUs: 10 * MS });
    expect(settled).toEqual(['live rejected']);
    expect(toResolve.settled).toBe(false);
    expect(toReject.settled).toBe(false);
  });
});

describe('listeners across a restart', () => {
  it("closing the previous incarnation's listener leaves the new one on the same port open", async () => {
    const world = new World({ seed: 'relisten' });
    const net = new Network(world);
    const srv = net.addHost('srv');
    const handles: { close(): void }[] = [];
    const accepted: number[] = [];
    const listen = () =>
      srv.env.listen(
        'tcp://srv:80',
        () => accepted.push(srv.env.incarnation),
        (err, l) => {
          if (err === undefined && l !== undefined) handles.push(l);
        },
      );
    listen();
    await world.run();
    srv.restart();
    listen();
    await world.run();
    expect(handles).toHaveLength(2);
    handles[0]!.close(); // stale: its port now belongs to the new incarnation's listener
    const got: string[] = [];
    net.addHost('cli').env.connect('tcp://srv:80', (err) => got.push(err?.code ?? 'connected'));
    await world.run();
    expect(got).toEqual(['connected']);
    expect(accepted).toEqual([srv.env.incarnation]);
    handles[1]!.close();
    net.addHost('cli2').env.connect('tcp://srv:80', (err) => got.push(err?.code ?? 'connected'));
    await world.run();
    expect(got).toEqual(['connected', 'ECONNREFUSED']);
  });
});

describe('partitions', () => {
  it('healing a partition that does not exist is ERR_BAD_ARGUMENT, naming it', () => {
    const net = new Network(new World({ seed: 'heal' }));
    net.addHost('a');
    net.addHost('b');
    const id = net.partition(['a'], ['b']);
    net.heal(id);
    expect(simCode(() => net.heal(id))).toBe(`ERR_BAD_ARGUMENT: no active partition ${id}`);
    expect(simCode(() => net.partition(['a'], []))).toBe(
      'ERR_BAD_ARGUMENT: a partition needs hosts on both sides',
    );
  });
});

describe('connection events in the trace', () => {
  it('a listen, then the connect and its accept, each with its host and addresses', async () => {
    const ring = new RingSink(1_000);
    const world = new World({ seed: 'conn-trace', trace: { sinks: [ring] } });
    const net = new Network(world);
    const a = net.addHost('a');
    const b = net.addHost('b');
    b.env.listen(
      'tcp://b:80',
      () => undefined,
      () => undefined,
    );
    a.env.connect('tcp://b:80', () => undefined);
    await world.run({ untilUs: 1_000 * MS });
    const kinds = ring
      .events()
      .filter((e) => e.kind === 'listen' || e.kind === 'connect' || e.kind === 'accept')
      .map((e) => `${e.kind}@${e.host}`);
    expect(kinds).toEqual(['listen@b', 'connect@a', 'accept@b']);
  });
});
