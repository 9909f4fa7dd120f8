/**
 * REQ0 edges the seed-2 mutation sample found untested: the message of a send deadline, and that a
 * pipe carries one unanswered request at a time even after an answered (not yet received) request
 * of another context is replaced.
 */
import { describe, expect, it } from 'vitest';
import { RingSink } from '../../../sim/trace.js';
import { SpError } from '../errors.js';
import { rawPeer } from '../testing/raw-peer.js';
import { code, lab, str, text } from '../testing/sim-lab.js';
import { openRep0 } from './rep0.js';
import { openReq0, req0Stats } from './req0.js';

const MS = 1000;
const REP0 = 49;

describe('REQ0 send deadline', () => {
  it('fails a request no pipe took with ErrSendTimeout naming the deadline', async () => {
    const { a, drive } = lab('req0-send-deadline-msg');
    const req = openReq0(a, { options: { 'SEND-DEADLINE': 5 * MS } });
    const err = await drive(async () => {
      try {
        await req.send(text('q'));
        return undefined;
      } catch (e) {
        return e;
      }
    });
    expect(err).toBeInstanceOf(SpError);
    expect((err as SpError).code).toBe('ErrSendTimeout');
    expect((err as SpError).message).toBe('ErrSendTimeout: request not sent within 5000 us');
  });
});

describe('REQ0 one unanswered request per pipe', () => {
  it('keeps a pipe busy with a request when an answered request of another context is replaced', async () => {
    const { a, b, drive } = lab('req0-busy-after-replace');
    const rep = openRep0(a);
    const req = openReq0(b);
    const r = await drive(async () => {
      await rep.listen('tcp://a:5555');
      await req.dial('tcp://a:5555');
      const c1 = req.openContext();
      const c2 = req.openContext();
      // c1's request is answered; its reply waits, unreceived, on c1.
      await c1.send(text('A'));
      expect(str(await rep.recv())).toBe('A');
      await rep.send(text('a'));
      await b.sleep(10 * MS);
      // c2's request now occupies the only pipe; the server holds it unanswered.
      await c2.send(text('B'));
      expect(str(await rep.recv())).toBe('B');
      // c1 sends again, replacing its answered request: the pipe is still B's, so C cannot go out.
      c1.setOption('SEND-DEADLINE', 20 * MS);
      return code(c1.send(text('C')));
    });
    expect(r).toBe('ErrSendTimeout');
  });
});

/** REQ with a request answered by no one: the server takes it, then closes (its pipe goes away). */
async function lostRequest(
  seed: string,
  options: Record<string, unknown>,
  waitRecv: boolean,
): Promise<{ recv: string; message: string }> {
  const { a, b, drive } = lab(seed);
  return drive(async () => {
    const rep = openRep0(a);
    const req = openReq0(b, { options });
    await rep.listen('tcp://a:5555');
    await req.dial('tcp://a:5555');
    await req.send(text('q'));
    expect(str(await rep.recv())).toBe('q');
    let pending: Promise<Uint8Array> | undefined;
    if (waitRecv) pending = req.recv();
    await rep.close();
    await b.sleep(10 * MS);
    try {
      await (pending ?? req.recv());
      return { recv: 'ok', message: '' };
    } catch (e) {
      return {
        recv: e instanceof SpError ? e.code : String(e),
        message: e instanceof SpError ? e.message : '',
      };
    }
  });
}

