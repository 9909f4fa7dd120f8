/**
 * The simulated network: hosts with addresses, listeners, and TCP-like stream connections whose two
 * directions are modeled separately (latency models, jitter, bandwidth, a finite send buffer that
 * makes writes partial, a receive window that closes when the reader stalls, random segmentation,
 * loss as retransmission delay with exponential RTO backoff and head-of-line blocking, resets,
 * half-close), plus partitions and host pause / crash / restart. Each host exposes an `env` that
 * implements the runtime seam (impl/runtime/env.ts), so protocol code runs on it unchanged.
 *
 * Locality of randomness: every draw that shapes a connection's traffic is keyed by the connection's
 * name (client host, target address, and how many connections that pair opened before), its
 * direction, and the segment or write index, so changing the traffic of one connection never changes
 * the fate of another. The model and its knobs are described in sim/README.md.
 *
 * This file is the public entry; the rooms are in sim/net/:
 * - network.ts   the registry and controls: hosts, links, partitions, stalls, resets, control packets
 * - partitions.ts  which host pairs are cut
 * - host.ts      a host's incarnations (pause, resume, crash, restart) and the gate into its code
 * - env.ts       the runtime seam of one host incarnation: timers, promises, listen, connect
 * - listener.ts, connect.ts   listening sockets and the three-way handshake
 * - conn.ts      a connection: accept, reset (abort), retirement
 * - end.ts       one end as its host's code sees it: writes, reads, half-close, close
 * - flow.ts      one direction: send buffer, segments in flight, receive buffer and window
 * - constants.ts, stats.ts   salts, ports and host aliases; the running totals
 * - audit.ts     byte accounts per connection direction (the self-check sim.bytes-conserved) and
 *                the link model's rules per segment (sim.link-model)
 */
export {
  describeAccount,
  linkAuditViolation,
  unaccountedBytes,
  type LinkAudit,
  type ByteAudit,
  type ByteTotals,
  type FlowAccount,
} from './net/audit.js';
export type { ConnInfo } from './net/conn.js';
export { SimEnv } from './net/env.js';
export { SimHost, type BootFn, type HostOptions, type HostState } from './net/host.js';
export { Network, type NetworkOptions } from './net/network.js';
export type { PartitionOptions } from './net/partitions.js';
export type { NetStats } from './net/stats.js';
