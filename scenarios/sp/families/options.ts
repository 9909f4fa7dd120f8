/**
 * The options family: options through the public API (issue #18, item 2). Generated option names
 * and values, valid ones at the edges of their ranges and invalid ones just outside (negative, 0
 * where not allowed, above the maximum, wrong types, NaN and infinities, read-only options, options
 * of another socket type, unknown names), are set with setOption on sockets of every type and on
 * dialers and listeners, and judged by the independent reference table
 * (scenarios/sp/option-reference.ts, from sp.md §5 and README): accepted or refused with the typed
 * code it names, a refusal leaves the old value, a read returns what was set. And an accepted value
 * is in effect: MAX-RCV-SIZE n, set through setOption, delivers a message of exactly n bytes and cuts
 * the pipe at n + 1 (every transport but inproc, which has no bytes to limit: sp.md §1), messages
 * from 0 bytes to above 1 MiB with the limit raised.
 */
import fc from 'fast-check';
import type { OptionName } from '../../../impl/sp/options.js';
import type { FamilySpec, PropertySpec } from '../catalog.js';
import {
  bytesEqual,
  defineCheck,
  verdict,
  type CheckVerdict,
  type OptionOutcome,
  type OptionProbeRecord,
} from '../checks.js';
import {
  edgeIntArb,
  FAULT_PHASE_US,
  LIVENESS_US,
  networkArb,
  TRANSPORTS,
  type Transport,
} from '../generators.js';
import {
  SCENARIO_VERSION,
  SP_STACK,
  type OptionProbe,
  type ProbeValue,
  type Scenario,
  type ScenarioProtocol,
  type SocketSpec,
} from '../model.js';
import {
  SPEC_ENDPOINT_OPTIONS,
  SPEC_OPTION_NAMES,
  SPEC_OPTION_RULES,
  SPEC_SET_BEFORE_START,
  specGetVerdict,
  specSetVerdict,
  specSocketOptions,
} from '../option-reference.js';
import { scenarioOption } from '../reference.js';
import {
  afterHandshake,
  concatBytes,
  frame,
  headerForPeerOf,
  isIpc,
  MAX_EXACT_LENGTH,
  parseFrames,
} from './raw-bytes.js';

const NA = (why: string): CheckVerdict => ({ status: 'not-applicable', expected: null, actual: why });
const MIB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------
// The reference's expectations, replayed over a socket's probes in order.

/** A probe value as JavaScript, for the reference's verdict (mirrors the actor's decoding). */
function probeJs(v: ProbeValue): unknown {
  if (v === null || typeof v !== 'object') return v;
  if ('hex' in v) return hexBytes(v.hex);
  if (v.special === 'NaN') return Number.NaN;
  if (v.special === 'Infinity') return Number.POSITIVE_INFINITY;
  if (v.special === '-Infinity') return Number.NEGATIVE_INFINITY;
  if (v.special === 'bigint') return 1n;
  return {};
}

function hexBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function hexOf(bytes: Uint8Array): string {
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** What reading an option back must give after `v` was accepted: topics as their bytes (sp.md §5: a string is its UTF-8 bytes). */
function storedForm(name: string, v: ProbeValue): ProbeValue {
  if ((name === 'SUBSCRIBE' || name === 'UNSUBSCRIBE') && typeof v === 'string')
    return { hex: hexOf(new TextEncoder().encode(v)) };
  return v;
}

const show = (o: OptionOutcome | OptionProbeRecord['set']): string =>
  'error' in o ? o.error : 'value' in o ? JSON.stringify(o.value) : 'accepted';

const sameOutcome = (a: OptionOutcome, b: OptionOutcome): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * The reference's verdict on each of a socket's probes, in order: the set's required outcome, with
 * SUB's subscriptions tracked (unsubscribing a topic not subscribed is ErrBadValue: sp.md §3, README
 * "SUB filters locally") and the socket's start (SPEC_SET_BEFORE_START: a dialer or listener probe
 * makes an endpoint).
 */
