/**
 * Writes and reads report files on disk (Node only): report.json, junit.xml and trace files, each
 * replaced atomically (temp file in the same directory, fsync, rename), so a run killed at any
 * moment leaves either the previous file or the new one, never half of one. Also finds the git
 * commit for the run banner.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as nodeFs from 'node:fs';
import { join } from 'node:path';
import { toJunitXml } from './junit.js';
import { parseReport, ReportError, TRACES_DIR, type Report } from './schema.js';

/**
 * The file-system calls the writers make: node:fs by default; tests pass a wrapper to simulate a
 * crash at a chosen step (say, a renameSync that throws).
 */
export interface ReportFs {
  mkdirSync(path: string, options: { recursive: true }): unknown;
  openSync(path: string, flags: string, mode?: number): number;
  writeSync(fd: number, buffer: Uint8Array, offset: number, length: number): number;
  fsyncSync(fd: number): void;
  closeSync(fd: number): void;
  renameSync(oldPath: string, newPath: string): void;
  unlinkSync(path: string): void;
  readdirSync(path: string): string[];
  existsSync(path: string): boolean;
}

const defaultFs: ReportFs = nodeFs;

export const REPORT_JSON = 'report.json';
export const JUNIT_XML = 'junit.xml';

/** Temp names: <file>.<pid>.<8 hex>.tmp. The pid lets a later run tell a dead writer's leftovers from a live one's. */
const TEMP_RE = /^(.+)\.(\d+)\.[0-9a-f]{8}\.tmp$/;

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Replaces `path` with `content` atomically: writes a temp file beside it (same directory, so the
 * rename cannot cross file systems), fsyncs it so the bytes are on disk before the name points at
 * them, then renames it over `path`. Until the rename, readers see the previous file intact; a
 * failed write removes its temp file. Throws ReportError('ERR_REPORT_IO') naming the file.
 */
export function writeFileAtomicSync(
  path: string,
  content: string | Uint8Array,
  fs: ReportFs = defaultFs,
): void {
  const bytes = typeof content === 'string' ? new TextEncoder().encode(content) : content;
  // Random suffix: worker threads share a pid, so the pid alone could collide; 'wx' refuses a clash.
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  let fd: number | null = null;
  try {
    fd = fs.openSync(tmp, 'wx', 0o644);
    let offset = 0;
    while (offset < bytes.length) {
      const n = fs.writeSync(fd, bytes, offset, bytes.length - offset);
      // A write that makes no progress would loop forever; treat it as the error it is.
      if (n <= 0) throw new Error(`write made no progress at byte ${offset} of ${bytes.length}`);
      offset += n;
    }
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(tmp, path);
  } catch (e) {
    if (fd !== null) {
      try {
        fs.closeSync(fd);
      } catch {
        // Already failing: the original error is the one to report.
      }
    }
    try {
      fs.unlinkSync(tmp);
    } catch {
      // The temp file may never have been created; a leftover is removed by the next run.
    }
    throw new ReportError('ERR_REPORT_IO', `cannot write ${path}: ${message(e)}`, { cause: e });
  }
}

/** Makes the renames in `dir` durable (a rename lives in the directory, not the file). Best effort: Windows cannot open a directory. */
function fsyncDirectory(dir: string, fs: ReportFs): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Durability across power loss is a bonus here; atomicity does not depend on it.
  } finally {
    if (fd !== null) {
      try {
        fs.closeSync(fd);
      } catch {
        // Nothing was written through this descriptor; a failed close loses nothing.
      }
    }
  }
}

function isProcessAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as { code?: unknown }).code === 'EPERM';
  }
}

/** Removes temp files that writers killed before their rename left behind, when that writer is gone. */
function removeStaleTempFiles(dir: string, fs: ReportFs): void {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = TEMP_RE.exec(name);
    if (m === null || isProcessAlive(Number(m[2]))) continue;
    try {
      fs.unlinkSync(join(dir, name));
    } catch {
      // Another cleaner got there first, or it is not ours to remove: harmless either way.
    }
  }
}

/** True for a plain file name: no directory parts, nothing hidden, portable characters only. */
function isPlainFileName(name: string): boolean {
  return /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/.test(name) && !TEMP_RE.test(name);
}

export interface TraceFile {
  /** File name inside <dir>/traces/ (see traceFileName in schema.ts); the case's `trace` is "traces/<file>". */
  file: string;
  /** The whole file, e.g. toJsonLines(header, events) from sim/trace.ts. */
  content: string;
}

export interface WrittenReportFiles {
  /** Path of report.json (dir joined with the name). */
  reportJson: string;
  /** Path of junit.xml. */
  junitXml: string;
  /** Paths of the trace files, in the order given. */
  traces: string[];
}

export interface WriteReportOptions {
  /** File-system calls to use (default node:fs); for tests that simulate a crash. */
  fs?: ReportFs;
}

/**
 * Validates `report` (parseReport: a bad report never reaches the disk), then writes into `dir`
 * (created if missing): each trace as dir/traces/<file>, then junit.xml, then report.json (pretty
 * JSON), each atomically. report.json goes last because it is the index: whenever a new one
 * exists, every file it points at is complete. Every non-null case `trace` must name a file given
 * here or already in `dir`. Leftover temp files of killed writers are removed first.
 * Throws ReportError: ERR_BAD_REPORT (invalid report, dangling trace), ERR_BAD_ARGUMENT (a trace
 * file name that is not a plain name, or given twice), ERR_REPORT_IO (the disk said no).
 */
