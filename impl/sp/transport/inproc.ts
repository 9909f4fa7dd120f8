/**
 * inproc://: two sockets of one world connected in memory, no bytes and no handshake (as mangos):
 * dialing checks the protocol pair (ErrBadProto), no listener is ErrConnRefused, a second listener
 * on a name is ErrAddrInUse. A message's header and body arrive concatenated in the receiver's body,
 * so protocols parse headers exactly as they do on tcp. Each direction holds at most one message
 * (like an unbuffered channel): the sender's pipe is ready again once the receiver took it.
 * Each message is traced as a msg-send on the sender's side and a msg-recv on the receiver's,
 * paired by a hand-off id (there is no connection whose bytes the trace could follow).
 */
import type { Env } from '../../runtime/env.js';
import { spError, type SpError, type SpErrorCode } from '../errors.js';
import { messageBytes, newMessage, type Message } from '../core/message.js';
import { pipeSession, type Pipe, type PipeEvents, type PipeState } from '../core/pipe.js';
import { protocolById } from '../wire/protocols.js';

export interface InprocEndpoint {
  env: Env;
  protocolId: number;
  peerProtocolId: number;
  /** Makes a pipe id and the pipe's event sink for a new connection on this side. */
  accept(makePipe: (id: number, events: PipeEvents) => InprocPipe): void;
}

type Registry = Map<string, InprocEndpoint>;

function registry(env: Env): Registry {
  return env.shared('sp/inproc', () => new Map<string, InprocEndpoint>());
}

/** The world's hand-off ids of traced inproc messages (unique within a trace, counting from 1). */
function handoffIds(env: Env): { next: number } {
  return env.shared('sp/inproc-handoffs', () => ({ next: 1 }));
}

export function inprocListen(env: Env, name: string, endpoint: InprocEndpoint): () => void {
  const reg = registry(env);
  if (reg.has(name)) throw spError('ErrAddrInUse', `inproc://${name} already has a listener`);
  reg.set(name, endpoint);
  return () => {
    if (reg.get(name) === endpoint) reg.delete(name);
  };
}

/**
 * Connects a dialing endpoint to the listener named `name`; returns the dialer's pipe (already
 * open) or throws ErrConnRefused / ErrBadProto. The listener's side is handed to its accept().
 */
export function inprocDial(
  env: Env,
  name: string,
  dialer: { protocolId: number; peerProtocolId: number },
  makeDialerPipe: (makePipe: (id: number, events: PipeEvents) => InprocPipe) => InprocPipe,
): InprocPipe {
  const listener = registry(env).get(name);
  if (listener === undefined) throw spError('ErrConnRefused', `nothing listens at inproc://${name}`);
  if (listener.protocolId !== dialer.peerProtocolId || listener.peerProtocolId !== dialer.protocolId) {
    throw spError(
      'ErrBadProto',
      `inproc://${name}: protocol ${listener.protocolId} cannot talk to ${dialer.protocolId}`,
    );
  }
  let listenerPipe: InprocPipe | undefined;
  const dialerPipe = makeDialerPipe(
    (id, events) =>
      new InprocPipe(env, id, events, `inproc://${name}`, listener.protocolId, dialer.protocolId),
  );
  listener.accept((id, events) => {
    listenerPipe = new InprocPipe(
      listener.env,
      id,
      events,
      `inproc://${name}`,
      dialer.protocolId,
      listener.protocolId,
    );
    return listenerPipe;
  });
  if (listenerPipe === undefined) throw spError('ErrConnRefused', `inproc://${name} refused the connection`);
  dialerPipe.peer = listenerPipe;
  listenerPipe.peer = dialerPipe;
  return dialerPipe;
}

export class InprocPipe implements Pipe {
  readonly transport = 'inproc' as const;
  peer: InprocPipe | undefined;
  private stateValue: PipeState = 'open';
  private paused = false;
  /** The message the peer sent us and we have not delivered yet (capacity one). */
  private incoming: Message | undefined;
  /** Its hand-off id in the trace (undefined when it was sent untraced). */
  private incomingHandoff: number | undefined;
  private deliverScheduled = false;
  closeReason: string | undefined;

  constructor(
    private readonly env: Env,
    readonly id: number,
    private readonly events: PipeEvents,
    readonly remoteAddress: string,
    readonly peerProtocol: number,
    /** This side's protocol id (names the messages in the trace). */
    private readonly ownProtocol: number,
  ) {}

  get localAddress(): string {
    return this.remoteAddress;
  }

  get state(): PipeState {
    return this.stateValue;
  }

  get ready(): boolean {
    return (
      this.stateValue === 'open' &&
      this.peer !== undefined &&
      this.peer.incoming === undefined &&
      this.peer.stateValue === 'open'
    );
  }

  send(msg: Message): boolean {
    if (!this.ready) return false;
    const peer = this.peer!;
    peer.incoming = newMessage(messageBytes(msg));
    peer.incomingHandoff = undefined;
    if (this.env.tracing) {
      const handoff = handoffIds(this.env).next++;
      peer.incomingHandoff = handoff;
      this.env.trace({
        kind: 'msg-send',
        proto: this.protoName(),
        msg: 'message',
        bytes: peer.incoming.body.length,
        fields: [],
        session: pipeSession(this.id),
        handoff,
      });
    }
    peer.scheduleDeliver();
    return true;
  }

  private protoName(): string {
    return protocolById(this.ownProtocol)?.name ?? `sp-${this.ownProtocol}`;
  }

  pauseRecv(): void {
    this.paused = true;
  }

  resumeRecv(): void {
    if (!this.paused) return;
    this.paused = false;
    this.scheduleDeliver();
  }

  close(): void {
    this.shutdown(undefined, undefined);
  }

  abort(code: SpErrorCode, reason: string): void {
    this.shutdown(spError(code, reason), undefined);
  }

  /** `reason`: why, when not our own call (the peer closed); with neither, a clean close of ours. */
  private shutdown(error: SpError | undefined, reason: string | undefined): void {
    if (this.stateValue === 'closed') return;
    this.stateValue = 'closed';
    // An SpError's message already starts with its code ("ErrGarbled: ...").
    this.closeReason = error !== undefined ? error.message : reason;
    this.incoming = undefined;
    this.env.setTimer(0, () => this.events.onClose(this, error), 'inproc-close');
    const peer = this.peer;
    if (peer !== undefined && peer.stateValue === 'open') peer.shutdown(undefined, 'peer closed');
  }

  private scheduleDeliver(): void {
    if (this.deliverScheduled) return;
    this.deliverScheduled = true;
    // Delivery is an event of its own: a send never runs the receiver's code inside the sender's call.
    this.env.setTimer(0, () => this.deliver(), 'inproc-deliver');
  }

  private deliver(): void {
    this.deliverScheduled = false;
    if (this.stateValue !== 'open' || this.paused || this.incoming === undefined) return;
    const msg = this.incoming;
    const handoff = this.incomingHandoff;
    this.incoming = undefined;
    this.incomingHandoff = undefined;
    if (this.env.tracing)
      this.env.trace({
        kind: 'msg-recv',
        proto: this.protoName(),
        msg: 'message',
        bytes: msg.body.length,
        fields: [],
        session: pipeSession(this.id),
        ...(handoff === undefined ? {} : { handoff }),
      });
    msg.pipe = this;
    this.events.onMessage(this, msg);
    const peer = this.peer;
    if (peer !== undefined && peer.stateValue === 'open') peer.events.onReady(peer);
  }
}
