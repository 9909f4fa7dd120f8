/**
 * Contexts: independent request state on one socket (mangos OpenContext, nng_ctx), with their own
 * deadlines, RETRY-TIME and SURVEY-TIME. The protocol owns what a context holds.
 */
import { spError } from '../errors.js';
import { OptionStore, type OptionValues } from '../options.js';
import { newMessage, type Message } from './message.js';
import type { Socket } from './socket.js';

/** Options a context may set for itself (mangos and nng allow these per context). */
export type ContextOptionName = 'RECV-DEADLINE' | 'SEND-DEADLINE' | 'RETRY-TIME' | 'SURVEY-TIME';

/**
 * A context: independent request state on one socket (mangos OpenContext, nng_ctx). The socket's
 * own send/recv use its default context.
 */
export class Context {
  closed = false;
  /** Per-context protocol state (the protocol owns its shape). */
  state: unknown = undefined;
  private readonly ownOptions = new Map<string, unknown>();

  constructor(readonly socket: Socket) {}

  send(body: Uint8Array): Promise<void> {
    return this.sendMsg(newMessage(body));
  }

  sendMsg(msg: Message): Promise<void> {
    if (this.closed || this.socket.closed)
      return this.socket.failed(spError('ErrClosed', 'send on a closed context'));
    return this.socket.protocol.sendMsg!(this, msg);
  }

  recv(): Promise<Uint8Array> {
    return this.recvMsg().then((m) => m.body);
  }

  recvMsg(): Promise<Message> {
    if (this.closed || this.socket.closed)
      return this.socket.failed(spError('ErrClosed', 'recv on a closed context'));
    return this.socket.protocol.recvMsg!(this);
  }

  /** Context-level deadlines, RETRY-TIME and SURVEY-TIME override the socket's. */
  setOption(name: ContextOptionName, value: unknown): void {
    if (this.closed) throw spError('ErrClosed', 'setOption on a closed context');
    const checked = new OptionStore({}, [name]);
    checked.set(name, value);
    this.ownOptions.set(name, checked.get(name));
  }

  option<N extends ContextOptionName>(name: N): OptionValues[N] {
    return (
      this.ownOptions.has(name) ? this.ownOptions.get(name) : this.socket.getOption(name)
    ) as OptionValues[N];
  }

  close(): void {
    if (this.closed) throw spError('ErrClosed', 'context already closed');
    this.closed = true;
    this.socket.protocol.closeContext?.(this);
  }
}
