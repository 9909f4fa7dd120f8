import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { netlab, requireBuild } from '../scenarios/testing/spawn.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseReport } from '../reports/schema.js';
import { runDemo } from '../scenarios/echo/demo.js';
import { defineScenario } from '../scenarios/sp/define.js';
import { topology } from '../scenarios/sp/generators.js';
import { runScenario } from '../scenarios/sp/run.js';

beforeAll(requireBuild);

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
    expect(readFileSync(join(out, sampleTrace), 'utf8').split('\n')[0]).toContain('netlab/trace@2');
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
      schema: 'netlab/case@2',
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
    writeFileSync(bad, '{"schema": "netlab/case@2", "simSeed": ');
    const badRun = await netlab('replay', bad);
    expect(badRun.code).toBe(2);
    expect(badRun.stderr).not.toMatch(/at .*\.js:\d+/); // a message, not a stack trace
    expect((await netlab('replay')).code).toBe(2);
    // A case file from before stacks (case@1, scenario version 1) is refused naming both versions.
    const old = join(dir, 'old.json');
    const { stack: _stack, ...v1 } = scenario;
    writeFileSync(old, JSON.stringify({ ...file, schema: 'netlab/case@1', scenario: { ...v1, version: 1 } }));
    const oldRun = await netlab('replay', old);
    expect(oldRun.code).toBe(2);
    expect(oldRun.stderr).toContain('netlab/case@1');
    expect(oldRun.stderr).toContain('netlab/case@2');
  });
});

describe('netlab run --shard / --workers, netlab merge', () => {
  const BASE = ['--suite', 'framing', '--runs', '10', '--seed', '11'];
  const tmp = (): string => mkdtempSync(join(tmpdir(), 'netlab-shard-'));
  const read = (dir: string) => parseReport(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')));
  const outcome = (dir: string): string[] =>
    read(dir)
      .suites.flatMap((s) => s.cases)
      .map((c) => `${c.id} ${c.status} ${c.traceHash} ${JSON.stringify(c.counterexample)}`)
      .sort();

  it('bad --shard and --workers values exit 2 naming what is accepted', async () => {
    for (const shard of ['0/2', '3/2', 'x']) {
      const r = await netlab('run', ...BASE, '--shard', shard, '--out', tmp());
      expect(r.code, shard).toBe(2);
      expect(r.stderr).toContain(`--shard must be i/n with 1 <= i <= n`);
      expect(r.stderr).toContain(`got '${shard}'`);
    }
    const w = await netlab('run', ...BASE, '--workers', '0', '--out', tmp());
    expect(w.code).toBe(2);
    expect(w.stderr).toMatch(/--workers must be between 1 and/);
  });

  it('worker threads give the same cases, hashes and counterexamples as one thread, in the same order', async () => {
    const one = tmp();
    const two = tmp();
    const a = await netlab('run', ...BASE, '--workers', '1', '--out', one);
    const b = await netlab('run', ...BASE, '--workers', '2', '--out', two);
    expect(a.code, a.stderr).toBe(0);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/2 worker threads/);
    const ids = (dir: string) => read(dir).suites.flatMap((s) => s.cases.map((c) => c.id));
    expect(ids(two)).toEqual(ids(one));
    expect(outcome(two)).toEqual(outcome(one));
    expect(read(two).banner.scenarioRuns).toBe(read(one).banner.scenarioRuns);
  });

  it('run --shard 1/2 + 2/2, merged, equals the unsharded run; merge exits like run', async () => {
    const whole = tmp();
    const s1 = tmp();
    const s2 = tmp();
    expect((await netlab('run', ...BASE, '--out', whole)).code).toBe(0);
    expect((await netlab('run', ...BASE, '--shard', '1/2', '--out', s1)).code).toBe(0);
    expect((await netlab('run', ...BASE, '--shard', '2/2', '--out', s2)).code).toBe(0);
    expect(outcome(s1)).not.toEqual(outcome(whole));
    const merged = join(tmp(), 'merged');
    const m = await netlab('merge', s1, s2, '--out', merged);
    expect(m.code, m.stderr).toBe(0);
    expect(outcome(merged)).toEqual(outcome(whole));
    const report = read(merged);
    expect(report.banner.wallMs).toBe(read(s1).banner.wallMs + read(s2).banner.wallMs);
    expect(report.banner.knobs.merged).toBe(2);
    // Every trace a case points at was copied.
    for (const c of report.suites.flatMap((s) => s.cases))
      if (c.trace !== null) expect(existsSync(join(merged, c.trace)), c.trace).toBe(true);
    expect(readFileSync(join(merged, 'junit.xml'), 'utf8')).toMatch(/<testsuites/);
  });

  it('merge: a bad report, a different fcSeed, a clashing case or a missing --out exit 2 with a message', async () => {
    const good = tmp();
    expect((await netlab('run', ...BASE, '--property', 'framing/pair0', '--out', good)).code).toBe(0);
    const bad = tmp();
    const raw = JSON.parse(readFileSync(join(good, 'report.json'), 'utf8')) as {
      banner: { fcSeed: number };
      suites: { cases: { status: string }[] }[];
    };
    raw.suites[0]!.cases[0]!.status = 'passed';
    writeFileSync(join(bad, 'report.json'), JSON.stringify(raw));
    const r1 = await netlab('merge', good, bad, '--out', join(tmp(), 'm'));
    expect(r1.code).toBe(2);
    expect(r1.stderr).toContain(join(bad, 'report.json'));
    expect(r1.stderr).toContain('suites[0].cases[0].status');

    const other = tmp();
    expect(
      (await netlab('run', ...BASE.slice(0, -1), '12', '--property', 'framing/pair0', '--out', other)).code,
    ).toBe(0);
    const r2 = await netlab('merge', good, other, '--out', join(tmp(), 'm'));
    expect(r2.code).toBe(2);
    expect(r2.stderr).toMatch(/banner\.fcSeed is 12 but .* has 11/);

    const clash = tmp();
    const again = JSON.parse(readFileSync(join(good, 'report.json'), 'utf8')) as {
      suites: { cases: { title: string }[] }[];
    };
    again.suites[0]!.cases[0]!.title = 'changed';
    mkdirSync(clash, { recursive: true });
    writeFileSync(join(clash, 'report.json'), JSON.stringify(again));
    const r3 = await netlab('merge', good, clash, '--out', join(tmp(), 'm'));
    expect(r3.code).toBe(2);
    expect(r3.stderr).toMatch(/with different contents/);
    // The same report twice is the same cases: nothing clashes.
    expect((await netlab('merge', good, good, '--out', join(tmp(), 'm'))).code).toBe(0);

    const r4 = await netlab('merge', good);
    expect(r4.code).toBe(2);
    expect(r4.stderr).toContain('--out DIR is required');
    expect((await netlab('merge', join(tmp(), 'nothing-here'), '--out', join(tmp(), 'm'))).code).toBe(2);
  });
});
