/**
 * The simulator's self-checks (sim.time-monotonic, sim.bytes-conserved) in the engine: judged on
 * every simulated run after the scenario's own checks without a property listing them, not judged
 * on real sockets, and each shown to fail, with a message naming what broke, when a violation is
 * planted in a running world through a test-only wrapper of a stack (no switch in production code):
 * the run fails, the property shrinks, the report has a failing case with the check's id, and the
 * case replays.
 */
import { describe, expect, it } from 'vitest';
import { ForwardingEnv, type Env, type StreamConn } from '../impl/runtime/env.js';
import type { FaultRecord } from '../sim/fault-plan.js';
import type { End } from '../sim/net/end.js';
import type { Network } from '../sim/net.js';
import { runProperty } from './catalog.js';
import {
  bytesConservedViolation,
  evaluateChecks,
  eventsInOrderViolation,
  linkModelViolation,
  partitionsViolation,
  evaluateImplicitChecks,
  implicitChecks,
  SELF_CHECK_IDS,
  timeMonotonicViolation,
  type CheckContext,
  type SimAudit,
} from './checks.js';
import { ECHO_FAMILIES } from './echo/families/index.js';
import { echoStack } from './echo/plugin.js';
import { defineEchoScenario } from './echo/run.js';
import { replayCase } from './property.js';
import { runScenario, runScenarioOn, simSubstrate } from './runner.js';
import type { AnyStack, StackRun } from './stack.js';

const SELF = [
  'sim.time-monotonic',
  'sim.bytes-conserved',
  'sim.events-in-order',
  'sim.link-model',
  'sim.partitions-respected',
];

function calm(checks?: string[]): ReturnType<typeof defineEchoScenario> {
  return defineEchoScenario({
    name: 'calm',
    hosts: ['server', 'client0'],
    servers: [{ name: 'server', host: 'server', listen: 'tcp://server:7000' }],
    clients: [
      {
        name: 'req0',
        host: 'client0',
        connect: 'tcp://server:7000',
        startUs: 1000,
        messages: [{ bytes: 10 }, { bytes: 3000 }, { bytes: 0 }],
      },
    ],
    ...(checks !== undefined ? { checks } : {}),
  });
}

const cleanAudit = (): SimAudit => ({
  time: { events: 12, backsteps: 0, first: null, lastTUs: 900 },
  clockUs: 1000,
  bytes: {
    flows: 4,
    totals: {
      accepted: 10,
      read: 10,
      sendBuffered: 0,
      inFlight: 0,
      recvBuffered: 0,
      lost: 0,
      dropped: 0,
      discarded: 0,
    },
    violations: [],
  },
  events: { events: 30, outOfOrder: 0, first: null, stoppedEarly: 0, firstStop: null },
  links: {
    segments: 6,
    early: 0,
    firstEarly: null,
    overfull: 0,
    firstOverfull: null,
    overRetransmitted: 0,
    firstOverRetransmitted: null,
    heldTotal: 0,
    holds: [],
  },
});

const BASE_CTX: CheckContext = {
  endUs: 1000,
  healedAtUs: 0,
  faults: [],
  reason: 'idle',
  lossy: false,
  runtime: 'sim',
  crash: null,
};

