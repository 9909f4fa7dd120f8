/**
 * The simulated network: hosts with addresses, listeners, and TCP-like stream connections whose two
 * directions are modeled separately (latency models, jitter, bandwidth, a finite send buffer that
 * makes writes partial, a receive window that closes when the reader stalls, random segmentation,
 * loss as retransmission delay with exponential RTO backoff and head-of-line blocking, resets,
 * half-close), plus partitions and host pause / crash / restart. Each host exposes an `env` that
 * implements the runtime seam (impl/runtime/env.ts), so protocol code runs on it unchanged.
 *
 * Locality of randomness: every draw that shapes a connection's traffic is keyed by the connection's
 * name (client host, target address, and how many connections that pair opened before), its
 * direction, and the segment or write index, so changing the traffic of one connection never changes
 * the fate of another. The model and its knobs are described in sim/README.md.
 */
import { ByteQueue } from './byte-queue.js';
import { SimError } from './errors.js';
import {
  DEFAULT_CONN,
  DEFAULT_LINK,
  drawLatencyUs,
  drawSize,
  mergeConn,
  mergeLink,
  type ConnConfig,
  type LinkConfig,
} from './net-config.js';
import type { KeyedStream, Rng } from './rng.js';
import {
  formatAddress,
  NetError,
  parseAddress,
  type ConnHandlers,
  type ConnState,
  type StreamAddress,
  type StreamConn,
  type StreamListener,
} from './stream.js';
import { HashLabel, type TraceInput } from './trace.js';
import { Timer, type Deferred, type World } from './world.js';

// Salts separate the independent draws made for one segment or write index.
const SALT_SIZE = 1;
const SALT_PARTIAL = 2;
const SALT_PARTIAL_LEN = 3;
const SALT_JITTER = 4;
const SALT_LATENCY = 8; // 8..15 for (nested) latency models
const SALT_LOSS = 16; // 16..16+maxRetransmits for successive transmissions
const SALT_BUFFERS = 100;

const EPHEMERAL_PORT_FIRST = 49152;
const EPHEMERAL_PORT_LAST = 65535;
const LOCAL_NAMES = new Set(['localhost', '127.0.0.1', '::1']);
const ANY_NAMES = new Set(['0.0.0.0', '*', '::']);

export type HostState = 'up' | 'paused' | 'crashed';
export type BootFn = (env: SimEnv) => unknown;

export interface NetworkOptions {
  /** Link settings for every host pair without its own (default DEFAULT_LINK: 1 ms constant, no loss). */
  link?: Partial<LinkConfig>;
  /** Connection settings (default DEFAULT_CONN). */
  conn?: Partial<ConnConfig>;
}

export interface HostOptions {
  /** Runs when the host is added and again after every restart, with that incarnation's env. */
  boot?: BootFn;
}

export interface ConnInfo {
  id: number;
  name: string;
  clientHost: string;
  serverHost: string;
  clientAddress: string;
  serverAddress: string;
}

export interface PartitionOptions {
  /** Block only traffic from the first group to the second (default false: both directions). */
  oneWay?: boolean;
}

/** Totals, for benchmarks and reports. */
export interface NetStats {
  connections: number;
  segments: number;
  bytesDelivered: number;
  retransmissions: number;
  resets: number;
  partialWrites: number;
}

interface Partition {
  a: Set<string>;
  b: Set<string>;
  oneWay: boolean;
}

export class Network {
  readonly world: World;
  readonly connConfig: ConnConfig;
  private readonly defaultLink: LinkConfig;
  private readonly links = new Map<string, LinkConfig>();
  private readonly hosts = new Map<string, SimHost>();
  private readonly partitions = new Map<number, Partition>();
  private nextPartitionId = 1;
  private nextConnId = 1;
  private readonly pairCounts = new Map<string, number>();
  /** @internal */ readonly conns = new Map<number, Conn>();
  /** @internal control packets waiting for a partition to heal */
  readonly healWaiters: (() => void)[] = [];
  /** @internal flows waiting for a partition to heal */
  readonly blockedFlows = new Set<Flow>();
  readonly stats: NetStats = {
    connections: 0,
    segments: 0,
    bytesDelivered: 0,
    retransmissions: 0,
    resets: 0,
    partialWrites: 0,
  };

  constructor(world: World, options: NetworkOptions = {}) {
    this.world = world;
    this.defaultLink = mergeLink('link', DEFAULT_LINK, options.link ?? {});
    this.connConfig = mergeConn('conn', DEFAULT_CONN, options.conn ?? {});
  }

  /** Adds a host; its boot function (if any) runs as an event at the current time. */
  addHost(name: string, options: HostOptions = {}): SimHost {
    if (typeof name !== 'string' || !/^[A-Za-z][A-Za-z0-9_.-]*$/.test(name) || LOCAL_NAMES.has(name)) {
      throw new SimError(
        'ERR_BAD_ARGUMENT',
        `host name must start with a letter and use [A-Za-z0-9_.-], got ${JSON.stringify(name)}`,
      );
    }
    if (this.hosts.has(name)) throw new SimError('ERR_BAD_ARGUMENT', `host ${name} already exists`);
    const host = new SimHost(this, name, options.boot);
    this.hosts.set(name, host);
    host.bootLater();
    return host;
  }

  host(name: string): SimHost {
    const h = this.hosts.get(name);
    if (h === undefined) throw new SimError('ERR_BAD_ARGUMENT', `no host named ${JSON.stringify(name)}`);
    return h;
  }

  hostNames(): string[] {
    return [...this.hosts.keys()];
  }

