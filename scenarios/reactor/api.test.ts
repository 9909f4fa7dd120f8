/**
 * netlab/api/reactor as a user sees it: a hand-written scenario run on the simulator, a property
 * over scenarios that passes on netlab, and one that fails on a planted bug with a shrunk case
 * that replays.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkReactorScenarios,
  defineReactorScenario,
  parseReactorCaseFile,
  replayReactorCase,
  runReactorScenario,
  ScenarioPropertyError,
  type ReactorScenario,
} from './api.js';

function idleScenario(idleTimeoutUs: number, impl = 'netlab'): ReactorScenario {
  return defineReactorScenario({
    impl,
    hosts: ['server', 'client0'],
    servers: [{ name: 'server', host: 'server', listen: 'tcp://server:7000', options: { idleTimeoutUs } }],
    clients: [
      {
        name: 'client0',
        host: 'client0',
        connect: 'tcp://server:7000',
        startUs: 1000,
        actions: [
          { kind: 'send', bytes: 100 },
          { kind: 'read', forUs: 50_000 },
          { kind: 'idle', forUs: 3 * idleTimeoutUs },
        ],
      },
    ],
  });
}

describe('netlab/api/reactor', () => {
  it('runs a hand-written scenario: every check passes on netlab', async () => {
    const result = await runReactorScenario(idleScenario(200_000), 'api-1');
    const failed = result.checks.filter((c) => c.status === 'fail');
    expect(failed).toEqual([]);
    expect(result.checks.find((c) => c.id === 'reactor.idle-timeout')?.status).toBe('pass');
  });

  it('checkReactorScenarios passes on netlab and throws a replayable shrunk case on a planted bug', async () => {
    const arb = fc.integer({ min: 100_000, max: 400_000 });
    await checkReactorScenarios(
      arb.map((us) => idleScenario(us)),
      { seed: 7, runs: 5 },
    );
    let error: unknown;
    try {
      await checkReactorScenarios(
        arb.map((us) => idleScenario(us, 'museum/reactor-idle-keepalive')),
        { seed: 7, runs: 5 },
      );
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ScenarioPropertyError);
    const e = error as ScenarioPropertyError<ReactorScenario>;
    expect(e.message).toContain('reactor.idle-timeout');
    expect(e.message).toContain('runReactorScenario(error.caseFile.scenario');
    const again = parseReactorCaseFile(JSON.parse(JSON.stringify(e.caseFile)));
    const replay = await replayReactorCase(again);
    expect(replay.reproduced).toBe(true);
  });
});
