/**
 * The reactor's interop runner (StackInteropRunner), Node only. A cell: netlab's reactor echo
 * (impl/reactor/echo.ts on the real runtime, in this process, checking mode on) listens on tcp or
 * ipc, the fault profile (if any) puts the seeded proxy in front of it, and a peer process dials:
 * a raw node:net client (`node -e`, NODE_ECHO_CLIENT below) or netlab's own Go client
 * (./peers/go-echo-client, built on demand by scenarios/interop/build.ts). Both clients do the same
 * exchange: messages of each size in turn (byte i of message k = (i*31 + k*7 + 1) mod 256), each
 * echo checked byte-exact, then a half-close and the server's end of stream with nothing after it.
 *
 * Verdict: pass when the client reports "ok" (exit 0) and the server closed the connection for the
 * peer's close (reason peer-closed), with nothing closed for a handler error, spin or overflow, and
 * the server's bytes out equal to its bytes in. Under a profile that destroys data (reset), the
 * first connection must fail with a reset on the client (exit 3) and close on the server with
 * reason reset (a typed error on that connection only); a second connection, clean, must then pass
 * as above: the listener and the process went on.
 */
import { performance } from 'node:perf_hooks';
import { join } from 'node:path';
import { createNodeEnv } from '../../../impl/runtime/node.js';
import { serveEcho } from '../../../impl/reactor/echo.js';
import type { ReactorServer } from '../../../impl/reactor/server.js';
import { RingSink } from '../../../sim/trace.js';
import { traceFileName, TRACES_DIR, type CaseInput } from '../../../reports/schema.js';
import { packageRoot } from '../../../bin/package-root.js';
import { buildPeer, PeerBuildError } from '../../interop/build.js';
import { FAULT_PROFILES, faultProfile, TRANSPORTS, type Transport } from '../../interop/faults.js';
import { requirePeers, runPeer, tempIpcPath, type PeerResult } from '../../interop/harness.js';
import {
  cellId,
  DEFAULT_CELL_TIMEOUT_MS,
  DEFAULT_SEED,
  type CellStatus,
  type InteropCell,
  type InteropCellResult,
  type InteropSelection,
  type StackInteropRunner,
} from '../../interop/matrix.js';
import { INTEROP_SUITE } from '../../interop/report.js';
import {
  REACTOR_PEER_IDS,
  REACTOR_PROTOCOLS,
  REACTOR_ROLES,
  REACTOR_STACK,
  type ReactorPeerId,
} from './axes.js';

const KIB = 1024;
/** The messages of a cell: 1 B, 64 B, 64 KiB, 1 MiB. */
export const CELL_SIZES: readonly number[] = [1, 64, 64 * KIB, 1024 * KIB];
/**
 * Under slicing (writes of 1-64 bytes, 100 µs apart, i.e. one host timer each) 1 MiB would take
 * minutes: smaller messages, still straddling every read boundary.
 */
const SLICED_SIZES: readonly number[] = [1, 64, 1500];
/** Under chaos (1 MB/s both ways plus slicing): up to 64 KiB, well inside the cell's bound. */
const CHAOS_SIZES: readonly number[] = [1, 64, 64 * KIB];
/** The first connection of a reset cell: the reset comes after 12 bytes upstream. */
const RESET_SIZES: readonly number[] = [64, 64 * KIB];
/** How long the server may take to see a connection's close after its client exited. */
const SERVER_CLOSE_WAIT_MS = 2_000;
/**
 * Exit status both clients use for a connection that failed (refused, reset, or cut short by an end
 * of stream: over unix sockets a reset reaches the other end as an end of stream).
 */
const EXIT_RESET = 3;

function sizesFor(faults: string): readonly number[] {
  if (faults === 'slicing') return SLICED_SIZES;
  if (faults === 'chaos') return CHAOS_SIZES;
  return CELL_SIZES;
}

