/**
 * The fault proxy over real loopback sockets (TCP on 127.0.0.1 and unix sockets under the temp
 * directory), driven by fault plans: bytes arrive intact under slicing and latency; stall, reset and
 * the data limit take effect at their offsets; the same seed logs the same decisions however the
 * writer chunks; an unreachable upstream, a port in use and peer resets are handled without a crash.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { concatBytes, firstDifference } from './bytes.js';
import { NetError } from './env.js';
import { startFaultProxy, type FaultProxy, type FaultProxyOptions } from './node-proxy.js';
import type { FaultPlan } from '../../sim/fault-plan.js';
import { compileProxyFaults, type ProxyLogEntry } from './proxy-plan.js';

/** A fault plan of these steps (hosts "client" and "server", times from each accept). */
const steps = (...faults: unknown[]): FaultPlan => ({ version: 1, faults }) as FaultPlan;
/** The link from the client to the upstream (up), from the accept on. */
const UP = { atUs: 0, from: 'client', to: 'server', oneWay: true } as const;
const DOWN = { atUs: 0, from: 'server', to: 'client', oneWay: true } as const;

vi.setConfig({ testTimeout: 10_000 });

let dir = '';
let pathCounter = 0;
const cleanups: (() => Promise<void> | void)[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'netlab-proxy-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** "same", or where two byte arrays first differ (vitest's deep equality is slow on large arrays). */
function sameBytes(actual: Uint8Array, expected: Uint8Array): string {
  const i = firstDifference(actual, expected);
  if (i < 0) return 'same';
  if (i < actual.length && i < expected.length) return `byte ${i} differs: ${actual[i]} vs ${expected[i]}`;
  return `length ${actual.length} vs ${expected.length}`;
}

/** Deterministic pseudo-random payload (test data, not a decision). */
function payload(lengthBytes: number, salt: number): Uint8Array {
  const out = new Uint8Array(lengthBytes);
  let x = (salt * 2654435761) >>> 0;
  for (let i = 0; i < lengthBytes; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

interface Received {
  chunks: { atUs: number; bytes: Buffer }[];
  ended: boolean;
  error: string | undefined;
  closed: Promise<void>;
  socket: net.Socket;
  bytes(): Uint8Array;
}

/** Records what a socket receives (on the proxy's clock when one is given). */
function record(socket: net.Socket, clock?: () => number): Received {
  const r: Received = {
    chunks: [],
    ended: false,
    error: undefined,
    socket,
    closed: new Promise((resolve) => socket.once('close', () => resolve())),
    bytes: () => concatBytes(r.chunks.map((c) => c.bytes)),
  };
  socket.on('data', (b: Buffer) => r.chunks.push({ atUs: clock?.() ?? 0, bytes: b }));
  socket.on('end', () => (r.ended = true));
  socket.on('error', (e: NodeJS.ErrnoException) => (r.error ??= e.code));
  return r;
}

interface Upstream {
  address: string;
  conns: Received[];
  next(): Promise<Received>;
}

/**
 * A raw node:net server for the proxy to dial. Mode `echo` writes back what it reads and ends when
 * the client ends; `sink` only records, and ends its side when the client ends.
 */
async function upstreamServer(
  mode: 'echo' | 'sink',
  address = 'tcp',
  clock?: () => number,
): Promise<Upstream> {
  const conns: Received[] = [];
  const waiting: ((r: Received) => void)[] = [];
  let taken = 0;
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const r = record(socket, clock);
    if (mode === 'echo') socket.on('data', (b: Buffer) => socket.write(b));
    socket.on('end', () => socket.end());
    conns.push(r);
    waiting.shift()?.(r);
  });
  const path = join(dir, `up-${++pathCounter}.sock`);
  await new Promise<void>((resolve) => {
    if (address === 'unix') server.listen(path, resolve);
    else server.listen(0, '127.0.0.1', resolve);
  });
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const c of conns) c.socket.destroy();
        server.close(() => resolve());
      }),
  );
  const port = (server.address() as net.AddressInfo).port;
  return {
    address: address === 'unix' ? `unix://${path}` : `tcp://127.0.0.1:${port}`,
    conns,
    next: () => {
      const ready = conns[taken];
      if (ready !== undefined) {
        taken++;
        return Promise.resolve(ready);
      }
      return new Promise((resolve) =>
        waiting.push((r) => {
          taken++;
          resolve(r);
        }),
      );
    },
  };
}

