/**
 * The one set of limits and validators of the fault vocabulary: latency models, jitter, bandwidth,
 * loss, durations, byte sizes and offsets, and the size of a plan. The simulator's fault plans
 * (sim/fault-plan.ts), its network settings (sim/net-config.ts), the scenario model
 * (scenarios/model.ts) and, through fault plans, the real-socket fault proxy (impl/runtime/proxy-plan.ts
 * compiles plans) all validate with the schemas here, so one bad value is refused everywhere with the
 * same bound in the same words: "…latency.us: must be <= 10000000 (MAX_LATENCY_US, 10s), got 20000000".
 * Also the text forms of the vocabulary: durations ("250ms"), sizes ("64KiB") and rates ("1MB/s").
 *
 * Browser-safe: no Node imports, no clock, no randomness.
 */
import { z } from 'zod';
import { SimError } from './errors.js';
import type { LatencyModel } from './net-config.js';

// ---------------------------------------------------------------------------------------------
// The limits
// ---------------------------------------------------------------------------------------------
//
// Before these were shared, latency was bounded three ways: the scenario model at 10 s (integer µs,
// no mixture), the simulator's link settings and fault plans not at all (any number >= 0), and the
// proxy as the simulator. Jitter: 1 s in scenarios, unbounded in the simulator, 2^40 µs in the proxy.
// The bounds below are the one set; none of them refuses a value that a scenario, a test, a profile
// or a swarm default used.

/**
 * Largest time a fault plan may name (atUs, forUs, stall and slice delays, slow close): 2^40 µs,
 * about 12.7 virtual days, the world's fast scheduling range.
 */
export const MAX_PLAN_US = 2 ** 40;

/**
 * Largest value in a latency model (constant us, uniform min/max, exponential min/mean), µs: 10 s.
 * The scenario model's bound, now everyone's: a one-way delay longer than that is a partition or a
 * stall, which a plan says with `partition` / `stall-reads`; and the bound catches a value given in
 * the wrong unit (ms or ns for µs) before it schedules events days ahead.
 */
export const MAX_LATENCY_US = 10_000_000;

/** Largest jitter (extra uniform delay per segment), µs: 10 s, as latency (the scenario model had 1 s). */
export const MAX_JITTER_US = 10_000_000;

/** Largest bandwidth in bytes per second (0 = unlimited): 2^40, about 1.1 TB/s, the swarm knob's bound. */
export const MAX_BANDWIDTH_BYTES_PER_SEC = 2 ** 40;

/** Largest probability: loss rate, mixture slowProbability, proxy toxicity. */
export const MAX_PROBABILITY = 1;

/** Largest buffer, segment or slice size in bytes: 2^31. */
export const MAX_SIZE_BYTES = 2 ** 31;

/** Largest byte offset a step may name (atByte, forBytes): every offset stays a safe integer. */
export const MAX_BYTE_OFFSET = Number.MAX_SAFE_INTEGER;

/**
 * Most steps in one plan: 10 000, the swarm's bound on drawn steps and the proxy's former bound on
 * timeline steps (the simulator allowed 100 000, which no plan came near).
 */
export const MAX_PLAN_STEPS = 10_000;

// ---------------------------------------------------------------------------------------------
// Text forms: durations, sizes, rates
// ---------------------------------------------------------------------------------------------

const UNIT_US: Record<string, number> = { us: 1, µs: 1, ms: 1000, s: 1_000_000, min: 60_000_000 };
const DURATION_RE = /^(\d+(?:\.\d*)?|\.\d+)\s*(us|µs|ms|s|min)$/;
export const DURATION_HINT =
  'must be a duration such as "250ms", "1.5s" or "200us" (units us, µs, ms, s, min)';

/**
 * Parses a duration string ("250ms", "1.5s", "200us", "2min") to integer microseconds, rounded to the
 * nearest microsecond; undefined when the text is not a duration.
 */
