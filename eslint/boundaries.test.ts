/**
 * The layer-boundary lint rule (eslint/boundaries.js) on planted imports: run through ESLint itself
 * on fixture text, and as the pure `violation` function on paths. The repository's own config must
 * enable it for every TypeScript file.
 */
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import boundaries, { stackIds, violation, zoneOf } from './boundaries.js';

const ROOT = new URL('..', import.meta.url).pathname;

/** ESLint with only the boundary rule (no type information needed), rooted at the repository. */
function ruleOnly(): ESLint {
  return new ESLint({
    cwd: ROOT,
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ['**/*.ts'],
        languageOptions: { parser: tseslint.parser },
        plugins: { netlab: boundaries },
        rules: { 'netlab/layer-boundaries': 'error' },
      },
    ],
  });
}

async function messages(path: string, source: string): Promise<string[]> {
  const [result] = await ruleOnly().lintText(source, { filePath: `${ROOT}${path}` });
  return (result?.messages ?? []).map((m) => m.message);
}

describe('netlab/layer-boundaries', () => {
  it('discovers the stacks from impl/', () => {
    expect(stackIds(ROOT)).toContain('sp');
    expect(stackIds(ROOT)).not.toContain('runtime');
  });

  it('fails a planted import of lab code from impl/', async () => {
    const out = await messages('impl/sp/planted.ts', "import { Lab } from '../../scenarios/lab.js';\n");
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/impl\/ is production code/);
  });

  it('fails a planted import of a stack from the engine', async () => {
    const engine = await messages(
      'scenarios/planted.ts',
      "import { spStack } from './sp/plugin.js';\nimport { openPair0 } from '../impl/sp/protocol/pair0.js';\n",
    );
    expect(engine).toHaveLength(2);
    for (const m of engine) expect(m).toMatch(/the engine knows no stack/);
    expect(await messages('web/planted.ts', "export * from '../scenarios/sp/model.js';\n")).toHaveLength(1);
    expect(
      await messages('fuzz/planted.ts', "const m = import('../scenarios/sp/fuzz/index.js');\n"),
    ).toHaveLength(1);
  });

  it('fails the engine importing the registry, except the browser re-run bundle', async () => {
    expect(await messages('scenarios/runner2.ts', "import { STACKS } from './stacks.js';\n")).toHaveLength(1);
    expect(
      await messages('web/rerun-entry.ts', "import { STACKS } from '../scenarios/stacks.js';\n"),
    ).toEqual([]);
  });

  it("fails a stack importing another stack's lab folder, not its impl/", () => {
    const stacks = ['sp', 'echo', 'grpc', 'h2'];
    expect(violation('scenarios/echo/x.ts', 'scenarios/sp/model.ts', stacks)).toMatch(/another stack's lab/);
    expect(violation('scenarios/grpc/x.ts', 'impl/h2/frames.ts', stacks)).toBeNull();
    expect(violation('impl/grpc/x.ts', 'impl/h2/frames.ts', stacks)).toBeNull();
  });

  it('lets bin/, the registry and a stack import what they need', async () => {
    expect(
      await messages('bin/planted.ts', "import { spStack } from '../scenarios/sp/plugin.js';\n"),
    ).toEqual([]);
    expect(await messages('scenarios/stacks.ts', "import { spStack } from './sp/plugin.js';\n")).toEqual([]);
    expect(
      await messages(
        'scenarios/sp/planted.ts',
        "import { runScenario } from '../runner.js';\nimport '../../impl/sp/options.js';\n",
      ),
    ).toEqual([]);
    expect(zoneOf('scenarios/real/run.ts', ['sp'])).toEqual({ kind: 'engine' });
  });

  it("is on for every TypeScript file in the repository's config", async () => {
    const eslint = new ESLint({ cwd: ROOT });
    for (const file of [
      'impl/sp/options.ts',
      'scenarios/runner.ts',
      'web/viewer.ts',
      'scenarios/sp/run.ts',
    ]) {
      const config = (await eslint.calculateConfigForFile(`${ROOT}${file}`)) as {
        rules: Record<string, unknown>;
      };
      expect(config.rules['netlab/layer-boundaries'], file).toEqual([2]);
    }
  });
});