function expectedSets(sock: SocketSpec, records: readonly OptionProbeRecord[]): (string | null)[] {
  const subscribed = new Set<string>();
  let started = false;
  return records.map((r) => {
    const js = probeJs(r.value);
    const v = specSetVerdict(sock.protocol, r.target, r.name, js);
    // A dialer or listener probe makes an endpoint: the socket counts as started from then on.
    if (r.target !== 'socket') started = true;
    // Once started, any set of such an option is refused for the state, whatever the value ("afterwards ErrProtoState").
    if (v !== 'ErrBadOption' && started && (SPEC_SET_BEFORE_START as readonly string[]).includes(r.name))
      return 'ErrProtoState';
    if (v !== null || r.target !== 'socket' || sock.protocol !== 'sub0') return v;
    const topic = JSON.stringify(storedForm(r.name, r.value));
    if (r.name === 'SUBSCRIBE') subscribed.add(topic);
    if (r.name === 'UNSUBSCRIBE') {
      if (!subscribed.has(topic)) return 'ErrBadValue';
      subscribed.delete(topic);
    }
    return null;
  });
}

/** Judges every probe of every socket with `judge`; the first violation fails the check. */
function eachProbe(
  s: Scenario,
  obs: { sockets: Record<string, { optionProbes?: OptionProbeRecord[] }> },
  judge: (sock: SocketSpec, r: OptionProbeRecord, expectedSet: string | null) => string | null,
  expected: string,
): CheckVerdict {
  let judged = 0;
  for (const sock of s.sockets) {
    const records = obs.sockets[sock.name]?.optionProbes;
    if (sock.optionProbes === undefined || records === undefined) continue;
    if (records.length !== sock.optionProbes.length)
      return verdict(
        `${sock.name}: ${records.length} of ${sock.optionProbes.length} option probes ran`,
        expected,
      );
    const want = expectedSets(sock, records);
    for (let i = 0; i < records.length; i++) {
      const r = records[i]!;
      judged++;
      const why = judge(sock, r, want[i]!);
      if (why !== null)
        return verdict(
          `${sock.name} (${sock.protocol}) probe #${i}: ${r.target === 'socket' ? '' : `${r.target} `}setOption(${r.name}, ${JSON.stringify(r.value)}): ${why}`,
          expected,
        );
    }
  }
  return judged === 0 ? NA('no option probes') : verdict(null, expected);
}

defineCheck({
  id: 'options.set-verdict',
  kind: 'always',
  requirement:
    'setOption accepts exactly the values the reference calls valid for the socket type (or dialer / listener), and refuses the others with the typed code it names: ErrBadOption for an unknown, unsupported or read-only option, ErrBadValue for a wrong type or a value out of range',
  ref: '26',
  evaluate: (s, obs) =>
    eachProbe(
      s,
      obs,
      (_sock, r, want) => {
        const got = 'error' in r.set ? r.set.error : null;
        if (got === want) return null;
        return `${got === null ? 'accepted' : `refused with ${got}`}, the reference says ${want === null ? 'accept' : want}`;
      },
      'every set accepted or refused as option-reference.ts says, with its code',
    ),
});

defineCheck({
  id: 'options.refused-keeps-old',
  kind: 'always',
  requirement: 'a refused setOption leaves the option as it was: reading it gives what it gave before',
  ref: '26',
  evaluate: (s, obs) =>
    eachProbe(
      s,
      obs,
      (_sock, r) => {
        if (!('error' in r.set) || sameOutcome(r.before, r.after)) return null;
        return `refused (${r.set.error}), yet the option reads ${show(r.after)} after it and ${show(r.before)} before`;
      },
      'after a refused set, the option reads as before',
    ),
});

defineCheck({
  id: 'options.get-returns-set',
  kind: 'always',
  requirement:
    'reading an option the socket type takes gives a value (an unsupported or unknown one is ErrBadOption), and after an accepted set it gives the value set (a string topic as its UTF-8 bytes)',
  ref: '26',
  evaluate: (s, obs) =>
    eachProbe(
      s,
      obs,
      (sock, r) => {
        if (r.target === 'socket') {
          const want = specGetVerdict(sock.protocol, r.name);
          const got = 'error' in r.before ? r.before.error : null;
          if (got !== want)
            return `reading it first gave ${show(r.before)}, the reference says ${want === null ? 'a value' : want}`;
        }
        if ('error' in r.set) return null;
        const want: OptionOutcome = { value: storedForm(r.name, r.value) };
        return sameOutcome(r.after, want)
          ? null
          : `accepted, then read back as ${show(r.after)} instead of ${show(want)}`;
      },
      'every option reads as last set',
    ),
});

