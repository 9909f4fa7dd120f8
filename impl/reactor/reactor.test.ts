/**
 * The reactor over the simulated network: echo, callbacks' order and exactly-once, timeouts in
 * exact virtual time, input and output backpressure, spin detection, balancing and per-loop CPU.
 */
import { describe, expect, it } from 'vitest';
import type { Connection, ReactorHandlers } from './connection.js';
import { isReactorError } from './errors.js';
import { serveEcho } from './echo.js';
import { serveReactor } from './server.js';
import { expectSameBytes, pattern, rawClient, reactorLab } from './testing/sim-lab.js';

const ADDR = 'tcp://server:7000';

describe('reactor echo on the simulator', () => {
  it('echoes every byte in order, exactly once, and closes after the client half-closes', async () => {
    const lab = reactorLab('echo-1');
    const server = await lab.drive(() => serveEcho(lab.server, ADDR, { checking: true }));
    const data = pattern(200_000, 3);
    const client = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => client.send(data));
    client.conn.shutdown();
    await lab.advance(2_000_000);
    expect(client.receivedBytes()).toBe(data.length);
    expectSameBytes(client.received(), data);
    expect(client.ended()).toBe(true);
    expect(server.stats.closed['peer-closed']).toBe(1);
    expect(server.stats.open).toBe(0);
    expect(server.group.pages.stats.outstandingPages).toBe(0);
  });
});

describe('callbacks', () => {
  it('runs onConnect before onRequest, never overlaps onRequest, and onDisconnect and close callbacks once, LIFO', async () => {
    const lab = reactorLab('callbacks');
    const log: string[] = [];
    let running = 0;
    const handlers: ReactorHandlers<{ n: number }> = {
      onPrepare: (conn) => {
        log.push('prepare');
        conn.addCloseCallback(() => log.push('close-1'));
        conn.addCloseCallback(() => log.push('close-2'));
        return { n: 0 };
      },
      onConnect: async (_ctx, conn) => {
        log.push('connect-start');
        await conn.waitRead(0);
        log.push('connect-end');
      },
      onRequest: (ctx, conn) => {
        expect(running).toBe(0);
        running++;
        ctx.n++;
        log.push(`request ${conn.reader.length}`);
        conn.reader.skip(conn.reader.length);
        running--;
      },
      onDisconnect: () => log.push('disconnect'),
    };
    await lab.drive(() => serveReactor(lab.server, ADDR, handlers));
    const client = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => client.send(pattern(10)));
    await lab.advance(10_000);
    client.conn.close();
    await lab.advance(1_000_000);
    expect(log[0]).toBe('prepare');
    expect(log.indexOf('connect-end')).toBeLessThan(log.findIndex((l) => l.startsWith('request')));
    expect(log.filter((l) => l === 'disconnect')).toHaveLength(1);
    expect(log.slice(-3)).toEqual(['disconnect', 'close-2', 'close-1']);
  });

  it('closes a handler that returns without consuming after maxUnconsumedRuns runs (no spin)', async () => {
    const lab = reactorLab('spin');
    let runs = 0;
    let seen: Connection | undefined;
    const server = await lab.drive(() =>
      serveReactor(
        lab.server,
        ADDR,
        {
          onRequest: (_ctx, conn) => {
            runs++;
            seen = conn;
          },
        },
        { maxUnconsumedRuns: 5 },
      ),
    );
    const client = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => client.send(pattern(3)));
    await lab.advance(100_000);
    expect(runs).toBe(5);
    expect(seen?.closeReason).toBe('handler-spin');
    expect(isReactorError(seen?.closeError, 'ErrHandlerSpin')).toBe(true);
    expect(server.stats.closed['handler-spin']).toBe(1);
  });
});

