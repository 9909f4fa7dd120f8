/**
 * The seeded fault proxy on real sockets: accepts TCP or unix-socket connections, dials the upstream
 * for each, and forwards both directions through the decision core of proxy-plan.ts, carrying out
 * what it decides (delayed and sliced writes, paused reads, resets, closes) with node:net and host
 * timers. Every decision is logged; the same seed gives the same decisions by byte offset however the
 * kernel chunks the reads. Used by `netlab proxy` and as a library in tests:
 *
 *   const proxy = await startFaultProxy({ listen: 'tcp://127.0.0.1:0', upstream, seed: '1', faults: 'chaos' });
 *   ... connect to proxy.address ...
 *   await proxy.close();
 *
 * Semantics, bounds and defaults: impl/runtime/PROXY.md. Like node.ts, this is one of the few impl/
 * files allowed to touch Node APIs and the wall clock.
 */
import { lstat, unlink } from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { SimError } from '../../sim/errors.js';
import { errorDetail } from '../../sim/fault-limits.js';
import type { FaultPlan } from '../../sim/fault-plan.js';
import { formatAddress, NetError, parseAddress, type StreamAddress } from './env.js';
import {
  connectionIsFaulty,
  DirectionShaper,
  proxyFaultsOf,
  withoutFaults,
  type ProxyDirection,
  type ProxyFaults,
  type ProxyLogEntry,
} from './proxy-plan.js';

/** Log entries kept in memory (the first ones; later ones are only counted, and still go to onLog). */
export const DEFAULT_PROXY_LOG_LIMIT = 10_000;
/** Per direction: bytes held by the proxy plus bytes queued on the destination socket before reading pauses. */
export const DEFAULT_PROXY_BUFFER_BYTES = 1024 * 1024;
/** Connections open at once; further clients are closed at once (and logged). */
export const DEFAULT_PROXY_MAX_CONNECTIONS = 1024;
/** Dialing the upstream gives up after this long; the client is then closed. */
export const DEFAULT_PROXY_CONNECT_TIMEOUT_US = 5_000_000;
/**
 * After the proxy closes a connection on purpose (data limit, unreachable upstream), how long it
 * waits for the peers' FINs before it releases the sockets with a reset.
 */
export const DEFAULT_PROXY_CLOSE_TIMEOUT_US = 2_000_000;
/** Before a reset, how long the proxy waits for bytes it already wrote to leave Node's buffer. */
export const DEFAULT_PROXY_RESET_FLUSH_US = 100_000;
/** Records of closed connections kept (the newest); open ones are always listed. */
export const MAX_CLOSED_CONNECTION_RECORDS = 10_000;

export interface FaultProxyOptions {
  /** Where clients connect: "tcp://127.0.0.1:0" (any free port), "127.0.0.1:5555", "ipc:///tmp/p.sock". */
  listen: string;
  /** Where the proxy dials for each client, same syntax. */
  upstream: string;
  /** Root seed of every decision. */
  seed: string | number;
  /**
   * The faults: a fault plan (sim/FAULTS.md; validated and compiled here, its times counted from each
   * connection's accept, its hosts "client" and "server"), a profile name (PROXY_PROFILES), or what
   * compileProxyFaults produced; default none.
   */
  faults?: FaultPlan | ProxyFaults | string;
  /**
   * The faults of connection `connIndex`, asked when it is accepted, instead of `faults`: a plan or
   * what compileProxyFaults produced (a bad plan, or a throw, refuses that connection and is logged).
   * The real runtime's fault layer uses it to compile a scenario's fault plan, timed on the run's
   * clock, for each connection.
   */
  faultsFor?: (connIndex: number) => FaultPlan | ProxyFaults;
  /** Log entries kept in `log` (default DEFAULT_PROXY_LOG_LIMIT, 10 000). */
  logLimit?: number;
  /** Receives every log entry as it happens, also past logLimit. */
  onLog?: (entry: ProxyLogEntry) => void;
  /** Called when a connection opens (its upstream connected) and when it is closed (always). */
  onConnection?: (record: Readonly<ProxyConnectionRecord>) => void;
  /** Per-direction buffer bound (default DEFAULT_PROXY_BUFFER_BYTES, 1 MiB). */
  bufferBytes?: number;
  /** Open connections at once (default DEFAULT_PROXY_MAX_CONNECTIONS, 1024). */
  maxConnections?: number;
  /** Upstream dial timeout (default DEFAULT_PROXY_CONNECT_TIMEOUT_US, 5 s). */
  connectTimeoutUs?: number;
  /** Wait for the peers' FINs after closing on purpose (default DEFAULT_PROXY_CLOSE_TIMEOUT_US, 2 s). */
  closeTimeoutUs?: number;
}