export function parseDurationUs(text: string): number | undefined {
  const m = DURATION_RE.exec(text.trim());
  if (m === null) return undefined;
  const factor = UNIT_US[m[2]!]!;
  // Rounding absorbs binary-float noise such as 0.0015 * 1e6 = 1500.0000000000002.
  return Math.round(Number(m[1]) * factor);
}

/** Formats microseconds in the largest unit that keeps it exact-ish and short: "50ms", "1.5s", "200us". */
export function formatDurationUs(us: number): string {
  if (us >= 1_000_000 && us % 1000 === 0) return `${us / 1_000_000}s`;
  if (us >= 1000 && us % 1000 === 0) return `${us / 1000}ms`;
  return `${us}us`;
}

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

// ---------------------------------------------------------------------------------------------
// Errors: zod issues as "path: reason" lines in one SimError
// ---------------------------------------------------------------------------------------------

export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

/** A JSON path as text after `root` (raw text, e.g. "link cli>srv"): faults[2].set.latency; "plan" when empty. */
export function formatPath(path: readonly PropertyKey[], root = ''): string {
  let out = root;
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (typeof p === 'string' && /^[A-Za-z_$][\w$]*$/.test(p)) out += out === '' ? p : `.${p}`;
    else out += `[${JSON.stringify(String(p))}]`;
  }
  return out === '' ? 'plan' : out;
}

type Issue = z.core.$ZodIssue;

/** The field names an object at `path` accepts, for "unknown field (known: …)" hints. */
export type KnownFields = (path: readonly PropertyKey[], input: unknown) => readonly string[] | undefined;

/** True when a union branch failed because the value had the wrong shape altogether. */
function rejectsAtRoot(issues: readonly Issue[]): boolean {
  return issues.some((i) => i.path.length === 0 && (i.code === 'invalid_type' || i.code === 'invalid_value'));
}

/** The messages of the bounded schemas below start so; zod's own defaults ("Too big: …") do not. */
function ownMessage(issue: Issue): boolean {
  return /^(must |expected )/.test(issue.message);
}

/** One zod issue as "path: reason" lines. */
export function issueLines(
  issue: Issue,
  prefix: readonly PropertyKey[],
  known?: KnownFields,
  root = '',
): string[] {
  const path = [...prefix, ...issue.path];
  const at = formatPath(path, root);
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'invalid_type': {
      if (ownMessage(issue)) return [`${at}: ${issue.message}`];
      const received = (issue as { received?: unknown }).received;
      const got = typeof received === 'string' ? received : describeValue(input);
      if (issue.expected === 'int') return [`${at}: must be an integer, got ${got}`];
      return [`${at}: expected ${issue.expected}, got ${got}`];
    }
    case 'too_small': {
      if (ownMessage(issue)) return [`${at}: ${issue.message}`];
      const op = issue.inclusive === false ? '>' : '>=';
      if (issue.origin === 'array') return [`${at}: must have ${op} ${Number(issue.minimum)} item(s)`];
      if (issue.origin === 'string') return [`${at}: must not be empty`];
      return [`${at}: must be ${op} ${Number(issue.minimum)}, got ${describeValue(input)}`];
    }
    case 'too_big': {
      if (ownMessage(issue)) return [`${at}: ${issue.message}`];
      const op = issue.inclusive === false ? '<' : '<=';
      if (issue.origin === 'array') return [`${at}: must have ${op} ${Number(issue.maximum)} item(s)`];
      return [`${at}: must be ${op} ${Number(issue.maximum)}, got ${describeValue(input)}`];
    }
    case 'unrecognized_keys': {
      const fields = known?.(path, input);
      const hint = fields === undefined ? '' : ` (known: ${fields.join(', ')})`;
      return issue.keys.map((k) => `${formatPath([...path, k], root)}: unknown field${hint}`);
    }
    case 'invalid_value':
      return [
        `${at}: must be ${issue.values.length > 1 ? 'one of ' : ''}${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(input)}`,
      ];
    case 'invalid_union': {
      const disc = issue as { note?: string; options?: unknown[]; discriminator?: string };
      if (disc.discriminator !== undefined && Array.isArray(disc.options)) {
        const got =
          typeof input === 'object' && input !== null
            ? describeValue((input as Record<string, unknown>)[disc.discriminator])
            : describeValue(input);
        return [`${at}: must be one of ${disc.options.map(String).join(', ')}, got ${got}`];
      }
      // A union such as "all" | {...}: if only one branch accepted the value's shape, its issues are the real ones.
      const plausible = issue.errors.filter((branch) => !rejectsAtRoot(branch));
      if (plausible.length === 1) return plausible[0]!.flatMap((i) => issueLines(i, path, known, root));
      return [`${at}: ${issue.message}`];
    }
    default:
      return [`${at}: ${issue.message}`];
  }
}

