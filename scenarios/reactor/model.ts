/**
 * The reactor stack's scenario fields: reactor servers (a host, an address, the reactor options the
 * generators draw, a handler kind) and plain byte clients (a host, the address they connect to, a
 * script of actions), beside the engine's envelope (scenarios/model.ts). Validated with zod; errors
 * name the JSON path. Isomorphic.
 *
 * Handler kinds (./handlers.ts): `echo` (impl/reactor/echo.ts: every byte written back), `framed`
 * (u32 big-endian length-prefixed frames read with waitRead + next, each answered with itself; keeps
 * going after a write timeout), `slow` (echo that charges its loop `handlerUs` of CPU per request),
 * `stall` (echo that stops consuming for `handlerUs` on its first request: backpressure), `peek`
 * (consumes only complete frames and returns otherwise: the reactor's spin detection closes it).
 *
 * Client actions, in order, on one plain StreamConn (no reactor on the client side): `send` (bytes of
 * the client's deterministic stream), `frame` (a u32 length then that many bytes), `pause-reading`
 * (for forUs), `idle` (forUs), `half-close`, `close`, `reset`.
 */
import { z } from 'zod';
import { parseAddress } from '../../impl/runtime/env.js';
import {
  MAX_US,
  scenarioName as name,
  ScenarioError,
  stackFields,
  us,
  zodFail,
  type Scenario as ScenarioBase,
} from '../model.js';

export { SCENARIO_VERSION, ScenarioError } from '../model.js';

export const REACTOR_STACK = 'reactor';
/** Largest send or frame of one action (bytes). */
export const MAX_ACTION_BYTES = 1 << 20;
/** Length prefix of a frame. */
export const FRAME_HEADER_BYTES = 4;

export const HANDLER_KINDS = ['echo', 'framed', 'slow', 'stall', 'peek'] as const;
export type HandlerKind = (typeof HANDLER_KINDS)[number];

const address = z.string().min(1).max(200);
const bytes = z
  .number()
  .int()
  .min(1)
  .max(1 << 30);

const serverOptions = z.strictObject({
  loops: z.number().int().min(1).max(64).optional(),
  loadBalance: z.enum(['round-robin', 'random', 'least-connections']).optional(),
  idleTimeoutUs: us(MAX_US).optional(),
  readTimeoutUs: us(MAX_US).optional(),
  writeTimeoutUs: us(MAX_US).optional(),
  inputHighWaterBytes: bytes.optional(),
  maxInputBytes: bytes.optional(),
  outputHighWaterBytes: z
    .number()
    .int()
    .min(0)
    .max(1 << 30)
    .optional(),
  maxConnections: z.number().int().min(1).max(100_000).optional(),
  maxUnconsumedRuns: z.number().int().min(1).max(1_000_000).optional(),
  costUsPerRequest: us(MAX_US).optional(),
});

const serverSpec = z.strictObject({
  name,
  host: name,
  listen: address,
  handler: z.enum(HANDLER_KINDS).default('echo'),
  /** slow: CPU charged per request; stall: how long the first request stops consuming (µs). */
  handlerUs: us(MAX_US).default(0),
  options: serverOptions.default({}),
  startUs: us(MAX_US).default(0),
});

const action = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('send'), bytes: z.number().int().min(0).max(MAX_ACTION_BYTES) }),
  z.strictObject({ kind: z.literal('frame'), bytes: z.number().int().min(0).max(MAX_ACTION_BYTES) }),
  z.strictObject({ kind: z.literal('pause-reading'), forUs: us(MAX_US) }),
  z.strictObject({ kind: z.literal('idle'), forUs: us(MAX_US) }),
  /** Waits until as many bytes came back as were sent, the connection closed, or forUs passed. */
  z.strictObject({ kind: z.literal('read'), forUs: us(MAX_US) }),
  z.strictObject({ kind: z.literal('half-close') }),
  z.strictObject({ kind: z.literal('close') }),
  z.strictObject({ kind: z.literal('reset') }),
]);

const clientSpec = z.strictObject({
  name,
  host: name,
  connect: address,
  startUs: us(MAX_US).default(0),
  actions: z.array(action).max(200),
});

export const reactorFieldsSchema = z.strictObject({
  servers: z.array(serverSpec).min(1).max(4),
  clients: z.array(clientSpec).min(1).max(32),
});

type Parsed = z.infer<typeof reactorFieldsSchema>;
export type ServerSpec = Parsed['servers'][number];
export type ServerOptions = ServerSpec['options'];
export type ClientSpec = Parsed['clients'][number];
export type ClientAction = ClientSpec['actions'][number];
export type ReactorScenarioInput = Omit<ScenarioBase, 'faults' | 'stack'> & {
  stack: string;
  faults: unknown;
} & z.input<typeof reactorFieldsSchema>;
export type ReactorScenario = ScenarioBase & Parsed;

/**
 * Validates the reactor fields of a scenario whose envelope is valid: unique names, declared hosts,
 * addresses that parse, a tcp listener on its own host, one listener per address, and options that
 * fit together (maxInputBytes at least inputHighWaterBytes).
 */
