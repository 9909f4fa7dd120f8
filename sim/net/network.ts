/**
 * The simulated network's registry and controls: hosts by name, link settings per host pair,
 * partitions and the traffic they hold, read stalls and resets of live connections, control
 * packets (SYN, SYN-ACK, ACK, RST) and the running totals.
 */
import { SimError } from '../errors.js';
import {
  DEFAULT_CONN,
  DEFAULT_LINK,
  drawLatencyUs,
  mergeConn,
  mergeLink,
  type ConnConfig,
  type LinkConfig,
} from '../net-config.js';
import type { KeyedStream, Rng } from '../rng.js';
import { formatAddress, type StreamAddress } from '../stream.js';
import type { TraceInput } from '../trace.js';
import type { World } from '../world.js';
import { ByteLedger, LinkLedger, type ByteAudit, type LinkAudit } from './audit.js';
import type { Conn, ConnInfo } from './conn.js';
import { LOCAL_NAMES, SALT_JITTER, SALT_LATENCY, SALT_LOSS } from './constants.js';
import type { Flow } from './flow.js';
import { SimHost, type HostOptions } from './host.js';
import { PartitionTable, type PartitionOptions } from './partitions.js';
import { newNetStats, type NetStats } from './stats.js';

export interface NetworkOptions {
  /** Link settings for every host pair without its own (default DEFAULT_LINK: 1 ms constant, no loss). */
  link?: Partial<LinkConfig>;
  /** Connection settings (default DEFAULT_CONN). */
  conn?: Partial<ConnConfig>;
}

export class Network {
  readonly world: World;
  readonly connConfig: ConnConfig;
  private readonly defaultLink: LinkConfig;
  private readonly links = new Map<string, LinkConfig>();
  private readonly hosts = new Map<string, SimHost>();
  private readonly cuts = new PartitionTable();
  private nextConnId = 1;
  private readonly pairCounts = new Map<string, number>();
  /** @internal */ readonly conns = new Map<number, Conn>();
  /** @internal control packets waiting for a partition to heal */
  readonly healWaiters: (() => void)[] = [];
  /** @internal flows waiting for a partition to heal */
  readonly blockedFlows = new Set<Flow>();
  readonly stats: NetStats = newNetStats();
  /** @internal the byte accounts of retired connections (see byteAudit). */
  readonly ledger = new ByteLedger();
  /** @internal the link model's audit (see linkAudit). */
  readonly linkLedger = new LinkLedger();

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
    return this.cuts.add(a, b, options);
  }

  /** Heals one partition, or all of them; held traffic moves again. */
  heal(id?: number): void {
    if (id === undefined) this.cuts.clear();
    else if (!this.cuts.delete(id)) throw new SimError('ERR_BAD_ARGUMENT', `no active partition ${id}`);
    const waiting = [...this.blockedFlows];
    this.blockedFlows.clear();
    for (const f of waiting) f.pump();
    const held = this.healWaiters.splice(0);
    for (const send of held) send();
  }

  /** True when traffic from host `from` to host `to` is cut by a partition. */
  blocked(from: string, to: string): boolean {
    return this.cuts.blocked(from, to);
  }

  /** Live connections, oldest first (a connection being reset is no longer live). */
  connections(): ConnInfo[] {
    const out: ConnInfo[] = [];
    for (const c of this.conns.values()) if (!c.aborted) out.push(c.info());
    return out;
  }

  /**
   * Byte conservation per connection and direction, over every connection opened so far (retired
   * or live): the directions whose bytes accepted by writes differ from the bytes read, buffered
   * and destroyed. The engine's self-check sim.bytes-conserved judges it at the end of every run.
   */
  byteAudit(): ByteAudit {
    const live: Flow[] = [];
    for (const c of this.conns.values()) live.push(c.client.out, c.server.out);
    return this.ledger.audit(live);
  }

  /**
   * The network model's own rules over every segment so far (LinkAudit): in-order delivery never
   * ahead of a segment's own delays, receive buffers within their size, retransmissions within their
   * bound. The engine's self-check sim.link-model judges it at the end of every run.
   */
  linkAudit(): LinkAudit {
    return this.linkLedger.audit();
  }

  /** True while partition `id` is in force (not yet healed). */
  isPartitioned(id: number): boolean {
    return this.cuts.has(id);
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
    if (LOCAL_NAMES.has(addr.host)) return from;
    return this.hosts.get(addr.host); // (its own name finds the host itself)
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
      this.linkLedger.held(from, to, this.world.nowUs);
      this.healWaiters.push(() => this.sendControl(from, to, fate, index, fn, attempt));
      return;
    }
    const lost = link.lossRate > 0 && fate.unit(index, SALT_LOSS + attempt) < link.lossRate;
    if (lost) {
      if (attempt >= this.connConfig.maxRetransmits) return;
      this.stats.retransmissions++;
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
