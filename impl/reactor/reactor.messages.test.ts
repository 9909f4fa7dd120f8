/**
 * The messages of the reactor's typed errors, as a user reads them in a log: each names the
 * connection, what was waited for or refused, and the numbers that matter. And the counters a
 * server's operator reads (write-interest registrations, tasks a loop ran).
 */
import { describe, expect, it } from 'vitest';
import type { Connection } from './connection.js';
import { createDialer } from './dial.js';
import { serveEcho } from './echo.js';
import { serveReactor } from './server.js';
import { pattern, rawClient, reactorLab } from './testing/sim-lab.js';

const ADDR = 'tcp://server:7000';

async function messageOf(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'resolved',
    (e: unknown) => (e instanceof Error ? e.message : String(e)),
  );
}

describe('typed error messages', () => {
  it('ErrEOF names what the read waited for and what is unread; ErrConnClosed names the operation and why', async () => {
    const lab = reactorLab('msg-eof');
    await lab.drive(() =>
      serveReactor(lab.server, ADDR, {
        onConnect: async (_ctx, c) => {
          c.writer.writeString('abc');
          await c.flush();
          c.shutdownWrite();
        },
      }),
    );
    const conn = await lab.drive(() => createDialer(lab.client, {}).dial(ADDR));
    await lab.advance(100_000);
    expect(await lab.drive(() => messageOf(conn.waitRead(5)))).toBe(
      `ErrEOF: connection ${conn.id}: the peer ended its side before 5 bytes arrived (3 unread)`,
    );
    conn.shutdownWrite();
    expect(await lab.drive(() => messageOf(conn.flush()))).toBe(
      `ErrConnClosed: connection ${conn.id}: flush after it was write side shut down`,
    );
    conn.close();
    expect(await lab.drive(() => messageOf(conn.waitRead(1)))).toBe(
      `ErrConnClosed: connection ${conn.id}: read after it was closed (user)`,
    );
  });

  it('ErrWriteTimeout says how much is unsent, after how long, and that it stays queued', async () => {
    const lab = reactorLab('msg-write-timeout');
    let message = '';
    let id = 0;
    await lab.drive(() =>
      serveReactor(
        lab.server,
        ADDR,
        {
          onConnect: async (_ctx, c) => {
            id = c.id;
            c.writer.writeBytes(pattern(400_000));
            message = await messageOf(c.flush());
          },
        },
        { outputHighWaterBytes: 1000, writeTimeoutUs: 250_000 },
      ),
    );
    await lab.drive(() => rawClient(lab.client, ADDR, { paused: true }));
    await lab.advance(1_000_000);
    expect(message).toMatch(
      new RegExp(
        `^ErrWriteTimeout: connection ${id}: \\d+ bytes still unsent after 250000 us ` +
          `\\(above outputHighWaterBytes 1000\\); they stay queued in order$`,
      ),
    );
  });

  it('ErrHandlerSpin counts the runs and the unread bytes; ErrHandler carries the handler’s own message', async () => {
    const lab = reactorLab('msg-spin');
    const conns: Connection[] = [];
    await lab.drive(() =>
      serveReactor(
        lab.server,
        ADDR,
        {
          onPrepare: (c) => {
            conns.push(c);
          },
          onRequest: (_ctx, c) => {
            if (c.reader.peek(1)[0] === 0xee) throw new Error('bad request byte');
          },
        },
        { maxUnconsumedRuns: 3 },
      ),
    );
    const spinner = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => spinner.send(Uint8Array.of(1, 2, 3, 4)));
    await lab.advance(100_000);
    const thrower = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => thrower.send(Uint8Array.of(0xee)));
    await lab.advance(100_000);
    expect(conns[0]!.closeError?.message).toBe(
      `ErrHandlerSpin: connection ${conns[0]!.id}: onRequest returned 3 times in a row without consuming any of 4 unread bytes or closing`,
    );
    expect(conns[1]!.closeError?.message).toBe(
      `ErrHandler: connection ${conns[1]!.id}: onRequest failed: bad request byte`,
    );
    expect((conns[1]!.closeError as Error & { cause?: unknown }).cause).toBeInstanceOf(Error);
  });
});

describe('counters', () => {
  it('counts one write-interest registration per flush the socket could not take, per connection and per group', async () => {
    const lab = reactorLab('msg-interest');
    let conn: Connection | undefined;
    const server = await lab.drive(() =>
      serveReactor(lab.server, ADDR, {
        onConnect: async (_ctx, c) => {
          conn = c;
          c.writer.writeBytes(pattern(300_000));
          await c.flush();
        },
      }),
    );
    const client = await lab.drive(() => rawClient(lab.client, ADDR, { paused: true }));
    await lab.advance(200_000);
    expect(conn!.writeInterestHeld).toBe(true);
    client.conn.resumeReading();
    await lab.advance(2_000_000);
    expect(conn!.writeInterestHeld).toBe(false);
    expect(conn!.stats.writeInterestRegistrations).toBe(1);
    expect(server.group.writeInterestRegistrations).toBe(1);
    expect(server.group.stats().loops[0]!.tasksRun).toBeGreaterThan(0);
  });

  it('counts the tasks a loop ran: a handler run and its output pump each', async () => {
    const lab = reactorLab('msg-tasks');
    const server = await lab.drive(() => serveEcho(lab.server, ADDR));
    const before = server.group.stats().loops[0]!.tasksRun;
    const client = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => client.send(pattern(10)));
    await lab.advance(100_000);
    expect(server.group.stats().loops[0]!.tasksRun - before).toBe(2);
  });
});
