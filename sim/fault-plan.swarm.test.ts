/**
 * Swarm plans: the host list's refusals, explicit undefined settings, knobs drawn in whole
 * milliseconds or 3-decimal fractions within their ranges, the shapes of drawn steps (selectors,
 * sides, one-way changes, stability times added, swizzles of at least two hosts), time order, and
 * the knob line's quoting.
 */
import { describe, expect, it } from 'vitest';
import { SimError } from './errors.js';
import { describeKnobs, drawSwarmPlan, type FaultStep, type SwarmConfig } from './fault-plan.js';
import { Rng } from './rng.js';

const HOSTS = ['h0', 'h1', 'h2', 'h3'];

const refusal = (hosts: unknown): string => {
  try {
    drawSwarmPlan(new Rng(1), hosts as string[]);
    return 'ok';
  } catch (e) {
    return e instanceof SimError ? e.message : String(e);
  }
};

/** Every step and the knobs of `seeds` swarm plans drawn with `config`. */
function draw(seeds: number, config: SwarmConfig, hosts = HOSTS) {
  const out: { steps: FaultStep[]; knobs: Record<string, unknown> }[] = [];
  for (let s = 0; s < seeds; s++) {
    const { plan, knobs } = drawSwarmPlan(new Rng(`swarm-${s}`), hosts, config);
    out.push({ steps: plan.faults, knobs });
  }
  return out;
}

describe('drawSwarmPlan: hosts', () => {
  it.each([
    [['a', 'a'], 'ERR_BAD_ARGUMENT: hosts: names must be unique'],
    [['a', ''], 'ERR_BAD_ARGUMENT: hosts: must be an array of host names'],
    [['a', 5], 'ERR_BAD_ARGUMENT: hosts: must be an array of host names'],
    ['a', 'ERR_BAD_ARGUMENT: hosts: must be an array of host names'],
  ])('refuses %j', (hosts, message) => {
    expect(refusal(hosts)).toBe(message);
  });
});

describe('drawSwarmPlan: knobs', () => {
  it('a setting given as undefined takes its default', () => {
    const explicit = { steps: undefined, lossRate: undefined } as unknown as SwarmConfig;
    expect(drawSwarmPlan(new Rng(3), HOSTS, explicit)).toEqual(drawSwarmPlan(new Rng(3), HOSTS));
  });

  it('times are drawn in whole milliseconds when the range holds one, else in µs within the range', () => {
    const oneMs = draw(20, { horizonUs: { min: 1500, max: 2500 } }).map((d) => d.knobs.horizonUs);
    expect(new Set(oneMs)).toEqual(new Set([2000]));
    const noMs = draw(20, { horizonUs: { min: 1200, max: 1800 } }).map((d) => Number(d.knobs.horizonUs));
    for (const us of noMs) expect(us >= 1200 && us <= 1800).toBe(true);
    expect(noMs.some((us) => us % 1000 !== 0)).toBe(true);
  });

  it('fractions are drawn with 3 decimals within their range', () => {
    const wide = draw(30, { lossRate: { min: 0.1, max: 0.3 } }).map((d) => Number(d.knobs.lossRate));
    expect(new Set(wide).size).toBeGreaterThan(5);
    for (const v of wide) {
      expect(v >= 0.1 && v <= 0.3).toBe(true);
      expect(String(v)).toMatch(/^0\.\d{1,3}$/);
    }
    // A range narrower than 0.001: the rounded draw is clamped back into it.
    const narrow = draw(30, { lossRate: { min: 0.1234, max: 0.1236 } }).map((d) => Number(d.knobs.lossRate));
    for (const v of narrow) expect(v >= 0.1234 && v <= 0.1236).toBe(true);
  });
});

describe('drawSwarmPlan: steps', () => {
  it('selectors are "all" about 1/5 of the time, a client or a server about 2/5 each', () => {
    const steps = draw(40, { kinds: ['reset', 'stall-reads'], steps: { min: 12, max: 12 } }).flatMap(
      (d) => d.steps,
    );
    const kinds = steps.map((s) => {
      const c = (s as { conn: unknown }).conn;
      return c === 'all' ? 'all' : Object.keys(c as object).join();
    });
    const share = (k: string) => kinds.filter((x) => x === k).length / kinds.length;
    expect(share('all')).toBeGreaterThan(0.12);
    expect(share('all')).toBeLessThan(0.28);
    expect(share('client')).toBeGreaterThan(0.3);
    expect(share('server')).toBeGreaterThan(0.3);
    const sides = new Set(steps.filter((s) => s.kind === 'stall-reads').map((s) => s.side));
    expect(sides).toEqual(new Set(['client', 'server', 'both']));
  });

  it('partitions and crashes last at least their stability time; partitions follow the seed symmetry', () => {
    const config: SwarmConfig = {
      kinds: ['partition', 'crash'],
      steps: { min: 12, max: 12 },
      durationMeanUs: { min: 1000, max: 1000 },
      partitionStabilityUs: { min: 5_000_000, max: 5_000_000 },
      crashStabilityUs: { min: 7_000_000, max: 7_000_000 },
    };
    const symmetries = new Set<unknown>();
    for (const { steps, knobs } of draw(20, config)) {
      symmetries.add(knobs.partitionSymmetry);
      for (const s of steps) {
        if (s.kind === 'partition') {
          expect(s.forUs).toBeGreaterThanOrEqual(5_000_000);
          expect(s.oneWay).toBe(knobs.partitionSymmetry === 'asymmetric');
        }
        if (s.kind === 'crash') expect(s.restartAfterUs).toBeGreaterThanOrEqual(7_000_000);
      }
    }
    expect(symmetries).toEqual(new Set(['symmetric', 'asymmetric']));
  });

  it('link changes are one-way in some steps, both ways in others; swizzles take two hosts or more', () => {
    const steps = draw(20, { kinds: ['link', 'swizzle-clog'], steps: { min: 12, max: 12 } }).flatMap(
      (d) => d.steps,
    );
    expect(new Set(steps.filter((s) => s.kind === 'link').map((s) => s.oneWay))).toEqual(
      new Set([true, false]),
    );
    const sizes = steps.filter((s) => s.kind === 'swizzle-clog').map((s) => s.hosts.length);
    expect(new Set(sizes)).toEqual(new Set([2, 3, 4]));
  });

  it('steps are listed in time order', () => {
    for (const { steps } of draw(20, { steps: { min: 12, max: 12 } }))
      expect(steps.map((s) => s.atUs)).toEqual(steps.map((s) => s.atUs).sort((x, y) => x - y));
  });
});

describe('describeKnobs', () => {
  it('quotes only the strings with spaces, "=" or quotes', () => {
    expect(describeKnobs({ a: 'x y', b: 5, c: 'plain,list', d: true, e: 'k=v', f: 'say "hi"' })).toBe(
      'a="x y" b=5 c=plain,list d=true e="k=v" f="say \\"hi\\""',
    );
  });
});
