/**
 * The echo stack's scenario actors: on each scenario host, its echo servers (impl/echo/echo.ts) and
 * its echo clients (requesters, impl/echo/requester.ts, or one-shot sessions), started on the host's
 * runtime (Env) and recording everything they do as observations for the checks. The engine's
 * runner (scenarios/runner.ts) boots them on the hosts of a substrate and drives the run. An
 * implementation variant (the museum) swaps parts in through injection points: the env a server or
 * client runs on (its connections), and the servers' frame decoder. Isomorphic: the browser viewer
 * reruns scenarios with it.
 */
import {
  defaultFrameDecoder,
  EchoError,
  FRAME_HEADER_BYTES,
  runEchoClient,
  startEchoServer,
  type EchoServerStats,
  type FrameDecoderFactory,
} from '../../impl/echo/echo.js';
import { openEchoRequester, type EchoRequester } from '../../impl/echo/requester.js';
import type {
  ConnectCallback,
  ConnectOptions,
  ConnHandlers,
  Env,
  StreamConn,
  TraceInput,
} from '../../impl/runtime/env.js';
import { ForwardingEnv } from '../../impl/runtime/env.js';
import type { CheckContext, ImplInfo, StackRun } from '../stack.js';
import type {
  AllocObs,
  AttemptRecord,
  EchoCheckContext,
  EchoClientObs,
  EchoObservations,
  EchoServerObs,
  ProtocolErrorRecord,
} from './checks.js';
import { ConnWrappingEnv, ForwardingConn } from './conn.js';
import {
  DEFAULT_RETRY_PAUSE_US,
  sessionsOf,
  type ClientSpec,
  type EchoScenario,
  type ServerSpec,
} from './model.js';

/**
 * An implementation under test: netlab itself, or a museum variant composed from the real stack
 * through its injection points. `family` names the invariant family meant to catch it.
 */
export interface EchoVariant extends ImplInfo {
  /** Wraps the env a server runs on (so its connections), fresh per boot. */
  serverEnv?(env: Env, server: ServerSpec): Env;
  /** Wraps the env a client runs on (so its connections), fresh per boot. */
  clientEnv?(env: Env, client: ClientSpec): Env;
  /** The servers' frame decoder (default: impl/echo's FrameDecoder). */
  serverDecoder?: FrameDecoderFactory;
}

export const NETLAB_VARIANT: EchoVariant = {
  summary: 'netlab as built: the real stack, nothing swapped',
  family: null,
};

/**
 * The most one allocation in a scenario may take (64 MiB, far above any legitimate frame: messages
 * are at most 1 MiB). A larger request fails as an exhausted heap would (RangeError) after it is
 * recorded, so a planted allocation bug shows in the observations without taking the machine's memory.
 */
export const SIM_HEAP_BYTES = 64 * 1024 * 1024;

/**
 * Deterministic payload of message `index` of the client at position `clientIndex`: its content
 * names both, so corruption, reordering and cross-talk show. Messages of 4 bytes or more carry
 * their identity in the first four (a big-endian word).
 */
