/**
 * `netlab report DIR`: (re)writes DIR/index.html, the web report, from DIR/report.json and the
 * traces it points at (reports/html.ts). Exit 0 when written; 2 when DIR or its report.json is
 * missing or invalid (the message names the file and the first bad field).
 */
import { existsSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { INLINE_LIMIT_BYTES, writeReportHtml } from '../../reports/html.js';
import { ReportError } from '../../reports/schema.js';
import { readReportFile, REPORT_JSON } from '../../reports/write.js';
import { EXIT_OK, EXIT_USAGE, intFlag, parseFlags, UsageError, type Command } from './common.js';

const MIB = 1024 * 1024;

export const reportCommand: Command = {
  name: 'report',
  summary: 'write DIR/index.html, the web report (one self-contained page), from DIR/report.json',
  usage: `usage: netlab report DIR [--inline-limit-mib N]

Writes DIR/index.html from DIR/report.json and the traces in DIR/traces/: one page that opens from
file:// with no network request (report and traces embedded; traces deflated, decoded on demand).
  --inline-limit-mib N  embedded data above N MiB (default ${INLINE_LIMIT_BYTES / MIB}) goes to DIR/index.data/
                        as <script> files loaded beside index.html (file:// cannot fetch)
Exit codes: 0 written, 2 DIR or DIR/report.json missing or invalid.`,
  run(argv) {
    return Promise.resolve(writePage(argv));
  },
};

function writePage(argv: string[]): number {
  const { values, positionals } = parseFlags(argv, { 'inline-limit-mib': { type: 'string' } }, true);
  if (positionals.length !== 1) throw new UsageError('expected exactly one report directory');
  const dir = positionals[0]!;
  const limitMib = intFlag('inline-limit-mib', values['inline-limit-mib'], INLINE_LIMIT_BYTES / MIB, 0, 4096);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    process.stderr.write(
      `netlab report: ${dir} is not a directory (give the --out folder of a netlab run)\n`,
    );
    return EXIT_USAGE;
  }
  let report;
  try {
    report = readReportFile(join(dir, REPORT_JSON));
  } catch (e) {
    if (!(e instanceof ReportError)) throw e;
    process.stderr.write(`netlab report: ${e.message}\n`);
    return EXIT_USAGE;
  }
  const written = writeReportHtml(dir, report, { inlineLimitBytes: limitMib * MIB });
  const where = relative(process.cwd(), written.indexHtml) || written.indexHtml;
  process.stdout.write(
    `report page: ${where}${written.mode === 'folder' ? ` (data in ${join(dir, 'index.data')}/: ${(written.dataBytes / MIB).toFixed(1)} MiB above the ${limitMib} MiB inline limit)` : ''}\n`,
  );
  return EXIT_OK;
}
