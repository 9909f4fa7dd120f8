/**
 * The resend family: a REQ resends an unanswered request after RETRY-TIME and at once when the pipe
 * that carried it goes away, always with the same request id, never after its reply; the application
 * gets exactly one reply per completed request, the one carrying its id (stale and duplicate replies
 * are dropped), and the REP saw every answered request. RETRY-TIME is drawn short against the
 * network's latency (so resends, duplicates and stale replies happen) or long (so a resend that waits
 * for RETRY-TIME after a pipe loss stands out), with 1..3 REQ clients against one REP under faults.
 *
 * Observations: the REQ's transmissions with their request ids (the runner taps req0's msg-send
 * trace events), the request id of each reply the REQ application got and of each request the REP
 * application got, and the REQ's pipe events. A client sends its requests one after another, so a
 * transmission belongs to the request the application sent last.
 */
import fc from 'fast-check';
import type { FaultStep } from '../../../sim/fault-plan.js';
import { parseFaultPlan } from '../../../sim/fault-plan.js';
import type { FamilySpec, PropertySpec } from '../catalog.js';
import {
  bytesEqual,
  defineCheck,
  verdict,
  type CheckVerdict,
  type Observations,
  type SocketObs,
} from '../checks.js';
import { faultStepArb, networkArb, topology } from '../generators.js';
import { SCENARIO_VERSION, SP_STACK, type Scenario, type SocketSpec } from '../model.js';
import { faultsOn, hostDisturbed } from './redial.js';
import { RAW_SURVEY_PROPERTY, SURVEY_PROPERTY } from './survey.js';

/** How soon after a new pipe attaches a request that lost its pipe must go out again, in µs. */
export const RESEND_SLACK_US = 1_000;

const hex = (id: number): string => id.toString(16);
const ms = (us: number): string => `${(us / 1000).toFixed(3)} ms`;

/** One request of a REQ client as seen from outside: its transmissions and its reply. */
interface RequestView {
  index: number;
  sentAtUs: number;
  /** Transmissions made while it was the application's current request (first send and resends). */
  tx: SocketObs['reqSends'];
  reply: SocketObs['received'][number] | undefined;
}

/** The requests of a REQ client, each with the transmissions made while it was current. */
function requestsOf(o: SocketObs): RequestView[] {
  return o.sent.map((sent, i) => {
    return {
      index: i,
      sentAtUs: sent.atUs,
      tx: o.reqSends.filter((t) => t.request === i),
      reply: o.received.find((r) => r.replyTo === i),
    };
  });
}

function eachRequest(
  s: Scenario,
  obs: Observations,
  expected: string,
  judge: (spec: SocketSpec, o: SocketObs, r: RequestView) => string | null,
): CheckVerdict {
  let judged = 0;
  for (const spec of s.sockets) {
    if (spec.protocol !== 'req0') continue;
    const o = obs.sockets[spec.name];
    if (o === undefined) continue;
    for (const r of requestsOf(o)) {
      judged++;
      const v = judge(spec, o, r);
      if (v !== null) return verdict(`${spec.name}: request #${r.index}: ${v}`, expected);
    }
  }
  if (judged === 0) return { status: 'not-applicable', expected, actual: 'no request was sent' };
  return verdict(null, expected);
}

defineCheck({
  id: 'resend.same-id',
  kind: 'always',
  requirement: 'a REQ resends a request with the id it first went out with',
  ref: '14',
  evaluate(s, obs) {
    return eachRequest(s, obs, 'every transmission of a request carries one id', (_spec, _o, r) => {
      const first = r.tx[0];
      const other = r.tx.find((t) => t.id !== first?.id);
      if (first === undefined || other === undefined) return null;
      return `went out with id ${hex(first.id)} at ${ms(first.atUs)}, then again with id ${hex(other.id)} at ${ms(other.atUs)}`;
    });
  },
});

defineCheck({
  id: 'resend.reply-id-matches',
  kind: 'always',
  requirement:
    "the reply the REQ application gets carries its request's id: stale replies (to an older request) never reach it",
  ref: '17',
  evaluate(s, obs) {
    return eachRequest(s, obs, "each delivered reply carries its request's id", (_spec, _o, r) => {
      if (r.reply === undefined) return null;
      const ids = new Set(r.tx.map((t) => t.id));
      if (r.reply.requestId !== undefined && ids.has(r.reply.requestId)) return null;
      return `the application got a reply with id ${r.reply.requestId === undefined ? '(none)' : hex(r.reply.requestId)}, but the request went out as ${[...ids].map(hex).join(', ') || '(never)'}`;
    });
  },
});

defineCheck({
  id: 'resend.none-after-reply',
  kind: 'always',
  requirement: 'a REQ never transmits a request again once its reply has reached the application',
  ref: null,
  evaluate(s, obs) {
    return eachRequest(s, obs, 'no transmission after the reply', (_spec, _o, r) => {
      if (r.reply === undefined) return null;
      const late = r.tx.find((t) => t.atUs > r.reply!.atUs);
      return late === undefined
        ? null
        : `answered at ${ms(r.reply.atUs)}, yet transmitted again at ${ms(late.atUs)} (id ${hex(late.id)})`;
    });
  },
});

