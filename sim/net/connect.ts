/** connect(): the three-way handshake over the simulated network (SYN, SYN-ACK, ACK) with its timeout. */
import type { KeyedStream } from '../rng.js';
import { formatAddress, NetError, type StreamAddress, type StreamConn } from '../stream.js';
import type { Timer } from '../world.js';
import { Conn } from './conn.js';
import type { SimHost } from './host.js';
import type { SimListener } from './listener.js';
import type { Network } from './network.js';

/** The three-way handshake of one connect() call, with its timeout (internal to sim/net). */
export class ConnectAttempt {
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
    if (this.client.incarnation !== this.inc) return; // (a crash starts a new incarnation)
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