export function echoPayload(clientIndex: number, index: number, bytes: number): Uint8Array {
  const b = new Uint8Array(bytes);
  const seed = clientIndex * 4099 + index;
  for (let i = 0; i < bytes; i++) b[i] = (seed * 131 + i * 7 + (i >>> 8) + (seed >>> 8)) & 0xff;
  if (bytes >= 4) {
    const tag = ((clientIndex & 0xff) << 24) | (index & 0xffffff);
    b[0] = tag >>> 24;
    b[1] = (tag >>> 16) & 0xff;
    b[2] = (tag >>> 8) & 0xff;
    b[3] = tag & 0xff;
  }
  return b;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The stable code of an error (EchoError / NetError `code`), or its name. */
function codeOf(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : e instanceof Error ? e.name : 'unknown';
}

/** A decoder factory whose allocations are recorded in `o` (and bounded by SIM_HEAP_BYTES). */
function recordingDecoder(base: FrameDecoderFactory, o: AllocObs): FrameDecoderFactory {
  const allocate = (bytes: number): Uint8Array => {
    if (!Number.isSafeInteger(bytes) || bytes < 0) {
      o.badAllocs++;
      throw new RangeError(`allocate(${bytes}): not a byte count`);
    }
    if (bytes > o.maxAllocBytes) o.maxAllocBytes = bytes;
    if (bytes > SIM_HEAP_BYTES)
      throw new RangeError(`allocate(${bytes}): beyond the simulated heap (${SIM_HEAP_BYTES} bytes)`);
    return new Uint8Array(bytes);
  };
  return (maxFrameBytes) => base(maxFrameBytes, allocate);
}

/**
 * Follows the frame structure of the bytes a server reads (independently of the server's own
 * decoder): counts headers split across reads and zero-length frames.
 */
class FrameTap {
  private headerFill = 0;
  private readonly header = new Uint8Array(FRAME_HEADER_BYTES);
  private remaining = 0;

  constructor(private readonly o: EchoServerObs) {}

  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - i);
        this.remaining -= take;
        i += take;
        continue;
      }
      const take = Math.min(FRAME_HEADER_BYTES - this.headerFill, chunk.length - i);
      this.header.set(chunk.subarray(i, i + take), this.headerFill);
      this.headerFill += take;
      i += take;
      if (this.headerFill < FRAME_HEADER_BYTES) {
        this.o.splitHeaders++;
        return;
      }
      this.headerFill = 0;
      const h = this.header;
      this.remaining = ((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0;
      if (this.remaining === 0) this.o.zeroLengthFrames++;
    }
  }
}

class TappedServerConn extends ForwardingConn {
  constructor(
    inner: StreamConn,
    private readonly tap: FrameTap,
  ) {
    super(inner);
  }
  override setHandlers(handlers: ConnHandlers): void {
    this.inner.setHandlers(
      handlers.onData === undefined
        ? handlers
        : {
            ...handlers,
            onData: (bytes) => {
              this.tap.push(bytes);
              handlers.onData?.(bytes);
            },
          },
    );
  }
}

/** A connection whose end (closed by either side) is noted in its attempt record. */
class TappedClientConn extends ForwardingConn {
  constructor(
    inner: StreamConn,
    private readonly ended: () => void,
  ) {
    super(inner);
  }
  override setHandlers(handlers: ConnHandlers): void {
    this.inner.setHandlers({
      ...handlers,
      onClose: (error) => {
        this.ended();
        handlers.onClose?.(error);
      },
    });
  }
  override close(): void {
    this.ended();
    this.inner.close();
  }
  override reset(): void {
    this.ended();
    this.inner.reset();
  }
}

/**
 * A host's env as one actor sees it: typed errors its code traces are recorded (protocol errors),
 * and for clients every connect attempt with when it ended.
 */
class ActorEnv extends ForwardingEnv {
  constructor(
    env: Env,
    private readonly errors: ProtocolErrorRecord[],
    private readonly attempts: AttemptRecord[] | null,
  ) {
    super(env);
  }
  override connect(address: string, callback: ConnectCallback, options?: ConnectOptions): void {
    const attempts = this.attempts;
    if (attempts === null) {
      this.inner.connect(address, callback, options);
      return;
    }
    const rec: AttemptRecord = { atUs: this.inner.nowUs(), endUs: null, connected: false };
    attempts.push(rec);
    const ended = (): void => {
      rec.endUs ??= this.inner.nowUs();
    };
    this.inner.connect(
      address,
      (error, conn) => {
        if (conn === undefined) {
          ended();
          callback(error, conn);
          return;
        }
        rec.connected = true;
        callback(error, new TappedClientConn(conn, ended));
      },
      options,
    );
  }
  override trace(event: TraceInput): void {
    if (event.kind === 'error')
      this.errors.push({ atUs: this.inner.nowUs(), code: event.code, message: event.message });
    if (this.inner.tracing) this.inner.trace(event);
  }
}

function newClientObs(c: ClientSpec): EchoClientObs {
  return {
    name: c.name,
    host: c.host,
    mode: c.mode,
    boots: 0,
    started: [],
    replies: [],
    failed: [],
    sessions: [],
    attempts: [],
    protocolErrors: [],
    requester: {
      connectAttempts: 0,
      connects: 0,
      requests: 0,
      resends: 0,
      replies: 0,
      protocolErrors: 0,
      maxPending: 0,
    },
    maxOutstanding: 0,
    doneAtUs: null,
    maxAllocBytes: 0,
    badAllocs: 0,
  };
}

