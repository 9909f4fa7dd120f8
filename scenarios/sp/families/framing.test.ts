import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ConnHandlers, StreamConn } from '../../../impl/runtime/env.js';
import '../museum/index.js';
import { defineScenario } from '../define.js';
import type { RawStep } from '../model.js';
import { checkFamilyProperty } from './testing.js';
import { implicitChecks } from '../../checks.js';
import { checkById, type Observations } from '../checks.js';
import { topology, TRANSPORTS, type ReqRepShape } from '../generators.js';
import { payload, registerImpl, runScenario, type ScenarioResult } from '../run.js';
import { FRAMING_PROPERTIES, GOOD_PEER_START_US, RAW_REQREP_SHAPES } from './framing.js';
import { concatBytes, frame, frameHeader, headerForPeerOf, MAX_U64, toHex } from './raw-bytes.js';

/** The CLI's default number of runs: the museum must be caught within it. */
const RUNS = 100;

function property(id: string, impl: string) {
  return checkFamilyProperty(
    FRAMING_PROPERTIES.find((p) => p.id === id)!,
    impl,
    1,
    RUNS,
  );
}

// A decoder that swallows every byte: never delivers, never fails (a planted bug for the checks).
registerImpl('test/black-hole-decoder', {
  summary: 'test only: a frame decoder that swallows everything',
  family: 'framing',
  socket: () => ({ socketOptions: { frameDecoder: () => ({ feed: () => undefined }) } }),
});

let wrappedBytes = 0;
/** Counts what a pipe writes, through the general wrapConnection injection point. */
class CountingConn implements StreamConn {
  constructor(private readonly inner: StreamConn) {}
  get id() {
    return this.inner.id;
  }
  get localAddress() {
    return this.inner.localAddress;
  }
  get remoteAddress() {
    return this.inner.remoteAddress;
  }
  get state() {
    return this.inner.state;
  }
  setHandlers(h: ConnHandlers) {
    this.inner.setHandlers(h);
  }
  write(bytes: Uint8Array) {
    const n = this.inner.write(bytes);
    wrappedBytes += n;
    return n;
  }
  pauseReading() {
    this.inner.pauseReading();
  }
  resumeReading() {
    this.inner.resumeReading();
  }
  shutdown() {
    this.inner.shutdown();
  }
  close() {
    this.inner.close();
  }
  reset() {
    this.inner.reset();
  }
}
registerImpl('test/counting-conn', {
  summary: 'test only: counts written bytes through wrapConnection',
  family: null,
  socket: (spec) =>
    spec.app.kind === 'send' ? { socketOptions: { wrapConnection: (c) => new CountingConn(c) } } : undefined,
});

interface RawCase {
  transport: 'tcp' | 'ipc';
  maxRecvBytes: number;
  bodies: Uint8Array[];
  /** The oversize length, or garbage bytes (then the peer closes). */
  length?: bigint;
  garbage?: Uint8Array;
  good?: number[];
  impl?: string;
}

function rawScenario(c: RawCase) {
  const ipc = c.transport === 'ipc';
  const addr = ipc ? 'ipc:///tmp/netlab-local-5555.sock' : 'tcp://server:5555';
  const local = ipc;
  const bytes = concatBytes([
    headerForPeerOf('pair0'),
    ...c.bodies.map((b) => frame(b, ipc)),
    c.length !== undefined
      ? concatBytes([frameHeader(c.length, ipc), Uint8Array.of(1, 2, 3)])
      : new Uint8Array(0),
    c.garbage ?? new Uint8Array(0),
  ]);
  const script: RawStep[] = [{ afterUs: 0, write: toHex(bytes) }];
  if (c.garbage !== undefined) script.push({ afterUs: 10_000, action: 'close' });
  return defineScenario({
    impl: c.impl ?? 'netlab',
    hosts: local ? ['local'] : ['peer', 'server'],
    sockets: [
      {
        name: 'server',
        host: local ? 'local' : 'server',
        protocol: 'pair0',
        listen: [addr],
        options: { 'MAX-RCV-SIZE': c.maxRecvBytes },
        app: { kind: 'sink' },
      },
      ...(c.good
        ? [
            {
              name: 'client0',
              host: local ? 'local' : 'peer',
              protocol: 'pair0' as const,
              dial: [addr],
              app: { kind: 'send' as const },
              startUs: GOOD_PEER_START_US,
            },
          ]
        : []),
    ],
    rawPeers: [{ name: 'raw0', host: local ? 'local' : 'peer', dial: addr, startUs: 1_000, script }],
    workload: { sends: (c.good ?? []).map((bytes) => ({ socket: 'client0', bytes })) },
    livenessUs: GOOD_PEER_START_US + 5_000_000,
    checks: [
      'stack.no-crash',
      'framing.oversize-cut',
      'framing.no-oversize-alloc',
      'framing.raw-frames-delivered',
      'framing.good-peer-served',
    ],
  });
}

