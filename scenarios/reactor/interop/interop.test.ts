/**
 * The reactor's interop matrix: its cells (quick and full), and the quick matrix with every fault
 * profile against raw node:net clients and netlab's Go client (built on demand; a missing Go
 * toolchain skips its cells, or fails them under NETLAB_REQUIRE_PEERS=1).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { FAULT_PROFILES, TRANSPORTS } from '../../interop/faults.js';
import { stopAllPeers } from '../../interop/harness.js';
import { runMatrix, type InteropSelection } from '../../interop/matrix.js';
import { REACTOR_PEER_IDS, REACTOR_PROTOCOLS, REACTOR_ROLES } from './axes.js';
import { reactorInteropRunner } from './runner.js';

afterAll(() => stopAllPeers());

const ALL: InteropSelection = {
  peers: REACTOR_PEER_IDS,
  protocols: REACTOR_PROTOCOLS,
  roles: REACTOR_ROLES,
  transports: TRANSPORTS,
  faults: FAULT_PROFILES,
  quick: false,
};

describe('reactor interop cells', () => {
  it('full: every peer × transport × fault profile; quick: one per peer and profile, both transports', () => {
    const full = reactorInteropRunner.cells(ALL);
    expect(full).toHaveLength(REACTOR_PEER_IDS.length * TRANSPORTS.length * FAULT_PROFILES.length);
    expect(new Set(full.map((c) => `${c.peer}/${c.transport}/${c.faults}`)).size).toBe(full.length);
    const quick = reactorInteropRunner.cells({ ...ALL, quick: true });
    expect(quick).toHaveLength(REACTOR_PEER_IDS.length * FAULT_PROFILES.length);
    for (const peer of REACTOR_PEER_IDS)
      expect(new Set(quick.filter((c) => c.peer === peer).map((c) => c.transport))).toEqual(
        new Set(TRANSPORTS),
      );
    // Axes with none of the reactor's values select nothing.
    expect(reactorInteropRunner.cells({ ...ALL, peers: ['nng'] })).toEqual([]);
    expect(reactorInteropRunner.cells({ ...ALL, protocols: ['req0'] })).toEqual([]);
  });

  it('the quick matrix passes against node:net and the Go client, every fault profile', async () => {
    const cells = reactorInteropRunner.cells({ ...ALL, quick: true });
    const results = await runMatrix(cells, (c) => reactorInteropRunner.runCell(c, {}));
    for (const r of results) {
      const expected = r.peer === 'go' && r.status === 'skip' && process.env.NETLAB_REQUIRE_PEERS !== '1';
      if (expected) continue;
      expect(r.status, `${r.id}: ${r.detail}`).toBe('pass');
    }
    expect(results.filter((r) => r.peer === 'node').every((r) => r.status === 'pass')).toBe(true);
    const reset = results.filter((r) => r.faults === 'reset' && r.status === 'pass');
    for (const r of reset) expect(r.detail).toMatch(/closed \{"peer-closed":1,"reset":1\}/);
    const report = reactorInteropRunner.caseOf(results[0]!, 'seed');
    expect(report).toMatchObject({
      stack: 'reactor',
      runtime: 'real',
      family: 'interop',
      status: results[0]!.status,
    });
  }, 60_000);
});
