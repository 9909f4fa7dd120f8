/**
 * Close with LINGER on the protocols that queue per pipe (BUS, PUB, STAR, polyamorous PAIR1, REP, RESPONDENT,
 * SURVEYOR): a socket closed with a big message still being written and another queued behind it
 * settles once both reached the transport, long before LINGER runs out, and the peer gets both.
 * (The close path was only tested on PUSH, with the core's queue; these protocols keep their own
 * queues per pipe. Their own socket.pipeDrained() calls in pipeReady are redundant: the endpoint
 * calls it right after every protocol.pipeReady.)
 */
import { describe, expect, it } from 'vitest';
import type { Socket } from '../core/socket.js';
import type { Env } from '../../runtime/env.js';
import { RingSink } from '../../../sim/trace.js';
import { lab, str, text } from '../testing/sim-lab.js';
import { openBus0 } from './bus.js';
import { openPair1 } from './pair1.js';
import { openPub0, openSub0 } from './pubsub.js';
import { openRep0 } from './rep0.js';
import { openReq0 } from './req0.js';
import { openStar } from './star.js';
import { openRespondent0, openSurveyor0 } from './survey.js';

const S = 1_000_000;
const MS = 1000;
const BIG = 1 << 20; // 16 send buffers: the pipe stays busy for a while
const LINGER = 30 * S;
const ADDR = 'tcp://a:5555';

interface Case {
  name: string;
  /** Opens the sender on a (listening) and the receiver on b (dialed); returns what b received. */
  run(a: Env, b: Env): Promise<{ sender: Socket; received: Promise<string[]> }>;
}

const recvTwo = async (s: Socket): Promise<string[]> => {
  const first = await s.recv();
  const second = await s.recv();
  return [`${first.length} bytes`, str(second)];
};

/** A sender that sends BIG then 'small' to one dialed peer. */
function simple(name: string, openSender: (env: Env) => Socket, openPeer: (env: Env) => Socket): Case {
  return {
    name,
    async run(a, b) {
      const sender = openSender(a);
      await sender.listen(ADDR);
      const peer = openPeer(b);
      await peer.dial(ADDR);
      await a.sleep(10 * MS);
      await sender.send(new Uint8Array(BIG));
      await sender.send(text('small'));
      return { sender, received: recvTwo(peer) };
    },
  };
}

const rcv = { 'MAX-RCV-SIZE': 0 };
const cases: Case[] = [
  simple(
    'BUS',
    (e) => openBus0(e, { options: { LINGER } }),
    (e) => openBus0(e, { options: rcv }),
  ),
  simple(
    'PUB',
    (e) => openPub0(e, { options: { LINGER } }),
    (e) => openSub0(e, { options: { ...rcv, SUBSCRIBE: new Uint8Array(0) } }), // everything
  ),
  simple(
    'STAR',
    (e) => openStar(e, { options: { LINGER } }),
    (e) => openStar(e, { options: rcv }),
  ),
  simple(
    'PAIR1 (polyamorous)',
    (e) => openPair1(e, { options: { LINGER, POLYAMOROUS: true } }),
    (e) => openPair1(e, { options: rcv }),
  ),
  {
    name: 'REP',
    async run(a, b) {
      const sender = openRep0(a, { options: { LINGER } });
      await sender.listen(ADDR);
      const req = openReq0(b, { options: rcv });
      await req.dial(ADDR);
      const [c1, c2] = [req.openContext(), req.openContext()];
      await c1.send(text('q1'));
      await c2.send(text('q2'));
      const [r1, r2] = [sender.openContext(), sender.openContext()];
      await r1.recv();
      await r2.recv();
      await r1.send(new Uint8Array(BIG));
      await r2.send(text('small'));
      const received = (async () => [`${(await c1.recv()).length} bytes`, str(await c2.recv())])();
      return { sender, received };
    },
  },
  {
    name: 'RESPONDENT',
    async run(a, b) {
      const sender = openRespondent0(a, { options: { LINGER } });
      await sender.listen(ADDR);
      const surveyor = openSurveyor0(b, { options: { ...rcv, 'SURVEY-TIME': 60 * S } });
      await surveyor.dial(ADDR);
      await a.sleep(10 * MS);
      const [s1, s2] = [surveyor.openContext(), surveyor.openContext()];
      await s1.send(text('s1'));
      await s2.send(text('s2'));
      const [r1, r2] = [sender.openContext(), sender.openContext()];
      await r1.recv();
      await r2.recv();
      await r1.send(new Uint8Array(BIG));
      await r2.send(text('small'));
      const received = (async () => [`${(await s1.recv()).length} bytes`, str(await s2.recv())])();
      return { sender, received };
    },
  },
  {
    name: 'SURVEYOR',
    async run(a, b) {
      const sender = openSurveyor0(a, { options: { LINGER } });
      await sender.listen(ADDR);
      const resp = openRespondent0(b, { options: rcv });
      await resp.dial(ADDR);
      await a.sleep(10 * MS);
      await sender.send(new Uint8Array(BIG));
      await sender.send(text('small')); // a new survey: both go out, in order
      return { sender, received: recvTwo(resp) };
    },
  },
];

describe('close with LINGER on protocols with per-pipe queues', () => {
  for (const c of cases) {
    it(`${c.name}: settles when its queues drained, well before LINGER; the peer gets everything`, async () => {
      const { a, b, drive } = lab(`linger-${c.name}`);
      const r = await drive(async () => {
        const { sender, received } = await c.run(a, b);
        const before = a.nowUs();
        await sender.close();
        const took = a.nowUs() - before;
        return { took, got: await received };
      });
      expect(r.took).toBeGreaterThan(0);
      expect(r.took).toBeLessThan(5 * S);
      expect(r.got).toEqual([`${BIG} bytes`, 'small']);
    });
  }
});

describe('the LINGER timer', () => {
  it('is cleared when the queues drain first: it never fires after the close settled', async () => {
    const { a, b, world, drive } = lab('linger-timer-cleared');
    const ring = new RingSink(100_000);
    world.trace.addSink(ring);
    await drive(async () => {
      const { sender, received } = await cases[0]!.run(a, b);
      await sender.close();
      await received;
      await a.sleep(2 * LINGER); // well past the LINGER the close armed
    });
    const linger = ring
      .events()
      .filter((e) => (e as { label?: string }).label === 'sp-linger')
      .map((e) => e.kind);
    expect(linger).toEqual(['timer-set', 'timer-clear']);
  });

  it('is not armed by a socket whose only pipe its inproc peer already closed', async () => {
    const { a, world, drive } = lab('linger-peer-closed');
    const ring = new RingSink(100_000);
    world.trace.addSink(ring);
    await drive(async () => {
      const pub = openPub0(a, { options: { LINGER } });
      await pub.listen('inproc://p');
      const sub = openSub0(a, { options: { LINGER } });
      await sub.dial('inproc://p');
      await a.sleep(10 * MS);
      await pub.close(); // sub's pipe is closed now; its detach is an event later
      await sub.close();
    });
    const linger = ring.events().filter((e) => (e as { label?: string }).label === 'sp-linger');
    expect(linger).toEqual([]);
  });
});