  /** Changes the link from `from` to `to` (and back, unless oneWay), merging over its current settings. */
  setLink(from: string, to: string, patch: Partial<LinkConfig>, options: { oneWay?: boolean } = {}): void {
    this.host(from);
    this.host(to);
    this.linkVersion++;
    this.links.set(`${from}>${to}`, mergeLink(`link ${from}>${to}`, this.linkConfig(from, to), patch));
    if (options.oneWay !== true)
      this.links.set(`${to}>${from}`, mergeLink(`link ${to}>${from}`, this.linkConfig(to, from), patch));
  }

  linkConfig(from: string, to: string): LinkConfig {
    return this.links.get(`${from}>${to}`) ?? this.defaultLink;
  }

  /** Bumped by every setLink, so flows can cache their link settings between changes. */
  linkVersion = 0;

  /** Cuts traffic between two groups of hosts until heal(id); returns the partition's id. */
  partition(a: readonly string[], b: readonly string[], options: PartitionOptions = {}): number {
    for (const n of [...a, ...b]) this.host(n);
    if (a.length === 0 || b.length === 0)
      throw new SimError('ERR_BAD_ARGUMENT', 'a partition needs hosts on both sides');
    const id = this.nextPartitionId++;
    this.partitions.set(id, { a: new Set(a), b: new Set(b), oneWay: options.oneWay === true });
    return id;
  }

  /** Heals one partition, or all of them; held traffic moves again. */
  heal(id?: number): void {
    if (id === undefined) this.partitions.clear();
    else if (!this.partitions.delete(id)) throw new SimError('ERR_BAD_ARGUMENT', `no active partition ${id}`);
    const waiting = [...this.blockedFlows];
    this.blockedFlows.clear();
    for (const f of waiting) f.pump();
    const held = this.healWaiters.splice(0);
    for (const send of held) send();
  }

  /** True when traffic from host `from` to host `to` is cut by a partition. */
  blocked(from: string, to: string): boolean {
    if (this.partitions.size === 0) return false;
    for (const p of this.partitions.values()) {
      if (p.a.has(from) && p.b.has(to)) return true;
      if (!p.oneWay && p.b.has(from) && p.a.has(to)) return true;
    }
    return false;
  }

  /** Live connections, oldest first (a connection being reset is no longer live). */
  connections(): ConnInfo[] {
    const out: ConnInfo[] = [];
    for (const c of this.conns.values()) if (!c.aborted) out.push(c.info());
    return out;
  }

  /** True while partition `id` is in force (not yet healed). */
  isPartitioned(id: number): boolean {
    return this.partitions.has(id);
  }

  /** Stops (or restarts) reading on one side of a connection, as a stalled peer would. */
  setReadStall(connId: number, side: 'client' | 'server' | 'both', stalled: boolean): void {
    const c = this.conn(connId);
    if (side !== 'server') c.client.setStalled(stalled);
    if (side !== 'client') c.server.setStalled(stalled);
  }

  /** Resets a connection from the network: both sides get ECONNRESET, in-flight bytes are lost. */
  resetConnection(connId: number, reason = 'fault'): void {
    this.conn(connId).abort(undefined, reason);
  }

  private conn(connId: number): Conn {
    const c = this.conns.get(connId);
    if (c === undefined) throw new SimError('ERR_BAD_ARGUMENT', `no live connection ${connId}`);
    return c;
  }

  /** @internal */
  connectionName(client: SimHost, target: StreamAddress): string {
    const pair = `${client.name}>${formatAddress(target)}`;
    const n = (this.pairCounts.get(pair) ?? 0) + 1;
    this.pairCounts.set(pair, n);
    return `${pair}#${n}`;
  }

  private readonly sharedValues = new Map<string, unknown>();

  /** A value shared by all hosts of this network (see Env.shared), created on first use. */
  shared<T>(key: string, create: () => T): T {
    if (!this.sharedValues.has(key)) this.sharedValues.set(key, create());
    return this.sharedValues.get(key) as T;
  }

  /** @internal */
  newConnId(): number {
    return this.nextConnId++;
  }

  /** @internal host lookup for a connect target; undefined when no such host. */
  resolve(from: SimHost, addr: StreamAddress): SimHost | undefined {
    if (addr.transport === 'unix') return from;
    if (LOCAL_NAMES.has(addr.host) || addr.host === from.name) return from;
    return this.hosts.get(addr.host);
  }

  /** @internal */
  get rng(): Rng {
    return this.world.rng;
  }

  /** @internal */
  emit(event: TraceInput): void {
    this.world.trace.emit(event);
  }

  /**
   * @internal Sends a control packet (SYN, SYN-ACK, ACK, RST) from one host to another: latency from
   * the link. While the path is cut it waits for the partition to heal; a lost packet is retried with
   * exponential backoff, up to maxRetransmits times (the connect timeout covers the rest).
   */
  sendControl(from: string, to: string, fate: KeyedStream, index: number, fn: () => void, attempt = 0): void {
    const link = this.linkConfig(from, to);
    if (this.blocked(from, to)) {
      // Held until the partition heals (a SYN still times out on the connect timer meanwhile).
      this.healWaiters.push(() => this.sendControl(from, to, fate, index, fn, attempt));
      return;
    }
    const lost = link.lossRate > 0 && fate.unit(index, SALT_LOSS + attempt) < link.lossRate;
    if (lost) {
      if (attempt >= this.connConfig.maxRetransmits) return;
      if (lost) this.stats.retransmissions++;
      const rto = Math.min(this.connConfig.rtoInitialUs * 2 ** attempt, this.connConfig.rtoMaxUs);
      this.world.post(rto, () => this.sendControl(from, to, fate, index, fn, attempt + 1), undefined);
      return;
    }
    const latency =
      drawLatencyUs(link.latency, fate, index, SALT_LATENCY) +
      (link.jitterUs > 0 ? fate.unit(index, SALT_JITTER) * link.jitterUs : 0);
    this.world.post(Math.ceil(latency), fn, undefined);
  }
}

