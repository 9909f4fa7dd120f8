/**
 * The backpressure family: with a stalled peer (its application stops receiving, the transport
 * stops reading, its host freezes, or a partition cuts it off), queues stay within their configured
 * bounds, a blocking send blocks or fails with ErrSendTimeout (never drops), BEST-EFFORT drops only
 * when the send queue is full, and once the peer resumes everything accepted is delivered.
 *
 * Queue lengths are sampled by the runner after every step that can grow them (send, refill of the
 * send queue, delivery into the receive queue), so the maxima are exact. Bytes held by the transport
 * are bounded by the network model's windows (sendBufferBytes / recvBufferBytes, drawn small here);
 * the simulator keeps per-connection buffer levels internal, so no check reads them directly.
 */
import { scenarioOption } from '../reference.js';
import fc from 'fast-check';
import type { OptionValues } from '../../../impl/sp/options.js';
import { parseFaultPlan } from '../../../sim/fault-plan.js';
import type { FamilySpec, PropertySpec } from '../catalog.js';
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
  topology,
  type GeneratedFaultKind,
  type Transport,
} from '../generators.js';
import { SCENARIO_VERSION, SP_STACK, type AppSpec, type Scenario, type SocketSpec } from '../model.js';
import { RAW_PIPELINE_PROPERTY } from './raw.js';
import { PUBSUB_BACKPRESSURE_PROPERTY } from './pubsub.js';

/** Stalls only: faults that destroy data in flight (reset, crash) belong to other families. */
const STALL_FAULTS: readonly GeneratedFaultKind[] = ['stall-reads', 'pause', 'partition'];

/** Largest burst per sender: enough to fill queues of up to 16 messages plus the transport windows. */
const MAX_BURST = 64;
/** Largest message: 4 KiB, so a few messages fill the drawn transport windows (2..16 KiB). */
const MAX_MESSAGE_BYTES = 4096;
/** Smallest message: 4 bytes, so every payload carries its identity (scenarios/runner.ts payload()). */
const MIN_MESSAGE_BYTES = 4;

/** The value of an option as the scenario configured it (what a check holds the stack to). */
const optionOf = scenarioOption;

/** Pipes the socket attached over the run (each may hold one delivery beyond a full receive queue). */
function attachedPipes(o: SocketObs): number {
  return o.pipes.filter((p) => p.event === 'attached').length;
}

/**
 * Pipes attached at `atUs` by the socket's pipe events. `sure`: count only pipes attached before
 * `atUs` and still attached after it, so events in the same microsecond (whose order against the
 * send the record does not tell) never make a send look wrong.
 */
function pipesAt(o: SocketObs, atUs: number, sure: boolean): number {
  const open = new Set<number>();
  for (const p of o.pipes) {
    if (p.atUs > atUs || (sure && p.atUs === atUs)) continue;
    if (p.event === 'attached') open.add(p.pipe);
    if (p.event === 'detached') open.delete(p.pipe);
  }
  if (sure) for (const p of o.pipes) if (p.atUs === atUs && p.event === 'detached') open.delete(p.pipe);
  return open.size;
}

/**
 * Which of `sender`'s messages the PAIR0 `receiver` got: every received message must be the next
 * not-yet-seen message of the sender, intact (skips are drops, allowed here; the checks decide which
 * drops were legitimate). Returns the delivered indices, or the first violation.
 */
function pair0Delivered(
  obs: Observations,
  ctx: CheckContext,
  sender: SocketSpec,
  receiver: SocketSpec,
): { delivered: Set<number>; violation: string | null } {
  const sent = obs.sockets[sender.name]?.sent ?? [];
  const got = obs.sockets[receiver.name]?.received ?? [];
  const delivered = new Set<number>();
  let next = 0;
  for (let r = 0; r < got.length; r++) {
    const body = got[r]!.body;
    let at = -1;
    for (let i = next; i < sent.length; i++)
      if (bytesEqual(ctx.payloadOf(sender.name, i), body)) {
        at = i;
        break;
      }
    if (at < 0)
      return {
        delivered,
        violation: `${receiver.name} received message #${r} (${body.length} bytes) that is not the next message of ${sender.name}, intact and in order`,
      };
    delivered.add(at);
    next = at + 1;
  }
  return { delivered, violation: null };
}

