/**
 * The seeded fault proxy's decisions, without any I/O: which faults a proxied byte stream meets
 * (latency with jitter, bandwidth, slicing into separate writes, read stalls, reset, slow close, data
 * limit, and a timeline of changes), as a pure function of (seed, connection index, direction, byte
 * offset). The real proxy (impl/runtime/node-proxy.ts) feeds bytes and the clock in and carries out
 * the actions that come back; tests feed the same core with any chunking and compare.
 *
 * One fault language: the proxy is driven by fault plans (sim/fault-plan.ts, sim/FAULTS.md), the
 * simulator's model. `compileProxyFaults` validates a plan with the plan parser and compiles it, for
 * one connection, into ProxyFaults: the per-direction form the decision core executes. ProxyFaults is
 * produced only by that compiler (nothing parses it); the profiles are fault plans compiled the same
 * way. Bounds of latency, jitter, durations, sizes: sim/fault-limits.ts.
 *
 * Chunking invariance: each direction's stream is cut into segments at offsets that depend only on
 * the seed, the connection index, the direction and the fault settings (never on read sizes), and
 * every draw of a segment (its size when slicing, its latency and jitter) is a keyed draw on
 * (seed, conn, dir, segment index). The same bytes therefore meet the same fate however the kernel
 * chunks the reads. Only steps keyed by time (`atUs`) break this, since what is in flight at a given
 * moment depends on timing; prefer steps keyed by byte offset (`atByte`).
 *
 * Full syntax and semantics: impl/runtime/PROXY.md.
 *
 * Browser-safe: no Node imports, no clock, no ambient randomness; time comes in as arguments.
 */
import { SimError } from '../../sim/errors.js';
import {
  errorDetail,
  formatDurationUs,
  parseRateBytesPerSec,
  parseSizeBytes,
} from '../../sim/fault-limits.js';
import {
  parseFaultPlan,
  type ConnSelector,
  type FaultPlan,
  type FaultStep,
  type LimitStep,
  type LinkPatch,
  type LinkStep,
  type PartitionStep,
  type PauseStep,
  type ProxySettings,
  type ReadSide,
  type ResetStep,
  type SliceSetting,
  type SlowCloseStep,
  type StallReadsStep,
} from '../../sim/fault-plan.js';
import { drawLatencyUs, type LatencyModel } from '../../sim/net-config.js';
import { Rng, type KeyedStream } from '../../sim/rng.js';

// The vocabulary's size and rate forms, where the CLI and tests found them before they were shared.
export { parseRateBytesPerSec, parseSizeBytes };
export type { SliceSetting };

// ---------------------------------------------------------------------------------------------
// The compiled form (what the decision core executes)
// ---------------------------------------------------------------------------------------------

/** `up`: client to upstream; `down`: upstream to client. */
export type ProxyDirection = 'up' | 'down';
export const PROXY_DIRECTIONS: readonly ProxyDirection[] = ['up', 'down'];

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

/** Brand of the compiled form: a value of this type comes out of compileProxyFaults, nowhere else. */
declare const compiledBrand: unique symbol;

/**
 * Everything the proxy does to one connection, compiled from a fault plan by compileProxyFaults
 * (times in µs since the connection was accepted). Deeply frozen; the decision core reads it.
 */
export interface ProxyFaults {
  readonly up?: DirectionFaults;
  readonly down?: DirectionFaults;
  /** Time-keyed steps and windows, and byte-keyed windows, in plan order. */
  readonly timeline?: TimelineStep[];
  /** Probability that a connection gets the faults, drawn per connection index (default 1). */
  readonly toxicity?: number;
  /** Only connections with an index below this get faults (default: all), e.g. 1 = the first only. */
  readonly faultyConnections?: number;
  /** Segment size when not slicing: the unit that gets one latency/jitter draw (default 1460). */
  readonly segmentBytes?: number;
  readonly [compiledBrand]: true;
}

type Unbranded = { -readonly [K in keyof Omit<ProxyFaults, typeof compiledBrand>]: ProxyFaults[K] };