describe('timeouts in virtual time', () => {
  it('closes an idle connection exactly idleTimeoutUs after its last byte', async () => {
    const lab = reactorLab('idle');
    let conn: Connection | undefined;
    let closedAtUs = -1;
    await lab.drive(() =>
      serveReactor(
        lab.server,
        ADDR,
        {
          onPrepare: (c) => {
            conn = c;
            c.addCloseCallback(() => (closedAtUs = lab.world.nowUs));
          },
          onRequest: echoAll,
        },
        { idleTimeoutUs: 500_000 },
      ),
    );
    const client = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.advance(100_000);
    await lab.drive(() => client.send(pattern(5)));
    await lab.advance(100_000);
    const lastByteUs = lastActivity(conn!);
    await lab.advance(2_000_000);
    expect(conn!.closeReason).toBe('idle-timeout');
    expect(closedAtUs).toBe(lastByteUs + 500_000);
  });

  it('an idle close is clean, but resets a peer whose unread input backed up (it would be read and discarded)', async () => {
    const lab = reactorLab('idle-flood');
    const high = 64 * 1024;
    const server = await lab.drive(() =>
      serveEcho(lab.server, ADDR, {
        idleTimeoutUs: 500_000,
        inputHighWaterBytes: high,
        outputHighWaterBytes: high,
        writeTimeoutUs: 0,
      }),
    );
    const quiet = await lab.drive(() => rawClient(lab.client, ADDR));
    const flood = await lab.drive(() => rawClient(lab.client, ADDR, { paused: true }));
    void flood.send(pattern(4 * 1024 * 1024, 2));
    await lab.advance(3_000_000);
    expect(server.stats.closed['idle-timeout']).toBe(2);
    // The quiet one gets the server's end of stream (a FIN), no reset.
    expect(quiet.ended()).toBe(true);
    expect(quiet.closed()).not.toBe('ECONNRESET');
    expect(flood.closed()).toBe('ECONNRESET');
    // The flood was held back: the server read little of its 4 MiB.
    expect(server.stats.bytesIn).toBeLessThan(1024 * 1024);
  });

  it('fails a blocking read at readTimeoutUs with ErrReadTimeout, and only a blocking read', async () => {
    const lab = reactorLab('read-timeout');
    const outcomes: string[] = [];
    await lab.drive(() =>
      serveReactor(
        lab.server,
        ADDR,
        {
          onRequest: async (_ctx, conn) => {
            const startUs = lab.world.nowUs;
            try {
              await conn.waitRead(10);
              outcomes.push('ok');
            } catch (e) {
              outcomes.push(`${isReactorError(e) ? e.code : 'other'} after ${lab.world.nowUs - startUs}`);
            }
            conn.reader.skip(conn.reader.length);
          },
        },
        { readTimeoutUs: 250_000 },
      ),
    );
    const client = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => client.send(pattern(4)));
    await lab.advance(1_000_000);
    expect(outcomes).toEqual(['ErrReadTimeout after 250000']);
  });
});

describe('backpressure', () => {
  it('a client that sends without reading keeps the server within its bounds, and loses nothing once it reads', async () => {
    const lab = reactorLab('backpressure');
    const high = 64 * 1024;
    const server = await lab.drive(() =>
      serveEcho(lab.server, ADDR, {
        inputHighWaterBytes: high,
        outputHighWaterBytes: high,
        writeTimeoutUs: 0,
        checking: true,
      }),
    );
    const client = await lab.drive(() => rawClient(lab.client, ADDR, { paused: true }));
    const data = pattern(2 * 1024 * 1024, 9);
    const sent = client.send(data);
    await lab.advance(5_000_000);
    const conn = server.connections()[0]!;
    expect(conn.readingPaused).toBe(true);
    expect(conn.stats.maxInputHeldBytes).toBeLessThanOrEqual(high + 65536);
    expect(conn.stats.maxUnsentBytes).toBeLessThanOrEqual(high + 65536 + 8192);
    client.conn.resumeReading();
    await lab.drive(() => sent);
    client.conn.shutdown();
    await lab.advance(10_000_000);
    expectSameBytes(client.received(), data);
  });

  it('a flush that cannot drain fails at writeTimeoutUs, keeps its bytes in order, and refuses a concurrent flush', async () => {
    const lab = reactorLab('write-timeout');
    const errors: string[] = [];
    let conn: Connection | undefined;
    const big = pattern(600_000, 4);
    await lab.drive(() =>
      serveReactor(
        lab.server,
        ADDR,
        {
          onConnect: async (_ctx, c) => {
            conn = c;
            c.writer.writeBytes(big);
            const first = c.flush();
            await c.flush().catch((e: unknown) => errors.push(isReactorError(e) ? e.code : 'other'));
            await first.catch((e: unknown) => errors.push(isReactorError(e) ? e.code : 'other'));
          },
        },
        { outputHighWaterBytes: 1024, writeTimeoutUs: 300_000 },
      ),
    );
    const client = await lab.drive(() => rawClient(lab.client, ADDR, { paused: true }));
    await lab.advance(1_000_000);
    expect(errors).toEqual(['ErrConcurrentFlush', 'ErrWriteTimeout']);
    expect(conn!.stats.writeTimeouts).toBe(1);
    expect(conn!.unsentBytes).toBeGreaterThan(0);
    client.conn.resumeReading();
    await lab.advance(5_000_000);
    expectSameBytes(client.received(), big);
    expect(conn!.writeInterestHeld).toBe(false);
  });
});

