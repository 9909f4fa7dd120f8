import { describe, expect, it } from 'vitest';
import { FrameDecoder, type FrameDecoderOptions } from '../impl/sp/wire/frames.js';
import type { FrameDecoderLike } from '../impl/sp/core/pipe.js';
import { parseScenario, type Scenario } from './model.js';
import { checkProperty, parseCaseFile, replayCase } from './property.js';
import { registerImpl, runScenario } from './runner.js';

const BASE: Scenario = parseScenario({
  version: 1,
  name: 'pair0 basic',
  protocol: 'pair0',
  transport: 'tcp',
  impl: 'netlab',
  workload: { messageBytes: [10, 2000, 0, 70000] },
  network: {
    latency: { kind: 'uniform', minUs: 1000, maxUs: 5000 },
    jitterUs: 200,
    lossRate: 0.02,
    randomChunking: true,
    partialWriteProbability: 0.2,
    sendBufferBytes: 4096,
    recvBufferBytes: 4096,
  },
  faults: {
    version: 1,
    faults: [{ at: '50ms', kind: 'partition', a: ['client'], b: ['server'], for: '300ms' }],
  },
  faultPhaseUs: 1_000_000,
  livenessUs: 10_000_000,
});

/**
 * A planted bug (the kind the museum collects): when a frame's body continues in a later chunk, the
 * first byte of that chunk is lost. Only shows when frames straddle reads.
 */
class SplitBodyBug implements FrameDecoderLike {
  private readonly inner: FrameDecoder;
  private straddling = false;
  constructor(options: FrameDecoderOptions) {
    this.inner = new FrameDecoder(options);
  }
  feed(chunk: Uint8Array, onFrame: (payload: Uint8Array) => void): void {
    let c = chunk;
    if (this.straddling && c.length > 0) c = Uint8Array.of(0, ...c.subarray(1));
    this.inner.feed(c, onFrame);
    this.straddling = this.inner.bufferedBytes > 8;
  }
}
registerImpl('planted/split-body', () => ({ frameDecoder: (o) => new SplitBodyBug(o) }));

