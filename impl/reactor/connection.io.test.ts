/**
 * A connection's reads, flushes and output as its user and its trace see them: blocking reads that
 * are satisfied at once or fail at once, read and write timers set and cleared (their trace
 * labels), the write-interest note and series, half-close, and output a graceful close still
 * delivers.
 */
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../sim/trace.js';
import { ConnWrappingEnv, ForwardingConn, NetError, type StreamConn } from '../runtime/env.js';
import type { Connection } from './connection.js';
import { createDialer } from './dial.js';
import { serveEcho } from './echo.js';
import type { ReactorOptions } from './options.js';
import { serveReactor } from './server.js';
import { expectSameBytes, pattern, rawClient, reactorLab, type ReactorLab } from './testing/sim-lab.js';

const ADDR = 'tcp://server:7000';

function recordTrace(lab: ReactorLab): TraceEvent[] {
  const events: TraceEvent[] = [];
  lab.world.trace.addSink({ write: (e) => events.push(e) });
  return events;
}

const notes = (events: TraceEvent[]): string[] => events.flatMap((e) => (e.kind === 'note' ? [e.text] : []));

/** The kinds (timer-set, timer-clear, timer-fire) of the events of timers labelled `label`, in order. */
const timers = (events: TraceEvent[], label: string): string[] =>
  events.flatMap((e) =>
    e.kind.startsWith('timer-') && (e as { label?: string }).label === label ? [e.kind] : [],
  );

/** The depths a `reactor <which>:<id>` queue-depth series took, in order (of one host, if named). */
const series = (events: TraceEvent[], queue: string, host?: string): number[] =>
  events.flatMap((e) =>
    e.kind === 'queue-depth' && e.queue === queue && (host === undefined || e.host === host) ? [e.depth] : [],
  );

/** Watches a promise from now on: how it settled and when (virtual µs), or 'pending'. */
function watch(lab: ReactorLab, p: Promise<unknown>): { now: () => string; settled: Promise<string> } {
  let state = 'pending';
  const settled = p.then(
    () => (state = `resolved at ${lab.world.nowUs}`),
    (e: unknown) => (state = `${e instanceof Error ? e.message : String(e)} at ${lab.world.nowUs}`),
  );
  return { now: () => state, settled };
}

/** How a promise settled, and when (virtual µs); runs the world until it has. */
function outcome(lab: ReactorLab, p: Promise<unknown>): Promise<string> {
  const w = watch(lab, p);
  return lab.drive(() => w.settled);
}

/** A dialed connection to an echo server. */
async function echoConn(seed: string, options: ReactorOptions = {}) {
  const lab = reactorLab(seed);
  const events = recordTrace(lab);
  await lab.drive(() => serveEcho(lab.server, ADDR));
  const conn = await lab.drive(() => createDialer(lab.client, {}, options).dial(ADDR));
  return { lab, events, conn };
}

/** An accepted connection (no handlers but onPrepare) whose raw peer does not read until told. */
async function pausedPeer(seed: string, options: ReactorOptions = {}) {
  const lab = reactorLab(seed);
  const events = recordTrace(lab);
  let conn: Connection | undefined;
  const server = await lab.drive(() =>
    serveReactor(
      lab.server,
      ADDR,
      {
        onPrepare: (c) => {
          conn = c;
        },
      },
      options,
    ),
  );
  const client = await lab.drive(() => rawClient(lab.client, ADDR, { paused: true }));
  await lab.advance(1_000);
  return { lab, events, server, client, conn: conn! };
}