function newServerStats(): EchoServerStats {
  return {
    connections: 0,
    framesEchoed: 0,
    bytesEchoed: 0,
    protocolErrors: 0,
    readPauses: 0,
    maxPendingOutBytes: 0,
    maxChunkBytes: 0,
  };
}

function newServerObs(x: ServerSpec): EchoServerObs {
  return {
    name: x.name,
    host: x.host,
    boots: 0,
    listenErrors: [],
    listeningAtUs: null,
    stats: newServerStats(),
    protocolErrors: [],
    splitHeaders: 0,
    zeroLengthFrames: 0,
    maxAllocBytes: 0,
    badAllocs: 0,
  };
}

/** Adds one incarnation's server counters into the total (peaks: the most of any). */
function addServerStats(total: EchoServerStats, s: EchoServerStats): void {
  total.connections += s.connections;
  total.framesEchoed += s.framesEchoed;
  total.bytesEchoed += s.bytesEchoed;
  total.protocolErrors += s.protocolErrors;
  total.readPauses += s.readPauses;
  total.maxPendingOutBytes = Math.max(total.maxPendingOutBytes, s.maxPendingOutBytes);
  total.maxChunkBytes = Math.max(total.maxChunkBytes, s.maxChunkBytes);
}

/**
 * The actors of one echo scenario for an implementation variant (StackCore.start): the engine boots
 * them on each host, runs the substrate, then calls finish() and evaluates the checks.
 */
