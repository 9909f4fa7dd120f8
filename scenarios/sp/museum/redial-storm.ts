/**
 * nng 1.5.2 resets the redial backoff on every transport connect (nni_dialer_add_pipe), before the
 * protocol's peer check, so a wrong-protocol peer is redialed at the minimum interval forever.
 */
import { MANGOS_BACKOFF } from '../../../impl/sp/core/socket.js';
import type { ImplVariant } from '../actors.js';

export const REDIAL_STORM: ImplVariant = {
  summary:
    'nng 1.5.2 socket.c: redial backoff reset on TCP connect, before the protocol check (storms a wrong-protocol peer)',
  family: 'redial',
  socket: () => ({ socketOptions: { backoff: { ...MANGOS_BACKOFF, resetOn: 'connect' } } }),
};
