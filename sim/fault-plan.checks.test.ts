/**
 * Fault plan checks users see: the messages of refused plans (nested unknown fields, both spellings
 * of a time, hosts named by a connection selector), healAllAt's refusals, the host field of
 * fault-start/fault-end events, and the shapes of the swarm's partitions by partition mode.
 */
import { describe, expect, it } from 'vitest';
import { SimError } from './errors.js';
import {
  applyFaultPlan,
  drawSwarmPlan,
  parseFaultPlan,
  type ConnSelector,
  type FaultPlan,
} from './fault-plan.js';
import type { LatencyModel } from './net-config.js';
import { Network } from './net.js';
import { Rng } from './rng.js';
import { RingSink, type TraceEvent } from './trace.js';
import { World } from './world.js';

const MS = 1000;

const messageOf = (fn: () => unknown): string => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return e instanceof SimError ? `${e.code} | ${e.message}` : String(e);
  }
};

function net2(seed: string, hosts = ['a', 'b']): { world: World; net: Network; ring: RingSink } {
  const world = new World({ seed });
  const ring = new RingSink(10_000);
  world.trace.addSink(ring);
  const net = new Network(world);
  for (const h of hosts) net.addHost(h);
  return { world, net, ring };
}

describe('refused plans: code, path and message', () => {
  const cases: [string, unknown, string][] = [
    [
      'a "kind" inside a selector is an unknown field of the selector, not a step',
      { version: 1, faults: [{ kind: 'reset', atUs: 0, conn: { client: 'a', kind: 'pause' } }] },
      'ERR_BAD_ARGUMENT | ERR_BAD_ARGUMENT: faults[0].conn.kind: unknown field',
    ],
    [
      'a "kind" inside a link patch is an unknown field of the patch',
      {
        version: 1,
        faults: [{ kind: 'link', atUs: 0, from: 'a', to: 'b', set: { lossRate: 0.1, kind: 'pause' } }],
      },
      'ERR_BAD_ARGUMENT | ERR_BAD_ARGUMENT: faults[0].set.kind: unknown field',
    ],
    [
      'jitter given both ways',
      {
        version: 1,
        faults: [{ kind: 'link', atUs: 0, from: 'a', to: 'b', set: { jitterUs: 5, jitter: '5us' } }],
      },
      'ERR_BAD_ARGUMENT | ERR_BAD_ARGUMENT: faults[0].set.jitter: give jitterUs or jitter, not both',
    ],
  ];
  for (const [name, plan, expected] of cases)
    it(name, () => {
      expect(messageOf(() => parseFaultPlan(plan))).toBe(expected);
    });

  it('an unknown field of a step lists the fields of its kind', () => {
    expect(
      messageOf(() =>
        parseFaultPlan({ version: 1, faults: [{ kind: 'restart', atUs: 0, host: 'a', x: 1 }] }),
      ),
    ).toBe('ERR_BAD_ARGUMENT | ERR_BAD_ARGUMENT: faults[0].x: unknown field (known: kind, atUs, at, host)');
  });

  it('applying checks the client host a selector names', () => {
    const { net } = net2('sel');
    const plan: FaultPlan = { version: 1, faults: [{ kind: 'reset', atUs: 0, conn: { client: 'nope' } }] };
    expect(messageOf(() => applyFaultPlan(net, plan))).toBe(
      'ERR_BAD_ARGUMENT | ERR_BAD_ARGUMENT: faults[0].conn.client: no host named "nope" (hosts: a, b)',
    );
  });
});

describe('healAllAt', () => {
  it('refuses a time that is not a finite number', () => {
    const { net } = net2('heal-bad');
    const applied = applyFaultPlan(net, { version: 1, faults: [] });
    for (const us of [Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number])
      expect(messageOf(() => applied.healAllAt(us))).toBe(
        `ERR_BAD_ARGUMENT | ERR_BAD_ARGUMENT: healAllAt: us must be a time >= now (0), got ${String(us)}`,
      );
  });
});

