/**
 * Dialer and listener edges the mutation sample found untested: the error a dial to an unknown
 * host gets, the counters of connections and refused inproc pipes, and what a closing socket does
 * with a connection still in its handshake.
 */
import { describe, expect, it } from 'vitest';
import type { Env } from '../../runtime/env.js';
import { openPair0 } from '../protocol/pair0.js';
import { lab } from '../testing/sim-lab.js';

const MS = 1000;

describe('dialer', () => {
  it('a synchronous dial to a host the network does not know is ErrBadAddr, with the reason', async () => {
    const { a, drive } = lab('dial-unknown-host');
    const r = await drive(async () => {
      const s = openPair0(a, { options: { 'DIAL-ASYNCH': false } });
      try {
        await s.dial('tcp://nowhere:5555');
        return 'ok';
      } catch (e) {
        return String((e as Error).message);
      }
    });
    expect(r).toMatch(/^ErrBadAddr: dial tcp:\/\/nowhere:5555: .*no host named "nowhere"/);
  });

  it('a dialer starts idle, is connected once attached, and failed after a refused synchronous dial', async () => {
    const { a, b, drive } = lab('dialer-states');
    const r = await drive(async () => {
      const c = openPair0(b);
      const refused = c.newDialer('tcp://a:5555');
      const before = refused.state;
      await refused.dial().catch(() => undefined);
      const s = openPair0(a);
      await s.listen('tcp://a:5555');
      const d = openPair0(b).newDialer('tcp://a:5555');
      await d.dial();
      return { before, refused: refused.state, dialed: d.state };
    });
    expect(r).toEqual({ before: 'idle', refused: 'failed', dialed: 'connected' });
  });

  it('a runtime that reports neither a connection nor an error fails the dial with ErrConnReset', async () => {
    const { a, drive } = lab('dial-no-connection');
    // A runtime breaking its contract (callback with neither): the dial still fails with a reason.
    const env = Object.create(a) as Env;
    env.connect = (_address, callback) => {
      a.setTimer(0, () => callback(undefined, undefined), 'test-connect');
    };
    const r = await drive(async () => {
      try {
        await openPair0(env).dial('tcp://b:5555');
        return 'ok';
      } catch (e) {
        return String((e as Error).message);
      }
    });
    expect(r).toBe('ErrConnReset: dial tcp://b:5555: no connection');
  });

  it('counts the connections it made and the pipes attached', async () => {
    const { a, b, drive } = lab('dialer-stats');
    const r = await drive(async () => {
      const s = openPair0(a);
      await s.listen('tcp://a:5555');
      const c = openPair0(b);
      const d = c.newDialer('tcp://a:5555');
      await d.dial();
      return { ...d.stats };
    });
    expect(r).toEqual({ connections: 1, attached: 1, badHandshakes: 0, rejected: 0, badFrames: 0 });
  });
});

describe('dialer close', () => {
  for (const url of ['tcp://a:5555', 'inproc://later']) {
    it(`${url.slice(0, 3)}: closing the socket while a redial waits cancels it (no connection after close)`, async () => {
      const { a, b, drive } = lab(`dialer-close-waiting-${url.slice(0, 3)}`);
      const r = await drive(async () => {
        const c = openPair0(url.startsWith('inproc') ? a : b, {
          options: { 'RECONNECT-TIME': 100 * MS, 'DIAL-ASYNCH': true },
        });
        const d = c.newDialer(url);
        await d.dial(); // asynchronous: refused, then waits to redial
        await a.sleep(50 * MS);
        const before = d.state;
        await c.close();
        const s = openPair0(a);
        const l = s.newListener(url);
        await l.listen();
        await a.sleep(1000 * MS); // many redial intervals
        return { before, after: d.state, dialed: d.stats.connections, accepted: l.stats.connections };
      });
      expect(r).toEqual({ before: 'waiting', after: 'closed', dialed: 0, accepted: 0 });
    });
  }
});

