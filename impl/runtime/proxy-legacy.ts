/**
 * The fault proxy's former description format ({up, down, timeline, toxicity, faultyConnections,
 * segmentBytes}, or a bare array of timeline steps), still accepted in `netlab proxy --timeline FILE`
 * files, rewritten as the fault plan it means. It only moves fields into plan steps; every value is
 * validated by the plan parser (parseFaultPlan), and an error names the field as the file wrote it.
 * The proxy itself knows only fault plans.
 *
 * How the format maps (hosts "client" and "server", PROXY_CLIENT_HOST / PROXY_SERVER_HOST; `up` is
 * the stream towards the server, side "server"):
 *
 * - `up` / `down` segment fields (latency, jitterUs / jitter, bandwidthBytesPerSec / bandwidth,
 *   slice): a one-way `link` step at 0 from the client to the server (up) or back (down);
 * - `stalls[i]`: `stall-reads` at atByte on that side; `resetAtByte`: `reset` at atByte;
 *   `limitBytes`: `limit` at atByte; `slowCloseUs` / `slowClose`: `slow-close`;
 * - timeline `set`: a `link` step (one-way unless direction "both") with the same trigger and window;
 *   `stall`: `stall-reads`; `reset`: `reset` (a reset at a time resets both ends, whatever its
 *   direction);
 * - toxicity, faultyConnections, segmentBytes: the plan's `proxy` settings.
 *
 * Browser-safe: no Node imports.
 */
import { SimError } from '../../sim/errors.js';
import { describeValue, errorDetail } from '../../sim/fault-limits.js';
import { parseFaultPlan, type FaultPlan, type ReadSide } from '../../sim/fault-plan.js';
import { PROXY_CLIENT_HOST, PROXY_SERVER_HOST, type ProxyDirection } from './proxy-plan.js';

const SEGMENT_FIELDS = ['latency', 'jitterUs', 'jitter', 'bandwidthBytesPerSec', 'bandwidth', 'slice'];
const DIRECTION_FIELDS = [
  ...SEGMENT_FIELDS,
  'stalls',
  'resetAtByte',
  'limitBytes',
  'slowCloseUs',
  'slowClose',
];
const TOP_FIELDS = ['version', 'up', 'down', 'timeline', 'toxicity', 'faultyConnections', 'segmentBytes'];
const PROXY_FIELDS = ['toxicity', 'faultyConnections', 'segmentBytes'] as const;

/** Where a plan step came from, so an error about it names the field as the file wrote it. */
interface Origin {
  /** The legacy path of the object the step came from, e.g. "faults.up.stalls[0]". */
  base: string;
  /** The step's `set` is the legacy object itself (a direction's segment fields). */
  setIsBase?: boolean;
  /** Plan field names that had another name in the legacy object. */
  rename?: Record<string, string>;
}

function bad(path: string, detail: string): never {
  throw new SimError('ERR_BAD_ARGUMENT', `${path}: ${detail}`);
}

/** The object at `path`, checked for unknown fields only (the plan parser checks every value). */
function record(path: string, v: unknown, known: readonly string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    bad(path, `must be an object, got ${describeValue(v)}`);
  for (const k of Object.keys(v)) {
    if (!known.includes(k)) bad(`${path}.${k}`, `unknown field (known: ${known.join(', ')})`);
  }
  return v as Record<string, unknown>;
}