/** The MAX-RCV-SIZE a receiving socket works with (its scenario options, set through setOption). */
function receiveLimit(sock: SocketSpec): number {
  return scenarioOption(sock, 'MAX-RCV-SIZE');
}

defineCheck({
  id: 'options.max-rcv-size-in-effect',
  kind: 'eventually',
  requirement:
    'MAX-RCV-SIZE n set through setOption is in effect: every message of at most n bytes sent before the first larger one arrives intact and in order, a message of n + 1 bytes or more never arrives and its pipe is cut (counted as a bad frame); inproc has no bytes to limit and delivers all (sp.md §1)',
  ref: '6',
  evaluate(s, obs, ctx) {
    let judged = 0;
    for (const sock of s.sockets) {
      if (sock.app.kind !== 'sink' || sock.listen.length !== 1) continue;
      const senders = s.sockets.filter((x) => x.app.kind === 'send' && x.dial.includes(sock.listen[0]!));
      if (senders.length !== 1) continue;
      const sender = senders[0]!;
      const limit = receiveLimit(sock);
      const inproc = sock.listen[0]!.startsWith('inproc://');
      const sizes = s.workload.sends.filter((w) => w.socket === sender.name).map((w) => w.bytes);
      const firstOver = inproc || limit === 0 ? -1 : sizes.findIndex((b) => b > limit);
      const due = firstOver < 0 ? sizes.length : firstOver;
      judged++;
      const got = obs.sockets[sock.name]?.received ?? [];
      const expected = `${sock.name} (MAX-RCV-SIZE ${limit}${inproc ? ', inproc' : ''}) receives the first ${due} of ${sizes.length} messages of ${sender.name} intact and in order${firstOver >= 0 ? `, not message #${firstOver} (${sizes[firstOver]} bytes), and cuts that pipe` : ''}`;
      for (let i = 0; i < got.length; i++) {
        if (i >= due)
          return verdict(
            `message #${i} (${got[i]!.body.length} bytes) arrived${firstOver >= 0 ? `, though #${firstOver} (${sizes[firstOver]} bytes) is over the limit` : ''}`,
            expected,
          );
        if (!bytesEqual(got[i]!.body, ctx.payloadOf(sender.name, i)))
          return verdict(
            `received message #${i} (${got[i]!.body.length} bytes) is not ${sender.name}'s message #${i} (${sizes[i]} bytes)`,
            expected,
          );
      }
      if (got.length < due)
        return verdict(
          `only ${got.length} arrived; message #${got.length} (${sizes[got.length]} bytes) is missing`,
          expected,
        );
      if (firstOver >= 0) {
        const accepted = obs.sockets[sender.name]?.sent[firstOver]?.acceptedAtUs != null;
        const bad = obs.sockets[sock.name]?.endpoints.badFrames ?? 0;
        if (accepted && bad < 1)
          return verdict(`the ${sizes[firstOver]}-byte message was sent and no bad frame counted`, expected);
      }
    }
    return judged === 0
      ? NA('no single sender into a sink')
      : verdict(null, 'the receive limit holds at its edge');
  },
});

// ---------------------------------------------------------------------------------------------
// Generators.

/** Socket types the probes open (every type with an application the scenario model runs alone). */
const PROBE_PROTOCOLS: readonly ScenarioProtocol[] = [
  'pair0',
  'pair1',
  'req0',
  'rep0',
  'pub0',
  'sub0',
  'push0',
  'pull0',
  'surveyor0',
  'respondent0',
  'bus0',
  'star',
  'xpair0',
  'xpair1',
  'xreq0',
  'xrep0',
  'xpub0',
  'xsub0',
  'xpush0',
  'xpull0',
  'xrespondent0',
  'xbus0',
  'xstar',
];

/** A probe socket's application: one it can run with no peer and no workload. */
function idleApp(protocol: ScenarioProtocol): SocketSpec['app'] {
  const sendOnly: readonly string[] = ['pub0', 'push0', 'surveyor0', 'xreq0', 'xpub0', 'xpush0'];
  return { kind: sendOnly.includes(protocol) ? 'send' : 'sink' };
}

