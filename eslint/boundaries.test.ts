/**
 * The layer-boundary lint rule (eslint/boundaries.js) on planted imports: run through ESLint itself
 * on fixture text, and as the pure `violation` function on paths. The repository's own config must
 * enable it for every TypeScript file.
 */
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import boundaries, { isOracleFile, stackIds, violation, zoneOf } from './boundaries.js';

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
        rules: { 'netlab/layer-boundaries': 'error', 'netlab/independent-oracles': 'error' },
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
      expect(config.rules['netlab/independent-oracles'], file).toEqual([2]);
    }
  });
});

describe('netlab/independent-oracles', () => {
  it("fails a planted value import of the stack's own implementation into its checks or families", async () => {
    const checks = await messages(
      'scenarios/sp/checks.ts',
      "import { OPTION_DEFAULTS } from '../../impl/sp/options.js';\nexport { hasPrefix } from '../../impl/sp/protocol/pubsub.js';\n",
    );
    expect(checks).toHaveLength(2);
    for (const m of checks) expect(m).toMatch(/an oracle does not reuse the implementation under test/);
    expect(
      await messages(
        'scenarios/echo/families/x.ts',
        "import { DEFAULT_MAX_PENDING } from '../../../impl/echo/requester.js';\n",
      ),
    ).toHaveLength(1);
  });

  it('lets oracles import types, the runtime helpers and their reference; lets actors and tests drive the stack', async () => {
    expect(
      await messages(
        'scenarios/sp/families/x.ts',
        "import type { OptionValues } from '../../../impl/sp/options.js';\nimport { type OptionName } from '../../../impl/sp/options.js';\nimport { fromHex } from '../../../impl/runtime/bytes.js';\nimport { scenarioOption } from '../reference.js';\n",
      ),
    ).toEqual([]);
    expect(
      await messages(
        'scenarios/sp/actors.ts',
        "import { openPair0 } from '../../impl/sp/protocol/pair0.js';\n",
      ),
    ).toEqual([]);
    expect(isOracleFile('scenarios/sp/families/framing.test.ts', ['sp'])).toBe(false);
    expect(isOracleFile('scenarios/sp/sometimes.ts', ['sp'])).toBe(true);
    expect(isOracleFile('scenarios/checks.ts', ['sp'])).toBe(false);
  });
});