/** The messages of a sending socket that reached the other side (PAIR0: the sink; REQ, XREQ: answered). */
function deliveredOf(
  s: Scenario,
  obs: Observations,
  ctx: CheckContext,
  sender: SocketSpec,
): { delivered: Set<number>; violation: string | null } {
  const o = obs.sockets[sender.name]!;
  if (sender.protocol === 'req0' || sender.protocol === 'xreq0') {
    const delivered = new Set<number>();
    for (const r of o.received) if (r.replyTo !== undefined) delivered.add(r.replyTo);
    return { delivered, violation: null };
  }
  const receivers = peersOf(s, sender).filter((p) => p.app.kind !== 'send');
  const delivered = new Set<number>();
  for (const rcv of receivers) {
    const m = pair0Delivered(obs, ctx, sender, rcv);
    if (m.violation !== null) return m;
    for (const i of m.delivered) delivered.add(i);
  }
  return { delivered, violation: null };
}

function senders(s: Scenario): SocketSpec[] {
  return s.sockets.filter((x) => x.app.kind === 'send');
}

function list(xs: readonly number[]): string {
  return xs.length > 8 ? `${xs.slice(0, 8).join(', ')}, ...` : xs.join(', ');
}

// ---------------------------------------------------------------------------------------------
// Checks

defineCheck({
  id: 'backpressure.queues-bounded',
  kind: 'always',
  requirement:
    "the send queue never holds more than WRITEQ-LEN messages, the receive queue never more than READQ-LEN (plus, per pipe, the one delivery that filled it), a REP's replies queued for one pipe never more than WRITEQ-LEN",
  ref: null,
  evaluate(s, obs) {
    for (const spec of s.sockets) {
      const o = obs.sockets[spec.name];
      if (o === undefined) continue;
      const writeQ = Math.max(optionOf(spec, 'WRITEQ-LEN'), 1);
      if (o.maxSendQ > writeQ)
        return verdict(
          `${spec.name}: send queue reached ${o.maxSendQ} messages with WRITEQ-LEN ${writeQ}`,
          `send queue ≤ WRITEQ-LEN (${writeQ})`,
        );
      if (o.maxReplyQueue > writeQ)
        return verdict(
          `${spec.name}: ${o.maxReplyQueue} replies queued for one pipe with WRITEQ-LEN ${writeQ}`,
          `replies queued per pipe ≤ WRITEQ-LEN (${writeQ})`,
        );
      // A pipe pauses after the delivery that fills the queue; each other pipe may still deliver one
      // message before it pauses too (mangos: each pipe's reader holds one message on the full channel).
      const readQ = Math.max(optionOf(spec, 'READQ-LEN'), 1);
      const recvBound = readQ + Math.max(attachedPipes(o), 1) - 1;
      if (o.maxRecvQ > recvBound)
        return verdict(
          `${spec.name}: receive queue reached ${o.maxRecvQ} messages with READQ-LEN ${readQ} and ${attachedPipes(o)} pipes`,
          `receive queue ≤ READQ-LEN + pipes − 1 (${recvBound})`,
        );
    }
    return verdict(null, 'send queue ≤ WRITEQ-LEN, receive queue ≤ READQ-LEN + pipes − 1');
  },
});

defineCheck({
  id: 'backpressure.send-blocks-or-times-out',
  timing: true,
  kind: 'always',
  requirement:
    'a blocking send either is accepted or fails with ErrSendTimeout, not before SEND-DEADLINE and never blocking past it; a BEST-EFFORT send never blocks',
  ref: null,
  evaluate(s, obs, ctx) {
    const expected =
      'each send accepted, or ErrSendTimeout no earlier than SEND-DEADLINE; none pending past it; BEST-EFFORT returns at once';
    for (const spec of senders(s)) {
      const o = obs.sockets[spec.name]!;
      const deadline = optionOf(spec, 'SEND-DEADLINE');
      const bestEffort = optionOf(spec, 'BEST-EFFORT');
      for (const r of o.sent) {
        const who = `${spec.name}: send #${r.index}`;
        if (r.failedAtUs !== null) {
          // FAIL-NO-PEERS (PUSH): a send while no pipe is attached fails at once with ErrNoPeers.
          if (r.errorCode === 'ErrNoPeers' && optionOf(spec, 'FAIL-NO-PEERS')) {
            if (r.failedAtUs !== r.atUs)
              return verdict(
                `${who} failed with ErrNoPeers after blocking ${r.failedAtUs - r.atUs} µs`,
                expected,
              );
            if (pipesAt(o, r.atUs, true) > 0)
              return verdict(
                `${who} failed with ErrNoPeers at ${r.atUs} µs although ${pipesAt(o, r.atUs, true)} pipes were attached`,
                expected,
              );
            continue;
          }
          if (r.errorCode !== 'ErrSendTimeout')
            return verdict(`${who} failed with ${r.error ?? 'an unknown error'}`, expected);
          if (deadline === null) return verdict(`${who} timed out although SEND-DEADLINE is unset`, expected);
          if (r.failedAtUs - r.atUs < deadline)
            return verdict(
              `${who} timed out after ${r.failedAtUs - r.atUs} µs, before SEND-DEADLINE ${deadline} µs`,
              expected,
            );
          continue;
        }
        if (r.acceptedAtUs === null) {
          // Timers of a paused host wait for it to resume; every fault has healed by healedAtUs.
          if (
            r.error === null &&
            deadline !== null &&
            Math.max(r.atUs + deadline, ctx.healedAtUs) < ctx.endUs
          )
            return verdict(
              `${who} (at ${r.atUs} µs) was still blocked at the end, past SEND-DEADLINE ${deadline} µs`,
              expected,
            );
          continue;
        }
        if (bestEffort && r.acceptedAtUs !== r.atUs)
          return verdict(`${who} with BEST-EFFORT blocked for ${r.acceptedAtUs - r.atUs} µs`, expected);
      }
    }
    return verdict(null, expected);
  },
});

