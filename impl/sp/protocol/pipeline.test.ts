import { describe, expect, it } from 'vitest';
import type { StreamConn } from '../../../sim/stream.js';
import { concatBytes, readU64Number } from '../../runtime/bytes.js';
import type { Env } from '../../runtime/env.js';
import { device } from '../core/device.js';
import type { Socket } from '../core/socket.js';
import { code, lab, str, text } from '../testing/sim-lab.js';
import { encodeFrame } from '../wire/frames.js';
import { encodeHandshake } from '../wire/handshake.js';
import { openPair0 } from './pair0.js';
import { openPull0, openPush0, openXPull0, openXPush0, pull0Stats, push0Stats } from './pipeline.js';

const MS = 1000;
const S = 1_000_000;

/** A raw SP peer listening on `env`: answers the handshake as `proto`, records the bytes and frames it gets. */
function rawSpListener(
  env: Env,
  address: string,
  proto: number,
): { bytes: number[]; frames: Uint8Array[]; conns: StreamConn[] } {
  const seen = { bytes: [] as number[], frames: [] as Uint8Array[], conns: [] as StreamConn[] };
  env.listen(
    address,
    (conn) => {
      seen.conns.push(conn);
      let buf = new Uint8Array(0);
      let handshaken = false;
      conn.setHandlers({
        onData: (b) => {
          seen.bytes.push(...b);
          buf = concatBytes([buf, b]);
          if (!handshaken && buf.length >= 8) {
            handshaken = true;
            buf = buf.subarray(8);
          }
          while (handshaken && buf.length >= 8) {
            const len = readU64Number(buf, 0);
            if (buf.length < 8 + len) break;
            seen.frames.push(buf.slice(8, 8 + len));
            buf = buf.subarray(8 + len);
          }
        },
      });
      conn.write(encodeHandshake(proto));
    },
    () => undefined,
  );
  return seen;
}

/** Receives until RECV-DEADLINE passes with nothing new; returns the first byte of each message. */
async function drain(pull: Socket): Promise<number[]> {
  const got: number[] = [];
  for (;;) {
    try {
      got.push((await pull.recv())[0]!);
    } catch {
      return got;
    }
  }
}

describe('PUSH0 / PULL0 with queue lengths 0 (found by the edge draws of the backpressure family)', () => {
  it('READQ-LEN 0: a paused pipe resumes once the application took the message in hand', async () => {
    const { a, b, drive } = lab('readq-0');
    const r = await drive(async () => {
      const pull = openPull0(a, { options: { 'READQ-LEN': 0, 'RECV-DEADLINE': S } });
      await pull.listen('tcp://a:5555');
      const push = openPush0(b);
      await push.dial('tcp://a:5555');
      for (let i = 0; i < 4; i++) await push.send(Uint8Array.of(i));
      await b.sleep(50 * MS); // every message is in before the application reads
      return drain(pull);
    });
    expect(r).toEqual([0, 1, 2, 3]);
  });

  it('WRITEQ-LEN 0: a waiting send goes out when a pipe attaches (PAIR0 and PUSH0)', async () => {
    const { a, b, drive } = lab('writeq-0');
    const r = await drive(async () => {
      const got: number[][] = [];
      for (const [port, open, openPeer] of [
        [5555, openPair0, openPair0],
        [5556, openPush0, openPull0],
      ] as const) {
        const sender = open(b, { options: { 'WRITEQ-LEN': 0, 'DIAL-ASYNCH': true } });
        const sent = sender.send(Uint8Array.of(port - 5500)); // no pipe yet: waits
        await sender.dial(`tcp://a:${port}`);
        await b.sleep(10 * MS);
        const receiver = openPeer(a, { options: { 'RECV-DEADLINE': S } });
        await receiver.listen(`tcp://a:${port}`);
        await sent;
        got.push(await drain(receiver));
      }
      return got;
    });
    expect(r).toEqual([[55], [56]]);
  });
});

