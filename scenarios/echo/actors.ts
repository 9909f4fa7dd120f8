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
  runEchoClient,
  startEchoServer,
  type EchoOutcome,
  type EchoServerStats,
  type FrameDecoderFactory,
} from '../../impl/echo/echo.js';
import {
  openEchoRequester,
  type EchoRequester,
  type EchoRequesterOptions,
  type EchoRequesterStats,
} from '../../impl/echo/requester.js';
import type { Env } from '../../impl/runtime/env.js';
import { bytesEqual } from '../../impl/runtime/bytes.js';
import type { PendingAction } from '../actions.js';
import type { CheckContext, ImplInfo, StackRun } from '../stack.js';
import type {
  EchoCheckContext,
  EchoClientObs,
  EchoObservations,
  EchoServerObs,
  SessionRecord,
} from './checks.js';
import { ConnWrappingEnv } from './conn.js';
import {
  DEFAULT_RETRY_PAUSE_US,
  sessionsOf,
  type ClientSpec,
  type EchoScenario,
  type ServerSpec,
} from './model.js';
import { ActorEnv, FrameTap, recordingDecoder, TappedServerConn } from './taps.js';

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

// The heap bound lives with the recording decoder it bounds (taps.ts); re-exported, as before.
export { SIM_HEAP_BYTES } from './taps.js';

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

