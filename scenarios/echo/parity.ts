/**
 * The echo stack's parity suite: hand-picked echo scenarios whose outcome does not depend on timing,
 * run on the simulated network and over real loopback sockets through the seeded fault proxy
 * (scenarios/real/parity.ts drives both, `netlab parity --stack echo`). What is compared is what the
 * application saw: which messages each client got back, in what order and intact or not, which
 * requests failed with which code, how each session ended, and each check's verdict. Never timings.
 * Isomorphic (no Node APIs): the comparison is plain data.
 */
import type { ParityCase, ParityOutcome, StackParity } from '../stack.js';
import type { EchoObservations } from './checks.js';
import type { EchoScenario } from './model.js';
import { defineEchoScenario, type EchoResult } from './run.js';

/**
 * The outcome of a run, as parity compares it. Parts, per client in scenario order:
 * replies.<client> (indices of the messages answered, in arrival order; "!" marks one that came back
 * different), failed.<client> (requests that failed, "index:code") and sessions.<client> (each
 * session's "echoes/messages" and how it ended: "ok" or its error code).
 */
export function echoParityOutcome(scenario: EchoScenario, result: EchoResult): ParityOutcome {
  const obs: EchoObservations = result.observations;
  const parts: Record<string, unknown> = {};
  for (const c of scenario.clients) {
    const o = obs.clients[c.name];
    if (o === undefined) continue;
    parts[`replies.${c.name}`] = o.replies.map((r) => (r.intact ? r.index : `${r.index}!`));
    if (o.failed.length > 0) parts[`failed.${c.name}`] = o.failed.map((f) => `${f.index}:${f.code}`);
    if (c.mode === 'sessions')
      parts[`sessions.${c.name}`] = o.sessions.map(
        (s) =>
          `${s.replies}/${s.end - s.first} ${s.error ?? (s.closedCleanly && s.replies === s.end - s.first ? 'ok' : 'unclean')}`,
      );
  }
  const checks: Record<string, string> = {};
  for (const c of result.checks) checks[c.id] = c.status;
  return { parts, checks, crashed: result.crash !== null };
}

const MIXED_SIZES = [0, 1, 5, 3000, 70_000, 4, 0, 200_000];

/** Every echo check but the timing one, which real sockets cannot judge anyway. */
const CHECKS = [
  'stack.no-crash',
  'echo.replies-intact-in-order',
  'echo.no-protocol-error',
  'echo.bounded-memory',
  'echo.all-answered',
  'echo.sessions-complete',
  'echo.sessions-fail-typed',
];

/** The echo parity cases, in report order. */
export function echoParityCases(): ParityCase<EchoScenario>[] {
  return [
    {
      name: 'echo-tcp-stall',
      title:
        'echo over tcp with latency, chunking and partial writes while the server stops reading for 400 ms: every echo intact, in order',
      scenario: defineEchoScenario({
        name: 'parity-echo-tcp-stall',
        hosts: ['server', 'client0', 'client1'],
        servers: [{ name: 'server', host: 'server', listen: 'tcp://server:7000' }],
        clients: [
          {
            name: 'req0',
            host: 'client0',
            connect: 'tcp://server:7000',
            options: { window: 2 },
            startUs: 1000,
            messages: MIXED_SIZES.map((bytes) => ({ bytes })),
          },
          {
            name: 'ses0',
            host: 'client1',
            connect: 'tcp://server:7000',
            mode: 'sessions',
            options: { sessionMessages: 3 },
            startUs: 1000,
            messages: MIXED_SIZES.map((bytes) => ({ bytes })),
          },
        ],
        network: {
          latency: { kind: 'uniform', minUs: 500, maxUs: 3000 },
          randomChunking: true,
          partialWriteProbability: 0.3,
        },
        faults: {
          version: 1,
          faults: [{ kind: 'stall-reads', atUs: 20_000, conn: 'all', side: 'server', forUs: 400_000 }],
        },
        faultPhaseUs: 500_000,
        checks: CHECKS,
      }),
    },
    {
      name: 'echo-ipc',
      title: 'echo over ipc (unix sockets): requests and sessions of every size, intact and in order',
      scenario: defineEchoScenario({
        name: 'parity-echo-ipc',
        hosts: ['local'],
        servers: [{ name: 'server', host: 'local', listen: 'ipc:///tmp/netlab-echo-parity.sock' }],
        clients: [
          {
            name: 'req0',
            host: 'local',
            connect: 'ipc:///tmp/netlab-echo-parity.sock',
            options: { window: 4 },
            startUs: 1000,
            messages: MIXED_SIZES.map((bytes) => ({ bytes })),
          },
          {
            name: 'ses0',
            host: 'local',
            connect: 'ipc:///tmp/netlab-echo-parity.sock',
            mode: 'sessions',
            startUs: 1000,
            messages: MIXED_SIZES.map((bytes) => ({ bytes })),
          },
        ],
        checks: CHECKS,
      }),
    },
    {
      name: 'echo-tcp-reset',
      title:
        'echo requests over tcp whose connection is reset mid-run: the requester reconnects and resends, every request answered once, in order',
      scenario: defineEchoScenario({
        name: 'parity-echo-tcp-reset',
        hosts: ['server', 'client0'],
        servers: [{ name: 'server', host: 'server', listen: 'tcp://server:7000' }],
        clients: [
          {
            name: 'req0',
            host: 'client0',
            connect: 'tcp://server:7000',
            options: { window: 1 },
            startUs: 1000,
            messages: [64, 3000, 0, 64, 20_000, 64, 1, 64].map((bytes) => ({ bytes, gapUs: 25_000 })),
          },
        ],
        network: { latency: { kind: 'constant', us: 2000 } },
        faults: { version: 1, faults: [{ kind: 'reset', atUs: 90_000, conn: 'all' }] },
        faultPhaseUs: 300_000,
        checks: CHECKS,
      }),
    },
    {
      name: 'echo-refused',
      title: 'an echo session to an address nobody listens on fails with ECONNREFUSED on both runtimes',
      scenario: defineEchoScenario({
        name: 'parity-echo-refused',
        hosts: ['server', 'client0'],
        servers: [],
        clients: [
          {
            name: 'ses0',
            host: 'client0',
            connect: 'tcp://server:7000',
            mode: 'sessions',
            options: { retryPauseUs: 1000 },
            messages: [{ bytes: 7 }],
          },
        ],
        checks: ['stack.no-crash', 'echo.no-protocol-error', 'echo.sessions-fail-typed'],
      }),
    },
  ];
}

export const ECHO_PARITY: StackParity<EchoScenario, EchoObservations> = {
  cases: echoParityCases,
  outcome: echoParityOutcome,
};
