import { describe, expect, it } from 'vitest';
import '../museum/index.js';
import { checkById, type CheckContext, type Observations } from '../checks.js';
import { defineScenario } from '../define.js';
import type { Scenario } from '../model.js';
import { payload, runScenario } from '../run.js';
import { RESEND, RESEND_PROPERTIES } from './resend.js';
import { checkFamilyProperty, failingChecks } from './testing.js';

const RUNS = 100;

function propertyFails(impl: string): Promise<string[]> {
  return failingChecks(RESEND_PROPERTIES, impl);
}

describe('resend family', () => {
  it('has the properties the catalog lists', () => {
    expect(RESEND.properties.map((p) => p.id)).toEqual([
      'resend/short-retry',
      'resend/pipe-loss',
      'resend/device',
      'resend/survey',
      'resend/raw-survey',
    ]);
  });

  for (const p of RESEND_PROPERTIES) {
    it(`netlab passes ${p.id}`, async () => {
      const out = await checkFamilyProperty(p, 'netlab', 20261122, RUNS);
      expect(out.counterexample?.failed ?? []).toEqual([]);
      expect(out.ok).toBe(true);
    });
  }

  it('catches museum/req-new-id by the same-id check', async () => {
    expect(await propertyFails('museum/req-new-id')).toContain('resend.same-id');
  });

  it('catches museum/req-stale-reply by the reply-id check', async () => {
    expect(await propertyFails('museum/req-stale-reply')).toContain('resend.reply-id-matches');
  });

  it('catches museum/req-no-resend-on-loss by the pipe-loss check', async () => {
    expect(await propertyFails('museum/req-no-resend-on-loss')).toContain('resend.on-pipe-loss');
  });

  it('catches museum/rep-wrong-pipe (needs two clients) by the all-answered check', async () => {
    expect(await propertyFails('museum/rep-wrong-pipe')).toContain('reqrep.all-answered');
  });

  it('catches museum/surveyor-stale-response by the no-stale-response check', async () => {
    expect(await propertyFails('museum/surveyor-stale-response')).toContain('survey.no-stale-response');
  });
});

/** One REQ (RETRY-TIME 5 s) and one REP; the connection is reset while the REP sits on request #0. */
function resetMidRequest(impl = 'netlab'): Scenario {
  return defineScenario({
    impl,
    hosts: ['client0', 'server'],
    sockets: [
      {
        name: 'server',
        host: 'server',
        protocol: 'rep0',
        listen: ['tcp://server:5555'],
        app: { kind: 'echo', recvDelayUs: 50_000 },
      },
      {
        name: 'client0',
        host: 'client0',
        protocol: 'req0',
        dial: ['tcp://server:5555'],
        options: { 'RETRY-TIME': 5_000_000 },
        app: { kind: 'send' },
      },
    ],
    workload: {
      sends: [
        { socket: 'client0', bytes: 8, gapUs: 10_000 },
        { socket: 'client0', bytes: 8, gapUs: 0 },
      ],
    },
    faults: { version: 1, faults: [{ kind: 'reset', atUs: 30_000, conn: 'all' }] },
    faultPhaseUs: 1_000_000,
    checks: [
      'stack.no-crash',
      'reqrep.one-reply-per-request',
      'reqrep.all-answered',
      'resend.same-id',
      'resend.reply-id-matches',
      'resend.none-after-reply',
      'resend.rep-saw-request',
      'resend.on-pipe-loss',
    ],
  });
}

function ctxOf(s: Scenario): CheckContext {
  return {
    endUs: s.faultPhaseUs + s.livenessUs,
    healedAtUs: s.faultPhaseUs,
    faults: [],
    reason: 'until',
    crash: null,
    payloadOf: (name, i) =>
      payload(
        s.sockets.findIndex((x) => x.name === name),
        i,
        s.workload.sends.filter((w) => w.socket === name)[i]?.bytes ?? 0,
      ),
    lossy: true,
  };
}

