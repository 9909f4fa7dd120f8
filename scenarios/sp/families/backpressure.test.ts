import { describe, expect, it } from 'vitest';
import { checkById, type CheckResult, type Observations } from '../checks.js';
import { topology } from '../generators.js';
import { checkProperty } from '../../property.js';
import { spCore } from '../run.js';
import { defineScenario } from '../define.js';
import '../museum/index.js';
import { checkFamilyProperty } from './testing.js';
import { registerImpl, runScenario } from '../run.js';
import type { Socket } from '../../../impl/sp/core/socket.js';
import { openPush0, Push0 } from '../../../impl/sp/protocol/pipeline.js';
import { BACKPRESSURE_CHECKS, BACKPRESSURE_PROPERTIES } from './backpressure.js';
import './index.js';

const RUNS = 100;
const SEED = 1;

function property(id: string, impl: string, fcSeed = SEED) {
  return checkFamilyProperty(
    BACKPRESSURE_PROPERTIES.find((p) => p.id === id)!,
    impl,
    fcSeed,
    RUNS,
  );
}

function status(checks: CheckResult[], id: string): string {
  return checks.find((c) => c.id === id)?.status ?? 'missing';
}

// Planted variants: each forces an option over the scenario's, so the stack keeps a bound other
// than the one the scenario configured, and the check holding it to the configured one must fail.
registerImpl('test/writeq-ignored', {
  summary: 'test: WRITEQ-LEN forced to 1000',
  family: 'backpressure',
  socket: () => ({ options: { 'WRITEQ-LEN': 1000 } }),
});
registerImpl('test/deadline-early', {
  summary: 'test: SEND-DEADLINE forced to 1 ms',
  family: 'backpressure',
  socket: () => ({ options: { 'SEND-DEADLINE': 1_000 } }),
});
registerImpl('test/deadline-ignored', {
  summary: 'test: SEND-DEADLINE forced off',
  family: 'backpressure',
  socket: () => ({ options: { 'SEND-DEADLINE': null } }),
});
registerImpl('test/drops-when-full', {
  summary: 'test: BEST-EFFORT forced on',
  family: 'backpressure',
  socket: () => ({ options: { 'BEST-EFFORT': true } }),
});

/** A burst of 40 messages of 1 KiB into a PAIR0 sink that stops receiving for 500 ms at once. */
function stalledPair0(o: {
  impl?: string;
  sender?: Record<string, number | boolean | null>;
  stallUs?: number;
  bursts?: number;
  gapUs?: number;
}) {
  return defineScenario({
    impl: o.impl ?? 'netlab',
    hosts: ['a', 'b'],
    sockets: [
      {
        name: 'sink',
        host: 'b',
        protocol: 'pair0',
        listen: ['tcp://b:5555'],
        options: { 'READQ-LEN': 2 },
        app: { kind: 'sink', stallAtUs: 0, stallUs: o.stallUs ?? 500_000 },
      },
      {
        name: 'sender',
        host: 'a',
        protocol: 'pair0',
        dial: ['tcp://b:5555'],
        options: { 'WRITEQ-LEN': 4, ...o.sender },
        app: { kind: 'send' },
      },
    ],
    workload: {
      sends: Array.from({ length: o.bursts ?? 40 }, () => ({
        socket: 'sender',
        bytes: 1024,
        gapUs: o.gapUs ?? 0,
      })),
    },
    network: { sendBufferBytes: 4096, recvBufferBytes: 4096 },
    checks: [...BACKPRESSURE_CHECKS],
  });
}

