/**
 * What dialers and listeners share: the options they may override, their counters, and the wiring
 * of a new pipe (stream or inproc) to the socket's attach, receive, ready and detach paths.
 */
import type { StreamConn } from '../../runtime/env.js';
import type { OptionName } from '../options.js';
import type { Dialer } from './dialer.js';
import type { Listener } from './listener.js';
import { pipeIds } from './pipe-ids.js';
import { StreamPipe, type PipeEvents } from './pipe.js';
import type { Socket } from './socket.js';

/** Options a dialer or listener may override for its own pipes. */
export const ENDPOINT_OPTIONS: readonly OptionName[] = [
  'MAX-RCV-SIZE',
  'RECONNECT-TIME',
  'MAX-RECONNECT-TIME',
  'HANDSHAKE-TIMEOUT',
  'DIAL-ASYNCH',
];

export interface EndpointStats {
  /** Connections accepted or established at the transport level. */
  connections: number;
  /** Pipes that completed the handshake and were attached. */
  attached: number;
  /** Connections closed because their handshake was bad, silent or too slow. */
  badHandshakes: number;
  /** Pipes refused after the handshake (by the protocol or the pipe hook). */
  rejected: number;
  /** Pipes closed because a frame was too long or garbled. */
  badFrames: number;
}

export function newStats(): EndpointStats {
  return { connections: 0, attached: 0, badHandshakes: 0, rejected: 0, badFrames: 0 };
}

/** Builds the pipe for a new stream connection and wires its events to the socket. */
export function startStreamPipe(
  socket: Socket,
  owner: Dialer | Listener,
  conn: StreamConn,
  transport: 'tcp' | 'ipc',
): StreamPipe {
  const ids = pipeIds(socket.env);
  const id = ids.allocate();
  const events: PipeEvents = {
    onHandshake: (pipe, error) => {
      if (error !== undefined) {
        ids.release(pipe.id);
        owner.handshakeFailed(pipe, error);
        return;
      }
      if (!socket.attachPipe(pipe, owner)) {
        owner.stats.rejected++;
        pipe.close();
        owner.pipeRejected(pipe);
      }
    },
    onMessage: (pipe, msg) => socket.protocol.pipeMessage(pipe, msg),
    onReady: (pipe) => {
      socket.pipeReady(pipe);
      socket.pipeDrained();
    },
    onClose: (pipe, error) => {
      ids.release(pipe.id);
      if (
        error !== undefined &&
        (error.code === 'ErrTooLong' || error.code === 'ErrBadHeader' || error.code === 'ErrGarbled')
      ) {
        owner.stats.badFrames++;
      }
      const wasAttached = socket.pipes.has(pipe.id);
      socket.detachPipe(pipe);
      if (wasAttached) owner.pipeClosed(pipe);
    },
  };
  const pipe = new StreamPipe(
    socket.env,
    socket.wrapConnection?.(conn) ?? conn,
    id,
    {
      transport,
      ownProtocol: socket.protocol.info.id,
      peerProtocol: socket.protocol.info.peerId,
      maxRecvBytes: owner.option('MAX-RCV-SIZE'),
      handshakeTimeoutUs: owner.option('HANDSHAKE-TIMEOUT'),
      protocolName: socket.protocol.info.name,
      ...(socket.allocator === undefined ? {} : { allocator: socket.allocator }),
      ...(socket.frameDecoder === undefined ? {} : { frameDecoder: socket.frameDecoder }),
    },
    events,
  );
  pipe.start();
  return pipe;
}

export function inprocEvents(
  socket: Socket,
  owner: Dialer | Listener,
  release: (id: number) => void,
): PipeEvents {
  return {
    onHandshake: () => undefined,
    onMessage: (pipe, msg) => socket.protocol.pipeMessage(pipe, msg),
    onReady: (pipe) => {
      socket.pipeReady(pipe);
      socket.pipeDrained();
    },
    onClose: (pipe) => {
      release(pipe.id);
      const wasAttached = socket.pipes.has(pipe.id);
      socket.detachPipe(pipe);
      if (wasAttached) owner.pipeClosed(pipe);
    },
  };
}
