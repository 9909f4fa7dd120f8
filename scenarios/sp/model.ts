/**
 * The SP stack's scenario fields: topology (SP sockets with their protocol, options, addresses and
 * who dials whom, raw byte-level peers) and workload (who sends what, when), beside the engine's
 * envelope (scenarios/model.ts: hosts, network, faults, timing, checks). Validated with zod so a case
 * file read back from disk is checked field by field. Isomorphic: the browser viewer replays it.
 */
import { z } from 'zod';
import { OPTION_NAMES, type OptionValues } from '../../impl/sp/options.js';
import { impoliteAppProblem, impoliteAppSchema } from './impolite-model.js';
import { parseSpUrl } from '../../impl/sp/transport/url.js';
import { specValueValid, SPEC_OPTION_RULES } from './option-reference.js';
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

/** The SP stack's id, in the `stack` field of its scenarios. */
export const SP_STACK = 'sp';

/**
 * SP protocols a scenario socket may speak (nng names); grows as protocols land. The x-names are the
 * raw variants (xreq0 / xrep0 for REQ / REP, and so on): the application or a device handles their
 * headers itself. A surveyor0 sender makes each workload item a survey and collects responses until
 * SURVEY-TIME expires. push0 sends (`send`), pull0 receives (`sink`).
 */
export const SCENARIO_PROTOCOLS = [
  'pair0',
  'req0',
  'rep0',
  'xreq0',
  'xrep0',
  'surveyor0',
  'respondent0',
  'pub0',
  'sub0',
  'push0',
  'pull0',
  'pair1',
  'bus0',
  'star',
  'xpair0',
  'xpair1',
  'xpub0',
  'xsub0',
  'xpush0',
  'xpull0',
  'xbus0',
  'xstar',
  'xsurveyor0',
  'xrespondent0',
] as const;
export type ScenarioProtocol = (typeof SCENARIO_PROTOCOLS)[number];

/**
 * The raw protocol a device socket of each raw protocol forwards to: the two sockets of a device are
 * each other's peers (impl/sp/core/device.ts). Protocols that are their own peer (PAIR, BUS, STAR)
 * may also run a loopback device on one socket (no partner): an XBUS loopback is a hub.
 */
export const DEVICE_PARTNER: Partial<Record<ScenarioProtocol, ScenarioProtocol>> = {
  xreq0: 'xrep0',
  xrep0: 'xreq0',
  xpub0: 'xsub0',
  xsub0: 'xpub0',
  xpush0: 'xpull0',
  xpull0: 'xpush0',
  xsurveyor0: 'xrespondent0',
  xrespondent0: 'xsurveyor0',
  xpair0: 'xpair0',
  xpair1: 'xpair1',
  xbus0: 'xbus0',
  xstar: 'xstar',
};

/** A SUB topic prefix: lower-case hex bytes, at most 16 of them. */
const hexTopic = z.string().regex(/^([0-9a-f]{2}){0,16}$/, 'lower-case hex bytes (at most 16)');

/**
 * What the application on a socket does. send: sends its workload items in order (REQ: each is a
 * request and waits for its reply; XREQ: builds each request's id header itself, from a per-socket
 * counter with the top bit set, and keeps up to `pipeline` requests outstanding). sink: receives
 * forever. echo: receives and sends each message back (REP answers requests; XREP sends the message
 * back with its header, the backtrace, unchanged). device: forwards between this raw socket and its
 * `partner` (the other raw socket of the device, on the same host, its peer protocol), as
 * mangos.Device / nng_device; without a partner, a loopback device on this one socket (protocols
 * that are their own peer: an XBUS loopback is a hub).
 * recvDelayUs: the application's pause before each receive (a slow consumer); stallUs: it stops
 * receiving for that long from stallAtUs (a stalled peer).
 */
