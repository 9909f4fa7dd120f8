/**
 * The seeded fault proxy's decisions, without any I/O: which faults a proxied byte stream meets
 * (latency with jitter, bandwidth, slicing into separate writes, read stalls, reset, slow close, data
 * limit, and a timeline of changes), as a pure function of (seed, connection index, direction, byte
 * offset). The real proxy (impl/runtime/node-proxy.ts) feeds bytes and the clock in and carries out
 * the actions that come back; tests feed the same core with any chunking and compare.
 *
 * Chunking invariance: each direction's stream is cut into segments at offsets that depend only on
 * the seed, the connection index, the direction and the fault settings (never on read sizes), and
 * every draw of a segment (its size when slicing, its latency and jitter) is a keyed draw on
 * (seed, conn, dir, segment index). The same bytes therefore meet the same fate however the kernel
 * chunks the reads. Only timeline steps keyed by time (`atUs`) break this, since what is in flight
 * at a given moment depends on timing; prefer steps keyed by byte offset (`atByte`).
 *
 * Vocabulary and units follow the simulated network (sim/net-config.ts, sim/FAULTS.md) so parity
 * faults map 1:1: `latency` is a sim LatencyModel in µs, `jitterUs` an extra uniform delay in
 * [0, jitterUs) per segment, `bandwidthBytesPerSec` 0 = unlimited, a stall is the sim's stall-reads
 * (stop reading; the sender then sees backpressure), a reset resets both ends. Full syntax and
 * semantics: impl/runtime/PROXY.md.
 *
 * Browser-safe: no Node imports, no clock, no ambient randomness; time comes in as arguments.
 */
import { SimError } from '../../sim/errors.js';
import { parseDurationUs } from '../../sim/fault-plan.js';
import { drawLatencyUs, validateLatency, type LatencyModel } from '../../sim/net-config.js';
import { Rng, type KeyedStream } from '../../sim/rng.js';

// ---------------------------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------------------------

/** `up`: client to upstream; `down`: upstream to client. */
export type ProxyDirection = 'up' | 'down';
export const PROXY_DIRECTIONS: readonly ProxyDirection[] = ['up', 'down'];

/** Slicing: cut the stream into slices of a random size, each written separately, `delayUs` apart. */
export interface SliceSetting {
  /** Smallest slice, >= 1. */
  minBytes: number;
  /** Largest slice, >= minBytes. */
  maxBytes: number;
  /** Gap between the end of one slice's write and the start of the next (default 0). */
  delayUs: number;
}

/** The faults each segment meets; a timeline `set` step changes them for a window. */
export interface SegmentFaults {
  /** One-way delay per segment (default: none). */
  latency?: LatencyModel;
  /** Extra delay drawn uniformly in [0, jitterUs) per segment (default 0). Order is preserved. */
  jitterUs?: number;
  /** Forwarding rate in bytes per second; 0 = unlimited (default 0). */
  bandwidthBytesPerSec?: number;
  /** Slicing (default off; `null` in a timeline step turns it off for the window). */
  slice?: SliceSetting | null;
}

/** Stop reading once `atByte` bytes were read, for `forUs`. */
export interface StallSetting {
  atByte: number;
  forUs: number;
}

/** The faults of one direction. */
export interface DirectionFaults extends SegmentFaults {
  stalls?: StallSetting[];
  /** Reset both connections once this many bytes were forwarded in this direction. */
  resetAtByte?: number;
  /** Close the whole connection once this many bytes were forwarded in this direction. */
  limitBytes?: number;
  /** Hold the end of stream (FIN) this long after the last byte before passing it on (default 0). */
  slowCloseUs?: number;
}

export type TimelineDirection = ProxyDirection | 'both';

/**
 * A change at a byte offset (`atByte`, chunking-invariant) or at a time since the connection was
 * accepted (`atUs`, not chunking-invariant). Exactly one of the two is given.
 */
interface TimelineBase {
  direction: TimelineDirection;
  atByte?: number;
  atUs?: number;
}

/** Changes the segment faults for a window: `forBytes` after `atByte`, or `forUs` after `atUs` (absent: stays). */
export interface TimelineSetStep extends TimelineBase {
  kind: 'set';
  set: SegmentFaults;
  forBytes?: number;
  forUs?: number;
}

export interface TimelineStallStep extends TimelineBase {
  kind: 'stall';
  forUs: number;
}

export interface TimelineResetStep extends TimelineBase {
  kind: 'reset';
}

export type TimelineStep = TimelineSetStep | TimelineStallStep | TimelineResetStep;

/** Everything the proxy does to the connections it carries (the normalized form: µs fields only). */
export interface ProxyFaults {
  up?: DirectionFaults;
  down?: DirectionFaults;
  timeline?: TimelineStep[];
  /**
   * Probability that a connection gets the faults at all, drawn per connection index from the seed
   * (default 1). Connections without faults are forwarded as they come.
   */
  toxicity?: number;
  /** Only connections with an index below this get faults (default: all), e.g. 1 = the first only. */
  faultyConnections?: number;
  /** Segment size when not slicing: the unit that gets one latency/jitter draw (default 1460). */
  segmentBytes?: number;
}

/** The grid when not slicing, as the simulator's default MSS: one latency/jitter draw per segment. */
export const DEFAULT_SEGMENT_BYTES = 1460;
/** Bounds that keep a fault description sane (and every offset a safe integer). */
export const MAX_PROXY_BYTES = Number.MAX_SAFE_INTEGER;
/** Largest delay or duration a fault may name: 2^40 µs (~12.7 days), as fault plans. */
export const MAX_PROXY_US = 2 ** 40;
/** Bound on timeline steps and on stalls per direction. */
export const MAX_TIMELINE_STEPS = 10_000;

