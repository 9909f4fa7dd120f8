/**
 * The echo parity suite over real loopback sockets (tcp and unix, through the seeded fault proxy)
 * against the simulated network: every case gives the application the same outcome on both. This
 * replaces the echo protocol's old hand-written arms (real tcp, real unix, simulated tcp and unix).
 */
import { describe, expect, it } from 'vitest';
import { runParity } from '../real/parity.js';
import { echoParityCases } from './parity.js';
import { echoStack } from './plugin.js';

describe('echo parity: simulated vs real sockets', () => {
  it('every case has the same outcome on both runtimes', async () => {
    const results = await runParity([echoStack], { seed: 'parity', concurrency: 2 });
    expect(results.map((r) => r.name)).toEqual(echoParityCases().map((c) => c.name));
    expect(results.filter((r) => r.status !== 'pass').map((r) => `${r.name}: ${r.detail}`)).toEqual([]);
    // The real side ran and saw what the simulator saw (not just "both empty").
    const stall = results.find((r) => r.name === 'echo-tcp-stall')!;
    expect(stall.real?.parts['replies.req0']).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const refused = results.find((r) => r.name === 'echo-refused')!;
    expect(refused.real?.parts['sessions.ses0']).toEqual(['0/1 ECONNREFUSED']);
  }, 30_000);
});
