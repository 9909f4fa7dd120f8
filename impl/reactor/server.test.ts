/**
 * The server, dialer and echo as their users see them, on the simulator: the server's counters (open,
 * peak, closed by reason, held, refused) at the accept bounds exactly and one past them, a held peer
 * that gives up, a connection closed while it is prepared, shutdown's bounds and timers, and the
 * dialer's errors (the runtime's own, a runtime that reports nothing, a connect timeout) and counts.
 */
import { describe, expect, it } from 'vitest';
import {
  ForwardingEnv,
  type ConnectCallback,
  type ConnectOptions,
  type ListenCallback,
  type StreamConn,
  type TimerHandle,
} from '../runtime/env.js';
import { CLOSE_REASONS, type CloseReason, type Connection } from './connection.js';
import { createDialer } from './dial.js';
import { echoOnRequest, serveEcho } from './echo.js';
import { isReactorError } from './errors.js';
import { serveReactor } from './server.js';
import {
  expectSameBytes,
  pattern,
  rawClient,
  reactorLab,
  type RawClient,
  type ReactorLab,
} from './testing/sim-lab.js';

const ADDR = 'tcp://server:7000';

/** Counts closed by reason: `counts` where given, 0 for every other reason. */
function closedCounts(counts: Partial<Record<CloseReason, number>>): Record<CloseReason, number> {
  const out = {} as Record<CloseReason, number>;
  for (const r of CLOSE_REASONS) out[r] = counts[r] ?? 0;
  return out;
}

async function clients(lab: ReactorLab, n: number): Promise<RawClient[]> {
  const out: RawClient[] = [];
  for (let i = 0; i < n; i++) out.push(await lab.drive(() => rawClient(lab.client, ADDR)));
  await lab.advance(10_000);
  return out;
}

/** Timers set and cleared through it, by label. */
class TimerCountingEnv extends ForwardingEnv {
  readonly set: string[] = [];
  readonly cleared: string[] = [];
  private readonly labels = new Map<TimerHandle, string>();
  override setTimer(delayUs: number, fn: () => void, label?: string): TimerHandle {
    this.set.push(label ?? '');
    const t = super.setTimer(delayUs, fn, label);
    this.labels.set(t, label ?? '');
    return t;
  }
  override clearTimer(timer: TimerHandle): void {
    this.cleared.push(this.labels.get(timer) ?? '?');
    super.clearTimer(timer);
  }
}

/** A runtime that reports a failed listen or connect without saying why. */
class SilentFailureEnv extends ForwardingEnv {
  override listen(
    _address: string,
    _onConnection: (conn: StreamConn) => void,
    callback: ListenCallback,
  ): void {
    callback(undefined, undefined);
  }
  override connect(_address: string, callback: ConnectCallback, _options?: ConnectOptions): void {
    callback(undefined, undefined);
  }
}

/** A runtime that hands accepted connections over only when the test says (as one may after a close began). */
class LateHandoverEnv extends ForwardingEnv {
  readonly waiting: StreamConn[] = [];
  private deliver: ((conn: StreamConn) => void) | undefined;
  override listen(address: string, onConnection: (conn: StreamConn) => void, callback: ListenCallback): void {
    this.deliver = onConnection;
    super.listen(address, (conn) => this.waiting.push(conn), callback);
  }
  handOver(): void {
    for (const conn of this.waiting.splice(0)) this.deliver!(conn);
  }
}

async function rejection(lab: ReactorLab, work: () => Promise<unknown>): Promise<string> {
  return lab.drive(() =>
    work().then(
      () => 'resolved',
      (e: unknown) => `${(e as { code?: string }).code} | ${(e as Error).message}`,
    ),
  );
}

