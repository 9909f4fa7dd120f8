/**
 * Handlers that end synchronously (return nothing, or the settled promise of a flush that wrote
 * everything): the invocation is finished without a promise, yet the guarantees hold: no overlap,
 * runs again while input is unread, no growth of the stack with the number of frames buffered or of
 * invocations waiting for the handler pool.
 */
import { describe, expect, it } from 'vitest';
import type { Connection } from './connection.js';
import { LoopGroup } from './loop.js';
import { resolveReactorOptions } from './options.js';
import { serveReactor } from './server.js';
import { rawClient, reactorLab } from './testing/sim-lab.js';

const ADDR = 'tcp://server:7000';

describe('synchronous onRequest', () => {
  it('a handler taking one byte per call sees every byte of a 50 000-byte burst, one call at a time', async () => {
    const lab = reactorLab('sync-byte-per-call');
    const BYTES = 50_000;
    let running = 0;
    let maxRunning = 0;
    let seen = 0;
    let sum = 0;
    let conn: Connection | undefined;
    await lab.drive(() =>
      serveReactor(
        lab.server,
        ADDR,
        {
          onPrepare: (c) => {
            conn = c;
          },
          onRequest: (_ctx, c) => {
            running++;
            maxRunning = Math.max(maxRunning, running);
            sum += c.reader.next(1)[0]!;
            seen++;
            running--;
          },
        },
        { inputHighWaterBytes: 1 << 20, maxInputBytes: 1 << 21 },
      ),
    );
    const client = await lab.drive(() => rawClient(lab.client, ADDR));
    const burst = new Uint8Array(BYTES).fill(3);
    await lab.drive(() => client.send(burst));
    await lab.advance(1_000_000);
    expect(seen).toBe(BYTES);
    expect(sum).toBe(3 * BYTES);
    expect(maxRunning).toBe(1);
    expect(conn?.stats.handlerRuns).toBe(BYTES);
    expect(conn?.state).toBe('active');
  });

  it('a synchronous handler that consumes nothing is still closed as a spin', async () => {
    const lab = reactorLab('sync-spin');
    let conn: Connection | undefined;
    await lab.drive(() =>
      serveReactor(
        lab.server,
        ADDR,
        {
          onPrepare: (c) => {
            conn = c;
          },
          onRequest: () => undefined,
        },
        { maxUnconsumedRuns: 5 },
      ),
    );
    const client = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => client.send(new Uint8Array(10)));
    await lab.advance(1_000_000);
    expect(conn?.closeReason).toBe('handler-spin');
    expect(conn?.stats.handlerRuns).toBe(5);
  });

  it('a synchronous handler that throws closes its connection with ErrHandler', async () => {
    const lab = reactorLab('sync-throw');
    let conn: Connection | undefined;
    await lab.drive(() =>
      serveReactor(lab.server, ADDR, {
        onPrepare: (c) => {
          conn = c;
        },
        onRequest: () => {
          throw new Error('parse failed');
        },
      }),
    );
    const client = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => client.send(new Uint8Array(4)));
    await lab.advance(1_000_000);
    expect(conn?.closeReason).toBe('handler-error');
    expect(conn?.closeError?.message).toContain('onRequest failed: parse failed');
  });
});

describe('handler pool', () => {
  it('hands 100 000 waiting synchronous invocations out in a loop, in order, never above the bound', () => {
    const lab = reactorLab('pool-sync');
    const group = new LoopGroup(lab.server, resolveReactorOptions({ maxConcurrentHandlers: 1 }));
    const ran: number[] = [];
    let finishFirst: (() => void) | undefined;
    group.startHandler(() => {
      const d = lab.server.defer<void>();
      finishFirst = () => d.resolve(undefined);
      return d.promise;
    });
    const WAITING = 100_000;
    for (let i = 0; i < WAITING; i++)
      group.startHandler(() => {
        ran.push(i);
        return undefined;
      });
    expect(ran).toHaveLength(0);
    expect(group.handlersQueued).toBe(WAITING);
    finishFirst?.();
    return lab.advance(1).then(() => {
      expect(ran).toHaveLength(WAITING);
      expect(ran.every((v, i) => v === i)).toBe(true);
      expect(group.stats().maxConcurrentHandlers).toBe(1);
      expect(group.handlersStarted).toBe(WAITING + 1);
    });
  });

  it('a synchronous invocation frees its slot at once: the next one starts without waiting', () => {
    const lab = reactorLab('pool-sync-free');
    const group = new LoopGroup(lab.server, resolveReactorOptions({ maxConcurrentHandlers: 1 }));
    let ran = 0;
    for (let i = 0; i < 3; i++)
      group.startHandler(() => {
        ran++;
        return undefined;
      });
    expect(ran).toBe(3);
    expect(group.handlersQueued).toBe(0);
  });
});
