/**
 * What every reference model reads: one socket incarnation's run as the models see it (its wire log,
 * the application's sends and receives of that incarnation, the options the semantics depend on),
 * built from a scenario's observations, and the small folds the models share. A model is a pure
 * function of these inputs (the inputs the run actually saw) that returns the first violation of
 * the protocol's semantics, or null: "compare observations, don't re-simulate". Isomorphic.
 * Spec facts (defaults) come from scenarios/sp/reference.ts, never from impl/sp/.
 */
import type { Observations, SocketObs } from '../checks.js';
import type { Scenario, SocketSpec } from '../model.js';
import { scenarioOption } from '../reference.js';
import type { ConnWrites, WireEvent } from './tap.js';

/** What the application's send became, as far as the semantics care. */
export interface SendView {
  /** The send may never go out: it failed (timeout, no peers, closed) or BEST-EFFORT dropped it at a full queue. */
  mayVanish: boolean;
  /** From when the message is certainly no longer waiting (its failure, or at once for a drop); null: it waits. */
  goneAtUs: number | null;
  /** The workload index of the message (SentRecord.index), when the application is a sender. */
  index?: number;
}

export interface RecvView {
  atUs: number;
  body: Uint8Array;
  pipe: number | null;
  /** Surveyors and requesters: the workload index the reply belongs to; requestId: the id it carried. */
  replyTo?: number;
  requestId?: number;
}

/** Option values a model needs (the scenario's, else the runner's, else the documented defaults). */
export interface ModelOptions {
  writeQ: number;
  readQ: number;
  bestEffort: boolean;
  ttl: number;
  polyamorous: boolean;
  /** RETRY-TIME (µs) of the socket, which its contexts share unless the application sets their own. */
  retryUs: number;
}

/** One incarnation of one socket, as a model reads it. */
export interface SocketRun {
  name: string;
  protocol: string;
  app: SocketSpec['app'];
  events: readonly WireEvent[];
  /** What the transport took of each of its connections (tcp, ipc), counted at write() and close(). */
  conns: readonly ConnWrites[];
  /** The workload index of this incarnation's first send (a restarted sender picks up where it left off). */
  firstSend: number;
  /** One entry per 'send' event of `events`, in order. */
  sends: readonly SendView[];
  /** What the application received in this incarnation, in order (sink, echo, requester, surveyor). */
  received: readonly RecvView[];
  options: ModelOptions;
  /** False when a later incarnation (a host restart) or a crash cut this one short. */
  ranToEnd: boolean;
}

/** A model: the first violation of the semantics in the run, or null. */
export type Model = (run: SocketRun) => string | null;

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** a ++ b (header and body as one wire payload). */
export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/** A short name for a message in a verdict: its size and its first word (the workload's tag). */
export function describe(b: Uint8Array): string {
  return b.length >= 4 ? `${b.length} B #${u32(b, 0).toString(16)}` : `${b.length} B`;
}

export function modelOptions(spec: SocketSpec): ModelOptions {
  return {
    writeQ: scenarioOption(spec, 'WRITEQ-LEN'),
    readQ: scenarioOption(spec, 'READQ-LEN'),
    bestEffort: scenarioOption(spec, 'BEST-EFFORT'),
    ttl: scenarioOption(spec, 'TTL'),
    polyamorous: scenarioOption(spec, 'POLYAMOROUS'),
    retryUs: scenarioOption(spec, 'RETRY-TIME'),
  };
}

/**
 * The runs of one socket, one per incarnation: its sends are matched to the workload's send records
 * in order (an application picks up where it left off after a restart), its receives by time.
 */
export function socketRuns(spec: SocketSpec, o: SocketObs, crashed: boolean): SocketRun[] {
  const runs: SocketRun[] = [];
  let sentCursor = 0;
  const options = modelOptions(spec);
  o.wire.forEach((log, k) => {
    if (log.truncated) return;
    const next = o.wire[k + 1];
    const firstSend = sentCursor;
    const sends: SendView[] = [];
    for (const e of log.events) {
      if (e.k !== 'send') continue;
      if (spec.app.kind !== 'send') {
        sends.push({ mayVanish: false, goneAtUs: null });
        continue;
      }
      const r = o.sent[sentCursor++];
      if (r === undefined) {
        sends.push({ mayVanish: true, goneAtUs: null });
        continue;
      }
      const dropped = options.bestEffort && r.queuedBefore >= options.writeQ;
      const failed = r.error !== null;
      sends.push({
        mayVanish: dropped || failed,
        goneAtUs: dropped ? r.atUs : failed ? (r.failedAtUs ?? null) : null,
        index: r.index,
      });
    }
    const until = next?.openedAtUs ?? Number.POSITIVE_INFINITY;
    const received = o.received.filter((r) => r.atUs >= log.openedAtUs && r.atUs < until);
    runs.push({
      name: spec.name,
      protocol: spec.protocol,
      app: spec.app,
      events: log.events,
      conns: log.conns,
      firstSend,
      sends,
      received,
      options,
      ranToEnd: next === undefined && !crashed,
    });
  });
  return runs;
}

