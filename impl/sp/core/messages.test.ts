/**
 * The errors of the socket core as users read them: for each refusal, the SpError code users branch
 * on and the message they read (its first words carry the code). Each case triggers one refusal
 * through the public API. (Written to kill the StringLiteral mutants `npm run mutate` leaves on
 * error codes and messages no other test reads: README.)
 */
import { describe, expect, it } from 'vitest';
import { RingSink } from '../../../sim/trace.js';
import { SpError } from '../errors.js';
import { openPair0, openXPair0 } from '../protocol/pair0.js';
import { openPull0, openPush0 } from '../protocol/pipeline.js';
import { openReq0 } from '../protocol/req0.js';
import { openXRep0, openXReq0 } from '../protocol/raw-reqrep.js';
import { openXPub0 } from '../protocol/pubsub.js';
import { lab, text } from '../testing/sim-lab.js';
import { device } from './device.js';

const MS = 1000;

/** The message of the SpError `fn` throws or its promise rejects with; 'ok' otherwise. */
async function outcome(fn: () => unknown): Promise<string> {
  try {
    await fn();
    return 'ok';
  } catch (e) {
    return e instanceof SpError ? e.message : `non-SpError: ${String(e)}`;
  }
}

describe('contexts', () => {
  it('refuse everything once closed, and a second close', async () => {
    const { b, drive } = lab('msg-ctx');
    const r = await drive(async () => {
      const req = openReq0(b);
      const ctx = req.openContext();
      ctx.close();
      return [
        await outcome(() => ctx.send(text('q'))),
        await outcome(() => ctx.recv()),
        await outcome(() => ctx.setOption('RECV-DEADLINE', 5)),
        await outcome(() => ctx.close()),
      ];
    });
    expect(r).toEqual([
      'ErrClosed: send on a closed context',
      'ErrClosed: recv on a closed context',
      'ErrClosed: setOption on a closed context',
      'ErrClosed: context already closed',
    ]);
  });

  it('do not exist on PAIR0', async () => {
    const { b } = lab('msg-noctx');
    expect(await outcome(() => openPair0(b).openContext())).toBe(
      'ErrProtoOp: pair0 sockets have no contexts',
    );
  });
});

describe('devices', () => {
  it('need raw sockets that are peers', async () => {
    const { a } = lab('msg-device');
    expect(await outcome(() => device(openPair0(a), openXPair0(a)))).toBe(
      'ErrNotRaw: device needs raw sockets; pair0 is cooked',
    );
    expect(await outcome(() => device(openXReq0(a), openXPub0(a)))).toBe(
      'ErrBadProto: req0 and pub0 are not peers',
    );
    expect(await outcome(() => device(openXReq0(a)))).toBe(
      'ErrBadProto: a loopback device needs a socket that is its own peer; req0 is not',
    );
    expect(await outcome(() => device(openXReq0(a), openXRep0(a)))).toBe('ok');
  });
});

describe('dialers and listeners', () => {
  it('a dialer dials once, and not after close; closing it fails its first attempt', async () => {
    const { b, drive } = lab('msg-dialer');
    const r = await drive(async () => {
      const s = openPair0(b);
      const d = s.newDialer('tcp://a:5555', { 'DIAL-ASYNCH': true });
      await d.dial();
      const again = await outcome(() => d.dial());
      d.close();
      const closed = await outcome(() => d.dial());
      const sync = s.newDialer('tcp://a:6666');
      const pending = outcome(() => sync.dial()); // nothing listens: the first attempt is under way
      sync.close();
      return [again, closed, await pending];
    });
    expect(r).toEqual([
      'ErrAddrInUse: dialer for tcp://a:5555 was already started',
      'ErrClosed: dial on a closed dialer',
      'ErrClosed: dialer closed',
    ]);
  });

  it('a pipe the socket refuses fails a synchronous dial with ErrProtoState', async () => {
    const { a, b, drive } = lab('msg-refused');
    const r = await drive(async () => {
      await openPair0(a).listen('tcp://a:5555');
      const s = openPair0(b);
      s.setPipeEventHook((event) => event !== 'attaching');
      return outcome(() => s.dial('tcp://a:5555'));
    });
    expect(r).toBe('ErrProtoState: the socket refused the pipe to tcp://a:5555');
  });

  it('a listener listens once, and not after close; closing it while it binds fails the listen', async () => {
    const { a, drive } = lab('msg-listener');
    const r = await drive(async () => {
      const s = openPair0(a);
      const l = s.newListener('tcp://a:5555');
      await l.listen();
      const again = await outcome(() => l.listen());
      l.close();
      const closed = await outcome(() => l.listen());
      const binding = s.newListener('tcp://a:6666');
      const pending = outcome(() => binding.listen());
      binding.close();
      return [again, closed, await pending];
    });
    expect(r).toEqual([
      'ErrAddrInUse: listener for tcp://a:5555 is already listening',
      'ErrClosed: listen on a closed listener',
      'ErrClosed: listener closed while binding',
    ]);
  });
});

