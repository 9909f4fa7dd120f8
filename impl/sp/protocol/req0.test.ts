/**
 * REQ0 edges: the request-id boundary at the top bit, a second receive on one context, the state a
 * failed request leaves behind, and what a peer's garbage does with GARBAGE-CLOSES-PIPE (REQ,
 * SURVEYOR, PAIR1: the pipe closes with ErrGarbled). (Each case kills a mutant `npm run mutate`
 * found surviving: README.)
 */
import { describe, expect, it } from 'vitest';
import { RingSink } from '../../../sim/trace.js';
import type { Socket } from '../core/socket.js';
import { SpError } from '../errors.js';
import { rawPeer, word } from '../testing/raw-peer.js';
import { code, lab, str, text } from '../testing/sim-lab.js';
import { openPair1 } from './pair1.js';
import { openRep0 } from './rep0.js';
import { openReq0, replyIdOf, Req0, req0Stats } from './req0.js';
import { openSurveyor0 } from './survey.js';

const MS = 1000;
const MSB = 0x8000_0000;

/** A REQ whose first request id is the counter's wrap: exactly the top bit, 0x80000000. */
class WrapReq0 extends Req0 {
  private first = true;
  protected override newId(): number {
    if (!this.first) return super.newId();
    this.first = false;
    return MSB;
  }
}

async function failure(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return e instanceof SpError ? e.message : String(e);
  }
}

describe('REQ0 request ids at the top bit', () => {
  it('reads a reply id only when the top bit is set', () => {
    expect(replyIdOf(word(MSB))).toBe(MSB);
    expect(replyIdOf(word(0xffff_ffff))).toBe(0xffff_ffff);
    expect(replyIdOf(word(MSB - 1))).toBeUndefined();
    expect(replyIdOf(Uint8Array.of(0x80, 0, 0))).toBeUndefined();
  });

  it('matches the reply to a request whose id is exactly 0x80000000', async () => {
    const { a, b, drive } = lab('req-id-wrap');
    const r = await drive(async () => {
      const rep = openRep0(a);
      await rep.listen('tcp://a:5555');
      const req = openReq0(b, {}, (s: Socket) => new WrapReq0(s));
      await req.dial('tcp://a:5555');
      await req.send(text('q'));
      const q = await rep.recv();
      await rep.send(text(`re:${str(q)}`));
      return str(await req.recv());
    });
    expect(r).toBe('re:q');
  });
});

describe('REQ0 context bookkeeping', () => {
  it('refuses a second receive on a context with ErrProtoState; the first still gets the reply', async () => {
    const { a, b, drive } = lab('req-double-recv');
    const r = await drive(async () => {
      const rep = openRep0(a);
      await rep.listen('tcp://a:5555');
      const req = openReq0(b);
      await req.dial('tcp://a:5555');
      await req.send(text('q'));
      const first = req.recv();
      const second = await Promise.all([code(req.recv()), failure(req.recv())]);
      await rep.send(await rep.recv());
      return { second, first: str(await first) };
    });
    expect(r).toEqual({
      second: ['ErrProtoState', 'ErrProtoState: a recv is already waiting on this context'],
      first: 'q',
    });
  });

  it('a request that failed to go out leaves nothing outstanding: recv is ErrProtoState at once', async () => {
    const { b, drive } = lab('req-send-timeout');
    const r = await drive(async () => {
      const req = openReq0(b, { options: { 'SEND-DEADLINE': 100 * MS } });
      const sent = await code(req.send(text('q'))); // no peer: it never goes out
      const before = b.nowUs();
      const recv = await code(req.recv());
      return { sent, recv, waited: b.nowUs() - before };
    });
    expect(r).toEqual({ sent: 'ErrSendTimeout', recv: 'ErrProtoState', waited: 0 });
  });
});

describe('GARBAGE-CLOSES-PIPE', () => {
  const closeReasons = (ring: RingSink): string[] =>
    ring
      .events()
      .filter((e) => e.kind === 'session-close')
      .map((e) => String((e as { reason?: unknown }).reason));

  it('a SURVEYOR closes a pipe whose response has no survey id, with ErrGarbled', async () => {
    const { a, b, world, drive } = lab('garbage-surveyor');
    const ring = new RingSink(10_000);
    world.trace.addSink(ring);
    await drive(async () => {
      const s = openSurveyor0(a, { options: { 'GARBAGE-CLOSES-PIPE': true } });
      await s.listen('tcp://a:5555');
      const peer = await rawPeer(b, 'tcp://a:5555', 99);
      await a.sleep(10 * MS);
      await s.send(text('survey?'));
      await a.sleep(10 * MS);
      peer.sendFrame(Uint8Array.of(1, 2)); // shorter than a survey id
      await a.sleep(10 * MS);
    });
    expect(closeReasons(ring)).toContain(
      'ErrGarbled: response without a survey id word (GARBAGE-CLOSES-PIPE)',
    );
  });

  it('a PAIR1 closes a pipe whose frame has no hop count, with ErrGarbled', async () => {
    const { a, b, world, drive } = lab('garbage-pair1');
    const ring = new RingSink(10_000);
    world.trace.addSink(ring);
    const badFrames = await drive(async () => {
      const p = openPair1(a, { options: { 'GARBAGE-CLOSES-PIPE': true } });
      const l = p.newListener('tcp://a:5555');
      await l.listen();
      const peer = await rawPeer(b, 'tcp://a:5555', 17);
      peer.sendFrame(Uint8Array.of(1, 2));
      await a.sleep(10 * MS);
      return l.stats.badFrames;
    });
    expect(closeReasons(ring)).toContain('ErrGarbled: pair1 frame without a hop count (GARBAGE-CLOSES-PIPE)');
    // A pipe closed for garbage counts as a bad frame at its endpoint.
    expect(badFrames).toBe(1);
  });
});

