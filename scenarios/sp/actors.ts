/**
 * The SP stack's scenario actors: on each scenario host, the SP sockets (with their options,
 * listeners and dialers, and the application the scenario gives them: send, sink, echo, device) and
 * the raw byte-level peers, with everything they do recorded as observations for the checks. The
 * engine's runner (scenarios/runner.ts) boots them on the hosts of a substrate and drives the run.
 * Implementation variants (the museum, test doubles) swap parts of a socket in (`registerImpl`).
 * Isomorphic (no Node APIs): the browser viewer reruns scenarios with it.
 */
import type {
  ConnectCallback,
  ConnectOptions,
  ConnHandlers,
  Env,
  StreamConn,
  TraceInput,
} from '../../impl/runtime/env.js';
import { fromHex, readU32 } from '../../impl/runtime/bytes.js';
import { ForwardingEnv } from '../../impl/runtime/env.js';
import type { Allocator } from '../../impl/sp/wire/frames.js';
import type { Socket, SocketOptions } from '../../impl/sp/core/socket.js';
import type { OptionValues } from '../../impl/sp/options.js';
import { openBus0, openXBus0 } from '../../impl/sp/protocol/bus.js';
import { openPair0, openXPair0 } from '../../impl/sp/protocol/pair0.js';
import {
  openPub0,
  openSub0,
  openXPub0,
  openXSub0,
  pub0Stats,
  sub0Stats,
  subscribe,
  unsubscribe,
} from '../../impl/sp/protocol/pubsub.js';
import { openPull0, openPush0, openXPull0, openXPush0 } from '../../impl/sp/protocol/pipeline.js';
import { openPair1, openXPair1 } from '../../impl/sp/protocol/pair1.js';
import { device } from '../../impl/sp/core/device.js';
import { openXRep0, openXReq0 } from '../../impl/sp/protocol/raw-reqrep.js';
import { openStar, openXStar } from '../../impl/sp/protocol/star.js';
import { openRep0, rep0Stats } from '../../impl/sp/protocol/rep0.js';
import { encodeU32, openReq0, req0Stats } from '../../impl/sp/protocol/req0.js';
import {
  openRespondent0,
  openSurveyor0,
  openXRespondent0,
  openXSurveyor0,
} from '../../impl/sp/protocol/survey.js';
import { runtimeAddress, parseSpUrl } from '../../impl/sp/transport/url.js';
import type { CheckContext as EngineCheckContext, ImplInfo, StackRun } from '../stack.js';
import type { CheckContext, DialRecord, Observations, RawPeerObs, SocketObs } from './checks.js';
import type { RawPeerSpec, Scenario, ScenarioProtocol, SocketSpec } from './model.js';

/** Opens a socket of a protocol with the given parts (the museum may open a subclass instead). */
export type SocketOpener = (env: Env, options: SocketOptions) => Socket;

export const OPENERS: Record<ScenarioProtocol, SocketOpener> = {
  pair0: openPair0,
  req0: openReq0,
  rep0: openRep0,
  xreq0: openXReq0,
  xrep0: openXRep0,
  surveyor0: openSurveyor0,
  respondent0: openRespondent0,
  pub0: openPub0,
  sub0: openSub0,
  push0: openPush0,
  pull0: openPull0,
  pair1: openPair1,
  bus0: openBus0,
  star: openStar,
  xpair0: openXPair0,
  xpair1: openXPair1,
  xpub0: openXPub0,
  xsub0: openXSub0,
  xpush0: openXPush0,
  xpull0: openXPull0,
  xbus0: openXBus0,
  xstar: openXStar,
  xsurveyor0: openXSurveyor0,
  xrespondent0: openXRespondent0,
};

/** Raw protocols whose sends carry a 4-byte hop count: a raw sender starts it at 0. */
const HOP_COUNT_SENDERS: ReadonlySet<ScenarioProtocol> = new Set(['xpair1', 'xstar']);

/** Protocols whose received header ends with a request or survey id (recorded as requestId). */
const ID_HEADER_RECEIVERS: ReadonlySet<ScenarioProtocol> = new Set([
  'rep0',
  'xrep0',
  'respondent0',
  'xrespondent0',
]);

