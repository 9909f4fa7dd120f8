/**
 * A connection's life after the handshake, as its user and the trace see it: input backpressure at
 * its exact marks, onConnect before the first request, what a handler consumed while it awaited,
 * whenQuiet, the idle timeout, closes that drain or drop output (every byte either sent or counted
 * dropped), a shutdown's abort, the duration setters' bounds, and the timers a closed connection
 * leaves behind (none).
 */
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../sim/trace.js';
import type { Env } from '../runtime/env.js';
import type { Connection, ReactorHandlers } from './connection.js';
import { ReactorError } from './errors.js';
import type { ReactorOptions } from './options.js';
import { serveReactor, type ReactorServer } from './server.js';
import { pattern, rawClient, reactorLab, type ReactorLab } from './testing/sim-lab.js';

const ADDR = 'tcp://server:7000';

function recordTrace(lab: ReactorLab): TraceEvent[] {
  const events: TraceEvent[] = [];
  lab.world.trace.addSink({ write: (e) => events.push(e) });
  return events;
}

/** The reactor's note texts of one connection, in order. */
function notes(events: TraceEvent[], conn: Connection): string[] {
  return events.flatMap((e) => (e.kind === 'note' && e.conn === conn.id ? [e.text] : []));
}

/** The queue-depth samples of one of a connection's series (`reactor in:ID`, `out:ID`, `interest:ID`). */
function depths(events: TraceEvent[], conn: Connection, which: 'in' | 'out' | 'interest'): number[] {
  const queue = `reactor ${which}:${conn.id}`;
  return events.flatMap((e) => (e.kind === 'queue-depth' && e.queue === queue ? [e.depth] : []));
}

/** Labels of the timers that fired, in order. */
function firedTimers(events: TraceEvent[]): string[] {
  return events.flatMap((e) => (e.kind === 'timer-fire' ? [e.label ?? '?'] : []));
}

function sleep(env: Env, us: number): Promise<void> {
  const d = env.defer<void>();
  env.setTimer(us, () => d.resolve(undefined));
  return d.promise;
}

/** A server whose one connection the test gets hold of (the last accepted). */
async function serveOne<C = unknown>(
  lab: ReactorLab,
  handlers: ReactorHandlers<C>,
  options: ReactorOptions = {},
): Promise<{ server: ReactorServer<C>; conn: () => Connection<C> }> {
  let last: Connection<C> | undefined;
  const server = await lab.drive(() =>
    serveReactor<C>(
      lab.server,
      ADDR,
      {
        ...handlers,
        onPrepare: (c) => {
          last = c;
          return handlers.onPrepare ? handlers.onPrepare(c) : (undefined as C);
        },
      },
      options,
    ),
  );
  return {
    server,
    conn: () => {
      if (last === undefined) throw new Error('no connection accepted yet');
      return last;
    },
  };
}

