/** Where netlab is installed: the package root, found from this module's own location. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The directory holding netlab's package.json, from source (bin/) or from dist/bin/. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: unknown }).name === 'netlab')
      return dir;
    const up = dirname(dir);
    if (up === dir)
      throw new Error('cannot find the netlab package.json above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}
