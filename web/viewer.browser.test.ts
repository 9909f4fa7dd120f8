/**
 * The scenario viewer in a real browser (Debian's chromium driven by playwright-core, file://): a
 * failing museum case produced by `netlab run` opened from its case page, the failure pin, the
 * scrubber and keys, the message pane's field/byte hover, zoom, the filter across the panes (and
 * its URL round trip), charts per connection and brush-selecting a range on them, the in-page rerun
 * (same trace hash as Node's; a removed fault diverges, drawn as a second diagram on the same time
 * axis with the divergence marked on both), same-host (ipc, inproc) deliveries drawn as loops, the
 * Chrome trace export, and a 100 k-event trace that stays responsive (frame times measured in the
 * page). Skipped without chromium unless NETLAB_REQUIRE_PEERS is set (CI), as the report's own
 * browser tests.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../scenarios/sp/families/index.js';
import { defineScenario } from '../scenarios/sp/define.js';
import { runScenario } from '../scenarios/sp/run.js';
import { toJsonLines, TRACE_SCHEMA } from '../sim/trace.js';
import { writeReportHtml } from '../reports/html.js';
import type { Case, Report } from '../reports/schema.js';
import { readReportFile, writeReportFiles } from '../reports/write.js';
import { fixedReport, PLANTED_TRACE, PLANTED_TRACE_TEXT } from './testing/fixtures.js';
import { syntheticTraceText } from './testing/synthetic.js';

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
const NETLAB = new URL('../bin/netlab', import.meta.url).pathname;
const SCREENSHOT = new URL('../docs/viewer.png', import.meta.url).pathname;
/** Frame-time budget while panning and zooming a 100 k-event trace: 95th percentile, ms. */
const FRAME_P95_BUDGET_MS = 50;
const BIG_TRACE_EVENTS = 100_000;
/** A text filter over the 100 k-event trace, typed to applied (ms; about 0.2 s measured). */
const FILTER_BUDGET_MS = 5000;

const exec = promisify(execFile);

interface Watched {
  context: BrowserContext;
  page: Page;
  errors: string[];
  requests: string[];
}

