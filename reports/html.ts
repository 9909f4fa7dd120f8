/**
 * Builds the web report (Node only): DIR/index.html, one self-contained page that opens from
 * file:// with no network request. It inlines the page's script and style (bundled from web/ at
 * build time into dist/web/), embeds report.json and every trace the cases point at (deflated and
 * base64-encoded, so the page inflates one trace only when its case is opened). Above a size
 * limit (INLINE_LIMIT_BYTES, 20 MiB of embedded data) the data moves into a folder beside it,
 * DIR/index.data/, as small scripts the page loads with <script src> tags: a page on file://
 * cannot fetch().
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { traceSchemaProblem } from '../sim/trace.js';
import { isReportRelativePath } from './schema.js';
import { writeFileAtomicSync } from './write.js';

/** Embedded data (report JSON + base64 traces) above which the data goes to DIR/index.data/. */
export const INLINE_LIMIT_BYTES = 20 * 1024 * 1024;

export const INDEX_HTML = 'index.html';
/** The folder of data scripts in folder mode, beside index.html. */
export const DATA_DIR = 'index.data';

/** Per trace path (as a case's `trace` says it): where its bytes are, or why they are not there. */
export type TraceEntry =
  | {
      /** Single mode: id of the <script type="text/plain"> holding base64 deflate. Folder mode: the script file, relative to index.html. */
      ref: string;
      /** Size of the trace file, bytes. */
      bytes: number;
      /** Size of the deflated bytes. */
      deflatedBytes: number;
    }
  | { missing: string };

/** What the page reads from <script id="netlab-manifest">. The contract between this builder and web/main.ts. */
export interface Manifest {
  mode: 'single' | 'folder';
  /** Folder mode: the script that sets window.netlabReport (relative to index.html). */
  reportScript: string | null;
  traces: Record<string, TraceEntry>;
  /** Problems the builder found (a missing trace file...), shown in the page's banner. */
  problems: string[];
  /**
   * Id of the <script type="text/plain"> holding the in-page re-run bundle (base64 deflate), which
   * the viewer inflates and runs only when asked; null when the page was built without it.
   */
  runner?: string | null;
}

export interface WebAssets {
  /** The page script: web/app-entry.ts (web/main.ts and the stacks' decoders) bundled (IIFE) by web/build.mjs into dist/web/app.js. */
  js: string;
  /** web/style.css */
  css: string;
  /** The in-page re-run bundle: web/rerun-entry.ts bundled into dist/web/runner.js (optional: no re-run without it). */
  runnerJs?: string;
}

/** A trace as the builder embeds it: the path a case names, and its content (null: missing, with why). */
export interface TraceInput {
  path: string;
  content: Uint8Array | string | null;
  /** Why content is null (e.g. "file not found: DIR/traces/x.jsonl"). */
  missing?: string;
}

export interface BuildHtmlOptions {
  /** Default INLINE_LIMIT_BYTES. */
  inlineLimitBytes?: number;
  /** Title of the page; default "netlab report". */
  title?: string;
}

export interface BuiltHtml {
  mode: 'single' | 'folder';
  html: string;
  /** Folder mode: files to write under DIR (paths relative to DIR, e.g. "index.data/trace-1.js"). */
  files: { path: string; content: string }[];
  /** Bytes of embedded data (report JSON + base64 traces), compared with the limit. */
  dataBytes: number;
}

/**
 * Makes JSON safe inside a <script> element: `<` becomes \u003c, so neither `</script>` nor `<!--`
 * in the data can end or confuse the element; U+2028/U+2029 are escaped for older JS parsers.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Escapes text for an HTML text node or attribute value. */
function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** Inline script text must not contain `</script` (it would end the element early). */
function inlineScript(js: string): string {
  return js.replace(/<\/(script)/gi, '<\\/$1');
}

/** Why the viewer cannot read a trace file (its header names another schema version), or null. */
function traceHeaderProblem(raw: Uint8Array): string | null {
  const end = raw.indexOf(0x0a);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(raw.subarray(0, end < 0 ? raw.length : end)));
  } catch {
    return null; // not a header: the page counts bad lines itself
  }
  const schema = (header as { schema?: unknown } | null)?.schema;
  return typeof schema === 'string' ? traceSchemaProblem(schema) : null;
}

/**
 * Builds the page. `reportJson` is embedded as given (the page checks it and reports what is
 * wrong), so a caller that wants a valid report validates first (`netlab report` does).
 */
