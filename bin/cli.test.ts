import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { runDemo } from '../scenarios/demo.js';

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