describe('server stats', () => {
  it('counts open and peak, lists the open connections in acceptance order, and counts closes by reason', async () => {
    const lab = reactorLab('server-counts');
    const server = await lab.drive(() => serveEcho(lab.server, ADDR));
    expect(server.address).toBe(ADDR);
    expect(server.stats).toEqual({
      accepted: 0,
      open: 0,
      peakOpen: 0,
      closed: closedCounts({}),
      refused: 0,
      heldNow: 0,
      maxHeld: 0,
      acceptPauses: 0,
      bytesIn: 0,
      bytesOut: 0,
    });
    const [a, b, c] = await clients(lab, 3);
    expect(server.stats.open).toBe(3);
    expect(server.stats.peakOpen).toBe(3);
    const conns = server.connections();
    expect(conns.map((x) => x.role)).toEqual(['accepted', 'accepted', 'accepted']);
    expect(conns.map((x) => x.id)).toEqual([...conns.map((x) => x.id)].sort((x, y) => x - y));
    a!.conn.close();
    b!.conn.close();
    await lab.advance(100_000);
    expect(server.connections()).toEqual([conns[2]]);
    expect(server.stats.open).toBe(1);
    expect(server.stats.closed).toEqual(closedCounts({ 'peer-closed': 2 }));
    // A new connection after the closes: open 2, the peak stays at the 3 of before.
    const [d] = await clients(lab, 1);
    expect(server.stats.open).toBe(2);
    expect(server.stats.peakOpen).toBe(3);
    expect(server.stats.accepted).toBe(4);
    expect(server.group.stats().loops[0]!.open).toBe(2);
    c!.conn.close();
    d!.conn.close();
    await lab.advance(100_000);
    expect(server.stats.open).toBe(0);
    expect(server.stats.closed['peer-closed']).toBe(4);
    expect(server.group.stats().loops[0]!.open).toBe(0);
  });

  it('a connection closed while it is prepared counts as accepted and closed, never as open', async () => {
    const lab = reactorLab('closed-in-prepare');
    let first = true;
    const server = await lab.drive(() =>
      serveReactor(
        lab.server,
        ADDR,
        {
          onPrepare: (c) => {
            if (first) c.close();
            first = false;
          },
          onRequest: echoOnRequest,
        },
        { maxConnections: 1 },
      ),
    );
    const [closed] = await clients(lab, 1);
    await lab.advance(100_000);
    expect(closed!.ended()).toBe(true);
    expect(server.stats.accepted).toBe(1);
    expect(server.stats.open).toBe(0);
    expect(server.stats.peakOpen).toBe(0);
    expect(server.connections()).toEqual([]);
    expect(server.stats.closed).toEqual(closedCounts({ user: 1 }));
    // Its place is free: the next one is served at once, not held.
    const [next] = await clients(lab, 1);
    await lab.drive(() => next!.send(pattern(10)));
    await lab.advance(100_000);
    expectSameBytes(next!.received(), pattern(10));
    expect(server.stats.heldNow).toBe(0);
    expect(server.stats.open).toBe(1);
  });
});

describe('accept backpressure at its bounds', () => {
  it('holds exactly acceptBacklog connections beyond maxConnections and resets the next one', async () => {
    const lab = reactorLab('backlog-edge');
    const server = await lab.drive(() =>
      serveEcho(lab.server, ADDR, { maxConnections: 2, acceptBacklog: 2 }),
    );
    const cs = await clients(lab, 5);
    await lab.advance(100_000);
    expect(server.stats.open).toBe(2);
    expect(server.stats.heldNow).toBe(2);
    expect(server.stats.maxHeld).toBe(2);
    expect(server.stats.acceptPauses).toBe(2);
    expect(server.stats.refused).toBe(1);
    expect(cs.map((c) => c.closed())).toEqual([null, null, null, null, 'ECONNRESET']);
  });

  it('an acceptBacklog of 0 resets every connection beyond maxConnections at once', async () => {
    const lab = reactorLab('backlog-zero');
    const server = await lab.drive(() =>
      serveEcho(lab.server, ADDR, { maxConnections: 1, acceptBacklog: 0 }),
    );
    const cs = await clients(lab, 3);
    expect(cs.map((c) => c.closed())).toEqual([null, 'ECONNRESET', 'ECONNRESET']);
    expect(server.stats.refused).toBe(2);
    expect(server.stats.acceptPauses).toBe(0);
    expect(server.stats.maxHeld).toBe(0);
  });

  it('a held peer that resets leaves the backlog; the next close admits the one after it', async () => {
    const lab = reactorLab('held-gives-up');
    const server = await lab.drive(() =>
      serveEcho(lab.server, ADDR, { maxConnections: 1, acceptBacklog: 5 }),
    );
    const [open, first, second] = await clients(lab, 3);
    expect(server.stats.heldNow).toBe(2);
    first!.conn.reset(); // the oldest held one (a FIN would wait unread behind the paused reading)
    await lab.advance(100_000);
    expect(server.stats.heldNow).toBe(1);
    expect(server.stats.maxHeld).toBe(2);
    expect(server.stats.accepted).toBe(1);
    await lab.drive(() => second!.send(pattern(7, 2)));
    open!.conn.close();
    await lab.advance(100_000);
    expect(server.stats.accepted).toBe(2);
    expect(server.stats.heldNow).toBe(0);
    expect(server.stats.maxHeld).toBe(2);
    expectSameBytes(second!.received(), pattern(7, 2));
    expect(server.stats.refused).toBe(0);
  });

  it('the most held stays the most after the backlog shrinks and grows again', async () => {
    const lab = reactorLab('max-held');
    const server = await lab.drive(() => serveEcho(lab.server, ADDR, { maxConnections: 1 }));
    const [open, , , third] = await clients(lab, 4);
    expect(server.stats.maxHeld).toBe(3);
    open!.conn.close();
    third!.conn.reset();
    await lab.advance(100_000);
    expect(server.stats.heldNow).toBe(1);
    await clients(lab, 1);
    expect(server.stats.heldNow).toBe(2);
    expect(server.stats.maxHeld).toBe(3);
    expect(server.stats.acceptPauses).toBe(4);
  });
});