describe('duration setters', () => {
  it('accept 0 (none) and refuse a negative or fractional duration with ErrBadOption', async () => {
    const lab = reactorLab('setters');
    const { conn } = await serveOne(lab, {});
    await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.advance(1000);
    const c = conn();
    expect(() => c.setReadTimeout(0)).not.toThrow();
    expect(() => c.setWriteTimeout(0)).not.toThrow();
    expect(() => c.setIdleTimeout(0)).not.toThrow();
    expect(() => c.setReadTimeout(1)).not.toThrow();
    expect(() => c.setReadTimeout(-1)).toThrow(
      new ReactorError('ErrBadOption', 'readTimeoutUs must be a non-negative integer of µs, got -1'),
    );
    expect(() => c.setWriteTimeout(1.5)).toThrow(
      new ReactorError('ErrBadOption', 'writeTimeoutUs must be a non-negative integer of µs, got 1.5'),
    );
    expect(() => c.setIdleTimeout(Number.NaN)).toThrow(
      new ReactorError('ErrBadOption', 'idleTimeoutUs must be a non-negative integer of µs, got NaN'),
    );
  });

  it('a read timeout set on the connection bounds waitRead', async () => {
    const lab = reactorLab('set-read-timeout');
    const { conn } = await serveOne(lab, {});
    await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.advance(1000);
    const c = conn();
    c.setReadTimeout(5000);
    const startUs = lab.world.nowUs;
    const error = await lab.drive(() =>
      c.waitRead(1).then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    expect(lab.world.nowUs - startUs).toBe(5000);
    expect(error).toEqual(
      new ReactorError('ErrReadTimeout', `connection ${c.id}: waited 5000 us for 1 bytes, 0 unread`),
    );
    expect(c.stats.readTimeouts).toBe(1);
  });
});

describe('input backpressure at its marks', () => {
  // inputHighWaterBytes 1000 → inputLowWaterBytes 250; the sim hands 1000 bytes over in one chunk.
  const options: ReactorOptions = { inputHighWaterBytes: 1000 };

  it('reading pauses when exactly inputHighWaterBytes are held, not one byte before', async () => {
    const lab = reactorLab('high-mark');
    const events = recordTrace(lab);
    const { conn } = await serveOne(lab, {}, options); // no onRequest: the input waits for the app
    const a = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => a.send(pattern(999)));
    await lab.advance(10_000);
    const first = conn();
    expect(first.reader.length).toBe(999);
    expect(first.readingPaused).toBe(false);
    expect(first.stats.readPauses).toBe(0);
    await lab.drive(() => a.send(pattern(1)));
    await lab.advance(10_000);
    expect(first.reader.length).toBe(1000);
    expect(first.readingPaused).toBe(true);
    expect(first.stats.readPauses).toBe(1);
    expect(first.stats.maxInputHeldBytes).toBe(1000);
    expect(notes(events, first)).toContain('reactor read-pause: 1000 bytes held');
    // The application reads it all; a waiting read resumes reading; the most held stays the peak.
    first.reader.skip(1000);
    first.reader.release();
    const next = first.waitRead(5);
    await lab.advance(1000);
    expect(first.readingPaused).toBe(false);
    await lab.drive(() => a.send(pattern(5)));
    await lab.drive(() => next);
    expect(first.reader.heldBytes).toBe(5);
    expect(first.stats.maxInputHeldBytes).toBe(1000);
    expect(first.stats.bytesIn).toBe(1005);
  });

  it('a chunk beyond maxInputBytes is refused and counted dropped, with the unread input', async () => {
    const lab = reactorLab('overflow-counted');
    const { conn } = await serveOne(
      lab,
      {
        // Reads 300 of the first 1000 bytes and, holding them all, waits for more.
        onRequest: async (_ctx, c) => {
          c.reader.skip(300);
          await c.waitRead(701);
        },
      },
      { inputHighWaterBytes: 1000, maxInputBytes: 1500, readTimeoutUs: 0 },
    );
    const a = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => a.send(pattern(1000)));
    await lab.advance(10_000);
    await lab.drive(() => a.send(pattern(600)));
    await lab.advance(10_000);
    const c = conn();
    expect(c.closeReason).toBe('input-overflow');
    expect(c.closeError?.message).toBe(
      'ErrInputOverflow: a chunk of 600 bytes on 1000 held (700 unread) exceeds maxBytes 1500',
    );
    expect(c.stats.bytesIn).toBe(1000);
    expect(c.stats.droppedInputBytes).toBe(600 + 700);
    expect(a.closed()).toBe('ECONNRESET');
  });

  /**
   * The peer sends `first` then 1000 - `first` bytes (two chunks: input is held, and released, a
   * whole chunk at a time); the first run waits for all 1000, then consumes the first chunk; the
   * second run consumes the rest.
   */
  async function consumeInTwo(seed: string, first: number): Promise<{ c: Connection; texts: string[] }> {
    const lab = reactorLab(seed);
    const events = recordTrace(lab);
    let runs = 0;
    const { conn } = await serveOne(
      lab,
      {
        onRequest: async (_ctx, c) => {
          runs++;
          if (runs > 1) return c.reader.skip(c.reader.length);
          await c.waitRead(1000);
          c.reader.skip(first);
        },
      },
      options,
    );
    const a = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => a.send(pattern(first)));
    await lab.advance(10_000);
    await lab.drive(() => a.send(pattern(1000 - first)));
    await lab.advance(10_000);
    return { c: conn(), texts: notes(events, conn()) };
  }

  it('reading resumes when the held input falls to inputLowWaterBytes', async () => {
    const { c, texts } = await consumeInTwo('low-mark', 750);
    expect(texts).toContain('reactor request-start: 750 unread');
    expect(texts).toContain('reactor request-start: 250 unread');
    expect(texts).toContain('reactor read-pause: 1000 bytes held');
    expect(texts.filter((t) => t.startsWith('reactor read-resume'))).toEqual([
      'reactor read-resume: 250 bytes held',
    ]);
    expect(c.readingPaused).toBe(false);
    expect(c.stats.readPauses).toBe(1);
    expect(c.stats.handlerRuns).toBe(2);
  });

  it('reading stays paused one byte above inputLowWaterBytes', async () => {
    const { c, texts } = await consumeInTwo('low-mark-past', 749);
    expect(texts).toContain('reactor read-pause: 1000 bytes held');
    expect(texts.filter((t) => t.startsWith('reactor read-resume'))).toEqual([
      'reactor read-resume: 0 bytes held',
    ]);
    expect(c.stats.handlerRuns).toBe(2);
  });
});

describe('a blocking read above the high-water mark', () => {
  it('lets input in while it waits, then pauses again', async () => {
    const lab = reactorLab('wait-above-high');
    const events = recordTrace(lab);
    let got = -1;
    const { conn } = await serveOne(
      lab,
      {
        // 1000 bytes arrive and are held (reading pauses); the handler reads 600 and, with the
        // 1000 still held, waits for 600 more.
        onRequest: async (_ctx, c) => {
          if (c.reader.length < 1000) return c.reader.skip(c.reader.length);
          c.reader.skip(600);
          await c.waitRead(600);
          got = c.reader.length;
          c.reader.skip(c.reader.length);
        },
      },
      { inputHighWaterBytes: 1000, readTimeoutUs: 1_000_000 },
    );
    const a = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => a.send(pattern(1000)));
    await lab.advance(10_000);
    await lab.drive(() => a.send(pattern(200)));
    await lab.advance(10_000);
    const c = conn();
    expect(got).toBe(600);
    expect(c.state).toBe('active');
    expect(c.stats.readTimeouts).toBe(0);
    const texts = notes(events, c);
    expect(texts).toContain('reactor read-resume: 1000 bytes held');
    expect(texts).toContain('reactor read-pause: 1200 bytes held');
  });
});

