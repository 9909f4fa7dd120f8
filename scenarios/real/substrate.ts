/**
 * The real-runtime substrate: runs a scenario (scenarios/runner.ts, runScenarioOn) over real
 * loopback sockets. Each scenario host gets its own NodeEnv; the scenario's addresses are mapped
 * to real ones (tcp://server:5555 to 127.0.0.1 and a port the kernel picks, ipc paths into a fresh
 * directory per run, inproc names into a namespace per run), so any number of runs can share the
 * machine. When the run has a fault layer (./faults.ts), every tcp and ipc dial goes through its
 * link's seeded fault proxy; without one, straight to the listener.
 *
 * Time is real: a run ends once nothing the runner records has moved for a quiet window that
 * starts no earlier than the last thing the scenario schedules (and its faults have healed), or at
 * the scenario's end, whichever comes first.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  ConnectCallback,
  ConnectOptions,
  Env,
  StreamConn,
  StreamListener,
  ListenCallback,
} from '../../impl/runtime/env.js';
import { ForwardingEnv, NetError, parseAddress } from '../../impl/runtime/env.js';
import { createNodeEnv, type NodeEnv } from '../../impl/runtime/node.js';
import type { Scenario } from '../model.js';
import type { AnyStackCore } from '../stack.js';
import type { ScenarioSubstrate, SubstrateRun } from '../runner.js';
import type { FaultRecord } from '../../sim/fault-plan.js';
import type { NetStats } from '../../sim/net.js';
import { RingSink, type TraceSink } from '../../sim/trace.js';

/** A run ends this long after the last thing the runner recorded, once faults have healed (default 300 ms). */
export const DEFAULT_QUIET_US = 300_000;
/** How often the run checks for quiet (default 20 ms). */
const POLL_US = 20_000;
/**
 * Quiet also takes this many polls in a row with nothing recorded. Wall time alone is not enough:
 * on a loaded machine the process can be starved for longer than the quiet window, and nothing
 * having moved then says nothing about bytes still waiting in the kernel. Each poll is a turn of
 * the event loop, in which pending I/O gets its callbacks.
 */
const QUIET_POLLS = 10;
/**
 * A real run never lasts longer than this past the last thing its scenario schedules (or the end of
 * the fault phase), whatever the scenario's liveness (default 5 s).
 */
export const DEFAULT_MAX_LIVENESS_US = 5_000_000;

/** A link from a dialing host to a listener: where to dial, and its teardown. */
export interface RealLink {
  /** The runtime address the dialer connects to (the listener itself, or a proxy in front of it). */
  address: string;
  close(): Promise<void>;
}

/**
 * Builds links (a proxy per dialing host and listener) and applies the fault plan to them
 * (./faults.ts: the seeded proxy). Without one, dials go straight to the listener and a scenario
 * with faults is refused.
 */
export interface RealFaultLayer {
  link(o: {
    from: string;
    to: string;
    listener: string;
    upstream: string;
    /** The run's own directory, for a unix-socket proxy's path. */
    dir: string;
  }): Promise<RealLink>;
  /** A counter that moves while the links carry bytes (a run is not quiet while it does). */
  progress(): number;
  /** Starts the plan (times from the run's start) and heals every fault at healAtUs. */
  apply(scenario: Scenario, healAtUs: number, nowUs: () => number): { records(): FaultRecord[] };
  close(): Promise<void>;
}

export interface RealSubstrateOptions {
  /** Root seed of every host env's random streams (and of the fault layer's decisions). */
  seed: string;
  quietUs?: number;
  maxLivenessUs?: number;
  faults?: RealFaultLayer;
  /**
   * Keep the last N trace events of netlab's side of the run (every host env's, one stream in
   * arrival order, stamped with the run's clock), for the report's viewer (default 0: none). Real
   * timings differ run to run, so the trace has no hash.
   */
  traceCapacity?: number;
}

export interface RealSubstrate extends ScenarioSubstrate {
  /** Closes every env, link and listener and removes the run's ipc directory. */
  dispose(): Promise<void>;
}