/** A simulated machine: its listeners, its connections, its current incarnation's env. */
export class SimHost {
  private stateValue: HostState = 'up';
  /** Bumped on every crash: callbacks and promises of an older incarnation never run. */
  incarnation = 0;
  envValue: SimEnv;
  /** @internal */ readonly listeners = new Map<string, SimListener>();
  /** @internal */ readonly ends = new Set<End>();
  private readonly frozen: { fn: (arg: unknown) => unknown; arg: unknown; inc: number }[] = [];
  private nextPort = EPHEMERAL_PORT_FIRST;
  /** The name, pre-digested for the trace's hot paths. */
  readonly label: HashLabel;

  constructor(
    readonly net: Network,
    readonly name: string,
    private readonly boot: BootFn | undefined,
  ) {
    this.envValue = new SimEnv(this, 0);
    this.label = new HashLabel(name);
  }

  get state(): HostState {
    return this.stateValue;
  }

  /** The runtime seam for code on this host (a new one after every restart). */
  get env(): SimEnv {
    return this.envValue;
  }

  /** @internal */
  bootLater(): void {
    const boot = this.boot;
    if (boot === undefined) return;
    const env = this.envValue;
    this.net.world.post(0, () => this.invoke(env.incarnation, () => boot(env), undefined), undefined);
  }

  /**
   * @internal Every callback into code on this host goes through here: dropped if it belongs to an
   * older incarnation or the host is down, held (in order) while the host is paused.
   */
  invoke<A>(inc: number, fn: (arg: A) => unknown, arg: A): void {
    if (inc !== this.incarnation || this.stateValue === 'crashed') return;
    if (this.stateValue === 'paused') {
      this.frozen.push({ fn: fn as (arg: unknown) => unknown, arg, inc });
      return;
    }
    const r = fn(arg);
    // An async callback started promise work: its continuations must run before the next event.
    if (typeof r === 'object' && r !== null && typeof (r as { then?: unknown }).then === 'function')
      this.net.world.markDirty();
  }

  /** Freezes the host as SIGSTOP would: its timers, reads and callbacks wait; its kernel still moves bytes. */
  pause(): void {
    if (this.stateValue !== 'up')
      throw new SimError('ERR_BAD_ARGUMENT', `cannot pause host ${this.name}: it is ${this.stateValue}`);
    this.stateValue = 'paused';
    this.net.emit({ kind: 'host', host: this.name, state: 'paused' });
  }

  /** Thaws a paused host; held callbacks run in their original order, at the current time. */
  resume(): void {
    if (this.stateValue !== 'paused')
      throw new SimError('ERR_BAD_ARGUMENT', `cannot resume host ${this.name}: it is ${this.stateValue}`);
    this.stateValue = 'up';
    this.net.emit({ kind: 'host', host: this.name, state: 'resumed' });
    const held = this.frozen.splice(0);
    for (const h of held) this.net.world.post(0, () => this.invoke(h.inc, h.fn, h.arg), undefined);
  }

  /** Kills the host: its connections reset on the other side, listeners vanish, nothing pending of it runs. */
  crash(): void {
    if (this.stateValue === 'crashed')
      throw new SimError('ERR_BAD_ARGUMENT', `host ${this.name} is already crashed`);
    this.stateValue = 'crashed';
    this.incarnation++;
    this.frozen.length = 0;
    this.listeners.clear();
    this.net.emit({ kind: 'host', host: this.name, state: 'crashed' });
    for (const end of [...this.ends]) end.conn.abort(end, 'host crashed', true);
  }

  /** Boots the host again (crashing it first if it is up): a fresh env, and the boot function runs. */
  restart(): void {
    if (this.stateValue !== 'crashed') this.crash();
    this.stateValue = 'up';
    this.envValue = new SimEnv(this, this.incarnation);
    this.net.emit({ kind: 'host', host: this.name, state: 'restarted' });
    this.bootLater();
  }

  /** @internal */
  allocatePort(): number {
    for (let i = 0; i <= EPHEMERAL_PORT_LAST - EPHEMERAL_PORT_FIRST; i++) {
      const p = this.nextPort;
      this.nextPort = p === EPHEMERAL_PORT_LAST ? EPHEMERAL_PORT_FIRST : p + 1;
      if (!this.listeners.has(`tcp:${p}`) && !this.portInUse(p)) return p;
    }
    throw new NetError('EADDRINUSE', `host ${this.name} has no free ephemeral port`);
  }

  private portInUse(port: number): boolean {
    const suffix = `:${port}`;
    for (const e of this.ends) if (e.localAddress.endsWith(suffix)) return true;
    return false;
  }
}

class SimListener implements StreamListener {
  open = true;
  constructor(
    readonly host: SimHost,
    readonly key: string,
    readonly address: string,
    readonly inc: number,
    readonly onConnection: (conn: StreamConn) => void,
  ) {}

  close(): void {
    if (!this.open) return;
    this.open = false;
    if (this.host.listeners.get(this.key) === this) this.host.listeners.delete(this.key);
  }
}

