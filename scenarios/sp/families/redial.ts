/**
 * The redial family: after any pipe loss a dialer reconnects once its peer is reachable, one attempt
 * at a time, waiting between attempts within the backoff bounds (at least RECONNECT-TIME, at most
 * MAX-RECONNECT-TIME plus scheduling slack), growing the wait over consecutive failed attempts until
 * the cap, and starting over only once the protocol accepted a pipe (a TCP connect that ends in a
 * rejected handshake does not count: nng 1.5.2 resets on connect and storms a wrong-protocol peer).
 *
 * Gaps are measured from the end of one attempt (its connect failed, or its connection closed) to the
 * start of the next, so network latency does not enter them; a gap during which the dialer's host was
 * paused or crashed is not judged (its timers were held). Sometimes the application closes a dialing
 * socket (closeAtUs): after that nothing may happen on it, no connect attempt, no attached pipe.
 */
import { scenarioOption } from '../reference.js';
import fc from 'fast-check';
import type { FaultStep } from '../../../sim/fault-plan.js';
import { parseFaultPlan } from '../../../sim/fault-plan.js';
import type { FamilySpec, PropertySpec } from '../catalog.js';
import {
  defineCheck,
  verdict,
  type CheckContext,
  type CheckVerdict,
  type DialRecord,
  type Observations,
} from '../checks.js';
import { faultStepArb, networkArb } from '../generators.js';
import { SCENARIO_VERSION, SP_STACK, type Scenario, type SocketSpec } from '../model.js';

/** Scheduling slack allowed above a timer's interval, in µs (simulated timers fire on time). */
export const REDIAL_SLACK_US = 1_000;
/** The smallest growth factor per consecutive failed attempt (mangos draws it from [1.1, 1.5)). */
export const MIN_GROWTH = 1.1;

/** One dial attempt with what the dialer's socket saw during it. */
interface Attempt extends DialRecord {
  /** The protocol accepted a pipe during the attempt. */
  attached: boolean;
}

/** A dialer's attempts and the timing options it ran with. */
interface DialerSeries {
  socket: SocketSpec;
  attempts: Attempt[];
  minUs: number;
  /** The cap on the interval: MAX-RECONNECT-TIME, or RECONNECT-TIME when that is 0 (no growth). */
  capUs: number;
}

function optionOf(spec: SocketSpec, name: 'RECONNECT-TIME' | 'MAX-RECONNECT-TIME' | 'RETRY-TIME'): number {
  return scenarioOption(spec, name);
}

/**
 * Dialers whose attempts can be attributed: sockets that dial exactly one address and listen on none
 * (every pipe of the socket is then the dialer's).
 */
function dialerSeries(s: Scenario, obs: Observations): DialerSeries[] {
  const out: DialerSeries[] = [];
  for (const spec of s.sockets) {
    if (spec.dial.length !== 1 || spec.listen.length !== 0) continue;
    const o = obs.sockets[spec.name];
    if (o === undefined) continue;
    const attached = o.pipes.filter((p) => p.event === 'attached').map((p) => p.atUs);
    const attempts = o.dials.map((d) => ({
      ...d,
      attached: attached.some((t) => t >= d.atUs && (d.endUs === null || t <= d.endUs)),
    }));
    const minUs = optionOf(spec, 'RECONNECT-TIME');
    const maxUs = optionOf(spec, 'MAX-RECONNECT-TIME');
    out.push({ socket: spec, attempts, minUs, capUs: maxUs > minUs ? maxUs : minUs });
  }
  return out;
}

/** True when `host` was paused, crashed or restarting at some time in [fromUs, toUs]. */
export function hostDisturbed(
  s: Scenario,
  ctx: CheckContext,
  host: string,
  fromUs: number,
  toUs: number,
): boolean {
  return ctx.faults.some((rec, i) => {
    const step = s.faults.faults[i] as { host?: string } | undefined;
    if (step?.host !== host || rec.startUs === null) return false;
    if (rec.kind !== 'pause' && rec.kind !== 'crash' && rec.kind !== 'restart') return false;
    const end = rec.endUs ?? ctx.endUs;
    return rec.startUs <= toUs && end >= fromUs;
  });
}

/** Gaps between consecutive attempts that can be judged: attempt k ended, and k+1 started later. */
interface Gap {
  k: number;
  gapUs: number;
  /** The attempt before the gap attached a pipe. */
  afterAttach: boolean;
  disturbed: boolean;
}

