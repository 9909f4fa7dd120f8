/**
 * inproc lifecycle: closing one side closes its peer (the peer's session-close says why), and a
 * closed listener gives its name back. (Seed-2 mutation survivors inproc.ts:40 and :168.)
 */
import { describe, expect, it } from 'vitest';
import { RingSink } from '../../../sim/trace.js';
import type { Pipe, PipeEvents } from '../core/pipe.js';
import type { SpError } from '../errors.js';
import { openPair0 } from '../protocol/pair0.js';
import { openPush0 } from '../protocol/pipeline.js';
import { code, lab, str, text } from '../testing/sim-lab.js';
import { inprocDial, inprocListen } from './inproc.js';

const MS = 1000;

describe('inproc close', () => {
  it("closes the peer's pipe too, which records 'peer closed', and frees a PAIR0 for a new peer", async () => {
    const { a, world, drive } = lab('inproc-close-peer');
    const ring = new RingSink(1000);
    world.trace.addSink(ring);
    const events: string[] = [];
    const got = await drive(async () => {
      const s = openPair0(a);
      s.setPipeEventHook((ev) => {
        events.push(ev);
      });
      await s.listen('inproc://x');
      const c = openPair0(a);
      await c.dial('inproc://x');
      await a.sleep(1 * MS);
      await c.close();
      await a.sleep(1 * MS);
      const c2 = openPair0(a);
      await c2.dial('inproc://x');
      await a.sleep(1 * MS);
      await c2.send(text('second'));
      return str(await s.recv());
    });
    expect(got).toBe('second');
    expect(events).toEqual(['attaching', 'attached', 'detached', 'attaching', 'attached']);
    const closes = ring
      .events()
      .filter((e) => e.kind === 'session-close')
      .map((e) => (e as { reason?: unknown }).reason ?? 'clean');
    expect(closes.sort()).toEqual(['clean', 'peer closed']);
  });
});

describe('inproc abort', () => {
  it('records the error as the reason on the aborting side and reports it to its owner', async () => {
    const { a, drive } = lab('inproc-abort');
    const closed: string[] = [];
    const events = (side: string): PipeEvents => ({
      onHandshake: () => undefined,
      onMessage: () => undefined,
      onReady: () => undefined,
      onClose: (_p: Pipe, e: SpError | undefined) => closed.push(`${side}:${e?.code ?? 'clean'}`),
    });
    const r = await drive(async () => {
      let listenerPipe: Pipe | undefined;
      inprocListen(a, 'ab', {
        env: a,
        protocolId: 16,
        peerProtocolId: 16,
        accept: (make) => {
          listenerPipe = make(2, events('listener'));
        },
      });
      const pipe = inprocDial(a, 'ab', { protocolId: 16, peerProtocolId: 16 }, (make) =>
        make(1, events('dialer')),
      );
      pipe.abort('ErrGarbled', 'bad frame');
      await a.sleep(1 * MS);
      return { ours: pipe.closeReason, theirs: listenerPipe?.closeReason, state: listenerPipe?.state };
    });
    expect(r).toEqual({ ours: 'ErrGarbled: bad frame', theirs: 'peer closed', state: 'closed' });
    expect(closed.sort()).toEqual(['dialer:ErrGarbled', 'listener:clean']);
  });
});

describe('inproc names', () => {
  it('a closed listener gives its name back: dials are refused, a new listener may take it', async () => {
    const { a, drive } = lab('inproc-name-freed');
    const r = await drive(async () => {
      const s = openPair0(a);
      await s.listen('inproc://x');
      await s.close();
      const dial = await openPair0(a, { options: { 'DIAL-ASYNCH': false } })
        .dial('inproc://x')
        .then(
          () => 'ok',
          (e: unknown) => (e as Error).message,
        );
      const again = await code(openPair0(a).listen('inproc://x'));
      return { dial, again };
    });
    expect(r).toEqual({ dial: 'ErrConnRefused: nothing listens at inproc://x', again: 'ok' });
  });
});

describe('inproc hand-off ids (sim/TRACE.md `handoff`)', () => {
  it("count from 1 across the world; a message's msg-send and msg-recv carry the same id", async () => {
    const { a, world, drive } = lab('inproc-handoff');
    const ring = new RingSink(1000);
    world.trace.addSink(ring);
    const got = await drive(async () => {
      const s = openPair0(a);
      await s.listen('inproc://h');
      const c = openPair0(a);
      await c.dial('inproc://h');
      await a.sleep(1 * MS);
      await c.send(text('m1'));
      await s.send(text('r1'));
      await c.send(text('m2'));
      return [str(await s.recv()), str(await c.recv()), str(await s.recv())];
    });
    expect(got).toEqual(['m1', 'r1', 'm2']);
    const ids = (kind: string): unknown[] =>
      ring
        .events()
        .filter((e) => e.kind === kind && (e as { msg?: string }).msg === 'message')
        .map((e) => (e as { handoff?: unknown }).handoff);
    expect(ids('msg-send')).toEqual([1, 2, 3]);
    expect(ids('msg-recv')).toEqual([1, 2, 3]);
  });
});

describe('inproc dial refusals', () => {
  it('a protocol that is not the listener peer: ErrBadProto naming both; nothing listening: ErrConnRefused', async () => {
    const { a, drive } = lab('inproc-bad-proto');
    const r = await drive(async () => {
      const s = openPair0(a);
      await s.listen('inproc://p');
      const said = async (p: Promise<unknown>): Promise<string> =>
        p.then(
          () => 'ok',
          (e: unknown) => (e instanceof Error ? e.message : String(e)),
        );
      return {
        wrong: await said(openPush0(a).dial('inproc://p')),
        nobody: await said(openPair0(a).dial('inproc://q')),
      };
    });
    expect(r).toEqual({
      wrong: 'ErrBadProto: inproc://p: protocol 16 cannot talk to 80',
      nobody: 'ErrConnRefused: nothing listens at inproc://q',
    });
  });
});
