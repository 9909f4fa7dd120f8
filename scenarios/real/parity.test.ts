/** The parity suite, as CI runs it: `netlab parity` compares the simulated and the real outcomes. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { STACKS } from '../stacks.js';
import { netlab, requireBuild } from '../testing/spawn.js';
import { parityCasesOf } from './parity.js';

requireBuild();
/** Every stack's cases, in registration order. */
const parityCases = (): { name: string }[] => parityCasesOf(STACKS).map((c) => c.case);
const dir = mkdtempSync(join(tmpdir(), 'netlab-parity-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('netlab parity', () => {
  it('gives every case the same outcome on both runtimes, and writes the cases into a report', async () => {
    const out = join(dir, 'report');
    const r = await netlab('parity', '--json', '--out', out);
    expect(r.stderr).toBe('');
    const printed = JSON.parse(r.stdout) as {
      cases: { name: string; status: string; detail: string; differences: { known: string | null }[] }[];
    };
    expect(printed.cases.map((c) => c.name)).toEqual(parityCases().map((c) => c.name));
    // Print what differed, so a failure here says why without a rerun.
    expect(printed.cases.filter((c) => c.status !== 'pass').map((c) => `${c.name}: ${c.detail}`)).toEqual([]);
    expect(printed.cases.flatMap((c) => c.differences).every((d) => d.known !== null)).toBe(true);
    expect(r.code).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as {
      suites: { name: string; cases: { id: string; runtime: string; family: string; status: string }[] }[];
    };
    const cases = report.suites.flatMap((s) => s.cases);
    expect(cases).toHaveLength(parityCases().length);
    expect(
      cases.every((c) => c.runtime === 'real' && c.family === 'parity' && c.id.startsWith('parity/')),
    ).toBe(true);
  });

  it('names an unknown case and lists the known ones (exit 2)', async () => {
    const r = await netlab('parity', '--case', 'nope');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown parity case 'nope' \(accepted: pair0-tcp, /);
    const list = await netlab('parity', '--list');
    expect(list.stdout.split('\n').filter(Boolean)).toHaveLength(parityCases().length);
  });
});
