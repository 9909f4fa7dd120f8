/**
 * The reactor echo under a crowd, over real loopback, as a user runs it: a spawned
 * `netlab serve echo-reactor --idle-timeout 1s`, then
 * - 500 connections that connect and say nothing: each is closed at the idle timeout (each client
 *   sees its close within [timeout - 50 ms, timeout + 1.5 s] of its connect);
 * - a client that tries to send 1 GiB and never reads the echoes: the server's output fills
 *   (outputHighWaterBytes), the echo stops consuming input, input reaches inputHighWaterBytes and
 *   reading pauses, so the client's writes block; the server process stays under 150 MB resident
 *   (VmRSS of /proc/PID/status, sampled while the client pushes and is blocked);
 * - a legitimate client ping-pongs 64-byte messages throughout and is answered throughout
 *   (asserted); its worst round-trip latency is printed (goal < 200 ms), not asserted tightly.
 * The idle timeout then closes the blocked hog too, with a reset (unread input is not drained:
 * impl/reactor/connection.ts finish()). At SIGTERM the server's JSON summary counts the idle closes.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPeer, stopAllPeers } from '../interop/harness.js';
import { requireBuild } from '../testing/spawn.js';

const NETLAB = new URL('../../bin/netlab', import.meta.url).pathname;
const IDLE_TIMEOUT_MS = 1000;
const IDLE_CONNECTIONS = 500;
/** An idle close may come this much after the timeout (timer and scheduling on a loaded 2-core box). */
const IDLE_LATE_MARGIN_MS = 1500;
/** ...and this much before (timer granularity; measured from connect(), which precedes the accept). */
const IDLE_EARLY_MARGIN_MS = 50;
const HOG_TARGET_BYTES = 1024 * 1024 * 1024;
const HOG_CHUNK = Buffer.alloc(1024 * 1024, 0x5a);
const RSS_LIMIT_BYTES = 150 * 1024 * 1024;
/** When the hog's progress is read (ms after it starts): both before the idle timeout can close it. */
const BLOCKED_PROBE_MS = [400, 800] as const;
/** The legitimate client's gap between round trips. */
const PING_GAP_MS = 5;
/** A round trip slower than this is not "answered" (far above the 200 ms goal: a hang, not noise). */
const PING_HANG_MS = 3000;

beforeAll(() => requireBuild());
afterAll(() => stopAllPeers());

function vmRssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? NaN : Number(m[1]) * 1024;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Idle {
  sock: net.Socket;
  /** When connect() was called: the server's accept, hence its idle clock, is later. */
  dialedAtMs: number;
  /** When 'connect' ran here (later than the accept when the event loop is busy with the crowd). */
  connectedAtMs: number;
  closedAtMs: number | null;
}

function idleClient(port: number): Promise<Idle> {
  return new Promise((resolve, reject) => {
    const dialedAtMs = performance.now();
    const sock = net.connect({ host: '127.0.0.1', port });
    const c: Idle = { sock, dialedAtMs, connectedAtMs: 0, closedAtMs: null };
    sock.on('error', () => undefined);
    sock.on('close', () => (c.closedAtMs = performance.now()));
    sock.once('connect', () => {
      c.connectedAtMs = performance.now();
      resolve(c);
    });
    sock.once('error', reject);
  });
}