/** The fields of `o` that are given, among `keys`. */
function pick(o: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

const SIDE: Record<ProxyDirection, ReadSide> = { up: 'server', down: 'client' };

/** The link of a direction: from the client to the server (up), or back (down); both = either way. */
function linkOf(direction: ProxyDirection | 'both'): { from: string; to: string; oneWay: boolean } {
  return direction === 'down'
    ? { from: PROXY_SERVER_HOST, to: PROXY_CLIENT_HOST, oneWay: true }
    : { from: PROXY_CLIENT_HOST, to: PROXY_SERVER_HOST, oneWay: direction === 'up' };
}

/**
 * Rewrites a fault description in the former format (a parsed JSON value, or an array of timeline
 * steps) as the fault plan it means, validated. Throws SimError ERR_BAD_ARGUMENT naming the field
 * under `path` as the description wrote it, e.g. "faults.up.slice.maxBytes: must be >= minBytes".
 */
export function planFromProxyDescription(json: unknown, path = 'faults'): FaultPlan {
  const steps: unknown[] = [];
  const origins: Origin[] = [];
  const add = (step: Record<string, unknown>, origin: Origin): void => {
    steps.push(step);
    origins.push(origin);
  };
  const o = record(path, Array.isArray(json) ? { timeline: json } : json, TOP_FIELDS);

  for (const dir of ['up', 'down'] as const) {
    if (o[dir] === undefined) continue;
    const p = `${path}.${dir}`;
    const d = record(p, o[dir], DIRECTION_FIELDS);
    const side = SIDE[dir];
    const set = pick(d, SEGMENT_FIELDS);
    if (Object.keys(set).length > 0)
      add({ kind: 'link', atUs: 0, ...linkOf(dir), set }, { base: p, setIsBase: true });
    if (d.stalls !== undefined) {
      if (!Array.isArray(d.stalls)) bad(`${p}.stalls`, `must be an array, got ${describeValue(d.stalls)}`);
      d.stalls.forEach((s: unknown, i) => {
        const sp = `${p}.stalls[${i}]`;
        const so = record(sp, s, ['atByte', 'forUs', 'for']);
        // Without atByte the plan would ask for a time instead: say what the format wants.
        if (so.atByte === undefined) bad(`${sp}.atByte`, 'required');
        add({ kind: 'stall-reads', conn: 'all', side, ...so }, { base: sp });
      });
    }
    if (d.resetAtByte !== undefined)
      add(
        { kind: 'reset', atByte: d.resetAtByte, conn: 'all', side },
        { base: p, rename: { atByte: 'resetAtByte' } },
      );
    if (d.limitBytes !== undefined)
      add(
        { kind: 'limit', atByte: d.limitBytes, conn: 'all', side },
        { base: p, rename: { atByte: 'limitBytes' } },
      );
    if (d.slowCloseUs !== undefined || d.slowClose !== undefined)
      add(
        {
          kind: 'slow-close',
          atUs: 0,
          conn: 'all',
          side,
          ...(d.slowCloseUs === undefined ? {} : { forUs: d.slowCloseUs }),
          ...(d.slowClose === undefined ? {} : { for: d.slowClose }),
        },
        { base: p, rename: { forUs: 'slowCloseUs', for: 'slowClose' } },
      );
  }

  if (o.timeline !== undefined) {
    if (!Array.isArray(o.timeline))
      bad(`${path}.timeline`, `must be an array, got ${describeValue(o.timeline)}`);
    o.timeline.forEach((v: unknown, i) => {
      const sp = `${path}.timeline[${i}]`;
      const kind = (v as { kind?: unknown } | null)?.kind;
      const common = ['kind', 'direction', 'atByte', 'atUs', 'at'];
      const known =
        kind === 'set'
          ? [...common, 'set', 'forBytes', 'forUs', 'for']
          : kind === 'stall'
            ? [...common, 'forUs', 'for']
            : kind === 'reset'
              ? common
              : bad(`${sp}.kind`, `must be one of "set", "stall", "reset", got ${describeValue(kind)}`);
      const s = record(sp, v, known);
      const direction = s.direction;
      if (direction !== 'up' && direction !== 'down' && direction !== 'both')
        bad(`${sp}.direction`, `must be one of "up", "down", "both", got ${describeValue(direction)}`);
      const side: ReadSide = direction === 'both' ? 'both' : SIDE[direction];
      const trigger = pick(s, ['atByte', 'atUs', 'at']);
      if (kind === 'set')
        add(
          {
            kind: 'link',
            ...trigger,
            ...linkOf(direction),
            set: s.set,
            ...pick(s, ['forBytes', 'forUs', 'for']),
          },
          { base: sp },
        );
      else if (kind === 'stall')
        add(
          { kind: 'stall-reads', ...trigger, conn: 'all', side, ...pick(s, ['forUs', 'for']) },
          { base: sp },
        );
      else
        add(
          { kind: 'reset', ...trigger, conn: 'all', ...(s.atByte === undefined ? {} : { side }) },
          { base: sp },
        );
    });
  }

  const proxy = pick(o, PROXY_FIELDS);
  const raw = {
    version: o.version ?? 1,
    faults: steps,
    ...(Object.keys(proxy).length > 0 ? { proxy } : {}),
  };
  try {
    return parseFaultPlan(raw);
  } catch (e) {
    if (!(e instanceof SimError)) throw e;
    throw new SimError(e.code, renamePaths(errorDetail(e), path, origins), { cause: e });
  }
}

/** Puts the legacy names back into the plan parser's message: faults[3].atByte -> faults.up.resetAtByte. */
function renamePaths(message: string, path: string, origins: readonly Origin[]): string {
  return message
    .split('; ')
    .map((line) =>
      line
        .replace(/^(version|proxy)\b\.?/, (_m, what: string) =>
          what === 'version' ? `${path}.version` : `${path}.`,
        )
        .replace(/^faults\[(\d+)\](?:\.([A-Za-z_$][\w$]*))?/, (m, i: string, field: string | undefined) => {
          const origin = origins[Number(i)];
          if (origin === undefined) return m;
          if (field === undefined) return origin.base;
          if (field === 'set' && origin.setIsBase === true) return origin.base;
          return `${origin.base}.${origin.rename?.[field] ?? field}`;
        }),
    )
    .join('; ');
}