/** How a connection ended. */
export type ProxyOutcome =
  /** Both directions ended with a FIN, passed on. */
  | 'fin'
  /** The plan reset it. */
  | 'reset'
  /** The plan's data limit closed it. */
  | 'limit'
  /** An endpoint reset it (or failed); the proxy reset the other side. */
  | 'peer-reset'
  /** The upstream could not be reached; the client was closed. */
  | 'unreachable'
  /** maxConnections were open; the client was closed at once. */
  | 'refused'
  /** The proxy was closed while the connection was open. */
  | 'proxy-closed';

export interface ProxyDirectionCounts {
  /** Bytes read from the source. */
  read: number;
  /** Bytes written to the destination. */
  forwarded: number;
  /** Bytes read and dropped (after a reset or the limit). */
  discarded: number;
}

export interface ProxyConnectionRecord {
  index: number;
  /** The client's address as the proxy saw it ("tcp://127.0.0.1:41234"; "unix://" for unix clients). */
  client: string;
  state: 'connecting' | 'open' | 'closed';
  /** Whether the faults apply to this connection (toxicity, faultyConnections). */
  faulty: boolean;
  up: ProxyDirectionCounts;
  down: ProxyDirectionCounts;
  /** Set once closed. */
  outcome: ProxyOutcome | undefined;
  detail: string;
  /** On the proxy's clock (µs since it started). */
  openedUs: number;
  closedUs: number | undefined;
}

export interface FaultProxy {
  /** The bound address, "tcp://127.0.0.1:PORT" or "unix:///path". */
  readonly address: string;
  /** The bound TCP port (undefined for unix sockets). */
  readonly port: number | undefined;
  readonly upstream: string;
  readonly seed: string;
  readonly faults: ProxyFaults;
  /** The first logLimit decisions, in the order they were made. */
  readonly log: readonly ProxyLogEntry[];
  /** Entries made past logLimit (not kept). */
  readonly logDropped: number;
  /** Open connections (counts as of now) and the newest closed ones, by index; copies. */
  readonly connections: readonly ProxyConnectionRecord[];
  /** Connections accepted so far. */
  readonly accepted: number;
  /** µs since the proxy started (the clock of log entries). */
  nowUs(): number;
  /** Stops listening, resets every open connection and resolves once every socket is closed. */
  close(): Promise<void>;
}

function errnoOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'error';
}

function checkBound(name: string, v: number | undefined, fallback: number, min: number): number {
  const n = v ?? fallback;
  if (!Number.isSafeInteger(n) || n < min) {
    throw new SimError('ERR_BAD_ARGUMENT', `${name} must be an integer >= ${min}, got ${String(v)}`);
  }
  return n;
}

function connectOptions(addr: StreamAddress): net.NetConnectOpts {
  return addr.transport === 'tcp'
    ? { host: addr.host, port: addr.port, allowHalfOpen: true, noDelay: true }
    : { path: addr.path, allowHalfOpen: true };
}

/**
 * Releases a socket at once, with an RST where TCP allows it. While a shutdown is in flight libuv
 * refuses the reset (see node.ts NodeConn.abort); a plain destroy is all that is possible then.
 */
function abort(socket: net.Socket, tcp: boolean): void {
  if (socket.destroyed) return;
  const shutting = socket.writableEnded && !socket.writableFinished;
  if (tcp && !shutting) {
    try {
      socket.resetAndDestroy();
    } catch {
      // Some handle states refuse it; destroy below still releases the socket.
    }
  }
  if (!socket.destroyed) socket.destroy();
}