describe('blocking reads satisfied or refused at once', () => {
  it('waitRead resolves at once when the bytes are already buffered, even after the peer ended', async () => {
    const { lab, conn } = await echoConn('read-buffered', { readTimeoutUs: 1_000_000 });
    conn.writer.writeBytes(pattern(10));
    await lab.drive(() => conn.flush());
    await lab.drive(() => conn.waitRead(10));
    const t = lab.world.nowUs;
    expect(await outcome(lab, conn.waitRead(10))).toBe(`resolved at ${t}`);
    conn.shutdownWrite();
    await lab.advance(100_000); // the echo server sees the end and closes: the reader has ended
    const t2 = lab.world.nowUs;
    expect(await outcome(lab, conn.waitRead(10))).toBe(`resolved at ${t2}`);
    expect(conn.stats.readTimeouts).toBe(0);
  });

  it('waitUntil fails at once with ErrNotEnough when inputHighWaterBytes are already buffered without the byte', async () => {
    const { lab, conn } = await echoConn('until-buffered', { inputHighWaterBytes: 100 });
    conn.writer.writeBytes(new Uint8Array(100).fill(7));
    await lab.drive(() => conn.flush());
    await lab.drive(() => conn.waitRead(100));
    const t = lab.world.nowUs;
    expect(await outcome(lab, conn.waitUntil(0x0a))).toBe(
      `ErrNotEnough: no byte 10 within 100 unread bytes (inputHighWaterBytes 100) at ${t}`,
    );
    // No waiter was left behind: another blocking read is not ErrConcurrentRead.
    expect(await outcome(lab, conn.waitRead(1))).toBe(`resolved at ${t}`);
  });
});

describe('read timers', () => {
  it('a satisfied read clears its timer: the next read gets its own full readTimeoutUs', async () => {
    const { lab, events, conn } = await echoConn('read-timer', { readTimeoutUs: 1_000_000 });
    const p = conn.waitRead(4);
    conn.writer.writeBytes(pattern(4));
    await lab.drive(() => conn.flush());
    expect(await outcome(lab, p)).toMatch(/^resolved/);
    conn.reader.skip(4);
    expect(timers(events, 'reactor read-timeout')).toEqual(['timer-set', 'timer-clear']);
    await lab.advance(500_000);
    const startUs = lab.world.nowUs;
    expect(await outcome(lab, conn.waitRead(1))).toBe(
      `ErrReadTimeout: connection ${conn.id}: waited 1000000 us for 1 bytes, 0 unread at ${startUs + 1_000_000}`,
    );
    expect(conn.stats.readTimeouts).toBe(1);
  });
});

describe('timeouts of 0 (none)', () => {
  it('readTimeoutUs 0: a read waits as long as it takes, with no timer', async () => {
    const { lab, events, conn } = await echoConn('read-no-timer', { readTimeoutUs: 0, idleTimeoutUs: 0 });
    const w = watch(lab, conn.waitRead(3));
    await lab.advance(200_000_000); // the echo server's own idle timeout is 300 s
    expect(w.now()).toBe('pending');
    conn.writer.writeBytes(pattern(3));
    await lab.drive(() => conn.flush());
    expect(await lab.drive(() => w.settled)).toMatch(/^resolved/);
    expect(timers(events, 'reactor read-timeout')).toEqual([]);
    expect(conn.stats.readTimeouts).toBe(0);
  });

  it('writeTimeoutUs 0: a flush above outputHighWaterBytes waits as long as the peer does not read, with no timer', async () => {
    const { lab, events, conn, client } = await pausedPeer('write-no-timer', {
      outputHighWaterBytes: 1000,
      writeTimeoutUs: 0,
      idleTimeoutUs: 0,
    });
    conn.writer.writeBytes(pattern(300_000));
    const w = watch(lab, conn.flush());
    await lab.advance(600_000_000);
    expect(w.now()).toBe('pending');
    client.conn.resumeReading();
    expect(await lab.drive(() => w.settled)).toMatch(/^resolved/);
    expect(timers(events, 'reactor write-timeout')).toEqual([]);
    expect(conn.stats.writeTimeouts).toBe(0);
    await lab.advance(100_000);
    expectSameBytes(client.received(), pattern(300_000));
  });
});

