/** The dialer: one address, one pipe at a time, redial with backoff (and the backoff policies). */
import type { Deferred, RandomSource, TimerHandle } from '../../runtime/env.js';
import { SpError, spError } from '../errors.js';
import type { OptionName, OptionStore, OptionValues } from '../options.js';
import { inprocDial, type InprocPipe } from '../transport/inproc.js';
import { runtimeAddress, type SpUrl } from '../transport/url.js';
import { inprocEvents, newStats, startStreamPipe, type EndpointStats } from './endpoint.js';
import { pipeIds } from './pipe-ids.js';
import type { Pipe } from './pipe.js';
import type { Socket } from './socket.js';

/** Redial timing: the wait before the next attempt, given the current interval. */
export interface BackoffPolicy {
  /** Returns the next interval after `currentUs` (called after each failed attempt). */
  grow(currentUs: number, minUs: number, maxUs: number, rng: RandomSource): number;
  /**
   * When the interval starts over at RECONNECT-TIME. 'attach' (the default, mangos): once the
   * protocol accepted a pipe. 'connect' (nng 1.5.2): on every transport connect, before the
   * handshake and the protocol's peer check, so a wrong-protocol peer is redialed at the minimum
   * interval forever.
   */
  readonly resetOn?: 'attach' | 'connect';
}

/** mangos: grow by a random factor in [1.1, 1.5) up to the maximum; a maximum of 0 means no growth. */
export const MANGOS_BACKOFF: BackoffPolicy = {
  grow(currentUs, minUs, maxUs, rng) {
    if (maxUs <= 0) return minUs;
    return Math.min(maxUs, Math.round(currentUs * rng.uniform(1.1, 1.5)));
  },
};

export type DialerState = 'idle' | 'connecting' | 'connected' | 'waiting' | 'failed' | 'closed';

/**
 * Dials one address and keeps a pipe to it: after a lost pipe or a failed asynchronous attempt it
 * redials with backoff (RECONNECT-TIME, grown by the backoff policy up to MAX-RECONNECT-TIME, reset
 * by default only once the protocol accepted a pipe: nng 1.5.2 resets on TCP connect and so storms
 * a wrong-protocol peer; BackoffPolicy.resetOn picks). Never two attempts in flight. A synchronous dial() that fails returns the
 * error and is not retried (mangos); dialing twice is ErrAddrInUse.
 */
export class Dialer {
  stateValue: DialerState = 'idle';
  readonly stats: EndpointStats = newStats();
  private started = false;
  private firstAttempt: Deferred<void> | undefined;
  private intervalUs = 0;
  private timer: TimerHandle | undefined;
  private pipe: Pipe | undefined;
  private readonly rng: RandomSource;

  constructor(
    private readonly socket: Socket,
    readonly url: SpUrl,
    private readonly overrides: OptionStore,
  ) {
    this.rng = socket.env.random(`sp/redial/${url.text}`);
  }

  get state(): DialerState {
    return this.stateValue;
  }

  /** An option as this dialer sees it: its own override, else the socket's. */
  option<N extends OptionName>(name: N): OptionValues[N] {
    return this.overrides.has(name) ? this.overrides.get(name) : this.socket.getOption(name);
  }

  setOption(name: string, value: unknown): void {
    this.overrides.set(name, value);
  }

  dial(): Promise<void> {
    const done = this.socket.env.defer<void>();
    if (this.stateValue === 'closed' || this.socket.closed) {
      done.reject(spError('ErrClosed', 'dial on a closed dialer'));
      return done.promise;
    }
    if (this.started) {
      done.reject(spError('ErrAddrInUse', `dialer for ${this.url.text} was already started`));
      return done.promise;
    }
    this.started = true;
    this.intervalUs = this.option('RECONNECT-TIME');
    if (this.option('DIAL-ASYNCH')) {
      done.resolve();
    } else {
      this.firstAttempt = done;
    }
    this.attempt();
    return done.promise;
  }

  /** Stops dialing and closes the dialer's pipe (kept open when the socket closes it, for linger). */
  close(keepPipe = false): void {
    if (this.stateValue === 'closed') return;
    this.stateValue = 'closed';
    if (this.timer !== undefined) this.socket.env.clearTimer(this.timer);
    this.firstAttempt?.reject(spError('ErrClosed', 'dialer closed'));
    this.firstAttempt = undefined;
    if (!keepPipe) this.pipe?.close();
    this.socket.forget(this);
  }

