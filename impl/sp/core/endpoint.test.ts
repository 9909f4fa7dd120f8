/**
 * What listen and dial report when the transport refuses: the SpError code users branch on and a
 * message that carries the transport's own reason. (Kills mutants `npm run mutate` found surviving.)
 */
import { describe, expect, it } from 'vitest';
import { SpError } from '../errors.js';
import { openPair0 } from '../protocol/pair0.js';
import { lab } from '../testing/sim-lab.js';

/** The code and message a promise rejects with ('ok' when it resolves). */
async function failure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
    return { code: 'ok', message: '' };
  } catch (e) {
    return e instanceof SpError
      ? { code: e.code, message: e.message }
      : { code: 'non-SpError', message: String(e) };
  }
}

describe('listen failures', () => {
  it('an address already in use is ErrAddrInUse, with the transport reason', async () => {
    const { a, drive } = lab('listen-inuse');
    const r = await drive(async () => {
      await openPair0(a).listen('tcp://a:5555');
      return failure(openPair0(a).listen('tcp://a:5555'));
    });
    expect(r.code).toBe('ErrAddrInUse');
    expect(r.message).toMatch(/^ErrAddrInUse: listen tcp:\/\/a:5555: .*already in use on host a/);
  });

  it('an address of another host is ErrBadAddr, with the transport reason', async () => {
    const { a, drive } = lab('listen-badaddr');
    const r = await drive(async () => failure(openPair0(a).listen('tcp://b:5555')));
    expect(r.code).toBe('ErrBadAddr');
    expect(r.message).toMatch(/^ErrBadAddr: listen tcp:\/\/b:5555: .*not one of its addresses/);
  });
});

describe('dial failures (a synchronous dial reports the first attempt)', () => {
  it('no listener is ErrConnRefused', async () => {
    const { b, drive } = lab('dial-refused');
    const r = await drive(async () => failure(openPair0(b).dial('tcp://a:5555')));
    expect(r.code).toBe('ErrConnRefused');
    expect(r.message).toMatch(/^ErrConnRefused: dial tcp:\/\/a:5555: /);
  });

  it('an unreachable listener is ErrTimedOut', async () => {
    const { a, b, net, drive } = lab('dial-timeout');
    const r = await drive(async () => {
      await openPair0(a).listen('tcp://a:5555');
      net.partition(['a'], ['b']);
      return failure(openPair0(b).dial('tcp://a:5555'));
    });
    expect(r.code).toBe('ErrTimedOut');
    expect(r.message).toMatch(/^ErrTimedOut: dial tcp:\/\/a:5555: .*timed out/);
  });
});

describe('a dialer closed while its connect is in flight', () => {
  it('drops the connection when it completes: no pipe, at either end', async () => {
    // 5 ms each way: the close comes 1 ms into the connect.
    const { a, b, drive } = lab('dial-close-in-flight', {
      link: { latency: { kind: 'uniform', minUs: 5_000, maxUs: 5_000 } },
    });
    const r = await drive(async () => {
      const listener = openPair0(b);
      const l = listener.newListener('tcp://b:5555');
      await l.listen();
      const dialer = openPair0(a);
      const d = dialer.newDialer('tcp://b:5555');
      d.setOption('DIAL-ASYNCH', true);
      await d.dial();
      await a.sleep(1_000);
      await dialer.close();
      await a.sleep(100_000);
      return {
        dialerPipes: dialer.pipes.size,
        listenerPipes: listener.pipes.size,
        attached: l.stats.attached,
      };
    });
    expect(r).toEqual({ dialerPipes: 0, listenerPipes: 0, attached: 0 });
  });
});
