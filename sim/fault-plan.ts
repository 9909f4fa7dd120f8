/**
 * Fault plans: the one fault language of netlab. A JSON schedule of network and host faults
 * (partitions, read stalls, resets, pauses, crashes and restarts, link changes, FoundationDB-style
 * swizzle-clogging, and the stream faults of the real-socket proxy: steps keyed by byte offset,
 * slicing, data limits, slow closes) that is validated with typed errors naming the JSON path,
 * applied to a simulated Network on virtual time, traced as fault-start / fault-end events and
 * recorded for reports and fault coverage; plus swarm plans in the style of TigerBeetle's VOPR, whose
 * fault parameters are themselves drawn per seed. The real-socket fault proxy runs plans compiled
 * from this model (impl/runtime/proxy-plan.ts, compileProxyFaults). Bounds of the shared vocabulary
 * (latency, jitter, bandwidth, durations, sizes): sim/fault-limits.ts. Syntax, units, defaults and
 * knobs: sim/FAULTS.md.
 *
 * Browser-safe: no Node imports, no wall clock, no ambient randomness. Time is the World's virtual
 * time and randomness comes only from the Rng the caller passes (or a named fork of the world's).
 */
import { z } from 'zod';
import { SimError } from './errors.js';
import {
  bandwidthSchema,
  byteCountSchema,
  byteOffsetSchema,
  countSchema,
  describeValue,
  durationTextAs,
  durationTextSchema,
  durationUsSchema,
  formatDurationUs,
  issuesError,
  jitterUsSchema,
  latencyInputSchema,
  MAX_BANDWIDTH_BYTES_PER_SEC,
  MAX_JITTER_US,
  MAX_LATENCY_US,
  MAX_PLAN_STEPS,
  MAX_PLAN_US,
  parseDurationUs,
  probabilitySchema,
  rateTextSchema,
  sizeBytesSchema,
  type KnownFields,
} from './fault-limits.js';
import type { LatencyModel, LinkConfig } from './net-config.js';
import type { ConnInfo, Network, SimHost } from './net.js';
import type { Rng } from './rng.js';

// The shared vocabulary's text forms and the plan-time bound, where earlier code imported them from.
export { formatDurationUs, MAX_PLAN_US, parseDurationUs };

// ---------------------------------------------------------------------------------------------
// Plan types (the normalized form parseFaultPlan returns; it is itself a valid plan)
// ---------------------------------------------------------------------------------------------

export const FAULT_PLAN_VERSION = 1;

/** The kinds the simulator carries out (and swarm plans draw from). */
export const FAULT_KINDS = [
  'partition',
  'stall-reads',
  'reset',
  'pause',
  'crash',
  'restart',
  'link',
  'swizzle-clog',
] as const;
export type SimFaultKind = (typeof FAULT_KINDS)[number];

/** Kinds only the real-socket fault proxy carries out: they act on a connection's byte streams. */
export const PROXY_FAULT_KINDS = ['limit', 'slow-close'] as const;

/** Every kind of step a plan may hold. */
export const PLAN_STEP_KINDS = [...FAULT_KINDS, ...PROXY_FAULT_KINDS] as const;
export type FaultKind = (typeof PLAN_STEP_KINDS)[number];

/** Which live connections a step acts on, matched when the step fires. An empty object matches all. */
export type ConnSelector = 'all' | { client?: string; server?: string; name?: string };

/**
 * A side of a connection: the client (the dialer) or the server (the listener). For stream faults,
 * the side whose incoming stream is meant: "server" is the client-to-server stream (the proxy's `up`).
 */
export type ReadSide = 'client' | 'server' | 'both';

interface StepBase {
  /**
   * Virtual time after applyFaultPlan() at which the step fires, in integer microseconds. For a step
   * keyed by `atByte`, when it is armed (default 0); it fires once its stream reaches that offset.
   */
  atUs: number;
}

export interface PartitionStep extends StepBase {
  kind: 'partition';
  a: string[];
  b: string[];
  /** Cut only traffic from a to b (default false: both directions). */
  oneWay?: boolean;
  /** Heal after this long; absent = the plan never heals it (healAllAt does). */
  forUs?: number;
}

export interface StallReadsStep extends StepBase {
  kind: 'stall-reads';
  conn: ConnSelector;
  side: ReadSide;
  forUs: number;
  /** Proxy only: stall once this many bytes of the stream towards `side` were read. */
  atByte?: number;
}

export interface ResetStep extends StepBase {
  kind: 'reset';
  conn: ConnSelector;
  /** Proxy only: reset once this many bytes of the stream towards `side` were forwarded. */
  atByte?: number;
  /** With atByte (and only then): the side whose incoming stream atByte counts. */
  side?: ReadSide;
}

export interface PauseStep extends StepBase {
  kind: 'pause';
  host: string;
  forUs: number;
}

export interface CrashStep extends StepBase {
  kind: 'crash';
  host: string;
  /** Restart after this long; absent = stays down (a restart step or healAllAt brings it back). */
  restartAfterUs?: number;
}

export interface RestartStep extends StepBase {
  kind: 'restart';
  host: string;
}

/** Slicing (proxy only): the stream is written in slices of a random size, `delayUs` apart. */
export interface SliceSetting {
  /** Smallest slice, >= 1. */
  minBytes: number;
  /** Largest slice, >= minBytes. */
  maxBytes: number;
  /** Gap between the end of one slice's write and the start of the next (default 0). */
  delayUs: number;
}

/** What a link step changes: link settings, and (proxy only) slicing; `slice: null` turns it off. */
export type LinkPatch = Partial<LinkConfig> & { slice?: SliceSetting | null };

export interface LinkStep extends StepBase {
  kind: 'link';
  from: string;
  to: string;
  /** Change only the from>to direction (default false: both). */
  oneWay?: boolean;
  set: LinkPatch;
  /** Restore the previous settings after this long; absent = the change stays. */
  forUs?: number;
  /** Proxy only: the change starts at this offset of each stream it concerns... */
  atByte?: number;
  /** ... and lasts this many bytes (absent: to the end). */
  forBytes?: number;
}

export interface SwizzleClogStep extends StepBase {
  kind: 'swizzle-clog';
  hosts: string[];
  /** Gap between clogging one host and the next, and between unclogging one and the next. */
  stepUs: number;
  /** How long every host stays clogged after the last one was clogged. */
  forUs: number;
}

/** Proxy only: close the connection (FIN both ways) once atByte bytes were forwarded towards `side`. */
export interface LimitStep extends StepBase {
  kind: 'limit';
  conn: ConnSelector;
  side: ReadSide;
  atByte: number;
}

/** Proxy only: hold the end of stream (FIN) towards `side` for forUs after its last byte. */
export interface SlowCloseStep extends StepBase {
  kind: 'slow-close';
  conn: ConnSelector;
  side: ReadSide;
  forUs: number;
}

export type FaultStep =
  | PartitionStep
  | StallReadsStep
  | ResetStep
  | PauseStep
  | CrashStep
  | RestartStep
  | LinkStep
  | SwizzleClogStep
  | LimitStep
  | SlowCloseStep;

/** Settings of the real-socket fault proxy that carries a plan out (the simulator has none). */
export interface ProxySettings {
  /** Probability that a connection gets the faults, drawn per connection index (default 1). */
  toxicity?: number;
  /** Only connections with an index below this get the faults (default: all). */
  faultyConnections?: number;
  /** Segment size when not slicing: the unit of one latency/jitter draw (default 1460). */
  segmentBytes?: number;
}

export interface FaultPlan {
  version: 1;
  faults: FaultStep[];
  /** Proxy only. */
  proxy?: ProxySettings;
}

// ---------------------------------------------------------------------------------------------
// Schema (zod) and error conversion; the shared bounds come from sim/fault-limits.ts
// ---------------------------------------------------------------------------------------------

const usField = durationUsSchema;
const durationText = durationTextSchema;
const hostName = z.string().min(1);
const hostList = z.array(hostName).min(1);
const sideSchema = z.enum(['client', 'server', 'both']);

