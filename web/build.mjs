// Bundles the report page (web/main.ts, one IIFE) and copies its style into dist/web/, where
// reports/html.ts finds them to inline into index.html. Runs after tsc in `npm run build`.
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..') + '/';
mkdirSync(`${root}dist/web`, { recursive: true });
await build({
  entryPoints: [`${root}web/main.ts`],
  outfile: `${root}dist/web/app.js`,
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
});
copyFileSync(`${root}web/style.css`, `${root}dist/web/style.css`);