/** What an implementation variant changes for one scenario socket. */
export interface SocketParts {
  /** Injected parts (frame decoder, backoff policy, connection wrapper...). */
  socketOptions?: Partial<SocketOptions>;
  /** Option values forced over the scenario's (e.g. a handshake timeout that never fires). */
  options?: Partial<OptionValues>;
  /** Opens the socket instead of the protocol's own opener (a protocol subclass). */
  open?: SocketOpener;
}

/**
 * An implementation under test: netlab itself, or a museum variant composed from the real stack
 * through its injection points. `family` names the invariant family meant to catch it.
 */
export interface ImplVariant extends ImplInfo {
  /** Parts for one socket of the scenario (undefined: the real stack unchanged). */
  socket?(spec: SocketSpec): SocketParts | undefined;
}

const IMPLS = new Map<string, ImplVariant>([
  ['netlab', { summary: 'netlab as built: the real stack, nothing swapped', family: null }],
]);

export function registerImpl(name: string, variant: ImplVariant): void {
  if (!/^[a-z0-9][a-z0-9/_.-]*$/.test(name)) throw new Error(`bad implementation name '${name}'`);
  IMPLS.set(name, variant);
}

/** Every implementation name: netlab first, then the variants in registration order. */
export function implNames(): string[] {
  return [...IMPLS.keys()];
}

export function implVariant(name: string): ImplVariant | undefined {
  return IMPLS.get(name);
}

/**
 * Deterministic payload of message `index` of the socket with position `socketIndex` in the
 * scenario: its content names both, so corruption, reordering and cross-talk show.
 */
export function payload(socketIndex: number, index: number, bytes: number): Uint8Array {
  const b = new Uint8Array(bytes);
  const seed = socketIndex * 4099 + index;
  for (let i = 0; i < bytes; i++) b[i] = (seed * 131 + i * 7 + (i >>> 8) + (seed >>> 8)) & 0xff;
  // Messages of 4 bytes or more carry their identity in the first four (a big-endian word).
  if (bytes >= 4) {
    const tag = ((socketIndex & 0xff) << 24) | (index & 0xffffff);
    b[0] = tag >>> 24;
    b[1] = (tag >>> 16) & 0xff;
    b[2] = (tag >>> 8) & 0xff;
    b[3] = tag & 0xff;
  }
  return b;
}

/**
 * The most one allocation in a scenario may take (64 MiB, far above any legitimate frame: workload
 * messages are at most 1 MiB). A larger request fails as an exhausted heap would (RangeError) after
 * it is recorded, so a planted allocation bug shows in the observations without taking the memory
 * of the machine running the lab.
 */
export const SIM_HEAP_BYTES = 64 * 1024 * 1024;

/** Defaults every scenario socket starts from (then its own options, then the variant's). */
export const SCENARIO_SOCKET_DEFAULTS: Partial<OptionValues> = {
  'RECONNECT-TIME': 50_000,
  'DIAL-ASYNCH': true,
  'MAX-RCV-SIZE': 0,
};

function newSocketObs(spec: SocketSpec): SocketObs {
  return {
    name: spec.name,
    host: spec.host,
    protocol: spec.protocol,
    sent: [],
    received: [],
    dials: [],
    pipes: [],
    reqSends: [],
    endpoints: { connections: 0, attached: 0, badHandshakes: 0, rejected: 0, badFrames: 0 },
    req: spec.protocol === 'req0' ? { sends: 0, resends: 0, droppedReplies: 0 } : null,
    strayReplies: 0,
    maxReplyQueue: 0,
    closedAtUs: null,
    maxSendQ: 0,
    maxRecvQ: 0,
    maxAllocBytes: 0,
    badAllocRequests: 0,
    errors: [],
    opened: 0,
    doneAtUs: null,
    ...(spec.protocol === 'pub0' || spec.protocol === 'sub0'
      ? { pubsub: { pipes: [], maxQueued: 0, droppedFull: 0, purged: 0, unsubscribedAfter: null } }
      : {}),
  };
}

