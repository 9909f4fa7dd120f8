/**
 * The reference model of PAIR0 and PAIR1 (mono, the default), sp.md §3 "pair": one peer at a time
 * (a second pipe is refused while one is attached); sends go out in order, each once, on the one
 * pipe, never dropped unless the send failed or BEST-EFFORT met a full queue, never left waiting
 * while the pipe is idle; receives: what arrived, in order, each once and intact (PAIR1: behind its
 * 4-byte hop count; a frame too short, with a hop count above 0xff or above TTL is dropped).
 *
 * Polyamorous PAIR1 (nng's; sp.md §3 "many peers; outgoing message goes to the pipe set on the
 * message (0 → first pipe); non-blocking per-pipe queue, drop when full"): every pipe is accepted;
 * a send goes to the pipe it names (none, if that pipe is gone) or else to the longest-attached
 * one, through that pipe's queue of WRITEQ-LEN (the fan-out sender's rules, fanout.ts), with hop
 * count 1 (raw: its own plus one); receiving is the mono one, from every pipe.
 */
import { concat, deliveredAsArrived, pipeDiscipline, u32, type SocketRun } from './core.js';
import { fanoutSender, type Offer } from './fanout.js';
import { queuedSender } from './pipeline.js';
import type { WireEvent } from './tap.js';

/** The hop count header of PAIR1, in bytes. */
const HOP_BYTES = 4;

export function pairModel(run: SocketRun): string | null {
  const p = run.protocol;
  if (p !== 'pair0' && p !== 'xpair0' && p !== 'pair1' && p !== 'xpair1') return null;
  const one = p === 'pair1' || p === 'xpair1';
  const discards = (e: { header: Uint8Array }): boolean =>
    p === 'xpair1' && (e.header.length !== HOP_BYTES || u32(e.header, 0) >= run.options.ttl);
  const received = (e: { body: Uint8Array }): Uint8Array | undefined => {
    const wire = e.body;
    if (!one) return wire;
    if (wire.length < HOP_BYTES) return undefined;
    const hops = u32(wire, 0);
    if (hops > 0xff || hops > run.options.ttl) return undefined;
    return wire.subarray(HOP_BYTES);
  };
  if (one && run.options.polyamorous) {
    const offers = (e: WireEvent): Offer[] => {
      if (e.k !== 'send' || discards(e)) return [];
      const hops = p === 'xpair1' ? u32(e.header, 0) : 0;
      return [{ wire: concat(encodeHops(hops + 1), e.body), to: e.pipe ?? 'first' }];
    };
    return fanoutSender(run, offers, (e) => concat(e.header, e.body)) ?? deliveredAsArrived(run, received);
  }
  const send = queuedSender(run, {
    fair: false,
    onePeer: true,
    // PAIR1 puts the hop count in the header; the body is the application's.
    outBody: (e) => (one && e.header.length === 0 ? e.body.subarray(HOP_BYTES) : e.body),
    sendBody: (e) => e.body,
    // A raw PAIR1 send whose hop count is not a small number below TTL is discarded.
    discards,
  });
  if (send !== null) return send;
  return pipeDiscipline(run) ?? deliveredAsArrived(run, received);
}

/** A hop count as PAIR1 puts it on the wire: a 32-bit big-endian word. */
function encodeHops(n: number): Uint8Array {
  return Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}
