/**
 * The echo stack's scenario fields: echo servers (a host, an address, their bounds) and echo clients
 * (a host, the address they connect to, how they talk, their messages with the pause before each),
 * beside the engine's envelope (scenarios/model.ts: hosts, network, faults, timing, checks).
 * Validated with zod so a case file read back from disk is checked field by field; errors name the
 * JSON path. Isomorphic: the browser viewer replays it.
 *
 * Two kinds of client (impl/echo/):
 * - `requests` (default): one long-lived requester (impl/echo/requester.ts). Each message is a
 *   request with an id; up to `window` are outstanding at once; a lost connection is redialed after
 *   a backoff and every unanswered request is resent, so every message is answered eventually.
 * - `sessions`: one-shot sessions (impl/echo/echo.ts runEchoClient). The messages are cut into
 *   sessions of `sessionMessages`; each session connects, sends its messages, half-closes and
 *   collects the echoes; a session a fault cuts short fails with its network error code and the next
 *   one starts after `retryPauseUs`. Nothing is resent.
 */
import { z } from 'zod';
import { DEFAULT_MAX_FRAME_BYTES } from '../../impl/echo/echo.js';
import { DEFAULT_MAX_PENDING, REQUEST_ID_BYTES } from '../../impl/echo/requester.js';
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

/** The echo stack's id, in the `stack` field of its scenarios. */
export const ECHO_STACK = 'echo';

/** Largest message of a scenario (bytes): 1 MiB, the echo protocol's default frame bound. */
export const MAX_MESSAGE_BYTES = 1 << 20;
/** Default pause between a failed session and the next one (sessions clients). */
export const DEFAULT_RETRY_PAUSE_US = 250_000;

/** tcp://HOST:PORT (HOST a scenario host, or 0.0.0.0 for a listener) or ipc:///path (unix://path). */
const address = z.string().min(1).max(200);

const serverSpec = z.strictObject({
  name,
  host: name,
  /** The address it listens on: tcp on its own host, or ipc. */
  listen: address,
  options: z
    .strictObject({
      /** Largest payload accepted (default 1 MiB); a bigger length prefix resets the connection. */
      maxFrameBytes: z.number().int().min(0).max(MAX_MESSAGE_BYTES).optional(),
      /** Per connection: reading pauses while more echo bytes wait to be sent (default 256 KiB). */
      maxPendingOutBytes: z
        .number()
        .int()
        .min(1)
        .max(1 << 24)
        .optional(),
    })
    .default({}),
  /** When it starts listening (virtual µs; default 0). */
  startUs: us(MAX_US).default(0),
});

const clientOptions = z.strictObject({
  /** Largest frame payload sent or accepted (default 1 MiB; requests: the 4-byte id included). */
  maxFrameBytes: z.number().int().min(REQUEST_ID_BYTES).max(MAX_MESSAGE_BYTES).optional(),
  /** requests: most requests the application keeps outstanding (default 1: one at a time). */
  window: z.number().int().min(1).max(1024).optional(),
  /** requests: the requester's bound on outstanding requests (default 64; at least the window). */
  maxPending: z.number().int().min(1).max(1024).optional(),
  /** requests: first reconnect wait, doubling per failed attempt (default 10 ms). */
  reconnectMinUs: us(60_000_000).optional(),
  /** requests: cap of the reconnect wait (default 1 s). */
  reconnectMaxUs: us(60_000_000).optional(),
  /** requests: attempts in a row without a reply before outstanding requests fail (default 32). */
  maxConnectAttempts: z.number().int().min(1).max(10_000).optional(),
  /** Connect timeout (default: the runtime's, 10 s in the simulator). */
  connectTimeoutUs: z.number().int().min(1).max(MAX_US).optional(),
  /** sessions: messages per session (default: all of them in one session). */
  sessionMessages: z.number().int().min(1).max(2000).optional(),
  /** sessions: give up on a session after this long (ETIMEDOUT; default never). */
  timeoutUs: z.number().int().min(1).max(MAX_US).optional(),
  /** sessions: pause after a failed session (default 250 ms). */
  retryPauseUs: us(MAX_US).optional(),
});

const clientSpec = z.strictObject({
  name,
  host: name,
  /** The address it connects to (nobody need listen there: then connects are refused). */
  connect: address,
  mode: z.enum(['requests', 'sessions']).default('requests'),
  options: clientOptions.default({}),
  /** When the client starts (virtual µs; default 0). */
  startUs: us(MAX_US).default(0),
  /** Its messages, in order; gapUs: the pause before the message is sent (requests: before it is requested). */
  messages: z
    .array(
      z.strictObject({
        bytes: z.number().int().min(0).max(MAX_MESSAGE_BYTES),
        gapUs: us(MAX_US).default(0),
      }),
    )
    .max(2000),
});

/** The echo stack's fields of a scenario (the envelope's are scenarios/model.ts). */
export const echoFieldsSchema = z.strictObject({
  servers: z.array(serverSpec).max(8),
  clients: z.array(clientSpec).min(1).max(16),
});

type Parsed = z.infer<typeof echoFieldsSchema>;
export type ServerSpec = Parsed['servers'][number];
export type ClientSpec = Parsed['clients'][number];
export type ClientOptions = ClientSpec['options'];
export type ClientMode = ClientSpec['mode'];
/** An echo scenario as JSON (the envelope and the echo fields) may omit defaulted fields. */
export type EchoScenarioInput = Omit<ScenarioBase, 'faults' | 'stack'> & {
  stack: string;
  faults: unknown;
} & z.input<typeof echoFieldsSchema>;
/** A parsed echo scenario: the envelope and the echo fields, every default filled in. */
export type EchoScenario = ScenarioBase & Parsed;