function gapsOf(s: Scenario, ctx: CheckContext, d: DialerSeries): (Gap | null)[] {
  const gaps: (Gap | null)[] = [];
  for (let k = 0; k + 1 < d.attempts.length; k++) {
    const a = d.attempts[k]!;
    const b = d.attempts[k + 1]!;
    if (a.endUs === null || a.endUs > b.atUs) {
      gaps.push(null);
      continue;
    }
    gaps.push({
      k,
      gapUs: b.atUs - a.endUs,
      afterAttach: a.attached,
      disturbed: hostDisturbed(s, ctx, d.socket.host, a.endUs, b.atUs),
    });
  }
  return gaps;
}

const ms = (us: number): string => `${(us / 1000).toFixed(3)} ms`;

function eachDialer(
  s: Scenario,
  obs: Observations,
  expected: string,
  judge: (d: DialerSeries) => string | null,
  minAttempts = 2,
): CheckVerdict {
  const series = dialerSeries(s, obs);
  if (series.every((d) => d.attempts.length < minAttempts))
    return {
      status: 'not-applicable',
      expected,
      actual: `no dialer made ${minAttempts === 1 ? 'an attempt' : `${minAttempts} attempts`}`,
    };
  for (const d of series) {
    const v = judge(d);
    if (v !== null) return verdict(`${d.socket.name}: ${v}`, expected);
  }
  return verdict(null, expected);
}

defineCheck({
  id: 'redial.one-dial-in-flight',
  kind: 'always',
  requirement: 'a dialer never has two connect attempts in flight: the next starts only after the last ended',
  ref: null,
  evaluate(s, obs) {
    return eachDialer(s, obs, 'each attempt ends before the next starts', (d) => {
      for (let k = 0; k + 1 < d.attempts.length; k++) {
        const a = d.attempts[k]!;
        const b = d.attempts[k + 1]!;
        if (a.endUs === null || a.endUs > b.atUs)
          return `attempt #${k + 1} started at ${ms(b.atUs)} while attempt #${k} (from ${ms(a.atUs)}) was still ${a.endUs === null ? 'open' : `open until ${ms(a.endUs)}`}`;
      }
      return null;
    });
  },
});

defineCheck({
  id: 'redial.backoff-bounds',
  timing: true,
  kind: 'always',
  requirement:
    'the wait before a redial is at least RECONNECT-TIME and at most MAX-RECONNECT-TIME (plus scheduling slack)',
  ref: null,
  evaluate(s, obs, ctx) {
    return eachDialer(
      s,
      obs,
      'RECONNECT-TIME <= every gap <= MAX-RECONNECT-TIME + slack',
      (d) => {
        for (const g of gapsOf(s, ctx, d)) {
          if (g === null || g.disturbed) continue;
          if (g.gapUs < d.minUs)
            return `waited ${ms(g.gapUs)} after attempt #${g.k}, below RECONNECT-TIME ${ms(d.minUs)}`;
          if (g.gapUs > d.capUs + REDIAL_SLACK_US)
            return `waited ${ms(g.gapUs)} after attempt #${g.k}, above the cap ${ms(d.capUs)} (MAX-RECONNECT-TIME)`;
        }
        // A redial still pending at the end (or at the socket's close) counts too: a wait beyond
        // the cap must not hide there.
        const k = d.attempts.length - 1;
        const last = d.attempts[k];
        const horizonUs = obs.sockets[d.socket.name]?.closedAtUs ?? ctx.endUs;
        if (last?.endUs != null && horizonUs - last.endUs > d.capUs + REDIAL_SLACK_US)
          if (!hostDisturbed(s, ctx, d.socket.host, last.endUs, horizonUs))
            return `attempt #${k} ended at ${ms(last.endUs)} and no redial came in the ${ms(horizonUs - last.endUs)} left (cap ${ms(d.capUs)})`;
        return null;
      },
      1,
    );
  },
});

