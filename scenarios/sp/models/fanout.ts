/**
 * The reference models of the fan-out senders, PUB0 and BUS0 (and XPUB0, XBUS0), sp.md §3: each
 * message the application sends goes to every pipe attached at that moment (an XBUS send whose
 * header is exactly a 4-byte pipe id skips that pipe: no echo to the origin), through the pipe's own
 * queue of WRITEQ-LEN messages; on each pipe the messages go out in the order sent, each at most
 * once, and a message is missing only where the pipe's queue was full when it came (which one the
 * full queue loses, the oldest or the new, is the implementation's choice: the model accepts both),
 * or because the pipe went away; a pipe is never left idle while its queue holds a message. A
 * cooked BUS never relays: nothing goes out that its application did not send. BUS receiving is the
 * pausing kind (see deliveredAsArrived). SUB is below: it filters by topic and drops at a full queue.
 */
import {
  PipeSet,
  concat,
  Readiness,
  deliveredAsArrived,
  describe,
  pipeDiscipline,
  sameBytes,
  u32,
  type SocketRun,
} from './core.js';
import type { WireEvent } from './tap.js';
import { topicMatches } from '../reference.js';

/** A 4-byte XBUS header: the id of the pipe the message came from (4 bytes). */
const PIPE_ID_BYTES = 4;

/**
 * A message the socket must offer to its pipes: its wire bytes, to every pipe but `skip`, or only
 * to pipe `to` ('first': the longest-attached live pipe; a pipe that is gone: to none).
 */
export interface Offer {
  wire: Uint8Array;
  skip?: number;
  to?: number | 'first';
}

/**
 * The fan-out sender: `offersOf` says what an event makes the socket offer to every attached pipe
 * (a send, for STAR also a forwarded arrival), `outWire` what an 'out' event put on the wire.
 */
export function fanoutSender(
  run: SocketRun,
  offersOf: (e: WireEvent) => Offer[],
  outWire: (e: Extract<WireEvent, { k: 'out' }>) => Uint8Array = (e) => e.body,
): string | null {
  const bad = pipeDiscipline(run);
  if (bad !== null) return bad;
  const ready = new Readiness();
  /** Per pipe: messages offered, not gone out yet, and how many of them it may lose (its queue was full). */
  const queues = new Map<number, { msgs: { wire: Uint8Array; index: number }[]; mayLose: number }>();
  const pipes = new PipeSet();
  let closed = false;
  let offerIndex = 0;
  const cap = run.options.writeQ;
  const events = run.events;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (e.k === 'attach') queues.set(e.pipe, { msgs: [], mayLose: 0 });
    else if (e.k === 'detach') queues.delete(e.pipe);
    else if (e.k === 'close') closed = true;
    // Frames from a pipe the socket refused or is dropping make no offers.
    if (e.k !== 'in' || pipes.live.has(e.pipe))
      for (const offer of offersOf(e)) {
        const only = offer.to === 'first' ? queues.keys().next().value : offer.to;
        for (const [pipe, q] of queues) {
          if (pipe === offer.skip || (offer.to !== undefined && pipe !== only)) continue;
          q.msgs.push({ wire: offer.wire, index: offerIndex });
          // The one in flight has gone out already: what is left must fit in the queue.
          if (q.msgs.length - q.mayLose > cap) q.mayLose++;
        }
        offerIndex++;
      }
    pipes.apply(e);
    if (e.k === 'out') {
      const wire = outWire(e);
      if (!ready.idle(e.pipe))
        return `sent ${describe(wire)} on pipe ${e.pipe} at ${e.t} µs while that pipe was still busy with its last message`;
      const q = queues.get(e.pipe)!;
      const at = q.msgs.findIndex((m) => sameBytes(m.wire, wire));
      if (at < 0)
        return `sent ${describe(wire)} on pipe ${e.pipe} at ${e.t} µs, which was not offered to that pipe or went out on it already (duplicate, relayed, echoed to its origin, a wrong hop count, or corrupted)`;
      if (at > q.mayLose)
        return `pipe ${e.pipe} got message #${q.msgs[at]!.index} at ${e.t} µs but lost #${q.msgs[0]!.index} before it, though its queue (WRITEQ-LEN ${cap}) was not full`;
      q.mayLose -= at;
      q.msgs.splice(0, at + 1);
    } else if (e.k === 'step' && !closed) {
      for (const [pipe, q] of queues)
        if (q.msgs.length > q.mayLose && ready.idle(pipe))
          return `pipe ${pipe} was idle at ${e.t} µs while message #${q.msgs[0]!.index} waited for it (a subscriber skipped)`;
    }
    ready.apply(e, i);
  }
  return null;
}

/** PUB, BUS: each application send is offered to every pipe (XBUS: but its origin, named by a 4-byte header). */
export function sendOffers(skipOrigin: boolean): (e: WireEvent) => Offer[] {
  return (e) => {
    if (e.k !== 'send') return [];
    const origin = skipOrigin && e.header.length === PIPE_ID_BYTES ? u32(e.header, 0) : undefined;
    return [{ wire: e.body, ...(origin !== undefined ? { skip: origin } : {}) }];
  };
}

export function pubModel(run: SocketRun): string | null {
  if (run.protocol !== 'pub0' && run.protocol !== 'xpub0') return null;
  return fanoutSender(run, sendOffers(false));
}

export function busModel(run: SocketRun): string | null {
  if (run.protocol !== 'bus0' && run.protocol !== 'xbus0') return null;
  return fanoutSender(run, sendOffers(run.protocol === 'xbus0')) ?? deliveredAsArrived(run, (e) => e.body);
}

