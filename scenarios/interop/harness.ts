/**
 * Runs third-party SP peers (nngcat, nanocat) and other helper programs as bounded child processes
 * for interop tests: every child has a hard time limit, captured output is bounded, and a
 * process-wide registry reaps every child still running when a test ends, fails or the process exits.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants as fsConstants, realpathSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';

/** Time between SIGTERM and SIGKILL when a peer is stopped or runs out of time. */
export const DEFAULT_GRACE_MS = 500;
/** Per-stream capture bound: a runaway peer must not exhaust the test process's memory. */
export const MAX_CAPTURE_BYTES = 16 * 1024 * 1024;
/**
 * After the child exits, how long to wait for its stdout/stderr pipes to close. A grandchild that
 * inherited them would otherwise keep `done` pending forever.
 */
const PIPE_CLOSE_WAIT_MS = 200;

export interface PeerSpec {
  command: string;
  args: string[];
  /** Hard bound: SIGTERM at timeoutMs - grace, SIGKILL at timeoutMs. */
  timeoutMs: number;
  /** SIGTERM-to-SIGKILL grace; default DEFAULT_GRACE_MS, at most half of timeoutMs. */
  graceMs?: number;
  /** Written to the child's stdin, which is then closed; without it the child reads EOF at once. */
  stdin?: Uint8Array | string;
  /** Added to (and overriding) the parent's environment. */
  env?: Record<string, string>;
  cwd?: string;
  /** Per-stream capture bound; default MAX_CAPTURE_BYTES. */
  maxCaptureBytes?: number;
}

export interface PeerResult {
  code: number | null;
  signal: string | null;
  stdout: Uint8Array;
  stderr: string;
  /** The harness had to signal the child because timeoutMs ran out. */
  timedOut: boolean;
  durationMs: number;
  /** Some output went past the capture bound and was replaced by a marker. */
  truncated: boolean;
  /** Set when the child could not be started at all (e.g. ENOENT); code and signal are then null. */
  spawnError: string | null;
}

/** Text snapshot of what a running peer has printed so far (UTF-8 decoded). */
export interface PeerOutput {
  stdout: string;
  stderr: string;
}

export type OutputMatcher = RegExp | ((output: PeerOutput) => boolean);

export interface RunningPeer {
  /** Process id, or null when the child could not be started. */
  readonly pid: number | null;
  readonly command: string;
  readonly exited: boolean;
  /** Settles (never rejects) once the child has exited and its output is collected. */
  readonly done: Promise<PeerResult>;
  output(): PeerOutput;
  /**
   * Resolves with the output once `match` holds (a RegExp is tried on stdout and on stderr);
   * rejects when timeoutMs passes first or the child exits without a match.
   */
  waitForOutput(match: OutputMatcher, timeoutMs: number): Promise<PeerOutput>;
  /** SIGTERM, then SIGKILL after the grace period; resolves with the result. */
  stop(graceMs?: number): Promise<PeerResult>;
}

function truncationMarker(limitBytes: number): string {
  return `\n[netlab harness: output truncated after ${limitBytes} bytes]\n`;
}

/** Bounded byte capture with an incrementally decoded text view for waitForOutput. */
class Capture {
  private readonly chunks: Buffer[] = [];
  private sizeBytes = 0;
  private readonly decoder = new StringDecoder('utf8');
  text = '';
  truncated = false;

  constructor(private readonly limitBytes: number) {}

  push(chunk: Buffer): void {
    if (this.truncated) return;
    const roomBytes = this.limitBytes - this.sizeBytes;
    const kept = chunk.length <= roomBytes ? chunk : chunk.subarray(0, roomBytes);
    this.chunks.push(kept);
    this.sizeBytes += kept.length;
    this.text += this.decoder.write(kept);
    if (kept !== chunk) {
      this.truncated = true;
      this.text += this.decoder.end() + truncationMarker(this.limitBytes);
    }
  }

  bytes(): Uint8Array {
    const all = Buffer.concat(this.chunks);
    if (!this.truncated) return new Uint8Array(all);
    return new Uint8Array(Buffer.concat([all, Buffer.from(truncationMarker(this.limitBytes))]));
  }
}

interface Waiter {
  match: OutputMatcher;
  resolve: (output: PeerOutput) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

const live = new Set<Peer>();
const ipcPaths = new Set<string>();

class Peer implements RunningPeer {
  readonly command: string;
  readonly pid: number | null;
  readonly done: Promise<PeerResult>;
  exited = false;

