import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseReport } from '../reports/schema.js';
import { runDemo } from '../scenarios/demo.js';
import { defineScenario } from '../scenarios/define.js';
import { topology } from '../scenarios/generators.js';
import { runScenario } from '../scenarios/runner.js';

const run = promisify(execFile);
const NETLAB = new URL('./netlab', import.meta.url).pathname;

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function netlab(...args: string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(NETLAB, args, { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

beforeAll(() => {
  // `npm test` builds before vitest; a bare `vitest` run needs `npm run build` first.
  if (!existsSync(new URL('../dist/bin/cli.js', import.meta.url)))
    throw new Error('dist/ missing: run `npm run build`');
});

describe('netlab CLI', () => {
  it('--help lists the commands and exits 0; no command is a usage error', async () => {
    const help = await netlab('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/demo/);
    expect(help.stdout).toMatch(/bench/);
    expect((await netlab()).code).toBe(2);
  });

  it('every command has --help', async () => {
    for (const c of ['demo', 'bench']) {
      const r = await netlab(c, '--help');
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(new RegExp(`usage: netlab ${c}`));
    }
  });

  it('unknown commands and bad flags exit 2 with a message', async () => {
    const unknown = await netlab('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'frobnicate'/);
    const badFlag = await netlab('demo', '--bogus');
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/bogus/);
    const badValue = await netlab('demo', '--loss', '7');
    expect(badValue.code).toBe(2);
    expect(badValue.stderr).toMatch(/--loss/);
    expect((await netlab('bench', 'nope')).code).toBe(2);
  });

  it('same seed, same trace hash across separate processes and in this one', async () => {
    const a = await netlab('demo', '--seed', 'xproc', '--json', '--out', '');
    const b = await netlab('demo', '--seed', 'xproc', '--json', '--out', '', '--strict');
    const c = await netlab('demo', '--seed', 'other', '--json', '--out', '');
    expect(a.code).toBe(0);
    const ha = (JSON.parse(a.stdout) as { traceHash: string }).traceHash;
    const hb = (JSON.parse(b.stdout) as { traceHash: string }).traceHash;
    const hc = (JSON.parse(c.stdout) as { traceHash: string }).traceHash;
    expect(ha).toMatch(/^[0-9a-f]{16}$/);
    expect(hb).toBe(ha);
    expect(hc).not.toBe(ha);
    const inProcess = await runDemo({ seed: 'xproc' });
    expect(inProcess.traceHash).toBe(ha);
  });

  it('the demo runs every fault of its plan, echoes intact, and fails sessions only with typed errors', async () => {
    const r = await runDemo({ seed: 'netlab', sessions: 6 });
    expect(r.corrupted).toBe(0);
    expect(r.sessionsOk).toBeGreaterThan(0);
    expect(r.sessionsOk + r.sessionsFailed).toBe(4 * 6);
    expect(r.faults.map((f) => f.kind)).toEqual(['partition', 'link', 'pause', 'stall-reads', 'reset']);
    expect(r.faults.every((f) => f.startUs !== null)).toBe(true);
    expect(r.net.retransmissions).toBeGreaterThan(0);
    expect(r.net.partialWrites).toBeGreaterThan(0);
    expect(r.trace.some((e) => e.kind === 'fault-start')).toBe(true);
  });

  it('a swarm demo draws its plan from the seed and prints the knobs', async () => {
    const a = await netlab('demo', '--seed', 'sw', '--swarm', '--sessions', '3', '--out', '');
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/swarm knobs: /);
    const bad = await netlab('demo', '--swarm', '--faults', 'x.json');
    expect(bad.code).toBe(2);
  });

  it('bench sim --json prints the figures and their ratio', async () => {
    const r = await netlab(
      'bench',
      'sim',
      '--json',
      '--events',
      '20000',
      '--strict-events',
      '2000',
      '--repeats',
      '1',
    );
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout) as Record<string, unknown>;
    for (const k of ['bareEventsPerSec', 'schedulerEventsPerSec', 'strictEventsPerSec']) {
      expect(j[k]).toBeGreaterThan(0);
    }
    expect(j.workload).toEqual(expect.any(String));
    expect(j.ratioSchedulerToBare).toBeCloseTo(
      (j.schedulerEventsPerSec as number) / (j.bareEventsPerSec as number),
      2,
    );
  });
});

describe('netlab run / replay', () => {
  it('runs the catalog, writes a valid report.json and junit.xml, exits 0 when all pass', async () => {
    const out = mkdtempSync(join(tmpdir(), 'netlab-run-'));
    const r = await netlab('run', '--suite', 'framing', '--runs', '8', '--seed', '42', '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/PASS +framing\/pair0\/netlab\/delivery\.intact-in-order/);
    const report = parseReport(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')));
    expect(report.banner.fcSeed).toBe(42);
    expect(report.banner.totals.fail).toBe(0);
    expect(report.suites.map((s) => s.name)).toContain('framing');
    expect(readFileSync(join(out, 'junit.xml'), 'utf8')).toMatch(/<testsuite/);
    // A sample of passing runs is traced; coverage cases list every fault kind.
    const sampleTrace = report.suites[0]!.cases[0]!.trace!;
    expect(sampleTrace).toMatch(/^traces\//);
    expect(readFileSync(join(out, sampleTrace), 'utf8').split('\n')[0]).toContain('netlab/trace@1');
    expect(report.suites[0]!.cases.filter((c) => c.family === 'coverage').map((c) => c.invariant)).toContain(
      'coverage/fault:partition',
    );
  });

  it('--list-impls, bad suites, protocols and transports', async () => {
    expect((await netlab('run', '--list-impls')).stdout.trim().split('\n')).toContain('netlab');
    for (const args of [
      ['--suite', 'nope'],
      ['--protocol', 'smtp'],
      ['--transport', 'udp'],
      ['--impl', 'museum/none'],
      ['--runs', '0'],
    ]) {
      const r = await netlab('run', ...args, '--out', '');
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/accepted|must be/);
    }
  });

  it('replay reproduces a recorded case (0), detects a changed outcome (1), rejects a bad file (2)', async () => {
    const scenario = defineScenario({
      name: 'replay me',
      ...topology({ pattern: 'reqrep', transport: 'tcp' }),
      workload: { sends: [5, 500].map((bytes) => ({ socket: 'client0', bytes })) },
      network: {
        lossRate: 0.05,
        randomChunking: true,
        partialWriteProbability: 0.1,
        sendBufferBytes: 4096,
        recvBufferBytes: 4096,
      },
      faultPhaseUs: 100_000,
      livenessUs: 5_000_000,
      checks: ['reqrep.one-reply-per-request', 'reqrep.all-answered'],
    });
    const run = await runScenario(scenario, 'seed-r');
    const dir = mkdtempSync(join(tmpdir(), 'netlab-case-'));
    const good = join(dir, 'case.json');
    const file = {
      schema: 'netlab/case@1',
      scenario,
      simSeed: 'seed-r',
      fcSeed: 1,
      fcPath: '',
      netlabVersion: 't',
      commit: 't',
      failed: [],
      traceHash: run.traceHash,
    };
    writeFileSync(good, JSON.stringify(file));
    const ok = await netlab('replay', good, '--check-determinism');
    expect(ok.code, ok.stdout).toBe(0);
    expect(ok.stdout).toContain(run.traceHash);
    const changed = join(dir, 'changed.json');
    writeFileSync(changed, JSON.stringify({ ...file, traceHash: '0000000000000000' }));
    expect((await netlab('replay', changed)).code).toBe(1);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '{"schema": "netlab/case@1", "simSeed": ');
    const badRun = await netlab('replay', bad);
    expect(badRun.code).toBe(2);
    expect(badRun.stderr).not.toMatch(/at .*\.js:\d+/); // a message, not a stack trace
    expect((await netlab('replay')).code).toBe(2);
  });
});
