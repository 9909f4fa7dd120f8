/**
 * The plugin conformance suite, run against every registered stack: the registration is complete and
 * its ids unique, every property names checks and "sometimes" conditions that exist, every family
 * can fail (a museum variant of it is caught, by a check the family names), every museum variant is
 * caught by a named check of its own family, the same seed gives the same trace hash, the stack's
 * parity cases, fuzz targets and interop cells are well formed, and the browser re-run bundle builds with the stack
 * in it. A new stack gets all of this by being listed in scenarios/stacks.ts.
 */
import { build } from 'esbuild';
import { replayInput } from '../fuzz/engine.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sometimesOf } from './catalog.js';
import { ENGINE_CHECKS, findCheck, implicitChecks, SELF_CHECK_IDS } from './checks.js';
import { FAULT_PROFILES, TRANSPORTS } from './interop/faults.js';
import { cellId } from './interop/matrix.js';
import { INTEROP_SUITE } from './interop/report.js';
import { Lab } from './lab.js';
import { checkProperty } from './property.js';
import { runScenario } from './runner.js';
import type { AnyStack, ParityCase, StackParity } from './stack.js';
import { STACKS, VIEWER_DECODERS } from './stacks.js';

const ROOT = new URL('..', import.meta.url).pathname;
/** The CLI's default: a museum variant must be caught within `netlab run`'s default runs. */
const RUNS = 100;
const FC_SEED = 1;

const lab = new Lab(STACKS);
const allProperties = lab.properties();

describe('the stack registry', () => {
  it('lists stacks with unique, well-formed ids and a title each', () => {
    const ids = STACKS.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const s of STACKS) {
      expect(s.id).toMatch(/^[a-z][a-z0-9-]{0,31}$/);
      expect(s.title.length).toBeGreaterThan(10);
      expect(s.title).not.toContain('\n');
    }
  });

  it('has property ids, variant names, fuzz targets, benches and parity cases unique across stacks', () => {
    const unique = (xs: string[]): void => expect(xs.length, xs.join(', ')).toBe(new Set(xs).size);
    unique(allProperties.map((p) => p.spec.id));
    unique(STACKS.flatMap((s) => [...s.impls().keys()]));
    expect(STACKS.flatMap((s) => [...s.impls().keys()])).not.toContain('netlab');
    unique(STACKS.flatMap((s) => (s.fuzz?.targets ?? []).map((t) => t.name)));
    unique(['sim', ...STACKS.flatMap((s) => (s.benches ?? []).map((b) => b.name))]);
    unique(STACKS.flatMap((s) => (s.parity?.cases() ?? []).map((c) => c.name)));
  });

  it("lists every stack's viewer decoder for the page bundle, and no other", () => {
    expect(VIEWER_DECODERS).toEqual(STACKS.flatMap((s) => (s.viewer === undefined ? [] : [s.viewer])));
    for (const s of STACKS) if (s.viewer !== undefined) expect(s.viewer.stack).toBe(s.id);
  });

  it('builds the browser re-run bundle with every stack in it', async () => {
    const out = await build({
      entryPoints: [`${ROOT}web/rerun-entry.ts`],
      bundle: true,
      format: 'iife',
      platform: 'browser',
      write: false,
      metafile: true,
      logLevel: 'silent',
      plugins: [
        {
          name: 'node-builtins-stubbed',
          setup(b) {
            b.onResolve({ filter: /^node:/ }, (a) => ({ path: a.path, namespace: 'node-builtin' }));
            b.onLoad({ filter: /.*/, namespace: 'node-builtin' }, () => ({
              contents: 'module.exports = {};',
            }));
          },
        },
      ],
    });
    const inputs = Object.keys(out.metafile.inputs);
    for (const s of STACKS)
      expect(
        inputs.some((i) => i.startsWith(`scenarios/${s.id}/`)),
        `scenarios/${s.id}/ in the bundle`,
      ).toBe(true);
  });
});

