/**
 * The simulator's self-audits, which the engine's self-checks judge on every scenario run:
 * - virtual time as the trace stamps it (Trace.timeAudit: every event at or after the one before),
 * - bytes per connection and direction (Network.byteAudit: accepted = read + buffered + destroyed).
 * Each is shown to hold through busy, faulty traffic and to fail, naming what broke, when a
 * violation is planted.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  describeAccount,
  linkAuditViolation,
  Network,
  unaccountedBytes,
  type ByteTotals,
  type SimEnv,
} from './net.js';
import type { StreamConn } from './stream.js';
import { HashLabel, RingSink, Trace, type TraceEvent } from './trace.js';
import { World } from './world.js';
import { pattern } from './testing/bytes.js';

const MS = 1000;

describe('Trace.timeAudit (sim.time-monotonic)', () => {
  /** Emits on every path (emit and the write/chunk/read fast paths) at the given clock readings. */
  function stampAt(trace: Trace, clock: { t: number }, times: readonly number[]): void {
    const host = new HashLabel('h');
    const dir = new HashLabel('c>s');
    times.forEach((t, i) => {
      clock.t = t;
      if (i % 4 === 0) trace.emit({ kind: 'note', text: `at ${t}` });
      else if (i % 4 === 1) trace.write(host, 1, 10, 10);
      else if (i % 4 === 2) trace.chunk(host, 1, dir, 10, 0);
      else trace.read(host, 1, 10);
    });
  }

  it('counts events stamped earlier than the one before them, hashed or kept by a sink', () => {
    for (const options of [{}, { hash: false, sinks: [new RingSink(10)] }]) {
      const clock = { t: 0 };
      const trace = new Trace(() => clock.t, options);
      stampAt(trace, clock, [0, 5, 5, 3, 4, 9, 1, 1]);
      expect(trace.timeAudit()).toEqual({
        events: 8,
        backsteps: 2,
        first: { seq: 3, tUs: 3, previousTUs: 5 },
        lastTUs: 1,
      });
    }
  });

  it('a trace that is off stamps nothing and counts nothing', () => {
    const clock = { t: 0 };
    const trace = new Trace(() => clock.t, { hash: false });
    stampAt(trace, clock, [5, 3]);
    expect(trace.timeAudit()).toEqual({ events: 0, backsteps: 0, first: null, lastTUs: 0 });
  });

  it('a world stamps its trace in order, never after its clock', async () => {
    const w = new World({ seed: 'audit' });
    for (let i = 0; i < 50; i++)
      w.setTimer((i * 7919) % 101, () => w.trace.emit({ kind: 'note', text: `${i}` }));
    await w.run({ untilUs: 60 });
    await w.run();
    const a = w.trace.timeAudit();
    expect(a.backsteps).toBe(0);
    expect(a.events).toBe(150); // 50 timer-set, 50 timer-fire, 50 notes
    expect(a.lastTUs).toBeLessThanOrEqual(w.nowUs);
  });
});

/** What a server does with one connection. */
type Fate = 'read' | 'pause' | 'close-unread' | 'reset';

interface Traffic {
  seed: string;
  fates: Fate[];
  sizes: number[];
  lossRate: number;
  partialWriteProbability: number;
  crashServerAtUs: number | null;
  endUs: number;
}

/** Writes `total` bytes as fast as the send buffer takes them, then shuts down. */
function writeLoop(conn: StreamConn, total: number, salt: number): void {
  const data = pattern(total, salt);
  let offset = 0;
  const go = (): void => {
    while (offset < total) {
      if (conn.state === 'closed') return;
      let n: number;
      try {
        n = conn.write(data.subarray(offset, Math.min(total, offset + 700)));
      } catch {
        return; // reset or closed under us
      }
      offset += n;
      if (n === 0) return; // onWritable resumes
    }
    try {
      conn.shutdown();
    } catch {
      // already closed
    }
  };
  conn.setHandlers({ onWritable: go, onData: () => undefined, onEnd: () => conn.close() });
  go();
}