defineCheck({
  id: 'backpressure.accepted-delivered',
  kind: 'eventually',
  requirement:
    'once the peer resumes, every send completes and every message a blocking send accepted is delivered, intact and in order; a timed-out one never is',
  ref: null,
  evaluate(s, obs, ctx) {
    const expected = 'every send settled; accepted ones delivered; timed-out ones not';
    if (ctx.lossy) return { status: 'not-applicable', expected: null, actual: 'a reset or crash fired' };
    for (const spec of senders(s)) {
      const o = obs.sockets[spec.name]!;
      const m = deliveredOf(s, obs, ctx, spec);
      if (m.violation !== null) return verdict(m.violation, expected);
      const want = s.workload.sends.filter((w) => w.socket === spec.name).length;
      const pending = o.sent.filter((r) => r.acceptedAtUs === null && r.error === null).map((r) => r.index);
      if (o.sent.length < want || pending.length > 0)
        return verdict(
          `${spec.name}: ${o.sent.length - pending.length} of ${want} sends settled (pending: ${list(pending)})${o.errors.length ? `; errors: ${o.errors.slice(0, 3).join('; ')}` : ''}`,
          expected,
        );
      const timedOutButDelivered = o.sent.filter((r) => r.failedAtUs !== null && m.delivered.has(r.index));
      if (timedOutButDelivered.length > 0)
        return verdict(
          `${spec.name}: sends ${list(timedOutButDelivered.map((r) => r.index))} failed with ErrSendTimeout but were delivered`,
          expected,
        );
      if (optionOf(spec, 'BEST-EFFORT') && spec.protocol !== 'req0') continue; // its own check
      const lost = o.sent.filter((r) => r.acceptedAtUs !== null && !m.delivered.has(r.index));
      if (lost.length > 0)
        return verdict(
          `${spec.name}: ${lost.length} accepted messages never delivered (${list(lost.map((r) => r.index))})${o.errors.length ? `; errors: ${o.errors.slice(0, 3).join('; ')}` : ''}`,
          expected,
        );
    }
    return verdict(null, expected);
  },
});

defineCheck({
  id: 'backpressure.best-effort-drops-only-when-full',
  kind: 'eventually',
  requirement:
    'with BEST-EFFORT, a message sent while the send queue had room (queued before < WRITEQ-LEN) is delivered once the peer resumes: drops happen only on a full queue',
  ref: null,
  evaluate(s, obs, ctx) {
    const expected = 'every BEST-EFFORT message sent with room in the queue is delivered';
    if (ctx.lossy) return { status: 'not-applicable', expected: null, actual: 'a reset or crash fired' };
    let any = false;
    for (const spec of senders(s)) {
      if (!optionOf(spec, 'BEST-EFFORT')) continue;
      any = true;
      const o = obs.sockets[spec.name]!;
      const m = deliveredOf(s, obs, ctx, spec);
      if (m.violation !== null) return verdict(m.violation, expected);
      const writeQ = optionOf(spec, 'WRITEQ-LEN');
      const dropped = o.sent.filter(
        (r) => r.acceptedAtUs !== null && r.queuedBefore < writeQ && !m.delivered.has(r.index),
      );
      if (dropped.length > 0)
        return verdict(
          `${spec.name}: ${dropped.length} of ${o.sent.length} messages dropped although the queue had room (#${dropped[0]!.index}: ${dropped[0]!.queuedBefore} queued, WRITEQ-LEN ${writeQ}; dropped: ${list(dropped.map((r) => r.index))})`,
          expected,
        );
    }
    if (!any) return { status: 'not-applicable', expected: null, actual: 'no BEST-EFFORT sender' };
    return verdict(null, expected);
  },
});