/** The options with their defaults filled in. */
interface ServerOptions {
  logLimit: number;
  bufferBytes: number;
  maxConnections: number;
  connectTimeoutUs: number;
  closeTimeoutUs: number;
  onLog: ((entry: ProxyLogEntry) => void) | undefined;
  onConnection: ((record: Readonly<ProxyConnectionRecord>) => void) | undefined;
  faultsFor: ((connIndex: number) => FaultPlan | ProxyFaults) | undefined;
}

interface DirTimer {
  timeout: NodeJS.Timeout | undefined;
  immediate: NodeJS.Immediate | undefined;
}

class ProxyServer implements FaultProxy {
  readonly address: string;
  readonly port: number | undefined;
  readonly upstream: string;
  readonly seed: string;
  readonly faults: ProxyFaults;
  readonly log: ProxyLogEntry[] = [];
  logDropped = 0;
  accepted = 0;
  /** @internal */
  readonly upstreamAddr: StreamAddress;
  /** @internal */
  readonly open = new Map<number, ProxiedConnection>();
  private readonly closedRecords: ProxyConnectionRecord[] = [];
  private closing: Promise<void> | undefined;
  private readonly originMs: number;

  constructor(
    readonly server: net.Server,
    bound: string,
    readonly options: ServerOptions,
    upstreamAddr: StreamAddress,
    seed: string,
    faults: ProxyFaults,
    originMs: number,
  ) {
    this.address = bound;
    const addr = parseAddress(bound);
    this.port = addr.transport === 'tcp' ? addr.port : undefined;
    this.upstreamAddr = upstreamAddr;
    this.upstream = formatAddress(upstreamAddr);
    this.seed = seed;
    this.faults = faults;
    this.originMs = originMs;
    server.on('connection', (socket) => this.accept(socket));
  }

  nowUs(): number {
    return Math.floor((performance.now() - this.originMs) * 1000);
  }

  get connections(): readonly ProxyConnectionRecord[] {
    const closed = this.closedRecords.map((r) => ({ ...r, up: { ...r.up }, down: { ...r.down } }));
    return [...closed, ...[...this.open.values()].map((c) => c.snapshot())].sort((a, b) => a.index - b.index);
  }

  /** @internal */
  addLog(entry: ProxyLogEntry): void {
    if (this.log.length < this.options.logLimit) this.log.push(entry);
    else this.logDropped++;
    this.options.onLog?.(entry);
  }

  /** @internal */
  closed(conn: ProxiedConnection): void {
    this.open.delete(conn.index);
    this.closedRecords.push(conn.record);
    if (this.closedRecords.length > MAX_CLOSED_CONNECTION_RECORDS) this.closedRecords.shift();
    this.options.onConnection?.(conn.record);
  }

  private accept(client: net.Socket): void {
    const index = this.accepted++;
    if (this.closing !== undefined) {
      client.destroy();
      return;
    }
    const conn = new ProxiedConnection(this, index, client);
    this.open.set(index, conn);
    if (this.open.size > this.options.maxConnections) {
      conn.refuse(`${this.options.maxConnections} connections open (maxConnections)`);
      return;
    }
    if (conn.badFaults !== undefined) {
      conn.refuse(`bad faults for this connection: ${conn.badFaults}`);
      return;
    }
    conn.start();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      const serverClosed = new Promise<void>((resolve) => this.server.close(() => resolve()));
      await Promise.all(
        [...this.open.values()].map((c) => c.shutdown('proxy-closed', 'the proxy was closed')),
      );
      await serverClosed;
    })();
    return this.closing;
  }
}