/** Values that are no value of the option's type (and JSON-only values that are not numbers). */
const WRONG_TYPES: readonly ProbeValue[] = [
  'garbage',
  '',
  '8',
  true,
  false,
  null,
  1.5,
  -0.5,
  { special: 'NaN' },
  { special: 'Infinity' },
  { special: '-Infinity' },
  { special: 'bigint' },
  { special: 'object' },
  { hex: '01' },
];

/**
 * Values for an option by its reference rule: the edges of an integer range (min − 1, min, min + 1,
 * max − 1, max, max + 1, and the first inexact integer above 2^53 − 1), a few inside, wrong types.
 */
function probeValueArb(name: OptionName): fc.Arbitrary<ProbeValue> {
  const rule = SPEC_OPTION_RULES[name];
  const wrong = fc.constantFrom(...WRONG_TYPES);
  switch (rule.kind) {
    case 'integer': {
      const top = Math.min(rule.max, Number.MAX_SAFE_INTEGER - 1);
      const ints = edgeIntArb({
        min: rule.min - 2,
        max: top + 1,
        edges: [rule.min, top],
        spread: rule.min - 2 >= 0 ? 'log' : 'uniform',
        edgeWeight: 0.6,
      });
      return fc.oneof(
        { weight: 6, arbitrary: ints },
        { weight: 1, arbitrary: fc.constantFrom<ProbeValue>(-1, 0, 2 ** 53, -(2 ** 31)) },
        { weight: 2, arbitrary: wrong },
      );
    }
    case 'deadline':
      return fc.oneof(
        { weight: 6, arbitrary: edgeIntArb({ min: -2, max: 10_000_000, edges: [0, 1], edgeWeight: 0.6 }) },
        { weight: 1, arbitrary: fc.constantFrom<ProbeValue>(null, Number.MAX_SAFE_INTEGER, 2 ** 53) },
        { weight: 2, arbitrary: wrong },
      );
    case 'boolean':
      return fc.oneof(
        { weight: 3, arbitrary: fc.boolean() },
        { weight: 1, arbitrary: fc.constantFrom<ProbeValue>(0, 1, 'true') },
        { weight: 1, arbitrary: wrong },
      );
    case 'topic':
      return fc.oneof(
        // Topic lengths at 0, 1 and the probe format's largest (256 bytes), and between.
        {
          weight: 4,
          arbitrary: edgeIntArb({ min: 0, max: 256, edges: [4] }).chain((n) =>
            fc.uint8Array({ minLength: n, maxLength: n, max: 3 }).map((b): ProbeValue => ({ hex: hexOf(b) })),
          ),
        },
        { weight: 2, arbitrary: fc.constantFrom<ProbeValue>('', 'a', 'ab', 'é') },
        { weight: 1, arbitrary: fc.constantFrom<ProbeValue>(0, 1, null, true, { special: 'object' }) },
      );
    case 'readonly':
      return fc.constantFrom<ProbeValue>(true, false, '', 'tcp://x:1', 0);
  }
}

/** Names: mostly the socket type's own, sometimes another type's, sometimes no option at all. */
function probeNameArb(protocol: ScenarioProtocol, target: OptionProbe['target']): fc.Arbitrary<string> {
  const own = target === 'socket' ? specSocketOptions(protocol) : SPEC_ENDPOINT_OPTIONS;
  return fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...own) },
    { weight: 3, arbitrary: fc.constantFrom(...SPEC_OPTION_NAMES) },
    { weight: 1, arbitrary: fc.constantFrom('NO-SUCH-OPTION', '', 'ttl', 'TTL ', 'toString', '__proto__') },
  );
}

function probeArb(protocol: ScenarioProtocol): fc.Arbitrary<OptionProbe> {
  return fc
    .oneof(
      { weight: 6, arbitrary: fc.constant('socket' as const) },
      { weight: 1, arbitrary: fc.constant('dialer' as const) },
      { weight: 1, arbitrary: fc.constant('listener' as const) },
    )
    .chain((target) =>
      probeNameArb(protocol, target).chain((name) =>
        (Object.hasOwn(SPEC_OPTION_RULES, name)
          ? probeValueArb(name as OptionName)
          : fc.oneof(fc.constantFrom<ProbeValue>(0, 1, true, 'x', null))
        ).map((value): OptionProbe => ({ target, name, value })),
      ),
    );
}

