/**
 * The reactor's edges on the simulator: options refused with typed errors, the dialer, half-close,
 * graceful shutdown with its drain bound, overflow, handler failures, concurrent reads, the handler
 * pool's bound, and determinism (same seed, same trace hash, fast and strict scheduling alike).
 */
import { describe, expect, it } from 'vitest';
import type { Connection } from './connection.js';
import { createDialer } from './dial.js';
import { isReactorError, ReactorError } from './errors.js';
import { serveEcho } from './echo.js';
import { REACTOR_DEFAULTS, resolveReactorOptions } from './options.js';
import { serveReactor } from './server.js';
import { expectSameBytes, pattern, rawClient, reactorLab } from './testing/sim-lab.js';
import { Network } from '../../sim/net.js';
import { World } from '../../sim/world.js';

const ADDR = 'tcp://server:7000';

function codeOf(e: unknown): string {
  return isReactorError(e) ? e.code : `not a ReactorError: ${String(e)}`;
}

describe('options', () => {
  it('documents netpoll-beating defaults', () => {
    expect(REACTOR_DEFAULTS.loops).toBe(1);
    expect(REACTOR_DEFAULTS.pageBytes).toBe(8192);
    expect(REACTOR_DEFAULTS.readTimeoutUs).toBe(30_000_000);
    expect(REACTOR_DEFAULTS.writeTimeoutUs).toBe(30_000_000);
    expect(REACTOR_DEFAULTS.idleTimeoutUs).toBe(300_000_000);
    expect(REACTOR_DEFAULTS.inputHighWaterBytes).toBe(4 * 1024 * 1024);
    expect(REACTOR_DEFAULTS.outputHighWaterBytes).toBe(4 * 1024 * 1024);
    expect(REACTOR_DEFAULTS.maxConcurrentHandlers).toBe(10_000);
    expect(REACTOR_DEFAULTS.maxConnections).toBe(10_000);
  });

  it('derives the low-water mark and the input bound from a changed high-water mark', () => {
    const o = resolveReactorOptions({ inputHighWaterBytes: 64 * 1024 });
    expect(o.inputLowWaterBytes).toBe(16 * 1024);
    expect(o.maxInputBytes).toBe(128 * 1024);
  });

  it.each([
    [{ loops: 0 }, 'option loops must be an integer in [1, 256], got 0'],
    [{ loops: 257 }, 'option loops must be an integer in [1, 256], got 257'],
    [{ loops: 1.5 }, 'option loops must be an integer in [1, 256], got 1.5'],
    [{ pageBytes: 63 }, 'option pageBytes must be an integer in [64, 1048576], got 63'],
    [{ idleTimeoutUs: -1 }, 'option idleTimeoutUs must be an integer in [0, 1000000000000], got -1'],
    [{ maxConnections: 0 }, 'option maxConnections must be an integer in [1, 1000000], got 0'],
    [{ readTimeoutUs: '5s' }, 'option readTimeoutUs must be an integer in [0, 1000000000000], got "5s"'],
    [
      { loadBalance: 'fastest' },
      'option loadBalance must be one of round-robin, random, least-connections, got "fastest"',
    ],
    [{ checking: 1 }, 'option checking must be a boolean, got 1'],
    [
      { inputHighWaterBytes: 100, inputLowWaterBytes: 100 },
      'option inputLowWaterBytes (100) must be below inputHighWaterBytes (100)',
    ],
    [
      { inputHighWaterBytes: 100, maxInputBytes: 99 },
      'option maxInputBytes (99) must be at least inputHighWaterBytes (100)',
    ],
  ])('refuses %j', (options, message) => {
    expect(() => resolveReactorOptions(options as never)).toThrow(new ReactorError('ErrBadOption', message));
  });

  it('refuses an unknown option name instead of ignoring a bound', () => {
    expect(() => resolveReactorOptions({ idleTimeout: 5 } as never)).toThrow(
      /ErrBadOption: unknown option "idleTimeout"/,
    );
  });

  it('accepts the edges of every range', () => {
    expect(
      resolveReactorOptions({ loops: 256, pageBytes: 64, idleTimeoutUs: 0, acceptBacklog: 0 }).loops,
    ).toBe(256);
  });
});

