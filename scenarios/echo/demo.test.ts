/**
 * The demo as an echo scenario: every session accounted for, no finding, every fault of the plan
 * fired, strict and fast modes give the same trace hash, the swarm draws its plan from the seed.
 */
import { describe, expect, it } from 'vitest';
import { DEMO_FAULT_PLAN, demoScenario, planEndUs, runDemo } from './demo.js';

describe('netlab demo on the echo stack', () => {
  it('runs every session and fault, with no finding; strict mode gives the same hash', async () => {
    const fast = await runDemo({ seed: 'demo-t', sessions: 3 });
    expect(fast.sessionsOk + fast.sessionsFailed).toBe(4 * 3);
    expect(fast.corrupted).toBe(0);
    expect(fast.failedChecks).toEqual([]);
    expect(fast.faults.every((f) => f.startUs !== null)).toBe(true);
    expect(fast.virtualUs).toBeGreaterThan(planEndUs(DEMO_FAULT_PLAN));
    const strict = await runDemo({ seed: 'demo-t', sessions: 3, mode: 'strict' });
    expect(strict.traceHash).toBe(fast.traceHash);
  });

  it('is a valid echo scenario: the plan ends at 4 s, sizes and starts drawn from the seed', () => {
    expect(planEndUs(DEMO_FAULT_PLAN)).toBe(4_000_000);
    const a = demoScenario({ seed: 'x', clients: 2, sessions: 2 }).scenario;
    const b = demoScenario({ seed: 'x', clients: 3, sessions: 2 }).scenario;
    expect(a.stack).toBe('echo');
    expect(a.faultPhaseUs).toBe(4_000_001);
    expect(a.clients.map((c) => c.messages.length)).toEqual([12, 12]);
    // Each client draws from its own fork: adding one leaves the others alone.
    expect(b.clients.slice(0, 2)).toEqual(a.clients);
    const swarm = demoScenario({ seed: 'x', swarm: true });
    expect(swarm.swarmKnobs).toMatch(/steps=/);
    expect(demoScenario({ seed: 'x', swarm: true }).scenario).toEqual(swarm.scenario);
  });
});