function statusOf(r: ScenarioResult): Record<string, string> {
  return Object.fromEntries(r.checks.map((c) => [c.id, c.status]));
}

const BODIES = [Uint8Array.of(), Uint8Array.of(7, 7, 7), new Uint8Array(300).fill(9)];

describe('framing family: netlab passes every property', () => {
  for (const p of FRAMING_PROPERTIES)
    it(p.id, async () => {
      const out = await property(p.id, 'netlab');
      expect(out.counterexample?.failed ?? []).toEqual([]);
      expect(out.ok).toBe(true);
    });
});

describe('framing family: each museum variant is caught by its property', () => {
  const cases: [string, string, string][] = [
    ['museum/lossy-length', 'framing/oversize', 'framing.no-oversize-alloc'],
    ['museum/signed-length', 'framing/oversize', 'framing.no-oversize-alloc'],
    ['museum/alloc-before-check', 'framing/oversize', 'framing.no-oversize-alloc'],
    ['museum/partial-write-drop', 'framing/pair0', 'delivery'],
    ['museum/sub-unsubscribe-leak', 'framing/pubsub', 'pubsub.in-order-matching'],
    ['museum/bus-relays', 'framing/bus', 'bus.no-relay-no-dup'],
  ];
  for (const [impl, prop, check] of cases)
    it(`${impl} fails ${prop}`, async () => {
      const out = await property(prop, impl);
      expect(out.ok).toBe(false);
      expect(out.counterexample!.failed.map((f) => f.id).some((id) => id.startsWith(check))).toBe(true);
    });
});