describe('self-check verdicts', () => {
  it('sim.time-monotonic names the first step back and the count, or an event after the clock', () => {
    expect(timeMonotonicViolation(cleanAudit())).toBeNull();
    const back = cleanAudit();
    back.time = { events: 40, backsteps: 2, first: { seq: 17, tUs: 1500, previousTUs: 2000 }, lastTUs: 2500 };
    back.clockUs = 2400;
    expect(timeMonotonicViolation(back)).toBe(
      'virtual time stepped back 2 times in 40 trace events; first at event #17, stamped 1500 us after one at 2000 us; ' +
        "the last trace event is stamped 2500 us, later than the world's clock at the end (2400 us)",
    );
  });

  it('sim.bytes-conserved names each discrepant connection direction with its counts', () => {
    expect(bytesConservedViolation(cleanAudit())).toBeNull();
    const bad = cleanAudit();
    const account = {
      conn: 3,
      name: 'client0>tcp://server:7000#1',
      dir: 's>c',
      from: 'server',
      to: 'client0',
      accepted: 100,
      read: 60,
      sendBuffered: 5,
      inFlight: 10,
      recvBuffered: 5,
      lost: 0,
      dropped: 0,
      discarded: 12,
    };
    bad.bytes.violations = [
      account,
      { ...account, conn: 4 },
      { ...account, conn: 5 },
      { ...account, conn: 6 },
    ];
    expect(bytesConservedViolation(bad)).toBe(
      '4 of 4 connection directions do not add up: ' +
        [3, 4, 5]
          .map(
            (id) =>
              `connection ${id} (client0>tcp://server:7000#1) s>c, server to client0: accepted 100 B, read 60 + ` +
              'buffered 20 (send 5, in flight 10, receive 5) + destroyed 12 (lost 0, dropped 0, discarded 12) = 92 B: 8 B missing',
          )
          .join('; ') +
        '; and 1 more',
    );
  });

  it('sim.events-in-order names the first event run out of order, and a bounded run that stopped early', () => {
    expect(eventsInOrderViolation(cleanAudit())).toBeNull();
    const bad = cleanAudit();
    bad.events = {
      events: 30,
      outOfOrder: 2,
      first: { tUs: 700, seq: 9, previousTUs: 700, previousSeq: 12 },
      stoppedEarly: 1,
      firstStop: { untilUs: 1000, dueUs: 1000 },
    };
    expect(eventsInOrderViolation(bad)).toBe(
      '2 of 30 events ran out of order; first: event #9 (due 700 us) ran after event #12 (due 700 us), which was ' +
        'scheduled after it for the same time; 1 bounded run stopped with an event still due; first: run until ' +
        '1000 us stopped with one due at 1000 us',
    );
  });

  it('sim.partitions-respected judges each hold against the partitions of the plan in force', () => {
    const plan = {
      faults: {
        version: 1,
        faults: [
          { kind: 'partition', atUs: 1000, a: ['cli'], b: ['srv'], oneWay: true, forUs: 5000 },
          { kind: 'partition', atUs: 20_000, a: ['x'], b: ['cli', 'srv'], forUs: 1000 },
        ],
      },
    };
    const rec = (id: number, startUs: number, endUs: number | null): FaultRecord => ({
      id,
      kind: 'partition',
      status: endUs === null ? 'active' : 'ended',
      dueUs: startUs,
      startUs,
      endUs,
      matchedConns: null,
      detail: `partition ${id}`,
    });
    const records = [rec(0, 1000, 6000), rec(1, 20_000, 21_000)];
    const held = (...holds: { from: string; to: string; atUs: number }[]): SimAudit => {
      const a = cleanAudit();
      a.links = { ...a.links, heldTotal: holds.length, holds };
      return a;
    };
    // The cut direction, within the partition's time; both ways of the two-way one.
    expect(
      partitionsViolation(
        plan,
        held(
          { from: 'cli', to: 'srv', atUs: 1000 },
          { from: 'cli', to: 'srv', atUs: 6000 },
          { from: 'srv', to: 'x', atUs: 20_500 },
          { from: 'x', to: 'cli', atUs: 20_500 },
        ),
        records,
      ),
    ).toBeNull();
    // The way a one-way partition leaves open.
    expect(partitionsViolation(plan, held({ from: 'srv', to: 'cli', atUs: 2000 }), records)).toBe(
      'traffic from srv to cli was held for a partition at 2000 us, yet no partition of the plan cut that ' +
        'direction then (in force: partition 0)',
    );
    // After the heal, and with no partition at all.
    expect(partitionsViolation(plan, held({ from: 'cli', to: 'srv', atUs: 6001 }), records)).toMatch(
      /at 6001 us, yet .* \(none in force\)$/,
    );
    expect(
      partitionsViolation({ faults: { version: 1, faults: [] } }, held({ from: 'a', to: 'b', atUs: 1 }), []),
    ).toMatch(/none in force/);
    // While a swizzle-clog is in force its holds are not judged.
    const clog: FaultRecord = { ...rec(0, 0, 9000), kind: 'swizzle-clog' };
    expect(
      partitionsViolation(
        { faults: { version: 1, faults: [{ kind: 'swizzle-clog' }] } },
        held({ from: 'a', to: 'b', atUs: 5 }),
        [clog],
      ),
    ).toBeNull();
  });

  it('sim.link-model names each broken rule with its first occurrence', () => {
    expect(linkModelViolation(cleanAudit())).toBeNull();
    const bad = cleanAudit();
    bad.links = {
      segments: 9,
      early: 1,
      firstEarly: { conn: 2, dir: 'c>s', atUs: 1200, dueUs: 1450 },
      overfull: 3,
      firstOverfull: { conn: 2, dir: 's>c', atUs: 1300, bytes: 70_000, capBytes: 65_536 },
      overRetransmitted: 1,
      firstOverRetransmitted: { conn: 4, dir: 'c>s', atUs: 900, retransmits: 9, max: 8 },
      heldTotal: 0,
      holds: [],
    };
    expect(linkModelViolation(bad)).toBe(
      '1 segment reached the receiver before their own delays had passed; first on connection 2 c>s at 1200 us, ' +
        'due no earlier than 1450 us; 3 segments overfilled a receive buffer; first on connection 2 s>c at 1300 us: ' +
        '70000 B buffered, size 65536 B; 1 segment retransmitted beyond the bound; first on connection 4 c>s at ' +
        '900 us: 9 retransmissions, at most 8',
    );
  });

  it('are judged only on simulated runs, after the workload check every run gets, and not twice when named', () => {
    expect(implicitChecks([], false)).toEqual(['stack.workload-completes']);
    expect(evaluateImplicitChecks([], BASE_CTX, false).map((c) => [c.id, c.status])).toEqual([
      ['stack.workload-completes', 'not-applicable'],
    ]);
    // A self-check judged without the simulator's accounts says so.
    expect(evaluateChecks(new Map(), { checks: SELF }, undefined, BASE_CTX).map((c) => c.status)).toEqual(
      SELF.map(() => 'not-applicable'),
    );
    const ctx = { ...BASE_CTX, sim: cleanAudit(), pending: [] };
    expect(evaluateImplicitChecks([], ctx, true).map((c) => [c.id, c.kind, c.status])).toEqual([
      ['stack.workload-completes', 'eventually', 'pass'],
      ['sim.time-monotonic', 'always', 'pass'],
      ['sim.bytes-conserved', 'always', 'pass'],
      ['sim.events-in-order', 'always', 'pass'],
      ['sim.link-model', 'always', 'pass'],
      ['sim.partitions-respected', 'always', 'pass'],
    ]);
    expect(evaluateImplicitChecks(['sim.bytes-conserved'], ctx, true).map((c) => c.id)).toEqual([
      'stack.workload-completes',
      'sim.time-monotonic',
      'sim.events-in-order',
      'sim.link-model',
      'sim.partitions-respected',
    ]);
    expect(SELF_CHECK_IDS).toEqual(SELF);
  });
});