describe('REQ0 when the pipe carrying a request goes away', () => {
  it('FAIL-NO-PEERS: a waiting recv fails with ErrNoPeers when the last peer goes', async () => {
    const r = await lostRequest('req0-last-peer', { 'FAIL-NO-PEERS': true }, true);
    expect(r).toEqual({ recv: 'ErrNoPeers', message: 'ErrNoPeers: the last peer went away' });
  });

  it('without FAIL-NO-PEERS the request waits for another peer (the recv times out instead)', async () => {
    const r = await lostRequest('req0-last-peer-off', { 'RECV-DEADLINE': 50 * MS }, true);
    expect(r.recv).toBe('ErrRecvTimeout');
  });

  it('RETRY-TIME 0: the request fails with ErrCanceled naming it', async () => {
    const r = await lostRequest('req0-retry-0', { 'RETRY-TIME': 0 }, true);
    expect(r.recv).toBe('ErrCanceled');
    expect(r.message).toMatch(/^ErrCanceled: request [0-9a-f]{8} lost with its pipe and RETRY-TIME is 0$/);
  });

  it('FAIL-NO-PEERS: a request nobody waits on survives the last peer and is answered by the next', async () => {
    const { a, b, drive } = lab('req0-last-peer-no-waiter');
    const got = await drive(async () => {
      const rep = openRep0(a);
      const req = openReq0(b, { options: { 'FAIL-NO-PEERS': true } });
      await rep.listen('tcp://a:5555');
      await req.dial('tcp://a:5555');
      await req.send(text('q'));
      expect(str(await rep.recv())).toBe('q');
      await rep.close();
      await b.sleep(10 * MS);
      const rep2 = openRep0(a);
      await rep2.listen('tcp://a:5555');
      expect(str(await rep2.recv())).toBe('q'); // resent once the dialer is back
      await rep2.send(text('r'));
      return str(await req.recv());
    });
    expect(got).toBe('r');
  });
});

describe('REQ0 timers and the pump after a request ends', () => {
  it('a request queued under SEND-DEADLINE, sent in time, is not failed when the deadline passes', async () => {
    const { a, b, drive } = lab('req0-send-deadline-cleared');
    const r = await drive(async () => {
      const req = openReq0(b, { options: { 'SEND-DEADLINE': 50 * MS } });
      const sent = req.send(text('q')); // no peer yet: queued
      const rep = openRep0(a);
      await rep.listen('tcp://a:5555');
      await req.dial('tcp://a:5555');
      const sendCode = await code(sent);
      expect(str(await rep.recv())).toBe('q');
      await a.sleep(100 * MS); // past the send deadline
      await rep.send(text('r'));
      return { sendCode, reply: str(await req.recv()) };
    });
    expect(r).toEqual({ sendCode: 'ok', reply: 'r' });
  });

  it("a replaced request's send deadline does not fail the request that replaced it", async () => {
    const { a, b, drive } = lab('req0-replaced-deadline');
    const r = await drive(async () => {
      const req = openReq0(b, { options: { 'SEND-DEADLINE': 50 * MS } });
      const first = code(req.send(text('A'))); // queued: no peer yet
      const second = code(req.send(text('B'))); // replaces A
      const rep = openRep0(a);
      await rep.listen('tcp://a:5555');
      await req.dial('tcp://a:5555');
      expect(str(await rep.recv())).toBe('B');
      const reply = code(req.recv());
      await a.sleep(100 * MS); // past A's deadline
      await rep.send(text('b'));
      return { first: await first, second: await second, reply: await reply };
    });
    expect(r).toEqual({ first: 'ErrCanceled', second: 'ok', reply: 'ok' });
  });

  it('closing a context frees its pipe for a request another context queued', async () => {
    const { a, b, drive } = lab('req0-close-frees-pipe');
    const r = await drive(async () => {
      const rep = openRep0(a);
      const req = openReq0(b);
      await rep.listen('tcp://a:5555');
      await req.dial('tcp://a:5555');
      const c1 = req.openContext();
      const c2 = req.openContext();
      await c1.send(text('A'));
      expect(str(await rep.recv())).toBe('A'); // the only pipe carries A, unanswered
      c2.setOption('SEND-DEADLINE', 50 * MS);
      const sent = code(c2.send(text('B'))); // waits for the pipe
      await b.sleep(10 * MS);
      c1.close();
      const next = await rep.recv();
      return { sent: await sent, next: str(next) };
    });
    expect(r).toEqual({ sent: 'ok', next: 'B' });
  });
});

