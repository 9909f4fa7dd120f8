/**
 * Report fixtures for tests of reports/ and its callers: one case of each status, with realistic
 * values, built through createReport so the fixtures themselves are always valid.
 */
import { createReport, type BannerInput, type Case, type Report, type Suite } from '../schema.js';

/** A passing simulated case; override any field. */
export function sampleCase(overrides: Partial<Case> = {}): Case {
  return {
    id: 'sp/req0/resend-after-partition',
    title: 'REQ resends after a partition heals',
    stack: 'sp',
    family: 'resend',
    protocol: 'req0',
    transport: 'tcp',
    runtime: 'sim',
    impl: 'netlab',
    peer: null,
    role: 'req',
    faults: ['partition'],
    ref: 'sp-14',
    requirement: 'A REQ socket MUST resend a request after the resend time without a reply.',
    invariant: 'every-request-answered',
    status: 'pass',
    runs: 100,
    fcSeed: 1_234_567,
    fcPath: null,
    simSeed: 'netlab',
    shrinks: null,
    counterexample: null,
    expected: null,
    actual: null,
    replay: 'netlab run --case sp/req0/resend-after-partition --seed netlab --fc-seed 1234567',
    traceHash: '0123456789abcdef',
    trace: null,
    wallMs: 12.5,
    expect: 'pass',
    ...overrides,
  };
}

export function sampleBanner(): BannerInput {
  return {
    simSeed: 'netlab',
    fcSeed: 1_234_567,
    knobs: { lossRate: 0.01, swarm: false, mode: 'fast' },
    netlabVersion: '0.1.0',
    commit: '05779ae0000000000000000000000000000000ab',
    nodeVersion: 'v20.20.2',
    startedAt: '2025-01-31T12:00:00.000Z',
    virtualUs: 42_000_000,
    wallMs: 1830.25,
  };
}

/** Two suites holding one case of every status. */
export function sampleSuites(): Suite[] {
  return [
    {
      name: 'sp/req0',
      cases: [
        sampleCase(),
        sampleCase({
          id: 'sp/req0/reply-once',
          title: 'REQ delivers exactly one reply per request',
          status: 'fail',
          invariant: 'one-reply-per-request',
          fcPath: '12:3:0',
          shrinks: 7,
          counterexample: [{ requests: 2, faults: [{ at: '1ms', kind: 'reset' }] }],
          expected: 'exactly one reply to request 0x80000001',
          actual: 'two replies to request 0x80000001',
          replay: 'netlab replay reports/latest/cases/sp_req0_reply-once.json',
          trace: 'traces/sp_req0_reply-once.jsonl',
        }),
        sampleCase({
          id: 'sp/req0/flaky-timer',
          title: 'REQ resend timer under jitter',
          status: 'flaky',
          runs: 3,
          actual: 'failed in 1 of 3 runs',
        }),
      ],
    },
    {
      name: 'interop/nngcat',
      cases: [
        sampleCase({
          id: 'interop/nngcat/pair0-tcp',
          title: 'PAIR0 with nngcat over TCP',
          protocol: 'pair0',
          runtime: 'real',
          peer: 'nngcat',
          role: 'dialer',
          faults: [],
          fcSeed: null,
          simSeed: null,
          traceHash: null,
          status: 'error',
          runs: 1,
          actual: 'ECONNREFUSED 127.0.0.1:5555',
          replay: 'netlab run --case interop/nngcat/pair0-tcp',
        }),
        sampleCase({
          id: 'interop/nanocat/pair0-tcp',
          title: 'PAIR0 with nanocat over TCP',
          protocol: 'pair0',
          runtime: 'real',
          peer: 'nanocat',
          status: 'skip',
          runs: 0,
          fcSeed: null,
          simSeed: null,
          traceHash: null,
          wallMs: null,
          actual: 'nanocat is not installed',
          replay: 'netlab run --case interop/nanocat/pair0-tcp',
        }),
      ],
    },
  ];
}

export function sampleReport(): Report {
  return createReport(sampleBanner(), sampleSuites());
}
