/**
 * A connection's reads, flushes and output as its user and its trace see them: blocking reads that
 * are satisfied at once or fail at once, read and write timers set and cleared (their trace
 * labels), the write-interest note and series, half-close, and output a graceful close still
 * delivers.
 */
import { describe, expect, it } from 'vitest';
import type { TraceEvent } from '../../sim/trace.js';
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

/** The depths a `reactor <which>:<id>` queue-depth series took, in order. */
const series = (events: TraceEvent[], queue: string): number[] =>
  events.flatMap((e) => (e.kind === 'queue-depth' && e.queue === queue ? [e.depth] : []));

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