const sliceSchema = z
  .strictObject({
    minBytes: sizeBytesSchema,
    maxBytes: sizeBytesSchema,
    delayUs: usField.optional(),
    delay: durationText.optional(),
  })
  .superRefine((v, ctx) => {
    if (v.maxBytes < v.minBytes)
      ctx.addIssue({ code: 'custom', path: ['maxBytes'], message: 'must be >= minBytes' });
    checkTimePair(v, ctx, 'delay', false);
  });

const LINK_PATCH_FIELDS = 'latency, jitterUs, bandwidthBytesPerSec, lossRate, slice';

const linkPatchSchema = z
  .strictObject({
    latency: latencyInputSchema.optional(),
    jitterUs: jitterUsSchema.optional(),
    jitter: durationTextAs(jitterUsSchema).optional(),
    bandwidthBytesPerSec: bandwidthSchema.optional(),
    bandwidth: rateTextSchema.optional(),
    lossRate: probabilitySchema.optional(),
    slice: z.union([sliceSchema, z.null()]).optional(),
  })
  .superRefine((v, ctx) => {
    if (v.jitterUs !== undefined && v.jitter !== undefined)
      ctx.addIssue({ code: 'custom', path: ['jitter'], message: 'give jitterUs or jitter, not both' });
    if (v.bandwidthBytesPerSec !== undefined && v.bandwidth !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['bandwidth'],
        message: 'give bandwidthBytesPerSec or bandwidth, not both',
      });
    if (Object.keys(v).length === 0)
      ctx.addIssue({ code: 'custom', message: `must change at least one of ${LINK_PATCH_FIELDS}` });
  });

const connSelectorSchema = z.union(
  [
    z.literal('all'),
    z.strictObject({
      client: hostName.optional(),
      server: hostName.optional(),
      name: z.string().min(1).optional(),
    }),
  ],
  { error: 'must be "all" or an object {client?, server?, name?}' },
);

const atFields = { atUs: usField.optional(), at: durationText.optional() };
const forFields = { forUs: usField.optional(), for: durationText.optional() };
/** Steps the proxy may key by a byte offset of the stream instead of a time. */
const atByteField = { atByte: byteOffsetSchema.optional() };

type Ctx = z.RefinementCtx;

/** Each time can be given in microseconds (`fooUs`) or as a duration string (`foo`), not both. */
function checkTimePair(
  v: Record<string, unknown>,
  ctx: Ctx,
  name: string,
  required: boolean,
  alternative = '',
): void {
  const usKey = `${name}Us`;
  if (v[usKey] !== undefined && v[name] !== undefined)
    ctx.addIssue({ code: 'custom', path: [name], message: `give ${usKey} or ${name}, not both` });
  else if (required && v[usKey] === undefined && v[name] === undefined)
    ctx.addIssue({
      code: 'custom',
      path: [usKey],
      message: `required (or ${name} as a duration string${alternative})`,
    });
}

/** A start given as a time (atUs / at) or, for the proxy, as a byte offset (atByte; the time then arms it). */
function checkTrigger(v: Record<string, unknown>, ctx: Ctx): void {
  checkTimePair(v, ctx, 'at', v.atByte === undefined, ', or atByte as a byte offset');
}

function checkUnique(list: readonly string[], ctx: Ctx, field: string): void {
  const seen = new Set<string>();
  list.forEach((h, i) => {
    if (seen.has(h))
      ctx.addIssue({
        code: 'custom',
        path: [field, i],
        message: `host ${JSON.stringify(h)} is listed twice`,
      });
    seen.add(h);
  });
}

const stepSchemas = [
  z
    .strictObject({
      kind: z.literal('partition'),
      ...atFields,
      a: hostList,
      b: hostList,
      oneWay: z.boolean().optional(),
      ...forFields,
    })
    .superRefine((v, ctx) => {
      checkTimePair(v, ctx, 'at', true);
      checkTimePair(v, ctx, 'for', false);
      const a = new Set(v.a);
      v.b.forEach((h, i) => {
        if (a.has(h))
          ctx.addIssue({ code: 'custom', path: ['b', i], message: `host ${JSON.stringify(h)} is also in a` });
      });
    }),
  z
    .strictObject({
      kind: z.literal('stall-reads'),
      ...atFields,
      conn: connSelectorSchema,
      side: sideSchema,
      ...forFields,
      ...atByteField,
    })
    .superRefine((v, ctx) => {
      checkTrigger(v, ctx);
      checkTimePair(v, ctx, 'for', true);
    }),
  z
    .strictObject({
      kind: z.literal('reset'),
      ...atFields,
      conn: connSelectorSchema,
      ...atByteField,
      side: sideSchema.optional(),
    })
    .superRefine((v, ctx) => {
      checkTrigger(v, ctx);
      if (v.atByte !== undefined && v.side === undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['side'],
          message: 'required with atByte: the side whose incoming stream atByte counts',
        });
      if (v.atByte === undefined && v.side !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['side'],
          message: 'only with atByte (a reset at a time resets both ends)',
        });
    }),
  z
    .strictObject({ kind: z.literal('pause'), ...atFields, host: hostName, ...forFields })
    .superRefine((v, ctx) => {
      checkTimePair(v, ctx, 'at', true);
      checkTimePair(v, ctx, 'for', true);
    }),
  z
    .strictObject({
      kind: z.literal('crash'),
      ...atFields,
      host: hostName,
      restartAfterUs: usField.optional(),
      restartAfter: durationText.optional(),
    })
    .superRefine((v, ctx) => {
      checkTimePair(v, ctx, 'at', true);
      checkTimePair(v, ctx, 'restartAfter', false);
    }),
  z.strictObject({ kind: z.literal('restart'), ...atFields, host: hostName }).superRefine((v, ctx) => {
    checkTimePair(v, ctx, 'at', true);
  }),
  z
    .strictObject({
      kind: z.literal('link'),
      ...atFields,
      from: hostName,
      to: hostName,
      oneWay: z.boolean().optional(),
      set: linkPatchSchema,
      ...forFields,
      ...atByteField,
      forBytes: byteCountSchema.optional(),
    })
    .superRefine((v, ctx) => {
      checkTrigger(v, ctx);
      checkTimePair(v, ctx, 'for', false);
      if (v.atByte !== undefined && (v.forUs !== undefined || v.for !== undefined))
        ctx.addIssue({
          code: 'custom',
          path: [v.forUs !== undefined ? 'forUs' : 'for'],
          message: 'a window that starts at a byte offset ends by forBytes',
        });
      if (v.atByte === undefined && v.forBytes !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['forBytes'],
          message: 'a window that starts at a time ends by forUs/for',
        });
    }),
  z
    .strictObject({
      kind: z.literal('swizzle-clog'),
      ...atFields,
      hosts: hostList,
      stepUs: usField.optional(),
      step: durationText.optional(),
      ...forFields,
    })
    .superRefine((v, ctx) => {
      checkTimePair(v, ctx, 'at', true);
      checkTimePair(v, ctx, 'step', true);
      checkTimePair(v, ctx, 'for', true);
      checkUnique(v.hosts, ctx, 'hosts');
    }),
  z
    .strictObject({
      kind: z.literal('limit'),
      ...atFields,
      atByte: byteOffsetSchema,
      conn: connSelectorSchema,
      side: sideSchema,
    })
    .superRefine((v, ctx) => {
      checkTimePair(v, ctx, 'at', false);
    }),
  z
    .strictObject({
      kind: z.literal('slow-close'),
      ...atFields,
      conn: connSelectorSchema,
      side: sideSchema,
      ...forFields,
    })
    .superRefine((v, ctx) => {
      checkTimePair(v, ctx, 'at', true);
      checkTimePair(v, ctx, 'for', true);
    }),
] as const;

const stepSchema = z.discriminatedUnion('kind', [...stepSchemas]);