describe('shutdown', () => {
  it('with nothing open resolves at once, clears both drain timers, and gives the same promise twice', async () => {
    const lab = reactorLab('shutdown-empty');
    const env = new TimerCountingEnv(lab.server);
    const server = await lab.drive(() => serveEcho(env, ADDR));
    const startUs = lab.world.nowUs;
    const done = server.shutdown(0);
    expect(server.shutdown(7)).toBe(done);
    await lab.drive(() => done);
    expect(lab.world.nowUs).toBe(startUs);
    const drains = (labels: string[]): number => labels.filter((l) => l === 'reactor shutdown-drain').length;
    expect(drains(env.set)).toBe(2);
    expect(drains(env.cleared)).toBe(2);
  });

  it('refuses the held connections and every later one, counting them', async () => {
    const lab = reactorLab('shutdown-held');
    const server = await lab.drive(() => serveEcho(lab.server, ADDR, { maxConnections: 1 }));
    const [open, held] = await clients(lab, 2);
    expect(server.stats.heldNow).toBe(1);
    await lab.drive(() => server.shutdown(1_000));
    await lab.advance(10_000);
    expect(held!.closed()).toBe('ECONNRESET');
    expect(open!.ended()).toBe(true);
    expect(server.stats.heldNow).toBe(0);
    expect(server.stats.refused).toBe(1);
    expect(server.stats.accepted).toBe(1);
    expect(server.stats.closed).toEqual(closedCounts({ 'server-shutdown': 1 }));
    const late = await rejection(lab, () => rawClient(lab.client, ADDR));
    expect(late).toMatch(/^ECONNREFUSED \| /);
  });

  it('resets a connection the runtime hands over once shutdown has begun, counting it refused', async () => {
    const lab = reactorLab('shutdown-late-handover');
    const env = new LateHandoverEnv(lab.server);
    const server = await lab.drive(() => serveEcho(env, ADDR));
    const [client] = await clients(lab, 1);
    expect(env.waiting.length).toBe(1);
    const done = server.shutdown(1_000);
    env.handOver();
    await lab.drive(() => done);
    await lab.advance(10_000);
    expect(client!.closed()).toBe('ECONNRESET');
    expect(server.stats.refused).toBe(1);
    expect(server.stats.accepted).toBe(0);
    expect(server.connections()).toEqual([]);
  });

  it('closes a quiet connection at once while a busy one still works', async () => {
    const lab = reactorLab('shutdown-quiet-first');
    const server = await lab.drive(() =>
      serveReactor(lab.server, ADDR, {
        onRequest: async (_ctx, c) => {
          c.reader.skip(c.reader.length);
          await lab.server.sleep(200_000);
        },
      }),
    );
    const [quiet, busy] = await clients(lab, 2);
    await lab.drive(() => busy!.send(pattern(1)));
    await lab.advance(10_000);
    const done = server.shutdown(1_000_000);
    await lab.advance(50_000);
    expect(quiet!.ended()).toBe(true);
    expect(busy!.ended()).toBe(false);
    expect(server.stats.open).toBe(1);
    await lab.drive(() => done);
    await lab.advance(10_000);
    expect(busy!.ended()).toBe(true);
    expect(server.stats.closed).toEqual(closedCounts({ 'server-shutdown': 2 }));
  });

  it('lets a connection that is closing send its output out within the drain time', async () => {
    const lab = reactorLab('shutdown-flush');
    const big = pattern(200_000, 3);
    const server = await lab.drive(() =>
      serveReactor(
        lab.server,
        ADDR,
        {
          onRequest: async (_ctx, c) => {
            c.reader.skip(c.reader.length);
            c.writer.writeBytes(big);
            await c.flush();
          },
        },
        { outputHighWaterBytes: 1_000_000 },
      ),
    );
    const client = await lab.drive(() => rawClient(lab.client, ADDR, { paused: true }));
    await lab.drive(() => client.send(pattern(1)));
    await lab.advance(10_000);
    const shutdown = server.shutdown(500_000);
    await lab.advance(100_000);
    expect(client.closed()).toBeNull();
    client.conn.resumeReading();
    await lab.drive(() => shutdown);
    await lab.advance(100_000);
    expectSameBytes(client.received(), big);
    expect(client.ended()).toBe(true);
    expect(server.stats.closed).toEqual(closedCounts({ 'server-shutdown': 1 }));
  });

  it('uses a 5 s drain time by default: a stuck handler is aborted after twice that', async () => {
    const lab = reactorLab('shutdown-default');
    const server = await lab.drive(() =>
      serveReactor(lab.server, ADDR, {
        onRequest: (_ctx, c) => {
          c.reader.skip(c.reader.length);
          return new Promise<void>(() => undefined);
        },
      }),
    );
    const [client] = await clients(lab, 1);
    await lab.drive(() => client!.send(pattern(1)));
    await lab.advance(10_000);
    const startUs = lab.world.nowUs;
    await lab.drive(() => server.shutdown());
    expect(lab.world.nowUs - startUs).toBe(10_000_000);
    expect(server.stats.closed).toEqual(closedCounts({ 'server-shutdown': 1 }));
  });
});

