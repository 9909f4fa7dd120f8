import { describe, expect, it } from 'vitest';
import type { StreamConn } from '../../../sim/stream.js';
import { RingSink } from '../../../sim/trace.js';
import { concatBytes } from '../../runtime/bytes.js';
import type { Env } from '../../runtime/env.js';
import type { Socket } from '../core/socket.js';
import type { SpError } from '../errors.js';
import { code, lab, str, text } from '../testing/sim-lab.js';
import { BAD_HANDSHAKES, encodeHandshake } from '../wire/handshake.js';
import { encodeFrame, encodeFrameHeader, FrameDecoder, type Allocator } from '../wire/frames.js';
import { openPair0 } from './pair0.js';

const MS = 1000;
const S = 1_000_000;

/** A raw TCP client on host b: what it receives, and a way to write bytes. */
function rawClient(
  env: Env,
  address: string,
): Promise<{ conn: StreamConn; got: Uint8Array[]; closed: () => string | null }> {
  const d = env.defer<{ conn: StreamConn; got: Uint8Array[]; closed: () => string | null }>();
  env.connect(address, (err, conn) => {
    if (err || !conn) {
      d.reject(err);
      return;
    }
    const got: Uint8Array[] = [];
    let closed: string | null = null;
    conn.setHandlers({
      onData: (b) => got.push(b),
      onEnd: () => conn.close(),
      onClose: (e) => (closed = e ? e.code : 'clean'),
    });
    d.resolve({ conn, got, closed: () => closed });
  });
  return d.promise;
}