/** A promise of one host incarnation: it never settles once that incarnation crashed. */
class HostDeferred<T> implements Deferred<T> {
  private readonly inner: Deferred<T>;
  constructor(
    private readonly host: SimHost,
    private readonly inc: number,
  ) {
    this.inner = host.net.world.defer<T>();
  }
  get promise(): Promise<T> {
    return this.inner.promise;
  }
  get settled(): boolean {
    return this.inner.settled;
  }
  resolve(value: T): void {
    if (this.host.incarnation === this.inc && this.host.state !== 'crashed') this.inner.resolve(value);
  }
  reject(reason: unknown): void {
    if (this.host.incarnation === this.inc && this.host.state !== 'crashed') this.inner.reject(reason);
  }
}

/** The runtime seam for one incarnation of a simulated host (implements impl/runtime/env.ts Env). */
export class SimEnv {
  readonly runtime = 'sim' as const;
  readonly hostName: string;

  constructor(
    private readonly host: SimHost,
    readonly incarnation: number,
  ) {
    this.hostName = host.name;
  }

  private get world(): World {
    return this.host.net.world;
  }

  nowUs(): number {
    return this.world.nowUs;
  }

  /**
   * Timers cleared after they fired while their callback was held by a pause: a cleared timer's
   * callback never runs, as with clearTimeout after SIGCONT (found by the backpressure family: a
   * send deadline cleared on resume still failed a request that had gone out).
   */
  private readonly clearedWhileHeld = new WeakSet<Timer>();

  setTimer(delayUs: number, fn: () => void, label?: string): Timer {
    const host = this.host;
    const inc = this.incarnation;
    const cleared = this.clearedWhileHeld;
    const timer: Timer = this.world.setTimer(
      delayUs,
      () =>
        host.invoke(
          inc,
          () => {
            if (!cleared.has(timer)) fn();
          },
          undefined,
        ),
      label === undefined ? { host: host.name } : { host: host.name, label },
    );
    return timer;
  }

  clearTimer(timer: unknown): void {
    if (!(timer instanceof Timer) || timer.host !== this.hostName) {
      throw new SimError(
        'ERR_FOREIGN_TIMER',
        `clearTimer on host ${this.hostName} was given a handle that is not one of its timers`,
      );
    }
    // Not pending: it fired already, and its callback may still be held by a pause.
    if (!timer.pending) this.clearedWhileHeld.add(timer);
    this.world.clearTimer(timer);
  }

  sleep(delayUs: number): Promise<void> {
    const d = this.defer<void>();
    this.setTimer(delayUs, () => d.resolve(), 'sleep');
    return d.promise;
  }

  defer<T>(): Deferred<T> {
    return new HostDeferred<T>(this.host, this.incarnation);
  }

  shared<T>(key: string, create: () => T): T {
    return this.host.net.shared(key, create);
  }

  random(name: string): Rng {
    return this.world.rng.fork(`host:${this.hostName}#${this.incarnation}/${name}`);
  }

  get tracing(): boolean {
    return this.world.trace.enabled;
  }

  trace(event: TraceInput): void {
    if (!this.world.trace.enabled) return;
    if (event.host === undefined) event.host = this.hostName;
    this.world.trace.emit(event);
  }

  /** Delivers an error to a callback later, as an event (callbacks never run synchronously). */
  private failLater<C extends (e: NetError, v: undefined) => void>(cb: C, error: NetError): void {
    const host = this.host;
    const inc = this.incarnation;
    this.world.post(0, () => host.invoke(inc, () => cb(error, undefined), undefined), undefined);
  }

  listen(
    address: string,
    onConnection: (conn: StreamConn) => void,
    callback: (error: NetError | undefined, listener: StreamListener | undefined) => void,
  ): void {
    const host = this.host;
    const inc = this.incarnation;
    let addr: StreamAddress;
    try {
      addr = parseAddress(address);
    } catch (e) {
      this.failLater(callback, e as NetError);
      return;
    }
    let key: string;
    let shown: string;
    if (addr.transport === 'tcp') {
      if (!ANY_NAMES.has(addr.host) && !LOCAL_NAMES.has(addr.host) && addr.host !== host.name) {
        this.failLater(
          callback,
          new NetError('EINVAL', `host ${host.name} cannot listen on ${address}: not one of its addresses`),
        );
        return;
      }
      let port = addr.port;
      if (port === 0) {
        try {
          port = host.allocatePort();
        } catch (e) {
          this.failLater(callback, e as NetError);
          return;
        }
      }
      key = `tcp:${port}`;
      shown = `tcp://${host.name}:${port}`;
    } else {
      key = `unix:${addr.path}`;
      shown = formatAddress(addr);
    }
    if (host.listeners.has(key)) {
      this.failLater(callback, new NetError('EADDRINUSE', `${shown} is already in use on host ${host.name}`));
      return;
    }
    const listener = new SimListener(host, key, shown, inc, onConnection);
    host.listeners.set(key, listener);
    this.host.net.emit({ kind: 'listen', host: host.name, addr: shown });
    this.world.post(0, () => host.invoke(inc, () => callback(undefined, listener), undefined), undefined);
  }

  connect(
    address: string,
    callback: (error: NetError | undefined, conn: StreamConn | undefined) => void,
    options?: { timeoutUs?: number },
  ): void {
    const net = this.host.net;
    let addr: StreamAddress;
    try {
      addr = parseAddress(address);
    } catch (e) {
      this.failLater(callback, e as NetError);
      return;
    }
    const target = net.resolve(this.host, addr);
    if (target === undefined) {
      this.failLater(
        callback,
        new NetError(
          'EINVAL',
          `no host named ${JSON.stringify(addr.transport === 'tcp' ? addr.host : '')} in the simulated network`,
        ),
      );
      return;
    }
    const timeoutUs = options?.timeoutUs ?? net.connConfig.connectTimeoutUs;
    if (!(timeoutUs > 0 && Number.isFinite(timeoutUs))) {
      this.failLater(
        callback,
        new NetError('EINVAL', `connect timeoutUs must be a positive number, got ${timeoutUs}`),
      );
      return;
    }
    new ConnectAttempt(this.host, this.incarnation, target, addr, callback, timeoutUs).start();
  }
}