describe('framing/oversize on hand-written cases', () => {
  const lengths = (max: number): bigint[] =>
    max > 0
      ? [BigInt(max) + 1n, 2n ** 32n, 2n ** 53n, 2n ** 63n, MAX_U64]
      : [2n ** 53n, 2n ** 53n + 1n, 2n ** 63n, MAX_U64];
  for (const transport of ['tcp', 'ipc'] as const)
    for (const max of [300, 0])
      it(`netlab cuts every oversize length (${transport}, MAX-RCV-SIZE ${max}) after delivering the earlier frames`, async () => {
        for (const length of lengths(max)) {
          const r = await runScenario(
            rawScenario({ transport, maxRecvBytes: max, bodies: BODIES, length, good: [4, 64] }),
            's',
          );
          expect(statusOf(r), `length ${length}`).toEqual({
            'stack.no-crash': 'pass',
            'framing.oversize-cut': 'pass',
            'framing.no-oversize-alloc': 'pass',
            'framing.raw-frames-delivered': 'pass',
            'framing.good-peer-served': 'pass',
            'stack.workload-completes': 'pass',
            'sim.time-monotonic': 'pass',
            'sim.bytes-conserved': 'pass',
            'sim.events-in-order': 'pass',
            'sim.link-model': 'pass',
            'sim.partitions-respected': 'pass',
          });
          const got = r.observations.sockets.server!.received.map((m) => [...m.body]);
          expect(got.slice(0, 3)).toEqual(BODIES.map((b) => [...b]));
          expect(r.observations.sockets.server!.endpoints.badFrames).toBe(1);
        }
      });

  it('alloc-before-check asks for the announced length (max+1) before vetting it', async () => {
    const r = await runScenario(
      rawScenario({
        transport: 'tcp',
        maxRecvBytes: 300,
        bodies: [],
        length: 301n,
        impl: 'museum/alloc-before-check',
      }),
      's',
    );
    expect(statusOf(r)['framing.no-oversize-alloc']).toBe('fail');
    expect(r.observations.sockets.server!.maxAllocBytes).toBe(301);
  });

  it('signed-length lets a top-bit length through as a negative size', async () => {
    const r = await runScenario(
      rawScenario({
        transport: 'ipc',
        maxRecvBytes: 300,
        bodies: BODIES,
        length: 2n ** 63n,
        impl: 'museum/signed-length',
      }),
      's',
    );
    expect(statusOf(r)['framing.no-oversize-alloc']).toBe('fail');
    expect(r.observations.sockets.server!.badAllocRequests).toBe(1);
    expect(r.observations.crash).toBeNull();
  });

  it('lossy-length takes 2^53+1 with no receive limit (it rounds to 2^53) and asks for it', async () => {
    const r = await runScenario(
      rawScenario({
        transport: 'tcp',
        maxRecvBytes: 0,
        bodies: [],
        length: 2n ** 53n + 1n,
        impl: 'museum/lossy-length',
      }),
      's',
    );
    expect(statusOf(r)['framing.no-oversize-alloc']).toBe('fail');
    expect(r.observations.sockets.server!.maxAllocBytes).toBe(2 ** 53);
  });

  it('a decoder that swallows bytes fails the cut, delivery and good-peer checks', async () => {
    const r = await runScenario(
      rawScenario({
        transport: 'tcp',
        maxRecvBytes: 300,
        bodies: BODIES,
        length: 301n,
        good: [8],
        impl: 'test/black-hole-decoder',
      }),
      's',
    );
    expect(statusOf(r)).toMatchObject({
      'framing.oversize-cut': 'fail',
      'framing.raw-frames-delivered': 'fail',
      'framing.good-peer-served': 'fail',
    });
  });
});

describe('framing/garbage on hand-written cases', () => {
  // mangos TcpBadRecv's garbage, then a good peer.
  const classics = [
    Uint8Array.of(0x80),
    Uint8Array.of(0, 0, 0, 1),
    concatBytes([frameHeader(10n, false), Uint8Array.of(1, 2)]),
    new Uint8Array(40).fill(0xff),
  ];
  for (const garbage of classics)
    it(`netlab survives ${toHex(garbage).slice(0, 24)} and serves the good peer`, async () => {
      const r = await runScenario(
        rawScenario({
          transport: 'tcp',
          maxRecvBytes: 1024,
          bodies: [Uint8Array.of(5)],
          garbage,
          good: [4, 100],
        }),
        's',
      );
      expect(statusOf(r)).toMatchObject({
        'stack.no-crash': 'pass',
        'framing.no-oversize-alloc': 'pass',
        'framing.raw-frames-delivered': 'pass',
        'framing.good-peer-served': 'pass',
      });
    });
});

describe('framing/pair0 generator', () => {
  it('draws zero-length messages in many scenarios', () => {
    const spec = FRAMING_PROPERTIES.find((p) => p.id === 'framing/pair0')!;
    const samples = fc.sample(spec.arb({ impl: 'netlab', transports: spec.transports }), {
      numRuns: 200,
      seed: 1,
    });
    const withZero = samples.filter((s) => s.workload.sends.some((w) => w.bytes === 0)).length;
    expect(withZero).toBeGreaterThan(60);
  });
});

