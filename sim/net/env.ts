/**
 * The runtime seam of a simulated host (impl/runtime/env.ts Env): virtual time, timers held by pauses,
 * promises that die with their host incarnation, seeded random streams, the trace, listen and connect.
 */
import { SimError } from '../errors.js';
import type { Rng } from '../rng.js';
import {
  formatAddress,
  NetError,
  parseAddress,
  type StreamAddress,
  type StreamConn,
  type StreamListener,
} from '../stream.js';
import type { TraceInput } from '../trace.js';
import { Timer, type Deferred, type World } from '../world.js';
import { ConnectAttempt } from './connect.js';
import { ANY_NAMES, LOCAL_NAMES } from './constants.js';
import type { SimHost } from './host.js';
import { SimListener } from './listener.js';

/**
 * A promise of one host incarnation: it never settles once that incarnation crashed. crash() moves
 * the host to its next incarnation, so comparing incarnations is the whole check.
 */
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
    if (this.host.incarnation === this.inc) this.inner.resolve(value);
  }
  reject(reason: unknown): void {
    if (this.host.incarnation === this.inc) this.inner.reject(reason);
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
