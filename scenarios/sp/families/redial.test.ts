import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import '../museum/index.js';
import { checkById, type CheckContext, type Observations } from '../checks.js';
import { defineScenario } from '../define.js';
import type { Scenario } from '../model.js';
import { checkFamilyProperty, failingChecks } from './testing.js';
import { registerImpl, runScenario } from '../run.js';
import { REDIAL, REDIAL_PROPERTIES } from './redial.js';

const RUNS = 100;

function propertyFails(impl: string): Promise<string[]> {
  return failingChecks(REDIAL_PROPERTIES, impl);
}

describe('redial family', () => {
  it('has the properties the catalog lists', () => {
    expect(REDIAL.properties.map((p) => p.id)).toEqual(['redial/reconnect', 'redial/refused-peer']);
  });

  for (const p of REDIAL_PROPERTIES) {
    it(`netlab passes ${p.id}`, async () => {
      const out = await checkFamilyProperty(p, 'netlab', 20261122, RUNS);
      expect(out.counterexample?.failed ?? []).toEqual([]);
      expect(out.ok).toBe(true);
    });
  }

  it('catches museum/redial-storm (backoff reset on connect) by the growth check', async () => {
    expect(await propertyFails('museum/redial-storm')).toContain('redial.backoff-grows');
  });

  it('catches museum/no-backoff by the growth check', async () => {
    expect(await propertyFails('museum/no-backoff')).toContain('redial.backoff-grows');
  });

  it('catches museum/no-backoff-cap by the bounds check', async () => {
    expect(await propertyFails('museum/no-backoff-cap')).toContain('redial.backoff-bounds');
  });

  it('catches museum/redial-after-close by the nothing-after-close check, in each property', async () => {
    for (const p of REDIAL_PROPERTIES) {
      const out = await checkFamilyProperty(p, 'museum/redial-after-close');
      expect(out.ok, p.id).toBe(false);
      expect(out.counterexample!.failed.map((f) => f.id)).toContain('redial.nothing-after-close');
    }
  });

  it('closes a dialing socket in about 1 in 4 generated scenarios, during the fault phase', () => {
    const drawn = fc.sample(REDIAL_PROPERTIES[0]!.arb({ impl: 'netlab', transports: ['tcp'] }), {
      seed: 7,
      numRuns: 400,
    });
    const closes = drawn.flatMap((s) => s.sockets.map((x) => x.closeAtUs).filter((t) => t !== undefined));
    expect(closes.length).toBeGreaterThan(60);
    expect(closes.length).toBeLessThan(160);
    expect(closes.every((t) => t > 0 && t <= 2_000_000)).toBe(true);
  });
});

/** A PAIR0 dialer whose listener starts 1 s late and is reset once it has a pipe. */
function lateListener(impl = 'netlab'): Scenario {
  return defineScenario({
    impl,
    hosts: ['client0', 'server'],
    sockets: [
      {
        name: 'server',
        host: 'server',
        protocol: 'pair0',
        listen: ['tcp://server:5555'],
        app: { kind: 'sink' },
        startUs: 1_000_000,
      },
      {
        name: 'client0',
        host: 'client0',
        protocol: 'pair0',
        dial: ['tcp://server:5555'],
        options: { 'RECONNECT-TIME': 100_000, 'MAX-RECONNECT-TIME': 400_000 },
        app: { kind: 'sink' },
      },
    ],
    workload: { sends: [] },
    faults: { version: 1, faults: [{ kind: 'reset', atUs: 1_500_000, conn: 'all' }] },
    faultPhaseUs: 2_000_000,
    checks: [
      'stack.no-crash',
      'redial.one-dial-in-flight',
      'redial.backoff-bounds',
      'redial.backoff-grows',
      'redial.backoff-resets-on-attach',
      'redial.reconnects',
    ],
  });
}

function ctxOf(s: Scenario): CheckContext {
  return {
    endUs: s.faultPhaseUs + s.livenessUs,
    healedAtUs: s.faultPhaseUs,
    faults: [],
    reason: 'until',
    crash: null,
    payloadOf: () => new Uint8Array(0),
    lossy: false,
  };
}