defineCheck({
  id: 'resend.rep-saw-request',
  kind: 'always',
  requirement:
    'every answered request reached the REP application (with its id and body) before the reply came',
  ref: null,
  evaluate(s, obs, ctx) {
    const reps = s.sockets.filter((x) => x.protocol === 'rep0').map((x) => obs.sockets[x.name]!);
    return eachRequest(s, obs, 'the REP received each answered request first', (spec, _o, r) => {
      if (r.reply === undefined) return null;
      const id = r.reply.requestId;
      const body = ctx.payloadOf(spec.name, r.index);
      const seen = reps.some((rep) =>
        rep.received.some((x) => x.requestId === id && x.atUs <= r.reply!.atUs && bytesEqual(body, x.body)),
      );
      return seen
        ? null
        : `the application got a reply (id ${id === undefined ? '(none)' : hex(id)}) at ${ms(r.reply.atUs)} but no REP had received that request by then`;
    });
  },
});

defineCheck({
  id: 'resend.on-pipe-loss',
  timing: true,
  kind: 'always',
  requirement:
    'when the pipe carrying an unanswered request goes away, the REQ resends it as soon as it has a pipe again, not after RETRY-TIME',
  ref: '15',
  evaluate(s, obs, ctx) {
    const expected = `resent within ${ms(RESEND_SLACK_US)} of the next pipe attaching`;
    let judged = 0;
    for (const spec of s.sockets) {
      if (spec.protocol !== 'req0' || spec.dial.length !== 1 || spec.listen.length !== 0) continue;
      const o = obs.sockets[spec.name]!;
      const requests = requestsOf(o);
      for (const lost of o.pipes) {
        if (lost.event !== 'detached') continue;
        const td = lost.atUs;
        const r = requests.find((q) => {
          const last = q.tx.filter((t) => t.atUs <= td).at(-1);
          return (
            last !== undefined && last.pipe === lost.pipe && (q.reply === undefined || q.reply.atUs > td)
          );
        });
        if (r === undefined) continue;
        const next = o.pipes.find((p) => p.event === 'attached' && p.atUs >= td);
        if (next === undefined) continue;
        const by = next.atUs + RESEND_SLACK_US;
        // The new pipe went away again at once, or the client's timers were held: nothing to judge.
        if (o.pipes.some((p) => p.event === 'detached' && p.pipe === next.pipe && p.atUs < by)) continue;
        if (hostDisturbed(s, ctx, spec.host, td, by)) continue;
        judged++;
        if (r.tx.some((t) => t.atUs >= td && t.atUs <= by)) continue;
        if (r.reply !== undefined && r.reply.atUs <= by) continue;
        const later = r.tx.find((t) => t.atUs > by);
        return verdict(
          `${spec.name}: request #${r.index} lost its pipe ${lost.pipe} at ${ms(td)}; pipe ${next.pipe} attached at ${ms(next.atUs)}, but the request went out again ${later === undefined ? 'never' : `only at ${ms(later.atUs)}`} (RETRY-TIME ${ms(retryOf(spec))})`,
          expected,
        );
      }
    }
    if (judged === 0)
      return { status: 'not-applicable', expected, actual: 'no request lost its pipe before a new one came' };
    return verdict(null, expected);
  },
});

function retryOf(spec: SocketSpec): number {
  return typeof spec.options['RETRY-TIME'] === 'number' ? spec.options['RETRY-TIME'] : 60_000_000;
}

export const RESEND_CHECKS = [
  'stack.no-crash',
  'reqrep.one-reply-per-request',
  'reqrep.all-answered',
  'resend.same-id',
  'resend.reply-id-matches',
  'resend.none-after-reply',
  'resend.rep-saw-request',
  'resend.on-pipe-loss',
  'model.reqrep',
  'model.wire',
] as const;

const PHASE_US = 2_000_000;

/**
 * REQ hosts never pause or crash (their workload would die with them); the REP host and the
 * device's host may do both.
 */
function resendFaultStepArb(hosts: readonly string[], servers: readonly string[]): fc.Arbitrary<FaultStep> {
  return fc.oneof(
    faultStepArb({
      hosts,
      crashable: servers,
      kinds: ['partition', 'reset', 'crash', 'link', 'stall-reads'],
      phaseUs: PHASE_US,
    }),
    fc.record({
      kind: fc.constant('pause' as const),
      atUs: fc.integer({ min: 0, max: PHASE_US - 1 }),
      host: fc.constantFrom(...servers),
      forUs: fc.integer({ min: 1_000, max: 1_000_000 }),
    }),
  );
}

const MAX_CLIENTS = 3;

/**
 * Generated scenarios, drawn flat (no chain) so shrinking is monotone: requests and faults are drawn
 * for the largest topology, then cut to the drawn number of clients.
 */