describe('dialer and half-close', () => {
  it('a dialed connection reads with waitRead until the peer ends, and shutdownWrite half-closes', async () => {
    const lab = reactorLab('dial');
    await lab.drive(() => serveEcho(lab.server, ADDR));
    const dialer = createDialer(lab.client, {});
    const conn = await lab.drive(() => dialer.dial(ADDR));
    expect(conn.role).toBe('dialed');
    const data = pattern(50_000, 2);
    conn.writer.writeBytes(data);
    conn.shutdownWrite();
    const outcome = await lab.drive(async () => {
      await conn.waitRead(data.length);
      const got = conn.reader.readBytes(data.length);
      const eof = await conn.waitRead(1).then(
        () => 'more',
        (e: unknown) => codeOf(e),
      );
      return { got, eof };
    });
    expectSameBytes(outcome.got, data);
    expect(outcome.eof).toBe('ErrEOF');
    expect(await lab.drive(() => conn.flush().then(() => 'ok', codeOf))).toBe('ErrConnClosed');
    // The echo closes once it has echoed everything after our half-close: the peer closed first.
    expect(await lab.drive(() => conn.closed)).toBe('peer-closed');
    conn.close();
    expect(conn.closeReason).toBe('peer-closed');
    expect(dialer.open).toBe(0);
  });

  it('a refused dial rejects with the runtime error', async () => {
    const lab = reactorLab('dial-refused');
    const dialer = createDialer(lab.client, {});
    const code = await lab.drive(() =>
      dialer.dial('tcp://server:7001').then(
        () => 'connected',
        (e: unknown) => (e as { code?: string }).code,
      ),
    );
    expect(code).toBe('ECONNREFUSED');
  });

  it('a second blocking read while one waits is ErrConcurrentRead; waitRead beyond the high-water mark is ErrBadOption', async () => {
    const lab = reactorLab('concurrent-read');
    await lab.drive(() => serveEcho(lab.server, ADDR));
    const conn = await lab.drive(() =>
      createDialer(lab.client, {}, { inputHighWaterBytes: 1000 }).dial(ADDR),
    );
    const first = conn.waitRead(10);
    expect(await lab.drive(() => conn.waitRead(5).then(() => 'ok', codeOf))).toBe('ErrConcurrentRead');
    expect(await lab.drive(() => conn.waitRead(1001).then(() => 'ok', codeOf))).toBe('ErrBadOption');
    conn.close();
    expect(await lab.drive(() => first.then(() => 'ok', codeOf))).toBe('ErrConnClosed');
  });

  it('waitUntil resolves when the delimiter arrives, and until() returns through it', async () => {
    const lab = reactorLab('until');
    await lab.drive(() => serveEcho(lab.server, ADDR));
    const conn = await lab.drive(() => createDialer(lab.client, {}).dial(ADDR));
    conn.writer.writeString('GET / HTTP/1.1\r\n\r\n');
    await lab.drive(() => conn.flush());
    const line = await lab.drive(async () => {
      await conn.waitUntil(0x0a);
      return new TextDecoder().decode(conn.reader.until(0x0a)!);
    });
    expect(line).toBe('GET / HTTP/1.1\r\n');
  });
});

describe('failures stay on their connection', () => {
  it('a handler that throws closes its connection with ErrHandler; the server serves the next one', async () => {
    const lab = reactorLab('handler-error');
    const server = await lab.drive(() =>
      serveReactor(lab.server, ADDR, {
        onRequest: (_ctx, conn) => {
          if (conn.reader.peek(1)[0] === 0xff) throw new Error('boom');
          conn.writer.writeBytes(conn.reader.next(conn.reader.length));
          return conn.flush();
        },
      }),
    );
    const bad = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => bad.send(Uint8Array.of(0xff)));
    await lab.advance(100_000);
    // The byte it threw on is still unread: the close resets, as a kernel's close with unread data does.
    expect(bad.closed()).toBe('ECONNRESET');
    expect(server.stats.closed['handler-error']).toBe(1);
    const good = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => good.send(pattern(10)));
    await lab.advance(100_000);
    expectSameBytes(good.received(), pattern(10));
  });

  it('input beyond maxInputBytes is refused: the connection closes with input-overflow, nothing stored beyond the bound', async () => {
    const lab = reactorLab('overflow');
    let conn: Connection | undefined;
    const server = await lab.drive(() =>
      serveReactor(
        lab.server,
        ADDR,
        {
          onPrepare: (c) => {
            conn = c;
          },
          // Reads everything but never returns, so nothing is released: a handler bug the bound catches.
          onRequest: async (_ctx, c) => {
            for (;;) {
              c.reader.skip(c.reader.length);
              await c.waitRead(1);
            }
          },
        },
        { inputHighWaterBytes: 4096, maxInputBytes: 6000, readTimeoutUs: 0 },
      ),
    );
    const client = await lab.drive(() => rawClient(lab.client, ADDR));
    void client.send(pattern(100_000));
    await lab.advance(1_000_000);
    expect(conn!.closeReason).toBe('input-overflow');
    expect(isReactorError(conn!.closeError, 'ErrInputOverflow')).toBe(true);
    expect(conn!.stats.maxInputHeldBytes).toBeLessThanOrEqual(6000);
    expect(server.stats.closed['input-overflow']).toBe(1);
  });

  it('a close callback that throws is counted; the others still run', async () => {
    const lab = reactorLab('callback-throws');
    const ran: string[] = [];
    const server = await lab.drive(() =>
      serveReactor(lab.server, ADDR, {
        onPrepare: (c) => {
          c.addCloseCallback(() => ran.push('first-added'));
          c.addCloseCallback(() => {
            throw new Error('bad callback');
          });
        },
        onRequest: (_ctx, c) => c.close(),
      }),
    );
    const client = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => client.send(pattern(1)));
    await lab.advance(100_000);
    expect(ran).toEqual(['first-added']);
    expect(server.group.callbackErrors).toBe(1);
    expect(server.stats.closed.user).toBe(1);
  });
});

