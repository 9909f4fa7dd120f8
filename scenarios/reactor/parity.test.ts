/**
 * The reactor parity cases on the simulated network: every check holds and the outcome does not
 * hang on the seed, so real sockets can be held to it (netlab parity --stack reactor).
 */
import { describe, expect, it } from 'vitest';
import { compareParity } from '../parity.js';
import { reactorParityCases, reactorParityOutcome } from './parity.js';
import { runReactorScenario } from './run.js';

describe('reactor parity cases on the simulated network', () => {
  for (const c of reactorParityCases())
    it(`${c.name}: every check holds and the outcome is stable across seeds`, async () => {
      const a = await runReactorScenario(c.scenario, 'parity-1');
      expect(a.checks.filter((x) => x.status === 'fail')).toEqual([]);
      const b = await runReactorScenario(c.scenario, 'parity-2');
      expect(
        compareParity(c, reactorParityOutcome(c.scenario, a), reactorParityOutcome(c.scenario, b)),
      ).toEqual([]);
    });

  it('the outcomes say what each client sent and got back', async () => {
    const [tcp, ipc] = reactorParityCases();
    const a = await runReactorScenario(tcp!.scenario, 'parity-1');
    expect(reactorParityOutcome(tcp!.scenario, a).parts).toEqual({
      'bytes.client0': '73000 sent, 73000 received',
      'bytes.client1': '73000 sent, 73000 received',
    });
    const b = await runReactorScenario(ipc!.scenario, 'parity-1');
    expect(reactorParityOutcome(ipc!.scenario, b).parts).toEqual({
      'bytes.client0': '16026 sent, 16026 received',
    });
  });
});
