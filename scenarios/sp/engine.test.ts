import { describe, expect, it } from 'vitest';
import { FrameDecoder, type FrameDecoderOptions } from '../../impl/sp/wire/frames.js';
import type { FrameDecoderLike } from '../../impl/sp/core/pipe.js';
import { defineScenario } from './define.js';
import { scenarioArb, topology } from './generators.js';
import type { Scenario } from './model.js';
import { implicitChecks } from '../checks.js';
import { checkProperty } from '../property.js';
import { parseCaseFile, replayCase } from './api.js';
import { parseScenario, registerImpl, runScenario, spCore } from './run.js';

const sends = (socket: string, sizes: number[]) => sizes.map((bytes) => ({ socket, bytes }));

const BASE: Scenario = defineScenario({
  name: 'pair0 basic',
  ...topology({ pattern: 'pair0', transport: 'tcp' }),
  workload: { sends: sends('client0', [10, 2000, 0, 70000]) },
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
    faults: [{ at: '50ms', kind: 'partition', a: ['client0'], b: ['server'], for: '300ms' }],
  },
  faultPhaseUs: 1_000_000,
  checks: ['stack.no-crash', 'delivery.intact-in-order', 'delivery.all-delivered'],
});

const REQREP_CHECKS = ['stack.no-crash', 'reqrep.one-reply-per-request', 'reqrep.all-answered'];

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
registerImpl('planted/split-body', {
  summary: 'planted: the first byte of a straddling body is lost',
  family: 'framing',
  socket: () => ({ socketOptions: { frameDecoder: (o) => new SplitBodyBug(o) } }),
});

