/**
 * PUB/SUB checks and properties (listed in the framing and backpressure families): one PUB sending
 * a workload to 1..3 SUBs with byte-prefix subscriptions, some of which are dropped mid-run. The
 * checks: PUB never blocks; each subscriber gets an in-order, intact subsequence of what the PUB
 * sent, only messages its subscriptions matched at the time (after an unsubscribe, not even ones
 * queued before it); a matching message sent while the subscriber's pipe was attached is missing
 * only when a queue on its way was full, and each such loss is counted; the queues stay within
 * WRITEQ-LEN (per pipe) and READQ-LEN.
 *
 * Topics are hex prefixes of the runner's payloads, whose first four bytes are the sender's socket
 * index and the message index (scenarios/runner.ts payload()): "" and "00" match everything the PUB
 * (socket 0) sends, "000000" followed by one byte matches one message, "01" matches nothing.
 */
import { scenarioOption, topicMatches } from '../reference.js';
import { fromHex } from '../../../impl/runtime/bytes.js';
import fc from 'fast-check';
import { parseFaultPlan } from '../../../sim/fault-plan.js';
import type { PropertySpec } from '../catalog.js';
import {
  bytesEqual,
  defineCheck,
  peersOf,
  verdict,
  type CheckContext,
  type Observations,
  type SocketObs,
} from '../checks.js';
import {
  edgeIntArb,
  FAULT_PHASE_US,
  faultPlanArb,
  LIVENESS_US,
  networkArb,
  type GeneratedFaultKind,
  type Transport,
} from '../generators.js';
import { SCENARIO_VERSION, SP_STACK, type Scenario, type SocketSpec } from '../model.js';

const optionOf = scenarioOption;

const publishers = (s: Scenario): SocketSpec[] => s.sockets.filter((x) => x.protocol === 'pub0');
const subscribers = (s: Scenario): SocketSpec[] => s.sockets.filter((x) => x.protocol === 'sub0');

/** The topics a subscriber holds before its unsubscribe (all) and after it (the stable ones). */
function topicsOf(spec: SocketSpec): { before: Uint8Array[]; after: Uint8Array[] } {
  const gone = new Set(spec.app.unsubscribe ?? []);
  const all = spec.app.subscribe ?? [];
  return { before: all.map(fromHex), after: all.filter((t) => !gone.has(t)).map(fromHex) };
}

const matchesAny = (body: Uint8Array, topics: readonly Uint8Array[]): boolean =>
  topics.some((t) => topicMatches(body, t));

function list(xs: readonly number[]): string {
  return xs.length > 8 ? `${xs.slice(0, 8).join(', ')}, ...` : xs.join(', ');
}

/**
 * Which messages of `pub` the subscriber got, in order: each received message from `pub` must be a
 * later message of it than the previous one, intact. Messages of other publishers are skipped.
 */
function deliveredFrom(
  obs: Observations,
  ctx: CheckContext,
  pub: SocketSpec,
  sub: SocketSpec,
): { delivered: Set<number>; violation: string | null } {
  const sent = obs.sockets[pub.name]?.sent ?? [];
  const got = obs.sockets[sub.name]?.received ?? [];
  const delivered = new Set<number>();
  let next = 0;
  for (let r = 0; r < got.length; r++) {
    const body = got[r]!.body;
    let at = -1;
    for (let i = 0; i < sent.length; i++)
      if (bytesEqual(ctx.payloadOf(pub.name, i), body)) {
        at = i;
        break;
      }
    if (at < 0) continue; // another publisher's (the in-order check names strangers)
    if (at < next)
      return {
        delivered,
        violation: `${sub.name} received ${pub.name}'s message #${at} (as its message #${r}) after #${next - 1}: out of order or twice`,
      };
    delivered.add(at);
    next = at + 1;
  }
  return { delivered, violation: null };
}

// ---------------------------------------------------------------------------------------------
// Checks

defineCheck({
  id: 'pubsub.publisher-never-blocks',
  timing: true,
  kind: 'always',
  requirement:
    'a PUB send returns at once and succeeds, whatever its subscribers do (a slow subscriber never stalls the publisher)',
  ref: '31',
  evaluate(s, obs) {
    const expected = 'every PUB send accepted at the moment it was made';
    for (const spec of publishers(s)) {
      const o = obs.sockets[spec.name]!;
      for (const r of o.sent) {
        if (r.error !== null && r.errorCode !== 'ErrClosed')
          return verdict(`${spec.name}: send #${r.index} failed: ${r.error}`, expected);
        if (r.acceptedAtUs !== null && r.acceptedAtUs !== r.atUs)
          return verdict(
            `${spec.name}: send #${r.index} blocked for ${r.acceptedAtUs - r.atUs} µs`,
            expected,
          );
        if (r.acceptedAtUs === null && r.error === null)
          return verdict(`${spec.name}: send #${r.index} (at ${r.atUs} µs) never returned`, expected);
      }
    }
    return verdict(null, expected);
  },
});