async function proxy(options: Partial<FaultProxyOptions> & { upstream: string }): Promise<FaultProxy> {
  const p = await startFaultProxy({ listen: 'tcp://127.0.0.1:0', seed: 'test', ...options });
  cleanups.push(() => p.close());
  return p;
}

function connect(address: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const m = /^tcp:\/\/(.+):(\d+)$/.exec(address);
    const socket = m
      ? net.connect({ host: m[1]!, port: Number(m[2]), allowHalfOpen: true })
      : net.connect({ path: address.replace(/^(unix|ipc):\/\//, ''), allowHalfOpen: true });
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
    cleanups.push(() => void socket.destroy());
  });
}

/** Writes `data` in pieces of `chunkBytes`, waiting for each write to be flushed to the kernel. */
async function writeChunked(socket: net.Socket, data: Uint8Array, chunkBytes: number): Promise<void> {
  for (let at = 0; at < data.length; at += chunkBytes) {
    const piece = data.subarray(at, Math.min(data.length, at + chunkBytes));
    await new Promise<void>((resolve, reject) => socket.write(piece, (e) => (e ? reject(e) : resolve())));
  }
}

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const planDecisions = (log: readonly ProxyLogEntry[]): string[] =>
  log
    .filter((e) => e.origin === 'plan')
    .map((e) => `${e.conn} ${e.dir} ${String(e.offset).padStart(9)} ${e.action} ${e.bytes} ${e.detail}`)
    .sort();

describe('forwarding', () => {
  it('a large random payload arrives intact both ways under slicing and latency', async () => {
    const up = await upstreamServer('echo');
    const faults = steps(
      {
        kind: 'link',
        ...UP,
        set: {
          slice: { minBytes: 1, maxBytes: 4096, delayUs: 0 },
          latency: { kind: 'constant', us: 2000 },
          jitterUs: 1000,
        },
      },
      {
        kind: 'link',
        ...DOWN,
        set: {
          slice: { minBytes: 1, maxBytes: 2048, delayUs: 0 },
          latency: { kind: 'uniform', minUs: 500, maxUs: 3000 },
        },
      },
    );
    const p = await proxy({ upstream: up.address, faults });
    const client = await connect(p.address);
    const got = record(client);
    const data = payload(256 * 1024, 1);
    await writeChunked(client, data, 16 * 1024);
    client.end();
    await got.closed;
    expect(sameBytes(got.bytes(), data)).toBe('same');
    expect(got.ended).toBe(true);
    expect(p.log.some((e) => e.dir === 'up' && e.action === 'slice')).toBe(true);
    expect(p.log.some((e) => e.dir === 'down' && e.action === 'slice')).toBe(true);
    await until('the record', () => p.connections[0]?.state === 'closed');
    expect(p.connections[0]).toMatchObject({
      index: 0,
      outcome: 'fin',
      up: { read: data.length, forwarded: data.length },
      down: { read: data.length, forwarded: data.length },
    });
  });

  it('works over unix sockets (ipc:// addresses) too', async () => {
    const up = await upstreamServer('echo', 'unix');
    const p = await proxy({
      listen: `ipc://${join(dir, 'proxy.sock')}`,
      upstream: up.address,
      faults: 'slicing',
    });
    expect(p.address).toBe(`unix://${join(dir, 'proxy.sock')}`);
    expect(p.port).toBeUndefined();
    const client = await connect(p.address);
    const got = record(client);
    const data = payload(5000, 2);
    await writeChunked(client, data, 1000);
    client.end();
    await got.closed;
    expect(sameBytes(got.bytes(), data)).toBe('same');
  });
});

describe('faults take effect', () => {
  it('a stall forwards nothing from its offset until it ends', async () => {
    let clock = (): number => 0;
    const up = await upstreamServer('sink', 'tcp', () => clock());
    const p = await proxy({
      upstream: up.address,
      faults: steps({ kind: 'stall-reads', atByte: 1000, conn: 'all', side: 'server', forUs: 300_000 }),
    });
    clock = () => p.nowUs();
    const client = await connect(p.address);
    const data = payload(3000, 3);
    await writeChunked(client, data, 3000);
    client.end();
    const server = await up.next();
    await server.closed;
    expect(sameBytes(server.bytes(), data)).toBe('same');
    const stall = p.log.find((e) => e.action === 'stall')!;
    expect(stall).toMatchObject({ dir: 'up', offset: 1000, origin: 'plan', detail: 'for 300000us' });
    let seen = 0;
    for (const c of server.chunks) {
      if (c.atUs < stall.tUs + 300_000) seen += c.bytes.length;
    }
    expect(seen).toBe(1000);
  });

  it('a reset lands after exactly its offset: the upstream gets those bytes, then both ends a reset', async () => {
    const up = await upstreamServer('sink');
    const p = await proxy({
      upstream: up.address,
      faults: steps({ kind: 'reset', atByte: 5000, conn: 'all', side: 'server' }),
    });
    const client = await connect(p.address);
    const got = record(client);
    const data = payload(20_000, 4);
    client.write(data);
    const server = await up.next();
    // libuv reports end-of-stream instead of ECONNRESET when the RST lands while the last bytes are
    // still unread (a hang-up after a partial read), so the sink may see an "end". A write then
    // shows whether the connection is gone (reset) or only half-closed (a FIN would let it through).
    server.socket.prependOnceListener('end', () => server.socket.write('after the end'));
    await Promise.all([server.closed, got.closed]);
    expect(sameBytes(server.bytes(), data.subarray(0, 5000))).toBe('same');
    expect(['ECONNRESET', 'EPIPE']).toContain(server.error);
    expect(got.error).toBe('ECONNRESET');
    await until('the record', () => p.connections[0]?.state === 'closed');
    expect(p.connections[0]).toMatchObject({ outcome: 'reset', up: { forwarded: 5000 } });
    expect(p.log.filter((e) => e.action === 'reset')).toMatchObject([
      { dir: 'up', offset: 5000, origin: 'plan' },
    ]);
  });

  it('the data limit passes N bytes, then closes both sides with a FIN', async () => {
    const up = await upstreamServer('sink');
    const p = await proxy({
      upstream: up.address,
      faults: steps({ kind: 'limit', atByte: 1000, conn: 'all', side: 'client' }),
    });
    const client = await connect(p.address);
    const got = record(client);
    client.on('end', () => client.end());
    client.write('hello');
    const server = await up.next();
    server.socket.write(payload(5000, 5));
    await Promise.all([got.closed, server.closed]);
    expect(got.bytes()).toEqual(payload(5000, 5).subarray(0, 1000));
    expect(got.ended).toBe(true);
    expect(got.error).toBeUndefined();
    expect(server.ended).toBe(true);
    await until('the record', () => p.connections[0]?.state === 'closed');
    expect(p.connections[0]).toMatchObject({ outcome: 'limit', down: { forwarded: 1000 } });
  });
});

describe('per-connection faults (faultsFor)', () => {
  it('asks for each connection its own faults at acceptance; a bad answer refuses only that one', async () => {
    const up = await upstreamServer('sink');
    const asked: number[] = [];
    const p = await proxy({
      upstream: up.address,
      faultsFor: (index) => {
        asked.push(index);
        // Connection 0 is cut after 10 bytes (a compiled plan); connection 1 gets an invalid plan;
        // 2 an empty one.
        if (index === 0)
          return compileProxyFaults(steps({ kind: 'limit', atByte: 10, conn: 'all', side: 'server' }));
        if (index === 1) return steps({ kind: 'limit', atByte: -1, conn: 'all', side: 'server' });
        return steps();
      },
    });
    const first = await connect(p.address);
    const firstGot = record(first);
    first.on('end', () => first.end());
    first.write(payload(100, 1));
    const server0 = await up.next();
    await Promise.all([firstGot.closed, server0.closed]);
    expect(server0.bytes()).toEqual(payload(100, 1).subarray(0, 10));

    // Refused at once: the client may already be closed when connect() resolves.
    await connect(p.address).catch(() => undefined);
    await until('the refused record', () => p.connections.some((c) => c.index === 1 && c.state === 'closed'));
    expect(p.connections.find((c) => c.index === 1)).toMatchObject({ outcome: 'refused' });
    expect(p.connections.find((c) => c.index === 1)?.detail).toMatch(
      /bad faults for this connection: ERR_BAD_ARGUMENT: faultsFor\(1\): faults\[0\]\.atByte: must be >= 0/,
    );

    const third = await connect(p.address);
    third.end(payload(3000, 3));
    const server2 = await up.next();
    await server2.closed;
    expect(server2.bytes()).toEqual(payload(3000, 3));
    expect(asked).toEqual([0, 1, 2]);
  });
});

describe('bounds', () => {
  it('reading pauses once the direction holds bufferBytes, and resumes as they go out', async () => {
    const up = await upstreamServer('sink');
    const bufferBytes = 64 * 1024;
    const p = await proxy({
      upstream: up.address,
      bufferBytes,
      faults: steps({ kind: 'link', ...UP, set: { latency: { kind: 'constant', us: 200_000 } } }),
    });
    const client = await connect(p.address);
    // Three buffers' worth: each waits out the latency before the next is read (about 0.6 s).
    const data = payload(3 * bufferBytes, 8);
    client.end(data);
    await new Promise((r) => setTimeout(r, 100));
    // Nothing is due before 200 ms: all that was read is held. One read chunk (64 KiB) may land
    // after the pause.
    const held = p.connections[0]!.up;
    expect(held.forwarded).toBe(0);
    expect(held.read).toBeGreaterThan(0);
    expect(held.read).toBeLessThanOrEqual(bufferBytes + 64 * 1024);
    const server = await up.next();
    await server.closed;
    expect(sameBytes(server.bytes(), data)).toBe('same');
  });
});

describe('determinism', () => {
  const faults = steps(
    {
      kind: 'link',
      ...UP,
      set: {
        slice: { minBytes: 1, maxBytes: 700, delayUs: 0 },
        latency: { kind: 'uniform', minUs: 0, maxUs: 2000 },
      },
    },
    { kind: 'stall-reads', atByte: 3333, conn: 'all', side: 'server', forUs: 20_000 },
    { kind: 'slow-close', atUs: 0, conn: 'all', side: 'server', forUs: 1000 },
    {
      kind: 'link',
      atByte: 8000,
      forBytes: 4000,
      from: 'client',
      to: 'server',
      oneWay: true,
      set: { slice: null, jitterUs: 500 },
    },
  );

  async function run(seed: string, writeBytes: number): Promise<string[]> {
    const up = await upstreamServer('sink');
    const p = await proxy({ upstream: up.address, faults, seed });
    const client = await connect(p.address);
    const got = record(client);
    const data = payload(20_000, 6);
    await writeChunked(client, data, writeBytes);
    client.end();
    const server = await up.next();
    await Promise.all([server.closed, got.closed]);
    expect(sameBytes(server.bytes(), data)).toBe('same');
    await p.close();
    return planDecisions(p.log);
  }

  it('the same seed logs the same decisions by offset whatever the write sizes; another seed differs', async () => {
    const a = await run('seed-1', 20_000);
    const b = await run('seed-1', 7);
    expect(b).toEqual(a);
    expect(a.some((d) => d.includes(' stall '))).toBe(true);
    expect(a.some((d) => d.includes(' delay '))).toBe(true);
    expect(a.some((d) => d.includes(' slice '))).toBe(true);
    expect(a.some((d) => d.includes('fin after slow close'))).toBe(true);
    const c = await run('seed-2', 20_000);
    expect(c).not.toEqual(a);
  });
});

describe('bad situations', () => {
  it('an unreachable upstream closes the client and logs why; the proxy keeps serving', async () => {
    const hold = net.createServer();
    await new Promise<void>((r) => hold.listen(0, '127.0.0.1', r));
    const port = (hold.address() as net.AddressInfo).port;
    await new Promise<void>((r) => hold.close(() => r()));
    const p = await proxy({ upstream: `tcp://127.0.0.1:${port}` });
    for (let i = 0; i < 2; i++) {
      const client = await connect(p.address);
      const got = record(client);
      client.on('end', () => client.end());
      await got.closed;
      expect(got.bytes()).toHaveLength(0);
    }
    await until('both records', () => p.connections.filter((c) => c.state === 'closed').length === 2);
    expect(p.connections.map((c) => c.outcome)).toEqual(['unreachable', 'unreachable']);
    expect(p.log.filter((e) => e.origin === 'peer')).toMatchObject([
      { conn: 0, action: 'close', detail: expect.stringMatching(/unreachable: ECONNREFUSED/) as unknown },
      { conn: 1, action: 'close', detail: expect.stringMatching(/unreachable: ECONNREFUSED/) as unknown },
    ]);
  });

  it('a port in use is NetError EADDRINUSE; a bad address EINVAL; bad faults ERR_BAD_ARGUMENT', async () => {
    const up = await upstreamServer('sink');
    const first = await proxy({ upstream: up.address });
    const error = await startFaultProxy({ listen: first.address, upstream: up.address, seed: 1 }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NetError);
    expect((error as NetError).code).toBe('EADDRINUSE');
    expect((error as NetError).message).toMatch(/address in use/);
    await expect(startFaultProxy({ listen: 'nowhere', upstream: up.address, seed: 1 })).rejects.toMatchObject(
      {
        code: 'EINVAL',
      },
    );
    await expect(
      startFaultProxy({
        listen: 'tcp://127.0.0.1:0',
        upstream: up.address,
        seed: 1,
        faults: steps({ kind: 'limit', atByte: -1, conn: 'all', side: 'server' }),
      }),
    ).rejects.toMatchObject({ code: 'ERR_BAD_ARGUMENT' });
    // The former description format is not a plan: refused, not guessed at.
    await expect(
      startFaultProxy({
        listen: 'tcp://127.0.0.1:0',
        upstream: up.address,
        seed: 1,
        faults: { up: { limitBytes: 1 } } as unknown as FaultPlan,
      }),
    ).rejects.toThrow(/ERR_BAD_ARGUMENT: version: must be 1/);
    await expect(
      startFaultProxy({ listen: 'tcp://127.0.0.1:0', upstream: up.address, seed: 1, faults: 'nope' }),
    ).rejects.toThrow(/unknown fault profile/);
  });

  it('a client reset is passed on to the upstream as a reset', async () => {
    const up = await upstreamServer('sink');
    const p = await proxy({ upstream: up.address });
    const client = await connect(p.address);
    client.write('abc');
    const server = await up.next();
    await until('the bytes', () => server.bytes().length === 3);
    client.resetAndDestroy();
    await server.closed;
    expect(server.error).toBe('ECONNRESET');
    await until('the record', () => p.connections[0]?.state === 'closed');
    expect(p.connections[0]!.outcome).toBe('peer-reset');
  });

  it('close() resets open connections and resolves; the log is bounded by logLimit', async () => {
    const up = await upstreamServer('echo');
    const p = await proxy({
      upstream: up.address,
      logLimit: 3,
      faults: { version: 1, faults: [], proxy: { segmentBytes: 10 } },
    });
    const client = await connect(p.address);
    const got = record(client);
    client.write(payload(100, 7));
    await until('the echo', () => got.bytes().length === 100);
    await p.close();
    await got.closed;
    expect(p.log).toHaveLength(3);
    expect(p.logDropped).toBeGreaterThan(0);
    expect(p.connections[0]).toMatchObject({ state: 'closed', outcome: 'proxy-closed' });
    await expect(connect(p.address)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