describe('flush above outputHighWaterBytes', () => {
  it('waits for the peer to read, noting the write interest once, then resolves and clears its write timer', async () => {
    const { lab, events, server, conn, client } = await pausedPeer('flush-waits', {
      outputHighWaterBytes: 1000,
      writeTimeoutUs: 5_000_000,
    });
    conn.writer.writeBytes(pattern(300_000));
    const w = watch(lab, conn.flush());
    await lab.advance(100_000);
    expect(w.now()).toBe('pending');
    expect(conn.writeInterestHeld).toBe(true);
    expect(conn.unsentBytes).toBeGreaterThan(1000);
    // The socket took its send buffer's 64 KiB at once; the rest waits for writability.
    expect(notes(events)).toContain(`reactor write-interest: ${300_000 - 65_536} bytes unsent`);
    expect(series(events, `reactor interest:${conn.id}`)).toEqual([1]);
    expect(series(events, `reactor out:${conn.id}`)[0]).toBe(300_000);
    expect(timers(events, 'reactor write-timeout')).toEqual(['timer-set']);
    client.conn.resumeReading();
    expect(await lab.drive(() => w.settled)).toMatch(/^resolved/);
    expect(timers(events, 'reactor write-timeout')).toEqual(['timer-set', 'timer-clear']);
    await lab.advance(100_000);
    expectSameBytes(client.received(), pattern(300_000));
    expect(conn.unsentBytes).toBe(0);
    expect(conn.writeInterestHeld).toBe(false);
    expect(series(events, `reactor interest:${conn.id}`)).toEqual([1, 0]);
    expect(series(events, `reactor out:${conn.id}`).at(-1)).toBe(0);
    expect(conn.stats.writeInterestRegistrations).toBe(1);
    expect(server.group.writeInterestRegistrations).toBe(1);
    expect(conn.stats.bytesOut).toBe(300_000);
    expect(conn.stats.maxUnsentBytes).toBe(300_000);
  });

  it('fails at writeTimeoutUs with ErrWriteTimeout; the bytes stay queued in order and a later flush works', async () => {
    const { lab, events, conn, client } = await pausedPeer('flush-times-out', {
      outputHighWaterBytes: 1000,
      writeTimeoutUs: 2_000_000,
    });
    conn.writer.writeBytes(pattern(300_000));
    const startUs = lab.world.nowUs;
    const w = watch(lab, conn.flush());
    await lab.advance(1_000_000);
    const unsent = conn.unsentBytes;
    expect(await lab.drive(() => w.settled)).toBe(
      `ErrWriteTimeout: connection ${conn.id}: ${unsent} bytes still unsent after 2000000 us ` +
        `(above outputHighWaterBytes 1000); they stay queued in order at ${startUs + 2_000_000}`,
    );
    expect(timers(events, 'reactor write-timeout')).toEqual(['timer-set', 'timer-fire']);
    expect(conn.stats.writeTimeouts).toBe(1);
    expect(conn.state).toBe('active');
    client.conn.resumeReading();
    await lab.advance(100_000);
    conn.writer.writeBytes(pattern(10, 1));
    expect(await outcome(lab, conn.flush())).toMatch(/^resolved/);
    await lab.advance(100_000);
    const got = client.received();
    expectSameBytes(got.subarray(0, 300_000), pattern(300_000));
    expectSameBytes(got.subarray(300_000), pattern(10, 1));
    expect(conn.stats.writeTimeouts).toBe(1);
  });

  it('resolves at once with exactly outputHighWaterBytes unsent and waits with one byte more', async () => {
    for (const extra of [0, 1]) {
      const { lab, events, conn, client } = await pausedPeer(`flush-at-high-${extra}`, {
        outputHighWaterBytes: 200_000,
      });
      // Fill the socket's buffers (this flush stays under the mark): what stays unsent is what the
      // next flush adds to.
      conn.writer.writeBytes(pattern(250_000));
      expect(await outcome(lab, conn.flush())).toMatch(/^resolved/);
      await lab.advance(100_000);
      conn.writer.writeBytes(pattern(200_000 + extra - conn.unsentBytes));
      const w = watch(lab, conn.flush());
      await lab.advance(100_000);
      expect(conn.unsentBytes).toBe(200_000 + extra);
      if (extra === 0) {
        expect(w.now()).toMatch(/^resolved/);
        expect(timers(events, 'reactor write-timeout')).toEqual([]);
      } else {
        expect(w.now()).toBe('pending');
        client.conn.resumeReading();
        expect(await lab.drive(() => w.settled)).toMatch(/^resolved/);
        expect(timers(events, 'reactor write-timeout')).toEqual(['timer-set', 'timer-clear']);
      }
    }
  });

  it('a second flush while one waits is ErrConcurrentFlush; the first still completes', async () => {
    const { lab, conn, client } = await pausedPeer('flush-concurrent', { outputHighWaterBytes: 1000 });
    conn.writer.writeBytes(pattern(300_000));
    const first = watch(lab, conn.flush());
    conn.writer.writeBytes(pattern(5, 2));
    expect(await outcome(lab, conn.flush())).toMatch(
      new RegExp(`^ErrConcurrentFlush: connection ${conn.id}: a flush is already waiting at \\d+$`),
    );
    client.conn.resumeReading();
    expect(await lab.drive(() => first.settled)).toMatch(/^resolved/);
    expect(await outcome(lab, conn.flush())).toMatch(/^resolved/);
    await lab.advance(100_000);
    expect(client.receivedBytes()).toBe(300_005);
  });
});