/** One client connection and its upstream connection. */
class ProxiedConnection {
  readonly record: ProxyConnectionRecord;
  private upstream: net.Socket | undefined;
  private readonly shapers: Partial<Record<ProxyDirection, DirectionShaper>> = {};
  private readonly timers: Record<ProxyDirection, DirTimer> = {
    up: { timeout: undefined, immediate: undefined },
    down: { timeout: undefined, immediate: undefined },
  };
  /** Set when the proxy ends the connection on purpose: nothing is forwarded any more. */
  private finishing = false;
  private outcome: ProxyOutcome | undefined;
  private readonly tcpClient: boolean;
  private readonly tcpUpstream: boolean;
  private socketsOpen = 1;
  private allClosed!: () => void;
  readonly done: Promise<void>;
  private closeTimer: NodeJS.Timeout | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  private readonly errors = new Map<net.Socket, string>();
  /** This connection's faults (the proxy's, or what faultsFor gave for it). */
  private readonly faults: ProxyFaults;
  /** Why faultsFor's answer was refused, if it was: the connection is then refused. */
  readonly badFaults: string | undefined;

  constructor(
    private readonly proxy: ProxyServer,
    readonly index: number,
    private readonly client: net.Socket,
  ) {
    this.done = new Promise((resolve) => (this.allClosed = resolve));
    this.tcpClient = client.remoteAddress !== undefined;
    this.tcpUpstream = proxy.upstreamAddr.transport === 'tcp';
    const remote = this.tcpClient
      ? formatAddress({ transport: 'tcp', host: client.remoteAddress ?? '?', port: client.remotePort ?? 0 })
      : 'unix://';
    const counts = (): ProxyDirectionCounts => ({ read: 0, forwarded: 0, discarded: 0 });
    let faults = proxy.faults;
    let refused: string | undefined;
    if (proxy.options.faultsFor !== undefined) {
      try {
        faults = proxyFaultsOf(proxy.options.faultsFor(index));
      } catch (e) {
        refused =
          e instanceof SimError
            ? `${e.code}: faultsFor(${index}): ${errorDetail(e)}`
            : e instanceof Error
              ? e.message
              : String(e);
      }
    }
    this.faults = faults;
    this.badFaults = refused;
    this.record = {
      index,
      client: remote,
      state: 'connecting',
      faulty: connectionIsFaulty(faults, proxy.seed, index),
      up: counts(),
      down: counts(),
      outcome: undefined,
      detail: '',
      openedUs: proxy.nowUs(),
      closedUs: undefined,
    };
    this.watch(client);
  }

  private watch(socket: net.Socket): void {
    socket.on('error', (error) => {
      if (!this.errors.has(socket)) this.errors.set(socket, errnoOf(error));
    });
    socket.once('close', (hadError: boolean) => this.onSocketClose(socket, hadError));
  }

  private peerLog(dir: ProxyDirection, action: 'reset' | 'close', detail: string): void {
    const shaper = this.shapers[dir];
    this.proxy.addLog({
      tUs: this.proxy.nowUs(),
      conn: this.index,
      dir,
      offset: shaper?.forwarded ?? 0,
      action,
      bytes: 0,
      origin: 'peer',
      detail,
    });
  }

  refuse(reason: string): void {
    this.peerLog('up', 'close', `refused: ${reason}`);
    this.outcome = 'refused';
    this.record.detail = reason;
    this.finishing = true;
    this.client.destroy();
  }

  start(): void {
    if (this.tcpClient) this.client.setNoDelay(true);
    const addr = this.proxy.upstreamAddr;
    const upstream = net.connect(connectOptions(addr));
    this.upstream = upstream;
    this.socketsOpen++;
    this.watch(upstream);
    upstream.once('connect', () => this.onUpstreamConnected());
    this.connectTimer = setTimeout(
      () => {
        this.errors.set(upstream, 'ETIMEDOUT');
        upstream.destroy();
      },
      Math.ceil(this.proxy.options.connectTimeoutUs / 1000),
    );
  }

