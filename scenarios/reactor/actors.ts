/**
 * The reactor stack's scenario actors: on each host, its reactor servers (impl/reactor serveReactor
 * with a lab handler, ./handlers.ts) watched by the taps (./taps.ts), and its clients: plain
 * StreamConn byte clients (no reactor on their side) running a script of actions and comparing every
 * byte they receive with the stream they sent. A museum variant composes through injection points:
 * the server's env (its streams), its handlers, its options, and the server object once listening.
 * Isomorphic.
 */
import type { ReactorHandlers } from '../../impl/reactor/connection.js';
import type { ReactorOptions } from '../../impl/reactor/options.js';
import { serveReactor, type ReactorServer } from '../../impl/reactor/server.js';
import type { Env, StreamConn } from '../../impl/runtime/env.js';
import type { PendingAction } from '../actions.js';
import type { CheckContext, ImplInfo, StackRun } from '../stack.js';
import { labHandlers } from './handlers.js';
import { clientStream, type ClientSpec, type ReactorScenario, type ServerSpec } from './model.js';
import type { ClientObs, ReactorObservations, ServerObs } from './observations.js';
import {
  SPEC_DEFAULT_IDLE_TIMEOUT_US,
  SPEC_DEFAULT_INPUT_HIGH_WATER_BYTES,
  SPEC_DEFAULT_LOOPS,
} from './reference.js';
import { ServerTap, ServerTapEnv } from './taps.js';

/** What one server incarnation of a variant swaps in (fresh per boot). */
export interface VariantParts {
  /** Wraps the env the reactor runs on, below the taps (so its streams). */
  env?(env: Env): Env;
  /** Wraps the handlers, below the taps. */
  handlers?(h: ReactorHandlers): ReactorHandlers;
  /** Changes the options the reactor is given. */
  options?(o: ReactorOptions): ReactorOptions;
  /** Sees the server once it listens. */
  server?(s: ReactorServer): void;
}

export interface ReactorVariant extends ImplInfo {
  parts?(): VariantParts;
}

export const NETLAB_VARIANT: ReactorVariant = {
  summary: 'netlab as built: the real reactor, nothing swapped',
  family: null,
};

export type ReactorCheckContext = CheckContext;

/** The reactor options a server spec sets, with checking on (the lab always checks pages). */
export function reactorOptionsOf(x: ServerSpec): ReactorOptions {
  const o: ReactorOptions = { checking: true };
  for (const [k, v] of Object.entries(x.options)) if (v !== undefined) (o as Record<string, unknown>)[k] = v;
  return o;
}

function newServerObs(x: ServerSpec): ServerObs {
  return {
    name: x.name,
    host: x.host,
    boots: 0,
    listenErrors: [],
    listeningAtUs: null,
    conns: [],
    charges: [],
    assignments: [],
  };
}

function newClientObs(c: ClientSpec): ClientObs {
  return {
    name: c.name,
    host: c.host,
    connectError: null,
    connectedAtUs: null,
    localAddress: null,
    sentBytes: 0,
    receivedBytes: 0,
    mismatchAt: -1,
    closed: null,
    closedAtUs: null,
    blockedWrites: 0,
    actionsDone: 0,
    scriptError: null,
    doneAtUs: null,
    ended: null,
  };
}

export function startReactorActors(
  scenario: ReactorScenario,
  variant: ReactorVariant,
): StackRun<ReactorObservations, ReactorCheckContext> {
  const obs: ReactorObservations = { clients: {}, servers: {}, crash: null };
  for (const x of scenario.servers) obs.servers[x.name] = newServerObs(x);
  for (const c of scenario.clients) obs.clients[c.name] = newClientObs(c);
  const startedAt = new Map<string, number>();
  return {
    observations: obs,
    boot(host, env) {
      for (const x of scenario.servers)
        if (x.host === host) void runServer(x, env, obs.servers[x.name]!, variant);
      scenario.clients.forEach((c, i) => {
        if (c.host !== host) return;
        const o = obs.clients[c.name]!;
        if (o.connectedAtUs !== null || o.connectError !== null) {
          // A restarted client host: the connection went with it; the script does not start over.
          o.doneAtUs ??= env.nowUs();
          o.scriptError ??= 'lost-with-host';
          return;
        }
        startedAt.set(c.name, c.startUs);
        void runClient(c, i, env, o);
      });
    },
    finish(crash) {
      obs.crash = crash;
    },
    activity: () => {
      let n = 0;
      for (const c of Object.values(obs.clients))
        n += c.sentBytes + c.receivedBytes + c.actionsDone + (c.closed === null ? 0 : 1);
      for (const x of Object.values(obs.servers)) for (const k of x.conns) n += k.events.length + k.bytesIn;
      return n;
    },
    settled: () =>
      scenario.clients.every((c) => obs.clients[c.name]!.doneAtUs !== null) &&
      Object.values(obs.servers).every((x) =>
        x.conns.every((k) => k.events.some((e) => e.ev === 'disconnect')),
      ),
    context: (base) => base,
    pending: () => {
      const out: PendingAction[] = [];
      for (const c of scenario.clients) {
        const o = obs.clients[c.name]!;
        if (o.doneAtUs === null && (startedAt.has(c.name) || o.connectedAtUs !== null))
          out.push({
            actor: c.name,
            what: `action #${o.actionsDone} (${c.actions[o.actionsDone]?.kind ?? 'end'})`,
            sinceUs: c.startUs,
          });
      }
      return out;
    },
  };
}