defineCheck({
  id: 'pubsub.in-order-matching',
  kind: 'always',
  requirement:
    "each subscriber receives an intact, in-order subsequence of its publishers' messages, each matching a topic it held at the time (after an unsubscribe, never a message only that topic matched, not even one queued before it)",
  ref: '33',
  evaluate(s, obs, ctx) {
    const expected = 'in-order intact subsequence; every message matches a current subscription';
    for (const sub of subscribers(s)) {
      const o = obs.sockets[sub.name]!;
      const pubs = peersOf(s, sub).filter((p) => p.protocol === 'pub0');
      for (const pub of pubs) {
        const m = deliveredFrom(obs, ctx, pub, sub);
        if (m.violation !== null) return verdict(m.violation, expected);
      }
      const { before, after } = topicsOf(sub);
      const cut = o.pubsub?.unsubscribedAfter ?? Infinity;
      for (let r = 0; r < o.received.length; r++) {
        const body = o.received[r]!.body;
        const known = pubs.some((p) =>
          (obs.sockets[p.name]?.sent ?? []).some((_, i) => bytesEqual(ctx.payloadOf(p.name, i), body)),
        );
        if (!known)
          return verdict(
            `${sub.name} received message #${r} (${body.length} bytes) that no publisher sent`,
            expected,
          );
        const topics = r < cut ? before : after;
        if (!matchesAny(body, topics))
          return verdict(
            `${sub.name} received message #${r} (${Array.from(body.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join('')}...) ${r < cut ? 'matching none of its topics' : 'after unsubscribing the only topics it matched'}`,
            expected,
          );
      }
    }
    return verdict(null, expected);
  },
});

defineCheck({
  id: 'pubsub.drops-counted',
  kind: 'eventually',
  requirement:
    "a message matching a subscriber's (never unsubscribed) topic, sent while its pipe was attached at the PUB, is delivered unless a queue on its way was full: the subscriber's losses never exceed the drops counted on its PUB pipe and in its receive queue",
  ref: '34',
  evaluate(s, obs, ctx) {
    const expected = 'missing matching messages ≤ drops counted for that subscriber';
    if (ctx.lossy) return { status: 'not-applicable', expected: null, actual: 'a reset or crash fired' };
    for (const sub of subscribers(s)) {
      const so = obs.sockets[sub.name]!;
      const mine = new Set((so.pubsub?.pipes ?? []).map((p) => p.localAddress));
      const stable = topicsOf(sub).after;
      for (const pub of peersOf(s, sub).filter((p) => p.protocol === 'pub0')) {
        const po: SocketObs = obs.sockets[pub.name]!;
        const pipes = (po.pubsub?.pipes ?? []).filter((p) => mine.has(p.remoteAddress));
        const m = deliveredFrom(obs, ctx, pub, sub);
        if (m.violation !== null) return verdict(m.violation, expected);
        const missing = po.sent.filter(
          (r) =>
            r.acceptedAtUs !== null &&
            matchesAny(ctx.payloadOf(pub.name, r.index), stable) &&
            pipes.some(
              (p) => p.attachedAtUs < r.atUs && (p.detachedAtUs === null || r.atUs < p.detachedAtUs),
            ) &&
            !m.delivered.has(r.index),
        );
        const counted = pipes.reduce((n, p) => n + p.droppedFull, 0) + (so.pubsub?.droppedFull ?? 0);
        if (missing.length > counted)
          return verdict(
            `${sub.name}: ${missing.length} matching messages of ${pub.name} never arrived (${list(missing.map((r) => r.index))}) but only ${counted} drops were counted on the way`,
            expected,
          );
      }
    }
    return verdict(null, expected);
  },
});