defineCheck({
  id: 'redial.backoff-grows',
  timing: true,
  kind: 'always',
  requirement:
    'over consecutive failed attempts (refused, or a handshake the protocol rejected) the wait grows by at least 1.1x until the cap',
  ref: null,
  evaluate(s, obs, ctx) {
    return eachDialer(
      s,
      obs,
      `after two failed attempts in a row, gap >= min(cap, ${MIN_GROWTH} x previous gap)`,
      (d) => {
        const gaps = gapsOf(s, ctx, d);
        for (let i = 1; i < gaps.length; i++) {
          const prev = gaps[i - 1];
          const g = gaps[i];
          if (prev == null || g == null || prev.disturbed || g.disturbed) continue;
          if (prev.afterAttach || g.afterAttach) continue;
          const want = Math.min(d.capUs, prev.gapUs * MIN_GROWTH);
          if (g.gapUs < want - 1) {
            const a = d.attempts[g.k]!;
            return `attempt #${g.k} failed (${a.connected ? 'connected, then the handshake failed' : 'no connection'}) after attempt #${g.k - 1} failed, but the wait did not grow: ${ms(prev.gapUs)} then ${ms(g.gapUs)} (expected >= ${ms(want)}; cap ${ms(d.capUs)})`;
          }
        }
        return null;
      },
    );
  },
});

defineCheck({
  id: 'redial.backoff-resets-on-attach',
  timing: true,
  kind: 'always',
  requirement:
    'once the protocol accepted a pipe, the backoff starts over: the redial after it waits RECONNECT-TIME',
  ref: null,
  evaluate(s, obs, ctx) {
    return eachDialer(s, obs, 'the gap after an attached attempt is RECONNECT-TIME', (d) => {
      for (const g of gapsOf(s, ctx, d)) {
        if (g === null || g.disturbed || !g.afterAttach) continue;
        if (g.gapUs > d.minUs + REDIAL_SLACK_US)
          return `attempt #${g.k} attached a pipe, yet the redial after it waited ${ms(g.gapUs)} (RECONNECT-TIME ${ms(d.minUs)})`;
      }
      return null;
    });
  },
});

/** Listening sockets by address. */
function listenerAt(s: Scenario, address: string): SocketSpec | undefined {
  return s.sockets.find((x) => x.listen.includes(address));
}

const PEER: Record<string, string> = { pair0: 'pair0', req0: 'rep0', rep0: 'req0' };

defineCheck({
  id: 'redial.reconnects',
  kind: 'eventually',
  requirement:
    'after faults heal, a dialer whose peer is reachable and accepts it has a pipe again (of several PAIR0 dialers to one listener, one)',
  ref: null,
  evaluate(s, obs) {
    const expected = 'every dialer with a compatible, free peer is connected at the end';
    let judged = 0;
    const groups = new Map<string, SocketSpec[]>();
    for (const spec of s.sockets) {
      // A socket the application closed is meant to stay down (redial.nothing-after-close).
      if (spec.dial.length !== 1 || obs.sockets[spec.name]?.closedAtUs != null) continue;
      const addr = spec.dial[0]!;
      const l = listenerAt(s, addr);
      if (l === undefined || PEER[spec.protocol] !== l.protocol) continue;
      groups.set(addr, [...(groups.get(addr) ?? []), spec]);
    }
    for (const [addr, dialers] of groups) {
      const connected = dialers.filter((d) => {
        const pipes = obs.sockets[d.name]?.pipes ?? [];
        const up = pipes.filter((p) => p.event === 'attached').length;
        const down = pipes.filter((p) => p.event === 'detached').length;
        return up > down;
      });
      judged++;
      // PAIR0 is mono: one of several dialers wins, the others are refused forever.
      const need = listenerAt(s, addr)!.protocol === 'pair0' ? 1 : dialers.length;
      if (connected.length < need) {
        const names = dialers.filter((d) => !connected.includes(d)).map((d) => d.name);
        const o = obs.sockets[names[0]!];
        return verdict(
          `${names.join(', ')} not connected to ${addr} at the end (${o?.dials.length ?? 0} attempts, last at ${ms(o?.dials.at(-1)?.atUs ?? 0)})`,
          expected,
        );
      }
    }
    if (judged === 0)
      return { status: 'not-applicable', expected, actual: 'no dialer has a compatible peer' };
    return verdict(null, expected);
  },
});