describe('SocketOptions.wrapConnection', () => {
  it('sees every byte a pipe writes (its header and frames)', async () => {
    wrappedBytes = 0;
    const s = defineScenario({
      impl: 'test/counting-conn',
      hosts: ['a', 'b'],
      sockets: [
        { name: 'server', host: 'b', protocol: 'pair0', listen: ['tcp://b:1'], app: { kind: 'sink' } },
        { name: 'client0', host: 'a', protocol: 'pair0', dial: ['tcp://b:1'], app: { kind: 'send' } },
      ],
      workload: {
        sends: [
          { socket: 'client0', bytes: 0 },
          { socket: 'client0', bytes: 5000 },
        ],
      },
      checks: ['stack.no-crash', 'delivery.intact-in-order', 'delivery.all-delivered'],
    });
    const r = await runScenario(s, 's');
    expect(r.ok).toBe(true);
    expect(wrappedBytes).toBe(8 + (8 + 0) + (8 + 5000));
  });
});

describe('framing/raw-reqrep on hand-written cases', () => {
  const REQREP_CHECKS = ['stack.no-crash', 'reqrep.one-reply-per-request', 'reqrep.all-answered'];
  const SIZES = [0, 3, 4, 300, 5000];

  function rawCase(shape: ReqRepShape, transport: 'tcp' | 'ipc' | 'inproc', pipeline = 1) {
    const t = topology({ pattern: 'reqrep', transport, clients: 2, pipeline, ...shape });
    return defineScenario({
      hosts: t.hosts,
      sockets: t.sockets,
      workload: {
        sends: t.sockets
          .filter((x) => x.app.kind === 'send')
          .flatMap((x) => SIZES.map((bytes) => ({ socket: x.name, bytes }))),
      },
      checks: REQREP_CHECKS,
    });
  }

  for (const shape of RAW_REQREP_SHAPES)
    for (const transport of TRANSPORTS)
      it(`every request is echoed intact, once: ${JSON.stringify(shape)} over ${transport}`, async () => {
        const r = await runScenario(rawCase(shape, transport, 3), 'sim-1');
        expect(r.checks.map((c) => [c.id, c.status])).toEqual(
          [...REQREP_CHECKS, ...implicitChecks(REQREP_CHECKS, true)].map((id) => [id, 'pass']),
        );
        for (const c of ['client0', 'client1']) {
          const o = r.observations.sockets[c]!;
          expect(o.received.map((x) => x.replyTo).sort()).toEqual([0, 1, 2, 3, 4]);
          expect(o.strayReplies).toBe(0);
        }
      });

  it('an XREQ sender pipelines: all its requests go out before the first reply comes back', async () => {
    const r = await runScenario(rawCase({ rawClient: true }, 'tcp', 5), 'sim-1');
    const o = r.observations.sockets.client0!;
    const firstReplyUs = Math.min(...o.received.map((x) => x.atUs));
    expect(o.sent.every((x) => x.atUs < firstReplyUs)).toBe(true);
    // Request ids come from the socket's counter, top bit set; each reply carries its request's.
    for (const x of o.received) expect(x.requestId).toBe((0x80000000 | x.replyTo!) >>> 0);
  });

  it('REQ behind a device: the REP sees the device hop and the request id in the backtrace', async () => {
    const r = await runScenario(rawCase({ device: true }, 'tcp'), 'sim-1');
    const server = r.observations.sockets.server!;
    expect(server.received.length).toBe(2 * SIZES.length);
    // Its request ids (the last backtrace word) are the REQs' own (top bit set).
    expect(server.received.every((x) => (x.requestId ?? 0) >= 0x80000000)).toBe(true);
  });

  it('one-reply-per-request fails on a stray reply and on a reply that is not the echo (planted)', async () => {
    const s = rawCase({ rawClient: true }, 'tcp');
    const r = await runScenario(s, 'sim-1');
    const check = checkById('reqrep.one-reply-per-request')!;
    const ctx = {
      endUs: 0,
      healedAtUs: 0,
      faults: [],
      reason: 'until',
      crash: null,
      payloadOf: (name: string, i: number) =>
        payload(
          s.sockets.findIndex((x) => x.name === name),
          i,
          SIZES[i]!,
        ),
      lossy: false,
    };
    expect(check.evaluate(s, r.observations, ctx).status).toBe('pass');
    const stray: Observations = structuredClone(r.observations);
    stray.sockets.client1!.strayReplies = 1;
    expect(check.evaluate(s, stray, ctx).actual).toMatch(/answered no outstanding request/);
    const garbled: Observations = structuredClone(r.observations);
    garbled.sockets.client0!.received[0]!.body = Uint8Array.of(1, 2, 3);
    expect(check.evaluate(s, garbled, ctx).status).toBe('fail');
  });

  it('all-answered does not hold a raw XREQ (it never resends) to requests lost with a reset', async () => {
    const s = rawCase({ rawClient: true }, 'tcp');
    const r = await runScenario(s, 'sim-1');
    const lost: Observations = structuredClone(r.observations);
    lost.sockets.client0!.received = [];
    const check = checkById('reqrep.all-answered')!;
    const ctx = {
      endUs: 0,
      healedAtUs: 0,
      faults: [],
      reason: 'until',
      crash: null,
      payloadOf: () => new Uint8Array(0),
    };
    expect(check.evaluate(s, lost, { ...ctx, lossy: false }).status).toBe('fail');
    expect(check.evaluate(s, lost, { ...ctx, lossy: true }).status).toBe('pass');
  });
});