/** SUB probes subscribe and unsubscribe a few small topics, so unsubscribing a subscribed one happens. */
function subTopicProbeArb(): fc.Arbitrary<OptionProbe> {
  return fc
    .tuple(
      fc.constantFrom('SUBSCRIBE', 'UNSUBSCRIBE'),
      fc.constantFrom<ProbeValue>('', 'a', { hex: '61' }, { hex: '' }),
    )
    .map(([name, value]) => ({ target: 'socket' as const, name, value }));
}

/** The values at the edges of a numeric rule: just outside and just inside both ends (2^53 above the largest exact integer). */
function edgeSweepValues(name: OptionName): ProbeValue[] {
  const rule = SPEC_OPTION_RULES[name];
  if (rule.kind === 'deadline') return [0, 1, null, -1];
  if (rule.kind !== 'integer') return [];
  const above = rule.max >= Number.MAX_SAFE_INTEGER ? 2 ** 53 : rule.max + 1;
  return [rule.min - 1, rule.min, rule.max, above];
}

/**
 * Every numeric option of the socket type at its range edges (min − 1, min, max, max + 1), in a
 * drawn order, and the endpoint options just below and at their minimum on a dialer or a listener:
 * each run judges every edge of the types it draws, so an off-by-one in a range is never left to
 * chance.
 */
function edgeSweepArb(protocol: ScenarioProtocol): fc.Arbitrary<OptionProbe[]> {
  const socket: OptionProbe[] = specSocketOptions(protocol).flatMap((name) =>
    edgeSweepValues(name).map((value) => ({ target: 'socket' as const, name, value })),
  );
  return fc
    .tuple(
      fc.shuffledSubarray(socket, { minLength: socket.length }),
      fc.constantFrom('dialer' as const, 'listener' as const),
    )
    .map(([shuffled, target]) => [
      ...shuffled,
      ...SPEC_ENDPOINT_OPTIONS.flatMap((name) =>
        edgeSweepValues(name)
          .slice(0, 2)
          .map((value) => ({ target, name, value })),
      ),
    ]);
}

/** 1..4 sockets of drawn types, each with its edge sweep and 1..16 drawn probes, on one host, never connected. */
function probeScenarioArb(impl: string): fc.Arbitrary<Scenario> {
  return fc.array(fc.constantFrom(...PROBE_PROTOCOLS), { minLength: 1, maxLength: 4 }).chain((protocols) =>
    fc
      .tuple(
        ...protocols.map((p) =>
          fc
            .tuple(
              edgeSweepArb(p),
              fc.array(p === 'sub0' ? fc.oneof(probeArb(p), subTopicProbeArb()) : probeArb(p), {
                minLength: 1,
                maxLength: 16,
              }),
              fc.boolean(),
            )
            // The drawn probes before or after the sweep (a value left by one is the other's "before").
            .map(([sweep, drawn, first]) => (first ? [...drawn, ...sweep] : [...sweep, ...drawn])),
        ),
      )
      .map((probes): Scenario => ({
        version: SCENARIO_VERSION,
        stack: SP_STACK,
        name: 'options/api',
        impl,
        hosts: ['local'],
        sockets: protocols.map((protocol, i): SocketSpec => ({
          name: `probe${i}`,
          host: 'local',
          protocol,
          listen: [],
          dial: [],
          options: {},
          optionProbes: probes[i]!,
          app: idleApp(protocol),
          startUs: 0,
        })),
        rawPeers: [],
        workload: { sends: [] },
        network: {
          latency: { kind: 'uniform', minUs: 0, maxUs: 0 },
          jitterUs: 0,
          lossRate: 0,
          randomChunking: false,
          partialWriteProbability: 0,
          sendBufferBytes: 65536,
          recvBufferBytes: 65536,
        },
        faults: { version: 1, faults: [] },
        faultPhaseUs: FAULT_PHASE_US,
        livenessUs: LIVENESS_US,
        checks: [
          'stack.no-crash',
          'options.set-verdict',
          'options.refused-keeps-old',
          'options.get-returns-set',
        ],
      })),
  );
}

/**
 * The receive limit at its edge: a PAIR0 receiver whose MAX-RCV-SIZE n the actor sets through
 * setOption (mostly small, 1..4 KiB; in about 1 run in 10 around 1 MiB, mangos' default, up to
 * 2 MiB, so messages above 1 MiB cross every transport), and a sender of messages sized at the
 * edges (0, 1, n − 1, n) and, in most runs, one last message over the limit (n + 1 and a little
 * more). No faults: which message arrives is exact.
 */