describe('balancing and loops as virtual CPUs', () => {
  it('round-robin spreads connections so counts differ by at most one; least-connections fills the emptiest', async () => {
    for (const policy of ['round-robin', 'least-connections'] as const) {
      const lab = reactorLab(`lb-${policy}`);
      const server = await lab.drive(() => serveEcho(lab.server, ADDR, { loops: 4, loadBalance: policy }));
      for (let i = 0; i < 10; i++) await lab.drive(() => rawClient(lab.client, ADDR));
      await lab.advance(100_000);
      const counts = server.group.stats().loops.map((l) => l.open);
      expect(counts.reduce((a, b) => a + b, 0)).toBe(10);
      expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
    }
  });

  it('a slow handler on one loop does not delay another loop’s connections', async () => {
    const lab = reactorLab('cpu');
    const answeredAfterUs: number[] = [];
    await lab.drive(() =>
      serveReactor(
        lab.server,
        ADDR,
        {
          onRequest: async (_ctx, conn) => {
            const first = conn.reader.readU8();
            conn.reader.skip(conn.reader.length);
            if (first === 1) conn.charge(100_000); // the slow request
            conn.writer.writeBytes(Uint8Array.of(first));
            await conn.flush();
          },
        },
        { loops: 2 },
      ),
    );
    const slow = await lab.drive(() => rawClient(lab.client, ADDR)); // loop 0
    const fast = await lab.drive(() => rawClient(lab.client, ADDR)); // loop 1
    const sameLoop = await lab.drive(() => rawClient(lab.client, ADDR)); // loop 0 again
    const t0 = lab.world.nowUs;
    void slow.send(Uint8Array.of(1));
    void fast.send(Uint8Array.of(2));
    void sameLoop.send(Uint8Array.of(3));
    for (let i = 0; i < 300; i++) {
      await lab.advance(1_000);
      for (const [k, c] of [slow, fast, sameLoop].entries())
        if (answeredAfterUs[k] === undefined && c.receivedBytes() > 0)
          answeredAfterUs[k] = lab.world.nowUs - t0;
    }
    expect(answeredAfterUs[1]!).toBeLessThan(10_000);
    expect(answeredAfterUs[0]!).toBeGreaterThanOrEqual(100_000);
    expect(answeredAfterUs[2]!).toBeGreaterThanOrEqual(100_000);
  });
});

describe('handler pool', () => {
  it('runs at most maxConcurrentHandlers invocations at once; the others wait, first come first served', async () => {
    const lab = reactorLab('handler-pool');
    const log: string[] = [];
    let next = 0;
    const server = await lab.drive(() =>
      serveReactor(
        lab.server,
        ADDR,
        {
          onPrepare: () => ({ tag: String.fromCharCode(65 + next++) }),
          onRequest: async (ctx: { tag: string }, conn) => {
            log.push(`start ${ctx.tag}`);
            await conn.waitRead(2);
            conn.reader.skip(conn.reader.length);
            log.push(`end ${ctx.tag}`);
          },
        },
        { maxConcurrentHandlers: 1 },
      ),
    );
    const a = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => a.send(pattern(1)));
    await lab.advance(10_000);
    const b = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => b.send(pattern(1)));
    const c = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => c.send(pattern(1)));
    await lab.advance(10_000);
    expect(log).toEqual(['start A']);
    expect(server.group.stats().handlersQueued).toBe(2);
    await lab.drive(() => a.send(pattern(1)));
    await lab.advance(10_000);
    expect(log).toEqual(['start A', 'end A', 'start B']);
    await lab.drive(() => b.send(pattern(1)));
    await lab.drive(() => c.send(pattern(1)));
    await lab.advance(10_000);
    expect(log).toEqual(['start A', 'end A', 'start B', 'end B', 'start C', 'end C']);
    expect(server.group.stats().maxConcurrentHandlers).toBe(1);
  });
});

describe('accept backpressure', () => {
  it('holds connections beyond maxConnections unread and admits the oldest when one closes', async () => {
    const lab = reactorLab('accept');
    const server = await lab.drive(() => serveEcho(lab.server, ADDR, { maxConnections: 2 }));
    const clients = [];
    for (let i = 0; i < 3; i++) clients.push(await lab.drive(() => rawClient(lab.client, ADDR)));
    for (const c of clients) void c.send(pattern(5, 1));
    await lab.advance(100_000);
    expect(server.stats.open).toBe(2);
    expect(server.stats.heldNow).toBe(1);
    expect(clients[2]!.receivedBytes()).toBe(0);
    clients[0]!.conn.close();
    await lab.advance(1_000_000);
    expect(clients[2]!.received()).toEqual(pattern(5, 1));
    expect(server.stats.accepted).toBe(3);
  });
});

async function echoAll(_ctx: unknown, conn: Connection): Promise<void> {
  conn.writer.writeBytes(conn.reader.next(conn.reader.length));
  await conn.flush();
}

/** The connection's last activity, read through a close-at-idle prediction: the last byte it moved. */
function lastActivity(conn: Connection): number {
  return (conn as unknown as { lastActivityUs: number }).lastActivityUs;
}