describe('backpressure family', () => {
  for (const spec of BACKPRESSURE_PROPERTIES)
    it(`netlab passes ${spec.id} (${RUNS} runs, seeds 1 and 20261122)`, async () => {
      for (const seed of [SEED, 20261122]) {
        const out = await property(spec.id, 'netlab', seed);
        expect(out.counterexample?.failed ?? [], `seed ${seed}`).toEqual([]);
        expect(out.ok).toBe(true);
      }
    });

  it('museum/best-effort-coin-flip fails backpressure/pair0 on a best-effort drop with room in the queue', async () => {
    const out = await property('backpressure/pair0', 'museum/best-effort-coin-flip');
    expect(out.ok).toBe(false);
    expect(out.counterexample!.failed.map((f) => f.id)).toContain(
      'backpressure.best-effort-drops-only-when-full',
    );
  });

  it('museum/pub-blocks-on-slow-sub fails backpressure/pubsub: its send waits for a slow subscriber', async () => {
    const out = await property('backpressure/pubsub', 'museum/pub-blocks-on-slow-sub');
    expect(out.ok).toBe(false);
    expect(out.counterexample!.failed.map((f) => f.id)).toContain('pubsub.publisher-never-blocks');
  });

  it('museum/best-effort-coin-flip fails backpressure/reqrep (a dropped request is never answered)', async () => {
    const out = await property('backpressure/reqrep', 'museum/best-effort-coin-flip');
    expect(out.ok).toBe(false);
  });

  it('a stalled sink: sends block, the queues stay bounded, everything arrives after the stall', async () => {
    const r = await runScenario(stalledPair0({}), 'sim-1');
    const sender = r.observations.sockets.sender!;
    expect(r.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(sender.maxSendQ).toBe(4);
    expect(r.observations.sockets.sink!.maxRecvQ).toBe(2);
    // The burst outran queue and windows: some sends waited for the stall to end.
    expect(sender.sent.some((x) => x.acceptedAtUs! >= 500_000)).toBe(true);
    expect(r.observations.sockets.sink!.received).toHaveLength(40);
  });

  it('SEND-DEADLINE: blocked sends fail with ErrSendTimeout after the deadline and are never delivered', async () => {
    const r = await runScenario(stalledPair0({ sender: { 'SEND-DEADLINE': 20_000 } }), 'sim-1');
    const sent = r.observations.sockets.sender!.sent;
    const timedOut = sent.filter((x) => x.errorCode === 'ErrSendTimeout');
    expect(timedOut.length).toBeGreaterThan(0);
    for (const x of timedOut) expect(x.failedAtUs! - x.atUs).toBe(20_000);
    expect(r.observations.sockets.sink!.received).toHaveLength(40 - timedOut.length);
    expect(r.checks.filter((c) => c.status === 'fail')).toEqual([]);
  });

  it('BEST-EFFORT: netlab drops only the sends that found the queue full', async () => {
    const r = await runScenario(stalledPair0({ sender: { 'BEST-EFFORT': true } }), 'sim-1');
    const sent = r.observations.sockets.sender!.sent;
    const full = sent.filter((x) => x.queuedBefore >= 4);
    expect(full.length).toBeGreaterThan(0);
    expect(r.observations.sockets.sink!.received).toHaveLength(40 - full.length);
    expect(status(r.checks, 'backpressure.best-effort-drops-only-when-full')).toBe('pass');
    expect(status(r.checks, 'backpressure.send-blocks-or-times-out')).toBe('pass');
  });

  it('BEST-EFFORT coin flip: drops with room in the queue fail their check', async () => {
    // Paced sends into a sink that keeps up: the queue always has room, so netlab drops nothing.
    const paced = { sender: { 'BEST-EFFORT': true }, stallUs: 0, gapUs: 10_000 };
    const real = await runScenario(stalledPair0(paced), 'sim-1');
    expect(real.observations.sockets.sink!.received).toHaveLength(40);
    const r = await runScenario(stalledPair0({ ...paced, impl: 'museum/best-effort-coin-flip' }), 'sim-1');
    const got = r.observations.sockets.sink!.received.length;
    expect(got).toBeGreaterThan(5);
    expect(got).toBeLessThan(35);
    expect(status(r.checks, 'backpressure.best-effort-drops-only-when-full')).toBe('fail');
  });

  it('queues-bounded fails when the send queue outgrows WRITEQ-LEN', async () => {
    const r = await runScenario(stalledPair0({ impl: 'test/writeq-ignored' }), 'sim-1');
    expect(status(r.checks, 'backpressure.queues-bounded')).toBe('fail');
  });

  it('send-blocks-or-times-out fails on a timeout before SEND-DEADLINE, and on a send blocked past it', async () => {
    const early = await runScenario(
      stalledPair0({ impl: 'test/deadline-early', sender: { 'SEND-DEADLINE': 20_000 } }),
      'sim-1',
    );
    expect(status(early.checks, 'backpressure.send-blocks-or-times-out')).toBe('fail');
    // A stall longer than the run: with the deadline ignored, sends stay blocked to the end.
    const late = await runScenario(
      stalledPair0({
        impl: 'test/deadline-ignored',
        sender: { 'SEND-DEADLINE': 20_000 },
        stallUs: 60_000_000,
      }),
      'sim-1',
    );
    expect(status(late.checks, 'backpressure.send-blocks-or-times-out')).toBe('fail');
  });

  it('accepted-delivered fails when a blocking send is accepted and dropped', async () => {
    const r = await runScenario(stalledPair0({ impl: 'test/drops-when-full' }), 'sim-1');
    expect(status(r.checks, 'backpressure.accepted-delivered')).toBe('fail');
  });
});

describe('backpressure/rep-reply-queue', () => {
  const CHECKS = [...BACKPRESSURE_CHECKS, 'reqrep.one-reply-per-request', 'reqrep.all-answered'];

  /** The case the property found: a reply moved in from a blocked REP send was never flushed. */
  function pipelinedIntoRep(o: { impl?: string; bestEffort?: boolean } = {}) {
    const t = topology({
      pattern: 'reqrep',
      transport: 'tcp',
      clients: 2,
      rawClient: true,
      pipeline: 4,
      serverOptions: { 'WRITEQ-LEN': 1, 'BEST-EFFORT': o.bestEffort ?? false },
    });
    return defineScenario({
      impl: o.impl ?? 'netlab',
      hosts: t.hosts,
      sockets: t.sockets,
      workload: {
        sends: [
          { socket: 'client0', bytes: 4 },
          ...[2037, 4, 4].map((bytes) => ({ socket: 'client1', bytes })),
        ],
      },
      network: { latency: { kind: 'constant', us: 0 }, sendBufferBytes: 2048, recvBufferBytes: 2048 },
      faults: {
        version: 1,
        faults: [{ kind: 'stall-reads', atUs: 204_020, conn: 'all', side: 'client', forUs: 1_499_987 }],
      },
      faultPhaseUs: 2_000_000,
      checks: CHECKS,
    });
  }

  it('regression: every pipelined request is answered once the clients read again (REP WRITEQ-LEN 1)', async () => {
    const r = await runScenario(pipelinedIntoRep(), 'sim-1');
    expect(r.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(r.observations.sockets.client1!.received.map((x) => x.replyTo)).toEqual([0, 1, 2]);
    expect(r.observations.sockets.server!.maxReplyQueue).toBe(1);
  });

  it('replies back up in the generated scenarios: the REP often queues several for one pipe', async () => {
    let backedUp = 0;
    const spec = BACKPRESSURE_PROPERTIES.find((p) => p.id === 'backpressure/rep-reply-queue')!;
    const out = await checkProperty({
      stack: spCore,
      arb: spec.arb({ impl: 'netlab', transports: spec.transports }),
      fcSeed: SEED,
      runs: RUNS,
      netlabVersion: 'test',
      commit: 'test',
      onResult: (r) => {
        if (r.observations.sockets.server!.maxReplyQueue >= 2) backedUp++;
      },
    });
    expect(out.ok).toBe(true);
    expect(backedUp).toBeGreaterThan(RUNS / 10);
  });

  it('museum/best-effort-coin-flip fails it: a REP reply dropped by chance is never answered', async () => {
    const out = await property('backpressure/rep-reply-queue', 'museum/best-effort-coin-flip');
    expect(out.ok).toBe(false);
  });

  it('queues-bounded fails when a REP queues more replies for one pipe than WRITEQ-LEN (planted)', async () => {
    const s = pipelinedIntoRep();
    const r = await runScenario(s, 'sim-1');
    const obs: Observations = structuredClone(r.observations);
    obs.sockets.server!.maxReplyQueue = 2;
    const v = checkById('backpressure.queues-bounded')!.evaluate(s, obs, {
      endUs: 0,
      healedAtUs: 0,
      faults: [],
      reason: 'until',
      crash: null,
      payloadOf: () => new Uint8Array(0),
      lossy: false,
    });
    expect(v.status).toBe('fail');
    expect(v.actual).toMatch(/2 replies queued for one pipe with WRITEQ-LEN 1/);
  });
});

/** A PUSH that always starts its scan at the first pipe: every message goes to the first ready puller. */
class FirstPipePush0 extends Push0 {
  override pumpSend(): void {
    this.next = 0;
    super.pumpSend();
  }
}
registerImpl('test/push-first-pipe', {
  summary: 'test: PUSH without rotation (always the first ready pipe)',
  family: 'backpressure',
  socket: (spec) =>
    spec.protocol === 'push0'
      ? { open: (env, options) => openPush0(env, options, (s: Socket) => new FirstPipePush0(s)) }
      : undefined,
});

describe('backpressure/pipeline', () => {
  const PIPE_CHECKS = [...BACKPRESSURE_CHECKS, 'pipeline.each-message-once', 'pipeline.even-spread'];

  /** One PUSH (WRITEQ-LEN 4) bursting 40 x 1 KiB into `pullers` PULLs; pull0 may stall from 0. */
  function pushInto(o: {
    impl?: string;
    pullers?: number;
    stallUs?: number;
    push?: Record<string, number | boolean | null>;
    pullStartUs?: number;
    firstGapUs?: number;
  }) {
    const n = o.pullers ?? 1;
    return defineScenario({
      impl: o.impl ?? 'netlab',
      hosts: ['a', ...Array.from({ length: n }, (_, i) => `p${i}`)],
      sockets: [
        {
          name: 'pusher',
          host: 'a',
          protocol: 'push0',
          listen: ['tcp://a:5555'],
          options: { 'WRITEQ-LEN': 4, ...o.push },
          app: { kind: 'send' },
        },
        ...Array.from({ length: n }, (_, i) => ({
          name: `pull${i}`,
          host: `p${i}`,
          protocol: 'pull0' as const,
          dial: ['tcp://a:5555'],
          options: { 'READQ-LEN': 2 },
          startUs: o.pullStartUs ?? 0,
          app: {
            kind: 'sink' as const,
            ...(i === 0 && o.stallUs ? { stallAtUs: 0, stallUs: o.stallUs } : {}),
          },
        })),
      ],
      workload: {
        sends: Array.from({ length: 40 }, (_, i) => ({
          socket: 'pusher',
          bytes: 1024,
          gapUs: i === 0 ? (o.firstGapUs ?? 300_000) : 0,
        })),
      },
      network: { sendBufferBytes: 4096, recvBufferBytes: 4096 },
      checks: PIPE_CHECKS,
    });
  }

  it('a stalled PULL pauses its pipe: PUSH blocks, nothing is dropped, everything arrives after the stall', async () => {
    const r = await runScenario(pushInto({ stallUs: 500_000 }), 'sim-1');
    expect(r.checks.filter((c) => c.status === 'fail')).toEqual([]);
    const pusher = r.observations.sockets.pusher!;
    expect(pusher.sent.some((x) => x.acceptedAtUs! >= 500_000)).toBe(true); // backpressure reached it
    expect(r.observations.sockets.pull0!.maxRecvQ).toBeLessThanOrEqual(2);
    expect(r.observations.sockets.pull0!.received).toHaveLength(40);
  });

  it('museum/pull-drops loses messages at the stalled PULL and fails accepted-delivered', async () => {
    const r = await runScenario(pushInto({ impl: 'museum/pull-drops', stallUs: 500_000 }), 'sim-1');
    expect(r.observations.sockets.pull0!.received.length).toBeLessThan(40);
    expect(status(r.checks, 'backpressure.accepted-delivered')).toBe('fail');
  });

  it('museum/pull-drops is caught by backpressure/pipeline within 100 runs', async () => {
    const out = await property('backpressure/pipeline', 'museum/pull-drops');
    expect(out.ok).toBe(false);
    expect(out.counterexample!.failed.map((f) => f.id)).toContain('backpressure.accepted-delivered');
  });

  it('equally fast pullers get 14, 13 and 13 of 40; a PUSH without rotation fails even-spread', async () => {
    const r = await runScenario(pushInto({ pullers: 3 }), 'sim-1');
    expect(r.checks.filter((c) => c.status === 'fail')).toEqual([]);
    const shares = [0, 1, 2].map((i) => r.observations.sockets[`pull${i}`]!.received.length);
    expect([...shares].sort()).toEqual([13, 13, 14]);
    const bad = await runScenario(pushInto({ pullers: 3, impl: 'test/push-first-pipe' }), 'sim-1');
    expect(status(bad.checks, 'pipeline.even-spread')).toBe('fail');
    expect(status(bad.checks, 'backpressure.accepted-delivered')).toBe('pass');
  });

  it('FAIL-NO-PEERS: sends before any puller fail at once with ErrNoPeers, later ones are delivered', async () => {
    const s = pushInto({ push: { 'FAIL-NO-PEERS': true }, pullStartUs: 200_000, firstGapUs: 0 });
    const r = await runScenario(
      { ...s, workload: { sends: [...s.workload.sends, { socket: 'pusher', bytes: 8, gapUs: 400_000 }] } },
      'sim-1',
    );
    const sent = r.observations.sockets.pusher!.sent;
    expect(sent.filter((x) => x.errorCode === 'ErrNoPeers')).toHaveLength(40);
    expect(sent[40]!.acceptedAtUs).not.toBeNull();
    expect(r.observations.sockets.pull0!.received).toHaveLength(1);
    expect(status(r.checks, 'backpressure.send-blocks-or-times-out')).toBe('pass');
    expect(status(r.checks, 'backpressure.accepted-delivered')).toBe('pass');
  });
});
