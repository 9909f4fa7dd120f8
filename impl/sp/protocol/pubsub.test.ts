import { describe, expect, it } from 'vitest';
import type { Env } from '../../runtime/env.js';
import { encodeFrame } from '../wire/frames.js';
import { encodeHandshake } from '../wire/handshake.js';
import { code, lab, str, text } from '../testing/sim-lab.js';
import type { Socket } from '../core/socket.js';
import { openReq0 } from './req0.js';
import {
  hasPrefix,
  openPub0,
  openSub0,
  openXPub0,
  openXSub0,
  pub0Stats,
  sub0Stats,
  subscribe,
  unsubscribe,
} from './pubsub.js';

const MS = 1000;

/** Receives until RECV-DEADLINE (set on the socket) expires; returns the bodies as strings. */
async function drain(sub: { recv(): Promise<Uint8Array> }): Promise<string[]> {
  const got: string[] = [];
  for (;;) {
    try {
      got.push(str(await sub.recv()));
    } catch {
      return got;
    }
  }
}

/** Opens a PUB listening at tcp://a:5555 and `n` SUBs on host b dialing it, attached on both sides. */
async function fanOut(
  a: Env,
  b: Env,
  subOptions: Parameters<typeof openSub0>[1][],
  pubOptions: Parameters<typeof openPub0>[1] = {},
): Promise<{ pub: Socket; subs: Socket[] }> {
  const pub = openPub0(a, pubOptions);
  await pub.listen('tcp://a:5555');
  const subs: Socket[] = [];
  for (const o of subOptions) {
    const s = openSub0(b, o);
    await s.dial('tcp://a:5555');
    subs.push(s);
  }
  await b.sleep(10 * MS); // the PUB side attaches its pipes too
  return { pub, subs };
}

