/**
 * The reactor families: netlab passes every property at fcSeed 1, and each museum variant is caught
 * by the family meant to catch it within the CLI's default 100 runs.
 */
import { describe, expect, it } from 'vitest';
import { REACTOR_MUSEUM } from '../museum/index.js';
import { REACTOR_FAMILIES } from './index.js';
import { checkReactorProperty } from './testing.js';

describe('reactor families', () => {
  for (const family of REACTOR_FAMILIES)
    for (const p of family.properties)
      it(`netlab passes ${p.id} (30 runs, fcSeed 1)`, async () => {
        const out = await checkReactorProperty(p, 'netlab', 1, 30);
        expect(out.counterexample?.failed ?? []).toEqual([]);
        expect(out.ok).toBe(true);
      });

  for (const [name, variant] of REACTOR_MUSEUM)
    it(`${name} is caught by ${variant.family} within 100 runs at fcSeed 1`, async () => {
      const family = REACTOR_FAMILIES.find((f) => f.name === variant.family)!;
      const failed: string[] = [];
      for (const p of family.properties) {
        const out = await checkReactorProperty(p, name);
        if (!out.ok) failed.push(`${p.id}: ${out.counterexample!.failed.map((f) => f.id).join(', ')}`);
      }
      expect(failed.length).toBeGreaterThan(0);
    });
});