const proxySettingsSchema = z.strictObject({
  toxicity: probabilitySchema.optional(),
  faultyConnections: countSchema.optional(),
  segmentBytes: sizeBytesSchema.optional(),
});

const planSchema = z.strictObject({
  version: z.literal(FAULT_PLAN_VERSION),
  faults: z.array(stepSchema).max(MAX_PLAN_STEPS),
  proxy: proxySettingsSchema.optional(),
});

type RawStep = z.infer<typeof stepSchema>;

/** Field names each object accepts, so "unknown field" errors can list the known ones. */
const STEP_FIELDS = new Map<string, string[]>(
  stepSchemas.map((s) => [String(s.shape.kind.value), Object.keys(s.shape)]),
);

const knownStepFields: KnownFields = (path, input) => {
  if (path[0] !== 'faults' || path.length !== 2) return undefined;
  // Asked for an unrecognized_keys issue only, whose input is the step object itself (never null).
  return STEP_FIELDS.get(String((input as { kind?: unknown }).kind));
};

/** Converts zod issues to one SimError whose message names each bad field by its JSON path. */
function zodError(issues: Parameters<typeof issuesError>[0], prefix: readonly PropertyKey[] = []): SimError {
  return issuesError(issues, prefix, knownStepFields);
}

function timeOf(us: number | undefined, text: string | undefined): number | undefined {
  if (us !== undefined) return us;
  return text === undefined ? undefined : parseDurationUs(text);
}

function normalizeSelector(s: z.infer<typeof connSelectorSchema>): ConnSelector {
  if (s === 'all') return 'all';
  const out: { client?: string; server?: string; name?: string } = {};
  if (s.client !== undefined) out.client = s.client;
  if (s.server !== undefined) out.server = s.server;
  if (s.name !== undefined) out.name = s.name;
  return out;
}

function normalizeSlice(s: z.infer<typeof sliceSchema>): SliceSetting {
  return { minBytes: s.minBytes, maxBytes: s.maxBytes, delayUs: timeOf(s.delayUs, s.delay) ?? 0 };
}

function normalizeLinkPatch(p: z.infer<typeof linkPatchSchema>): LinkPatch {
  const out: LinkPatch = {};
  if (p.latency !== undefined) out.latency = p.latency;
  const jitterUs = p.jitterUs ?? p.jitter;
  if (jitterUs !== undefined) out.jitterUs = jitterUs;
  const bandwidth = p.bandwidthBytesPerSec ?? p.bandwidth;
  if (bandwidth !== undefined) out.bandwidthBytesPerSec = bandwidth;
  if (p.lossRate !== undefined) out.lossRate = p.lossRate;
  if (p.slice !== undefined) out.slice = p.slice === null ? null : normalizeSlice(p.slice);
  return out;
}

/** Turns a validated raw step into its normalized form (microsecond fields only, defaults filled). */
function normalizeStep(s: RawStep): FaultStep {
  // The schema guaranteed the required times are present, so the `!`s below cannot fail; a step
  // keyed by atByte is armed at 0 unless it says otherwise.
  const atUs = timeOf(s.atUs, s.at) ?? 0;
  switch (s.kind) {
    case 'partition': {
      const out: PartitionStep = {
        kind: 'partition',
        atUs,
        a: [...s.a],
        b: [...s.b],
        oneWay: s.oneWay === true,
      };
      const forUs = timeOf(s.forUs, s.for);
      if (forUs !== undefined) out.forUs = forUs;
      return out;
    }
    case 'stall-reads': {
      const out: StallReadsStep = {
        kind: 'stall-reads',
        atUs,
        conn: normalizeSelector(s.conn),
        side: s.side,
        forUs: timeOf(s.forUs, s.for)!,
      };
      if (s.atByte !== undefined) out.atByte = s.atByte;
      return out;
    }
    case 'reset': {
      const out: ResetStep = { kind: 'reset', atUs, conn: normalizeSelector(s.conn) };
      if (s.atByte !== undefined) {
        out.atByte = s.atByte;
        out.side = s.side!;
      }
      return out;
    }
    case 'pause':
      return { kind: 'pause', atUs, host: s.host, forUs: timeOf(s.forUs, s.for)! };
    case 'crash': {
      const out: CrashStep = { kind: 'crash', atUs, host: s.host };
      const restartAfterUs = timeOf(s.restartAfterUs, s.restartAfter);
      if (restartAfterUs !== undefined) out.restartAfterUs = restartAfterUs;
      return out;
    }
    case 'restart':
      return { kind: 'restart', atUs, host: s.host };
    case 'link': {
      const out: LinkStep = {
        kind: 'link',
        atUs,
        from: s.from,
        to: s.to,
        oneWay: s.oneWay === true,
        set: normalizeLinkPatch(s.set),
      };
      const forUs = timeOf(s.forUs, s.for);
      if (forUs !== undefined) out.forUs = forUs;
      if (s.atByte !== undefined) out.atByte = s.atByte;
      if (s.forBytes !== undefined) out.forBytes = s.forBytes;
      return out;
    }
    case 'swizzle-clog':
      return {
        kind: 'swizzle-clog',
        atUs,
        hosts: [...s.hosts],
        stepUs: timeOf(s.stepUs, s.step)!,
        forUs: timeOf(s.forUs, s.for)!,
      };
    case 'limit':
      return { kind: 'limit', atUs, atByte: s.atByte, conn: normalizeSelector(s.conn), side: s.side };
    case 'slow-close':
      return {
        kind: 'slow-close',
        atUs,
        conn: normalizeSelector(s.conn),
        side: s.side,
        forUs: timeOf(s.forUs, s.for)!,
      };
  }
}

/**
 * Validates a fault plan given as a parsed JSON value and returns its normalized form (all times in
 * integer microseconds, optional booleans filled in). Throws SimError('ERR_BAD_ARGUMENT') naming the
 * JSON path of every bad field, e.g. "faults[2].forUs: must be >= 0, got -5". This is the one parser
 * of fault descriptions: the simulator applies its result, the fault proxy compiles it.
 */
export function parseFaultPlan(json: unknown): FaultPlan {
  const r = planSchema.safeParse(json, { reportInput: true });
  if (!r.success) throw zodError(r.error.issues);
  const plan: FaultPlan = { version: 1, faults: r.data.faults.map(normalizeStep) };
  const p = r.data.proxy;
  if (p !== undefined) {
    const proxy: ProxySettings = {};
    if (p.toxicity !== undefined) proxy.toxicity = p.toxicity;
    if (p.faultyConnections !== undefined) proxy.faultyConnections = p.faultyConnections;
    if (p.segmentBytes !== undefined) proxy.segmentBytes = p.segmentBytes;
    plan.proxy = proxy;
  }
  return plan;
}

/**
 * Why the simulator cannot carry a (normalized) plan out, as "path: reason", or undefined when it
 * can: the plan uses a part of the language only the real-socket fault proxy has (byte offsets,
 * slicing, data limits, slow closes, proxy settings).
 */
export function simulatorUnsupported(plan: FaultPlan): string | undefined {
  const proxyOnly = 'is carried out by the real-socket fault proxy only, not the simulator';
  if (plan.proxy !== undefined) return `proxy: settings of the fault proxy; the simulator has none`;
  for (const [i, step] of plan.faults.entries()) {
    const at = `faults[${i}]`;
    if (step.kind === 'limit' || step.kind === 'slow-close') return `${at}.kind: "${step.kind}" ${proxyOnly}`;
    if ('atByte' in step && step.atByte !== undefined)
      return `${at}.atByte: a step keyed by bytes ${proxyOnly}`;
    if (step.kind === 'link' && step.set.slice !== undefined)
      return `${at}.set.slice: slicing ${proxyOnly} (the simulator chunks with conn.randomChunking)`;
  }
  return undefined;
}

