/**
 * The errors of the SP protocols as users read them: for each refusal, the SpError code and the
 * message (which starts with the code); for a pipe closed on garbage, the reason its session-close
 * carries. (Written to kill the StringLiteral mutants `npm run mutate` leaves on error codes and
 * messages no other test reads: README.)
 */
import { describe, expect, it } from 'vitest';
import { RingSink } from '../../../sim/trace.js';
import { SpError } from '../errors.js';
import { rawPeer, word } from '../testing/raw-peer.js';
import { lab, text } from '../testing/sim-lab.js';
import { openPair1 } from './pair1.js';
import { openPull0, openPush0 } from './pipeline.js';
import { openPub0, openSub0, openXSub0, subscribe, unsubscribe } from './pubsub.js';
import { openRep0 } from './rep0.js';
import { openReq0 } from './req0.js';
import { openRespondent0, openSurveyor0 } from './survey.js';

const MS = 1000;
const S = 1_000_000;

/** The message of the SpError `fn` throws or its promise rejects with; 'ok' otherwise. */
async function outcome(fn: () => unknown): Promise<string> {
  try {
    await fn();
    return 'ok';
  } catch (e) {
    return e instanceof SpError ? e.message : `non-SpError: ${String(e)}`;
  }
}

describe('operations a protocol does not have', () => {
  it('are ErrProtoOp, naming the protocol', async () => {
    const { a, drive } = lab('msg-protoop');
    const r = await drive(async () => [
      await outcome(() => openPush0(a).recv()),
      await outcome(() => openPull0(a).send(text('x'))),
      await outcome(() => openPub0(a).recv()),
      await outcome(() => openSub0(a).send(text('x'))),
      await outcome(() => openXSub0(a).send(text('x'))),
    ]);
    expect(r).toEqual([
      'ErrProtoOp: push0 sockets cannot receive',
      'ErrProtoOp: pull0 sockets cannot send',
      'ErrProtoOp: pub0 sockets cannot receive',
      'ErrProtoOp: sub0 sockets cannot send',
      'ErrProtoOp: xsub0 sockets cannot send',
    ]);
  });
});

describe('FAIL-NO-PEERS', () => {
  it('fails a send with no peer with ErrNoPeers', async () => {
    const { a, drive } = lab('msg-nopeers');
    const r = await drive(async () => [
      await outcome(() => openPush0(a, { options: { 'FAIL-NO-PEERS': true } }).send(text('x'))),
      await outcome(() => openReq0(a, { options: { 'FAIL-NO-PEERS': true } }).send(text('x'))),
    ]);
    expect(r).toEqual([
      'ErrNoPeers: no peers to push to (FAIL-NO-PEERS)',
      'ErrNoPeers: no peers to send the request to (FAIL-NO-PEERS)',
    ]);
  });
});

describe('lockstep misuse and deadlines', () => {
  it('REQ: recv without a request, and RECV-DEADLINE', async () => {
    const { a, b, drive } = lab('msg-req');
    const r = await drive(async () => {
      await openRep0(a).listen('tcp://a:5555'); // never answers
      const req = openReq0(b, { options: { 'RECV-DEADLINE': 3 * MS } });
      const none = await outcome(() => req.recv());
      await req.dial('tcp://a:5555');
      await req.send(text('q'));
      return [none, await outcome(() => req.recv())];
    });
    expect(r).toEqual([
      'ErrProtoState: recv with no request outstanding',
      'ErrRecvTimeout: no reply within 3000 us',
    ]);
  });

  it('REP and RESPONDENT: send before recv', async () => {
    const { a, drive } = lab('msg-rep');
    const r = await drive(async () => [
      await outcome(() => openRep0(a).send(text('x'))),
      await outcome(() => openRespondent0(a).send(text('x'))),
    ]);
    expect(r).toEqual([
      'ErrProtoState: send without a request to answer (recv first)',
      'ErrProtoState: send without a survey to answer (recv first)',
    ]);
  });

  it('SURVEYOR: recv without a survey, and RECV-DEADLINE within a survey', async () => {
    const { a, drive } = lab('msg-surveyor');
    const r = await drive(async () => {
      const s = openSurveyor0(a, { options: { 'RECV-DEADLINE': 4 * MS, 'SURVEY-TIME': 1 * S } });
      const none = await outcome(() => s.recv());
      await s.send(text('survey'));
      return [none, await outcome(() => s.recv())];
    });
    expect(r).toEqual([
      'ErrProtoState: recv with no survey in progress',
      'ErrRecvTimeout: no response within 4000 us',
    ]);
  });

  it('REP: a reply that cannot be queued within SEND-DEADLINE (WRITEQ-LEN 0)', async () => {
    const { a, b, drive } = lab('msg-rep-send-timeout');
    const r = await drive(async () => {
      const rep = openRep0(a, { options: { 'WRITEQ-LEN': 0, 'SEND-DEADLINE': 6 * MS } });
      await rep.listen('tcp://a:5555');
      const peer = await rawPeer(b, 'tcp://a:5555', 48, true); // a REQ that reads nothing
      const c1 = rep.openContext();
      const c2 = rep.openContext();
      const r1 = c1.recv();
      const r2 = c2.recv();
      peer.sendFrame(word(0x80000001, 'q1'));
      peer.sendFrame(word(0x80000002, 'q2'));
      await Promise.all([r1, r2]);
      await c1.send(new Uint8Array(1 << 20)); // fills the connection: the pipe stays busy
      return outcome(() => c2.send(text('late')));
    });
    expect(r).toBe('ErrSendTimeout: reply not queued within 6000 us');
  });

  it('RESPONDENT: a response that cannot be queued within SEND-DEADLINE (WRITEQ-LEN 0)', async () => {
    const { a, b, drive } = lab('msg-respondent-send-timeout');
    const r = await drive(async () => {
      const resp = openRespondent0(a, { options: { 'WRITEQ-LEN': 0, 'SEND-DEADLINE': 6 * MS } });
      await resp.listen('tcp://a:5555');
      const peer = await rawPeer(b, 'tcp://a:5555', 0x62, true); // a SURVEYOR that reads nothing
      const c1 = resp.openContext();
      const c2 = resp.openContext();
      const r1 = c1.recv();
      const r2 = c2.recv();
      peer.sendFrame(word(0x80000001, 's1'));
      peer.sendFrame(word(0x80000002, 's2'));
      await Promise.all([r1, r2]);
      await c1.send(new Uint8Array(1 << 20)); // fills the connection: the pipe stays busy
      return outcome(() => c2.send(text('late')));
    });
    expect(r).toBe('ErrSendTimeout: response not queued within 6000 us');
  });
});