describe('fault events', () => {
  it('carry a host field only for faults of one host', async () => {
    const { world, net, ring } = net2('hosts');
    applyFaultPlan(net, {
      version: 1,
      faults: [
        { kind: 'partition', atUs: 0, a: ['a'], b: ['b'], forUs: 5 * MS },
        { kind: 'pause', atUs: MS, host: 'b', forUs: MS },
        { kind: 'reset', atUs: 3 * MS, conn: 'all' },
      ],
    });
    await world.run();
    const faults = ring
      .events()
      .filter((e: TraceEvent) => e.kind === 'fault-start' || e.kind === 'fault-end')
      .map((e) => `${e.kind} ${(e as { fault: string }).fault} ${'host' in e ? String(e.host) : '-'}`);
    expect(faults).toEqual([
      'fault-start partition -',
      'fault-start pause b',
      'fault-end pause b',
      'fault-start reset -',
      'fault-end reset -',
      'fault-end partition -',
    ]);
  });
});

describe('swarm partitions by mode', () => {
  /** Sizes of side a of every partition the swarm draws on 8 hosts, by partition mode. */
  function sideSizes(): Map<string, number[]> {
    const hosts = ['h0', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'h7'];
    const out = new Map<string, number[]>();
    for (let seed = 0; seed < 150; seed++) {
      const { plan, knobs } = drawSwarmPlan(new Rng(`shape-${seed}`), hosts, {
        kinds: ['partition'],
        steps: { min: 12, max: 12 },
      });
      const mode = String(knobs.partitionMode);
      const list = out.get(mode) ?? [];
      for (const f of plan.faults) {
        if (f.kind !== 'partition') continue;
        expect([...f.a, ...f.b].sort()).toEqual(hosts);
        list.push(f.a.length);
      }
      out.set(mode, list);
    }
    return out;
  }

  it('isolate_single cuts off one host; uniform_size draws the size of a side uniformly', () => {
    const sizes = sideSizes();
    expect([...sizes.keys()].sort()).toEqual(['isolate_single', 'uniform_partition', 'uniform_size']);
    expect(new Set(sizes.get('isolate_single'))).toEqual(new Set([1]));
    // uniform_size: each size 1..7 about 1/7 of the time; a host-by-host coin (uniform_partition)
    // gives a side of 1 or 7 hosts only ~7 % of the time.
    const edge = (list: number[]): number => list.filter((n) => n === 1 || n === 7).length / list.length;
    const uniformSize = sizes.get('uniform_size')!;
    expect(new Set(uniformSize)).toEqual(new Set([1, 2, 3, 4, 5, 6, 7]));
    expect(edge(uniformSize)).toBeGreaterThan(0.18);
    expect(edge(sizes.get('uniform_partition')!)).toBeLessThan(0.15);
  });
});

