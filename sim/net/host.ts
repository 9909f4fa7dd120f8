/** A simulated host: its incarnations (pause, resume, crash, restart), the gate every callback into it passes, its ports. */
import { SimError } from '../errors.js';
import { NetError } from '../stream.js';
import { HashLabel } from '../trace.js';
import { EPHEMERAL_PORT_FIRST, EPHEMERAL_PORT_LAST } from './constants.js';
import type { End } from './end.js';
import { SimEnv } from './env.js';
import type { SimListener } from './listener.js';
import type { Network } from './network.js';

export type HostState = 'up' | 'paused' | 'crashed';
export type BootFn = (env: SimEnv) => unknown;

export interface HostOptions {
  /** Runs when the host is added and again after every restart, with that incarnation's env. */
  boot?: BootFn;
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
