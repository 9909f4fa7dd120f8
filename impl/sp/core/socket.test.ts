/**
 * The socket's close path (LINGER) and its send queue, at exact virtual times: when close() settles
 * with idle, empty, draining and vanishing pipes, the order of senders waiting for room, and what a
 * close does to them. (Each case kills a mutant `npm run mutate` found surviving: README.)
 */
import { describe, expect, it } from 'vitest';
import { RingSink } from '../../../sim/trace.js';
import { rawPeer } from '../testing/raw-peer.js';
import { code, lab, str, text } from '../testing/sim-lab.js';
import { openPull0, openPush0 } from '../protocol/pipeline.js';
import { openRep0 } from '../protocol/rep0.js';
import { openReq0 } from '../protocol/req0.js';

const MS = 1000;
const S = 1_000_000;

describe('Socket.close with LINGER', () => {
  it('settles at once when every pipe is idle (no linger wait)', async () => {
    const { a, b, drive } = lab('close-idle');
    const r = await drive(async () => {
      const pull = openPull0(a);
      await pull.listen('tcp://a:5555');
      const push = openPush0(b, { options: { LINGER: 5 * S } });
      await push.dial('tcp://a:5555');
      await push.send(text('x'));
      await b.sleep(50 * MS); // written and delivered: the pipe is idle again
      const before = b.nowUs();
      await push.close();
      return { took: b.nowUs() - before, got: str(await pull.recv()) };
    });
    expect(r).toEqual({ took: 0, got: 'x' });
  });

  it('settles at once with no pipe at all, dropping what is queued', async () => {
    const { b, drive } = lab('close-nopipe');
    const took = await drive(async () => {
      const push = openPush0(b, { options: { LINGER: 5 * S } });
      await push.send(text('queued')); // WRITEQ-LEN 128: accepted into the queue, no pipe to take it
      const before = b.nowUs();
      await push.close();
      return b.nowUs() - before;
    });
    expect(took).toBe(0);
  });

  it('settles when the queued bytes have reached the transport, before LINGER runs out', async () => {
    const { a, b, drive } = lab('close-drain');
    const big = new Uint8Array(1 << 20).fill(7); // 16 times the 64 KiB send buffer: the pipe stays busy
    const r = await drive(async () => {
      const pull = openPull0(a, { options: { 'MAX-RCV-SIZE': 0 } });
      await pull.listen('tcp://a:5555');
      const push = openPush0(b, { options: { LINGER: 30 * S } });
      await push.dial('tcp://a:5555');
      await push.send(big);
      await push.send(text('after'));
      const before = b.nowUs();
      await push.close();
      const took = b.nowUs() - before;
      const first = await pull.recv();
      return { took, first: first.length, second: str(await pull.recv()) };
    });
    expect(r.took).toBeGreaterThan(0); // it did wait for the bytes...
    expect(r.took).toBeLessThan(5 * S); // ...but not for LINGER
    expect(r.first).toBe(1 << 20);
    expect(r.second).toBe('after');
  });

  it('settles when the last pipe goes away during linger, with messages still queued', async () => {
    const { a, b, drive } = lab('close-vanish');
    const big = new Uint8Array(1 << 20).fill(7);
    const r = await drive(async () => {
      const push = openPush0(b, { options: { LINGER: 30 * S } });
      await push.listen('tcp://b:5555');
      // A PULL peer that never reads: the pusher's pipe stays busy and its queue keeps 'stuck'.
      const peer = await rawPeer(a, 'tcp://b:5555', 0x51, true);
      await b.sleep(10 * MS);
      await push.send(big);
      await push.send(text('stuck'));
      const before = b.nowUs();
      let settled = false;
      const closing = push.close().then(() => (settled = true));
      await b.sleep(100 * MS);
      const settledBefore = settled;
      peer.conn.close(); // the pusher's only pipe closes
      await closing;
      return { settledBefore, took: b.nowUs() - before };
    });
    expect(r.settledBefore).toBe(false);
    expect(r.took).toBeGreaterThanOrEqual(100 * MS);
    expect(r.took).toBeLessThan(5 * S);
  });

  it('fails a second close with ErrClosed', async () => {
    const { b, drive } = lab('close-twice');
    const r = await drive(async () => {
      const push = openPush0(b);
      await push.close();
      return code(push.close());
    });
    expect(r).toBe('ErrClosed');
  });
});

describe('the send queue', () => {
  it('keeps senders in order when WRITEQ-LEN is raised while some wait', async () => {
    const { a, b, drive } = lab('sendq-order');
    const got = await drive(async () => {
      const push = openPush0(b, { options: { 'WRITEQ-LEN': 1 } });
      await push.send(text('m1')); // fills the queue (no pipe yet)
      const m2 = push.send(text('m2')); // waits for room
      push.setOption('WRITEQ-LEN', 4); // room now, but m2 is still first in line
      const m3 = push.send(text('m3'));
      const pull = openPull0(a);
      await pull.listen('tcp://a:5555');
      await push.dial('tcp://a:5555');
      await Promise.all([m2, m3]);
      return [str(await pull.recv()), str(await pull.recv()), str(await pull.recv())];
    });
    expect(got).toEqual(['m1', 'm2', 'm3']);
  });

  it('fails waiting senders with ErrClosed on close and cancels their SEND-DEADLINE', async () => {
    for (const deadline of [2 * S, null]) {
      const { b, world, drive } = lab(`sendq-close-${String(deadline)}`);
      const ring = new RingSink(1000);
      world.trace.addSink(ring);
      const r = await drive(async () => {
        const push = openPush0(b, { options: { 'WRITEQ-LEN': 1, 'SEND-DEADLINE': deadline } });
        await push.send(text('m1'));
        const waiting = push.send(text('m2'));
        const message = waiting.then(
          () => 'ok',
          (e: unknown) => (e instanceof Error ? e.message : String(e)),
        );
        const c = code(waiting);
        await push.close();
        return { code: await c, message: await message };
      });
      expect(r).toEqual({ code: 'ErrClosed', message: 'ErrClosed: socket closed while sending' });
      // Nothing is left to run: the deadline timer went with the sender.
      const end = await world.run();
      expect(end.nowUs).toBeLessThan(2 * S);
      expect(ring.events().some((e) => e.kind === 'timer-fire')).toBe(false);
    }
  });
});

describe('the trace of a stream pipe', () => {
  it('names the connection of every sp-pipe session it opens and closes', async () => {
    const { a, b, world, drive } = lab('pipe-trace');
    const ring = new RingSink(10_000);
    world.trace.addSink(ring);
    await drive(async () => {
      const rep = openRep0(a);
      await rep.listen('tcp://a:5555');
      const req = openReq0(b);
      await req.dial('tcp://a:5555');
      await req.send(text('q'));
      await rep.send(await rep.recv());
      await req.recv();
      await req.close();
      await a.sleep(10 * MS);
    });
    const sessions = ring.events().filter((e) => e.kind === 'session-open' || e.kind === 'session-close');
    expect(sessions.map((e) => e.kind).sort()).toEqual([
      'session-close',
      'session-close',
      'session-open',
      'session-open',
    ]);
    const conns = new Set(
      ring
        .events()
        .filter((e) => e.kind === 'connect' || e.kind === 'accept')
        .map((e) => (e as { conn?: number }).conn),
    );
    for (const e of sessions) {
      const conn = (e as { conn?: unknown }).conn;
      expect(typeof conn).toBe('number');
      expect(conns.has(conn as number)).toBe(true);
    }
  });
});
