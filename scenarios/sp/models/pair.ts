/**
 * The reference model of PAIR0 and PAIR1 (mono, the default), sp.md §3 "pair": one peer at a time
 * (a second pipe is refused while one is attached); sends go out in order, each once, on the one
 * pipe, never dropped unless the send failed or BEST-EFFORT met a full queue, never left waiting
 * while the pipe is idle; receives: what arrived, in order, each once and intact (PAIR1: behind its
 * 4-byte hop count; a frame too short, with a hop count above 0xff or above TTL is dropped).
 * Polyamorous PAIR1 is not modelled (the model judges nothing for it).
 */
import { deliveredAsArrived, pipeDiscipline, u32, type SocketRun } from './core.js';
import { queuedSender } from './pipeline.js';

/** The hop count header of PAIR1, in bytes. */
const HOP_BYTES = 4;

export function pairModel(run: SocketRun): string | null {
  const p = run.protocol;
  if (p !== 'pair0' && p !== 'xpair0' && p !== 'pair1' && p !== 'xpair1') return null;
  if ((p === 'pair1' || p === 'xpair1') && run.options.polyamorous) return null;
  const one = p === 'pair1' || p === 'xpair1';
  const send = queuedSender(run, {
    fair: false,
    onePeer: true,
    // PAIR1 puts the hop count in the header; the body is the application's.
    outBody: (e) => (one && e.header.length === 0 ? e.body.subarray(HOP_BYTES) : e.body),
    sendBody: (e) => e.body,
    // A raw PAIR1 send whose hop count is not a small number below TTL is discarded.
    discards: (e) => p === 'xpair1' && (e.header.length !== HOP_BYTES || u32(e.header, 0) >= run.options.ttl),
  });
  if (send !== null) return send;
  return (
    pipeDiscipline(run) ??
    deliveredAsArrived(run, (e) => {
      const wire = e.body;
      if (!one) return wire;
      if (wire.length < HOP_BYTES) return undefined;
      const hops = u32(wire, 0);
      if (hops > 0xff || hops > run.options.ttl) return undefined;
      return wire.subarray(HOP_BYTES);
    })
  );
}
