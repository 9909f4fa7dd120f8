/**
 * The parity suite: hand-picked scenarios whose protocol-level outcome does not depend on timing,
 * run on the simulated network and over real loopback sockets through the seeded fault proxy with
 * the equivalent faults (scenarios/real/parity.ts drives both). The outcomes compared are what an
 * application sees: which messages each socket received, from whom and in what order, which sends
 * failed with which error code, and each check's verdict. Timings never are. A difference is a
 * finding, reported with both sides; a difference the suite knows of (a documented modelling gap)
 * is declared on the case and reported as such, never hidden.
 *
 * Isomorphic (no Node APIs): the comparison is plain data.
 */
import { bytesEqual } from './checks.js';
// The checks the cases name are defined by the families.
import './families/index.js';
import { defineScenario } from './define.js';
import { topology } from './generators.js';
import type { Scenario, SocketSpec } from './model.js';
import { payload, type ScenarioResult } from './run.js';
import type { ParityCase as EngineParityCase, ParityOutcome, StackParity } from '../stack.js';

export type ParityCase = EngineParityCase<Scenario>;

/**
 * The outcome of a run, as parity compares it. Parts: received.<socket> (per sender, the workload
 * indices received, in order; "?" + length: unknown) and failed.<socket> (failed sends as
 * "index:ErrCode"), in socket order, received before failed.
 */
