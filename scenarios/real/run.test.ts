/** `netlab run --runtime real` and `netlab replay --runtime real`, as a user runs them. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { netlab, requireBuild } from '../testing/spawn.js';
import { CASE_SCHEMA } from '../property.js';
import { defineScenario } from '../sp/define.js';
import { topology } from '../sp/generators.js';

requireBuild();
const dir = mkdtempSync(join(tmpdir(), 'netlab-real-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface ReportCase {
  id: string;
  runtime: string;
  impl: string;
  status: string;
  actual: string | null;
}

describe('netlab run --runtime real', () => {
  it('runs a property over real sockets into runtime-real cases, not judging timing checks', async () => {
    const out = join(dir, 'r1');
    const r = await netlab(
      'run',
      '--runtime',
      'real',
      '--property',
      'framing/reqrep',
      '--runs',
      '4',
      '--out',
      out,
      '--workers',
      '1',
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
      suites: { cases: ReportCase[] }[];
      banner: { knobs: Record<string, unknown> };
    };
    const cases = report.suites.flatMap((s) => s.cases);
    expect(cases.length).toBeGreaterThan(0);
    expect(cases.every((c) => c.runtime === 'real' && c.id.includes('/real/'))).toBe(true);
    expect(cases.filter((c) => c.status === 'fail')).toEqual([]);
    expect(cases.some((c) => c.status === 'pass' && /held in \d+ of 4 runs/.test(c.actual ?? ''))).toBe(true);
    expect(report.banner.knobs.runtime).toBe('real');
  });

  it('rejects an unknown runtime with exit 2', async () => {
    const r = await netlab('run', '--runtime', 'moon', '--property', 'framing/pair0');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown runtime 'moon' \(accepted: sim, real, all\)/);
  });

  it('replays a case file over real sockets: reproduced when the same checks fail', async () => {
    const scenario = defineScenario({
      name: 'calm pair',
      ...topology({ pattern: 'pair0', transport: 'tcp' }),
      workload: { sends: [3, 4000].map((bytes) => ({ socket: 'client0', bytes })) },
      checks: ['stack.no-crash', 'delivery.intact-in-order', 'delivery.all-delivered'],
    });
    const file = join(dir, 'case.json');
    const record = (failed: unknown[]): void =>
      writeFileSync(
        file,
        JSON.stringify({
          schema: CASE_SCHEMA,
          scenario,
          simSeed: 's1',
          fcSeed: 1,
          fcPath: '',
          netlabVersion: 'test',
          commit: 'test',
          failed,
          traceHash: '',
        }),
      );
    record([]);
    const ok = await netlab('replay', file, '--runtime', 'real', '--json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ runtime: 'real', reproduced: true, failing: [] });
    // A recorded failure that real sockets do not show is reported as not reproduced (exit 1).
    record([{ id: 'delivery.all-delivered', status: 'fail' }]);
    const not = await netlab('replay', file, '--runtime', 'real');
    expect(not.code).toBe(1);
    expect(not.stdout).toMatch(/NOT reproduced/);
  });
});
