import { describe, expect, it } from 'vitest';
import type { Message } from '../core/message.js';
import { device } from '../core/device.js';
import { code, lab, str, text } from '../testing/sim-lab.js';
import { rawPeer, word } from '../testing/raw-peer.js';
import { openPair0, openXPair0 } from './pair0.js';
import { openPair1, openXPair1, pair1Stats } from './pair1.js';

const MS = 1000;

describe('PAIR1 over the simulated network', () => {
  it('exchanges messages both ways, in order, including empty ones (like PAIR0)', async () => {
    const { a, b, drive } = lab('p1-basic', { conn: { randomChunking: true, partialWriteProbability: 0.3 } });
    const server = openPair1(a);
    const client = openPair1(b);
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

  it('39. a cooked send puts hop count 1 on the wire (nng) after the pair1 header 00 11', async () => {
    const { a, b, drive } = lab('p1-wire');
    const server = openPair1(a);
    const frames = await drive(async () => {
      await server.listen('tcp://a:5555');
      const peer = await rawPeer(b, 'tcp://a:5555', 17);
      await b.sleep(10 * MS);
      await server.send(text('hello'));
      await b.sleep(10 * MS);
      return peer.frames;
    });
    expect(frames.map((f) => Array.from(f))).toEqual([[0, 0, 0, 1, ...text('hello')]]);
  });

  it('39. accepts hop 0 (mangos) and 1 (nng), drops hop > TTL, drops garbage and keeps the pipe, counting each', async () => {
    const { a, b, drive } = lab('p1-hops');
    const server = openPair1(a, { options: { 'RECV-DEADLINE': 500 * MS } });
    const r = await drive(async () => {
      await server.listen('tcp://a:5555');
      const peer = await rawPeer(b, 'tcp://a:5555', 17);
      peer.sendFrame(word(0, 'mangos'));
      peer.sendFrame(word(1, 'nng'));
      peer.sendFrame(word(8, 'ttl'));
      peer.sendFrame(word(9, 'too-far'));
      peer.sendFrame(Uint8Array.of(0, 0, 1)); // short
      peer.sendFrame(word(0x100, 'top-byte')); // hop count > 0xff
      peer.sendFrame(word(1, 'last'));
      const got: string[] = [];
      for (;;) {
        try {
          got.push(str(await server.recv()));
        } catch {
          break;
        }
      }
      return { got, closed: peer.closed(), stats: { ...pair1Stats(server)! } };
    });
    expect(r.got).toEqual(['mangos', 'nng', 'ttl', 'last']);
    expect(r.closed).toBeNull();
    expect(r.stats.droppedTtl).toBe(1);
    expect(r.stats.droppedGarbage).toBe(2);
  });

  it('39. with GARBAGE-CLOSES-PIPE a frame without a hop count closes the pipe (nng)', async () => {
    const { a, b, drive } = lab('p1-garbage-close');
    const server = openPair1(a, { options: { 'GARBAGE-CLOSES-PIPE': true } });
    const closed = await drive(async () => {
      await server.listen('tcp://a:5555');
      const peer = await rawPeer(b, 'tcp://a:5555', 17);
      peer.sendFrame(Uint8Array.of(0, 0));
      await b.sleep(50 * MS);
      return peer.closed();
    });
    expect(closed).not.toBeNull();
    expect(pair1Stats(server)!.droppedGarbage).toBe(1);
  });

  it('26. TTL takes 1..255 only (ErrBadValue otherwise); POLYAMOROUS takes booleans', () => {
    const { a } = lab('p1-opts');
    const s = openPair1(a);
    expect(s.getOption('TTL')).toBe(8);
    expect(s.getOption('POLYAMOROUS')).toBe(false);
    for (const v of [0, -1, 256, 'garbage', 2.5]) expect(() => s.setOption('TTL', v)).toThrow(/TTL/);
    expect(() => s.setOption('TTL', 2)).not.toThrow();
    expect(() => s.setOption('POLYAMOROUS', 1)).toThrow(expect.objectContaining({ code: 'ErrBadValue' }));
    expect(() => openPair0(a).setOption('POLYAMOROUS', true)).toThrow(
      expect.objectContaining({ code: 'ErrBadOption' }),
    );
    expect(() => s.openContext()).toThrow(expect.objectContaining({ code: 'ErrProtoOp' }));
  });

  it('38. mono: a second peer is refused after its handshake; the first keeps working', async () => {
    const { a, b, drive } = lab('p1-mono');
    const server = openPair1(a, { options: { 'RECV-DEADLINE': 300 * MS } });
    const first = openPair1(b);
    const second = openPair1(b);
    const r = await drive(async () => {
      await server.listen('tcp://a:5555');
      await first.dial('tcp://a:5555');
      const refused = await code(second.dial('tcp://a:5555'));
      await first.send(text('first'));
      await second.send(text('second')).catch(() => undefined);
      const got = [str(await server.recv())];
      got.push(await code(server.recv()));
      return { refused, got };
    });
    // The second dialer's own handshake completes (its dial succeeds, as mangos); the server refuses the pipe.
    expect(r.refused).toBe('ok');
    expect(r.got).toEqual(['first', 'ErrRecvTimeout']);
    expect(pair1Stats(server)!.refusedPipes).toBeGreaterThanOrEqual(1); // it redials
  });

  it('polyamorous: many peers, recv names the pipe, a send goes to the pipe it names (else the first)', async () => {
    const { a, b, drive } = lab('p1-poly');
    const hub = openPair1(a, { options: { POLYAMOROUS: true } });
    const c1 = openPair1(b, { options: { 'RECV-DEADLINE': 300 * MS } });
    const c2 = openPair1(b, { options: { 'RECV-DEADLINE': 300 * MS } });
    const r = await drive(async () => {
      await hub.listen('tcp://a:5555');
      await c1.dial('tcp://a:5555');
      await c2.dial('tcp://a:5555');
      await c1.send(text('from-1'));
      await c2.send(text('from-2'));
      const m1 = await hub.recvMsg();
      const m2 = await hub.recvMsg();
      const byText = new Map<string, Message>([
        [str(m1.body), m1],
        [str(m2.body), m2],
      ]);
      await hub.sendMsg({ header: new Uint8Array(0), body: text('to-2'), pipe: byText.get('from-2')!.pipe! });
      await hub.sendMsg({ header: new Uint8Array(0), body: text('to-1'), pipe: byText.get('from-1')!.pipe! });
      const got2 = str(await c2.recv());
      const got1 = str(await c1.recv());
      // No pipe named: the first attached pipe (c1's).
      await hub.send(text('unnamed'));
      const unnamed = str(await c1.recv());
      const nothingFor2 = await code(c2.recv());
      return { pipes: [m1.pipe?.id, m2.pipe?.id], got1, got2, unnamed, nothingFor2 };
    });
    expect(r.pipes[0]).not.toBe(r.pipes[1]);
    expect(r.got1).toBe('to-1');
    expect(r.got2).toBe('to-2');
    expect(r.unnamed).toBe('unnamed');
    expect(r.nothingFor2).toBe('ErrRecvTimeout');
  });

  it('polyamorous: POLYAMOROUS is fixed once the socket dials or listens (ErrProtoState)', async () => {
    const { a, drive } = lab('p1-poly-late');
    const s = openPair1(a);
    s.setOption('POLYAMOROUS', true);
    s.setOption('POLYAMOROUS', false);
    await drive(() => s.listen('tcp://a:5555'));
    expect(() => s.setOption('POLYAMOROUS', true)).toThrow(
      expect.objectContaining({ code: 'ErrProtoState' }),
    );
    expect(s.getOption('POLYAMOROUS')).toBe(false);
  });

  it('polyamorous: a stalled peer fills its own queue and loses messages; the other peer gets all; send never blocks', async () => {
    const { a, b, drive } = lab('p1-poly-full', { conn: { sendBufferBytes: 4096, recvBufferBytes: 4096 } });
    const hub = openPair1(a, { options: { POLYAMOROUS: true, 'WRITEQ-LEN': 4 } });
    const good = openPair1(b, { options: { 'RECV-DEADLINE': 2_000 * MS } });
    const N = 50;
    const r = await drive(async () => {
      await hub.listen('tcp://a:5555');
      const stalled = await rawPeer(b, 'tcp://a:5555', 17, true);
      await good.dial('tcp://a:5555');
      await a.sleep(10 * MS);
      const pipes = [...hub.pipes.values()];
      const goodPipe = pipes.find((p) => p.remoteAddress !== stalled.conn.localAddress)!;
      const stalledPipe = pipes.find((p) => p.remoteAddress === stalled.conn.localAddress)!;
      const t0 = a.nowUs();
      for (let i = 0; i < N; i++) {
        await hub.sendMsg({ header: new Uint8Array(0), body: new Uint8Array(1024), pipe: stalledPipe });
        await hub.sendMsg({ header: new Uint8Array(0), body: word(i, 'x'), pipe: goodPipe });
      }
      const sendUs = a.nowUs() - t0;
      let got = 0;
      while (got < N) {
        await good.recv();
        got++;
      }
      return { sendUs, got };
    });
    expect(r.sendUs).toBe(0);
    expect(r.got).toBe(N);
    expect(pair1Stats(hub)!.droppedSends).toBeGreaterThan(0);
    expect(pair1Stats(hub)!.maxQueued).toBeLessThanOrEqual(4);
  });

  it('raw: recv header is the hop count as it arrived; a raw send adds one hop; bad headers are discarded', async () => {
    const { a, b, drive } = lab('p1-raw');
    const raw = openXPair1(a, { options: { TTL: 4 } });
    const r = await drive(async () => {
      await raw.listen('tcp://a:5555');
      const peer = await rawPeer(b, 'tcp://a:5555', 17);
      peer.sendFrame(word(3, 'three'));
      const m = await raw.recvMsg();
      await raw.sendMsg({ header: m.header, body: text('onward') });
      await raw.sendMsg({ header: new Uint8Array(0), body: text('no-header') });
      await raw.sendMsg({ header: word(0x100), body: text('top-byte') });
      await raw.sendMsg({ header: word(4), body: text('at-ttl') });
      await raw.sendMsg({ header: word(0), body: text('zero') });
      await b.sleep(20 * MS);
      return {
        header: Array.from(m.header),
        body: str(m.body),
        frames: peer.frames.map((f) => Array.from(f)),
      };
    });
    expect(raw.getOption('RAW')).toBe(true);
    expect(r.header).toEqual([0, 0, 0, 3]);
    expect(r.body).toBe('three');
    expect(r.frames).toEqual([Array.from(word(4, 'onward')), Array.from(word(1, 'zero'))]);
    expect(pair1Stats(raw)!.discardedSends).toBe(3);
  });

  it('TTL through a device chain: each raw hop adds one; the receiver drops above its TTL', async () => {
    const run = async (ttl: number): Promise<string> => {
      const { a, b, drive } = lab(`p1-chain-${ttl}`);
      const front = openXPair1(a);
      const back = openXPair1(a);
      const server = openPair1(a, { options: { TTL: ttl, 'RECV-DEADLINE': 300 * MS } });
      const client = openPair1(b);
      return drive(async () => {
        await server.listen('inproc://server');
        await front.listen('tcp://a:5555');
        await back.dial('inproc://server');
        void device(front, back).done;
        await client.dial('tcp://a:5555');
        await client.send(text('via-device'));
        return code(server.recv().then((m) => expect(str(m)).toBe('via-device')));
      });
    };
    expect(await run(1)).toBe('ErrRecvTimeout'); // wire hop 2 > TTL 1
    expect(await run(2)).toBe('ok');
  });

  it('raw PAIR0 is PAIR0 with RAW set, usable in a device', async () => {
    const { a, b, drive } = lab('p0-raw');
    const front = openXPair0(a);
    const back = openXPair0(a);
    const server = openPair0(a);
    const client = openPair0(b);
    expect(front.getOption('RAW')).toBe(true);
    const got = await drive(async () => {
      await server.listen('inproc://p0');
      await front.listen('tcp://a:5555');
      await back.dial('inproc://p0');
      void device(front, back).done;
      await client.dial('tcp://a:5555');
      await client.send(text('through'));
      const m = str(await server.recv());
      await server.send(text('back'));
      return [m, str(await client.recv())];
    });
    expect(got).toEqual(['through', 'back']);
  });

  it('mono sends block like PAIR0: SEND-DEADLINE gives ErrSendTimeout, BEST-EFFORT drops only when full', async () => {
    const { a, drive } = lab('p1-block');
    const r = await drive(async () => {
      const timed = openPair1(a, { options: { 'WRITEQ-LEN': 1, 'SEND-DEADLINE': 50 * MS } });
      const first = await code(timed.send(text('queued')));
      const second = await code(timed.send(text('blocks')));
      const best = openPair1(a, { options: { 'WRITEQ-LEN': 1, 'BEST-EFFORT': true } });
      const kept = await code(best.send(text('kept')));
      const dropped = await code(best.send(text('dropped')));
      return { first, second, kept, dropped, queued: best.sendQ.length };
    });
    expect(r).toEqual({ first: 'ok', second: 'ErrSendTimeout', kept: 'ok', dropped: 'ok', queued: 1 });
  });

  it('every send and recv on a closed socket is ErrClosed, mono, poly and raw', async () => {
    const { a, drive } = lab('p1-closed');
    const r = await drive(async () => {
      const out: string[] = [];
      for (const s of [openPair1(a), openPair1(a, { options: { POLYAMOROUS: true } }), openXPair1(a)]) {
        await s.close();
        out.push(await code(s.send(text('x'))), await code(s.recv()));
      }
      return out;
    });
    expect(r).toEqual(Array(6).fill('ErrClosed'));
  });
});