const app = z.strictObject({
  kind: z.enum(['send', 'sink', 'echo', 'device']),
  recvDelayUs: us(10_000_000).optional(),
  stallAtUs: us(MAX_US).optional(),
  stallUs: us(MAX_US).optional(),
  /** XREQ senders: most requests outstanding at once (default 1: lockstep, like REQ). */
  pipeline: z.number().int().min(1).max(1024).optional(),
  /** Devices: the name of the other raw socket of the device. */
  partner: name.optional(),
  /**
   * SUB sinks: the topic prefixes subscribed to when the socket opens, as lower-case hex bytes
   * ("" = everything; none = nothing, as SUB itself).
   */
  subscribe: z.array(hexTopic).max(16).optional(),
  /** SUB sinks: when (virtual µs) the application unsubscribes the `unsubscribe` topics. */
  unsubscribeAtUs: us(MAX_US).optional(),
  /** SUB sinks: topics (hex, each one of `subscribe`) dropped at unsubscribeAtUs. */
  unsubscribe: z.array(hexTopic).max(16).optional(),
  /**
   * Sinks, echoes and surveyors: how many receives that fail with ErrRecvTimeout (RECV-DEADLINE) the
   * application shrugs off and calls recv again, in all (default 0: a timed-out receive ends the
   * application, as any failure does; a surveyor then moves on to its next survey).
   */
  recvTimeoutRetries: z.number().int().min(0).max(10_000).optional(),
  /**
   * REQ and SURVEYOR senders: the application opens one context with these options (they override
   * the socket's) and sends and receives on it instead of the socket's default context.
   */
  contextOptions: z
    .strictObject({
      'RECV-DEADLINE': us(MAX_US).min(1).nullable().optional(),
      'SEND-DEADLINE': us(MAX_US).min(1).nullable().optional(),
      'RETRY-TIME': us(MAX_US).optional(),
      'SURVEY-TIME': us(MAX_US).optional(),
    })
    .optional(),
  /** Impolite behaviours (contexts, abandons, context closes, close after send): impolite-model.ts. */
  impolite: impoliteAppSchema.optional(),
});

/**
 * A value an option probe sets: JSON values as they are, `{ hex }` for bytes (a Uint8Array), and
 * `{ special }` for values JSON cannot hold (NaN, ±Infinity, a bigint 1n, a plain object).
 */
export const probeValueSchema = z.union([
  z.number(),
  z.boolean(),
  z.null(),
  z.string().max(256),
  z.strictObject({
    hex: z
      .string()
      .regex(/^([0-9a-f]{2})*$/, 'lower-case hex bytes')
      .max(512),
  }),
  z.strictObject({ special: z.enum(['NaN', 'Infinity', '-Infinity', 'bigint', 'object']) }),
]);
export type ProbeValue = z.infer<typeof probeValueSchema>;

const optionProbe = z.strictObject({
  /** Where the option is set: the socket (default), or a fresh dialer / listener of it. */
  target: z.enum(['socket', 'dialer', 'listener']).default('socket'),
  name: z.string().max(64),
  value: probeValueSchema,
});
export type OptionProbe = z.infer<typeof optionProbe>;

const socketSpec = z.strictObject({
  name,
  host: name,
  protocol: z.enum(SCENARIO_PROTOCOLS),
  /** SP addresses this socket listens on (tcp://host:port on its own host, ipc:///path, inproc://name). */
  listen: z.array(z.string()).max(4).default([]),
  /** SP addresses it dials (asynchronously, redialing with backoff). */
  dial: z.array(z.string()).max(8).default([]),
  /** Socket options (mangos names); numbers are µs or counts as in impl/sp/options.ts. */
  options: z.record(z.string(), z.union([z.number(), z.boolean(), z.null()])).default({}),
  /**
   * Option probes (the options family): after the socket opens and before it listens or dials,
   * the actor reads each option, sets the value through the public API (setOption on the socket,
   * or on a dialer / listener made for the probe and never started) and reads it back, recording
   * the outcomes (SocketObs.optionProbes). Values may be invalid on purpose.
   */
  optionProbes: z.array(optionProbe).max(128).optional(),
  /** Timer options set on each of its dialers and listeners, overriding the socket's (µs). */
  endpointOptions: z
    .strictObject({
      'HANDSHAKE-TIMEOUT': us(MAX_US).min(1).optional(),
      'RECONNECT-TIME': us(MAX_US).min(1).optional(),
      'MAX-RECONNECT-TIME': us(MAX_US).optional(),
    })
    .optional(),
  app,
  /** When the socket opens (virtual µs; default 0). */
  startUs: us(MAX_US).default(0),
  /** When the application closes the socket (virtual µs, >= startUs; default never). */
  closeAtUs: us(MAX_US).optional(),
});