describe('PAIR0 over the simulated network', () => {
  it('exchanges messages both ways, in order, including empty ones', async () => {
    const { a, b, drive } = lab('basic', { conn: { randomChunking: true, partialWriteProbability: 0.3 } });
    const server = openPair0(a);
    const client = openPair0(b);
    const got = await drive(async () => {
      await server.listen('tcp://a:5555');
      await client.dial('tcp://a:5555');
      for (const m of ['one', '', 'three']) await client.send(text(m));
      const seen = [str(await server.recv()), str(await server.recv()), str(await server.recv())];
      await server.send(text('back'));
      seen.push(str(await client.recv()));
      return seen;
    });
    expect(got).toEqual(['one', '', 'three', 'back']);
  });

  it('1. sends its 8-byte header at once, without waiting for the peer', async () => {
    const { a, b, drive } = lab('hdr');
    const server = openPair0(a);
    const bytes = await drive(async () => {
      await server.listen('tcp://a:5555');
      const raw = await rawClient(b, 'tcp://a:5555');
      await b.sleep(50 * MS);
      return concatBytes(raw.got);
    });
    expect(Array.from(bytes)).toEqual([0x00, 0x53, 0x50, 0x00, 0x00, 0x10, 0x00, 0x00]);
    expect(Array.from(encodeHandshake(16))).toEqual(Array.from(bytes));
  });

  it('2-4. every bad handshake, a silent peer and a wrong protocol close only that connection', async () => {
    const { a, b, drive } = lab('badhs');
    const server = openPair0(a);
    const outcome = await drive(async () => {
      const listener = server.newListener('tcp://a:5555');
      await listener.listen();
      const raws = [];
      for (const v of BAD_HANDSHAKES) {
        const r = await rawClient(b, 'tcp://a:5555');
        if (v.bytes.length > 0) r.conn.write(v.bytes);
        raws.push({ name: v.name, r });
      }
      // A good peer meanwhile completes its handshake and talks.
      const client = openPair0(b);
      await client.dial('tcp://a:5555');
      await client.send(text('still fine'));
      const msg = str(await server.recv());
      const tGood = b.nowUs();
      await b.sleep(11 * S); // past the 10 s handshake timeout
      return { msg, tGood, closed: raws.map((x) => [x.name, x.r.closed()]), stats: { ...listener.stats } };
    });
    expect(outcome.msg).toBe('still fine');
    expect(outcome.tGood).toBeLessThan(200 * MS);
    for (const [name, closed] of outcome.closed) expect(closed, name!).not.toBeNull();
    expect(outcome.stats.badHandshakes).toBe(BAD_HANDSHAKES.length);
    expect(outcome.stats.attached).toBe(1);
  });

  it('3. a sync dial to a wrong-protocol peer fails with ErrBadProto', async () => {
    const { a, b, drive } = lab('proto');
    const r = await drive(async () => {
      a.listen(
        'tcp://a:6000',
        (conn) => {
          conn.setHandlers({});
          conn.write(encodeHandshake(0x51)); // a pull0 peer
        },
        () => undefined,
      );
      await a.sleep(1);
      return code(openPair0(b).dial('tcp://a:6000'));
    });
    expect(r).toBe('ErrBadProto');
  });

  it('4. an incomplete handshake is closed after HANDSHAKE-TIMEOUT', async () => {
    const { a, b, drive } = lab('hto');
    const server = openPair0(a, { options: { 'HANDSHAKE-TIMEOUT': 2 * S } });
    const r = await drive(async () => {
      await server.listen('tcp://a:5555');
      const raw = await rawClient(b, 'tcp://a:5555');
      raw.conn.write(encodeHandshake(16).subarray(0, 4));
      const t0 = b.nowUs();
      while (raw.closed() === null) await b.sleep(10 * MS);
      return b.nowUs() - t0;
    });
    expect(r).toBeGreaterThanOrEqual(1990 * MS);
    expect(r).toBeLessThan(2200 * MS);
  });

  it('5. a client that closes mid-handshake does not disturb the listener', async () => {
    const { a, b, drive } = lab('abort');
    const server = openPair0(a);
    const r = await drive(async () => {
      await server.listen('tcp://a:5555');
      const raw = await rawClient(b, 'tcp://a:5555');
      raw.conn.write(encodeHandshake(16).subarray(0, 3));
      raw.conn.reset();
      const client = openPair0(b);
      await client.dial('tcp://a:5555');
      await client.send(text('ok'));
      return str(await server.recv());
    });
    expect(r).toBe('ok');
  });

  it('6-7. a frame over MAX-RCV-SIZE closes the pipe after earlier frames; == max passes; the listener value overrides', async () => {
    const { a, b, drive } = lab('maxrx');
    const allocations: number[] = [];
    const allocator: Allocator = { alloc: (n) => (allocations.push(n), new Uint8Array(n)) };
    const server = openPair0(a, { options: { 'MAX-RCV-SIZE': 1 << 20 }, allocator });
    const r = await drive(async () => {
      const l = server.newListener('tcp://a:5555', { 'MAX-RCV-SIZE': 100 });
      await l.listen();
      const raw = await rawClient(b, 'tcp://a:5555');
      raw.conn.write(encodeHandshake(16));
      raw.conn.write(encodeFrame(new Uint8Array(100).fill(1)));
      raw.conn.write(encodeFrame(new Uint8Array(5).fill(2)));
      // 2^40 bytes announced: must be refused before anything is allocated for it.
      raw.conn.write(encodeFrameHeader(2 ** 40));
      const first = await server.recv();
      const second = await server.recv();
      while (raw.closed() === null) await b.sleep(10 * MS);
      return { sizes: [first.length, second.length], stats: { ...l.stats } };
    });
    expect(r.sizes).toEqual([100, 5]);
    expect(r.stats.badFrames).toBe(1);
    expect(Math.max(0, ...allocations)).toBeLessThanOrEqual(100);
  });

  it('8. MAX-RCV-SIZE 0 is unlimited; negative is ErrBadValue', async () => {
    const { a, b, drive } = lab('unl');
    expect(() => openPair0(a, { options: { 'MAX-RCV-SIZE': -1 } })).toThrowError(
      expect.objectContaining({ code: 'ErrBadValue' }) as Error,
    );
    const server = openPair0(a, { options: { 'MAX-RCV-SIZE': 0 } });
    const client = openPair0(b);
    const n = await drive(async () => {
      await server.listen('tcp://a:5555');
      await client.dial('tcp://a:5555');
      await client.send(new Uint8Array(3 << 20));
      return (await server.recv()).length;
    });
    expect(n).toBe(3 << 20);
  });

  it('10. garbage after the handshake never crashes the socket', async () => {
    const { a, b, drive } = lab('garbage', { conn: { randomChunking: true } });
    const server = openPair0(a);
    const r = await drive(async () => {
      await server.listen('tcp://a:5555');
      for (const g of [
        [],
        [0x80],
        [0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 0, 10, 1, 2],
        [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
      ]) {
        const raw = await rawClient(b, 'tcp://a:5555');
        raw.conn.write(encodeHandshake(16));
        if (g.length > 0) raw.conn.write(new Uint8Array(g));
        await b.sleep(5 * MS);
        raw.conn.close();
      }
      await b.sleep(100 * MS);
      const client = openPair0(b);
      await client.dial('tcp://a:5555');
      await client.send(text('alive'));
      return str(await server.recv());
    });
    expect(r).toBe('alive');
  });

  it('11. sending 2 MiB to a peer that never reads, then the peer closes: no hang', async () => {
    const { a, b, drive } = lab('sendabort');
    const server = openPair0(a);
    const r = await drive(async () => {
      await server.listen('tcp://a:5555');
      const raw = await rawClient(b, 'tcp://a:5555');
      raw.conn.write(encodeHandshake(16));
      raw.conn.pauseReading();
      await b.sleep(10 * MS);
      const sent = server.send(new Uint8Array(2 << 20));
      await b.sleep(100 * MS);
      raw.conn.reset();
      await sent;
      await b.sleep(100 * MS);
      return server.pipes.size;
    });
    expect(r).toBe(0);
  });

  it('41. a sync dial to nobody is ErrConnRefused without retries; an async dial connects once a listener appears', async () => {
    const { a, b, drive, net } = lab('dial');
    const r = await drive(async () => {
      const sync = await code(openPair0(b).dial('tcp://a:7000'));
      const connsAfterSync = net.stats.connections;
      await b.sleep(2 * S);
      const client = openPair0(b, { options: { 'DIAL-ASYNCH': true } });
      await client.dial('tcp://a:7000');
      await b.sleep(1 * S);
      const server = openPair0(a);
      await server.listen('tcp://a:7000');
      await client.send(text('late'));
      return { sync, connsAfterSync, got: str(await server.recv()) };
    });
    expect(r).toEqual({ sync: 'ErrConnRefused', connsAfterSync: 0, got: 'late' });
  });

  it('42. a dialer reconnects to a replacement listener after the peer closes', async () => {
    const { a, b, drive } = lab('redial');
    const r = await drive(async () => {
      const first = openPair0(a);
      await first.listen('tcp://a:5555');
      const client = openPair0(b, { options: { 'RECONNECT-TIME': 50 * MS } });
      await client.dial('tcp://a:5555');
      await client.send(text('to first'));
      const m1 = str(await first.recv());
      await first.close();
      await a.sleep(10 * MS);
      const second = openPair0(a);
      await second.listen('tcp://a:5555');
      await a.sleep(200 * MS);
      await client.send(text('to second'));
      return [m1, str(await second.recv())];
    });
    expect(r).toEqual(['to first', 'to second']);
  });

  it('43. listen on an address in use is ErrAddrInUse; dialing twice on one dialer too', async () => {
    const { a, b, drive } = lab('inuse');
    const r = await drive(async () => {
      await openPair0(a).listen('tcp://a:5555');
      const second = await code(openPair0(a).listen('tcp://a:5555'));
      const d = openPair0(b).newDialer('tcp://a:5555');
      await d.dial();
      return [second, await code(d.dial())];
    });
    expect(r).toEqual(['ErrAddrInUse', 'ErrAddrInUse']);
  });

  it('44. after close, send/recv/dial/listen/openContext are ErrClosed', async () => {
    const { a, drive } = lab('closed');
    const s = openPair0(a);
    const r = await drive(async () => {
      await s.close();
      const sync = (f: () => unknown): string => {
        try {
          f();
          return 'ok';
        } catch (e) {
          return (e as SpError).code;
        }
      };
      return [
        await code(s.send(text('x'))),
        await code(s.recv()),
        await code(s.dial('tcp://a:1')),
        await code(s.listen('tcp://a:1')),
        sync(() => s.openContext()),
        await code(s.close()),
      ];
    });
    expect(r).toEqual(['ErrClosed', 'ErrClosed', 'ErrClosed', 'ErrClosed', 'ErrClosed', 'ErrClosed']);
    expect(() => openPair0(a).openContext()).toThrowError(
      expect.objectContaining({ code: 'ErrProtoOp' }) as Error,
    );
  });

  it('bad URLs: unknown scheme is ErrBadTran, malformed is ErrBadAddr', async () => {
    const { a, drive } = lab('urls');
    const s = openPair0(a);
    const r = await drive(async () => [
      await code(s.dial('foo://a:1')),
      await code(s.dial('tcp://nohostport')),
      await code(s.listen('tcp://a:99999')),
      await code(s.dial('inproc://')),
      await code(s.dial('just text')),
    ]);
    expect(r).toEqual(['ErrBadTran', 'ErrBadAddr', 'ErrBadAddr', 'ErrBadAddr', 'ErrBadAddr']);
  });

  it('mono: the second peer is refused after its handshake; the first keeps working', async () => {
    const { a, b, drive } = lab('mono');
    const r = await drive(async () => {
      const server = openPair0(a);
      const l = server.newListener('tcp://a:5555');
      await l.listen();
      const first = openPair0(b);
      await first.dial('tcp://a:5555');
      // The second dialer completes its own handshake (its dial succeeds, as in mangos); the server
      // then refuses the pipe, and the dialer keeps redialing with backoff.
      const second = openPair0(b, { options: { 'RECONNECT-TIME': 100 * MS } });
      const secondDial = await code(second.dial('tcp://a:5555'));
      await second.send(text('from second'));
      await first.send(text('from first'));
      const got = str(await server.recv());
      await b.sleep(1 * S);
      return { secondDial, got, rejected: l.stats.rejected, serverPipes: server.pipes.size };
    });
    expect(r.secondDial).toBe('ok');
    expect(r.got).toBe('from first');
    expect(r.serverPipes).toBe(1);
    expect(r.rejected).toBeGreaterThanOrEqual(5);
  });

  it('backpressure: sends queue to WRITEQ-LEN, then block; SEND-DEADLINE times out; BEST-EFFORT drops only when full', async () => {
    const { a, b, drive } = lab('bp', { conn: { sendBufferBytes: 4096, recvBufferBytes: 4096 } });
    const r = await drive(async () => {
      const server = openPair0(a, { options: { 'READQ-LEN': 2 } });
      await server.listen('tcp://a:5555');
      const client = openPair0(b, { options: { 'WRITEQ-LEN': 4, 'SEND-DEADLINE': 500 * MS } });
      await client.dial('tcp://a:5555');
      const results: string[] = [];
      for (let i = 0; i < 40; i++) results.push(await code(client.send(new Uint8Array(1000).fill(i))));
      const firstTimeout = results.indexOf('ErrSendTimeout');
      client.setOption('BEST-EFFORT', true);
      const t0 = b.nowUs();
      const bestEffort = await code(client.send(new Uint8Array(1000)));
      const bestEffortUs = b.nowUs() - t0;
      // Drain: everything accepted arrives intact and in order.
      const received: number[] = [];
      server.setOption('RECV-DEADLINE', 1 * S);
      for (;;) {
        try {
          received.push((await server.recv())[0]!);
        } catch {
          break;
        }
      }
      return {
        firstTimeout,
        bestEffort,
        bestEffortUs,
        received,
        accepted: results.filter((x) => x === 'ok').length,
      };
    });
    expect(r.firstTimeout).toBeGreaterThan(4);
    expect(r.bestEffort).toBe('ok');
    expect(r.bestEffortUs).toBe(0);
    expect(r.received.slice(0, r.firstTimeout)).toEqual(Array.from({ length: r.firstTimeout }, (_, i) => i));
  });

  it('RECV-DEADLINE gives ErrRecvTimeout at the deadline', async () => {
    const { a, drive } = lab('rto');
    const s = openPair0(a, { options: { 'RECV-DEADLINE': 300 * MS } });
    const r = await drive(async () => {
      const t0 = a.nowUs();
      return [await code(s.recv()), a.nowUs() - t0];
    });
    expect(r).toEqual(['ErrRecvTimeout', 300 * MS]);
  });

  it('LINGER: close waits for queued messages to reach the transport', async () => {
    const { a, b, drive } = lab('linger', { link: { bandwidthBytesPerSec: 1_000_000 } });
    const r = await drive(async () => {
      const server = openPair0(a);
      await server.listen('tcp://a:5555');
      const client = openPair0(b, { options: { LINGER: 5 * S } });
      await client.dial('tcp://a:5555');
      for (let i = 0; i < 20; i++) await client.send(new Uint8Array(50_000).fill(i));
      await client.close();
      const got: number[] = [];
      server.setOption('RECV-DEADLINE', 3 * S);
      for (;;) {
        try {
          got.push((await server.recv())[0]!);
        } catch {
          break;
        }
      }
      return got;
    });
    expect(r).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });

  it('the pipe event hook sees attaching/attached/detached and can refuse a pipe', async () => {
    const { a, b, drive } = lab('hook');
    const r = await drive(async () => {
      const server = openPair0(a);
      const events: string[] = [];
      let refuse = true;
      server.setPipeEventHook((ev) => {
        events.push(ev);
        if (ev === 'attaching' && refuse) {
          refuse = false;
          return false;
        }
        return true;
      });
      await server.listen('tcp://a:5555');
      const client = openPair0(b, { options: { 'DIAL-ASYNCH': true, 'RECONNECT-TIME': 10 * MS } });
      await client.dial('tcp://a:5555');
      // A message sent on the refused pipe would be lost with it: wait for the accepted one.
      while (server.pipes.size === 0) await a.sleep(5 * MS);
      await client.send(text('hi'));
      const got = str(await server.recv());
      await client.close();
      await a.sleep(100 * MS);
      return { events, got };
    });
    expect(r.got).toBe('hi');
    expect(r.events).toEqual(['attaching', 'attaching', 'attached', 'detached']);
  });

  it('inproc: no bytes, protocol pair checked, refused without listener, in use on a second listen', async () => {
    const { a, drive } = lab('inproc');
    const r = await drive(async () => {
      const server = openPair0(a);
      const refused = await code(openPair0(a).dial('inproc://x'));
      await server.listen('inproc://x');
      const inUse = await code(openPair0(a).listen('inproc://x'));
      const client = openPair0(a);
      await client.dial('inproc://x');
      await client.send(text('mem'));
      const got = str(await server.recv());
      await server.send(text('back'));
      return { refused, inUse, got, back: str(await client.recv()) };
    });
    expect(r).toEqual({ refused: 'ErrConnRefused', inUse: 'ErrAddrInUse', got: 'mem', back: 'back' });
  });

  it('ipc over the simulated unix namespace', async () => {
    const { a, drive } = lab('ipc', { conn: { randomChunking: true } });
    const r = await drive(async () => {
      const server = openPair0(a);
      await server.listen('ipc:///tmp/pair.sock');
      const client = openPair0(a);
      await client.dial('ipc:///tmp/pair.sock');
      await client.send(text('over ipc'));
      return str(await server.recv());
    });
    expect(r).toBe('over ipc');
  });

  it('the frame decoder and the backoff policy are injectable (for the bug museum)', async () => {
    const { a, b, drive } = lab('inject');
    let framesSeen = 0;
    let grows = 0;
    const r = await drive(async () => {
      const server = openPair0(a, {
        frameDecoder: (options) => {
          const inner = new FrameDecoder(options);
          return { feed: (chunk, onFrame) => inner.feed(chunk, (p) => (framesSeen++, onFrame(p))) };
        },
      });
      const client = openPair0(b, {
        options: { 'DIAL-ASYNCH': true },
        backoff: { grow: (cur) => (grows++, cur) },
      });
      await client.dial('tcp://a:5555'); // nobody listens yet: the first attempts fail and grow
      await b.sleep(350 * MS);
      await server.listen('tcp://a:5555');
      await client.send(text('via injected parts'));
      return str(await server.recv());
    });
    expect(r).toBe('via injected parts');
    expect(framesSeen).toBe(1);
    expect(grows).toBeGreaterThanOrEqual(2);
  });

  it('the same PAIR0 scenario gives the same trace hash twice', async () => {
    const run = async (): Promise<string> => {
      const l = lab('det', {
        link: { lossRate: 0.05, latency: { kind: 'uniform', minUs: 1000, maxUs: 9000 } },
        conn: { randomChunking: true, partialWriteProbability: 0.2 },
      });
      const ring = new RingSink(10);
      l.world.trace.addSink(ring);
      await l.drive(async () => {
        const server = openPair0(l.a);
        await server.listen('tcp://a:5555');
        const client: Socket = openPair0(l.b);
        await client.dial('tcp://a:5555');
        for (let i = 0; i < 30; i++) {
          await client.send(new Uint8Array(i * 37));
          await server.recv();
        }
      });
      return l.world.trace.hash();
    };
    const h1 = await run();
    expect(await run()).toBe(h1);
  });
});