describe('REQ0 resends in the trace', () => {
  const sends = (ring: RingSink): string[] =>
    ring
      .events()
      .filter((e) => e.kind === 'msg-send' && (e as { proto?: string }).proto === 'req0')
      .filter((e) => (e as { msg?: string }).msg !== 'frame') // the pipe's own frame events
      .map((e) => `${e.tUs}:${String((e as { msg?: string }).msg)}`);

  it('labels the first transmission a request and each one after it a resend, RETRY-TIME apart', async () => {
    const { a, b, world, drive } = lab('req-resend-trace');
    const ring = new RingSink(10_000);
    world.trace.addSink(ring);
    const stats = await drive(async () => {
      const rep = openRep0(a);
      await rep.listen('tcp://a:5555');
      const req = openReq0(b, { options: { 'RETRY-TIME': 100 * MS } });
      await req.dial('tcp://a:5555');
      await b.sleep(10 * MS);
      await req.send(text('q'));
      await b.sleep(250 * MS); // the REP never answers: two resends
      return { ...req0Stats(req) };
    });
    expect(stats).toEqual({ droppedReplies: 0, sends: 3, resends: 2 });
    const got = sends(ring);
    expect(got.map((s) => s.split(':')[1])).toEqual(['request', 'request (resend)', 'request (resend)']);
    const times = got.map((s) => Number(s.split(':')[0]));
    expect([times[1]! - times[0]!, times[2]! - times[1]!]).toEqual([100 * MS, 100 * MS]);
  });

  it('RETRY-TIME 0 never resends and arms no resend timer', async () => {
    const { a, b, world, drive } = lab('req-no-resend');
    const ring = new RingSink(10_000);
    world.trace.addSink(ring);
    await drive(async () => {
      const rep = openRep0(a);
      await rep.listen('tcp://a:5555');
      const req = openReq0(b, { options: { 'RETRY-TIME': 0 } });
      await req.dial('tcp://a:5555');
      await req.send(text('q'));
      await b.sleep(5 * 60 * 1_000_000);
    });
    expect(sends(ring).map((s) => s.split(':')[1])).toEqual(['request']);
    const resendTimers = ring
      .events()
      .filter((e) => e.kind === 'timer-set' && (e as { label?: string }).label === 'sp-req-resend');
    expect(resendTimers).toEqual([]);
  });
});

describe('a pipe whose connection breaks', () => {
  it('closes with the transport error mapped to an SP code: a peer reset is ErrConnReset', async () => {
    const { a, b, world, drive } = lab('pipe-reset');
    const ring = new RingSink(10_000);
    world.trace.addSink(ring);
    await drive(async () => {
      const rep = openRep0(a);
      await rep.listen('tcp://a:5555');
      const peer = await rawPeer(b, 'tcp://a:5555', 0x30);
      await a.sleep(10 * MS);
      peer.conn.reset();
      await a.sleep(10 * MS);
    });
    const reasons = ring
      .events()
      .filter((e) => e.kind === 'session-close')
      .map((e) => String((e as { reason?: unknown }).reason));
    expect(reasons).toHaveLength(1);
    expect(reasons[0]).toMatch(/^ErrConnReset: transport: /);
  });
});

describe('REQ0 close with requests of several contexts', () => {
  it('fails a request still queued behind a busy pipe with ErrClosed, never sending it while the contexts close', async () => {
    // Closing context 1 frees the only pipe; the close must not hand it context 2's queued request
    // (found on real sockets by impolite.close-fails-pending: the send ended accepted after close).
    const { a, b, drive } = lab('req-close-contexts');
    const r = await drive(async () => {
      const req = openReq0(a);
      await req.listen('tcp://a:5555');
      const peer = await rawPeer(b, 'tcp://a:5555', 0x31);
      await a.sleep(10 * MS);
      const c1 = req.openContext();
      const c2 = req.openContext();
      const first = code(c1.send(text('one')));
      await a.sleep(1 * MS);
      const second = code(c2.send(text('two')));
      await a.sleep(1 * MS);
      const closing = req.close();
      const codes = [await first, await second];
      await closing;
      await a.sleep(10 * MS);
      return { codes, frames: peer.frames.map((f) => str(f.subarray(4))) };
    });
    expect(r.codes).toEqual(['ok', 'ErrClosed']);
    expect(r.frames).toEqual(['one']);
  });
});