describe('what a handler consumed while it awaited', () => {
  it('input that arrived during an async handler does not hide what the handler consumed', async () => {
    const lab = reactorLab('consumed-while-awaiting');
    const seen: number[] = [];
    const { conn } = await serveOne(
      lab,
      {
        // Consumes everything, then awaits 1 ms: the peer's next 30 bytes arrive meanwhile.
        onRequest: async (_ctx, c) => {
          seen.push(c.reader.length);
          c.reader.skip(c.reader.length);
          await sleep(lab.server, 1000);
        },
      },
      { maxUnconsumedRuns: 1 },
    );
    const a = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => a.send(pattern(10)));
    await lab.advance(200);
    await lab.drive(() => a.send(pattern(30)));
    await lab.advance(10_000);
    const c = conn();
    expect(seen).toEqual([10, 30]);
    expect(c.state).toBe('active');
    expect(c.closeReason).toBeUndefined();
  });
});

describe('onConnect', () => {
  it('requests are served once an async onConnect has returned, and the connection stays open', async () => {
    const lab = reactorLab('onconnect-then-serve');
    const order: string[] = [];
    const { conn } = await serveOne(lab, {
      onConnect: async () => {
        await sleep(lab.server, 5000);
        order.push('connected');
      },
      onRequest: async (_ctx, c) => {
        order.push(`request ${c.reader.length}`);
        c.writer.writeBytes(c.reader.readBytes(c.reader.length));
        await c.flush();
      },
    });
    const a = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => a.send(pattern(5)));
    await lab.advance(20_000);
    expect(order).toEqual(['connected', 'request 5']);
    expect(a.receivedBytes()).toBe(5);
    expect(conn().state).toBe('active');
    await lab.drive(() => a.send(pattern(7)));
    await lab.advance(20_000);
    expect(a.receivedBytes()).toBe(12);
  });

  it('a peer that ended before onConnect returned, having sent nothing, closes the connection as peer-closed', async () => {
    const lab = reactorLab('onconnect-peer-ended');
    const events = recordTrace(lab);
    const { conn } = await serveOne(lab, {
      onConnect: () => sleep(lab.server, 5000),
      onRequest: (_ctx, c) => c.reader.skip(c.reader.length),
    });
    const a = await lab.drive(() => rawClient(lab.client, ADDR));
    a.conn.shutdown();
    await lab.advance(1000);
    expect(conn().state).toBe('active');
    await lab.advance(20_000);
    expect(conn().state).toBe('closed');
    expect(conn().closeReason).toBe('peer-closed');
    expect(notes(events, conn())).toContain('reactor peer-end: 0 unread');
  });

  it('a peer that ended before onConnect returned still has its request served', async () => {
    const lab = reactorLab('onconnect-request-then-end');
    const events = recordTrace(lab);
    const { conn } = await serveOne(lab, {
      onConnect: () => sleep(lab.server, 5000),
      onRequest: async (_ctx, c) => {
        c.writer.writeBytes(c.reader.readBytes(c.reader.length));
        await c.flush();
      },
    });
    const a = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => a.send(pattern(9)));
    a.conn.shutdown();
    await lab.advance(20_000);
    expect(a.receivedBytes()).toBe(9);
    expect(conn().closeReason).toBe('peer-closed');
    expect(notes(events, conn())).toContain('reactor peer-end: 9 unread');
  });

  it('an onConnect that rejects closes the connection as handler-error before any request', async () => {
    const lab = reactorLab('onconnect-fails');
    let requests = 0;
    const { conn } = await serveOne(lab, {
      onConnect: async () => {
        await sleep(lab.server, 1000);
        throw new Error('no database');
      },
      onRequest: () => {
        requests++;
      },
    });
    const a = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => a.send(pattern(3)));
    await lab.advance(20_000);
    const c = conn();
    expect(c.state).toBe('closed');
    expect(c.closeReason).toBe('handler-error');
    expect(c.closeError?.message).toBe(`ErrHandler: connection ${c.id}: onConnect failed: no database`);
    expect(requests).toBe(0);
    expect(a.closed()).toBe('ECONNRESET');
  });

  it('without onRequest, a peer that ended during onConnect leaves the input to the application', async () => {
    const lab = reactorLab('onconnect-no-onrequest');
    const { conn } = await serveOne(lab, { onConnect: () => sleep(lab.server, 5000) });
    const a = await lab.drive(() => rawClient(lab.client, ADDR));
    a.conn.shutdown();
    await lab.advance(20_000);
    const c = conn();
    expect(c.state).toBe('active');
    const error = await lab.drive(() =>
      c.waitRead(1).then(
        () => undefined,
        (e: unknown) => e,
      ),
    );
    expect(error).toEqual(
      new ReactorError(
        'ErrEOF',
        `connection ${c.id}: the peer ended its side before 1 bytes arrived (0 unread)`,
      ),
    );
  });
});