describe('write interest only when the socket took less', () => {
  it('a flush the socket takes whole registers no interest and notes nothing', async () => {
    const { lab, events, server, conn, client } = await pausedPeer('no-interest');
    conn.writer.writeBytes(pattern(1000));
    expect(await outcome(lab, conn.flush())).toMatch(/^resolved/);
    await lab.advance(100_000);
    expect(conn.unsentBytes).toBe(0);
    expect(series(events, `reactor interest:${conn.id}`)).toEqual([]);
    expect(notes(events).filter((n) => n.startsWith('reactor write-interest'))).toEqual([]);
    expect(conn.stats.writeInterestRegistrations).toBe(0);
    expect(server.group.writeInterestRegistrations).toBe(0);
    client.conn.resumeReading();
    await lab.advance(100_000);
    expectSameBytes(client.received(), pattern(1000));
  });
});

describe('queue-depth series', () => {
  it('start with the first level, even a level of 1 byte', async () => {
    const { lab, events, conn } = await echoConn('series-start');
    conn.writer.writeBytes(pattern(1));
    await lab.drive(() => conn.flush());
    await lab.drive(() => conn.waitRead(1));
    expect(series(events, `reactor out:${conn.id}`, 'client')).toEqual([1, 0]);
    // The echo server's connection: its first level is the 1 byte it received.
    expect(series(events, 'reactor in:1', 'server')[0]).toBe(1);
  });
});

describe('trace notes', () => {
  it('notes which loop a connection opened on', async () => {
    const lab = reactorLab('open-note');
    const events = recordTrace(lab);
    const ids: number[] = [];
    await lab.drive(() =>
      serveReactor(lab.server, ADDR, { onPrepare: (c) => void ids.push(c.id) }, { loops: 2 }),
    );
    await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.advance(10_000);
    expect(notes(events).filter((n) => n.startsWith('reactor open'))).toEqual([
      'reactor open: loop 0',
      'reactor open: loop 1',
    ]);
    expect(ids).toHaveLength(2);
  });
});

describe('timeouts changed on a live connection', () => {
  it('setReadTimeout applies to the next blocking read; a bad value is ErrBadOption naming it', async () => {
    const { lab, conn } = await echoConn('set-read-timeout');
    conn.setReadTimeout(2_000);
    const startUs = lab.world.nowUs;
    expect(await outcome(lab, conn.waitRead(1))).toBe(
      `ErrReadTimeout: connection ${conn.id}: waited 2000 us for 1 bytes, 0 unread at ${startUs + 2_000}`,
    );
    expect(() => conn.setReadTimeout(-1)).toThrow(
      /^ErrBadOption: readTimeoutUs must be a non-negative integer of µs, got -1$/,
    );
  });

  it('setWriteTimeout applies to the next waiting flush; a bad value is ErrBadOption naming it', async () => {
    const { lab, conn } = await pausedPeer('set-write-timeout', { outputHighWaterBytes: 1000 });
    conn.setWriteTimeout(3_000);
    conn.writer.writeBytes(pattern(300_000));
    const startUs = lab.world.nowUs;
    expect(await outcome(lab, conn.flush())).toMatch(
      new RegExp(
        `^ErrWriteTimeout: connection ${conn.id}: \\d+ bytes still unsent after 3000 us .* at ${startUs + 3_000}$`,
      ),
    );
    expect(() => conn.setWriteTimeout(1.5)).toThrow(
      /^ErrBadOption: writeTimeoutUs must be a non-negative integer of µs, got 1\.5$/,
    );
  });

  it('setIdleTimeout(0) clears the idle timer (twice is harmless); a later setIdleTimeout closes from the last activity', async () => {
    const { lab, events, conn } = await pausedPeer('set-idle', { idleTimeoutUs: 10_000_000 });
    conn.setIdleTimeout(0);
    conn.setIdleTimeout(0);
    expect(timers(events, 'reactor idle-timeout')).toEqual(['timer-set', 'timer-clear']);
    await lab.advance(60_000_000);
    expect(conn.state).toBe('active');
    const activityUs = lab.world.nowUs;
    conn.writer.writeBytes(pattern(10));
    await lab.drive(() => conn.flush());
    await lab.advance(1_000_000);
    conn.setIdleTimeout(5_000_000);
    expect(await lab.drive(() => conn.closed)).toBe('idle-timeout');
    expect(lab.world.nowUs).toBe(activityUs + 5_000_000);
    expect(conn.closeError?.message).toBe(
      `ErrIdleTimeout: connection ${conn.id}: no input or output for 5000000 us`,
    );
    expect(() => conn.setIdleTimeout(-5)).toThrow(
      /^ErrBadOption: idleTimeoutUs must be a non-negative integer of µs, got -5$/,
    );
  });
});