async function runServer(x: ServerSpec, env: Env, o: ServerObs, variant: ReactorVariant): Promise<void> {
  o.boots++;
  o.listeningAtUs = null;
  if (x.startUs > env.nowUs()) await env.sleep(x.startUs - env.nowUs());
  const parts = variant.parts?.() ?? {};
  const base = reactorOptionsOf(x);
  const options = parts.options?.(base) ?? base;
  const tap = new ServerTap(
    o,
    env,
    x.options.loops ?? SPEC_DEFAULT_LOOPS,
    x.options.costUsPerRequest ?? 0,
    x.options.inputHighWaterBytes ?? SPEC_DEFAULT_INPUT_HIGH_WATER_BYTES,
    x.options.idleTimeoutUs ?? SPEC_DEFAULT_IDLE_TIMEOUT_US,
  );
  const inner = parts.env?.(env) ?? env;
  const handlers = labHandlers(x, env, tap.hooks());
  try {
    const server = await serveReactor(
      new ServerTapEnv(inner, tap),
      x.listen,
      tap.wrapHandlers(parts.handlers?.(handlers) ?? handlers),
      options,
    );
    parts.server?.(server);
    o.listeningAtUs = env.nowUs();
  } catch (e) {
    o.listenErrors.push((e as Error).message);
  }
}

function codeOf(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : e instanceof Error ? e.name : 'unknown';
}

/** Connects; resolves with the connection, or undefined after recording the error. */
function connect(env: Env, c: ClientSpec, o: ClientObs): Promise<StreamConn | undefined> {
  const d = env.defer<StreamConn | undefined>();
  env.connect(c.connect, (error, conn) => {
    if (conn === undefined) {
      o.connectError = error?.code ?? 'unknown';
      d.resolve(undefined);
      return;
    }
    d.resolve(conn);
  });
  return d.promise;
}

/** One client: connect, then the script; every byte received is compared with the stream sent. */
async function runClient(c: ClientSpec, index: number, env: Env, o: ClientObs): Promise<void> {
  if (c.startUs > env.nowUs()) await env.sleep(c.startUs - env.nowUs());
  const { bytes: stream } = clientStream(index, c);
  const conn = await connect(env, c, o);
  if (conn === undefined) {
    o.doneAtUs = env.nowUs();
    return;
  }
  o.connectedAtUs = env.nowUs();
  o.localAddress = conn.localAddress;
  let writable: (() => void) | undefined;
  let arrived: (() => void) | undefined;
  conn.setHandlers({
    onData: (b) => {
      if (o.mismatchAt < 0)
        for (let i = 0; i < b.length; i++)
          if (o.receivedBytes + i >= stream.length || b[i] !== stream[o.receivedBytes + i]) {
            o.mismatchAt = o.receivedBytes + i;
            break;
          }
      o.receivedBytes += b.length;
      arrived?.();
    },
    onWritable: () => writable?.(),
    onClose: (e) => {
      o.closed = e === undefined ? 'clean' : e.code;
      o.closedAtUs = env.nowUs();
      writable?.();
      arrived?.();
    },
  });
  const send = async (n: number): Promise<void> => {
    const end = o.sentBytes + n;
    while (o.sentBytes < end) {
      if (o.closed !== null) throw new Error(o.closed);
      const k = conn.write(stream.subarray(o.sentBytes, end));
      o.sentBytes += k;
      if (o.sentBytes < end) {
        o.blockedWrites++;
        const d = env.defer<void>();
        writable = () => d.resolve(undefined);
        await d.promise;
        writable = undefined;
      }
    }
  };
  try {
    for (const a of c.actions) {
      switch (a.kind) {
        case 'send':
          await send(a.bytes);
          break;
        case 'frame':
          await send(4 + a.bytes);
          break;
        case 'pause-reading':
          conn.pauseReading();
          await env.sleep(a.forUs);
          conn.resumeReading();
          break;
        case 'idle':
          await env.sleep(a.forUs);
          break;
        case 'read': {
          const until = env.nowUs() + a.forUs;
          while (o.receivedBytes < o.sentBytes && o.closed === null && env.nowUs() < until) {
            const d = env.defer<void>();
            arrived = () => d.resolve(undefined);
            const timer = env.setTimer(until - env.nowUs(), () => d.resolve(undefined), 'client read');
            await d.promise;
            env.clearTimer(timer);
            arrived = undefined;
          }
          break;
        }
        case 'half-close':
          o.ended = 'half-close';
          conn.shutdown();
          break;
        case 'close':
          o.ended = 'close';
          conn.close();
          break;
        case 'reset':
          o.ended = 'reset';
          conn.reset();
          break;
      }
      o.actionsDone++;
      if (o.ended === 'close' || o.ended === 'reset') break;
    }
  } catch (e) {
    o.scriptError = codeOf(e);
  }
  o.doneAtUs = env.nowUs();
}
