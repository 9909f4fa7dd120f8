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
  ListenCallback,
  StreamConn,
  TraceInput,
} from '../../impl/runtime/env.js';
import { fromHex, readU32 } from '../../impl/runtime/bytes.js';
import { ForwardingEnv } from '../../impl/runtime/env.js';
import type { Allocator } from '../../impl/sp/wire/frames.js';
import type { Socket, SocketOptions } from '../../impl/sp/core/socket.js';
import type { ContextOptionName } from '../../impl/sp/core/context.js';
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
import { ActionLedger } from '../actions.js';
import { applyScenarioOptions, runOptionProbes } from './option-probes.js';
import { runImpolite } from './impolite-actors.js';
import type { CheckContext as EngineCheckContext, ImplInfo, StackRun } from '../stack.js';
import type {
  AcceptRecord,
  CheckContext,
  DialCallRecord,
  DialRecord,
  Observations,
  RawPeerObs,
  RecvCallRecord,
  SentRecord,
  SocketObs,
} from './checks.js';
import type { RawPeerSpec, Scenario, ScenarioProtocol, SocketSpec } from './model.js';
import { tapSocket, WIRE_LOG_MAX_EVENTS, type ConnWrites, type WireTap } from './models/tap.js';
import { scenarioOption } from './reference.js';

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
    wire: [],
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
  /** A listener accepted a connection: returns its record, which the tap completes (end). */
  accept(remoteAddress: string): AcceptRecord;
  /** A connection (dialed or accepted) opened: returns the record of what its writes accepted. */
  conn(id: number): ConnWrites;
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
    /** What the transport took of this connection (the wire log's ConnWrites); nowUs stamps a break. */
    private readonly writes: ConnWrites,
    private readonly nowUs: () => number,
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
  private broke(): void {
    this.writes.brokenAtUs ??= this.nowUs();
  }
  setHandlers(handlers: ConnHandlers): void {
    this.conn.setHandlers({
      ...handlers,
      onEnd: () => {
        this.broke();
        handlers.onEnd?.();
      },
      onClose: (error) => {
        this.ended();
        // A clean close after our own graceful close is the normal end; anything else broke it.
        if (error !== undefined || this.writes.closedAtBytes === null) this.broke();
        handlers.onClose?.(error);
      },
    });
  }
  write(bytes: Uint8Array): number {
    const n = this.conn.write(bytes);
    this.writes.writtenBytes += n;
    return n;
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
    if (this.writes.brokenAtUs === null) this.writes.closedAtBytes ??= this.writes.writtenBytes;
    this.conn.close();
  }
  reset(): void {
    this.ended();
    this.broke();
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
        callback(err, new TappedConn(conn, ended, this.taps.conn(conn.id), () => this.inner.nowUs()));
      },
      options,
    );
  }
  override listen(address: string, onConnection: (conn: StreamConn) => void, callback: ListenCallback): void {
    this.inner.listen(
      address,
      (conn) => {
        const rec = this.taps.accept(conn.remoteAddress);
        onConnection(
          new TappedConn(
            conn,
            () => {
              rec.endUs ??= this.inner.nowUs();
            },
            this.taps.conn(conn.id),
            () => this.inner.nowUs(),
          ),
        );
      },
      callback,
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

/**
 * Notes a receive call of the application (RecvCallRecord); the function returned notes its end,
 * with the error it failed with, if any.
 */
function recvCall(o: SocketObs, env: Env, index?: number): (error?: unknown) => void {
  const rec: RecvCallRecord = {
    atUs: env.nowUs(),
    endUs: null,
    code: null,
    ...(index === undefined ? {} : { index }),
  };
  (o.recvCalls ??= []).push(rec);
  return (error) => {
    rec.endUs = env.nowUs();
    if (error !== undefined) rec.code = errorCode(error) ?? 'error';
  };
}

/** The first word of an XREQ reply's header: the request id it answers (undefined if shorter). */
function firstWord(header: Uint8Array): number | undefined {
  return header.length < 4 ? undefined : readU32(header, 0);
}

/** The top bit of a request id word: set on the last word of a backtrace. */
const REQUEST_ID_BIT = 0x80000000;

/** The request id a REQ/REP header ends with, as a RecvRecord field (none if shorter than a word). */
export function lastWord(header: Uint8Array): { requestId?: number } {
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
  return new SpScenarioRun(scenario, variant).stackRun();
}

/** PUB/SUB pipe records of one socket incarnation (pipe ids may be reused by a later incarnation). */
type PubSubPipes = NonNullable<SocketObs['pubsub']>['pipes'];

/**
 * One SP scenario's run: its observations, the workload's sizes, gaps and payloads, and the actors
 * (a socket with its application, a raw peer) that each host's boot starts. Every step a socket takes
 * on the runtime seam (timers, sleeps, socket calls, awaits) happens in the order the scenario's trace
 * hash was recorded with: the phases below are split out as plain (synchronous) helpers, and an
 * application loop is awaited only as the socket's last step.
 */
class SpScenarioRun {
  readonly obs: Observations = { sockets: {}, raw: {}, crash: null };
  private readonly socketIndex = new Map<string, number>();
  /** Workload message sizes and the gaps before them, by sending socket. */
  private readonly sizes = new Map<string, number[]>();
  private readonly gaps = new Map<string, number[]>();
  private readonly payloads = new Map<string, Uint8Array>();
  /** Device sockets open now, by name (a device starts when both of its sockets are open). */
  private readonly deviceSockets = new Map<string, Socket>();
  /** Run at finish: each socket incarnation folds its counters into its observations. */
  private readonly finalizers: (() => void)[] = [];
  /** The applications' sends, replies awaited, surveys and closes in progress (stack.workload-completes). */
  private readonly actions = new ActionLedger();

  constructor(
    private readonly scenario: Scenario,
    private readonly variant: ImplVariant,
  ) {
    scenario.sockets.forEach((s, i) => {
      this.obs.sockets[s.name] = newSocketObs(s);
      this.socketIndex.set(s.name, i);
    });
    for (const w of scenario.workload.sends) {
      if (!this.sizes.has(w.socket)) {
        this.sizes.set(w.socket, []);
        this.gaps.set(w.socket, []);
      }
      this.sizes.get(w.socket)!.push(w.bytes);
      this.gaps.get(w.socket)!.push(w.gapUs);
    }
  }

  /** Payload of workload message `index` of `socket` (made once, then shared with the checks). */
  readonly payloadOf = (socket: string, index: number): Uint8Array => {
    const key = `${socket}#${index}`;
    let p = this.payloads.get(key);
    if (p === undefined) {
      p = payload(this.socketIndex.get(socket) ?? 0, index, this.sizes.get(socket)?.[index] ?? 0);
      this.payloads.set(key, p);
    }
    return p;
  };

  stackRun(): StackRun<Observations, CheckContext> {
    return {
      observations: this.obs,
      boot: (host, env) => this.boot(host, env),
      finish: (crash) => {
        this.obs.crash = crash;
        for (const f of this.finalizers) f();
      },
      activity: () => activityOf(this.obs),
      settled: () => settledOf(this.scenario, this.obs),
      context: (base: EngineCheckContext): CheckContext => ({ ...base, payloadOf: this.payloadOf }),
      pending: () => this.actions.pending(),
    };
  }

  /** Starts what runs on `host`: its sockets (again after a restart) and its raw peers (once). */
  private boot(host: string, env: Env): void {
    const mine = this.scenario.sockets.filter((s) => s.host === host);
    const raws = this.scenario.rawPeers.filter((p) => p.host === host);
    // A restart opens new sockets: a device must not join one with its partner's old incarnation.
    for (const spec of mine) this.deviceSockets.delete(spec.name);
    // What the applications were doing when the host crashed is lost with it, not pending.
    this.actions.dropHost(host);
    for (const spec of mine) {
      const o = this.obs.sockets[spec.name]!;
      // A request or send cut off by a crash is lost with its host, not pending.
      for (const r of o.sent)
        if (r.acceptedAtUs === null && r.error === null) r.error = 'lost with its host (crash)';
      void this.runSocket(spec, env);
    }
    for (const p of raws) if (this.obs.raw[p.name] === undefined) void this.runRawPeer(p, env);
  }

  /**
   * One incarnation of a scenario socket: waits for its start, opens it, arms its close, watches its
   * pipes and queues, listens and dials, then runs its application.
   */
  private async runSocket(spec: SocketSpec, env: Env): Promise<void> {
    const o = this.obs.sockets[spec.name]!;
    if (spec.startUs > env.nowUs()) await env.sleep(spec.startUs - env.nowUs());
    o.opened++;
    const conns: ConnWrites[] = [];
    const s = this.openSocket(spec, env, o, conns);
    const tap = tapSocket(s, env, conns);
    o.wire.push(tap.log);
    // Option probes (the options family) run once, on the first incarnation, before any endpoint.
    if (spec.optionProbes !== undefined && o.opened === 1) o.optionProbes = runOptionProbes(spec, s);
    if (armClose(spec, s, o, env, this.actions)) return;
    const pubsubPipes = watchPipes(s, o, env, tap);
    applySubscriptions(spec, s, o, env);
    const sample = sampleQueues(s, o);
    const endpoints: { stats: SocketObs['endpoints'] }[] = [];
    // Counters are read at the end of the run, from every incarnation's endpoints.
    this.finalizers.push(() => foldStats(s, o, endpoints, pubsubPipes));
    for (const a of spec.listen) {
      const l = s.newListener(a);
      for (const [k, v] of Object.entries(spec.endpointOptions ?? {})) l.setOption(k, v);
      endpoints.push(l);
      try {
        await l.listen();
      } catch (e) {
        o.errors.push(`listen ${a}: ${(e as Error).message}`);
      }
    }
    dialAll(spec, s, o, env, endpoints);
    const app = spec.app;
    if (app.kind === 'device') {
      await this.runDevice(spec, s, o);
      return;
    }
    if (app.impolite !== undefined) {
      const parts = { spec, s, o, env, actions: this.actions, payloadOf: this.payloadOf, sample };
      const sizes = this.sizes.get(spec.name) ?? [];
      await runImpolite({ ...parts, sizes, gaps: this.gaps.get(spec.name) ?? [] });
      return;
    }
    if (app.kind === 'send' && spec.protocol === 'xreq0') {
      await this.runRawRequester(spec, s, o, env, sample);
      return;
    }
    if (app.kind === 'send') await this.runSender(spec, s, o, env, sample);
    else
      await runReceiver(spec, s, o, env, sample, (what) => {
        const id = this.actions.begin(spec.host, spec.name, what, env.nowUs());
        return () => this.actions.end(id);
      });
  }

  /** Opens this incarnation: the variant's parts over the scenario's options, on a tapped env. */
  private openSocket(spec: SocketSpec, env: Env, o: SocketObs, conns: ConnWrites[]): Socket {
    const parts = this.variant.socket?.(spec) ?? {};
    const allocator = scenarioAllocator(o);
    let pipesNow: () => number[] = () => [];
    const tapped = new TappedEnv(
      env,
      socketTaps(spec, env, o, () => pipesNow(), conns),
    );
    const open = parts.open ?? OPENERS[spec.protocol];
    const s = open(tapped, {
      allocator,
      ...parts.socketOptions,
      options: { ...SCENARIO_SOCKET_DEFAULTS, ...parts.options },
    });
    pipesNow = () => [...s.pipes.keys()];
    // The scenario's own options go through the public setOption, as an application sets them: a
    // valid value the stack refuses is a finding naming the option (an action that never ends, so
    // stack.workload-completes fails on every run), not an internal error.
    const refused = applyScenarioOptions(spec, s, parts.options);
    for (const r of refused) {
      (o.optionRefusals ??= []).push(r);
      o.errors.push(`option ${r.name}: ${r.error}`);
      this.actions.begin(
        spec.host,
        spec.name,
        `setOption(${r.name}, ${JSON.stringify(r.value)}) from the scenario, refused with ${r.error}`,
        env.nowUs(),
      );
    }
    return s;
  }

  /** A device socket: forwards to its partner once both are open (no partner: a loopback device). */
  private async runDevice(spec: SocketSpec, s: Socket, o: SocketObs): Promise<void> {
    const app = spec.app;
    this.deviceSockets.set(spec.name, s);
    // No partner: a loopback device on this one socket (an XBUS hub, say).
    const partner = app.partner === undefined ? undefined : this.deviceSockets.get(app.partner);
    if (app.partner !== undefined && partner === undefined) return; // the partner starts it when it opens
    try {
      await device(s, partner).done;
    } catch (e) {
      o.errors.push(`device: ${(e as Error).message}`);
    }
  }

  /**
   * A sender: sends its workload messages after their gaps, a surveyor collecting each survey's
   * responses and a REQ its reply before the next; after a restart it picks up where it left off.
   */
  private async runSender(
    spec: SocketSpec,
    s: Socket,
    o: SocketObs,
    env: Env,
    sample: () => void,
  ): Promise<void> {
    const mine = this.sizes.get(spec.name) ?? [];
    const myGaps = this.gaps.get(spec.name) ?? [];
    // Surveyors: receives that time out (RECV-DEADLINE) the application shrugs off, in all.
    const timeouts = { left: spec.app.recvTimeoutRetries ?? 0 };
    // The application's channel: its own context (contextOptions), else the socket.
    const io = contextFor(spec, s);
    // After a restart the application picks up where it left off.
    for (let i = o.sent.length; i < mine.length; i++) {
      if (myGaps[i]! > 0) await env.sleep(myGaps[i]!);
      const m = this.payloadOf(spec.name, i);
      const rec = newSentRecord(i, m, s, env);
      o.sent.push(rec);
      try {
        const sending = HOP_COUNT_SENDERS.has(spec.protocol)
          ? io.sendMsg({ header: Uint8Array.of(0, 0, 0, 0), body: m })
          : io.send(m);
        sample();
        const sendAction = this.actions.begin(spec.host, spec.name, `send #${i}`, env.nowUs());
        try {
          await sending;
        } catch (e) {
          rec.failedAtUs = env.nowUs();
          throw e;
        } finally {
          this.actions.end(sendAction);
        }
        rec.acceptedAtUs = env.nowUs();
        sample();
        if (spec.protocol === 'surveyor0') {
          const survey = this.actions.begin(spec.host, spec.name, `survey #${i}`, env.nowUs());
          await collectResponses(io, o, env, i, timeouts);
          this.actions.end(survey);
        }
        if (spec.protocol === 'req0') {
          const replyAction = this.actions.begin(spec.host, spec.name, `reply to request #${i}`, env.nowUs());
          let reply;
          const ended = recvCall(o, env, i);
          try {
            reply = await io.recvMsg();
            ended();
          } catch (e) {
            ended(e);
            throw e;
          } finally {
            this.actions.end(replyAction);
          }
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
  }

  /**
   * An XREQ sender: builds each request's header (a request id from a per-socket counter, top bit
   * set), keeps up to `app.pipeline` requests outstanding, and matches each reply to its request by
   * the id in the reply's header; a reply that answers no outstanding request is counted as stray.
   */
  private async runRawRequester(
    spec: SocketSpec,
    s: Socket,
    o: SocketObs,
    env: Env,
    sample: () => void,
  ): Promise<void> {
    const mine = this.sizes.get(spec.name) ?? [];
    const myGaps = this.gaps.get(spec.name) ?? [];
    const pipeline = spec.app.pipeline ?? 1;
    const state: RawRequests = {
      outstanding: new Map<number, number>(),
      room: undefined,
      finished: () => {
        if (o.sent.length === mine.length && state.outstanding.size === 0) o.doneAtUs ??= env.nowUs();
      },
    };
    const { outstanding } = state;
    void readRawReplies(s, o, env, state);
    for (let i = o.sent.length; i < mine.length; i++) {
      while (outstanding.size >= pipeline) {
        const wait = env.defer<void>();
        state.room = wait;
        await wait.promise;
      }
      if (myGaps[i]! > 0) await env.sleep(myGaps[i]!);
      const m = this.payloadOf(spec.name, i);
      // The workload index is the counter: ids stay unique across the socket's whole run.
      const id = (REQUEST_ID_BIT | i) >>> 0;
      const rec = newSentRecord(i, m, s, env);
      o.sent.push(rec);
      outstanding.set(id, i);
      try {
        const sending = s.sendMsg({ header: encodeU32(id), body: m });
        sample();
        const sendAction = this.actions.begin(spec.host, spec.name, `send #${i}`, env.nowUs());
        try {
          await sending;
        } finally {
          this.actions.end(sendAction);
        }
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
    state.finished();
  }

  /** A raw peer: connects once, then plays its script of writes, closes and resets. */
  private async runRawPeer(p: RawPeerSpec, env: Env): Promise<void> {
    const o: RawPeerObs = (this.obs.raw[p.name] ??= {
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
  }
}

/**
 * The allocator of a scenario socket: records the largest request and bad ones, and fails beyond
 * the simulated heap (SIM_HEAP_BYTES) as an exhausted heap would.
 */
function scenarioAllocator(o: SocketObs): Allocator {
  return {
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
}

/** What a socket's TappedEnv records: its connect attempts and, for REQ, its transmissions. */
function socketTaps(
  spec: SocketSpec,
  env: Env,
  o: SocketObs,
  pipesNow: () => number[],
  conns: ConnWrites[],
): EnvTaps {
  return {
    conn(id) {
      const rec: ConnWrites = { conn: id, writtenBytes: 0, closedAtBytes: null, brokenAtUs: null };
      // Bounded like the wire log; past it a connection is counted but not kept (the models then
      // judge no pipe on it).
      if (conns.length < WIRE_LOG_MAX_EVENTS) conns.push(rec);
      return rec;
    },
    connect(address) {
      const rec: DialRecord = { atUs: env.nowUs(), address, endUs: null, connected: false };
      o.dials.push(rec);
      return rec;
    },
    accept(remoteAddress) {
      const rec: AcceptRecord = { atUs: env.nowUs(), endUs: null, remoteAddress, attachedAtUs: null };
      (o.accepts ??= []).push(rec);
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
  };
}

/**
 * Arms the scenario's close of the socket (closeAtUs): true when that time is already past (a host
 * restart reopened it after it), in which case it is closed again at once, before it dials or listens.
 */
function armClose(spec: SocketSpec, s: Socket, o: SocketObs, env: Env, actions: ActionLedger): boolean {
  if (spec.closeAtUs === undefined) return false;
  const close = (): void => {
    o.closedAtUs ??= env.nowUs();
    const closing = actions.begin(spec.host, spec.name, 'close', env.nowUs());
    s.close().then(
      () => actions.end(closing),
      (e: unknown) => {
        actions.end(closing);
        o.errors.push(`close: ${(e as Error).message}`);
      },
    );
  };
  // Reopened after its close time (a host restart): closed again before it dials or listens.
  if (spec.closeAtUs <= env.nowUs()) {
    close();
    return true;
  }
  env.setTimer(spec.closeAtUs - env.nowUs(), close, 'scenario-close');
  return false;
}

/** Records the socket's pipe events, and for PUB/SUB this incarnation's pipes (returned). */
function watchPipes(s: Socket, o: SocketObs, env: Env, tap: WireTap): PubSubPipes {
  const pubsubPipes: PubSubPipes = [];
  s.setPipeEventHook((event, pipe) => {
    tap.pipeEvent(event, pipe);
    o.pipes.push({ atUs: env.nowUs(), event, pipe: pipe.id });
    if (event === 'attached') {
      const conn = o.accepts?.find(
        (a) => a.remoteAddress === pipe.remoteAddress && a.attachedAtUs === null && a.endUs === null,
      );
      if (conn !== undefined) conn.attachedAtUs = env.nowUs();
    }
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
  return pubsubPipes;
}

/** A SUB socket's subscriptions, applied at open; the unsubscribe at its time (at once on a reopen after it). */
function applySubscriptions(spec: SocketSpec, s: Socket, o: SocketObs, env: Env): void {
  if (o.pubsub === undefined || spec.protocol !== 'sub0') return;
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

/**
 * Wraps the socket's queue-growing paths with a sample of its queue lengths, and returns the sample
 * (the application calls it after each send). The queues grow only in send, in refillSendQ (waiting
 * senders move in) and when a pipe delivers (deliver / enqueueReceived): sampling after each of
 * these, on this instance, sees every peak, not just the states the application happens to see.
 */
function sampleQueues(s: Socket, o: SocketObs): () => void {
  const sample = (): void => {
    if (s.sendQ.length > o.maxSendQ) o.maxSendQ = s.sendQ.length;
    if (s.recvQ.length > o.maxRecvQ) o.maxRecvQ = s.recvQ.length;
  };
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
  return sample;
}

/** At the end of the run: one incarnation's endpoint and protocol counters, folded into its socket's. */
function foldStats(
  s: Socket,
  o: SocketObs,
  endpoints: readonly { stats: SocketObs['endpoints'] }[],
  pubsubPipes: PubSubPipes,
): void {
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
}

/** Starts the socket's dialers (each dials in the background; a failure is recorded). */
function dialAll(
  spec: SocketSpec,
  s: Socket,
  o: SocketObs,
  env: Env,
  endpoints: { stats: SocketObs['endpoints'] }[],
): void {
  for (const a of spec.dial) {
    const d = s.newDialer(a);
    for (const [k, v] of Object.entries(spec.endpointOptions ?? {})) d.setOption(k, v);
    endpoints.push(d);
    // A synchronous dial ends with its first attempt (a pipe, a failure, or the close): recorded.
    const call: DialCallRecord | undefined = d.option('DIAL-ASYNCH')
      ? undefined
      : { address: a, atUs: env.nowUs(), endedAtUs: null, errorCode: null };
    if (call !== undefined) (o.dialCalls ??= []).push(call);
    d.dial().then(
      () => {
        if (call !== undefined) call.endedAtUs = env.nowUs();
      },
      (e: unknown) => {
        if (call !== undefined) {
          call.endedAtUs = env.nowUs();
          call.errorCode = errorCode(e) ?? 'unknown';
        }
        o.errors.push(`dial ${a}: ${(e as Error).message}`);
      },
    );
  }
}

/** The record of workload send `index`, made as the application calls send. */
export function newSentRecord(index: number, m: Uint8Array, s: Socket, env: Env): SentRecord {
  return {
    index,
    bytes: m.length,
    atUs: env.nowUs(),
    acceptedAtUs: null,
    error: null,
    errorCode: null,
    failedAtUs: null,
    queuedBefore: s.sendQ.length,
  };
}

/**
 * What a sender application sends and receives on: a context of its own with the scenario's
 * contextOptions (REQ, SURVEYOR), else the socket itself.
 */
function contextFor(spec: SocketSpec, s: Socket): Pick<Socket, 'send' | 'sendMsg' | 'recvMsg'> {
  const options = spec.app.contextOptions;
  if (options === undefined) return s;
  const ctx = s.openContext();
  for (const [k, v] of Object.entries(options)) if (v !== undefined) ctx.setOption(k as ContextOptionName, v);
  return ctx;
}

/** Cooked responders whose replies always end (see runReceiver). */
const LOCKSTEP_RESPONDERS: ReadonlySet<string> = new Set(['rep0', 'respondent0']);

/** The application's pause before each receive: its receive delay, and a stall it is inside of. */
async function recvPause(app: SocketSpec['app'], env: Env): Promise<void> {
  if (app.recvDelayUs !== undefined && app.recvDelayUs > 0) await env.sleep(app.recvDelayUs);
  if (app.stallAtUs !== undefined && app.stallUs !== undefined) {
    const end = app.stallAtUs + app.stallUs;
    const now = env.nowUs();
    if (now >= app.stallAtUs && now < end) await env.sleep(end - now);
  }
}

/** A sink or echo application: receives (after its pauses) until the socket fails; echo sends each back. */
async function runReceiver(
  spec: SocketSpec,
  s: Socket,
  o: SocketObs,
  env: Env,
  sample: () => void,
  track: (what: string) => () => void,
): Promise<void> {
  const app = spec.app;
  // Receives that time out (RECV-DEADLINE) the application shrugs off, in all.
  let timeoutsLeft = app.recvTimeoutRetries ?? 0;
  for (;;) {
    await recvPause(app, env);
    sample();
    let m;
    const ended = recvCall(o, env);
    try {
      m = await s.recvMsg();
      ended();
    } catch (e) {
      ended(e);
      if (errorCode(e) === 'ErrRecvTimeout' && timeoutsLeft > 0) {
        timeoutsLeft--;
        continue;
      }
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
      // A REP's or RESPONDENT's reply always ends (sent, or dropped when its pipe vanished, and the
      // send still succeeds: sp.md REQ/REP, RepClosedReply), so it is an action the workload must
      // complete; other echoes may wait on a peer that never reads, by design.
      const done = LOCKSTEP_RESPONDERS.has(spec.protocol)
        ? track(`reply #${o.received.length - 1}`)
        : undefined;
      try {
        const echoing = s.sendMsg(m);
        sample();
        await echoing;
      } catch (e) {
        o.errors.push(`echo: ${(e as Error).message}`);
      } finally {
        done?.();
      }
    }
  }
}

/**
 * A surveyor's survey `index` is out: receive its responses until the survey ends (SURVEY-TIME
 * expired: ErrTimedOut), recording each with the survey's index and the survey id it carried.
 */
async function collectResponses(
  s: Pick<Socket, 'recvMsg'>,
  o: SocketObs,
  env: Env,
  index: number,
  timeouts: { left: number },
): Promise<void> {
  for (;;) {
    let m;
    const ended = recvCall(o, env, index);
    try {
      m = await s.recvMsg();
      ended();
    } catch (e) {
      ended(e);
      // A receive that timed out (RECV-DEADLINE) before the survey did: collect again, or move on.
      if (errorCode(e) === 'ErrRecvTimeout' && timeouts.left > 0) {
        timeouts.left--;
        continue;
      }
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
}

/** An XREQ sender's requests in flight, shared by its send loop and its reply reader. */
interface RawRequests {
  /** Request id → workload index, for requests sent and not answered yet. */
  outstanding: Map<number, number>;
  /** The send loop waits here while the pipeline is full; a reply resolves it. */
  room: { resolve(): void } | undefined;
  /** Notes the sender done once every request is sent and answered. */
  finished(): void;
}

/** An XREQ sender's reply reader: matches each reply to its request by id (else counts it stray). */
async function readRawReplies(s: Socket, o: SocketObs, env: Env, state: RawRequests): Promise<void> {
  const { outstanding } = state;
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
    state.room?.resolve();
    state.finished();
  }
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
  for (const p of scenario.rawPeers) {
    const last = p.script.reduce((t, step) => t + step.afterUs, p.startUs);
    until = Math.max(until, last);
    // A peer that never completes its 8-byte header nor closes is cut by its listener's
    // HANDSHAKE-TIMEOUT: that cut is part of what the scenario sets up (the handshake family
    // judges it), so a real run waits for it too.
    const written = p.script.reduce((n, step) => n + ('write' in step ? step.write.length / 2 : 0), 0);
    if (written >= 8 || p.script.some((step) => 'action' in step)) continue;
    for (const spec of scenario.sockets)
      if (spec.listen.includes(p.dial))
        until = Math.max(until, last + scenarioOption(spec, 'HANDSHAKE-TIMEOUT'));
  }
  return until;
}