describe('dialer after close', () => {
  for (const url of ['tcp://a:5555', 'inproc://x']) {
    it(`${url.slice(0, 3)}: a socket closed while connected never redials`, async () => {
      const { a, b, drive } = lab(`dialer-close-connected-${url.slice(0, 3)}`);
      const r = await drive(async () => {
        const s = openPair0(a);
        const l = s.newListener(url);
        await l.listen();
        const c = openPair0(url.startsWith('inproc') ? a : b, { options: { 'RECONNECT-TIME': 10 * MS } });
        const d = c.newDialer(url);
        await d.dial();
        await a.sleep(10 * MS);
        await c.close();
        await a.sleep(1000 * MS);
        return { state: d.state, dialed: d.stats.connections, accepted: l.stats.connections };
      });
      expect(r).toEqual({ state: 'closed', dialed: 1, accepted: 1 });
    });
  }

  it('tcp: a socket closed while its pipe is in the handshake never redials when that handshake fails', async () => {
    const { a, b, drive } = lab('dialer-close-handshaking');
    const r = await drive(async () => {
      let accepted = 0;
      // A peer that sends no SP header: the dialer's pipe stays in its handshake.
      a.listen(
        'tcp://a:5555',
        (conn) => {
          accepted++;
          conn.setHandlers({ onData: () => {}, onEnd: () => conn.close(), onClose: () => {} });
        },
        () => {},
      );
      const c = openPair0(b, {
        options: { 'DIAL-ASYNCH': true, 'RECONNECT-TIME': 10 * MS, 'HANDSHAKE-TIMEOUT': 20 * MS },
      });
      const d = c.newDialer('tcp://a:5555');
      await d.dial();
      await a.sleep(5 * MS);
      await c.close();
      await a.sleep(1000 * MS);
      return { dialed: d.stats.connections, accepted };
    });
    expect(r).toEqual({ dialed: 1, accepted: 1 });
  });

  it('inproc: a socket closed before its dial ran never connects', async () => {
    const { a, drive } = lab('dialer-close-before-inproc');
    const r = await drive(async () => {
      const s = openPair0(a);
      const l = s.newListener('inproc://y');
      await l.listen();
      const c = openPair0(a, { options: { 'DIAL-ASYNCH': true } });
      const d = c.newDialer('inproc://y');
      await d.dial(); // resolves at once; the connect itself is an event of its own
      await c.close();
      await a.sleep(100 * MS);
      return { dialed: d.stats.connections, accepted: l.stats.connections };
    });
    expect(r).toEqual({ dialed: 0, accepted: 0 });
  });
});

describe('listener', () => {
  it('counts an inproc pipe the socket refused (PAIR0 already has its peer)', async () => {
    const { a, drive } = lab('listener-inproc-rejected');
    const r = await drive(async () => {
      const s = openPair0(a);
      const l = s.newListener('inproc://p');
      await l.listen();
      await openPair0(a).dial('inproc://p');
      await a.sleep(1 * MS);
      await openPair0(a, { options: { 'DIAL-ASYNCH': true } }).dial('inproc://p');
      await a.sleep(1 * MS);
      return { ...l.stats };
    });
    expect(r).toMatchObject({ connections: 2, attached: 1, rejected: 1 });
  });

  it('a closing socket drops a connection still in its handshake at once', async () => {
    const { a, b, drive } = lab('listener-close-handshaking');
    const r = await drive(async () => {
      const s = openPair0(a, { options: { LINGER: 1000 * MS, 'HANDSHAKE-TIMEOUT': 10_000 * MS } });
      await s.listen('tcp://a:5555');
      let closedAt: number | undefined;
      b.connect('tcp://a:5555', (_err, conn) => {
        // Sends no SP header: the pipe stays in its handshake.
        conn?.setHandlers({
          onData: () => {},
          onEnd: () => conn.close(),
          onClose: () => (closedAt = b.nowUs()),
        });
      });
      await a.sleep(5 * MS);
      const t0 = a.nowUs();
      await s.close();
      await a.sleep(50 * MS);
      return closedAt === undefined
        ? 'still open'
        : closedAt - t0 < 20 * MS
          ? 'closed at once'
          : 'closed late';
    });
    expect(r).toBe('closed at once');
  });
});
