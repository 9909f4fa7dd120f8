/**
 * Peer programs of netlab's own that need building (the small Go peers the HTTP/2, gRPC and HTTP/1.1
 * stacks bring): built on demand when their toolchain is present, cached by a hash of their source
 * and of the toolchain's version, so `netlab interop --stack X` works on any machine with the
 * toolchain and builds each peer once. The build is offline: Go in GOPATH mode with Debian's Go
 * packages (/usr/share/gocode) and no module proxy (TOOLCHAIN.md). Node-only.
 *
 * Bounds: one build takes at most `timeoutMs` (default 180 s); its output kept for an error is the
 * last 2 000 characters; a source tree larger than MAX_SOURCE_BYTES is refused.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join, relative } from 'node:path';

/** Default bound on one build (a grpc-go peer takes ~13 s cold here). */
export const DEFAULT_BUILD_TIMEOUT_MS = 180_000;
/** Largest source tree hashed and built (a peer is a small program of our own). */
export const MAX_SOURCE_BYTES = 4 * 1024 * 1024;
/** Characters of a failed build's output kept in the error. */
const OUTPUT_TAIL_CHARS = 2_000;
/** Where Debian installs Go packages (golang-google-grpc-dev and friends). */
const DEBIAN_GOPATH = '/usr/share/gocode';

/** A peer program to build. */
export interface PeerProgram {
  /** Name of the executable (and of its cache entry), e.g. "h2-peer". */
  name: string;
  toolchain: 'go';
  /** The program's source folder (absolute): every file in it is hashed; `go build` runs there. */
  sourceDir: string;
}

export interface BuildOptions {
  /** Cache folder (default $NETLAB_PEER_CACHE, else ~/.cache/netlab/peers). */
  cacheDir?: string;
  /** The go command (default "go" on PATH). */
  go?: string;
  timeoutMs?: number;
}

export type BuildOutcome =
  | { status: 'built' | 'cached'; path: string; hash: string }
  /** The toolchain is missing: the peer's cells skip (or fail under NETLAB_REQUIRE_PEERS=1). */
  | { status: 'unavailable'; reason: string };

export class PeerBuildError extends Error {
  override readonly name = 'PeerBuildError';
  readonly code = 'ERR_PEER_BUILD';
}

/** The default cache folder. */
export function defaultPeerCacheDir(): string {
  return process.env.NETLAB_PEER_CACHE ?? join(homedir(), '.cache', 'netlab', 'peers');
}

function run(
  file: string,
  args: readonly string[],
  o: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<{ ok: boolean; output: string; missing: boolean }> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd: o.cwd, env: o.env, timeout: o.timeoutMs, maxBuffer: 8 * 1024 * 1024, killSignal: 'SIGKILL' },
      (error, stdout, stderr) => {
        const output = `${stdout}${stderr}`;
        const code = (error as { code?: unknown } | null)?.code;
        resolve({ ok: error === null, output, missing: code === 'ENOENT' });
      },
    );
  });
}

/** Every file under `dir`, as paths relative to it, sorted (a stable order for the hash). */
function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else out.push(relative(dir, path));
    }
  };
  walk(dir);
  return out;
}

/** The hash a build is cached under: the toolchain's version line and every source file's path and bytes. */
export function sourceHash(sourceDir: string, toolchainVersion: string): string {
  const h = createHash('sha256');
  h.update(`${toolchainVersion}\n`);
  let total = 0;
  for (const file of sourceFiles(sourceDir)) {
    const bytes = readFileSync(join(sourceDir, file));
    total += bytes.length;
    if (total > MAX_SOURCE_BYTES)
      throw new PeerBuildError(
        `peer source ${sourceDir} is over ${MAX_SOURCE_BYTES} bytes: not a peer program`,
      );
    h.update(`${file}\0${bytes.length}\0`);
    h.update(bytes);
  }
  return h.digest('hex').slice(0, 16);
}

/**
 * The executable of `program`, built now or taken from the cache. A missing toolchain is
 * `unavailable`, not an error; a failed build is a PeerBuildError with the build's output.
 */
export async function buildPeer(program: PeerProgram, options: BuildOptions = {}): Promise<BuildOutcome> {
  if (!/^[a-z0-9][a-z0-9-]{0,63}$/.test(program.name))
    throw new PeerBuildError(`peer name '${program.name}': lower-case letters, digits and '-' only`);
  const go = options.go ?? 'go';
  const timeoutMs = options.timeoutMs ?? DEFAULT_BUILD_TIMEOUT_MS;
  const version = await run(go, ['version'], { timeoutMs: 10_000 });
  if (version.missing || !version.ok)
    return { status: 'unavailable', reason: `the Go toolchain (${go}) is not installed` };
  const hash = sourceHash(program.sourceDir, version.output.trim());
  const cacheDir = options.cacheDir ?? defaultPeerCacheDir();
  const entry = join(cacheDir, `${program.name}-${hash}`);
  const path = join(entry, program.name);
  if (existsSync(path)) return { status: 'cached', path, hash };

  mkdirSync(cacheDir, { recursive: true });
  // Built into a fresh folder and renamed into place: a build cut short never looks cached.
  const work = mkdtempSync(join(cacheDir, `.${program.name}-`));
  try {
    const gopath = join(work, 'gopath');
    const built = await run(go, ['build', '-o', join(work, program.name), '.'], {
      cwd: program.sourceDir,
      timeoutMs,
      env: {
        ...process.env,
        GO111MODULE: 'off',
        GOPROXY: 'off',
        GOFLAGS: '',
        GOPATH: `${gopath}:${DEBIAN_GOPATH}`,
        GOCACHE: join(cacheDir, '.go-build-cache'),
      },
    });
    if (!built.ok) {
      const tail =
        built.output.length > OUTPUT_TAIL_CHARS ? `…${built.output.slice(-OUTPUT_TAIL_CHARS)}` : built.output;
      throw new PeerBuildError(
        `building peer ${program.name} (${program.sourceDir}) failed:\n${tail.trim()}`,
      );
    }
    mkdirSync(join(work, 'entry'));
    renameSync(join(work, program.name), join(work, 'entry', program.name));
    try {
      renameSync(join(work, 'entry'), entry);
    } catch (e) {
      // Another process built the same entry meanwhile: theirs is as good as ours.
      if (!existsSync(path)) throw e;
    }
    return { status: 'built', path, hash };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
