import { describe, expect, it } from 'vitest';
import type { StreamConn } from '../../../sim/stream.js';
import { concatBytes, readU32, readU64Number } from '../../runtime/bytes.js';
import type { Env } from '../../runtime/env.js';
import { encodeFrame } from '../wire/frames.js';
import { encodeHandshake } from '../wire/handshake.js';
import { code, lab, str, text } from '../testing/sim-lab.js';
import { encodeU32, openReq0, req0Stats } from './req0.js';
import { openRep0, rep0Stats, splitBacktrace } from './rep0.js';
import { openXRep0, openXReq0 } from './raw-reqrep.js';
import { device } from '../core/device.js';

const MS = 1000;
const S = 1_000_000;

/** A REP that answers every request with "re:" + the request (on the default context). */
async function serveEcho(rep: ReturnType<typeof openRep0>, count = Infinity): Promise<void> {
  for (let i = 0; i < count; i++) {
    let req: Uint8Array;
    try {
      req = await rep.recv();
    } catch {
      return;
    }
    await rep.send(text(`re:${str(req)}`));
  }
}

/** A raw SP peer on host `env` that speaks the handshake as `proto` and records every frame it gets. */
function rawSpListener(
  env: Env,
  address: string,
  proto: number,
  onFrame: (conn: StreamConn, payload: Uint8Array) => void,
): void {
  env.listen(
    address,
    (conn) => {
      let buf = new Uint8Array(0);
      let handshaken = false;
      conn.setHandlers({
        onData: (b) => {
          buf = concatBytes([buf, b]);
          if (!handshaken && buf.length >= 8) {
            handshaken = true;
            buf = buf.subarray(8);
          }
          while (handshaken && buf.length >= 8) {
            const len = readU64Number(buf, 0);
            if (buf.length < 8 + len) break;
            onFrame(conn, buf.subarray(8, 8 + len));
            buf = buf.subarray(8 + len);
          }
        },
      });
      conn.write(encodeHandshake(proto));
    },
    () => undefined,
  );
}