/** What a TappedEnv records. */
interface EnvTaps {
  /** A connect attempt starts: returns its record, which the tap completes (end, connected). */
  connect(address: string): DialRecord;
  /**
   * Sees every trace event of the socket (tracing is then on for it); the event still reaches the
   * world's trace only when that traces.
   */
  trace?(event: TraceInput): void;
}

/** A connection whose end (closed by either side) is noted in its dial record. */
class TappedConn implements StreamConn {
  constructor(
    private readonly conn: StreamConn,
    private readonly ended: () => void,
  ) {}
  get id(): number {
    return this.conn.id;
  }
  get localAddress(): string {
    return this.conn.localAddress;
  }
  get remoteAddress(): string {
    return this.conn.remoteAddress;
  }
  get state(): StreamConn['state'] {
    return this.conn.state;
  }
  setHandlers(handlers: ConnHandlers): void {
    this.conn.setHandlers({
      ...handlers,
      onClose: (error) => {
        this.ended();
        handlers.onClose?.(error);
      },
    });
  }
  write(bytes: Uint8Array): number {
    return this.conn.write(bytes);
  }
  pauseReading(): void {
    this.conn.pauseReading();
  }
  resumeReading(): void {
    this.conn.resumeReading();
  }
  shutdown(): void {
    this.conn.shutdown();
  }
  close(): void {
    this.ended();
    this.conn.close();
  }
  reset(): void {
    this.ended();
    this.conn.reset();
  }
}

/**
 * The host's env with connect() recorded (the redial family measures attempts, their ends and the
 * gaps between them) and, for sockets that need it, the trace tapped (REQ request ids).
 */
class TappedEnv extends ForwardingEnv {
  constructor(
    env: Env,
    private readonly taps: EnvTaps,
  ) {
    super(env);
  }
  override get tracing(): boolean {
    return this.taps.trace !== undefined || this.inner.tracing;
  }
  override connect(address: string, callback: ConnectCallback, options?: ConnectOptions): void {
    const rec = this.taps.connect(address);
    const ended = (): void => {
      rec.endUs ??= this.inner.nowUs();
    };
    this.inner.connect(
      address,
      (err, conn) => {
        if (conn === undefined) {
          ended();
          callback(err, conn);
          return;
        }
        rec.connected = true;
        callback(err, new TappedConn(conn, ended));
      },
      options,
    );
  }
  override trace(event: TraceInput): void {
    this.taps.trace?.(event);
    if (this.inner.tracing) this.inner.trace(event);
  }
}

/** The stable code of a stack error (SpError.code, e.g. "ErrSendTimeout"), or null for others. */
function errorCode(e: unknown): string | null {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : null;
}

/** The first word of an XREQ reply's header: the request id it answers (undefined if shorter). */
function firstWord(header: Uint8Array): number | undefined {
  return header.length < 4 ? undefined : readU32(header, 0);
}

/** The top bit of a request id word: set on the last word of a backtrace. */
const REQUEST_ID_BIT = 0x80000000;

/** The request id a REQ/REP header ends with, as a RecvRecord field (none if shorter than a word). */
function lastWord(header: Uint8Array): { requestId?: number } {
  return header.length < 4 ? {} : { requestId: readU32(header, header.length - 4) };
}

/**
 * The actors of one SP scenario for an implementation variant (StackCore.start): the engine boots them on
 * each host, runs the substrate, then calls finish() and evaluates the checks on the observations.
 */
