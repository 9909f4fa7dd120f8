import { describe, expect, it } from 'vitest';
import { device } from '../core/device.js';
import type { Socket } from '../core/socket.js';
import type { Env } from '../../runtime/env.js';
import { code, lab, str, text } from '../testing/sim-lab.js';
import { rawPeer, word } from '../testing/raw-peer.js';
import { bus0Stats, openBus0, openXBus0 } from './bus.js';

const MS = 1000;

/** Everything `s` receives until it has been quiet for its RECV-DEADLINE. */
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

function quiet(env: Env, options: Record<string, unknown> = {}): Socket {
  return openBus0(env, { options: { 'RECV-DEADLINE': 200 * MS, ...options } });
}

describe('BUS over the simulated network', () => {
  it('a send reaches every peer once; a cooked BUS never relays between its peers (40)', async () => {
    const { a, b, net, drive } = lab('bus-hub', { conn: { randomChunking: true } });
    const c = net.addHost('c').env;
    const hub = quiet(a);
    const peers = [quiet(b), quiet(b), quiet(c)];
    const r = await drive(async () => {
      await hub.listen('tcp://a:5555');
      for (const p of peers) await p.dial('tcp://a:5555');
      await hub.send(text('from-hub'));
      await peers[0]!.send(text('from-0'));
      await peers[2]!.send(text('from-2'));
      const atHub = await drain(hub);
      const atPeers = await Promise.all(peers.map(drain));
      return { atHub, atPeers };
    });
    expect(r.atHub.sort()).toEqual(['from-0', 'from-2']);
    expect(r.atPeers).toEqual([['from-hub'], ['from-hub'], ['from-hub']]);
  });

  it('a send with no peers succeeds and vanishes; there are no contexts', async () => {
    const { a, drive } = lab('bus-alone');
    const s = quiet(a);
    expect(await drive(() => code(s.send(text('nobody'))))).toBe('ok');
    expect(() => s.openContext()).toThrow(expect.objectContaining({ code: 'ErrProtoOp' }));
    expect(s.getOption('WRITEQ-LEN')).toBe(128);
  });

  it('a full per-pipe queue drops for that pipe only, counted; send never blocks', async () => {
    const { a, b, drive } = lab('bus-full', { conn: { sendBufferBytes: 4096, recvBufferBytes: 4096 } });
    const hub = openBus0(a, { options: { 'WRITEQ-LEN': 4 } });
    const good = openBus0(b, { options: { 'RECV-DEADLINE': 2_000 * MS } });
    const N = 60;
    const r = await drive(async () => {
      await hub.listen('tcp://a:5555');
      const stalled = await rawPeer(b, 'tcp://a:5555', 112, true);
      await good.dial('tcp://a:5555');
      await a.sleep(10 * MS);
      // Paced so the good peer keeps up; the stalled one stops reading, and its queue overflows.
      let sendUs = 0;
      for (let i = 0; i < N; i++) {
        const t0 = a.nowUs();
        await hub.send(word(i, 'x'.repeat(500)));
        sendUs += a.nowUs() - t0;
        await a.sleep(5 * MS);
      }
      let got = 0;
      while (got < N) {
        await good.recv();
        got++;
      }
      return { sendUs, got, stalledFrames: stalled.frames.length };
    });
    expect(r.sendUs).toBe(0);
    expect(r.got).toBe(N);
    expect(r.stalledFrames).toBe(0);
    expect(bus0Stats(hub)!.droppedSends).toBeGreaterThan(0);
    expect(bus0Stats(hub)!.maxQueued).toBeLessThanOrEqual(4);
  });

  it('raw: recv carries the pipe id as header; a send with it skips that pipe (no echo)', async () => {
    const { a, b, drive } = lab('xbus');
    const hub = openXBus0(a);
    const r = await drive(async () => {
      await hub.listen('tcp://a:5555');
      const p1 = await rawPeer(b, 'tcp://a:5555', 112);
      const p2 = await rawPeer(b, 'tcp://a:5555', 112);
      p1.sendFrame(text('hello'));
      const m = await hub.recvMsg();
      await hub.sendMsg({ header: m.header, body: m.body });
      await hub.sendMsg({ header: new Uint8Array(0), body: text('to-all') });
      await b.sleep(20 * MS);
      return {
        header: Array.from(m.header),
        pipeId: m.pipe!.id,
        p1: p1.frames.map(str),
        p2: p2.frames.map(str),
      };
    });
    expect(r.header).toEqual(Array.from(word(r.pipeId)));
    expect(r.p1).toEqual(['to-all']);
    expect(r.p2).toEqual(['hello', 'to-all']);
  });

  it('a loopback device on raw BUS is a hub: each message reaches every other peer once, never its origin', async () => {
    const { a, b, net, drive } = lab('xbus-device');
    const c = net.addHost('c').env;
    const hub = openXBus0(a);
    const peers = [quiet(b), quiet(b), quiet(c)];
    const r = await drive(async () => {
      await hub.listen('tcp://a:5555');
      void device(hub).done;
      for (const p of peers) await p.dial('tcp://a:5555');
      await peers[0]!.send(text('from-0'));
      await peers[1]!.send(text('from-1'));
      return Promise.all(peers.map(async (p) => (await drain(p)).sort()));
    });
    expect(r).toEqual([['from-1'], ['from-0'], ['from-0', 'from-1']]);
  });

  it('works over inproc and ipc too', async () => {
    const { a, drive } = lab('bus-local');
    for (const url of ['inproc://bus', 'ipc:///tmp/bus.sock']) {
      const x = quiet(a);
      const y = quiet(a);
      const got = await drive(async () => {
        await x.listen(url);
        await y.dial(url);
        await a.sleep(MS); // the listener's side attaches in an event of its own; before it, x has no peer
        await y.send(text('y'));
        await x.send(text('x'));
        return [str(await x.recv()), str(await y.recv())];
      });
      expect(got).toEqual(['y', 'x']);
    }
  });

  it('send and recv on a closed socket are ErrClosed (cooked and raw)', async () => {
    const { a, drive } = lab('closed');
    const r = await drive(async () => {
      const out: string[] = [];
      for (const s of [openBus0(a), openXBus0(a)]) {
        await s.close();
        out.push(await code(s.send(text('x'))), await code(s.recv()));
      }
      return out;
    });
    expect(r).toEqual(Array(4).fill('ErrClosed'));
  });
});