/** For each PUSH sender, which puller got each of its messages (or the first violation). */
function pipelineShares(
  s: Scenario,
  obs: Observations,
  ctx: CheckContext,
): { sender: SocketSpec; shares: Map<string, Set<number>> }[] | string {
  const out: { sender: SocketSpec; shares: Map<string, Set<number>> }[] = [];
  for (const sender of senders(s).filter((x) => x.protocol === 'push0')) {
    const shares = new Map<string, Set<number>>();
    for (const rcv of peersOf(s, sender).filter((p) => p.protocol === 'pull0')) {
      const m = pair0Delivered(obs, ctx, sender, rcv);
      if (m.violation !== null) return m.violation;
      shares.set(rcv.name, m.delivered);
    }
    out.push({ sender, shares });
  }
  return out;
}

defineCheck({
  id: 'pipeline.each-message-once',
  kind: 'always',
  requirement:
    "each PUSH message reaches at most one PULL, intact, and each puller's share arrives in the order it was sent",
  ref: null,
  evaluate(s, obs, ctx) {
    const expected = 'every delivered message intact, in send order per puller, at one puller only';
    const all = pipelineShares(s, obs, ctx);
    if (typeof all === 'string') return verdict(all, expected);
    for (const { sender, shares } of all) {
      const seen = new Map<number, string>();
      for (const [puller, got] of shares)
        for (const i of got) {
          const other = seen.get(i);
          if (other !== undefined)
            return verdict(`${sender.name}'s message #${i} reached both ${other} and ${puller}`, expected);
          seen.set(i, puller);
        }
    }
    return verdict(null, expected);
  },
});

defineCheck({
  id: 'pipeline.even-spread',
  kind: 'eventually',
  requirement:
    'with equally fast pullers (attached before the first send, never stalled), PUSH spreads its messages within one message of even',
  ref: null,
  evaluate(s, obs, ctx) {
    const expected = 'the largest and smallest puller shares differ by at most one message';
    const all = pipelineShares(s, obs, ctx);
    if (typeof all === 'string') return verdict(all, expected);
    for (const { sender, shares } of all) {
      if (shares.size < 2) continue;
      const first = obs.sockets[sender.name]!.sent[0];
      if (first !== undefined && pipesAt(obs.sockets[sender.name]!, first.atUs, true) < shares.size)
        return {
          status: 'not-applicable',
          expected: null,
          actual: `not every puller was attached at ${sender.name}'s first send`,
        };
      const counts = [...shares].map(([name, got]) => `${name} ${got.size}`);
      const sizes = [...shares.values()].map((g) => g.size);
      if (Math.max(...sizes) - Math.min(...sizes) > 1)
        return verdict(`${sender.name}'s messages spread unevenly: ${counts.join(', ')}`, expected);
    }
    return verdict(null, expected);
  },
});

export const BACKPRESSURE_CHECKS: readonly string[] = [
  'stack.no-crash',
  'backpressure.queues-bounded',
  'backpressure.send-blocks-or-times-out',
  'backpressure.accepted-delivered',
  'backpressure.best-effort-drops-only-when-full',
  // The reference models (scenarios/sp/models/): each judges the protocols it knows, else is n/a.
  'model.pair',
  'model.reqrep',
  'model.pipeline',
  'model.wire',
];

// ---------------------------------------------------------------------------------------------
// Generators

/** The stalled peer's application: when it stops receiving, for how long, how slowly it reads. */
const stallArb: fc.Arbitrary<Partial<AppSpec>> = fc
  .record({
    stallAtUs: fc.integer({ min: 0, max: 1_000_000 }),
    stallUs: fc.integer({ min: 0, max: 1_500_000 }),
    recvDelayUs: fc.constantFrom(0, 0, 200, 2_000),
  })
  .map(({ recvDelayUs, ...stall }) => (recvDelayUs > 0 ? { ...stall, recvDelayUs } : stall));

