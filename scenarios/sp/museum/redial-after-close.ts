/**
 * A dialer whose close does not stop its redial (jeromq#534: a socket's reconnect timer was not
 * cancelled when the socket closed, and fired after close): closing the socket only detaches the
 * dialer, so a pending redial fires, and a pipe the close tears down is redialed, after the close.
 * Planted through SocketOptions.dialerFactory with a Dialer subclass.
 */
import { Dialer, type Socket } from '../../../impl/sp/core/socket.js';
import type { OptionStore } from '../../../impl/sp/options.js';
import type { SpUrl } from '../../../impl/sp/transport/url.js';
import type { ImplVariant } from '../actors.js';

class RedialAfterCloseDialer extends Dialer {
  constructor(
    private readonly owner: Socket,
    url: SpUrl,
    overrides: OptionStore,
  ) {
    super(owner, url, overrides);
  }

  override close(): void {
    // The bug: the socket forgets the dialer, but its redial stays armed and it keeps dialing.
    this.owner.forget(this);
  }
}

export const REDIAL_AFTER_CLOSE: ImplVariant = {
  summary: 'jeromq#534: the reconnect timer is not cancelled on close (a closed socket keeps redialing)',
  family: 'redial',
  socket: () => ({
    socketOptions: {
      dialerFactory: (socket, url, overrides) => new RedialAfterCloseDialer(socket, url, overrides),
    },
  }),
};