describe('redial checks on a hand-written scenario', () => {
  it('netlab: refused attempts grow 100 -> 400 ms, the reset pipe is redialed after 100 ms', async () => {
    const s = lateListener();
    const r = await runScenario(s, 'sim-1');
    expect(r.checks.filter((c) => c.status !== 'pass')).toEqual([]);
    const d = r.observations.sockets.client0!.dials;
    // Refused until the listener starts at 1 s, then one attached pipe, reset at 1.5 s, redialed.
    expect(d.length).toBeGreaterThanOrEqual(4);
    const gaps = d.slice(1).map((x, i) => x.atUs - d[i]!.endUs!);
    expect(gaps[0]).toBe(100_000);
    expect(gaps[1]!).toBeGreaterThanOrEqual(110_000);
    expect(gaps.at(-1)).toBe(100_000);
  });

  it('flags two attempts in flight and a backoff not reset after an attached pipe (planted)', async () => {
    const s = lateListener();
    const r = await runScenario(s, 'sim-1');
    const obs: Observations = structuredClone(r.observations);
    const d = obs.sockets.client0!.dials;
    // The redial after the reset (the last attempt) waited 300 ms instead of RECONNECT-TIME.
    d.at(-1)!.atUs += 200_000;
    expect(checkById('redial.backoff-resets-on-attach')!.evaluate(s, obs, ctxOf(s)).status).toBe('fail');
    // The second attempt started before the first ended.
    const inFlight: Observations = structuredClone(r.observations);
    const e = inFlight.sockets.client0!.dials;
    e[1]!.atUs = e[0]!.atUs;
    expect(checkById('redial.one-dial-in-flight')!.evaluate(s, inFlight, ctxOf(s)).status).toBe('fail');
  });

  it('flags a dialer that never comes back (a backoff of an hour)', async () => {
    registerImpl('test/hour-backoff', {
      summary: 'test: every redial waits an hour',
      family: null,
      socket: () => ({ socketOptions: { backoff: { grow: () => 3_600_000_000 } } }),
    });
    const r = await runScenario(lateListener('test/hour-backoff'), 'sim-1');
    const failed = r.checks.filter((c) => c.status === 'fail').map((c) => c.id);
    expect(failed).toContain('redial.reconnects');
    expect(failed).toContain('redial.backoff-bounds');
  });
});

describe('redial: nothing after close', () => {
  /** lateListener, with client0 closed at `closeAtUs` (refused and redialing before 1 s, connected after). */
  function closing(closeAtUs: number, impl = 'netlab'): Scenario {
    const s = lateListener(impl);
    return defineScenario({
      ...s,
      sockets: s.sockets.map((x) => (x.name === 'client0' ? { ...x, closeAtUs } : x)),
      checks: [...s.checks, 'redial.nothing-after-close'],
    });
  }

  for (const [when, closeAtUs] of [
    ['while redialing a refused peer', 450_000],
    ['while connected', 1_200_000],
  ] as const) {
    it(`netlab stops dialing for good when closed ${when}`, async () => {
      const r = await runScenario(closing(closeAtUs), 'sim-1');
      expect(r.checks.filter((c) => c.status === 'fail')).toEqual([]);
      expect(r.checks.find((c) => c.id === 'redial.nothing-after-close')!.status).toBe('pass');
      const o = r.observations.sockets.client0!;
      expect(o.closedAtUs).toBe(closeAtUs);
      expect(o.dials.length).toBeGreaterThan(0);
      expect(o.dials.every((d) => d.atUs <= closeAtUs)).toBe(true);
    });

    it(`museum/redial-after-close goes on dialing when closed ${when}, and is flagged`, async () => {
      const r = await runScenario(closing(closeAtUs, 'museum/redial-after-close'), 'sim-1');
      const check = r.checks.find((c) => c.id === 'redial.nothing-after-close')!;
      expect(check.status).toBe('fail');
      expect(check.actual).toMatch(/connect attempts started after/);
      // A closed socket is not expected to reconnect: that check does not judge it.
      expect(r.checks.find((c) => c.id === 'redial.reconnects')!.status).toBe('not-applicable');
    });
  }

  it('flags a pipe attached after the close (planted), and is not applicable without a close', async () => {
    const s = closing(1_200_000);
    const r = await runScenario(s, 'sim-1');
    const obs: Observations = structuredClone(r.observations);
    obs.sockets.client0!.pipes.push({ atUs: 1_300_000, event: 'attached', pipe: 7 });
    const check = checkById('redial.nothing-after-close')!;
    expect(check.evaluate(s, obs, ctxOf(s)).status).toBe('fail');
    const open = await runScenario(lateListener(), 'sim-1');
    expect(check.evaluate(s, open.observations, ctxOf(s)).status).toBe('not-applicable');
  });
});