/**
 * A raw byte-level peer: connects to an address and plays a script of writes (hex) and actions with
 * delays, then stays silent (never reading past what the kernel buffers is not modelled: it reads and
 * counts). Handshake and framing scenarios use it for malformed, truncated, slow or silent peers.
 */
const rawStep = z.union([
  z.strictObject({
    afterUs: us(MAX_US),
    write: z.string().regex(/^([0-9a-f]{2})*$/, 'lower-case hex bytes'),
  }),
  z.strictObject({ afterUs: us(MAX_US), action: z.enum(['close', 'reset']) }),
]);

const rawPeer = z.strictObject({
  name,
  host: name,
  dial: z.string(),
  startUs: us(MAX_US).default(0),
  script: z.array(rawStep).max(64),
});

/**
 * The largest workload message: 4 MiB, so the boundary properties can send messages above mangos'
 * 1 MiB MAX-RCV-SIZE default with the limit raised (issue #18); far below SIM_HEAP_BYTES (actors.ts).
 */
export const WORKLOAD_MESSAGE_MAX_BYTES = 4 * 1024 * 1024;

/** The SP stack's fields of a scenario (the envelope's are scenarios/model.ts). */
export const spFieldsSchema = z.strictObject({
  sockets: z.array(socketSpec).min(1).max(16),
  rawPeers: z.array(rawPeer).max(8).default([]),
  /** Messages sent by `send` sockets, in order per socket; gapUs: the pause before the send. */
  workload: z.strictObject({
    sends: z
      .array(
        z.strictObject({
          socket: name,
          bytes: z.number().int().min(0).max(WORKLOAD_MESSAGE_MAX_BYTES),
          gapUs: us(MAX_US).default(0),
        }),
      )
      .max(2000),
  }),
});

type Parsed = z.infer<typeof spFieldsSchema>;
export type SocketSpec = Omit<Parsed['sockets'][number], 'options'> & { options: Partial<OptionValues> };
export type RawPeerSpec = Parsed['rawPeers'][number];
export type RawStep = RawPeerSpec['script'][number];
export type AppSpec = SocketSpec['app'];
/** An SP scenario as JSON (the envelope and the SP fields) may omit defaulted fields. */
export type ScenarioInput = Omit<ScenarioBase, 'faults' | 'stack'> & {
  stack: string;
  faults: unknown;
} & z.input<typeof spFieldsSchema>;
/** A parsed SP scenario: the envelope and the SP fields, every default filled in. */
export type Scenario = ScenarioBase & Omit<Parsed, 'sockets'> & { sockets: SocketSpec[] };

/**
 * Validates the SP fields of a scenario whose envelope `base` is valid; errors name the JSON path of
 * the first bad field and what it accepts. Beyond the schema: names are unique, every socket and raw
 * peer sits on a declared host, option values are valid by the reference (option-reference.ts), addresses
 * parse, tcp listeners bind their own host, ipc and inproc stay on one host, workload items name
 * `send` sockets.
 */