describe('a graceful close still delivers the output committed', () => {
  it('close() by the application: every flushed byte reaches a peer that reads late, then a clean close', async () => {
    const { lab, conn, client } = await pausedPeer('close-delivers', { writeTimeoutUs: 5_000_000 });
    conn.writer.writeBytes(pattern(300_000));
    expect(await outcome(lab, conn.flush())).toMatch(/^resolved/);
    conn.close();
    await lab.advance(1_000_000);
    expect(conn.state).toBe('closing');
    client.conn.resumeReading();
    expect(await lab.drive(() => conn.closed)).toBe('user');
    await lab.advance(100_000);
    expectSameBytes(client.received(), pattern(300_000));
    expect(client.ended()).toBe(true);
    expect(conn.stats.droppedOutputBytes).toBe(0);
  });

  it('server shutdown: a busy connection closed at the drain deadline still delivers its output', async () => {
    const { lab, server, conn, client } = await pausedPeer('shutdown-delivers', {
      writeTimeoutUs: 5_000_000,
    });
    conn.writer.writeBytes(pattern(300_000));
    expect(await outcome(lab, conn.flush())).toMatch(/^resolved/);
    const done = watch(lab, server.shutdown(1_000_000));
    await lab.advance(1_500_000);
    expect(conn.state).toBe('closing');
    client.conn.resumeReading();
    expect(await lab.drive(() => conn.closed)).toBe('server-shutdown');
    expect(await lab.drive(() => done.settled)).toMatch(/^resolved/);
    await lab.advance(100_000);
    expectSameBytes(client.received(), pattern(300_000));
    expect(conn.stats.droppedOutputBytes).toBe(0);
  });
});

describe('onConnect before onRequest', () => {
  it('input that arrives while onConnect awaits waits for it to end', async () => {
    const lab = reactorLab('connect-first');
    const log: string[] = [];
    await lab.drive(() =>
      serveReactor(lab.server, ADDR, {
        onConnect: async () => {
          log.push('connect start');
          await lab.server.sleep(50_000);
          log.push('connect end');
        },
        onRequest: (_ctx, c) => {
          log.push(`request ${c.reader.length}`);
          c.reader.skip(c.reader.length);
        },
      }),
    );
    const client = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => client.send(pattern(3)));
    await lab.advance(200_000);
    expect(log).toEqual(['connect start', 'connect end', 'request 3']);
  });
});