export function buildReportHtml(
  reportJson: unknown,
  traces: readonly TraceInput[],
  assets: WebAssets,
  options: BuildHtmlOptions = {},
): BuiltHtml {
  const limit = options.inlineLimitBytes ?? INLINE_LIMIT_BYTES;
  const reportText = jsonForScript(reportJson);
  const problems: string[] = [];
  const encoded: { path: string; b64: string; bytes: number; deflatedBytes: number }[] = [];
  const traceEntries: Record<string, TraceEntry> = {};
  for (const t of traces) {
    if (t.content === null) {
      const why = t.missing ?? 'not found';
      traceEntries[t.path] = { missing: why };
      problems.push(`trace ${t.path}: ${why}`);
      continue;
    }
    const raw = typeof t.content === 'string' ? Buffer.from(t.content, 'utf8') : t.content;
    const schemaProblem = traceHeaderProblem(raw);
    // Embedded all the same (its summary still shows); the viewer refuses it with the same words.
    if (schemaProblem !== null) problems.push(`trace ${t.path}: ${schemaProblem}`);
    const deflated = deflateSync(raw, { level: 9 });
    encoded.push({
      path: t.path,
      b64: Buffer.from(deflated).toString('base64'),
      bytes: raw.length,
      deflatedBytes: deflated.length,
    });
  }
  const dataBytes = reportText.length + encoded.reduce((n, e) => n + e.b64.length, 0);
  const mode = dataBytes > limit ? 'folder' : 'single';
  const files: { path: string; content: string }[] = [];
  const dataTags: string[] = [];
  encoded.forEach((e, i) => {
    if (mode === 'single') {
      const ref = `netlab-trace-${i + 1}`;
      traceEntries[e.path] = { ref, bytes: e.bytes, deflatedBytes: e.deflatedBytes };
      // base64 has no `<`: safe as raw text of a non-executed script element.
      dataTags.push(`<script type="text/plain" id="${ref}">${e.b64}</script>`);
    } else {
      const ref = `${DATA_DIR}/trace-${i + 1}.js`;
      traceEntries[e.path] = { ref, bytes: e.bytes, deflatedBytes: e.deflatedBytes };
      files.push({
        path: ref,
        content: `window.netlabTraceLoaded(${jsonForScript(e.path)}, "${e.b64}");\n`,
      });
    }
  });
  let reportTag: string;
  let reportScript: string | null = null;
  if (mode === 'single') {
    reportTag = `<script type="application/json" id="netlab-report">${reportText}</script>`;
  } else {
    reportScript = `${DATA_DIR}/report.js`;
    files.push({ path: reportScript, content: `window.netlabReport = ${reportText};\n` });
    reportTag = `<script src="${reportScript}"></script>`;
  }
  // The re-run bundle is code, not data: inline in both modes (deflated, ~0.25 MB of base64).
  let runner: string | null = null;
  if (assets.runnerJs !== undefined) {
    runner = 'netlab-runner';
    dataTags.push(
      `<script type="text/plain" id="${runner}">${Buffer.from(deflateSync(Buffer.from(assets.runnerJs, 'utf8'), { level: 9 })).toString('base64')}</script>`,
    );
  }
  const manifest: Manifest = { mode, reportScript, traces: traceEntries, problems, runner };
  const title = escapeHtml(options.title ?? 'netlab report');
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline' file:; style-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="netlab report (reports/html.ts)">
<title>${title}</title>
<style>
${assets.css}
</style>
</head>
<body>
<noscript><p>This report needs JavaScript to render; the data is in report.json beside this file.</p></noscript>
<div id="app"><p class="loading">Loading the report…</p></div>
<script type="application/json" id="netlab-manifest">${jsonForScript(manifest)}</script>
${reportTag}
${dataTags.join('\n')}
<script>
${inlineScript(assets.js)}
</script>
</body>
</html>
`;
  return { mode, html, files, dataBytes };
}

/**
 * The bundled page script and style: dist/web/app.js and dist/web/style.css, found from this module
 * whether it runs compiled (dist/reports/html.js) or from source under vitest (reports/html.ts).
 */
export function loadWebAssets(): WebAssets {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, '..', 'web'), join(here, '..', 'dist', 'web')];
  for (const dir of candidates) {
    const js = join(dir, 'app.js');
    const css = join(dir, 'style.css');
    const runner = join(dir, 'runner.js');
    if (existsSync(js) && existsSync(css))
      return {
        js: readFileSync(js, 'utf8'),
        css: readFileSync(css, 'utf8'),
        ...(existsSync(runner) ? { runnerJs: readFileSync(runner, 'utf8') } : {}),
      };
  }
  throw new Error(
    `the web report's bundle is missing (looked for app.js and style.css in ${candidates.join(', ')}); run \`npm run build\``,
  );
}

/** Every distinct `trace` path the cases of a (parsed) report name, in report order. */
export function tracePaths(report: {
  suites: readonly { cases: readonly { trace: string | null }[] }[];
}): string[] {
  const out = new Set<string>();
  for (const s of report.suites) for (const c of s.cases) if (c.trace !== null) out.add(c.trace);
  return [...out];
}

export interface WriteHtmlOptions extends BuildHtmlOptions {
  /** Default loadWebAssets(). */
  assets?: WebAssets;
}

/**
 * Writes DIR/index.html for a report already read from DIR/report.json (and, in folder mode, the
 * files of DIR/index.data/, replacing any older ones). Traces are read from DIR; a missing one is
 * embedded as missing and listed in the page's banner. Returns what was written.
 */
export function writeReportHtml(
  dir: string,
  report: { suites: readonly { cases: readonly { trace: string | null }[] }[] },
  options: WriteHtmlOptions = {},
): BuiltHtml & { indexHtml: string } {
  const traces: TraceInput[] = tracePaths(report).map((path) => {
    if (!isReportRelativePath(path))
      return { path, content: null, missing: 'not a path inside the report folder' };
    const file = join(dir, path);
    try {
      return { path, content: readFileSync(file) };
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      return {
        path,
        content: null,
        missing: code === 'ENOENT' ? `file not found: ${file}` : `cannot read ${file}: ${String(e)}`,
      };
    }
  });
  const built = buildReportHtml(report, traces, options.assets ?? loadWebAssets(), options);
  const dataDir = join(dir, DATA_DIR);
  // A folder of an earlier, bigger run must not linger beside a single-file page (nor mix with a new one).
  if (existsSync(dataDir) && readdirSync(dataDir).every((f) => /^(report|trace-\d+)\.js$/.test(f)))
    rmSync(dataDir, { recursive: true, force: true });
  for (const f of built.files) {
    const path = join(dir, f.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileAtomicSync(path, f.content);
  }
  const indexHtml = join(dir, INDEX_HTML);
  writeFileAtomicSync(indexHtml, built.html);
  return { ...built, indexHtml };
}