export function parseSpFields(base: ScenarioBase, json: Record<string, unknown>): Scenario {
  const r = spFieldsSchema.safeParse(stackFields(json));
  if (!r.success) zodFail(r.error);
  const d = { ...r.data, hosts: base.hosts };
  const fail = (path: string, why: string): never => {
    throw new ScenarioError(`scenario ${path}: ${why}`);
  };
  const hosts = new Set<string>(base.hosts);
  const names = new Set<string>();
  const listenHost = new Map<string, string>();
  const sockets: SocketSpec[] = d.sockets.map((s, i) => {
    const at = `sockets[${i}]`;
    if (names.has(s.name)) fail(`${at}.name`, `duplicate socket or peer name '${s.name}'`);
    names.add(s.name);
    if (!hosts.has(s.host)) fail(`${at}.host`, `unknown host '${s.host}' (declared: ${d.hosts.join(', ')})`);
    for (const k of Object.keys(s.options)) {
      if (!(OPTION_NAMES as readonly string[]).includes(k))
        fail(`${at}.options.${k}`, `unknown option (accepted: ${OPTION_NAMES.join(', ')})`);
    }
    // Judged by the reference (option-reference.ts), not by the stack's validator: a valid value the
    // stack refuses is then a finding of the run (the actor names the option), not a bad scenario.
    for (const [k, v] of Object.entries(s.options)) {
      const known = k as keyof OptionValues;
      if (!specValueValid(known, v))
        fail(
          `${at}.options.${k}`,
          `${JSON.stringify(v)} is not a valid value (${JSON.stringify(SPEC_OPTION_RULES[known])}; option-reference.ts)`,
        );
    }
    s.listen.forEach((a, j) => {
      const u = parseAddr(a, true, `${at}.listen[${j}]`);
      if (u.transport === 'tcp' && u.host !== s.host && u.host !== '0.0.0.0')
        fail(`${at}.listen[${j}]`, `a tcp listener binds its own host '${s.host}', not '${u.host}'`);
      if (listenHost.has(a)) fail(`${at}.listen[${j}]`, `address ${a} already has a listener`);
      listenHost.set(a, s.host);
    });
    if (s.closeAtUs !== undefined && s.closeAtUs < s.startUs)
      fail(`${at}.closeAtUs`, `closes at ${s.closeAtUs} µs, before it opens (startUs ${s.startUs})`);
    checkApp(s, at);
    return { ...s, options: s.options };
  });
  sockets.forEach((s, i) => {
    if (s.app.kind !== 'device') return;
    const at = `sockets[${i}].app.partner`;
    // A loopback device: checkApp allowed it only for protocols that are their own peer.
    if (s.app.partner === undefined) return;
    const partner = sockets.find((x) => x.name === s.app.partner);
    if (partner === undefined) return fail(at, `unknown socket '${s.app.partner ?? ''}'`);
    if (partner === s) fail(at, 'a device joins two sockets, not one with itself');
    if (partner.host !== s.host)
      fail(
        at,
        `'${partner.name}' is on host '${partner.host}'; a device joins sockets of one host ('${s.host}')`,
      );
    if (partner.app.kind !== 'device' || partner.app.partner !== s.name)
      fail(at, `'${partner.name}' must be a device socket naming '${s.name}' as its partner`);
    const want = DEVICE_PARTNER[s.protocol];
    if (partner.protocol !== want)
      fail(
        at,
        `${partner.protocol === s.protocol ? `both sides are ${s.protocol}` : `'${partner.name}' is ${partner.protocol}`}; a device joins ${s.protocol} with ${want ?? 'its raw peer'} (two raw sockets that are each other's peers)`,
      );
  });
  const local = (addr: string, host: string, at: string): void => {
    const u = parseAddr(addr, false, at);
    if (u.transport === 'tcp' && !hosts.has(u.host)) fail(at, `tcp address names unknown host '${u.host}'`);
    const owner = listenHost.get(addr);
    if (u.transport !== 'tcp' && owner !== undefined && owner !== host)
      fail(at, `${u.transport} connects only within one host: ${addr} listens on '${owner}', not '${host}'`);
  };
  sockets.forEach((s, i) => s.dial.forEach((a, j) => local(a, s.host, `sockets[${i}].dial[${j}]`)));
  d.rawPeers.forEach((p, i) => {
    if (names.has(p.name)) fail(`rawPeers[${i}].name`, `duplicate socket or peer name '${p.name}'`);
    names.add(p.name);
    if (!hosts.has(p.host)) fail(`rawPeers[${i}].host`, `unknown host '${p.host}'`);
    const u = parseAddr(p.dial, false, `rawPeers[${i}].dial`);
    if (u.transport === 'inproc') fail(`rawPeers[${i}].dial`, 'a raw peer speaks bytes: tcp or ipc only');
    local(p.dial, p.host, `rawPeers[${i}].dial`);
  });
  d.workload.sends.forEach((w, i) => {
    const s = sockets.find((x) => x.name === w.socket);
    if (s === undefined) fail(`workload.sends[${i}].socket`, `unknown socket '${w.socket}'`);
    else if (s.app.kind !== 'send')
      fail(`workload.sends[${i}].socket`, `socket '${w.socket}' does not send (its app is '${s.app.kind}')`);
  });
  return { ...base, rawPeers: d.rawPeers, workload: d.workload, sockets };
}