/** The simulator's network counters: the kernel keeps its own, so a real run reports zeros. */
const ZERO_STATS: NetStats = {
  connections: 0,
  segments: 0,
  bytesDelivered: 0,
  retransmissions: 0,
  resets: 0,
  partialWrites: 0,
};

/** Why a scenario cannot run on real sockets, or null when it can. */
export function realUnsupported(scenario: Scenario, faults: boolean): string | null {
  if (scenario.faults.faults.length > 0 && !faults)
    return 'the scenario has faults and no fault layer is configured';
  for (const f of scenario.faults.faults)
    if (f.kind === 'crash' || f.kind === 'restart' || f.kind === 'swizzle-clog')
      return `fault kind "${f.kind}" has no real-runtime equivalent (a host of the process cannot be crashed or clogged)`;
  return null;
}

export function realSubstrate(
  stack: AnyStackCore,
  scenario: Scenario,
  options: RealSubstrateOptions,
): RealSubstrate {
  const why = realUnsupported(scenario, options.faults !== undefined);
  if (why !== null) throw new Error(`cannot run on the real runtime: ${why}`);
  const quietUs = options.quietUs ?? DEFAULT_QUIET_US;
  const maxLivenessUs = options.maxLivenessUs ?? DEFAULT_MAX_LIVENESS_US;
  const net = new RealRunNet(mkdtempSync(join(tmpdir(), 'netlab-real-')), options.faults);
  const boots: HostBoot[] = [];
  const envs: NodeEnv[] = [];
  const ring = (options.traceCapacity ?? 0) > 0 ? new RingSink(options.traceCapacity) : undefined;

  return {
    runtime: 'real',
    addHost(name, boot) {
      boots.push({ name, boot });
    },
    applyFaults(s, healAtUs) {
      if (options.faults === undefined) return { records: () => [] };
      return options.faults.apply(s, healAtUs, () => net.nowUs());
    },
    async run({ endUs, healedAtUs, activity, settled }): Promise<SubstrateRun> {
      net.originMs = performance.now();
      const sinks = ring === undefined ? [] : [restamped(ring, () => net.nowUs())];
      startHosts(net, boots, options.seed, sinks, envs);
      const minEndUs = Math.min(stack.scheduledUntilUs(scenario), endUs);
      const capUs = Math.min(endUs, Math.max(minEndUs, healedAtUs) + maxLivenessUs);
      const moved = (): number => activity() + (options.faults?.progress() ?? 0);
      return runUntilQuiet(net, { minEndUs, capUs, quietUs, moved, settled });
    },
    trace: () => ring?.events() ?? [],
    netStats: () => ({ ...ZERO_STATS }),
    async dispose() {
      await Promise.allSettled(envs.map((e) => e.close()));
      const made = await Promise.allSettled([...net.links.values()]);
      await Promise.allSettled(made.flatMap((m) => (m.status === 'fulfilled' ? [m.value.close()] : [])));
      if (options.faults !== undefined) await options.faults.close();
      rmSync(net.dir, { recursive: true, force: true });
    },
  };
}

/** A scenario host: its name and what starts on it. */
interface HostBoot {
  name: string;
  boot: (env: Env) => void;
}

/**
 * One real run's view of the network: scenario addresses mapped to real ones (listeners bound, binds
 * in progress, ipc paths in the run's directory), links per dialing host and listener, the run's
 * inproc namespace and clock, and the first error a callback of the stack threw.
 */
class RealRunNet {
  /** The run's inproc names and pipe ids (HostEnv.shared). */
  readonly shared = new Map<string, unknown>();
  /** Scenario listen address (runtime form) → the real address it is bound to, and its host. */
  readonly bound = new Map<string, { real: string; host: string }>();
  readonly links = new Map<string, Promise<RealLink>>();
  /** Scenario listen addresses whose bind is in progress, settled when it is done (either way). */
  readonly binding = new Map<string, Promise<void>>();
  /** performance.now() at the run's start: every host counts from it. */
  originMs = 0;
  /** The first error a callback of the stack threw: the run stops and reports it as a crash. */
  thrown: unknown = undefined;
  private ipcCount = 0;
  private readonly ipcPaths = new Map<string, string>();

