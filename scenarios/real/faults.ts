/**
 * The real runtime's fault layer: a scenario's fault plan carried out by seeded fault proxies
 * (impl/runtime/node-proxy.ts), one per link (a dialing host and the listener it dials). Every tcp
 * and ipc connection of a run with faults goes through its link's proxy; inproc has no wire to cut.
 *
 * Each connection's faults are the scenario's fault plan compiled for it by the proxy's compiler
 * (compileProxyFaults, impl/runtime/proxy-plan.ts: one fault language), with times on the run's
 * clock. How each step of a fault plan (sim/FAULTS.md) maps:
 * - the scenario's network latency and jitter: the proxies' base latency, per segment, both ways;
 *   random chunking and partial writes: slicing into 1..MSS-byte writes;
 * - `partition`: the links between the two groups stop forwarding (both ways, or a→b only) for the
 *   window. Unlike the simulator, a connection opened during the window is accepted by the proxy;
 *   its bytes wait, as they would behind a partition that drops SYN-ACKs only;
 * - `stall-reads`: the matched connections open at the step stop delivering towards the stalled
 *   side (client: the dialer's side; server: the listener's) for forUs;
 * - `reset`: the matched connections open at the step are reset at both ends;
 * - `link`: latency, jitter and bandwidth for the window, in the direction(s) named. A loss rate has
 *   no equivalent on TCP (the kernel retransmits); it is recorded in the fault's detail and dropped.
 * - `pause`: every link to or from the host stops forwarding both ways for the window, which is what
 *   its peers see of a stopped host. Inside the host its timers still run (a simulated pause holds
 *   them): a REQ may resend into the stall, which only the next bytes show;
 * - `crash`, `restart`, `swizzle-clog`: no equivalent (substrate.realUnsupported refuses).
 * Faults without forUs end at the end of the fault phase (healAllAt), as in the simulator, and steps
 * due after it are left out, as healAllAt skips them.
 */
import type { Scenario } from '../model.js';
import { startFaultProxy, type FaultProxy } from '../../impl/runtime/node-proxy.js';
import { compileProxyFaults, type ProxyFaults, type TimelineStep } from '../../impl/runtime/proxy-plan.js';
import type { FaultRecord, FaultStep, LinkPatch } from '../../sim/fault-plan.js';
import type { RealFaultLayer, RealLink } from './substrate.js';

/** The simulator's default MSS: the largest slice when the scenario chunks randomly. */
const SLICE_MAX_BYTES = 1460;

interface LinkInfo {
  /** The dialing host (the connection's client). */
  from: string;
  /** The listening host (the connection's server). */
  to: string;
}

/** The window of a step on the run's clock: [startUs, endUs). */
function windowOf(step: FaultStep, healAtUs: number): { startUs: number; endUs: number } {
  const forUs = 'forUs' in step && step.forUs !== undefined ? step.forUs : undefined;
  return {
    startUs: step.atUs,
    endUs: forUs === undefined ? healAtUs : Math.min(step.atUs + forUs, healAtUs),
  };
}

/**
 * What a connection of `link` accepted at `acceptedUs` (run clock) gets: the scenario's fault plan
 * compiled for it (impl/runtime/proxy-plan.ts), over the scenario network's own settings, every
 * fault ending by `healAtUs`. Steps the proxy has no equivalent for are left out (realUnsupported
 * refused the kinds before the run; a loss rate is recorded as not applied).
 */
export function connectionFaults(
  scenario: Scenario,
  link: LinkInfo,
  acceptedUs: number,
  healAtUs: number,
): ProxyFaults {
  return compileProxyFaults(scenario.faults, {
    client: link.from,
    server: link.to,
    acceptedUs,
    healAtUs,
    link: baseFaults(scenario, link.from === link.to),
    unsupported: 'skip',
  });
}

/**
 * The timeline a connection of `link` accepted at `acceptedUs` (run clock) gets from the plan:
 * steps keyed by time since its acceptance, as the proxy wants them.
 */
export function timelineFor(
  scenario: Scenario,
  link: LinkInfo,
  acceptedUs: number,
  healAtUs: number,
): readonly TimelineStep[] {
  return (
    compileProxyFaults(scenario.faults, {
      client: link.from,
      server: link.to,
      acceptedUs,
      healAtUs,
      unsupported: 'skip',
    }).timeline ?? []
  );
}

/**
 * The link settings of every proxied connection before any fault: the scenario's own network, as
 * the simulator's link defaults. Within a host the simulator has no link latency either (loopback).
 */
export function baseFaults(scenario: Scenario, sameHost: boolean): LinkPatch {
  const n = scenario.network;
  const d: LinkPatch = {};
  if (!sameHost) {
    d.latency = n.latency;
    if (n.jitterUs > 0) d.jitterUs = n.jitterUs;
  }
  if (n.randomChunking || n.partialWriteProbability > 0)
    d.slice = { minBytes: 1, maxBytes: SLICE_MAX_BYTES, delayUs: 0 };
  return d;
}

/** A fault layer for one run (seeded by the run's seed). */
export function realFaultLayer(seed: string): RealFaultLayer {
  const proxies: FaultProxy[] = [];
  let scenario: Scenario | undefined;
  let healAtUs = 0;
  let now: () => number = () => 0;
  let count = 0;
  return {
    async link({ from, to, listener, upstream, dir }): Promise<RealLink> {
      if (scenario === undefined) throw new Error('fault layer: link() before apply()');
      const s = scenario;
      const info = { from, to };
      const proxy = await startFaultProxy({
        listen: upstream.startsWith('unix://') ? `unix://${dir}/proxy-${count++}.sock` : 'tcp://127.0.0.1:0',
        upstream,
        // Keyed on the scenario's address, not the port the kernel picked: the same seed gives the
        // same decisions run after run.
        seed: `${seed}/${from}>${listener}`,
        faultsFor: (): ProxyFaults => connectionFaults(s, info, now(), healAtUs),
      });
      proxies.push(proxy);
      return { address: proxy.address, close: () => proxy.close() };
    },
    progress() {
      let n = 0;
      for (const p of proxies) {
        n += p.accepted;
        for (const c of p.connections) n += c.up.forwarded + c.down.forwarded;
      }
      return n;
    },
    apply(s, heal, nowUs) {
      scenario = s;
      healAtUs = heal;
      now = nowUs;
      const steps = s.faults.faults.map((step, id) => ({ id, step, window: windowOf(step, heal) }));
      return {
        records: (): FaultRecord[] => {
          const t = now();
          return steps.map(({ id, step, window }): FaultRecord => {
            const lossOnly = step.kind === 'link' && Object.keys(step.set).every((k) => k === 'lossRate');
            const base = {
              id,
              kind: step.kind,
              dueUs: step.atUs,
              matchedConns: null,
              detail: `${step.kind} through the fault proxy${lossOnly ? ' (a loss rate only: no TCP equivalent, not applied)' : ''}`,
            };
            if (t < window.startUs)
              return {
                ...base,
                status: 'skipped',
                startUs: null,
                endUs: null,
                skipReason: 'the run ended first',
              };
            const instant = step.kind === 'reset';
            const ended = instant || t >= window.endUs;
            return {
              ...base,
              status: ended ? 'ended' : 'active',
              startUs: window.startUs,
              endUs: ended ? (instant ? window.startUs : window.endUs) : null,
            };
          });
        },
      };
    },
    async close() {
      await Promise.allSettled(proxies.map((p) => p.close()));
    },
  };
}
