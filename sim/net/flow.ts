/**
 * One direction of a simulated stream connection: the sender's buffer, segments in flight (size,
 * loss as retransmission delay, latency, jitter, bandwidth, head-of-line blocking) and the
 * receiver's buffer and window. Every draw is keyed by the connection, direction and segment index.
 */
import { assert } from '../../impl/runtime/assert.js';
import { ByteQueue } from '../byte-queue.js';
import { DEFAULT_LINK, drawLatencyUs, drawSize, type LinkConfig } from '../net-config.js';
import type { KeyedStream } from '../rng.js';
import { HashLabel } from '../trace.js';
import type { Conn } from './conn.js';
import { SALT_BUFFERS, SALT_JITTER, SALT_LATENCY, SALT_LOSS, SALT_SIZE } from './constants.js';
import type { End } from './end.js';

/** The FIN marker among a flow's in-flight payloads (a zero-length segment that ends the stream). */
const FIN = new Uint8Array(0);

function arriveSegment(flow: Flow): void {
  flow.arrive();
}

/** One direction of a connection: sender's buffer, bytes in flight, receiver's buffer (internal to sim/net). */
export class Flow {
  readonly sendQ = new ByteQueue();
  readonly recvQ = new ByteQueue();
  /** Payloads on the wire, oldest first (FIN marks the end of the stream). */
  private readonly inFlight: Uint8Array[] = [];
  /** The link audit's earliest arrival of each in-flight payload, by the same index (virtual µs). */
  private readonly dueUs: number[] = [];
  private inFlightHead = 0;
  private inFlightTail = 0;
  inFlightBytes = 0;
  readonly sendCapBytes: number;
  readonly recvCapBytes: number;
  private segIndex = 0;
  writeIndex = 0;
  private lastArrivalUs = 0;
  private busyUntilUs = 0;
  /** The link audit's own account of when the link is free (kept apart from busyUntilUs). */
  private auditFreeUs = 0;
  /** Bytes that reached the receiver's buffer (also the trace's offset of the next chunk). */
  receivedBytes = 0;
  /** Bytes write() accepted into the send buffer. */
  writtenBytes = 0;
  /** Bytes that arrived after the receiver closed its end: discarded, as a closed socket's kernel does. */
  droppedBytes = 0;
  /** Bytes lost with the connection: given up after maxRetransmits, or unsent or in flight at a reset. */
  lostBytes = 0;
  /** Bytes the receiving application was handed (onData). */
  readBytes = 0;
  /** Bytes that reached the receiver's buffer but were thrown away unread: its end closed, or a reset. */
  discardedBytes = 0;
  finQueued = false;
  private finSent = false;
  finArrived = false;
  waitingWindow = false;
  readonly fate: KeyedStream;
  readonly dirLabel: HashLabel;
  private link: LinkConfig = DEFAULT_LINK;
  private linkVersion = -1;

  constructor(
    readonly conn: Conn,
    readonly from: End,
    readonly to: End,
    readonly dir: string,
  ) {
    this.fate = conn.net.rng.keyed(`conn:${conn.name}/dir:${dir}`);
    this.dirLabel = new HashLabel(dir);
    const cfg = conn.net.connConfig;
    this.sendCapBytes = drawSize(cfg.sendBufferBytes, this.fate, SALT_BUFFERS);
    this.recvCapBytes = drawSize(cfg.recvBufferBytes, this.fate, SALT_BUFFERS + 1);
  }

  /**
   * Bytes are conserved in each direction: every byte written is still queued, in flight, in the
   * receiver's buffer or read, dropped at a closed receiver, or lost with the connection. Asserted
   * where the stream ends, as produced (shutdown) and as consumed (its FIN arrives, or a reset).
   * Per write and per segment only O(1) bounds are asserted (the send buffer within its size, no
   * more bytes arriving than were sent): the whole sum there costs the net benchmark several percent,
   * as its bytecode crowds the inlining of the delivery path.
   */
  assertConserved(): void {
    assert(
      this.writtenBytes ===
        this.sendQ.length + this.inFlightBytes + this.receivedBytes + this.droppedBytes + this.lostBytes,
      'stream bytes are conserved per direction (written = queued + in flight + delivered + dropped + lost)',
    );
  }

  /** Free space in the send buffer (unsent plus unacknowledged bytes count against it). */
  freeBytes(): number {
    return this.sendCapBytes - this.sendQ.length - this.inFlightBytes;
  }

  /** Moves queued bytes onto the wire as far as the receive window and partitions allow. */
  pump(): void {
    const conn = this.conn;
    if (conn.dead) return;
    const net = conn.net;
    const cfg = net.connConfig;
    while (this.sendQ.length > 0) {
      if (net.blocked(this.from.host.name, this.to.host.name)) {
        net.blockedFlows.add(this);
        net.linkLedger.held(this.from.host.name, this.to.host.name, net.world.nowUs);
        return;
      }
      const window = this.recvCapBytes - this.inFlightBytes - this.recvQ.length;
      if (window <= 0) {
        this.waitingWindow = true;
        return;
      }
      this.waitingWindow = false;
      const seg = cfg.randomChunking
        ? 1 + Math.floor(this.fate.unit(this.segIndex, SALT_SIZE) * cfg.mssBytes)
        : cfg.mssBytes;
      this.transmit(this.sendQ.take(Math.min(this.sendQ.length, window, seg)), false);
      if (conn.dead) return; // the transmission exhausted its retransmissions
    }
    if (this.finQueued && !this.finSent) {
      if (net.blocked(this.from.host.name, this.to.host.name)) {
        net.blockedFlows.add(this);
        net.linkLedger.held(this.from.host.name, this.to.host.name, net.world.nowUs);
        return;
      }
      this.finSent = true;
      this.transmit(new Uint8Array(0), true);
    }
  }

