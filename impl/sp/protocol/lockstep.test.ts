/**
 * The lockstep side REP and RESPONDENT share (lockstep.ts), seen through REP: receive deadlines
 * that must not outlive the receive they guard, a context closed while it waits, WRITEQ-LEN 0
 * (a reply resolves only once its pipe took it), and the trace of a dropped request. (Each case
 * kills a mutant `npm run mutate` found surviving: README.)
 */
import { describe, expect, it } from 'vitest';
import { RingSink, type TraceEvent } from '../../../sim/trace.js';
import { rawPeer, word } from '../testing/raw-peer.js';
import { code, lab, str, text } from '../testing/sim-lab.js';
import { openRep0, rep0Stats } from './rep0.js';

const MS = 1000;
const S = 1_000_000;
const REQ0 = 0x30;

const fired = (events: TraceEvent[], label: string): number =>
  events.filter((e) => e.kind === 'timer-fire' && (e as { label?: string }).label === label).length;

describe('REP receive deadlines', () => {
  it('a request that arrives in time cancels the deadline of the receive it completes', async () => {
    const { a, b, world, drive } = lab('lockstep-give');
    const ring = new RingSink(10_000);
    world.trace.addSink(ring);
    const got = await drive(async () => {
      const rep = openRep0(a, { options: { 'RECV-DEADLINE': 1 * S } });
      await rep.listen('tcp://a:5555');
      const recv = rep.recv(); // waits: nothing queued yet
      const peer = await rawPeer(b, 'tcp://a:5555', REQ0);
      peer.sendFrame(word(0x80000001, 'q'));
      const r = str(await recv);
      await a.sleep(3 * S); // well past the deadline
      return r;
    });
    expect(got).toBe('q');
    expect(fired(ring.events(), 'sp-recv-deadline')).toBe(0);
  });

  it('a context closed while it waits fails its receive with ErrClosed and cancels its deadline', async () => {
    const { a, b, world, drive } = lab('lockstep-close');
    const ring = new RingSink(10_000);
    world.trace.addSink(ring);
    const r = await drive(async () => {
      const rep = openRep0(a, { options: { 'RECV-DEADLINE': 1 * S } });
      await rep.listen('tcp://a:5555');
      const c1 = rep.openContext();
      const c2 = rep.openContext();
      const closedRecv = code(c1.recv());
      const otherRecv = c2.recv();
      c1.close();
      const closed = await closedRecv;
      // The next request goes to the context still waiting, not to the closed one.
      const peer = await rawPeer(b, 'tcp://a:5555', REQ0);
      peer.sendFrame(word(0x80000001, 'q'));
      const other = str(await otherRecv);
      await a.sleep(3 * S);
      return { closed, other };
    });
    expect(r).toEqual({ closed: 'ErrClosed', other: 'q' });
    expect(fired(ring.events(), 'sp-recv-deadline')).toBe(0);
  });
});

describe('REP receive deadline expiry', () => {
  it('fails a receive nothing answered with ErrRecvTimeout at RECV-DEADLINE, on its own timer', async () => {
    const { a, world, drive } = lab('lockstep-expire');
    const ring = new RingSink(10_000);
    world.trace.addSink(ring);
    const r = await drive(async () => {
      const rep = openRep0(a, { options: { 'RECV-DEADLINE': 10 * MS } });
      await rep.listen('tcp://a:5555');
      const startUs = a.nowUs();
      let error = '';
      try {
        await rep.recv();
      } catch (e) {
        error = (e as Error).message;
      }
      return { error, afterUs: a.nowUs() - startUs };
    });
    expect(r).toEqual({ error: 'ErrRecvTimeout: no request within 10000 us', afterUs: 10 * MS });
    expect(fired(ring.events(), 'sp-recv-deadline')).toBe(1);
  });
});

describe('REP with WRITEQ-LEN 0', () => {
  it('resolves a reply only when its pipe takes it, one blocked reply at a time', async () => {
    const { a, b, drive } = lab('lockstep-writeq0');
    const big = new Uint8Array(1 << 20).fill(1); // 16 send buffers: the pipe is busy for a while
    const r = await drive(async () => {
      const rep = openRep0(a, { options: { 'WRITEQ-LEN': 0, 'MAX-RCV-SIZE': 0 } });
      await rep.listen('tcp://a:5555');
      const peer = await rawPeer(b, 'tcp://a:5555', REQ0, true); // reads nothing for now
      const ctxs = [rep.openContext(), rep.openContext(), rep.openContext()];
      const recvs = ctxs.map((c) => c.recv());
      for (let i = 1; i <= 3; i++) peer.sendFrame(word(0x80000000 + i, `q${i}`));
      await Promise.all(recvs);
      const at: number[] = [];
      const sends = ctxs.map((c, i) => c.send(i === 2 ? text('small') : big).then(() => (at[i] = a.nowUs())));
      await a.sleep(200 * MS);
      const before = [...at];
      peer.conn.resumeReading();
      await Promise.all(sends);
      return { before, at };
    });
    // The first reply went straight to the pipe; the others wait while it is busy...
    expect(r.before.filter((t) => t !== undefined)).toHaveLength(1);
    // ...and the third resolves only after the second's megabyte has gone into the connection.
    expect(r.at[2]!).toBeGreaterThan(r.at[1]!);
  });
});