describe('shutdownWrite', () => {
  it('sends what was written, then ends this side; later writes and calls change nothing', async () => {
    const { lab, conn } = await echoConn('half-close');
    conn.writer.writeBytes(pattern(5));
    conn.shutdownWrite();
    conn.writer.writeBytes(pattern(3, 9)); // written after the half-close: never sent
    conn.shutdownWrite();
    expect(await outcome(lab, conn.flush())).toMatch(
      new RegExp(`^ErrConnClosed: connection ${conn.id}: flush after it was write side shut down at \\d+$`),
    );
    await lab.drive(() => conn.waitRead(5));
    await lab.advance(100_000);
    // The echo server saw our end after 5 bytes: it echoed them and closed.
    expect(conn.reader.length).toBe(5);
    expectSameBytes(conn.reader.readBytes(5), pattern(5));
    expect(conn.state).toBe('active');
    conn.close();
    expect(await lab.drive(() => conn.closed)).toBe('user');
    expect(() => conn.shutdownWrite()).not.toThrow();
    expect(await outcome(lab, conn.flush())).toMatch(
      new RegExp(`^ErrConnClosed: connection ${conn.id}: flush after it was closed \\(user\\) at \\d+$`),
    );
  });
});

describe('writes after close()', () => {
  it('flush is ErrConnClosed naming the reason, shutdownWrite does nothing, the peer gets no byte of them', async () => {
    const { lab, conn, client } = await pausedPeer('write-after-close');
    conn.writer.writeBytes(pattern(5)); // written, not flushed: close() drops it
    conn.close();
    expect(conn.state).toBe('closed');
    expect(await outcome(lab, conn.flush())).toMatch(
      new RegExp(`^ErrConnClosed: connection ${conn.id}: flush after it was closed \\(user\\) at \\d+$`),
    );
    expect(() => conn.shutdownWrite()).not.toThrow();
    expect(conn.closeReason).toBe('user');
    client.conn.resumeReading();
    await lab.advance(100_000);
    expect(client.receivedBytes()).toBe(0);
    expect(client.ended()).toBe(true);
  });
});

describe('waitUntil and the errors of blocking reads', () => {
  it('finds the delimiter as the very first byte, buffered or arriving', async () => {
    const { lab, conn } = await echoConn('until-first');
    const w = watch(lab, conn.waitUntil(0x0a));
    conn.writer.writeBytes(Uint8Array.of(0x0a, 1, 2));
    await lab.drive(() => conn.flush());
    expect(await lab.drive(() => w.settled)).toMatch(/^resolved/);
    await lab.advance(100_000);
    const t = lab.world.nowUs;
    expect(await outcome(lab, conn.waitUntil(0x0a))).toBe(`resolved at ${t}`);
    expect(conn.reader.until(0x0a)).toEqual(Uint8Array.of(0x0a));
  });

  it('names the byte waited for in ErrReadTimeout and ErrEOF, and refuses a second blocking read', async () => {
    const { lab, conn } = await echoConn('until-errors', { readTimeoutUs: 1_000_000 });
    conn.writer.writeBytes(new Uint8Array(3).fill(1));
    await lab.drive(() => conn.flush());
    const startUs = lab.world.nowUs;
    const w = watch(lab, conn.waitUntil(0x0a));
    expect(await outcome(lab, conn.waitRead(1))).toMatch(
      new RegExp(`^ErrConcurrentRead: connection ${conn.id}: a blocking read already waits at \\d+$`),
    );
    expect(await lab.drive(() => w.settled)).toBe(
      `ErrReadTimeout: connection ${conn.id}: waited 1000000 us for byte 10, 3 unread at ${startUs + 1_000_000}`,
    );
    const eof = watch(lab, conn.waitUntil(0x0a));
    conn.shutdownWrite(); // the echo server ends too
    expect(await lab.drive(() => eof.settled)).toMatch(
      new RegExp(
        `^ErrEOF: connection ${conn.id}: the peer ended its side before byte 10 arrived \\(3 unread\\) at \\d+$`,
      ),
    );
    // Once ended, a read that cannot be satisfied fails at once.
    const t = lab.world.nowUs;
    expect(await outcome(lab, conn.waitRead(4))).toBe(
      `ErrEOF: connection ${conn.id}: the peer ended its side before 4 bytes arrived (3 unread) at ${t}`,
    );
    expect(conn.stats.readTimeouts).toBe(1);
  });
});

/**
 * A stream whose write() throws what `failWith` holds, once set. A NetError is a socket gone
 * mid-write, as the runtimes report it: the stream is reset, its onClose follows.
 */