export function writeReportFiles(
  dir: string,
  report: Report,
  traces: readonly TraceFile[] = [],
  options: WriteReportOptions = {},
): WrittenReportFiles {
  const fs = options.fs ?? defaultFs;
  const checked = parseReport(report);

  const traceNames = new Set<string>();
  for (const t of traces) {
    if (!isPlainFileName(t.file))
      throw new ReportError(
        'ERR_BAD_ARGUMENT',
        `trace file name ${JSON.stringify(t.file)} must be a plain file name ([A-Za-z0-9._-], not starting with "."); ` +
          'traceFileName(caseId) in reports/schema.ts makes one',
      );
    if (traceNames.has(t.file))
      throw new ReportError('ERR_BAD_ARGUMENT', `trace file ${JSON.stringify(t.file)} is given twice`);
    traceNames.add(t.file);
  }
  checked.suites.forEach((suite, s) =>
    suite.cases.forEach((c, i) => {
      if (c.trace === null) return;
      const given =
        c.trace.startsWith(`${TRACES_DIR}/`) && traceNames.has(c.trace.slice(TRACES_DIR.length + 1));
      if (!given && !fs.existsSync(join(dir, c.trace))) {
        const path = `suites[${s}].cases[${i}].trace`;
        throw new ReportError(
          'ERR_BAD_REPORT',
          `${path}: ${JSON.stringify(c.trace)} is neither among the trace files given nor in ${dir}`,
          { path },
        );
      }
    }),
  );

  const tracesDir = join(dir, TRACES_DIR);
  try {
    fs.mkdirSync(dir, { recursive: true });
    if (traces.length > 0) fs.mkdirSync(tracesDir, { recursive: true });
  } catch (e) {
    throw new ReportError(
      'ERR_REPORT_IO',
      `cannot create ${traces.length > 0 ? tracesDir : dir}: ${message(e)}`,
      {
        cause: e,
      },
    );
  }
  removeStaleTempFiles(dir, fs);
  removeStaleTempFiles(tracesDir, fs);

  const tracePaths = traces.map((t) => {
    const path = join(tracesDir, t.file);
    writeFileAtomicSync(path, t.content, fs);
    return path;
  });
  const junitXml = join(dir, JUNIT_XML);
  writeFileAtomicSync(junitXml, toJunitXml(checked), fs);
  const reportJson = join(dir, REPORT_JSON);
  writeFileAtomicSync(reportJson, JSON.stringify(checked, null, 2) + '\n', fs);

  if (traces.length > 0) fsyncDirectory(tracesDir, fs);
  fsyncDirectory(dir, fs);
  return { reportJson, junitXml, traces: tracePaths };
}

/** Where JSON.parse stopped, when its message says (V8: "... at position 123" or "Unexpected end of JSON input"). */
function looksTruncated(text: string, error: unknown): boolean {
  const msg = message(error);
  if (text.trim() === '' || /end of JSON input/i.test(msg)) return true;
  const m = /at position (\d+)/.exec(msg);
  return m !== null && Number(m[1]) >= text.trimEnd().length;
}

/**
 * Reads and validates a report.json. Throws ReportError: ERR_REPORT_IO when the file cannot be
 * read; ERR_BAD_REPORT when it is empty, truncated, not JSON, of a newer schema or invalid, with a
 * message that starts with the file path and names the first bad field.
 */
export function readReportFile(path: string): Report {
  let text: string;
  try {
    text = nodeFs.readFileSync(path, 'utf8');
  } catch (e) {
    throw new ReportError('ERR_REPORT_IO', `cannot read ${path}: ${message(e)}`, { cause: e });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    const why = looksTruncated(text, e)
      ? `is truncated or empty (${text.length} characters; a writer was killed, or the copy is incomplete)`
      : 'is not valid JSON';
    throw new ReportError('ERR_BAD_REPORT', `${path} ${why}: ${message(e)}`, { cause: e });
  }
  try {
    return parseReport(json);
  } catch (e) {
    if (!(e instanceof ReportError)) throw e;
    // Re-word with the file name in front, keeping code and path for callers that match on them.
    const detail = e.message.replace(/^ERR_BAD_REPORT: /, '');
    throw new ReportError(e.code, `${path}: ${detail}`, { path: e.path, cause: e });
  }
}

export interface GitCommitDeps {
  /** Runs git with `args` in `cwd` and returns its stdout (default: execFileSync, 5 s timeout). */
  runGit?: (args: readonly string[], cwd: string) => string;
  /** Environment to read NETLAB_COMMIT from (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
}

const GIT_TIMEOUT_MS = 5000;

function runGitDefault(args: readonly string[], cwd: string): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    // stderr ignored: outside a repository git's complaint is expected, not news for the user.
    stdio: ['ignore', 'pipe', 'ignore'],
    timeout: GIT_TIMEOUT_MS,
  });
}

/**
 * The commit a run was built from, for the banner: `git rev-parse HEAD` in `cwd` when git and a
 * repository are there; else $NETLAB_COMMIT (CI that builds from a tarball sets it); else
 * "unknown". Never throws, never waits more than a few seconds.
 */
export function gitCommit(cwd: string, deps: GitCommitDeps = {}): string {
  try {
    const out = (deps.runGit ?? runGitDefault)(['rev-parse', 'HEAD'], cwd).trim();
    // SHA-1 (40) or SHA-256 (64) repositories; anything else is not an answer.
    if (/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(out)) return out;
  } catch {
    // No git, no repository, or a timeout: fall through to the environment.
  }
  const fromEnv = (deps.env ?? process.env).NETLAB_COMMIT?.trim();
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : 'unknown';
}