defineCheck({
  id: 'redial.nothing-after-close',
  kind: 'always',
  requirement:
    'once the application closed a socket, none of its dialers starts a connect attempt and no pipe attaches to it',
  ref: null,
  evaluate(s, obs) {
    const expected = 'no connect attempt starts and no pipe attaches after the close';
    let judged = 0;
    for (const spec of s.sockets) {
      const o = obs.sockets[spec.name];
      if (o?.closedAtUs == null) continue;
      judged++;
      const t = o.closedAtUs;
      const late = o.dials.filter((d) => d.atUs > t);
      if (late.length > 0)
        return verdict(
          `${spec.name} closed at ${ms(t)}, yet ${late.length} connect attempts started after, the first to ${late[0]!.address} at ${ms(late[0]!.atUs)}`,
          expected,
        );
      const attached = o.pipes.find((p) => p.event === 'attached' && p.atUs > t);
      if (attached !== undefined)
        return verdict(
          `${spec.name} closed at ${ms(t)}, yet pipe ${attached.pipe} attached at ${ms(attached.atUs)}`,
          expected,
        );
    }
    if (judged === 0) return { status: 'not-applicable', expected, actual: 'no socket was closed' };
    return verdict(null, expected);
  },
});

export const REDIAL_CHECKS = [
  'stack.no-crash',
  'redial.one-dial-in-flight',
  'redial.backoff-bounds',
  'redial.backoff-grows',
  'redial.backoff-resets-on-attach',
  'redial.reconnects',
  'redial.nothing-after-close',
] as const;

/** RECONNECT-TIME 10..200 ms; MAX-RECONNECT-TIME 2..20 times that, at most 3 s. */
const timingArb = fc
  .record({ minMs: fc.integer({ min: 10, max: 200 }), factor: fc.integer({ min: 2, max: 20 }) })
  .map(({ minMs, factor }) => ({
    'RECONNECT-TIME': minMs * 1000,
    'MAX-RECONNECT-TIME': Math.min(3_000_000, minMs * 1000 * factor),
  }));

/** Faults that never stop the dialers' hosts: the listener's host may pause, crash and restart. */
function redialFaultStepArb(
  hosts: readonly string[],
  server: string,
  phaseUs: number,
): fc.Arbitrary<FaultStep> {
  return fc.oneof(
    faultStepArb({
      hosts,
      crashable: [server],
      kinds: ['partition', 'reset', 'crash', 'link', 'stall-reads'],
      phaseUs,
    }),
    fc.record({
      kind: fc.constant('pause' as const),
      atUs: fc.integer({ min: 0, max: phaseUs - 1 }),
      host: fc.constant(server),
      forUs: fc.integer({ min: 1_000, max: 1_000_000 }),
    }),
  );
}

/**
 * The steps that name only hosts in `hosts`: faults are drawn over the largest topology and then cut
 * to the drawn one, so a generated value shrinks monotonically (no chain).
 */
export function faultsOn(steps: readonly FaultStep[], hosts: readonly string[]): FaultStep[] {
  const ok = (h: unknown): boolean => typeof h !== 'string' || hosts.includes(h);
  return steps.filter((step) => {
    const r = step as unknown as Record<string, unknown>;
    if (![r.host, r.from, r.to].every(ok)) return false;
    for (const k of ['a', 'b']) if (Array.isArray(r[k]) && !(r[k] as unknown[]).every(ok)) return false;
    return true;
  });
}

const PHASE_US = 2_000_000;

interface RedialShape {
  /** plain: compatible peers; wrong-protocol: a PAIR0 dialer to a REP0 listener; occupied: two PAIR0 dialers, one PAIR0 listener. */
  kind: 'pair0' | 'reqrep' | 'wrong-protocol' | 'occupied';
  clients: number;
}

function redialTopology(shape: RedialShape, timing: Partial<SocketSpec['options']>, serverStartUs: number) {
  const addr = 'tcp://server:5555';
  const serverProto = shape.kind === 'reqrep' || shape.kind === 'wrong-protocol' ? 'rep0' : 'pair0';
  const clientProto = shape.kind === 'reqrep' ? 'req0' : 'pair0';
  const n = shape.kind === 'occupied' ? 2 : shape.kind === 'reqrep' ? shape.clients : 1;
  const server: SocketSpec = {
    name: 'server',
    host: 'server',
    protocol: serverProto,
    listen: [addr],
    dial: [],
    options: {},
    app: { kind: serverProto === 'rep0' ? 'echo' : 'sink' },
    startUs: serverStartUs,
  };
  const clients: SocketSpec[] = [];
  for (let i = 0; i < n; i++)
    clients.push({
      name: `client${i}`,
      host: `client${i}`,
      protocol: clientProto,
      listen: [],
      dial: [addr],
      options: { ...timing },
      // Only compatible, uncontested dialers carry traffic (the others would block forever).
      app: { kind: shape.kind === 'pair0' || shape.kind === 'reqrep' ? 'send' : 'sink' },
      startUs: 0,
    });
  return { hosts: [...clients.map((c) => c.host), 'server'], sockets: [server, ...clients] };
}

