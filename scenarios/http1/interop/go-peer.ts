/**
 * Node-side harness for go-http1, netlab's own Go net/http peer for the HTTP/1.1 stack: builds it
 * through scenarios/interop/build.ts (cached), starts and stops its server mode as a child process,
 * and runs its client scripts (Go's real http.Transport) and parses their JSON. Node-only.
 *
 * Bounds: the server must print its `listening` line within SERVER_READY_TIMEOUT_MS; a client script
 * is killed after CLIENT_SCRIPT_TIMEOUT_MS; a script's stdout is kept up to CLIENT_OUTPUT_MAX_BYTES.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../../bin/package-root.js';
import { buildPeer, PeerBuildError } from '../../interop/build.js';
import { requirePeers } from '../../interop/harness.js';

/** Bound on the wait for the server's `listening` line (the binary is prebuilt: it starts in ms). */
export const SERVER_READY_TIMEOUT_MS = 10_000;
/** Bound on one client script (the longest, lifo, takes ~1 s; the Go side bounds itself at 30 s). */
export const CLIENT_SCRIPT_TIMEOUT_MS = 40_000;
/** Bound on a client script's output (one JSON object with its trace events: a few tens of KiB). */
export const CLIENT_OUTPUT_MAX_BYTES = 4 * 1024 * 1024;
/** Bound on the wait for the server to exit after SIGTERM before it is killed. */
const SERVER_STOP_TIMEOUT_MS = 6_000;

/** The client scripts go-http1 knows (README.md describes each). */
export const GO_CLIENT_SCRIPTS = ['max-conns', 'lifo', 'header-timeout', 'retry-idle-close'] as const;
export type GoClientScript = (typeof GO_CLIENT_SCRIPTS)[number];

export const GO_HTTP1_DIR = (): string =>
  join(packageRoot(), 'scenarios', 'http1', 'interop', 'peers', 'go-http1');

export type GoPeerLaunch =
  | { kind: 'ready'; path: string }
  /** No Go toolchain: tests skip, or fail under NETLAB_REQUIRE_PEERS=1. */
  | { kind: 'unavailable'; reason: string };

let built: Promise<GoPeerLaunch> | undefined;

/**
 * The go-http1 executable, built once per process (and cached across processes by build.ts). A
 * failed build throws PeerBuildError: broken source is never a skip.
 */
export function goHttp1Peer(): Promise<GoPeerLaunch> {
  built ??= buildPeer({ name: 'go-http1', toolchain: 'go', sourceDir: GO_HTTP1_DIR() }).then(
    (b): GoPeerLaunch =>
      b.status === 'unavailable'
        ? { kind: 'unavailable', reason: `${b.reason} (apt-get install golang-go)` }
        : { kind: 'ready', path: b.path },
  );
  return built;
}

/** Whether a missing toolchain must fail the caller (NETLAB_REQUIRE_PEERS=1) rather than skip. */
export { requirePeers, PeerBuildError };

export interface GoServerOptions {
  /** ms: a request on a keep-alive connection idle this long is dropped unanswered (default off). */
  closeIdleAfterMs?: number;
  /** ms: http.Server.ReadHeaderTimeout (default none). */
  headerTimeoutMs?: number;
  /** ms: http.Server.IdleTimeout (default Go's). */
  idleTimeoutMs?: number;
}

export interface GoServer {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  /** SIGTERM, then wait for the exit; resolves to the exit code (null if it had to be killed). */
  stop(): Promise<number | null>;
}

/** Starts `go-http1 server` on 127.0.0.1 with a free port and waits for its `listening` line. */
export function startGoServer(path: string, options: GoServerOptions = {}): Promise<GoServer> {
  const args = ['server', '--listen', '127.0.0.1:0'];
  if (options.closeIdleAfterMs !== undefined)
    args.push('--close-idle-after', String(options.closeIdleAfterMs));
  if (options.headerTimeoutMs !== undefined) args.push('--header-timeout', String(options.headerTimeoutMs));
  if (options.idleTimeoutMs !== undefined) args.push('--idle-timeout', String(options.idleTimeoutMs));
  const child: ChildProcess = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    if (stderr.length < 4_000) stderr += s;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const stop = async (): Promise<number | null> => {
    if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), SERVER_STOP_TIMEOUT_MS);
    const code = await exited;
    clearTimeout(timer);
    return code;
  };
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      void stop();
      reject(
        new Error(`go-http1 server printed no listening line in ${SERVER_READY_TIMEOUT_MS} ms: ${stderr}`),
      );
    }, SERVER_READY_TIMEOUT_MS);
    child.stdout?.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const m = /^listening tcp:\/\/127\.0\.0\.1:(\d+)$/m.exec(out);
      if (m?.[1] === undefined) return;
      clearTimeout(timer);
      const port = Number(m[1]);
      resolve({ url: `http://127.0.0.1:${port}`, port, stop });
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`go-http1 server exited (${code}) before listening: ${stderr}`));
    });
  });
}

/** One httptrace observation (fields as in README.md). */
export interface GoTraceEvent {
  request: number;
  kind: 'getConn' | 'gotConn' | 'connectStart' | 'connectDone' | 'wroteRequest' | 'firstByte';
  localPort?: number;
  reused?: boolean;
  wasIdle?: boolean;
  idleTimeMs?: number;
  err?: string;
  atMs: number;
}

/** What became of one request. */
export interface GoOutcome {
  request: number;
  method: string;
  path: string;
  status?: number;
  error?: string;
  errorKind?: 'timeout' | 'server-closed' | 'other';
  attempts: number;
  retried: boolean;
  ports: number[];
  elapsedMs: number;
}

/** Fields every script reports. */
export interface GoScriptReport {
  script: GoClientScript;
  target: string;
  goVersion: string;
  dials: number;
  reuses: number;
  maxOpen: number;
  outcomes: GoOutcome[];
  events: GoTraceEvent[];
  /** Script-specific fields (README.md): maxConnsPerHost, idleOrder, pickOrder, pick, ... */
  [field: string]: unknown;
}

/** Runs one client script against `target` and parses its JSON report. */
export function runGoClientScript(
  path: string,
  target: string,
  script: GoClientScript,
  extra: readonly string[] = [],
): Promise<GoScriptReport> {
  return new Promise((resolve, reject) => {
    execFile(
      path,
      ['client', '--target', target, '--script', script, '--json', ...extra],
      { timeout: CLIENT_SCRIPT_TIMEOUT_MS, maxBuffer: CLIENT_OUTPUT_MAX_BYTES, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        if (error !== null) {
          reject(new Error(`go-http1 client --script ${script} failed: ${error.message}\n${stderr}`));
          return;
        }
        try {
          resolve(JSON.parse(stdout) as GoScriptReport);
        } catch (e) {
          reject(
            new Error(`go-http1 client --script ${script}: not JSON (${String(e)}): ${stdout.slice(0, 500)}`),
          );
        }
      },
    );
  });
}