/**
 * A queue length: at its edges 0, 1, 2 (and 15, 16) often, small in between mostly (so bursts fill
 * it), now and then large (128, mangos' default, or 1000).
 */
function queueLenArb(min: number): fc.Arbitrary<number> {
  return fc.oneof(
    { weight: 9, arbitrary: edgeIntArb({ min, max: 16, edges: [1, 2] }) },
    { weight: 1, arbitrary: fc.constantFrom(128, 1000) },
  );
}

/** Queue and send options: small queues so bursts fill them; SEND-DEADLINE unset or short (1 ms, 300 ms at the edges). */
const queueOptionsArb = fc.record({
  writeQ: queueLenArb(0),
  readQ: queueLenArb(0),
  sendDeadlineUs: fc.option(edgeIntArb({ min: 1_000, max: 300_000 }), { nil: null }),
  bestEffort: fc.boolean(),
});

function burstArb(): fc.Arbitrary<number[]> {
  return fc.array(fc.integer({ min: MIN_MESSAGE_BYTES, max: MAX_MESSAGE_BYTES }), {
    minLength: 1,
    maxLength: MAX_BURST,
    // Draw lengths over the whole range (fast-check's default favours short arrays): a burst must be
    // able to outrun small queues and windows. Shrinking still goes toward fewer messages.
    size: 'max',
  });
}

function backpressureArb(o: {
  pattern: 'pair0' | 'reqrep';
  impl: string;
  transports: readonly Transport[];
  name: string;
}): fc.Arbitrary<Scenario> {
  return fc
    .record({
      transport: fc.constantFrom(...o.transports),
      clients: fc.integer({ min: 1, max: o.pattern === 'reqrep' ? 3 : 1 }),
      receiverDials: fc.boolean(),
      queues: queueOptionsArb,
      stall: stallArb,
    })
    .chain((shape) => {
      const q = shape.queues;
      const topo = topology({
        pattern: o.pattern,
        transport: shape.transport,
        clients: shape.clients,
        receiverDials: shape.receiverDials,
        options: { 'WRITEQ-LEN': q.writeQ, 'READQ-LEN': q.readQ },
        clientOptions: { 'SEND-DEADLINE': q.sendDeadlineUs, 'BEST-EFFORT': q.bestEffort },
        serverApp: shape.stall,
      });
      const sending = topo.sockets.filter((s) => s.app.kind === 'send');
      return fc
        .record({
          bursts: fc.tuple(...sending.map(() => burstArb())),
          // Small windows: a burst fills the transport quickly, so the queues behind it fill too.
          network: networkArb({ minBufferBytes: 2048, maxBufferBytes: 16384 }),
          faults: faultPlanArb({ hosts: topo.hosts, kinds: STALL_FAULTS, maxFaults: 2 }),
        })
        .map((k): Scenario => ({
          version: SCENARIO_VERSION,
          stack: SP_STACK,
          name: o.name,
          impl: o.impl,
          hosts: topo.hosts,
          sockets: topo.sockets,
          rawPeers: [],
          workload: {
            sends: sending.flatMap((s, i) =>
              k.bursts[i]!.map((bytes) => ({ socket: s.name, bytes, gapUs: 0 })),
            ),
          },
          network: k.network,
          faults: k.faults,
          faultPhaseUs: FAULT_PHASE_US,
          livenessUs: LIVENESS_US,
          checks:
            o.pattern === 'reqrep'
              ? [...BACKPRESSURE_CHECKS, 'reqrep.one-reply-per-request']
              : [...BACKPRESSURE_CHECKS],
        }));
    });
}

/** Most requests an XREQ client keeps outstanding in the REP reply-queue property. */
const MAX_PIPELINE = 32;

/**
 * XREQ clients pipelining up to MAX_PIPELINE requests into a REP with a small WRITEQ-LEN while the
 * clients' transport stops reading (stall-reads on the client side, always drawn, plus up to one
 * other stall): the REP's replies back up into its per-pipe queue, its send blocks, and once the
 * clients read again every request is answered. With BEST-EFFORT on the REP the pipeline is kept
 * within WRITEQ-LEN, so the queue never fills and a drop would be a drop with room.
 */