  constructor(
    /** The run's own directory (ipc paths, unix-socket proxies). */
    readonly dir: string,
    private readonly faults: RealFaultLayer | undefined,
  ) {}

  /** Microseconds since the run started. */
  nowUs(): number {
    return Math.floor((performance.now() - this.originMs) * 1000);
  }

  /** The real address a listener binds for a scenario address. */
  listenAddress(address: string): string {
    const a = parseAddress(address);
    if (a.transport === 'tcp') return 'tcp://127.0.0.1:0';
    let path = this.ipcPaths.get(a.path);
    if (path === undefined) {
      path = join(this.dir, `${this.ipcCount++}.sock`);
      this.ipcPaths.set(a.path, path);
    }
    return `unix://${path}`;
  }

  /** Where host `from` dials for a scenario address: a real address, one to come, or null (nobody listens). */
  linkFor(from: string, address: string): Promise<string | null> | string | null {
    const b = this.bound.get(address);
    if (b === undefined) {
      // A listen in progress: the dial waits for it, as a simulated SYN arrives after a listen made
      // at the same instant. Without this, every dial made at start-up would be refused.
      const waiting = this.binding.get(address);
      return waiting === undefined
        ? null
        : waiting.then(() => (this.bound.has(address) ? this.linkFor(from, address) : null));
    }
    // With faults, every tcp and ipc connection goes through its link's proxy (a stall or reset
    // selects same-host connections too); without, straight to the listener.
    if (this.faults === undefined) return b.real;
    const key = `${from}>${address}`;
    let link = this.links.get(key);
    if (link === undefined) {
      link = this.faults.link({ from, to: b.host, listener: address, upstream: b.real, dir: this.dir });
      this.links.set(key, link);
    }
    return link.then((l) => l.address);
  }
}

/** A host's env on the real runtime: the run's clock and namespace, and scenario addresses mapped. */
class HostEnv extends ForwardingEnv {
  constructor(
    inner: Env,
    private readonly net: RealRunNet,
  ) {
    super(inner);
  }
  override nowUs(): number {
    // Every host counts from the same instant, as the simulated hosts of one world do.
    return this.net.nowUs();
  }
  override shared<T>(key: string, create: () => T): T {
    // One namespace per run: inproc names and pipe ids of concurrent runs must not meet.
    const shared = this.net.shared;
    if (!shared.has(key)) shared.set(key, create());
    return shared.get(key) as T;
  }
  override connect(address: string, callback: ConnectCallback, options?: ConnectOptions): void {
    const refused = (why: string): void =>
      callback(new NetError('ECONNREFUSED', `connect ${address}: ${why}`), undefined);
    // Decided on a later turn, once every host booted at this instant has started its listens:
    // on the simulated network a SYN sent at the instant of a listen finds it bound.
    this.inner.setTimer(0, () => {
      let target: Promise<string | null> | string | null;
      try {
        target = this.net.linkFor(this.inner.hostName, formatKey(address));
      } catch (e) {
        refused((e as Error).message);
        return;
      }
      if (target === null) refused('nobody listens there');
      else if (typeof target === 'string') this.inner.connect(target, callback, options);
      else
        target.then(
          (real) =>
            real === null ? refused('nobody listens there') : this.inner.connect(real, callback, options),
          (e: unknown) => refused(`the link failed: ${(e as Error).message}`),
        );
    });
  }
  override listen(address: string, onConnection: (conn: StreamConn) => void, callback: ListenCallback): void {
    const { bound, binding } = this.net;
    let key: string;
    let real: string;
    try {
      key = formatKey(address);
      real = this.net.listenAddress(key);
    } catch (e) {
      this.inner.setTimer(0, () =>
        callback(e instanceof NetError ? e : new NetError('EINVAL', (e as Error).message), undefined),
      );
      return;
    }
    if (bound.has(key)) {
      this.inner.setTimer(0, () =>
        callback(new NetError('EADDRINUSE', `listen ${address}: address in use`), undefined),
      );
      return;
    }
    let bindDone = (): void => {};
    binding.set(key, new Promise<void>((resolve) => (bindDone = resolve)));
    this.inner.listen(real, onConnection, (err, listener) => {
      binding.delete(key);
      bindDone();
      if (err === undefined && listener !== undefined) {
        bound.set(key, { real: listener.address, host: this.inner.hostName });
        const inner: StreamListener = listener;
        callback(undefined, {
          address,
          close: () => {
            bound.delete(key);
            inner.close();
          },
        });
        return;
      }
      callback(err, listener);
    });
  }
}