/** Zod issues as one SimError ERR_BAD_ARGUMENT naming each bad field by its path (up to 8). */
export function issuesError(
  issues: readonly Issue[],
  prefix: readonly PropertyKey[] = [],
  known?: KnownFields,
  root = '',
): SimError {
  const lines = issues.flatMap((i) => issueLines(i, prefix, known, root));
  const shown = lines.slice(0, 8);
  if (lines.length > shown.length) shown.push(`(${lines.length - shown.length} more)`);
  return new SimError('ERR_BAD_ARGUMENT', shown.join('; '));
}

/**
 * Validates `value` with one of the schemas here; a SimError ERR_BAD_ARGUMENT naming `field` (and
 * the path inside it) otherwise. For validators that are not zod schemas themselves (net-config).
 */
export function parseWith<T>(schema: z.ZodType<T>, value: unknown, field: string): T {
  const r = schema.safeParse(value, { reportInput: true });
  if (r.success) return r.data;
  throw issuesError(r.error.issues, [], undefined, field);
}

/** The reason of a SimError without its code: "faults[0].atUs: required". */
export function errorDetail(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.replace(/^ERR_[A-Z_]+: /, '');
}

// ---------------------------------------------------------------------------------------------
// Bounded numbers: the same message wherever they are used (zod default messages are not used)
// ---------------------------------------------------------------------------------------------

/**
 * A number in [min, max] whose every failure reads the same in a fault plan, a link setting and a
 * scenario: "must be an integer, got 1.5", "must be >= 0, got -1", "must be <= 10000000 (MAX_LATENCY_US,
 * 10s), got 20000000". `limit` names the bound's constant in the too-big message.
 */
function bounded(min: number, max: number, integer: boolean, limit?: string) {
  const error = (issue: z.core.$ZodRawIssue): string => {
    const got = describeValue(issue.input);
    switch (issue.code) {
      case 'invalid_type':
        return issue.expected === 'int' ? `must be an integer, got ${got}` : `expected number, got ${got}`;
      case 'too_small':
        return `must be >= ${min}, got ${got}`;
      case 'too_big':
        return `must be <= ${max}${limit === undefined ? '' : ` (${limit})`}, got ${got}`;
      default:
        return `must be a number in [${min}, ${max}], got ${got}`;
    }
  };
  const n = z.number({ error });
  return (integer ? n.int() : n).min(min).max(max);
}

/** Plan times in integer µs: [0, MAX_PLAN_US]. */
export const durationUsSchema = bounded(0, MAX_PLAN_US, true, 'MAX_PLAN_US, 2^40us');
/** One value of a latency model in integer µs: [0, MAX_LATENCY_US]. */
export const latencyUsSchema = bounded(0, MAX_LATENCY_US, true, 'MAX_LATENCY_US, 10s');
/** Jitter in integer µs: [0, MAX_JITTER_US]. */
export const jitterUsSchema = bounded(0, MAX_JITTER_US, true, 'MAX_JITTER_US, 10s');
/** Bytes per second, 0 = unlimited: [0, MAX_BANDWIDTH_BYTES_PER_SEC]. */
export const bandwidthSchema = bounded(0, MAX_BANDWIDTH_BYTES_PER_SEC, false, 'MAX_BANDWIDTH_BYTES_PER_SEC');
/** A probability: [0, 1]. */
export const probabilitySchema = bounded(0, MAX_PROBABILITY, false);
/** A byte offset in a stream: [0, MAX_BYTE_OFFSET]. */
export const byteOffsetSchema = bounded(0, MAX_BYTE_OFFSET, true, 'MAX_BYTE_OFFSET');
/** A byte count of at least one byte, up to MAX_BYTE_OFFSET (a window's forBytes). */
export const byteCountSchema = bounded(1, MAX_BYTE_OFFSET, true, 'MAX_BYTE_OFFSET');
/** A buffer, segment or slice size: [1, MAX_SIZE_BYTES]. */
export const sizeBytesSchema = bounded(1, MAX_SIZE_BYTES, true, 'MAX_SIZE_BYTES, 2^31');
/** A count of connections (the proxy's faultyConnections): [0, MAX_BYTE_OFFSET]. */
export const countSchema = bounded(0, Number.MAX_SAFE_INTEGER, true);