function repReplyQueueArb(o: { impl: string; transports: readonly Transport[] }): fc.Arbitrary<Scenario> {
  return fc
    .record({
      transport: fc.constantFrom(...o.transports),
      clients: fc.integer({ min: 1, max: 2 }),
      writeQ: fc.integer({ min: 1, max: 16 }),
      pipeline: fc.integer({ min: 1, max: MAX_PIPELINE }),
      bestEffort: fc.boolean(),
      stallAtUs: fc.integer({ min: 0, max: 500_000 }),
      stallUs: fc.integer({ min: 100_000, max: 1_500_000 }),
    })
    .chain((shape) => {
      const pipeline = shape.bestEffort ? Math.min(shape.pipeline, shape.writeQ) : shape.pipeline;
      const topo = topology({
        pattern: 'reqrep',
        transport: shape.transport,
        clients: shape.clients,
        rawClient: true,
        pipeline,
        serverOptions: { 'WRITEQ-LEN': shape.writeQ, 'BEST-EFFORT': shape.bestEffort },
      });
      const sending = topo.sockets.filter((s) => s.app.kind === 'send');
      const stall = {
        kind: 'stall-reads' as const,
        atUs: shape.stallAtUs,
        conn: 'all' as const,
        side: 'client' as const,
        forUs: shape.stallUs,
      };
      return fc
        .record({
          bursts: fc.tuple(...sending.map(() => burstArb())),
          network: networkArb({ minBufferBytes: 2048, maxBufferBytes: 16384 }),
          // A reset too: a client's connection going away while REP replies wait behind its full
          // queue must end those replies (dropped, the send succeeds), or the REP hangs.
          faults: faultPlanArb({ hosts: topo.hosts, kinds: [...STALL_FAULTS, 'reset'], maxFaults: 1 }),
          // In half the runs, a reset within the stall (at 5..95 % of it): the moment the REP's
          // replies are most likely waiting behind a full queue when their pipe goes.
          resetInStallPct: fc.option(fc.integer({ min: 5, max: 95 }), { freq: 2 }),
        })
        .map((k): Scenario => ({
          version: SCENARIO_VERSION,
          stack: SP_STACK,
          name: 'backpressure/rep-reply-queue',
          impl: o.impl,
          hosts: topo.hosts,
          sockets: topo.sockets,
          rawPeers: [],
          workload: {
            sends: sending.flatMap((s, i) =>
              k.bursts[i]!.map((bytes) => ({ socket: s.name, bytes, gapUs: 0 })),
            ),
          },
          network: k.network,
          faults: parseFaultPlan({
            version: 1,
            faults: [
              stall,
              ...(k.resetInStallPct === null
                ? []
                : [
                    {
                      kind: 'reset' as const,
                      atUs: shape.stallAtUs + Math.floor((shape.stallUs * k.resetInStallPct) / 100),
                      conn: 'all' as const,
                    },
                  ]),
              ...k.faults.faults,
            ],
          }),
          faultPhaseUs: FAULT_PHASE_US,
          livenessUs: LIVENESS_US,
          checks: [...BACKPRESSURE_CHECKS, 'reqrep.one-reply-per-request', 'reqrep.all-answered'],
        }));
    });
}

/** Most PULL sockets in the pipeline properties. */
const MAX_PULLERS = 3;

/**
 * One PUSH ("client0", the sender) and `pullers` PULLs ("pull0".., sinks). Either the pullers dial
 * the PUSH's listener or the PUSH dials each puller's. Over tcp each socket has its own host; ipc and
 * inproc put them all on host "local".
 */
function pipelineTopology(o: {
  transport: Transport;
  pullers: number;
  pullersListen: boolean;
  pushOptions: Partial<OptionValues>;
  pullOptions: Partial<OptionValues>;
  pullApp: (i: number) => Partial<AppSpec>;
}): { hosts: string[]; sockets: SocketSpec[] } {
  const local = o.transport !== 'tcp';
  const addr = (host: string, port: number): string =>
    o.transport === 'tcp'
      ? `tcp://${host}:${port}`
      : o.transport === 'ipc'
        ? `ipc:///tmp/netlab-${host}-${port}.sock`
        : `inproc://${host}-${port}`;
  const pushHost = local ? 'local' : 'client0';
  const push: SocketSpec = {
    name: 'client0',
    host: pushHost,
    protocol: 'push0',
    listen: o.pullersListen ? [] : [addr(pushHost, 5555)],
    dial: [],
    options: o.pushOptions,
    app: { kind: 'send' },
    startUs: 0,
  };
  const pulls: SocketSpec[] = [];
  for (let i = 0; i < o.pullers; i++) {
    const host = local ? 'local' : `pull${i}`;
    const own = addr(host, 5600 + i);
    if (o.pullersListen) push.dial.push(own);
    pulls.push({
      name: `pull${i}`,
      host,
      protocol: 'pull0',
      listen: o.pullersListen ? [own] : [],
      dial: o.pullersListen ? [] : [...push.listen],
      options: o.pullOptions,
      app: { kind: 'sink', ...o.pullApp(i) },
      startUs: 0,
    });
  }
  const hosts = local ? ['local'] : [pushHost, ...pulls.map((p) => p.host)];
  return { hosts, sockets: [push, ...pulls] };
}