describe('connection selectors', () => {
  /** c1 and c2 each hold one connection to srv; then the plan's stalls count what they match. */
  async function matched(selectors: (ConnSelector | ((names: Map<string, string>) => ConnSelector))[]) {
    const { world, net } = net2('selectors', ['srv', 'c1', 'c2']);
    net.host('srv').env.listen(
      'tcp://srv:80',
      (c) => c.setHandlers({}),
      () => undefined,
    );
    for (const h of ['c1', 'c2']) net.host(h).env.connect('tcp://srv:80', () => undefined);
    await world.run({ untilUs: 50 * MS });
    const names = new Map(net.connections().map((c) => [c.clientHost, c.name]));
    const applied = applyFaultPlan(net, {
      version: 1,
      faults: selectors.map((s) => ({
        kind: 'stall-reads' as const,
        atUs: 0,
        conn: typeof s === 'function' ? s(names) : s,
        side: 'both' as const,
        forUs: MS,
      })),
    });
    await world.run({ untilUs: 100 * MS });
    return applied.records().map((r) => `${r.matchedConns} ${r.detail}`);
  }

  it('match on every field they name; an empty one matches all', async () => {
    expect(
      await matched([
        { client: 'c1', server: 'srv' },
        { client: 'c1', server: 'c2' },
        { server: 'srv' },
        (names) => ({ name: names.get('c2')! }),
        { name: 'nope' },
        {},
      ]),
    ).toEqual([
      '1 client=c1,server=srv both side for 1ms: 1 conn(s)',
      '0 client=c1,server=c2 both side for 1ms: 0 conn(s)',
      '2 server=srv both side for 1ms: 2 conn(s)',
      expect.stringMatching(/^1 name=c2>tcp:\/\/srv:80#\d+ both side for 1ms: 1 conn\(s\)$/),
      '0 name=nope both side for 1ms: 0 conn(s)',
      '2 all both side for 1ms: 2 conn(s)',
    ]);
  });
});

describe('link faults', () => {
  it('describe every latency model they set', async () => {
    const { world, net } = net2('latency-models');
    const models: LatencyModel[] = [
      { kind: 'uniform', minUs: MS, maxUs: 3 * MS },
      { kind: 'exponential', minUs: MS, meanUs: 5 * MS },
      {
        kind: 'mixture',
        fast: { kind: 'constant', us: MS },
        slow: { kind: 'constant', us: 100 * MS },
        slowProbability: 0.01,
      },
    ];
    const applied = applyFaultPlan(net, {
      version: 1,
      faults: models.map((latency) => ({
        kind: 'link' as const,
        atUs: 0,
        from: 'a',
        to: 'b',
        set: { latency },
      })),
    });
    await world.run();
    expect(applied.records().map((r) => r.detail)).toEqual([
      'a<>b latency uniform(1ms..3ms)',
      'a<>b latency exp(min 1ms, mean 5ms)',
      'a<>b latency mix(1ms / 100ms p=0.01)',
    ]);
  });

  it('a later fault on the same link restores what was in force when it began, not what an earlier one found', async () => {
    const { world, net } = net2('link-base');
    const slow: LatencyModel = { kind: 'constant', us: 50 * MS };
    const set = { lossRate: 0.5 };
    applyFaultPlan(net, {
      version: 1,
      faults: [
        { kind: 'link', atUs: 0, from: 'a', to: 'b', set, forUs: 10 * MS },
        { kind: 'link', atUs: 30 * MS, from: 'a', to: 'b', set, forUs: 10 * MS },
      ],
    });
    world.post(20 * MS, () => net.setLink('a', 'b', { latency: slow }), undefined);
    await world.run();
    expect(net.linkConfig('a', 'b')).toMatchObject({ latency: slow, lossRate: 0 });
    expect(net.linkConfig('b', 'a')).toMatchObject({ latency: slow, lossRate: 0 });
  });
});

describe('faults undone around changes made by hand', () => {
  /** The host events of host b as "tUs state", after running `plan` with `byHand` steps posted. */
  async function hostEvents(plan: FaultPlan, byHand: [number, (net: Network) => void][]) {
    const { world, net, ring } = net2('by-hand');
    const applied = applyFaultPlan(net, plan);
    for (const [atUs, fn] of byHand) world.post(atUs, () => fn(net), undefined);
    await world.run();
    const events = ring
      .events()
      .filter((e) => e.kind === 'host' && e.host === 'b')
      .map((e) => `${e.tUs} ${(e as { state: string }).state}`);
    return { events, state: net.host('b').state, records: applied.records() };
  }

  it('a pause that ends leaves a host resumed by hand, or paused again in a later incarnation, alone', async () => {
    const pause: FaultPlan = { version: 1, faults: [{ kind: 'pause', atUs: 0, host: 'b', forUs: 100 * MS }] };
    const resumed = await hostEvents(pause, [[50 * MS, (net) => net.host('b').resume()]]);
    expect([resumed.state, resumed.events]).toEqual(['up', ['0 paused', '50000 resumed']]);
    const repaused = await hostEvents(pause, [
      [20 * MS, (net) => net.host('b').crash()],
      [30 * MS, (net) => net.host('b').restart()],
      [40 * MS, (net) => net.host('b').pause()],
    ]);
    expect(repaused.state).toBe('paused');
    expect(repaused.events).toEqual(['0 paused', '20000 crashed', '30000 restarted', '40000 paused']);
  });

  it('a crash that ends restarts only the incarnation it crashed, and only if still down', async () => {
    const crash: FaultPlan = {
      version: 1,
      faults: [{ kind: 'crash', atUs: 0, host: 'b', restartAfterUs: 50 * MS }],
    };
    const restarted = await hostEvents(crash, [[20 * MS, (net) => net.host('b').restart()]]);
    expect([restarted.state, restarted.events]).toEqual(['up', ['0 crashed', '20000 restarted']]);
    const crashedAgain = await hostEvents(crash, [
      [20 * MS, (net) => net.host('b').restart()],
      [30 * MS, (net) => net.host('b').crash()],
    ]);
    expect(crashedAgain.state).toBe('crashed');
    expect(crashedAgain.events).toEqual(['0 crashed', '20000 restarted', '30000 crashed']);
  });

  it('a crash ends the pause of its host, a restart ends its pause or crash: their records say when', async () => {
    const { records } = await hostEvents(
      {
        version: 1,
        faults: [
          { kind: 'pause', atUs: 0, host: 'b', forUs: 100 * MS },
          { kind: 'crash', atUs: 10 * MS, host: 'b', restartAfterUs: 100 * MS },
          { kind: 'restart', atUs: 20 * MS, host: 'b' },
          { kind: 'pause', atUs: 30 * MS, host: 'b', forUs: 100 * MS },
          { kind: 'restart', atUs: 40 * MS, host: 'b' },
        ],
      },
      [],
    );
    expect(records.map((r) => `${r.kind} ${r.status} ${r.startUs}..${r.endUs}`)).toEqual([
      'pause ended 0..10000',
      'crash ended 10000..20000',
      'restart ended 20000..20000',
      'pause ended 30000..40000',
      'restart ended 40000..40000',
    ]);
  });

  it('a partition healed by hand ends quietly at its own time', async () => {
    const { world, net } = net2('healed-by-hand');
    const applied = applyFaultPlan(net, {
      version: 1,
      faults: [{ kind: 'partition', atUs: 0, a: ['a'], b: ['b'], forUs: 10 * MS }],
    });
    world.post(5 * MS, () => net.heal(), undefined);
    await world.run();
    expect(applied.records()[0]).toMatchObject({ status: 'ended', endUs: 10 * MS });
  });
});

describe('stall-reads', () => {
  /** When srv's handler sees the bytes cli writes at 30 ms, under the plan's stalls (steps at absolute times). */
  async function readAtUs(
    stalls: { atUs: number; side: 'client' | 'server' | 'both'; forUs: number }[],
    resetAtUs?: number,
  ) {
    const { world, net } = net2('stalls', ['srv', 'cli']);
    const seen: number[] = [];
    net.host('srv').env.listen(
      'tcp://srv:80',
      (c) => c.setHandlers({ onData: () => seen.push(world.nowUs) }),
      () => undefined,
    );
    net.host('cli').env.connect('tcp://srv:80', (err, c) => {
      if (err !== undefined || c === undefined) return;
      c.setHandlers({});
      world.post(30 * MS - world.nowUs, () => c.write(new Uint8Array(10)), undefined);
    });
    applyFaultPlan(net, {
      version: 1,
      faults: stalls.map((s) => ({ kind: 'stall-reads' as const, conn: 'all' as const, ...s })),
    });
    if (resetAtUs !== undefined)
      world.post(resetAtUs, () => net.connections().forEach((c) => net.resetConnection(c.id)), undefined);
    await world.run({ untilUs: 1000 * MS });
    return seen;
  }

  it('overlapping stalls of a side end when the last of them ends', async () => {
    expect(await readAtUs([])).toEqual([31 * MS]);
    const both = { atUs: 20 * MS, side: 'both' as const, forUs: 80 * MS };
    expect(await readAtUs([both, { atUs: 25 * MS, side: 'server', forUs: 10 * MS }])).toEqual([100 * MS]);
    expect(await readAtUs([both, { atUs: 25 * MS, side: 'client', forUs: 10 * MS }])).toEqual([100 * MS]);
    expect(
      await readAtUs([
        { atUs: 20 * MS, side: 'server', forUs: 80 * MS },
        { atUs: 25 * MS, side: 'server', forUs: 10 * MS },
      ]),
    ).toEqual([100 * MS]);
  });

  it('a stall of a connection reset meanwhile ends quietly', async () => {
    expect(await readAtUs([{ atUs: 20 * MS, side: 'both', forUs: 80 * MS }], 50 * MS)).toEqual([]);
  });
});

describe('swizzle-clog after healAllAt', () => {
  it('clogs and unclogs nothing more once healed', async () => {
    const { world, net, ring } = net2('swizzle-heal', ['a', 'b', 'c']);
    const applied = applyFaultPlan(net, {
      version: 1,
      faults: [{ kind: 'swizzle-clog', atUs: 0, hosts: ['a', 'b', 'c'], stepUs: 10 * MS, forUs: 10 * MS }],
    });
    applied.healAllAt(5 * MS);
    const blocked: boolean[] = [];
    world.post(
      25 * MS,
      () => blocked.push(net.blocked('b', 'a') || net.blocked('c', 'a') || net.blocked('b', 'c')),
      undefined,
    );
    await world.run();
    expect(blocked).toEqual([false]);
    const notes = ring.events().filter((e) => e.kind === 'note' && /swizzle-clog/.test(String(e.text)));
    expect(notes.map((e) => e.tUs)).toEqual([0]);
  });
});
