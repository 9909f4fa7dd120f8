/**
 * The mutation runs' load-failure reporter: a test file that throws on import ends with one failed
 * test carrying the error (so Stryker counts the mutant killed); a file that loaded is untouched.
 * Runs vitest for real on two throwaway files, as the Stryker runner does (createVitest, start,
 * then state.getFiles()), so a vitest upgrade that changes where the failure lands shows here.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createVitest } from 'vitest/node';
import LoadFailureAsFailedTest from './vitest-load-failure-reporter.js';

const dir = mkdtempSync(path.join(tmpdir(), 'netlab-load-failure-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('LoadFailureAsFailedTest', () => {
  it('gives a file that fails to load one failed test with its error, and leaves a loaded file alone', async () => {
    writeFileSync(
      path.join(dir, 'mod.js'),
      "throw new Error('module refused to load');\nexport const x = 1;\n",
    );
    writeFileSync(
      path.join(dir, 'broken.test.js'),
      "import { it } from 'vitest';\nimport { x } from './mod.js';\nit('uses x', () => { if (x !== 1) throw new Error('x'); });\n",
    );
    writeFileSync(path.join(dir, 'fine.test.js'), "import { it } from 'vitest';\nit('passes', () => {});\n");
    const vitest = await createVitest(
      'test',
      {
        root: dir,
        config: false,
        watch: false,
        reporters: [new LoadFailureAsFailedTest()],
        include: ['*.test.js'],
      },
      {},
    );
    try {
      await vitest.start();
      const files = vitest.state.getFiles();
      const broken = files.find((f) => f.name.endsWith('broken.test.js'))!;
      const fine = files.find((f) => f.name.endsWith('fine.test.js'))!;
      expect(broken.tasks).toHaveLength(1);
      expect(broken.tasks[0]!.type).toBe('test');
      expect(broken.tasks[0]!.result?.state).toBe('fail');
      expect(broken.tasks[0]!.result?.errors?.[0]?.message).toContain('module refused to load');
      expect(fine.tasks.map((t) => [t.name, t.result?.state])).toEqual([['passes', 'pass']]);
    } finally {
      await vitest.close();
    }
  });
});