function maxRecvScenarioArb(impl: string, transports: readonly Transport[]): fc.Arbitrary<Scenario> {
  const limitArb = fc.oneof(
    { weight: 9, arbitrary: edgeIntArb({ min: 1, max: 4096, edges: [1024], spread: 'log' }) },
    { weight: 1, arbitrary: edgeIntArb({ min: MIB - 4, max: 2 * MIB, edges: [MIB] }) },
  );
  return fc
    .record({ transport: fc.constantFrom(...transports), limit: limitArb })
    .chain(({ transport, limit }) =>
      fc
        .record({
          sizes: fc.array(edgeIntArb({ min: 0, max: limit, edges: [limit], spread: 'log' }), {
            maxLength: limit > 64 * 1024 ? 2 : 6,
          }),
          over: fc.option(edgeIntArb({ min: 1, max: 64, edges: [1] }), { freq: 3, nil: null }),
          // Messages around 1 MiB need windows to match, or a lossy 2 KiB window outlasts the run.
          network:
            limit > 64 * 1024
              ? networkArb({ minBufferBytes: 65_536, maxBufferBytes: 262_144 })
              : networkArb(),
        })
        .map((k): Scenario => {
          const local = transport !== 'tcp';
          const addr =
            transport === 'tcp'
              ? 'tcp://server:5555'
              : transport === 'ipc'
                ? 'ipc:///tmp/netlab-options-5555.sock'
                : 'inproc://options-5555';
          const sizes = k.over === null ? k.sizes : [...k.sizes, limit + k.over];
          return {
            version: SCENARIO_VERSION,
            stack: SP_STACK,
            name: 'options/max-rcv-size',
            impl,
            hosts: local ? ['local'] : ['client0', 'server'],
            sockets: [
              {
                name: 'server',
                host: local ? 'local' : 'server',
                protocol: 'pair0',
                listen: [addr],
                dial: [],
                options: { 'MAX-RCV-SIZE': limit },
                app: { kind: 'sink' },
                startUs: 0,
              },
              {
                name: 'client0',
                host: local ? 'local' : 'client0',
                protocol: 'pair0',
                listen: [],
                dial: [addr],
                options: {},
                app: { kind: 'send' },
                startUs: 0,
              },
            ],
            rawPeers: [],
            workload: { sends: sizes.map((bytes) => ({ socket: 'client0', bytes, gapUs: 0 })) },
            network: k.network,
            faults: { version: 1, faults: [] },
            faultPhaseUs: FAULT_PHASE_US,
            livenessUs: LIVENESS_US,
            checks: ['stack.no-crash', 'options.max-rcv-size-in-effect', 'framing.no-oversize-alloc'],
          };
        }),
    );
}

// ---------------------------------------------------------------------------------------------
// TTL at its edge: hop counts and backtrace depths around the limit, from a raw peer.

/** Socket types that check hops against TTL, and how (sp.md §3, README "PAIR1, BUS, STAR", "Raw headers"). */
const TTL_RECEIVERS = ['pair1', 'star', 'rep0', 'xrep0', 'respondent0'] as const;
type TtlReceiver = (typeof TTL_RECEIVERS)[number];

const u32 = (n: number): Uint8Array => Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
const readU32 = (b: Uint8Array, at: number): number =>
  ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;

/** Words of a backtrace: every word up to the first with the top bit set (undefined: none). */
function backtraceWords(body: Uint8Array): number | undefined {
  for (let w = 1; w * 4 <= body.length; w++) if ((body[(w - 1) * 4]! & 0x80) !== 0) return w;
  return undefined;
}

/**
 * Whether a frame from the raw peer reaches the application of a `p` socket with TTL `ttl`:
 * PAIR1 delivers hop counts up to TTL (a count above 0xff is garbage; sp.md §3 PAIR1: drop if
 * `hop > maxttl`); STAR drops a hop count that has reached TTL (sp.md §3 STAR: `hop >= ttl`); REP
 * and RESPONDENT take a backtrace of at most TTL words, request id included (sp.md §3: "8 accepted,
 * 9 dropped, pipe kept"); XREP's own pipe word counts too, so at most TTL − 1 arrive (README "Raw
 * headers").
 */
