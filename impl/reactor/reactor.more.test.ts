/**
 * More of what a reactor user sees: the trace events a server and its connections record (listening,
 * accept held, a throwing callback), the group's pages following the options, the bounds of blocking
 * reads and of shutdown's drain time, the link buffers' closed errors, and the stats of held and
 * unsent bytes.
 */
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../sim/trace.js';
import type { Connection } from './connection.js';
import { createDialer } from './dial.js';
import { serveEcho } from './echo.js';
import { OutputBuffer } from './link-buffer.js';
import { REACTOR_DEFAULTS } from './options.js';
import { PagePool } from './pages.js';
import { serveReactor } from './server.js';
import { pattern, rawClient, reactorLab, type ReactorLab } from './testing/sim-lab.js';

const ADDR = 'tcp://server:7000';

function recordTrace(lab: ReactorLab): TraceEvent[] {
  const events: TraceEvent[] = [];
  lab.world.trace.addSink({ write: (e) => events.push(e) });
  return events;
}

const texts = (events: TraceEvent[]): string[] =>
  events.flatMap((e) =>
    e.kind === 'note' ? [e.text] : e.kind === 'error' ? [`${e.code} ${e.message}`] : [],
  );

describe('trace', () => {
  it('records the listening address and a connection held at maxConnections', async () => {
    const lab = reactorLab('trace-accept');
    const events = recordTrace(lab);
    const server = await lab.drive(() => serveEcho(lab.server, ADDR, { maxConnections: 1 }));
    await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.advance(100_000);
    expect(texts(events)).toContain('reactor listening tcp://server:7000');
    expect(texts(events)).toContain('reactor accept held: 1 open (maxConnections), 1 held');
    expect(server.stats.maxHeld).toBe(1);
    expect(server.stats.acceptPauses).toBe(1);
  });

  it('records an onDisconnect that throws as an ErrHandler error event; the connection still closes', async () => {
    const lab = reactorLab('trace-callback');
    const events = recordTrace(lab);
    let conn: Connection | undefined;
    await lab.drive(() =>
      serveReactor(lab.server, ADDR, {
        onPrepare: (c) => {
          conn = c;
        },
        onRequest: (_ctx, c) => c.close(),
        onDisconnect: () => {
          throw new Error('boom');
        },
      }),
    );
    const client = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => client.send(pattern(1)));
    await lab.advance(100_000);
    expect(conn!.state).toBe('closed');
    expect(texts(events)).toContain(`ErrHandler connection ${conn!.id}: onDisconnect threw: boom`);
  });
});

describe('options reach the pieces', () => {
  it('the group’s pages follow pageBytes and checking', async () => {
    const lab = reactorLab('pages-options');
    const server = await lab.drive(() => serveEcho(lab.server, ADDR, { pageBytes: 1024, checking: true }));
    expect(server.group.pages.pageBytes).toBe(1024);
    expect(server.group.pages.poison).toBe(true);
    expect(REACTOR_DEFAULTS.inputLowWaterBytes).toBe(1024 * 1024);
  });

  it('a connection whose peer ended with a partial request the handler cannot use closes as peer-closed', async () => {
    const lab = reactorLab('partial-then-end');
    let conn: Connection | undefined;
    await lab.drive(
      () =>
        serveReactor(
          lab.server,
          ADDR,
          {
            onPrepare: (c) => {
              conn = c;
            },
            // Waits for a whole 4-byte header; the peer sends 3 bytes and ends.
            onRequest: (_ctx, c) => {
              if (c.reader.length >= 4) c.reader.skip(4);
            },
          },
          { costUsPerRequest: 10_000 },
        ), // runs 10 ms apart: the FIN comes before the spin bound
    );
    const client = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => client.send(pattern(3)));
    client.conn.shutdown();
    await lab.advance(100_000);
    expect(conn!.closeReason).toBe('peer-closed');
    expect(conn!.stats.droppedInputBytes).toBe(3);
  });
});

describe('bounds refused with typed errors', () => {
  it('waitRead refuses a negative or fractional count; waitUntil gives up at the high-water mark', async () => {
    const lab = reactorLab('wait-bounds');
    await lab.drive(() => serveEcho(lab.server, ADDR));
    const conn = await lab.drive(() => createDialer(lab.client, {}, { inputHighWaterBytes: 100 }).dial(ADDR));
    const message = (p: Promise<unknown>): Promise<string> =>
      lab.drive(() =>
        p.then(
          () => 'resolved',
          (e: unknown) => (e instanceof Error ? e.message : String(e)),
        ),
      );
    expect(await message(conn.waitRead(-1))).toBe(
      'ErrBadOption: waitRead(-1): the count must be an integer in [0, 100] (inputHighWaterBytes)',
    );
    expect(await message(conn.waitRead(1.5))).toMatch(/^ErrBadOption: waitRead\(1\.5\)/);
    conn.writer.writeBytes(new Uint8Array(100).fill(7));
    await lab.drive(() => conn.flush());
    expect(await message(conn.waitUntil(0x0a))).toBe(
      'ErrNotEnough: no byte 10 within 100 unread bytes (inputHighWaterBytes 100)',
    );
  });

  it('shutdown refuses a negative or fractional drain time', async () => {
    const lab = reactorLab('drain-bounds');
    const server = await lab.drive(() => serveEcho(lab.server, ADDR));
    expect(() => server.shutdown(-1)).toThrow(
      /^ErrBadOption: drain time must be a non-negative integer of µs, got -1$/,
    );
    expect(() => server.shutdown(0.5)).toThrow(/got 0\.5$/);
  });

  it('a closed OutputBuffer names the write it refused; a PagePool refuses a non-boolean poison', () => {
    const out = new OutputBuffer(new PagePool({ pageBytes: 64 }));
    out.close();
    expect(() => out.malloc(1)).toThrow(/^ErrConnClosed: malloc: the buffer is closed$/);
    expect(() => out.writeBytes(pattern(1))).toThrow(/^ErrConnClosed: writeBytes: the buffer is closed$/);
    expect(() => new PagePool({ poison: 1 as unknown as boolean })).toThrow(
      /^ErrBadOption: poison must be a boolean, got 1$/,
    );
  });

  it('records the most committed output unsent at once', async () => {
    const lab = reactorLab('max-unsent');
    let conn: Connection | undefined;
    await lab.drive(() =>
      serveReactor(lab.server, ADDR, {
        onConnect: async (_ctx, c) => {
          conn = c;
          c.writer.writeBytes(pattern(200_000));
          await c.flush();
        },
      }),
    );
    await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.advance(1_000_000);
    expect(conn!.stats.maxUnsentBytes).toBe(200_000);
  });
});
