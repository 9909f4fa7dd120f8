/**
 * The network's byte accounts, for the engine's self-check sim.bytes-conserved: per connection and
 * direction, the bytes writes accepted must equal the bytes the reader was handed, plus the bytes
 * still buffered (send buffer, in flight, receive buffer), plus the bytes destroyed (lost to a reset
 * or a retransmission timeout, dropped on arrival at a closed end, discarded unread at a close or a
 * reset). The counters are kept where the bytes move (O(1) per write, segment and chunk); a
 * connection's accounts are settled when it retires (nothing moves on it after that), the live ones
 * when the audit is asked for, so the ledger holds only discrepancies, never the connections.
 */
import type { Flow } from './flow.js';

/** One direction of one connection, in bytes. */
export interface FlowAccount {
  /** Connection id (the trace's `conn`) and name (client host, target address, count). */
  conn: number;
  name: string;
  /** The direction, "c>s" or "s>c", and the writing and reading hosts. */
  dir: string;
  from: string;
  to: string;
  /** Bytes the writer's write() calls accepted. */
  accepted: number;
  /** Bytes handed to the reading application. */
  read: number;
  /** Still buffered: unsent in the send buffer, in flight, unread in the receive buffer. */
  sendBuffered: number;
  inFlight: number;
  recvBuffered: number;
  /** Destroyed: lost with the connection, dropped at a closed receiver, discarded unread. */
  lost: number;
  dropped: number;
  discarded: number;
}

/** The byte counts of a FlowAccount, summed over directions. */
export type ByteTotals = Pick<
  FlowAccount,
  'accepted' | 'read' | 'sendBuffered' | 'inFlight' | 'recvBuffered' | 'lost' | 'dropped' | 'discarded'
>;

/** What the audit found: how many directions it checked, their totals, and those that do not add up. */
export interface ByteAudit {
  /** Connection directions audited (every connection the network opened, both directions). */
  flows: number;
  /** Every audited direction's counts, summed. */
  totals: ByteTotals;
  /** Directions whose accounts do not add up (all of them: violations.length is their count). */
  violations: FlowAccount[];
}

function zeroTotals(): ByteTotals {
  return {
    accepted: 0,
    read: 0,
    sendBuffered: 0,
    inFlight: 0,
    recvBuffered: 0,
    lost: 0,
    dropped: 0,
    discarded: 0,
  };
}

function addTo(t: ByteTotals, f: Flow): void {
  t.accepted += f.writtenBytes;
  t.read += f.readBytes;
  t.sendBuffered += f.sendQ.length;
  t.inFlight += f.inFlightBytes;
  t.recvBuffered += f.recvQ.length;
  t.lost += f.lostBytes;
  t.dropped += f.droppedBytes;
  t.discarded += f.discardedBytes;
}

export function accountOf(flow: Flow): FlowAccount {
  return {
    conn: flow.conn.id,
    name: flow.conn.name,
    dir: flow.dir,
    from: flow.from.host.name,
    to: flow.to.host.name,
    accepted: flow.writtenBytes,
    read: flow.readBytes,
    sendBuffered: flow.sendQ.length,
    inFlight: flow.inFlightBytes,
    recvBuffered: flow.recvQ.length,
    lost: flow.lostBytes,
    dropped: flow.droppedBytes,
    discarded: flow.discardedBytes,
  };
}

/** Accepted bytes minus every byte accounted for: 0 when the direction adds up. */
export function unaccountedBytes(a: FlowAccount): number {
  return (
    a.accepted - (a.read + a.sendBuffered + a.inFlight + a.recvBuffered + a.lost + a.dropped + a.discarded)
  );
}

/** One line naming the connection, the direction and every count. */
export function describeAccount(a: FlowAccount): string {
  const gap = unaccountedBytes(a);
  const buffered = a.sendBuffered + a.inFlight + a.recvBuffered;
  const destroyed = a.lost + a.dropped + a.discarded;
  return (
    `connection ${a.conn} (${a.name}) ${a.dir}, ${a.from} to ${a.to}: accepted ${a.accepted} B, ` +
    `read ${a.read} + buffered ${buffered} (send ${a.sendBuffered}, in flight ${a.inFlight}, ` +
    `receive ${a.recvBuffered}) + destroyed ${destroyed} (lost ${a.lost}, dropped ${a.dropped}, ` +
    `discarded ${a.discarded}) = ${a.accepted - gap} B: ${Math.abs(gap)} B ${gap > 0 ? 'missing' : 'too many'}`
  );
}

/** The network's ledger: settled connections' discrepancies, and a count of directions audited. */
export class ByteLedger {
  private settled = 0;
  private readonly totals = zeroTotals();
  private readonly violations: FlowAccount[] = [];

  /** Audits one direction whose accounts are final (its connection retired). */
  settle(flow: Flow): void {
    this.settled++;
    addTo(this.totals, flow);
    this.check(flow, this.violations);
  }

  /** The audit: the settled directions, plus the live ones it is given. */
  audit(live: Iterable<Flow>): ByteAudit {
    const violations = [...this.violations];
    const totals = { ...this.totals };
    let flows = this.settled;
    for (const f of live) {
      flows++;
      addTo(totals, f);
      this.check(f, violations);
    }
    return { flows, totals, violations };
  }

  private check(flow: Flow, into: FlowAccount[]): void {
    // The sum first, without building the account: the common case allocates nothing.
    if (
      flow.writtenBytes ===
      flow.readBytes +
        flow.sendQ.length +
        flow.inFlightBytes +
        flow.recvQ.length +
        flow.lostBytes +
        flow.droppedBytes +
        flow.discardedBytes
    )
      return;
    into.push(accountOf(flow));
  }
}
