/**
 * What a reactor user reads besides the bytes: counters and stats, option ranges at their ends,
 * typed errors at the edges (a closed connection, an address in use), the group's loop figures,
 * and how the link buffers batch and copy (a few long socket writes; one page for a page-sized copy).
 */
import { describe, expect, it } from 'vitest';
import type { Connection } from './connection.js';
import { createDialer } from './dial.js';
import { isReactorError, ReactorError } from './errors.js';
import { serveEcho } from './echo.js';
import { InputBuffer, OutputBuffer } from './link-buffer.js';
import { REACTOR_DEFAULTS, resolveReactorOptions } from './options.js';
import { PagePool } from './pages.js';
import { serveReactor } from './server.js';
import { pattern, rawClient, reactorLab } from './testing/sim-lab.js';

const ADDR = 'tcp://server:7000';

describe('stats', () => {
  it('counts bytes in and out, the most input held, and the CPU each loop was charged', async () => {
    const lab = reactorLab('stats');
    let conn: Connection | undefined;
    const server = await lab.drive(() =>
      serveReactor(
        lab.server,
        ADDR,
        {
          onPrepare: (c) => {
            conn = c;
          },
          onRequest: (_ctx, c) => {
            c.charge(700);
            c.writer.writeBytes(c.reader.next(c.reader.length));
            return c.flush();
          },
        },
        { loops: 2 },
      ),
    );
    expect(server.address).toBe(ADDR);
    const client = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => client.send(pattern(3000)));
    await lab.advance(200_000);
    expect(conn!.stats.bytesIn).toBe(3000);
    expect(conn!.stats.bytesOut).toBe(3000);
    expect(conn!.stats.maxInputHeldBytes).toBeGreaterThan(0);
    expect(conn!.stats.maxInputHeldBytes).toBeLessThanOrEqual(3000);
    const loops = server.group.stats().loops;
    expect(loops[0]!.chargedUs).toBe(700 * conn!.stats.handlerRuns);
    expect(loops[1]!.chargedUs).toBe(0);
    client.conn.close();
    await lab.advance(200_000);
    expect(server.stats.bytesIn).toBe(3000);
    expect(server.stats.bytesOut).toBe(3000);
  });

  it('reports the most handlers that ran at once', async () => {
    const lab = reactorLab('pool-most');
    const server = await lab.drive(() =>
      serveReactor(
        lab.server,
        ADDR,
        {
          onRequest: async (_ctx, c) => {
            c.reader.skip(c.reader.length);
            await lab.server.sleep(5_000);
          },
        },
        { maxConcurrentHandlers: 3 },
      ),
    );
    const clients = [];
    for (let i = 0; i < 2; i++) clients.push(await lab.drive(() => rawClient(lab.client, ADDR)));
    for (const c of clients) void c.send(pattern(2));
    await lab.advance(100_000);
    expect(server.group.stats().maxConcurrentHandlers).toBe(2);
    expect(server.group.stats().handlersQueued).toBe(0);
  });
});

describe('options at their edges', () => {
  it.each([
    ['outputHighWaterBytes', 0, -1],
    ['inputLowWaterBytes', 0, -1],
    ['readTimeoutUs', 0, -1],
    ['acceptBacklog', 0, -1],
    ['costUsPerRequest', 0, -1],
    ['maxUnconsumedRuns', 1, 0],
  ] as const)('%s accepts %d and refuses %d, naming the range', (name, ok, bad) => {
    expect(resolveReactorOptions({ [name]: ok })[name]).toBe(ok);
    expect(() => resolveReactorOptions({ [name]: bad })).toThrow(
      new RegExp(`^ErrBadOption: option ${name} must be an integer in \\[${ok}, \\d+\\], got ${bad}$`),
    );
  });

  it('is not in checking mode by default (poisoning costs a fill per page)', () => {
    expect(REACTOR_DEFAULTS.checking).toBe(false);
    expect(resolveReactorOptions({}).checking).toBe(false);
  });

  it('waitRead may ask for exactly the input high-water mark', async () => {
    const lab = reactorLab('wait-high');
    await lab.drive(() => serveEcho(lab.server, ADDR));
    const conn = await lab.drive(() =>
      createDialer(lab.client, {}, { inputHighWaterBytes: 1000 }).dial(ADDR),
    );
    conn.writer.writeBytes(pattern(1000));
    await lab.drive(() => conn.flush());
    await lab.drive(() => conn.waitRead(1000));
    expect(conn.reader.length).toBe(1000);
  });
});

