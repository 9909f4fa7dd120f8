/**
 * `netlab serve` as a user runs it: usage errors and an address in use exit 2 with a message on
 * stderr; `serve echo-reactor` prints `listening URL`, echoes byte-exact, and on SIGTERM drains,
 * closes what is still open (reason server-shutdown) and prints its JSON summary, exit 0.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPeer, stopAllPeers, type RunningPeer } from '../../scenarios/interop/harness.js';
import { netlab, requireBuild } from '../../scenarios/testing/spawn.js';
import { UsageError } from './common.js';
import { durationFlagUs, serveOptionsFromFlags } from './serve.js';

const NETLAB = new URL('../netlab', import.meta.url).pathname;

beforeAll(() => requireBuild());
afterAll(() => stopAllPeers());

async function startServe(...flags: string[]): Promise<{ peer: RunningPeer; port: number }> {
  const peer = startPeer({
    command: NETLAB,
    args: ['serve', 'echo-reactor', '--listen', 'tcp://127.0.0.1:0', ...flags],
    timeoutMs: 30_000,
  });
  const out = await peer.waitForOutput(/^listening tcp:\/\/127\.0\.0\.1:\d+\n/, 10_000);
  return { peer, port: Number(/:(\d+)\n/.exec(out.stdout)![1]) };
}

describe('flags', () => {
  it('durations are a number with ms or s', () => {
    expect(durationFlagUs('x', '500ms')).toBe(500_000);
    expect(durationFlagUs('x', '2s')).toBe(2_000_000);
    expect(durationFlagUs('x', '1.5s')).toBe(1_500_000);
    expect(durationFlagUs('x', '0s')).toBe(0);
    expect(durationFlagUs('x', undefined)).toBeUndefined();
    for (const bad of ['5', '3m', '-1s', 'ms', '1 s', '250us'])
      expect(() => durationFlagUs('idle-timeout', bad)).toThrow(UsageError);
  });

  it('make the reactor options, only those given', () => {
    expect(serveOptionsFromFlags({})).toEqual({});
    expect(
      serveOptionsFromFlags({
        loops: '4',
        lb: 'least-connections',
        'idle-timeout': '1s',
        'read-timeout': '250ms',
        'write-timeout': '3s',
      }),
    ).toEqual({
      loops: 4,
      loadBalance: 'least-connections',
      idleTimeoutUs: 1_000_000,
      readTimeoutUs: 250_000,
      writeTimeoutUs: 3_000_000,
    });
    expect(() => serveOptionsFromFlags({ lb: 'fastest' })).toThrow(/--lb must be one of/);
    expect(() => serveOptionsFromFlags({ loops: '0' })).toThrow(/--loops must be between 1 and 256/);
  });
});

describe('netlab serve', () => {
  it('exits 2 for an unknown stack, a bad flag or duration, a missing --listen and an address in use', async () => {
    const cases: [string[], RegExp][] = [
      [['serve', 'nope', '--listen', 'tcp://127.0.0.1:0'], /unknown stack 'nope'/],
      [['serve', 'echo-reactor'], /--listen URL is required/],
      [['serve', 'echo-reactor', '--listen', 'tcp://127.0.0.1:0', '--idle-timeout', '3m'], /--idle-timeout/],
      [['serve', 'echo-reactor', '--listen', 'tcp://127.0.0.1:0', '--bogus'], /bogus/],
      [['serve', 'echo-reactor', '--listen', 'http://x:1'], /unknown address scheme/],
    ];
    for (const [args, message] of cases) {
      const r = await netlab(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stdout).toBe('');
    }
    const hold = net.createServer();
    await new Promise<void>((r) => hold.listen(0, '127.0.0.1', r));
    const port = (hold.address() as net.AddressInfo).port;
    try {
      const r = await netlab('serve', 'echo-reactor', '--listen', `tcp://127.0.0.1:${port}`);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(`cannot listen on tcp://127.0.0.1:${port}: address in use`);
    } finally {
      await new Promise<void>((r) => hold.close(() => r()));
    }
  });

  it('echoes, then on SIGTERM closes what is open and prints its JSON summary', async () => {
    const { peer, port } = await startServe('--json', '--loops', '2', '--drain-timeout', '200ms');
    // One client sends, half-closes and reads the echo to the end.
    const data = Buffer.alloc(200_000);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 3) & 0xff;
    const echoed = await new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const c = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => c.end(data));
      c.on('data', (b: Buffer) => chunks.push(b));
      c.on('error', reject);
      c.on('close', () => resolve(Buffer.concat(chunks)));
    });
    expect(echoed.equals(data)).toBe(true);
    // Another stays open and quiet: shutdown closes it.
    const idle = net.connect({ host: '127.0.0.1', port });
    const idleClosed = new Promise<void>((r) => idle.on('close', () => r()));
    idle.on('error', () => undefined);
    await new Promise<void>((r) => idle.on('connect', () => r()));
    idle.write('ping');
    await new Promise<void>((r) => idle.once('data', () => r()));
    const result = await peer.stop(10_000);
    await idleClosed;
    expect(result.code).toBe(0);
    const lines = new TextDecoder().decode(result.stdout).trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(`listening tcp://127.0.0.1:${port}`);
    const summary = JSON.parse(lines[1]!) as Record<string, unknown>;
    expect(summary).toMatchObject({
      accepted: 2,
      bytesIn: data.length + 4,
      bytesOut: data.length + 4,
      closed: { 'peer-closed': 1, 'server-shutdown': 1, reset: 0, 'idle-timeout': 0 },
    });
    expect(typeof summary.writeInterestRegistrations).toBe('number');
  });
});