/** The grid when not slicing, as the simulator's default MSS: one latency/jitter draw per segment. */
export const DEFAULT_SEGMENT_BYTES = 1460;

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
// The compiler: fault plan -> ProxyFaults
// ---------------------------------------------------------------------------------------------

/**
 * The host names a stand-alone proxy's plan uses for the two ends of every connection it carries:
 * the client that connected, and the server (the upstream). `{from: "client", to: "server"}` is the
 * `up` direction of a link step; `side: "server"` the stream towards the upstream.
 */
export const PROXY_CLIENT_HOST = 'client';
export const PROXY_SERVER_HOST = 'server';

const compiledSet = new WeakSet<object>();

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

function seal(f: Unbranded): ProxyFaults {
  deepFreeze(f);
  compiledSet.add(f);
  return f as ProxyFaults;
}

/** True for a value compileProxyFaults produced. */
export function isCompiledProxyFaults(x: unknown): x is ProxyFaults {
  return typeof x === 'object' && x !== null && compiledSet.has(x);
}

export interface ProxyCompileOptions {
  /** Host name of the connection's client (dialing) side in the plan. Default PROXY_CLIENT_HOST, "client". */
  client?: string;
  /** Host name of its server (listening, upstream) side. Default PROXY_SERVER_HOST, "server". */
  server?: string;
  /**
   * When the connection was accepted, on the plan's clock (default 0: the plan's times count from
   * the accept, which is how a stand-alone proxy runs a plan for every connection). Windows that
   * began earlier apply for what is left of them; `stall-reads` and `reset` steps that fired earlier
   * spare the connection, as the simulator spares connections opened after such a step.
   */
  acceptedUs?: number;
  /** Every fault ends by then and later steps are dropped, as the simulator's healAllAt (default never). */
  healAtUs?: number;
  /**
   * The link's settings before any step, both ways, as the simulator's network defaults: what a real
   * run takes from the scenario's network (latency, jitter, slicing). Validated as a link step's `set`.
   */
  link?: LinkPatch;
  /**
   * A step, or part of one, the proxy cannot carry out (crash, restart, swizzle-clog, a loss rate,
   * a partition that never ends): "refuse" (default) throws SimError ERR_BAD_ARGUMENT naming it;
   * "skip" leaves it out (the real runtime's fault layer, which refuses whole kinds before a run and
   * records a loss rate as not applied).
   */
  unsupported?: 'refuse' | 'skip';
}

function segmentOf(set: LinkPatch): SegmentFaults {
  const out: SegmentFaults = {};
  if (set.latency !== undefined) out.latency = set.latency;
  if (set.jitterUs !== undefined) out.jitterUs = set.jitterUs;
  if (set.bandwidthBytesPerSec !== undefined) out.bandwidthBytesPerSec = set.bandwidthBytesPerSec;
  if (set.slice !== undefined) out.slice = set.slice;
  return out;
}

/** Merges segment settings over a direction's own, field by field; `slice: null` turns slicing off. */
function fold(d: DirectionFaults, set: SegmentFaults): void {
  if (set.latency !== undefined) d.latency = set.latency;
  if (set.jitterUs !== undefined) d.jitterUs = set.jitterUs;
  if (set.bandwidthBytesPerSec !== undefined) d.bandwidthBytesPerSec = set.bandwidthBytesPerSec;
  if (set.slice === null) delete d.slice;
  else if (set.slice !== undefined) d.slice = set.slice;
}

/** The directions whose incoming stream is `side`'s: server = up (towards the upstream), client = down. */
function sideDirections(side: ReadSide): ProxyDirection[] {
  return side === 'server' ? ['up'] : side === 'client' ? ['down'] : ['up', 'down'];
}

