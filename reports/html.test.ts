import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { fixedReport, PLANTED_TRACE, PLANTED_TRACE_TEXT } from '../web/testing/fixtures.js';
import {
  buildReportHtml,
  DATA_DIR,
  jsonForScript,
  loadWebAssets,
  writeReportHtml,
  type Manifest,
  type WebAssets,
} from './html.js';

const ASSETS: WebAssets = { js: 'window.app = "</script>";', css: 'body { color: black; }' };

/** The text of <script ... id="ID">...</script> in the page. */
function scriptText(html: string, id: string): string | null {
  const m = new RegExp(`<script[^>]* id="${id}">([\\s\\S]*?)</script>`).exec(html);
  return m === null ? null : m[1]!;
}

function manifestOf(html: string): Manifest {
  return JSON.parse(scriptText(html, 'netlab-manifest')!) as Manifest;
}

describe('buildReportHtml', () => {
  it('embeds the report as JSON that parses back to the same value', () => {
    const report = fixedReport();
    const built = buildReportHtml(report, [], ASSETS);
    expect(built.mode).toBe('single');
    expect(built.files).toEqual([]);
    expect(JSON.parse(scriptText(built.html, 'netlab-report')!)).toEqual(JSON.parse(JSON.stringify(report)));
    expect(built.html).toContain('body { color: black; }');
    expect(built.html.startsWith('<!doctype html>')).toBe(true);
  });

  it('embeds the re-run bundle deflated, in both modes, and names it in the manifest', () => {
    const runnerJs = 'globalThis.netlabRunner = { runScenario() {} };';
    for (const limit of [Infinity, 0]) {
      const built = buildReportHtml(fixedReport(), [], { ...ASSETS, runnerJs }, { inlineLimitBytes: limit });
      const manifest = manifestOf(built.html);
      expect(manifest.runner).toBe('netlab-runner');
      expect(inflateSync(Buffer.from(scriptText(built.html, 'netlab-runner')!, 'base64')).toString()).toBe(
        runnerJs,
      );
    }
    const without = buildReportHtml(fixedReport(), [], ASSETS);
    expect(manifestOf(without.html).runner).toBeNull();
    expect(scriptText(without.html, 'netlab-runner')).toBeNull();
  });

  it('escapes </script> and <!-- in the data and in the inlined script', () => {
    const report = fixedReport();
    report.suites[0]!.cases[0]!.title = 'evil </script><script>alert(1)</script> <!-- x';
    const built = buildReportHtml(report, [], ASSETS);
    // Every `</script>` in the page closes one of the page's own script elements.
    const opens = built.html.match(/<script\b/g)!.length;
    const closes = built.html.match(/<\/script>/gi)!.length;
    expect(closes).toBe(opens);
    expect(built.html).not.toContain('<!-- x');
    expect(built.html).toContain('window.app = "<\\/script>"');
    const back = JSON.parse(scriptText(built.html, 'netlab-report')!) as typeof report;
    expect(back.suites[0]!.cases[0]!.title).toBe('evil </script><script>alert(1)</script> <!-- x');
    expect(jsonForScript('\u2028<')).toBe('"\\u2028\\u003c"');
  });

  it('embeds traces deflated and base64-encoded, one element each, and lists missing ones as problems', () => {
    const built = buildReportHtml(
      fixedReport(),
      [
        { path: PLANTED_TRACE, content: PLANTED_TRACE_TEXT },
        { path: 'traces/gone.jsonl', content: null, missing: 'file not found: x/traces/gone.jsonl' },
      ],
      ASSETS,
    );
    const manifest = manifestOf(built.html);
    const entry = manifest.traces[PLANTED_TRACE]!;
    expect('ref' in entry && entry.bytes).toBe(Buffer.byteLength(PLANTED_TRACE_TEXT));
    if (!('ref' in entry)) throw new Error('unreachable');
    const b64 = scriptText(built.html, entry.ref)!;
    expect(inflateSync(Buffer.from(b64, 'base64')).toString('utf8')).toBe(PLANTED_TRACE_TEXT);
    // The trace's own `</script>` is inside base64: the raw text is not in the page.
    expect(built.html).not.toContain('no reply </script>');
    expect(manifest.traces['traces/gone.jsonl']).toEqual({ missing: 'file not found: x/traces/gone.jsonl' });
    expect(manifest.problems).toEqual(['trace traces/gone.jsonl: file not found: x/traces/gone.jsonl']);
  });

  it('embeds a trace of an older schema but lists it as a problem naming both versions', () => {
    const old = PLANTED_TRACE_TEXT.replace('netlab/trace@2', 'netlab/trace@1');
    const built = buildReportHtml(fixedReport(), [{ path: PLANTED_TRACE, content: old }], ASSETS);
    const manifest = manifestOf(built.html);
    expect('ref' in manifest.traces[PLANTED_TRACE]!).toBe(true);
    expect(manifest.problems).toHaveLength(1);
    expect(manifest.problems[0]).toMatch(
      /^trace traces\/planted.*: the trace is schema "netlab\/trace@1" \(version 1\), an older version than this netlab reads: "netlab\/trace@2"/,
    );
  });

  it('above the size limit, moves the data into index.data/ script files', () => {
    const report = fixedReport();
    const built = buildReportHtml(report, [{ path: PLANTED_TRACE, content: PLANTED_TRACE_TEXT }], ASSETS, {
      inlineLimitBytes: 100,
    });
    expect(built.mode).toBe('folder');
    expect(built.dataBytes).toBeGreaterThan(100);
    expect(scriptText(built.html, 'netlab-report')).toBeNull();
    expect(built.html).toContain(`<script src="${DATA_DIR}/report.js"></script>`);
    expect(built.files.map((f) => f.path)).toEqual([`${DATA_DIR}/trace-1.js`, `${DATA_DIR}/report.js`]);
    const reportJs = built.files[1]!.content;
    expect(reportJs.startsWith('window.netlabReport = ')).toBe(true);
    // The data script is plain JS: evaluating it yields the report.
    const sandbox: { netlabReport?: unknown } = {};
    runInNewContext(reportJs, { window: sandbox });
    expect(sandbox.netlabReport).toEqual(JSON.parse(JSON.stringify(report)));
    const traceJs = built.files[0]!.content;
    let loaded: [string, string] | null = null;
    runInNewContext(traceJs, { window: { netlabTraceLoaded: (p: string, b: string) => (loaded = [p, b]) } });
    expect(loaded![0]).toBe(PLANTED_TRACE);
    expect(inflateSync(Buffer.from(loaded![1], 'base64')).toString('utf8')).toBe(PLANTED_TRACE_TEXT);
    const manifest = manifestOf(built.html);
    expect(manifest.mode).toBe('folder');
    expect(manifest.traces[PLANTED_TRACE]).toMatchObject({ ref: `${DATA_DIR}/trace-1.js` });
    // Under the limit, the same input is one file.
    expect(buildReportHtml(report, [], ASSETS, { inlineLimitBytes: 10_000_000 }).mode).toBe('single');
  });
});