const PIPELINE_CHECKS: readonly string[] = [...BACKPRESSURE_CHECKS, 'pipeline.each-message-once'];

/**
 * A PUSH bursting into 1..MAX_PULLERS PULLs, each of which may stall (its application stops
 * receiving) or read slowly, with stall faults on top: queues stay bounded, sends block or time out
 * (FAIL-NO-PEERS: ErrNoPeers while no puller is attached), BEST-EFFORT drops only at a full send
 * queue, and PULL never drops: everything accepted reaches exactly one puller once they resume.
 */
function pipelineArb(o: { impl: string; transports: readonly Transport[] }): fc.Arbitrary<Scenario> {
  return fc
    .record({
      transport: fc.constantFrom(...o.transports),
      pullers: fc.integer({ min: 1, max: MAX_PULLERS }),
      pullersListen: fc.boolean(),
      queues: queueOptionsArb,
      failNoPeers: fc.constantFrom(false, false, false, true),
      stalls: fc.array(stallArb, { minLength: MAX_PULLERS, maxLength: MAX_PULLERS }),
    })
    .chain((shape) => {
      const q = shape.queues;
      const topo = pipelineTopology({
        transport: shape.transport,
        pullers: shape.pullers,
        pullersListen: shape.pullersListen,
        pushOptions: {
          'WRITEQ-LEN': q.writeQ,
          'SEND-DEADLINE': q.sendDeadlineUs,
          'BEST-EFFORT': q.bestEffort,
          'FAIL-NO-PEERS': shape.failNoPeers,
        },
        pullOptions: { 'READQ-LEN': q.readQ },
        pullApp: (i) => shape.stalls[i]!,
      });
      return fc
        .record({
          burst: burstArb(),
          network: networkArb({ minBufferBytes: 2048, maxBufferBytes: 16384 }),
          faults: faultPlanArb({ hosts: topo.hosts, kinds: STALL_FAULTS, maxFaults: 2 }),
        })
        .map((k): Scenario => ({
          version: SCENARIO_VERSION,
          stack: SP_STACK,
          name: 'backpressure/pipeline',
          impl: o.impl,
          hosts: topo.hosts,
          sockets: topo.sockets,
          rawPeers: [],
          workload: { sends: k.burst.map((bytes) => ({ socket: 'client0', bytes, gapUs: 0 })) },
          network: k.network,
          faults: k.faults,
          faultPhaseUs: FAULT_PHASE_US,
          livenessUs: LIVENESS_US,
          checks: [...PIPELINE_CHECKS],
        }));
    });
}

/** Before the first send: every puller has attached (dials at 50 ms intervals over ≤ 30 ms links). */
const SPREAD_START_US = 500_000;

/**
 * A PUSH and 2..MAX_PULLERS equally fast PULLs (none stalls or reads slowly; no faults; no partial
 * writes; transport windows larger than the whole burst, so every pipe is ready whenever PUSH
 * turns to it): the shares differ by at most one message.
 */
function pipelineSpreadArb(o: { impl: string; transports: readonly Transport[] }): fc.Arbitrary<Scenario> {
  return fc
    .record({
      transport: fc.constantFrom(...o.transports),
      pullers: fc.integer({ min: 2, max: MAX_PULLERS }),
      pullersListen: fc.boolean(),
      writeQ: fc.integer({ min: 1, max: 128 }),
      burst: fc.array(fc.integer({ min: MIN_MESSAGE_BYTES, max: 1024 }), {
        minLength: 1,
        maxLength: MAX_BURST,
        size: 'max',
      }),
      network: networkArb({ minBufferBytes: 1 << 17, maxBufferBytes: 1 << 18 }),
    })
    .map((k): Scenario => {
      const topo = pipelineTopology({
        transport: k.transport,
        pullers: k.pullers,
        pullersListen: k.pullersListen,
        pushOptions: { 'WRITEQ-LEN': k.writeQ },
        pullOptions: {},
        pullApp: () => ({}),
      });
      return {
        version: SCENARIO_VERSION,
        stack: SP_STACK,
        name: 'backpressure/pipeline-spread',
        impl: o.impl,
        hosts: topo.hosts,
        sockets: topo.sockets,
        rawPeers: [],
        workload: {
          sends: k.burst.map((bytes, i) => ({
            socket: 'client0',
            bytes,
            gapUs: i === 0 ? SPREAD_START_US : 0,
          })),
        },
        // Equally fast: no loss (a lost handshake segment waits for a 200 ms retransmission), no partial writes.
        network: { ...k.network, lossRate: 0, partialWriteProbability: 0 },
        faults: parseFaultPlan({ version: 1, faults: [] }),
        faultPhaseUs: FAULT_PHASE_US,
        livenessUs: LIVENESS_US,
        checks: [...PIPELINE_CHECKS, 'pipeline.even-spread'],
      };
    });
}