/** What the proxy did, one entry per decision (see PROXY.md, "The log"). */
export type ProxyAction = 'forward' | 'delay' | 'slice' | 'stall' | 'reset' | 'close' | 'limit';

export interface ProxyLogEntry {
  /** Microseconds since the proxy started. */
  tUs: number;
  /** Connection index: 0 for the first connection the proxy accepted. */
  conn: number;
  dir: ProxyDirection;
  /** Byte offset in this direction's stream where the decision applies. */
  offset: number;
  action: ProxyAction;
  /** Bytes the decision covers (a segment's planned length; 0 for point events). */
  bytes: number;
  /** `plan`: a decision of the fault plan; `peer`: something an endpoint did (reset, unreachable). */
  origin: 'plan' | 'peer';
  /** Fixed-format text, e.g. "latency 20341us" (deterministic for plan entries keyed by offset). */
  detail: string;
}

// ---------------------------------------------------------------------------------------------
// Profiles
// ---------------------------------------------------------------------------------------------

function both(d: DirectionFaults): ProxyFaults {
  return { up: d, down: d };
}

/**
 * Named fault sets for the interop matrix (`--faults PROFILE`) and `netlab proxy --profile`. Offsets
 * are small on purpose: an SP connection exchanges an 8-byte handshake and then frames with an 8-byte
 * length header, so byte 12 is inside the first frame's header.
 */
export type ProxyProfileName = 'none' | 'latency' | 'slicing' | 'stall' | 'reset' | 'chaos';

export const PROXY_PROFILES: Readonly<Record<ProxyProfileName, ProxyFaults>> = {
  /** Forward everything as it comes. */
  none: {},
  /** 2-10 ms per segment plus up to 2 ms of jitter, both ways. */
  latency: both({ latency: { kind: 'uniform', minUs: 2000, maxUs: 10_000 }, jitterUs: 2000 }),
  /** Writes of 1-64 bytes, 100 µs apart, both ways: frames arrive split at every possible byte. */
  slicing: both({ slice: { minBytes: 1, maxBytes: 64, delayUs: 100 } }),
  /** Reading stops for 200 ms at byte 12 of each direction (inside the first frame's header). */
  stall: both({ stalls: [{ atByte: 12, forUs: 200_000 }] }),
  /** The first connection is reset after 12 bytes upstream; later connections (redials) are clean. */
  reset: { up: { resetAtByte: 12 }, faultyConnections: 1 },
  /** Latency, jitter, slicing, a bandwidth cap, a stall and a slow close at once; no reset. */
  chaos: both({
    latency: { kind: 'uniform', minUs: 1000, maxUs: 5000 },
    jitterUs: 2000,
    bandwidthBytesPerSec: 1_000_000,
    slice: { minBytes: 1, maxBytes: 256, delayUs: 0 },
    stalls: [{ atByte: 64, forUs: 100_000 }],
    slowCloseUs: 50_000,
  }),
};
export const PROXY_PROFILE_NAMES = Object.keys(PROXY_PROFILES) as ProxyProfileName[];

/** The profile's faults; a SimError ERR_BAD_ARGUMENT listing the names when there is none. */
export function proxyProfile(name: string): ProxyFaults {
  if (!Object.hasOwn(PROXY_PROFILES, name)) {
    throw new SimError(
      'ERR_BAD_ARGUMENT',
      `unknown fault profile ${JSON.stringify(name)} (known: ${PROXY_PROFILE_NAMES.join(', ')})`,
    );
  }
  return parseProxyFaults(PROXY_PROFILES[name as ProxyProfileName]);
}

// ---------------------------------------------------------------------------------------------
// Units: sizes, rates, durations (shared with the CLI)
// ---------------------------------------------------------------------------------------------

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1000,
  kib: 1024,
  mb: 1_000_000,
  mib: 1024 ** 2,
  gb: 1_000_000_000,
  gib: 1024 ** 3,
};
const SIZE_RE = /^(\d+(?:\.\d*)?|\.\d+)\s*([a-z]*)$/i;

/**
 * Parses a byte count: "4096", "64KiB", "1MB", "1.5kB" (B, kB = 1000, KiB = 1024, MB, MiB, GB, GiB;
 * case-insensitive), rounded to a whole byte; undefined when the text is not a size.
 */
export function parseSizeBytes(text: string): number | undefined {
  const m = SIZE_RE.exec(text.trim());
  if (m === null) return undefined;
  const factor = SIZE_UNITS[m[2]!.toLowerCase()];
  if (factor === undefined) return undefined;
  const n = Math.round(Number(m[1]) * factor);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Parses a rate: a size per second, "1MB/s", "64KiB/s", "1000" (bytes per second). */
export function parseRateBytesPerSec(text: string): number | undefined {
  const t = text.trim();
  return parseSizeBytes(t.endsWith('/s') ? t.slice(0, -2) : t);
}

/** Formats µs compactly for details: "20ms", "1.5s", "250us". */
function fmtUs(us: number): string {
  if (us >= 1_000_000 && us % 1000 === 0) return `${us / 1_000_000}s`;
  if (us >= 1000 && us % 1000 === 0) return `${us / 1000}ms`;
  return `${us}us`;
}

// ---------------------------------------------------------------------------------------------
// Validation (typed errors naming the field)
// ---------------------------------------------------------------------------------------------

function bad(path: string, detail: string): never {
  throw new SimError('ERR_BAD_ARGUMENT', `${path}: ${detail}`);
}

function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object' && v !== null) return 'an object';
  if (typeof v === 'function' || typeof v === 'symbol') return `a ${typeof v}`;
  // Strings quoted, numbers and booleans as written; NaN and Infinity (not JSON) by name.
  if (typeof v === 'bigint' || (typeof v === 'number' && !Number.isFinite(v))) return String(v);
  return JSON.stringify(v);
}