describe('idle timeout', () => {
  it('closes a silent connection with ErrIdleTimeout naming the idle time, and traces why', async () => {
    const lab = reactorLab('idle-close');
    const events = recordTrace(lab);
    const { conn } = await serveOne(
      lab,
      { onRequest: (_ctx, c) => c.reader.skip(c.reader.length) },
      {
        idleTimeoutUs: 50_000,
      },
    );
    await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.advance(49_000);
    const c = conn();
    expect(c.state).toBe('active');
    await lab.advance(2000);
    expect(c.state).toBe('closed');
    expect(c.closeReason).toBe('idle-timeout');
    const message = `ErrIdleTimeout: connection ${c.id}: no input or output for 50000 us`;
    expect(c.closeError?.message).toBe(message);
    expect(notes(events, c)).toContain(`reactor close: idle-timeout: ${message}`);
    expect(firedTimers(events).filter((l) => l === 'reactor idle-timeout')).toHaveLength(1);
    expect(events.filter((e) => e.kind === 'error' && e.code === 'ErrIdleTimeout')).toHaveLength(1);
  });

  it('activity moves the deadline: the connection closes idleTimeoutUs after its last byte', async () => {
    const lab = reactorLab('idle-moved');
    const { conn } = await serveOne(
      lab,
      { onRequest: (_ctx, c) => c.reader.skip(c.reader.length) },
      {
        idleTimeoutUs: 50_000,
      },
    );
    const a = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.advance(30_000);
    await lab.drive(() => a.send(pattern(1)));
    const lastUs = lab.world.nowUs;
    await lab.advance(45_000);
    const c = conn();
    expect(c.state).toBe('active');
    await lab.advance(10_000);
    expect(c.state).toBe('closed');
    expect(c.closeReason).toBe('idle-timeout');
    expect(lab.world.nowUs - lastUs).toBeGreaterThan(50_000);
  });

  it('an idle timeout of 0 arms no timer; one set after the close arms none either', async () => {
    const lab = reactorLab('idle-none');
    const events = recordTrace(lab);
    const { conn } = await serveOne(
      lab,
      { onRequest: (_ctx, c) => c.reader.skip(c.reader.length) },
      {
        idleTimeoutUs: 0,
      },
    );
    const a = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => a.send(pattern(1)));
    await lab.advance(1_000_000);
    const c = conn();
    expect(c.state).toBe('active');
    c.close();
    await lab.advance(100_000);
    expect(c.state).toBe('closed');
    c.setIdleTimeout(1000);
    await lab.advance(100_000);
    expect(firedTimers(events)).not.toContain('reactor idle-timeout');
    expect(events.filter((e) => e.kind === 'timer-set' && e.label === 'reactor idle-timeout')).toHaveLength(
      0,
    );
  });

  it('a connection closed early fires no idle timer later', async () => {
    const lab = reactorLab('idle-cleared');
    const events = recordTrace(lab);
    const { conn } = await serveOne(lab, { onRequest: (_ctx, c) => c.close() }, { idleTimeoutUs: 50_000 });
    const a = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => a.send(pattern(1)));
    await lab.advance(200_000);
    expect(conn().closeReason).toBe('user');
    expect(notes(events, conn())).toContain('reactor close: user');
    expect(firedTimers(events)).not.toContain('reactor idle-timeout');
  });
});