/** Every socket's runs in a scenario run (crashed: the host of the socket crashed at some point). */
export function allRuns(
  s: Scenario,
  obs: Observations,
  crashedHost: (host: string) => boolean,
): { spec: SocketSpec; runs: SocketRun[] }[] {
  return s.sockets.map((spec) => {
    const o = obs.sockets[spec.name];
    return { spec, runs: o === undefined ? [] : socketRuns(spec, o, crashedHost(spec.host)) };
  });
}

/**
 * Pipes as the socket saw them: attached and not yet detached. `attached` answers for the moment
 * of the event being folded; the model calls `apply` for every event in order.
 */
export class PipeSet {
  readonly live = new Set<number>();
  apply(e: WireEvent): void {
    if (e.k === 'attach') this.live.add(e.pipe);
    else if (e.k === 'detach') this.live.delete(e.pipe);
  }
}

/**
 * What every protocol must respect: a message goes out only on a pipe that is attached, and a pipe
 * is attached at most once at a time. (Frames may still arrive from a pipe the protocol refused or
 * that is going away; the receive models ignore those.)
 */
export function pipeDiscipline(run: SocketRun): string | null {
  const pipes = new PipeSet();
  for (const e of run.events) {
    if (e.k === 'attach' && pipes.live.has(e.pipe)) return `pipe ${e.pipe} attached twice`;
    if (e.k === 'out' && !pipes.live.has(e.pipe))
      return `sent ${describe(e.body)} on pipe ${e.pipe} at ${e.t} µs, which is not attached`;
    pipes.apply(e);
  }
  return null;
}

/**
 * Tracks whether each attached pipe is idle (can take a message: told ready since its last send,
 * or ready right after it) and since when (event index).
 */
export class Readiness {
  readonly idleSince = new Map<number, number>();
  readonly lastOut = new Map<number, number>();
  apply(e: WireEvent, i: number): void {
    if (e.k === 'attach') this.lastOut.set(e.pipe, -1);
    else if (e.k === 'detach') {
      this.idleSince.delete(e.pipe);
      this.lastOut.delete(e.pipe);
    } else if (e.k === 'ready') {
      if (this.lastOut.has(e.pipe) && !this.idleSince.has(e.pipe)) this.idleSince.set(e.pipe, i);
    } else if (e.k === 'out') {
      this.lastOut.set(e.pipe, i);
      if (e.readyAfter) this.idleSince.set(e.pipe, i);
      else this.idleSince.delete(e.pipe);
    }
  }
  idle(pipe: number): boolean {
    return this.idleSince.has(pipe);
  }
  anyIdle(): number | undefined {
    for (const p of this.idleSince.keys()) return p;
    return undefined;
  }
}

/**
 * The receive side of a protocol whose pipes pause instead of dropping (PULL, PAIR, BUS): what the
 * application got is exactly what arrived, in arrival order across pipes, each once and intact
 * (`appBody` reads the application's body out of an arrival; undefined: the protocol must drop it),
 * and, when the run ended calmly, everything that arrived was delivered.
 */
export function deliveredAsArrived(
  run: SocketRun,
  appBody: (e: Extract<WireEvent, { k: 'in' }>) => Uint8Array | undefined,
): string | null {
  if (run.app.kind !== 'sink' && run.app.kind !== 'echo') return null;
  const arrived: { body: Uint8Array; pipe: number; t: number }[] = [];
  let closed = false;
  const pipes = new PipeSet();
  for (const e of run.events) {
    pipes.apply(e);
    if (e.k === 'close') closed = true;
    // A refused pipe's late frames are dropped, never delivered.
    if (e.k !== 'in' || !pipes.live.has(e.pipe)) continue;
    const body = appBody(e);
    if (body !== undefined) arrived.push({ body, pipe: e.pipe, t: e.t });
  }
  for (let i = 0; i < run.received.length; i++) {
    const got = run.received[i]!;
    const want = arrived[i];
    if (want === undefined)
      return `the application got ${describe(got.body)} (#${i}) at ${got.atUs} µs, but only ${arrived.length} messages arrived`;
    if (!sameBytes(got.body, want.body) || (got.pipe !== null && got.pipe !== want.pipe))
      return `the application's message #${i} was ${describe(got.body)} from pipe ${got.pipe ?? '?'}, but the #${i} to arrive was ${describe(want.body)} from pipe ${want.pipe} at ${want.t} µs (lost, duplicated, reordered or corrupted)`;
  }
  if (run.ranToEnd && !closed && arrived.length > run.received.length) {
    const lost = arrived[run.received.length]!;
    return `${describe(lost.body)} arrived from pipe ${lost.pipe} at ${lost.t} µs and was never delivered (${arrived.length - run.received.length} left undelivered)`;
  }
  return null;
}