describe('bad peers', () => {
  it('a peer that resets mid-write fails the waiting flush typed and closes only its own connection', async () => {
    const lab = reactorLab('reset-mid-write');
    const flushOutcomes: string[] = [];
    const server = await lab.drive(() =>
      serveReactor(
        lab.server,
        ADDR,
        {
          onRequest: async (_ctx, c) => {
            c.reader.skip(c.reader.length);
            c.writer.writeBytes(pattern(300_000));
            await c.flush().then(
              () => flushOutcomes.push('ok'),
              (e: unknown) => flushOutcomes.push(codeOf(e)),
            );
          },
        },
        { outputHighWaterBytes: 1024 },
      ),
    );
    const resetter = await lab.drive(() => rawClient(lab.client, ADDR, { paused: true }));
    await lab.drive(() => resetter.send(pattern(1)));
    await lab.advance(100_000);
    resetter.conn.reset();
    await lab.advance(100_000);
    expect(flushOutcomes).toEqual(['ErrConnClosed']);
    expect(server.stats.closed.reset).toBe(1);
    const next = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => next.send(pattern(1)));
    await lab.advance(1_000_000);
    expect(next.receivedBytes()).toBe(300_000);
  });

  it('a peer that connects and sends nothing is closed at the idle timeout, typed', async () => {
    const lab = reactorLab('silent-peer');
    const server = await lab.drive(() => serveEcho(lab.server, ADDR, { idleTimeoutUs: 2_000_000 }));
    await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.advance(1_000_000);
    const conn = server.connections()[0]!;
    await lab.advance(2_000_000);
    expect(conn.closeReason).toBe('idle-timeout');
    expect(isReactorError(conn.closeError, 'ErrIdleTimeout')).toBe(true);
    expect(server.stats.closed['idle-timeout']).toBe(1);
  });
});

describe('handler pool', () => {
  it('runs at most maxConcurrentHandlers invocations at once; the rest wait their turn', async () => {
    const lab = reactorLab('pool');
    let running = 0;
    let most = 0;
    const server = await lab.drive(() =>
      serveReactor(
        lab.server,
        ADDR,
        {
          onRequest: async (_ctx, c) => {
            running++;
            most = Math.max(most, running);
            c.reader.skip(c.reader.length);
            await lab.server.sleep(10_000);
            running--;
          },
        },
        { maxConcurrentHandlers: 2 },
      ),
    );
    const clients = [];
    for (let i = 0; i < 5; i++) clients.push(await lab.drive(() => rawClient(lab.client, ADDR)));
    for (const c of clients) void c.send(pattern(3));
    await lab.advance(1_000_000);
    expect(most).toBe(2);
    expect(server.group.stats().handlersQueued).toBe(3);
    expect(server.group.stats().handlersStarted).toBe(5);
  });
});

