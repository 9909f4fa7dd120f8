/** The network's running totals (connections, segments, bytes, retransmissions...), for benchmarks and reports. */

/** Totals, for benchmarks and reports. */
export interface NetStats {
  connections: number;
  segments: number;
  bytesDelivered: number;
  retransmissions: number;
  resets: number;
  partialWrites: number;
}

export function newNetStats(): NetStats {
  return {
    connections: 0,
    segments: 0,
    bytesDelivered: 0,
    retransmissions: 0,
    resets: 0,
    partialWrites: 0,
  };
}
