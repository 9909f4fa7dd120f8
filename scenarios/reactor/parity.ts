/**
 * The reactor parity suite (netlab parity --stack reactor): cases whose outcome does not hang on
 * timing, run on the simulator and over real loopback sockets: per client the bytes sent and
 * received and whether the echo was intact, and each check's verdict.
 */
import type { ParityCase, ParityOutcome, StackParity } from '../stack.js';
import type { ReactorScenario } from './model.js';
import type { ReactorObservations } from './observations.js';
import { defineReactorScenario, type ReactorResult } from './run.js';

export function reactorParityOutcome(scenario: ReactorScenario, result: ReactorResult): ParityOutcome {
  const obs: ReactorObservations = result.observations;
  const parts: Record<string, unknown> = {};
  for (const c of scenario.clients) {
    const o = obs.clients[c.name];
    if (o === undefined) continue;
    parts[`bytes.${c.name}`] =
      `${o.sentBytes} sent, ${o.receivedBytes} received${o.mismatchAt >= 0 ? `, differs at ${o.mismatchAt}` : ''}`;
  }
  const checks: Record<string, string> = {};
  for (const c of result.checks) checks[c.id] = c.status;
  return { parts, checks, crashed: result.crash !== null };
}

const CHECKS = [
  'stack.no-crash',
  'reactor.callback-order',
  'reactor.input-handled',
  'reactor.output-in-order',
  'reactor.output-complete',
  'reactor.input-bounded',
];

export function reactorParityCases(): ParityCase<ReactorScenario>[] {
  return [
    {
      name: 'reactor-echo-tcp',
      title: 'the reactor echo over tcp: two clients send, half-close, and get every byte back in order',
      scenario: defineReactorScenario({
        name: 'parity-reactor-echo-tcp',
        hosts: ['server', 'client0', 'client1'],
        servers: [
          {
            name: 'server',
            host: 'server',
            listen: 'tcp://server:7100',
            options: { idleTimeoutUs: 2_000_000 },
          },
        ],
        clients: [0, 1].map((i) => ({
          name: `client${i}`,
          host: `client${i}`,
          connect: 'tcp://server:7100',
          startUs: 1000,
          actions: [
            { kind: 'send' as const, bytes: 3000 },
            { kind: 'send' as const, bytes: 70_000 },
            { kind: 'half-close' as const },
          ],
        })),
        network: { randomChunking: true, partialWriteProbability: 0.3 },
        checks: CHECKS,
      }),
    },
    {
      name: 'reactor-framed-ipc',
      title: 'the framed handler over ipc with a small high-water mark: frames answered whole, in order',
      scenario: defineReactorScenario({
        name: 'parity-reactor-framed-ipc',
        hosts: ['local'],
        servers: [
          {
            name: 'server',
            host: 'local',
            listen: 'ipc:///tmp/netlab-reactor-parity.sock',
            handler: 'framed',
            options: { idleTimeoutUs: 2_000_000, inputHighWaterBytes: 16_384 },
          },
        ],
        clients: [
          {
            name: 'client0',
            host: 'local',
            connect: 'ipc:///tmp/netlab-reactor-parity.sock',
            startUs: 1000,
            actions: [0, 1, 5, 4000, 12_000].map((bytes) => ({ kind: 'frame' as const, bytes })).concat([]),
          },
        ],
        checks: CHECKS,
      }),
    },
  ];
}

export const REACTOR_PARITY: StackParity<ReactorScenario, ReactorObservations> = {
  cases: reactorParityCases,
  outcome: reactorParityOutcome,
};