/** The three-way handshake of one connect() call, with its timeout. */
class ConnectAttempt {
  private done = false;
  private readonly timer: Timer;
  private readonly name: string;
  private readonly ctl: KeyedStream;
  private ctlIndex = 0;
  private readonly net: Network;

  constructor(
    private readonly client: SimHost,
    private readonly inc: number,
    private readonly server: SimHost,
    private readonly addr: StreamAddress,
    private readonly callback: (error: NetError | undefined, conn: StreamConn | undefined) => void,
    timeoutUs: number,
  ) {
    this.net = client.net;
    this.name = this.net.connectionName(client, addr);
    this.ctl = this.net.rng.keyed(`conn:${this.name}/ctl`);
    this.timer = this.net.world.setTimer(
      timeoutUs,
      () =>
        this.fail(
          new NetError('ETIMEDOUT', `connect to ${formatAddress(addr)} timed out after ${timeoutUs} us`),
        ),
      {
        host: client.name,
        label: 'connect-timeout',
      },
    );
  }

  start(): void {
    this.net.sendControl(this.client.name, this.server.name, this.ctl, this.ctlIndex++, () => this.onSyn());
  }

  private listenerKey(): string {
    return this.addr.transport === 'tcp' ? `tcp:${this.addr.port}` : `unix:${this.addr.path}`;
  }

  private onSyn(): void {
    if (this.done || this.server.state === 'crashed') return; // a dead host answers nothing: the client times out
    const listener = this.server.listeners.get(this.listenerKey());
    if (listener === undefined) {
      this.net.sendControl(this.server.name, this.client.name, this.ctl, this.ctlIndex++, () =>
        this.fail(
          new NetError(
            'ECONNREFUSED',
            `nothing listens at ${formatAddress(this.addr)} on host ${this.server.name}`,
          ),
        ),
      );
      return;
    }
    this.net.sendControl(this.server.name, this.client.name, this.ctl, this.ctlIndex++, () =>
      this.onSynAck(listener),
    );
  }

  private onSynAck(listener: SimListener): void {
    if (this.done) return;
    if (this.client.incarnation !== this.inc || this.client.state === 'crashed') return;
    this.done = true;
    this.net.world.clearTimer(this.timer);
    const conn = new Conn(
      this.net,
      this.net.newConnId(),
      this.name,
      this.client,
      this.server,
      this.addr,
      listener,
    );
    const clientEnd = conn.client;
    this.net.emit({
      kind: 'connect',
      host: this.client.name,
      conn: conn.id,
      from: clientEnd.localAddress,
      to: clientEnd.remoteAddress,
    });
    this.net.sendControl(this.client.name, this.server.name, this.ctl, this.ctlIndex++, () => conn.accept());
    this.client.invoke(this.inc, () => this.callback(undefined, clientEnd), undefined);
  }

  private fail(error: NetError): void {
    if (this.done) return;
    this.done = true;
    this.net.world.clearTimer(this.timer);
    this.net.emit({
      kind: 'connect-error',
      host: this.client.name,
      to: formatAddress(this.addr),
      code: error.code,
    });
    this.client.invoke(this.inc, () => this.callback(error, undefined), undefined);
  }
}

/** The FIN marker among a flow's in-flight payloads (a zero-length segment that ends the stream). */
const FIN = new Uint8Array(0);

function arriveSegment(flow: Flow): void {
  flow.arrive();
}

/** One direction of a connection: sender's buffer, bytes in flight, receiver's buffer. */
class Flow {
  readonly sendQ = new ByteQueue();
  readonly recvQ = new ByteQueue();
  /** Payloads on the wire, oldest first (FIN marks the end of the stream). */
  private readonly inFlight: Uint8Array[] = [];
  private inFlightHead = 0;
  private inFlightTail = 0;
  inFlightBytes = 0;
  readonly sendCapBytes: number;
  readonly recvCapBytes: number;
  private segIndex = 0;
  writeIndex = 0;
  private lastArrivalUs = 0;
  private busyUntilUs = 0;
  receivedBytes = 0;
  finQueued = false;
  private finSent = false;
  finArrived = false;
  waitingWindow = false;
  readonly fate: KeyedStream;
  readonly dirLabel: HashLabel;
  private link: LinkConfig = DEFAULT_LINK;
  private linkVersion = -1;

  constructor(
    readonly conn: Conn,
    readonly from: End,
    readonly to: End,
    readonly dir: string,
  ) {
    this.fate = conn.net.rng.keyed(`conn:${conn.name}/dir:${dir}`);
    this.dirLabel = new HashLabel(dir);
    const cfg = conn.net.connConfig;
    this.sendCapBytes = drawSize(cfg.sendBufferBytes, this.fate, SALT_BUFFERS);
    this.recvCapBytes = drawSize(cfg.recvBufferBytes, this.fate, SALT_BUFFERS + 1);
  }

  /** Free space in the send buffer (unsent plus unacknowledged bytes count against it). */
  freeBytes(): number {
    return this.sendCapBytes - this.sendQ.length - this.inFlightBytes;
  }