/**
 * Starts every host on its own NodeEnv (seeded from the run's seed and its name), in the order added;
 * each env joins `envs` before its host boots, so dispose closes it even if the boot throws.
 */
function startHosts(
  net: RealRunNet,
  boots: readonly HostBoot[],
  seed: string,
  sinks: TraceSink[],
  envs: NodeEnv[],
): void {
  for (const { name, boot } of boots) {
    const env = createNodeEnv({
      seed: `${seed}/${name}`,
      hostName: name,
      onCallbackError: (e) => (net.thrown ??= e),
      trace: { sinks },
    });
    envs.push(env);
    boot(new HostEnv(env, net));
  }
}

/** When a real run may end: the bounds of its end and what says it is still moving. */
interface QuietRule {
  /** The last thing the scenario schedules: a quiet window ends no earlier than this plus its length. */
  minEndUs: number;
  /** The run ends here whatever moves. */
  capUs: number;
  /** Nothing moved for this long (and for QUIET_POLLS polls): quiet. */
  quietUs: number;
  /** A counter of what the actors record and the links carry. */
  moved: () => number;
  /** The workload is done and every connection the scenario wants is up. */
  settled: () => boolean;
}

/**
 * Polls the run until its cap, or until it is quiet and settled past its minimum end; a callback of
 * the stack that threw ends it as a crash.
 */
async function runUntilQuiet(net: RealRunNet, rule: QuietRule): Promise<SubstrateRun> {
  let last = rule.moved();
  let lastMoveUs = net.nowUs();
  let quietPolls = 0;
  let reason = 'until';
  for (;;) {
    await new Promise<void>((resolve) => setTimeout(resolve, POLL_US / 1000));
    const t = net.nowUs();
    const a = rule.moved();
    if (a !== last) {
      last = a;
      lastMoveUs = t;
      quietPolls = 0;
    } else quietPolls++;
    if (net.thrown !== undefined) {
      const thrown = net.thrown;
      const error = thrown instanceof Error ? thrown : new Error(`a callback threw ${typeof thrown}`);
      throw Object.assign(error, {
        substrateRun: { traceHash: '', reason: 'crash', nowUs: t, events: a } satisfies SubstrateRun,
      });
    }
    if (t >= rule.capUs) break;
    // The quiet window starts at the last movement or the scenario's last scheduled moment, whichever
    // is later: what the scenario schedules last (a stall ending) sets things moving only after it,
    // and a poll landing just then must not take the stillness before it for quiet.
    const quietForUs = t - Math.max(lastMoveUs, rule.minEndUs);
    if (quietForUs >= rule.quietUs && quietPolls >= QUIET_POLLS && rule.settled()) {
      reason = 'idle';
      break;
    }
  }
  return { traceHash: '', reason, nowUs: net.nowUs(), events: last };
}

/** The canonical runtime address (tcp://host:port or unix://path) a scenario address maps from. */
function formatKey(address: string): string {
  const a = parseAddress(address);
  return a.transport === 'tcp' ? `tcp://${a.host}:${a.port}` : `unix://${a.path}`;
}

/**
 * A sink that stamps every event with one sequence and the run's clock before `inner` keeps it: each
 * host env numbers and times its own events, and the viewer wants one stream.
 */
function restamped(inner: TraceSink, nowUs: () => number): TraceSink {
  let seq = 0;
  return { write: (e) => inner.write({ ...e, seq: seq++, tUs: nowUs() }) };
}