function record(path: string, v: unknown, known: readonly string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    bad(path, `must be an object, got ${describeValue(v)}`);
  for (const k of Object.keys(v)) {
    if (!known.includes(k)) bad(`${path}.${k}`, `unknown field (known: ${known.join(', ')})`);
  }
  return v as Record<string, unknown>;
}

function integer(path: string, v: unknown, min: number, max = MAX_PROXY_BYTES): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    bad(path, `must be an integer in [${min}, ${max}], got ${describeValue(v)}`);
  }
  return v;
}

function number(path: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
    bad(path, `must be a number in [${min}, ${max}], got ${describeValue(v)}`);
  }
  return v;
}

/** A time given as `<name>Us` (integer µs) or `<name>` (a duration string such as "250ms"), not both. */
function time(path: string, o: Record<string, unknown>, name: string, required: boolean): number | undefined {
  const usKey = `${name}Us`;
  const us = o[usKey];
  const text = o[name];
  if (us !== undefined && text !== undefined) bad(`${path}.${name}`, `give ${usKey} or ${name}, not both`);
  if (us !== undefined) return integer(`${path}.${usKey}`, us, 0, MAX_PROXY_US);
  if (text !== undefined) {
    const parsed = typeof text === 'string' ? parseDurationUs(text) : undefined;
    if (parsed === undefined || parsed > MAX_PROXY_US) {
      bad(
        `${path}.${name}`,
        `must be a duration such as "250ms" or "1.5s" (at most 2^40us), got ${describeValue(text)}`,
      );
    }
    return parsed;
  }
  if (required) bad(`${path}.${usKey}`, `required (or ${name} as a duration string)`);
  return undefined;
}

const SEGMENT_FIELDS = ['latency', 'jitterUs', 'jitter', 'bandwidthBytesPerSec', 'bandwidth', 'slice'];
const DIRECTION_FIELDS = [
  ...SEGMENT_FIELDS,
  'stalls',
  'resetAtByte',
  'limitBytes',
  'slowCloseUs',
  'slowClose',
];

function parseSlice(path: string, v: unknown): SliceSetting {
  const o = record(path, v, ['minBytes', 'maxBytes', 'delayUs', 'delay']);
  const minBytes = integer(`${path}.minBytes`, o.minBytes, 1, 2 ** 31);
  const maxBytes = integer(`${path}.maxBytes`, o.maxBytes, minBytes, 2 ** 31);
  return { minBytes, maxBytes, delayUs: time(path, o, 'delay', false) ?? 0 };
}

/** Reads the segment fields of `o` (which the caller has already checked for unknown keys). */
function parseSegmentFields(
  path: string,
  o: Record<string, unknown>,
  allowNullSlice: boolean,
): SegmentFaults {
  const out: SegmentFaults = {};
  if (o.latency !== undefined) {
    if (typeof o.latency === 'string') {
      const us = parseDurationUs(o.latency);
      if (us === undefined)
        bad(`${path}.latency`, `must be a latency model or a duration, got ${describeValue(o.latency)}`);
      out.latency = { kind: 'constant', us };
    } else {
      out.latency = validateLatency(`${path}.latency`, o.latency);
    }
  }
  const jitterUs = time(path, o, 'jitter', false);
  if (jitterUs !== undefined) out.jitterUs = jitterUs;
  if (o.bandwidthBytesPerSec !== undefined && o.bandwidth !== undefined) {
    bad(`${path}.bandwidth`, 'give bandwidthBytesPerSec or bandwidth, not both');
  }
  if (o.bandwidthBytesPerSec !== undefined) {
    out.bandwidthBytesPerSec = number(`${path}.bandwidthBytesPerSec`, o.bandwidthBytesPerSec, 0, 1e15);
  } else if (o.bandwidth !== undefined) {
    const rate = typeof o.bandwidth === 'string' ? parseRateBytesPerSec(o.bandwidth) : undefined;
    if (rate === undefined)
      bad(`${path}.bandwidth`, `must be a rate such as "1MB/s", got ${describeValue(o.bandwidth)}`);
    out.bandwidthBytesPerSec = rate;
  }
  if (o.slice === null && allowNullSlice) out.slice = null;
  else if (o.slice !== undefined) out.slice = parseSlice(`${path}.slice`, o.slice);
  return out;
}

function parseDirection(path: string, v: unknown): DirectionFaults {
  const o = record(path, v, DIRECTION_FIELDS);
  const out: DirectionFaults = parseSegmentFields(path, o, false);
  if (o.stalls !== undefined) {
    if (!Array.isArray(o.stalls)) bad(`${path}.stalls`, `must be an array, got ${describeValue(o.stalls)}`);
    if (o.stalls.length > MAX_TIMELINE_STEPS) bad(`${path}.stalls`, `at most ${MAX_TIMELINE_STEPS} stalls`);
    out.stalls = o.stalls.map((s: unknown, i) => {
      const p = `${path}.stalls[${i}]`;
      const so = record(p, s, ['atByte', 'forUs', 'for']);
      return { atByte: integer(`${p}.atByte`, so.atByte, 0), forUs: time(p, so, 'for', true)! };
    });
  }
  if (o.resetAtByte !== undefined) out.resetAtByte = integer(`${path}.resetAtByte`, o.resetAtByte, 0);
  if (o.limitBytes !== undefined) out.limitBytes = integer(`${path}.limitBytes`, o.limitBytes, 0);
  const slowCloseUs = time(path, o, 'slowClose', false);
  if (slowCloseUs !== undefined) out.slowCloseUs = slowCloseUs;
  return out;
}

