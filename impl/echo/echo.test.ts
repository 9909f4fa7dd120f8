/**
 * Tests of the echo protocol's pieces: the streaming decoder at every split point, the frame bound,
 * and the server's backpressure bound (against a scripted connection, so the numbers are exact),
 * plus protocol errors over the real runtime.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  EchoProtocolError,
  encodeFrameHeader,
  FrameDecoder,
  runEchoClient,
  startEchoServer,
  FRAME_HEADER_BYTES,
} from './echo.js';
import type { ConnHandlers, Deferred, Env, StreamConn, StreamListener } from '../runtime/env.js';
import { createNodeEnv, type NodeEnv } from '../runtime/node.js';

vi.setConfig({ testTimeout: 5_000 });

const envs: NodeEnv[] = [];
afterEach(async () => {
  await Promise.all(envs.splice(0).map((e) => e.close()));
});

function frame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  out.set(encodeFrameHeader(payload.length));
  out.set(payload, FRAME_HEADER_BYTES);
  return out;
}

function bytes(n: number, salt: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 13 + salt) & 0xff);
}

describe('FrameDecoder', () => {
  const payloads = [bytes(0, 0), bytes(1, 1), bytes(5, 2), bytes(0, 3), bytes(300, 4)];
  const stream = new Uint8Array(payloads.reduce((n, p) => n + FRAME_HEADER_BYTES + p.length, 0));
  let at = 0;
  for (const p of payloads) {
    stream.set(frame(p), at);
    at += FRAME_HEADER_BYTES + p.length;
  }

  it('decodes frames split at every byte position (two pieces) and byte by byte', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const d = new FrameDecoder();
      const out: Uint8Array[] = [];
      d.push(stream.subarray(0, cut), (p) => out.push(p));
      d.push(stream.subarray(cut), (p) => out.push(p));
      expect(out).toEqual(payloads);
      expect(d.idle).toBe(true);
    }
    const d = new FrameDecoder();
    const out: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i++) {
      d.push(stream.subarray(i, i + 1), (p) => out.push(p));
      if (i === FRAME_HEADER_BYTES + 1) expect(d.idle).toBe(false); // inside the second frame
    }
    expect(out).toEqual(payloads);
    expect(d.idle).toBe(true);
  });

  it('hands out arrays it does not reuse', () => {
    const d = new FrameDecoder();
    const out: Uint8Array[] = [];
    const chunk = stream.slice();
    d.push(chunk, (p) => out.push(p));
    chunk.fill(0);
    expect(out).toEqual(payloads);
  });

  it('rejects a length prefix over the bound, and stays failed', () => {
    const d = new FrameDecoder(100);
    expect(() => d.push(encodeFrameHeader(101), () => {})).toThrow(EchoProtocolError);
    expect(() => d.push(frame(bytes(1, 0)), () => {})).toThrow(/decoder already failed/);
    const ok = new FrameDecoder(100);
    const out: Uint8Array[] = [];
    ok.push(frame(bytes(100, 0)), (p) => out.push(p));
    expect(out[0]?.length).toBe(100);
  });
});

/** A connection whose send buffer takes `room` bytes and then nothing until the test frees it. */
class ScriptedConn implements StreamConn {
  readonly id = 1;
  readonly localAddress = 'test://server';
  readonly remoteAddress = 'test://client';
  state: 'open' | 'closed' = 'open';
  handlers: ConnHandlers = {};
  roomBytes: number;
  written: Uint8Array[] = [];
  paused = false;
  closed = false;

  constructor(roomBytes: number) {
    this.roomBytes = roomBytes;
  }

  setHandlers(handlers: ConnHandlers): void {
    this.handlers = handlers;
  }
  write(data: Uint8Array): number {
    const n = Math.min(data.length, this.roomBytes);
    this.roomBytes -= n;
    this.written.push(data.slice(0, n));
    return n;
  }
  pauseReading(): void {
    this.paused = true;
  }
  resumeReading(): void {
    this.paused = false;
  }
  shutdown(): void {}
  close(): void {
    this.closed = true;
  }
  reset(): void {
    this.closed = true;
  }
  /** Frees send-buffer room and delivers onWritable, as a runtime does after a short write. */
  free(roomBytes: number): void {
    this.roomBytes += roomBytes;
    this.handlers.onWritable?.();
  }
}