describe.skipIf(!HAVE_CHROMIUM)('scenario viewer in chromium', () => {
  let browser: Browser;
  let runDir: string;
  let bigDir: string;
  let localDir: string;
  let failing: Case;

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    // A deterministic failing museum case: a REQ that does not resend when its pipe is reset.
    runDir = mkdtempSync(join(tmpdir(), 'netlab-viewer-'));
    const args = ['run', '--impl', 'museum/req-no-resend-on-loss', '--suite', 'resend'];
    args.push(
      '--property',
      'resend/pipe-loss',
      '--runs',
      '50',
      '--seed',
      '1',
      '--workers',
      '1',
      '--out',
      runDir,
    );
    const exit = await exec(NETLAB, args, { timeout: 60_000 }).then(
      () => 0,
      (e: { code?: unknown }) => e.code,
    );
    expect(exit).toBe(1);
    const report = readReportFile(join(runDir, 'report.json'));
    failing = report.suites.flatMap((s) => s.cases).find((c) => c.status === 'fail' && c.trace !== null)!;
    expect(failing.id).toBe('resend/pipe-loss/museum/req-no-resend-on-loss/resend.on-pipe-loss');

    // A report whose failing case carries a synthetic 100 k-event trace.
    bigDir = mkdtempSync(join(tmpdir(), 'netlab-viewer-big-'));
    const big = JSON.parse(JSON.stringify(fixedReport())) as Report;
    const bigCase = big.suites[0]!.cases[0]!;
    bigCase.trace = 'traces/big.jsonl';
    writeReportFiles(bigDir, big, [
      { file: 'big.jsonl', content: syntheticTraceText(BIG_TRACE_EVENTS) },
      { file: PLANTED_TRACE.slice('traces/'.length), content: PLANTED_TRACE_TEXT },
    ]);
    writeReportHtml(bigDir, big);

    // A report whose first two cases carry an ipc and an inproc run (both ends on one host).
    localDir = mkdtempSync(join(tmpdir(), 'netlab-viewer-local-'));
    const local = JSON.parse(JSON.stringify(fixedReport())) as Report;
    const files = [{ file: PLANTED_TRACE.slice('traces/'.length), content: PLANTED_TRACE_TEXT }];
    for (const [k, addr] of ['ipc:///tmp/viewer', 'inproc://viewer'].entries()) {
      const r = await runScenario(
        defineScenario({
          hosts: ['h'],
          sockets: [
            { name: 'server', host: 'h', protocol: 'rep0', listen: [addr], app: { kind: 'echo' } },
            { name: 'client0', host: 'h', protocol: 'req0', dial: [addr], app: { kind: 'send' } },
          ],
          workload: {
            sends: [
              { socket: 'client0', bytes: 300 },
              { socket: 'client0', bytes: 10 },
            ],
          },
          checks: ['stack.no-crash'],
        }),
        'viewer-local',
        { traceCapacity: 10_000 },
      );
      const file = `local-${k}.jsonl`;
      files.push({ file, content: toJsonLines({ schema: TRACE_SCHEMA, seed: 'viewer-local' }, r.trace) });
      local.suites[0]!.cases[k]!.trace = `traces/${file}`;
    }
    writeReportFiles(localDir, local, files);
    writeReportHtml(localDir, local);
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
  });

  async function open(file: string, hash: string): Promise<Watched> {
    const context = await browser.newContext({
      viewport: { width: 1400, height: 1000 },
      deviceScaleFactor: 1,
    });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    // blob: is the export's download link, made in the page: not a network request.
    page.on('request', (r) => {
      if (!/^(file|blob):/.test(r.url())) requests.push(r.url());
    });
    await page.goto(pathToFileURL(file).href + hash);
    return { context, page, errors, requests };
  }

  async function done(w: Watched): Promise<void> {
    expect(w.errors).toEqual([]);
    expect(w.requests).toEqual([]);
    await w.context.close();
  }

  const moment = (page: Page): Promise<string | null> => page.locator('[data-field="moment"]').textContent();
  const caseHash = (id: string): string => `#case=${encodeURIComponent(id)}`;

  it('opens from the case page at the failure pin; scrubs, steps with keys, highlights what changed, zooms', async () => {
    const w = await open(join(runDir, 'index.html'), caseHash(failing.id));
    const { page } = w;
    await page.locator('a.viewer-link').click();
    await page.locator('canvas.diagram').waitFor();
    expect(page.url()).toContain('&view=viewer');
    await expect(page.locator('.viewer-failure').textContent()).resolves.toContain('resend.on-pipe-loss');
    // The pin: the last event of the run (checks are judged after it ends).
    const events = Number((await page.locator('.viewer-status').textContent())!.match(/^(\d+) events/)![1]);
    await expect(moment(page)).resolves.toMatch(new RegExp(`^event #${events - 1} of ${events} `));
    await expect(page.locator('table.events tr.current').getAttribute('class')).resolves.toContain('pin');

    // Scrub to the start, then step with the keys.
    await page.locator('input.scrub').fill('0');
    await expect(moment(page)).resolves.toMatch(/^event #0 of /);
    await page.locator('canvas.diagram').focus();
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await expect(moment(page)).resolves.toMatch(/^event #2 of /);
    await page.keyboard.press('ArrowLeft');
    // Event #1 sets a timer on client1: that cell is highlighted as changed.
    await expect(moment(page)).resolves.toMatch(/^event #1 of .* client1 timer-set/);
    await expect(
      page.locator('tr[data-host="client1"] td[data-col="timers"]').getAttribute('class'),
    ).resolves.toBe('changed');
    await expect(page.locator('td.changed').count()).resolves.toBe(1);
    expect(page.url()).toMatch(/&t=0(&|$)/);

    // Zoom in: fewer events in view; the fit button shows them all again.
    const canvas = page.locator('canvas.diagram');
    const visible = async (): Promise<number> => Number(await canvas.getAttribute('data-visible-events'));
    const all = await visible();
    await page.locator('button.zoom-in').click();
    await page.locator('button.zoom-in').click();
    await expect.poll(visible).toBeLessThan(all);
    await page.mouse.move(400, 500);
    await canvas.hover();
    await page.mouse.wheel(0, 600);
    await page.locator('button.fit').click();
    await expect.poll(visible).toBe(all);
    await page.locator('#compress').uncheck();
    await expect.poll(async () => (await canvas.getAttribute('data-drawn')) !== null).toBe(true);

    // Escape goes back to the case page.
    await page.keyboard.press('Escape');
    await expect(page.locator('#case-page').isVisible()).resolves.toBe(true);
    await expect(page.locator('#viewer').isHidden()).resolves.toBe(true);
    await done(w);
  });

  it('charts: throughput, latency, bytes in flight per connection and queue per socket, fault bands and the failure pin drawn; a click moves the cursor', async () => {
    const w = await open(join(runDir, 'index.html'), `${caseHash(failing.id)}&view=viewer`);
    const { page } = w;
    const names = ['throughput', 'latency', 'inflight', 'queues'];
    for (const name of names) {
      const c = page.locator(`canvas.chart-${name}`);
      await c.waitFor();
      // The overlay plugin records what it drew: at least one fault band and the pin line.
      await expect.poll(() => c.getAttribute('data-pin-drawn')).toBe('1');
      await expect.poll(async () => Number(await c.getAttribute('data-bands-drawn'))).toBeGreaterThan(0);
      expect(Number(await c.getAttribute('data-points'))).toBeGreaterThan(0);
      // Non-blank: some pixels are neither transparent nor white.
      const inked = await c.evaluate((el: HTMLCanvasElement) => {
        const d = el.getContext('2d')!.getImageData(0, 0, el.width, el.height).data;
        let k = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i + 3]! > 0 && (d[i]! < 240 || d[i + 1]! < 240)) k++;
        return k;
      });
      expect(inked).toBeGreaterThan(200);
    }
    // One series per connection (the case has four, client0's and client1's), one per receiving socket.
    const series = async (name: string): Promise<string[]> =>
      (await page.locator(`canvas.chart-${name}`).getAttribute('data-series'))!.split('|');
    expect(await series('inflight')).toEqual([
      'all connections',
      ...['conn 2 client1↔server', 'conn 1 client0↔server', 'conn 3 client1↔server', 'conn 4 client0↔server'],
    ]);
    expect((await series('queues')).filter((x) => / conn \d+ recv$/.test(x)).length).toBeGreaterThan(3);
    // The x range follows the diagram's: zooming in narrows it.
    const span = async (): Promise<number> =>
      Number(await page.locator('canvas.chart-latency').getAttribute('data-span'));
    const wide = await span();
    await page.locator('button.zoom-in').click();
    await page.locator('button.zoom-in').click();
    await expect.poll(span).toBeLessThan(wide);
    await page.locator('button.fit').click();
    // Clicking near the chart's left edge moves the cursor to an early event.
    await page
      .locator('input.scrub')
      .fill(String(Number(await page.locator('input.scrub').getAttribute('max'))));
    const before = await moment(page);
    const chart = page.locator('canvas.chart-throughput');
    const box = (await chart.boundingBox())!;
    await chart.click({ position: { x: 80, y: box.height / 2 } });
    await expect.poll(() => moment(page)).not.toBe(before);
    await done(w);
  });

  it('charts and diagram share the range both ways: brushing a chart sets the diagram’s visible time range', async () => {
    const w = await open(join(runDir, 'index.html'), `${caseHash(failing.id)}&view=viewer`);
    const { page } = w;
    const chart = page.locator('canvas.chart-latency');
    await chart.waitFor();
    await chart.scrollIntoViewIfNeeded();
    const diagram = page.locator('canvas.diagram');
    const num = async (l: typeof chart, attr: string): Promise<number> => Number(await l.getAttribute(attr));
    await expect.poll(() => num(chart, 'data-span')).toBeGreaterThan(0);
    const xMin = await num(chart, 'data-x-min');
    const xMax = await num(chart, 'data-x-max');
    const left = await num(chart, 'data-area-left');
    const right = await num(chart, 'data-area-right');
    expect(await num(diagram, 'data-time-top')).toBeCloseTo(xMin, -1);
    // Drag from 30 % to 70 % of the plot area.
    const box = (await chart.boundingBox())!;
    const at = (f: number): number => left + f * (right - left);
    const timeOf = (f: number): number => xMin + f * (xMax - xMin);
    await page.mouse.move(box.x + at(0.3), box.y + box.height / 2);
    await page.mouse.down();
    for (let i = 1; i <= 8; i++)
      await page.mouse.move(box.x + at(0.3 + (0.4 * i) / 8), box.y + box.height / 2);
    await page.mouse.up();
    const tolerance = (xMax - xMin) / 100;
    await expect
      .poll(async () => Math.abs((await num(diagram, 'data-time-top')) - timeOf(0.3)))
      .toBeLessThan(tolerance);
    expect(Math.abs((await num(diagram, 'data-time-bottom')) - timeOf(0.7))).toBeLessThan(tolerance);
    // ... and the charts follow the diagram back: their range is the brushed one.
    await expect.poll(() => num(chart, 'data-span')).toBeLessThan((xMax - xMin) * 0.45);
    expect(Math.abs((await num(chart, 'data-x-min')) - timeOf(0.3))).toBeLessThan(tolerance);
    // A brush does not move the cursor (a click would).
    await expect(moment(page)).resolves.toMatch(/^event #159 of 160 /);
    await done(w);
  });

  it('filters the diagram, the event list, stepping and the charts by host, connection and text; the hash keeps the filter', async () => {
    const w = await open(join(runDir, 'index.html'), `${caseHash(failing.id)}&view=viewer`);
    const { page } = w;
    const diagram = page.locator('canvas.diagram');
    await diagram.waitFor();
    const arrows = async (): Promise<[number, number]> => [
      Number(await diagram.getAttribute('data-arrows')),
      Number(await diagram.getAttribute('data-arrows-dimmed')),
    ];
    const [all, none] = await arrows();
    expect(all).toBeGreaterThan(0);
    expect(none).toBe(0);
    const listHosts = async (): Promise<string[]> =>
      page.locator('table.events tbody tr:not(.current) td:nth-child(3)').allTextContents();
    expect(new Set(await listHosts()).size).toBeGreaterThan(1);

    const filter = page.locator('input.filter');
    await filter.fill('host:client0');
    await filter.press('Enter');
    // The diagram dims what is not client0's; the list shows client0's events only.
    await expect.poll(async () => (await arrows())[1]).toBeGreaterThan(0);
    const [kept, dimmed] = await arrows();
    expect(kept).toBeGreaterThan(0);
    expect(kept + dimmed).toBe(all);
    expect(new Set(await listHosts())).toEqual(new Set(['client0']));
    await expect(page.locator('.filter-status').textContent()).resolves.toMatch(/^\d+ of 160 events/);
    expect(page.url()).toContain('&filter=host%3Aclient0');
    // The charts count client0's connections only.
    await expect
      .poll(async () => (await page.locator('canvas.chart-inflight').getAttribute('data-series'))!)
      .toBe('all connections|conn 1 client0↔server|conn 4 client0↔server');
    // Stepping goes from one client0 event to the next.
    await page.locator('input.scrub').fill('0');
    await diagram.focus();
    for (let i = 0; i < 3; i++) {
      await page.keyboard.press('ArrowRight');
      await expect(moment(page)).resolves.toMatch(/ · client0 /);
    }

    // A deep link restores the filter: the same dimming, the same list.
    const url = page.url();
    await done(w);
    const w2 = await open(join(runDir, 'index.html'), url.slice(url.indexOf('#')));
    const d2 = w2.page.locator('canvas.diagram');
    await d2.waitFor();
    await expect(w2.page.locator('input.filter').inputValue()).resolves.toBe('host:client0');
    await expect.poll(async () => Number(await d2.getAttribute('data-arrows-dimmed'))).toBe(dimmed);
    await done(w2);

    // By connection, and by text: a request id matches its messages (and the deliveries beside them).
    const w3 = await open(join(runDir, 'index.html'), `${caseHash(failing.id)}&view=viewer`);
    const p3 = w3.page;
    await p3.locator('canvas.diagram').waitFor();
    await p3.locator('input.filter').fill('conn:2');
    await p3.locator('input.filter').press('Enter');
    await expect
      .poll(async () => (await p3.locator('canvas.chart-inflight').getAttribute('data-series'))!)
      .toBe('conn 2 client1↔server');
    const id = (await p3.locator('.msg-pane tbody td').nth(3).textContent())!;
    await p3.locator('input.filter').fill(`request-id=${id}`);
    await p3.locator('input.filter').press('Enter');
    await expect.poll(() => p3.locator('table.events tbody tr:not(.unmatched)').count()).toBeGreaterThan(1);
    for (const text of await p3
      .locator('table.events tbody tr:not(.unmatched) td:nth-child(4)')
      .allTextContents())
      expect(text).toContain(`request-id=${id}`);
    await expect(p3.locator('.filter-status').textContent()).resolves.toMatch(
      /[1-9]\d* of \d+ deliveries match/,
    );
    // A bad term is named; Escape clears the filter and leaves the viewer open.
    await p3.locator('input.filter').fill('conn:x');
    await p3.locator('input.filter').press('Enter');
    await expect(p3.locator('.filter-status').textContent()).resolves.toContain(
      'conn:x is not a connection id',
    );
    await p3.locator('input.filter').press('Escape');
    await expect(p3.locator('input.filter').inputValue()).resolves.toBe('');
    await expect(p3.locator('#viewer').isVisible()).resolves.toBe(true);
    expect(p3.url()).not.toContain('filter=');
    await done(w3);
  });

  it('draws same-host deliveries (ipc, inproc) as loops on the lifeline', async () => {
    for (const k of [0, 1]) {
      const id = fixedReport().suites[0]!.cases[k]!.id;
      const w = await open(join(localDir, 'index.html'), `${caseHash(id)}&view=viewer`);
      const canvas = w.page.locator('canvas.diagram');
      await canvas.waitFor();
      await w.page.locator('button.fit').click();
      await expect.poll(async () => Number(await canvas.getAttribute('data-loops'))).toBeGreaterThan(3);
      expect(Number(await canvas.getAttribute('data-arrows'))).toBeGreaterThan(3);
      await done(w);
    }
  });

  it('a deep link selects a message; hovering a field highlights its bytes and a byte its field', async () => {
    const trace = readFileSync(join(runDir, failing.trace!), 'utf8');
    const request = trace
      .split('\n')
      .slice(1)
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { seq: number; kind: string; msg?: string; tUs: number })
      .find((e) => e.kind === 'msg-send' && e.msg === 'request')!;
    const w = await open(
      join(runDir, 'index.html'),
      `${caseHash(failing.id)}&view=viewer&msg=${request.seq}`,
    );
    const { page } = w;
    const pane = page.locator('.msg-pane');
    await expect(pane.locator('.msg-head').textContent()).resolves.toMatch(
      new RegExp(`^TX msg-send #${request.seq} `),
    );
    await expect(pane.getAttribute('class')).resolves.toBe('msg-pane tx');
    await pane.locator('tr[data-field-index="0"]').hover();
    await expect(pane.locator('span.byte.hl').count()).resolves.toBe(4);
    await expect(pane.locator('tr[data-field-index="0"]').getAttribute('class')).resolves.toContain('hl');
    await page.mouse.move(0, 0);
    await expect(pane.locator('span.byte.hl').count()).resolves.toBe(0);
    await pane.locator('span[data-byte="2"]').hover();
    await expect(pane.locator('tr[data-field-index="0"]').getAttribute('class')).resolves.toContain('hl');
    await expect(pane.locator('.note').textContent()).resolves.toMatch(/not raw bytes/);
    // n jumps to the next message: the REP side receives it (RX).
    await page.locator('canvas.diagram').focus();
    await page.keyboard.press('n');
    await expect(pane.locator('.msg-head').textContent()).resolves.toMatch(/^(TX|RX) msg-/);
    await done(w);
  });

  it('reruns the case in the page: the same trace hash as Node; a removed fault diverges', async () => {
    const w = await open(join(runDir, 'index.html'), `${caseHash(failing.id)}&view=viewer`);
    const { page } = w;
    await page.locator('button.rerun-btn').click();
    await expect(page.locator('[data-field="hash-verdict"]').textContent({ timeout: 20_000 })).resolves.toBe(
      '✓ same',
    );
    await expect(page.locator('[data-field="rerun-hash"]').textContent()).resolves.toBe(failing.traceHash);
    await expect(page.locator('[data-field="divergence"]').textContent()).resolves.toMatch(
      /^Identical traces/,
    );
    await expect(page.locator('li[data-check="resend.on-pipe-loss"]').textContent()).resolves.toMatch(/fail/);

    // Without the reset fault the run takes another path from the fault's first event on.
    await page.locator('input.remove-fault[data-fault="0"]').check();
    await page.locator('button.rerun-btn').click();
    await expect(page.locator('[data-field="hash-verdict"]').textContent({ timeout: 20_000 })).resolves.toBe(
      '≠ different',
    );
    const text = (await page.locator('[data-field="divergence"]').textContent())!;
    const at = Number(text.match(/First divergence at event (\d+)/)![1]);
    await expect(page.locator('table.diff tr.diverge').getAttribute('data-index')).resolves.toBe(String(at));
    // The diagram moves its cursor to the divergence, which the event list marks.
    await expect(moment(page)).resolves.toMatch(new RegExp(`^event #${at} of `));
    await expect(page.locator('table.events tr.diverge').count()).resolves.toBe(1);
    // The rerun is a second diagram beside the recorded one, on the same time axis, and both mark
    // the first divergence at the same instant.
    const recorded = page.locator('canvas.diagram:not(.diagram-rerun)');
    const rerun = page.locator('canvas.diagram-rerun');
    await rerun.waitFor();
    await expect(page.locator('.pane-caption.rerun').textContent()).resolves.toMatch(/fault 0 removed/);
    for (const c of [recorded, rerun])
      await expect.poll(() => c.getAttribute('data-divergence-drawn')).toBe('1');
    for (const attr of ['data-time-top', 'data-time-bottom'])
      expect(await rerun.getAttribute(attr)).toBe(await recorded.getAttribute(attr));
    expect(Number(await rerun.getAttribute('data-arrows'))).toBeGreaterThan(0);
    // Zooming moves both (one view).
    const top = await recorded.getAttribute('data-time-bottom');
    await page.locator('button.zoom-in').click();
    await expect.poll(() => recorded.getAttribute('data-time-bottom')).not.toBe(top);
    await expect
      .poll(() => rerun.getAttribute('data-time-bottom'))
      .toBe(await recorded.getAttribute('data-time-bottom'));
    // No pipe is lost any more: the check no longer fails (it has nothing to judge).
    await expect(page.locator('li[data-check="resend.on-pipe-loss"]').textContent()).resolves.not.toMatch(
      /fail/,
    );
    if (process.env.NETLAB_UPDATE_SCREENSHOTS === '1') {
      // The README's picture: both diagrams, the divergence, the message pane and the charts, with
      // client1's traffic (the request that lost its pipe) picked out by the filter.
      await page.setViewportSize({ width: 1400, height: 1560 });
      await page.locator('input.filter').fill('host:client1');
      await page.locator('input.filter').press('Enter');
      await page.locator('button.fit').click();
      await page.locator('#viewer').evaluate((el) => el.scrollTo(0, 0));
      await page.waitForTimeout(300);
      writeFileSync(SCREENSHOT, await page.screenshot({ animations: 'disabled', caret: 'hide' }));
    }
    await done(w);
  });

  it('exports the trace as Chrome Trace Event JSON', async () => {
    const w = await open(join(runDir, 'index.html'), `${caseHash(failing.id)}&view=viewer`);
    const { page } = w;
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('a.export').click()]);
    const json = JSON.parse(readFileSync(await download.path(), 'utf8')) as {
      traceEvents: { ph: string; name: string; args?: { name?: string } }[];
    };
    expect(download.suggestedFilename()).toMatch(/\.chrome-trace\.json$/);
    const processes = json.traceEvents.filter((e) => e.name === 'process_name').map((e) => e.args?.name);
    expect(processes).toEqual(['faults', 'client0', 'client1', 'server']);
    expect(json.traceEvents.some((e) => e.ph === 'X')).toBe(true);
    await done(w);
  });

  it(`a ${BIG_TRACE_EVENTS / 1000} k-event trace opens and pans and zooms within the frame budget`, async () => {
    const id = fixedReport().suites[0]!.cases[0]!.id;
    const t0 = Date.now();
    const w = await open(join(bigDir, 'index.html'), `${caseHash(id)}&view=viewer`);
    const { page } = w;
    const canvas = page.locator('canvas.diagram');
    await canvas.waitFor({ timeout: 30_000 });
    const openMs = Date.now() - t0;
    expect(openMs).toBeLessThan(20_000);
    await expect(page.locator('.viewer-status').textContent()).resolves.toMatch(/^100000 events/);
    const box = (await canvas.boundingBox())!;
    const cx = box.x + box.width / 2;
    /** Frame intervals while dragging, wheeling and stepping, in ms. */
    const measure = async (): Promise<number[]> => {
      await page.evaluate(() => {
        const w = window as unknown as { frames_: number[]; stop_: boolean };
        w.frames_ = [];
        w.stop_ = false;
        let last = performance.now();
        const loop = (now: number): void => {
          w.frames_.push(now - last);
          last = now;
          if (!w.stop_) requestAnimationFrame(loop);
        };
        requestAnimationFrame(loop);
      });
      await page.locator('button.fit').click();
      await page.mouse.move(cx, box.y + 100);
      await page.mouse.down();
      for (let i = 0; i < 30; i++) await page.mouse.move(cx, box.y + 100 + i * 12);
      await page.mouse.up();
      for (let i = 0; i < 10; i++) await page.mouse.wheel(0, -200);
      await page.mouse.down();
      for (let i = 0; i < 30; i++) await page.mouse.move(cx, box.y + 400 - i * 10);
      await page.mouse.up();
      await canvas.focus();
      for (let i = 0; i < 10; i++) await page.keyboard.press('ArrowRight');
      return page.evaluate(() => {
        const w = window as unknown as { frames_: number[]; stop_: boolean };
        w.stop_ = true;
        return w.frames_.slice(1);
      });
    };
    // Frame intervals include time the renderer waits for a core: on a loaded 2-core CI machine one
    // round can be starved as a whole. The best of up to three rounds is the viewer's own cost; a
    // slow viewer fails all three.
    let best: { p95: number; max: number; count: number } | undefined;
    for (let round = 0; round < 3 && (best === undefined || best.p95 >= FRAME_P95_BUDGET_MS); round++) {
      const frames = await measure();
      expect(frames.length).toBeGreaterThan(20);
      const sorted = [...frames].sort((a, b) => a - b);
      const p95 = sorted[Math.floor(sorted.length * 0.95)]!;
      console.log(
        `viewer, ${BIG_TRACE_EVENTS} events: opened in ${openMs} ms; round ${round + 1}: frame p95 ${p95.toFixed(1)} ms, max ${sorted[sorted.length - 1]!.toFixed(1)} ms over ${frames.length} frames`,
      );
      if (best === undefined || p95 < best.p95)
        best = { p95, max: sorted[sorted.length - 1]!, count: frames.length };
    }
    expect(best!.p95, `best p95 frame ${best!.p95.toFixed(1)} ms over ${best!.count} frames`).toBeLessThan(
      FRAME_P95_BUDGET_MS,
    );
    // A text filter over all 100 k events (each event's text is built once, then matched).
    const f0 = Date.now();
    await page.locator('input.filter').fill('host:client1 request');
    await page.locator('input.filter').press('Enter');
    await expect(page.locator('.filter-status').textContent()).resolves.toMatch(/^\d+ of 100000 events/);
    const filterMs = Date.now() - f0;
    console.log(`viewer, ${BIG_TRACE_EVENTS} events: a text filter applied in ${filterMs} ms`);
    expect(filterMs).toBeLessThan(FILTER_BUDGET_MS);
    await done(w);
  }, 60_000);
});