/** Like parseFaultPlan, from JSON text; malformed JSON is a SimError naming the position, never a SyntaxError. */
export function parseFaultPlanText(text: string): FaultPlan {
  if (typeof text !== 'string')
    throw new SimError('ERR_BAD_ARGUMENT', `plan: expected JSON text, got ${describeValue(text)}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new SimError('ERR_BAD_ARGUMENT', `plan: malformed JSON: ${jsonErrorWhere(text, e)}`, { cause: e });
  }
  return parseFaultPlan(json);
}

/** Where JSON text first goes wrong, with a line:column, whatever the engine's message says. */
function jsonErrorWhere(text: string, e: unknown): string {
  const engine = e instanceof Error ? e.message : String(e);
  const found = locateJsonError(text);
  if (found === undefined) return engine;
  const before = text.slice(0, found.pos);
  const line = before.split('\n').length;
  const column = found.pos - before.lastIndexOf('\n');
  return `${found.reason} at line ${line}, column ${column} (${engine})`;
}

/**
 * A minimal JSON syntax scanner, run only after JSON.parse failed: engines word (and position) their
 * errors differently (Node 20 often gives no position at all), and a plan author needs the spot.
 */
function locateJsonError(text: string): { pos: number; reason: string } | undefined {
  let i = 0;
  class Bad extends Error {
    constructor(
      readonly pos: number,
      readonly reason: string,
    ) {
      super(reason);
    }
  }
  const fail = (reason: string, at = i): never => {
    throw new Bad(at, reason);
  };
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const describeAt = (): string => (i >= text.length ? 'end of text' : JSON.stringify(text[i]));
  const literal = (word: string): void => {
    if (text.startsWith(word, i)) i += word.length;
    else fail(`unexpected ${describeAt()}`);
  };
  const str = (): void => {
    i++; // opening quote
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text[i]!;
      if (c === '"') {
        i++;
        return;
      }
      if (c === '\\') {
        const n = text[i + 1];
        if (n !== undefined && '"\\/bfnrt'.includes(n)) i += 2;
        else if (n === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else fail('bad escape in string');
      } else if (c < ' ') fail('control character in string');
      else i++;
    }
  };
  const num = (): void => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (m === null) fail(`unexpected ${describeAt()}`);
    else i += m[0].length;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail(`expected a property name in double quotes, got ${describeAt()}`);
        str();
        ws();
        if (text[i] !== ':') fail(`expected ":" after a property name, got ${describeAt()}`);
        i++;
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') {
          i++;
          return;
        } else fail(`expected "," or "}" in an object, got ${describeAt()}`);
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') {
          i++;
          return;
        } else fail(`expected "," or "]" in an array, got ${describeAt()}`);
      }
    } else if (c === '"') str();
    else if (c === 't') literal('true');
    else if (c === 'f') literal('false');
    else if (c === 'n') literal('null');
    else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) num();
    else fail(`expected a value, got ${describeAt()}`);
  };
  try {
    value();
    ws();
    if (i < text.length) fail(`unexpected ${describeAt()} after the end of the plan`);
  } catch (e) {
    if (e instanceof Bad) return { pos: e.pos, reason: e.reason };
    throw e;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Applying a plan
// ---------------------------------------------------------------------------------------------

export type FaultStatus = 'pending' | 'active' | 'ended' | 'skipped';

/** What happened to one step, for reports and fault coverage. */
export interface FaultRecord {
  /** Unique within the plan: firstId + the step's index in plan.faults. The trace events carry it. */
  id: number;
  kind: FaultKind;
  status: FaultStatus;
  /** Absolute virtual time the step was scheduled for (time of applyFaultPlan + atUs). */
  dueUs: number;
  /** When it began; null while pending or when skipped. */
  startUs: number | null;
  /** When it ended (heal, resume, restore, restart); null while pending, active or never ending. */
  endUs: number | null;
  /** Connections a reset or stall-reads step matched when it fired (may be 0); null for other kinds. */
  matchedConns: number | null;
  /** Short human description, as in the fault-start event, e.g. "cli|srv one-way for 500ms". */
  detail: string;
  /** Why a skipped step did not run. */
  skipReason?: string;
}

export interface ApplyOptions {
  /** Randomness for swizzle-clog orders (default: the world rng's fork "fault-plan"). */
  rng?: Rng;
  /** Id of the first step (default 0), so several plans applied to one world can have distinct ids. */
  firstId?: number;
}

export interface AppliedPlan {
  /** The normalized plan being run. */
  readonly plan: FaultPlan;
  /** Virtual time of applyFaultPlan(); every atUs counts from here. */
  readonly appliedAtUs: number;
  /** One record per step, in plan order (copies: mutating them changes nothing). */
  records(): FaultRecord[];
  /** Kinds of the steps that actually started, sorted: the "which faults fired" coverage. */
  firedKinds(): FaultKind[];
  /**
   * At absolute virtual time `us`, ends every active fault (heal, resume, restore links, restart hosts
   * the plan crashed) and skips every step that has not started yet: after it no fault of this plan is
   * in force, which is what a liveness phase needs.
   */
  healAllAt(us: number): void;
}

interface LiveFault {
  record: FaultRecord;
  host: string | undefined;
  /** Undoes the fault; must tolerate the world having moved on (host crashed, connection gone). */
  undo: () => void;
}

const SELECTOR_KEYS = ['client', 'server', 'name'] as const;

function describeSelector(s: ConnSelector): string {
  if (s === 'all') return 'all';
  const parts = SELECTOR_KEYS.filter((k) => s[k] !== undefined).map((k) => `${k}=${s[k]}`);
  return parts.length === 0 ? 'all' : parts.join(',');
}

function matches(s: ConnSelector, c: ConnInfo): boolean {
  if (s === 'all') return true;
  return (
    (s.client === undefined || s.client === c.clientHost) &&
    (s.server === undefined || s.server === c.serverHost) &&
    (s.name === undefined || s.name === c.name)
  );
}

function describeLatency(m: LatencyModel): string {
  switch (m.kind) {
    case 'constant':
      return formatDurationUs(m.us);
    case 'uniform':
      return `uniform(${formatDurationUs(m.minUs)}..${formatDurationUs(m.maxUs)})`;
    case 'exponential':
      return `exp(min ${formatDurationUs(m.minUs)}, mean ${formatDurationUs(m.meanUs)})`;
    case 'mixture':
      return `mix(${describeLatency(m.fast)} / ${describeLatency(m.slow)} p=${m.slowProbability})`;
  }
}

function describeLinkPatch(p: Partial<LinkConfig>): string {
  const parts: string[] = [];
  if (p.latency !== undefined) parts.push(`latency ${describeLatency(p.latency)}`);
  if (p.jitterUs !== undefined) parts.push(`jitter ${formatDurationUs(p.jitterUs)}`);
  if (p.bandwidthBytesPerSec !== undefined) parts.push(`bandwidth ${p.bandwidthBytesPerSec}B/s`);
  if (p.lossRate !== undefined) parts.push(`loss ${p.lossRate}`);
  return parts.join(' ');
}

function forText(us: number | undefined): string {
  return us === undefined ? '' : ` for ${formatDurationUs(us)}`;
}

/** Fisher-Yates with the given stream: the same stream gives the same order. */
function shuffled<T>(items: readonly T[], rng: Rng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * Link changes as layers over a base: each active link fault is a patch; the link's settings are the
 * base with the active patches merged in start order. Ending a fault removes its layer, so overlapping
 * link faults on one pair restore correctly whatever order they end in (a plain "restore what was
 * there before me" would resurrect an earlier fault's settings).
 */
class LinkLayers {
  private readonly base = new Map<string, LinkConfig>();
  private readonly layers = new Map<string, { id: number; patch: Partial<LinkConfig> }[]>();

  constructor(private readonly net: Network) {}

  add(id: number, from: string, to: string, oneWay: boolean, patch: Partial<LinkConfig>): void {
    const dirs: [string, string][] = oneWay
      ? [[from, to]]
      : [
          [from, to],
          [to, from],
        ];
    for (const [f, t] of dirs) {
      const key = `${f}>${t}`;
      if (!this.base.has(key)) this.base.set(key, this.net.linkConfig(f, t));
      const list = this.layers.get(key) ?? [];
      list.push({ id, patch });
      this.layers.set(key, list);
      this.recompute(f, t);
    }
  }

  remove(id: number): void {
    for (const [key, list] of [...this.layers]) {
      const i = list.findIndex((l) => l.id === id);
      if (i < 0) continue;
      list.splice(i, 1);
      const [f, t] = key.split('>') as [string, string];
      this.recompute(f, t);
      if (list.length === 0) {
        this.layers.delete(key);
        this.base.delete(key);
      }
    }
  }

  private recompute(from: string, to: string): void {
    const key = `${from}>${to}`;
    let cfg: LinkConfig = { ...this.base.get(key)! };
    for (const l of this.layers.get(key) ?? []) cfg = { ...cfg, ...l.patch };
    this.net.setLink(from, to, cfg, { oneWay: true });
  }
}

class PlanRunner implements AppliedPlan {
  readonly appliedAtUs: number;
  private readonly recs: FaultRecord[];
  private readonly live = new Map<number, LiveFault>();
  private readonly stallCounts = new Map<string, number>();
  private readonly links: LinkLayers;

  constructor(
    private readonly net: Network,
    readonly plan: FaultPlan,
    private readonly rng: Rng,
    firstId: number,
  ) {
    this.appliedAtUs = net.world.nowUs;
    this.links = new LinkLayers(net);
    this.recs = plan.faults.map((s, i) => ({
      id: firstId + i,
      kind: s.kind,
      status: 'pending',
      dueUs: this.appliedAtUs + s.atUs,
      startUs: null,
      endUs: null,
      matchedConns: null,
      detail: '',
    }));
  }

  start(): void {
    this.plan.faults.forEach((step, i) => this.net.world.post(step.atUs, (index) => this.fire(index), i));
  }

  records(): FaultRecord[] {
    return this.recs.map((r) => ({ ...r }));
  }

  firedKinds(): FaultKind[] {
    return [...new Set(this.recs.filter((r) => r.startUs !== null).map((r) => r.kind))].sort();
  }

  healAllAt(us: number): void {
    const now = this.net.world.nowUs;
    if (typeof us !== 'number' || !Number.isFinite(us) || us < now)
      throw new SimError(
        'ERR_BAD_ARGUMENT',
        `healAllAt: us must be a time >= now (${now}), got ${String(us)}`,
      );
    this.net.world.post(Math.ceil(us - now), () => this.healAll(), undefined);
  }

  // --- bookkeeping -----------------------------------------------------------------------------

  private get nowUs(): number {
    return this.net.world.nowUs;
  }

  private emitStart(rec: FaultRecord, host: string | undefined): void {
    const trace = this.net.world.trace;
    if (!trace.enabled) return;
    if (host === undefined)
      trace.emit({ kind: 'fault-start', fault: rec.kind, id: rec.id, detail: rec.detail });
    else trace.emit({ kind: 'fault-start', fault: rec.kind, id: rec.id, detail: rec.detail, host });
  }

  private emitEnd(rec: FaultRecord, host: string | undefined): void {
    const trace = this.net.world.trace;
    if (!trace.enabled) return;
    if (host === undefined) trace.emit({ kind: 'fault-end', fault: rec.kind, id: rec.id });
    else trace.emit({ kind: 'fault-end', fault: rec.kind, id: rec.id, host });
  }

  private note(text: string): void {
    if (this.net.world.trace.enabled) this.net.world.trace.emit({ kind: 'note', text });
  }

  private skip(rec: FaultRecord, reason: string): void {
    rec.status = 'skipped';
    rec.skipReason = reason;
    this.note(`fault ${rec.id} (${rec.kind}) skipped: ${reason}`);
  }

  /** Marks a fault begun and emits fault-start; the caller then does the damage. */
  private begin(rec: FaultRecord, detail: string, host?: string): void {
    rec.status = 'active';
    rec.startUs = this.nowUs;
    rec.detail = detail;
    this.emitStart(rec, host);
  }

  /** Registers how to undo an active fault, so its own timer or healAll can end it. */
  private hold(rec: FaultRecord, host: string | undefined, undo: () => void): void {
    this.live.set(rec.id, { record: rec, host, undo });
  }

  /** Ends a fault that has no lasting effect (reset, restart): fault-end at the same time as fault-start. */
  private finishInstant(rec: FaultRecord, host: string | undefined): void {
    rec.status = 'ended';
    rec.endUs = this.nowUs;
    this.emitEnd(rec, host);
  }

  /** Undoes an active fault and emits fault-end; does nothing if it already ended. */
  private end(id: number): void {
    const l = this.live.get(id);
    if (l === undefined) return;
    this.live.delete(id);
    l.undo();
    l.record.status = 'ended';
    l.record.endUs = this.nowUs;
    this.emitEnd(l.record, l.host);
  }

  private after(delayUs: number, fn: () => void): void {
    this.net.world.post(delayUs, fn, undefined);
  }

  /** Ends the plan's active faults of the given kinds on one host (a crash ends a pause, a restart ends a crash). */
  private endOnHost(host: string, kinds: readonly FaultKind[]): void {
    for (const [id, l] of [...this.live]) if (l.host === host && kinds.includes(l.record.kind)) this.end(id);
  }

  /** Idempotent: after the first call nothing is pending or live, so a second healAllAt finds nothing. */
  private healAll(): void {
    for (const rec of this.recs) if (rec.status === 'pending') this.skip(rec, 'healAllAt came first');
    for (const id of [...this.live.keys()].sort((x, y) => x - y)) this.end(id);
  }

  // --- the faults --------------------------------------------------------------------------------

  private fire(index: number): void {
    const rec = this.recs[index]!;
    if (rec.status !== 'pending') return; // skipped by healAll
    const step = this.plan.faults[index]!;
    switch (step.kind) {
      case 'partition':
        return this.partition(rec, step);
      case 'stall-reads':
        return this.stallReads(rec, step);
      case 'reset':
        return this.reset(rec, step);
      case 'pause':
        return this.pause(rec, step);
      case 'crash':
        return this.crash(rec, step);
      case 'restart':
        return this.restart(rec, step);
      case 'link':
        return this.link(rec, step);
      case 'swizzle-clog':
        return this.swizzle(rec, step, index);
      case 'limit':
      case 'slow-close':
        // applyFaultPlan refused the plan (simulatorUnsupported): reaching this is a bug.
        throw new Error(`fault plan: "${step.kind}" reached the simulator`);
    }
  }

  /** The partition may be gone already, e.g. after someone called net.heal() for all. */
  private healPartition(partitionId: number): void {
    if (this.net.isPartitioned(partitionId)) this.net.heal(partitionId);
  }

  private partition(rec: FaultRecord, s: PartitionStep): void {
    this.begin(rec, `${s.a.join(',')}|${s.b.join(',')}${s.oneWay ? ' one-way' : ''}${forText(s.forUs)}`);
    const pid = this.net.partition(s.a, s.b, { oneWay: s.oneWay === true });
    this.hold(rec, undefined, () => this.healPartition(pid));
    if (s.forUs !== undefined) this.after(s.forUs, () => this.end(rec.id));
  }

  private matchConns(sel: ConnSelector): ConnInfo[] {
    return this.net.connections().filter((c) => matches(sel, c));
  }

  private stallKeys(connId: number, side: ReadSide): string[] {
    return side === 'both' ? [`${connId}/client`, `${connId}/server`] : [`${connId}/${side}`];
  }

  private stallReads(rec: FaultRecord, s: StallReadsStep): void {
    const conns = this.matchConns(s.conn);
    rec.matchedConns = conns.length;
    this.begin(rec, `${describeSelector(s.conn)} ${s.side} side${forText(s.forUs)}: ${conns.length} conn(s)`);
    // Counted per connection side: two overlapping stalls must not un-stall each other's connections.
    for (const c of conns) {
      for (const key of this.stallKeys(c.id, s.side))
        this.stallCounts.set(key, (this.stallCounts.get(key) ?? 0) + 1);
      this.net.setReadStall(c.id, s.side, true);
    }
    this.hold(rec, undefined, () => {
      const alive = new Set(this.net.connections().map((c) => c.id));
      for (const c of conns) {
        for (const key of this.stallKeys(c.id, s.side)) {
          const n = (this.stallCounts.get(key) ?? 1) - 1;
          if (n > 0) {
            this.stallCounts.set(key, n);
            continue;
          }
          this.stallCounts.delete(key);
          if (alive.has(c.id))
            this.net.setReadStall(c.id, key.endsWith('/client') ? 'client' : 'server', false);
        }
      }
    });
    this.after(s.forUs, () => this.end(rec.id));
  }

  private reset(rec: FaultRecord, s: ResetStep): void {
    const conns = this.matchConns(s.conn);
    rec.matchedConns = conns.length;
    this.begin(rec, `${describeSelector(s.conn)}: ${conns.length} conn(s)`);
    for (const c of conns) this.net.resetConnection(c.id, `fault ${rec.id}`);
    this.finishInstant(rec, undefined);
  }

  private pause(rec: FaultRecord, s: PauseStep): void {
    const host = this.net.host(s.host);
    if (host.state !== 'up') return this.skip(rec, `host ${s.host} is ${host.state}`);
    this.begin(rec, `${s.host}${forText(s.forUs)}`, s.host);
    host.pause();
    const inc = host.incarnation;
    this.hold(rec, s.host, () => {
      if (host.state === 'paused' && host.incarnation === inc) host.resume();
    });
    this.after(s.forUs, () => this.end(rec.id));
  }

  private crash(rec: FaultRecord, s: CrashStep): void {
    const host = this.net.host(s.host);
    if (host.state === 'crashed') return this.skip(rec, `host ${s.host} is already crashed`);
    const restart =
      s.restartAfterUs === undefined ? '' : ` restart after ${formatDurationUs(s.restartAfterUs)}`;
    this.begin(rec, `${s.host}${restart}`, s.host);
    host.crash();
    this.endOnHost(s.host, ['pause']);
    const inc = host.incarnation;
    this.hold(rec, s.host, () => this.restartIfStillDown(host, inc));
    if (s.restartAfterUs !== undefined) this.after(s.restartAfterUs, () => this.end(rec.id));
  }

  /** Restarts a host this plan crashed, unless something else already brought it back. */
  private restartIfStillDown(host: SimHost, inc: number): void {
    if (host.state === 'crashed' && host.incarnation === inc) host.restart();
  }

  private restart(rec: FaultRecord, s: RestartStep): void {
    const host = this.net.host(s.host);
    this.begin(rec, `${s.host} (was ${host.state})`, s.host);
    host.restart();
    this.endOnHost(s.host, ['pause', 'crash']);
    this.finishInstant(rec, s.host);
  }

  private link(rec: FaultRecord, s: LinkStep): void {
    this.begin(
      rec,
      `${s.from}${s.oneWay ? '>' : '<>'}${s.to} ${describeLinkPatch(s.set)}${forText(s.forUs)}`,
    );
    this.links.add(rec.id, s.from, s.to, s.oneWay === true, s.set);
    this.hold(rec, undefined, () => this.links.remove(rec.id));
    if (s.forUs !== undefined) this.after(s.forUs, () => this.end(rec.id));
  }

  /**
   * FoundationDB's swizzle-clog: clog the hosts one at a time (each cut off from every other host),
   * keep them all clogged for forUs, then unclog them one at a time in an independently drawn order.
   */
  private swizzle(rec: FaultRecord, s: SwizzleClogStep, index: number): void {
    // A fork per step: the order of this swizzle does not depend on how many others the plan has.
    const r = this.rng.fork(`faults[${index}]`);
    const clogOrder = shuffled(s.hosts, r);
    const unclogOrder = shuffled(s.hosts, r);
    this.begin(
      rec,
      `clog ${clogOrder.join(',')} then unclog ${unclogOrder.join(',')}, step ${formatDurationUs(s.stepUs)}, hold ${formatDurationUs(s.forUs)}`,
    );
    const clogged = new Map<string, number>();
    const clog = (h: string): void => {
      if (rec.status !== 'active') return;
      const others = this.net.hostNames().filter((x) => x !== h);
      if (others.length === 0) return; // a lone host has no links to clog
      clogged.set(h, this.net.partition([h], others));
      this.note(`fault ${rec.id} (swizzle-clog): clog ${h}`);
    };
    const unclog = (h: string): void => {
      if (rec.status !== 'active') return;
      const pid = clogged.get(h);
      if (pid !== undefined) this.healPartition(pid);
      clogged.delete(h);
      this.note(`fault ${rec.id} (swizzle-clog): unclog ${h}`);
    };
    this.hold(rec, undefined, () => {
      for (const pid of clogged.values()) this.healPartition(pid);
      clogged.clear();
    });
    const n = s.hosts.length;
    clogOrder.forEach((h, i) => (i === 0 ? clog(h) : this.after(i * s.stepUs, () => clog(h))));
    const unclogFromUs = (n - 1) * s.stepUs + s.forUs;
    unclogOrder.forEach((h, i) =>
      this.after(unclogFromUs + i * s.stepUs, () => {
        unclog(h);
        if (i === n - 1) this.end(rec.id);
      }),
    );
  }
}

/** Every host a step names, with the JSON path of the field that names it. */
function namedHosts(step: FaultStep, i: number): [string, string][] {
  const p = `faults[${i}]`;
  const sel = (c: ConnSelector): [string, string][] => {
    if (c === 'all') return [];
    const out: [string, string][] = [];
    if (c.client !== undefined) out.push([`${p}.conn.client`, c.client]);
    if (c.server !== undefined) out.push([`${p}.conn.server`, c.server]);
    return out;
  };
  switch (step.kind) {
    case 'partition':
      return [
        ...step.a.map((h, j): [string, string] => [`${p}.a[${j}]`, h]),
        ...step.b.map((h, j): [string, string] => [`${p}.b[${j}]`, h]),
      ];
    case 'stall-reads':
    case 'reset':
    case 'limit':
    case 'slow-close':
      return sel(step.conn);
    case 'pause':
    case 'crash':
    case 'restart':
      return [[`${p}.host`, step.host]];
    case 'link':
      return [
        [`${p}.from`, step.from],
        [`${p}.to`, step.to],
      ];
    case 'swizzle-clog':
      return step.hosts.map((h, j): [string, string] => [`${p}.hosts[${j}]`, h]);
  }
}

/**
 * Schedules every step of a plan on the network's world, relative to the current virtual time, and
 * returns a handle for records and for healing everything at a given time. Validates the plan again
 * (so a plan built in code gets the same checks) and checks that every named host exists now.
 */
export function applyFaultPlan(net: Network, plan: FaultPlan, options: ApplyOptions = {}): AppliedPlan {
  const checked = parseFaultPlan(plan);
  const unsupported = simulatorUnsupported(checked);
  if (unsupported !== undefined) throw new SimError('ERR_BAD_ARGUMENT', unsupported);
  const known = new Set(net.hostNames());
  checked.faults.forEach((step, i) => {
    for (const [path, host] of namedHosts(step, i)) {
      if (!known.has(host))
        throw new SimError(
          'ERR_BAD_ARGUMENT',
          `${path}: no host named ${JSON.stringify(host)} (hosts: ${[...known].join(', ') || 'none'})`,
        );
    }
  });
  const firstId = options.firstId ?? 0;
  if (!Number.isSafeInteger(firstId) || firstId < 0)
    throw new SimError('ERR_BAD_ARGUMENT', `firstId: must be an integer >= 0, got ${String(firstId)}`);
  const runner = new PlanRunner(net, checked, options.rng ?? net.world.rng.fork('fault-plan'), firstId);
  runner.start();
  return runner;
}

// ---------------------------------------------------------------------------------------------
// Swarm plans (TigerBeetle VOPR style: the fault parameters are drawn per seed)
// ---------------------------------------------------------------------------------------------

/** An inclusive range a knob is drawn from. */
export interface KnobRange {
  min: number;
  max: number;
}

export type PartitionMode = 'uniform_size' | 'uniform_partition' | 'isolate_single';

/**
 * Ranges the per-seed knobs are drawn from. Every field is optional; DEFAULT_SWARM holds the
 * defaults (TigerBeetle's VOPR numbers where they fit; TigerBeetle ticks are 10 ms).
 */
export interface SwarmConfig {
  /** Number of steps in the plan. Default 1..12. */
  steps?: KnobRange;
  /** Steps start at a time drawn in [0, horizonUs]; the horizon itself is drawn per seed. Default 1 s..20 s. */
  horizonUs?: KnobRange;
  /** Candidate kinds. Default: all eight. */
  kinds?: readonly SimFaultKind[];
  /** Each candidate kind is enabled for a seed with this probability; at least one always is. Default 0.5. */
  kindProbability?: number;
  /** Mean of the exponential fault durations. Default 10 ms..5 s (TB path_clog_duration_mean 0..500 ticks). */
  durationMeanUs?: KnobRange;
  /** Cap on any single drawn duration (not drawn). Default 30 s. */
  durationMaxUs?: number;
  /** Loss rate of link faults. Default 0..0.3 (TB packet_loss_probability 0..30%). */
  lossRate?: KnobRange;
  /** Minimum one-way latency of link faults. Default 0..30 ms (TB one_way_delay_min 0..3 ticks). */
  latencyMinUs?: KnobRange;
  /** Mean of the exponential latency tail of link faults. Default 30..100 ms (TB one_way_delay_mean 3..10 ticks). */
  latencyMeanUs?: KnobRange;
  /** Jitter of link faults. Default 0..10 ms. */
  jitterUs?: KnobRange;
  /** Bandwidth of link faults. Default 100 kB/s..10 MB/s. */
  bandwidthBytesPerSec?: KnobRange;
  /** Shortest partition (added to the drawn duration). Default 1..2 s (TB partition_stability 100..200 ticks). */
  partitionStabilityUs?: KnobRange;
  /** Shortest crash before restart (added to the drawn duration). Default 0..10 s (TB replica_crash_stability 0..1000 ticks). */
  crashStabilityUs?: KnobRange;
  /** Gap between successive clogs / unclogs of a swizzle-clog. Default 10 ms..1 s. */
  swizzleStepUs?: KnobRange;
}

/** A frozen range, so DEFAULT_SWARM cannot be changed by accident through a nested object. */
const range = (min: number, max: number): KnobRange => Object.freeze({ min, max });

export const DEFAULT_SWARM: Readonly<Required<SwarmConfig>> = Object.freeze({
  steps: range(1, 12),
  horizonUs: range(1_000_000, 20_000_000),
  kinds: FAULT_KINDS,
  kindProbability: 0.5,
  durationMeanUs: range(10_000, 5_000_000),
  durationMaxUs: 30_000_000,
  lossRate: range(0, 0.3),
  latencyMinUs: range(0, 30_000),
  latencyMeanUs: range(30_000, 100_000),
  jitterUs: range(0, 10_000),
  bandwidthBytesPerSec: range(100_000, 10_000_000),
  partitionStabilityUs: range(1_000_000, 2_000_000),
  crashStabilityUs: range(0, 10_000_000),
  swizzleStepUs: range(10_000, 1_000_000),
});

export type SwarmKnobs = Record<string, number | string | boolean>;

const intRange = (max: number) =>
  z
    .strictObject({ min: z.number().int().min(0).max(max), max: z.number().int().min(0).max(max) })
    .superRefine((v, ctx) => {
      if (v.max < v.min) ctx.addIssue({ code: 'custom', path: ['max'], message: 'must be >= min' });
    });
const unitRange = z.strictObject({ min: probabilitySchema, max: probabilitySchema }).superRefine((v, ctx) => {
  if (v.max < v.min) ctx.addIssue({ code: 'custom', path: ['max'], message: 'must be >= min' });
});

const swarmSchema = z.strictObject({
  steps: intRange(MAX_PLAN_STEPS).optional(),
  horizonUs: intRange(MAX_PLAN_US).optional(),
  kinds: z.array(z.enum(FAULT_KINDS)).min(1).optional(),
  kindProbability: probabilitySchema.optional(),
  durationMeanUs: intRange(MAX_PLAN_US)
    .superRefine((v, ctx) => {
      if (v.min < 1)
        ctx.addIssue({
          code: 'custom',
          path: ['min'],
          message: 'must be >= 1 (an exponential needs a mean > 0)',
        });
    })
    .optional(),
  durationMaxUs: usField.optional(),
  lossRate: unitRange.optional(),
  latencyMinUs: intRange(MAX_LATENCY_US).optional(),
  latencyMeanUs: intRange(MAX_LATENCY_US).optional(),
  jitterUs: intRange(MAX_JITTER_US).optional(),
  bandwidthBytesPerSec: intRange(MAX_BANDWIDTH_BYTES_PER_SEC).optional(),
  partitionStabilityUs: intRange(MAX_PLAN_US).optional(),
  crashStabilityUs: intRange(MAX_PLAN_US).optional(),
  swizzleStepUs: intRange(MAX_PLAN_US).optional(),
});

function swarmConfig(config: SwarmConfig | undefined): Required<SwarmConfig> {
  const r = swarmSchema.safeParse(config ?? {}, { reportInput: true });
  if (!r.success) throw zodError(r.error.issues, ['swarm']);
  const out: Record<string, unknown> = { ...DEFAULT_SWARM };
  for (const [k, v] of Object.entries(r.data)) if (v !== undefined) out[k] = v;
  return out as unknown as Required<SwarmConfig>;
}

/**
 * Draws an integer in a range, in whole milliseconds when the range allows, so plans and banners
 * read "1500ms" rather than "1499873us".
 */
function drawUs(rng: Rng, range: KnobRange): number {
  const lo = Math.ceil(range.min / 1000);
  const hi = Math.floor(range.max / 1000);
  return lo <= hi ? rng.int(lo, hi) * 1000 : rng.int(range.min, range.max);
}

/** A fraction drawn in a range, rounded to 3 decimals so the printed knob is exactly the value used. */
function drawFraction(rng: Rng, range: KnobRange): number {
  return Math.min(
    range.max,
    Math.max(range.min, Math.round(rng.uniform(range.min, range.max) * 1000) / 1000),
  );
}

const NEEDS_TWO_HOSTS: ReadonlySet<SimFaultKind> = new Set(['partition', 'link', 'swizzle-clog']);
const PARTITION_MODES: readonly PartitionMode[] = ['uniform_size', 'uniform_partition', 'isolate_single'];

interface SwarmDraws {
  cfg: Required<SwarmConfig>;
  hosts: readonly string[];
  horizonUs: number;
  kinds: SimFaultKind[];
  durationMeanUs: number;
  lossRate: number;
  latencyMinUs: number;
  latencyMeanUs: number;
  jitterUs: number;
  bandwidthBytesPerSec: number;
  partitionMode: PartitionMode;
  oneWayPartitions: boolean;
  partitionStabilityUs: number;
  crashStabilityUs: number;
  swizzleStepUs: number;
}

function drawDurationUs(d: SwarmDraws, r: Rng): number {
  const us = Math.round(r.exponential(d.durationMeanUs) / 1000) * 1000;
  return Math.min(d.cfg.durationMaxUs, us);
}

function drawSelector(d: SwarmDraws, r: Rng): ConnSelector {
  const which = r.int(0, 4);
  if (which === 0) return 'all'; // (drawSwarmPlan refuses an empty host list)
  return which <= 2 ? { client: r.pick(d.hosts) } : { server: r.pick(d.hosts) };
}

function drawSides(d: SwarmDraws, r: Rng): { a: string[]; b: string[] } {
  const hosts = d.hosts;
  switch (d.partitionMode) {
    case 'isolate_single': {
      const x = r.pick(hosts);
      return { a: [x], b: hosts.filter((h) => h !== x) };
    }
    case 'uniform_size': {
      const k = r.int(1, hosts.length - 1);
      const order = shuffled(hosts, r);
      return { a: order.slice(0, k), b: order.slice(k) };
    }
    case 'uniform_partition': {
      const a: string[] = [];
      const b: string[] = [];
      for (const h of hosts) (r.chance(0.5) ? a : b).push(h);
      // Both sides need a host: move one over from the full side.
      if (a.length === 0) a.push(b.splice(r.int(0, b.length - 1), 1)[0]!);
      else if (b.length === 0) b.push(a.splice(r.int(0, a.length - 1), 1)[0]!);
      return { a, b };
    }
  }
}

function drawStep(d: SwarmDraws, r: Rng): FaultStep {
  const kind = r.pick(d.kinds);
  const atUs = drawUs(r, { min: 0, max: d.horizonUs });
  switch (kind) {
    case 'partition': {
      const { a, b } = drawSides(d, r);
      return {
        kind,
        atUs,
        a,
        b,
        oneWay: d.oneWayPartitions,
        forUs: d.partitionStabilityUs + drawDurationUs(d, r),
      };
    }
    case 'stall-reads':
      return {
        kind,
        atUs,
        conn: drawSelector(d, r),
        side: r.pick(['client', 'server', 'both'] as const),
        forUs: drawDurationUs(d, r),
      };
    case 'reset':
      return { kind, atUs, conn: drawSelector(d, r) };
    case 'pause':
      return { kind, atUs, host: r.pick(d.hosts), forUs: drawDurationUs(d, r) };
    case 'crash':
      return { kind, atUs, host: r.pick(d.hosts), restartAfterUs: d.crashStabilityUs + drawDurationUs(d, r) };
    case 'restart':
      return { kind, atUs, host: r.pick(d.hosts) };
    case 'link': {
      const [from, to] = shuffled(d.hosts, r) as [string, string];
      const set: Partial<LinkConfig> = {};
      // Each setting with probability 1/2, at least one: a seed sees latency-only, loss-only, ... faults.
      const fields = ['latency', 'lossRate', 'jitterUs', 'bandwidthBytesPerSec'] as const;
      const chosen = fields.filter(() => r.chance(0.5));
      if (chosen.length === 0) chosen.push(r.pick(fields));
      for (const f of chosen) {
        if (f === 'latency')
          set.latency = { kind: 'exponential', minUs: d.latencyMinUs, meanUs: d.latencyMeanUs };
        else if (f === 'lossRate') set.lossRate = d.lossRate;
        else if (f === 'jitterUs') set.jitterUs = d.jitterUs;
        else set.bandwidthBytesPerSec = d.bandwidthBytesPerSec;
      }
      return { kind, atUs, from, to, oneWay: r.chance(0.5), set, forUs: drawDurationUs(d, r) };
    }
    case 'swizzle-clog': {
      const k = r.int(Math.min(2, d.hosts.length), d.hosts.length);
      return {
        kind,
        atUs,
        hosts: shuffled(d.hosts, r).slice(0, k),
        stepUs: d.swizzleStepUs,
        forUs: drawDurationUs(d, r),
      };
    }
  }
}

/**
 * Draws a whole fault plan for one seed: first the knobs (how many steps, which kinds, horizon,
 * durations, loss, latency, partition shape...), each from its own named fork of `rng` so adding a
 * knob never shifts the others, then each step from its own fork. Returns the plan (which passes
 * parseFaultPlan) and every drawn knob, for the run banner.
 */
export function drawSwarmPlan(
  rng: Rng,
  hosts: readonly string[],
  config?: SwarmConfig,
): { plan: FaultPlan; knobs: SwarmKnobs } {
  const cfg = swarmConfig(config);
  if (!Array.isArray(hosts) || hosts.some((h) => typeof h !== 'string' || h === ''))
    throw new SimError('ERR_BAD_ARGUMENT', 'hosts: must be an array of host names');
  if (hosts.length === 0) throw new SimError('ERR_BAD_ARGUMENT', 'hosts: need at least one host');
  if (new Set(hosts).size !== hosts.length)
    throw new SimError('ERR_BAD_ARGUMENT', 'hosts: names must be unique');

  const knob = (name: string): Rng => rng.fork(`knob:${name}`);
  const steps = knob('steps').int(cfg.steps.min, cfg.steps.max);
  const horizonUs = drawUs(knob('horizonUs'), cfg.horizonUs);

  // Swarm testing: each kind is on or off for the whole seed, so some seeds hammer one kind of fault.
  const kr = knob('kinds');
  const possible = [...new Set(cfg.kinds)].filter((k) => hosts.length >= 2 || !NEEDS_TWO_HOSTS.has(k));
  if (possible.length === 0)
    throw new SimError('ERR_BAD_ARGUMENT', 'swarm.kinds: none of the kinds can run on a single host');
  let kinds = possible.filter(() => kr.chance(cfg.kindProbability));
  if (kinds.length === 0) kinds = [kr.pick(possible)];

  const partitionRng = knob('partition');
  const d: SwarmDraws = {
    cfg,
    hosts,
    horizonUs,
    kinds,
    durationMeanUs: drawUs(knob('durationMeanUs'), cfg.durationMeanUs),
    lossRate: drawFraction(knob('lossRate'), cfg.lossRate),
    latencyMinUs: drawUs(knob('latencyMinUs'), cfg.latencyMinUs),
    latencyMeanUs: drawUs(knob('latencyMeanUs'), cfg.latencyMeanUs),
    jitterUs: drawUs(knob('jitterUs'), cfg.jitterUs),
    bandwidthBytesPerSec: knob('bandwidthBytesPerSec').int(
      cfg.bandwidthBytesPerSec.min,
      cfg.bandwidthBytesPerSec.max,
    ),
    partitionMode: partitionRng.pick(PARTITION_MODES),
    oneWayPartitions: partitionRng.chance(0.5),
    partitionStabilityUs: drawUs(knob('partitionStabilityUs'), cfg.partitionStabilityUs),
    crashStabilityUs: drawUs(knob('crashStabilityUs'), cfg.crashStabilityUs),
    swizzleStepUs: drawUs(knob('swizzleStepUs'), cfg.swizzleStepUs),
  };

  const faults: FaultStep[] = [];
  for (let i = 0; i < steps; i++) faults.push(drawStep(d, rng.fork(`step:${i}`)));
  // Listed in time order for the reader; a stable sort keeps draw order among equal times.
  faults.sort((x, y) => x.atUs - y.atUs);

  const knobs: SwarmKnobs = {
    steps,
    horizonUs,
    kinds: kinds.join(','),
    durationMeanUs: d.durationMeanUs,
    lossRate: d.lossRate,
    latencyMinUs: d.latencyMinUs,
    latencyMeanUs: d.latencyMeanUs,
    jitterUs: d.jitterUs,
    bandwidthBytesPerSec: d.bandwidthBytesPerSec,
    partitionMode: d.partitionMode,
    partitionSymmetry: d.oneWayPartitions ? 'asymmetric' : 'symmetric',
    partitionStabilityUs: d.partitionStabilityUs,
    crashStabilityUs: d.crashStabilityUs,
    swizzleStepUs: d.swizzleStepUs,
  };
  return { plan: { version: 1, faults }, knobs };
}

/** The knobs as one printable line, "steps=7 horizonUs=12000000 kinds=partition,link ...", in draw order. */
export function describeKnobs(knobs: Readonly<SwarmKnobs>): string {
  return Object.entries(knobs)
    .map(([k, v]) => `${k}=${typeof v === 'string' && /[\s="]/.test(v) ? JSON.stringify(v) : String(v)}`)
    .join(' ');
}