/** The raw node:net client: `node -e NODE_ECHO_CLIENT URL SIZES`; the same exchange and exit statuses as the Go client. */
export const NODE_ECHO_CLIENT = `
const net = require('node:net');
const [url, sizesArg] = process.argv.slice(1);
const fail = (code, msg) => { process.stdout.write(msg + '\\n'); process.exit(code); };
const pattern = (k, n) => { const b = Buffer.allocUnsafe(n); for (let i = 0; i < n; i++) b[i] = (i * 31 + k * 7 + 1) & 255; return b; };
const m = /^tcp:\\/\\/(.+):(\\d+)$/.exec(url);
const target = m ? { host: m[1], port: Number(m[2]) } : { path: url.replace(/^(ipc|unix):\\/\\//, '') };
const sizes = sizesArg.split(',').map(Number);
setTimeout(() => fail(3, 'timed out'), 60000).unref();
const sock = net.connect({ ...target, allowHalfOpen: true });
let k = 0, expected = null, got = [], have = 0, ended = false, total = 0;
const send = () => { expected = pattern(k, sizes[k]); got = []; have = 0; sock.write(expected); };
sock.on('error', (e) => fail(3, 'connection: ' + (e.code || '') + ' ' + e.message));
sock.on('connect', send);
sock.on('data', (d) => {
  if (expected === null) fail(1, d.length + ' unexpected bytes after the half-close');
  got.push(d); have += d.length;
  if (have > expected.length) fail(1, 'message ' + k + ': more bytes echoed than sent');
  if (have < expected.length) return;
  const echo = Buffer.concat(got);
  if (!echo.equals(expected)) { let at = 0; while (echo[at] === expected[at]) at++; fail(1, 'message ' + k + ' (' + expected.length + ' bytes): echo differs at byte ' + at); }
  total += have; k++;
  if (k < sizes.length) send(); else { expected = null; sock.end(); }
});
sock.on('end', () => { if (expected !== null) fail(3, 'end of stream before the whole echo of message ' + k); ended = true; });
sock.on('close', () => { if (!ended) fail(1, 'closed without an end of stream'); fail(0, 'ok: ' + sizes.length + ' messages, ' + total + ' bytes echoed exactly, clean close'); });
`;

const GO_CLIENT_DIR = (): string =>
  join(packageRoot(), 'scenarios', 'reactor', 'interop', 'peers', 'go-echo-client');

/** How to run a peer: its command line prefix and the label cells' details start with. */
type PeerLaunch =
  | { kind: 'ready'; command: string; prefix: string[]; label: string; version: string }
  | { kind: 'unavailable'; reason: string }
  | { kind: 'broken'; reason: string };

async function goVersion(): Promise<string | null> {
  const r = await runPeer({ command: 'go', args: ['version'], timeoutMs: 10_000 });
  if (r.code !== 0) return null;
  return /go\d+\.\d+(?:\.\d+)?/.exec(Buffer.from(r.stdout).toString('utf8'))?.[0] ?? 'unknown';
}

let goLaunch: Promise<PeerLaunch> | undefined;

async function launchOf(peer: ReactorPeerId): Promise<PeerLaunch> {
  if (peer === 'node')
    return {
      kind: 'ready',
      command: process.execPath,
      prefix: ['-e', NODE_ECHO_CLIENT],
      label: `node ${process.version}`,
      version: process.version.replace(/^v/, ''),
    };
  goLaunch ??= (async (): Promise<PeerLaunch> => {
    try {
      const built = await buildPeer({ name: 'go-echo-client', toolchain: 'go', sourceDir: GO_CLIENT_DIR() });
      if (built.status === 'unavailable')
        return { kind: 'unavailable', reason: `${built.reason} (apt-get install golang-go)` };
      const version = (await goVersion()) ?? 'unknown';
      return {
        kind: 'ready',
        command: built.path,
        prefix: [],
        label: `go-echo-client (${version})`,
        version: version.replace(/^go/, ''),
      };
    } catch (e) {
      return { kind: 'broken', reason: e instanceof PeerBuildError ? e.message : String(e) };
    }
  })();
  return goLaunch;
}

/** Own values of an axis only. */
function own<T extends string>(list: readonly string[], accepted: readonly T[]): T[] {
  return accepted.filter((v) => list.includes(v));
}

