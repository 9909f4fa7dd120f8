/**
 * The reference model of SURVEYOR0 (sp.md §3 "survey"): each application send starts a survey with
 * a fresh id (top bit set) that goes out, with the application's body, to every pipe attached at
 * that moment through its own queue (see fanoutSender: a full queue misses the survey); every
 * transmission of one survey carries its id. The application gets, for survey i, only responses
 * that arrived carrying survey i's id while survey i was the current one (after its send, before the
 * next survey's send): never one to a superseded or earlier survey, never one that did not arrive,
 * each at most once and intact. Whether a response came before SURVEY-TIME is a matter of exact
 * time (the timing properties judge it).
 */
import { describe, sameBytes, u32, type SocketRun } from './core.js';
import { fanoutSender, sendOffers } from './fanout.js';

export function surveyorModel(run: SocketRun): string | null {
  if (run.protocol !== 'surveyor0') return null;
  const bad = fanoutSender(run, sendOffers(false));
  if (bad !== null) return bad;
  /** Per survey (send order): its id once seen on the wire, and responses that arrived while it was current. */
  const surveys: { id: number | undefined; arrived: { body: Uint8Array; t: number; used: boolean }[] }[] = [];
  for (const e of run.events) {
    if (e.k === 'send') surveys.push({ id: undefined, arrived: [] });
    const cur = surveys.at(-1);
    if (e.k === 'out' && cur !== undefined) {
      const id = e.header.length === 4 ? u32(e.header, 0) : undefined;
      if (id === undefined || (id & 0x8000_0000) === 0)
        return `sent survey #${surveys.length - 1} on pipe ${e.pipe} at ${e.t} µs without a survey id word`;
      if (cur.id !== undefined && cur.id !== id)
        return `survey #${surveys.length - 1} went out with id ${cur.id.toString(16)}, then with ${id.toString(16)} on pipe ${e.pipe} at ${e.t} µs`;
      if (surveys.slice(0, -1).some((s) => s.id === id))
        return `survey #${surveys.length - 1} reused the id ${id.toString(16)} of an earlier survey`;
      cur.id = id;
    } else if (e.k === 'in' && cur?.id !== undefined && e.body.length >= 4 && u32(e.body, 0) === cur.id) {
      cur.arrived.push({ body: e.body.subarray(4), t: e.t, used: false });
    }
  }
  for (const r of run.received) {
    if (r.replyTo === undefined) continue;
    const s = surveys[r.replyTo - run.firstSend];
    const hit = s?.arrived.find((a) => !a.used && a.t <= r.atUs && sameBytes(a.body, r.body));
    if (hit === undefined)
      return `the application got ${describe(r.body)} at ${r.atUs} µs as a response to survey #${r.replyTo}, but no such response arrived while that survey was current (stale, superseded, duplicated or corrupted)`;
    hit.used = true;
  }
  return null;
}
