/**
 * The reference model of an SP pipe itself (sp.md §1, the TCP and IPC mappings): a pipe is an
 * ordered, reliable message stream. What one end's protocol took from the pipe is exactly a prefix
 * of what the other end's protocol wrote to it, message by message, intact (a reset or crash may
 * cut the tail, never a middle). The two ends of a connection are linked by its connection id and
 * their addresses (each the other's remote); ends that cannot be linked one to one (inproc, a real
 * runtime's separate ids) are not judged.
 */
import { concat, describe, sameBytes, type SocketRun } from './core.js';
import type { WireEvent } from './tap.js';

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