describe('whenQuiet', () => {
  it('waits for an async onConnect to return', async () => {
    const lab = reactorLab('quiet-after-connect');
    let connected = false;
    const { conn } = await serveOne(lab, {
      onConnect: async () => {
        await sleep(lab.server, 10_000);
        connected = true;
      },
    });
    await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.advance(2000);
    let connectedWhenQuiet: boolean | undefined;
    await lab.drive(() =>
      conn()
        .whenQuiet()
        .then(() => {
          connectedWhenQuiet = connected;
        }),
    );
    expect(connectedWhenQuiet).toBe(true);
  });

  it('waits while input is unread by an application that reads it itself, until the close', async () => {
    const lab = reactorLab('quiet-unread');
    const { conn } = await serveOne(lab, {}); // no onRequest: the application reads
    const a = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => a.send(pattern(5)));
    await lab.advance(10_000);
    const c = conn();
    expect(c.reader.length).toBe(5);
    let quiet = false;
    void c.whenQuiet().then(() => {
      quiet = true;
    });
    await lab.advance(100_000);
    expect(quiet).toBe(false);
    c.close();
    await lab.advance(10_000);
    expect(quiet).toBe(true);
    expect(c.state).toBe('closed');
  });

  it('waits for unsent output to be sent, after the handler returned', async () => {
    const lab = reactorLab('quiet-after-output', {
      conn: { sendBufferBytes: 16_384, recvBufferBytes: 16_384 },
    });
    const { conn } = await serveOne(lab, {
      onRequest: async (_ctx, c) => {
        c.reader.skip(c.reader.length);
        c.writer.writeBytes(pattern(100_000));
        await c.flush();
      },
    });
    const a = await lab.drive(() => rawClient(lab.client, ADDR, { paused: true }));
    await lab.drive(() => a.send(pattern(1)));
    await lab.advance(10_000);
    const c = conn();
    expect(c.stats.handlerRuns).toBe(1);
    let quiet = false;
    void c.whenQuiet().then(() => {
      quiet = true;
    });
    await lab.advance(100_000);
    expect(quiet).toBe(false);
    a.conn.resumeReading();
    await lab.advance(100_000);
    expect(quiet).toBe(true);
    expect(a.receivedBytes()).toBe(100_000);
    expect(c.unsentBytes).toBe(0);
  });

  it('waits for the running handler to return, even when its output is sent before', async () => {
    const lab = reactorLab('quiet-after-handler');
    const events = recordTrace(lab);
    let returned = false;
    const { conn } = await serveOne(lab, {
      onRequest: async (_ctx, c) => {
        await sleep(lab.server, 10_000);
        c.writer.writeBytes(c.reader.readBytes(c.reader.length));
        await c.flush();
        await sleep(lab.server, 10_000);
        returned = true;
      },
    });
    const a = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => a.send(pattern(4)));
    await lab.advance(3000);
    let returnedWhenQuiet: boolean | undefined;
    const quiet = conn()
      .whenQuiet()
      .then(() => {
        returnedWhenQuiet = returned;
      });
    await lab.drive(() => quiet);
    expect(a.receivedBytes()).toBe(4);
    expect(returnedWhenQuiet).toBe(true);
    // The trace times the request: it ran 20 ms of virtual time (two 10 ms waits).
    const texts = notes(events, conn());
    expect(texts).toContain('reactor request-start: 4 unread');
    expect(texts).toContain('reactor request: 20000 us');
  });
});