describe('typed errors at the edges', () => {
  it('isReactorError matches the code asked for only', () => {
    const e = new ReactorError('ErrEOF', 'x');
    expect(isReactorError(e)).toBe(true);
    expect(isReactorError(e, 'ErrEOF')).toBe(true);
    expect(isReactorError(e, 'ErrReadTimeout')).toBe(false);
    expect(isReactorError(new Error('x'))).toBe(false);
  });

  it('a close callback added after the close is ErrConnClosed', async () => {
    const lab = reactorLab('late-callback');
    await lab.drive(() => serveEcho(lab.server, ADDR));
    const conn = await lab.drive(() => createDialer(lab.client, {}).dial(ADDR));
    conn.close();
    await lab.drive(() => conn.closed);
    expect(() => conn.addCloseCallback(() => undefined)).toThrow(
      new ReactorError('ErrConnClosed', `connection ${conn.id} is already closed`),
    );
  });

  it('a second server on the same address rejects with the runtime error EADDRINUSE', async () => {
    const lab = reactorLab('in-use');
    await lab.drive(() => serveEcho(lab.server, ADDR));
    const code = await lab.drive(() =>
      serveEcho(lab.server, ADDR).then(
        () => 'listening',
        (e: unknown) => (e as { code?: string }).code,
      ),
    );
    expect(code).toBe('EADDRINUSE');
  });

  it('a dialed connection without onRequest stays open when the peer half-closes: it may still write', async () => {
    const lab = reactorLab('peer-half-close');
    const got: number[] = [];
    await lab.drive(() =>
      serveReactor(lab.server, ADDR, {
        onConnect: async (_ctx, c) => {
          c.writer.writeString('hi');
          await c.flush();
          c.shutdownWrite();
          await c.waitRead(3);
          got.push(c.reader.length);
        },
      }),
    );
    const conn = await lab.drive(() => createDialer(lab.client, {}).dial(ADDR));
    await lab.drive(() => conn.waitRead(2));
    conn.reader.skip(2);
    await lab.advance(100_000); // the server's FIN is in: nothing unread
    expect(conn.reader.ended).toBe(true);
    expect(conn.state).toBe('active');
    conn.writer.writeString('bye');
    await lab.drive(() => conn.flush());
    await lab.advance(100_000);
    expect(got).toEqual([3]);
  });
});

describe('link buffers as the socket sees them', () => {
  it('consecutive writes committed together go out as one run (one socket write)', () => {
    const pool = new PagePool({ pageBytes: 64 });
    const out = new OutputBuffer(pool);
    out.writeBytes(pattern(10));
    out.writeBytes(pattern(20, 1));
    out.writeString('abc');
    out.commit();
    expect(out.peekSend()?.length).toBe(33);
  });

  it('a straddling read of exactly a page copies into one page; two copies that fill a page share it', () => {
    const pool = new PagePool({ pageBytes: 64 });
    const input = new InputBuffer(pool, { maxBytes: 10_000 });
    input.append(pattern(40));
    input.append(pattern(40, 1));
    input.next(64);
    expect(input.copyBytes).toBe(64);
    expect(pool.stats.largeAllocations).toBe(0);
    input.release();
    // Two 32-byte straddling copies: exactly one page's room, so one page.
    input.append(pattern(16, 2));
    input.append(pattern(32, 3));
    input.append(pattern(32, 4));
    input.skip(input.length - 16 - 32 - 32);
    input.next(32); // straddles the 16- and 32-byte chunks
    input.next(32); // straddles the 32- and 32-byte chunks
    expect(input.copyBytes).toBe(64);
  });
});
