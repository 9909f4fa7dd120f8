/**
 * SURVEYOR/RESPONDENT in the resend family (stale answers are its subject): a surveyor never
 * collects a response from an older survey (nor two from one pipe for one survey), and every
 * respondent that was connected for a whole survey window answers and its response is collected when
 * nothing intervenes (no fault during the window, a lossless network, no slow respondent).
 *
 * The scenario: one surveyor (host "server", listening) and 1..3 respondents (hosts client0..,
 * dialing) that echo each survey. Respondents are fast or slow: a slow one waits 1.2..2 x SURVEY-TIME
 * before each receive, so its answers arrive after their survey ended, while a later one runs. The
 * surveyor's workload items are surveys; after each it collects responses until SURVEY-TIME expires
 * (the runner records each with its survey's index), so a collected response must echo exactly that
 * survey's payload, which names the survey's index.
 */
import fc from 'fast-check';
import type { FaultStep } from '../../../sim/fault-plan.js';
import { parseFaultPlan } from '../../../sim/fault-plan.js';
import type { PropertySpec } from '../catalog.js';
import { bytesEqual, defineCheck, originsOf, peersOf, verdict } from '../checks.js';
import { edgeIntArb, faultStepArb, networkArb } from '../generators.js';
import { SCENARIO_VERSION, SP_STACK, type Scenario, type SocketSpec } from '../model.js';
import { faultsOn } from './redial.js';

const ms = (us: number): string => `${(us / 1000).toFixed(3)} ms`;

/** SURVEY-TIME of a surveyor spec (the option's default is 1 s). */
function surveyTimeOf(spec: SocketSpec): number {
  const v = spec.options['SURVEY-TIME'];
  return typeof v === 'number' ? v : 1_000_000;
}

/** Whether the surveyor reaches its respondents through a device (one pipe then carries many answers). */
function viaDevice(s: Scenario, surveyor: SocketSpec): boolean {
  return peersOf(s, surveyor).some((p) => p.app.kind === 'device');
}

defineCheck({
  id: 'survey.no-stale-response',
  kind: 'always',
  requirement:
    'a SURVEYOR collects only responses to its current survey (never one to an older survey) and at most one per pipe and survey (through a device: at most one per respondent behind it)',
  ref: '28',
  evaluate(s, obs, ctx) {
    const expected = 'every collected response echoes the survey it was collected for, once per pipe';
    let judged = 0;
    for (const spec of s.sockets) {
      if (spec.protocol !== 'surveyor0') continue;
      const o = obs.sockets[spec.name];
      if (o === undefined) continue;
      const device = viaDevice(s, spec);
      const respondents = originsOf(s, spec).length;
      const seen = new Set<string>();
      const perSurvey = new Map<number, number>();
      for (const r of o.received) {
        if (r.replyTo === undefined) continue;
        judged++;
        if (!bytesEqual(ctx.payloadOf(spec.name, r.replyTo), r.body)) {
          const other = o.sent.findIndex((_x, j) => bytesEqual(ctx.payloadOf(spec.name, j), r.body));
          return verdict(
            `${spec.name}: during survey #${r.replyTo} (pipe ${r.pipe ?? '?'}, at ${ms(r.atUs)}) it collected ${other >= 0 ? `the answer to survey #${other}` : 'a response matching no survey'}`,
            expected,
          );
        }
        if (device) {
          const n = (perSurvey.get(r.replyTo) ?? 0) + 1;
          perSurvey.set(r.replyTo, n);
          if (n > respondents)
            return verdict(
              `${spec.name}: survey #${r.replyTo} collected ${n} responses through a device with ${respondents} respondents behind it`,
              expected,
            );
          continue;
        }
        const key = `${r.replyTo}/${r.pipe ?? '?'}`;
        if (r.pipe !== null && seen.has(key))
          return verdict(
            `${spec.name}: survey #${r.replyTo} collected two responses from pipe ${r.pipe}`,
            expected,
          );
        seen.add(key);
      }
    }
    if (judged === 0) return { status: 'not-applicable', expected, actual: 'no response was collected' };
    return verdict(null, expected);
  },
});