defineCheck({
  id: 'pubsub.queues-bounded',
  kind: 'always',
  requirement:
    'a PUB never queues more than WRITEQ-LEN messages for one pipe; a SUB never queues more than READQ-LEN',
  ref: null,
  evaluate(s, obs) {
    for (const spec of [...publishers(s), ...subscribers(s)]) {
      const q = obs.sockets[spec.name]?.pubsub?.maxQueued ?? 0;
      const name = spec.protocol === 'pub0' ? 'WRITEQ-LEN' : 'READQ-LEN';
      const cap = optionOf(spec, name);
      if (q > cap)
        return verdict(`${spec.name}: ${q} messages queued with ${name} ${cap}`, `queue ≤ ${name}`);
    }
    return verdict(null, 'PUB per-pipe queue ≤ WRITEQ-LEN; SUB queue ≤ READQ-LEN');
  },
});

export const PUBSUB_CHECKS: readonly string[] = [
  'stack.no-crash',
  'pubsub.publisher-never-blocks',
  'pubsub.in-order-matching',
  'pubsub.drops-counted',
  'pubsub.queues-bounded',
  'model.pubsub',
  'model.wire',
];

// ---------------------------------------------------------------------------------------------
// Generators

/**
 * A subscriber's topics: everything (length 0), all of socket 0's messages, single messages (a
 * 4-byte topic: exactly as long as a 4-byte message, drawn often), one byte longer than that (it
 * must not match a 4-byte message), or none of them.
 */
const topicArb: fc.Arbitrary<string> = fc.oneof(
  fc.constant(''),
  fc.constant('00'),
  fc.integer({ min: 0, max: 63 }).map((i) => `000000${i.toString(16).padStart(2, '0')}`),
  fc
    .tuple(fc.integer({ min: 0, max: 63 }), fc.integer({ min: 0, max: 255 }))
    .map(([i, b]) => `000000${i.toString(16).padStart(2, '0')}${b.toString(16).padStart(2, '0')}`),
  fc.constant('01'),
);

function address(transport: Transport, host: string, name: string): string {
  if (transport === 'tcp') return `tcp://${host}:5555`;
  if (transport === 'ipc') return `ipc:///tmp/netlab-${name}.sock`;
  return `inproc://${name}`;
}

const STALL_FAULTS: readonly GeneratedFaultKind[] = ['stall-reads', 'pause', 'partition'];

/**
 * One PUB ("pub", socket 0) and 1..3 SUBs; over tcp each SUB dials the PUB or listens for it, over
 * ipc and inproc the PUB dials each SUB (so every PUB pipe's far-end address names its SUB).
 * `slow`: small queues, PREFER-NEW drawn, one subscriber's application stalls (the others read at
 * once) and stall faults; otherwise default queues, app-level stalls only around unsubscribes.
 */
