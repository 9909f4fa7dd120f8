/**
 * The echo actors on the simulated network: a calm run passes every check and records what the
 * checks read; the same seed gives the same trace hash; faults show in the observations.
 */
import { describe, expect, it } from 'vitest';
import { implicitChecks } from '../checks.js';
import { ECHO_CHECKS } from './checks.js';
import { defineEchoScenario, runEchoScenario } from './run.js';
import type { EchoScenario } from './model.js';

const SIZES = [0, 1, 5, 3000, 70_000, 4, 0, 200_000];

function twoClients(extra: Partial<Parameters<typeof defineEchoScenario>[0]> = {}): EchoScenario {
  return defineEchoScenario({
    name: 'calm',
    hosts: ['server', 'client0', 'client1'],
    servers: [{ name: 'server', host: 'server', listen: 'tcp://server:7000' }],
    clients: [
      {
        name: 'req0',
        host: 'client0',
        connect: 'tcp://server:7000',
        options: { window: 3 },
        startUs: 1000,
        messages: SIZES.map((bytes) => ({ bytes })),
      },
      {
        name: 'ses0',
        host: 'client1',
        connect: 'tcp://server:7000',
        mode: 'sessions',
        options: { sessionMessages: 3 },
        startUs: 1000,
        messages: SIZES.map((bytes) => ({ bytes, gapUs: 1000 })),
      },
    ],
    ...extra,
  });
}

describe('echo actors', () => {
  it('a calm run passes every check, and records replies, sessions and attempts', async () => {
    const s = twoClients();
    const r = await runEchoScenario(s, 'calm-1');
    expect(r.crash).toBeNull();
    expect(r.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(r.checks.map((c) => c.id)).toEqual([
      'stack.no-crash',
      ...ECHO_CHECKS.keys(),
      ...implicitChecks([], true),
    ]);
    const req = r.observations.clients.req0!;
    expect(req.replies.map((x) => x.index)).toEqual(SIZES.map((_, i) => i));
    expect(req.replies.every((x) => x.intact)).toBe(true);
    expect(req.maxOutstanding).toBe(3);
    expect(req.attempts).toHaveLength(1);
    expect(req.requester.connects).toBe(1);
    const ses = r.observations.clients.ses0!;
    expect(ses.sessions.map((x) => [x.first, x.end, x.replies, x.error, x.closedCleanly])).toEqual([
      [0, 3, 3, null, true],
      [3, 6, 3, null, true],
      [6, 8, 2, null, true],
    ]);
    const server = r.observations.servers.server!;
    expect(server.stats.connections).toBe(4);
    expect(server.stats.framesEchoed).toBe(2 * SIZES.length);
    // Requests carry a 4-byte id: only the sessions' empty messages are empty frames.
    expect(server.zeroLengthFrames).toBe(2);
    expect(server.maxAllocBytes).toBe(200_004);
  });

  it('is deterministic: the same seed gives the same trace hash, another seed another', async () => {
    const s = twoClients({ network: { randomChunking: true, partialWriteProbability: 0.3, jitterUs: 500 } });
    const a = await runEchoScenario(s, 'det-1');
    const b = await runEchoScenario(s, 'det-1');
    const c = await runEchoScenario(s, 'det-2');
    expect(a.traceHash).toMatch(/^[0-9a-f]{16}$/);
    expect(b.traceHash).toBe(a.traceHash);
    expect(c.traceHash).not.toBe(a.traceHash);
    expect(a.ok).toBe(true);
    expect(a.net.partialWrites).toBeGreaterThan(0);
  });

  it('a reset mid-run: the requester reconnects and resends, every request is still answered', async () => {
    const s = twoClients({
      network: { latency: { kind: 'constant', us: 5000 } },
      faults: { version: 1, faults: [{ kind: 'reset', atUs: 12_000, conn: 'all' }] },
      faultPhaseUs: 100_000,
    });
    const r = await runEchoScenario(s, 'reset-1');
    expect(r.checks.filter((c) => c.status === 'fail')).toEqual([]);
    const req = r.observations.clients.req0!;
    expect(req.requester.connects).toBe(2);
    expect(req.requester.resends).toBeGreaterThan(0);
    expect(req.replies.map((x) => x.index)).toEqual(SIZES.map((_, i) => i));
    expect(r.checks.find((c) => c.id === 'echo.sessions-complete')?.status).toBe('not-applicable');
  });
});