export function startEchoActors(
  scenario: EchoScenario,
  variant: EchoVariant,
): StackRun<EchoObservations, EchoCheckContext> {
  const obs: EchoObservations = { clients: {}, servers: {}, crash: null };
  for (const c of scenario.clients) obs.clients[c.name] = newClientObs(c);
  for (const x of scenario.servers) obs.servers[x.name] = newServerObs(x);
  const clientIndex = new Map(scenario.clients.map((c, i) => [c.name, i]));
  /** Live counters of every incarnation, folded into the observations at the end. */
  const serverStats = new Map<string, EchoServerStats[]>(scenario.servers.map((x) => [x.name, []]));
  const requesters = new Map<string, EchoRequester[]>(scenario.clients.map((c) => [c.name, []]));

  const runServer = async (x: ServerSpec, env: Env): Promise<void> => {
    const o = obs.servers[x.name]!;
    o.boots++;
    o.listeningAtUs = null;
    if (x.startUs > env.nowUs()) await env.sleep(x.startUs - env.nowUs());
    const wrapped = variant.serverEnv?.(env, x) ?? env;
    // Each connection gets its own tap: frame boundaries are per byte stream.
    const actorEnv = new ConnWrappingEnv(
      new ActorEnv(wrapped, o.protocolErrors, null),
      (conn) => new TappedServerConn(conn, new FrameTap(o)),
    );
    try {
      const server = await startEchoServer(actorEnv, x.listen, {
        ...(x.options.maxFrameBytes !== undefined ? { maxFrameBytes: x.options.maxFrameBytes } : {}),
        ...(x.options.maxPendingOutBytes !== undefined
          ? { maxPendingOutBytes: x.options.maxPendingOutBytes }
          : {}),
        frameDecoder: recordingDecoder(variant.serverDecoder ?? defaultFrameDecoder, o),
      });
      o.listeningAtUs = env.nowUs();
      serverStats.get(x.name)!.push(server.stats);
    } catch (e) {
      o.listenErrors.push((e as Error).message);
    }
  };

  const clientEnv = (c: ClientSpec, env: Env, o: EchoClientObs): Env =>
    new ActorEnv(variant.clientEnv?.(env, c) ?? env, o.protocolErrors, o.attempts);

  const runRequests = async (c: ClientSpec, env: Env, o: EchoClientObs): Promise<void> => {
    const opt = c.options;
    const requester = openEchoRequester(clientEnv(c, env, o), c.connect, {
      ...(opt.maxFrameBytes !== undefined ? { maxFrameBytes: opt.maxFrameBytes } : {}),
      ...(opt.maxPending !== undefined ? { maxPending: opt.maxPending } : {}),
      ...(opt.reconnectMinUs !== undefined ? { reconnectMinUs: opt.reconnectMinUs } : {}),
      ...(opt.reconnectMaxUs !== undefined ? { reconnectMaxUs: opt.reconnectMaxUs } : {}),
      ...(opt.maxConnectAttempts !== undefined ? { maxConnectAttempts: opt.maxConnectAttempts } : {}),
      ...(opt.connectTimeoutUs !== undefined ? { connectTimeoutUs: opt.connectTimeoutUs } : {}),
      frameDecoder: recordingDecoder(defaultFrameDecoder, o),
    });
    requesters.get(c.name)!.push(requester);
    const window = opt.window ?? 1;
    const me = clientIndex.get(c.name)!;
    let outstanding = 0;
    let room: { resolve(): void } | undefined;
    const settle = (): void => {
      outstanding--;
      const r = room;
      room = undefined;
      r?.resolve();
      if (outstanding === 0 && o.started.length === c.messages.length) o.doneAtUs ??= env.nowUs();
    };
    // After a restart the application picks up where it left off.
    for (let i = o.started.length; i < c.messages.length; i++) {
      while (outstanding >= window) {
        const wait = env.defer<void>();
        room = wait;
        await wait.promise;
      }
      const m = c.messages[i]!;
      if (m.gapUs > 0) await env.sleep(m.gapUs);
      const body = echoPayload(me, i, m.bytes);
      o.started.push({ index: i, atUs: env.nowUs() });
      outstanding++;
      if (outstanding > o.maxOutstanding) o.maxOutstanding = outstanding;
      requester.request(body).then(
        (reply) => {
          o.replies.push({
            index: i,
            session: null,
            atUs: env.nowUs(),
            bytes: reply.length,
            intact: bytesEqual(reply, body),
          });
          settle();
        },
        (e: unknown) => {
          o.failed.push({ index: i, atUs: env.nowUs(), code: codeOf(e) });
          settle();
        },
      );
    }
    if (outstanding === 0) o.doneAtUs ??= env.nowUs();
  };

  const runSessions = async (c: ClientSpec, env: Env, o: EchoClientObs): Promise<void> => {
    const opt = c.options;
    const me = clientIndex.get(c.name)!;
    const actorEnv = clientEnv(c, env, o);
    const decoder = recordingDecoder(defaultFrameDecoder, o);
    const sessions = sessionsOf(c);
    for (let s = o.sessions.length; s < sessions.length; s++) {
      const { first, end } = sessions[s]!;
      // The pause before a session: the gaps of its messages (a session sends them back to back).
      let gapUs = 0;
      for (let i = first; i < end; i++) gapUs += c.messages[i]!.gapUs;
      if (gapUs > 0) await env.sleep(gapUs);
      const messages: Uint8Array[] = [];
      for (let i = first; i < end; i++) {
        messages.push(echoPayload(me, i, c.messages[i]!.bytes));
        o.started.push({ index: i, atUs: env.nowUs() });
      }
      const rec = {
        index: s,
        first,
        end,
        startUs: env.nowUs(),
        endUs: null as number | null,
        replies: 0,
        error: null as string | null,
        closedCleanly: false,
      };
      o.sessions.push(rec);
      let ok = false;
      try {
        const outcome = await runEchoClient(actorEnv, c.connect, messages, {
          ...(opt.maxFrameBytes !== undefined ? { maxFrameBytes: opt.maxFrameBytes } : {}),
          ...(opt.connectTimeoutUs !== undefined ? { connectTimeoutUs: opt.connectTimeoutUs } : {}),
          ...(opt.timeoutUs !== undefined ? { timeoutUs: opt.timeoutUs } : {}),
          frameDecoder: decoder,
        });
        outcome.replies.forEach((reply, k) => {
          o.replies.push({
            index: first + k,
            session: s,
            atUs: env.nowUs(),
            bytes: reply.length,
            intact: messages[k] !== undefined && bytesEqual(reply, messages[k]),
          });
        });
        rec.replies = outcome.replies.length;
        rec.error = outcome.error;
        rec.closedCleanly = outcome.closedCleanly;
        ok = outcome.error === null && outcome.replies.length === messages.length;
      } catch (e) {
        // A protocol error (an EchoError): the replies so far went with the rejected promise.
        rec.error = e instanceof EchoError ? e.code : codeOf(e);
      }
      rec.endUs = env.nowUs();
      if (!ok) await env.sleep(opt.retryPauseUs ?? DEFAULT_RETRY_PAUSE_US);
    }
    o.doneAtUs ??= env.nowUs();
  };

  const runClient = async (c: ClientSpec, env: Env): Promise<void> => {
    const o = obs.clients[c.name]!;
    o.boots++;
    if (o.boots > 1) {
      // A restart: what was in flight is lost with the host (the application starts over from there).
      const settled = new Set([...o.replies.map((r) => r.index), ...o.failed.map((f) => f.index)]);
      for (const st of o.started)
        if (!settled.has(st.index))
          o.failed.push({ index: st.index, atUs: env.nowUs(), code: 'lost-with-host' });
      for (const s of o.sessions) s.endUs ??= env.nowUs();
    }
    if (c.startUs > env.nowUs()) await env.sleep(c.startUs - env.nowUs());
    if (c.mode === 'requests') await runRequests(c, env, o);
    else await runSessions(c, env, o);
  };

  return {
    observations: obs,
    boot(host, env) {
      for (const x of scenario.servers) if (x.host === host) void runServer(x, env);
      for (const c of scenario.clients) if (c.host === host) void runClient(c, env);
    },
    finish(crash) {
      obs.crash = crash;
      for (const [name, list] of serverStats)
        for (const s of list) addServerStats(obs.servers[name]!.stats, s);
      for (const [name, list] of requesters) {
        const total = obs.clients[name]!.requester;
        for (const r of list) {
          total.connectAttempts += r.stats.connectAttempts;
          total.connects += r.stats.connects;
          total.requests += r.stats.requests;
          total.resends += r.stats.resends;
          total.replies += r.stats.replies;
          total.protocolErrors += r.stats.protocolErrors;
          total.maxPending = Math.max(total.maxPending, r.stats.maxPending);
        }
      }
    },
    activity: () => activityOf(obs, serverStats, requesters),
    settled: () => scenario.clients.every((c) => obs.clients[c.name]!.doneAtUs !== null),
    context: (base: CheckContext): EchoCheckContext => base,
  };
}

