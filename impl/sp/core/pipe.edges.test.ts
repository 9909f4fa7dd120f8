/**
 * Stream pipe edges the mutation sample found untested: the length field a traced frame names
 * (8 bytes on TCP, 9 on IPC, whose frames start with a type byte), and the address a listener on
 * port 0 reports once bound.
 */
import { describe, expect, it } from 'vitest';
import { RingSink } from '../../../sim/trace.js';
import { openPair0 } from '../protocol/pair0.js';
import { concatBytes } from '../../runtime/bytes.js';
import { openPull0, openPush0 } from '../protocol/pipeline.js';
import { encodeFrame } from '../wire/frames.js';
import { rawPeer } from '../testing/raw-peer.js';
import { lab, str, text } from '../testing/sim-lab.js';

const MS = 1000;
const PULL0 = 0x51;
const PUSH0 = 0x50;

describe('traced frames name their length field', () => {
  for (const [url, length] of [
    ['tcp://a:5555', 8],
    ['ipc:///tmp/edges.sock', 9],
  ] as const) {
    it(`${url.slice(0, 3)}: the length field is ${length} bytes on msg-send and msg-recv`, async () => {
      const { a, b, world, drive } = lab(`pipe-field-${length}`);
      const ring = new RingSink(1000);
      world.trace.addSink(ring);
      const got = await drive(async () => {
        const s = openPair0(a);
        const c = openPair0(url.startsWith('ipc') ? a : b);
        await s.listen(url);
        await c.dial(url);
        await c.send(text('hello'));
        return str(await s.recv());
      });
      expect(got).toBe('hello');
      const frames = ring
        .events()
        .filter(
          (e) => (e.kind === 'msg-send' || e.kind === 'msg-recv') && (e as { msg?: string }).msg === 'frame',
        )
        .map((e) => ({ kind: e.kind, fields: (e as { fields?: unknown }).fields }));
      expect(frames).toEqual([
        { kind: 'msg-send', fields: [{ name: 'length', offset: 0, length, value: 5 }] },
        { kind: 'msg-recv', fields: [{ name: 'length', offset: 0, length, value: 5 }] },
      ]);
    });
  }
});

describe('listener address', () => {
  it('reports the port a listener on port 0 was given, and dialing that address reaches it', async () => {
    const { a, b, drive } = lab('listener-port-0');
    const r = await drive(async () => {
      const s = openPair0(a);
      const l = s.newListener('tcp://a:0');
      const before = l.address;
      await l.listen();
      const after = l.address;
      const c = openPair0(b);
      await c.dial(after);
      await c.send(text('hi'));
      return { before, after, got: str(await s.recv()) };
    });
    expect(r.before).toBe('tcp://a:0');
    expect(r.after).toMatch(/^tcp:\/\/a:\d+$/);
    expect(Number(r.after.split(':').pop())).toBeGreaterThan(0);
    expect(r.got).toBe('hi');
  });
});

describe('closing a pipe with output still queued', () => {
  it('LINGER runs out behind a stalled peer: the message still arrives whole, then the connection closes cleanly', async () => {
    const { a, b, drive } = lab('pipe-close-flushes');
    const big = new Uint8Array(2 * 1024 * 1024).fill(7);
    const r = await drive(async () => {
      const push = openPush0(a, { options: { LINGER: 10 * MS } });
      await push.listen('tcp://a:5555');
      const peer = await rawPeer(b, 'tcp://a:5555', PULL0, true); // reads nothing for now
      await a.sleep(1 * MS);
      await push.send(big);
      await push.close(); // LINGER expires with most of the frame still in the pipe
      const closedEarly = peer.closed();
      peer.conn.resumeReading();
      await b.sleep(5000 * MS);
      return { closedEarly, frames: peer.frames.map((f) => f.length), closed: peer.closed() };
    });
    expect(r).toEqual({ closedEarly: null, frames: [big.length], closed: 'clean' });
  });
});

describe('why a pipe closed', () => {
  it("the peer's clean close is recorded as 'peer closed its side'", async () => {
    const { a, b, world, drive } = lab('pipe-close-reason');
    const ring = new RingSink(1000);
    world.trace.addSink(ring);
    await drive(async () => {
      const s = openPair0(a);
      const c = openPair0(b);
      await s.listen('tcp://a:5555');
      await c.dial('tcp://a:5555');
      await a.sleep(1 * MS);
      await c.close();
      await a.sleep(10 * MS);
    });
    const reasons = ring
      .events()
      .filter((e) => e.kind === 'session-close')
      .map((e) => (e as { reason?: string }).reason ?? 'own close');
    expect(reasons.sort()).toEqual(['own close', 'peer closed its side']);
  });
});