/** A duration string ("250ms") of at most MAX_PLAN_US; its value is parsed again by the caller. */
export const durationTextSchema = z.string().superRefine((s, ctx) => {
  const us = parseDurationUs(s);
  if (us === undefined)
    ctx.addIssue({ code: 'custom', message: `${DURATION_HINT}, got ${JSON.stringify(s)}` });
  else if (us > MAX_PLAN_US) ctx.addIssue({ code: 'custom', message: `must be <= ${MAX_PLAN_US}us` });
});

/** A duration string turned into integer µs, then checked against `target`'s bounds. */
export function durationTextAs<T extends z.ZodType<number, number>>(target: T) {
  return z
    .string()
    .transform((s, ctx) => {
      const us = parseDurationUs(s);
      if (us === undefined) {
        ctx.addIssue({ code: 'custom', message: `${DURATION_HINT}, got ${JSON.stringify(s)}` });
        return z.NEVER;
      }
      return us;
    })
    .pipe(target);
}

/** A rate string ("1MB/s", "64KiB/s", "1000") turned into bytes per second within bandwidth's bounds. */
export const rateTextSchema = z
  .string()
  .transform((s, ctx) => {
    const rate = parseRateBytesPerSec(s);
    if (rate === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a rate such as "1MB/s" or "64KiB/s", got ${JSON.stringify(s)}`,
      });
      return z.NEVER;
    }
    return rate;
  })
  .pipe(bandwidthSchema);

// ---------------------------------------------------------------------------------------------
// Latency models (sim/net-config.ts LatencyModel), all values in µs
// ---------------------------------------------------------------------------------------------

export const constantLatencySchema = z.strictObject({ kind: z.literal('constant'), us: latencyUsSchema });

export const uniformLatencySchema = z
  .strictObject({ kind: z.literal('uniform'), minUs: latencyUsSchema, maxUs: latencyUsSchema })
  .superRefine((v, ctx) => {
    if (v.maxUs < v.minUs) ctx.addIssue({ code: 'custom', path: ['maxUs'], message: 'must be >= minUs' });
  });

/** minUs plus an exponential tail of mean meanUs (0: no tail). */
export const exponentialLatencySchema = z.strictObject({
  kind: z.literal('exponential'),
  minUs: latencyUsSchema,
  meanUs: latencyUsSchema,
});

/** Every latency model, mixtures (FoundationDB's fast/slow) included. */
export const latencyModelSchema: z.ZodType<LatencyModel> = z.lazy(() =>
  z.discriminatedUnion('kind', [
    constantLatencySchema,
    uniformLatencySchema,
    exponentialLatencySchema,
    z.strictObject({
      kind: z.literal('mixture'),
      fast: latencyModelSchema,
      slow: latencyModelSchema,
      slowProbability: probabilitySchema,
    }),
  ]),
);

/** A latency model, or a duration string for a constant one ("20ms" = {kind: "constant", us: 20000}). */
export const latencyInputSchema = z.union([
  durationTextAs(latencyUsSchema).transform((us): LatencyModel => ({ kind: 'constant', us })),
  latencyModelSchema,
]);