describe('REP drops requests without a request id', () => {
  it('says so in the trace, naming the TTL', async () => {
    const { a, b, world, drive } = lab('rep-drop-note');
    const ring = new RingSink(10_000);
    world.trace.addSink(ring);
    await drive(async () => {
      const rep = openRep0(a, { options: { TTL: 2 } });
      await rep.listen('tcp://a:5555');
      const peer = await rawPeer(b, 'tcp://a:5555', REQ0);
      // Three hop words before the id: beyond TTL 2.
      const frame = new Uint8Array([...word(1), ...word(2), ...word(3), ...word(0x80000001, 'q')]);
      peer.sendFrame(frame);
      await a.sleep(10 * MS);
    });
    const notes = ring
      .events()
      .filter((e) => e.kind === 'note')
      .map((e) => (e as { text?: string }).text);
    expect(notes).toContain('sp rep0: dropped a request (no request id within 2 words, or garbage)');
  });
});

describe('REP receive queue (READQ-LEN)', () => {
  it('holds exactly READQ-LEN requests nobody asked for yet, then pauses the pipe; a receive resumes it', async () => {
    const { a, b, drive } = lab('lockstep-readq');
    const r = await drive(async () => {
      const rep = openRep0(a, { options: { 'READQ-LEN': 3 } });
      await rep.listen('tcp://a:5555');
      const peer = await rawPeer(b, 'tcp://a:5555', REQ0);
      for (let i = 1; i <= 6; i++) peer.sendFrame(word(0x80000000 + i, `q${i}`));
      await a.sleep(100 * MS); // every frame has arrived; nobody receives
      const queued = rep.recvQ.length;
      const got: string[] = [];
      for (let i = 0; i < 6; i++) {
        got.push(str(await rep.recv()));
        // Answer, so the request/reply state of the default context moves on to the next request.
        await rep.send(new TextEncoder().encode('ok'));
      }
      return { queued, got };
    });
    // The first three wait in the queue; the pipe holds the rest back and gives them up in order.
    expect(r.queued).toBe(3);
    expect(r.got).toEqual(['q1', 'q2', 'q3', 'q4', 'q5', 'q6']);
  });
});

/** What a promise rejects with: the SpError's message ("Code: text"), 'ok' when it resolves. */
async function said(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

describe('REP lockstep errors (seed-5 survivor lockstep.ts:60)', () => {
  it('a second recv on a context already waiting fails with ErrProtoState; the first still gets the request', async () => {
    const { a, b, drive } = lab('lockstep-twice');
    const r = await drive(async () => {
      const rep = openRep0(a);
      await rep.listen('tcp://a:5555');
      const first = rep.recv();
      const second = await said(rep.recv());
      const peer = await rawPeer(b, 'tcp://a:5555', REQ0);
      peer.sendFrame(word(0x80000001, 'q'));
      return { second, first: str(await first) };
    });
    expect(r).toEqual({ second: 'ErrProtoState: a recv is already waiting on this context', first: 'q' });
  });

  it('a recv after an unanswered request forgets it: a send after that recv timed out has nothing to answer', async () => {
    const { a, b, drive } = lab('lockstep-forget');
    const r = await drive(async () => {
      const rep = openRep0(a, { options: { 'RECV-DEADLINE': 1 * S } });
      await rep.listen('tcp://a:5555');
      const peer = await rawPeer(b, 'tcp://a:5555', REQ0);
      peer.sendFrame(word(0x80000001, 'q'));
      const got = str(await rep.recv());
      const timedOut = await code(rep.recv()); // nothing more comes
      const send = await said(rep.send(text('late')));
      await a.sleep(10 * MS);
      return { got, timedOut, send, frames: peer.frames.length };
    });
    expect(r).toEqual({
      got: 'q',
      timedOut: 'ErrRecvTimeout',
      send: 'ErrProtoState: send without a request to answer (recv first)',
      frames: 0,
    });
  });
});

describe('REP reply to a pipe that has gone', () => {
  it('the send succeeds, the reply is counted dropped and not traced as sent', async () => {
    const { a, b, world, drive } = lab('rep-gone');
    const ring = new RingSink(10_000);
    world.trace.addSink(ring);
    const r = await drive(async () => {
      const rep = openRep0(a);
      await rep.listen('tcp://a:5555');
      const peer = await rawPeer(b, 'tcp://a:5555', REQ0);
      peer.sendFrame(word(0x80000001, 'q'));
      const got = str(await rep.recv());
      peer.conn.close();
      await a.sleep(10 * MS); // the REP sees its pipe close
      const send = await said(rep.send(text('late')));
      await a.sleep(10 * MS);
      return { got, send, dropped: rep0Stats(rep)!.droppedReplies };
    });
    expect(r).toEqual({ got: 'q', send: 'ok', dropped: 1 });
    const replies = ring
      .events()
      .filter((e) => e.kind === 'msg-send' && (e as { msg?: string }).msg === 'reply');
    expect(replies).toEqual([]);
  });
});