/**
 * Compiles a fault plan (JSON or normalized; validated here by parseFaultPlan, the one parser) into
 * what the proxy does to one connection between hosts `client` and `server`. How each step maps:
 *
 * - `link` between the two hosts: latency, jitter, bandwidth and slicing of the direction(s) named.
 *   Settings in force from the accept on, for good, become the direction's own; the others are
 *   timeline windows, by time (atUs/forUs) or by bytes (atByte/forBytes). Later steps override
 *   earlier ones field by field. A loss rate has no TCP equivalent (the kernel retransmits).
 * - `stall-reads`: the stream towards `side` stops being read for forUs, at atByte (the direction's
 *   own stalls) or at a time (a timeline stall).
 * - `reset`: both ends are reset, at a time, or once atByte bytes were forwarded towards `side`.
 * - `limit`: the connection is closed (FIN both ways) once atByte bytes were forwarded towards `side`.
 * - `slow-close`: the end of stream towards `side` is held forUs after its last byte.
 * - `partition` between the hosts, `pause` of either: the cut directions stop forwarding for the
 *   window (a timeline stall), which is what the peers see of them.
 * - `crash`, `restart`, `swizzle-clog`: no equivalent.
 * - `proxy` settings: toxicity, faultyConnections, segmentBytes as given.
 *
 * Connection selectors match by client and server host; a `name` selects nothing (a real connection
 * has no simulator name). Throws SimError ERR_BAD_ARGUMENT naming the step for a bad plan, and for a
 * step the proxy cannot carry out unless `unsupported` is "skip".
 */
export function compileProxyFaults(plan: unknown, options: ProxyCompileOptions = {}): ProxyFaults {
  const p = parseFaultPlan(plan);
  const compiler = new ConnectionFaultsCompiler(options);
  // An empty patch changes nothing (a same-host link with whole writes): nothing to validate or fold.
  if (options.link !== undefined && Object.keys(options.link).length > 0) compiler.linkDefaults(options.link);
  p.faults.forEach((step, i) => compiler.step(step, `faults[${i}]`));
  return compiler.result(p.proxy);
}

/**
 * compileProxyFaults for one connection: the options' hosts and times, and what the plan's steps have
 * made so far (each direction's own faults, the timeline), one method per step kind.
 */
class ConnectionFaultsCompiler {
  private readonly client: string;
  private readonly server: string;
  private readonly acceptedUs: number;
  private readonly healAtUs: number;
  private readonly refuse: boolean;
  private readonly own: Record<ProxyDirection, DirectionFaults> = { up: {}, down: {} };
  /** A direction that has a window: later settings for good go to the timeline too, after it. */
  private readonly windowed: Record<ProxyDirection, boolean> = { up: false, down: false };
  private readonly timeline: TimelineStep[] = [];

  constructor(options: ProxyCompileOptions) {
    this.client = options.client ?? PROXY_CLIENT_HOST;
    this.server = options.server ?? PROXY_SERVER_HOST;
    this.acceptedUs = options.acceptedUs ?? 0;
    this.healAtUs = options.healAtUs ?? Infinity;
    this.refuse = (options.unsupported ?? 'refuse') === 'refuse';
  }

  /** The link's settings before any step (ProxyCompileOptions.link), validated as a link step's `set`. */
  linkDefaults(link: LinkPatch): void {
    let checked: FaultPlan;
    try {
      checked = parseFaultPlan({
        version: 1,
        faults: [{ kind: 'link', atUs: 0, from: this.client, to: this.server, set: link }],
      });
    } catch (e) {
      throw new SimError('ERR_BAD_ARGUMENT', errorDetail(e).replaceAll('faults[0].set', 'link'));
    }
    const set = this.segment('link', (checked.faults[0] as { set: LinkPatch }).set);
    fold(this.own.up, set);
    fold(this.own.down, set);
  }

  /** Compiles plan step `at` (e.g. "faults[3]", the path errors name). */
  step(step: FaultStep, at: string): void {
    // healAllAt comes first: the simulator skips the step too.
    if (step.atUs >= this.healAtUs) return;
    switch (step.kind) {
      case 'link':
        return this.link(step, at);
      case 'stall-reads':
        return this.stallReads(step, at);
      case 'reset':
        return this.reset(step, at);
      case 'limit':
        return this.limit(step, at);
      case 'slow-close':
        return this.slowClose(step, at);
      case 'partition':
        return this.partition(step, at);
      case 'pause':
        return this.pause(step);
      case 'crash':
      case 'restart':
      case 'swizzle-clog':
        this.cannot(
          `${at}.kind`,
          `"${step.kind}" has no equivalent in the fault proxy (it cannot crash, restart or clog a host)`,
        );
        return;
    }
  }

