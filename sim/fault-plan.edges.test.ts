/**
 * Fault plan edges: messages of refused plans, `\u` escapes in plan text, descriptions of link
 * faults, firstId, swizzle-clog of a lone host and of one host among several, and the swarm's
 * drawn durations and link settings. (Each case kills a mutant `npm run mutate` found surviving:
 * README.)
 */
import { describe, expect, it } from 'vitest';
import {
  applyFaultPlan,
  drawSwarmPlan,
  parseFaultPlan,
  parseFaultPlanText,
  type FaultPlan,
} from './fault-plan.js';
import { Network } from './net.js';
import { Rng } from './rng.js';
import { World } from './world.js';
import { messageOf } from './testing/errors.js';

const MS = 1000;

function net2(seed: string, hosts = ['a', 'b']): { world: World; net: Network } {
  const world = new World({ seed });
  const net = new Network(world);
  for (const h of hosts) net.addHost(h);
  return { world, net };
}

describe('parsing plans', () => {
  it('a missing time says which forms it takes', () => {
    expect(
      messageOf(() => parseFaultPlan({ version: 1, faults: [{ kind: 'pause', host: 'a', forUs: 5 }] })),
    ).toBe('ERR_BAD_ARGUMENT: faults[0].atUs: required (or at as a duration string)');
  });

  it('plan text may spell characters as \\u escapes', () => {
    const plan = parseFaultPlanText(
      '{"version": 1, "faults": [{"kind": "pause", "atUs": 0, "forUs": 5, "host": "\\u0061\\u0062"}]}',
    );
    expect(plan.faults[0]).toMatchObject({ kind: 'pause', host: 'ab' });
    // The error locator reads escapes too: a good one before the error does not stop it early.
    expect(messageOf(() => parseFaultPlanText('{"version": 1, "x": "\\u0041", "faults": }'))).toMatch(
      /^ERR_BAD_ARGUMENT: plan: malformed JSON: expected a value, got "}" at line 1, column 41 /,
    );
    expect(messageOf(() => parseFaultPlanText('{"version": 1, "x": "\\u00zz", "faults": }'))).toMatch(
      /^ERR_BAD_ARGUMENT: plan: malformed JSON: bad escape in string at line 1, column 22/,
    );
  });
});

describe('applying plans', () => {
  it('skips a crash of a host that is down already, saying so', async () => {
    const { world, net } = net2('crash-twice');
    const applied = applyFaultPlan(net, {
      version: 1,
      faults: [
        { kind: 'crash', atUs: 1_000, host: 'b' },
        { kind: 'crash', atUs: 2_000, host: 'b' },
      ],
    });
    await world.run({ untilUs: 10_000 });
    expect(applied.records().map((r) => [r.status, r.skipReason ?? null])).toEqual([
      ['active', null],
      ['skipped', 'host b is already crashed'],
    ]);
  });

  it('describes a link fault by every setting it changes', async () => {
    const { world, net } = net2('link-detail');
    const applied = applyFaultPlan(net, {
      version: 1,
      faults: [
        {
          kind: 'link',
          atUs: 0,
          from: 'a',
          to: 'b',
          set: {
            latency: { kind: 'constant', us: 5000 },
            jitterUs: 1000,
            bandwidthBytesPerSec: 2000,
            lossRate: 0.1,
          },
          forUs: 1_000_000,
        },
      ],
    });
    await world.run({ forUs: 1 });
    expect(applied.records()[0]!.detail).toBe(
      'a<>b latency 5ms jitter 1ms bandwidth 2000B/s loss 0.1 for 1s',
    );
  });

  it('numbers the records from firstId, which must be an integer >= 0', () => {
    const plan = {
      version: 1,
      faults: [
        { kind: 'pause', atUs: 0, forUs: 5, host: 'a' },
        { kind: 'pause', atUs: 10, forUs: 5, host: 'b' },
      ],
    } as FaultPlan;
    expect(
      applyFaultPlan(net2('first-id').net, plan, { firstId: 7 })
        .records()
        .map((r) => r.id),
    ).toEqual([7, 8]);
    expect(
      applyFaultPlan(net2('first-id-0').net, plan)
        .records()
        .map((r) => r.id),
    ).toEqual([0, 1]);
    for (const bad of [-1, 1.5])
      expect(messageOf(() => applyFaultPlan(net2('first-id-bad').net, plan, { firstId: bad }))).toBe(
        `ERR_BAD_ARGUMENT: firstId: must be an integer >= 0, got ${bad}`,
      );
  });

  it('swizzle-clog cuts a host off from the others, never from itself', async () => {
    const { world, net } = net2('swizzle-self', ['a', 'b', 'c']);
    applyFaultPlan(net, {
      version: 1,
      faults: [{ kind: 'swizzle-clog', atUs: 0, hosts: ['a'], stepUs: 10 * MS, forUs: 100 * MS }],
    });
    const seen: boolean[] = [];
    world.post(
      50 * MS,
      () =>
        seen.push(net.blocked('a', 'b'), net.blocked('a', 'c'), net.blocked('a', 'a'), net.blocked('b', 'c')),
      undefined,
    );
    await world.run();
    expect(seen).toEqual([true, true, false, false]);
  });

  it('swizzle-clog of a lone host clogs nothing and ends', async () => {
    const { world, net } = net2('swizzle-lone', ['solo']);
    const applied = applyFaultPlan(net, {
      version: 1,
      faults: [{ kind: 'swizzle-clog', atUs: 0, hosts: ['solo'], stepUs: 10 * MS, forUs: 100 * MS }],
    });
    await world.run();
    expect(applied.records()[0]!.status).toBe('ended');
  });
});

describe('swarm plans', () => {
  it('caps every drawn duration at durationMaxUs', () => {
    for (let seed = 0; seed < 30; seed++) {
      const { plan } = drawSwarmPlan(new Rng(`cap-${seed}`), ['a', 'b', 'c'], {
        durationMeanUs: { min: 5_000_000, max: 5_000_000 },
        durationMaxUs: 20_000,
        kinds: ['pause', 'link', 'swizzle-clog'], // partitions add a stability time on top
      });
      for (const f of plan.faults) {
        const s = f as { forUs?: number; restartAfterUs?: number };
        if (s.forUs !== undefined) expect(s.forUs).toBeLessThanOrEqual(20_000);
      }
    }
  });

  it('link faults change each setting in some seeds, latency included', () => {
    const seen = new Set<string>();
    for (let seed = 0; seed < 40; seed++) {
      const { plan } = drawSwarmPlan(new Rng(`link-${seed}`), ['a', 'b'], { kinds: ['link'] });
      for (const f of plan.faults) if (f.kind === 'link') for (const k of Object.keys(f.set)) seen.add(k);
    }
    expect([...seen].sort()).toEqual(['bandwidthBytesPerSec', 'jitterUs', 'latency', 'lossRate']);
  });

  it('refuses a mean duration below 1 us', () => {
    expect(
      messageOf(() => drawSwarmPlan(new Rng('x'), ['a'], { durationMeanUs: { min: 0, max: 10 } })),
    ).toMatch(/durationMeanUs\.min: must be >= 1 \(an exponential needs a mean > 0\)/);
    expect(drawSwarmPlan(new Rng('x'), ['a'], { durationMeanUs: { min: 1, max: 10 } }).plan.version).toBe(1);
  });
});