function resendArb(o: {
  impl: string;
  name: string;
  retryMinUs: number;
  retryMaxUs: number;
  /** REQ clients reach the REP through a device (XREP | device | XREQ on host "device"). */
  device?: boolean;
}): fc.Arbitrary<Scenario> {
  const device = o.device === true;
  const full = topology({ pattern: 'reqrep', transport: 'tcp', clients: MAX_CLIENTS, device });
  const servers = device ? ['server', 'device'] : ['server'];
  // Requests of 4 bytes or more carry their identity (runner payload()), so replies can be told apart.
  const request = fc.record({
    bytes: fc.integer({ min: 4, max: 256 }),
    gapUs: fc.integer({ min: 0, max: 300_000 }),
  });
  return fc
    .record({
      clients: fc.integer({ min: 1, max: MAX_CLIENTS }),
      // Uniform, not edge-drawn: the timing family draws RETRY-TIME at its edges, and this draw
      // keeps the viewer test's museum case (web/viewer.browser.test.ts) the one it was written on.
      retryUs: fc.integer({ min: o.retryMinUs, max: o.retryMaxUs }),
      // A slow REP keeps requests in flight longer, so faults catch more of them.
      repDelayUs: fc.integer({ min: 0, max: 100_000 }),
      requests: fc.tuple(
        ...Array.from({ length: MAX_CLIENTS }, () => fc.array(request, { minLength: 1, maxLength: 5 })),
      ),
      network: networkArb(),
      faults: fc.array(resendFaultStepArb(full.hosts, servers), { maxLength: 3 }),
    })
    .map((r): Scenario => {
      // The REP must serve faster than resends arrive, or the copies pile up without end (a retry
      // storm: every copy is answered, none in time): a few times RETRY-TIME per client at least.
      const repDelayUs = Math.min(r.repDelayUs, Math.floor(r.retryUs / (4 * r.clients)));
      const topo = topology({
        pattern: 'reqrep',
        transport: 'tcp',
        clients: r.clients,
        device,
        clientOptions: { 'RETRY-TIME': r.retryUs },
        serverApp: repDelayUs > 0 ? { recvDelayUs: repDelayUs } : {},
      });
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
          sends: senders.flatMap((x, i) => r.requests[i]!.map((q) => ({ socket: x.name, ...q }))),
        },
        network: r.network,
        faults: parseFaultPlan({ version: 1, faults: faultsOn(r.faults, topo.hosts) }),
        faultPhaseUs: PHASE_US,
        // Beyond the connect timeout (10 s) a connect started during a partition may wait out.
        livenessUs: 15_000_000,
        checks: [...RESEND_CHECKS],
      };
    });
}

const RESEND_FAULTS = ['partition', 'reset', 'crash', 'link', 'stall-reads', 'pause'] as const;

export const RESEND_PROPERTIES: PropertySpec[] = [
  {
    id: 'resend/short-retry',
    family: 'resend',
    title:
      'with RETRY-TIME short against the latency, REQ resends keep their id, one reply per request reaches the application, stale ones never',
    protocols: ['req0', 'rep0'],
    transports: ['tcp'],
    checks: RESEND_CHECKS,
    faultKinds: RESEND_FAULTS,
    sometimes: ['sp.resend', 'sp.reconnect', 'net.reset'],
    arb: ({ impl }) =>
      resendArb({ impl, name: 'resend/short-retry', retryMinUs: 20_000, retryMaxUs: 300_000 }),
  },
  {
    id: 'resend/pipe-loss',
    family: 'resend',
    title: 'with RETRY-TIME long, a request whose pipe is lost goes out again as soon as a pipe comes back',
    protocols: ['req0', 'rep0'],
    transports: ['tcp'],
    checks: RESEND_CHECKS,
    faultKinds: RESEND_FAULTS,
    sometimes: ['sp.resend', 'sp.reconnect', 'net.reset'],
    arb: ({ impl }) =>
      resendArb({ impl, name: 'resend/pipe-loss', retryMinUs: 1_000_000, retryMaxUs: 5_000_000 }),
  },
  {
    id: 'resend/device',
    family: 'resend',
    title:
      'REQ resends survive a device (XREP | device | XREQ) between REQ and REP under faults: one reply per request, all answered',
    protocols: ['req0', 'rep0', 'xreq0', 'xrep0'],
    transports: ['tcp'],
    checks: RESEND_CHECKS,
    faultKinds: RESEND_FAULTS,
    sometimes: ['sp.resend', 'sp.reconnect', 'net.reset'],
    arb: ({ impl }) =>
      resendArb({ impl, name: 'resend/device', retryMinUs: 50_000, retryMaxUs: 1_000_000, device: true }),
  },
  // SURVEYOR/RESPONDENT: stale responses (to an older survey) must never be collected (survey.ts).
  SURVEY_PROPERTY,
  RAW_SURVEY_PROPERTY,
];

export const RESEND: FamilySpec = {
  name: 'resend',
  title:
    'resend: REQ resends keep their id, come at once on pipe loss, stop at the reply; one reply per request',
  properties: RESEND_PROPERTIES,
};