describe('scenario engine', () => {
  it('runs a scenario: checks pass, and the same seed gives the same trace hash', async () => {
    const a = await runScenario(BASE, 's1');
    const b = await runScenario(BASE, 's1');
    const c = await runScenario(BASE, 's2');
    expect(a.ok).toBe(true);
    expect(a.checks.map((x) => [x.id, x.status])).toEqual([
      ['stack.no-crash', 'pass'],
      ['delivery.intact-in-order', 'pass'],
      ['delivery.all-delivered', 'pass'],
      ['stack.workload-completes', 'pass'],
      ['sim.time-monotonic', 'pass'],
      ['sim.bytes-conserved', 'pass'],
      ['sim.events-in-order', 'pass'],
      ['sim.link-model', 'pass'],
      ['sim.partitions-respected', 'pass'],
    ]);
    expect(a.observations.sockets.server!.received).toHaveLength(4);
    expect(a.observations.sockets.client0!.dials.length).toBeGreaterThanOrEqual(1);
    expect(b.traceHash).toBe(a.traceHash);
    expect(c.traceHash).not.toBe(a.traceHash);
    expect(a.faults[0]!.startUs).toBe(50_000);
  });

  it('runs the same workload over tcp, ipc and inproc, the receiver dialing or listening', async () => {
    for (const transport of ['tcp', 'ipc', 'inproc'] as const) {
      for (const receiverDials of [false, true]) {
        const sc = defineScenario({
          ...topology({ pattern: 'pair0', transport, receiverDials }),
          workload: { sends: sends('client0', [0, 1, 5000]) },
          checks: ['stack.no-crash', 'delivery.intact-in-order', 'delivery.all-delivered'],
        });
        const r = await runScenario(sc, 'x');
        expect(r.ok, `${transport} receiverDials=${receiverDials}`).toBe(true);
        expect(r.observations.sockets.server!.received.map((m) => m.body.length)).toEqual([0, 1, 5000]);
      }
    }
  });

  it('REQ/REP with three clients answers every request through a reset', async () => {
    const topo = topology({ pattern: 'reqrep', transport: 'tcp', clients: 3 });
    const r = await runScenario(
      defineScenario({
        ...topo,
        workload: { sends: ['client0', 'client1', 'client2'].flatMap((c) => sends(c, [3, 300, 3000])) },
        faults: { version: 1, faults: [{ atUs: 10_000, kind: 'reset', conn: 'all' }] },
        faultPhaseUs: 100_000,
        checks: REQREP_CHECKS,
      }),
      's3',
    );
    expect(r.checks.map((x) => [x.id, x.status])).toEqual(
      [...REQREP_CHECKS, ...implicitChecks(REQREP_CHECKS, true)].map((id) => [id, 'pass']),
    );
    expect(r.observations.sockets.server!.received.length).toBeGreaterThanOrEqual(9);
  });

  it('a request whose REP is gone hangs: stack.workload-completes names it; answered requests leave nothing pending', async () => {
    const topo = topology({ pattern: 'reqrep', transport: 'tcp' });
    const checks = ['stack.no-crash', 'stack.workload-completes'];
    const answered = await runScenario(
      defineScenario({ ...topo, workload: { sends: sends('client0', [3, 4]) }, checks }),
      'wc',
    );
    expect(answered.checks.map((x) => [x.id, x.status])).toEqual(
      [...checks, ...implicitChecks(checks, true)].map((id) => [id, 'pass']),
    );
    // The REP closes before any request reaches it: REQ resends forever, the reply never comes.
    const orphan = defineScenario({
      ...topo,
      sockets: topo.sockets.map((x) => (x.name === 'server' ? { ...x, closeAtUs: 0 } : x)),
      workload: { sends: sends('client0', [3, 4]) },
      checks,
    });
    const r = await runScenario(orphan, 'wc');
    const wc = r.checks.find((x) => x.id === 'stack.workload-completes')!;
    expect(wc.status).toBe('fail');
    expect(wc.actual).toMatch(
      /^1 application action never ended: client0 (send #0|reply to request #0) \(pending since/,
    );
  });

  it('a raw peer with a bad SP header is cut off and counted; a good one is unaffected', async () => {
    const topo = topology({ pattern: 'pair0', transport: 'tcp' });
    const sc = defineScenario({
      ...topo,
      hosts: [...topo.hosts, 'rogue'],
      rawPeers: [
        {
          name: 'junk',
          host: 'rogue',
          dial: 'tcp://server:5555',
          script: [{ afterUs: 0, write: '0053510000100000' }],
        },
      ],
      workload: { sends: sends('client0', [7]) },
      checks: ['stack.no-crash', 'delivery.all-delivered'],
    });
    const r = await runScenario(sc, 'raw');
    expect(r.ok).toBe(true);
    expect(r.observations.sockets.server!.endpoints.badHandshakes).toBe(1);
    expect(r.observations.raw.junk!.closedByRemote).toBe(true);
  });

  it('netlab passes generated PAIR0 and REQ/REP scenarios over every transport (fixed fcSeed)', async () => {
    for (const protocol of ['pair0', 'reqrep'] as const) {
      const out = await checkProperty({
        stack: spCore,
        arb: scenarioArb({ protocol, transports: ['tcp', 'ipc', 'inproc'], maxClients: 3 }),
        fcSeed: 20261122,
        runs: 40,
        netlabVersion: 'test',
        commit: 'test',
      });
      if (!out.ok)
        throw new Error(`${protocol} failed: ${JSON.stringify(out.counterexample, null, 1).slice(0, 2000)}`);
      expect(out.runs).toBe(40);
    }
  });

  it('shrinking stops at its bound in runs: the case found so far still fails, and the same seed gives the same case', async () => {
    const run = () =>
      checkProperty({
        stack: spCore,
        arb: scenarioArb({ protocol: 'pair0', impl: 'planted/split-body' }),
        fcSeed: 7,
        runs: 50,
        netlabVersion: 'test',
        commit: 'test',
        shrinkRunsMax: 3,
      });
    const out = await run();
    expect(out.ok).toBe(false);
    expect(out.shrinkRuns).toBe(3);
    expect(out.shrinkCapped).toBe(true);
    const cx = out.counterexample!;
    expect((await runScenario(cx.scenario, cx.simSeed)).ok).toBe(false);
    expect((await run()).counterexample).toEqual(cx);
    const unbounded = await checkProperty({
      stack: spCore,
      arb: scenarioArb({ protocol: 'pair0', impl: 'planted/split-body' }),
      fcSeed: 7,
      runs: 50,
      netlabVersion: 'test',
      commit: 'test',
    });
    expect(unbounded.shrinkCapped).toBe(false);
    expect(unbounded.shrinkRuns).toBeGreaterThan(3);
  });

  it('a planted bug is found, shrinks to a locally minimal case, and replays to the recorded hash', async () => {
    const out = await checkProperty({
      stack: spCore,
      arb: scenarioArb({ protocol: 'pair0', impl: 'planted/split-body' }),
      fcSeed: 7,
      runs: 50,
      netlabVersion: 'test',
      commit: 'test',
    });
    expect(out.ok).toBe(false);
    const cx = out.counterexample!;
    expect(cx.failed.length).toBeGreaterThan(0);
    expect(cx.scenario.workload.sends.length + cx.scenario.faults.faults.length).toBeLessThanOrEqual(3);
    // Locally minimal: removing any one message or any one fault makes it pass.
    const items = cx.scenario.workload.sends;
    for (let i = 0; i < items.length; i++) {
      const fewer = { ...cx.scenario, workload: { sends: items.filter((_, j) => j !== i) } };
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
    const sc = defineScenario({
      ...topology({ pattern: 'reqrep', transport: 'tcp', clientOptions: { 'RETRY-TIME': 1_000_000 } }),
      workload: { sends: sends('client0', [530, 0]) },
      network: {
        latency: { kind: 'uniform', minUs: 0, maxUs: 0 },
        jitterUs: 2,
        lossRate: 0.05,
        randomChunking: true,
        partialWriteProbability: 0.5,
        sendBufferBytes: 64,
        recvBufferBytes: 64,
      },
      checks: REQREP_CHECKS,
    });
    const r = await runScenario(sc, 'sim-7b158024');
    expect(r.checks.map((x) => [x.id, x.status])).toEqual(
      [...REQREP_CHECKS, ...implicitChecks(REQREP_CHECKS, true)].map((id) => [id, 'pass']),
    );
  });

  it('regression found by the engine: a client paused across its connect sent a frame before its SP header', async () => {
    const sc = defineScenario({
      ...topology({ pattern: 'pair0', transport: 'tcp' }),
      workload: { sends: sends('client0', [0]) },
      network: { latency: { kind: 'constant', us: 0 }, sendBufferBytes: 2048, recvBufferBytes: 2048 },
      faults: { version: 1, faults: [{ kind: 'pause', atUs: 0, host: 'client0', forUs: 1000 }] },
      faultPhaseUs: 1_000_000,
      checks: ['delivery.intact-in-order', 'delivery.all-delivered'],
    });
    const r = await runScenario(sc, 'sim-e');
    expect(r.checks.map((x) => [x.id, x.status])).toEqual([
      ['delivery.intact-in-order', 'pass'],
      ['delivery.all-delivered', 'pass'],
      ['stack.workload-completes', 'pass'],
      ['sim.time-monotonic', 'pass'],
      ['sim.bytes-conserved', 'pass'],
      ['sim.events-in-order', 'pass'],
      ['sim.link-model', 'pass'],
      ['sim.partitions-respected', 'pass'],
    ]);
  });

  it('bad scenarios and case files are typed errors naming the field', () => {
    const bad = (patch: Record<string, unknown>, re: RegExp): void => {
      expect(() => parseScenario({ ...BASE, ...patch })).toThrowError(re);
    };
    const [server, client] = BASE.sockets as [Scenario['sockets'][0], Scenario['sockets'][0]];
    bad({ network: { ...BASE.network, lossRate: 2 } }, /network\.lossRate/);
    bad({ faults: { version: 1, faults: [{ kind: 'meteor' }] } }, /faults/);
    bad({ sockets: [{ ...server, protocol: 'smtp' }, client] }, /sockets\[0\]\.protocol/);
    bad({ sockets: [{ ...server, host: 'mars' }, client] }, /sockets\[0\]\.host: unknown host 'mars'/);
    bad({ sockets: [server, { ...client, name: 'server' }] }, /duplicate socket/);
    bad({ sockets: [{ ...server, listen: ['tcp://client0:1'] }, client] }, /binds its own host/);
    bad({ sockets: [{ ...server, options: { 'RETRY-TIMEOUT': 5 } }, client] }, /options\.RETRY-TIMEOUT/);
    bad({ sockets: [{ ...server, options: { 'WRITEQ-LEN': -1 } }, client] }, /options/);
    bad({ workload: { sends: [{ socket: 'server', bytes: 1 }] } }, /does not send/);
    bad({ workload: { sends: [{ socket: 'ghost', bytes: 1 }] } }, /unknown socket/);
    bad(
      { faults: { version: 1, faults: [{ kind: 'pause', atUs: 0, host: 'ghost', forUs: 1 }] } },
      /unknown host 'ghost'/,
    );
    bad({ checks: ['no.such.check'] }, /unknown check/);
    const ipcPair = topology({ pattern: 'pair0', transport: 'ipc' });
    expect(() =>
      parseScenario({
        ...BASE,
        hosts: ['local', 'other'],
        sockets: [ipcPair.sockets[0], { ...ipcPair.sockets[1]!, host: 'other' }],
      }),
    ).toThrowError(/ipc connects only within one host/);
    // Raw sockets, devices, pipelining and closing: each bad value names its field.
    const rr = topology({ pattern: 'reqrep', transport: 'tcp', device: true, rawClient: true, pipeline: 4 });
    const okRaw = { ...BASE, hosts: rr.hosts, sockets: rr.sockets, workload: { sends: [] } };
    expect(parseScenario(okRaw).sockets.map((x) => x.protocol)).toEqual(['rep0', 'xreq0', 'xrep0', 'xreq0']);
    const rawBad = (i: number, patch: Record<string, unknown>, re: RegExp): void => {
      const sockets = rr.sockets.map((x, j) => (j === i ? { ...x, ...patch } : x));
      expect(() => parseScenario({ ...okRaw, sockets })).toThrowError(re);
    };
    rawBad(
      1,
      { app: { kind: 'echo' } },
      /sockets\[1\]\.app\.kind: a xreq0 socket's application may be send, device/,
    );
    rawBad(0, { app: { kind: 'echo', pipeline: 2 } }, /sockets\[0\]\.app\.pipeline: only an xreq0 sender/);
    rawBad(1, { app: { kind: 'send', pipeline: 0 } }, /sockets\[1\]\.app\.pipeline/);
    rawBad(2, { app: { kind: 'device' } }, /sockets\[2\]\.app\.partner: a device socket names its partner/);
    rawBad(
      2,
      { app: { kind: 'device', partner: 'ghost' } },
      /sockets\[2\]\.app\.partner: unknown socket 'ghost'/,
    );
    rawBad(2, { app: { kind: 'device', partner: 'server' } }, /sockets\[2\]\.app\.partner: .*host/);
    rawBad(0, { app: { kind: 'echo', partner: 'back' } }, /sockets\[0\]\.app\.partner: only a device socket/);
    rawBad(
      3,
      { protocol: 'xrep0', dial: [], listen: ['tcp://device:7'] },
      /sockets\[2\]\.app\.partner: both sides are xrep0/,
    );
    rawBad(1, { closeAtUs: -1 }, /sockets\[1\]\.closeAtUs/);
    rawBad(1, { startUs: 500, closeAtUs: 100 }, /sockets\[1\]\.closeAtUs: closes at 100 µs, before it opens/);
    expect(() => parseCaseFile({ schema: 'netlab/case@9' })).toThrowError(/newer/);
    expect(() => parseCaseFile({ schema: 'netlab/case@2', simSeed: 1 })).toThrowError(/simSeed/);
    // A case file of before stacks names its version and the one this netlab reads.
    expect(() => parseCaseFile({ schema: 'netlab/case@1', simSeed: '1' })).toThrowError(
      /case file schema netlab\/case@1 is older than this netlab reads \(netlab\/case@2\)/,
    );
  });
});