const TRANSPORTS_HERE: readonly Transport[] = ['tcp', 'ipc', 'inproc'];

export const BACKPRESSURE_PROPERTIES: PropertySpec[] = [
  {
    id: 'backpressure/pair0',
    family: 'backpressure',
    title: 'PAIR0 against a stalled peer: bounded queues, sends block or time out, nothing accepted is lost',
    protocols: ['pair0'],
    transports: TRANSPORTS_HERE,
    checks: BACKPRESSURE_CHECKS,
    faultKinds: STALL_FAULTS,
    sometimes: ['sp.queue-full', 'net.partial-write'],
    arb: ({ impl, transports }) =>
      backpressureArb({ pattern: 'pair0', impl, transports, name: 'backpressure/pair0' }),
  },
  {
    id: 'backpressure/reqrep',
    family: 'backpressure',
    title:
      'REQ/REP against a stalled REP: bounded queues, requests block or time out, every accepted one answered',
    protocols: ['req0', 'rep0'],
    transports: TRANSPORTS_HERE,
    checks: [...BACKPRESSURE_CHECKS, 'reqrep.one-reply-per-request'],
    faultKinds: STALL_FAULTS,
    sometimes: ['net.partial-write'],
    arb: ({ impl, transports }) =>
      backpressureArb({ pattern: 'reqrep', impl, transports, name: 'backpressure/reqrep' }),
  },
  {
    id: 'backpressure/rep-reply-queue',
    family: 'backpressure',
    title:
      "XREQ clients pipelining into a REP whose replies back up behind the clients' stalled reads: the per-pipe reply queue stays within WRITEQ-LEN, REP's send blocks (BEST-EFFORT drops only when full), every request is answered",
    protocols: ['xreq0', 'rep0'],
    transports: ['tcp', 'ipc'],
    checks: [...BACKPRESSURE_CHECKS, 'reqrep.one-reply-per-request', 'reqrep.all-answered'],
    faultKinds: [...STALL_FAULTS, 'reset'],
    sometimes: ['net.partial-write'],
    arb: ({ impl, transports }) => repReplyQueueArb({ impl, transports }),
  },
  PUBSUB_BACKPRESSURE_PROPERTY,
  {
    id: 'backpressure/pipeline',
    family: 'backpressure',
    title:
      'PUSH into stalled PULLs: bounded queues, sends block or time out (FAIL-NO-PEERS: ErrNoPeers), BEST-EFFORT drops only when full, PULL never drops',
    protocols: ['push0', 'pull0'],
    transports: TRANSPORTS_HERE,
    checks: PIPELINE_CHECKS,
    faultKinds: STALL_FAULTS,
    sometimes: ['sp.queue-full', 'net.partial-write'],
    arb: ({ impl, transports }) => pipelineArb({ impl, transports }),
  },
  {
    id: 'backpressure/pipeline-spread',
    family: 'backpressure',
    title: 'PUSH spreads its messages within one of even across equally fast PULLs',
    protocols: ['push0', 'pull0'],
    transports: TRANSPORTS_HERE,
    checks: [...PIPELINE_CHECKS, 'pipeline.even-spread'],
    faultKinds: [],
    sometimes: [],
    arb: ({ impl, transports }) => pipelineSpreadArb({ impl, transports }),
  },
  RAW_PIPELINE_PROPERTY,
];

export const BACKPRESSURE: FamilySpec = {
  name: 'backpressure',
  title:
    'backpressure: a stalled peer fills bounded queues; sends block, time out or (best effort) drop only when full',
  properties: BACKPRESSURE_PROPERTIES,
};
