import { describe, expect, it } from 'vitest';
import { checkById, type CheckContext, type Observations } from '../checks.js';
import { defineScenario, type SocketDraft } from '../define.js';
import { runScenario } from '../run.js';
import '../museum/index.js';
import { allProperties } from './index.js';
import { RAW_CHECKS } from './raw.js';
import { SURVEY_CHECKS } from './survey.js';
import { checkFamilyProperty } from './testing.js';

const failed = (r: Awaited<ReturnType<typeof runScenario>>): string[] =>
  r.checks.filter((c) => c.status !== 'pass').map((c) => `${c.id}: ${c.status} ${c.actual ?? ''}`);

/** Messages of `bytes` each, the first after `firstGapUs`, then 1 ms apart. */
function sends(socket: string, n: number, firstGapUs = 200_000, bytes = 64) {
  return Array.from({ length: n }, (_, i) => ({ socket, bytes, gapUs: i === 0 ? firstGapUs : 1_000 }));
}

describe('raw sockets and devices in scenarios', () => {
  it('an XBUS loopback device is a hub: every leaf hears every other leaf once, in order, never itself', async () => {
    const leaf = (name: string, protocol: 'bus0' | 'xbus0', kind: 'send' | 'sink'): SocketDraft => ({
      name,
      host: name,
      protocol,
      dial: ['tcp://hub:5555'],
      app: { kind },
    });
    const sc = defineScenario({
      hosts: ['hub', 'a', 'b', 'c'],
      sockets: [
        { name: 'hub', host: 'hub', protocol: 'xbus0', listen: ['tcp://hub:5555'], app: { kind: 'device' } },
        leaf('a', 'bus0', 'send'),
        leaf('b', 'xbus0', 'send'),
        leaf('c', 'bus0', 'sink'),
      ],
      workload: { sends: [...sends('a', 5), ...sends('b', 5)] },
      checks: [
        'stack.no-crash',
        'bus.no-relay-no-dup',
        'bus.delivered-when-calm',
        'raw.intact-once-in-order',
      ],
    });
    const r = await runScenario(sc, 'sim-1');
    expect(failed(r)).toEqual([]);
    expect(r.observations.sockets.c!.received).toHaveLength(10);
  });

  it('a forwarder (XSUB | device | XPUB): a SUB gets what matches its topic, an XSUB sink everything', async () => {
    const sc = defineScenario({
      hosts: ['p', 'fwd', 's1', 's2'],
      sockets: [
        { name: 'pub', host: 'p', protocol: 'pub0', listen: ['tcp://p:5555'], app: { kind: 'send' } },
        {
          name: 'front',
          host: 'fwd',
          protocol: 'xsub0',
          dial: ['tcp://p:5555'],
          app: { kind: 'device', partner: 'back' },
        },
        {
          name: 'back',
          host: 'fwd',
          protocol: 'xpub0',
          listen: ['tcp://fwd:5556'],
          app: { kind: 'device', partner: 'front' },
        },
        // Message #3 only: payloads start with the sender's index (00) and the message index.
        {
          name: 's1',
          host: 's1',
          protocol: 'sub0',
          dial: ['tcp://fwd:5556'],
          app: { kind: 'sink', subscribe: ['00000003'] },
        },
        { name: 's2', host: 's2', protocol: 'xsub0', dial: ['tcp://fwd:5556'], app: { kind: 'sink' } },
      ],
      workload: { sends: sends('pub', 6) },
      checks: [...RAW_CHECKS],
    });
    const r = await runScenario(sc, 'sim-1');
    expect(failed(r)).toEqual([]);
    expect(r.observations.sockets.s1!.received.map((m) => m.body[3])).toEqual([3]);
    expect(r.observations.sockets.s2!.received).toHaveLength(6);
  });

  it('a streamer (XPULL | device | XPUSH) hands each message to exactly one of two pullers', async () => {
    const sc = defineScenario({
      hosts: ['p', 'd', 'q1', 'q2'],
      sockets: [
        { name: 'push', host: 'p', protocol: 'xpush0', listen: ['tcp://p:5555'], app: { kind: 'send' } },
        {
          name: 'f',
          host: 'd',
          protocol: 'xpull0',
          dial: ['tcp://p:5555'],
          app: { kind: 'device', partner: 'b' },
        },
        {
          name: 'b',
          host: 'd',
          protocol: 'xpush0',
          listen: ['tcp://d:5556'],
          app: { kind: 'device', partner: 'f' },
        },
        { name: 'q1', host: 'q1', protocol: 'pull0', dial: ['tcp://d:5556'], app: { kind: 'sink' } },
        { name: 'q2', host: 'q2', protocol: 'xpull0', dial: ['tcp://d:5556'], app: { kind: 'sink' } },
      ],
      workload: { sends: sends('push', 10) },
      checks: [...RAW_CHECKS],
    });
    const r = await runScenario(sc, 'sim-1');
    expect(failed(r)).toEqual([]);
    const o = r.observations.sockets;
    expect(o.q1!.received.length + o.q2!.received.length).toBe(10);
    expect(o.q1!.received.length).toBeGreaterThan(0);
    expect(o.q2!.received.length).toBeGreaterThan(0);
  });

  it('PAIR1 through a device and into a raw receiver: the body arrives without its hop count', async () => {
    const sc = defineScenario({
      hosts: ['a', 'd', 'z'],
      sockets: [
        { name: 'a', host: 'a', protocol: 'xpair1', dial: ['tcp://d:5555'], app: { kind: 'send' } },
        {
          name: 'f',
          host: 'd',
          protocol: 'xpair1',
          listen: ['tcp://d:5555'],
          app: { kind: 'device', partner: 'b' },
        },
        {
          name: 'b',
          host: 'd',
          protocol: 'xpair1',
          dial: ['tcp://z:5555'],
          app: { kind: 'device', partner: 'f' },
        },
        { name: 'z', host: 'z', protocol: 'xpair1', listen: ['tcp://z:5555'], app: { kind: 'sink' } },
      ],
      workload: { sends: sends('a', 4) },
      checks: [...RAW_CHECKS],
    });
    const r = await runScenario(sc, 'sim-1');
    expect(failed(r)).toEqual([]);
    expect(r.observations.sockets.z!.received.map((m) => m.body.length)).toEqual([64, 64, 64, 64]);
  });

  it('a survey device (XRESPONDENT | device | XSURVEYOR) brings back one answer per respondent behind it', async () => {
    const respondent = (name: string, protocol: 'respondent0' | 'xrespondent0'): SocketDraft => ({
      name,
      host: name,
      protocol,
      dial: ['tcp://d:5556'],
      app: { kind: 'echo' },
    });
    const sc = defineScenario({
      hosts: ['s', 'd', 'r1', 'r2'],
      sockets: [
        {
          name: 'server',
          host: 's',
          protocol: 'surveyor0',
          listen: ['tcp://s:5555'],
          options: { 'SURVEY-TIME': 100_000 },
          app: { kind: 'send' },
        },
        {
          name: 'front',
          host: 'd',
          protocol: 'xrespondent0',
          dial: ['tcp://s:5555'],
          app: { kind: 'device', partner: 'back' },
        },
        {
          name: 'back',
          host: 'd',
          protocol: 'xsurveyor0',
          listen: ['tcp://d:5556'],
          app: { kind: 'device', partner: 'front' },
        },
        respondent('r1', 'respondent0'),
        respondent('r2', 'xrespondent0'),
      ],
      workload: { sends: sends('server', 3, 200_000, 16) },
      checks: [...SURVEY_CHECKS],
    });
    const r = await runScenario(sc, 'sim-1');
    expect(failed(r)).toEqual([]);
    const got = r.observations.sockets.server!.received;
    expect([0, 1, 2].map((i) => got.filter((m) => m.replyTo === i).length)).toEqual([2, 2, 2]);
  });

  it('raw.intact-once-in-order fails on a duplicate, a reordering, a non-matching message and a PUSH message at two sinks', () => {
    const check = checkById('raw.intact-once-in-order')!;
    const sc = (sender: 'xpush0' | 'xpub0', topics?: string[]) =>
      defineScenario({
        hosts: ['h'],
        sockets: [
          { name: 'tx', host: 'h', protocol: sender, listen: ['inproc://x'], app: { kind: 'send' } },
          {
            name: 'rx1',
            host: 'h',
            protocol: sender === 'xpush0' ? 'pull0' : 'sub0',
            dial: ['inproc://x'],
            app: { kind: 'sink', ...(sender === 'xpub0' ? { subscribe: topics ?? [''] } : {}) },
          },
          {
            name: 'rx2',
            host: 'h',
            protocol: sender === 'xpush0' ? 'pull0' : 'sub0',
            dial: ['inproc://x'],
            app: { kind: 'sink', ...(sender === 'xpub0' ? { subscribe: topics ?? [''] } : {}) },
          },
        ],
        workload: { sends: sends('tx', 3) },
        checks: ['raw.intact-once-in-order'],
      });
    const payload = (i: number): Uint8Array => Uint8Array.of(0, 0, 0, i, 9, 9);
    const ctx: CheckContext = {
      endUs: 1,
      healedAtUs: 0,
      faults: [],
      reason: 'idle',
      crash: null,
      payloadOf: (_s, i) => payload(i),
      lossy: false,
    };
    const obs = (rx1: number[], rx2: number[]): Observations => {
      const o = (name: string, got: number[]) => ({
        name,
        received: got.map((i) => ({ atUs: 0, body: payload(i), pipe: 1 })),
        sent: [],
      });
      return {
        sockets: { tx: o('tx', []), rx1: o('rx1', rx1), rx2: o('rx2', rx2) },
        raw: {},
        crash: null,
      } as unknown as Observations; // only the fields the check reads
    };
    const status = (s: ReturnType<typeof sc>, rx1: number[], rx2: number[]) =>
      check.evaluate(s, obs(rx1, rx2), ctx).status;
    expect(status(sc('xpush0'), [0, 2], [1])).toBe('pass');
    expect(status(sc('xpush0'), [0, 1], [1])).toBe('fail'); // #1 at two pullers
    expect(status(sc('xpub0'), [0, 1, 2], [0, 1, 2])).toBe('pass'); // fan-out: everyone may have it
    expect(status(sc('xpub0'), [0, 0], [])).toBe('fail'); // twice
    expect(status(sc('xpub0'), [1, 0], [])).toBe('fail'); // out of order
    expect(status(sc('xpub0', ['00000001']), [1], [1])).toBe('pass');
    expect(status(sc('xpub0', ['00000001']), [2], [])).toBe('fail'); // matches no topic
  });

  it('the model: raw protocols take their own applications; devices pair raw peers or loop back alone', () => {
    const one = (sockets: SocketDraft[]): string => {
      try {
        defineScenario({ hosts: ['h'], sockets, workload: { sends: [] }, checks: ['stack.no-crash'] });
        return 'ok';
      } catch (e) {
        return (e as Error).message;
      }
    };
    const dev = (name: string, protocol: SocketDraft['protocol'], partner?: string): SocketDraft => ({
      name,
      host: 'h',
      protocol,
      listen: [`inproc://${name}`],
      app: { kind: 'device', ...(partner === undefined ? {} : { partner }) },
    });
    expect(one([dev('hub', 'xbus0')])).toBe('ok');
    expect(one([dev('a', 'xpub0', 'b'), dev('b', 'xsub0', 'a')])).toBe('ok');
    expect(one([dev('a', 'xpub0')])).toContain('sockets[0].app.partner: a device socket names its partner');
    expect(one([dev('a', 'xpub0', 'b'), dev('b', 'xpull0', 'a')])).toContain(
      "'b' is xpull0; a device joins xpub0 with xsub0",
    );
    expect(
      one([{ name: 's', host: 'h', protocol: 'xsurveyor0', listen: ['inproc://s'], app: { kind: 'send' } }]),
    ).toContain("a xsurveyor0 socket's application may be device");
    expect(
      one([
        {
          name: 's',
          host: 'h',
          protocol: 'xsub0',
          listen: ['inproc://s'],
          app: { kind: 'sink', subscribe: [''] },
        },
      ]),
    ).toContain('only a sub0 socket subscribes');
  });

  for (const id of [
    'framing/raw-pair',
    'framing/raw-pubsub',
    'framing/bus-device',
    'framing/star',
    'backpressure/raw-pipeline',
    'resend/raw-survey',
  ])
    it(`${id} holds for netlab (fixed seed, the CLI's 100 runs)`, async () => {
      const spec = allProperties().find((p) => p.id === id)!;
      const out = await checkFamilyProperty(spec, 'netlab');
      expect(out.counterexample?.failed ?? []).toEqual([]);
      expect(out.ok).toBe(true);
    });
});