  /** The compiled faults, sealed: what the steps made, and the plan's proxy settings. */
  result(proxy: ProxySettings | undefined): ProxyFaults {
    const out: Unbranded = {};
    if (Object.keys(this.own.up).length > 0) out.up = this.own.up;
    if (Object.keys(this.own.down).length > 0) out.down = this.own.down;
    if (this.timeline.length > 0) out.timeline = this.timeline;
    if (proxy?.toxicity !== undefined) out.toxicity = proxy.toxicity;
    if (proxy?.faultyConnections !== undefined) out.faultyConnections = proxy.faultyConnections;
    if (proxy?.segmentBytes !== undefined) out.segmentBytes = proxy.segmentBytes;
    return seal(out);
  }

  /** Latency, jitter, bandwidth, slicing: the direction's own for good, or a window (by time or bytes). */
  private link(step: LinkStep, at: string): void {
    const { client, server, acceptedUs } = this;
    const up =
      (step.from === client && step.to === server) ||
      (!step.oneWay && step.from === server && step.to === client);
    const down =
      (step.from === server && step.to === client) ||
      (!step.oneWay && step.from === client && step.to === server);
    const dirs: ProxyDirection[] = [...(up ? ['up' as const] : []), ...(down ? ['down' as const] : [])];
    if (dirs.length === 0) return;
    const set = this.segment(`${at}.set`, step.set);
    if (Object.keys(set).length === 0) return;
    if (step.atByte !== undefined) {
      if (!this.armed(at, step)) return;
      for (const d of dirs) {
        const w: TimelineSetStep = { kind: 'set', direction: d, atByte: step.atByte, set };
        if (step.forBytes !== undefined) w.forBytes = step.forBytes;
        this.timeline.push(w);
        this.windowed[d] = true;
      }
      return;
    }
    const end = this.endOf(step.atUs, step.forUs);
    if (end <= acceptedUs) return;
    if (step.atUs <= acceptedUs && end === Infinity && dirs.every((d) => !this.windowed[d])) {
      for (const d of dirs) fold(this.own[d], set);
      return;
    }
    for (const d of dirs) {
      const w: TimelineSetStep = { kind: 'set', direction: d, atUs: this.rel(step.atUs), set };
      if (end !== Infinity) w.forUs = end - Math.max(step.atUs, acceptedUs);
      this.timeline.push(w);
      this.windowed[d] = true;
    }
  }

  /** The stream towards `side` stops being read: at a byte offset (own stalls) or a time (timeline). */
  private stallReads(step: StallReadsStep, at: string): void {
    if (!this.selects(step.conn)) return;
    if (step.atByte !== undefined) {
      if (!this.armed(at, step)) return;
      for (const d of sideDirections(step.side))
        (this.own[d].stalls ??= []).push({ atByte: step.atByte, forUs: step.forUs });
      return;
    }
    // The simulator stalls the connections open when the step fires; later ones are spared.
    if (this.acceptedUs > step.atUs) return;
    const forUs = this.endOf(step.atUs, step.forUs) - step.atUs;
    if (forUs <= 0) return;
    // Client side: the stream towards the client (down); server side: towards the server (up).
    if (step.side !== 'server')
      this.timeline.push({ kind: 'stall', direction: 'down', atUs: this.rel(step.atUs), forUs });
    if (step.side !== 'client')
      this.timeline.push({ kind: 'stall', direction: 'up', atUs: this.rel(step.atUs), forUs });
  }