describe('scenario engine', () => {
  it('runs a scenario: checks pass, and the same seed gives the same trace hash', async () => {
    const a = await runScenario(BASE, 's1');
    const b = await runScenario(BASE, 's1');
    const c = await runScenario(BASE, 's2');
    expect(a.ok).toBe(true);
    expect(a.checks.map((x) => [x.id, x.status])).toEqual([
      ['pair0.intact-in-order', 'pass'],
      ['pair0.all-delivered', 'pass'],
    ]);
    expect(a.observations.received).toHaveLength(4);
    expect(b.traceHash).toBe(a.traceHash);
    expect(c.traceHash).not.toBe(a.traceHash);
    expect(a.faults[0]!.startUs).toBe(50_000);
  });

  it('REQ/REP scenarios answer every request through faults', async () => {
    const r = await runScenario(
      {
        ...BASE,
        protocol: 'reqrep',
        faults: { version: 1, faults: [{ atUs: 10_000, kind: 'reset', conn: 'all' }] },
      },
      's3',
    );
    expect(r.checks.map((x) => [x.id, x.status])).toEqual([
      ['reqrep.one-reply-per-request', 'pass'],
      ['reqrep.all-answered', 'pass'],
    ]);
  });

  it('netlab passes generated PAIR0 and REQ/REP scenarios (fixed fcSeed)', async () => {
    for (const protocol of ['pair0', 'reqrep'] as const) {
      const out = await checkProperty({
        protocol,
        fcSeed: 20261122,
        runs: 25,
        netlabVersion: 'test',
        commit: 'test',
      });
      if (!out.ok)
        throw new Error(`${protocol} failed: ${JSON.stringify(out.counterexample, null, 1).slice(0, 2000)}`);
      expect(out.runs).toBe(25);
    }
  });

  it('a planted bug is found, shrinks to a locally minimal case, and replays to the recorded hash', async () => {
    const out = await checkProperty({
      protocol: 'pair0',
      impl: 'planted/split-body',
      fcSeed: 7,
      runs: 50,
      netlabVersion: 'test',
      commit: 'test',
    });
    expect(out.ok).toBe(false);
    const cx = out.counterexample!;
    expect(cx.failed.length).toBeGreaterThan(0);
    expect(cx.scenario.workload.messageBytes.length + cx.scenario.faults.faults.length).toBeLessThanOrEqual(
      3,
    );
    // Locally minimal: removing any one message or any one fault makes it pass.
    const sizes = cx.scenario.workload.messageBytes;
    for (let i = 0; i < sizes.length; i++) {
      const fewer = { ...cx.scenario, workload: { messageBytes: sizes.filter((_, j) => j !== i) } };
      expect((await runScenario(fewer, cx.simSeed)).ok, `without message ${i}`).toBe(true);
    }
    const steps = cx.scenario.faults.faults;
    for (let i = 0; i < steps.length; i++) {
      const calmer = {
        ...cx.scenario,
        faults: { version: 1 as const, faults: steps.filter((_, j) => j !== i) },
      };
      expect((await runScenario(calmer, cx.simSeed)).ok, `without fault ${i}`).toBe(true);
    }
    // The case file survives a JSON round trip and replays exactly.
    const file = parseCaseFile(JSON.parse(JSON.stringify(cx)));
    const replay = await replayCase(file);
    expect(replay.reproduced).toBe(true);
    expect(replay.traceHash).toBe(cx.traceHash);
  });

  it('regression found by the engine: a reply that arrives while a resend waits for the pipe', async () => {
    // Small buffers and loss make the 530-byte request slow to send; a resend queued behind it went
    // out after the reply had arrived and left the pipe "busy" forever, so request #2 never left.
    const sc = parseScenario({
      ...BASE,
      protocol: 'reqrep',
      workload: { messageBytes: [530, 0] },
      network: {
        latency: { kind: 'uniform', minUs: 0, maxUs: 0 },
        jitterUs: 2,
        lossRate: 0.05,
        randomChunking: true,
        partialWriteProbability: 0.5,
        sendBufferBytes: 64,
        recvBufferBytes: 64,
      },
      faults: { version: 1, faults: [] },
    });
    const r = await runScenario(sc, 'sim-7b158024');
    expect(r.checks.map((x) => [x.id, x.status])).toEqual([
      ['reqrep.one-reply-per-request', 'pass'],
      ['reqrep.all-answered', 'pass'],
    ]);
  });

  it('regression found by the engine: a client paused across its connect sent a frame before its SP header', async () => {
    const sc = parseScenario({
      ...BASE,
      workload: { messageBytes: [0] },
      network: {
        latency: { kind: 'uniform', minUs: 0, maxUs: 0 },
        jitterUs: 0,
        lossRate: 0,
        randomChunking: false,
        partialWriteProbability: 0,
        sendBufferBytes: 2048,
        recvBufferBytes: 2048,
      },
      faults: { version: 1, faults: [{ kind: 'pause', atUs: 0, host: 'client', forUs: 1000 }] },
    });
    const r = await runScenario(sc, 'sim-e');
    expect(r.checks.map((x) => [x.id, x.status])).toEqual([
      ['pair0.intact-in-order', 'pass'],
      ['pair0.all-delivered', 'pass'],
    ]);
  });

  it('bad scenarios and case files are typed errors naming the field', () => {
    expect(() => parseScenario({ ...BASE, protocol: 'smtp' })).toThrowError(/protocol/);
    expect(() => parseScenario({ ...BASE, network: { ...BASE.network, lossRate: 2 } })).toThrowError(
      /network\.lossRate/,
    );
    expect(() =>
      parseScenario({ ...BASE, faults: { version: 1, faults: [{ kind: 'meteor' }] } }),
    ).toThrowError(/faults/);
    expect(() => parseCaseFile({ schema: 'netlab/case@9' })).toThrowError(/newer/);
    expect(() => parseCaseFile({ schema: 'netlab/case@1', simSeed: 1 })).toThrowError(/simSeed/);
  });
});
