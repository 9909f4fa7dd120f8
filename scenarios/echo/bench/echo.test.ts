/** `netlab bench echo`, briefly: both sides measure, the figures and the ratio are consistent (no speed asserted). */
import { describe, expect, it } from 'vitest';
import { runEchoBench } from './echo.js';

describe('bench echo', () => {
  it('measures netlab echo and the raw ping-pong in alternating rounds', async () => {
    const r = await runEchoBench({ durationMs: 50, repeats: 3 });
    expect(r.rounds).toHaveLength(3);
    expect(r.echoRoundTripsPerSec).toBeGreaterThan(0);
    expect(r.rawRoundTripsPerSec).toBeGreaterThan(0);
    expect(r.ratioEchoToRaw).toBeCloseTo(r.echoRoundTripsPerSec / r.rawRoundTripsPerSec, 2);
    expect(r.meetsGoal).toBe(r.goals.echoToRaw);
    expect(r.workload).toMatch(/64-byte/);
  }, 30_000);
});