/** The cells of a selection; quick: one per (peer, fault profile), transports alternating. */
export function reactorCells(selection: InteropSelection): InteropCell[] {
  const peers = own(selection.peers, REACTOR_PEER_IDS);
  const protocols = own(selection.protocols, REACTOR_PROTOCOLS);
  const roles = own(selection.roles, REACTOR_ROLES);
  const cells: InteropCell[] = [];
  for (const peer of peers)
    for (const protocol of protocols)
      for (const role of roles)
        for (const profile of FAULT_PROFILES.filter((p) => selection.faults.some((f) => f.name === p.name))) {
          const transports = TRANSPORTS.filter(
            (t) => selection.transports.includes(t) && profile.transports.includes(t),
          );
          if (transports.length === 0) continue;
          const k = FAULT_PROFILES.indexOf(profile) + REACTOR_PEER_IDS.indexOf(peer);
          const chosen: Transport[] = selection.quick ? [transports[k % transports.length]!] : transports;
          for (const transport of chosen)
            cells.push({ stack: REACTOR_STACK, peer, protocol, role, transport, faults: profile.name });
        }
  return cells;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function outputOf(r: PeerResult): string {
  const out = Buffer.from(r.stdout).toString('utf8').trim();
  const err = r.stderr.trim();
  return [out, err]
    .filter((s) => s !== '')
    .join(' / ')
    .slice(0, 500);
}

/** Waits until the server has no open connection, or ms pass. */
async function serverQuiet(server: ReactorServer, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (server.stats.open > 0 && performance.now() < end) await new Promise((r) => setTimeout(r, 10));
  return server.stats.open === 0;
}

/** What must not have happened on the server, whatever the profile. */
function serverFaults(server: ReactorServer): string[] {
  const c = server.stats.closed;
  const bad: string[] = [];
  for (const reason of ['handler-spin', 'handler-error', 'input-overflow', 'idle-timeout'] as const)
    if (c[reason] > 0) bad.push(`${c[reason]} connection(s) closed for ${reason}`);
  return bad;
}

class CellFailure extends Error {
  constructor(
    readonly status: 'fail' | 'error',
    text: string,
  ) {
    super(text);
  }
}

export async function runReactorCell(
  cell: InteropCell,
  options: { timeoutMs?: number; seed?: string; traceCapacity?: number } = {},
): Promise<InteropCellResult> {
  const startMs = performance.now();
  const id = cellId(cell);
  const timeoutMs = options.timeoutMs ?? DEFAULT_CELL_TIMEOUT_MS;
  const ring = (options.traceCapacity ?? 0) > 0 ? new RingSink(options.traceCapacity) : undefined;
  const result = (status: CellStatus, detail: string, version: string | null): InteropCellResult => ({
    ...cell,
    id,
    status,
    detail,
    peerVersion: version,
    durationMs: Math.round(performance.now() - startMs),
    trace: ring?.events() ?? [],
  });
  const profile = faultProfile(cell.faults);
  if (
    profile === undefined ||
    !REACTOR_PEER_IDS.includes(cell.peer as ReactorPeerId) ||
    !REACTOR_PROTOCOLS.includes(cell.protocol) ||
    !REACTOR_ROLES.includes(cell.role)
  )
    return result('error', `no such cell: ${id}`, null);
  const launch = await launchOf(cell.peer as ReactorPeerId);
  if (launch.kind === 'unavailable')
    return requirePeers()
      ? result('error', `NETLAB_REQUIRE_PEERS=1 and ${launch.reason}`, null)
      : result('skip', launch.reason, null);
  if (launch.kind === 'broken') return result('error', launch.reason, null);

  const seed = `${options.seed ?? DEFAULT_SEED}/${id}`;
  const env = createNodeEnv({
    seed,
    hostName: 'netlab',
    ...(ring !== undefined ? { trace: { sinks: [ring] } } : {}),
  });
  const deadline = startMs + timeoutMs;
  let server: ReactorServer | undefined;
  let closeWrap: (() => Promise<void>) | undefined;
  let wrapLog: () => string[] = () => [];
  const notes: string[] = [];
  const client = async (url: string, sizes: readonly number[]): Promise<PeerResult> => {
    const left = Math.max(1, Math.round(deadline - performance.now()));
    return runPeer({
      command: launch.command,
      args: [...launch.prefix, url, sizes.join(',')],
      timeoutMs: left,
    });
  };
  try {
    const listen =
      cell.transport === 'tcp'
        ? 'tcp://127.0.0.1:0'
        : `ipc://${tempIpcPath(`reactor-${cell.peer}-${cell.faults}`)}`;
    server = await serveEcho(env, listen, { checking: true });
    const bound = server.address.replace(/^unix:\/\//, 'ipc://');
    const wrapped = await profile.wrap({ id, transport: cell.transport }, bound, seed);
    closeWrap = () => wrapped.close();
    wrapLog = () => wrapped.log();

    let cleanRuns = 0;
    if (profile.destroysData) {
      const first = await client(wrapped.dialUrl, RESET_SIZES);
      if (first.timedOut)
        throw new CellFailure('error', `the first connection timed out: ${outputOf(first)}`);
      if (first.code !== EXIT_RESET)
        throw new CellFailure(
          'fail',
          `the first connection should be reset, the client said (exit ${String(first.code)}): ${outputOf(first)}`,
        );
      notes.push(`first connection reset as planned (${outputOf(first)})`);
      if (!(await serverQuiet(server, SERVER_CLOSE_WAIT_MS)))
        throw new CellFailure('fail', 'the server did not close the reset connection');
      if (server.stats.closed.reset < 1)
        throw new CellFailure(
          'fail',
          `the server closed the reset connection for ${JSON.stringify(server.stats.closed)}, not reset`,
        );
    }
    const sizes = sizesFor(cell.faults);
    const r = await client(wrapped.dialUrl, sizes);
    if (r.timedOut) throw new CellFailure('error', `the client timed out: ${outputOf(r)}`);
    if (r.spawnError !== null) throw new CellFailure('error', `the client could not start: ${r.spawnError}`);
    if (r.code !== 0)
      throw new CellFailure('fail', `the client (exit ${String(r.code ?? r.signal)}): ${outputOf(r)}`);
    cleanRuns++;
    notes.push(outputOf(r));
    if (!(await serverQuiet(server, SERVER_CLOSE_WAIT_MS)))
      throw new CellFailure(
        'fail',
        `the server still has ${server.stats.open} connection(s) open after the client's close`,
      );
    const bad = serverFaults(server);
    if (bad.length > 0) throw new CellFailure('fail', `server: ${bad.join(', ')}`);
    if (server.stats.closed['peer-closed'] !== cleanRuns)
      throw new CellFailure(
        'fail',
        `server close reasons ${JSON.stringify(server.stats.closed)}: expected ${cleanRuns} peer-closed`,
      );
    if (!profile.destroysData && server.stats.bytesOut !== server.stats.bytesIn)
      throw new CellFailure(
        'fail',
        `server: ${server.stats.bytesIn} bytes in but ${server.stats.bytesOut} out`,
      );
    const expectedIn = sizes.reduce((a, b) => a + b, 0);
    if (!profile.destroysData && server.stats.bytesIn !== expectedIn)
      throw new CellFailure('fail', `server: ${server.stats.bytesIn} bytes in, ${expectedIn} sent`);
    notes.push(
      `server: ${server.stats.accepted} accepted, closed ${JSON.stringify(nonZero(server.stats.closed))}`,
    );
    return result('pass', [launch.label + ': ' + notes.join('; '), ...wrapLog()].join('; '), launch.version);
  } catch (e) {
    const status = e instanceof CellFailure ? e.status : 'error';
    return result(
      status,
      [`${launch.label}: ${message(e)}`, ...notes, ...wrapLog()].join('; '),
      launch.version,
    );
  } finally {
    await server?.shutdown(0).catch(() => undefined);
    await closeWrap?.().catch(() => undefined);
    await env.close().catch(() => undefined);
  }
}

function nonZero(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).filter(([, n]) => n > 0));
}