  /** Moves queued bytes onto the wire as far as the receive window and partitions allow. */
  pump(): void {
    const conn = this.conn;
    if (conn.dead) return;
    const net = conn.net;
    const cfg = net.connConfig;
    while (this.sendQ.length > 0) {
      if (net.blocked(this.from.host.name, this.to.host.name)) {
        net.blockedFlows.add(this);
        return;
      }
      const window = this.recvCapBytes - this.inFlightBytes - this.recvQ.length;
      if (window <= 0) {
        this.waitingWindow = true;
        return;
      }
      this.waitingWindow = false;
      const seg = cfg.randomChunking
        ? 1 + Math.floor(this.fate.unit(this.segIndex, SALT_SIZE) * cfg.mssBytes)
        : cfg.mssBytes;
      this.transmit(this.sendQ.take(Math.min(this.sendQ.length, window, seg)), false);
      if (conn.dead) return; // the transmission exhausted its retransmissions
    }
    if (this.finQueued && !this.finSent) {
      if (net.blocked(this.from.host.name, this.to.host.name)) {
        net.blockedFlows.add(this);
        return;
      }
      this.finSent = true;
      this.transmit(new Uint8Array(0), true);
    }
  }

  private transmit(bytes: Uint8Array, fin: boolean): void {
    const net = this.conn.net;
    const cfg = net.connConfig;
    const world = net.world;
    if (this.linkVersion !== net.linkVersion) {
      this.link = net.linkConfig(this.from.host.name, this.to.host.name);
      this.linkVersion = net.linkVersion;
    }
    const link = this.link;
    const idx = this.segIndex++;
    const nowUs = world.nowUs;
    const departUs = Math.max(nowUs, this.busyUntilUs);
    const serializationUs =
      link.bandwidthBytesPerSec > 0 ? (bytes.length * 1e6) / link.bandwidthBytesPerSec : 0;
    this.busyUntilUs = departUs + serializationUs;
    let retransmits = 0;
    let lossDelayUs = 0;
    if (link.lossRate > 0) {
      let rto = cfg.rtoInitialUs;
      while (this.fate.unit(idx, SALT_LOSS + retransmits) < link.lossRate) {
        if (retransmits >= cfg.maxRetransmits) {
          // Too many consecutive losses: the sender gives up when its last retransmission times out.
          world.post(
            Math.ceil(departUs + lossDelayUs + rto - nowUs),
            () => this.conn.abort(undefined, 'retransmission timeout', false, this.from),
            undefined,
          );
          this.conn.dead = true;
          return;
        }
        lossDelayUs += rto;
        rto = Math.min(rto * 2, cfg.rtoMaxUs);
        retransmits++;
      }
    }
    let latencyUs = drawLatencyUs(link.latency, this.fate, idx, SALT_LATENCY);
    if (link.jitterUs > 0) latencyUs += this.fate.unit(idx, SALT_JITTER) * link.jitterUs;
    let arrivalUs = Math.ceil(departUs + serializationUs + lossDelayUs + latencyUs);
    // TCP delivers in order: a segment stuck in retransmission holds back everything behind it.
    if (arrivalUs < this.lastArrivalUs) arrivalUs = this.lastArrivalUs;
    this.lastArrivalUs = arrivalUs;
    this.inFlightBytes += bytes.length;
    net.stats.segments++;
    if (retransmits > 0) {
      net.stats.retransmissions += retransmits;
      if (world.trace.enabled) {
        net.emit({
          kind: 'loss',
          host: this.from.host.name,
          conn: this.conn.id,
          dir: this.dir,
          bytes: bytes.length,
          retransmits,
          delayUs: lossDelayUs,
        });
      }
    }
    // A flow's segments arrive in the order they were sent (arrival times never decrease and ties
    // keep insertion order), so the payloads wait in a FIFO and the event carries only the flow.
    this.inFlight[this.inFlightTail++] = fin ? FIN : bytes;
    world.postAt(arrivalUs, arriveSegment, this);
  }

  /** @internal the oldest in-flight segment reached the receiver's host. */
  arrive(): void {
    const conn = this.conn;
    if (conn.dead) return;
    const bytes = this.inFlight[this.inFlightHead]!;
    this.inFlight[this.inFlightHead++] = FIN; // drop the reference
    if (this.inFlightHead === this.inFlightTail) {
      // Empty: start over at the front (keeping the array's storage, which truncating would free).
      this.inFlightHead = 0;
      this.inFlightTail = 0;
    } else if (this.inFlightHead > 1024 && this.inFlightHead * 2 > this.inFlightTail) {
      this.inFlight.copyWithin(0, this.inFlightHead, this.inFlightTail);
      this.inFlightTail -= this.inFlightHead;
      this.inFlightHead = 0;
    }
    const fin = bytes === FIN;
    const n = bytes.length;
    this.inFlightBytes -= n;
    const receiver = this.to;
    if (fin) {
      this.finArrived = true;
    } else if (!receiver.closingLocal) {
      this.recvQ.push(bytes);
      conn.net.world.trace.chunk(receiver.host.label, conn.id, this.dirLabel, n, this.receivedBytes);
      this.receivedBytes += n;
      conn.net.stats.bytesDelivered += n;
    }
    receiver.scheduleDeliver();
    const sender = this.from;
    if (fin) sender.maybeClosed();
    if (sender.wantWritable && this.freeBytes() > 0) sender.notifyWritable();
  }
}