describe('a paused pipe holds what it decoded', () => {
  it('frames of one read beyond READQ-LEN wait in the pipe, then arrive in order', async () => {
    const { a, b, drive } = lab('pipe-paused-holds');
    const r = await drive(async () => {
      const pull = openPull0(a, { options: { 'READQ-LEN': 2 } });
      await pull.listen('tcp://a:5555');
      const peer = await rawPeer(b, 'tcp://a:5555', PUSH0);
      const names = ['m1', 'm2', 'm3', 'm4', 'm5', 'm6'];
      peer.conn.write(concatBytes(names.map((s) => encodeFrame(text(s))))); // one read
      await a.sleep(10 * MS);
      const queued = pull.recvQ.length;
      const got: string[] = [];
      const depths: number[] = [];
      for (let i = 0; i < names.length; i++) {
        got.push(str(await pull.recv()));
        depths.push(pull.recvQ.length); // taking one lets one held frame in: the queue stays bounded
      }
      return { queued, got, depths };
    });
    expect(r).toEqual({ queued: 2, got: ['m1', 'm2', 'm3', 'm4', 'm5', 'm6'], depths: [2, 2, 2, 2, 1, 0] });
  });
});

describe('a write refused because the peer reset the connection', () => {
  it('keeps the pipe busy: later messages wait in the socket for the next peer', async () => {
    const { a, b, drive } = lab('pipe-write-after-reset');
    const r = await drive(async () => {
      const push = openPush0(a);
      await push.listen('tcp://a:5555');
      const first = await rawPeer(b, 'tcp://a:5555', 0x51); // PULL0
      await a.sleep(10 * MS);
      first.conn.reset(); // the RST is still on its way: push's next write is refused
      await push.send(text('m1')); // lost with the connection
      await push.send(text('m2')); // the pipe is not ready: m2 waits in the socket
      await a.sleep(10 * MS);
      const second = await rawPeer(b, 'tcp://a:5555', 0x51);
      await a.sleep(10 * MS);
      return { first: first.frames.map(str), second: second.frames.map(str) };
    });
    expect(r).toEqual({ first: [], second: ['m2'] });
  });
});

/**
 * A connection that ends with a transport error closes the pipe with the matching SP code; the
 * session-close's reason says it (seed-5 survivor pipe.ts:108, never reached).
 */
describe('transport errors in the session-close reason', () => {
  /** The SP code, the layer and the transport's code a reason starts with. */
  const head = (reason: string): string => reason.split(': ').slice(0, 3).join(': ');

  async function reasons(seed: string, fault: 'reset' | 'loss'): Promise<string[]> {
    const { a, b, net, world, drive } = lab(seed);
    const ring = new RingSink(10_000);
    world.trace.addSink(ring);
    const badFrames = await drive(async () => {
      const s = openPair0(a);
      const l = s.newListener('tcp://a:5555');
      await l.listen();
      const c = openPair0(b);
      await c.dial('tcp://a:5555');
      await a.sleep(10 * MS);
      if (fault === 'reset') {
        net.resetConnection(net.connections()[0]!.id);
      } else {
        net.setLink('a', 'b', { lossRate: 1 });
        await s.send(text('lost'));
      }
      await a.sleep(300_000 * MS);
      await c.close();
      return l.stats.badFrames;
    });
    // A transport error is no bad frame (the endpoint's badFrames counts garbage only).
    expect(badFrames).toBe(0);
    return ring
      .events()
      .filter((e) => e.kind === 'session-close')
      .map((e) => String((e as { reason?: string }).reason));
  }

  it('a reset connection: ErrConnReset', async () => {
    const r = await reasons('pipe-err-reset', 'reset');
    // Both ends of the reset connection (the dialer's redialed pipe closes cleanly later).
    expect(r.slice(0, 2).map(head)).toEqual([
      'ErrConnReset: transport: ECONNRESET',
      'ErrConnReset: transport: ECONNRESET',
    ]);
  });

  it('a link that loses every retransmission: ErrTimedOut on the side that sent', async () => {
    const r = await reasons('pipe-err-timeout', 'loss');
    // The sender's retransmissions ran out (ETIMEDOUT); its peer sees the connection reset.
    expect(r.map(head)).toEqual(['ErrConnReset: transport: ECONNRESET', 'ErrTimedOut: transport: ETIMEDOUT']);
  });
});
