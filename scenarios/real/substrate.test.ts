import { describe, expect, it } from 'vitest';
import { defineScenario } from '../sp/define.js';
import { topology } from '../sp/generators.js';
import { runScenarioOn, spCore } from '../sp/run.js';
import '../sp/families/index.js';
import { realSubstrate, realUnsupported } from './substrate.js';

const CHECKS = ['stack.no-crash', 'delivery.intact-in-order', 'delivery.all-delivered'];

async function runReal(transport: 'tcp' | 'ipc' | 'inproc', pattern: 'pair0' | 'reqrep', traceCapacity = 0) {
  const scenario = defineScenario({
    name: `real ${pattern} ${transport}`,
    ...topology({ pattern, transport }),
    workload: { sends: [0, 1, 100, 70_000, 5].map((bytes) => ({ socket: 'client0', bytes })) },
    checks: pattern === 'reqrep' ? ['stack.no-crash', 'reqrep.all-answered'] : CHECKS,
  });
  const substrate = realSubstrate(spCore, scenario, { seed: 'real-test', quietUs: 150_000, traceCapacity });
  try {
    return { scenario, result: await runScenarioOn(scenario, substrate) };
  } finally {
    await substrate.dispose();
  }
}

describe('the real substrate runs scenarios over real sockets', () => {
  for (const transport of ['tcp', 'ipc', 'inproc'] as const) {
    it(`pair0 over ${transport}: every message arrives intact and in order`, async () => {
      const { result } = await runReal(transport, 'pair0');
      expect(result.checks.filter((c) => c.status !== 'pass')).toEqual([]);
      const server = Object.values(result.observations.sockets).find((o) => o.received.length > 0);
      expect(server?.received.map((r) => r.body.length)).toEqual([0, 1, 100, 70_000, 5]);
    });
  }

  it('reqrep over tcp: every request answered', async () => {
    const { result } = await runReal('tcp', 'reqrep');
    // The scenario's checks, then the workload check every run gets (no simulator self-checks here).
    expect(result.checks.map((c) => [c.id, c.status])).toEqual([
      ['stack.no-crash', 'pass'],
      ['reqrep.all-answered', 'pass'],
      ['stack.workload-completes', 'pass'],
    ]);
  });

  it("records netlab's side as one trace the viewer opens: typed events, one sequence, the run's clock", async () => {
    const { result } = await runReal('tcp', 'reqrep', 10_000);
    const trace = result.trace;
    expect(trace.length).toBeGreaterThan(10);
    expect(trace.map((e) => e.seq)).toEqual(trace.map((_, i) => i));
    for (let i = 1; i < trace.length; i++) expect(trace[i]!.tUs).toBeGreaterThanOrEqual(trace[i - 1]!.tUs);
    expect(new Set(trace.map((e) => e.host))).toEqual(new Set(['client0', 'server']));
    const kinds = new Set(trace.map((e) => e.kind));
    for (const k of ['listen', 'connect', 'session-open', 'msg-send', 'msg-recv'])
      expect(kinds, k).toContain(k);
    // REQ's requests carry their request id as the correlation id.
    const requests = trace.filter(
      (e) => e.kind === 'msg-send' && e.host === 'client0' && e.msg === 'request',
    );
    expect(requests.length).toBeGreaterThan(0);
    expect(requests.every((e) => e.kind === 'msg-send' && typeof e.corr === 'number')).toBe(true);
    // Without a capacity nothing is kept.
    expect((await runReal('tcp', 'pair0')).result.trace).toEqual([]);
  });

  it('starts the quiet window no earlier than the last scheduled moment: a stalled sink still gets what was queued', async () => {
    // The sink's stall ends at 300 ms and its first receive comes at 450 ms (its receive delay); the
    // message waits in its socket meanwhile and nothing moves once the pipe is up (~10 ms). Timing
    // the quiet window from the last movement would end the run at ~310 ms with nothing received;
    // from the stall's end, it lasts to 600 ms.
    const quietUs = 300_000;
    const scenario = defineScenario({
      name: 'real stalled sink',
      ...topology({
        pattern: 'pair0',
        transport: 'ipc',
        serverApp: { stallAtUs: 0, stallUs: 300_000, recvDelayUs: 450_000 },
      }),
      workload: { sends: [{ socket: 'client0', bytes: 10 }] },
      checks: CHECKS,
    });
    const substrate = realSubstrate(spCore, scenario, { seed: 'real-test', quietUs });
    try {
      const result = await runScenarioOn(scenario, substrate);
      expect(result.checks.filter((c) => c.status !== 'pass')).toEqual([]);
      expect(result.observations.sockets['server']?.received.map((r) => r.body.length)).toEqual([10]);
    } finally {
      await substrate.dispose();
    }
  });

  it('refuses what it cannot reproduce, naming why', () => {
    const scenario = defineScenario({
      name: 'crash',
      ...topology({ pattern: 'pair0', transport: 'tcp' }),
      workload: { sends: [{ socket: 'client0', bytes: 1 }] },
      faults: { version: 1, faults: [{ kind: 'crash', host: 'server', atUs: 1000 }] },
      checks: CHECKS,
    });
    expect(realUnsupported(scenario, true)).toMatch(/crash/);
    expect(realUnsupported(scenario, false)).toMatch(/no fault layer/);
    expect(() => realSubstrate(spCore, scenario, { seed: 's' })).toThrow(/cannot run on the real runtime/);
  });
});
