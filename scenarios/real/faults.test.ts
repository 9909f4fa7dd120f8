import { describe, expect, it } from 'vitest';
import '../sp/families/index.js';
import { defineScenario } from '../sp/define.js';
import { topology } from '../sp/generators.js';
import type { Scenario } from '../sp/model.js';
import { parityCases } from '../sp/parity.js';
import { spCore, type ScenarioResult } from '../sp/run.js';
import { baseFaults, connectionFaults, realFaultLayer, timelineFor } from './faults.js';
import { runOnReal } from './run.js';

function withFaults(faults: Scenario['faults']['faults']): Scenario {
  return defineScenario({
    ...topology({ pattern: 'reqrep', transport: 'tcp' }),
    workload: { sends: [{ socket: 'client0', bytes: 1 }] },
    faults: { version: 1, faults },
    faultPhaseUs: 1_000_000,
    checks: ['stack.no-crash'],
  });
}
const LINK = { from: 'client0', to: 'server' };

describe('a fault plan as proxy timelines (timelineFor)', () => {
  it('a partition stalls both directions of the links between the groups, from acceptance on', () => {
    const s = withFaults([
      { kind: 'partition', atUs: 100_000, a: ['client0'], b: ['server'], forUs: 300_000 },
    ]);
    expect(timelineFor(s, LINK, 40_000, 1_000_000)).toEqual([
      { kind: 'stall', direction: 'up', atUs: 60_000, forUs: 300_000 },
      { kind: 'stall', direction: 'down', atUs: 60_000, forUs: 300_000 },
    ]);
    // Accepted during the partition: stalled at once for what is left; after it: untouched.
    expect(timelineFor(s, LINK, 250_000, 1_000_000)).toEqual([
      { kind: 'stall', direction: 'up', atUs: 0, forUs: 150_000 },
      { kind: 'stall', direction: 'down', atUs: 0, forUs: 150_000 },
    ]);
    expect(timelineFor(s, LINK, 500_000, 1_000_000)).toEqual([]);
    // One way, a to b: only the dialer's (client0's) direction; unrelated hosts: nothing.
    const oneWay = withFaults([{ kind: 'partition', atUs: 0, a: ['server'], b: ['client0'], oneWay: true }]);
    expect(timelineFor(oneWay, LINK, 0, 1_000_000)).toEqual([
      { kind: 'stall', direction: 'down', atUs: 0, forUs: 1_000_000 },
    ]);
    expect(timelineFor(s, { from: 'x', to: 'y' }, 0, 1_000_000)).toEqual([]);
  });

  it('stall-reads and reset select the connections open when the step fires, by client and server host', () => {
    const s = withFaults([
      { kind: 'stall-reads', atUs: 100_000, conn: { client: 'client0' }, side: 'client', forUs: 50_000 },
      { kind: 'reset', atUs: 200_000, conn: { server: 'client0' } },
      { kind: 'reset', atUs: 300_000, conn: 'all' },
    ]);
    expect(timelineFor(s, LINK, 10_000, 1_000_000)).toEqual([
      { kind: 'stall', direction: 'down', atUs: 90_000, forUs: 50_000 },
      { kind: 'reset', direction: 'both', atUs: 290_000 },
    ]);
    expect(timelineFor(s, LINK, 350_000, 1_000_000)).toEqual([]);
  });

  it('a pause of a host stalls its links both ways for the window; other hosts are untouched', () => {
    const s = withFaults([{ kind: 'pause', atUs: 100_000, host: 'server', forUs: 200_000 }]);
    expect(timelineFor(s, LINK, 0, 1_000_000)).toEqual([
      { kind: 'stall', direction: 'both', atUs: 100_000, forUs: 200_000 },
    ]);
    expect(timelineFor(s, { from: 'client0', to: 'client0' }, 0, 1_000_000)).toEqual([]);
  });

  it('a link change sets latency and bandwidth for its window; a loss rate alone has no TCP equivalent', () => {
    const s = withFaults([
      {
        kind: 'link',
        atUs: 0,
        from: 'server',
        to: 'client0',
        oneWay: true,
        set: { bandwidthBytesPerSec: 1000 },
        forUs: 10,
      },
      { kind: 'link', atUs: 0, from: 'server', to: 'client0', set: { lossRate: 0.5 } },
    ]);
    expect(timelineFor(s, LINK, 0, 1_000_000)).toEqual([
      { kind: 'set', direction: 'down', atUs: 0, forUs: 10, set: { bandwidthBytesPerSec: 1000 } },
    ]);
  });

  it('a connection gets the plan compiled over the network: its settings for good, fault windows until the heal', () => {
    const s = defineScenario({
      ...topology({ pattern: 'reqrep', transport: 'tcp' }),
      network: { latency: { kind: 'constant', us: 700 }, jitterUs: 30 },
      workload: { sends: [{ socket: 'client0', bytes: 1 }] },
      faults: {
        version: 1,
        faults: [
          {
            kind: 'link',
            atUs: 100_000,
            from: 'client0',
            to: 'server',
            set: { latency: { kind: 'constant', us: 5000 }, lossRate: 0.2 },
          },
          // Due after the fault phase: the simulator's healAllAt skips it, and so does the proxy.
          { kind: 'reset', atUs: 2_000_000, conn: 'all' },
        ],
      },
      faultPhaseUs: 1_000_000,
      checks: ['stack.no-crash'],
    });
    const network = { latency: { kind: 'constant', us: 700 }, jitterUs: 30 };
    const window = (direction: string) => ({
      kind: 'set',
      direction,
      atUs: 50_000,
      forUs: 900_000,
      set: { latency: { kind: 'constant', us: 5000 } },
    });
    expect(connectionFaults(s, LINK, 50_000, 1_000_000)).toEqual({
      up: network,
      down: network,
      timeline: [window('up'), window('down')],
    });
  });

  it("the scenario's network becomes every link's base faults (no latency within a host)", () => {
    const s = defineScenario({
      ...topology({ pattern: 'pair0', transport: 'tcp' }),
      network: { latency: { kind: 'constant', us: 700 }, jitterUs: 30, randomChunking: true },
      workload: { sends: [] },
      checks: ['stack.no-crash'],
    });
    expect(baseFaults(s, false)).toEqual({
      latency: { kind: 'constant', us: 700 },
      jitterUs: 30,
      slice: { minBytes: 1, maxBytes: 1460, delayUs: 0 },
    });
    expect(baseFaults(s, true)).toEqual({ slice: { minBytes: 1, maxBytes: 1460, delayUs: 0 } });
  });
});