describe('self-checks in scenario runs', () => {
  it('every simulated run judges them after the scenario’s own checks', async () => {
    const s = calm();
    const r = await runScenario(echoStack, s, 'self-1');
    expect(r.checks.map((c) => c.id)).toEqual([...s.checks, 'stack.workload-completes', ...SELF]);
    expect(r.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(r.checks.slice(-SELF.length).map((c) => c.status)).toEqual(SELF.map(() => 'pass'));
    expect(r.ok).toBe(true);
  });

  it('a scenario may name them: judged where named, once, and its file parses', async () => {
    const s = calm(['sim.bytes-conserved', 'stack.no-crash']);
    const r = await runScenario(echoStack, s, 'self-2');
    expect(r.checks.map((c) => [c.id, c.status])).toEqual([
      ['sim.bytes-conserved', 'pass'],
      ['stack.no-crash', 'pass'],
      ['stack.workload-completes', 'pass'],
      ['sim.time-monotonic', 'pass'],
      ['sim.events-in-order', 'pass'],
      ['sim.link-model', 'pass'],
      ['sim.partitions-respected', 'pass'],
    ]);
  });

  it('on a substrate without the simulator’s accounts (real sockets) they are not appended (the workload check is)', async () => {
    const s = calm(['stack.no-crash', 'sim.time-monotonic']);
    const { audit: _audit, ...noAudit } = simSubstrate(s, 'self-3');
    const r = await runScenarioOn(echoStack, s, { ...noAudit, runtime: 'real' });
    expect(r.checks.map((c) => [c.id, c.status])).toEqual([
      ['stack.no-crash', 'pass'],
      ['sim.time-monotonic', 'not-applicable'],
      ['stack.workload-completes', 'pass'],
    ]);
  });
});

/** The simulated network behind a host's env (internals, reached by tests only). */
function networkOf(env: Env): Network {
  return (env as unknown as { host: { net: Network } }).host.net;
}

/**
 * The echo stack with a planted simulator bug: `plant` sees every host's env as it boots and may
 * wrap it. A test-only wrapper through the StackCore seam: production code has no switch for it.
 */
function planted(plant: (host: string, env: Env) => Env): AnyStack {
  return {
    ...echoStack,
    start(scenario: Parameters<typeof echoStack.start>[0], impl: string) {
      const run = echoStack.start(scenario, impl);
      const wrapped: StackRun<typeof run.observations, CheckContext> = {
        get observations() {
          return run.observations;
        },
        boot: (host, env) => run.boot(host, plant(host, env)),
        finish: (crash) => run.finish(crash),
        activity: () => run.activity(),
        settled: () => run.settled(),
        context: (base) => run.context(base),
        ...(run.pending !== undefined ? { pending: () => run.pending!() } : {}),
      };
      return wrapped;
    },
  } as AnyStack;
}

/** The bug: the clock steps 500 us back for one trace event, 2 ms into the run, on the first host. */
const clockStepsBack = planted((host, env) => {
  if (host === 'server')
    env.setTimer(2000, () => {
      const world = networkOf(env).world as unknown as { nowUsValue: number };
      world.nowUsValue -= 500;
      env.trace({ kind: 'note', text: 'stamped in the past' });
      world.nowUsValue += 500;
    });
  return env;
});

/** The bug: the server's delivery path counts every connection's reads one byte short. */
class MiscountingEnv extends ForwardingEnv {
  override listen(
    address: string,
    onConnection: (conn: StreamConn) => void,
    callback: Parameters<Env['listen']>[2],
  ): void {
    super.listen(
      address,
      (conn) => {
        (conn as unknown as End).in.readBytes -= 1;
        onConnection(conn);
      },
      callback,
    );
  }
}
const readsMiscounted = planted((host, env) => (host === 'server' ? new MiscountingEnv(env) : env));

/** The bug: the event queue breaks ties the wrong way round (the latest scheduled first). */
const tiesReversed = planted((host, env) => {
  if (host === 'server') {
    const queue = (networkOf(env).world as unknown as { queue: { time: Float64Array; seq: Float64Array } })
      .queue;
    Object.assign(queue, {
      less(this: typeof queue, a: number, b: number): boolean {
        const ta = this.time[a]!;
        const tb = this.time[b]!;
        return ta < tb || (ta === tb && this.seq[a]! > this.seq[b]!);
      },
    });
  }
  return env;
});

/**
 * The bug: the server's link forgets when it is busy, so back-to-back segments on a 1 MB/s link
 * serialize from the moment they are sent, not after the segment before them.
 */
class ForgetfulLinkEnv extends ForwardingEnv {
  override listen(
    address: string,
    onConnection: (conn: StreamConn) => void,
    callback: Parameters<Env['listen']>[2],
  ): void {
    super.listen(
      address,
      (conn) => {
        Object.defineProperty((conn as unknown as End).out, 'busyUntilUs', { get: () => 0, set: () => {} });
        onConnection(conn);
      },
      callback,
    );
  }
}
const linkForgetsBusy = planted((host, env) => {
  if (host !== 'server') return env;
  networkOf(env).setLink('server', 'client0', { bandwidthBytesPerSec: 1_000_000 });
  return new ForgetfulLinkEnv(env);
});

describe('each self-check fails on a planted violation', () => {
  it('sim.time-monotonic: a clock that steps back fails the run, naming the event', async () => {
    const r = await runScenario(clockStepsBack, calm(), 'planted-time');
    const failed = r.checks.filter((c) => c.status === 'fail');
    expect(failed.map((c) => c.id)).toEqual(['sim.time-monotonic']);
    expect(failed[0]!.actual).toMatch(
      /^virtual time stepped back 1 time in \d+ trace events; first at event #\d+, stamped 1500 us after one at 2000 us$/,
    );
    expect(r.ok).toBe(false);
  });

  it('sim.bytes-conserved: a miscounted delivery path fails the run, naming the connection and counts', async () => {
    const r = await runScenario(readsMiscounted, calm(), 'planted-bytes');
    const failed = r.checks.filter((c) => c.status === 'fail');
    expect(failed.map((c) => c.id)).toEqual(['sim.bytes-conserved']);
    expect(failed[0]!.actual).toBe(
      '1 of 2 connection directions does not add up: connection 1 (client0>tcp://server:7000#1) c>s, ' +
        'client0 to server: accepted 3034 B, read 3033 + buffered 0 (send 0, in flight 0, receive 0) + ' +
        'destroyed 0 (lost 0, dropped 0, discarded 0) = 3033 B: 1 B missing',
    );
  });

  it('sim.events-in-order: a queue that breaks ties the wrong way fails the run, naming the events', async () => {
    const r = await runScenario(tiesReversed, calm(), 'planted-ties');
    const failed = r.checks.filter((c) => c.id === 'sim.events-in-order');
    expect(failed.map((c) => c.status)).toEqual(['fail']);
    expect(failed[0]!.actual).toMatch(
      /^\d+ of \d+ events ran out of order; first: event #\d+ \(due (\d+) us\) ran after event #\d+ \(due \1 us\), which was scheduled after it for the same time$/,
    );
  });

  it('sim.link-model: a link that forgets it is busy delivers segments early, naming the first', async () => {
    const s = calm();
    const r = await runScenario(linkForgetsBusy, s, 'planted-link');
    const failed = r.checks.filter((c) => c.status === 'fail');
    expect(failed.map((c) => c.id)).toEqual(['sim.link-model']);
    expect(failed[0]!.actual).toMatch(
      /^\d+ segments? reached the receiver before their own delays had passed; first on connection 1 s>c at \d+ us, due no earlier than \d+ us$/,
    );
    // The same scenario without the bug, on the same slow link, passes.
    const honest = planted((host, env) => {
      if (host === 'server') networkOf(env).setLink('server', 'client0', { bandwidthBytesPerSec: 1_000_000 });
      return env;
    });
    const ok = await runScenario(honest, s, 'planted-link');
    expect(ok.checks.filter((c) => c.status === 'fail')).toEqual([]);
  });

  it('a property that never lists them fails, shrinks, and reports a failing case with the check id; the case replays', async () => {
    const spec = ECHO_FAMILIES[0]!.properties[0]!;
    expect(spec.checks).not.toContain('sim.bytes-conserved');
    const suite = await runProperty(spec, {
      stack: readsMiscounted,
      fcSeed: 5,
      runs: 10,
      impl: 'netlab',
      netlabVersion: 'test',
      commit: 'test',
      nowMs: () => 0,
      caseFilePath: (p, impl) => `cases/${p}.${impl}.json`,
    });
    const byId = new Map(suite.cases.map((c) => [c.id, c]));
    const c = byId.get(`${spec.id}/netlab/sim.bytes-conserved`)!;
    expect(c.status).toBe('fail');
    expect(c.invariant).toBe('sim.bytes-conserved');
    expect(c.family).toBe(spec.family);
    expect(c.actual).toMatch(/connection \d+ \(.*\) c>s, .*: 1 B missing/);
    expect(c.counterexample).not.toBeNull();
    expect(c.fcPath).toMatch(/^\d+(:\d+)*$/);
    expect(c.replay).toBe(`netlab replay cases/${spec.id}.netlab.json`);
    expect(byId.get(`${spec.id}/netlab/sim.time-monotonic`)!.status).toBe('pass');
    for (const id of spec.checks) expect(byId.get(`${spec.id}/netlab/${id}`)!.status, id).toBe('pass');
    // Shrunk, to one connection carrying one empty message (its 4-byte length prefix).
    expect(c.shrinks).toBeGreaterThan(0);
    expect(c.actual).toContain('accepted 4 B, read 3 + buffered 0');
    expect(suite.failure!.failed.map((f) => f.id)).toEqual(['sim.bytes-conserved']);
    const replayed = await replayCase(readsMiscounted, suite.failure!);
    expect(replayed).toMatchObject({ reproduced: true, failing: ['sim.bytes-conserved'] });
  });
});