describe('closing with output unsent: every byte is either sent or counted dropped', () => {
  // Small socket buffers: a peer that does not read leaves most of 200 kB unsent.
  const SMALL = { conn: { sendBufferBytes: 16_384, recvBufferBytes: 16_384 } };
  const WRITTEN = 200_000;

  /** A server that answers the first byte with 200 kB, then does `after` (close, throw...). */
  async function bigAnswer(
    seed: string,
    after: (c: Connection, lab: ReactorLab) => void | Promise<void>,
    options: ReactorOptions = {},
  ) {
    const lab = reactorLab(seed, SMALL);
    const events = recordTrace(lab);
    const { server, conn } = await serveOne(
      lab,
      {
        onRequest: async (_ctx, c) => {
          c.reader.skip(c.reader.length);
          c.writer.writeBytes(pattern(WRITTEN));
          await c.flush();
          await after(c, lab);
        },
      },
      { writeTimeoutUs: 10_000_000, ...options },
    );
    const a = await lab.drive(() => rawClient(lab.client, ADDR, { paused: true }));
    await lab.drive(() => a.send(pattern(1)));
    await lab.advance(50_000);
    return { lab, events, server, c: conn(), a };
  }

  it('a graceful close drains to a peer that reads, then fires no drain timer', async () => {
    const { lab, events, c, a } = await bigAnswer('drain-ok', (c) => c.close());
    expect(c.state).toBe('closing');
    expect(c.unsentBytes).toBeGreaterThan(0);
    a.conn.resumeReading();
    await lab.advance(1_000_000);
    expect(c.state).toBe('closed');
    expect(a.receivedBytes()).toBe(WRITTEN);
    expect(c.stats.bytesOut).toBe(WRITTEN);
    expect(c.stats.droppedOutputBytes).toBe(0);
    await lab.advance(20_000_000);
    expect(firedTimers(events)).not.toContain('reactor close-drain');
    // The queue-depth series: the 1-byte request in and out, write interest taken once and dropped,
    // the unsent output rising to its peak and falling to 0; a sample only when the value changed.
    expect(depths(events, c, 'in')).toEqual([1, 0]);
    expect(depths(events, c, 'interest')).toEqual([1, 0]);
    const out = depths(events, c, 'out');
    expect(out[0]).toBe(0);
    expect(Math.max(...out)).toBe(c.stats.maxUnsentBytes);
    expect(out.at(-1)).toBe(0);
    expect(out.every((d, i) => i === 0 || d !== out[i - 1])).toBe(true);
    const interest = notes(events, c).filter((t) => t.startsWith('reactor write-interest'));
    expect(interest).toHaveLength(1);
    const unsentThen = Number(/^reactor write-interest: (\d+) bytes unsent$/.exec(interest[0] ?? '')?.[1]);
    expect(unsentThen).toBeGreaterThan(0);
    expect(unsentThen).toBeLessThan(WRITTEN);
  });

  it('a closing connection reads no more input while its output drains', async () => {
    const { lab, c, a } = await bigAnswer('closing-reads-nothing', (c) => c.close());
    expect(c.state).toBe('closing');
    expect(c.readingPaused).toBe(true);
    await lab.drive(() => a.send(pattern(500)));
    await lab.advance(100_000);
    expect(c.state).toBe('closing');
    expect(c.stats.bytesIn).toBe(1);
    expect(c.stats.droppedInputBytes).toBe(0);
  });

  it('a graceful close whose peer resets while output drains ends at once, the rest counted dropped', async () => {
    const { lab, events, c, a } = await bigAnswer('drain-reset', (c) => c.close());
    expect(c.state).toBe('closing');
    a.conn.reset();
    await lab.advance(50_000);
    expect(c.state).toBe('closed');
    expect(c.closeReason).toBe('user');
    expect(c.stats.droppedOutputBytes).toBeGreaterThan(0);
    expect(c.stats.bytesOut + c.stats.droppedOutputBytes).toBe(WRITTEN);
    await lab.advance(20_000_000);
    expect(firedTimers(events)).not.toContain('reactor close-drain');
  });

  it('a graceful close to a peer that never reads gives up after writeTimeoutUs, the rest counted dropped once', async () => {
    const { lab, events, c, a } = await bigAnswer('drain-gives-up', (c) => c.close());
    await lab.advance(9_000_000);
    expect(c.state).toBe('closing');
    await lab.advance(2_000_000);
    expect(c.state).toBe('closed');
    expect(firedTimers(events).filter((l) => l === 'reactor close-drain')).toHaveLength(1);
    expect(c.stats.droppedOutputBytes).toBeGreaterThan(0);
    expect(c.stats.bytesOut + c.stats.droppedOutputBytes).toBe(WRITTEN);
    expect(a.receivedBytes()).toBe(0);
  });

  it('a handler that fails drops its unsent output at once, counted once, and the close is traced with its error', async () => {
    const { events, c } = await bigAnswer('handler-fails', () => {
      throw new Error('boom');
    });
    expect(c.state).toBe('closed');
    expect(c.closeReason).toBe('handler-error');
    const message = `ErrHandler: connection ${c.id}: onRequest failed: boom`;
    expect(c.closeError?.message).toBe(message);
    expect(notes(events, c)).toContain(`reactor close: handler-error: ${message}`);
    expect(c.stats.droppedOutputBytes).toBeGreaterThan(0);
    expect(c.stats.bytesOut + c.stats.droppedOutputBytes).toBe(WRITTEN);
  });

  it('output dropped by an idle close while the handler still runs is not sent when the peer reads later', async () => {
    const { lab, c, a } = await bigAnswer(
      'idle-drop-then-read',
      (_c, lab) => sleep(lab.server, 500_000), // the handler goes on for 0.5 s after its flush
      { idleTimeoutUs: 100_000 },
    );
    await lab.advance(200_000);
    expect(c.state).toBe('closing');
    expect(c.closeReason).toBe('idle-timeout');
    const sent = c.stats.bytesOut;
    expect(c.stats.droppedOutputBytes).toBe(WRITTEN - sent);
    a.conn.resumeReading();
    await lab.advance(1_000_000);
    expect(c.state).toBe('closed');
    expect(c.stats.bytesOut).toBe(sent);
    expect(c.stats.bytesOut + c.stats.droppedOutputBytes).toBe(WRITTEN);
    expect(a.receivedBytes()).toBe(sent);
  });

  it('a shutdown aborts a handler that does not return in time: the peer sees a reset', async () => {
    const lab = reactorLab('abort-resets');
    const { server, conn } = await serveOne(lab, {
      onRequest: async (_ctx, c) => {
        c.reader.skip(c.reader.length);
        await sleep(lab.server, 60_000_000);
      },
    });
    const a = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => a.send(pattern(1)));
    await lab.advance(10_000);
    await lab.drive(() => server.shutdown(100_000));
    await lab.advance(10_000);
    expect(conn().state).toBe('closed');
    expect(conn().closeReason).toBe('server-shutdown');
    expect(a.closed()).toBe('ECONNRESET');
  });
});

describe('the peer goes away', () => {
  it('a reset while the handler still has input to read closes the connection as reset, with the runtime error', async () => {
    const lab = reactorLab('reset-with-unread');
    const events = recordTrace(lab);
    const { conn } = await serveOne(lab, {
      // Takes 1 byte per run, 10 ms each: input stays unread for a while.
      onRequest: async (_ctx, c) => {
        c.reader.skip(1);
        await sleep(lab.server, 10_000);
      },
    });
    const a = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => a.send(pattern(10)));
    await lab.advance(5000);
    a.conn.reset();
    await lab.advance(100_000);
    const c = conn();
    expect(c.state).toBe('closed');
    expect(c.closeReason).toBe('reset');
    expect((c.closeError as { code?: string } | undefined)?.code).toBe('ECONNRESET');
    expect(c.stats.handlerRuns).toBe(1);
    expect(c.stats.droppedInputBytes).toBe(9);
    expect(notes(events, c).filter((t) => t.startsWith('reactor close'))).toEqual([
      `reactor close: reset: ${c.closeError?.message ?? '?'}`,
    ]);
  });
});