  /** Called by dial() (refused once closed) and by the redial timer, which close() clears. */
  private attempt(): void {
    this.stateValue = 'connecting';
    this.timer = undefined;
    if (this.url.transport === 'inproc') {
      this.attemptInproc();
      return;
    }
    const transport = this.url.transport;
    this.socket.env.connect(runtimeAddress(this.url), (err, conn) => {
      if (this.stateValue === 'closed') {
        conn?.reset();
        return;
      }
      if (err !== undefined || conn === undefined) {
        const code =
          err?.code === 'ECONNREFUSED'
            ? 'ErrConnRefused'
            : err?.code === 'ETIMEDOUT'
              ? 'ErrTimedOut'
              : err?.code === 'EINVAL'
                ? 'ErrBadAddr'
                : 'ErrConnReset';
        this.failed(spError(code, `dial ${this.url.text}: ${err?.message ?? 'no connection'}`, err));
        return;
      }
      this.stats.connections++;
      if (this.socket.backoff.resetOn === 'connect') this.intervalUs = this.option('RECONNECT-TIME');
      startStreamPipe(this.socket, this, conn, transport);
    });
  }

  private attemptInproc(): void {
    const socket = this.socket;
    const ids = pipeIds(socket.env);
    const url = this.url as Extract<SpUrl, { transport: 'inproc' }>;
    // Deferred to an event of its own, like every transport's connect callback.
    socket.env.setTimer(
      0,
      () => {
        if (this.stateValue === 'closed') return;
        let pipe: InprocPipe;
        try {
          pipe = inprocDial(
            socket.env,
            url.name,
            { protocolId: socket.protocol.info.id, peerProtocolId: socket.protocol.info.peerId },
            (make) =>
              make(
                ids.allocate(),
                inprocEvents(socket, this, (id) => ids.release(id)),
              ),
          );
        } catch (e) {
          this.failed(e instanceof SpError ? e : spError('ErrConnRefused', String(e)));
          return;
        }
        this.stats.connections++;
        if (socket.backoff.resetOn === 'connect') this.intervalUs = this.option('RECONNECT-TIME');
        if (!socket.attachPipe(pipe, this)) {
          this.stats.rejected++;
          pipe.close();
          this.pipeRejected(pipe);
        }
      },
      'sp-inproc-dial',
    );
  }

  /** @internal */
  handshakeFailed(_pipe: Pipe, error: SpError): void {
    this.stats.badHandshakes++;
    this.failed(error);
  }

  /** @internal */
  pipeRejected(_pipe: Pipe): void {
    this.failed(spError('ErrProtoState', `the socket refused the pipe to ${this.url.text}`));
  }

  /** @internal */
  pipeAttached(pipe: Pipe): void {
    this.stats.attached++;
    this.pipe = pipe;
    this.stateValue = 'connected';
    // The protocol accepted the pipe: the backoff starts over (with resetOn 'attach', only now).
    this.intervalUs = this.option('RECONNECT-TIME');
    const first = this.firstAttempt;
    this.firstAttempt = undefined;
    first?.resolve();
  }

  /** @internal the attached pipe went away: redial after the current interval. */
  pipeClosed(_pipe: Pipe): void {
    this.pipe = undefined;
    if (this.stateValue === 'closed') return;
    this.scheduleRedial();
  }

  private failed(error: SpError): void {
    if (this.stateValue === 'closed') return;
    const first = this.firstAttempt;
    if (first !== undefined) {
      // A synchronous dial reports its failure and does not retry (mangos).
      this.firstAttempt = undefined;
      this.stateValue = 'failed';
      first.reject(error);
      return;
    }
    this.socket.env.trace({
      kind: 'note',
      text: `sp dialer ${this.url.text}: ${error.message}; redial in ${this.intervalUs} us`,
    });
    this.scheduleRedial();
    this.intervalUs = this.socket.backoff.grow(
      this.intervalUs,
      this.option('RECONNECT-TIME'),
      this.option('MAX-RECONNECT-TIME'),
      this.rng,
    );
  }

  /** Called by pipeClosed and failed, which return first once the dialer is closed. */
  private scheduleRedial(): void {
    if (this.timer !== undefined) return;
    this.stateValue = 'waiting';
    this.timer = this.socket.env.setTimer(this.intervalUs, () => this.attempt(), 'sp-redial');
  }
}