  private transmit(bytes: Uint8Array, fin: boolean): void {
    const net = this.conn.net;
    const cfg = net.connConfig;
    const world = net.world;
    if (this.linkVersion !== net.linkVersion) {
      this.link = net.linkConfig(this.from.host.name, this.to.host.name);
      this.linkVersion = net.linkVersion;
    }
    const link = this.link;
    const idx = this.segIndex++;
    const nowUs = world.nowUs;
    const departUs = Math.max(nowUs, this.busyUntilUs);
    const serializationUs =
      link.bandwidthBytesPerSec > 0 ? (bytes.length * 1e6) / link.bandwidthBytesPerSec : 0;
    this.busyUntilUs = departUs + serializationUs;
    let retransmits = 0;
    let lossDelayUs = 0;
    if (link.lossRate > 0) {
      let rto = cfg.rtoInitialUs;
      while (this.fate.unit(idx, SALT_LOSS + retransmits) < link.lossRate) {
        if (retransmits >= cfg.maxRetransmits) {
          // Too many consecutive losses: the sender gives up when its last retransmission times out.
          world.post(
            Math.ceil(departUs + lossDelayUs + rto - nowUs),
            () => this.conn.abort(undefined, 'retransmission timeout', false, this.from),
            undefined,
          );
          this.conn.dead = true;
          this.lostBytes += bytes.length; // taken from the send buffer, never to arrive
          return;
        }
        lossDelayUs += rto;
        rto = Math.min(rto * 2, cfg.rtoMaxUs);
        retransmits++;
      }
      if (retransmits > cfg.maxRetransmits)
        net.linkLedger.overRetransmitted(this.conn.id, this.dir, nowUs, retransmits, cfg.maxRetransmits);
    }
    let latencyUs = drawLatencyUs(link.latency, this.fate, idx, SALT_LATENCY);
    if (link.jitterUs > 0) latencyUs += this.fate.unit(idx, SALT_JITTER) * link.jitterUs;
    let arrivalUs = Math.ceil(departUs + serializationUs + lossDelayUs + latencyUs);
    // TCP delivers in order: a segment stuck in retransmission holds back everything behind it.
    if (arrivalUs < this.lastArrivalUs) arrivalUs = this.lastArrivalUs;
    this.lastArrivalUs = arrivalUs;
    // The audit's due time: after the segment's own departure (the link free of the segments before
    // it), serialization, loss recovery and latency; the in-order hold above may only add to it.
    const auditDepartUs = Math.max(nowUs, this.auditFreeUs);
    this.auditFreeUs = auditDepartUs + serializationUs;
    this.dueUs[this.inFlightTail] = Math.ceil(auditDepartUs + serializationUs + lossDelayUs + latencyUs);
    this.inFlightBytes += bytes.length;
    net.stats.segments++;
    if (retransmits > 0) {
      net.stats.retransmissions += retransmits;
      if (world.trace.enabled) {
        net.emit({
          kind: 'loss',
          host: this.from.host.name,
          conn: this.conn.id,
          dir: this.dir,
          bytes: bytes.length,
          retransmits,
          delayUs: lossDelayUs,
        });
      }
    }
    // A flow's segments arrive in the order they were sent (arrival times never decrease and ties
    // keep insertion order), so the payloads wait in a FIFO and the event carries only the flow.
    this.inFlight[this.inFlightTail++] = fin ? FIN : bytes;
    world.postAt(arrivalUs, arriveSegment, this);
  }

  /** @internal the oldest in-flight segment reached the receiver's host. */
  arrive(): void {
    const conn = this.conn;
    if (conn.dead) return;
    const bytes = this.inFlight[this.inFlightHead]!;
    const nowUs = conn.net.world.nowUs;
    const ledger = conn.net.linkLedger;
    ledger.arrived();
    const dueUs = this.dueUs[this.inFlightHead]!;
    if (nowUs < dueUs) ledger.early(conn.id, this.dir, nowUs, dueUs);
    this.inFlight[this.inFlightHead++] = FIN; // drop the reference
    if (this.inFlightHead === this.inFlightTail) {
      // Empty: start over at the front (keeping the array's storage, which truncating would free).
      this.inFlightHead = 0;
      this.inFlightTail = 0;
    } else if (this.inFlightHead > 1024 && this.inFlightHead * 2 > this.inFlightTail) {
      this.inFlight.copyWithin(0, this.inFlightHead, this.inFlightTail);
      this.dueUs.copyWithin(0, this.inFlightHead, this.inFlightTail);
      this.inFlightTail -= this.inFlightHead;
      this.inFlightHead = 0;
    }
    const fin = bytes === FIN;
    const n = bytes.length;
    this.inFlightBytes -= n;
    assert(this.inFlightBytes >= 0, 'no more bytes arrive than were sent');
    const receiver = this.to;
    if (fin) {
      this.finArrived = true;
      this.assertConserved(); // the stream is consumed to its end
    } else if (!receiver.closingLocal) {
      this.recvQ.push(bytes);
      if (this.recvQ.length > this.recvCapBytes)
        ledger.overfull(conn.id, this.dir, nowUs, this.recvQ.length, this.recvCapBytes);
      conn.net.world.trace.chunk(receiver.host.label, conn.id, this.dirLabel, n, this.receivedBytes);
      this.receivedBytes += n;
      conn.net.stats.bytesDelivered += n;
    } else {
      this.droppedBytes += n;
    }
    receiver.scheduleDeliver();
    const sender = this.from;
    if (fin) sender.maybeClosed();
    if (sender.wantWritable && this.freeBytes() > 0) sender.notifyWritable();
  }
}
