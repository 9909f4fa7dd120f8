/**
 * What a user's own scenario suite looks like: a hand-written scenario and a generated property,
 * with a custom check. In your project, import from 'netlab/api' instead of '../api.js'.
 * It runs under `npm test` (vitest picks up every *.test.ts) with fixed seeds and bounded runs.
 */
import { describe, expect, it } from 'vitest';
import {
  checkScenarios,
  defineCheck,
  defineScenario,
  runScenario,
  scenarioArb,
  topology,
  verdict,
  bytesEqual,
} from '../sp/api.js';

// A custom invariant: my REP service echoes, so every reply a REQ gets is its own request back.
defineCheck({
  id: 'example.reply-echoes-request',
  kind: 'always',
  requirement: 'every reply carries the bytes of the request it answers',
  ref: null,
  evaluate(scenario, obs, ctx) {
    for (const s of scenario.sockets.filter((x) => x.protocol === 'req0')) {
      for (const r of obs.sockets[s.name]!.received) {
        if (r.replyTo !== undefined && !bytesEqual(r.body, ctx.payloadOf(s.name, r.replyTo)))
          return verdict(
            `${s.name}: the reply to request ${r.replyTo} is not its request`,
            'echoed requests',
          );
      }
    }
    return verdict(null, 'echoed requests');
  },
});

const CHECKS = ['stack.no-crash', 'reqrep.all-answered', 'example.reply-echoes-request'];

describe('my echo service over REQ/REP', () => {
  it('answers three requests on a calm network (hand-written)', async () => {
    const scenario = defineScenario({
      name: 'three requests',
      ...topology({ pattern: 'reqrep', transport: 'tcp' }),
      workload: { sends: [1, 100, 5000].map((bytes) => ({ socket: 'client0', bytes })) },
      checks: CHECKS,
    });
    const result = await runScenario(scenario, 'my-seed');
    expect(result.checks.filter((c) => c.status === 'fail')).toEqual([]);
  });

  it('answers every request under generated networks and faults (property)', async () => {
    const arb = scenarioArb({
      protocol: 'reqrep',
      transports: ['tcp', 'inproc'],
      maxClients: 2,
      checks: CHECKS,
    });
    // On a failure this throws with the failing checks, the shrunk scenario, fcSeed, fcPath,
    // simSeed and the replay commands in its message.
    await checkScenarios(arb, { seed: 1, runs: 30 });
  });
});
