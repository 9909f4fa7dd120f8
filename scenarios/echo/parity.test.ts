/**
 * The echo parity cases on the simulated network: every check the case names holds (or, for the
 * refused case, fails as it must on both runtimes) and the outcome does not hang on the seed, so
 * real sockets can be held to it (parity.real.test.ts compares the two runtimes).
 */
import { describe, expect, it } from 'vitest';
import { compareParity } from '../parity.js';
import { echoParityCases, echoParityOutcome } from './parity.js';
import { runEchoScenario } from './run.js';

describe('echo parity cases on the simulated network', () => {
  for (const c of echoParityCases()) {
    it(`${c.name}: every check holds and the outcome is stable across seeds`, async () => {
      const a = await runEchoScenario(c.scenario, 'parity-1');
      expect(a.checks.filter((x) => x.status === 'fail')).toEqual([]);
      const b = await runEchoScenario(c.scenario, 'parity-2');
      expect(compareParity(c, echoParityOutcome(c.scenario, a), echoParityOutcome(c.scenario, b))).toEqual(
        [],
      );
    });
  }

  it('the outcomes say what the application saw', async () => {
    const [stall, , reset, refused] = echoParityCases();
    const o = echoParityOutcome(stall!.scenario, await runEchoScenario(stall!.scenario, 'parity-1'));
    expect(o.parts).toEqual({
      'replies.req0': [0, 1, 2, 3, 4, 5, 6, 7],
      'replies.ses0': [0, 1, 2, 3, 4, 5, 6, 7],
      'sessions.ses0': ['3/3 ok', '3/3 ok', '2/2 ok'],
    });
    expect(o.crashed).toBe(false);
    const r = await runEchoScenario(reset!.scenario, 'parity-1');
    expect(r.observations.clients.req0!.requester.resends).toBe(1);
    expect(echoParityOutcome(reset!.scenario, r).parts).toEqual({ 'replies.req0': [0, 1, 2, 3, 4, 5, 6, 7] });
    const f = echoParityOutcome(refused!.scenario, await runEchoScenario(refused!.scenario, 'parity-1'));
    expect(f.parts).toEqual({ 'replies.ses0': [], 'sessions.ses0': ['0/1 ECONNREFUSED'] });
  });
});