describe('shutdown', () => {
  it('closes quiet connections at once, lets a busy one finish within the drain time, and refuses new ones', async () => {
    const lab = reactorLab('shutdown');
    const server = await lab.drive(() =>
      serveReactor(lab.server, ADDR, {
        onRequest: async (_ctx, c) => {
          c.reader.skip(c.reader.length);
          await lab.server.sleep(200_000);
          c.writer.writeString('done');
          await c.flush();
        },
      }),
    );
    const quiet = await lab.drive(() => rawClient(lab.client, ADDR));
    const busy = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => busy.send(pattern(1)));
    await lab.advance(10_000);
    const startUs = lab.world.nowUs;
    await lab.drive(() => server.shutdown(1_000_000));
    // Done when the busy handler finished (~200 ms), not at the drain deadline.
    expect(lab.world.nowUs - startUs).toBeLessThan(250_000);
    expect(server.stats.closed['server-shutdown']).toBe(2);
    await lab.advance(100_000);
    expect(new TextDecoder().decode(busy.received())).toBe('done');
    expect(busy.ended()).toBe(true);
    expect(quiet.ended()).toBe(true);
    const late = await lab.drive(() =>
      rawClient(lab.client, ADDR).then(
        () => 'connected',
        (e: unknown) => (e as { code?: string }).code,
      ),
    );
    expect(late).toBe('ECONNREFUSED');
  });

  it('aborts a handler that never returns once the drain time has passed twice', async () => {
    const lab = reactorLab('shutdown-stuck');
    const server = await lab.drive(() =>
      serveReactor(lab.server, ADDR, {
        onRequest: (_ctx, c) => {
          c.reader.skip(c.reader.length);
          return new Promise<void>(() => undefined); // never settles
        },
      }),
    );
    const client = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => client.send(pattern(1)));
    await lab.advance(10_000);
    expect(server.stats.open).toBe(1);
    const startUs = lab.world.nowUs;
    await lab.drive(() => server.shutdown(300_000));
    expect(lab.world.nowUs - startUs).toBe(600_000);
    expect(server.stats.open).toBe(0);
    expect(server.stats.closed['server-shutdown']).toBe(1);
  });
});

describe('determinism', () => {
  async function runOnce(mode: 'fast' | 'strict'): Promise<string> {
    const world = new World({ seed: 'reactor-det', mode });
    const net = new Network(world, { link: { latency: { kind: 'uniform', minUs: 100, maxUs: 3000 } } });
    const server = net.addHost('server').env;
    const client = net.addHost('client').env;
    void serveReactor(
      server,
      ADDR,
      {
        onRequest: async (_ctx, c) => {
          c.charge(500);
          c.writer.writeBytes(c.reader.next(c.reader.length));
          await c.flush();
        },
      },
      { loops: 3, loadBalance: 'random' },
    );
    for (let i = 0; i < 4; i++)
      client.connect(ADDR, (_e, conn) => {
        conn?.setHandlers({ onData: () => undefined });
        conn?.write(pattern(20_000, i));
        conn?.shutdown();
      });
    const r = await world.run({ untilUs: 5_000_000 });
    return r.traceHash;
  }

  it('gives the same trace hash for the same seed, fast and strict', async () => {
    const fast = await runOnce('fast');
    expect(await runOnce('fast')).toBe(fast);
    expect(await runOnce('strict')).toBe(fast);
  });
});

describe('a peer that closes before its last bytes are read', () => {
  it('leaves them readable on a dialed connection until the application reads them, then ErrEOF', async () => {
    const lab = reactorLab('read-after-close');
    await lab.drive(() =>
      serveReactor(lab.server, ADDR, {
        onConnect: async (_ctx, c) => {
          c.writer.writeString('the whole response');
          await c.flush();
          c.close();
        },
      }),
    );
    const conn = await lab.drive(() => createDialer(lab.client, {}).dial(ADDR));
    await lab.advance(500_000); // the server has sent and closed; nobody has read yet
    expect(conn.state).toBe('active');
    expect(conn.reader.readString(conn.reader.length)).toBe('the whole response');
    expect(await lab.drive(() => conn.waitRead(1).then(() => 'more', codeOf))).toBe('ErrEOF');
    conn.close();
    expect(await lab.drive(() => conn.closed)).toBe('user');
    expect(await lab.drive(() => conn.flush().then(() => 'ok', codeOf))).toBe('ErrConnClosed');
  });

  it('keeps them readable after a full close when this side had half-closed first', async () => {
    const lab = reactorLab('read-after-full-close');
    await lab.drive(() =>
      serveReactor(lab.server, ADDR, {
        onRequest: async (_ctx, c) => {
          c.reader.skip(c.reader.length);
          c.writer.writeString('response body');
          await c.flush();
          c.close();
        },
      }),
    );
    const conn = await lab.drive(() => createDialer(lab.client, {}).dial(ADDR));
    conn.writer.writeString('request');
    conn.shutdownWrite();
    await lab.advance(500_000); // both sides have closed their halves: the stream is gone
    expect(conn.state).toBe('active');
    expect(conn.reader.ended).toBe(true);
    expect(conn.reader.readString(conn.reader.length)).toBe('response body');
    expect(await lab.drive(() => conn.waitRead(1).then(() => 'more', codeOf))).toBe('ErrEOF');
    conn.close();
    expect(await lab.drive(() => conn.closed)).toBe('user');
  });
});