describe('the peer closes cleanly with input unread', () => {
  it('the rest stays readable, a closed stream is not paused, and the connection closes once it is handled', async () => {
    const lab = reactorLab('clean-close-unread');
    const events = recordTrace(lab);
    let eof = '';
    let lateFlush = '';
    let runs = 0;
    const { conn } = await serveOne(
      lab,
      {
        // The server has nothing to say: its side ends at once, so the peer's FIN closes the stream.
        onConnect: (_ctx, c) => c.shutdownWrite(),
        // Run 1 reads 600 of the first 1000 bytes and waits for 600 more; the peer sends 100 and
        // ends; the run takes 1 ms more after the EOF. Run 2 reads the rest.
        onRequest: async (_ctx, c) => {
          runs++;
          if (runs > 1) {
            c.reader.skip(c.reader.length);
            lateFlush = await c.flush().then(
              () => 'flushed',
              (e: unknown) => (e instanceof Error ? e.message : String(e)),
            );
            return;
          }
          c.reader.skip(600);
          await c.waitRead(600).catch((e: unknown) => {
            eof = e instanceof Error ? e.message : String(e);
          });
          await sleep(lab.server, 1000);
        },
      },
      { inputHighWaterBytes: 1000 },
    );
    const a = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => a.send(pattern(1000)));
    await lab.advance(10_000);
    await lab.drive(() => a.send(pattern(100)));
    a.conn.shutdown();
    await lab.advance(100_000);
    const c = conn();
    expect(eof).toBe(
      `ErrEOF: connection ${c.id}: the peer ended its side before 600 bytes arrived (500 unread)`,
    );
    expect(runs).toBe(2);
    expect(lateFlush).toBe(`ErrConnClosed: connection ${c.id}: flush after it was closed by the peer`);
    expect(c.closeReason).toBe('peer-closed');
    expect(c.stats.bytesIn).toBe(1100);
    expect(c.stats.droppedInputBytes).toBe(0);
    expect(c.stats.readPauses).toBe(1);
    expect(notes(events, c).filter((t) => t.startsWith('reactor read-'))).toEqual([
      'reactor read-pause: 1000 bytes held',
      'reactor read-resume: 1000 bytes held',
    ]);
  });
});

describe('a flush waiting when the connection closes', () => {
  it('rejects with ErrConnClosed naming the close, and its write timer never fires', async () => {
    const lab = reactorLab('flush-waiter-closed', {
      conn: { sendBufferBytes: 16_384, recvBufferBytes: 16_384 },
    });
    const events = recordTrace(lab);
    let flushError = '';
    const { conn } = await serveOne(
      lab,
      {
        onRequest: async (_ctx, c) => {
          c.reader.skip(c.reader.length);
          c.writer.writeBytes(pattern(100_000));
          await c.flush().catch((e: unknown) => {
            flushError = e instanceof Error ? e.message : String(e);
          });
        },
      },
      { outputHighWaterBytes: 1000, writeTimeoutUs: 1_000_000 },
    );
    const a = await lab.drive(() => rawClient(lab.client, ADDR, { paused: true }));
    await lab.drive(() => a.send(pattern(1)));
    await lab.advance(50_000);
    expect(flushError).toBe('');
    a.conn.reset();
    await lab.advance(3_000_000);
    const c = conn();
    expect(flushError).toBe(`ErrConnClosed: connection ${c.id}: flush after it was closed (reset)`);
    expect(c.stats.writeTimeouts).toBe(0);
    expect(firedTimers(events)).not.toContain('reactor write-timeout');
  });
});

describe('a run queued behind the handler bound', () => {
  it('is not invoked once its connection has closed meanwhile; the connection then finishes', async () => {
    const lab = reactorLab('queued-run-closed');
    const conns: Connection[] = [];
    const served: number[] = [];
    const { server } = await serveOne(
      lab,
      {
        onPrepare: (c) => {
          conns.push(c);
        },
        // The first connection's run holds the only handler slot for 50 ms.
        onRequest: async (_ctx, c) => {
          served.push(c.id);
          c.reader.skip(c.reader.length);
          if (c === conns[0]) await sleep(lab.server, 50_000);
        },
      },
      { maxConcurrentHandlers: 1 },
    );
    const a = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => a.send(pattern(1)));
    await lab.advance(5000);
    const b = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => b.send(pattern(1)));
    await lab.advance(5000);
    expect(server.group.handlersQueued).toBe(1);
    b.conn.reset();
    await lab.advance(5000);
    const [first, second] = conns;
    expect(second?.state).toBe('closing');
    await lab.advance(100_000);
    expect(second?.state).toBe('closed');
    expect(second?.closeReason).toBe('reset');
    expect(second?.stats.handlerRuns).toBe(0);
    expect(served).toEqual([first?.id]);
    expect(first?.state).toBe('active');
  });
});