function redialArb(o: {
  impl: string;
  name: string;
  kinds: readonly RedialShape['kind'][];
  livenessUs: number;
  maxFaults: number;
}): fc.Arbitrary<Scenario> {
  const allHosts = ['client0', 'client1', 'server'];
  return fc
    .record({
      kind: fc.constantFrom(...o.kinds),
      clients: fc.integer({ min: 1, max: 2 }),
      timing: timingArb,
      // In 10 ms steps: a timing failure shrinks in few steps (the backoff is what matters, not the µs).
      serverStartUs: fc.integer({ min: 0, max: 150 }).map((n) => n * 10_000),
      sizes: fc.tuple(
        ...allHosts.map(() => fc.array(fc.integer({ min: 0, max: 64 }), { minLength: 0, maxLength: 3 })),
      ),
      // Not shrunk: a backoff failure does not depend on the network, and its many knobs make shrinking slow.
      network: fc.noShrink(networkArb()),
      faults: fc.array(redialFaultStepArb(allHosts, 'server', PHASE_US), { maxLength: o.maxFaults }),
      // 1 in 4: the application closes client0 during the fault phase (often while it redials), in
      // 10 ms steps; shrinks toward no close.
      closeAtUs: fc.oneof(
        { weight: 3, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.integer({ min: 1, max: PHASE_US / 10_000 }).map((n) => n * 10_000) },
      ),
    })
    .map((r): Scenario => {
      const topo = redialTopology(r, r.timing, r.serverStartUs);
      if (r.closeAtUs !== null) topo.sockets.find((x) => x.name === 'client0')!.closeAtUs = r.closeAtUs;
      const senders = topo.sockets.filter((x) => x.app.kind === 'send');
      return {
        version: SCENARIO_VERSION,
        stack: SP_STACK,
        name: o.name,
        impl: o.impl,
        hosts: topo.hosts,
        sockets: topo.sockets,
        rawPeers: [],
        workload: {
          sends: senders.flatMap((x, i) =>
            r.sizes[i]!.map((bytes) => ({ socket: x.name, bytes, gapUs: 100_000 })),
          ),
        },
        network: r.network,
        faults: parseFaultPlan({ version: 1, faults: faultsOn(r.faults, topo.hosts) }),
        faultPhaseUs: PHASE_US,
        livenessUs: o.livenessUs,
        checks: [...REDIAL_CHECKS],
      };
    });
}

const REDIAL_FAULTS = ['partition', 'reset', 'crash', 'link', 'stall-reads', 'pause'] as const;

export const REDIAL_PROPERTIES: PropertySpec[] = [
  {
    id: 'redial/reconnect',
    family: 'redial',
    title:
      'a dialer whose peer starts late, crashes, is cut off or reset reconnects, one attempt at a time, within the backoff bounds',
    protocols: ['pair0', 'req0', 'rep0'],
    transports: ['tcp'],
    checks: REDIAL_CHECKS,
    faultKinds: REDIAL_FAULTS,
    sometimes: ['net.reset', 'sp.reconnect'],
    arb: ({ impl }) =>
      redialArb({
        impl,
        name: 'redial/reconnect',
        kinds: ['pair0', 'reqrep'],
        livenessUs: 20_000_000,
        maxFaults: 3,
      }),
  },
  {
    id: 'redial/refused-peer',
    family: 'redial',
    title:
      'a dialer refused after the handshake (wrong-protocol listener, occupied PAIR0 listener) keeps redialing with growing backoff',
    protocols: ['pair0', 'rep0'],
    transports: ['tcp'],
    checks: REDIAL_CHECKS,
    faultKinds: REDIAL_FAULTS,
    sometimes: ['sp.bad-peer-cut'],
    // Longer than the connect timeout (10 s) after a crash; a refused dialer redials all along.
    arb: ({ impl }) =>
      redialArb({
        impl,
        name: 'redial/refused-peer',
        kinds: ['wrong-protocol', 'occupied'],
        livenessUs: 15_000_000,
        maxFaults: 2,
      }),
  },
];

export const REDIAL: FamilySpec = {
  name: 'redial',
  title: 'redial: dialers reconnect, one attempt at a time, with bounded, growing, correctly reset backoff',
  properties: REDIAL_PROPERTIES,
};