function parseStep(path: string, v: unknown): TimelineStep {
  const kind = (v as { kind?: unknown } | null)?.kind;
  const common = ['kind', 'direction', 'atByte', 'atUs', 'at'];
  let o: Record<string, unknown>;
  switch (kind) {
    case 'set':
      o = record(path, v, [...common, 'set', 'forBytes', 'forUs', 'for']);
      break;
    case 'stall':
      o = record(path, v, [...common, 'forUs', 'for']);
      break;
    case 'reset':
      o = record(path, v, common);
      break;
    default:
      return bad(`${path}.kind`, `must be one of "set", "stall", "reset", got ${describeValue(kind)}`);
  }
  const direction = o.direction;
  if (direction !== 'up' && direction !== 'down' && direction !== 'both') {
    bad(`${path}.direction`, `must be one of "up", "down", "both", got ${describeValue(direction)}`);
  }
  const atUs = time(path, o, 'at', false);
  const atByte = o.atByte === undefined ? undefined : integer(`${path}.atByte`, o.atByte, 0);
  if ((atUs === undefined) === (atByte === undefined)) {
    bad(`${path}.atByte`, 'give exactly one of atByte (a byte offset) or atUs/at (a time)');
  }
  const trigger = atByte !== undefined ? { atByte } : { atUs: atUs! };
  if (kind === 'reset') return { kind, direction, ...trigger };
  if (kind === 'stall') return { kind, direction, ...trigger, forUs: time(path, o, 'for', true)! };
  const setPath = `${path}.set`;
  const so = record(setPath, o.set, SEGMENT_FIELDS);
  const set = parseSegmentFields(setPath, so, true);
  if (Object.keys(set).length === 0)
    bad(setPath, `must change at least one of latency, jitterUs, bandwidthBytesPerSec, slice`);
  const step: TimelineSetStep = { kind: 'set', direction, ...trigger, set };
  const forUs = time(path, o, 'for', false);
  if (atByte !== undefined) {
    if (forUs !== undefined) bad(`${path}.forUs`, 'a window that starts at a byte offset ends by forBytes');
    if (o.forBytes !== undefined) step.forBytes = integer(`${path}.forBytes`, o.forBytes, 1);
  } else {
    if (o.forBytes !== undefined) bad(`${path}.forBytes`, 'a window that starts at a time ends by forUs/for');
    if (forUs !== undefined) step.forUs = forUs;
  }
  return step;
}

/**
 * Validates a fault description (a parsed JSON value, or one built in code) and returns its
 * normalized form (µs fields only). Accepts `latency` as a LatencyModel or a duration string,
 * `<time>` duration strings beside `<time>Us`, and `bandwidth: "1MB/s"` beside
 * `bandwidthBytesPerSec`. Throws SimError('ERR_BAD_ARGUMENT') naming the field, e.g.
 * "faults.up.slice.maxBytes: must be an integer in [8, 2147483648], got 4".
 */
export function parseProxyFaults(json: unknown, path = 'faults'): ProxyFaults {
  const o = record(path, json, [
    'version',
    'up',
    'down',
    'timeline',
    'toxicity',
    'faultyConnections',
    'segmentBytes',
  ]);
  if (o.version !== undefined && o.version !== 1)
    bad(`${path}.version`, `must be 1, got ${describeValue(o.version)}`);
  const out: ProxyFaults = {};
  if (o.up !== undefined) out.up = parseDirection(`${path}.up`, o.up);
  if (o.down !== undefined) out.down = parseDirection(`${path}.down`, o.down);
  if (o.timeline !== undefined) {
    if (!Array.isArray(o.timeline))
      bad(`${path}.timeline`, `must be an array, got ${describeValue(o.timeline)}`);
    if (o.timeline.length > MAX_TIMELINE_STEPS)
      bad(`${path}.timeline`, `at most ${MAX_TIMELINE_STEPS} steps`);
    out.timeline = o.timeline.map((s: unknown, i) => parseStep(`${path}.timeline[${i}]`, s));
  }
  if (o.toxicity !== undefined) out.toxicity = number(`${path}.toxicity`, o.toxicity, 0, 1);
  if (o.faultyConnections !== undefined) {
    out.faultyConnections = integer(`${path}.faultyConnections`, o.faultyConnections, 0);
  }
  if (o.segmentBytes !== undefined)
    out.segmentBytes = integer(`${path}.segmentBytes`, o.segmentBytes, 1, 2 ** 31);
  return out;
}