/** One end of a simulated connection, as code on its host sees it. */
class End implements StreamConn {
  handlers: ConnHandlers = {};
  out!: Flow;
  in!: Flow;
  peer!: End;
  accepted: boolean;
  appPaused = false;
  stalled = false;
  writeShut = false;
  closingLocal = false;
  closed = false;
  endSignaled = false;
  wantWritable = false;
  private closeTimer: Timer | undefined;
  readonly inc: number;

  constructor(
    readonly conn: Conn,
    readonly host: SimHost,
    readonly localAddress: string,
    readonly remoteAddress: string,
    accepted: boolean,
  ) {
    this.inc = host.incarnation;
    this.accepted = accepted;
    host.ends.add(this);
  }

  get id(): number {
    return this.conn.id;
  }

  get state(): ConnState {
    return this.closed ? 'closed' : 'open';
  }

  setHandlers(handlers: ConnHandlers): void {
    this.handlers = handlers;
    // Bytes that arrived before handlers were set are delivered now that someone listens.
    if (this.in.recvQ.length > 0 || this.in.finArrived) this.scheduleDeliver();
  }

  write(bytes: Uint8Array): number {
    if (this.closed || this.conn.aborted)
      throw new NetError('ENOTCONN', `write on closed connection ${this.conn.id}`);
    if (this.writeShut)
      throw new NetError('EPIPE', `write after shutdown or close on connection ${this.conn.id}`);
    const flow = this.out;
    const offered = bytes.length;
    if (offered === 0) return 0;
    const free = flow.freeBytes();
    let accepted = Math.min(offered, Math.max(0, free));
    const net = this.conn.net;
    const pw = net.connConfig.partialWriteProbability;
    const writeIndex = flow.writeIndex++;
    let capped = false;
    if (pw > 0 && accepted > 0 && flow.fate.unit(writeIndex, SALT_PARTIAL) < pw) {
      // A cap in [0, offered]: even a 1-byte write is sometimes accepted whole, so writers progress.
      const cap = Math.floor(flow.fate.unit(writeIndex, SALT_PARTIAL_LEN) * (offered + 1));
      if (cap < accepted) {
        accepted = cap;
        capped = true;
        net.stats.partialWrites++;
      }
    }
    if (accepted > 0) {
      // Copy: the caller may reuse its buffer. (TypedArray#slice is several times slower than set.)
      const copy = new Uint8Array(accepted);
      copy.set(accepted === offered ? bytes : bytes.subarray(0, accepted));
      flow.sendQ.push(copy);
      flow.pump();
    }
    net.world.trace.write(this.host.label, this.conn.id, offered, accepted);
    if (accepted < offered && !this.conn.dead) {
      this.wantWritable = true;
      // Space is free but the write was cut short on purpose: the writer may go on at once.
      if (capped && flow.freeBytes() > 0) net.world.post(0, notifyIfWritable, this);
    }
    return accepted;
  }

  pauseReading(): void {
    this.appPaused = true;
  }

  resumeReading(): void {
    if (!this.appPaused) return;
    this.appPaused = false;
    this.scheduleDeliver();
  }

  /** @internal a fault stalls reading regardless of what the application asked. */
  setStalled(stalled: boolean): void {
    this.stalled = stalled;
    if (!stalled) this.scheduleDeliver();
  }

  shutdown(): void {
    if (this.closed || this.writeShut) return;
    this.writeShut = true;
    this.out.finQueued = true;
    this.out.pump();
  }

  close(): void {
    if (this.closed || this.closingLocal) return;
    this.closingLocal = true;
    this.in.recvQ.clear();
    const trace = this.conn.net.world.trace;
    if (trace.enabled) trace.emit({ kind: 'close', host: this.host.name, conn: this.conn.id, side: 'local' });
    this.shutdown();
    if (this.closed) return;
    // A peer that never closes its side would keep this end half-closed forever: bound it.
    this.closeTimer = this.conn.net.world.setTimer(
      this.conn.net.connConfig.closeTimeoutUs,
      () => {
        if (!this.closed) this.conn.abort(undefined, 'close timeout');
      },
      { host: this.host.name, label: 'close-timeout' },
    );
    this.maybeClosed();
  }

  reset(): void {
    if (this.closed) return;
    this.conn.abort(this, 'reset by application');
  }

  /** @internal delivery to the application, through the host gate (held while paused). */
  scheduleDeliver(): void {
    this.host.invoke(this.inc, deliverEnd, this);
  }

  /** @internal */
  deliver(): void {
    if (this.closed || !this.accepted) return;
    const flow = this.in;
    const trace = this.conn.net.world.trace;
    while (!this.appPaused && !this.stalled && !this.closed && flow.recvQ.length > 0) {
      const handlers = this.handlers;
      if (handlers.onData === undefined) break;
      const chunk = flow.recvQ.shiftChunk()!;
      trace.read(this.host.label, this.conn.id, chunk.length);
      handlers.onData(chunk);
    }
    if (this.closed) return;
    if (
      flow.recvQ.length === 0 &&
      flow.finArrived &&
      !this.endSignaled &&
      !this.closingLocal &&
      !this.stalled &&
      !this.appPaused
    ) {
      this.endSignaled = true;
      if (trace.enabled)
        trace.emit({ kind: 'close', host: this.host.name, conn: this.conn.id, side: 'half' });
      this.handlers.onEnd?.();
    }
    this.maybeClosed();
    if (flow.waitingWindow) flow.pump();
  }

  /** @internal clean close once both FINs are through and this side has seen the end. */
  maybeClosed(): void {
    if (this.closed) return;
    if (!(this.out.finArrived && this.in.finArrived && (this.endSignaled || this.closingLocal))) return;
    this.finish(undefined);
    if (this.peer.closed) this.conn.retire();
  }