defineCheck({
  id: 'survey.all-respond',
  kind: 'always',
  requirement:
    'every respondent connected for a whole survey window answers and the surveyor collects its response, when no fault, loss or slow respondent intervenes (through a device: a response from every respondent behind it, judged only when no fault fired at all)',
  ref: '30',
  evaluate(s, obs, ctx) {
    const expected = 'a response from every pipe connected for the whole survey window';
    if (s.network.lossRate > 0)
      return { status: 'not-applicable', expected, actual: 'the network loses segments' };
    const slow = s.sockets.some(
      (x) =>
        (x.protocol === 'respondent0' || x.protocol === 'xrespondent0') &&
        (x.app.recvDelayUs !== undefined || x.app.stallUs !== undefined),
    );
    if (slow) return { status: 'not-applicable', expected, actual: 'a respondent is slow' };
    let judged = 0;
    for (const spec of s.sockets) {
      if (spec.protocol !== 'surveyor0') continue;
      const o = obs.sockets[spec.name];
      if (o === undefined) continue;
      const windowUs = surveyTimeOf(spec);
      if (viaDevice(s, spec)) {
        // The device's back side has pipes of its own the surveyor cannot see: judge calm runs only.
        if (ctx.faults.some((f) => f.startUs !== null)) continue;
        const respondents = originsOf(s, spec).length;
        for (const [i, sent] of o.sent.entries()) {
          if (sent.acceptedAtUs === null || sent.acceptedAtUs + windowUs > ctx.endUs) continue;
          judged++;
          const n = o.received.filter((r) => r.replyTo === i).length;
          if (n < respondents)
            return verdict(
              `${spec.name}: survey #${i} collected ${n} of the ${respondents} responses through the device`,
              `a response from each of the ${respondents} respondents behind the device`,
            );
        }
        continue;
      }
      for (const [i, sent] of o.sent.entries()) {
        if (sent.acceptedAtUs === null) continue;
        const from = sent.acceptedAtUs;
        const to = from + windowUs;
        // A fault active at any time of the window (or a heal during it) takes the survey out.
        if (ctx.faults.some((f) => f.startUs !== null && f.startUs <= to && (f.endUs ?? ctx.endUs) >= from))
          continue;
        if (to > ctx.endUs) continue;
        const whole: number[] = [];
        for (const p of o.pipes) {
          if (p.event !== 'attached' || p.atUs > from) continue;
          const gone = o.pipes.find((q) => q.event === 'detached' && q.pipe === p.pipe && q.atUs >= p.atUs);
          if (gone === undefined || gone.atUs > to) whole.push(p.pipe);
        }
        if (whole.length === 0) continue;
        judged++;
        const answered = new Set(o.received.filter((r) => r.replyTo === i).map((r) => r.pipe));
        const missing = whole.filter((p) => !answered.has(p));
        if (missing.length > 0)
          return verdict(
            `${spec.name}: survey #${i} (${ms(from)}..${ms(to)}) collected nothing from pipe ${missing.join(', ')}, connected throughout (collected from ${[...answered].join(', ') || 'none'})`,
            expected,
          );
      }
    }
    if (judged === 0)
      return { status: 'not-applicable', expected, actual: 'no survey window without faults and with pipes' };
    return verdict(null, expected);
  },
});

export const SURVEY_CHECKS = [
  'stack.no-crash',
  'survey.no-stale-response',
  'survey.all-respond',
  'model.survey',
  'model.wire',
] as const;

const PHASE_US = 2_000_000;
const MAX_RESPONDENTS = 3;