describe('PUB/SUB over the simulated network', () => {
  it('delivers to each subscriber the messages matching its prefixes, in order', async () => {
    const { a, b, drive } = lab('ps', { conn: { randomChunking: true, partialWriteProbability: 0.2 } });
    const r = await drive(async () => {
      const dl = { 'RECV-DEADLINE': 100 * MS };
      const { pub, subs } = await fanOut(a, b, [
        { options: { ...dl, SUBSCRIBE: text('') } },
        { options: { ...dl, SUBSCRIBE: text('a') } },
        { options: { ...dl, SUBSCRIBE: Uint8Array.of(0x62, 0x61) } }, // "ba"
      ]);
      for (const w of ['apple', 'banana', 'avocado', 'b', '', 'bar']) await pub.send(text(w));
      return Promise.all(subs.map(drain));
    });
    expect(r).toEqual([
      ['apple', 'banana', 'avocado', 'b', '', 'bar'],
      ['apple', 'avocado'],
      ['banana', 'bar'],
    ]);
  });

  it('31. PUB send with no subscribers succeeds at once and the message vanishes', async () => {
    const { a, drive } = lab('31');
    const r = await drive(async () => {
      const pub = openPub0(a);
      const t0 = a.nowUs();
      const results = await Promise.all([1, 2, 3].map((i) => code(pub.send(text(`m${i}`)))));
      return { results, tookUs: a.nowUs() - t0, stats: pub0Stats(pub)! };
    });
    expect(r.results).toEqual(['ok', 'ok', 'ok']);
    expect(r.tookUs).toBe(0);
    expect(r.stats.sentWithoutSubscribers).toBe(3);
  });

  it('32. PUB recv, SUB send, XPUB recv and XSUB send are ErrProtoOp', async () => {
    const { a, drive } = lab('32');
    const r = await drive(async () => [
      await code(openPub0(a).recv()),
      await code(openSub0(a).send(text('x'))),
      await code(openXPub0(a).recv()),
      await code(openXSub0(a).send(text('x'))),
      await code(Promise.resolve().then(() => openPub0(a).openContext())),
    ]);
    expect(r).toEqual(['ErrProtoOp', 'ErrProtoOp', 'ErrProtoOp', 'ErrProtoOp', 'ErrProtoOp']);
  });

  it('33. no subscription receives nothing; subscribe is idempotent; unsubscribing an unknown topic is ErrBadValue', async () => {
    const { a, b, drive } = lab('33a');
    const r = await drive(async () => {
      const { pub, subs } = await fanOut(a, b, [{ options: { 'RECV-DEADLINE': 50 * MS } }]);
      const sub = subs[0]!;
      await pub.send(text('hello'));
      const none = await code(sub.recv());
      const filtered = sub0Stats(sub)!.filtered;
      sub.setOption('SUBSCRIBE', 'he');
      sub.setOption('SUBSCRIBE', 'he'); // idempotent: one unsubscribe removes it
      subscribe(sub, 'he');
      await pub.send(text('hello'));
      const got = str(await sub.recv());
      sub.setOption('UNSUBSCRIBE', 'he');
      const again = await code(Promise.resolve().then(() => sub.setOption('UNSUBSCRIBE', 'he')));
      const unknown = await code(Promise.resolve().then(() => unsubscribe(sub, 'zz')));
      await pub.send(text('hello'));
      const after = await code(sub.recv());
      return { none, filtered, got, again, unknown, after };
    });
    expect(r).toEqual({
      none: 'ErrRecvTimeout',
      filtered: 1,
      got: 'hello',
      again: 'ErrBadValue',
      unknown: 'ErrBadValue',
      after: 'ErrRecvTimeout',
    });
  });

  it('33. unsubscribe purges queued messages that no longer match', async () => {
    const { a, b, drive } = lab('33b');
    const r = await drive(async () => {
      const { pub, subs } = await fanOut(a, b, [
        { options: { 'RECV-DEADLINE': 50 * MS, SUBSCRIBE: text('a') } },
      ]);
      const sub = subs[0]!;
      subscribe(sub, 'b');
      subscribe(sub, 'ab'); // overlaps 'a': messages matching both stay after unsubscribing 'a'
      for (const w of ['a1', 'b1', 'ab1', 'a2', 'b2']) await pub.send(text(w));
      await b.sleep(20 * MS);
      unsubscribe(sub, 'a');
      const got = await drain(sub);
      return { got, purged: sub0Stats(sub)!.purged };
    });
    expect(r).toEqual({ got: ['b1', 'ab1', 'b2'], purged: 2 });
  });

  it('34. a full SUB queue drops the oldest by default, the new message with PREFER-NEW false', async () => {
    const { a, b, drive } = lab('34');
    const r = await drive(async () => {
      const q = { 'READQ-LEN': 2, 'RECV-DEADLINE': 50 * MS, SUBSCRIBE: text('') };
      const { pub, subs } = await fanOut(a, b, [{ options: q }, { options: { ...q, 'PREFER-NEW': false } }]);
      for (let i = 1; i <= 5; i++) await pub.send(text(`m${i}`));
      await b.sleep(20 * MS);
      const got = await Promise.all(subs.map(drain));
      return { got, dropped: subs.map((s) => sub0Stats(s)!.droppedFull) };
    });
    expect(r.got).toEqual([
      ['m4', 'm5'],
      ['m1', 'm2'],
    ]);
    expect(r.dropped).toEqual([3, 3]);
  });

  it('READQ-LEN 0: a SUB delivers only to a recv already waiting', async () => {
    const { a, b, drive } = lab('rq0');
    const r = await drive(async () => {
      const { pub, subs } = await fanOut(a, b, [
        { options: { 'READQ-LEN': 0, 'RECV-DEADLINE': 50 * MS, SUBSCRIBE: text('') } },
      ]);
      const sub = subs[0]!;
      await pub.send(text('missed'));
      await b.sleep(20 * MS);
      const waiting = sub.recv();
      await pub.send(text('caught'));
      return { got: str(await waiting), next: await code(sub.recv()), dropped: sub0Stats(sub)!.droppedFull };
    });
    expect(r).toEqual({ got: 'caught', next: 'ErrRecvTimeout', dropped: 1 });
  });

  it('31. a stalled subscriber never blocks PUB nor the other subscribers; its drops are counted per pipe', async () => {
    const run = async (preferNew: boolean) => {
      const { a, b, net, drive } = lab(`slow-${preferNew}`, {
        conn: { sendBufferBytes: 2048, recvBufferBytes: 2048 },
      });
      return drive(async () => {
        const dl = { 'RECV-DEADLINE': 200 * MS, SUBSCRIBE: text(''), 'READQ-LEN': 1000 };
        const { pub, subs } = await fanOut(a, b, [{ options: dl }, { options: dl }], {
          options: { 'WRITEQ-LEN': 4, 'PREFER-NEW': preferNew },
        });
        const slowConn = net.connections()[1]!; // the second subscriber's connection
        net.setReadStall(slowConn.id, 'client', true);
        const fast = drain(subs[0]!);
        const payload = new Uint8Array(500);
        let sendUs = 0;
        for (let i = 0; i < 200; i++) {
          payload[0] = i;
          const t0 = a.nowUs();
          await pub.send(payload.slice());
          sendUs = Math.max(sendUs, a.nowUs() - t0);
          await a.sleep(MS); // paced so the fast subscriber keeps up
        }
        const fastGot = await fast;
        net.setReadStall(slowConn.id, 'client', false);
        const slowGot: number[] = [];
        for (;;) {
          try {
            slowGot.push((await subs[1]!.recv())[0]!);
          } catch {
            break;
          }
        }
        const stats = pub0Stats(pub)!;
        return {
          sendUs,
          fast: fastGot.length,
          slowGot,
          droppedByPipe: [...stats.droppedFullByPipe.values()],
          maxQueued: stats.maxQueued,
        };
      });
    };
    for (const preferNew of [true, false]) {
      const r = await run(preferNew);
      expect(r.sendUs).toBe(0); // no send took any virtual time: PUB never waited
      expect(r.fast).toBe(200);
      expect(r.maxQueued).toBe(4);
      // The slow one got an in-order subsequence; every gap is a counted drop on its pipe.
      expect(r.slowGot).toEqual([...r.slowGot].sort((x, y) => x - y));
      expect(r.droppedByPipe).toHaveLength(1);
      expect(r.slowGot.length + r.droppedByPipe[0]!).toBe(200);
      expect(r.droppedByPipe[0]!).toBeGreaterThan(150);
      // Drop-oldest keeps the freshest data; drop-newest keeps the first messages.
      if (preferNew) expect(r.slowGot.slice(-4)).toEqual([196, 197, 198, 199]);
      else expect(r.slowGot.at(-1)!).toBeLessThan(50);
    }
  });

  it('contexts: each has its own subscriptions and queue; closing one fails its recv with ErrClosed', async () => {
    const { a, b, drive } = lab('ctx');
    const r = await drive(async () => {
      const { pub, subs } = await fanOut(a, b, [
        { options: { SUBSCRIBE: text('x'), 'RECV-DEADLINE': 50 * MS } },
      ]);
      const sub = subs[0]!;
      const c1 = sub.openContext();
      const c2 = sub.openContext();
      c1.setOption('RECV-DEADLINE', 50 * MS);
      c2.setOption('RECV-DEADLINE', 50 * MS);
      subscribe(c1, 'a');
      subscribe(c2, '');
      for (const w of ['a1', 'x1', 'b1']) await pub.send(text(w));
      const got = await Promise.all([drain(sub), drain(c1), drain(c2)]);
      const pending = code(c1.recv());
      c1.close();
      const closed = await pending;
      await pub.send(text('a2'));
      const closedUnsub = await code(Promise.resolve().then(() => unsubscribe(c1, 'a')));
      return { got, closed, closedUnsub, after: await drain(c2) };
    });
    expect(r).toEqual({
      got: [['x1'], ['a1'], ['a1', 'x1', 'b1']],
      closed: 'ErrClosed',
      closedUnsub: 'ErrClosed',
      after: ['a2'],
    });
  });

  it('XSUB delivers everything unfiltered; XPUB publishes to SUB; both report RAW', async () => {
    const { a, b, drive } = lab('raw');
    const r = await drive(async () => {
      const xpub = openXPub0(a);
      await xpub.listen('tcp://a:5555');
      const xsub = openXSub0(b, { options: { 'RECV-DEADLINE': 50 * MS } });
      await xsub.dial('tcp://a:5555');
      const sub = openSub0(b, { options: { 'RECV-DEADLINE': 50 * MS, SUBSCRIBE: text('k') } });
      await sub.dial('tcp://a:5555');
      await b.sleep(10 * MS);
      for (const w of ['k1', 'z1']) await xpub.send(text(w));
      const noSubscribe = await code(Promise.resolve().then(() => xsub.setOption('SUBSCRIBE', 'k')));
      const noCtx = await code(Promise.resolve().then(() => xsub.openContext()));
      return {
        raw: [xpub.getOption('RAW'), xsub.getOption('RAW'), sub.getOption('RAW')],
        xsub: await drain(xsub),
        sub: await drain(sub),
        noSubscribe,
        noCtx,
      };
    });
    expect(r).toEqual({
      raw: [true, true, false],
      xsub: ['k1', 'z1'],
      sub: ['k1'],
      noSubscribe: 'ErrBadOption',
      noCtx: 'ErrProtoOp',
    });
  });

  it('bad input: frames a subscriber sends are dropped and counted; PUB keeps publishing', async () => {
    const { a, b, drive } = lab('bad');
    const r = await drive(async () => {
      const pub = openPub0(a);
      await pub.listen('tcp://a:5555');
      const got: number[] = [];
      const connected = b.defer<void>();
      b.connect('tcp://a:5555', (err, conn) => {
        if (err !== undefined || conn === undefined) throw new Error('connect failed');
        conn.setHandlers({ onData: (d) => got.push(...d) });
        conn.write(encodeHandshake(33));
        conn.write(encodeFrame(text('subscribe me?')));
        conn.write(encodeFrame(new Uint8Array(0)));
        connected.resolve();
      });
      await connected.promise;
      await b.sleep(20 * MS);
      await pub.send(text('ok'));
      await b.sleep(20 * MS);
      return { dropped: pub0Stats(pub)!.droppedFromPeer, tail: str(Uint8Array.from(got.slice(-2))) };
    });
    expect(r).toEqual({ dropped: 2, tail: 'ok' });
  });

  it('option values: wrong types are ErrBadValue; PREFER-NEW is only for PUB/SUB; defaults', async () => {
    const { a, drive } = lab('opts');
    const r = await drive(async () => {
      await a.sleep(1);
      const sub = openSub0(a);
      const pub = openPub0(a);
      const attempt = (f: () => void) => code(Promise.resolve().then(f));
      return {
        subscribeNumber: await attempt(() => sub.setOption('SUBSCRIBE', 42)),
        subscribeHelperNumber: await attempt(() => subscribe(sub, 42 as unknown as string)),
        preferNewString: await attempt(() => pub.setOption('PREFER-NEW', 'yes')),
        negativeQueue: await attempt(() => pub.setOption('WRITEQ-LEN', -1)),
        reqPreferNew: await attempt(() => openReq0(a).setOption('PREFER-NEW', true)),
        pubSubscribe: await attempt(() => pub.setOption('SUBSCRIBE', 'x')),
        helperOnPub: await attempt(() => subscribe(pub, 'x')),
        defaults: [pub.getOption('WRITEQ-LEN'), pub.getOption('PREFER-NEW'), sub.getOption('READQ-LEN')],
      };
    });
    expect(r).toEqual({
      subscribeNumber: 'ErrBadValue',
      subscribeHelperNumber: 'ErrBadValue',
      preferNewString: 'ErrBadValue',
      negativeQueue: 'ErrBadValue',
      reqPreferNew: 'ErrBadOption',
      pubSubscribe: 'ErrBadOption',
      helperOnPub: 'ErrBadType',
      defaults: [128, true, 128],
    });
  });

  it('works over inproc and ipc too', async () => {
    const { a, drive } = lab('tr');
    const r = await drive(async () => {
      const out: string[][] = [];
      for (const url of ['inproc://ps', 'ipc:///tmp/ps.ipc']) {
        const pub = openPub0(a);
        await pub.listen(url);
        const sub = openSub0(a, { options: { SUBSCRIBE: text('t'), 'RECV-DEADLINE': 50 * MS } });
        await sub.dial(url);
        await a.sleep(10 * MS);
        for (const w of ['t1', 'u1', 't2']) await pub.send(text(w));
        out.push(await drain(sub));
        await pub.close();
        await sub.close();
      }
      return out;
    });
    expect(r).toEqual([
      ['t1', 't2'],
      ['t1', 't2'],
    ]);
  });

  it('hasPrefix: the empty prefix matches everything, longer prefixes never match', () => {
    expect(hasPrefix(text(''), text(''))).toBe(true);
    expect(hasPrefix(text('abc'), text('ab'))).toBe(true);
    expect(hasPrefix(text('ab'), text('abc'))).toBe(false);
    expect(hasPrefix(text('xbc'), text('ab'))).toBe(false);
  });
});