describe('REQ/REP over the simulated network', () => {
  it('round trips through contexts concurrently; each reply goes to its own request', async () => {
    const { a, b, drive } = lab('rr', { conn: { randomChunking: true, partialWriteProbability: 0.2 } });
    const r = await drive(async () => {
      const rep = openRep0(a);
      await rep.listen('tcp://a:5555');
      void serveEcho(rep);
      const req = openReq0(b);
      await req.dial('tcp://a:5555');
      const ctxs = [req.openContext(), req.openContext(), req.openContext()];
      return Promise.all(
        ctxs.map(async (c, i) => {
          await c.send(text(`q${i}`));
          return str(await c.recv());
        }),
      );
    });
    expect(r).toEqual(['re:q0', 're:q1', 're:q2']);
  });

  it('12. REQ recv with nothing outstanding is ErrProtoState', async () => {
    const { b, drive } = lab('12');
    expect(await drive(() => code(openReq0(b).recv()))).toBe('ErrProtoState');
  });

  it('13. a second send cancels the first; its blocked recv gets ErrCanceled', async () => {
    const { a, b, drive } = lab('13');
    const r = await drive(async () => {
      const rep = openRep0(a);
      await rep.listen('tcp://a:5555');
      const req = openReq0(b);
      await req.dial('tcp://a:5555');
      await req.send(text('first'));
      const firstRecv = code(req.recv());
      await req.send(text('second'));
      const canceled = await firstRecv;
      // The REP answers both; only the second reply is delivered.
      for (let i = 0; i < 2; i++) {
        const q = await rep.recv();
        await rep.send(text(`re:${str(q)}`));
      }
      return { canceled, got: str(await req.recv()) };
    });
    expect(r).toEqual({ canceled: 'ErrCanceled', got: 're:second' });
  });

  it('14. REQ resends after RETRY-TIME with the same id; REP sees the request twice', async () => {
    const { a, b, drive } = lab('14');
    const ids: number[] = [];
    const r = await drive(async () => {
      rawSpListener(a, 'tcp://a:5555', 49, (_c, p) => ids.push(readU32(p, 0)));
      const req = openReq0(b, { options: { 'RETRY-TIME': 300 * MS } });
      await req.dial('tcp://a:5555');
      await req.send(text('again?'));
      await b.sleep(700 * MS);
      return req0Stats(req)!;
    });
    expect(ids.length).toBe(3); // at 0, 300 and 600 ms
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]! >>> 31).toBe(1);
    expect(r.resends).toBe(2);
  });

  it('15. when the pipe carrying a request is lost, REQ resends at once on another pipe', async () => {
    const { a, b, net, drive } = lab('15');
    const r = await drive(async () => {
      const silent: StreamConn[] = [];
      rawSpListener(a, 'tcp://a:5555', 49, (c) => silent.push(c)); // never answers
      const rep = openRep0(a);
      await rep.listen('tcp://a:6666');
      const req = openReq0(b, { options: { 'RETRY-TIME': 60 * S } });
      await req.dial('tcp://a:5555');
      await req.send(text('x'));
      await b.sleep(20 * MS);
      await req.dial('tcp://a:6666');
      await b.sleep(20 * MS);
      const t0 = b.nowUs();
      for (const c of net.connections()) if (c.serverAddress.endsWith(':5555')) net.resetConnection(c.id);
      const q = await rep.recv();
      await rep.send(text(`re:${str(q)}`));
      const reply = str(await req.recv());
      return { reply, afterMs: (b.nowUs() - t0) / MS };
    });
    expect(r.reply).toBe('re:x');
    expect(r.afterMs).toBeLessThan(1000);
  });

  it('16. with RETRY-TIME 0, losing the pipe fails the recv fast (ErrCanceled) and no other REP gets it', async () => {
    const { a, b, net, drive } = lab('16');
    const r = await drive(async () => {
      rawSpListener(a, 'tcp://a:5555', 49, () => undefined);
      const rep = openRep0(a, { options: { 'RECV-DEADLINE': 2 * S } });
      await rep.listen('tcp://a:6666');
      const req = openReq0(b, { options: { 'RETRY-TIME': 0 } });
      await req.dial('tcp://a:5555');
      await req.send(text('x'));
      await req.dial('tcp://a:6666');
      await b.sleep(20 * MS);
      const recv = code(req.recv());
      for (const c of net.connections()) if (c.serverAddress.endsWith(':5555')) net.resetConnection(c.id);
      return { recv: await recv, other: await code(rep.recv()) };
    });
    expect(r).toEqual({ recv: 'ErrCanceled', other: 'ErrRecvTimeout' });
  });

  it('17. REQ drops replies with wrong, stale or duplicate ids and ones shorter than 4 bytes', async () => {
    const { a, b, drive } = lab('17');
    const r = await drive(async () => {
      rawSpListener(a, 'tcp://a:5555', 49, (conn, p) => {
        const id = p.subarray(0, 4);
        const wrong = encodeU32((readU32(id, 0) + 1) | 0x80000000);
        conn.write(encodeFrame(new Uint8Array([1, 2])));
        conn.write(encodeFrame(new Uint8Array([...wrong, 9])));
        conn.write(encodeFrame(new Uint8Array([0, 0, 0, 1, 9]))); // no top bit
        conn.write(encodeFrame(new Uint8Array([...id, 42])));
        conn.write(encodeFrame(new Uint8Array([...id, 43]))); // duplicate
      });
      const req = openReq0(b);
      await req.dial('tcp://a:5555');
      await req.send(text('q'));
      const got = Array.from(await req.recv());
      await b.sleep(50 * MS);
      return { got, stats: { ...req0Stats(req)! }, next: await code(req.recv()) };
    });
    expect(r.got).toEqual([42]);
    expect(r.stats.droppedReplies).toBe(4);
    expect(r.next).toBe('ErrProtoState');
  });

  it('18. BEST-EFFORT send returns at once and is delivered when a REP connects; without it SEND-DEADLINE times out', async () => {
    const { a, b, drive } = lab('18');
    const r = await drive(async () => {
      const timed = openReq0(b, { options: { 'SEND-DEADLINE': 200 * MS } });
      const timedOut = await code(timed.send(text('nobody')));
      const req = openReq0(b, {
        options: { 'BEST-EFFORT': true, 'DIAL-ASYNCH': true, 'RECONNECT-TIME': 50 * MS },
      });
      await req.dial('tcp://a:5555');
      const t0 = b.nowUs();
      await req.send(text('late'));
      const sendUs = b.nowUs() - t0;
      await b.sleep(500 * MS);
      const rep = openRep0(a);
      await rep.listen('tcp://a:5555');
      void serveEcho(rep, 1);
      return { timedOut, sendUs, reply: str(await req.recv()) };
    });
    expect(r).toEqual({ timedOut: 'ErrSendTimeout', sendUs: 0, reply: 're:late' });
  });

  it('19. FAIL-NO-PEERS: send with no pipe is ErrNoPeers; a blocked recv gets ErrNoPeers when the last pipe drops', async () => {
    const { a, b, net, drive } = lab('19');
    const r = await drive(async () => {
      const req = openReq0(b, { options: { 'FAIL-NO-PEERS': true } });
      const noPeers = await code(req.send(text('x')));
      rawSpListener(a, 'tcp://a:5555', 49, () => undefined);
      await req.dial('tcp://a:5555');
      await req.send(text('y'));
      const recv = code(req.recv());
      await b.sleep(10 * MS);
      for (const c of net.connections()) net.resetConnection(c.id);
      return { noPeers, recv: await recv };
    });
    expect(r).toEqual({ noPeers: 'ErrNoPeers', recv: 'ErrNoPeers' });
  });

  it('20. contexts are independent; closing one aborts its operations with ErrClosed', async () => {
    const { a, b, drive } = lab('20');
    const r = await drive(async () => {
      const rep = openRep0(a);
      await rep.listen('tcp://a:5555');
      const req = openReq0(b);
      await req.dial('tcp://a:5555');
      const c1 = req.openContext();
      const c2 = req.openContext();
      await c1.send(text('one'));
      await c2.send(text('two'));
      const r1 = code(c1.recv());
      c1.close();
      const repCtx = rep.openContext();
      const first = str(await repCtx.recv());
      const second = str(await rep.recv());
      await rep.send(text(`re:${second}`));
      await repCtx.send(text(`re:${first}`));
      const rWait = repCtx.recv();
      repCtx.close();
      return {
        r1: await r1,
        r2: str(await c2.recv()),
        closed: await code(rWait),
        afterClose: await code(c1.send(text('z'))),
      };
    });
    expect(r).toEqual({ r1: 'ErrClosed', r2: 're:two', closed: 'ErrClosed', afterClose: 'ErrClosed' });
  });

  it('21. REP send before recv, and a second concurrent recv, are ErrProtoState', async () => {
    const { a, drive } = lab('21');
    const r = await drive(async () => {
      const rep = openRep0(a, { options: { 'RECV-DEADLINE': 100 * MS } });
      const early = await code(rep.send(text('x')));
      const first = code(rep.recv());
      const second = await code(rep.recv());
      return [early, second, await first];
    });
    expect(r).toEqual(['ErrProtoState', 'ErrProtoState', 'ErrRecvTimeout']);
  });

  it('22-23. REP echoes the whole backtrace; a stack beyond TTL is dropped and the pipe kept', async () => {
    const { a, b, drive } = lab('22');
    const replies: number[][] = [];
    const r = await drive(async () => {
      const rep = openRep0(a, { options: { TTL: 3 } });
      await rep.listen('tcp://a:5555');
      void serveEcho(rep);
      const got = b.defer<void>();
      b.connect('tcp://a:5555', (err, conn) => {
        if (err || !conn) return;
        let buf = new Uint8Array(0);
        conn.setHandlers({
          onData: (chunk) => {
            buf = concatBytes([buf, chunk]);
            if (buf.length >= 8 && buf[1] === 0x53) buf = buf.subarray(8); // the REP's handshake
            while (buf.length >= 8) {
              const len = readU64Number(buf, 0);
              if (buf.length < 8 + len) break;
              replies.push(Array.from(buf.subarray(8, 8 + len)));
              buf = buf.subarray(8 + len);
              got.resolve();
            }
          },
        });
        conn.write(encodeHandshake(48));
        const words = (n: number): Uint8Array => {
          const out = new Uint8Array(n * 4 + 1);
          for (let i = 0; i < n - 1; i++) out.set(encodeU32(i + 1), i * 4);
          out.set(encodeU32(0x80000000 + n), (n - 1) * 4);
          out[n * 4] = 0x21;
          return out;
        };
        conn.write(encodeFrame(words(4))); // 4 words > TTL 3: dropped
        conn.write(encodeFrame(words(3))); // exactly TTL: answered
      });
      await got.promise;
      await b.sleep(50 * MS);
      return rep0Stats(rep)!;
    });
    expect(replies).toHaveLength(1);
    expect(replies[0]!.slice(0, 12)).toEqual([0, 0, 0, 1, 0, 0, 0, 2, 0x80, 0, 0, 3]);
    expect(r.droppedRequests).toBe(1);
  });

  it('24. REP garbage (no top-bit word) is dropped by default, or closes the pipe with GARBAGE-CLOSES-PIPE', () => {
    expect(splitBacktrace(new Uint8Array([0, 0, 0, 1, 0, 0, 0, 2]), 8)).toBeUndefined();
    expect(splitBacktrace(new Uint8Array([0, 0, 1]), 8)).toBeUndefined();
    expect(splitBacktrace(new Uint8Array([0x80, 0, 0, 1]), 8)?.payload.length).toBe(0);
  });

  it('25. a reply after the requester disconnected succeeds and is discarded', async () => {
    const { a, b, drive } = lab('25');
    const r = await drive(async () => {
      const rep = openRep0(a);
      await rep.listen('tcp://a:5555');
      const req = openReq0(b);
      await req.dial('tcp://a:5555');
      await req.send(text('bye'));
      await rep.recv();
      await req.close();
      await a.sleep(100 * MS);
      const sent = await code(rep.send(text('too late')));
      return { sent, dropped: rep0Stats(rep)!.droppedReplies };
    });
    expect(r).toEqual({ sent: 'ok', dropped: 1 });
  });

  it('26. TTL option: 0, -1, 256 and non-integers are ErrBadValue; 2 is accepted', () => {
    const { a } = lab('26');
    const rep = openRep0(a);
    for (const v of [0, -1, 256, 'garbage', 1.5]) {
      expect(() => rep.setOption('TTL', v)).toThrowError(
        expect.objectContaining({ code: 'ErrBadValue' }) as Error,
      );
    }
    rep.setOption('TTL', 2);
    expect(rep.getOption('TTL')).toBe(2);
  });

  it('request ids: the first comes from the seeded stream, then +1, top bit set', async () => {
    const { a, b, drive } = lab('ids');
    const ids: number[] = [];
    await drive(async () => {
      rawSpListener(a, 'tcp://a:5555', 49, (conn, p) => {
        ids.push(readU32(p, 0));
        conn.write(encodeFrame(p.subarray(0, 4)));
      });
      const req = openReq0(b);
      await req.dial('tcp://a:5555');
      for (let i = 0; i < 3; i++) {
        await req.send(text('n'));
        await req.recv();
      }
    });
    expect(ids.every((id) => id >>> 31 === 1)).toBe(true);
    expect(ids[1]! - ids[0]!).toBe(1);
    expect(ids[2]! - ids[1]!).toBe(1);
  });

  it('sends go round-robin over ready pipes, one request in flight per pipe', async () => {
    const { a, b, drive } = lab('rrobin');
    const perPort: Record<string, number> = { '5555': 0, '6666': 0 };
    await drive(async () => {
      for (const port of ['5555', '6666']) {
        rawSpListener(a, `tcp://a:${port}`, 49, (conn, p) => {
          perPort[port]!++;
          conn.write(encodeFrame(p.subarray(0, 4)));
        });
      }
      const req = openReq0(b);
      await req.dial('tcp://a:5555');
      await req.dial('tcp://a:6666');
      for (let i = 0; i < 10; i++) {
        await req.send(text('n'));
        await req.recv();
      }
    });
    expect(perPort).toEqual({ '5555': 5, '6666': 5 });
  });

  it('the same REQ/REP scenario gives the same trace hash twice', async () => {
    const run = async (): Promise<string> => {
      const l = lab('rr-det', {
        link: { lossRate: 0.05, latency: { kind: 'uniform', minUs: 1000, maxUs: 9000 } },
        conn: { randomChunking: true },
      });
      await l.drive(async () => {
        const rep = openRep0(l.a);
        await rep.listen('tcp://a:5555');
        void serveEcho(rep);
        const req = openReq0(l.b, { options: { 'RETRY-TIME': 100 * MS } });
        await req.dial('tcp://a:5555');
        for (let i = 0; i < 20; i++) {
          await req.send(text(`m${i}`));
          await req.recv();
        }
      });
      return l.world.trace.hash();
    };
    const h = await run();
    expect(await run()).toBe(h);
  });
});

