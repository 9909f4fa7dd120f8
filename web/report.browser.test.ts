/**
 * The web report in a real browser: Debian's chromium driven by playwright-core (never a downloaded
 * browser), pages opened from file://. Skipped when chromium is missing, unless NETLAB_REQUIRE_PEERS
 * is set (CI), where a missing chromium fails.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildReportHtml, loadWebAssets, writeReportHtml } from '../reports/html.js';
import { createReport, type Report } from '../reports/schema.js';
import { readReportFile, writeReportFiles } from '../reports/write.js';
import { fixedReport, PLANTED_TRACE, PLANTED_TRACE_TEXT, plantedSuite } from './testing/fixtures.js';

const CHROMIUM = process.env.NETLAB_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const REQUIRED = process.env.NETLAB_REQUIRE_PEERS !== undefined && process.env.NETLAB_REQUIRE_PEERS !== '';
const NETLAB = new URL('../bin/netlab', import.meta.url).pathname;
const BASELINE = new URL('./__screenshots__/report.png', import.meta.url).pathname;
/** Share of pixels that may differ (font hinting, anti-aliasing) before the screenshot test fails. */
const SCREENSHOT_TOLERANCE = 0.01;
/** A pixel differs when one channel differs by more than this. */
const CHANNEL_THRESHOLD = 48;

const exec = promisify(execFile);

it.runIf(REQUIRED && !HAVE_CHROMIUM)('chromium is installed (NETLAB_REQUIRE_PEERS is set)', () => {
  expect.fail(`${CHROMIUM} is missing: apt-get install chromium (or set NETLAB_CHROMIUM)`);
});

/** A page with listeners that collect what must stay empty: page errors, console errors, non-file requests. */
interface Watched {
  page: Page;
  errors: string[];
  requests: string[];
}

