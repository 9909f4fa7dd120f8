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
  Readiness,
  deliveredAsArrived,
  describe,
  pipeDiscipline,
  sameBytes,
  u32,
  type SocketRun,
} from './core.js';
import { topicMatches } from '../reference.js';

/** A 4-byte XBUS header: the id of the pipe the message came from (4 bytes). */
const PIPE_ID_BYTES = 4;

export function fanoutSender(run: SocketRun, skipOrigin: boolean): string | null {
  const bad = pipeDiscipline(run);
  if (bad !== null) return bad;
  const ready = new Readiness();
  /** Per pipe: messages offered, not gone out yet, and how many of them it may lose (its queue was full). */
  const queues = new Map<number, { msgs: { body: Uint8Array; index: number }[]; mayLose: number }>();
  let closed = false;
  let sendIndex = 0;
  const cap = run.options.writeQ;
  const events = run.events;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (e.k === 'attach') queues.set(e.pipe, { msgs: [], mayLose: 0 });
    else if (e.k === 'detach') queues.delete(e.pipe);
    else if (e.k === 'close') closed = true;
    else if (e.k === 'send') {
      const origin = skipOrigin && e.header.length === PIPE_ID_BYTES ? u32(e.header, 0) : undefined;
      for (const [pipe, q] of queues) {
        if (pipe === origin) continue;
        q.msgs.push({ body: e.body, index: sendIndex });
        // The one in flight has gone out already: what is left must fit in the queue.
        if (q.msgs.length - q.mayLose > cap) q.mayLose++;
      }
      sendIndex++;
    } else if (e.k === 'out') {
      if (!ready.idle(e.pipe))
        return `sent ${describe(e.body)} on pipe ${e.pipe} at ${e.t} µs while that pipe was still busy with its last message`;
      const q = queues.get(e.pipe)!;
      const at = q.msgs.findIndex((m) => sameBytes(m.body, e.body));
      if (at < 0)
        return `sent ${describe(e.body)} on pipe ${e.pipe} at ${e.t} µs, which was not sent for that pipe or went out on it already (duplicate, relayed, echoed to its origin, or corrupted)`;
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

export function pubModel(run: SocketRun): string | null {
  if (run.protocol !== 'pub0' && run.protocol !== 'xpub0') return null;
  return fanoutSender(run, false);
}

export function busModel(run: SocketRun): string | null {
  if (run.protocol !== 'bus0' && run.protocol !== 'xbus0') return null;
  return fanoutSender(run, run.protocol === 'xbus0') ?? deliveredAsArrived(run, (e) => e.body);
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
