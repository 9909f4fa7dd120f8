/**
 * `netlab proxy` as a user runs it: bad flags and a port in use exit 2 with a clear message; a run
 * forwards through its faults, writes the decision log and exits 0 on SIGTERM with a JSON summary.
 * Flag parsing is also checked in-process (faultsFromFlags), which is faster than spawning for each:
 * flags, profiles and --timeline files (fault plans, or the former format) make one fault plan, and
 * its bounds are those of fault plans, link settings and scenarios.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPeer, stopAllPeers } from '../../scenarios/interop/harness.js';
import { netlab, requireBuild } from '../../scenarios/testing/spawn.js';
import { compileProxyFaults } from '../../impl/runtime/proxy-plan.js';
import { defineScenario } from '../../scenarios/sp/define.js';
import { parseFaultPlan } from '../../sim/fault-plan.js';
import { mergeLink, validateLatency, DEFAULT_LINK } from '../../sim/net-config.js';
import { UsageError } from './common.js';
import { faultsFromFlags, planFromFlags } from './proxy.js';

const NETLAB = new URL('../netlab', import.meta.url).pathname;
let dir = '';

beforeAll(() => {
  requireBuild();
  dir = mkdtempSync(join(tmpdir(), 'netlab-proxy-cli-'));
});

afterAll(async () => {
  await stopAllPeers();
  rmSync(dir, { recursive: true, force: true });
});

describe('flags', () => {
  it('build the faults: profile, then timeline file, then flags for --direction', () => {
    const file = join(dir, 'timeline.json');
    writeFileSync(file, JSON.stringify([{ kind: 'reset', direction: 'down', at: '2s' }]));
    expect(
      faultsFromFlags({
        profile: 'stall',
        timeline: file,
        direction: 'up',
        latency: '20ms',
        jitter: '5ms',
        bandwidth: '1MB/s',
        slice: '1-64',
        'slice-delay': '1ms',
        'reset-at': '100000',
        limit: '1MB',
        'slow-close': '200ms',
      }),
    ).toEqual({
      up: {
        stalls: [{ atByte: 12, forUs: 200_000 }],
        latency: { kind: 'constant', us: 20_000 },
        jitterUs: 5000,
        bandwidthBytesPerSec: 1_000_000,
        slice: { minBytes: 1, maxBytes: 64, delayUs: 1000 },
        resetAtByte: 100_000,
        limitBytes: 1_000_000,
        slowCloseUs: 200_000,
      },
      down: { stalls: [{ atByte: 12, forUs: 200_000 }] },
      // A reset at a time resets both ends, whatever direction the former format named.
      timeline: [{ kind: 'reset', direction: 'both', atUs: 2_000_000 }],
    });
    expect(faultsFromFlags({ 'stall-at': '4KiB', 'stall-for': '1s', slice: '16' })).toEqual({
      up: { stalls: [{ atByte: 4096, forUs: 1_000_000 }], slice: { minBytes: 16, maxBytes: 16, delayUs: 0 } },
      down: {
        stalls: [{ atByte: 4096, forUs: 1_000_000 }],
        slice: { minBytes: 16, maxBytes: 16, delayUs: 0 },
      },
    });
  });

  it('bad values are usage errors that name the flag', () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ up: { bogus: 1 } }));
    const cases: [Record<string, string>, RegExp][] = [
      [{ latency: '5 parsecs' }, /--latency must be a duration/],
      [{ slice: '9-3' }, /--slice: slice\.maxBytes: must be >= minBytes/],
      [{ slice: '0' }, /--slice: slice\.minBytes: must be >= 1, got 0/],
      [{ slice: '4', 'slice-delay': 'later' }, /--slice-delay must be a duration/],
      [{ slice: 'many' }, /--slice must be MIN-MAX/],
      [{ 'slice-delay': '1ms' }, /--slice-delay needs --slice/],
      [{ 'stall-at': '10' }, /--stall-at and --stall-for go together/],
      [{ bandwidth: 'fast' }, /--bandwidth must be a rate/],
      [{ limit: '-1' }, /--limit must be a size/],
      [{ direction: 'sideways' }, /--direction must be up, down or both/],
      [{ toxicity: '1.5' }, /--toxicity must be <= 1, got 1\.5/],
      [{ toxicity: 'x' }, /--toxicity must be a number in \[0, 1\]/],
      [{ 'stall-at': '10', 'stall-for': 'ever' }, /--stall-for must be a duration/],
      [{ segment: '4GiB' }, /--segment must be <= 2147483648 \(MAX_SIZE_BYTES, 2\^31\)/],
      [{ profile: 'nope' }, /--profile: unknown fault profile "nope"/],
      [{ timeline: join(dir, 'missing.json') }, /cannot read --timeline/],
      [{ timeline: bad }, /bad\.json\.up\.bogus: unknown field/],
    ];
    for (const [values, message] of cases) {
      expect(() => faultsFromFlags(values), JSON.stringify(values)).toThrow(UsageError);
      expect(() => faultsFromFlags(values)).toThrow(message);
    }
  });

  it('a --timeline file may be a fault plan; its steps follow the profile, the flags follow both', () => {
    const file = join(dir, 'plan.json');
    writeFileSync(
      file,
      JSON.stringify({
        version: 1,
        faults: [
          { kind: 'stall-reads', atByte: 5, conn: 'all', side: 'server', for: '1s' },
          {
            kind: 'link',
            at: '1s',
            for: '2s',
            from: 'server',
            to: 'client',
            oneWay: true,
            set: { latency: '9ms' },
          },
        ],
        proxy: { toxicity: 0.5 },
      }),
    );
    expect(planFromFlags({ profile: 'reset', timeline: file, 'slow-close': '10ms' })).toEqual({
      version: 1,
      faults: [
        { kind: 'reset', atUs: 0, atByte: 12, conn: 'all', side: 'server' },
        { kind: 'stall-reads', atUs: 0, atByte: 5, conn: 'all', side: 'server', forUs: 1_000_000 },
        {
          kind: 'link',
          atUs: 1_000_000,
          from: 'server',
          to: 'client',
          oneWay: true,
          set: { latency: { kind: 'constant', us: 9000 } },
          forUs: 2_000_000,
        },
        { kind: 'slow-close', atUs: 0, conn: 'all', side: 'both', forUs: 10_000 },
      ],
      proxy: { faultyConnections: 1, toxicity: 0.5 },
    });
    expect(faultsFromFlags({ profile: 'reset', timeline: file, 'slow-close': '10ms' })).toEqual({
      up: { resetAtByte: 12, stalls: [{ atByte: 5, forUs: 1_000_000 }], slowCloseUs: 10_000 },
      down: { slowCloseUs: 10_000 },
      timeline: [
        {
          kind: 'set',
          direction: 'down',
          atUs: 1_000_000,
          forUs: 2_000_000,
          set: { latency: { kind: 'constant', us: 9000 } },
        },
      ],
      faultyConnections: 1,
      toxicity: 0.5,
    });
    const crash = join(dir, 'crash.json');
    writeFileSync(
      crash,
      JSON.stringify({ version: 1, faults: [{ kind: 'crash', at: '1s', host: 'server' }] }),
    );
    expect(() => faultsFromFlags({ timeline: crash })).toThrow(
      /--timeline .*crash\.json: faults\[0\]\.kind: "crash" has no equivalent in the fault proxy/,
    );
  });
});

describe('one set of limits', () => {
  /** The message a call throws, or "accepted". */
  function refusal(f: () => unknown): string {
    try {
      f();
    } catch (e) {
      return (e as Error).message;
    }
    return 'accepted';
  }
  const scenarioWith = (network: Record<string, unknown>) => () =>
    defineScenario({
      hosts: ['a'],
      sockets: [{ name: 's', host: 'a', protocol: 'pair0', app: { kind: 'sink' } }],
      workload: { sends: [] },
      checks: ['stack.no-crash'],
      network,
    });
  const linkPlan = (set: Record<string, unknown>) => () =>
    parseFaultPlan({ version: 1, faults: [{ kind: 'link', atUs: 0, from: 'client', to: 'server', set }] });
  const proxyPlan = (set: Record<string, unknown>) => () =>
    compileProxyFaults({
      version: 1,
      faults: [{ kind: 'link', atUs: 0, from: 'client', to: 'server', set }],
    });

  it('the same out-of-range latency is refused by a scenario, a fault plan, link settings and the proxy, with the same bound', () => {
    const bound = 'must be <= 10000000 (MAX_LATENCY_US, 10s), got 20000000';
    const latency = { kind: 'constant', us: 20_000_000 };
    expect(refusal(scenarioWith({ latency }))).toBe(`scenario network.latency.us: ${bound}`);
    expect(refusal(linkPlan({ latency }))).toBe(`ERR_BAD_ARGUMENT: faults[0].set.latency.us: ${bound}`);
    expect(refusal(() => validateLatency('link', latency))).toBe(`ERR_BAD_ARGUMENT: link.us: ${bound}`);
    expect(refusal(proxyPlan({ latency }))).toBe(`ERR_BAD_ARGUMENT: faults[0].set.latency.us: ${bound}`);
    expect(refusal(proxyPlan({ latency: '20s' }))).toBe(`ERR_BAD_ARGUMENT: faults[0].set.latency: ${bound}`);
    expect(refusal(() => faultsFromFlags({ latency: '20s' }))).toBe(`--latency ${bound}`);
    // A uniform model's maximum, the same bound.
    const uniform = { kind: 'uniform', minUs: 0, maxUs: 20_000_000 };
    expect(refusal(scenarioWith({ latency: uniform }))).toBe(`scenario network.latency.maxUs: ${bound}`);
    expect(refusal(linkPlan({ latency: uniform }))).toMatch(`faults[0].set.latency.maxUs: ${bound}`);
    // At the bound: accepted by all of them.
    const atBound = { kind: 'constant', us: 10_000_000 };
    for (const f of [
      scenarioWith({ latency: atBound }),
      linkPlan({ latency: atBound }),
      () => validateLatency('link', atBound),
      () => faultsFromFlags({ latency: '10s' }),
    ])
      expect(refusal(f)).toBe('accepted');
  });

  it('and the same out-of-range jitter', () => {
    const bound = 'must be <= 10000000 (MAX_JITTER_US, 10s), got 11000000';
    expect(refusal(scenarioWith({ jitterUs: 11_000_000 }))).toBe(`scenario network.jitterUs: ${bound}`);
    expect(refusal(linkPlan({ jitterUs: 11_000_000 }))).toBe(
      `ERR_BAD_ARGUMENT: faults[0].set.jitterUs: ${bound}`,
    );
    expect(refusal(() => mergeLink('link', DEFAULT_LINK, { jitterUs: 11_000_000 }))).toBe(
      `ERR_BAD_ARGUMENT: link.jitterUs: ${bound}`,
    );
    expect(refusal(proxyPlan({ jitter: '11s' }))).toBe(`ERR_BAD_ARGUMENT: faults[0].set.jitter: ${bound}`);
    expect(refusal(() => faultsFromFlags({ jitter: '11s' }))).toBe(`--jitter ${bound}`);
    // Scenarios allowed 1 s before: 10 s is now the one bound.
    expect(refusal(scenarioWith({ jitterUs: 10_000_000 }))).toBe('accepted');
  });
});