describe('the SP handshake', () => {
  it('a peer that never sends its header fails the dial with ErrTimedOut at HANDSHAKE-TIMEOUT', async () => {
    const { a, b, drive } = lab('msg-hs-timeout');
    const r = await drive(async () => {
      a.listen(
        'tcp://a:5555',
        () => undefined, // accepts, says nothing
        () => undefined,
      );
      const before = b.nowUs();
      const msg = await outcome(() => openPair0(b).dial('tcp://a:5555', { 'HANDSHAKE-TIMEOUT': 50 * MS }));
      return { msg, tookUs: b.nowUs() - before };
    });
    expect(r.msg).toBe('ErrTimedOut: no complete SP handshake within 50000 us');
    expect(r.tookUs).toBeGreaterThanOrEqual(50 * MS);
    expect(r.tookUs).toBeLessThan(60 * MS);
  });

  it('a peer that closes before its header fails the dial with ErrClosed', async () => {
    const { a, b, drive } = lab('msg-hs-closed');
    const r = await drive(async () => {
      a.listen(
        'tcp://a:5555',
        (conn) => conn.close(),
        () => undefined,
      );
      return outcome(() => openPair0(b).dial('tcp://a:5555'));
    });
    expect(r).toBe('ErrClosed: connection closed during the SP handshake');
  });
});

describe('sockets', () => {
  it('a best-effort send to a full queue is dropped with a note naming the protocol', async () => {
    const { a, world, drive } = lab('msg-best-effort-note');
    const ring = new RingSink(10_000);
    world.trace.addSink(ring);
    const r = await drive(async () => {
      const s = openPush0(a, { options: { 'BEST-EFFORT': true, 'WRITEQ-LEN': 1 } }); // no peer
      return [await outcome(() => s.send(text('kept'))), await outcome(() => s.send(text('dropped')))];
    });
    expect(r).toEqual(['ok', 'ok']);
    const notes = ring
      .events()
      .filter((e) => e.kind === 'note')
      .map((e) => String((e as { text?: string }).text));
    expect(notes).toEqual(['sp push0: best-effort send dropped (queue full)']);
  });

  it('a second close fails with its own message', async () => {
    const { a, drive } = lab('msg-socket-close-twice');
    const r = await drive(async () => {
      const s = openPair0(a);
      await s.close();
      return outcome(() => s.close());
    });
    expect(r).toBe('ErrClosed: socket already closed');
  });

  it('an asynchronous dial that is refused notes the error and when it redials', async () => {
    const { a, world, drive } = lab('msg-redial-note');
    const ring = new RingSink(10_000);
    world.trace.addSink(ring);
    await drive(async () => {
      const s = openPair0(a, { options: { 'DIAL-ASYNCH': true, 'RECONNECT-TIME': 100 * MS } });
      await s.dial('tcp://a:5555'); // nothing listens
      await a.sleep(50 * MS);
    });
    const notes = ring
      .events()
      .filter((e) => e.kind === 'note')
      .map((e) => String((e as { text?: string }).text))
      .filter((t) => t.startsWith('sp dialer'));
    expect(notes[0]).toMatch(
      /^sp dialer tcp:\/\/a:5555: ErrConnRefused: dial tcp:\/\/a:5555: .+; redial in 100000 us$/,
    );
  });

  it('receive deadlines and closes fail receivers with their own messages', async () => {
    const { b, drive } = lab('msg-recv');
    const r = await drive(async () => {
      const pull = openPull0(b, { options: { 'RECV-DEADLINE': 7 * MS } });
      const timedOut = await outcome(() => pull.recv());
      pull.setOption('RECV-DEADLINE', null);
      const waiting = outcome(() => pull.recv());
      await pull.close();
      return [
        timedOut,
        await waiting,
        await outcome(() => pull.recv()),
        await outcome(() => pull.dial('tcp://a:1')),
      ];
    });
    expect(r).toEqual([
      'ErrRecvTimeout: nothing received within 7000 us',
      'ErrClosed: socket closed while receiving',
      'ErrClosed: recv on a closed socket',
      'ErrClosed: newDialer on a closed socket',
    ]);
  });

  it('send deadlines and closes fail senders with their own messages', async () => {
    const { b, drive } = lab('msg-send');
    const r = await drive(async () => {
      const push = openPush0(b, { options: { 'WRITEQ-LEN': 1, 'SEND-DEADLINE': 9 * MS } });
      await push.send(text('fills the queue'));
      const timedOut = await outcome(() => push.send(text('waits')));
      await push.close();
      const req = openReq0(b);
      await req.close();
      return [timedOut, await outcome(() => push.send(text('x'))), await outcome(() => req.send(text('x')))];
    });
    expect(r).toEqual([
      'ErrSendTimeout: send did not complete within 9000 us',
      'ErrClosed: send on a closed socket',
      'ErrClosed: send on a closed socket',
    ]);
  });
});