/** Generated survey scenarios, drawn flat (no chain) so shrinking is monotone. */
export function surveyArb(o: { impl: string; name: string }): fc.Arbitrary<Scenario> {
  const allHosts = [...Array.from({ length: MAX_RESPONDENTS }, (_x, i) => `client${i}`), 'server'];
  const survey = fc.record({
    // 4 bytes or more: the payload names the survey's index (runner payload()).
    bytes: fc.integer({ min: 4, max: 256 }),
    gapUs: fc.integer({ min: 0, max: 200_000 }),
  });
  return fc
    .record({
      respondents: fc.integer({ min: 1, max: MAX_RESPONDENTS }),
      // Well above the network's round trip (latency <= 30 ms + jitter), so fast respondents make it.
      surveyTimeUs: edgeIntArb({ min: 150_000, max: 400_000 }),
      // Per respondent: 0 = fast, else a delay of that many tenths of SURVEY-TIME before each receive.
      slowTenths: fc.tuple(
        ...Array.from({ length: MAX_RESPONDENTS }, () =>
          fc.oneof(fc.constant(0), fc.integer({ min: 12, max: 20 })),
        ),
      ),
      // Lossless half the time, so survey.all-respond has windows to judge.
      lossless: fc.boolean(),
      surveys: fc.array(survey, { minLength: 1, maxLength: 6 }),
      network: networkArb(),
      faults: fc.array(
        faultStepArb({
          hosts: allHosts,
          crashable: allHosts.filter((h) => h !== 'server'),
          kinds: ['partition', 'reset', 'crash', 'link', 'stall-reads', 'pause'],
          phaseUs: PHASE_US,
        }),
        { maxLength: 2 },
      ),
    })
    .map((r): Scenario => {
      const addr = 'tcp://server:5555';
      const surveyor: SocketSpec = {
        name: 'server',
        host: 'server',
        protocol: 'surveyor0',
        listen: [addr],
        dial: [],
        options: { 'SURVEY-TIME': r.surveyTimeUs },
        app: { kind: 'send' },
        startUs: 0,
      };
      const respondents: SocketSpec[] = Array.from({ length: r.respondents }, (_x, i) => {
        const tenths = r.slowTenths[i]!;
        return {
          name: `client${i}`,
          host: `client${i}`,
          protocol: 'respondent0',
          listen: [],
          dial: [addr],
          options: {},
          app: {
            kind: 'echo',
            ...(tenths > 0 ? { recvDelayUs: Math.round((r.surveyTimeUs * tenths) / 10) } : {}),
          },
          startUs: 0,
        };
      });
      const hosts = [...respondents.map((x) => x.host), 'server'];
      const steps: FaultStep[] = faultsOn(r.faults, hosts);
      return {
        version: SCENARIO_VERSION,
        stack: SP_STACK,
        name: o.name,
        impl: o.impl,
        hosts,
        sockets: [surveyor, ...respondents],
        rawPeers: [],
        // The respondents dial at once; the first survey waits a little so it has someone to ask.
        workload: {
          sends: r.surveys.map((x, i) => ({
            socket: 'server',
            bytes: x.bytes,
            gapUs: i === 0 ? Math.max(x.gapUs, 100_000) : x.gapUs,
          })),
        },
        network: r.lossless ? { ...r.network, lossRate: 0 } : r.network,
        faults: parseFaultPlan({ version: 1, faults: steps }),
        faultPhaseUs: PHASE_US,
        livenessUs: 15_000_000,
        checks: [...SURVEY_CHECKS],
      };
    });
}

export const SURVEY_PROPERTY: PropertySpec = {
  id: 'resend/survey',
  family: 'resend',
  title:
    'a SURVEYOR never collects a response from an older survey, even from slow respondents; every respondent connected throughout a quiet survey window is heard',
  protocols: ['surveyor0', 'respondent0'],
  transports: ['tcp'],
  checks: SURVEY_CHECKS,
  faultKinds: ['partition', 'reset', 'crash', 'link', 'stall-reads', 'pause'],
  sometimes: ['sp.reconnect', 'net.reset'],
  arb: ({ impl }) => surveyArb({ impl, name: 'resend/survey' }),
};

/**
 * Raw SURVEYOR/RESPONDENT: a SURVEYOR asks raw XRESPONDENT echoes directly (with cooked ones
 * beside them), or goes through a device — XRESPONDENT "front" dialing the surveyor, XSURVEYOR
 * "back" listening on host "device" — to 1..3 respondents, cooked or raw, behind it. The survey id
 * travels in the backtrace under the device's pipe word and comes back the same way. No slow
 * respondents (stale answers are resend/survey's subject); the first survey waits 0.5 s for the
 * device's paths.
 */
