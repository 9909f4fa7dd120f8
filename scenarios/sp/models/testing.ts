/**
 * Hand-written wire logs for the models' unit tests: a tiny builder that stamps times and adds the
 * step marker after each stimulus, as the tap does.
 */
import type { ModelOptions, RecvView, SendView, SocketRun } from './core.js';
import type { ConnWrites, WireEvent } from './tap.js';

/** A message body of `n` bytes whose first word is `tag` (as the workload's payloads). */
export function msg(tag: number, n = 8): Uint8Array {
  const b = new Uint8Array(n);
  b[0] = tag >>> 24;
  b[1] = (tag >>> 16) & 0xff;
  b[2] = (tag >>> 8) & 0xff;
  b[3] = tag & 0xff;
  return b;
}

export function word(w: number): Uint8Array {
  return msg(w, 4);
}

const EMPTY: Uint8Array = new Uint8Array(0);

export class LogBuilder {
  readonly events: WireEvent[] = [];
  readonly sends: SendView[] = [];
  readonly received: RecvView[] = [];
  readonly conns: ConnWrites[] = [];
  t = 0;
  at(t: number): this {
    this.t = t;
    return this;
  }
  private step(): void {
    this.events.push({ k: 'step', t: this.t });
  }
  attach(
    pipe: number,
    conn: number | null = null,
    local = `l${pipe}`,
    remote = `r${pipe}`,
    transport?: 'tcp' | 'ipc' | 'inproc',
  ): this {
    this.events.push({
      k: 'attach',
      t: this.t,
      pipe,
      conn,
      local,
      remote,
      ...(transport ? { transport } : {}),
    });
    return this;
  }
  /** What the transport took of connection `conn` (ConnWrites). */
  written(conn: number, writtenBytes: number, more: Partial<ConnWrites> = {}): this {
    this.conns.push({ conn, writtenBytes, closedAtBytes: null, brokenAtUs: null, ...more });
    return this;
  }
  detach(pipe: number): this {
    this.events.push({ k: 'detach', t: this.t, pipe });
    this.step();
    return this;
  }
  ready(pipe: number): this {
    this.events.push({ k: 'ready', t: this.t, pipe });
    return this;
  }
  /** A send; `then` records what the protocol did inside the call (outs), before its step marker. */
  send(
    body: Uint8Array,
    then?: (b: LogBuilder) => void,
    header = EMPTY,
    view: SendView = { mayVanish: false, goneAtUs: null },
    pipe?: number,
  ): this {
    this.events.push({ k: 'send', t: this.t, header, body, ...(pipe !== undefined ? { pipe } : {}) });
    this.sends.push(view);
    then?.(this);
    this.step();
    return this;
  }
  /** A send on context `ctx` (as the tap numbers contexts), with its workload index. */
  ctxSend(ctx: number, body: Uint8Array, index: number, then?: (b: LogBuilder) => void): this {
    this.events.push({ k: 'send', t: this.t, header: EMPTY, body, ctx });
    this.sends.push({ mayVanish: false, goneAtUs: null, index });
    then?.(this);
    this.step();
    return this;
  }
  ctxClose(ctx: number): this {
    this.events.push({ k: 'ctx-close', t: this.t, ctx });
    this.step();
    return this;
  }
  out(pipe: number, body: Uint8Array, readyAfter = false, header = EMPTY): this {
    this.events.push({ k: 'out', t: this.t, pipe, header, body, readyAfter });
    return this;
  }
  /** A pipe ready stimulus (onReady) with what the protocol sent inside it. */
  readyStep(pipe: number, then?: (b: LogBuilder) => void): this {
    this.ready(pipe);
    then?.(this);
    this.step();
    return this;
  }
  in(pipe: number, body: Uint8Array, then?: (b: LogBuilder) => void): this {
    this.events.push({ k: 'in', t: this.t, pipe, header: EMPTY, body });
    then?.(this);
    this.step();
    return this;
  }
  subscribe(topic: Uint8Array, un = false): this {
    this.events.push({ k: un ? 'unsubscribe' : 'subscribe', t: this.t, topic });
    this.step();
    return this;
  }
  close(): this {
    this.events.push({ k: 'close', t: this.t });
    this.step();
    return this;
  }
  recv(body: Uint8Array, pipe: number | null, extra: Partial<RecvView> = {}): this {
    this.received.push({ atUs: this.t, body, pipe, ...extra });
    return this;
  }
  run(
    protocol: string,
    o: { app?: SocketRun['app']['kind']; options?: Partial<ModelOptions>; ranToEnd?: boolean } = {},
  ): SocketRun {
    return {
      name: 's',
      protocol,
      app: { kind: o.app ?? 'send' },
      events: this.events,
      conns: this.conns,
      firstSend: 0,
      sends: this.sends,
      received: this.received,
      options: {
        writeQ: 4,
        readQ: 4,
        bestEffort: false,
        ttl: 8,
        polyamorous: false,
        retryUs: 60_000_000,
        ...o.options,
      },
      ranToEnd: o.ranToEnd ?? true,
    };
  }
}