describe('REQ0 pipe choice', () => {
  it('skips a free pipe still stalled by a large earlier request, for a ready one', async () => {
    const { a, b, drive } = lab('req0-skip-stalled');
    const r = await drive(async () => {
      const req = openReq0(a, { options: { 'RETRY-TIME': 100 * MS, 'RECV-DEADLINE': 500 * MS } });
      await req.listen('tcp://a:5555');
      // Attach order: `live` first, then `stalled` (it never reads).
      const live = await rawPeer(b, 'tcp://a:5555', REP0);
      await a.sleep(1 * MS);
      const stalled = await rawPeer(b, 'tcp://a:5555', REP0, true);
      await a.sleep(1 * MS);
      const answer = async (): Promise<string> => {
        const i = live.frames.length;
        while (live.frames.length === i) await b.sleep(1 * MS);
        const f = live.frames[i]!;
        live.sendFrame(new Uint8Array([...f.subarray(0, 4), ...text('ok')]));
        return str(await req.recv());
      };
      await req.send(text('small')); // round-robin: to `live`
      const r1 = await answer();
      // Large: to `stalled`, whose transport takes only part of it; the pipe stays not ready.
      await req.send(new Uint8Array(4 * 1024 * 1024));
      // After RETRY-TIME it is resent on `live`; `stalled` is free again but still not ready.
      const r2 = await answer();
      // Round-robin now points at `stalled`: this request must go to `live` instead.
      await req.send(text('third'));
      const r3 = await answer();
      return [r1, r2, r3, stalled.frames.length];
    });
    expect(r).toEqual(['ok', 'ok', 'ok', 0]);
  });
});

describe('REQ0 send and recv bookkeeping', () => {
  for (const options of [{ 'SEND-DEADLINE': 50 * MS }, { 'BEST-EFFORT': true }]) {
    it(`a request that goes out at once resolves its send (${Object.keys(options)[0]})`, async () => {
      const { a, b, drive } = lab(`req0-at-once-${Object.keys(options)[0]}`);
      const r = await drive(async () => {
        const rep = openRep0(a);
        const req = openReq0(b, { options });
        await rep.listen('tcp://a:5555');
        await req.dial('tcp://a:5555');
        const sent = await code(req.send(text('q')));
        return { sent, got: str(await rep.recv()) };
      });
      expect(r).toEqual({ sent: 'ok', got: 'q' });
    });
  }

  it('a reply that arrived before recv is taken once; the next recv has no request', async () => {
    const { a, b, drive } = lab('req0-reply-once');
    const r = await drive(async () => {
      const rep = openRep0(a);
      const req = openReq0(b);
      await rep.listen('tcp://a:5555');
      await req.dial('tcp://a:5555');
      await req.send(text('q'));
      await rep.recv();
      await rep.send(text('r'));
      await b.sleep(10 * MS); // the reply waits on the context
      return { first: str(await req.recv()), second: await code(req.recv()) };
    });
    expect(r).toEqual({ first: 'r', second: 'ErrProtoState' });
  });
});

describe('REQ0 context close and garbage replies', () => {
  it('closing a context fails its waiting recv with ErrClosed and cancels its request', async () => {
    const { a, b, drive } = lab('req0-ctx-close');
    const r = await drive(async () => {
      const rep = openRep0(a);
      const req = openReq0(b);
      await rep.listen('tcp://a:5555');
      await req.dial('tcp://a:5555');
      const ctx = req.openContext();
      await ctx.send(text('q'));
      await rep.recv();
      let message = '';
      const recv = ctx.recv().catch((e: unknown) => {
        message = e instanceof SpError ? e.message : String(e);
        throw e;
      });
      ctx.close();
      const recvCode = await code(recv);
      // The request is gone: a late reply is dropped, and the pipe is free for another context.
      await rep.send(text('late'));
      const other = req.openContext();
      await other.send(text('q2'));
      return { recvCode, message, next: str(await rep.recv()) };
    });
    expect(r).toEqual({ recvCode: 'ErrClosed', message: 'ErrClosed: context closed', next: 'q2' });
  });

  it('GARBAGE-CLOSES-PIPE closes the pipe for a reply under 4 bytes, not for a 4-byte one without the top bit', async () => {
    const { a, b, world, drive } = lab('req0-garbage-boundary');
    const ring = new RingSink(10_000);
    world.trace.addSink(ring);
    const r = await drive(async () => {
      const req = openReq0(a, { options: { 'GARBAGE-CLOSES-PIPE': true, 'RECONNECT-TIME': 10_000 * MS } });
      await req.listen('tcp://a:5555');
      const peer = await rawPeer(b, 'tcp://a:5555', REP0);
      await a.sleep(1 * MS);
      peer.sendFrame(Uint8Array.of(0, 0, 0, 1)); // 4 bytes, no top bit: dropped, pipe kept
      await a.sleep(10 * MS);
      const keptAfter4 = peer.closed();
      peer.sendFrame(Uint8Array.of(0x80, 0, 0)); // 3 bytes: garbage, pipe closed
      await a.sleep(10 * MS);
      return { keptAfter4, closedAfter3: peer.closed() };
    });
    expect(r).toEqual({ keptAfter4: null, closedAfter3: 'ECONNRESET' });
    const notes = ring
      .events()
      .filter((e) => e.kind === 'note')
      .map((e) => String((e as { text?: string }).text));
    expect(notes).toEqual(
      expect.arrayContaining([
        'sp req0: dropped a reply (no top bit)',
        'sp req0: dropped a reply (shorter than 4 bytes)',
      ]),
    );
  });
});

