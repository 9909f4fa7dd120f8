/** A simulated stream connection: its two ends, the two flows between them, accept, abortive close (reset) and retirement. */
import { NetError, type StreamAddress } from '../stream.js';
import { End } from './end.js';
import { Flow } from './flow.js';
import type { SimHost } from './host.js';
import type { SimListener } from './listener.js';
import type { Network } from './network.js';

export interface ConnInfo {
  id: number;
  name: string;
  clientHost: string;
  serverHost: string;
  clientAddress: string;
  serverAddress: string;
}

/** A connection: two ends and the two flows between them (internal to sim/net). */
export class Conn {
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
      f.lostBytes += f.sendQ.length + f.inFlightBytes;
      f.discardedBytes += f.recvQ.length;
      f.sendQ.clear();
      f.recvQ.clear();
      f.inFlightBytes = 0;
      this.net.blockedFlows.delete(f);
      f.assertConserved();
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
    // Its accounts are final now (nothing moves on a retired connection): settle them.
    this.net.ledger.settle(this.client.out);
    this.net.ledger.settle(this.server.out);
  }
}