function ttlPasses(p: TtlReceiver, ttl: number, body: Uint8Array): boolean {
  if (p === 'pair1' || p === 'star') {
    if (body.length < 4) return false;
    const hops = readU32(body, 0);
    if (hops > 0xff) return false;
    return p === 'pair1' ? hops <= ttl : hops < ttl;
  }
  const words = backtraceWords(body);
  if (words === undefined) return false;
  return words <= (p === 'xrep0' ? ttl - 1 : ttl);
}

defineCheck({
  id: 'options.ttl-in-effect',
  kind: 'eventually',
  requirement:
    'TTL set through setOption is in effect at its edge: a PAIR1 hop count up to TTL is delivered and TTL + 1 dropped, a STAR hop count below TTL delivered and TTL dropped, a REP / RESPONDENT backtrace of TTL words answered and TTL + 1 dropped (XREP: TTL − 1 and TTL), the pipe kept',
  ref: '23',
  evaluate(s, obs) {
    let judged = 0;
    for (const peer of s.rawPeers) {
      const sock = s.sockets.find((x) => x.listen.includes(peer.dial));
      if (sock === undefined || !(TTL_RECEIVERS as readonly string[]).includes(sock.protocol)) continue;
      const p = sock.protocol as TtlReceiver;
      const o = obs.raw[peer.name];
      if (o?.connectedAtUs == null) continue;
      judged++;
      const ttl = scenarioOption(sock, 'TTL');
      const ipc = isIpc(peer.dial);
      const frames = parseFrames(afterHandshake(peer), ipc, MAX_EXACT_LENGTH).frames;
      const pass = frames.filter((f) => ttlPasses(p, ttl, f));
      const expected = `${sock.name} (${p}, TTL ${ttl}) ${p === 'pair1' || p === 'star' ? 'delivers' : 'answers'} exactly the ${pass.length} of ${peer.name}'s ${frames.length} messages within TTL, in order, and keeps the pipe`;
      if (o.closedByRemote) return verdict(`${sock.name} closed ${peer.name}'s connection`, expected);
      if (p === 'pair1' || p === 'star') {
        const got = obs.sockets[sock.name]?.received ?? [];
        const want = pass.map((f) => f.subarray(4));
        const n = Math.min(got.length, want.length);
        for (let i = 0; i < n; i++)
          if (!bytesEqual(got[i]!.body, want[i]))
            return verdict(
              `delivered message #${i} (${got[i]!.body.length} bytes) is not the ${i}th within TTL`,
              expected,
            );
        if (got.length !== want.length)
          return verdict(
            `${got.length} delivered (hop counts sent: ${frames.map((f) => (f.length < 4 ? '-' : readU32(f, 0))).join(', ')})`,
            expected,
          );
      } else {
        // Each answer comes back framed: 8-byte length (+1 type byte on ipc) + backtrace + payload.
        const want = 8 + pass.reduce((n, f) => n + (ipc ? 9 : 8) + f.length, 0);
        if (o.bytesIn !== want)
          return verdict(
            `${peer.name} read ${o.bytesIn} bytes (handshake and answers), not ${want} (backtrace words sent: ${frames.map((f) => backtraceWords(f) ?? '-').join(', ')})`,
            expected,
          );
      }
    }
    return judged === 0
      ? NA('no raw peer reached a TTL-checking socket')
      : verdict(null, 'TTL holds at its edge');
  },
});

/**
 * A socket that checks hops (PAIR1, STAR, REP, XREP, RESPONDENT) with TTL drawn at its edges
 * (1, 2, 7, 8, 9, 254, 255 and between; set through setOption), and a raw peer that handshakes and
 * sends messages whose hop count or backtrace depth is drawn around that TTL (TTL − 1, TTL, TTL + 1,
 * 0xff, 0x100). Faults never destroy bytes, so what must arrive is exact.
 */