describe('netlab serve echo-reactor under a crowd (real loopback)', () => {
  it('closes idle connections at the idle timeout, bounds a non-reading sender, answers a good client throughout', async () => {
    const server = startPeer({
      command: NETLAB,
      args: [
        'serve',
        'echo-reactor',
        '--listen',
        'tcp://127.0.0.1:0',
        '--idle-timeout',
        `${IDLE_TIMEOUT_MS}ms`,
        '--drain-timeout',
        '500ms',
        '--json',
      ],
      timeoutMs: 60_000,
    });
    const out = await server.waitForOutput(/^listening tcp:\/\/127\.0\.0\.1:\d+\n/, 10_000);
    const port = Number(/:(\d+)\n/.exec(out.stdout)![1]);
    const pid = server.pid!;
    const rssAtStart = vmRssBytes(pid);

    // The legitimate client: 64-byte ping-pong from now to the end.
    const good = net.connect({ host: '127.0.0.1', port, noDelay: true });
    good.on('error', () => undefined);
    await new Promise<void>((r) => good.once('connect', () => r()));
    let goodClosed = false;
    good.on('close', () => (goodClosed = true));
    let pending: (() => void) | undefined;
    let have = 0;
    good.on('data', (d: Buffer) => {
      have += d.length;
      while (have >= 64) {
        have -= 64;
        pending?.();
        pending = undefined;
      }
    });
    const latencies: number[] = [];
    let pinging = true;
    let hung = false;
    const pinger = (async () => {
      const msg = Buffer.alloc(64, 1);
      while (pinging && !goodClosed) {
        const t = performance.now();
        const answered = await Promise.race([
          new Promise<boolean>((r) => {
            pending = () => r(true);
            good.write(msg);
          }),
          sleep(PING_HANG_MS).then(() => false),
        ]);
        if (!answered) {
          hung = true;
          return;
        }
        latencies.push(performance.now() - t);
        await sleep(PING_GAP_MS);
      }
    })();

    // The idle crowd.
    const idle = await Promise.all(Array.from({ length: IDLE_CONNECTIONS }, () => idleClient(port)));

    // The hog: pushes up to 1 GiB, never reads.
    const hog = net.connect({ host: '127.0.0.1', port });
    let hogError = '';
    hog.on('error', (e: NodeJS.ErrnoException) => (hogError = e.code ?? e.message));
    let hogClosed = false;
    hog.on('close', () => (hogClosed = true));
    hog.pause(); // never reads the echoes
    await new Promise<void>((r) => hog.once('connect', () => r()));
    let queued = 0;
    const push = (): void => {
      while (queued < HOG_TARGET_BYTES && !hogClosed) {
        queued += HOG_CHUNK.length;
        if (!hog.write(HOG_CHUNK)) return;
      }
    };
    hog.on('drain', push);
    push();

    // Sample the server's RSS while the hog pushes and is blocked, until the crowd has closed. The
    // hog's progress is read twice before the idle timeout can close it: it must have stopped.
    let maxRss = rssAtStart;
    const hogSent = (): number => hog.bytesWritten - hog.writableLength;
    const sentAt: number[] = [];
    const t0 = performance.now();
    while (performance.now() - t0 < IDLE_TIMEOUT_MS + IDLE_LATE_MARGIN_MS + 1000) {
      maxRss = Math.max(maxRss, vmRssBytes(pid));
      const elapsed = performance.now() - t0;
      if (sentAt.length === 0 && elapsed >= BLOCKED_PROBE_MS[0]) sentAt.push(hogSent());
      if (sentAt.length === 1 && elapsed >= BLOCKED_PROBE_MS[1]) sentAt.push(hogSent());
      if (idle.every((c) => c.closedAtMs !== null) && hogClosed) break;
      await sleep(20);
    }
    const hogSentWhenBlocked = sentAt[1] ?? NaN;
    pinging = false;
    await pinger;
    const worstMs = Math.max(...latencies);
    // Closed after: at least (closedAt - connectedAt), at most (closedAt - dialedAt).
    const closedIdle = idle
      .filter((c) => c.closedAtMs !== null)
      .map((c) => ({ least: c.closedAtMs! - c.connectedAtMs, most: c.closedAtMs! - c.dialedAtMs }));
    console.log(
      `reactor crowd: ${latencies.length} good round trips, worst ${worstMs.toFixed(1)} ms (goal < 200 ms); ` +
        `idle closes ${Math.min(...closedIdle.map((c) => c.least)).toFixed(0)}-${Math.max(...closedIdle.map((c) => c.most)).toFixed(0)} ms after connecting; ` +
        `server RSS ${(rssAtStart / 2 ** 20).toFixed(1)} MB at start, max ${(maxRss / 2 ** 20).toFixed(1)} MB; ` +
        `the hog got ${(hogSentWhenBlocked / 2 ** 20).toFixed(1)} MiB in before it blocked, then ${hogError || 'no error'}`,
    );

    const goodOpenToTheEnd = !goodClosed;
    for (const c of idle) c.sock.destroy();
    good.destroy();
    hog.destroy();
    const result = await server.stop(10_000);
    const lines = new TextDecoder().decode(result.stdout).trim().split('\n');
    const summary = JSON.parse(lines[lines.length - 1]!) as {
      accepted: number;
      closed: Record<string, number>;
    };

    // The good client was answered throughout, and not closed.
    expect(hung).toBe(false);
    expect(goodOpenToTheEnd).toBe(true);
    expect(latencies.length).toBeGreaterThan(20);
    // Every idle connection closed at the idle timeout.
    expect(closedIdle).toHaveLength(IDLE_CONNECTIONS);
    for (const c of closedIdle) {
      expect(c.most).toBeGreaterThanOrEqual(IDLE_TIMEOUT_MS - IDLE_EARLY_MARGIN_MS);
      expect(c.least).toBeLessThan(IDLE_TIMEOUT_MS + IDLE_LATE_MARGIN_MS);
    }
    // The hog was held back far below 1 GiB (blocked: no progress between the two probes), the
    // server stayed small, and the idle timeout then reset it (its unread input is not drained).
    expect(hogSentWhenBlocked).toBeLessThan(64 * 1024 * 1024);
    expect(sentAt[0]).toBe(sentAt[1]);
    expect(hogClosed).toBe(true);
    expect(hogError).toBe('ECONNRESET');
    expect(maxRss).toBeLessThan(RSS_LIMIT_BYTES);
    expect(result.code).toBe(0);
    expect(summary.accepted).toBe(IDLE_CONNECTIONS + 2);
    expect(summary.closed['idle-timeout']).toBeGreaterThanOrEqual(IDLE_CONNECTIONS);
    expect(summary.closed['input-overflow']).toBe(0);
  }, 30_000);
});