  private readonly startMs = performance.now();
  private readonly out: Capture;
  private readonly err: Capture;
  private readonly waiters = new Set<Waiter>();
  private readonly timers: NodeJS.Timeout[] = [];
  private timedOut = false;
  private finished = false;
  private exitCode: number | null = null;
  private exitSignal: string | null = null;
  private resolveDone!: (result: PeerResult) => void;

  constructor(spec: PeerSpec) {
    this.command = spec.command;
    const limitBytes = spec.maxCaptureBytes ?? MAX_CAPTURE_BYTES;
    this.out = new Capture(limitBytes);
    this.err = new Capture(limitBytes);
    this.done = new Promise((res) => (this.resolveDone = res));

    // detached: the child leads its own process group, so signals reach anything it forks too.
    const child = spawn(spec.command, spec.args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
      env: spec.env === undefined ? process.env : { ...process.env, ...spec.env },
      ...(spec.cwd === undefined ? {} : { cwd: spec.cwd }),
    });
    this.pid = child.pid ?? null;

    child.on('error', (e) => {
      // 'error' also reports failed kills of a live child; only a failed spawn ends the peer.
      if (this.pid === null) this.finish(e.message);
    });
    child.stdout.on('data', (chunk: Buffer) => this.onOutput(this.out, chunk));
    child.stderr.on('data', (chunk: Buffer) => this.onOutput(this.err, chunk));
    // A child that exits without reading its stdin makes our write fail with EPIPE; that is fine.
    child.stdin.on('error', () => {});
    child.stdin.end(spec.stdin ?? '');

    child.on('exit', (code, signal) => {
      this.exited = true;
      this.exitCode = code;
      this.exitSignal = signal;
      // Output waiters are failed once the pipes are drained ('close', finish()), not here: a child
      // that printed and exited at once may still have its last lines unread when 'exit' comes.
      this.timers.push(
        setTimeout(() => {
          // Something in the child's process group still holds the pipes: kill it and move on.
          this.signalGroup('SIGKILL');
          child.stdout.destroy();
          child.stderr.destroy();
          this.finish(null);
        }, PIPE_CLOSE_WAIT_MS),
      );
    });
    child.on('close', () => this.finish(null));

    if (this.pid === null) return;
    live.add(this);
    installExitHooks();
    const graceMs = Math.min(spec.graceMs ?? DEFAULT_GRACE_MS, Math.floor(spec.timeoutMs / 2));
    this.timers.push(
      setTimeout(
        () => {
          this.timedOut = true;
          this.signalGroup('SIGTERM');
        },
        Math.max(0, spec.timeoutMs - graceMs),
      ),
      setTimeout(() => {
        this.timedOut = true;
        this.signalGroup('SIGKILL');
      }, spec.timeoutMs),
    );
  }

  output(): PeerOutput {
    return { stdout: this.out.text, stderr: this.err.text };
  }