class FailingConn extends ForwardingConn {
  failWith: Error | undefined;
  override write(bytes: Uint8Array): number {
    if (this.failWith === undefined) return super.write(bytes);
    if (this.failWith instanceof NetError) this.inner.reset();
    throw this.failWith;
  }
}

async function failingServer(seed: string) {
  const lab = reactorLab(seed);
  const streams: FailingConn[] = [];
  const env = new ConnWrappingEnv(lab.server, (c: StreamConn) => {
    const f = new FailingConn(c);
    streams.push(f);
    return f;
  });
  let conn: Connection | undefined;
  await lab.drive(() => serveReactor(env, ADDR, { onPrepare: (c) => void (conn = c) }));
  const client = await lab.drive(() => rawClient(lab.client, ADDR));
  await lab.advance(1_000);
  return { lab, client, conn: conn!, stream: streams[0]! };
}

describe('output pump', () => {
  it('a write the runtime fails with a NetError closes the connection as reset with that error, dropping the output', async () => {
    const { lab, conn, stream, client } = await failingServer('write-fails');
    stream.failWith = new NetError('ECONNRESET', 'reset by the test');
    conn.writer.writeBytes(pattern(100));
    expect(await outcome(lab, conn.flush())).toMatch(/^resolved/);
    expect(conn.closeReason).toBe('reset');
    expect(conn.closeError).toBe(stream.failWith);
    await lab.advance(100_000);
    expect(conn.state).toBe('closed');
    expect(client.closed()).toBe('ECONNRESET');
    expect(conn.stats.droppedOutputBytes).toBe(100);
    expect(conn.stats.bytesOut).toBe(0);
  });

  it('any other error from a write is a bug, not a reset: it reaches the caller', async () => {
    const { conn, stream } = await failingServer('write-bug');
    stream.failWith = new TypeError('a runtime bug');
    conn.writer.writeBytes(pattern(100));
    expect(() => conn.flush()).toThrow(stream.failWith);
    expect(conn.state).toBe('active');
  });

  it('flushes while the loop is busy queue one output pump per connection; the bytes leave in order', async () => {
    const lab = reactorLab('pump-once');
    const server = await lab.drive(() =>
      serveReactor(lab.server, ADDR, {
        onRequest: async (_ctx, c) => {
          c.reader.skip(c.reader.length);
          c.charge(10_000); // the loop is busy: the flushes' writes wait for it
          for (let i = 0; i < 3; i++) {
            c.writer.writeBytes(pattern(10, i));
            await c.flush();
          }
        },
      }),
    );
    const client = await lab.drive(() => rawClient(lab.client, ADDR));
    const tasksBefore = server.group.stats().loops[0]!.tasksRun;
    await lab.drive(() => client.send(pattern(1)));
    await lab.advance(100_000);
    const got = client.received();
    expect(got.length).toBe(30);
    for (let i = 0; i < 3; i++) expectSameBytes(got.subarray(10 * i, 10 * i + 10), pattern(10, i));
    expect(server.group.loops[0]!.maxQueueDepth).toBe(1);
    // The handler run and one pump.
    expect(server.group.stats().loops[0]!.tasksRun - tasksBefore).toBe(2);
  });
});