  private onUpstreamConnected(): void {
    clearTimeout(this.connectTimer);
    if (this.finishing) return;
    const upstream = this.upstream!;
    this.record.state = 'open';
    const startUs = this.proxy.nowUs();
    const faults = this.record.faulty ? this.faults : withoutFaults(this.faults);
    for (const dir of ['up', 'down'] as const) {
      this.shapers[dir] = new DirectionShaper({
        seed: this.proxy.seed,
        connIndex: this.index,
        dir,
        faults,
        startUs,
        onLog: (e) => this.proxy.addLog(e),
      });
    }
    const wire = (src: net.Socket, dst: net.Socket, dir: ProxyDirection): void => {
      src.on('data', (chunk: Buffer) => {
        if (this.finishing) return;
        this.shapers[dir]!.push(this.proxy.nowUs(), chunk);
        this.pump(dir);
      });
      src.on('end', () => {
        if (this.finishing) return;
        this.shapers[dir]!.end(this.proxy.nowUs());
        this.pump(dir);
      });
      dst.on('drain', () => this.updateReading(dir));
    };
    wire(this.client, upstream, 'up');
    wire(upstream, this.client, 'down');
    this.proxy.options.onConnection?.(this.record);
    // Faults at offset 0 (a stall, a reset) act before any byte.
    this.pump('up');
    this.pump('down');
  }

  private source(dir: ProxyDirection): net.Socket {
    return dir === 'up' ? this.client : this.upstream!;
  }

  private dest(dir: ProxyDirection): net.Socket {
    return dir === 'up' ? this.upstream! : this.client;
  }

  private pump(dir: ProxyDirection): void {
    if (this.finishing) return;
    const shaper = this.shapers[dir]!;
    const dest = this.dest(dir);
    const now = this.proxy.nowUs();
    const actions = shaper.poll(now);
    // Writes of one poll that are not slices go out as one writev; slices stay separate writes.
    const cork = actions.filter((a) => a.type === 'write' && !a.slice).length > 1;
    if (cork) dest.cork();
    try {
      for (const a of actions) {
        switch (a.type) {
          case 'write':
            if (!dest.destroyed) dest.write(a.bytes);
            break;
          case 'fin':
            if (!dest.destroyed) dest.end();
            break;
          case 'reset':
            this.resetBoth(dir, a.detail);
            return;
          case 'limit':
            this.closeOnPurpose('limit', `${dir} limit of ${a.offset} bytes`);
            return;
        }
      }
    } finally {
      if (cork) dest.uncork();
    }
    this.updateReading(dir);
    const wake = shaper.nextWakeUs();
    const blocked = shaper.readBlockedUntilUs;
    const next = blocked > now ? Math.min(wake ?? Infinity, blocked) : wake;
    this.arm(dir, next === Infinity ? undefined : next, now);
  }

  private updateReading(dir: ProxyDirection): void {
    const shaper = this.shapers[dir];
    if (shaper === undefined || this.finishing) return;
    const src = this.source(dir);
    const dest = this.dest(dir);
    const held = shaper.bufferedBytes + dest.writableLength;
    const want =
      shaper.terminal === undefined &&
      this.proxy.nowUs() >= shaper.readBlockedUntilUs &&
      held < this.proxy.options.bufferBytes;
    if (want) src.resume();
    else src.pause();
  }

  private disarm(dir: ProxyDirection): void {
    const t = this.timers[dir];
    if (t.timeout !== undefined) clearTimeout(t.timeout);
    if (t.immediate !== undefined) clearImmediate(t.immediate);
    t.timeout = undefined;
    t.immediate = undefined;
  }

  /**
   * Wakes pump(dir) at `atUs`. Host timers have millisecond resolution and may fire a little early:
   * waits under 1 ms are served by re-checking on each event-loop turn (setImmediate), so a delay is
   * never shorter than asked and not much longer.
   */
  private arm(dir: ProxyDirection, atUs: number | undefined, nowUs: number): void {
    this.disarm(dir);
    if (atUs === undefined) return;
    const t = this.timers[dir];
    const waitUs = atUs - nowUs;
    const fire = (): void => {
      t.timeout = undefined;
      t.immediate = undefined;
      this.pump(dir);
    };
    if (waitUs < 1000) t.immediate = setImmediate(fire);
    else t.timeout = setTimeout(fire, Math.floor(waitUs / 1000));
  }