/** parseProxyFaults of JSON text; malformed JSON is a SimError too, never a bare SyntaxError. */
export function parseProxyFaultsText(text: string, path = 'faults'): ProxyFaults {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    bad(path, `malformed JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  return parseProxyFaults(json, path);
}

// ---------------------------------------------------------------------------------------------
// Descriptions
// ---------------------------------------------------------------------------------------------

function describeLatency(m: LatencyModel): string {
  switch (m.kind) {
    case 'constant':
      return fmtUs(m.us);
    case 'uniform':
      return `${fmtUs(m.minUs)}-${fmtUs(m.maxUs)}`;
    case 'exponential':
      return `${fmtUs(m.minUs)}+exp(${fmtUs(m.meanUs)})`;
    case 'mixture':
      return `${describeLatency(m.fast)}|${describeLatency(m.slow)}@${m.slowProbability}`;
  }
}

function describeSegment(s: SegmentFaults): string[] {
  const parts: string[] = [];
  if (s.latency !== undefined) parts.push(`latency ${describeLatency(s.latency)}`);
  if (s.jitterUs) parts.push(`jitter ${fmtUs(s.jitterUs)}`);
  if (s.bandwidthBytesPerSec) parts.push(`bandwidth ${s.bandwidthBytesPerSec}B/s`);
  if (s.slice === null) parts.push('no slicing');
  else if (s.slice !== undefined) {
    parts.push(`slice ${s.slice.minBytes}-${s.slice.maxBytes}B delay ${fmtUs(s.slice.delayUs)}`);
  }
  return parts;
}

/** One line for banners: "up: latency 20ms, slice 1-64B delay 1ms; down: none; timeline: 2 steps". */
export function describeProxyFaults(f: ProxyFaults): string {
  const dir = (d: DirectionFaults | undefined): string => {
    if (d === undefined) return 'none';
    const parts = describeSegment(d);
    for (const s of d.stalls ?? []) parts.push(`stall at ${s.atByte}B for ${fmtUs(s.forUs)}`);
    if (d.resetAtByte !== undefined) parts.push(`reset at ${d.resetAtByte}B`);
    if (d.limitBytes !== undefined) parts.push(`limit ${d.limitBytes}B`);
    if (d.slowCloseUs) parts.push(`slow close ${fmtUs(d.slowCloseUs)}`);
    return parts.length === 0 ? 'none' : parts.join(', ');
  };
  const out = [`up: ${dir(f.up)}`, `down: ${dir(f.down)}`];
  if (f.timeline !== undefined && f.timeline.length > 0) out.push(`timeline: ${f.timeline.length} steps`);
  if (f.toxicity !== undefined && f.toxicity < 1) out.push(`toxicity ${f.toxicity}`);
  if (f.faultyConnections !== undefined) out.push(`faulty connections: first ${f.faultyConnections}`);
  if (f.segmentBytes !== undefined) out.push(`segment ${f.segmentBytes}B`);
  return out.join('; ');
}

// ---------------------------------------------------------------------------------------------
// Compiled per-direction plan
// ---------------------------------------------------------------------------------------------

/** A window of changed segment faults, by bytes or by time ([start, end)). */
interface Window {
  byTime: boolean;
  start: number;
  end: number;
  set: SegmentFaults;
}

interface PointEvent {
  kind: 'stall' | 'reset';
  byTime: boolean;
  /** Byte offset, or µs since the connection was accepted. */
  at: number;
  /** Stalls only. */
  forUs: number;
  /** Index in the timeline, for the log ("timeline[3]"), or -1 for the direction's own settings. */
  step: number;
}

/** One direction's faults, flattened: the timeline steps that concern it, in order. */
export interface CompiledDirection {
  readonly base: Readonly<SegmentFaults>;
  readonly windows: readonly Window[];
  readonly stalls: readonly PointEvent[];
  readonly resets: readonly PointEvent[];
  readonly limitBytes: number | undefined;
  readonly slowCloseUs: number;
  readonly segmentBytes: number;
}

/** Flattens the faults of one direction (the timeline's `both` steps count for each). */
export function compileDirection(faults: ProxyFaults, dir: ProxyDirection): CompiledDirection {
  const d = faults[dir] ?? {};
  const { stalls = [], resetAtByte, limitBytes, slowCloseUs = 0, ...base } = d;
  const windows: Window[] = [];
  const stallEvents: PointEvent[] = stalls.map((s) => ({
    kind: 'stall',
    byTime: false,
    at: s.atByte,
    forUs: s.forUs,
    step: -1,
  }));
  const resets: PointEvent[] =
    resetAtByte === undefined ? [] : [{ kind: 'reset', byTime: false, at: resetAtByte, forUs: 0, step: -1 }];
  (faults.timeline ?? []).forEach((s, step) => {
    if (s.direction !== dir && s.direction !== 'both') return;
    const byTime = s.atByte === undefined;
    const at = byTime ? s.atUs! : s.atByte!;
    switch (s.kind) {
      case 'set': {
        const length = byTime ? s.forUs : s.forBytes;
        windows.push({ byTime, start: at, end: length === undefined ? Infinity : at + length, set: s.set });
        break;
      }
      case 'stall':
        stallEvents.push({ kind: 'stall', byTime, at, forUs: s.forUs, step });
        break;
      case 'reset':
        resets.push({ kind: 'reset', byTime, at, forUs: 0, step });
        break;
    }
  });
  return {
    base,
    windows,
    stalls: stallEvents,
    resets,
    limitBytes,
    slowCloseUs,
    segmentBytes: faults.segmentBytes ?? DEFAULT_SEGMENT_BYTES,
  };
}

/**
 * Whether connection `connIndex` gets the faults: below `faultyConnections`, and a keyed draw on
 * (seed, index) under `toxicity`. The same seed gives the same answer for the same index.
 */
export function connectionIsFaulty(faults: ProxyFaults, seed: string, connIndex: number): boolean {
  if (faults.faultyConnections !== undefined && connIndex >= faults.faultyConnections) return false;
  const toxicity = faults.toxicity ?? 1;
  if (toxicity >= 1) return true;
  return new Rng(seed).fork('proxy').keyed('toxicity').unit(connIndex) < toxicity;
}

/** The fate of one segment: the bytes [offset, offset + bytes) of one direction. */
export interface SegmentDecision {
  /** Position in the direction's sequence of segments (the key of its draws). */
  index: number;
  offset: number;
  bytes: number;
  /** Latency plus jitter drawn for this segment, integer µs. */
  delayUs: number;
  bandwidthBytesPerSec: number;
  /** Slicing: the segment is a slice, written on its own, sliceDelayUs after the previous one. */
  slice: boolean;
  sliceDelayUs: number;
  action: 'forward' | 'delay' | 'slice';
  detail: string;
}

// Salts of the keyed draws of one segment. Latency takes saltBase and up (mixtures recurse upwards).
const SALT_SIZE = 0;
const SALT_JITTER = 1;
const SALT_LATENCY = 2;

/**
 * Cuts one direction's stream into segments and decides each one's fate. Segment k starts where
 * segment k-1 ended; its size (when slicing) and delay are keyed draws on (seed, conn, dir, k), and
 * it is cut short at every byte offset where something happens (a window starts or ends, a stall, a
 * reset, the limit), so those land on segment starts. Stateful only as a cursor: `next` must be
 * called for consecutive offsets, and the result is the same however the bytes were chunked.
 */
export class SegmentPlanner {
  private readonly fate: KeyedStream;
  /** Sorted byte offsets where a segment must end. */
  private readonly cuts: number[];
  private cutIndex = 0;
  private index = 0;
  private cursor = 0;

  constructor(
    seed: string,
    readonly connIndex: number,
    readonly dir: ProxyDirection,
    readonly plan: CompiledDirection,
  ) {
    this.fate = new Rng(seed).fork('proxy').keyed(`conn${connIndex}/${dir}`);
    const cuts = new Set<number>();
    for (const w of plan.windows) {
      if (w.byTime) continue;
      cuts.add(w.start);
      if (Number.isFinite(w.end)) cuts.add(w.end);
    }
    for (const e of [...plan.stalls, ...plan.resets]) if (!e.byTime) cuts.add(e.at);
    if (plan.limitBytes !== undefined) cuts.add(plan.limitBytes);
    this.cuts = [...cuts].sort((a, b) => a - b);
  }

  /** The offset the next segment starts at. */
  get offset(): number {
    return this.cursor;
  }

  /** The settings in force for a segment starting at `offset`, `elapsedUs` after the accept. */
  settingsAt(offset: number, elapsedUs: number): SegmentFaults {
    let s: SegmentFaults = this.plan.base;
    for (const w of this.plan.windows) {
      const x = w.byTime ? elapsedUs : offset;
      if (x >= w.start && x < w.end) s = { ...s, ...w.set };
    }
    return s;
  }

  /**
   * Plans the segment starting at the cursor. `elapsedUs` (time since the accept) matters only for
   * windows keyed by time.
   */
  next(elapsedUs: number): SegmentDecision {
    const k = this.index++;
    const offset = this.cursor;
    const s = this.settingsAt(offset, elapsedUs);
    const slice = s.slice ?? undefined;
    let bytes = slice ? this.fate.int(k, slice.minBytes, slice.maxBytes, SALT_SIZE) : this.plan.segmentBytes;
    while (this.cutIndex < this.cuts.length && this.cuts[this.cutIndex]! <= offset) this.cutIndex++;
    const cut = this.cuts[this.cutIndex];
    if (cut !== undefined && cut < offset + bytes) bytes = cut - offset;
    this.cursor = offset + bytes;
    const latencyUs =
      s.latency === undefined ? 0 : Math.max(0, drawLatencyUs(s.latency, this.fate, k, SALT_LATENCY));
    const jitterUs = s.jitterUs ? this.fate.unit(k, SALT_JITTER) * s.jitterUs : 0;
    const delayUs = Math.round(latencyUs + jitterUs);
    const bandwidthBytesPerSec = s.bandwidthBytesPerSec ?? 0;
    const parts: string[] = [];
    if (s.latency !== undefined || s.jitterUs) parts.push(`latency ${delayUs}us`);
    if (bandwidthBytesPerSec > 0) parts.push(`bandwidth ${bandwidthBytesPerSec}B/s`);
    if (slice) parts.unshift(`slice delay ${slice.delayUs}us`);
    return {
      index: k,
      offset,
      bytes,
      delayUs,
      bandwidthBytesPerSec,
      slice: slice !== undefined,
      sliceDelayUs: slice?.delayUs ?? 0,
      action: slice ? 'slice' : parts.length > 0 ? 'delay' : 'forward',
      detail: parts.join(' '),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// The per-direction core the proxy drives (sans-I/O)
// ---------------------------------------------------------------------------------------------

/** What the proxy must do now, in order. */
export type ShaperAction =
  /** Write these bytes (the stream's [offset, offset + bytes.length)) to the destination. */
  | { type: 'write'; offset: number; bytes: Uint8Array; slice: boolean }
  /** Pass the end of stream on (shutdown the destination's write side). */
  | { type: 'fin'; offset: number }
  /** Reset both connections. */
  | { type: 'reset'; offset: number; detail: string }
  /** Close the whole connection: the data limit was reached. */
  | { type: 'limit'; offset: number };

interface Piece {
  offset: number;
  bytes: Uint8Array;
  readyUs: number;
  seg: SegmentDecision;
}

export interface ShaperOptions {
  seed: string;
  connIndex: number;
  dir: ProxyDirection;
  faults: ProxyFaults;
  /** The connection's accept time, on the caller's clock (µs); time-keyed steps count from it. */
  startUs: number;
  /** Receives every decision; tUs is on the caller's clock. */
  onLog?: (entry: ProxyLogEntry) => void;
}

/**
 * One direction of a proxied connection as a state machine: `push` bytes read from the source,
 * `end` at its end of stream, then `poll(now)` returns what to write or do now and `nextWakeUs()`
 * when to poll again. `readBlockedUntilUs` says until when reading must stay paused (a stall).
 * Nothing here reads a clock or sets a timer.
 */
export class DirectionShaper {
  readonly planner: SegmentPlanner;
  private readonly plan: CompiledDirection;
  private readonly onLog: (entry: ProxyLogEntry) => void;
  private readonly startUs: number;
  private readonly queue: Piece[] = [];
  private head = 0;
  private heldBytes = 0;
  private segment: SegmentDecision | undefined;
  /** Bytes read from the source (and not discarded). */
  private readOffsetValue = 0;
  private forwardedValue = 0;
  private discardedValue = 0;
  private stalledUntilUs = -Infinity;
  private lastEmitUs = -Infinity;
  private lastEmitSegment = -1;
  private busyUntilUs = -Infinity;
  private endedAtUs: number | undefined;
  private finSent = false;
  private terminalValue: 'reset' | 'limit' | undefined;
  /** The first byte offset past which nothing will ever be forwarded (a byte-keyed reset or the limit). */
  private readonly stopAt: number;
  private readonly byteStalls: PointEvent[];
  private byteStallIndex = 0;
  private readonly timeEvents: PointEvent[];
  private timeEventIndex = 0;
  private readonly byteResets: PointEvent[];

  constructor(readonly options: ShaperOptions) {
    this.plan = compileDirection(options.faults, options.dir);
    this.planner = new SegmentPlanner(options.seed, options.connIndex, options.dir, this.plan);
    this.onLog = options.onLog ?? (() => undefined);
    this.startUs = options.startUs;
    this.byteStalls = this.plan.stalls.filter((e) => !e.byTime).sort((a, b) => a.at - b.at);
    this.byteResets = this.plan.resets.filter((e) => !e.byTime).sort((a, b) => a.at - b.at);
    // Stalls before resets at the same moment: a reset ends everything anyway.
    this.timeEvents = [...this.plan.stalls, ...this.plan.resets]
      .filter((e) => e.byTime)
      .sort((a, b) => a.at - b.at || (a.kind === b.kind ? 0 : a.kind === 'stall' ? -1 : 1));
    this.stopAt = Math.min(this.byteResets[0]?.at ?? Infinity, this.plan.limitBytes ?? Infinity);
    this.triggerByteStalls(this.startUs);
  }

  get readOffset(): number {
    return this.readOffsetValue;
  }

  /** Bytes written out so far. */
  get forwarded(): number {
    return this.forwardedValue;
  }

  /** Bytes read but dropped (after a reset, the limit or a reset offset). */
  get discarded(): number {
    return this.discardedValue;
  }

  /** Bytes held, waiting for their time: the proxy's buffer of this direction. */
  get bufferedBytes(): number {
    return this.heldBytes;
  }

  /** Set once a reset or the limit ended this direction (and the connection). */
  get terminal(): 'reset' | 'limit' | undefined {
    return this.terminalValue;
  }

  /** True once the end of stream was passed on. */
  get finished(): boolean {
    return this.finSent;
  }

  /** Reading must stay paused until then (a stall); -Infinity when not stalled. */
  get readBlockedUntilUs(): number {
    return this.stalledUntilUs;
  }

  private log(tUs: number, offset: number, action: ProxyAction, bytes: number, detail: string): void {
    this.onLog({
      tUs,
      conn: this.options.connIndex,
      dir: this.options.dir,
      offset,
      action,
      bytes,
      origin: 'plan',
      detail,
    });
  }

  private triggerByteStalls(arrivalUs: number): void {
    while (this.byteStallIndex < this.byteStalls.length) {
      const s = this.byteStalls[this.byteStallIndex]!;
      if (s.at > this.readOffsetValue || s.at >= this.stopAt) break;
      this.byteStallIndex++;
      const from = Math.max(arrivalUs, this.stalledUntilUs);
      this.stalledUntilUs = from + s.forUs;
      this.log(from, s.at, 'stall', 0, `for ${s.forUs}us${s.step >= 0 ? ` (timeline[${s.step}])` : ''}`);
    }
  }

  /** Bytes read from the source at `nowUs`. The array is kept (not copied) until written. */
  push(nowUs: number, bytes: Uint8Array): void {
    let pos = 0;
    while (pos < bytes.length) {
      if (this.terminalValue !== undefined || this.readOffsetValue >= this.stopAt) {
        // Never forwarded, whatever the timing: not planned and not logged, only counted.
        this.discardedValue += bytes.length - pos;
        return;
      }
      // Bytes read during a stall (Node may deliver one chunk that was in flight) count as read at its end.
      const arrivalUs = Math.max(nowUs, this.stalledUntilUs);
      let seg = this.segment;
      if (seg === undefined || this.readOffsetValue >= seg.offset + seg.bytes) {
        seg = this.planner.next(arrivalUs - this.startUs);
        this.segment = seg;
        this.log(arrivalUs, seg.offset, seg.action, seg.bytes, seg.detail);
      }
      const n = Math.min(bytes.length - pos, seg.offset + seg.bytes - this.readOffsetValue);
      this.queue.push({
        offset: this.readOffsetValue,
        bytes: bytes.subarray(pos, pos + n),
        readyUs: arrivalUs + seg.delayUs,
        seg,
      });
      this.heldBytes += n;
      this.readOffsetValue += n;
      pos += n;
      this.triggerByteStalls(arrivalUs);
    }
  }

  /** The source's end of stream arrived at `nowUs`. */
  end(nowUs: number): void {
    this.endedAtUs ??= Math.max(nowUs, this.stalledUntilUs);
  }

  /** When the head piece may be written (order, slice gap, bandwidth), or undefined with none. */
  private headDueUs(): number | undefined {
    const p = this.queue[this.head];
    if (p === undefined) return undefined;
    let due = p.readyUs;
    if (p.seg.slice && p.seg.index !== this.lastEmitSegment && this.lastEmitSegment >= 0) {
      due = Math.max(due, this.lastEmitUs + p.seg.sliceDelayUs);
    }
    if (p.seg.bandwidthBytesPerSec > 0) due = Math.max(due, this.busyUntilUs);
    return due;
  }

  private finDueUs(): number | undefined {
    if (this.endedAtUs === undefined || this.finSent || this.head < this.queue.length) return undefined;
    return Math.max(this.endedAtUs, this.lastEmitUs, this.busyUntilUs) + this.plan.slowCloseUs;
  }

  private nextTimeEventUs(): number | undefined {
    const e = this.timeEvents[this.timeEventIndex];
    return e === undefined ? undefined : this.startUs + e.at;
  }

  /** A byte-keyed reset or the limit due now that `forwarded` bytes are out. */
  private byteTerminal(nowUs: number): ShaperAction | undefined {
    const reset = this.byteResets[0];
    const limit = this.plan.limitBytes;
    const offset = this.forwardedValue;
    if (reset !== undefined && reset.at <= offset && (limit === undefined || reset.at <= limit)) {
      const detail = `after ${reset.at} bytes${reset.step >= 0 ? ` (timeline[${reset.step}])` : ''}`;
      this.finishWith('reset', nowUs, reset.at, detail);
      return { type: 'reset', offset: reset.at, detail };
    }
    if (limit !== undefined && limit <= offset) {
      this.finishWith('limit', nowUs, limit, `closed after ${limit} bytes`);
      return { type: 'limit', offset: limit };
    }
    return undefined;
  }

  private finishWith(kind: 'reset' | 'limit', nowUs: number, offset: number, detail: string): void {
    this.terminalValue = kind;
    this.log(nowUs, offset, kind, 0, detail);
    for (let i = this.head; i < this.queue.length; i++) this.discardedValue += this.queue[i]!.bytes.length;
    this.queue.length = 0;
    this.head = 0;
    this.heldBytes = 0;
  }

  /** What to do at `nowUs`: writes that are due, then the end of stream, a reset or the limit. */
  poll(nowUs: number): ShaperAction[] {
    const actions: ShaperAction[] = [];
    if (this.terminalValue !== undefined) return actions;
    for (;;) {
      const e = this.timeEvents[this.timeEventIndex];
      if (e === undefined || this.startUs + e.at > nowUs) break;
      this.timeEventIndex++;
      const atUs = this.startUs + e.at;
      if (e.kind === 'stall') {
        this.stalledUntilUs = Math.max(this.stalledUntilUs, atUs + e.forUs);
        this.log(
          atUs,
          this.readOffsetValue,
          'stall',
          0,
          `at ${e.at}us for ${e.forUs}us (timeline[${e.step}])`,
        );
      } else {
        const detail = `at ${e.at}us (timeline[${e.step}])`;
        this.finishWith('reset', atUs, this.forwardedValue, detail);
        actions.push({ type: 'reset', offset: this.forwardedValue, detail });
        return actions;
      }
    }
    for (;;) {
      const terminal = this.byteTerminal(nowUs);
      if (terminal !== undefined) {
        actions.push(terminal);
        return actions;
      }
      const due = this.headDueUs();
      if (due === undefined || due > nowUs) break;
      const p = this.queue[this.head++]!;
      this.heldBytes -= p.bytes.length;
      const prev = actions[actions.length - 1];
      if (
        prev?.type === 'write' &&
        !prev.slice &&
        !p.seg.slice &&
        prev.bytes.buffer === p.bytes.buffer &&
        prev.bytes.byteOffset + prev.bytes.length === p.bytes.byteOffset
      ) {
        // Adjacent views of one read chunk, due together: one write (no copy).
        prev.bytes = new Uint8Array(
          prev.bytes.buffer,
          prev.bytes.byteOffset,
          prev.bytes.length + p.bytes.length,
        );
      } else {
        actions.push({ type: 'write', offset: p.offset, bytes: p.bytes, slice: p.seg.slice });
      }
      this.forwardedValue += p.bytes.length;
      this.lastEmitUs = nowUs;
      this.lastEmitSegment = p.seg.index;
      if (p.seg.bandwidthBytesPerSec > 0) {
        // The ideal schedule, not the late timer's: the average rate stays the one asked for.
        this.busyUntilUs = due + (p.bytes.length * 1_000_000) / p.seg.bandwidthBytesPerSec;
      }
    }
    if (this.head === this.queue.length) {
      this.queue.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    const finDue = this.finDueUs();
    if (finDue !== undefined && finDue <= nowUs) {
      this.finSent = true;
      const slow = this.plan.slowCloseUs;
      this.log(nowUs, this.forwardedValue, 'close', 0, slow > 0 ? `fin after slow close ${slow}us` : 'fin');
      actions.push({ type: 'fin', offset: this.forwardedValue });
    }
    return actions;
  }

  /** When poll() has something to do next (a write, the FIN, a timeline step, a stall's end). */
  nextWakeUs(): number | undefined {
    if (this.terminalValue !== undefined) return undefined;
    let wake = Infinity;
    for (const t of [this.headDueUs(), this.finDueUs(), this.nextTimeEventUs()]) {
      if (t !== undefined) wake = Math.min(wake, t);
    }
    return wake === Infinity ? undefined : wake;
  }
}

/**
 * Feeds one direction's bytes to a fresh shaper in the given chunks, each `gapUs` after the previous
 * one, polling at every wake until everything is out, and returns the decisions it logged (without
 * timestamps) and the bytes it wrote. A test and documentation aid: the same seed gives the same
 * decisions for any chunking of the same bytes.
 */
export function simulateDirection(
  options: Omit<ShaperOptions, 'onLog' | 'startUs'>,
  chunks: readonly Uint8Array[],
  gapUs = 0,
): { log: ProxyLogEntry[]; written: Uint8Array[]; actions: ShaperAction['type'][] } {
  const log: ProxyLogEntry[] = [];
  const shaper = new DirectionShaper({ ...options, startUs: 0, onLog: (e) => log.push(e) });
  const written: Uint8Array[] = [];
  const actions: ShaperAction['type'][] = [];
  let now = 0;
  const drain = (until: number): void => {
    for (let guard = 0; guard < 10_000_000; guard++) {
      for (const a of shaper.poll(now)) {
        actions.push(a.type);
        if (a.type === 'write') written.push(a.bytes);
      }
      const wake = shaper.nextWakeUs();
      if (wake === undefined || wake > until) return;
      now = Math.max(now, wake);
    }
    throw new SimError('ERR_BAD_ARGUMENT', 'simulateDirection: the shaper never settled');
  };
  for (const c of chunks) {
    drain(now);
    // A reader honours stalls: nothing is read before the stall ends.
    now = Math.max(now, shaper.readBlockedUntilUs);
    shaper.push(now, c);
    drain(now);
    now += gapUs;
  }
  shaper.end(now);
  drain(Infinity);
  return { log, written, actions };
}