  waitForOutput(match: OutputMatcher, timeoutMs: number): Promise<PeerOutput> {
    if (this.matches(match)) return Promise.resolve(this.output());
    if (this.finished) return Promise.reject(this.waitError(match, 'exited'));
    return new Promise((res, rej) => {
      const waiter: Waiter = {
        match,
        resolve: res,
        reject: rej,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          rej(this.waitError(match, `did not print it within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  stop(graceMs = DEFAULT_GRACE_MS): Promise<PeerResult> {
    if (!this.exited && !this.finished) {
      this.signalGroup('SIGTERM');
      const timer = setTimeout(() => this.signalGroup('SIGKILL'), graceMs);
      this.timers.push(timer);
    }
    return this.done;
  }

  /** Synchronous last-resort kill, safe inside a process 'exit' handler. */
  killNow(): void {
    this.signalGroup('SIGKILL');
  }

  private signalGroup(signal: NodeJS.Signals): void {
    if (this.pid === null || this.finished) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // The group is gone (ESRCH) or was never formed; fall back to the child itself.
      try {
        if (!this.exited) process.kill(this.pid, signal);
      } catch {
        // Already gone.
      }
    }
  }

  private onOutput(capture: Capture, chunk: Buffer): void {
    capture.push(chunk);
    for (const waiter of this.waiters) {
      if (!this.matches(waiter.match)) continue;
      this.waiters.delete(waiter);
      clearTimeout(waiter.timer);
      waiter.resolve(this.output());
    }
  }

  private matches(match: OutputMatcher): boolean {
    const output = this.output();
    if (typeof match === 'function') return match(output);
    // A global or sticky RegExp keeps lastIndex between calls; reset it so each test starts fresh.
    match.lastIndex = 0;
    if (match.test(output.stdout)) return true;
    match.lastIndex = 0;
    return match.test(output.stderr);
  }

  private waitError(match: OutputMatcher, why: string): Error {
    const { stdout, stderr } = this.output();
    const what = typeof match === 'function' ? 'the expected output' : String(match);
    return new Error(
      `${this.command} (pid ${this.pid ?? '-'}) ${why} before printing ${what}\n` +
        `stdout: ${stdout.slice(-2000)}\nstderr: ${stderr.slice(-2000)}`,
    );
  }

  private failWaiters(why: string): void {
    for (const waiter of this.waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(this.waitError(waiter.match, why));
    }
    this.waiters.clear();
  }

  private finish(spawnError: string | null): void {
    if (this.finished) return;
    this.finished = true;
    live.delete(this);
    for (const timer of this.timers) clearTimeout(timer);
    this.failWaiters(spawnError === null ? 'exited' : 'could not start');
    this.resolveDone({
      code: this.exitCode,
      signal: this.exitSignal,
      stdout: this.out.bytes(),
      stderr: Buffer.from(this.err.bytes()).toString('utf8'),
      timedOut: this.timedOut,
      durationMs: performance.now() - this.startMs,
      truncated: this.out.truncated || this.err.truncated,
      spawnError,
    });
  }
}

/** Starts a background peer (e.g. a listener); stop it with stop() or stopAllPeers(). */
export function startPeer(spec: PeerSpec): RunningPeer {
  return new Peer(spec);
}

/** Runs a peer to completion (or to its time bound) and returns what it did. */
export function runPeer(spec: PeerSpec): Promise<PeerResult> {
  return new Peer(spec).done;
}

/** Stops every still-running peer (SIGTERM, then SIGKILL) and removes temporary IPC paths. */
export async function stopAllPeers(graceMs = DEFAULT_GRACE_MS): Promise<PeerResult[]> {
  const results = await Promise.all([...live].map((peer) => peer.stop(graceMs)));
  removeIpcPaths();
  return results;
}

/** Number of peers the registry still tracks as running. */
export function runningPeerCount(): number {
  return live.size;
}

/** Synchronous SIGKILL of every running peer: what the exit hooks do. */
export function killAllPeersNow(): void {
  for (const peer of live) peer.killNow();
}

function removeIpcPaths(): void {
  for (const path of ipcPaths) rmSync(path, { force: true });
  ipcPaths.clear();
}

let hooksInstalled = false;

function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  // 'exit' handlers must be synchronous: SIGKILL, no grace.
  process.on('exit', () => {
    killAllPeersNow();
    removeIpcPaths();
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      killAllPeersNow();
      removeIpcPaths();
      // Listening for a signal disables Node's default "die"; if nobody else handles it, restore
      // that default and re-raise so the process still terminates with the right status.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}

/** A free TCP port on 127.0.0.1 (bound to port 0, read, closed; another process could take it). */
export function freeTcpPort(): Promise<number> {
  return new Promise((res, rej) => {
    const server = createServer();
    server.unref();
    server.on('error', rej);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        rej(new Error('no TCP address for a listener on 127.0.0.1'));
        return;
      }
      server.close(() => res(address.port));
    });
  });
}

/** Unix sockets' sun_path is 108 bytes on Linux; stay under it with room for the ipc:// prefix. */
const MAX_IPC_PATH_BYTES = 100;
let ipcCounter = 0;

/**
 * A unique filesystem path for an ipc:// endpoint (use as `ipc://${path}`), removed by
 * stopAllPeers() and at process exit.
 */
export function tempIpcPath(name: string): string {
  installExitHooks();
  const safeName = name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 32);
  const file = `netlab-${process.pid}-${ipcCounter++}-${randomBytes(3).toString('hex')}-${safeName}.ipc`;
  let path = join(tmpdir(), file);
  if (Buffer.byteLength(path) > MAX_IPC_PATH_BYTES) path = join('/tmp', file);
  ipcPaths.add(path);
  return path;
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Resolves a command through PATH like execvp would, without spawning a shell; null if absent. */
export function findPeer(command: string): string | null {
  if (command.includes('/')) return isExecutableFile(command) ? resolve(command) : null;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, command);
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}

/**
 * Debian packages that provide the third-party programs netlab drives as peers or builds them with,
 * for the install hint in skip and failure reasons (a program not listed is hinted by its own name).
 */
const PEER_PACKAGES: Record<string, string> = {
  nngcat: 'nng-utils',
  nanocat: 'nanomsg-utils',
  go: 'golang-go',
};

/** Upstream part of a Debian version: "1:1.1.5+dfsg-1.1+b1" → "1.1.5". */
function upstreamVersion(debianVersion: string): string {
  const noEpoch = debianVersion.replace(/^\d+:/, '');
  const dash = noEpoch.lastIndexOf('-');
  const upstream = dash > 0 ? noEpoch.slice(0, dash) : noEpoch;
  return upstream.replace(/[+~].*$/, '');
}

/** Version of the Debian package that owns `path`, or null (no dpkg, or not from a package). */
async function dpkgVersionOf(path: string): Promise<string | null> {
  const dpkgQuery = findPeer('dpkg-query');
  if (dpkgQuery === null) return null;
  const candidates = new Set([path]);
  try {
    candidates.add(realpathSync(path));
  } catch {
    // Keep the PATH spelling only.
  }
  for (const candidate of candidates) {
    const owner = await runPeer({ command: dpkgQuery, args: ['-S', candidate], timeoutMs: 5000 });
    const pkg = /^([^:\s]+)(?::[^:\s]+)?: /.exec(Buffer.from(owner.stdout).toString('utf8'))?.[1];
    if (owner.code !== 0 || pkg === undefined) continue;
    const version = await runPeer({
      command: dpkgQuery,
      args: ['-W', '-f=${Version}', pkg],
      timeoutMs: 5000,
    });
    const text = Buffer.from(version.stdout).toString('utf8').trim();
    if (version.code === 0 && text !== '') return upstreamVersion(text);
  }
  return null;
}

const versionCache = new Map<string, Promise<string | null>>();

/**
 * Version of an installed peer ("1.5.2"), 'unknown' when it is installed but no version can be
 * found, null when it is not installed. With `versionArgs`, the first dotted number the program
 * prints for them (exit 0) is its version (nngcat 1.5.2 prints the bare libnng version for
 * `--version`); without, or when that finds none, the version of the Debian package that owns the
 * program (nanocat 1.1.5 has no version flag: "Unknown option ``--version''", exit 1).
 */
export function peerVersion(command: string, versionArgs?: readonly string[]): Promise<string | null> {
  const key = `${command}\0${(versionArgs ?? []).join('\0')}`;
  let cached = versionCache.get(key);
  if (cached === undefined) {
    cached = lookUpVersion(command, versionArgs);
    versionCache.set(key, cached);
  }
  return cached;
}

async function lookUpVersion(
  command: string,
  versionArgs: readonly string[] | undefined,
): Promise<string | null> {
  const path = findPeer(command);
  if (path === null) return null;
  if (versionArgs !== undefined) {
    const result = await runPeer({ command: path, args: [...versionArgs], timeoutMs: 5000 });
    const match = /\d+\.\d+(?:\.\d+)?/.exec(Buffer.from(result.stdout).toString('utf8'));
    if (result.code === 0 && match !== null) return match[0];
  }
  return (await dpkgVersionOf(path)) ?? 'unknown';
}

/** True when missing third-party peers must fail tests instead of skipping them (CI). */
export function requirePeers(): boolean {
  return process.env.NETLAB_REQUIRE_PEERS === '1';
}

/**
 * Whether every command is on PATH, with a reason fit for a skip note or failure message.
 * Interop tests: unavailable + requirePeers() → fail with the reason; unavailable otherwise → skip.
 */
export function peerAvailability(commands: string[]): { available: boolean; reason: string } {
  const missing = commands.filter((command) => findPeer(command) === null);
  if (missing.length === 0) return { available: true, reason: `found on PATH: ${commands.join(', ')}` };
  const packages = [...new Set(missing.map((command) => PEER_PACKAGES[command] ?? command))];
  return {
    available: false,
    reason: `third-party peer not on PATH: ${missing.join(', ')} (apt-get install ${packages.join(' ')})`,
  };
}

/**
 * The interop-test gate in one call, for the start of a vitest test body:
 * `it('…', (ctx) => { gatePeers(ctx, ['nngcat']); … })`. Returns when the peers are present,
 * throws (the test fails) when they are missing and requirePeers(), else skips with the reason.
 */
export function gatePeers(ctx: { skip: (note?: string) => void }, commands: string[]): void {
  const { available, reason } = peerAvailability(commands);
  if (available) return;
  if (requirePeers()) throw new Error(`NETLAB_REQUIRE_PEERS=1 and ${reason}`);
  ctx.skip(`${reason}; set NETLAB_REQUIRE_PEERS=1 to fail instead of skipping`);
}
