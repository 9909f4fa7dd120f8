/**
 * Device: forwards messages between two raw sockets (both directions) until either closes, as
 * mangos.Device and nng_device do. Cooked sockets are ErrNotRaw; sockets that are not each other's
 * peers are ErrBadProto; a single socket is a loopback (it must be its own peer protocol, e.g. bus
 * or pair).
 */
import { spError } from '../errors.js';
import type { Socket } from './socket.js';

export interface DeviceHandle {
  /** Settles when forwarding stops (a socket closed or failed). */
  readonly done: Promise<void>;
}

async function forward(from: Socket, to: Socket): Promise<void> {
  for (;;) {
    let msg;
    try {
      msg = await from.recvMsg();
    } catch {
      return;
    }
    try {
      await to.sendMsg({ header: msg.header, body: msg.body });
    } catch {
      return;
    }
  }
}

export function device(s1: Socket, s2?: Socket): DeviceHandle {
  for (const s of [s1, s2]) {
    if (s !== undefined && !s.getOption('RAW')) {
      throw spError('ErrNotRaw', `device needs raw sockets; ${s.protocol.info.name} is cooked`);
    }
  }
  if (s2 === undefined) {
    if (s1.protocol.info.peerId !== s1.protocol.info.id) {
      throw spError(
        'ErrBadProto',
        `a loopback device needs a socket that is its own peer; ${s1.protocol.info.name} is not`,
      );
    }
    return { done: forward(s1, s1) };
  }
  if (s1.protocol.info.peerId !== s2.protocol.info.id || s2.protocol.info.peerId !== s1.protocol.info.id) {
    throw spError('ErrBadProto', `${s1.protocol.info.name} and ${s2.protocol.info.name} are not peers`);
  }
  const a = forward(s1, s2);
  const b = forward(s2, s1);
  return { done: Promise.all([a, b]).then(() => undefined) };
}