/**
 * Validates the echo fields of a scenario whose envelope `base` is valid; errors name the JSON path
 * of the first bad field and what it accepts. Beyond the schema: names are unique across servers and
 * clients, everything sits on a declared host, addresses parse, a tcp listener binds its own host, a
 * tcp client names a declared host, ipc stays on one host, no two servers share an address, a
 * client's window fits its maxPending, and every message fits the client's maxFrameBytes.
 */
export function parseEchoFields(base: ScenarioBase, json: Record<string, unknown>): EchoScenario {
  const r = echoFieldsSchema.safeParse(stackFields(json));
  if (!r.success) zodFail(r.error);
  const d = r.data;
  const fail = (path: string, why: string): never => {
    throw new ScenarioError(`scenario ${path}: ${why}`);
  };
  const hosts = new Set(base.hosts);
  const names = new Set<string>();
  const listeners = new Map<string, string>();
  const named = (n: string, host: string, at: string): void => {
    if (names.has(n)) fail(`${at}.name`, `duplicate server or client name '${n}'`);
    names.add(n);
    if (!hosts.has(host)) fail(`${at}.host`, `unknown host '${host}' (declared: ${base.hosts.join(', ')})`);
  };
  d.servers.forEach((s, i) => {
    const at = `servers[${i}]`;
    named(s.name, s.host, at);
    const a = parseAddr(s.listen, `${at}.listen`);
    if (a.transport === 'tcp' && a.host !== s.host && a.host !== '0.0.0.0')
      fail(`${at}.listen`, `a tcp listener binds its own host '${s.host}', not '${a.host}'`);
    const key = addressKey(s.listen);
    if (listeners.has(key)) fail(`${at}.listen`, `address ${s.listen} already has a listener`);
    listeners.set(key, s.host);
  });
  d.clients.forEach((c, i) => {
    const at = `clients[${i}]`;
    named(c.name, c.host, at);
    const a = parseAddr(c.connect, `${at}.connect`);
    if (a.transport === 'tcp' && !hosts.has(a.host))
      fail(`${at}.connect`, `tcp address names unknown host '${a.host}'`);
    const owner = listeners.get(addressKey(c.connect));
    if (a.transport === 'unix' && owner !== undefined && owner !== c.host)
      fail(
        `${at}.connect`,
        `ipc connects only within one host: ${c.connect} listens on '${owner}', not '${c.host}'`,
      );
    const o = c.options;
    const maxPending = o.maxPending ?? DEFAULT_MAX_PENDING;
    if (o.window !== undefined && o.window > maxPending)
      fail(`${at}.options.window`, `a window of ${o.window} exceeds maxPending ${maxPending}`);
    if (
      o.reconnectMinUs !== undefined &&
      o.reconnectMaxUs !== undefined &&
      o.reconnectMaxUs < o.reconnectMinUs
    )
      fail(`${at}.options.reconnectMaxUs`, 'must be >= reconnectMinUs');
    const onlyFor = (mode: ClientMode, keys: readonly (keyof ClientOptions)[]): void => {
      if (c.mode === mode) return;
      for (const k of keys)
        if (o[k] !== undefined)
          fail(`${at}.options.${k}`, `only a ${mode} client has it (this one is ${c.mode})`);
    };
    onlyFor('requests', ['window', 'maxPending', 'reconnectMinUs', 'reconnectMaxUs', 'maxConnectAttempts']);
    onlyFor('sessions', ['sessionMessages', 'timeoutUs', 'retryPauseUs']);
    const limit =
      (o.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES) - (c.mode === 'requests' ? REQUEST_ID_BYTES : 0);
    c.messages.forEach((m, j) => {
      if (m.bytes > limit)
        fail(
          `${at}.messages[${j}].bytes`,
          `${m.bytes} bytes do not fit the client's maxFrameBytes (at most ${limit}${c.mode === 'requests' ? ` with the ${REQUEST_ID_BYTES}-byte request id` : ''})`,
        );
    });
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

/** One key per address however it is spelled (ipc:// and unix:// are the same transport). */
export function addressKey(text: string): string {
  const a = parseAddress(text);
  return a.transport === 'tcp' ? `tcp://${a.host}:${a.port}` : `unix://${a.path}`;
}

/** The transport of an address as reports name it: tcp or ipc. */
export function transportOf(text: string): 'tcp' | 'ipc' {
  return parseAddress(text).transport === 'tcp' ? 'tcp' : 'ipc';
}

/** The transports a scenario's addresses use (for the report's `transport` field). */
export function echoTransports(s: EchoScenario): string[] {
  const set = new Set<string>();
  for (const x of s.servers) set.add(transportOf(x.listen));
  for (const c of s.clients) set.add(transportOf(c.connect));
  return [...set].sort();
}

/** The message index ranges of a sessions client's sessions: [first, end) each. */
export function sessionsOf(c: ClientSpec): { first: number; end: number }[] {
  const per = c.options.sessionMessages ?? Math.max(1, c.messages.length);
  const out: { first: number; end: number }[] = [];
  for (let first = 0; first < c.messages.length; first += per)
    out.push({ first, end: Math.min(c.messages.length, first + per) });
  return out;
}
