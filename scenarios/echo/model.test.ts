/**
 * The echo scenario model: valid scenarios parse with their defaults filled in; invalid ones are
 * refused with a ScenarioError naming the JSON path of the first bad field; a scenario survives a
 * JSON round trip (what a case file does).
 */
import { describe, expect, it } from 'vitest';
import { Lab } from '../lab.js';
import { ScenarioError } from '../model.js';
import { echoTransports, sessionsOf } from './model.js';
import { echoStack } from './plugin.js';
import { defineEchoScenario, parseEchoScenario } from './run.js';

const valid = {
  version: 2,
  stack: 'echo',
  name: 'model',
  impl: 'netlab',
  hosts: ['server', 'client0'],
  network: {
    latency: { kind: 'constant', us: 1000 },
    jitterUs: 0,
    lossRate: 0,
    randomChunking: false,
    partialWriteProbability: 0,
    sendBufferBytes: 65536,
    recvBufferBytes: 65536,
  },
  faults: { version: 1, faults: [] },
  faultPhaseUs: 0,
  livenessUs: 1_000_000,
  checks: ['stack.no-crash', 'echo.all-answered'],
  servers: [{ name: 'server', host: 'server', listen: 'tcp://server:7000' }],
  clients: [{ name: 'c0', host: 'client0', connect: 'tcp://server:7000', messages: [{ bytes: 3 }] }],
};

/** The valid scenario with one change at a path ("clients[0].options" style). */
function bad(change: (s: Record<string, unknown> & typeof valid) => void): unknown {
  const s = structuredClone(valid) as Record<string, unknown> & typeof valid;
  change(s);
  return s;
}

function errorOf(json: unknown): string {
  try {
    parseEchoScenario(json);
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    return (e as Error).message;
  }
  throw new Error('parsed');
}

describe('echo scenario model', () => {
  it('parses a valid scenario and fills in the defaults', () => {
    const s = parseEchoScenario(valid);
    expect(s.clients[0]).toEqual({
      name: 'c0',
      host: 'client0',
      connect: 'tcp://server:7000',
      mode: 'requests',
      options: {},
      startUs: 0,
      messages: [{ bytes: 3, gapUs: 0 }],
    });
    expect(s.servers[0]).toEqual({
      name: 'server',
      host: 'server',
      listen: 'tcp://server:7000',
      options: {},
      startUs: 0,
    });
    expect(echoTransports(s)).toEqual(['tcp']);
    // What a case file holds reads back the same.
    expect(parseEchoScenario(JSON.parse(JSON.stringify(s)))).toEqual(s);
    // The lab finds the stack by the scenario's `stack` field.
    expect(new Lab([echoStack]).parseScenario(valid)).toEqual(s);
  });

  it('accepts ipc on one host, sessions with their options, and nobody listening', () => {
    const s = defineEchoScenario({
      hosts: ['local'],
      servers: [],
      clients: [
        {
          name: 'ses',
          host: 'local',
          connect: 'ipc:///tmp/x.sock',
          mode: 'sessions',
          options: { sessionMessages: 2, retryPauseUs: 5, timeoutUs: 10 },
          messages: [{ bytes: 1 }, { bytes: 2 }, { bytes: 3 }],
        },
      ],
    });
    expect(echoTransports(s)).toEqual(['ipc']);
    expect(sessionsOf(s.clients[0]!)).toEqual([
      { first: 0, end: 2 },
      { first: 2, end: 3 },
    ]);
  });

  it('names the JSON path of the first bad field', () => {
    const cases: [unknown, RegExp][] = [
      [bad((s) => (s.clients = [])), /clients: .*at least 1|clients: .*>=1|clients/],
      [bad((s) => ((s.clients[0] as Record<string, unknown>).extra = 1)), /scenario clients\[0\]: .*extra/],
      [bad((s) => (s.clients[0]!.host = 'nowhere')), /scenario clients\[0\]\.host: unknown host 'nowhere'/],
      [bad((s) => (s.clients[0]!.connect = 'udp://x:1')), /scenario clients\[0\]\.connect: /],
      [
        bad((s) => (s.clients[0]!.connect = 'tcp://elsewhere:1')),
        /clients\[0\]\.connect: tcp address names unknown host 'elsewhere'/,
      ],
      [
        bad((s) => (s.servers[0]!.listen = 'tcp://client0:7000')),
        /servers\[0\]\.listen: a tcp listener binds its own host 'server'/,
      ],
      [
        bad((s) => s.servers.push({ name: 'two', host: 'server', listen: 'tcp://server:7000' })),
        /servers\[1\]\.listen: address tcp:\/\/server:7000 already has a listener/,
      ],
      [
        bad((s) => (s.clients[0]!.name = 'server')),
        /clients\[0\]\.name: duplicate server or client name 'server'/,
      ],
      [
        bad((s) => ((s.clients[0] as Record<string, unknown>).options = { window: 9, maxPending: 4 })),
        /clients\[0\]\.options\.window: a window of 9 exceeds maxPending 4/,
      ],
      [
        bad((s) => ((s.clients[0] as Record<string, unknown>).options = { sessionMessages: 2 })),
        /clients\[0\]\.options\.sessionMessages: only a sessions client has it \(this one is requests\)/,
      ],
      [
        bad((s) => {
          (s.clients[0] as Record<string, unknown>).options = { maxFrameBytes: 10 };
          s.clients[0]!.messages = [{ bytes: 7 }];
        }),
        /clients\[0\]\.messages\[0\]\.bytes: 7 bytes do not fit the client's maxFrameBytes \(at most 6 with the 4-byte request id\)/,
      ],
      [bad((s) => (s.clients[0]!.messages = [{ bytes: -1 }])), /clients\[0\]\.messages\[0\]\.bytes/],
      [bad((s) => (s.checks = ['echo.nope'])), /checks\[0\]: unknown check 'echo.nope'/],
      [bad((s) => (s.stack = 'sp')), /scenario stack: 'sp' is not a echo scenario/],
    ];
    for (const [json, want] of cases) expect(errorOf(json)).toMatch(want);
  });

  it('keeps ipc on one host', () => {
    const m = errorOf(
      bad((s) => {
        s.servers[0]!.listen = 'ipc:///tmp/e.sock';
        s.clients[0]!.connect = 'ipc:///tmp/e.sock';
      }),
    );
    expect(m).toMatch(
      /clients\[0\]\.connect: ipc connects only within one host: ipc:\/\/\/tmp\/e.sock listens on 'server', not 'client0'/,
    );
  });
});