export function parseReactorFields(base: ScenarioBase, json: Record<string, unknown>): ReactorScenario {
  const r = reactorFieldsSchema.safeParse(stackFields(json));
  if (!r.success) zodFail(r.error);
  const d = r.data;
  const fail = (path: string, why: string): never => {
    throw new ScenarioError(`scenario ${path}: ${why}`);
  };
  const hosts = new Set(base.hosts);
  const names = new Set<string>();
  const listeners = new Set<string>();
  const named = (n: string, host: string, at: string): void => {
    if (names.has(n)) fail(`${at}.name`, `duplicate server or client name '${n}'`);
    names.add(n);
    if (!hosts.has(host)) fail(`${at}.host`, `unknown host '${host}' (declared: ${base.hosts.join(', ')})`);
  };
  d.servers.forEach((s, i) => {
    const at = `servers[${i}]`;
    named(s.name, s.host, at);
    const a = parseAddr(s.listen, `${at}.listen`);
    if (a.transport === 'tcp' && a.host !== s.host)
      fail(`${at}.listen`, `a tcp listener binds its own host '${s.host}', not '${a.host}'`);
    if (listeners.has(addressKey(s.listen)))
      fail(`${at}.listen`, `address ${s.listen} already has a listener`);
    listeners.add(addressKey(s.listen));
    const o = s.options;
    if (
      o.maxInputBytes !== undefined &&
      o.inputHighWaterBytes !== undefined &&
      o.maxInputBytes < o.inputHighWaterBytes
    )
      fail(`${at}.options.maxInputBytes`, 'must be at least inputHighWaterBytes');
  });
  d.clients.forEach((c, i) => {
    const at = `clients[${i}]`;
    named(c.name, c.host, at);
    const a = parseAddr(c.connect, `${at}.connect`);
    if (a.transport === 'tcp' && !hosts.has(a.host))
      fail(`${at}.connect`, `tcp address names unknown host '${a.host}'`);
  });
  return { ...base, servers: d.servers, clients: d.clients };
}

function parseAddr(text: string, at: string): ReturnType<typeof parseAddress> {
  try {
    const a = parseAddress(text);
    if (!/^(tcp|ipc|unix):\/\//.test(text)) throw new Error('expected tcp://HOST:PORT or ipc:///path');
    return a;
  } catch (e) {
    throw new ScenarioError(`scenario ${at}: ${(e as Error).message}`);
  }
}

export function addressKey(text: string): string {
  const a = parseAddress(text);
  return a.transport === 'tcp' ? `tcp://${a.host}:${a.port}` : `unix://${a.path}`;
}

export function reactorTransports(s: ReactorScenario): string[] {
  const set = new Set<string>();
  for (const x of s.servers) set.add(parseAddress(x.listen).transport === 'tcp' ? 'tcp' : 'ipc');
  return [...set].sort();
}

/** The server a client's address names, or undefined (nobody listens there). */
export function serverOf(s: ReactorScenario, c: ClientSpec): ServerSpec | undefined {
  const key = addressKey(c.connect);
  return s.servers.find((x) => addressKey(x.listen) === key);
}

/**
 * The byte stream a client writes, in full, and where each frame it writes ends (offsets just past
 * it). Deterministic per client position: byte i of a `send` is a function of the client and the
 * stream offset, so reordering, duplication and cross-talk show; a frame is its u32 length, then
 * stream bytes. Consecutive bytes always differ.
 */
export function clientStream(clientIndex: number, c: ClientSpec): { bytes: Uint8Array; frameEnds: number[] } {
  let total = 0;
  for (const a of c.actions)
    if (a.kind === 'send') total += a.bytes;
    else if (a.kind === 'frame') total += FRAME_HEADER_BYTES + a.bytes;
  const out = new Uint8Array(total);
  const frameEnds: number[] = [];
  let at = 0;
  const fill = (n: number): void => {
    for (let i = 0; i < n; i++, at++) out[at] = (at * 31 + clientIndex * 17 + (at >>> 8)) & 0xff;
  };
  for (const a of c.actions) {
    if (a.kind === 'send') fill(a.bytes);
    else if (a.kind === 'frame') {
      out[at] = (a.bytes >>> 24) & 0xff;
      out[at + 1] = (a.bytes >>> 16) & 0xff;
      out[at + 2] = (a.bytes >>> 8) & 0xff;
      out[at + 3] = a.bytes & 0xff;
      at += FRAME_HEADER_BYTES;
      fill(a.bytes);
      frameEnds.push(at);
    }
  }
  return { bytes: out, frameEnds };
}

/** The last moment a client's script schedules something (its start plus its pauses). */
export function scheduledUntilUs(s: ReactorScenario): number {
  let until = s.faults.faults.length > 0 ? s.faultPhaseUs : 0;
  for (const x of s.servers) until = Math.max(until, x.startUs + (x.handler === 'stall' ? x.handlerUs : 0));
  for (const c of s.clients) {
    let t = c.startUs;
    for (const a of c.actions)
      if (a.kind === 'pause-reading' || a.kind === 'idle' || a.kind === 'read') t += a.forUs;
    until = Math.max(until, t);
  }
  return until;
}