describe('how a close ends the stream', () => {
  it('a close by the application with input unread ends the stream cleanly; later input is not read', async () => {
    const lab = reactorLab('user-close-unread');
    const { conn } = await serveOne(lab, {
      // Takes 1 byte and closes: 4 bytes stay unread.
      onRequest: (_ctx, c) => {
        c.reader.skip(1);
        c.close();
      },
    });
    const a = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => a.send(pattern(5)));
    await lab.advance(10_000);
    await lab.drive(() => a.send(pattern(7)));
    await lab.advance(10_000);
    const c = conn();
    expect(c.state).toBe('closed');
    expect(c.closeReason).toBe('user');
    expect(c.stats.bytesIn).toBe(5);
    expect(c.stats.droppedInputBytes).toBe(4);
    expect(a.ended()).toBe(true);
    expect(a.closed()).not.toBe('ECONNRESET');
  });

  it('an overflow resets the stream even when all it held was read', async () => {
    const lab = reactorLab('overflow-all-read');
    const { conn } = await serveOne(
      lab,
      {
        onRequest: async (_ctx, c) => {
          c.reader.skip(c.reader.length);
          await c.waitRead(1);
        },
      },
      { inputHighWaterBytes: 1000, maxInputBytes: 1500, readTimeoutUs: 0 },
    );
    const a = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => a.send(pattern(1000)));
    await lab.advance(10_000);
    await lab.drive(() => a.send(pattern(600)));
    await lab.advance(10_000);
    const c = conn();
    expect(c.closeReason).toBe('input-overflow');
    expect(c.stats.droppedInputBytes).toBe(600);
    expect(a.closed()).toBe('ECONNRESET');
  });

  it('with writeTimeoutUs 0 a graceful close waits for the peer to read, however long', async () => {
    const lab = reactorLab('drain-no-bound', { conn: { sendBufferBytes: 16_384, recvBufferBytes: 16_384 } });
    const events = recordTrace(lab);
    const { conn } = await serveOne(
      lab,
      {
        onRequest: async (_ctx, c) => {
          c.reader.skip(c.reader.length);
          c.writer.writeBytes(pattern(100_000));
          await c.flush();
          c.close();
        },
      },
      { writeTimeoutUs: 0 },
    );
    const a = await lab.drive(() => rawClient(lab.client, ADDR, { paused: true }));
    await lab.drive(() => a.send(pattern(1)));
    await lab.advance(30_000_000);
    const c = conn();
    expect(c.state).toBe('closing');
    a.conn.resumeReading();
    await lab.advance(1_000_000);
    expect(c.state).toBe('closed');
    expect(a.receivedBytes()).toBe(100_000);
    expect(c.stats.droppedOutputBytes).toBe(0);
    expect(events.filter((e) => e.kind === 'timer-set' && e.label === 'reactor close-drain')).toHaveLength(0);
  });

  it('a shutdown aborts an onConnect that does not return in time', async () => {
    const lab = reactorLab('abort-connecting');
    let disconnected = 0;
    const { server, conn } = await serveOne(lab, {
      onConnect: () => sleep(lab.server, 60_000_000),
      onDisconnect: () => {
        disconnected++;
      },
    });
    const a = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.advance(10_000);
    await lab.drive(() => server.shutdown(100_000));
    expect(conn().state).toBe('closed');
    expect(disconnected).toBe(1);
    await lab.advance(10_000);
    expect(a.closed()).toBe('ECONNRESET');
  });
});

describe('errors name what failed', () => {
  it('a handler rejecting with a non-Error, and a close callback throwing one, are reported with its text', async () => {
    const lab = reactorLab('non-error-throws');
    const events = recordTrace(lab);
    const { conn } = await serveOne(lab, {
      onPrepare: (c) =>
        c.addCloseCallback(() => {
          throw 'callback text'; // eslint-disable-line @typescript-eslint/only-throw-error -- the case under test
        }),
      onRequest: () => Promise.reject('handler text'), // eslint-disable-line @typescript-eslint/prefer-promise-reject-errors -- the case under test
    });
    const a = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => a.send(pattern(1)));
    await lab.advance(10_000);
    const c = conn();
    expect(c.closeError?.message).toBe(`ErrHandler: connection ${c.id}: onRequest failed: handler text`);
    const errors = events.flatMap((e) => (e.kind === 'error' ? [`${e.code} ${e.message}`] : []));
    expect(errors).toContain(`ErrHandler ErrHandler: connection ${c.id}: onRequest failed: handler text`);
    expect(errors).toContain(`ErrHandler connection ${c.id}: close callback threw: callback text`);
  });

  it('operations after a close or a half-close say which', async () => {
    const lab = reactorLab('closed-errors');
    let shutFlush = '';
    const { conn } = await serveOne(lab, {
      onRequest: async (_ctx, c) => {
        c.reader.skip(c.reader.length);
        c.shutdownWrite();
        await c.flush().catch((e: unknown) => {
          shutFlush = e instanceof Error ? e.message : String(e);
        });
      },
    });
    const a = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => a.send(pattern(1)));
    await lab.advance(10_000);
    const c = conn();
    expect(shutFlush).toBe(`ErrConnClosed: connection ${c.id}: flush after it was write side shut down`);
    const read = c.waitRead(1).then(
      () => 'resolved',
      (e: unknown) => (e instanceof Error ? e.message : String(e)),
    );
    c.close();
    expect(await lab.drive(() => read)).toBe(
      `ErrConnClosed: connection ${c.id}: read after it was closed (user)`,
    );
  });
});
