/** Test helper: runs the built `bin/netlab` as a user would and returns its exit code and output. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);
const NETLAB = new URL('../../bin/netlab', import.meta.url).pathname;

export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

export async function netlab(...args: string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run(NETLAB, args, { timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

/** `npm test` builds before vitest; a bare `vitest` run needs `npm run build` first. */
export function requireBuild(): void {
  if (!existsSync(new URL('../../dist/bin/cli.js', import.meta.url)))
    throw new Error('dist/ missing: run `npm run build`');
}