  /** Both ends reset: at a time, or once atByte bytes were forwarded towards `side`. */
  private reset(step: ResetStep, at: string): void {
    if (!this.selects(step.conn)) return;
    if (step.atByte !== undefined) {
      if (!this.armed(at, step)) return;
      for (const d of sideDirections(step.side ?? 'both')) {
        if (this.own[d].resetAtByte === undefined) this.own[d].resetAtByte = step.atByte;
        else this.timeline.push({ kind: 'reset', direction: d, atByte: step.atByte });
      }
      return;
    }
    if (this.acceptedUs > step.atUs) return;
    this.timeline.push({ kind: 'reset', direction: 'both', atUs: this.rel(step.atUs) });
  }

  /** The connection closes once atByte bytes were forwarded towards `side` (the lowest limit wins). */
  private limit(step: LimitStep, at: string): void {
    if (!this.selects(step.conn) || !this.armed(at, step)) return;
    for (const d of sideDirections(step.side))
      this.own[d].limitBytes = Math.min(this.own[d].limitBytes ?? Infinity, step.atByte);
  }

  /** The end of stream towards `side` is held forUs after its last byte, from the connection's start. */
  private slowClose(step: SlowCloseStep, at: string): void {
    if (!this.selects(step.conn)) return;
    if (step.atUs > this.acceptedUs) {
      this.cannot(
        `${at}.atUs`,
        'the fault proxy holds every end of stream of a connection alike: a slow-close starts with the connection (give atUs 0)',
      );
      return;
    }
    for (const d of sideDirections(step.side)) this.own[d].slowCloseUs = step.forUs;
  }

  /** The cut directions between the two hosts stop forwarding for the window (a timeline stall). */
  private partition(step: PartitionStep, at: string): void {
    const { client, server } = this;
    const up =
      (step.a.includes(client) && step.b.includes(server)) ||
      (!step.oneWay && step.b.includes(client) && step.a.includes(server));
    const down =
      (step.a.includes(server) && step.b.includes(client)) ||
      (!step.oneWay && step.b.includes(server) && step.a.includes(client));
    if (!up && !down) return;
    const end = this.endOf(step.atUs, step.forUs);
    if (end === Infinity) {
      this.cannot(`${at}.forUs`, 'required by the fault proxy: a partition it carries out must end');
      return;
    }
    const forUs = end - Math.max(step.atUs, this.acceptedUs);
    if (forUs <= 0) return;
    // Unlike the simulator, a connection opened during the window is accepted; its bytes wait.
    if (up) this.timeline.push({ kind: 'stall', direction: 'up', atUs: this.rel(step.atUs), forUs });
    if (down) this.timeline.push({ kind: 'stall', direction: 'down', atUs: this.rel(step.atUs), forUs });
  }

  /** A paused host: nothing moves on its links, either way, for the window. */
  private pause(step: PauseStep): void {
    // What the peers see of a stopped host: nothing moves on its links, either way.
    if (step.host !== this.client && step.host !== this.server) return;
    const forUs = this.endOf(step.atUs, step.forUs) - Math.max(step.atUs, this.acceptedUs);
    if (forUs <= 0) return;
    this.timeline.push({ kind: 'stall', direction: 'both', atUs: this.rel(step.atUs), forUs });
  }

  /** A step (or part) the proxy cannot carry out: refused (ERR_BAD_ARGUMENT naming `path`), or skipped. */
  private cannot(path: string, why: string): void {
    if (this.refuse) throw new SimError('ERR_BAD_ARGUMENT', `${path}: ${why}`);
  }

  /** A link patch's segment faults; a loss rate is something the proxy cannot do. */
  private segment(path: string, set: LinkPatch): SegmentFaults {
    if (set.lossRate !== undefined)
      this.cannot(
        `${path}.lossRate`,
        'the fault proxy cannot lose bytes of a TCP stream (the kernel retransmits)',
      );
    return segmentOf(set);
  }

  /** A plan time relative to the accept (0 for what began before it). */
  private rel(us: number): number {
    return Math.max(0, us - this.acceptedUs);
  }