describe('SUB subscriptions', () => {
  it('refuse unknown topics, wrong types, other sockets and closed contexts', async () => {
    const { a, drive } = lab('msg-sub');
    const r = await drive(async () => {
      const sub = openSub0(a, { options: { 'RECV-DEADLINE': 2 * MS } });
      await a.sleep(1); // the world runs an event first: the refusals below settle no world promise
      const out = [
        await outcome(() => unsubscribe(sub, 'abc')),
        await outcome(() => subscribe(sub, 5 as unknown as string)),
        await outcome(() => subscribe(openPub0(a), 'x')),
        await outcome(() => subscribe(openXSub0(a), 'x')),
        await outcome(() => sub.recv()),
      ];
      const ctx = sub.openContext();
      ctx.close();
      out.push(await outcome(() => subscribe(ctx, 'x')), await outcome(() => unsubscribe(ctx, 'x')));
      return out;
    });
    expect(r).toEqual([
      'ErrBadValue: not subscribed to a topic of 3 bytes',
      'ErrBadValue: a topic must be a Uint8Array or a string',
      'ErrBadType: not a cooked SUB socket or context',
      'ErrBadType: not a cooked SUB socket or context',
      'ErrRecvTimeout: nothing received within 2000 us',
      'ErrClosed: subscribe on a closed context',
      'ErrClosed: unsubscribe on a closed context',
    ]);
  });
});

describe('PAIR1', () => {
  it('POLYAMOROUS only before dial or listen; send on a closed socket', async () => {
    const { a, drive } = lab('msg-pair1');
    const r = await drive(async () => {
      const p = openPair1(a);
      await p.listen('tcp://a:5555');
      const poly = await outcome(() => p.setOption('POLYAMOROUS', true));
      await p.close();
      return [poly, await outcome(() => p.send(text('x')))];
    });
    expect(r).toEqual([
      'ErrProtoState: POLYAMOROUS can only be set before the socket dials or listens',
      'ErrClosed: send on a closed socket',
    ]);
  });
});

describe('GARBAGE-CLOSES-PIPE: the reason a garbled pipe closes with', () => {
  const cases = [
    {
      name: 'REP, a request without a request id',
      open: openRep0,
      peerProto: 48,
      reason: 'ErrGarbled: request without a request id word (GARBAGE-CLOSES-PIPE)',
    },
    {
      name: 'RESPONDENT, a survey without a survey id',
      open: openRespondent0,
      peerProto: 98,
      reason: 'ErrGarbled: survey without a survey id word (GARBAGE-CLOSES-PIPE)',
    },
    {
      name: 'REQ, a reply shorter than 4 bytes',
      open: openReq0,
      peerProto: 49,
      reason: 'ErrGarbled: reply shorter than 4 bytes',
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const { a, b, world, drive } = lab(`msg-garbage-${c.peerProto}`);
      const ring = new RingSink(10_000);
      world.trace.addSink(ring);
      await drive(async () => {
        const s = c.open(a, { options: { 'GARBAGE-CLOSES-PIPE': true } });
        await s.listen('tcp://a:5555');
        const peer = await rawPeer(b, 'tcp://a:5555', c.peerProto);
        peer.sendFrame(Uint8Array.of(1, 2));
        await a.sleep(10 * MS);
      });
      const reasons = ring
        .events()
        .filter((e) => e.kind === 'session-close')
        .map((e) => (e as { reason?: string }).reason);
      expect(reasons).toContain(c.reason);
    });
  }
});
