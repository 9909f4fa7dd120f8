/** A listening socket on a simulated host: its address, the host incarnation it belongs to, its accept callback. */
import type { StreamConn, StreamListener } from '../stream.js';
import type { SimHost } from './host.js';

/** Internal to sim/net. */
export class SimListener implements StreamListener {
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
