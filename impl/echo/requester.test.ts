/**
 * The echo requester on the simulated network: replies matched to requests by id and in order,
 * requests resent after a reset, every bound and typed error (ErrFrameTooLarge, ErrQueueFull,
 * ErrClosed, ErrGaveUp, ErrUnexpectedReply) with the backoff between attempts.
 */
import { describe, expect, it } from 'vitest';
import { applyFaultPlan, parseFaultPlan } from '../../sim/fault-plan.js';
import { Network } from '../../sim/net.js';
import { World } from '../../sim/world.js';
import type { Env, StreamConn } from '../runtime/env.js';
import { EchoError, encodeFrameHeader, startEchoServer } from './echo.js';
import { openEchoRequester } from './requester.js';

/** Two simulated hosts; `drive` runs the world until the work settles. */
function simPair(seed: string) {
  const world = new World({ seed });
  const net = new Network(world, { link: { latency: { kind: 'constant', us: 1000 } } });
  const server: Env = net.addHost('server').env;
  const client: Env = net.addHost('client').env;
  const drive = async <T>(work: () => Promise<T>): Promise<T> => {
    let settled = false;
    const result = work().finally(() => (settled = true));
    while (!settled) {
      const run = await world.run({ maxEvents: 5_000_000 });
      await new Promise<void>((res) => setImmediate(res));
      // Idle twice in a row (nothing ran in between): the work waits for something that never comes.
      if (!settled && run.reason === 'idle' && run.events === 0) throw new Error(`stuck at t=${run.nowUs}us`);
    }
    return result;
  };
  return { world, net, server, client, drive };
}

function body(n: number, salt: number): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i * 7 + salt) & 0xff);
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(EchoError);
    return (e as EchoError).code;
  }
  return 'resolved';
}

describe('echo requester', () => {
  it('answers pipelined requests in order, each with its own body', async () => {
    const { server, client, drive } = simPair('req-1');
    const out = await drive(async () => {
      await startEchoServer(server, 'tcp://server:7000');
      const r = openEchoRequester(client, 'tcp://server:7000');
      const bodies = [0, 1, 5, 2000, 70_000].map((n, i) => body(n, i));
      const order: number[] = [];
      const replies = await Promise.all(
        bodies.map((b, i) =>
          r.request(b).then((x) => {
            order.push(i);
            return x;
          }),
        ),
      );
      return { replies, bodies, order, stats: { ...r.stats }, state: r.state };
    });
    expect(out.replies).toEqual(out.bodies);
    expect(out.order).toEqual([0, 1, 2, 3, 4]);
    expect(out.stats).toMatchObject({
      connects: 1,
      requests: 5,
      replies: 5,
      resends: 0,
      maxPending: 5,
      pendingNow: 0,
    });
    expect(out.state).toBe('connected');
  });

  it('resends what a reset caught in flight, after the backoff, and answers it once', async () => {
    const { net, server, client, drive } = simPair('req-2');
    // The reset lands while the large request is on its way (1 ms latency each way, 64 KiB windows).
    applyFaultPlan(net, parseFaultPlan({ version: 1, faults: [{ kind: 'reset', atUs: 4000, conn: 'all' }] }));
    const out = await drive(async () => {
      await startEchoServer(server, 'tcp://server:7000');
      const r = openEchoRequester(client, 'tcp://server:7000', { reconnectMinUs: 5000 });
      const b = body(200_000, 3);
      const reply = await r.request(b);
      return { same: reply.length === b.length && reply.every((x, i) => x === b[i]), stats: { ...r.stats } };
    });
    expect(out.same).toBe(true);
    expect(out.stats).toMatchObject({ connects: 2, connectAttempts: 2, resends: 1, replies: 1 });
  });

  it('bounds: a body over maxFrameBytes, more than maxPending requests, a closed requester', async () => {
    const { server, client, drive } = simPair('req-3');
    const codes = await drive(async () => {
      await startEchoServer(server, 'tcp://server:7000');
      const r = openEchoRequester(client, 'tcp://server:7000', { maxFrameBytes: 100, maxPending: 2 });
      const tooBig = codeOf(r.request(body(97, 0)));
      const first = codeOf(r.request(body(96, 0)));
      const second = codeOf(r.request(body(1, 0)));
      const third = codeOf(r.request(body(1, 0)));
      const answered = await Promise.all([tooBig, first, second, third]);
      const pending = codeOf(r.request(body(1, 0)));
      r.close();
      return [...answered, await pending, await codeOf(r.request(body(1, 0))), r.state];
    });
    expect(codes).toEqual([
      'ErrFrameTooLarge',
      'resolved',
      'resolved',
      'ErrQueueFull',
      'ErrClosed',
      'ErrClosed',
      'closed',
    ]);
  });

  it('gives up after maxConnectAttempts refused attempts, doubling the wait up to the cap', async () => {
    const { world, client, drive } = simPair('req-4');
    const out = await drive(async () => {
      const r = openEchoRequester(client, 'tcp://server:7000', {
        maxConnectAttempts: 4,
        reconnectMinUs: 10_000,
        reconnectMaxUs: 25_000,
      });
      const code = await codeOf(r.request(body(1, 0)));
      return { code, attempts: r.stats.connectAttempts, state: r.state, atUs: world.nowUs };
    });
    expect(out).toMatchObject({ code: 'ErrGaveUp', attempts: 4, state: 'idle' });
    // Waits of 10, 20 and 25 ms (capped) between the four attempts, plus the refusals' round trips.
    expect(out.atUs).toBeGreaterThanOrEqual(55_000);
    expect(out.atUs).toBeLessThan(80_000);
  });

  it('a reply that answers no outstanding request is a protocol error: the connection is reset', async () => {
    const { server, client, drive } = simPair('req-5');
    const out = await drive(async () => {
      // A broken server: answers every frame with a reply for request 999.
      await new Promise<void>((resolve, reject) =>
        server.listen(
          'tcp://server:7000',
          (conn: StreamConn) =>
            conn.setHandlers({
              onData: () => {
                const reply = new Uint8Array(8);
                reply.set(encodeFrameHeader(4));
                new DataView(reply.buffer).setUint32(4, 999, false);
                conn.write(reply);
              },
            }),
          (e) => (e === undefined ? resolve() : reject(e)),
        ),
      );
      const r = openEchoRequester(client, 'tcp://server:7000', {
        maxConnectAttempts: 2,
        reconnectMinUs: 1000,
      });
      const code = await codeOf(r.request(body(3, 0)));
      return { code, stats: { ...r.stats } };
    });
    expect(out.code).toBe('ErrGaveUp');
    expect(out.stats).toMatchObject({ protocolErrors: 2, connects: 2, replies: 0, resends: 1 });
  });
});
