/**
 * The CLI over every registered stack: `--list-stacks`, `--stack` on run, fuzz, bench, parity and
 * interop, and listings that name each stack's targets and benches. Stack ids come from the registry,
 * so a new stack is covered by being registered.
 */
import { describe, expect, it } from 'vitest';
import { STACKS } from '../scenarios/stacks.js';
import { netlab, requireBuild } from '../scenarios/testing/spawn.js';
import { LAB } from './lab.js';

requireBuild();

describe('netlab over every stack', () => {
  it('run --list-stacks prints one stack id per line with a description', async () => {
    const r = await netlab('run', '--list-stacks');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines.map((l) => l.split('\t')[0])).toEqual(STACKS.map((s) => s.id));
    for (const l of lines) expect(l.split('\t')[1]!.length).toBeGreaterThan(10);
  });

  it('run --stack narrows properties and variants; an unknown stack is a usage error', async () => {
    for (const s of STACKS) {
      const props = await netlab('run', '--stack', s.id, '--list-properties');
      expect(props.code).toBe(0);
      expect(props.stdout.trim().split('\n')).toEqual(LAB.properties([s]).map((p) => p.spec.id));
      const impls = await netlab('run', '--stack', s.id, '--list-impls');
      expect(impls.stdout.trim().split('\n')).toEqual(['netlab', ...s.impls().keys()]);
    }
    const all = await netlab('run', '--list-properties');
    expect(all.stdout.trim().split('\n')).toEqual(LAB.properties().map((p) => p.spec.id));
    const bad = await netlab('run', '--stack', 'nosuch', '--list-properties');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown stack 'nosuch' \(accepted: all, /);
  });

  it("fuzz --list and bench --list name every stack's targets and benches", async () => {
    const fuzz = await netlab('fuzz', '--list');
    expect(fuzz.code).toBe(0);
    for (const s of STACKS)
      for (const t of s.fuzz?.targets ?? []) expect(fuzz.stdout).toContain(`${t.name.padEnd(18)} [${s.id}]`);
    const bench = await netlab('bench', '--list');
    expect(bench.code).toBe(0);
    const rows = bench.stdout.trim().split('\n');
    expect(rows[0]).toBe('sim\tengine');
    for (const s of STACKS) for (const b of s.benches ?? []) expect(rows).toContain(`${b.name}\t${s.id}`);
    for (const s of STACKS) {
      const only = await netlab('fuzz', '--list', '--stack', s.id);
      for (const other of STACKS.filter((x) => x !== s))
        for (const t of other.fuzz?.targets ?? [])
          expect(only.stdout).not.toContain(`${t.name.padEnd(18)} [`);
    }
    expect((await netlab('bench', 'nosuch')).code).toBe(2);
  });

  it('parity --list narrows to a stack', async () => {
    for (const s of STACKS) {
      const r = await netlab('parity', '--stack', s.id, '--list');
      expect(r.code).toBe(0);
      const names = r.stdout
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(/\s+/)[0]);
      expect(names).toEqual((s.parity?.cases() ?? []).map((c) => c.name));
    }
  });
});