/** Just enough of an Env to start an echo server on a scripted connection. */
function scriptedEnv(conn: StreamConn): Env {
  const unused = (): never => {
    throw new Error('not used by the echo server');
  };
  return {
    runtime: 'sim',
    hostName: 'scripted',
    nowUs: () => 0,
    setTimer: unused,
    clearTimer: unused,
    sleep: unused,
    random: unused,
    shared: unused,
    connect: unused,
    trace: () => {},
    tracing: false,
    defer<T>(): Deferred<T> {
      let res!: (v: T) => void;
      let rej!: (e: unknown) => void;
      const promise = new Promise<T>((a, b) => ((res = a), (rej = b)));
      return {
        promise,
        settled: false,
        resolve: (v: T) => res(v),
        reject: (e: unknown) => rej(e),
      };
    },
    listen(_address, onConnection, callback) {
      const listener: StreamListener = { address: 'test://server', close: () => {} };
      callback(undefined, listener);
      onConnection(conn);
    },
  };
}

describe('echo server backpressure', () => {
  it('pauses reading while more than maxPendingOutBytes wait, resumes at half, and echoes everything', async () => {
    const conn = new ScriptedConn(1000);
    await startEchoServer(scriptedEnv(conn), 'test://server', { maxPendingOutBytes: 4096 });
    const payloads = Array.from({ length: 20 }, (_, i) => bytes(1000, i));
    // The client keeps sending while the server cannot write: after a few frames it must pause.
    let sentFrames = 0;
    while (!conn.paused && sentFrames < payloads.length)
      conn.handlers.onData?.(frame(payloads[sentFrames++]!));
    expect(conn.paused).toBe(true);
    expect(sentFrames).toBeLessThan(8); // ~4 KiB pending, not 20 KiB
    // Room frees up: the server drains its outbox and resumes reading.
    conn.free(1 << 20);
    expect(conn.paused).toBe(false);
    while (sentFrames < payloads.length) conn.handlers.onData?.(frame(payloads[sentFrames++]!));
    conn.handlers.onEnd?.();
    expect(conn.closed).toBe(true);
    const echoed = new Uint8Array(conn.written.reduce((n, w) => n + w.length, 0));
    let at = 0;
    for (const w of conn.written) {
      echoed.set(w, at);
      at += w.length;
    }
    const decoded: Uint8Array[] = [];
    new FrameDecoder().push(echoed, (p) => decoded.push(p));
    expect(decoded).toEqual(payloads);
  });
});

describe('echo over the real runtime', () => {
  it('a message over the client bound rejects before connecting', async () => {
    const env = createNodeEnv();
    envs.push(env);
    await expect(
      runEchoClient(env, 'tcp://127.0.0.1:1', [bytes(11, 0)], { maxFrameBytes: 10 }),
    ).rejects.toThrow(EchoProtocolError);
  });

  it('a frame over the server bound resets the connection', async () => {
    const env = createNodeEnv();
    envs.push(env);
    const server = await startEchoServer(env, 'tcp://127.0.0.1:0', { maxFrameBytes: 1024 });
    const outcome = await runEchoClient(env, server.address, [bytes(10, 1), bytes(2048, 2)]);
    expect(outcome.error).toBe('ECONNRESET');
    expect(outcome.closedCleanly).toBe(false);
    server.close();
  });

  it('a connect failure resolves with the error code', async () => {
    const env = createNodeEnv();
    envs.push(env);
    const outcome = await runEchoClient(env, 'foo://bar', [bytes(1, 0)]);
    expect(outcome).toEqual({ replies: [], error: 'EINVAL', closedCleanly: false });
  });
});