describe.skipIf(!HAVE_CHROMIUM)('web report in chromium', () => {
  let browser: Browser;
  let context: BrowserContext;
  let runDir: string;

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    // A real run, then a planted failing suite (netlab against two museum variants) added to it.
    runDir = mkdtempSync(join(tmpdir(), 'netlab-web-'));
    try {
      await exec(NETLAB, ['run', '--runs', '5', '--out', runDir], { timeout: 60_000 });
    } catch (e) {
      // Exit 1 (a finding) still writes the report; anything else is a real problem.
      if ((e as { code?: unknown }).code !== 1) throw e;
    }
    const ran = readReportFile(join(runDir, 'report.json'));
    const { totals: _, ...banner } = ran.banner;
    const report: Report = createReport(banner, [...ran.suites, plantedSuite()]);
    writeReportFiles(runDir, report, [
      { file: PLANTED_TRACE.slice('traces/'.length), content: PLANTED_TRACE_TEXT },
    ]);
    const { stdout } = await exec(NETLAB, ['report', runDir]);
    expect(stdout).toMatch(/report page: .*index\.html/);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
  });

  async function open(file: string, hash = ''): Promise<Watched> {
    context = await browser.newContext({ viewport: { width: 1200, height: 900 }, deviceScaleFactor: 1 });
    const page = await context.newPage();
    page.setDefaultTimeout(5000);
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) requests.push(r.url());
    });
    await page.goto(pathToFileURL(file).href + hash);
    await page.locator('table.matrix').waitFor();
    return { page, errors, requests };
  }

  async function done(w: Watched): Promise<void> {
    expect(w.errors).toEqual([]);
    expect(w.requests).toEqual([]);
    await context.close();
  }

  it('opens from file:// with the banner and the matrix, no error and no request', async () => {
    const w = await open(join(runDir, 'index.html'));
    const { page } = w;
    await expect(page.locator('[data-field="fcSeed"]').textContent()).resolves.toBe('20261122');
    await expect(page.locator('#problems').isHidden()).resolves.toBe(true);
    const heads = await page.locator('thead th.impl').allTextContents();
    expect(heads).toEqual(['netlab', 'museum/lost-reply', 'museum/no-resend']);
    // One row per invariant: the planted case of three impls is one row.
    const row = page.locator('tr[data-row="planted/resend/reqrep.all-answered"]');
    await expect(row.locator('button').allTextContents()).resolves.toEqual(['✗ fail', '✗ fail', '! error']);
    await expect(row.locator('button').first().getAttribute('title')).resolves.toMatch(/^after faults heal/);
    await expect(page.locator('tfoot td[data-impl="museum/no-resend"]').textContent()).resolves.toMatch(
      /1 error/,
    );
    await done(w);
  });

  it('a fail cell opens its case page; Escape closes it and gives the focus back', async () => {
    const w = await open(join(runDir, 'index.html'));
    const { page } = w;
    const cell = page.locator('button[data-case="planted/resend/netlab/reqrep.all-answered"]');
    await cell.click();
    const panel = page.locator('#case-page');
    await expect(panel.locator('.expected').textContent()).resolves.toContain(
      'request 0x80000001 answered after the partition healed',
    );
    await expect(panel.locator('.actual').textContent()).resolves.toContain(
      'no reply after 30 s of virtual time',
    );
    await expect(panel.locator('.invariant').textContent()).resolves.toBe('reqrep.all-answered');
    await expect(panel.locator('.shrinks').textContent()).resolves.toBe('Shrink steps: 5');
    await expect(panel.locator('.counterexample pre').textContent()).resolves.toContain(
      '"kind": "partition"',
    );
    await expect(panel.locator('.coverage li').count()).resolves.toBe(3);
    await expect(panel.locator('a.viewer-link').getAttribute('href')).resolves.toBe(
      '#case=planted%2Fresend%2Fnetlab%2Freqrep.all-answered&view=viewer',
    );
    // The trace is inflated on demand: 6 events.
    await expect(panel.locator('[data-field="events"]').textContent()).resolves.toBe('6 events');
    expect(page.url()).toContain('case=planted%2Fresend%2Fnetlab%2Freqrep.all-answered');
    await page.keyboard.press('Escape');
    await expect(panel.isHidden()).resolves.toBe(true);
    await expect(page.evaluate(() => document.activeElement?.getAttribute('data-case'))).resolves.toBe(
      'planted/resend/netlab/reqrep.all-answered',
    );
    // Keyboard: arrow right moves to the next impl's cell, Enter opens it.
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    await expect(panel.locator('.actual').textContent()).resolves.toContain('the reply was dropped by REP');
    await done(w);
  });

  it('the query bar filters rows and columns, keeps its state in the URL hash, and a reload restores it', async () => {
    const w = await open(join(runDir, 'index.html'));
    const { page } = w;
    const allRows = await page.locator('tbody tr[data-row]').count();
    await page.locator('#q').fill('s:fail');
    await expect(page.locator('tbody tr[data-row]').count()).resolves.toBe(1);
    expect(new URL(page.url()).hash).toBe('#q=s%3Afail');
    await page.locator('#q').fill('s:fail !impl:museum/*');
    await expect(page.locator('thead th.impl').allTextContents()).resolves.toEqual(['netlab']);
    await page.reload();
    await page.locator('table.matrix').waitFor();
    await expect(page.locator('#q').inputValue()).resolves.toBe('s:fail !impl:museum/*');
    await expect(page.locator('tbody tr[data-row]').count()).resolves.toBe(1);
    await expect(page.locator('thead th.impl').allTextContents()).resolves.toEqual(['netlab']);
    await page.locator('#q').fill('');
    await expect(page.locator('tbody tr[data-row]').count()).resolves.toBe(allRows);
    expect(new URL(page.url()).hash).toBe('');
    await page.locator('#q').fill('bogus:1');
    await expect(page.locator('#query-hint').textContent()).resolves.toMatch(/bogus:1/);
    await done(w);
  });

  it('copies the replay command and says so', async () => {
    const w = await open(join(runDir, 'index.html'), '#case=planted%2Fresend%2Fnetlab%2Freqrep.all-answered');
    const { page } = w;
    await context.grantPermissions(['clipboard-read', 'clipboard-write']);
    await page.locator('button.copy').click();
    // The clipboard write is asynchronous: wait for the feedback instead of reading it at once.
    await page.waitForFunction(() => document.querySelector('.copied')?.textContent !== '', undefined, {
      timeout: 5000,
    });
    await expect(page.locator('.copied').textContent()).resolves.toBe('copied');
    await expect(page.evaluate(() => navigator.clipboard.readText())).resolves.toBe(
      'netlab replay reports/latest/cases/planted_resend-netlab.json',
    );
    await done(w);
  });

  it('folder mode (above the inline limit) loads its data with script tags', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netlab-web-folder-'));
    writeReportFiles(dir, fixedReport(), [
      { file: PLANTED_TRACE.slice('traces/'.length), content: PLANTED_TRACE_TEXT },
    ]);
    await exec(NETLAB, ['report', dir, '--inline-limit-mib', '0']);
    expect(existsSync(join(dir, 'index.data', 'trace-1.js'))).toBe(true);
    const w = await open(join(dir, 'index.html'), '#case=planted%2Fresend%2Fnetlab%2Freqrep.all-answered');
    await expect(w.page.locator('[data-field="events"]').textContent()).resolves.toBe('6 events');
    await done(w);
  });

  it('bad input: another schema version, a missing and a corrupt trace are named; the rest renders', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netlab-web-bad-'));
    const json = JSON.parse(JSON.stringify(fixedReport())) as Record<string, unknown> & Report;
    (json as { schema: string }).schema = 'netlab/report@3';
    const other = json.suites[1]!.cases[1]!;
    other.trace = 'traces/corrupt.jsonl';
    json.suites[1]!.cases[5]!.trace = 'traces/missing.jsonl';
    // A trace an older netlab wrote (schema @1): named, summarized, and refused by the viewer.
    const old = json.suites[0]!.cases[0]!;
    old.trace = 'traces/old.jsonl';
    const built = buildReportHtml(
      json,
      [
        { path: PLANTED_TRACE, content: PLANTED_TRACE_TEXT },
        { path: 'traces/missing.jsonl', content: null, missing: 'file not found: traces/missing.jsonl' },
        { path: 'traces/old.jsonl', content: PLANTED_TRACE_TEXT.replace('netlab/trace@2', 'netlab/trace@1') },
      ],
      loadWebAssets(),
    );
    // A corrupt trace: a manifest entry whose data is valid base64 but not deflate.
    const html = built.html;
    const manifestAt = html.indexOf('"traces":{') + '"traces":{'.length;
    const corrupt =
      html.slice(0, manifestAt) +
      '"traces/corrupt.jsonl":{"ref":"netlab-trace-bad","bytes":10,"deflatedBytes":4},' +
      html
        .slice(manifestAt)
        .replace('</body>', '<script type="text/plain" id="netlab-trace-bad">AAAAAAAA</script></body>');
    writeFileSync(join(dir, 'index.html'), corrupt);
    const w = await open(join(dir, 'index.html'));
    const { page } = w;
    const problems = await page.locator('#problems').textContent();
    expect(problems).toMatch(/schema: this report says "netlab\/report@3"/);
    expect(problems).toMatch(/trace traces\/missing\.jsonl: file not found/);
    await expect(page.locator('tbody tr[data-row]').count()).resolves.toBeGreaterThan(3);
    await page.locator(`button[data-case="${other.id}"]`).click();
    await expect(page.locator('#case-page .trace .problem').textContent()).resolves.toMatch(
      /trace traces\/corrupt\.jsonl is corrupt/,
    );
    await page.keyboard.press('Escape');
    await page.locator(`button[data-case="${json.suites[1]!.cases[5]!.id}"]`).click();
    await expect(page.locator('#case-page .trace .problem').textContent()).resolves.toMatch(/is missing/);
    await done(w);

    const schemaWords = /"netlab\/trace@1" \(version 1\).*"netlab\/trace@2" \(version 2\)/;
    expect(problems).toMatch(
      new RegExp(`trace traces/old\\.jsonl: the trace is schema ${schemaWords.source}`),
    );
    const w2 = await open(join(dir, 'index.html'), `#case=${encodeURIComponent(old.id)}`);
    await expect(w2.page.locator('[data-field="trace-schema"]').textContent()).resolves.toMatch(schemaWords);
    await w2.page.locator('a.viewer-link').click();
    await expect(w2.page.locator('.viewer-status .problem').textContent()).resolves.toMatch(
      new RegExp(`^The viewer cannot open this trace: the trace is schema ${schemaWords.source}`),
    );
    await expect(w2.page.locator('canvas.diagram').count()).resolves.toBe(0);
    await done(w2);
  });

  it('a page without a report still renders its frame and says what is wrong', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netlab-web-empty-'));
    const built = buildReportHtml({ nothing: true }, [], loadWebAssets());
    writeFileSync(
      join(dir, 'index.html'),
      built.html.replace(/<script type="application\/json" id="netlab-report">[^<]*<\/script>/, ''),
    );
    context = await browser.newContext();
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(pathToFileURL(join(dir, 'index.html')).href);
    await expect(page.locator('#problems').textContent()).resolves.toMatch(/report data: no embedded report/);
    await expect(page.locator('.empty').textContent()).resolves.toMatch(/No case/);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('looks like its baseline screenshot (fixed report, fixed viewport)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netlab-web-shot-'));
    writeReportFiles(dir, fixedReport(), [
      { file: PLANTED_TRACE.slice('traces/'.length), content: PLANTED_TRACE_TEXT },
    ]);
    writeReportHtml(dir, fixedReport());
    const w = await open(join(dir, 'index.html'), '#cov=1');
    const shot = PNG.sync.read(await w.page.screenshot({ animations: 'disabled', caret: 'hide' }));
    await done(w);
    if (process.env.NETLAB_UPDATE_SCREENSHOTS === '1' || !existsSync(BASELINE)) {
      if (process.env.NETLAB_UPDATE_SCREENSHOTS !== '1')
        expect.fail(`no baseline ${BASELINE}: run with NETLAB_UPDATE_SCREENSHOTS=1 to record it`);
      writeFileSync(BASELINE, PNG.sync.write(shot));
      return;
    }
    const base = PNG.sync.read(readFileSync(BASELINE));
    expect([shot.width, shot.height]).toEqual([base.width, base.height]);
    let differing = 0;
    for (let i = 0; i < base.data.length; i += 4) {
      for (let ch = 0; ch < 3; ch++) {
        if (Math.abs(base.data[i + ch]! - shot.data[i + ch]!) > CHANNEL_THRESHOLD) {
          differing++;
          break;
        }
      }
    }
    const ratio = differing / (base.width * base.height);
    if (ratio >= SCREENSHOT_TOLERANCE) {
      const actual = join(mkdtempSync(join(tmpdir(), 'netlab-shot-')), 'actual.png');
      writeFileSync(actual, PNG.sync.write(shot));
      expect.fail(`${(ratio * 100).toFixed(2)} % of pixels differ from ${BASELINE} (actual: ${actual})`);
    }
  });
});
