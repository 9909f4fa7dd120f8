import { describe, expect, it } from 'vitest';
import type { Socket } from '../core/socket.js';
import { code, lab, str, text } from '../testing/sim-lab.js';
import { rawPeer, word } from '../testing/raw-peer.js';
import { openStar, openXStar, starStats } from './star.js';

const MS = 1000;

async function drain(s: Socket): Promise<string[]> {
  const got: string[] = [];
  for (;;) {
    try {
      got.push(str(await s.recv()));
    } catch {
      return got;
    }
  }
}

const opts = { options: { 'RECV-DEADLINE': 200 * MS } };

describe('STAR over the simulated network', () => {
  it('announces protocol 1600 and puts hop count 0 on the wire (mangos)', async () => {
    const { a, b, drive } = lab('star-wire');
    const s = openStar(a);
    const frames = await drive(async () => {
      await s.listen('tcp://a:5555');
      const peer = await rawPeer(b, 'tcp://a:5555', 1600);
      await b.sleep(10 * MS);
      await s.send(text('hi'));
      await b.sleep(10 * MS);
      return peer.frames.map((f) => Array.from(f));
    });
    expect(s.protocol.info.id).toBe(1600);
    expect(frames).toEqual([Array.from(word(0, 'hi'))]);
  });

  it('forwards every received message to all other pipes, never back to its origin', async () => {
    const { a, b, net, drive } = lab('star-line');
    const c = net.addHost('c').env;
    const middle = openStar(a, opts);
    const left = openStar(b, opts);
    const right = openStar(c, opts);
    const r = await drive(async () => {
      await middle.listen('tcp://a:5555');
      await left.dial('tcp://a:5555');
      await right.dial('tcp://a:5555');
      await left.send(text('from-left'));
      await middle.send(text('from-middle'));
      return { middle: await drain(middle), left: await drain(left), right: await drain(right) };
    });
    expect(r.middle).toEqual(['from-left']);
    expect(r.left).toEqual(['from-middle']);
    expect(r.right.sort()).toEqual(['from-left', 'from-middle']);
    expect(starStats(middle)!.forwarded).toBe(1);
  });

  it('drops a message whose hop count reached TTL, and garbage, counting both', async () => {
    const { a, b, drive } = lab('star-ttl');
    const s = openStar(a, { options: { 'RECV-DEADLINE': 200 * MS, TTL: 3 } });
    const r = await drive(async () => {
      await s.listen('tcp://a:5555');
      const p1 = await rawPeer(b, 'tcp://a:5555', 1600);
      const p2 = await rawPeer(b, 'tcp://a:5555', 1600);
      p1.sendFrame(word(2, 'two'));
      p1.sendFrame(word(3, 'three'));
      p1.sendFrame(Uint8Array.of(0, 0));
      p1.sendFrame(word(0x01000001, 'top'));
      const got = await drain(s);
      return { got, forwardedToP2: p2.frames.map((f) => Array.from(f)), p1Closed: p1.closed() };
    });
    expect(r.got).toEqual(['two']);
    expect(r.forwardedToP2).toEqual([Array.from(word(3, 'two'))]);
    expect(r.p1Closed).toBeNull();
    expect(starStats(s)).toMatchObject({ droppedTtl: 1, droppedGarbage: 2 });
  });

  it('a ring of STAR sockets stops circulating at TTL: every copy is bounded', async () => {
    const { a, b, net, drive } = lab('star-ring');
    const c = net.addHost('c').env;
    const x = openStar(a, opts);
    const y = openStar(b, opts);
    const z = openStar(c, opts);
    const r = await drive(async () => {
      await x.listen('tcp://a:5555');
      await y.listen('tcp://b:5555');
      await z.listen('tcp://c:5555');
      await x.dial('tcp://b:5555');
      await y.dial('tcp://c:5555');
      await z.dial('tcp://a:5555');
      await x.send(text('round'));
      return Promise.all([x, y, z].map(async (s) => (await drain(s)).length));
    });
    // Each copy goes around both ways until its hop count reaches 8.
    for (const n of r) expect(n).toBeGreaterThan(0);
    expect(r.reduce((s, n) => s + n, 0)).toBeLessThanOrEqual(2 * 8);
  });

  it('raw: the header carries the incremented hop count; a send needs a 4-byte hop count', async () => {
    const { a, b, drive } = lab('xstar');
    const s = openXStar(a);
    const r = await drive(async () => {
      await s.listen('tcp://a:5555');
      const p = await rawPeer(b, 'tcp://a:5555', 1600);
      p.sendFrame(word(1, 'in'));
      const m = await s.recvMsg();
      await s.sendMsg({ header: m.header, body: text('again') });
      await s.sendMsg({ header: new Uint8Array(0), body: text('no-header') });
      await s.sendMsg({ header: word(0x100), body: text('bad') });
      await b.sleep(20 * MS);
      return { header: Array.from(m.header), frames: p.frames.map((f) => Array.from(f)) };
    });
    expect(s.getOption('RAW')).toBe(true);
    expect(r.header).toEqual([0, 0, 0, 2]);
    expect(r.frames).toEqual([Array.from(word(2, 'again'))]);
    expect(starStats(s)!.discardedSends).toBe(2);
  });

  it('send and recv on a closed socket are ErrClosed (cooked and raw)', async () => {
    const { a, drive } = lab('closed');
    const r = await drive(async () => {
      const out: string[] = [];
      for (const s of [openStar(a), openXStar(a)]) {
        await s.close();
        out.push(await code(s.send(text('x'))), await code(s.recv()));
      }
      return out;
    });
    expect(r).toEqual(Array(4).fill('ErrClosed'));
  });
});
