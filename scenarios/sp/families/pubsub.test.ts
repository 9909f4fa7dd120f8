import { describe, expect, it } from 'vitest';
import { defineScenario, type SocketDraft } from '../define.js';
import { runScenario } from '../run.js';
import '../museum/index.js';
import { PUBSUB_CHECKS } from './pubsub.js';
import './index.js';

/**
 * One PUB on host p, a slow SUB and a fast SUB on their own hosts; 60 messages of 1 KiB, 1 ms apart.
 * The slow one's application stalls for 2 s, or with `stallReads` its connection stops reading.
 */
function fanOut(
  o: {
    impl?: string;
    slow?: Partial<SocketDraft['app']>;
    stallReads?: boolean;
  } = {},
) {
  const sub = (name: string, app: Partial<SocketDraft['app']>): SocketDraft => ({
    name,
    host: name,
    protocol: 'sub0',
    dial: ['tcp://p:5555'],
    options: { 'READQ-LEN': 4 },
    app: { kind: 'sink', subscribe: [''], ...app },
  });
  const appStall = o.stallReads === true ? {} : { stallAtUs: 0, stallUs: 2_000_000 };
  return defineScenario({
    impl: o.impl ?? 'netlab',
    hosts: ['p', 'slow', 'fast'],
    sockets: [
      {
        name: 'pub',
        host: 'p',
        protocol: 'pub0',
        listen: ['tcp://p:5555'],
        options: { 'WRITEQ-LEN': 4 },
        app: { kind: 'send' },
      },
      sub('slow', { ...appStall, ...o.slow }),
      sub('fast', {}),
    ],
    workload: {
      sends: Array.from({ length: 60 }, (_, i) => ({
        socket: 'pub',
        bytes: 1024,
        gapUs: i === 0 ? 50_000 : 1_000,
      })),
    },
    network: { sendBufferBytes: 4096, recvBufferBytes: 4096 },
    ...(o.stallReads === true
      ? {
          faults: {
            version: 1,
            faults: [
              {
                kind: 'stall-reads',
                atUs: 40_000,
                conn: { client: 'slow' },
                side: 'client',
                forUs: 2_000_000,
              },
            ],
          },
          faultPhaseUs: 2_000_000,
        }
      : {}),
    checks: [...PUBSUB_CHECKS],
  });
}

const failed = (r: Awaited<ReturnType<typeof runScenario>>): string[] =>
  r.checks.filter((c) => c.status === 'fail').map((c) => c.id);

describe('PUB/SUB scenarios', () => {
  for (const stallReads of [false, true])
    it(`a slow subscriber (${stallReads ? 'stalled reads' : 'stalled application'}) loses only counted messages; the fast one gets all; PUB never waits`, async () => {
      const r = await runScenario(fanOut({ stallReads }), 'sim-1');
      expect(failed(r)).toEqual([]);
      const o = r.observations.sockets;
      expect(o.fast!.received).toHaveLength(60);
      expect(o.pub!.sent.every((s) => s.acceptedAtUs === s.atUs)).toBe(true);
      const slowGot = o.slow!.received.length;
      const drops = o.pub!.pubsub!.pipes.reduce((n, p) => n + p.droppedFull, 0) + o.slow!.pubsub!.droppedFull;
      expect(slowGot).toBeLessThan(60);
      expect(slowGot + drops).toBe(60);
      // A stalled application fills the SUB's queue (SUB never pushes back); stalled reads fill PUB's.
      if (stallReads) expect(o.pub!.pubsub!.maxQueued).toBe(4);
      else expect([o.pub!.pubsub!.maxQueued, o.slow!.pubsub!.maxQueued]).toEqual([0, 4]);
    });

  it('an unsubscribe during a stall purges the queue: nothing of the dropped topic arrives afterwards', async () => {
    const slow = {
      subscribe: ['00', '0000003b'],
      stallUs: 200_000,
      unsubscribeAtUs: 150_000,
      unsubscribe: ['00'],
    };
    const r = await runScenario(fanOut({ slow }), 'sim-1');
    expect(failed(r)).toEqual([]);
    const slowObs = r.observations.sockets.slow!;
    expect(slowObs.pubsub!.purged).toBeGreaterThan(0);
    const after = slowObs.received.slice(slowObs.pubsub!.unsubscribedAfter!);
    expect(after.map((m) => m.body[3])).toEqual([0x3b]); // the last message, still queued at the unsubscribe
  });

  it('museum/sub-unsubscribe-leak delivers the queued messages of the dropped topic (in-order-matching fails)', async () => {
    const slow = { subscribe: ['00'], stallUs: 200_000, unsubscribeAtUs: 150_000, unsubscribe: ['00'] };
    const r = await runScenario(fanOut({ impl: 'museum/sub-unsubscribe-leak', slow }), 'sim-1');
    expect(failed(r)).toEqual(['pubsub.in-order-matching', 'model.pubsub']);
  });

  it('museum/pub-blocks-on-slow-sub: the stalled subscriber holds up the publisher', async () => {
    const r = await runScenario(fanOut({ impl: 'museum/pub-blocks-on-slow-sub', stallReads: true }), 'sim-1');
    expect(failed(r)).toContain('pubsub.publisher-never-blocks');
  });

  it('the model validates subscriptions: hex topics, sub0 only, unsubscribe among them and with a time', () => {
    const bad = (app: Partial<SocketDraft['app']>, protocol: 'sub0' | 'pub0' = 'sub0'): string => {
      try {
        defineScenario({
          hosts: ['h'],
          sockets: [
            {
              name: 's',
              host: 'h',
              protocol,
              listen: ['inproc://x'],
              app: { kind: protocol === 'sub0' ? 'sink' : 'send', ...app },
            },
          ],
          workload: { sends: [] },
          checks: ['stack.no-crash'],
        });
        return 'ok';
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(bad({ subscribe: ['', '00ff'] })).toBe('ok');
    expect(bad({ subscribe: ['ABC'] })).toContain('sockets[0].app.subscribe[0]');
    expect(bad({ subscribe: ['61'] }, 'pub0')).toContain('only a sub0 socket subscribes');
    expect(bad({ subscribe: ['61'], unsubscribe: ['62'], unsubscribeAtUs: 5 })).toContain(
      "'62' is not among the subscribed topics",
    );
    expect(bad({ subscribe: ['61'], unsubscribe: ['61'] })).toContain('come together');
  });
});
