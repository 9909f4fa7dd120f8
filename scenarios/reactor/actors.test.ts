/**
 * Hand-written reactor scenarios: the taps see what the checks judge, and two regressions found by
 * the families stay fixed.
 */
import { describe, expect, it } from 'vitest';
import { defineReactorScenario, runReactorScenario } from './run.js';

describe('reactor actors and taps', () => {
  it('echo over tcp: callbacks in order, every byte back, closed by the peer', async () => {
    const s = defineReactorScenario({
      hosts: ['server', 'client0'],
      servers: [
        { name: 'server', host: 'server', listen: 'tcp://server:7000', options: { idleTimeoutUs: 500_000 } },
      ],
      clients: [
        {
          name: 'client0',
          host: 'client0',
          connect: 'tcp://server:7000',
          startUs: 1000,
          actions: [
            { kind: 'send', bytes: 5000 },
            { kind: 'idle', forUs: 10_000 },
            { kind: 'send', bytes: 3 },
            { kind: 'half-close' },
          ],
        },
      ],
    });
    const r = await runReactorScenario(s, 'a1');
    expect(r.checks.filter((c) => c.status === 'fail')).toEqual([]);
    const c = r.observations.clients.client0!;
    expect([c.sentBytes, c.receivedBytes, c.mismatchAt]).toEqual([5003, 5003, -1]);
    const k = r.observations.servers.server!.conns[0]!;
    expect(k.closeReason).toBe('peer-closed');
    expect(k.events.map((e) => e.ev).slice(0, 3)).toEqual(['prepare', 'connect-start', 'connect-end']);
    expect(k.events.slice(-3).map((e) => [e.ev, e.arg])).toEqual([
      ['disconnect', undefined],
      ['close-cb', 1],
      ['close-cb', 0],
    ]);
  });

  it('an idle connection closes exactly idleTimeoutUs after its last byte', async () => {
    const s = defineReactorScenario({
      hosts: ['server', 'client0'],
      servers: [
        { name: 'server', host: 'server', listen: 'tcp://server:7000', options: { idleTimeoutUs: 40_000 } },
      ],
      clients: [
        {
          name: 'client0',
          host: 'client0',
          connect: 'tcp://server:7000',
          startUs: 1000,
          actions: [{ kind: 'send', bytes: 10 }],
        },
      ],
    });
    const r = await runReactorScenario(s, 'a2');
    expect(r.checks.filter((c) => c.status === 'fail')).toEqual([]);
    const k = r.observations.servers.server!.conns[0]!;
    expect(k.closeReason).toBe('idle-timeout');
    expect(k.closeAtUs! - k.lastByteUs).toBe(40_000);
  });

  it('a first read that crosses the high-water mark while the connection is set up keeps reading paused (server.ts admit fix)', async () => {
    // Found by reactor-backpressure: the simulator hands buffered bytes over as soon as the
    // connection sets its handlers; the server's admit then resumed reading behind its back.
    const s = defineReactorScenario({
      hosts: ['server', 'client0', 'client1'],
      servers: [
        {
          name: 'server',
          host: 'server',
          listen: 'tcp://server:7000',
          handler: 'stall',
          handlerUs: 20_000,
          options: { idleTimeoutUs: 1_000_000, inputHighWaterBytes: 512, maxInputBytes: 32768 },
        },
      ],
      clients: [
        {
          name: 'client0',
          host: 'client0',
          connect: 'tcp://server:7000',
          startUs: 1000,
          actions: [{ kind: 'send', bytes: 0 }, { kind: 'reset' }],
        },
        {
          name: 'client1',
          host: 'client1',
          connect: 'tcp://server:7000',
          startUs: 1100,
          actions: [{ kind: 'send', bytes: 1461 }, { kind: 'close' }],
        },
      ],
      network: {
        latency: { kind: 'uniform', minUs: 0, maxUs: 0 },
        jitterUs: 2,
        sendBufferBytes: 2048,
        recvBufferBytes: 2048,
      },
    });
    const r = await runReactorScenario(s, 'sim-6408e420');
    expect(r.checks.find((c) => c.id === 'reactor.input-bounded')?.status).toBe('pass');
  });
});
