import { describe, expect, it } from 'vitest';
import './families/index.js';
import { compareParity } from '../parity.js';
import { parityCases, parityOutcome } from './parity.js';
import { runScenario } from './run.js';

describe('parity cases on the simulated network', () => {
  for (const c of parityCases()) {
    it(`${c.name}: every check holds and the outcome is stable across seeds`, async () => {
      const a = await runScenario(c.scenario, 'parity-1');
      expect(a.checks.filter((x) => x.status === 'fail')).toEqual([]);
      const b = await runScenario(c.scenario, 'parity-2');
      // The outcome must not hang on the seed: only then can real sockets be held to it.
      expect(compareParity(c, parityOutcome(c.scenario, a), parityOutcome(c.scenario, b))).toEqual([]);
      const received = Object.keys(parityOutcome(c.scenario, a).parts).filter((p) =>
        p.startsWith('received.'),
      );
      expect(received.length).toBeGreaterThan(0);
    });
  }
});

describe('compareParity', () => {
  const c = parityCases()[0]!;
  const base = {
    parts: { 'received.server': { client0: [0, 1, 2] } } as Record<string, unknown>,
    checks: { x: 'pass' },
    crashed: false,
  };

  it('names the part that differs, with both sides', () => {
    const real = { ...base, parts: { 'received.server': { client0: [0, 2] } } };
    expect(compareParity(c, base, real)).toEqual([
      { part: 'received.server', sim: { client0: [0, 1, 2] }, real: { client0: [0, 2] }, known: null },
    ]);
  });

  it('skips checks one side could not judge, and reports a declared difference as known', () => {
    const real = {
      ...base,
      checks: { x: 'not-applicable' },
      parts: { ...base.parts, 'failed.client0': ['3:ErrSendTimeout'] },
    };
    expect(compareParity(c, base, real).map((d) => d.part)).toEqual(['failed.client0']);
    const declared = { ...c, knownDifferences: [{ part: 'failed.client0', why: 'kernel buffers' }] };
    expect(compareParity(declared, base, real)[0]?.known).toBe('kernel buffers');
  });
});