describe('output pump, continued', () => {
  it('a flush the socket cannot take any of is no activity: the idle timeout counts from the last byte moved', async () => {
    const { lab, conn } = await pausedPeer('zero-write-idle', { idleTimeoutUs: 10_000_000 });
    const startUs = lab.world.nowUs;
    conn.writer.writeBytes(pattern(300_000));
    expect(await outcome(lab, conn.flush())).toMatch(/^resolved/);
    await lab.advance(5_000_000); // the socket's buffers fill, then nothing moves
    const sent = conn.stats.bytesOut;
    const flushUs = lab.world.nowUs;
    conn.writer.writeBytes(pattern(10));
    expect(await outcome(lab, conn.flush())).toMatch(/^resolved/);
    expect(conn.stats.bytesOut).toBe(sent);
    expect(await lab.drive(() => conn.closed)).toBe('idle-timeout');
    // 10 s after the last byte moved (shortly after the start), not after the flush that moved none.
    expect(lab.world.nowUs).toBeGreaterThanOrEqual(startUs + 10_000_000);
    expect(lab.world.nowUs).toBeLessThan(flushUs + 10_000_000);
  });

  it('a waiting flush resolves at the first write that leaves exactly outputHighWaterBytes unsent', async () => {
    // A reference run (same seed, so the same socket) gives the levels the unsent bytes pass through.
    const ref = await pausedPeer('flush-exact-level', { outputHighWaterBytes: 1000 });
    ref.conn.writer.writeBytes(pattern(300_000));
    const refFlush = watch(ref.lab, ref.conn.flush());
    ref.client.conn.resumeReading();
    await ref.lab.drive(() => refFlush.settled);
    const levels = series(ref.events, `reactor out:${ref.conn.id}`, 'server');
    const level = levels.find((v) => v < 200_000 && v > 1000);
    expect(level).toBeDefined();
    const { lab, conn, client } = await pausedPeer('flush-exact-level', { outputHighWaterBytes: level! });
    conn.writer.writeBytes(pattern(300_000));
    let unsentAtResolve = -1;
    const p = conn.flush().then(() => (unsentAtResolve = conn.unsentBytes));
    client.conn.resumeReading();
    await lab.drive(() => p);
    expect(unsentAtResolve).toBe(level);
  });

  it('a graceful close waiting on output closes as soon as the last byte is taken, not at writeTimeoutUs', async () => {
    const { lab, events, conn, client } = await pausedPeer('close-drained', { writeTimeoutUs: 10_000_000 });
    conn.writer.writeBytes(pattern(300_000));
    expect(await outcome(lab, conn.flush())).toMatch(/^resolved/);
    conn.close();
    await lab.advance(1_000_000);
    const resumedUs = lab.world.nowUs;
    client.conn.resumeReading();
    expect(await lab.drive(() => conn.closed)).toBe('user');
    expect(lab.world.nowUs).toBeLessThan(resumedUs + 1_000_000);
    expect(timers(events, 'reactor close-drain')).toEqual(['timer-set', 'timer-clear']);
  });

  it('server shutdown closes a connection as soon as its output has drained, within the drain time', async () => {
    const { lab, server, conn, client } = await pausedPeer('shutdown-drained', {
      writeTimeoutUs: 10_000_000,
    });
    conn.writer.writeBytes(pattern(300_000));
    expect(await outcome(lab, conn.flush())).toMatch(/^resolved/);
    const startUs = lab.world.nowUs;
    const done = watch(lab, server.shutdown(10_000_000));
    await lab.advance(1_000_000);
    expect(conn.state).toBe('active');
    client.conn.resumeReading();
    expect(await lab.drive(() => conn.closed)).toBe('server-shutdown');
    expect(lab.world.nowUs).toBeLessThan(startUs + 2_000_000);
    expect(await lab.drive(() => done.settled)).toMatch(/^resolved/);
    await lab.advance(100_000);
    expectSameBytes(client.received(), pattern(300_000));
  });

  it('maxUnsentBytes keeps the most, not the latest', async () => {
    const { lab, conn, client } = await pausedPeer('max-unsent-keeps');
    conn.writer.writeBytes(pattern(300_000));
    expect(await outcome(lab, conn.flush())).toMatch(/^resolved/);
    client.conn.resumeReading();
    await lab.advance(1_000_000);
    conn.writer.writeBytes(pattern(10));
    expect(await outcome(lab, conn.flush())).toMatch(/^resolved/);
    expect(conn.stats.maxUnsentBytes).toBe(300_000);
  });
});

describe('the runtime seam', () => {
  it('turns the runtime’s write coalescing off on each stream: a flush already hands its batch over in one write', async () => {
    const lab = reactorLab('coalescing');
    const calls: boolean[] = [];
    class Recording extends ForwardingConn {
      override setCoalescing(on: boolean): void {
        calls.push(on);
        super.setCoalescing(on);
      }
    }
    const env = new ConnWrappingEnv(lab.server, (c: StreamConn) => new Recording(c));
    await lab.drive(() => serveEcho(env, ADDR));
    const client = await lab.drive(() => rawClient(lab.client, ADDR));
    await lab.drive(() => client.send(pattern(5)));
    await lab.advance(100_000);
    expectSameBytes(client.received(), pattern(5));
    expect(calls).toEqual([false]);
  });
});