/**
 * SUB0 (sp.md §3): the application gets only messages that matched a topic it was subscribed to
 * when they arrived (the subscribe and unsubscribe calls are in the log, in order), in arrival
 * order, each once and intact; a matching message may be missing only because the receive queue
 * (READQ-LEN) was full when it came (one lost per overflow, the oldest or the new), because an
 * unsubscribe purged it (then it is never delivered afterwards), or because the socket closed.
 * XSUB: everything matches.
 */
export function subModel(run: SocketRun): string | null {
  if (run.protocol !== 'sub0' && run.protocol !== 'xsub0') return null;
  if (run.app.kind !== 'sink') return null;
  const raw = run.protocol === 'xsub0';
  const cap = run.options.readQ;
  let topics: Uint8Array[] = [];
  const matches = (body: Uint8Array): boolean => raw || topics.some((t) => topicMatches(body, t));
  const pipes = new PipeSet();
  /** Matching arrivals not delivered yet; purgedAtUs: an unsubscribe dropped it then. */
  const queue: { body: Uint8Array; t: number; purgedAtUs: number | null }[] = [];
  let mayLose = 0;
  let r = 0;
  const received = run.received;
  /** The receives before `t` take from the queue, in order. */
  const deliverUpTo = (t: number): string | null => {
    while (r < received.length && received[r]!.atUs < t) {
      const got = received[r]!;
      const at = queue.findIndex((m) => sameBytes(m.body, got.body));
      if (at < 0)
        return `the application got ${describe(got.body)} at ${got.atUs} µs, which matched no subscription when it arrived, or was delivered already (not subscribed, duplicated or corrupted)`;
      const hit = queue[at]!;
      if (hit.purgedAtUs !== null && hit.purgedAtUs < got.atUs)
        return `the application got ${describe(got.body)} at ${got.atUs} µs, though the unsubscribe at ${hit.purgedAtUs} µs purged it`;
      const lost = queue.slice(0, at).filter((m) => m.purgedAtUs === null);
      if (lost.length > mayLose)
        return `the application got ${describe(got.body)} at ${got.atUs} µs, but ${describe(lost[0]!.body)} (arrived at ${lost[0]!.t} µs, subscribed) was lost before it though the receive queue (READQ-LEN ${cap}) was not full`;
      mayLose -= lost.length;
      queue.splice(0, at + 1);
      r++;
    }
    return null;
  };
  for (const e of run.events) {
    pipes.apply(e);
    if (e.k === 'subscribe') {
      if (!topics.some((t) => sameBytes(t, e.topic))) topics.push(e.topic);
    } else if (e.k === 'unsubscribe') {
      const bad = deliverUpTo(e.t);
      if (bad !== null) return bad;
      topics = topics.filter((t) => !sameBytes(t, e.topic));
      for (const m of queue) if (m.purgedAtUs === null && !matches(m.body)) m.purgedAtUs = e.t;
    } else if (e.k === 'in' && pipes.live.has(e.pipe)) {
      const bad = deliverUpTo(e.t);
      if (bad !== null) return bad;
      if (!matches(e.body)) continue;
      queue.push({ body: e.body, t: e.t, purgedAtUs: null });
      // Receives of this very instant are not counted off yet: the model's queue is never shorter
      // than the socket's, so it credits every real overflow (and perhaps a few more).
      const live = queue.filter((m) => m.purgedAtUs === null).length;
      if (live - mayLose > cap) mayLose++;
    }
  }
  return deliverUpTo(Number.POSITIVE_INFINITY);
}

/** A STAR hop count: the first 4 bytes of a frame, top three 0 (sp.md §3 STAR); undefined: none. */
function hopCount(wire: Uint8Array): number | undefined {
  if (wire.length < 4 || wire[0] !== 0 || wire[1] !== 0 || wire[2] !== 0) return undefined;
  return wire[3];
}

const HOP_ZERO = Uint8Array.of(0, 0, 0, 0);

/**
 * STAR and XSTAR (mangos only; sp.md §3 "bus + automatic forwarding of every received message to
 * all other pipes; header = hop count (bytes 0-2 must be 0), drop if hop >= ttl (8), incremented per
 * hop"): the BUS sender's per-pipe queues, offered every application send (cooked: hop count 0 on
 * the wire; raw: the application's own 4-byte hop count, a send without one is discarded) and every
 * valid arrival below TTL, with its hop count plus one, to every pipe but the one it came on. The
 * application gets those same arrivals (without the hop count), in arrival order (the pausing kind).
 * Arrivals without a hop count, or at TTL, are neither forwarded nor delivered.
 */
export function starModel(run: SocketRun): string | null {
  if (run.protocol !== 'star' && run.protocol !== 'xstar') return null;
  const raw = run.protocol === 'xstar';
  const ttl = run.options.ttl;
  /** An arrival's payload after its hop count, with the hop count it goes on with; undefined: dropped. */
  const onward = (e: Extract<WireEvent, { k: 'in' }>): { hop: number; rest: Uint8Array } | undefined => {
    const wire = concat(e.header, e.body);
    const hop = hopCount(wire);
    return hop === undefined || hop >= ttl ? undefined : { hop: hop + 1, rest: wire.subarray(4) };
  };
  const offers = (e: WireEvent): Offer[] => {
    if (e.k === 'send') {
      if (!raw) return [{ wire: concat(HOP_ZERO, e.body) }];
      return e.header.length === 4 && hopCount(e.header) !== undefined
        ? [{ wire: concat(e.header, e.body) }]
        : [];
    }
    if (e.k !== 'in') return [];
    const on = onward(e);
    return on === undefined ? [] : [{ wire: concat(Uint8Array.of(0, 0, 0, on.hop), on.rest), skip: e.pipe }];
  };
  return (
    fanoutSender(run, offers, (e) => concat(e.header, e.body)) ??
    deliveredAsArrived(run, (e) => onward(e)?.rest)
  );
}