export function startSpActors(
  scenario: Scenario,
  variant: ImplVariant,
): StackRun<Observations, CheckContext> {
  const obs: Observations = { sockets: {}, raw: {}, crash: null };
  const socketIndex = new Map<string, number>();
  scenario.sockets.forEach((s, i) => {
    obs.sockets[s.name] = newSocketObs(s);
    socketIndex.set(s.name, i);
  });
  const sizes = new Map<string, number[]>();
  const gaps = new Map<string, number[]>();
  for (const w of scenario.workload.sends) {
    if (!sizes.has(w.socket)) {
      sizes.set(w.socket, []);
      gaps.set(w.socket, []);
    }
    sizes.get(w.socket)!.push(w.bytes);
    gaps.get(w.socket)!.push(w.gapUs);
  }
  const payloads = new Map<string, Uint8Array>();
  const payloadOf = (socket: string, index: number): Uint8Array => {
    const key = `${socket}#${index}`;
    let p = payloads.get(key);
    if (p === undefined) {
      p = payload(socketIndex.get(socket) ?? 0, index, sizes.get(socket)?.[index] ?? 0);
      payloads.set(key, p);
    }
    return p;
  };

  /** Device sockets open now, by name (a device starts when both of its sockets are open). */
  const deviceSockets = new Map<string, Socket>();

  const runSocket = async (spec: SocketSpec, env: Env): Promise<void> => {
    const o = obs.sockets[spec.name]!;
    if (spec.startUs > env.nowUs()) await env.sleep(spec.startUs - env.nowUs());
    o.opened++;
    const parts = variant.socket?.(spec) ?? {};
    const allocator: Allocator = {
      alloc(bytes) {
        if (!Number.isInteger(bytes) || bytes < 0) {
          o.badAllocRequests++;
          throw new RangeError(`Allocator.alloc(${bytes}): not a byte count`);
        }
        if (bytes > o.maxAllocBytes) o.maxAllocBytes = bytes;
        if (bytes > SIM_HEAP_BYTES)
          throw new RangeError(
            `Allocator.alloc(${bytes}): beyond the simulated heap (${SIM_HEAP_BYTES} bytes)`,
          );
        return new Uint8Array(bytes);
      },
    };
    let pipesNow: () => number[] = () => [];
    const tapped = new TappedEnv(env, {
      connect(address) {
        const rec: DialRecord = { atUs: env.nowUs(), address, endUs: null, connected: false };
        o.dials.push(rec);
        return rec;
      },
      // REQ transmissions with their request ids (req0 traces each one as a msg-send).
      ...(spec.protocol === 'req0'
        ? {
            trace(event: TraceInput) {
              if (event.kind !== 'msg-send' || event.proto !== 'req0') return;
              const id = event.fields.find((f) => f.name === 'request-id')?.value;
              const now = pipesNow();
              if (typeof id === 'number')
                o.reqSends.push({
                  atUs: env.nowUs(),
                  id,
                  pipe: now.length === 1 ? now[0]! : null,
                  request: o.sent.length - 1,
                });
            },
          }
        : {}),
    });
    const open = parts.open ?? OPENERS[spec.protocol];
    const s = open(tapped, {
      allocator,
      ...parts.socketOptions,
      options: { ...SCENARIO_SOCKET_DEFAULTS, ...spec.options, ...parts.options },
    });
    pipesNow = () => [...s.pipes.keys()];
    if (spec.closeAtUs !== undefined) {
      const close = (): void => {
        o.closedAtUs ??= env.nowUs();
        s.close().catch((e: unknown) => o.errors.push(`close: ${(e as Error).message}`));
      };
      // Reopened after its close time (a host restart): closed again before it dials or listens.
      if (spec.closeAtUs <= env.nowUs()) {
        close();
        return;
      }
      env.setTimer(spec.closeAtUs - env.nowUs(), close, 'scenario-close');
    }
    /** This incarnation's PUB/SUB pipe records (pipe ids may be reused by a later incarnation). */
    const pubsubPipes: NonNullable<SocketObs['pubsub']>['pipes'] = [];
    s.setPipeEventHook((event, pipe) => {
      o.pipes.push({ atUs: env.nowUs(), event, pipe: pipe.id });
      if (o.pubsub === undefined) return;
      if (event === 'attached') {
        const rec = {
          pipe: pipe.id,
          localAddress: pipe.localAddress,
          remoteAddress: pipe.remoteAddress,
          attachedAtUs: env.nowUs(),
          detachedAtUs: null,
          droppedFull: 0,
        };
        pubsubPipes.push(rec);
        o.pubsub.pipes.push(rec);
      } else if (event === 'detached') {
        const rec = pubsubPipes.find((p) => p.pipe === pipe.id && p.detachedAtUs === null);
        if (rec !== undefined) rec.detachedAtUs = env.nowUs();
      }
    });
    if (o.pubsub !== undefined && spec.protocol === 'sub0') {
      // Subscriptions are applied at open; the unsubscribe at its time (at once on a reopen after it).
      const ps = o.pubsub;
      const gone = new Set(spec.app.unsubscribe ?? []);
      const late = spec.app.unsubscribeAtUs !== undefined && spec.app.unsubscribeAtUs <= env.nowUs();
      for (const t of spec.app.subscribe ?? []) if (!(late && gone.has(t))) subscribe(s, fromHex(t));
      if (late) ps.unsubscribedAfter ??= o.received.length;
      else if (spec.app.unsubscribeAtUs !== undefined)
        env.setTimer(
          spec.app.unsubscribeAtUs - env.nowUs(),
          () => {
            if (s.closed) return;
            for (const t of gone) unsubscribe(s, fromHex(t));
            ps.unsubscribedAfter ??= o.received.length;
          },
          'scenario-unsubscribe',
        );
    }
    const endpoints: { stats: SocketObs['endpoints'] }[] = [];
    const sample = (): void => {
      if (s.sendQ.length > o.maxSendQ) o.maxSendQ = s.sendQ.length;
      if (s.recvQ.length > o.maxRecvQ) o.maxRecvQ = s.recvQ.length;
    };
    // The queues grow only in send (sampled right after each call below), in refillSendQ (waiting
    // senders move in) and when a pipe delivers (deliver / enqueueReceived): sampling after each of
    // these, on this instance, sees every peak, not just the states the application happens to see.
    const refill = s.refillSendQ.bind(s);
    s.refillSendQ = () => {
      refill();
      sample();
    };
    const deliver = s.deliver.bind(s);
    s.deliver = (pipe, msg) => {
      deliver(pipe, msg);
      sample();
    };
    const enqueue = s.enqueueReceived.bind(s);
    s.enqueueReceived = (pipe, msg) => {
      enqueue(pipe, msg);
      sample();
    };
    // Counters are read at the end of the run, from every incarnation's endpoints.
    finalizers.push(() => {
      for (const e of endpoints)
        for (const k of Object.keys(o.endpoints) as (keyof SocketObs['endpoints'])[])
          o.endpoints[k] += e.stats[k];
      const rs = req0Stats(s);
      if (rs !== undefined && o.req !== null) {
        o.req.sends += rs.sends;
        o.req.resends += rs.resends;
        o.req.droppedReplies += rs.droppedReplies;
      }
      const reps = rep0Stats(s);
      if (reps !== undefined) o.maxReplyQueue = Math.max(o.maxReplyQueue, reps.maxQueuedReplies);
      const pubs = pub0Stats(s);
      if (pubs !== undefined && o.pubsub !== undefined) {
        o.pubsub.maxQueued = Math.max(o.pubsub.maxQueued, pubs.maxQueued);
        for (const p of pubsubPipes) p.droppedFull = pubs.droppedFullByPipe.get(p.pipe) ?? 0;
      }
      const subs = sub0Stats(s);
      if (subs !== undefined && o.pubsub !== undefined) {
        o.pubsub.maxQueued = Math.max(o.pubsub.maxQueued, subs.maxQueued);
        o.pubsub.droppedFull += subs.droppedFull;
        o.pubsub.purged += subs.purged;
      }
    });
    for (const a of spec.listen) {
      const l = s.newListener(a);
      endpoints.push(l);
      try {
        await l.listen();
      } catch (e) {
        o.errors.push(`listen ${a}: ${(e as Error).message}`);
      }
    }
    for (const a of spec.dial) {
      const d = s.newDialer(a);
      endpoints.push(d);
      d.dial().catch((e: unknown) => o.errors.push(`dial ${a}: ${(e as Error).message}`));
    }
    const app = spec.app;
    const recvPause = async (): Promise<void> => {
      if (app.recvDelayUs !== undefined && app.recvDelayUs > 0) await env.sleep(app.recvDelayUs);
      if (app.stallAtUs !== undefined && app.stallUs !== undefined) {
        const end = app.stallAtUs + app.stallUs;
        const now = env.nowUs();
        if (now >= app.stallAtUs && now < end) await env.sleep(end - now);
      }
    };
    if (app.kind === 'device') {
      deviceSockets.set(spec.name, s);
      // No partner: a loopback device on this one socket (an XBUS hub, say).
      const partner = app.partner === undefined ? undefined : deviceSockets.get(app.partner);
      if (app.partner !== undefined && partner === undefined) return; // the partner starts it when it opens
      try {
        await device(s, partner).done;
      } catch (e) {
        o.errors.push(`device: ${(e as Error).message}`);
      }
      return;
    }
    if (app.kind === 'send' && spec.protocol === 'xreq0') {
      await runRawRequester(spec, s, o, env, sample);
      return;
    }
    if (app.kind === 'send') {
      const mine = sizes.get(spec.name) ?? [];
      const myGaps = gaps.get(spec.name) ?? [];
      // After a restart the application picks up where it left off.
      for (let i = o.sent.length; i < mine.length; i++) {
        if (myGaps[i]! > 0) await env.sleep(myGaps[i]!);
        const m = payloadOf(spec.name, i);
        const rec = {
          index: i,
          bytes: m.length,
          atUs: env.nowUs(),
          acceptedAtUs: null as number | null,
          error: null as string | null,
          errorCode: null as string | null,
          failedAtUs: null as number | null,
          queuedBefore: s.sendQ.length,
        };
        o.sent.push(rec);
        try {
          const sending = HOP_COUNT_SENDERS.has(spec.protocol)
            ? s.sendMsg({ header: Uint8Array.of(0, 0, 0, 0), body: m })
            : s.send(m);
          sample();
          try {
            await sending;
          } catch (e) {
            rec.failedAtUs = env.nowUs();
            throw e;
          }
          rec.acceptedAtUs = env.nowUs();
          sample();
          if (spec.protocol === 'surveyor0') await collectResponses(s, o, env, i);
          if (spec.protocol === 'req0') {
            const reply = await s.recvMsg();
            o.received.push({
              atUs: env.nowUs(),
              body: reply.body,
              pipe: reply.pipe?.id ?? null,
              replyTo: i,
              ...lastWord(reply.header),
            });
          }
        } catch (e) {
          rec.error = (e as Error).message;
          rec.errorCode = errorCode(e);
          o.errors.push(`${i}: ${(e as Error).message}`);
        }
      }
      o.doneAtUs = env.nowUs();
    } else {
      for (;;) {
        await recvPause();
        sample();
        let m;
        try {
          m = await s.recvMsg();
        } catch (e) {
          o.errors.push(`recv: ${(e as Error).message}`);
          return;
        }
        o.received.push({
          atUs: env.nowUs(),
          body: m.body,
          pipe: m.pipe?.id ?? null,
          ...(ID_HEADER_RECEIVERS.has(spec.protocol) ? lastWord(m.header) : {}),
        });
        if (app.kind === 'echo') {
          try {
            const echoing = s.sendMsg(m);
            sample();
            await echoing;
          } catch (e) {
            o.errors.push(`echo: ${(e as Error).message}`);
          }
        }
      }
    }
  };

  /**
   * A surveyor's survey `index` is out: receive its responses until the survey ends (SURVEY-TIME
   * expired: ErrTimedOut), recording each with the survey's index and the survey id it carried.
   */
  const collectResponses = async (s: Socket, o: SocketObs, env: Env, index: number): Promise<void> => {
    for (;;) {
      let m;
      try {
        m = await s.recvMsg();
      } catch (e) {
        if (errorCode(e) !== 'ErrTimedOut') o.errors.push(`survey ${index}: ${(e as Error).message}`);
        return;
      }
      o.received.push({
        atUs: env.nowUs(),
        body: m.body,
        pipe: m.pipe?.id ?? null,
        replyTo: index,
        ...lastWord(m.header),
      });
    }
  };

  /**
   * An XREQ sender: builds each request's header (a request id from a per-socket counter, top bit
   * set), keeps up to `app.pipeline` requests outstanding, and matches each reply to its request by
   * the id in the reply's header; a reply that answers no outstanding request is counted as stray.
   */
  const runRawRequester = async (
    spec: SocketSpec,
    s: Socket,
    o: SocketObs,
    env: Env,
    sample: () => void,
  ): Promise<void> => {
    const mine = sizes.get(spec.name) ?? [];
    const myGaps = gaps.get(spec.name) ?? [];
    const pipeline = spec.app.pipeline ?? 1;
    const outstanding = new Map<number, number>();
    let room: { resolve(): void } | undefined;
    const finished = (): void => {
      if (o.sent.length === mine.length && outstanding.size === 0) o.doneAtUs ??= env.nowUs();
    };
    void (async () => {
      for (;;) {
        let m;
        try {
          m = await s.recvMsg();
        } catch (e) {
          o.errors.push(`recv: ${(e as Error).message}`);
          return;
        }
        const id = firstWord(m.header);
        const index = id === undefined ? undefined : outstanding.get(id);
        if (id === undefined || index === undefined) {
          o.strayReplies++;
          continue;
        }
        outstanding.delete(id);
        o.received.push({
          atUs: env.nowUs(),
          body: m.body,
          pipe: m.pipe?.id ?? null,
          replyTo: index,
          requestId: id,
        });
        room?.resolve();
        finished();
      }
    })();
    for (let i = o.sent.length; i < mine.length; i++) {
      while (outstanding.size >= pipeline) {
        const wait = env.defer<void>();
        room = wait;
        await wait.promise;
      }
      if (myGaps[i]! > 0) await env.sleep(myGaps[i]!);
      const m = payloadOf(spec.name, i);
      // The workload index is the counter: ids stay unique across the socket's whole run.
      const id = (REQUEST_ID_BIT | i) >>> 0;
      const rec = {
        index: i,
        bytes: m.length,
        atUs: env.nowUs(),
        acceptedAtUs: null as number | null,
        error: null as string | null,
        errorCode: null as string | null,
        failedAtUs: null as number | null,
        queuedBefore: s.sendQ.length,
      };
      o.sent.push(rec);
      outstanding.set(id, i);
      try {
        const sending = s.sendMsg({ header: encodeU32(id), body: m });
        sample();
        await sending;
        rec.acceptedAtUs = env.nowUs();
        sample();
      } catch (e) {
        outstanding.delete(id);
        rec.failedAtUs = env.nowUs();
        rec.error = (e as Error).message;
        rec.errorCode = errorCode(e);
        o.errors.push(`${i}: ${(e as Error).message}`);
      }
    }
    finished();
  };

  const runRawPeer = async (p: RawPeerSpec, env: Env): Promise<void> => {
    const o: RawPeerObs = (obs.raw[p.name] ??= {
      name: p.name,
      connectedAtUs: null,
      closedAtUs: null,
      closedByRemote: false,
      bytesIn: 0,
      error: null,
    });
    if (p.startUs > env.nowUs()) await env.sleep(p.startUs - env.nowUs());
    const url = parseSpUrl(p.dial);
    const done = env.defer<StreamConn | undefined>();
    env.connect(runtimeAddress(url), (err, conn) => {
      if (err !== undefined) o.error = err.message;
      done.resolve(conn);
    });
    const conn = await done.promise;
    if (conn === undefined) return;
    o.connectedAtUs = env.nowUs();
    let ended = false;
    const end = (byRemote: boolean): void => {
      if (ended) return;
      ended = true;
      o.closedAtUs = env.nowUs();
      o.closedByRemote = byRemote;
    };
    // Bytes the send buffer has not taken yet go out as it drains (a raw peer never loses its own).
    let pending = new Uint8Array(0);
    const flush = (): void => {
      if (ended || pending.length === 0) return;
      try {
        pending = pending.subarray(conn.write(pending));
      } catch {
        pending = new Uint8Array(0);
      }
    };
    conn.setHandlers({
      onData: (chunk) => {
        o.bytesIn += chunk.length;
      },
      onEnd: () => end(true),
      onClose: () => end(true),
      onWritable: flush,
    });
    for (const step of p.script) {
      if (step.afterUs > 0) await env.sleep(step.afterUs);
      if (ended) return;
      if ('write' in step) {
        const b = fromHex(step.write);
        const joined = new Uint8Array(pending.length + b.length);
        joined.set(pending);
        joined.set(b, pending.length);
        pending = joined;
        flush();
      } else if (step.action === 'close') {
        end(false);
        conn.close();
      } else {
        end(false);
        conn.reset();
      }
    }
  };

  const finalizers: (() => void)[] = [];
  return {
    observations: obs,
    boot(host, env) {
      const mine = scenario.sockets.filter((s) => s.host === host);
      const raws = scenario.rawPeers.filter((p) => p.host === host);
      // A restart opens new sockets: a device must not join one with its partner's old incarnation.
      for (const spec of mine) deviceSockets.delete(spec.name);
      for (const spec of mine) {
        const o = obs.sockets[spec.name]!;
        // A request or send cut off by a crash is lost with its host, not pending.
        for (const r of o.sent)
          if (r.acceptedAtUs === null && r.error === null) r.error = 'lost with its host (crash)';
        void runSocket(spec, env);
      }
      for (const p of raws) if (obs.raw[p.name] === undefined) void runRawPeer(p, env);
    },
    finish(crash) {
      obs.crash = crash;
      for (const f of finalizers) f();
    },
    activity: () => activityOf(obs),
    settled: () => settledOf(scenario, obs),
    context: (base: EngineCheckContext): CheckContext => ({ ...base, payloadOf }),
  };
}