  /** The record with the byte counts as of now (records of closed connections are final). */
  snapshot(): ProxyConnectionRecord {
    if (!this.finishing) this.updateCounts();
    return { ...this.record, up: { ...this.record.up }, down: { ...this.record.down } };
  }

  private updateCounts(): void {
    for (const dir of ['up', 'down'] as const) {
      const s = this.shapers[dir];
      if (s === undefined) continue;
      this.record[dir] = { read: s.readOffset + s.discarded, forwarded: s.forwarded, discarded: s.discarded };
    }
  }

  private stopForwarding(outcome: ProxyOutcome, detail: string): void {
    this.updateCounts();
    this.finishing = true;
    this.outcome ??= outcome;
    if (this.record.detail === '') this.record.detail = detail;
    this.disarm('up');
    this.disarm('down');
    clearTimeout(this.connectTimer);
  }

  /**
   * The plan's reset: both connections get an RST. Bytes written before it are given a short bound
   * (DEFAULT_PROXY_RESET_FLUSH_US) to leave Node's buffer for the kernel; what the peer has not read
   * by the time the RST lands may be lost, as with any reset.
   */
  private resetBoth(dir: ProxyDirection, detail: string): void {
    this.stopForwarding('reset', `${dir} reset ${detail}`);
    const dest = this.dest(dir);
    const go = (): void => {
      clearTimeout(bound);
      abort(this.client, this.tcpClient);
      if (this.upstream !== undefined) abort(this.upstream, this.tcpUpstream);
    };
    const bound = setTimeout(go, DEFAULT_PROXY_RESET_FLUSH_US / 1000);
    if (dest.writableLength === 0 || dest.destroyed) go();
    // The callback of an empty write runs once everything queued before it is flushed.
    else dest.write(Buffer.alloc(0), go);
  }

  /**
   * Closes both connections with a FIN after what was forwarded (the data limit, an unreachable
   * upstream); bytes still arriving are read and dropped. Sockets whose peer does not close within
   * closeTimeoutUs are reset.
   */
  private closeOnPurpose(outcome: ProxyOutcome, detail: string): void {
    this.stopForwarding(outcome, detail);
    for (const socket of [this.client, this.upstream]) {
      if (socket === undefined || socket.destroyed) continue;
      socket.on('data', () => undefined);
      socket.resume();
      socket.end();
    }
    this.closeTimer = setTimeout(
      () => {
        abort(this.client, this.tcpClient);
        if (this.upstream !== undefined) abort(this.upstream, this.tcpUpstream);
      },
      Math.ceil(this.proxy.options.closeTimeoutUs / 1000),
    );
  }

  /** proxy.close(): reset both sockets now, resolve when they are closed. */
  shutdown(outcome: ProxyOutcome, detail: string): Promise<void> {
    if (!this.finishing) this.stopForwarding(outcome, detail);
    clearTimeout(this.closeTimer);
    abort(this.client, this.tcpClient);
    if (this.upstream !== undefined) abort(this.upstream, this.tcpUpstream);
    return this.done;
  }

  private onSocketClose(socket: net.Socket, hadError: boolean): void {
    const isClient = socket === this.client;
    const errno = this.errors.get(socket);
    if (!isClient && this.record.state === 'connecting' && !this.finishing) {
      // The upstream never connected.
      clearTimeout(this.connectTimer);
      const why = errno ?? 'closed';
      this.peerLog('up', 'close', `upstream ${this.proxy.upstream} unreachable: ${why}`);
      this.closeOnPurpose('unreachable', `upstream ${this.proxy.upstream} unreachable: ${why}`);
    } else if (!this.finishing && (hadError || errno !== undefined)) {
      // An endpoint reset or failed: pass the reset on to the other side, as a transparent proxy would.
      const who = isClient ? 'client' : 'upstream';
      this.peerLog(isClient ? 'up' : 'down', 'reset', `${who} reset or failed: ${errno ?? 'error'}`);
      this.stopForwarding('peer-reset', `${who} reset or failed: ${errno ?? 'error'}`);
      const other = isClient ? this.upstream : this.client;
      if (other !== undefined) abort(other, isClient ? this.tcpUpstream : this.tcpClient);
    } else if (!this.finishing) {
      // A clean close of one socket (its FINs both ways are through). If the other one is not
      // finished yet, it closes by itself once its own FINs are through.
    }
    if (--this.socketsOpen > 0) return;
    clearTimeout(this.closeTimer);
    clearTimeout(this.connectTimer);
    this.disarm('up');
    this.disarm('down');
    this.updateCounts();
    this.outcome ??= 'fin';
    this.record.outcome = this.outcome;
    this.record.state = 'closed';
    this.record.closedUs = this.proxy.nowUs();
    this.proxy.closed(this);
    this.allClosed();
  }
}