describe('listen and dial failures', () => {
  it('a listen the runtime fails without a reason rejects with EINVAL naming the address', async () => {
    const lab = reactorLab('listen-silent');
    const got = await rejection(lab, () => serveEcho(new SilentFailureEnv(lab.server), ADDR));
    expect(got).toBe(`EINVAL | EINVAL: listen ${ADDR} failed`);
  });

  it('a refused dial rejects with the runtime’s own error, message and all', async () => {
    const lab = reactorLab('dial-refused-own');
    const got = await rejection(lab, () => createDialer(lab.client, {}).dial('tcp://server:7001'));
    expect(got).toBe('ECONNREFUSED | ECONNREFUSED: nothing listens at tcp://server:7001 on host server');
  });

  it('a dial the runtime fails without a reason rejects with ECONNREFUSED naming the address', async () => {
    const lab = reactorLab('dial-silent');
    const dialer = createDialer(new SilentFailureEnv(lab.client), {});
    const got = await rejection(lab, () => dialer.dial(ADDR));
    expect(got).toBe(`ECONNREFUSED | ECONNREFUSED: connect ${ADDR} failed`);
    expect(dialer.open).toBe(0);
  });

  it('a dial that gets no answer gives up at connectTimeoutUs with ETIMEDOUT', async () => {
    const lab = reactorLab('dial-timeout');
    await lab.drive(() => serveEcho(lab.server, ADDR));
    lab.net.partition(['client'], ['server']);
    const startUs = lab.world.nowUs;
    const got = await rejection(lab, () =>
      createDialer(lab.client, {}).dial(ADDR, { connectTimeoutUs: 5_000 }),
    );
    expect(got).toMatch(/^ETIMEDOUT \| /);
    expect(lab.world.nowUs - startUs).toBe(5_000);
  });
});

describe('dialer', () => {
  it('counts its open connections and their loops, and marks them dialed', async () => {
    const lab = reactorLab('dialer-open');
    await lab.drive(() => serveEcho(lab.server, ADDR));
    const dialer = createDialer(lab.client, {}, { loops: 2 });
    const conns: Connection[] = [];
    for (let i = 0; i < 3; i++) conns.push(await lab.drive(() => dialer.dial(ADDR)));
    expect(dialer.open).toBe(3);
    expect(conns.map((c) => c.role)).toEqual(['dialed', 'dialed', 'dialed']);
    expect(dialer.group.stats().loops.map((l) => l.open)).toEqual([2, 1]);
    conns[0]!.close();
    await lab.drive(() => conns[0]!.closed);
    expect(dialer.open).toBe(2);
    expect(dialer.group.stats().loops.map((l) => l.open)).toEqual([1, 1]);
    expect(dialer.group.stats().loops.map((l) => l.assigned)).toEqual([2, 1]);
  });
});

describe('closed while prepared', () => {
  it('a dialed connection closed in onPrepare closes at once and leaves the dialer’s count', async () => {
    const lab = reactorLab('dial-closed-in-prepare');
    await lab.drive(() => serveEcho(lab.server, ADDR));
    const dialer = createDialer(lab.client, { onPrepare: (c) => c.close() });
    const conn = await lab.drive(() => dialer.dial(ADDR));
    expect(conn.state).toBe('closed');
    expect(await lab.drive(() => conn.closed)).toBe('user');
    expect(dialer.open).toBe(0);
    expect(dialer.group.stats().loops[0]!.open).toBe(0);
  });
});

describe('echo', () => {
  it('echoes input larger than a page, in page-sized pieces, byte for byte', async () => {
    const lab = reactorLab('echo-pages');
    await lab.drive(() => serveEcho(lab.server, ADDR, { pageBytes: 64 }));
    const conn = await lab.drive(() => createDialer(lab.client, {}).dial(ADDR));
    const sent = pattern(1000, 5);
    conn.writer.writeBytes(sent);
    await lab.drive(() => conn.flush());
    await lab.drive(() => conn.waitRead(1000));
    expectSameBytes(conn.reader.next(1000), sent);
    expect(isReactorError(undefined)).toBe(false);
  });
});
