/**
 * SP's interop cells: which cells a selection holds (peer × netlab's socket type × netlab's role ×
 * transport × fault profile), and the runner that plays one cell's exchange (./cells.ts) between
 * netlab in this process and nngcat or nanocat as a child process, bounded in time and always
 * reaped, and turns what happened into a verdict (the verdicts: scenarios/interop/matrix.ts).
 */
import { rmSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { createNodeEnv, type NodeEnv } from '../../../impl/runtime/node.js';
import { RingSink } from '../../../sim/trace.js';
import type { Socket } from '../../../impl/sp/core/socket.js';
import { SpError } from '../../../impl/sp/errors.js';
import {
  findPeer,
  freeTcpPort,
  peerAvailability,
  peerVersion,
  requirePeers,
  startPeer,
  tempIpcPath,
  type OutputMatcher,
  type PeerOutput,
  type PeerResult,
  type RunningPeer,
} from '../../interop/harness.js';
import {
  CheckFailure,
  EXCHANGES,
  PEER_DIALECTS,
  PEER_IDS,
  PROTOCOL_ORDER,
  ROLES,
  type Exchange,
  type ExchangeIO,
  type PeerDialect,
  type PeerId,
  type Role,
  type SpProtocol,
} from './cells.js';
import {
  FAULT_PROFILES,
  TRANSPORTS,
  faultProfile,
  type FaultProfile,
  type Transport,
} from '../../interop/faults.js';
import {
  cellId,
  DEFAULT_CELL_TIMEOUT_MS,
  DEFAULT_SEED,
  type CellOptions,
  type CellStatus,
  type InteropCell,
  type InteropCellResult,
} from '../../interop/matrix.js';

/** Protocols that resend what a reset destroyed (netlab's REQ): held to full delivery. */
const RESENDING: readonly SpProtocol[] = ['req0'];

/** One SP cell of the matrix (an InteropCell of stack "sp" without its stack). `role` and `protocol` are netlab's. */
export interface Cell extends Omit<InteropCell, 'stack' | 'peer' | 'protocol' | 'role'> {
  peer: PeerId;
  protocol: SpProtocol;
  role: Role;
}

/** An SP cell's result. */
export type CellResult = Omit<InteropCellResult, 'stack' | 'peer' | 'protocol' | 'role'> & Cell;

/** Bound of a cell's cleanup (sockets closed, peers stopped), apart from the cell's own. */
const CLEANUP_TIMEOUT_MS = 5_000;
/** A peer's own harness bound beyond the cell's: a backstop, the cell's timer fires first. */
const PEER_BACKSTOP_MS = 2_000;
/** Characters of a peer's stderr quoted in a detail. */
const STDERR_TAIL_CHARS = 300;

export function dialectOf(peer: PeerId): PeerDialect {
  return PEER_DIALECTS[peer];
}

function exchangeFor(cell: Pick<Cell, 'protocol' | 'role'>): Exchange | undefined {
  return EXCHANGES.find((e) => e.protocol === cell.protocol && e.role === cell.role);
}

/** The exchange a cell runs; throws for a cell that no table row defines. */
export function exchangeOfCell(cell: Cell): Exchange {
  const e = exchangeFor(cell);
  if (e === undefined) throw new Error(`no interop exchange for ${cellId(cell)}`);
  return e;
}

/** Which cells to run: every list empty or absent means "all". */
export interface Selection {
  peers?: readonly PeerId[];
  protocols?: readonly SpProtocol[];
  roles?: readonly Role[];
  transports?: readonly Transport[];
  faults?: readonly FaultProfile[];
  /** One cell per (peer, protocol, fault profile), rotating through roles and transports. */
  quick?: boolean;
}

const orAll = <T>(list: readonly T[] | undefined, all: readonly T[]): readonly T[] =>
  list === undefined || list.length === 0 ? all : list;

/**
 * The cells of a selection, in matrix order (peer, protocol, fault profile, role, transport): only
 * socket types the peer has, only transports the profile supports.
 */
export function matrixCells(selection: Selection = {}): Cell[] {
  const peers = orAll(selection.peers, PEER_IDS);
  const protocols = orAll(selection.protocols, PROTOCOL_ORDER);
  const roles = orAll(selection.roles, ROLES);
  const transports = orAll(selection.transports, TRANSPORTS);
  const profiles = orAll(selection.faults, FAULT_PROFILES);
  const cells: Cell[] = [];
  for (const peer of PEER_IDS.filter((p) => peers.includes(p))) {
    for (const protocol of PROTOCOL_ORDER.filter((p) => protocols.includes(p))) {
      for (const profile of profiles) {
        const group: Cell[] = [];
        for (const role of ROLES.filter((r) => roles.includes(r))) {
          const exchange = exchangeFor({ protocol, role });
          if (exchange === undefined) continue;
          if (PEER_DIALECTS[peer].protocolFlags[exchange.peerProtocol] === undefined) continue;
          // netlab's REP behind a reset: the reply in flight is lost and the peer's REQ resends only
          // after its resend interval (60 s in nng and nanomsg; nngcat and nanocat cannot shorten
          // it), far past a cell's bound. netlab's own REQ resending is what the req0 cells test.
          if (profile.destroysData && protocol === 'rep0') continue;
          for (const transport of TRANSPORTS.filter((t) => transports.includes(t))) {
            if (!profile.transports.includes(transport)) continue;
            group.push({ peer, protocol, role, transport, faults: profile.name });
          }
        }
        cells.push(...group);
      }
    }
  }
  if (selection.quick !== true) return cells;
  // Quick: a (peer, protocol, profile) group contributes its cell number k mod size, k counting
  // protocols and profiles: consecutive protocols cover both roles and both transports, and both
  // peers play the same cell of a protocol (one row of the report's matrix, a cell in each column).
  const groups = new Map<string, { k: number; cells: Cell[] }>();
  for (const c of cells) {
    const key = `${c.peer}/${c.protocol}/${c.faults}`;
    const k = PROTOCOL_ORDER.indexOf(c.protocol) + FAULT_PROFILES.findIndex((p) => p.name === c.faults);
    const g = groups.get(key) ?? { k, cells: [] };
    g.cells.push(c);
    groups.set(key, g);
  }
  return [...groups.values()].map((g) => g.cells[g.k % g.cells.length]!);
}

/** The cell ended as an error (not a failed check): a peer crashed, timed out, could not start. */
class CellError extends Error {
  override readonly name = 'CellError';
}

const signalsSent = new WeakSet<RunningPeer>();

function stderrTail(r: PeerResult): string {
  const s = r.stderr.trim();
  return s.length > STDERR_TAIL_CHARS ? `…${s.slice(-STDERR_TAIL_CHARS)}` : s;
}

/** How a peer ended, when that is not a clean exit; null for status 0. */
function abnormalExit(command: string, r: PeerResult): string | null {
  if (r.spawnError !== null) return `${command} could not start: ${r.spawnError}`;
  if (r.signal !== null)
    return `${command} was killed by ${r.signal}${r.timedOut ? ' (its time bound ran out)' : ' (crashed)'}`;
  if (r.code !== 0) {
    const tail = stderrTail(r);
    return `${command} exited with status ${r.code ?? '?'}${tail === '' ? '' : `: ${tail}`}`;
  }
  return null;
}

async function listenAddress(transport: Transport, tag: string): Promise<string> {
  return transport === 'tcp' ? `tcp://127.0.0.1:${await freeTcpPort()}` : `ipc://${tempIpcPath(tag)}`;
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Resolves after ms, unless cancelled; never keeps the process alive on its own. */
function delay(ms: number): { promise: Promise<void>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
    timer.unref();
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

/** The state of one running cell behind its ExchangeIO. */
class CellRun implements ExchangeIO {
  readonly sockets: Socket[] = [];
  readonly peers: RunningPeer[] = [];
  readonly notes: string[] = [];
  stage = 'starting';
  aborted = false;
  /** Rejects with a CellError when a peer ends badly on its own (see start). */
  readonly peerFailure: Promise<never>;
  private peerFailed: (why: string) => void = () => undefined;

  constructor(
    readonly env: NodeEnv,
    readonly peer: PeerDialect,
    readonly transport: Transport,
    readonly cell: Cell,
    private readonly command: string,
    private readonly listenUrl: string,
    private readonly dialUrl: string,
    private readonly deadlineMs: number,
  ) {
    this.peerFailure = new Promise<never>((_, reject) => {
      this.peerFailed = (why) => reject(new CellError(why));
    });
    this.peerFailure.catch(() => undefined); // raced against the exchange; unobserved when it passes
  }

  get faults(): string {
    return this.cell.faults;
  }

  get peerDials(): boolean {
    return this.cell.role === 'listener';
  }

  get netlabUrl(): string {
    return this.peerDials ? this.listenUrl : this.dialUrl;
  }

  private get peerUrl(): string {
    return this.peerDials ? this.dialUrl : this.listenUrl;
  }

  private checkAborted(): void {
    if (this.aborted) throw new CellError('the cell was stopped');
  }

  own<S extends Socket>(socket: S): S {
    this.sockets.push(socket);
    return socket;
  }

  private start(peerProtocol: SpProtocol, args: string[]): RunningPeer {
    this.checkAborted();
    const flag = this.peer.protocolFlags[peerProtocol];
    if (flag === undefined) throw new Error(`${this.peer.command} has no ${peerProtocol}`);
    const mode = this.peerDials ? this.peer.dial : this.peer.listen;
    const p = startPeer({
      command: this.command,
      args: [flag, mode, this.peerUrl, ...args],
      timeoutMs: Math.max(1, this.deadlineMs - performance.now()) + PEER_BACKSTOP_MS,
    });
    this.peers.push(p);
    // A peer that crashes or fails mid-exchange ends the cell at once, as an error naming how it
    // ended, rather than after netlab's receive deadline as a vaguer failure.
    void p.done.then((r) => {
      if (signalsSent.has(p)) return;
      const bad = abnormalExit(this.peer.command, r);
      if (bad !== null) this.peerFailed(bad);
    });
    return p;
  }

  async connect(socket: Socket, peerProtocol: SpProtocol, peers: string[][]): Promise<RunningPeer[]> {
    if (this.peerDials) {
      await this.step('listening', socket.listen(this.netlabUrl));
      return peers.map((args) => this.start(peerProtocol, args));
    }
    const started = peers.map((args) => this.start(peerProtocol, args));
    await this.step('dialing', socket.dial(this.netlabUrl));
    return started;
  }

  async step<T>(what: string, work: Promise<T>): Promise<T> {
    this.checkAborted();
    this.stage = what;
    try {
      return await work;
    } catch (e) {
      if (e instanceof SpError) throw new CheckFailure(`${what}: netlab ${e.code}: ${e.message}`);
      throw e;
    }
  }

  check(cond: boolean, what: string): void {
    if (!cond) throw new CheckFailure(what);
  }

  async printed(
    peer: RunningPeer,
    match: OutputMatcher,
    what: string,
    timeoutMs = 5_000,
  ): Promise<PeerOutput> {
    this.checkAborted();
    this.stage = `waiting for ${peer.command} to print ${what}`;
    try {
      return await peer.waitForOutput(match, timeoutMs);
    } catch {
      const printed = peer.output().stdout.trim();
      throw new CheckFailure(
        `${this.peer.command} did not print ${what} (${peer.exited ? 'it exited' : `within ${timeoutMs} ms`}; ` +
          `it printed ${printed === '' ? 'nothing' : JSON.stringify(printed.slice(-200))})`,
      );
    }
  }

  async exits(peer: RunningPeer): Promise<PeerResult> {
    this.checkAborted();
    this.stage = `waiting for ${this.peer.command} to exit`;
    const r = await peer.done;
    const bad = abnormalExit(this.peer.command, r);
    if (bad !== null) throw new CellError(bad);
    return r;
  }

  stop(peer: RunningPeer): Promise<PeerResult> {
    signalsSent.add(peer);
    return peer.stop();
  }

  async untilPipes(socket: Socket, n: number, timeoutMs = 5_000): Promise<void> {
    this.stage = `waiting for ${n} pipe${n === 1 ? '' : 's'}`;
    const endUs = this.env.nowUs() + timeoutMs * 1000;
    while (socket.pipes.size < n) {
      this.checkAborted();
      if (this.env.nowUs() > endUs)
        throw new CheckFailure(`only ${socket.pipes.size} of ${n} pipes attached within ${timeoutMs} ms`);
      await this.env.sleep(10_000);
    }
  }

  note(text: string): void {
    if (!this.notes.includes(text)) this.notes.push(text);
  }

  /** A peer that ended badly on its own (not stopped by this cell), if any: the real cause of a failure. */
  async crashedPeer(): Promise<string | null> {
    for (const p of this.peers) {
      if (!p.exited || signalsSent.has(p)) continue;
      const bad = abnormalExit(this.peer.command, await p.done);
      if (bad !== null) return bad;
    }
    return null;
  }

  /** True when some peer exited on its own with status 0 (a one-shot sender that was done). */
  async peerExitedCleanly(): Promise<boolean> {
    for (const p of this.peers) {
      if (!p.exited || signalsSent.has(p)) continue;
      if (abnormalExit(this.peer.command, await p.done) === null) return true;
    }
    return false;
  }

  /** Stops every peer still running, closes the sockets and the env. */
  async cleanup(): Promise<void> {
    this.aborted = true;
    await Promise.all(
      this.peers.map((p) => {
        if (p.exited) return p.done;
        signalsSent.add(p);
        return p.stop();
      }),
    );
    for (const s of this.sockets) await s.close().catch(() => undefined);
    await this.env.close().catch(() => undefined);
  }
}

/**
 * Times a cell is run again when its peer could not bind the TCP port netlab picked for it: the
 * port was free when picked (freeTcpPort) but another process (often an outgoing connection's
 * ephemeral port, with other tests running beside) took it before the peer bound it. That is the
 * harness's race, not a finding about the peer; each retry picks a new port.
 */
export const BIND_RACE_RETRIES = 2;
const BIND_RACE = /Address (already )?in use/;

/** Runs one cell to its verdict. Never throws; never leaves a child process or a socket behind. */
export async function runCell(cell: Cell, options: CellOptions = {}): Promise<CellResult> {
  let r = await runCellOnce(cell, options);
  for (let retry = 1; retry <= BIND_RACE_RETRIES && cell.transport === 'tcp'; retry++) {
    if (r.status !== 'error' || !BIND_RACE.test(r.detail)) break;
    const why = r.detail;
    r = await runCellOnce(cell, options);
    r = { ...r, detail: `${r.detail} (run ${retry + 1}: the peer could not bind its port before: ${why})` };
  }
  return r;
}

async function runCellOnce(cell: Cell, options: CellOptions): Promise<CellResult> {
  const startMs = performance.now();
  const id = cellId(cell);
  const timeoutMs = options.timeoutMs ?? DEFAULT_CELL_TIMEOUT_MS;
  const dialect = dialectOf(cell.peer);
  const ring = (options.traceCapacity ?? 0) > 0 ? new RingSink(options.traceCapacity) : undefined;
  const result = (status: CellStatus, detail: string, version: string | null): CellResult => ({
    ...cell,
    id,
    status,
    detail,
    peerVersion: version,
    durationMs: Math.round(performance.now() - startMs),
    trace: ring?.events() ?? [],
  });

  const exchange = exchangeFor(cell);
  const profile = faultProfile(cell.faults);
  if (exchange === undefined || profile === undefined)
    return result(
      'error',
      `no such cell: ${id} (scenarios/sp/interop/cells.ts, scenarios/interop/faults.ts)`,
      null,
    );
  const command = findPeer(dialect.command);
  if (command === null) {
    const { reason } = peerAvailability([dialect.command]);
    return requirePeers()
      ? result('error', `NETLAB_REQUIRE_PEERS=1 and ${reason}`, null)
      : result('skip', reason, null);
  }
  const version = await peerVersion(dialect.command, dialect.versionArgs);
  const label = `${dialect.command} ${version ?? 'unknown'}`;

  const deadlineMs = startMs + timeoutMs;
  const timer = delay(timeoutMs);
  let run: CellRun | undefined;
  let closeWrap: (() => Promise<void>) | undefined;
  let wrapLog: () => string[] = () => [];
  let wrapConnections: () => number | null = () => null;
  let ipcPath: string | null = null;
  let callbackError: unknown;
  let hasCallbackError = false;
  /** Set once the verdict is in; setup still running after that undoes itself. */
  let over = false;

  const body = (async (): Promise<string> => {
    const listenUrl = await listenAddress(cell.transport, `${cell.peer}-${cell.protocol}-${cell.role}`);
    if (listenUrl.startsWith('ipc://')) ipcPath = listenUrl.slice('ipc://'.length);
    const seed = `${options.seed ?? DEFAULT_SEED}/${id}`;
    const wrapped = await profile.wrap({ id, transport: cell.transport }, listenUrl, seed);
    if (over) {
      // The cell timed out while the profile was starting: nothing else will close what it started.
      await wrapped.close();
      throw new CellError('the cell was stopped');
    }
    closeWrap = () => wrapped.close();
    wrapLog = () => wrapped.log();
    wrapConnections = () => wrapped.connections();
    const env = createNodeEnv({
      seed,
      hostName: 'netlab',
      ...(ring !== undefined ? { trace: { sinks: [ring] } } : {}),
      onCallbackError: (e) => {
        hasCallbackError = true;
        callbackError ??= e;
      },
    });
    run = new CellRun(env, dialect, cell.transport, cell, command, listenUrl, wrapped.dialUrl, deadlineMs);
    return Promise.race([exchange.run(run), run.peerFailure]);
  })();
  body.catch(() => undefined); // settled through the race below; a late rejection is expected

  let status: CellStatus;
  let detail: string;
  const outcome = await Promise.race([
    body.then(
      (summary) => ({ kind: 'done' as const, summary }),
      (error: unknown) => ({ kind: 'threw' as const, error }),
    ),
    timer.promise.then(() => ({ kind: 'timeout' as const })),
  ]);
  timer.cancel();
  over = true;

  if (outcome.kind === 'timeout') {
    status = 'error';
    detail = `timed out after ${formatSeconds(timeoutMs)} while ${run?.stage ?? 'setting up'}`;
    const crashed = (await run?.crashedPeer()) ?? null;
    if (crashed !== null) detail += ` (${crashed})`;
  } else if (outcome.kind === 'done') {
    status = 'pass';
    detail = outcome.summary;
  } else {
    const crashed = (await run?.crashedPeer()) ?? null;
    const e = outcome.error;
    if (e instanceof CheckFailure && crashed === null) {
      status = 'fail';
      detail = e.message;
    } else if (e instanceof CellError || e instanceof CheckFailure) {
      status = 'error';
      detail = crashed !== null && crashed !== e.message ? `${crashed}; then: ${e.message}` : e.message;
    } else if (e instanceof SpError) {
      status = crashed === null ? 'fail' : 'error';
      detail = `${crashed === null ? '' : `${crashed}; then: `}netlab ${e.code}: ${e.message}`;
    } else {
      status = 'error';
      detail = `internal error while ${run?.stage ?? 'setting up'}: ${message(e)}`;
    }
  }
  if (status === 'fail' && profile.destroysData && !RESENDING.includes(cell.protocol)) {
    // A reset destroys what was in flight, and this protocol does not resend: a lost message is
    // its documented behaviour. What must hold instead is that the peers found each other again,
    // or that the peer was a one-shot sender that had finished (it considered the message sent).
    const conns = wrapConnections();
    const oneShot = (conns ?? 0) < 2 && (await run?.peerExitedCleanly()) === true;
    if ((conns !== null && conns >= 2) || oneShot) {
      status = 'pass';
      detail = `lost to the reset, as ${cell.protocol} allows (it does not resend): ${detail}; ${oneShot ? `${dialect.command} had sent and exited` : `the peers reconnected (${conns} connections)`}`;
    } else {
      detail = `${detail}; and the peers did not reconnect after the reset (${conns ?? 0} connections)`;
    }
  }
  if (hasCallbackError && status === 'pass') {
    status = 'error';
    detail = `a netlab callback threw: ${message(callbackError)}`;
  }

  // Cleanup is bounded too: a socket whose close hangs must not hang the matrix.
  const cleanupTimer = delay(CLEANUP_TIMEOUT_MS);
  const cleaned = await Promise.race([
    (async () => {
      await run?.cleanup();
      await closeWrap?.().catch(() => undefined);
      return true;
    })(),
    cleanupTimer.promise.then(() => false),
  ]);
  cleanupTimer.cancel();
  if (ipcPath !== null) rmSync(ipcPath, { force: true });
  if (!cleaned) {
    // Children are still reaped: the harness's own bound and exit hooks kill them.
    detail += `; cleanup took over ${formatSeconds(CLEANUP_TIMEOUT_MS)}`;
    if (status === 'pass') status = 'error';
  }

  const extra = [...(run?.notes ?? []).map((n) => `difference: ${n}`), ...wrapLog()];
  return result(status, `${label}: ${detail}${extra.length > 0 ? `; ${extra.join('; ')}` : ''}`, version);
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}

/** A cell's one-line title for tests and the report: what netlab and the peer do. */
export function cellTitle(cell: Cell): string {
  const e = exchangeOfCell(cell);
  const dialect = dialectOf(cell.peer);
  const netlab = cell.role === 'listener' ? 'listens' : 'dials';
  const peer = cell.role === 'listener' ? 'dials' : 'listens';
  const faults = cell.faults === 'none' ? '' : ` through faults "${cell.faults}"`;
  return `netlab ${e.protocol} ${netlab}, ${dialect.command} ${e.peerProtocol} ${peer} (${cell.transport}${faults})`;
}

/**
 * The cells the vitest interop files run for their socket types: the direct ones (faults "none").
 * Cells with fault profiles run in `netlab interop` and its quick test (bin/commands/interop.test.ts).
 */
export function directCells(protocols: readonly SpProtocol[]): Cell[] {
  return matrixCells({ protocols, faults: FAULT_PROFILES.filter((p) => p.name === 'none') });
}
