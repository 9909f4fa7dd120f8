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