/**
 * The workload is done (every sender finished or closed) and every dialer still open has a pipe:
 * what is left is delivery, which a quiet window covers. A real run ends only after this (or at its
 * cap), so a dialer waiting out a backoff is not cut short.
 */
export function settledOf(scenario: Scenario, obs: Observations): boolean {
  const senders = new Set(scenario.workload.sends.map((w) => w.socket));
  for (const spec of scenario.sockets) {
    const o = obs.sockets[spec.name]!;
    if (o.closedAtUs !== null || o.opened === 0) {
      if (o.opened === 0) return false;
      continue;
    }
    if (senders.has(spec.name) && o.doneAtUs === null) return false;
    if (spec.dial.length > 0) {
      let live = 0;
      for (const p of o.pipes) live += p.event === 'attached' ? 1 : p.event === 'detached' ? -1 : 0;
      if (live <= 0) return false;
    }
  }
  return true;
}

/**
 * A counter that moves whenever the runner records something (a send, a receive, a dial, a pipe
 * event, an error, a socket finishing): a real substrate ends a run once it stops moving.
 */
function activityOf(obs: Observations): number {
  let n = 0;
  for (const o of Object.values(obs.sockets)) {
    n += o.sent.length + o.received.length + o.dials.length + o.pipes.length + o.errors.length + o.opened;
    for (const r of o.sent) if (r.acceptedAtUs !== null || r.error !== null) n++;
    if (o.doneAtUs !== null) n++;
    if (o.closedAtUs !== null) n++;
  }
  for (const r of Object.values(obs.raw)) {
    n += r.bytesIn;
    if (r.connectedAtUs !== null) n++;
    if (r.closedAtUs !== null) n++;
  }
  return n;
}

/**
 * The last moment the scenario schedules something: a socket starting or closing, a stall ending,
 * an unsubscribe, a raw peer's last step, a send after its gaps, the end of the fault phase when
 * there are faults. A real run lasts at least this long before a quiet window may end it.
 */
export function scheduledUntilUs(scenario: Scenario): number {
  let until = scenario.faults.faults.length > 0 ? scenario.faultPhaseUs : 0;
  const gaps = new Map<string, number>();
  for (const w of scenario.workload.sends) gaps.set(w.socket, (gaps.get(w.socket) ?? 0) + w.gapUs);
  for (const s of scenario.sockets) {
    until = Math.max(until, s.startUs + (gaps.get(s.name) ?? 0), s.closeAtUs ?? 0);
    if (s.app.stallAtUs !== undefined) until = Math.max(until, s.app.stallAtUs + (s.app.stallUs ?? 0));
    if (s.app.unsubscribeAtUs !== undefined) until = Math.max(until, s.app.unsubscribeAtUs);
  }
  for (const p of scenario.rawPeers)
    until = Math.max(
      until,
      p.script.reduce((t, step) => t + step.afterUs, p.startUs),
    );
  return until;
}