describe('framing/bus on a hand-written line of three BUS sockets', () => {
  // left -> middle <- right (both dial the middle): left sends, right and middle receive.
  const line = (impl: string) =>
    defineScenario({
      name: 'bus line',
      impl,
      hosts: ['left', 'middle', 'right'],
      sockets: [
        {
          name: 'middle',
          host: 'middle',
          protocol: 'bus0',
          listen: ['tcp://middle:5555'],
          app: { kind: 'sink' },
        },
        { name: 'left', host: 'left', protocol: 'bus0', dial: ['tcp://middle:5555'], app: { kind: 'send' } },
        {
          name: 'right',
          host: 'right',
          protocol: 'bus0',
          dial: ['tcp://middle:5555'],
          app: { kind: 'sink' },
        },
      ],
      workload: {
        sends: [8, 4, 100].map((bytes, i) => ({
          socket: 'left',
          bytes,
          gapUs: i === 0 ? 1_000_000 : 0,
        })),
      },
      faultPhaseUs: 1_000_000,
      livenessUs: 2_000_000,
      checks: ['stack.no-crash', 'bus.no-relay-no-dup', 'bus.delivered-when-calm'],
    });

  it('netlab: the middle gets all three, the right end nothing', async () => {
    const r = await runScenario(line('netlab'), 's');
    expect(statusOf(r)).toEqual({
      'stack.no-crash': 'pass',
      'bus.no-relay-no-dup': 'pass',
      'bus.delivered-when-calm': 'pass',
      'stack.workload-completes': 'pass',
      'sim.time-monotonic': 'pass',
      'sim.bytes-conserved': 'pass',
      'sim.events-in-order': 'pass',
      'sim.link-model': 'pass',
      'sim.partitions-respected': 'pass',
    });
    expect(r.observations.sockets.middle!.received).toHaveLength(3);
    expect(r.observations.sockets.right!.received).toHaveLength(0);
  });

  it('museum/bus-relays: the right end gets what the middle relayed, and the check says so', async () => {
    const r = await runScenario(line('museum/bus-relays'), 's');
    expect(statusOf(r)['bus.no-relay-no-dup']).toBe('fail');
    expect(r.observations.sockets.right!.received).toHaveLength(3);
  });
});

// A STAR whose hop limit stops every message after one hop (TTL forced to 1): nothing is forwarded.
registerImpl('test/star-ttl-1', {
  summary: 'test only: STAR with TTL 1 (forwards nothing past the first hop)',
  family: 'framing',
  socket: (spec) => (spec.protocol === 'star' ? { options: { TTL: 1 } } : undefined),
});

describe('framing/star has teeth', () => {
  it('a STAR that stops forwarding fails star.delivered-when-calm', async () => {
    const out = await property('framing/star', 'test/star-ttl-1');
    expect(out.ok).toBe(false);
    expect(out.counterexample!.failed.map((f) => f.id)).toContain('star.delivered-when-calm');
  });
});
