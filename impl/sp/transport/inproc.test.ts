/**
 * The inproc transport's trace names each side's protocol: registered ones by name, others (an
 * experimental id, as a new stack may use) as sp-<id>. (Kills a mutant `npm run mutate` found
 * never reached: README.)
 */
import { describe, expect, it } from 'vitest';
import { RingSink } from '../../../sim/trace.js';
import { newMessage, type Message } from '../core/message.js';
import type { Pipe, PipeEvents } from '../core/pipe.js';
import { openPair0 } from '../protocol/pair0.js';
import { lab, str, text } from '../testing/sim-lab.js';
import { inprocDial, inprocListen } from './inproc.js';

const MS = 1000;

function sink(got: string[]): PipeEvents {
  return {
    onHandshake: () => undefined,
    onMessage: (_p: Pipe, m: Message) => got.push(str(m.body)),
    onReady: () => undefined,
    onClose: () => undefined,
  };
}

describe('inproc trace names', () => {
  it('names registered protocols by name', async () => {
    const { a, world, drive } = lab('inproc-names');
    const ring = new RingSink(1000);
    world.trace.addSink(ring);
    const got = await drive(async () => {
      const s = openPair0(a);
      await s.listen('inproc://x');
      const c = openPair0(a);
      await c.dial('inproc://x');
      await c.send(text('hi'));
      return str(await s.recv());
    });
    expect(got).toBe('hi');
    const protos = ring
      .events()
      .filter((e) => e.kind === 'msg-send' || e.kind === 'msg-recv')
      .map((e) => `${e.kind}:${String((e as { proto?: string }).proto)}`);
    expect(protos).toEqual(['msg-send:pair0', 'msg-recv:pair0']);
  });

  it('names an unregistered protocol id sp-<id>', async () => {
    const { a, world, drive } = lab('inproc-unregistered');
    const ring = new RingSink(1000);
    world.trace.addSink(ring);
    const got: string[] = [];
    await drive(async () => {
      inprocListen(a, 'exp', {
        env: a,
        protocolId: 4000,
        peerProtocolId: 4001,
        accept: (make) => make(2, sink(got)),
      });
      const pipe = inprocDial(a, 'exp', { protocolId: 4001, peerProtocolId: 4000 }, (make) =>
        make(1, sink([])),
      );
      expect(pipe.send(newMessage(text('x')))).toBe(true);
      await a.sleep(1 * MS);
    });
    expect(got).toEqual(['x']);
    const protos = ring
      .events()
      .filter((e) => e.kind === 'msg-send' || e.kind === 'msg-recv')
      .map((e) => `${e.kind}:${String((e as { proto?: string }).proto)}`);
    expect(protos).toEqual(['msg-send:sp-4001', 'msg-recv:sp-4000']);
  });
});