function listenOn(server: net.Server, addr: StreamAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error): void => {
      server.off('listening', onListening);
      reject(error);
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    if (addr.transport === 'tcp') server.listen({ host: addr.host, port: addr.port });
    else server.listen({ path: addr.path });
  });
}

/** True when `path` is a socket file nobody listens on (left behind by a process that died). */
function isStaleSocket(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    lstat(path, (statError, stats) => {
      if (statError !== null || !stats.isSocket()) {
        resolve(false);
        return;
      }
      const probe = net.connect({ path });
      probe.once('connect', () => {
        probe.destroy();
        resolve(false);
      });
      probe.once('error', (error) => resolve(errnoOf(error) === 'ECONNREFUSED'));
    });
  });
}

/**
 * Starts a fault proxy. Rejects with NetError EINVAL for a bad address, EADDRINUSE when the listen
 * address is taken (a stale unix socket file is removed and reused), and SimError ERR_BAD_ARGUMENT
 * for bad faults or options.
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const originMs = performance.now();
  const listenAddr = parseAddress(options.listen);
  const upstreamAddr = parseAddress(options.upstream);
  const faults = proxyFaultsOf(options.faults);
  const bounds = {
    logLimit: checkBound('logLimit', options.logLimit, DEFAULT_PROXY_LOG_LIMIT, 0),
    bufferBytes: checkBound('bufferBytes', options.bufferBytes, DEFAULT_PROXY_BUFFER_BYTES, 1),
    maxConnections: checkBound('maxConnections', options.maxConnections, DEFAULT_PROXY_MAX_CONNECTIONS, 1),
    connectTimeoutUs: checkBound(
      'connectTimeoutUs',
      options.connectTimeoutUs,
      DEFAULT_PROXY_CONNECT_TIMEOUT_US,
      1,
    ),
    closeTimeoutUs: checkBound('closeTimeoutUs', options.closeTimeoutUs, DEFAULT_PROXY_CLOSE_TIMEOUT_US, 1),
  };
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
  const what = `listen ${formatAddress(listenAddr)}`;
  let failure = await listenOn(server, listenAddr).then(
    () => undefined,
    (error: unknown) => error,
  );
  if (
    failure !== undefined &&
    errnoOf(failure) === 'EADDRINUSE' &&
    listenAddr.transport === 'unix' &&
    (await isStaleSocket(listenAddr.path))
  ) {
    await new Promise<void>((resolve) => unlink(listenAddr.path, () => resolve()));
    failure = await listenOn(server, listenAddr).then(
      () => undefined,
      (error: unknown) => error,
    );
  }
  if (failure !== undefined) {
    const errno = errnoOf(failure);
    if (errno === 'EADDRINUSE')
      throw new NetError('EADDRINUSE', `${what}: address in use`, { cause: failure });
    const message = failure instanceof Error ? failure.message : errno;
    throw new NetError('EINVAL', `${what}: ${errno}: ${message}`, { cause: failure });
  }
  let bound: string;
  if (listenAddr.transport === 'tcp') {
    const info = server.address() as net.AddressInfo;
    bound = formatAddress({ transport: 'tcp', host: info.address, port: info.port });
  } else {
    bound = formatAddress(listenAddr);
  }
  return new ProxyServer(
    server,
    bound,
    { ...bounds, onLog: options.onLog, onConnection: options.onConnection, faultsFor: options.faultsFor },
    upstreamAddr,
    String(options.seed),
    faults,
    originMs,
  );
}