/** The stable code of an error (EchoError / NetError `code`), or its name. */
function codeOf(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : e instanceof Error ? e.name : 'unknown';
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
 * What the actors of one scenario share: the scenario's observations, each client's position (its
 * payloads' identity), and the live counters of every server and requester incarnation, folded
 * into the observations at the end.
 */
interface EchoActorsState {
  readonly variant: EchoVariant;
  readonly obs: EchoObservations;
  readonly clientIndex: ReadonlyMap<string, number>;
  readonly serverStats: ReadonlyMap<string, EchoServerStats[]>;
  readonly requesters: ReadonlyMap<string, EchoRequester[]>;
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
  const state: EchoActorsState = {
    variant,
    obs,
    clientIndex: new Map(scenario.clients.map((c, i) => [c.name, i])),
    serverStats: new Map<string, EchoServerStats[]>(scenario.servers.map((x) => [x.name, []])),
    requesters: new Map<string, EchoRequester[]>(scenario.clients.map((c) => [c.name, []])),
  };

  return {
    observations: obs,
    boot(host, env) {
      for (const x of scenario.servers) if (x.host === host) void runServer(state, x, env);
      for (const c of scenario.clients) if (c.host === host) void runClient(state, c, env);
    },
    finish(crash) {
      obs.crash = crash;
      for (const [name, list] of state.serverStats)
        for (const s of list) addServerStats(obs.servers[name]!.stats, s);
      for (const [name, list] of state.requesters)
        for (const r of list) addRequesterStats(obs.clients[name]!.requester, r.stats);
    },
    activity: () => activityOf(obs, state.serverStats, state.requesters),
    settled: () => scenario.clients.every((c) => obs.clients[c.name]!.doneAtUs !== null),
    context: (base: CheckContext): EchoCheckContext => base,
    pending: () => pendingOf(scenario, obs),
  };
}

/**
 * The clients' actions still pending: in requests mode each message started without a reply or a
 * failure; in sessions mode each session still open (its messages end with it, echoed or lost to
 * the error it ended with).
 */
function pendingOf(scenario: EchoScenario, obs: EchoObservations): PendingAction[] {
  const out: PendingAction[] = [];
  for (const c of scenario.clients) {
    const o = obs.clients[c.name]!;
    if (o.mode === 'sessions') {
      for (const x of o.sessions)
        if (x.endUs === null)
          out.push({
            actor: c.name,
            what: `session #${x.index} (messages ${x.first}..${x.end - 1})`,
            sinceUs: x.startUs,
          });
      continue;
    }
    const settled = new Set([...o.replies.map((r) => r.index), ...o.failed.map((f) => f.index)]);
    for (const st of o.started)
      if (!settled.has(st.index)) out.push({ actor: c.name, what: `message #${st.index}`, sinceUs: st.atUs });
  }
  return out;
}

/** Adds one requester incarnation's counters into the client's total (maxPending: the most of any). */
function addRequesterStats(total: EchoClientObs['requester'], s: EchoRequesterStats): void {
  total.connectAttempts += s.connectAttempts;
  total.connects += s.connects;
  total.requests += s.requests;
  total.resends += s.resends;
  total.replies += s.replies;
  total.protocolErrors += s.protocolErrors;
  total.maxPending = Math.max(total.maxPending, s.maxPending);
}

/**
 * One boot of server `x`: waits for its start time, then listens on the variant's env with every
 * connection tapped (frame structure) and the decoder's allocations recorded; a listen failure is
 * an observation, not an error.
 */
async function runServer(state: EchoActorsState, x: ServerSpec, env: Env): Promise<void> {
  const { variant } = state;
  const o = state.obs.servers[x.name]!;
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
    state.serverStats.get(x.name)!.push(server.stats);
  } catch (e) {
    o.listenErrors.push((e as Error).message);
  }
}

/**
 * One boot of client `c`: after a restart, settles what the lost incarnation left in flight; then
 * waits for its start time and runs its messages as requests or as sessions.
 */
async function runClient(state: EchoActorsState, c: ClientSpec, env: Env): Promise<void> {
  const o = state.obs.clients[c.name]!;
  o.boots++;
  if (o.boots > 1) settleLostWithHost(o, env.nowUs());
  if (c.startUs > env.nowUs()) await env.sleep(c.startUs - env.nowUs());
  if (c.mode === 'requests') await runRequests(state, c, env, o);
  else await runSessions(state, c, env, o);
}

/**
 * A restart: what was in flight is lost with the host (the application starts over from there).
 * Every started message without an outcome fails as 'lost-with-host'; open sessions end now.
 */
function settleLostWithHost(o: EchoClientObs, nowUs: number): void {
  const settled = new Set([...o.replies.map((r) => r.index), ...o.failed.map((f) => f.index)]);
  for (const st of o.started)
    if (!settled.has(st.index)) o.failed.push({ index: st.index, atUs: nowUs, code: 'lost-with-host' });
  for (const s of o.sessions) s.endUs ??= nowUs;
}

/** The env a client's code runs on: the variant's, recording its protocol errors and connect attempts. */
function clientEnv(variant: EchoVariant, c: ClientSpec, env: Env, o: EchoClientObs): Env {
  return new ActorEnv(variant.clientEnv?.(env, c) ?? env, o.protocolErrors, o.attempts);
}

/** The requester options a client's spec sets (unset ones keep the requester's defaults). */
function requesterOptions(opt: ClientSpec['options'], o: EchoClientObs): EchoRequesterOptions {
  return {
    ...(opt.maxFrameBytes !== undefined ? { maxFrameBytes: opt.maxFrameBytes } : {}),
    ...(opt.maxPending !== undefined ? { maxPending: opt.maxPending } : {}),
    ...(opt.reconnectMinUs !== undefined ? { reconnectMinUs: opt.reconnectMinUs } : {}),
    ...(opt.reconnectMaxUs !== undefined ? { reconnectMaxUs: opt.reconnectMaxUs } : {}),
    ...(opt.maxConnectAttempts !== undefined ? { maxConnectAttempts: opt.maxConnectAttempts } : {}),
    ...(opt.connectTimeoutUs !== undefined ? { connectTimeoutUs: opt.connectTimeoutUs } : {}),
    frameDecoder: recordingDecoder(defaultFrameDecoder, o),
  };
}

/**
 * A requests-mode client: one requester, the messages sent as requests with at most `window`
 * outstanding, each reply (or failure) recorded; resumes after the last started message on a restart.
 */
async function runRequests(state: EchoActorsState, c: ClientSpec, env: Env, o: EchoClientObs): Promise<void> {
  const opt = c.options;
  const requester = openEchoRequester(
    clientEnv(state.variant, c, env, o),
    c.connect,
    requesterOptions(opt, o),
  );
  state.requesters.get(c.name)!.push(requester);
  const window = opt.window ?? 1;
  const me = state.clientIndex.get(c.name)!;
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
}

/**
 * A sessions-mode client: each session is one connection sending its messages back to back (after
 * the pause their gaps add up to) and reading the echoes; a session that fails is followed by the
 * retry pause. Resumes after the last started session on a restart.
 */
async function runSessions(state: EchoActorsState, c: ClientSpec, env: Env, o: EchoClientObs): Promise<void> {
  const opt = c.options;
  const me = state.clientIndex.get(c.name)!;
  const actorEnv = clientEnv(state.variant, c, env, o);
  const decoder = recordingDecoder(defaultFrameDecoder, o);
  const sessions = sessionsOf(c);
  for (let s = o.sessions.length; s < sessions.length; s++) {
    const { first, end } = sessions[s]!;
    const gapUs = sessionGapUs(c, first, end);
    if (gapUs > 0) await env.sleep(gapUs);
    const { messages, rec } = startSession(o, c, me, s, first, end, env.nowUs());
    let ok = false;
    try {
      const outcome = await runEchoClient(actorEnv, c.connect, messages, {
        ...(opt.maxFrameBytes !== undefined ? { maxFrameBytes: opt.maxFrameBytes } : {}),
        ...(opt.connectTimeoutUs !== undefined ? { connectTimeoutUs: opt.connectTimeoutUs } : {}),
        ...(opt.timeoutUs !== undefined ? { timeoutUs: opt.timeoutUs } : {}),
        frameDecoder: decoder,
      });
      ok = recordSessionOutcome(o, rec, outcome, messages, env.nowUs());
    } catch (e) {
      // A protocol error (an EchoError): the replies so far went with the rejected promise.
      rec.error = e instanceof EchoError ? e.code : codeOf(e);
    }
    rec.endUs = env.nowUs();
    if (!ok) await env.sleep(opt.retryPauseUs ?? DEFAULT_RETRY_PAUSE_US);
  }
  o.doneAtUs ??= env.nowUs();
}

/** The pause before a session: the gaps of its messages [first, end) (a session sends them back to back). */
function sessionGapUs(c: ClientSpec, first: number, end: number): number {
  let gapUs = 0;
  for (let i = first; i < end; i++) gapUs += c.messages[i]!.gapUs;
  return gapUs;
}

/**
 * Starts session `s` (messages [first, end)) at `nowUs`: records its messages as started and the
 * session as open; returns the payloads to send and the session's record.
 */
function startSession(
  o: EchoClientObs,
  c: ClientSpec,
  me: number,
  s: number,
  first: number,
  end: number,
  nowUs: number,
): { messages: Uint8Array[]; rec: SessionRecord } {
  const messages: Uint8Array[] = [];
  for (let i = first; i < end; i++) {
    messages.push(echoPayload(me, i, c.messages[i]!.bytes));
    o.started.push({ index: i, atUs: nowUs });
  }
  const rec: SessionRecord = {
    index: s,
    first,
    end,
    startUs: nowUs,
    endUs: null,
    replies: 0,
    error: null,
    closedCleanly: false,
  };
  o.sessions.push(rec);
  return { messages, rec };
}

/**
 * Records how a session that ran to its end went: each echo (against the message it answers) at
 * `nowUs`, and the session's outcome. True when every message was echoed without an error.
 */
function recordSessionOutcome(
  o: EchoClientObs,
  rec: SessionRecord,
  outcome: EchoOutcome,
  messages: readonly Uint8Array[],
  nowUs: number,
): boolean {
  outcome.replies.forEach((reply, k) => {
    o.replies.push({
      index: rec.first + k,
      session: rec.index,
      atUs: nowUs,
      bytes: reply.length,
      intact: messages[k] !== undefined && bytesEqual(reply, messages[k]),
    });
  });
  rec.replies = outcome.replies.length;
  rec.error = outcome.error;
  rec.closedCleanly = outcome.closedCleanly;
  return outcome.error === null && outcome.replies.length === messages.length;
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