describe('raw REQ/REP and devices', () => {
  async function chain(repTtl: number): Promise<string> {
    const { a, b, drive } = lab(`chain-${repTtl}`);
    return drive(async () => {
      const rep = openRep0(a, { options: { TTL: repTtl } });
      await rep.listen('tcp://a:6003');
      void serveEcho(rep);
      const hops: [ReturnType<typeof openXRep0>, ReturnType<typeof openXReq0>][] = [];
      // Built from the REP outwards, so each device's back end has something to dial.
      for (const [front, next] of [
        ['tcp://a:6002', 'tcp://a:6003'],
        ['tcp://a:6001', 'tcp://a:6002'],
      ] as const) {
        const x = openXRep0(a);
        const y = openXReq0(a);
        await x.listen(front);
        await y.dial(next);
        device(x, y);
        hops.push([x, y]);
      }
      const req = openReq0(b, { options: { 'RECV-DEADLINE': 1 * S } });
      await req.dial('tcp://a:6001');
      await req.send(text('through two devices'));
      try {
        return str(await req.recv());
      } catch (e) {
        return (e as { code: string }).code;
      }
    });
  }

  it('23. a chain of two devices: REP with TTL 3 answers, with TTL 2 drops', async () => {
    expect(await chain(3)).toBe('re:through two devices');
    expect(await chain(2)).toBe('ErrRecvTimeout');
  });

  it('27. XREP send with a short header or an unknown pipe id is silently discarded', async () => {
    const { a, b, drive } = lab('27');
    const r = await drive(async () => {
      const x = openXRep0(a);
      await x.listen('tcp://a:5555');
      const req = openReq0(b, { options: { 'RECV-DEADLINE': 300 * MS } });
      await req.dial('tcp://a:5555');
      await req.send(text('hi'));
      const m = await x.recvMsg();
      const short = await code(x.sendMsg({ header: new Uint8Array([1, 2]), body: text('x') }));
      const unknown = await code(
        x.sendMsg({ header: new Uint8Array([0, 0, 0, 0x7f, ...m.header.subarray(4)]), body: text('y') }),
      );
      const missed = await code(req.recv());
      await req.send(text('again'));
      const m2 = await x.recvMsg();
      await x.sendMsg({ header: m2.header, body: text('right') });
      return { short, unknown, missed, right: str(await req.recv()), headerWords: m.header.length / 4 };
    });
    expect(r).toEqual({
      short: 'ok',
      unknown: 'ok',
      missed: 'ErrRecvTimeout',
      right: 'right',
      headerWords: 2,
    });
  });

  it('45. device: cooked sockets are ErrNotRaw, mismatched pairs ErrBadProto, a lone XREP is not its own peer', () => {
    const { a } = lab('45');
    expect(() => device(openRep0(a), openReq0(a))).toThrowError(
      expect.objectContaining({ code: 'ErrNotRaw' }) as Error,
    );
    expect(() => device(openXRep0(a), openXRep0(a))).toThrowError(
      expect.objectContaining({ code: 'ErrBadProto' }) as Error,
    );
    expect(() => device(openXRep0(a))).toThrowError(
      expect.objectContaining({ code: 'ErrBadProto' }) as Error,
    );
    expect(() => device(openXRep0(a), openXReq0(a))).not.toThrow();
  });
});

describe('garbage handling choice', () => {
  async function garbageTo(closes: boolean): Promise<{ dropped: number; pipes: number }> {
    const { a, b, drive } = lab(`garbage-${closes}`);
    return drive(async () => {
      const rep = openRep0(a, { options: { 'GARBAGE-CLOSES-PIPE': closes } });
      await rep.listen('tcp://a:5555');
      b.connect('tcp://a:5555', (err, conn) => {
        if (err || !conn) return;
        conn.setHandlers({});
        conn.write(encodeHandshake(48));
        conn.write(encodeFrame(new Uint8Array([0, 0, 0, 1, 0, 0, 0, 2]))); // no request-id word
      });
      await b.sleep(100 * MS);
      return { dropped: rep0Stats(rep)!.droppedRequests, pipes: rep.pipes.size };
    });
  }

  it('24. REP drops a request without an id word and keeps the pipe (mangos), or closes it (nng) on request', async () => {
    expect(await garbageTo(false)).toEqual({ dropped: 1, pipes: 1 });
    expect(await garbageTo(true)).toEqual({ dropped: 1, pipes: 0 });
  });
});