export function parityOutcome(scenario: Scenario, result: ScenarioResult): ParityOutcome {
  const index = new Map(scenario.sockets.map((s, i) => [s.name, i]));
  const sizes = new Map<string, number[]>();
  for (const w of scenario.workload.sends) {
    if (!sizes.has(w.socket)) sizes.set(w.socket, []);
    sizes.get(w.socket)!.push(w.bytes);
  }
  const sentBy = (sender: string, i: number, body: Uint8Array): boolean => {
    const list = sizes.get(sender)!;
    return list[i] === body.length && bytesEqual(payload(index.get(sender) ?? 0, i, list[i]), body);
  };
  /**
   * Which (sender, index) sent these bytes: the first not yet matched, in order per sender; else an
   * earlier one again (a duplicate, e.g. a resent request); else "?" and the length.
   */
  const identify = (body: Uint8Array, next: Map<string, number>): [string, number | string] => {
    for (const [sender, list] of sizes)
      for (let i = next.get(sender) ?? 0; i < list.length; i++)
        if (sentBy(sender, i, body)) {
          next.set(sender, i + 1);
          return [sender, i];
        }
    for (const [sender] of sizes)
      for (let i = 0; i < (next.get(sender) ?? 0); i++) if (sentBy(sender, i, body)) return [sender, i];
    return ['?', `?${body.length}`];
  };
  const received: Record<string, Record<string, (number | string)[]>> = {};
  const failed: Record<string, string[]> = {};
  for (const spec of scenario.sockets) {
    const o = result.observations.sockets[spec.name];
    if (o === undefined) continue;
    if (o.received.length > 0) {
      const per: Record<string, (number | string)[]> = {};
      const next = new Map<string, number>();
      for (const r of o.received) {
        // A reply names its request; anything else is matched against what the senders sent.
        const [sender, i] = r.replyTo !== undefined ? [spec.name, r.replyTo] : identify(r.body, next);
        (per[sender] ??= []).push(i);
      }
      received[spec.name] = per;
    }
    const errs = o.sent.filter((r) => r.errorCode !== undefined && r.errorCode !== null);
    if (errs.length > 0) failed[spec.name] = errs.map((r) => `${r.index}:${r.errorCode}`);
  }
  const checks: Record<string, string> = {};
  for (const c of result.checks) checks[c.id] = c.status;
  const parts: Record<string, unknown> = {};
  for (const name of Object.keys(received).sort()) parts[`received.${name}`] = sortKeys(received[name]!);
  for (const name of Object.keys(failed).sort()) parts[`failed.${name}`] = failed[name];
  return { parts, checks, crashed: result.crash !== null };
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

// ---------------------------------------------------------------------------------------------
// The cases

const DELIVERY = ['stack.no-crash', 'delivery.intact-in-order', 'delivery.all-delivered'];
const REQREP = ['stack.no-crash', 'reqrep.one-reply-per-request', 'reqrep.all-answered'];

function sends(
  socket: string,
  sizes: readonly number[],
  gapUs = 0,
): { socket: string; bytes: number; gapUs: number }[] {
  return sizes.map((bytes) => ({ socket, bytes, gapUs }));
}

const MIXED_SIZES = [0, 1, 4, 100, 1500, 70_000, 5, 200_000, 8];

function socket(s: Partial<SocketSpec> & Pick<SocketSpec, 'name' | 'host' | 'protocol' | 'app'>): SocketSpec {
  return { listen: [], dial: [], options: {}, startUs: 0, ...s };
}

/** The parity cases, in report order. */
export function parityCases(): ParityCase[] {
  return [...pair0TransportCases(), ...faultCases(), pipelineCase(), pubSubCase()];
}

/** PAIR0 on each transport, no faults: messages of every size arrive intact and in order. */
function pair0TransportCases(): ParityCase[] {
  return (['tcp', 'ipc', 'inproc'] as const).map((transport) => ({
    name: `pair0-${transport}`,
    title: `PAIR0 over ${transport}: messages of every size, in order`,
    scenario: defineScenario({
      name: `parity pair0 ${transport}`,
      ...topology({ pattern: 'pair0', transport }),
      workload: { sends: sends('client0', MIXED_SIZES) },
      checks: DELIVERY,
    }),
  }));
}

/**
 * PAIR0 and REQ/REP over tcp under one kind of trouble each: latency with partial writes, a stalled
 * reader, a partition, a reset.
 */
function faultCases(): ParityCase[] {
  return [
    {
      name: 'reqrep-tcp-chunked',
      title: 'REQ/REP over tcp with latency and partial writes: every request answered once',
      scenario: defineScenario({
        name: 'parity reqrep chunked',
        ...topology({ pattern: 'reqrep', transport: 'tcp', clients: 2 }),
        network: {
          latency: { kind: 'uniform', minUs: 500, maxUs: 3000 },
          randomChunking: true,
          partialWriteProbability: 0.3,
        },
        workload: { sends: [...sends('client0', [10, 3000, 0, 64]), ...sends('client1', [70_000, 1, 2])] },
        checks: REQREP,
      }),
    },
    {
      name: 'pair0-stall',
      title: 'PAIR0 whose receiver stops reading for 400 ms: nothing lost, order kept',
      scenario: defineScenario({
        name: 'parity pair0 stall',
        ...topology({ pattern: 'pair0', transport: 'tcp' }),
        workload: { sends: sends('client0', [100, 20_000, 3, 150_000, 7, 64], 20_000) },
        faults: {
          version: 1,
          faults: [{ kind: 'stall-reads', atUs: 30_000, conn: 'all', side: 'server', forUs: 400_000 }],
        },
        faultPhaseUs: 600_000,
        checks: DELIVERY,
      }),
    },
    {
      name: 'reqrep-partition',
      title: 'REQ/REP across a 300 ms partition: the requests wait or are resent, each answered once',
      scenario: defineScenario({
        name: 'parity reqrep partition',
        ...topology({ pattern: 'reqrep', transport: 'tcp', clientOptions: { 'RETRY-TIME': 200_000 } }),
        workload: { sends: sends('client0', [10, 20, 30, 40, 50, 60], 50_000) },
        faults: {
          version: 1,
          faults: [{ kind: 'partition', atUs: 80_000, a: ['client0'], b: ['server'], forUs: 300_000 }],
        },
        faultPhaseUs: 500_000,
        checks: REQREP,
      }),
      knownDifferences: [
        {
          part: 'received.server',
          why: 'the REQ resends the request the partition caught in flight, so the REP sees that one twice; which request that is depends on timing',
        },
      ],
    },
    {
      name: 'reqrep-reset',
      title: 'REQ/REP with the connection reset: the REQ redials and resends, each request answered once',
      scenario: defineScenario({
        name: 'parity reqrep reset',
        ...topology({ pattern: 'reqrep', transport: 'tcp', clientOptions: { 'RETRY-TIME': 300_000 } }),
        workload: { sends: sends('client0', [10, 20, 30, 40], 100_000) },
        faults: { version: 1, faults: [{ kind: 'reset', atUs: 150_000, conn: 'all' }] },
        faultPhaseUs: 400_000,
        checks: REQREP,
      }),
    },
  ];
}

/** PUSH/PULL with one puller behind a slow link for a while: everything, in order. */
function pipelineCase(): ParityCase {
  return {
    name: 'pipeline-one-puller',
    title: 'PUSH/PULL to one puller with a slow link for a while: everything, in order',
    scenario: defineScenario({
      name: 'parity pipeline',
      hosts: ['pusher', 'puller'],
      sockets: [
        socket({
          name: 'puller',
          host: 'puller',
          protocol: 'pull0',
          app: { kind: 'sink' },
          listen: ['tcp://puller:6000'],
        }),
        socket({
          name: 'pusher',
          host: 'pusher',
          protocol: 'push0',
          app: { kind: 'send' },
          dial: ['tcp://puller:6000'],
        }),
      ],
      workload: { sends: sends('pusher', [64, 64, 9000, 0, 64, 120_000, 64], 5_000) },
      faults: {
        version: 1,
        faults: [
          {
            kind: 'link',
            atUs: 0,
            from: 'pusher',
            to: 'puller',
            set: { latency: { kind: 'constant', us: 20_000 }, bandwidthBytesPerSec: 2_000_000 },
            forUs: 200_000,
          },
        ],
      },
      faultPhaseUs: 300_000,
      checks: ['stack.no-crash', 'pipeline.each-message-once'],
    }),
  };
}

/** PUB/SUB with two subscribers, one to everything and one to two prefixes. */
function pubSubCase(): ParityCase {
  return {
    name: 'pubsub-prefixes',
    title: 'PUB/SUB: each subscriber gets exactly the messages matching its prefixes, in order',
    scenario: defineScenario({
      name: 'parity pubsub',
      hosts: ['pub', 'suba', 'subb'],
      sockets: [
        socket({
          name: 'pub',
          host: 'pub',
          protocol: 'pub0',
          app: { kind: 'send' },
          listen: ['tcp://pub:7000'],
        }),
        // Message k of the publisher starts with its tag: byte 0 is the socket index (0), byte 3 is k.
        socket({
          name: 'all',
          host: 'suba',
          protocol: 'sub0',
          app: { kind: 'sink', subscribe: [''] },
          dial: ['tcp://pub:7000'],
        }),
        socket({
          name: 'some',
          host: 'subb',
          protocol: 'sub0',
          app: { kind: 'sink', subscribe: ['00000001', '00000003'] },
          dial: ['tcp://pub:7000'],
        }),
      ],
      // The first send waits until the subscribers are surely connected and subscribed: a PUB drops
      // what it sends before that, and when that is depends on timing.
      workload: {
        sends: [{ socket: 'pub', bytes: 8, gapUs: 300_000 }, ...sends('pub', [8, 100, 5000, 8], 10_000)],
      },
      checks: ['stack.no-crash', 'pubsub.in-order-matching', 'pubsub.drops-counted'],
    }),
  };
}

/** The SP stack's parity suite. */
export const SP_PARITY: StackParity<Scenario, ScenarioResult['observations']> = {
  cases: parityCases,
  outcome: parityOutcome,
};