export function pubSubArb(o: {
  impl: string;
  transports: readonly Transport[];
  name: string;
  slow: boolean;
}): fc.Arbitrary<Scenario> {
  return fc
    .record({
      transport: fc.constantFrom(...o.transports),
      subs: fc.integer({ min: 1, max: 3 }),
      writeQ: edgeIntArb({ min: 1, max: 16, edges: [2] }),
      readQ: edgeIntArb({ min: 1, max: 16, edges: [2] }),
      preferNew: fc.boolean(),
      firstGapUs: fc.integer({ min: 0, max: 100_000 }),
    })
    .chain((shape) => {
      const subs = shape.subs;
      const local = shape.transport !== 'tcp';
      const hostOf = (n: string): string => (local ? 'local' : n);
      const addr = address(shape.transport, hostOf('pub'), 'pub');
      const subArb = fc.record({
        // Over ipc and inproc the PUB dials every SUB: the address of a dialed pipe names its
        // subscriber there (an accepted ipc pipe's far end is just "unix://").
        listens: local ? fc.constant(true) : fc.boolean(),
        topics: fc.uniqueArray(topicArb, { minLength: 1, maxLength: 4 }),
        unsubscribe: fc.option(fc.record({ atUs: fc.integer({ min: 0, max: 1_500_000 }), n: fc.nat(3) }), {
          nil: null,
        }),
        stall: fc.option(
          fc.record({
            stallAtUs: fc.integer({ min: 0, max: 1_000_000 }),
            stallUs: fc.integer({ min: 0, max: 1_000_000 }),
          }),
          { nil: null },
        ),
      });
      return fc
        .record({
          subs: fc.array(subArb, { minLength: subs, maxLength: subs }),
          sends: fc.array(
            fc.record({
              // 4 bytes (a message exactly as long as a single-message topic) and 5 drawn often.
              bytes: edgeIntArb({ min: 4, max: o.slow ? 4096 : 2048 }),
              gapUs: fc.integer({ min: 0, max: o.slow ? 2_000 : 20_000 }),
            }),
            { minLength: 1, maxLength: 64, size: 'max' },
          ),
          network: o.slow ? networkArb({ minBufferBytes: 2048, maxBufferBytes: 16384 }) : networkArb(),
          faults: o.slow
            ? faultPlanArb({
                hosts: local ? ['local'] : ['pub', ...Array.from({ length: subs }, (_, i) => `sub${i}`)],
                kinds: STALL_FAULTS,
                maxFaults: 2,
              })
            : fc.constant(parseFaultPlan({ version: 1, faults: [] })),
        })
        .map((k): Scenario => {
          const pub: SocketSpec = {
            name: 'pub',
            host: hostOf('pub'),
            protocol: 'pub0',
            listen: k.subs.some((d) => !d.listens) ? [addr] : [],
            dial: k.subs.flatMap((d, i) =>
              d.listens ? [address(shape.transport, hostOf(`sub${i}`), `sub${i}`)] : [],
            ),
            options: o.slow ? { 'WRITEQ-LEN': shape.writeQ, 'PREFER-NEW': shape.preferNew } : {},
            app: { kind: 'send' },
            startUs: 0,
          };
          const subSpecs = k.subs.map((d, i): SocketSpec => {
            const gone =
              d.unsubscribe === null ? [] : d.topics.slice(0, Math.min(d.unsubscribe.n + 1, d.topics.length));
            // Slow runs stall the first subscriber only: the others must keep up regardless.
            const stall = o.slow
              ? i === 0
                ? (d.stall ?? { stallAtUs: 0, stallUs: 500_000 })
                : null
              : d.stall;
            // An unsubscribe inside a stall meets a full queue: the purge has something to do.
            const unsubscribeAtUs =
              d.unsubscribe === null
                ? undefined
                : stall !== null
                  ? stall.stallAtUs + Math.floor(stall.stallUs / 2)
                  : d.unsubscribe.atUs;
            return {
              name: `sub${i}`,
              host: hostOf(`sub${i}`),
              protocol: 'sub0',
              listen: d.listens ? [address(shape.transport, hostOf(`sub${i}`), `sub${i}`)] : [],
              dial: d.listens ? [] : [addr],
              options: o.slow ? { 'READQ-LEN': shape.readQ, 'PREFER-NEW': shape.preferNew } : {},
              app: {
                kind: 'sink',
                subscribe: d.topics,
                ...(stall === null ? {} : stall),
                ...(unsubscribeAtUs === undefined || gone.length === 0
                  ? {}
                  : { unsubscribeAtUs, unsubscribe: gone }),
              },
              startUs: 0,
            };
          });
          return {
            version: SCENARIO_VERSION,
            stack: SP_STACK,
            name: o.name,
            impl: o.impl,
            hosts: local ? ['local'] : ['pub', ...subSpecs.map((x) => x.host)],
            sockets: [pub, ...subSpecs],
            rawPeers: [],
            workload: {
              sends: k.sends.map((w, i) => ({
                socket: 'pub',
                bytes: w.bytes,
                gapUs: i === 0 ? shape.firstGapUs : w.gapUs,
              })),
            },
            network: k.network,
            faults: k.faults,
            faultPhaseUs: FAULT_PHASE_US,
            livenessUs: LIVENESS_US,
            checks: [...PUBSUB_CHECKS],
          };
        });
    });
}

export const PUBSUB_FRAMING_PROPERTY: PropertySpec = {
  id: 'framing/pubsub',
  family: 'framing',
  title:
    'PUB/SUB delivers to each matching subscriber, in order and intact, a subsequence with drops only where a queue was full (counted); unsubscribing purges what no longer matches',
  protocols: ['pub0', 'sub0'],
  transports: ['tcp', 'ipc', 'inproc'],
  checks: PUBSUB_CHECKS,
  faultKinds: [],
  sometimes: ['net.partial-write'],
  arb: ({ impl, transports }) => pubSubArb({ impl, transports, name: 'framing/pubsub', slow: false }),
};

export const PUBSUB_BACKPRESSURE_PROPERTY: PropertySpec = {
  id: 'backpressure/pubsub',
  family: 'backpressure',
  title:
    'a slow subscriber (stalled application, stalled reads, paused host, partition) never stalls the PUB or the other subscribers; it loses only what its full queues dropped, counted',
  protocols: ['pub0', 'sub0'],
  transports: ['tcp', 'ipc', 'inproc'],
  checks: PUBSUB_CHECKS,
  faultKinds: STALL_FAULTS,
  sometimes: ['net.partial-write'],
  arb: ({ impl, transports }) => pubSubArb({ impl, transports, name: 'backpressure/pubsub', slow: true }),
};