  /** When a window from atUs ends: after forUs (absent: never), and by healAtUs at the latest. */
  private endOf(atUs: number, forUs: number | undefined): number {
    return Math.min(forUs === undefined ? Infinity : atUs + forUs, this.healAtUs);
  }

  /** The connection selector matches this connection's hosts (a name matches none). */
  private selects(sel: ConnSelector): boolean {
    return (
      sel === 'all' ||
      (sel.name === undefined &&
        (sel.client === undefined || sel.client === this.client) &&
        (sel.server === undefined || sel.server === this.server))
    );
  }

  /** A byte-keyed step is armed when the connection opens; the proxy cannot arm one later. */
  private armed(at: string, step: FaultStep): boolean {
    if (step.atUs <= this.acceptedUs) return true;
    this.cannot(
      `${at}.atUs`,
      'a step keyed by atByte applies from the start of the connection: the fault proxy cannot arm it later (give atUs 0)',
    );
    return false;
  }
}

/** The faults of a connection the plan spares (toxicity, faultyConnections): none, on the same segment grid. */
export function withoutFaults(faults: ProxyFaults): ProxyFaults {
  return faults.segmentBytes === undefined ? NO_FAULTS : seal({ segmentBytes: faults.segmentBytes });
}

/**
 * The faults a proxy runs, from what its caller gives: a profile name, a fault plan (compiled here
 * with the default hosts, times from each accept), or faults compileProxyFaults already produced.
 */
export function proxyFaultsOf(faults: FaultPlan | ProxyFaults | string | undefined): ProxyFaults {
  if (faults === undefined) return NO_FAULTS;
  if (typeof faults === 'string') return proxyProfile(faults);
  if (isCompiledProxyFaults(faults)) return faults;
  return compileProxyFaults(faults);
}

// ---------------------------------------------------------------------------------------------
// Profiles: fault plans, compiled
// ---------------------------------------------------------------------------------------------

/** A link change from the accept on, both ways between the proxy's client and server. */
function bothWays(set: LinkPatch): FaultStep {
  return { kind: 'link', atUs: 0, from: PROXY_CLIENT_HOST, to: PROXY_SERVER_HOST, oneWay: false, set };
}

/**
 * Named fault sets for the interop matrix (`--faults PROFILE`) and `netlab proxy --profile`. Offsets
 * are small on purpose: an SP connection exchanges an 8-byte handshake and then frames with an 8-byte
 * length header, so byte 12 is inside the first frame's header.
 */
export type ProxyProfileName = 'none' | 'latency' | 'slicing' | 'stall' | 'reset' | 'chaos';

export const PROXY_PROFILE_PLANS: Readonly<Record<ProxyProfileName, FaultPlan>> = deepFreeze({
  /** Forward everything as it comes. */
  none: { version: 1, faults: [] },
  /** 2-10 ms per segment plus up to 2 ms of jitter, both ways. */
  latency: {
    version: 1,
    faults: [bothWays({ latency: { kind: 'uniform', minUs: 2000, maxUs: 10_000 }, jitterUs: 2000 })],
  },
  /** Writes of 1-64 bytes, 100 µs apart, both ways: frames arrive split at every possible byte. */
  slicing: { version: 1, faults: [bothWays({ slice: { minBytes: 1, maxBytes: 64, delayUs: 100 } })] },
  /** Reading stops for 200 ms at byte 12 of each direction (inside the first frame's header). */
  stall: {
    version: 1,
    faults: [{ kind: 'stall-reads', atUs: 0, atByte: 12, conn: 'all', side: 'both', forUs: 200_000 }],
  },
  /** The first connection is reset after 12 bytes upstream; later connections (redials) are clean. */
  reset: {
    version: 1,
    faults: [{ kind: 'reset', atUs: 0, atByte: 12, conn: 'all', side: 'server' }],
    proxy: { faultyConnections: 1 },
  },
  /** Latency, jitter, slicing, a bandwidth cap, a stall and a slow close at once; no reset. */
  chaos: {
    version: 1,
    faults: [
      bothWays({
        latency: { kind: 'uniform', minUs: 1000, maxUs: 5000 },
        jitterUs: 2000,
        bandwidthBytesPerSec: 1_000_000,
        slice: { minBytes: 1, maxBytes: 256, delayUs: 0 },
      }),
      { kind: 'stall-reads', atUs: 0, atByte: 64, conn: 'all', side: 'both', forUs: 100_000 },
      { kind: 'slow-close', atUs: 0, conn: 'all', side: 'both', forUs: 50_000 },
    ],
  },
});
export const PROXY_PROFILE_NAMES = Object.keys(PROXY_PROFILE_PLANS) as ProxyProfileName[];

