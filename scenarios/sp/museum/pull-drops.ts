/**
 * museum/pull-drops — a PULL whose full receive queue drops new messages instead of pausing the
 * pipe: the "drop like UDP" habit of PUB/SUB (mangos-v1#186, nanomsg#390) applied where it does not
 * belong. PUSH/PULL promises delivery: a full PULL must stop reading so TCP's window pushes back to
 * the pusher (sp.md §3; nng and mangos PULL both block the pipe's reader).
 *
 * Composed from the real PULL through its opener's protocol factory: a Pull0 subclass whose
 * pipeMessage drops (and counts) a message that finds the queue at READQ-LEN, and never leaves the
 * pipe paused, so the transport keeps reading and the pusher never feels the backpressure.
 */
import type { Message } from '../../../impl/sp/core/message.js';
import type { Pipe } from '../../../impl/sp/core/pipe.js';
import type { Socket } from '../../../impl/sp/core/socket.js';
import { openPull0, Pull0 } from '../../../impl/sp/protocol/pipeline.js';
import type { ImplVariant } from '../actors.js';

class DroppingPull0 extends Pull0 {
  override pipeMessage(pipe: Pipe, msg: Message): void {
    if (this.socket.recvQ.length >= Math.max(this.socket.getOption('READQ-LEN'), 1)) {
      this.stats.dropped++; // the queue is full: the message is gone
      return;
    }
    super.pipeMessage(pipe, msg);
    pipe.resumeRecv(); // never hold the transport back
  }
}

export const PULL_DROPS: ImplVariant = {
  summary:
    'PULL drops new messages when its receive queue is full instead of pausing the pipe (no backpressure)',
  family: 'model',
  socket: (spec) =>
    spec.protocol === 'pull0'
      ? { open: (env, options) => openPull0(env, options, (s: Socket) => new DroppingPull0(s)) }
      : undefined,
};
