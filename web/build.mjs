// Bundles the report page (web/app-entry.ts: web/main.ts started with the stacks' message decoders,
// one IIFE), the in-page re-run bundle (web/rerun-entry.ts: the scenario runner, loaded by the viewer
// on demand) and copies the style into dist/web/, where reports/html.ts finds them to inline into
// index.html. Runs after tsc in `npm run build`.
import { copyFileSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The runner bundle is zod + fast-check + the stack; a jump past this means something heavy crept in. */
const RUNNER_BYTES_MAX = 1.5 * 1024 * 1024;
/**
 * The page bundle: the report and the viewer (about 60 KB) plus the tree-shaken parts of chart.js
 * the viewer's charts register (about 170 KB). It is inlined into every index.html.
 */
const APP_BYTES_MAX = 320 * 1024;

const root = join(dirname(fileURLToPath(import.meta.url)), '..') + '/';
mkdirSync(`${root}dist/web`, { recursive: true });
const common = {
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2022',
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
};
/**
 * Both bundles import the stack registry (the page only its VIEWER_DECODERS), and a stack's plugin reaches Node-only code (its
 * benchmarks, which drive real sockets) through dynamic imports that only `netlab bench` calls. In
 * the browser those modules are never loaded: their Node builtins resolve to an empty stub so the
 * bundle builds, and a module that did load one by mistake would fail at its first use.
 */
const nodeBuiltinsStubbed = {
  name: 'node-builtins-stubbed',
  setup(b) {
    b.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: 'node-builtin' }));
    b.onLoad({ filter: /.*/, namespace: 'node-builtin' }, () => ({
      contents: 'module.exports = {};',
      loader: 'js',
    }));
  },
};
await build({
  ...common,
  entryPoints: [`${root}web/app-entry.ts`],
  outfile: `${root}dist/web/app.js`,
  plugins: [nodeBuiltinsStubbed],
});
await build({
  ...common,
  entryPoints: [`${root}web/rerun-entry.ts`],
  outfile: `${root}dist/web/runner.js`,
  plugins: [nodeBuiltinsStubbed],
});
const appBytes = statSync(`${root}dist/web/app.js`).size;
if (appBytes > APP_BYTES_MAX)
  throw new Error(`dist/web/app.js is ${appBytes} bytes, above the ${APP_BYTES_MAX} budget`);
const runnerBytes = statSync(`${root}dist/web/runner.js`).size;
if (runnerBytes > RUNNER_BYTES_MAX)
  throw new Error(`dist/web/runner.js is ${runnerBytes} bytes, above the ${RUNNER_BYTES_MAX} budget`);
copyFileSync(`${root}web/style.css`, `${root}dist/web/style.css`);