/** Runs clients writing to a server that treats each connection by its fate; returns the network. */
async function runTraffic(k: Traffic, sink?: RingSink): Promise<{ world: World; net: Network }> {
  const world = new World({ seed: k.seed, ...(sink ? { trace: { sinks: [sink] } } : {}) });
  const net = new Network(world, {
    link: { latency: { kind: 'uniform', minUs: 200, maxUs: 3 * MS }, lossRate: k.lossRate },
    conn: {
      sendBufferBytes: 3000,
      recvBufferBytes: 2000,
      mssBytes: 500,
      randomChunking: true,
      partialWriteProbability: k.partialWriteProbability,
      maxRetransmits: 3, // loss sometimes exhausts them: the connection resets, its bytes lost
    },
  });
  let accepted = 0;
  net.addHost('srv', {
    boot: (env: SimEnv) =>
      env.listen(
        'tcp://srv:80',
        (conn) => {
          const fate = k.fates[accepted++ % k.fates.length]!;
          conn.setHandlers({
            onData: () => {
              if (fate === 'close-unread') conn.close();
            },
            onEnd: () => conn.close(),
          });
          if (fate === 'pause' || fate === 'close-unread') conn.pauseReading();
          if (fate === 'close-unread') env.setTimer(20 * MS, () => conn.close());
          if (fate === 'reset') env.setTimer(15 * MS, () => conn.reset());
        },
        (err) => {
          if (err) throw err;
        },
      ),
  });
  k.sizes.forEach((size, i) =>
    net.addHost(`cli${i}`, {
      boot: (env: SimEnv) =>
        env.connect('tcp://srv:80', (err, conn) => {
          if (err === undefined && conn !== undefined) writeLoop(conn, size, i);
        }),
    }),
  );
  if (k.crashServerAtUs !== null) world.post(k.crashServerAtUs, () => net.host('srv').restart(), undefined);
  await world.run({ untilUs: k.endUs });
  return { world, net };
}

const trafficArb: fc.Arbitrary<Traffic> = fc.record({
  seed: fc.string({ maxLength: 6 }),
  fates: fc.array(fc.constantFrom<Fate>('read', 'pause', 'close-unread', 'reset'), {
    minLength: 1,
    maxLength: 4,
  }),
  sizes: fc.array(fc.integer({ min: 0, max: 40_000 }), { minLength: 1, maxLength: 5 }),
  lossRate: fc.constantFrom(0, 0.05, 0.3),
  partialWriteProbability: fc.constantFrom(0, 0.3),
  crashServerAtUs: fc.option(fc.integer({ min: 0, max: 60 * MS }), { nil: null }),
  endUs: fc.integer({ min: 1 * MS, max: 400 * MS }),
});

const CATEGORIES = [
  'read',
  'sendBuffered',
  'inFlight',
  'recvBuffered',
  'lost',
  'dropped',
  'discarded',
] as const satisfies readonly (keyof ByteTotals)[];

