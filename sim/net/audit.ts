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

/**
 * The network model's own rules, audited where segments move (O(1) each), for the engine's
 * self-check sim.link-model: a direction hands its receiver each segment no earlier than the
 * segment's own delays allow (the link free after the segments before it, its serialization, its
 * loss recovery, its latency: a segment overtaken by a later one arrives early), a receive buffer
 * never holds more than its size (the sender respects the window), and no segment is retransmitted
 * more often than the connection's bound before it arrives.
 */
export interface LinkAudit {
  /** Segments that reached the receiver (data and FIN). */
  segments: number;
  early: number;
  firstEarly: { conn: number; dir: string; atUs: number; dueUs: number } | null;
  overfull: number;
  firstOverfull: { conn: number; dir: string; atUs: number; bytes: number; capBytes: number } | null;
  overRetransmitted: number;
  firstOverRetransmitted: {
    conn: number;
    dir: string;
    atUs: number;
    retransmits: number;
    max: number;
  } | null;
  /**
   * Times a direction's traffic (a flow's next segment or FIN, a control packet) was held because
   * the network judged its path cut by a partition; `holds` lists the first LINK_AUDIT_MAX_HOLDS
   * of them, so a check can judge each against the fault plan (sim.partitions-respected).
   */
  heldTotal: number;
  holds: { from: string; to: string; atUs: number }[];
}

/** Most partition holds a link audit lists (a bound, as every buffer: 1 000; heldTotal counts all). */
export const LINK_AUDIT_MAX_HOLDS = 1_000;

/** Where the network's flows report what the link audit watches (one per network). */
export class LinkLedger {
  private readonly a: LinkAudit = {
    segments: 0,
    early: 0,
    firstEarly: null,
    overfull: 0,
    firstOverfull: null,
    overRetransmitted: 0,
    firstOverRetransmitted: null,
    heldTotal: 0,
    holds: [],
  };

  arrived(): void {
    this.a.segments++;
  }

  early(conn: number, dir: string, atUs: number, dueUs: number): void {
    this.a.early++;
    this.a.firstEarly ??= { conn, dir, atUs, dueUs };
  }

  overfull(conn: number, dir: string, atUs: number, bytes: number, capBytes: number): void {
    this.a.overfull++;
    this.a.firstOverfull ??= { conn, dir, atUs, bytes, capBytes };
  }

  overRetransmitted(conn: number, dir: string, atUs: number, retransmits: number, max: number): void {
    this.a.overRetransmitted++;
    this.a.firstOverRetransmitted ??= { conn, dir, atUs, retransmits, max };
  }

  held(from: string, to: string, atUs: number): void {
    this.a.heldTotal++;
    if (this.a.holds.length < LINK_AUDIT_MAX_HOLDS) this.a.holds.push({ from, to, atUs });
  }

  audit(): LinkAudit {
    const a = this.a;
    return {
      ...a,
      holds: a.holds.map((h) => ({ ...h })),
      firstEarly: a.firstEarly === null ? null : { ...a.firstEarly },
      firstOverfull: a.firstOverfull === null ? null : { ...a.firstOverfull },
      firstOverRetransmitted: a.firstOverRetransmitted === null ? null : { ...a.firstOverRetransmitted },
    };
  }
}

/** What broke in a link audit, in one line per rule; null when every rule held. */
export function linkAuditViolation(a: LinkAudit): string | null {
  const out: string[] = [];
  const times = (n: number): string => `${n} segment${n === 1 ? '' : 's'}`;
  if (a.firstEarly !== null)
    out.push(
      `${times(a.early)} reached the receiver before their own delays had passed; first on connection ` +
        `${a.firstEarly.conn} ${a.firstEarly.dir} at ${a.firstEarly.atUs} us, due no earlier than ${a.firstEarly.dueUs} us`,
    );
  if (a.firstOverfull !== null)
    out.push(
      `${times(a.overfull)} overfilled a receive buffer; first on connection ${a.firstOverfull.conn} ` +
        `${a.firstOverfull.dir} at ${a.firstOverfull.atUs} us: ${a.firstOverfull.bytes} B buffered, size ${a.firstOverfull.capBytes} B`,
    );
  if (a.firstOverRetransmitted !== null)
    out.push(
      `${times(a.overRetransmitted)} retransmitted beyond the bound; first on connection ` +
        `${a.firstOverRetransmitted.conn} ${a.firstOverRetransmitted.dir} at ${a.firstOverRetransmitted.atUs} us: ` +
        `${a.firstOverRetransmitted.retransmits} retransmissions, at most ${a.firstOverRetransmitted.max}`,
    );
  return out.length === 0 ? null : out.join('; ');
}
