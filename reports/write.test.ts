import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPORT_SCHEMA, ReportError, type Report } from './schema.js';
import { sampleReport } from './testing/fixtures.js';
import { parseXml } from './testing/xml.js';
import { gitCommit, readReportFile, writeFileAtomicSync, writeReportFiles, type ReportFs } from './write.js';

const realFs: ReportFs = fs;

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(join(tmpdir(), 'netlab-reports-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The sample report with its failing case pointing at a trace we pass in, and a different title per version. */
function reportVersion(version: string): Report {
  const report = sampleReport();
  for (const suite of report.suites) for (const c of suite.cases) c.title = `${c.title} (${version})`;
  return report;
}
const TRACE = { file: 'sp_req0_reply-once.jsonl', content: '{"schema":"netlab/trace@2","seed":"netlab"}\n' };

function caught(f: () => unknown): ReportError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(ReportError);
    return e as ReportError;
  }
  throw new Error('expected a ReportError, but nothing was thrown');
}

function tempFiles(d: string): string[] {
  return fs.readdirSync(d).filter((n) => n.endsWith('.tmp'));
}

describe('writeReportFiles', () => {
  it('writes report.json, junit.xml and traces, creating the folder', () => {
    const out = join(dir, 'a', 'b');
    const report = reportVersion('v1');
    const written = writeReportFiles(out, report, [TRACE]);
    expect(written).toEqual({
      reportJson: join(out, 'report.json'),
      junitXml: join(out, 'junit.xml'),
      traces: [join(out, 'traces', TRACE.file)],
    });
    const text = fs.readFileSync(written.reportJson, 'utf8');
    expect(text).toBe(JSON.stringify(report, null, 2) + '\n');
    expect(readReportFile(written.reportJson)).toEqual(report);
    expect(parseXml(fs.readFileSync(written.junitXml, 'utf8')).name).toBe('testsuites');
    expect(fs.readFileSync(written.traces[0]!, 'utf8')).toBe(TRACE.content);
    expect(tempFiles(out)).toEqual([]);
    expect(tempFiles(join(out, 'traces'))).toEqual([]);
  });

  it('replaces report.json last, after the files it points at', () => {
    const renamed: string[] = [];
    const spy: ReportFs = {
      ...realFs,
      renameSync: (from, to) => {
        renamed.push(to.slice(dir.length + 1));
        realFs.renameSync(from, to);
      },
    };
    writeReportFiles(dir, reportVersion('v1'), [TRACE], { fs: spy });
    expect(renamed).toEqual([join('traces', TRACE.file), 'junit.xml', 'report.json']);
  });

  it('leaves the previous report intact when the run dies between writing the temp file and renaming it', () => {
    writeReportFiles(dir, reportVersion('v1'), [TRACE]);
    const before = fs.readFileSync(join(dir, 'report.json'), 'utf8');
    const junitBefore = fs.readFileSync(join(dir, 'junit.xml'), 'utf8');

    // The "kill": the rename of report.json never happens, and neither does any cleanup.
    const seenAtRename: { temps: string[]; tempContent: string; reportJson: string }[] = [];
    const dying: ReportFs = {
      ...realFs,
      renameSync: (from, to) => {
        if (!to.endsWith('report.json')) return realFs.renameSync(from, to);
        seenAtRename.push({
          temps: tempFiles(dir),
          tempContent: fs.readFileSync(from, 'utf8'),
          reportJson: fs.readFileSync(to, 'utf8'),
        });
        throw new Error('SIGKILL');
      },
      unlinkSync: () => {},
    };
    const e = caught(() => writeReportFiles(dir, reportVersion('v2'), [TRACE], { fs: dying }));
    expect(e.code).toBe('ERR_REPORT_IO');
    expect(e.message).toContain(`cannot write ${join(dir, 'report.json')}: SIGKILL`);

    // At the moment of the rename: the new report complete in a temp file, the old one in place.
    expect(seenAtRename).toHaveLength(1);
    const at = seenAtRename[0]!;
    expect(at.temps).toHaveLength(1);
    expect(at.temps[0]).toMatch(/^report\.json\.\d+\.[0-9a-f]{8}\.tmp$/);
    expect(at.tempContent).toBe(JSON.stringify(reportVersion('v2'), null, 2) + '\n');
    expect(at.reportJson).toBe(before);

    // After the "crash": report.json is the previous report, byte for byte, and still reads.
    expect(fs.readFileSync(join(dir, 'report.json'), 'utf8')).toBe(before);
    expect(readReportFile(join(dir, 'report.json'))).toEqual(reportVersion('v1'));
    // junit.xml was renamed before the crash: it is the new one, complete.
    expect(fs.readFileSync(join(dir, 'junit.xml'), 'utf8')).not.toBe(junitBefore);
    expect(fs.readFileSync(join(dir, 'junit.xml'), 'utf8')).toContain('(v2)');
  });

  it('removes its temp file when a write fails and the process lives on', () => {
    writeReportFiles(dir, reportVersion('v1'), [TRACE]);
    const before = fs.readFileSync(join(dir, 'report.json'), 'utf8');
    const failing: ReportFs = {
      ...realFs,
      renameSync: () => {
        throw Object.assign(new Error('EXDEV: cross-device link not permitted'), { code: 'EXDEV' });
      },
    };
    const e = caught(() => writeReportFiles(dir, reportVersion('v2'), [], { fs: failing }));
    expect(e.code).toBe('ERR_REPORT_IO');
    expect(e.cause).toMatchObject({ code: 'EXDEV' });
    expect(tempFiles(dir)).toEqual([]);
    expect(fs.readFileSync(join(dir, 'report.json'), 'utf8')).toBe(before);
  });

  it('never writes a short file: partial writes are continued, a stuck write is an error', () => {
    const chunky: ReportFs = {
      ...realFs,
      writeSync: (fd, buffer, offset, length) => realFs.writeSync(fd, buffer, offset, Math.min(length, 7)),
    };
    writeReportFiles(dir, reportVersion('v1'), [TRACE], { fs: chunky });
    expect(fs.readFileSync(join(dir, 'traces', TRACE.file), 'utf8')).toBe(TRACE.content);
    expect(readReportFile(join(dir, 'report.json'))).toEqual(reportVersion('v1'));

    const stuck: ReportFs = { ...realFs, writeSync: () => 0 };
    const e = caught(() => writeReportFiles(dir, reportVersion('v2'), [], { fs: stuck }));
    expect(e.message).toContain('write made no progress');
    expect(tempFiles(dir)).toEqual([]);
    expect(readReportFile(join(dir, 'report.json'))).toEqual(reportVersion('v1'));
  });

  it('removes temp files left by dead writers, but not those of live ones', () => {
    const dead = 'report.json.2147483646.0badf00d.tmp';
    const live = `junit.xml.${process.pid}.0badf00d.tmp`;
    fs.writeFileSync(join(dir, dead), '{"half":');
    fs.writeFileSync(join(dir, live), '<testsuites');
    fs.mkdirSync(join(dir, 'traces'));
    fs.writeFileSync(join(dir, 'traces', `x.jsonl.2147483646.12345678.tmp`), '');
    writeReportFiles(dir, reportVersion('v1'), [TRACE]);
    expect(tempFiles(dir)).toEqual([live]);
    expect(tempFiles(join(dir, 'traces'))).toEqual([]);
  });

  it('validates before touching the disk', () => {
    const out = join(dir, 'never');
    const bad = reportVersion('v1');
    bad.banner.totals.pass = 99;
    expect(caught(() => writeReportFiles(out, bad)).path).toBe('banner.totals.pass');
    const notJson = reportVersion('v1');
    notJson.suites[0]!.cases[1]!.counterexample = { bytes: new Uint8Array(4) };
    expect(caught(() => writeReportFiles(out, notJson)).message).toContain(
      'suites[0].cases[1].counterexample.bytes: a Uint8Array is not plain JSON',
    );
    expect(fs.existsSync(out)).toBe(false);
  });

  it('rejects trace file names that are not plain names, or given twice', () => {
    for (const file of ['../x.jsonl', 'a/b.jsonl', '.hidden', '', 'a\\b', 'x.jsonl.123.deadbeef.tmp']) {
      const e = caught(() => writeReportFiles(dir, reportVersion('v1'), [{ file, content: '' }]));
      expect(e.code, file).toBe('ERR_BAD_ARGUMENT');
    }
    const e = caught(() => writeReportFiles(dir, reportVersion('v1'), [TRACE, TRACE]));
    expect(e.message).toContain('is given twice');
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it('rejects a case whose trace is neither given nor on disk', () => {
    const e = caught(() => writeReportFiles(dir, reportVersion('v1')));
    expect(e.code).toBe('ERR_BAD_REPORT');
    expect(e.path).toBe('suites[0].cases[1].trace');
    expect(e.message).toContain(
      '"traces/sp_req0_reply-once.jsonl" is neither among the trace files given nor in',
    );
    // A trace written by an earlier call (or another tool) satisfies the reference.
    fs.mkdirSync(join(dir, 'traces'));
    fs.writeFileSync(join(dir, 'traces', TRACE.file), TRACE.content);
    expect(() => writeReportFiles(dir, reportVersion('v1'))).not.toThrow();
  });
});

describe('writeFileAtomicSync', () => {
  it('replaces a file and leaves no temp file', () => {
    const path = join(dir, 'case.json');
    writeFileAtomicSync(path, 'one');
    writeFileAtomicSync(path, new TextEncoder().encode('two'));
    expect(fs.readFileSync(path, 'utf8')).toBe('two');
    expect(fs.readdirSync(dir)).toEqual(['case.json']);
  });
});

describe('readReportFile', () => {
  function writeRaw(text: string): string {
    const path = join(dir, 'report.json');
    fs.writeFileSync(path, text);
    return path;
  }
  const full = JSON.stringify(reportVersion('v1'), null, 2) + '\n';

  it('rejects truncated JSON at every cut with a clear, typed message', () => {
    // Every cut point up to the last "}" (without it the file is not a whole JSON document).
    const step = 37; // covers every kind of token boundary in the sample without 8000 file writes
    for (let cut = 0; cut < full.trimEnd().length; cut += cut < 200 ? 1 : step) {
      const path = writeRaw(full.slice(0, cut));
      const e = caught(() => readReportFile(path));
      expect(e.code).toBe('ERR_BAD_REPORT');
      expect(e.message, `cut at ${cut}`).toContain(`${path} is truncated or empty`);
    }
  });

  it('tells garbage from truncation', () => {
    const path = writeRaw('{"schema": "netlab/report@2",, }');
    const e = caught(() => readReportFile(path));
    expect(e.message).toContain(`${path} is not valid JSON`);
  });

  it('names the file and the first bad field', () => {
    const raw = JSON.parse(full) as { suites: { cases: Record<string, unknown>[] }[] };
    delete raw.suites[1]!.cases[0]!.replay;
    const path = writeRaw(JSON.stringify(raw));
    const e = caught(() => readReportFile(path));
    expect(e.code).toBe('ERR_BAD_REPORT');
    expect(e.path).toBe('suites[1].cases[0].replay');
    expect(e.message).toBe(
      `ERR_BAD_REPORT: ${path}: suites[1].cases[0].replay: missing (expected a non-empty string (the command that reproduces the case))`,
    );
  });

  it('refuses a newer schema with a message that says so', () => {
    const path = writeRaw(full.replace(REPORT_SCHEMA, 'netlab/report@3'));
    const e = caught(() => readReportFile(path));
    expect(e.code).toBe('ERR_BAD_REPORT');
    expect(e.message).toContain(`${path}: schema: this report uses the newer schema "netlab/report@3"`);
  });

  it('reports a missing file as ERR_REPORT_IO', () => {
    const e = caught(() => readReportFile(join(dir, 'nope.json')));
    expect(e.code).toBe('ERR_REPORT_IO');
    expect(e.message).toContain('ENOENT');
  });
});

describe('gitCommit', () => {
  const sha = 'a'.repeat(40);
  const noGit = (): string => {
    throw new Error('spawn git ENOENT');
  };

  it('prefers git rev-parse HEAD', () => {
    const calls: [readonly string[], string][] = [];
    const commit = gitCommit('/repo', {
      runGit: (args, cwd) => {
        calls.push([args, cwd]);
        return `${sha}\n`;
      },
      env: { NETLAB_COMMIT: 'from-env' },
    });
    expect(commit).toBe(sha);
    expect(calls).toEqual([[['rev-parse', 'HEAD'], '/repo']]);
    expect(gitCommit('/repo', { runGit: () => 'b'.repeat(64), env: {} })).toBe('b'.repeat(64));
  });

  it('falls back to NETLAB_COMMIT, then "unknown", and never throws', () => {
    expect(gitCommit('/x', { runGit: noGit, env: { NETLAB_COMMIT: ' 1234abc \n' } })).toBe('1234abc');
    expect(gitCommit('/x', { runGit: noGit, env: {} })).toBe('unknown');
    expect(gitCommit('/x', { runGit: noGit, env: { NETLAB_COMMIT: '   ' } })).toBe('unknown');
    // git answering something that is not a commit (no HEAD yet prints "HEAD") is no answer.
    expect(gitCommit('/x', { runGit: () => 'HEAD\n', env: { NETLAB_COMMIT: 'env' } })).toBe('env');
  });

  it('runs the real git: a commit in this repository, the fallback outside any', () => {
    let expected: string;
    try {
      expected = execFileSync('git', ['rev-parse', 'HEAD'], {
        cwd: import.meta.dirname,
        encoding: 'utf8',
      }).trim();
    } catch {
      expected = 'unknown'; // no git on this machine: the fallback is the expected answer
    }
    expect(gitCommit(import.meta.dirname, { env: {} })).toBe(expected);
    // The ceiling keeps git from finding a repository that happens to enclose the temp folder.
    const ceiling = process.env.GIT_CEILING_DIRECTORIES;
    process.env.GIT_CEILING_DIRECTORIES = tmpdir();
    try {
      expect(gitCommit(dir, { env: { NETLAB_COMMIT: 'ci-build-7' } })).toBe('ci-build-7');
      expect(gitCommit(join(dir, 'does-not-exist'), { env: {} })).toBe('unknown');
    } finally {
      if (ceiling === undefined) delete process.env.GIT_CEILING_DIRECTORIES;
      else process.env.GIT_CEILING_DIRECTORIES = ceiling;
    }
  });
});