/** What each protocol's application may do: raw sockets have their own roles. */
const APP_KINDS: Record<ScenarioProtocol, readonly string[]> = {
  pair0: ['send', 'sink', 'echo'],
  req0: ['send', 'sink', 'echo'],
  rep0: ['send', 'sink', 'echo'],
  xreq0: ['send', 'device'],
  xrep0: ['sink', 'echo', 'device'],
  // A surveyor sends surveys and collects their responses; a respondent answers (echo) or not (sink).
  surveyor0: ['send'],
  respondent0: ['sink', 'echo'],
  pub0: ['send'],
  sub0: ['sink'],
  push0: ['send'],
  pull0: ['sink'],
  pair1: ['send', 'sink', 'echo'],
  bus0: ['send', 'sink'],
  star: ['send', 'sink'],
  // Raw senders: xpair1 and xstar put a 4-byte hop count of 0 in front (the protocol adds one per
  // hop); the others send the bare body (an XBUS without a pipe-id header goes to every pipe).
  xpair0: ['send', 'sink', 'device'],
  xpair1: ['send', 'sink', 'device'],
  xpub0: ['send', 'device'],
  // XSUB has no subscriptions: a sink receives everything.
  xsub0: ['sink', 'device'],
  xpush0: ['send', 'device'],
  xpull0: ['sink', 'device'],
  xbus0: ['send', 'sink', 'device'],
  xstar: ['send', 'sink', 'device'],
  // A raw surveyor only forwards (a device's back side): collecting by survey id is a device's job.
  xsurveyor0: ['device'],
  // As xrep0: an echo sends each survey back with its backtrace header.
  xrespondent0: ['sink', 'echo', 'device'],
};

/** Raw protocols that are their own peer: one socket alone can be a (loopback) device. */
const LOOPBACK_DEVICE: readonly ScenarioProtocol[] = ['xpair0', 'xpair1', 'xbus0', 'xstar'];

function checkApp(s: Parsed['sockets'][number], at: string): void {
  const fail = (path: string, why: string): never => {
    throw new ScenarioError(`scenario ${path}: ${why}`);
  };
  const kinds = APP_KINDS[s.protocol];
  if (!kinds.includes(s.app.kind))
    fail(
      `${at}.app.kind`,
      `a ${s.protocol} socket's application may be ${kinds.join(', ')}, not '${s.app.kind}'`,
    );
  if (s.app.pipeline !== undefined && !(s.protocol === 'xreq0' && s.app.kind === 'send'))
    fail(`${at}.app.pipeline`, 'only an xreq0 sender pipelines requests');
  if (s.app.kind === 'device' && s.app.partner === undefined && !LOOPBACK_DEVICE.includes(s.protocol))
    fail(
      `${at}.app.partner`,
      `a device socket names its partner socket (only ${LOOPBACK_DEVICE.join(', ')} may loop back alone)`,
    );
  if (s.app.impolite !== undefined) {
    const why = impoliteAppProblem(s.protocol, s.app.kind, s.app.impolite);
    if (why !== null) fail(`${at}.app.impolite`, why);
  }
  if (s.app.kind !== 'device' && s.app.partner !== undefined)
    fail(`${at}.app.partner`, `only a device socket has a partner (its app is '${s.app.kind}')`);
  const topics = s.app.subscribe;
  if (s.protocol !== 'sub0') {
    for (const k of ['subscribe', 'unsubscribe', 'unsubscribeAtUs'] as const)
      if (s.app[k] !== undefined)
        fail(`${at}.app.${k}`, `only a sub0 socket subscribes (this is ${s.protocol})`);
  } else if ((s.app.unsubscribe === undefined) !== (s.app.unsubscribeAtUs === undefined)) {
    fail(`${at}.app.unsubscribeAtUs`, 'unsubscribe and unsubscribeAtUs come together');
  } else {
    s.app.unsubscribe?.forEach((t, j) => {
      if (!(topics ?? []).includes(t))
        fail(`${at}.app.unsubscribe[${j}]`, `'${t}' is not among the subscribed topics`);
    });
  }
}

function parseAddr(addr: string, forListen: boolean, at: string): ReturnType<typeof parseSpUrl> {
  try {
    return parseSpUrl(addr, forListen);
  } catch (e) {
    throw new ScenarioError(`scenario ${at}: ${(e as Error).message}`);
  }
}

/** The transports a scenario's SP addresses use (for the report's `transport` field). */
export function scenarioTransports(s: Scenario): string[] {
  const set = new Set<string>();
  for (const sock of s.sockets)
    for (const a of [...sock.listen, ...sock.dial]) set.add(parseSpUrl(a, true).transport);
  return [...set].sort();
}