export function rawSurveyArb(o: { impl: string; name: string }): fc.Arbitrary<Scenario> {
  const allHosts = [...Array.from({ length: MAX_RESPONDENTS }, (_x, i) => `client${i}`), 'device', 'server'];
  return fc
    .record({
      device: fc.boolean(),
      respondents: fc.integer({ min: 1, max: MAX_RESPONDENTS }),
      raws: fc.array(fc.boolean(), { minLength: MAX_RESPONDENTS, maxLength: MAX_RESPONDENTS }),
      surveyTimeUs: edgeIntArb({ min: 150_000, max: 400_000 }),
      lossless: fc.boolean(),
      surveys: fc.array(
        fc.record({ bytes: fc.integer({ min: 4, max: 256 }), gapUs: fc.integer({ min: 0, max: 200_000 }) }),
        { minLength: 1, maxLength: 6 },
      ),
      network: networkArb(),
      faults: fc.array(
        faultStepArb({
          hosts: allHosts,
          crashable: allHosts.filter((h) => h !== 'server'),
          kinds: ['partition', 'reset', 'crash', 'link', 'stall-reads', 'pause'],
          phaseUs: PHASE_US,
        }),
        { maxLength: 2 },
      ),
    })
    .map((r): Scenario => {
      const addr = 'tcp://server:5555';
      const backAddr = 'tcp://device:5556';
      const surveyor: SocketSpec = {
        name: 'server',
        host: 'server',
        protocol: 'surveyor0',
        listen: [addr],
        dial: [],
        options: { 'SURVEY-TIME': r.surveyTimeUs },
        app: { kind: 'send' },
        startUs: 0,
      };
      const device: SocketSpec[] = r.device
        ? [
            {
              name: 'front',
              host: 'device',
              protocol: 'xrespondent0',
              listen: [],
              dial: [addr],
              options: {},
              app: { kind: 'device', partner: 'back' },
              startUs: 0,
            },
            {
              name: 'back',
              host: 'device',
              protocol: 'xsurveyor0',
              listen: [backAddr],
              dial: [],
              options: {},
              app: { kind: 'device', partner: 'front' },
              startUs: 0,
            },
          ]
        : [];
      const respondents: SocketSpec[] = Array.from({ length: r.respondents }, (_x, i) => ({
        name: `client${i}`,
        host: `client${i}`,
        // Without a device the first respondent is always raw.
        protocol: (!r.device && i === 0) || r.raws[i]! ? 'xrespondent0' : 'respondent0',
        listen: [],
        dial: [r.device ? backAddr : addr],
        options: {},
        app: { kind: 'echo' },
        startUs: 0,
      }));
      const hosts = [...respondents.map((x) => x.host), ...(r.device ? ['device'] : []), 'server'];
      const firstGapUs = r.device ? 500_000 : 100_000;
      return {
        version: SCENARIO_VERSION,
        stack: SP_STACK,
        name: o.name,
        impl: o.impl,
        hosts,
        sockets: [surveyor, ...device, ...respondents],
        rawPeers: [],
        workload: {
          sends: r.surveys.map((x, i) => ({
            socket: 'server',
            bytes: x.bytes,
            gapUs: i === 0 ? Math.max(x.gapUs, firstGapUs) : x.gapUs,
          })),
        },
        network: r.lossless ? { ...r.network, lossRate: 0 } : r.network,
        faults: parseFaultPlan({ version: 1, faults: faultsOn(r.faults, hosts) }),
        faultPhaseUs: PHASE_US,
        livenessUs: 15_000_000,
        checks: [...SURVEY_CHECKS],
      };
    });
}

export const RAW_SURVEY_PROPERTY: PropertySpec = {
  id: 'resend/raw-survey',
  family: 'resend',
  title:
    'raw XRESPONDENT echoes and a survey device (XRESPONDENT | device | XSURVEYOR) carry each survey and its answers intact: never a response to an older survey, none more than once per respondent, every respondent heard in a quiet window',
  protocols: ['surveyor0', 'respondent0', 'xsurveyor0', 'xrespondent0'],
  transports: ['tcp'],
  checks: SURVEY_CHECKS,
  faultKinds: ['partition', 'reset', 'crash', 'link', 'stall-reads', 'pause'],
  sometimes: ['sp.reconnect', 'net.reset'],
  arb: ({ impl }) => rawSurveyArb({ impl, name: 'resend/raw-survey' }),
};