/**
 * A counter that moves whenever an actor records something or a server or requester counts
 * something: a real substrate ends a run once it stops moving.
 */
function activityOf(
  obs: EchoObservations,
  serverStats: ReadonlyMap<string, EchoServerStats[]>,
  requesters: ReadonlyMap<string, EchoRequester[]>,
): number {
  let n = 0;
  for (const o of Object.values(obs.clients)) {
    n += o.boots + o.started.length + o.replies.length + o.failed.length + o.attempts.length;
    n += o.protocolErrors.length;
    for (const s of o.sessions) n += 1 + (s.endUs === null ? 0 : 1);
    for (const a of o.attempts) if (a.endUs !== null) n++;
    if (o.doneAtUs !== null) n++;
  }
  for (const o of Object.values(obs.servers)) n += o.boots + o.listenErrors.length + o.protocolErrors.length;
  for (const list of serverStats.values())
    for (const s of list) n += s.connections + s.framesEchoed + s.readPauses;
  for (const list of requesters.values())
    for (const r of list) n += r.stats.connectAttempts + r.stats.replies;
  return n;
}

/**
 * The last moment the scenario schedules something: a server or client starting, a message after
 * its gaps, the end of the fault phase when there are faults. A real run lasts at least this long.
 */
export function scheduledUntilUs(scenario: EchoScenario): number {
  let until = scenario.faults.faults.length > 0 ? scenario.faultPhaseUs : 0;
  for (const x of scenario.servers) until = Math.max(until, x.startUs);
  for (const c of scenario.clients)
    until = Math.max(
      until,
      c.messages.reduce((t, m) => t + m.gapUs, c.startUs),
    );
  return until;
}