  /** @internal */
  notifyWritable(): void {
    if (!this.wantWritable || this.closed) return;
    this.wantWritable = false;
    this.host.invoke(this.inc, callOnWritable, this);
  }

  /** @internal marks this end closed and tells its application (through the host gate). */
  finish(error: NetError | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.host.ends.delete(this);
    if (this.closeTimer !== undefined) this.conn.net.world.clearTimer(this.closeTimer);
    this.host.invoke(this.inc, () => this.handlers.onClose?.(error), undefined);
  }
}

function deliverEnd(end: End): void {
  end.deliver();
}

function callOnWritable(end: End): void {
  end.handlers.onWritable?.();
}

function notifyIfWritable(end: End): void {
  if (end.out.freeBytes() > 0) end.notifyWritable();
}

/** A connection: two ends and the two flows between them. */
class Conn {
  readonly client: End;
  readonly server: End;
  dead = false;

  constructor(
    readonly net: Network,
    readonly id: number,
    readonly name: string,
    clientHost: SimHost,
    serverHost: SimHost,
    addr: StreamAddress,
    private readonly listener: SimListener,
  ) {
    const serverAddress = listener.address;
    const clientAddress =
      addr.transport === 'tcp' ? `tcp://${clientHost.name}:${clientHost.allocatePort()}` : 'unix://';
    this.client = new End(this, clientHost, clientAddress, serverAddress, true);
    this.server = new End(this, serverHost, serverAddress, clientAddress, false);
    this.client.peer = this.server;
    this.server.peer = this.client;
    const c2s = new Flow(this, this.client, this.server, 'c>s');
    const s2c = new Flow(this, this.server, this.client, 's>c');
    this.client.out = c2s;
    this.client.in = s2c;
    this.server.out = s2c;
    this.server.in = c2s;
    net.conns.set(id, this);
    net.stats.connections++;
  }

  info(): ConnInfo {
    return {
      id: this.id,
      name: this.name,
      clientHost: this.client.host.name,
      serverHost: this.server.host.name,
      clientAddress: this.client.localAddress,
      serverAddress: this.server.localAddress,
    };
  }

  /** The client's ACK reached the server: the listener's application gets the connection. */
  accept(): void {
    const server = this.server;
    if (this.dead || server.closed) return;
    const listener = this.listener;
    if (!listener.open || server.host.incarnation !== listener.inc || server.host.state === 'crashed') {
      this.abort(server, 'listener closed before accept');
      return;
    }
    server.accepted = true;
    this.net.emit({
      kind: 'accept',
      host: server.host.name,
      conn: this.id,
      from: server.remoteAddress,
      to: server.localAddress,
    });
    server.host.invoke(
      listener.inc,
      () => {
        listener.onConnection(server);
        server.scheduleDeliver();
      },
      undefined,
    );
  }

  /**
   * Abortive close. `initiator` (if any) closed on purpose and gets a clean onClose; the other side
   * learns of it by a RST that crosses the network. `silentInitiator` drops the initiator's callbacks
   * (its host crashed). With no initiator (a network fault) both sides get the error at once;
   * `timedOut` names the end whose retransmissions ran out (it gets ETIMEDOUT, the other ECONNRESET).
   */
  abort(initiator: End | undefined, reason: string, silentInitiator = false, timedOut?: End): void {
    if (this.retired) return;
    if (this.aborted) {
      // Already resetting (e.g. both ends sit on a host that crashed): just silence this end too.
      if (initiator !== undefined && silentInitiator) {
        initiator.closed = true;
        initiator.host.ends.delete(initiator);
      }
      return;
    }
    this.aborted = true;
    const lostBytes =
      this.client.out.sendQ.length +
      this.client.out.inFlightBytes +
      this.client.in.recvQ.length +
      this.server.out.sendQ.length +
      this.server.out.inFlightBytes +
      this.server.in.recvQ.length;
    this.dead = true;
    for (const f of [this.client.out, this.server.out]) {
      f.sendQ.clear();
      f.recvQ.clear();
      f.inFlightBytes = 0;
      this.net.blockedFlows.delete(f);
    }
    this.net.stats.resets++;
    const trace = this.net.world.trace;
    if (trace.enabled)
      trace.emit({
        kind: 'reset',
        host: (initiator ?? this.client).host.name,
        conn: this.id,
        reason,
        lostBytes,
      });
    const resetError = (end: End): NetError =>
      end === timedOut
        ? new NetError('ETIMEDOUT', `connection ${this.id} timed out: ${reason}`)
        : new NetError('ECONNRESET', `connection ${this.id} reset: ${reason}`);
    if (initiator === undefined) {
      this.client.finish(resetError(this.client));
      this.server.finish(resetError(this.server));
      this.retire();
      return;
    }
    const other = initiator.peer;
    if (silentInitiator) {
      initiator.closed = true;
      initiator.host.ends.delete(initiator);
    } else {
      // Deferred to an event of its own: reset() returns before onClose runs, as on a real socket.
      this.net.world.post(0, () => initiator.finish(undefined), undefined);
    }
    if (other.closed) {
      this.retire();
      return;
    }
    const ctl = this.net.rng.keyed(`conn:${this.name}/rst`);
    this.net.sendControl(initiator.host.name, other.host.name, ctl, 0, () => {
      other.finish(resetError(other));
      this.retire();
    });
  }

  retired = false;
  aborted = false;

  /** @internal forget the connection once both ends are done. */
  retire(): void {
    if (this.retired) return;
    this.retired = true;
    this.dead = true;
    this.net.conns.delete(this.id);
  }
}
