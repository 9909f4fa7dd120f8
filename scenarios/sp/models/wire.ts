/**
 * The reference model of an SP pipe itself (sp.md §1, the TCP and IPC mappings): a pipe is an
 * ordered, reliable message stream. What one end's protocol took from the pipe is exactly a prefix
 * of what the other end's protocol wrote to it, message by message, intact (a reset or crash may
 * cut the tail, never a middle). The two ends of a connection are linked by its connection id and
 * their addresses (each the other's remote); ends that cannot be linked one to one (inproc, a real
 * runtime's separate ids) are not judged.
 */
import { concat, describe, sameBytes, type SocketRun } from './core.js';
import type { ConnWrites, WireEvent } from './tap.js';

type Attach = Extract<WireEvent, { k: 'attach' }>;

interface PipeEnd {
  socket: string;
  attach: Attach;
  outs: Uint8Array[];
  ins: { body: Uint8Array; t: number }[];
}

/** Each pipe of each run, with what was written to it and taken from it. */
function pipeEnds(runs: readonly SocketRun[]): PipeEnd[] {
  const ends: PipeEnd[] = [];
  for (const run of runs) {
    const live = new Map<number, PipeEnd>();
    for (const e of run.events) {
      if (e.k === 'attach') {
        const end: PipeEnd = { socket: run.name, attach: e, outs: [], ins: [] };
        live.set(e.pipe, end);
        ends.push(end);
      } else if (e.k === 'detach') live.delete(e.pipe);
      else if (e.k === 'out') live.get(e.pipe)?.outs.push(concat(e.header, e.body));
      else if (e.k === 'in') live.get(e.pipe)?.ins.push({ body: concat(e.header, e.body), t: e.t });
    }
  }
  return ends;
}

export function wireModel(runs: readonly SocketRun[]): string | null {
  const ends = pipeEnds(runs);
  const key = (a: Attach): string => `${a.conn}|${a.local}|${a.remote}`;
  const byKey = new Map<string, PipeEnd[]>();
  for (const e of ends) {
    if (e.attach.conn === null) continue;
    const k = key(e.attach);
    byKey.set(k, [...(byKey.get(k) ?? []), e]);
  }
  for (const rx of ends) {
    const a = rx.attach;
    if (a.conn === null) continue;
    const mine = byKey.get(key(a)) ?? [];
    const peers = byKey.get(`${a.conn}|${a.remote}|${a.local}`) ?? [];
    if (mine.length !== 1 || peers.length !== 1 || peers[0] === rx) continue;
    const tx = peers[0]!;
    for (let i = 0; i < rx.ins.length; i++) {
      const got = rx.ins[i]!;
      const sent = tx.outs[i];
      if (sent === undefined)
        return `${rx.socket} took message #${i} (${describe(got.body)}) from pipe ${a.pipe} at ${got.t} µs, but ${tx.socket} wrote only ${tx.outs.length} to its end (pipe ${tx.attach.pipe})`;
      if (!sameBytes(sent, got.body))
        return `${rx.socket} took message #${i} from pipe ${a.pipe} at ${got.t} µs as ${describe(got.body)}, but ${tx.socket} wrote ${describe(sent)} as #${i} to its end (reordered, duplicated, lost in the middle or corrupted)`;
    }
  }
  return null;
}

/** Bytes a pipe writes before its first frame: the 8-byte SP header (sp.md §1, TCP and IPC mappings). */
const SP_HEADER_BYTES = 8;
/** Each frame's own header: the 64-bit big-endian length (TCP), after a type byte (IPC). */
const FRAME_HEADER_BYTES = { tcp: 8, ipc: 9 } as const;

/** What one pipe of a run took for its connection, in bytes as they go on the wire. */
export interface PipeTaken {
  pipe: number;
  conn: ConnWrites;
  /** Frames the pipe took (its 'out' events at or before the cut-off). */
  frames: number;
  /** The SP header plus every frame it took (frame header and payload). */
  bytes: number;
}

/**
 * Each tcp/ipc pipe of a run with the bytes it took up to `untilUs` and its connection's record
 * (pipes whose connection the run has no single record of are left out).
 */
export function pipesTaken(
  run: Pick<SocketRun, 'events' | 'conns'>,
  untilUs = Number.POSITIVE_INFINITY,
): PipeTaken[] {
  const out: PipeTaken[] = [];
  const byPipe = new Map<number, PipeTaken>();
  for (const e of run.events) {
    if (e.k !== 'attach' || e.conn === null || e.transport === undefined || e.transport === 'inproc')
      continue;
    const conns = run.conns.filter((c) => c.conn === e.conn);
    if (conns.length !== 1) continue;
    const p: PipeTaken = { pipe: e.pipe, conn: conns[0]!, frames: 0, bytes: SP_HEADER_BYTES };
    byPipe.set(e.pipe, p);
    out.push(p);
  }
  const frameHeader = new Map<number, number>();
  for (const e of run.events)
    if (e.k === 'attach' && (e.transport === 'tcp' || e.transport === 'ipc'))
      frameHeader.set(e.pipe, FRAME_HEADER_BYTES[e.transport]);
  // A pipe's first frames may go out from the protocol's attach, before the attach event: all of
  // its 'out' events count, whatever their place.
  for (const e of run.events) {
    if (e.k !== 'out' || e.t > untilUs) continue;
    const p = byPipe.get(e.pipe);
    if (p === undefined) continue;
    p.frames++;
    p.bytes += frameHeader.get(e.pipe)! + e.header.length + e.body.length;
  }
  return out;
}

/**
 * The transport's side of the pipe model: a pipe puts on its connection exactly the bytes of the SP
 * header and the frames it took, never more; and a pipe that closes its connection gracefully
 * (not a reset, not after the peer ended it) has written all of them first: a frame a pipe took is
 * flushed before the FIN, also when the socket's LINGER ran out (impl/sp/README.md, LINGER).
 */
export function flushModel(runs: readonly SocketRun[]): string | null {
  for (const run of runs)
    for (const p of pipesTaken(run)) {
      const c = p.conn;
      if (c.writtenBytes > p.bytes)
        return `${run.name}'s pipe ${p.pipe} took ${p.bytes} bytes for connection ${c.conn} (SP header and ${p.frames} frame${p.frames === 1 ? '' : 's'}), but the connection accepted ${c.writtenBytes} from it`;
      if (c.closedAtBytes !== null && c.closedAtBytes < p.bytes)
        return `${run.name}'s pipe ${p.pipe} closed connection ${c.conn} gracefully after writing ${c.closedAtBytes} of the ${p.bytes} bytes it took (SP header and ${p.frames} frame${p.frames === 1 ? '' : 's'}): ${p.bytes - c.closedAtBytes} bytes of frames it had taken never reached the transport`;
    }
  return null;
}