describe('Network.byteAudit (sim.bytes-conserved)', () => {
  it('every direction adds up through partial writes, loss, resets, closes with unread bytes, crashes and runs cut short', async () => {
    const seen = new Set<string>();
    await fc.assert(
      fc.asyncProperty(trafficArb, async (k) => {
        const sink = new RingSink(1_000_000);
        const { net } = await runTraffic(k, sink);
        const audit = net.byteAudit();
        expect(audit.violations.map(describeAccount)).toEqual([]);
        expect(audit.flows).toBe(2 * net.stats.connections);
        // The counters agree with the trace: the bytes writes accepted, and the bytes read.
        const events = sink.events();
        const sum = (kind: TraceEvent['kind'], f: (e: TraceEvent) => number): number =>
          events.filter((e) => e.kind === kind).reduce((n, e) => n + f(e), 0);
        expect(audit.totals.accepted).toBe(sum('write', (e) => (e.kind === 'write' ? e.accepted : 0)));
        expect(audit.totals.read).toBe(sum('read', (e) => (e.kind === 'read' ? e.bytes : 0)));
        for (const c of CATEGORIES) if (audit.totals[c] > 0) seen.add(c);
      }),
      { seed: 0xb17e5, numRuns: 60 },
    );
    // The property reached every kind of account: read, still buffered, destroyed.
    expect([...seen].sort()).toEqual([...CATEGORIES].sort());
  });

  /** A client that writes `bytes` to a server that does not read: the bytes wait in its receive buffer. */
  async function unreadBytes(
    bytes: number,
  ): Promise<{ world: World; net: Network; server: () => StreamConn }> {
    const world = new World({ seed: 'planted' });
    const net = new Network(world);
    let server: StreamConn | undefined;
    net.addHost('srv', {
      boot: (env) =>
        env.listen(
          'tcp://srv:80',
          (conn) => {
            server = conn;
            conn.pauseReading();
            conn.setHandlers({ onData: () => undefined, onEnd: () => conn.close() });
          },
          () => undefined,
        ),
    });
    net.addHost('cli', {
      boot: (env) =>
        env.connect('tcp://srv:80', (err, conn) => {
          if (err !== undefined || conn === undefined) return;
          conn.setHandlers({ onClose: () => undefined });
          expect(conn.write(pattern(bytes, 9))).toBe(bytes);
          conn.shutdown();
        }),
    });
    await world.run({ untilUs: 50 * MS });
    return { world, net, server: () => server! };
  }

  it('a planted loss (bytes vanish from a receive buffer) names the connection, direction and counts', async () => {
    const { world, net, server } = await unreadBytes(100);
    expect(net.byteAudit().violations).toEqual([]);
    // The bug: three bytes leave the server's receive buffer without being read or accounted for.
    const conn = net.conns.get(server().id)!;
    conn.server.in.recvQ.take(3);
    const live = net.byteAudit();
    expect(live.violations).toHaveLength(1);
    const v = live.violations[0]!;
    expect(v).toMatchObject({ conn: conn.id, dir: 'c>s', from: 'cli', to: 'srv', accepted: 100 });
    expect(v).toMatchObject({ read: 0, recvBuffered: 97, lost: 0, dropped: 0, discarded: 0 });
    expect(unaccountedBytes(v)).toBe(3);
    expect(describeAccount(v)).toBe(
      `connection ${conn.id} (cli>tcp://srv:80#1) c>s, cli to srv: accepted 100 B, read 0 + buffered 97 ` +
        '(send 0, in flight 0, receive 97) + destroyed 0 (lost 0, dropped 0, discarded 0) = 97 B: 3 B missing',
    );
    // The connection then closes cleanly and retires: its settled accounts still show the loss.
    server().resumeReading();
    await world.run({ untilUs: 200 * MS });
    expect(net.conns.has(conn.id)).toBe(false);
    const settled = net.byteAudit();
    expect(settled.flows).toBe(2);
    expect(settled.violations.map((x) => [x.conn, x.dir, x.read, unaccountedBytes(x)])).toEqual([
      [conn.id, 'c>s', 97, 3],
    ]);
  });

  it('a planted miscount on the reset path (unread bytes neither discarded nor lost) fails too', async () => {
    const { world, net, server } = await unreadBytes(64);
    const conn = net.conns.get(server().id)!;
    server().reset();
    conn.server.in.discardedBytes -= 64; // the bug: the reset forgot the bytes it threw away
    await world.run({ untilUs: 200 * MS });
    const v = net.byteAudit().violations;
    expect(v.map((x) => [x.dir, x.accepted, x.discarded, unaccountedBytes(x)])).toEqual([['c>s', 64, 0, 64]]);
    expect(describeAccount(v[0]!)).toContain('64 B missing');
  });
});

describe('Network.linkAudit (sim.link-model)', () => {
  /** A 100-byte window written whole to a reader that never reads; `plantedBytes` appear behind its back. */
  async function fillWindow(plantedBytes: number): Promise<{ net: Network; id: number }> {
    const world = new World({ seed: 'overfull' });
    const net = new Network(world, {
      link: { latency: { kind: 'constant', us: 10 * MS } },
      conn: { recvBufferBytes: 100 },
    });
    net.addHost('srv').env.listen(
      'tcp://srv:80',
      (conn) => conn.pauseReading(),
      () => undefined,
    );
    let id = -1;
    net.addHost('cli').env.connect('tcp://srv:80', (err, conn) => {
      if (err !== undefined || conn === undefined) return;
      id = conn.id;
      conn.setHandlers({});
      expect(conn.write(pattern(100, 3))).toBe(100); // the whole window, in flight for 10 ms
      // The bug (if any): bytes appear in the receive buffer while the window is in flight.
      if (plantedBytes > 0) net.conns.get(id)!.server.in.recvQ.push(new Uint8Array(plantedBytes));
    });
    await world.run({ untilUs: 100 * MS });
    return { net, id };
  }

  it('a receive buffer filled exactly to its size is within the rule', async () => {
    const { net, id } = await fillWindow(0);
    expect(net.conns.get(id)!.server.in.recvQ.length).toBe(100);
    const a = net.linkAudit();
    expect([a.overfull, a.firstOverfull, linkAuditViolation(a)]).toEqual([0, null, null]);
  });

  it('a planted overfull receive buffer is counted, with its first occurrence named', async () => {
    const { net, id } = await fillWindow(50);
    const a = net.linkAudit();
    expect(a.overfull).toBe(1);
    const atUs = a.firstOverfull!.atUs;
    expect(a.firstOverfull).toEqual({ conn: id, dir: 'c>s', atUs, bytes: 150, capBytes: 100 });
    expect(atUs).toBeGreaterThanOrEqual(10 * MS);
    expect(linkAuditViolation(a)).toBe(
      `1 segment overfilled a receive buffer; first on connection ${id} c>s at ${atUs} us: ` +
        '150 B buffered, size 100 B',
    );
  });
});