function ttlScenarioArb(impl: string, transports: readonly Transport[]): fc.Arbitrary<Scenario> {
  return fc
    .record({
      transport: fc.constantFrom(...transports.filter((t) => t !== 'inproc')),
      protocol: fc.constantFrom(...TTL_RECEIVERS),
      ttl: edgeIntArb({ min: 1, max: 255, edges: [8], edgeWeight: 0.6 }),
    })
    .chain(({ transport, protocol, ttl }) => {
      const hops = protocol === 'pair1' || protocol === 'star';
      const countArb = hops
        ? edgeIntArb({ min: 0, max: 0x101, edges: [ttl, 0xff], edgeWeight: 0.7 })
        : edgeIntArb({ min: 1, max: Math.min(ttl + 3, 260), edges: [ttl - 1, ttl], edgeWeight: 0.7 });
      return fc
        .record({
          messages: fc.array(fc.tuple(countArb, fc.uint8Array({ maxLength: 8 })), {
            minLength: 1,
            maxLength: 8,
          }),
          network: networkArb(),
        })
        .map((k): Scenario => {
          const ipc = transport === 'ipc';
          const addr = ipc ? 'ipc:///tmp/netlab-options-ttl.sock' : 'tcp://server:5555';
          const local = transport !== 'tcp';
          const bodies = k.messages.map(([count, payload], i) =>
            hops
              ? concatBytes([u32(count), payload])
              : concatBytes([
                  ...Array.from({ length: count - 1 }, (_, w) => u32(w + 1)),
                  u32((0x80000000 | i) >>> 0),
                  payload,
                ]),
          );
          const script = [
            {
              afterUs: 0,
              write: hexOf(concatBytes([headerForPeerOf(protocol), ...bodies.map((b) => frame(b, ipc))])),
            },
          ];
          return {
            version: SCENARIO_VERSION,
            stack: SP_STACK,
            name: 'options/ttl',
            impl,
            hosts: local ? ['local'] : ['peer', 'server'],
            sockets: [
              {
                name: 'server',
                host: local ? 'local' : 'server',
                protocol,
                listen: [addr],
                dial: [],
                options: { TTL: ttl },
                app: { kind: hops ? 'sink' : 'echo' },
                startUs: 0,
              },
            ],
            rawPeers: [{ name: 'raw0', host: local ? 'local' : 'peer', dial: addr, startUs: 1_000, script }],
            workload: { sends: [] },
            network: k.network,
            faults: { version: 1, faults: [] },
            faultPhaseUs: FAULT_PHASE_US,
            livenessUs: LIVENESS_US,
            checks: ['stack.no-crash', 'options.ttl-in-effect'],
          };
        });
    });
}

export const OPTIONS_PROPERTIES: PropertySpec[] = [
  {
    id: 'options/api',
    family: 'options',
    title:
      'setOption / getOption on every socket type, dialer and listener: accepted and refused as the reference says, with typed codes; a refusal keeps the old value',
    protocols: PROBE_PROTOCOLS,
    transports: ['inproc'],
    checks: ['stack.no-crash', 'options.set-verdict', 'options.refused-keeps-old', 'options.get-returns-set'],
    faultKinds: [],
    sometimes: [],
    arb: ({ impl }) => probeScenarioArb(impl),
  },
  {
    id: 'options/max-rcv-size',
    family: 'options',
    title:
      'MAX-RCV-SIZE set through setOption holds at its edge: n bytes delivered, n + 1 cut (0-byte messages; above 1 MiB with the limit raised)',
    protocols: ['pair0'],
    transports: TRANSPORTS,
    checks: ['stack.no-crash', 'options.max-rcv-size-in-effect', 'framing.no-oversize-alloc'],
    faultKinds: [],
    sometimes: ['sp.zero-length', 'sp.bad-peer-cut'],
    arb: ({ impl, transports }) => maxRecvScenarioArb(impl, transports),
  },
  {
    id: 'options/ttl',
    family: 'options',
    title:
      'TTL set through setOption holds at its edge: PAIR1 / STAR hop counts and REP / XREP / RESPONDENT backtrace depths at TTL − 1, TTL, TTL + 1 from a raw peer',
    protocols: TTL_RECEIVERS,
    transports: ['tcp', 'ipc'],
    checks: ['stack.no-crash', 'options.ttl-in-effect'],
    faultKinds: [],
    sometimes: [],
    arb: ({ impl, transports }) => ttlScenarioArb(impl, transports),
  },
];

export const OPTIONS: FamilySpec = {
  name: 'options',
  title: 'options: set through the public API, judged by the reference, in effect at their edges',
  properties: OPTIONS_PROPERTIES,
};