const NO_FAULTS: ProxyFaults = compileProxyFaults(PROXY_PROFILE_PLANS.none);

/** The profiles compiled: what the proxy executes for each. */
export const PROXY_PROFILES: Readonly<Record<ProxyProfileName, ProxyFaults>> = Object.freeze(
  Object.fromEntries(
    PROXY_PROFILE_NAMES.map((n) => [n, compileProxyFaults(PROXY_PROFILE_PLANS[n])]),
  ) as Record<ProxyProfileName, ProxyFaults>,
);

/** The profile's plan; a SimError ERR_BAD_ARGUMENT listing the names when there is none. */
export function proxyProfilePlan(name: string): FaultPlan {
  if (!Object.hasOwn(PROXY_PROFILE_PLANS, name)) {
    throw new SimError(
      'ERR_BAD_ARGUMENT',
      `unknown fault profile ${JSON.stringify(name)} (known: ${PROXY_PROFILE_NAMES.join(', ')})`,
    );
  }
  return PROXY_PROFILE_PLANS[name as ProxyProfileName];
}

/** The profile compiled; a SimError ERR_BAD_ARGUMENT listing the names when there is none. */
export function proxyProfile(name: string): ProxyFaults {
  proxyProfilePlan(name);
  return PROXY_PROFILES[name as ProxyProfileName];
}

// ---------------------------------------------------------------------------------------------
// Descriptions
// ---------------------------------------------------------------------------------------------

function describeLatency(m: LatencyModel): string {
  switch (m.kind) {
    case 'constant':
      return formatDurationUs(m.us);
    case 'uniform':
      return `${formatDurationUs(m.minUs)}-${formatDurationUs(m.maxUs)}`;
    case 'exponential':
      return `${formatDurationUs(m.minUs)}+exp(${formatDurationUs(m.meanUs)})`;
    case 'mixture':
      return `${describeLatency(m.fast)}|${describeLatency(m.slow)}@${m.slowProbability}`;
  }
}

function describeSegment(s: SegmentFaults): string[] {
  const parts: string[] = [];
  if (s.latency !== undefined) parts.push(`latency ${describeLatency(s.latency)}`);
  if (s.jitterUs) parts.push(`jitter ${formatDurationUs(s.jitterUs)}`);
  if (s.bandwidthBytesPerSec) parts.push(`bandwidth ${s.bandwidthBytesPerSec}B/s`);
  if (s.slice === null) parts.push('no slicing');
  else if (s.slice !== undefined) {
    parts.push(`slice ${s.slice.minBytes}-${s.slice.maxBytes}B delay ${formatDurationUs(s.slice.delayUs)}`);
  }
  return parts;
}

/** One line for banners: "up: latency 20ms, slice 1-64B delay 1ms; down: none; timeline: 2 steps". */
export function describeProxyFaults(f: ProxyFaults): string {
  const dir = (d: DirectionFaults | undefined): string => {
    if (d === undefined) return 'none';
    const parts = describeSegment(d);
    for (const s of d.stalls ?? []) parts.push(`stall at ${s.atByte}B for ${formatDurationUs(s.forUs)}`);
    if (d.resetAtByte !== undefined) parts.push(`reset at ${d.resetAtByte}B`);
    if (d.limitBytes !== undefined) parts.push(`limit ${d.limitBytes}B`);
    if (d.slowCloseUs) parts.push(`slow close ${formatDurationUs(d.slowCloseUs)}`);
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
