/** The listener: accepts connections on one address, each handshaking on its own. */
import { spError, type SpError } from '../errors.js';
import type { OptionName, OptionStore, OptionValues } from '../options.js';
import { inprocListen, type InprocPipe } from '../transport/inproc.js';
import { runtimeAddress, spAddress, type SpUrl } from '../transport/url.js';
import { inprocEvents, newStats, startStreamPipe, type EndpointStats } from './endpoint.js';
import { pipeIds } from './pipe-ids.js';
import type { Pipe, PipeEvents } from './pipe.js';
import type { Socket } from './socket.js';

export type ListenerState = 'idle' | 'listening' | 'closed';

/** Accepts connections on one address; each handshakes on its own, bounded by HANDSHAKE-TIMEOUT. */
export class Listener {
  stateValue: ListenerState = 'idle';
  readonly stats: EndpointStats = newStats();
  private boundAddress: string;
  private closeTransport: (() => void) | undefined;
  /** Pipes still handshaking or attached through this listener. */
  private readonly pipes = new Set<Pipe>();

  constructor(
    private readonly socket: Socket,
    readonly url: SpUrl,
    private readonly overrides: OptionStore,
  ) {
    this.boundAddress = url.text;
  }

  /** The bound address (with the real port after listening on port 0). */
  get address(): string {
    return this.boundAddress;
  }

  get state(): ListenerState {
    return this.stateValue;
  }

  option<N extends OptionName>(name: N): OptionValues[N] {
    return this.overrides.has(name) ? this.overrides.get(name) : this.socket.getOption(name);
  }

  setOption(name: string, value: unknown): void {
    this.overrides.set(name, value);
  }

  listen(): Promise<void> {
    const done = this.socket.env.defer<void>();
    if (this.stateValue === 'closed' || this.socket.closed) {
      done.reject(spError('ErrClosed', 'listen on a closed listener'));
      return done.promise;
    }
    if (this.stateValue === 'listening') {
      done.reject(spError('ErrAddrInUse', `listener for ${this.url.text} is already listening`));
      return done.promise;
    }
    const url = this.url;
    if (url.transport === 'inproc') {
      try {
        this.closeTransport = inprocListen(this.socket.env, url.name, {
          env: this.socket.env,
          protocolId: this.socket.protocol.info.id,
          peerProtocolId: this.socket.protocol.info.peerId,
          accept: (make) => this.acceptInproc(make),
        });
      } catch (e) {
        done.reject(e);
        return done.promise;
      }
      this.stateValue = 'listening';
      done.resolve();
      return done.promise;
    }
    const transport = url.transport;
    this.socket.env.listen(
      runtimeAddress(url),
      (conn) => {
        if (this.stateValue !== 'listening') {
          conn.reset();
          return;
        }
        this.stats.connections++;
        const pipe = startStreamPipe(this.socket, this, conn, transport);
        if (pipe.state !== 'closed') this.pipes.add(pipe);
      },
      (err, listener) => {
        if (err !== undefined || listener === undefined) {
          const code = err?.code === 'EADDRINUSE' ? 'ErrAddrInUse' : 'ErrBadAddr';
          done.reject(spError(code, `listen ${url.text}: ${err?.message ?? 'failed'}`, err));
          return;
        }
        if (this.stateValue === 'closed') {
          listener.close();
          done.reject(spError('ErrClosed', 'listener closed while binding'));
          return;
        }
        this.stateValue = 'listening';
        this.boundAddress = spAddress(transport, listener.address);
        this.closeTransport = () => listener.close();
        done.resolve();
      },
    );
    return done.promise;
  }

  /** Stops accepting and closes the listener's pipes (kept open when the socket closes it, for linger). */
  close(keepPipes = false): void {
    if (this.stateValue === 'closed') return;
    this.stateValue = 'closed';
    this.closeTransport?.();
    for (const p of [...this.pipes]) if (!keepPipes || p.state === 'handshaking') p.close();
    this.socket.forget(this);
  }

  private acceptInproc(make: (id: number, events: PipeEvents) => InprocPipe): void {
    const ids = pipeIds(this.socket.env);
    const pipe = make(
      ids.allocate(),
      inprocEvents(this.socket, this, (id) => ids.release(id)),
    );
    this.stats.connections++;
    // Attach after the dialer's side is wired: an event of its own.
    this.socket.env.setTimer(
      0,
      () => {
        if (!this.socket.attachPipe(pipe, this)) {
          this.stats.rejected++;
          pipe.close();
        }
      },
      'sp-inproc-accept',
    );
  }

  /** @internal */
  handshakeFailed(pipe: Pipe, _error: SpError): void {
    this.stats.badHandshakes++;
    this.pipes.delete(pipe);
  }

  /** @internal */
  pipeRejected(pipe: Pipe): void {
    this.pipes.delete(pipe);
  }

  /** @internal */
  pipeAttached(pipe: Pipe): void {
    this.stats.attached++;
    this.pipes.add(pipe);
  }

  /** @internal */
  pipeClosed(pipe: Pipe): void {
    this.pipes.delete(pipe);
  }
}