describe.each(STACKS.map((s) => [s.id, s] as const))('stack %s', (_id, stack: AnyStack) => {
  const properties = allProperties.filter((p) => p.stack === stack);
  const engineSometimes = sometimesOf(stack).map((x) => x.id);

  it('has families, each with properties whose checks and "sometimes" conditions exist', () => {
    expect(stack.families.length).toBeGreaterThan(0);
    for (const family of stack.families) {
      expect(family.properties.length, family.name).toBeGreaterThan(0);
      for (const p of family.properties) {
        expect(p.family, p.id).toBe(family.name);
        expect(p.checks.length, p.id).toBeGreaterThan(0);
        for (const c of p.checks) expect(findCheck(stack.checks(), c), `${p.id}: ${c}`).toBeDefined();
        for (const x of p.sometimes) expect(engineSometimes, `${p.id}: sometimes ${x}`).toContain(x);
        for (const proto of p.protocols) expect(stack.protocols()).toContain(proto);
      }
    }
    // A stack's check ids do not shadow the engine's.
    for (const id of stack.checks().keys()) expect(ENGINE_CHECKS.has(id), id).toBe(false);
  });

  it('generates scenarios of its own stack that it parses back, and runs one deterministically', async () => {
    const p = properties[0]!.spec;
    const [scenario] = fc.sample(p.arb({ impl: 'netlab', transports: p.transports }), {
      seed: FC_SEED,
      numRuns: 1,
    });
    expect(scenario!.stack).toBe(stack.id);
    const parsed = lab.parseScenario(JSON.parse(JSON.stringify(scenario)));
    expect(parsed.stack).toBe(stack.id);
    const a = await runScenario(stack, parsed, 'conformance');
    const b = await runScenario(stack, parsed, 'conformance');
    expect(a.traceHash).toMatch(/^[0-9a-f]{16}$/);
    expect(b.traceHash).toBe(a.traceHash);
    // The scenario's checks in its order, then the implicit ones it does not name (all pass).
    expect(a.checks.map((c) => c.id)).toEqual([...parsed.checks, ...implicitChecks(parsed.checks, true)]);
    expect(a.checks.find((c) => c.id === 'stack.workload-completes')?.status).toBe('pass');
    expect(a.checks.filter((c) => c.id.startsWith('sim.')).map((c) => c.status)).toEqual(
      SELF_CHECK_IDS.map(() => 'pass'),
    );
  });

  it("has a museum variant for every family, each caught by a check its family names (netlab run's default runs)", async () => {
    const variants = [...stack.impls()].filter(([name]) => name.startsWith('museum/'));
    const families = new Set(variants.map(([, v]) => v.family));
    for (const f of stack.families)
      expect(families.has(f.name), `family ${f.name} has no museum variant showing it can fail`).toBe(true);
    const missed: string[] = [];
    for (const [name, variant] of variants) {
      const own = properties.filter((p) => p.family.name === variant.family);
      expect(own.length, `${name}: its family ${String(variant.family)} has properties`).toBeGreaterThan(0);
      let caughtBy: string | undefined;
      for (const p of own) {
        const out = await checkProperty({
          stack,
          arb: p.spec.arb({ impl: name, transports: p.spec.transports }),
          fcSeed: FC_SEED,
          runs: RUNS,
          netlabVersion: 'conformance',
          commit: 'conformance',
        });
        if (out.ok) continue;
        const named = out.counterexample!.failed.map((f) => f.id).filter((id) => p.spec.checks.includes(id));
        if (named.length > 0) {
          caughtBy = `${p.spec.id}: ${named.join(', ')}`;
          break;
        }
      }
      if (caughtBy === undefined) missed.push(name);
    }
    expect(missed, 'museum variants no named check of their family caught').toEqual([]);
  }, 600_000);

  it('has parity cases (if any) that parse and pass on the simulator', async () => {
    // The registry erases a stack's types (AnyStack); here only the engine's view is needed.
    const parity = stack.parity as StackParity | undefined;
    const cases: ParityCase[] = parity?.cases() ?? [];
    for (const c of cases) {
      expect(c.scenario.stack).toBe(stack.id);
      const r = await runScenario(stack, lab.parseScenario(JSON.parse(JSON.stringify(c.scenario))), 'parity');
      expect(
        r.checks.filter((x) => x.status === 'fail'),
        c.name,
      ).toEqual([]);
      const outcome = parity!.outcome(c.scenario, r);
      expect(outcome.crashed).toBe(false);
    }
  });

  it('has fuzz targets (if any) that generate seeds deterministically and run netlab clean on them', async () => {
    for (const t of stack.fuzz?.targets ?? []) {
      const seeds = t.seeds(7, 8);
      expect(seeds.length, t.name).toBeGreaterThan(0);
      expect(JSON.stringify(t.seeds(7, 8))).toBe(JSON.stringify(seeds));
      for (const input of seeds) expect(await replayInput(t, 'netlab', input), t.name).toBeNull();
    }
  });

  it('has an interop matrix (if any) whose cells stay on its declared axes and read as report cases of its own', async () => {
    const interop = stack.interop;
    if (interop === undefined) return;
    const peers = interop.peers.map((p) => p.id);
    for (const axis of [peers, interop.protocols, interop.roles]) {
      expect(axis.length).toBeGreaterThan(0);
      expect(new Set(axis).size).toBe(axis.length);
    }
    for (const [name, members] of Object.entries(interop.protocolGroups))
      for (const m of members) expect(interop.protocols, `group ${name}`).toContain(m);
    const runner = await interop.load();
    const all = {
      peers,
      protocols: interop.protocols,
      roles: interop.roles,
      transports: TRANSPORTS,
      quick: false,
    };
    const cells = runner.cells({ ...all, faults: FAULT_PROFILES });
    expect(cells.length).toBeGreaterThan(0);
    expect(new Set(cells.map(cellId)).size).toBe(cells.length);
    for (const c of cells) {
      expect(c.stack).toBe(stack.id);
      expect(peers).toContain(c.peer);
      expect(interop.protocols).toContain(c.protocol);
      expect(interop.roles).toContain(c.role);
    }
    // A value of another stack's axis selects none of its cells (it is not read as "all").
    expect(runner.cells({ ...all, faults: FAULT_PROFILES, peers: ['no-such-peer'] })).toEqual([]);
    const quick = runner.cells({ ...all, faults: FAULT_PROFILES, quick: true });
    expect(quick.length).toBeGreaterThan(0);
    expect(quick.length).toBeLessThan(cells.length);
    const c = cells[0]!;
    const kase = runner.caseOf(
      {
        ...c,
        id: cellId(c),
        status: 'pass',
        detail: 'made up',
        peerVersion: '1.0.0',
        durationMs: 1,
        trace: [],
      },
      'seed',
    );
    expect(kase).toMatchObject({ stack: stack.id, family: INTEROP_SUITE, runtime: 'real', status: 'pass' });
    expect(kase.id.startsWith(`${INTEROP_SUITE}/`)).toBe(true);
    expect(kase.replay).toMatch(/^netlab interop /);
  });
});