describe('PUSH0 / PULL0 over the simulated network', () => {
  it('pushes messages in order, including empty and large ones', async () => {
    const { a, b, drive } = lab('basic', { conn: { randomChunking: true, partialWriteProbability: 0.3 } });
    const r = await drive(async () => {
      const pull = openPull0(a);
      await pull.listen('tcp://a:5555');
      const push = openPush0(b);
      await push.dial('tcp://a:5555');
      for (const m of ['one', '', 'three']) await push.send(text(m));
      await push.send(new Uint8Array(300_000).fill(7));
      const seen = [str(await pull.recv()), str(await pull.recv()), str(await pull.recv())];
      const big = await pull.recv();
      return { seen, big: [big.length, big[0], big[299_999]] };
    });
    expect(r).toEqual({ seen: ['one', '', 'three'], big: [300_000, 7, 7] });
  });

  it('1. PUSH announces 0x0050 and sends bare payloads (no protocol header)', async () => {
    const { a, b, drive } = lab('wire');
    const r = await drive(async () => {
      const seen = rawSpListener(a, 'tcp://a:5555', 0x51);
      const push = openPush0(b);
      await push.dial('tcp://a:5555');
      await push.send(text('job1'));
      await b.sleep(20 * MS);
      return { header: seen.bytes.slice(0, 8), frames: seen.frames.map(str) };
    });
    expect(r.header).toEqual([0x00, 0x53, 0x50, 0x00, 0x00, 0x50, 0x00, 0x00]);
    expect(r.frames).toEqual(['job1']);
  });

  it('3. a peer of the wrong protocol is refused: PUSH to PUSH is ErrBadProto', async () => {
    const { a, b, drive } = lab('proto');
    const r = await drive(async () => {
      await openPush0(a).listen('tcp://a:5555');
      await openPull0(a).listen('tcp://a:5556');
      return [await code(openPush0(b).dial('tcp://a:5555')), await code(openPull0(b).dial('tcp://a:5556'))];
    });
    expect(r).toEqual(['ErrBadProto', 'ErrBadProto']);
  });

  it('32. PUSH recv and PULL send are ErrProtoOp; neither has contexts', async () => {
    const { a, drive } = lab('protoop');
    const push = openPush0(a);
    const pull = openPull0(a);
    const r = await drive(async () => [await code(push.recv()), await code(pull.send(text('x')))]);
    expect(r).toEqual(['ErrProtoOp', 'ErrProtoOp']);
    expect(() => push.openContext()).toThrowError(expect.objectContaining({ code: 'ErrProtoOp' }) as Error);
    expect(() => pull.openContext()).toThrowError(expect.objectContaining({ code: 'ErrProtoOp' }) as Error);
  });

  it('defaults: WRITEQ-LEN and READQ-LEN 128 (mangos); FAIL-NO-PEERS is a PUSH option only', () => {
    const { a } = lab('defaults');
    const push = openPush0(a);
    const pull = openPull0(a);
    expect([push.getOption('WRITEQ-LEN'), pull.getOption('READQ-LEN')]).toEqual([128, 128]);
    expect(push.getOption('FAIL-NO-PEERS')).toBe(false);
    expect(() => pull.setOption('FAIL-NO-PEERS', true)).toThrowError(
      expect.objectContaining({ code: 'ErrBadOption' }) as Error,
    );
    expect(() => push.setOption('WRITEQ-LEN', -1)).toThrowError(
      expect.objectContaining({ code: 'ErrBadValue' }) as Error,
    );
    expect(() => push.setOption('FAIL-NO-PEERS', 1)).toThrowError(
      expect.objectContaining({ code: 'ErrBadValue' }) as Error,
    );
  });

  it('35. PUSH round-robins over equally fast pullers: each gets every third message', async () => {
    const l = lab('rr');
    const c = l.net.addHost('c').env;
    const d = l.net.addHost('d').env;
    const r = await l.drive(async () => {
      const push = openPush0(l.a);
      await push.listen('tcp://a:5555');
      const pulls = [l.b, c, d].map((env) => openPull0(env, { options: { 'RECV-DEADLINE': 200 * MS } }));
      for (const p of pulls) {
        await p.dial('tcp://a:5555');
        await l.a.sleep(5 * MS); // attach in a known order
      }
      for (let i = 0; i < 60; i++) await push.send(new Uint8Array([i]));
      return Promise.all(pulls.map(drain));
    });
    expect(r.map((g) => g.length)).toEqual([20, 20, 20]);
    // Each puller's share is one residue class, in order: strict rotation, nothing lost or doubled.
    const firsts = r.map((g) => g[0]!);
    expect([...firsts].sort()).toEqual([0, 1, 2]);
    r.forEach((g, k) => expect(g).toEqual(Array.from({ length: 20 }, (_, i) => firsts[k]! + 3 * i)));
  });

  it('35. a stalled puller does not hold up the others: only ready pipes get messages', async () => {
    const l = lab('stalled', { conn: { sendBufferBytes: 4096, recvBufferBytes: 4096 } });
    const c = l.net.addHost('c').env;
    const r = await l.drive(async () => {
      const push = openPush0(l.a, { options: { 'WRITEQ-LEN': 4 } });
      await push.listen('tcp://a:5555');
      const stalled = openPull0(l.b, { options: { 'READQ-LEN': 1 } });
      const fast = openPull0(c, { options: { 'RECV-DEADLINE': 300 * MS } });
      await stalled.dial('tcp://a:5555');
      await fast.dial('tcp://a:5555');
      const sending = (async () => {
        for (let i = 0; i < 200; i++) await push.send(new Uint8Array(1000).fill(i));
      })();
      const fastGot = await drain(fast);
      await sending;
      stalled.setOption('RECV-DEADLINE', 300 * MS);
      const stalledGot = await drain(stalled);
      return {
        fast: fastGot.length,
        stalled: stalledGot.length,
        all: [...fastGot, ...stalledGot].sort((x, y) => x - y),
      };
    });
    expect(r.fast).toBeGreaterThan(150);
    expect(r.fast + r.stalled).toBe(200);
    expect(r.all).toEqual(Array.from({ length: 200 }, (_, i) => i & 0xff));
  });

  it('36. with no peers, WRITEQ-LEN sends succeed, then block and time out; BEST-EFFORT drops only when full; the queue flushes to a late puller', async () => {
    const { a, b, drive } = lab('nopeers');
    const r = await drive(async () => {
      const push = openPush0(b, { options: { 'WRITEQ-LEN': 4, 'SEND-DEADLINE': 100 * MS } });
      const results: string[] = [];
      for (let i = 0; i < 4; i++) results.push(await code(push.send(new Uint8Array([i]))));
      const t0 = b.nowUs();
      results.push(await code(push.send(new Uint8Array([4]))));
      const timedOutAfterUs = b.nowUs() - t0;
      push.setOption('BEST-EFFORT', true);
      const t1 = b.nowUs();
      results.push(await code(push.send(new Uint8Array([5])))); // full: dropped, returns at once
      const bestEffortUs = b.nowUs() - t1;
      const pull = openPull0(a, { options: { 'RECV-DEADLINE': 200 * MS } });
      await pull.listen('tcp://a:5555');
      await push.dial('tcp://a:5555', { 'DIAL-ASYNCH': true });
      const got = await drain(pull);
      return { results, timedOutAfterUs, bestEffortUs, got, sent: push0Stats(push)!.sent };
    });
    expect(r.results).toEqual(['ok', 'ok', 'ok', 'ok', 'ErrSendTimeout', 'ok']);
    expect(r.timedOutAfterUs).toBe(100 * MS);
    expect(r.bestEffortUs).toBe(0);
    expect(r.got).toEqual([0, 1, 2, 3]); // mangos#268: the queue bursts out once a puller appears
    expect(r.sent).toBe(4);
  });

  it('36. the default WRITEQ-LEN: 128 sends succeed with no peer, the 129th blocks', async () => {
    const { b, drive } = lab('nopeers128');
    const r = await drive(async () => {
      const push = openPush0(b, { options: { 'SEND-DEADLINE': 10 * MS } });
      const results: string[] = [];
      for (let i = 0; i < 129; i++) results.push(await code(push.send(new Uint8Array([i]))));
      return results;
    });
    expect(r.slice(0, 128).every((x) => x === 'ok')).toBe(true);
    expect(r[128]).toBe('ErrSendTimeout');
  });

  it('WRITEQ-LEN 0 (nng): a send with no puller waits for one, then goes through (regression: it waited forever)', async () => {
    const { a, b, drive } = lab('writeq0');
    const r = await drive(async () => {
      const push = openPush0(b, { options: { 'WRITEQ-LEN': 0, 'DIAL-ASYNCH': true } });
      await push.listen('tcp://b:5555');
      const sending = push.send(text('waits'));
      await b.sleep(50 * MS);
      const pull = openPull0(a);
      await pull.dial('tcp://b:5555');
      await sending;
      await push.send(text('and the next'));
      return [str(await pull.recv()), str(await pull.recv())];
    });
    expect(r).toEqual(['waits', 'and the next']);
  });

  it('FAIL-NO-PEERS: a send with no pipe is ErrNoPeers; with a puller it goes through', async () => {
    const { a, b, drive } = lab('failnopeers');
    const r = await drive(async () => {
      const push = openPush0(b, { options: { 'FAIL-NO-PEERS': true } });
      const first = await code(push.send(text('nobody')));
      const pull = openPull0(a);
      await pull.listen('tcp://a:5555');
      await push.dial('tcp://a:5555');
      const second = await code(push.send(text('somebody')));
      return { first, second, got: str(await pull.recv()) };
    });
    expect(r).toEqual({ first: 'ErrNoPeers', second: 'ok', got: 'somebody' });
  });

  it('37. PULL never drops: a full receive queue stops reading, PUSH blocks, and resumes when PULL catches up', async () => {
    const { a, b, drive } = lab('pullbp', {
      conn: { sendBufferBytes: 4096, recvBufferBytes: 4096, randomChunking: true },
    });
    const r = await drive(async () => {
      const pull = openPull0(a, { options: { 'READQ-LEN': 2 } });
      await pull.listen('tcp://a:5555');
      const push = openPush0(b, { options: { 'WRITEQ-LEN': 4 } });
      await push.dial('tcp://a:5555');
      let accepted = 0;
      const sending = (async () => {
        for (let i = 0; i < 100; i++) {
          await push.send(new Uint8Array(1000).fill(i));
          accepted++;
        }
      })();
      await b.sleep(2 * S); // PULL's application does not read meanwhile
      const acceptedWhileStalled = accepted;
      const queuedWhileStalled = pull.recvQ.length;
      pull.setOption('RECV-DEADLINE', 500 * MS);
      const got = await drain(pull);
      await sending;
      return { acceptedWhileStalled, queuedWhileStalled, got, stats: { ...pull0Stats(pull)! } };
    });
    // Blocked: 2 queued + what the 4 KiB windows and WRITEQ-LEN hold, far from all 100.
    expect(r.acceptedWhileStalled).toBeLessThan(20);
    expect(r.queuedWhileStalled).toBeLessThanOrEqual(2);
    expect(r.got).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(r.stats).toEqual({ received: 100, dropped: 0 });
  });

  it('37. READQ-LEN 0: a PULL whose queue is empty resumes its paused pipe, so a burst all arrives', async () => {
    // Found by the impolite family (impolite/fan-in): with READQ-LEN 0 the queue counted as full even
    // when empty (0 >= 0), so the pipe paused by a message that found no waiting recv never resumed.
    const { a, b, drive } = lab('readq0', { conn: { sendBufferBytes: 2067, recvBufferBytes: 2048 } });
    const r = await drive(async () => {
      const pull = openPull0(a, { options: { 'READQ-LEN': 0, 'RECV-DEADLINE': 500 * MS } });
      await pull.listen('tcp://a:5555');
      const push = openPush0(b);
      await push.dial('tcp://a:5555');
      // A frame that overfills the window, then small ones: the first small one arrives in the same
      // chunk as the end of the big one and finds no recv waiting (the queue takes it, the pipe pauses).
      for (let i = 0; i < 3; i++) await push.send(new Uint8Array(i === 0 ? 2047 : 4).fill(i));
      return drain(pull);
    });
    expect(r).toEqual([0, 1, 2]);
  });

  it('bad input: frames a PULL peer sends to PUSH are discarded and counted, the pipe kept', async () => {
    const { a, b, drive } = lab('upstream');
    const r = await drive(async () => {
      const seen = rawSpListener(a, 'tcp://a:5555', 0x51);
      const push = openPush0(b);
      await push.dial('tcp://a:5555');
      await b.sleep(5 * MS);
      seen.conns[0]!.write(encodeFrame(text('not for you')));
      seen.conns[0]!.write(encodeFrame(new Uint8Array(0)));
      await b.sleep(20 * MS);
      await push.send(text('still here'));
      await b.sleep(20 * MS);
      return { frames: seen.frames.map(str), stats: { ...push0Stats(push)! }, pipes: push.pipes.size };
    });
    expect(r).toEqual({ frames: ['still here'], stats: { sent: 1, discardedFromPeer: 2 }, pipes: 1 });
  });

  it('a lost puller: later messages go to the pullers still there', async () => {
    const l = lab('loss');
    const c = l.net.addHost('c').env;
    const r = await l.drive(async () => {
      const push = openPush0(l.a);
      await push.listen('tcp://a:5555');
      const gone = openPull0(l.b);
      const stays = openPull0(c, { options: { 'RECV-DEADLINE': 200 * MS } });
      await gone.dial('tcp://a:5555');
      await stays.dial('tcp://a:5555');
      await l.a.sleep(10 * MS);
      await gone.close();
      await l.a.sleep(10 * MS);
      for (let i = 0; i < 10; i++) await push.send(new Uint8Array([i]));
      return { got: await drain(stays), pipes: push.pipes.size };
    });
    expect(r).toEqual({ got: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], pipes: 1 });
  });

  it('inproc and ipc carry the pipeline too', async () => {
    const { a, drive } = lab('local', { conn: { randomChunking: true } });
    const r = await drive(async () => {
      const out: string[] = [];
      for (const url of ['inproc://pipe', 'ipc:///tmp/pipe.sock']) {
        const pull = openPull0(a);
        await pull.listen(url);
        const push = openPush0(a);
        await push.dial(url);
        await push.send(text(`via ${url}`));
        out.push(str(await pull.recv()));
      }
      return out;
    });
    expect(r).toEqual(['via inproc://pipe', 'via ipc:///tmp/pipe.sock']);
  });

  it('raw XPUSH / XPULL: RAW set, same behaviour; a device forwards PUSH -> [XPULL | XPUSH] -> PULL', async () => {
    const l = lab('raw');
    const c = l.net.addHost('c').env;
    const r = await l.drive(async () => {
      const front = openXPull0(l.a);
      const back = openXPush0(l.a);
      await front.listen('tcp://a:5555');
      await back.listen('tcp://a:5556');
      void device(front, back).done;
      const pull = openPull0(c);
      await pull.dial('tcp://a:5556');
      const push = openPush0(l.b);
      await push.dial('tcp://a:5555');
      for (const m of ['x1', 'x2', 'x3']) await push.send(text(m));
      const got = [str(await pull.recv()), str(await pull.recv()), str(await pull.recv())];
      return { raw: [front.getOption('RAW'), back.getOption('RAW'), push.getOption('RAW')], got };
    });
    expect(r).toEqual({ raw: [true, true, false], got: ['x1', 'x2', 'x3'] });
    expect(() => device(openPush0(l.a), openPull0(l.a))).toThrowError(
      expect.objectContaining({ code: 'ErrNotRaw' }) as Error,
    );
    expect(() => device(openXPush0(l.a), openXPush0(l.a))).toThrowError(
      expect.objectContaining({ code: 'ErrBadProto' }) as Error,
    );
  });

  it('the same PUSH/PULL scenario gives the same trace hash twice', async () => {
    const run = async (): Promise<string> => {
      const l = lab('det', {
        link: { lossRate: 0.05, latency: { kind: 'uniform', minUs: 1000, maxUs: 9000 } },
        conn: { randomChunking: true, partialWriteProbability: 0.2 },
      });
      const c = l.net.addHost('c').env;
      await l.drive(async () => {
        const push = openPush0(l.a);
        await push.listen('tcp://a:5555');
        const pulls = [l.b, c].map((env) => openPull0(env, { options: { 'RECV-DEADLINE': 2 * S } }));
        for (const p of pulls) await p.dial('tcp://a:5555');
        for (let i = 0; i < 30; i++) await push.send(new Uint8Array(1 + i * 37).fill(i));
        const got = (await Promise.all(pulls.map(drain))).flat();
        expect(got.sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, i) => i));
      });
      return l.world.trace.hash();
    };
    const h1 = await run();
    expect(await run()).toBe(h1);
  });
});