async function real(name: string): Promise<ScenarioResult> {
  const c = parityCases().find((x) => x.name === name)!;
  const r = await runOnReal(spCore, c.scenario, 'faults-test', { faults: realFaultLayer });
  if ('unsupported' in r) throw new Error(r.unsupported);
  return r as ScenarioResult;
}

describe('faults take effect over real sockets', () => {
  it('a partition holds the requests: the REQ resends and the reply comes after it heals', async () => {
    const r = await real('reqrep-partition');
    const client = r.observations.sockets.client0!;
    expect(client.req?.resends).toBeGreaterThan(0);
    // Request 1 (sent around 100 ms, into the partition from 80 to 380 ms) is answered after it.
    const reply = client.received.find((x) => x.replyTo === 1);
    expect(reply?.atUs).toBeGreaterThanOrEqual(380_000);
    expect(r.faults.map((f) => [f.kind, f.status])).toEqual([['partition', 'ended']]);
    expect(r.checks.filter((c) => c.status === 'fail')).toEqual([]);
  });

  it('a reset cuts the connection: the REQ dials again and every request is answered', async () => {
    const r = await real('reqrep-reset');
    const client = r.observations.sockets.client0!;
    expect(client.pipes.filter((p) => p.event === 'attached').length).toBeGreaterThanOrEqual(2);
    expect(r.checks.filter((c) => c.status === 'fail')).toEqual([]);
  });

  it('a read stall holds the messages behind it until it ends', async () => {
    const r = await real('pair0-stall');
    const server = r.observations.sockets.server!;
    // The stall runs from 30 to 430 ms; message 2 is sent at about 60 ms.
    expect(server.received[2]?.atUs).toBeGreaterThanOrEqual(420_000);
    expect(server.received).toHaveLength(6);
  });
});