describe('writeReportHtml', () => {
  it('reads the traces the cases name from DIR, writes index.html, and a folder only when needed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'netlab-html-'));
    mkdirSync(join(dir, 'traces'));
    writeFileSync(join(dir, PLANTED_TRACE), PLANTED_TRACE_TEXT);
    const report = fixedReport();
    const big = writeReportHtml(dir, report, { assets: ASSETS, inlineLimitBytes: 10 });
    expect(big.mode).toBe('folder');
    expect(existsSync(join(dir, DATA_DIR, 'report.js'))).toBe(true);
    expect(existsSync(join(dir, DATA_DIR, 'trace-1.js'))).toBe(true);
    const small = writeReportHtml(dir, report, { assets: ASSETS });
    expect(small.mode).toBe('single');
    // The folder of the earlier, bigger page is gone: it would be stale.
    expect(existsSync(join(dir, DATA_DIR))).toBe(false);
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    expect(manifestOf(html).traces[PLANTED_TRACE]).toMatchObject({
      bytes: Buffer.byteLength(PLANTED_TRACE_TEXT),
    });
  });

  it('a trace named by a case but absent from DIR is embedded as missing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'netlab-html-'));
    const { html } = writeReportHtml(dir, fixedReport(), { assets: ASSETS });
    const manifest = manifestOf(html);
    expect(manifest.traces[PLANTED_TRACE]).toEqual({
      missing: `file not found: ${join(dir, PLANTED_TRACE)}`,
    });
    expect(manifest.problems).toHaveLength(1);
  });
});

describe('loadWebAssets', () => {
  // The bundle exists after `npm run build` (npm test builds first).
  it.skipIf(!existsSync(new URL('../dist/web/app.js', import.meta.url)))(
    'finds the bundled page, which has no </script in it',
    () => {
      const assets = loadWebAssets();
      expect(assets.js.length).toBeGreaterThan(1000);
      expect(assets.js).not.toMatch(/<\/script/i);
      expect(assets.css).toContain('--fail');
    },
  );
});