describe('REQ0 replaced request and reply trace', () => {
  it('a replaced queued request fails with ErrCanceled saying it was replaced', async () => {
    const { a, drive } = lab('req0-replaced-message');
    const r = await drive(async () => {
      const req = openReq0(a);
      const first = req.send(text('A')).then(
        () => 'ok',
        (e: unknown) => (e as Error).message,
      );
      void req.send(text('B')).catch(() => {}); // replaces A; stays queued (no peer)
      return first;
    });
    expect(r).toBe('ErrCanceled: a new request replaced the outstanding one');
  });

  it('traces a reply with its request-id field (4 bytes at offset 0) and correlation id', async () => {
    const { a, b, world, drive } = lab('req0-reply-trace');
    const ring = new RingSink(10_000);
    world.trace.addSink(ring);
    await drive(async () => {
      const rep = openRep0(a);
      const req = openReq0(b);
      await rep.listen('tcp://a:5555');
      await req.dial('tcp://a:5555');
      await req.send(text('q'));
      await rep.recv();
      await rep.send(text('r'));
      await req.recv();
    });
    const reply = ring
      .events()
      .find(
        (e) =>
          e.kind === 'msg-recv' &&
          (e as { proto?: string }).proto === 'req0' &&
          (e as { msg?: string }).msg === 'reply',
      ) as { fields?: unknown; corr?: unknown; msg?: string; bytes?: number } | undefined;
    expect(reply?.msg).toBe('reply');
    expect(reply?.bytes).toBe(5);
    expect(reply?.fields).toEqual([{ name: 'request-id', offset: 0, length: 4, value: reply?.corr }]);
    expect(typeof reply?.corr).toBe('number');
  });
});

describe('REQ reply for no live request', () => {
  it('a reply whose id matches no request is dropped, noted and counted; the real reply still comes', async () => {
    const { a, b, world, drive } = lab('req0-unknown-reply');
    const ring = new RingSink(10_000);
    world.trace.addSink(ring);
    const r = await drive(async () => {
      const req = openReq0(a);
      await req.listen('tcp://a:5555');
      const peer = await rawPeer(b, 'tcp://a:5555', REP0);
      await a.sleep(1 * MS);
      await req.send(text('q'));
      const reply = req.recv();
      await a.sleep(10 * MS);
      const id = peer.frames[0]!.subarray(0, 4);
      peer.sendFrame(Uint8Array.of(0x80, 0, 0x12, 0x34, ...text('stray'))); // an id never used
      peer.sendFrame(Uint8Array.of(...id, ...text('answer')));
      return { got: str(await reply), dropped: req0Stats(req)!.droppedReplies };
    });
    expect(r).toEqual({ got: 'answer', dropped: 1 });
    const notes = ring
      .events()
      .filter((e) => e.kind === 'note')
      .map((e) => String((e as { text?: string }).text));
    expect(notes).toContain('sp req0: dropped a reply (unknown, stale or duplicate id)');
  });
});