/** The report case of a result: impl is the peer and its version, netlab's echo-reactor listens. */
export function reactorCellCase(r: InteropCellResult, seed: string): CaseInput {
  const library = r.peer === 'go' ? 'go' : 'node';
  const impl = r.peerVersion === null ? library : `${library} ${r.peerVersion}`;
  const faults = r.faults === 'none' ? '' : `/${r.faults}`;
  const id = `${INTEROP_SUITE}/${r.protocol}/${impl}/${r.role}/${r.transport}${faults}`;
  const requirement =
    'every message echoed byte-exact, in order; half-close answered by a clean close; a reset closes only its connection';
  return {
    id,
    title: `netlab echo-reactor listens, a ${library} client dials over ${r.transport}${r.faults === 'none' ? '' : ` with faults ${r.faults}`}`,
    stack: REACTOR_STACK,
    family: INTEROP_SUITE,
    protocol: r.protocol,
    transport: r.transport,
    runtime: 'real',
    impl,
    peer: r.peer === 'go' ? 'go-echo-client' : 'node',
    role: `${library} echo client, dialer`,
    faults: [...(faultProfile(r.faults)?.kinds ?? [])],
    ref: null,
    requirement,
    invariant: 'echo == sent; close reasons peer-closed (reset under the reset profile)',
    status: r.status,
    runs: r.status === 'skip' ? 0 : 1,
    fcSeed: null,
    fcPath: null,
    simSeed: null,
    shrinks: null,
    counterexample: null,
    expected: requirement,
    actual: r.detail,
    replay: `netlab interop --stack reactor --peer ${r.peer} --protocol ${r.protocol} --role ${r.role} --transport ${r.transport} --faults ${r.faults} --seed ${JSON.stringify(seed)}`,
    traceHash: null,
    trace: r.trace.length > 0 ? `${TRACES_DIR}/${traceFileName(id)}` : null,
    wallMs: r.durationMs,
  };
}

export const reactorInteropRunner: StackInteropRunner = {
  cells: reactorCells,
  async peerVersions(peers) {
    const versions: Record<string, string> = {};
    for (const p of own(peers, REACTOR_PEER_IDS)) {
      if (p === 'node') versions.node = process.version;
      else versions['go-echo-client'] = (await goVersion().catch(() => null)) ?? 'not installed';
    }
    return versions;
  },
  runCell: (cell, options) => runReactorCell(cell, options),
  caseOf: reactorCellCase,
};