describe('netlab proxy', () => {
  it('exits 2 for missing or bad flags and for a port in use', async () => {
    const missing = await netlab('proxy', '--listen', '127.0.0.1:0');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--upstream ADDR is required/);
    const badValue = await netlab(
      'proxy',
      '--listen',
      '127.0.0.1:0',
      '--upstream',
      '127.0.0.1:1',
      '--jitter',
      'x',
    );
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toMatch(/--jitter must be a duration/);
    const hold = net.createServer();
    await new Promise<void>((r) => hold.listen(0, '127.0.0.1', r));
    const port = (hold.address() as net.AddressInfo).port;
    try {
      const inUse = await netlab('proxy', '--listen', `127.0.0.1:${port}`, '--upstream', '127.0.0.1:1');
      expect(inUse.code).toBe(2);
      expect(inUse.stderr).toMatch(new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}: address in use`));
    } finally {
      await new Promise<void>((r) => hold.close(() => r()));
    }
  });

  it('forwards through its faults, logs the decisions and prints a summary on SIGTERM', async () => {
    const echo = net.createServer({ allowHalfOpen: true }, (s) => {
      s.on('data', (b: Buffer) => s.write(b));
      s.on('end', () => s.end());
    });
    await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
    const upstreamPort = (echo.address() as net.AddressInfo).port;
    const logFile = join(dir, 'decisions.jsonl');
    try {
      const proxy = startPeer({
        command: NETLAB,
        args: [
          'proxy',
          '--listen',
          '127.0.0.1:0',
          '--upstream',
          `127.0.0.1:${upstreamPort}`,
          '--seed',
          '7',
          '--slice',
          '1-100',
          '--latency',
          '1ms',
          '--log',
          logFile,
          '--json',
        ],
        timeoutMs: 20_000,
      });
      // The banner's two lines: the address, then the faults.
      const banner = await proxy.waitForOutput(/ {2}faults: .*\n/, 10_000);
      const port = Number(/tcp:\/\/127\.0\.0\.1:(\d+) -> /.exec(banner.stderr)![1]);
      expect(banner.stderr).toMatch(/seed=7/);
      expect(banner.stderr).toMatch(/faults: up: latency 1ms, slice 1-100B delay 0us; down: latency 1ms/);
      const data = Buffer.alloc(10_000, 'abcdefghij');
      const echoed = await new Promise<Buffer>((resolve, reject) => {
        const chunks: Buffer[] = [];
        const client = net.connect({ host: '127.0.0.1', port }, () => client.end(data));
        client.on('data', (b: Buffer) => chunks.push(b));
        client.on('error', reject);
        client.on('close', () => resolve(Buffer.concat(chunks)));
      });
      expect(echoed.equals(data)).toBe(true);
      await proxy.waitForOutput(/conn 0 closed \(fin\); up 10000\/10000 B, down 10000\/10000 B/, 5000);
      const result = await proxy.stop();
      expect(result.code).toBe(0);
      const summary = JSON.parse(new TextDecoder().decode(result.stdout)) as {
        seed: string;
        accepted: number;
        connections: { outcome: string }[];
        decisions: number;
        logWritten: number;
      };
      expect(summary).toMatchObject({ seed: '7', accepted: 1, connections: [{ outcome: 'fin' }] });
      expect(summary.logWritten).toBe(summary.decisions);
      const lines = readFileSync(logFile, 'utf8').trim().split('\n');
      expect(lines).toHaveLength(summary.decisions);
      const entries = lines.map((l) => JSON.parse(l) as { action: string; dir: string });
      expect(entries.some((e) => e.action === 'slice' && e.dir === 'up')).toBe(true);
      expect(entries.filter((e) => e.action === 'close')).toHaveLength(2);
    } finally {
      await new Promise<void>((r) => echo.close(() => r()));
    }
  });
});
