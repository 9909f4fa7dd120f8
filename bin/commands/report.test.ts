import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { netlab, requireBuild } from '../../scenarios/testing/spawn.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeReportFiles } from '../../reports/write.js';
import { fixedReport, PLANTED_TRACE, PLANTED_TRACE_TEXT } from '../../web/testing/fixtures.js';

beforeAll(requireBuild);

describe('netlab report', () => {
  it('writes DIR/index.html from DIR/report.json and exits 0', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netlab-report-'));
    writeReportFiles(dir, fixedReport(), [
      { file: PLANTED_TRACE.slice('traces/'.length), content: PLANTED_TRACE_TEXT },
    ]);
    const r = await netlab('report', dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/report page: .*index\.html/);
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    expect(html).toContain('id="netlab-report"');
    expect(html).toContain('id="netlab-trace-1"');
  });

  it('exits 2 naming the file and field for a missing DIR, a missing or an invalid report.json', async () => {
    const missing = await netlab('report', join(tmpdir(), 'netlab-no-such-dir'));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/is not a directory/);
    const empty = mkdtempSync(join(tmpdir(), 'netlab-report-'));
    const noJson = await netlab('report', empty);
    expect(noJson.code).toBe(2);
    expect(noJson.stderr).toMatch(/cannot read .*report\.json/);
    const report = JSON.parse(JSON.stringify(fixedReport())) as { banner: { fcSeed: unknown } };
    report.banner.fcSeed = 'x';
    writeFileSync(join(empty, 'report.json'), JSON.stringify(report));
    const bad = await netlab('report', empty);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/report\.json: banner\.fcSeed/);
    expect(existsSync(join(empty, 'index.html'))).toBe(false);
    expect((await netlab('report')).code).toBe(2);
    expect((await netlab('report', '--help')).stdout).toMatch(/usage: netlab report DIR/);
  });

  it('a report of before stacks (netlab/report@1) is refused by report and merge, naming both versions', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netlab-report-old-'));
    const { schema: _schema, ...rest } = JSON.parse(JSON.stringify(fixedReport())) as { schema: string };
    writeFileSync(join(dir, 'report.json'), JSON.stringify({ schema: 'netlab/report@1', ...rest }));
    for (const r of [
      await netlab('report', dir),
      await netlab('merge', dir, '--out', mkdtempSync(join(tmpdir(), 'netlab-merge-old-'))),
    ]) {
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('older schema "netlab/report@1"');
      expect(r.stderr).toContain('reads "netlab/report@2"');
    }
  });

  it('netlab run writes index.html beside report.json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'netlab-report-run-'));
    const r = await netlab('run', '--runs', '2', '--out', dir);
    expect([0, 1]).toContain(r.code);
    expect(existsSync(join(dir, 'index.html'))).toBe(true);
  });
});
