/**
 * museum/max-rcv-size-off-by-one — the receive limit applied one byte short: a message of exactly
 * MAX-RCV-SIZE bytes is refused. The classic off-by-one at a size limit, for which mangos keeps a
 * test of its own (internal/test/maxrx.go: a message at exactly the limit must pass, one byte more
 * must not; sp.md §1). Here the socket stores the limit one lower than the value set, so the limit
 * the application asked for is neither the one in effect nor the one it reads back.
 *
 * Composed from the real socket: its opener is the protocol's own, and setOption of MAX-RCV-SIZE
 * (above 0: 0 means no limit) passes value − 1 on.
 */
import type { Socket } from '../../../impl/sp/core/socket.js';
import { OPENERS, type ImplVariant } from '../actors.js';

export const MAX_RCV_SIZE_OFF_BY_ONE: ImplVariant = {
  summary: 'MAX-RCV-SIZE applied one byte short: a message of exactly the limit is refused',
  family: 'options',
  socket: (spec) => ({
    open: (env, options): Socket => {
      const s = OPENERS[spec.protocol](env, options);
      const setOption = s.setOption.bind(s);
      s.setOption = (name: string, value: unknown): void =>
        setOption(
          name,
          name === 'MAX-RCV-SIZE' && typeof value === 'number' && value > 0 ? value - 1 : value,
        );
      return s;
    },
  }),
};
