/**
 * One end of a simulated stream connection as code on its host sees it (the StreamConn of the
 * runtime seam): partial writes, reading paused by the application or stalled by a fault,
 * half-close, close with a timeout, reset, and delivery through the host's gate.
 */
import { assert } from '../../impl/runtime/assert.js';
import { NetError, type ConnHandlers, type ConnState, type StreamConn } from '../stream.js';
import type { Timer } from '../world.js';
import type { Conn } from './conn.js';
import { SALT_PARTIAL, SALT_PARTIAL_LEN } from './constants.js';
import type { Flow } from './flow.js';
import type { SimHost } from './host.js';

/** One end of a simulated connection, as code on its host sees it (internal to sim/net). */
export class End implements StreamConn {
  handlers: ConnHandlers = {};
  out!: Flow;
  in!: Flow;
  peer!: End;
  accepted: boolean;
  appPaused = false;
  stalled = false;
  writeShut = false;
  closingLocal = false;
  closed = false;
  endSignaled = false;
  wantWritable = false;
  private closeTimer: Timer | undefined;
  readonly inc: number;

  constructor(
    readonly conn: Conn,
    readonly host: SimHost,
    readonly localAddress: string,
    readonly remoteAddress: string,
    accepted: boolean,
  ) {
    this.inc = host.incarnation;
    this.accepted = accepted;
    host.ends.add(this);
  }

  get id(): number {
    return this.conn.id;
  }

  get state(): ConnState {
    return this.closed ? 'closed' : 'open';
  }

  setHandlers(handlers: ConnHandlers): void {
    this.handlers = handlers;
    // Bytes that arrived before handlers were set are delivered now that someone listens.
    if (this.in.recvQ.length > 0 || this.in.finArrived) this.scheduleDeliver();
  }

  write(bytes: Uint8Array): number {
    if (this.closed || this.conn.aborted)
      throw new NetError('ENOTCONN', `write on closed connection ${this.conn.id}`);
    if (this.writeShut)
      throw new NetError('EPIPE', `write after shutdown or close on connection ${this.conn.id}`);
    const flow = this.out;
    const offered = bytes.length;
    if (offered === 0) return 0;
    const free = flow.freeBytes();
    assert(free >= 0, 'the send buffer never holds more than its size');
    let accepted = Math.min(offered, Math.max(0, free));
    const net = this.conn.net;
    const pw = net.connConfig.partialWriteProbability;
    const writeIndex = flow.writeIndex++;
    let capped = false;
    if (pw > 0 && accepted > 0 && flow.fate.unit(writeIndex, SALT_PARTIAL) < pw) {
      // A cap in [0, offered]: even a 1-byte write is sometimes accepted whole, so writers progress.
      const cap = Math.floor(flow.fate.unit(writeIndex, SALT_PARTIAL_LEN) * (offered + 1));
      if (cap < accepted) {
        accepted = cap;
        capped = true;
        net.stats.partialWrites++;
      }
    }
    if (accepted > 0) {
      // Copy: the caller may reuse its buffer. (TypedArray#slice is several times slower than set.)
      const copy = new Uint8Array(accepted);
      copy.set(accepted === offered ? bytes : bytes.subarray(0, accepted));
      flow.sendQ.push(copy);
      flow.writtenBytes += accepted;
      flow.pump();
    }
    net.world.trace.write(this.host.label, this.conn.id, offered, accepted);
    if (accepted < offered && !this.conn.dead) {
      this.wantWritable = true;
      // Space is free (a cap leaves some) but the write was cut short on purpose: the writer may go on at once.
      if (capped) net.world.post(0, notifyIfWritable, this);
    }
    return accepted;
  }

  pauseReading(): void {
    this.appPaused = true;
  }

  resumeReading(): void {
    if (!this.appPaused) return;
    this.appPaused = false;
    this.scheduleDeliver();
  }

  /** @internal a fault stalls reading regardless of what the application asked. */
  setStalled(stalled: boolean): void {
    this.stalled = stalled;
    if (!stalled) this.scheduleDeliver();
  }

  shutdown(): void {
    if (this.closed || this.writeShut) return;
    this.writeShut = true;
    this.out.finQueued = true;
    this.out.assertConserved(); // the stream is produced to its end
    this.out.pump();
  }

  close(): void {
    if (this.closed || this.closingLocal) return;
    this.closingLocal = true;
    this.in.discardedBytes += this.in.recvQ.length;
    this.in.recvQ.clear();
    const trace = this.conn.net.world.trace;
    if (trace.enabled) trace.emit({ kind: 'close', host: this.host.name, conn: this.conn.id, side: 'local' });
    this.shutdown();
    // Defensive: shutdown() does not finish this end synchronously today (a give-up is a later
    // event), but a close timer must never be armed on a finished end.
    if (this.closed) return;
    // A peer that never closes its side would keep this end half-closed forever: bound it.
    this.closeTimer = this.conn.net.world.setTimer(
      this.conn.net.connConfig.closeTimeoutUs,
      () => {
        if (!this.closed) this.conn.abort(undefined, 'close timeout');
      },
      { host: this.host.name, label: 'close-timeout' },
    );
    this.maybeClosed();
  }

  reset(): void {
    if (this.closed) return;
    this.conn.abort(this, 'reset by application');
  }

  /** @internal delivery to the application, through the host gate (held while paused). */
  scheduleDeliver(): void {
    this.host.invoke(this.inc, deliverEnd, this);
  }

  /** @internal */
  deliver(): void {
    if (this.closed || !this.accepted) return;
    const flow = this.in;
    const trace = this.conn.net.world.trace;
    while (!this.appPaused && !this.stalled && !this.closed && flow.recvQ.length > 0) {
      const handlers = this.handlers;
      if (handlers.onData === undefined) break;
      const chunk = flow.recvQ.shiftChunk()!;
      flow.readBytes += chunk.length;
      trace.read(this.host.label, this.conn.id, chunk.length);
      handlers.onData(chunk);
    }
    if (this.closed) return;
    if (
      flow.recvQ.length === 0 &&
      flow.finArrived &&
      !this.endSignaled &&
      !this.closingLocal &&
      !this.stalled &&
      !this.appPaused
    ) {
      this.endSignaled = true;
      if (trace.enabled)
        trace.emit({ kind: 'close', host: this.host.name, conn: this.conn.id, side: 'half' });
      this.handlers.onEnd?.();
    }
    this.maybeClosed();
    if (flow.waitingWindow) flow.pump();
  }

  /** @internal clean close once both FINs are through and this side has seen the end. */
  maybeClosed(): void {
    if (this.closed) return;
    if (!(this.out.finArrived && this.in.finArrived && (this.endSignaled || this.closingLocal))) return;
    this.finish(undefined);
    if (this.peer.closed) this.conn.retire();
  }

  /** @internal */
  notifyWritable(): void {
    if (!this.wantWritable || this.closed) return;
    this.wantWritable = false;
    this.host.invoke(this.inc, callOnWritable, this);
  }

  /** @internal marks this end closed and tells its application (through the host gate). */
  finish(error: NetError | undefined): void {
    if (this.closed) return;
    this.closed = true;
    this.host.ends.delete(this);
    if (this.closeTimer !== undefined) this.conn.net.world.clearTimer(this.closeTimer);
    this.host.invoke(this.inc, () => this.handlers.onClose?.(error), undefined);
  }
}

function deliverEnd(end: End): void {
  end.deliver();
}

function callOnWritable(end: End): void {
  end.handlers.onWritable?.();
}

function notifyIfWritable(end: End): void {
  if (end.out.freeBytes() > 0) end.notifyWritable();
}