describe('resend checks on a hand-written scenario', () => {
  it('netlab resends at once on the new pipe, with the same id', async () => {
    const s = resetMidRequest();
    const r = await runScenario(s, 'sim-1');
    expect(r.checks.filter((c) => c.status === 'fail')).toEqual([]);
    expect(r.checks.find((c) => c.id === 'resend.on-pipe-loss')!.status).toBe('pass');
    const tx = r.observations.sockets.client0!.reqSends.filter((t) => t.request === 0);
    expect(tx.length).toBe(2);
    expect(tx[1]!.id).toBe(tx[0]!.id);
  });

  it('the lazy REQ waits for RETRY-TIME after the pipe loss, and is flagged', async () => {
    const r = await runScenario(resetMidRequest('museum/req-no-resend-on-loss'), 'sim-1');
    expect(r.checks.find((c) => c.id === 'resend.on-pipe-loss')!.status).toBe('fail');
  });

  it('flags a transmission after the reply and a reply the REP never saw (planted)', async () => {
    const s = resetMidRequest();
    const r = await runScenario(s, 'sim-1');
    const late: Observations = structuredClone(r.observations);
    const c = late.sockets.client0!;
    const reply = c.received.find((x) => x.replyTo === 0)!;
    c.reqSends.push({ ...c.reqSends[0]!, atUs: reply.atUs + 1 });
    expect(checkById('resend.none-after-reply')!.evaluate(s, late, ctxOf(s)).status).toBe('fail');
    const unseen: Observations = structuredClone(r.observations);
    unseen.sockets.server!.received = [];
    expect(checkById('resend.rep-saw-request')!.evaluate(s, unseen, ctxOf(s)).status).toBe('fail');
    expect(checkById('resend.rep-saw-request')!.evaluate(s, r.observations, ctxOf(s)).status).toBe('pass');
  });
});

/** A surveyor (SURVEY-TIME 100 ms) and two respondents; client1 is slow when `slowUs` > 0. */
function surveyScenario(impl = 'netlab', slowUs = 0): Scenario {
  return defineScenario({
    impl,
    hosts: ['client0', 'client1', 'server'],
    sockets: [
      {
        name: 'server',
        host: 'server',
        protocol: 'surveyor0',
        listen: ['tcp://server:5555'],
        options: { 'SURVEY-TIME': 100_000 },
        app: { kind: 'send' },
      },
      ...['client0', 'client1'].map((name) => ({
        name,
        host: name,
        protocol: 'respondent0' as const,
        dial: ['tcp://server:5555'],
        app: { kind: 'echo' as const, ...(name === 'client1' && slowUs > 0 ? { recvDelayUs: slowUs } : {}) },
      })),
    ],
    workload: {
      sends: [0, 1, 2].map(() => ({ socket: 'server', bytes: 16, gapUs: 20_000 })),
    },
    checks: ['stack.no-crash', 'survey.no-stale-response', 'survey.all-respond'],
  });
}

describe('survey checks on a hand-written scenario', () => {
  it('netlab: every survey hears both fast respondents, nothing stale', async () => {
    const r = await runScenario(surveyScenario(), 'sim-1');
    expect(r.checks.map((c) => [c.id, c.status])).toEqual([
      ['stack.no-crash', 'pass'],
      ['survey.no-stale-response', 'pass'],
      ['survey.all-respond', 'pass'],
      ['stack.workload-completes', 'pass'],
      ['sim.time-monotonic', 'pass'],
      ['sim.bytes-conserved', 'pass'],
      ['sim.events-in-order', 'pass'],
      ['sim.link-model', 'pass'],
      ['sim.partitions-respected', 'pass'],
    ]);
    const got = r.observations.sockets.server!.received;
    expect(got.map((x) => x.replyTo)).toEqual([0, 0, 1, 1, 2, 2]);
    expect(got.every((x) => (x.requestId ?? 0) >>> 31 === 1)).toBe(true);
  });

  it('a slow respondent: netlab drops its late answers; the stale-accepting surveyor is flagged', async () => {
    const ok = await runScenario(surveyScenario('netlab', 150_000), 'sim-1');
    expect(ok.checks.find((c) => c.id === 'survey.no-stale-response')!.status).toBe('pass');
    expect(ok.checks.find((c) => c.id === 'survey.all-respond')!.status).toBe('not-applicable');
    const bad = await runScenario(surveyScenario('museum/surveyor-stale-response', 150_000), 'sim-1');
    expect(bad.checks.find((c) => c.id === 'survey.no-stale-response')!.status).toBe('fail');
  });

  it('survey.all-respond flags a respondent connected throughout whose answer was not collected (planted)', async () => {
    const s = surveyScenario();
    const r = await runScenario(s, 'sim-1');
    const lost: Observations = structuredClone(r.observations);
    const srv = lost.sockets.server!;
    srv.received = srv.received.filter((x, i) => !(x.replyTo === 1 && i % 2 === 0));
    expect(checkById('survey.all-respond')!.evaluate(s, lost, ctxOf(s)).status).toBe('fail');
  });
});
